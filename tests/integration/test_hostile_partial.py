"""Finding 2 — partial data is never a success: an answer without the documented records (no
``calls`` list, an empty body, an envelope with neither payload nor error, a body cut short) fails
the export; nothing is published and a file from an earlier run stays as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_telephony.core.errors import (
    TransportError,
    UnexpectedResponseError,
    UnreadableResponseError,
)
from airflow_provider_telephony.hooks.avito import AvitoHook
from airflow_provider_telephony.hooks.callkeeper import CallKeeperHook
from airflow_provider_telephony.operators.avito import (
    AvitoCallsToStorageOperator,
    AvitoDownloadRecordingsOperator,
)
from airflow_provider_telephony.operators.callkeeper import CallKeeperCallsToStorageOperator
from tests.hostile_server import (
    AVITO_CALLS,
    AVITO_RECORD,
    AVITO_TOKEN,
    HostileServer,
    Reply,
    Request,
    avito_conn,
    avito_page,
    avito_token,
    callkeeper_conn,
    ck_page_number,
    ck_v3_call,
    record_sleeps,
    reset_client_state,
    routes,
)

pytestmark = pytest.mark.timeout(60)

WINDOW: dict[str, Any] = {
    "window_start": "2026-06-15T00:00:00+00:00",
    "window_end": "2026-06-16T00:00:00+00:00",
}
EARLIER_RUN = b'{"callId": 1, "from": "an earlier, complete run"}\n'
#: 200 answers that carry no ``calls`` list (and no error)
NO_CALLS = [{}, {"calls": None}, {"calls": "x"}]


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    reset_client_state(monkeypatch)
    record_sleeps(monkeypatch)


def _only(folder: Path, name: str) -> None:
    """``folder`` holds ``name`` and nothing else (no temporary sibling)."""
    assert sorted(p.name for p in folder.iterdir()) == [name]


def _avito_calls(answer: Callable[[Request], Reply]) -> Callable[[Request], Reply]:
    return routes({("POST", AVITO_TOKEN): avito_token("tok-partial-1"), ("POST", AVITO_CALLS): answer})


@pytest.mark.parametrize("body", NO_CALLS, ids=["empty-object", "calls-null", "calls-text"])
@pytest.mark.parametrize("where", ["first-page", "after-a-full-page"])
def test_avito_page_without_calls_fails_and_publishes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, body: dict[str, Any], where: str
) -> None:
    """Not "no more calls" (that is ``"calls": []``): not retried, and the earlier file survives."""
    first_bad = 1 if where == "first-page" else 2

    def answer(request: Request) -> Reply:
        if request.path_number < first_bad:
            return Reply.json(avito_page(1, 100))
        return Reply.json(body)

    out = tmp_path / "calls.jsonl"
    out.write_bytes(EARLIER_RUN)
    with HostileServer(_avito_calls(answer)) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=2)
        op = AvitoCallsToStorageOperator(task_id="export", output_path=str(out), avito_conn_id=conn, **WINDOW)
        with pytest.raises(UnexpectedResponseError, match="getCalls"):
            op.execute({})
        assert server.count(AVITO_CALLS) == first_bad  # the bad page was not asked again
    assert out.read_bytes() == EARLIER_RUN
    _only(tmp_path, "calls.jsonl")


def test_avito_page_without_calls_publishes_no_new_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without an earlier run there is no output at all after the failure."""
    with HostileServer(_avito_calls(lambda req: Reply.json({}))) as server:
        conn = avito_conn(monkeypatch, server.url)
        op = AvitoCallsToStorageOperator(
            task_id="export", output_path=str(tmp_path / "calls.jsonl"), avito_conn_id=conn, **WINDOW
        )
        with pytest.raises(UnexpectedResponseError):
            op.execute({})
    assert list(tmp_path.iterdir()) == []


def test_avito_body_cut_short_is_retried_and_publishes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A page whose connection drops mid-body (declared length larger than sent) is a transport
    failure: retried, and after the last try the export fails without a file."""
    page = json.dumps(avito_page(1, 5)).encode()
    cut = Reply(200, page, {"Content-Type": "application/json"}, cut_after=len(page) // 2)
    with HostileServer(_avito_calls(lambda req: cut)) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=1)
        op = AvitoCallsToStorageOperator(
            task_id="export", output_path=str(tmp_path / "calls.jsonl"), avito_conn_id=conn, **WINDOW
        )
        with pytest.raises(TransportError, match="getCalls"):
            op.execute({})
        assert server.count(AVITO_CALLS) == 2
    assert list(tmp_path.iterdir()) == []


def test_avito_recording_cut_short_leaves_no_partial_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A recording whose body is cut off is never published as ``<callId>.mp3``."""
    audio = b"ID3" + bytes(range(256)) * 40
    handler = routes(
        {
            ("POST", AVITO_TOKEN): avito_token("tok-partial-rec-1"),
            ("GET", AVITO_RECORD): lambda req: Reply(
                200, audio, {"Content-Type": "audio/mpeg"}, cut_after=1000
            ),
        }
    )
    dest = tmp_path / "rec"
    with HostileServer(handler) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=1)
        op = AvitoDownloadRecordingsOperator(
            task_id="dl", call_ids=[7], destination=str(dest), avito_conn_id=conn
        )
        with pytest.raises(TransportError, match="getRecordByCallId"):
            op.execute({})
        assert server.count(AVITO_RECORD) == 2
    assert list(dest.iterdir()) == []


# ----------------------------------------------------------------------------- CallKeeper


def _ck_v3(answer: Callable[[Request], Reply]) -> Callable[[Request], Reply]:
    return routes({("GET", "/api/"): answer})


def _ck_export(conn: str, out: Path, version: str = "v3") -> CallKeeperCallsToStorageOperator:
    return CallKeeperCallsToStorageOperator(
        task_id="export",
        output_path=str(out),
        callkeeper_conn_id=conn,
        api_version=version,
        method="get",
        **WINDOW,
    )


@pytest.mark.parametrize("where", ["first-page", "after-a-full-page"])
def test_callkeeper_v3_empty_body_is_unreadable_and_retried(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str
) -> None:
    """An empty 200 body is unreadable (a proxy or a cut connection): retried, then the export fails."""
    first_bad = 0 if where == "first-page" else 1

    def answer(request: Request) -> Reply:
        if ck_page_number(request) < first_bad:
            return Reply.json([ck_v3_call(1), ck_v3_call(2)])
        return Reply(200, b"", {"Content-Type": "application/json"})

    out = tmp_path / "calls.jsonl"
    out.write_bytes(EARLIER_RUN)
    with HostileServer(_ck_v3(answer)) as server:
        conn = callkeeper_conn(monkeypatch, server.url, max_retries=1)
        with pytest.raises(UnreadableResponseError, match="empty body"):
            _ck_export(conn, out).execute({})
        # the bad page is asked at most max_retries + 1 times
        assert first_bad + 1 <= server.count("/api/") <= first_bad + 2
    assert out.read_bytes() == EARLIER_RUN
    _only(tmp_path, "calls.jsonl")


@pytest.mark.parametrize("body", [{}, {"inbound": {}}], ids=["empty-object", "empty-inbound"])
@pytest.mark.parametrize("where", ["first-page", "after-a-full-page"])
def test_callkeeper_v3_envelope_without_payload_or_error_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, body: dict[str, Any], where: str
) -> None:
    """``{}`` / ``{"inbound": {}}`` is neither records nor an error: unexpected, not retried."""
    first_bad = 0 if where == "first-page" else 1

    def answer(request: Request) -> Reply:
        if ck_page_number(request) < first_bad:
            return Reply.json([ck_v3_call(1), ck_v3_call(2)])
        return Reply.json(body)

    out = tmp_path / "calls.jsonl"
    out.write_bytes(EARLIER_RUN)
    with HostileServer(_ck_v3(answer)) as server:
        conn = callkeeper_conn(monkeypatch, server.url, max_retries=2)
        with pytest.raises(UnexpectedResponseError, match="neither records"):
            _ck_export(conn, out).execute({})
        assert server.count("/api/") == first_bad + 1
    assert out.read_bytes() == EARLIER_RUN
    _only(tmp_path, "calls.jsonl")


def test_callkeeper_v1_empty_object_is_unexpected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A v1 ``{}`` has no ``payload`` and no ``inbound.error``: never the last page."""
    with HostileServer(routes({("GET", "/api/index.php"): lambda req: Reply.json({})})) as server:
        conn = callkeeper_conn(monkeypatch, server.url, api_version="v1", max_retries=2)
        with pytest.raises(UnexpectedResponseError, match="neither records"):
            _ck_export(conn, tmp_path / "calls.jsonl", version="v1").execute({})
        assert server.count("/api/index.php") == 1
        with CallKeeperHook(conn) as hook, pytest.raises(UnexpectedResponseError):
            hook.get_v1_page("call", time_start=1781481600, time_end=1781567999)
    assert list(tmp_path.iterdir()) == []


def test_avito_hook_page_without_calls_is_not_an_empty_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook itself (not only the operator) refuses ``{}`` instead of returning ``[]``."""
    from datetime import datetime, timezone

    with HostileServer(_avito_calls(lambda req: Reply.json({}))) as server:
        conn = avito_conn(monkeypatch, server.url)
        start = datetime(2026, 6, 15, tzinfo=timezone.utc)
        with AvitoHook(conn) as hook, pytest.raises(UnexpectedResponseError, match="no 'calls' list"):
            hook.get_calls_page(start, start.replace(day=16))
