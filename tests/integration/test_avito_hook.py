"""AvitoHook against the real sandbox over loopback HTTP."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from airflow_provider_telephony.core.errors import AuthenticationError, NotFoundError, NotReadyError
from airflow_provider_telephony.hooks.avito import AvitoHook
from airflow_provider_telephony.sandbox import SandboxConfig
from airflow_provider_telephony.sandbox.avito import AvitoWorld
from tests.conftest import avito_sandbox, conn_env

UTC = timezone.utc


def _expected_ids(world: AvitoWorld, start: datetime, end: datetime) -> list[int]:
    return [c["callId"] for c in world.calls_between(start, end) if _time(c) < end]


def _time(call: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(call["callTime"]).replace("Z", "+00:00"))


@pytest.fixture
def world(sandbox_config: SandboxConfig) -> AvitoWorld:
    return AvitoWorld(sandbox_config)


def test_iter_calls_matches_sandbox_for_a_day(avito_conn: str, world: AvitoWorld) -> None:
    start, end = datetime(2026, 3, 10, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC)
    with AvitoHook(avito_conn) as hook:
        ids = [c.call_id for c in hook.iter_calls(start, end, page_size=7)]
    assert ids == _expected_ids(world, start, end)
    assert ids, "the sandbox seeds calls every day"


def test_long_window_is_split_into_chunks_the_api_accepts(avito_conn: str, world: AvitoWorld) -> None:
    # 200 days > 3 months: the sandbox answers code 1001 to any single request this long
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 20, tzinfo=UTC)
    with AvitoHook(avito_conn) as hook:
        ids = [c.call_id for c in hook.iter_calls(start, end)]
    assert ids == _expected_ids(world, start, end)
    assert len(ids) == len(set(ids)), "chunk boundaries must not duplicate calls"


def test_adjacent_windows_neither_overlap_nor_miss(avito_conn: str, world: AvitoWorld) -> None:
    a, b, c = (datetime(2026, 5, d, tzinfo=UTC) for d in (1, 2, 3))
    with AvitoHook(avito_conn) as hook:
        first = [x.call_id for x in hook.iter_calls(a, b)]
        second = [x.call_id for x in hook.iter_calls(b, c)]
        both = [x.call_id for x in hook.iter_calls(a, c)]
    assert first + second == both
    assert not set(first) & set(second)


def test_token_is_cached_and_shared(avito_conn: str, sandbox_url: str) -> None:
    AvitoHook._tokens.clear()
    before = httpx.get(f"{sandbox_url}/__sandbox__/avito/stats").json()["tokens_issued"]
    with AvitoHook(avito_conn) as hook:
        hook.get_calls_page(datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 2, tzinfo=UTC))
    with AvitoHook(avito_conn) as hook:
        hook.get_calls_page(datetime(2026, 2, 2, tzinfo=UTC), datetime(2026, 2, 3, tzinfo=UTC))
    after = httpx.get(f"{sandbox_url}/__sandbox__/avito/stats").json()["tokens_issued"]
    assert after - before == 1


def test_rejected_token_is_refreshed_once(avito_conn: str, sandbox_url: str) -> None:
    with AvitoHook(avito_conn) as hook:
        hook.get_calls_page(datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 2, tzinfo=UTC))
        httpx.post(f"{sandbox_url}/__sandbox__/avito/revoke-tokens")
        before = httpx.get(f"{sandbox_url}/__sandbox__/avito/stats").json()["tokens_issued"]
        calls = hook.get_calls_page(datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 2, tzinfo=UTC))
        after = httpx.get(f"{sandbox_url}/__sandbox__/avito/stats").json()["tokens_issued"]
    assert calls
    assert after - before == 1


def test_token_expiry_leads_to_a_new_token() -> None:
    with avito_sandbox(SandboxConfig(seed=3, avito_token_ttl=1.0), "avito_ttl") as url:
        with AvitoHook("avito_ttl") as hook:
            hook.get_calls_page(datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 2, tzinfo=UTC))
            import time

            time.sleep(1.2)
            hook.get_calls_page(datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 2, tzinfo=UTC))
        assert httpx.get(f"{url}/__sandbox__/avito/stats").json()["tokens_issued"] == 2


def test_wrong_credentials_fail_clearly_without_leaking(
    monkeypatch: pytest.MonkeyPatch, sandbox_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(
        *conn_env(
            "avito_bad",
            conn_type="avito",
            host=sandbox_url,
            login="sandbox-client-id",
            password="wrong-secret-123",
        )
    )
    caplog.set_level(logging.DEBUG)
    with AvitoHook("avito_bad") as hook, pytest.raises(AuthenticationError) as err:
        hook.get_call(1)
    assert "avito_bad" in str(err.value)
    assert "wrong-secret-123" not in str(err.value)
    assert "wrong-secret-123" not in caplog.text
    ok, message = AvitoHook("avito_bad").test_connection()
    assert not ok and "credentials" in message


def test_get_call_and_not_found(avito_conn: str, world: AvitoWorld) -> None:
    known = world.calls[100]
    with AvitoHook(avito_conn) as hook:
        call = hook.get_call(known["callId"])
        assert call.call_id == known["callId"]
        assert call.model_dump(mode="json", by_alias=True) == known
        with pytest.raises(NotFoundError):
            hook.get_call(999_999_999)


def test_recording_download_is_byte_equal(avito_conn: str, world: AvitoWorld, tmp_path: Path) -> None:
    call_id = next(c["callId"] for c in world.calls if c["talkDuration"] > 0)
    with AvitoHook(avito_conn) as hook:
        assert hook.recording_ready(call_id)
        size = hook.download_recording(call_id, tmp_path / "r.mp3")
    assert (tmp_path / "r.mp3").read_bytes() == world.recording_bytes(call_id)
    assert size == len(world.recording_bytes(call_id))


def test_unanswered_call_has_no_recording(avito_conn: str, world: AvitoWorld, tmp_path: Path) -> None:
    call_id = next(c["callId"] for c in world.calls if c["talkDuration"] == 0)
    with AvitoHook(avito_conn) as hook, pytest.raises(NotFoundError):
        hook.download_recording(call_id, tmp_path / "x.mp3")
    assert not list(tmp_path.iterdir()), "a failed download leaves no file, not even a temporary one"


def test_late_recording_is_not_ready_then_ready(tmp_path: Path) -> None:
    config = SandboxConfig(seed=5, recording_delay=2.0)
    world = AvitoWorld(config)
    late = next(
        c["callId"] for c in world.calls[:2000] if c["talkDuration"] > 0 and world.is_late(c["callId"])
    )
    with avito_sandbox(config, "avito_late"), AvitoHook("avito_late") as hook:
        assert hook.recording_ready(late) is False
        with pytest.raises(NotReadyError):
            hook.download_recording(late, tmp_path / "late.mp3")
        assert not (tmp_path / "late.mp3").exists()
        assert asyncio.run(hook.arecording_ready(late)) is False
        import time

        time.sleep(2.2)
        assert hook.recording_ready(late) is True
        hook.download_recording(late, tmp_path / "late.mp3")
    assert (tmp_path / "late.mp3").read_bytes() == world.recording_bytes(late)


def test_server_errors_are_retried(avito_conn: str, sandbox_url: str, world: AvitoWorld) -> None:
    start, end = datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC)
    httpx.post(
        f"{sandbox_url}/__sandbox__/faults",
        json={"path_prefix": "/calltracking/v1/getCalls/", "status": 503, "count": 2},
    )
    try:
        with AvitoHook(avito_conn) as hook:
            ids = [c.call_id for c in hook.iter_calls(start, end)]
    finally:
        httpx.delete(f"{sandbox_url}/__sandbox__/faults")
    assert ids == _expected_ids(world, start, end)


def test_truncated_recording_is_retried_and_never_published_half(
    avito_conn: str, sandbox_url: str, world: AvitoWorld, tmp_path: Path
) -> None:
    call_id = [c["callId"] for c in world.calls if c["talkDuration"] > 0][5]
    httpx.post(
        f"{sandbox_url}/__sandbox__/faults",
        json={"path_prefix": "/calltracking/v1/getRecordByCallId/", "fault": "truncate", "count": 1},
    )
    try:
        with AvitoHook(avito_conn) as hook:
            hook.download_recording(call_id, tmp_path / "t.mp3")
    finally:
        httpx.delete(f"{sandbox_url}/__sandbox__/faults")
    assert (tmp_path / "t.mp3").read_bytes() == world.recording_bytes(call_id)
    assert [p.name for p in tmp_path.iterdir()] == ["t.mp3"]


def test_rate_limit_is_respected() -> None:
    config = SandboxConfig(seed=2, avito_rate_limit=12)
    with avito_sandbox(config, "avito_rl") as url:
        world = AvitoWorld(config)
        start, end = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC)
        with AvitoHook("avito_rl") as hook:
            ids = [c.call_id for c in hook.iter_calls(start, end, page_size=10)]
            limiter = hook.exchange.limiter("getCalls")
        assert ids == _expected_ids(world, start, end)
        stats = httpx.get(f"{url}/__sandbox__/avito/stats").json()
        # the client learnt the limit from X-RateLimit-* and slowed down instead of hammering 429s
        assert limiter is not None and limiter.per_minute == 12
        assert stats["requests"].get("rate_limited", 0) <= 1


def test_async_get_call(avito_conn: str, world: AvitoWorld) -> None:
    async def go() -> int:
        hook = AvitoHook(avito_conn)
        try:
            return (await hook.aget_call(world.calls[3]["callId"])).call_id
        finally:
            await hook.aclose()

    assert asyncio.run(go()) == world.calls[3]["callId"]


def test_test_connection(avito_conn: str) -> None:
    ok, message = AvitoHook(avito_conn).test_connection()
    assert ok, message


def test_empty_window_gives_no_pages(avito_conn: str) -> None:
    # a window between two seeded calls: no calls, one request, no error
    with AvitoHook(avito_conn) as hook:
        assert (
            list(hook.iter_calls(datetime(2027, 6, 1, tzinfo=UTC), datetime(2027, 6, 1, 1, tzinfo=UTC))) == []
        )


def test_window_ending_with_fraction_of_second(avito_conn: str, world: AvitoWorld) -> None:
    start = datetime(2026, 3, 10, tzinfo=UTC)
    end = datetime(2026, 3, 11, tzinfo=UTC) - timedelta(microseconds=500)
    with AvitoHook(avito_conn) as hook:
        ids = [c.call_id for c in hook.iter_calls(start, end)]
    assert ids == _expected_ids(world, start, end)
