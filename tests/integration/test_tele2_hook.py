"""Tele2AtsHook against the sandbox over loopback: every operation, token rotation, bad input.

Rotation tests use a sandbox whose access tokens expire after a second or two, and a file token
store in a temp folder (the Variable store is exercised by the soak test and the example DAG).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from airflow_provider_telephony.core.errors import (
    AuthenticationError,
    ConfigurationError,
    OutcomeUnknownError,
    RequestValidationError,
)
from airflow_provider_telephony.core.rotation import DeadPairError, forget_pairs, jwt_expiry
from airflow_provider_telephony.core.tokens import FileTokenStore, TokenPair, origin_of
from airflow_provider_telephony.hooks.tele2 import (
    CustomerAlreadyAssignedError,
    ManagerHandlingAllCustomersExistsError,
    Tele2AtsHook,
)
from airflow_provider_telephony.sandbox import SandboxConfig, run_sandbox
from tests.conftest import conn_env

MSK = timezone(timedelta(hours=3))
START = datetime(2026, 3, 2, tzinfo=MSK)
END = datetime(2026, 3, 5, tzinfo=MSK)


@pytest.fixture(autouse=True)
def _fresh_pairs() -> Iterator[None]:
    forget_pairs()
    yield
    forget_pairs()


def _connect(mp: pytest.MonkeyPatch, url: str, config: SandboxConfig, folder: Path, **extra: object) -> str:
    mp.setenv(
        *conn_env(
            "tele2_ats_default",
            conn_type="tele2_ats",
            host=f"{url}/crm/openapi",
            password=config.tele2_refresh_token,
            extra={
                "access_token": config.tele2_access_token,
                "token_file": str(folder),
                "max_retries": 2,
                **extra,
            },
        )
    )
    return "tele2_ats_default"


@pytest.fixture(scope="module")
def tele2() -> Iterator[tuple[str, SandboxConfig]]:
    config = SandboxConfig(seed=5, data_start=datetime(2026, 3, 1).date(), data_days=10, calls_per_day=40)
    with run_sandbox(config) as url:
        yield url, config


@pytest.fixture
def hook(
    tele2: tuple[str, SandboxConfig], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Tele2AtsHook]:
    url, config = tele2
    _connect(monkeypatch, url, config, tmp_path)
    with Tele2AtsHook() as h:
        yield h


def _stats(url: str) -> dict[str, object]:
    return httpx.get(f"{url}/__sandbox__/tele2/stats").json()  # type: ignore[no-any-return]


def test_reads_monitoring_employees_statistics(hook: Tele2AtsHook) -> None:
    employees = hook.get_employees()
    assert employees and all(e.employeeId for e in employees)
    assert isinstance(hook.get_current_calls(), list)
    assert isinstance(hook.get_queue(), list)
    company = hook.get_common_statistics(START, END)
    assert company.allCallCount and company.allCallCount > 0
    number = next(e.fullNumber for e in employees if e.fullNumber)
    one = hook.get_common_statistics(START, END, subscriber_number=number)
    assert one.allCallCount is not None and one.allCallCount <= company.allCallCount
    journal = hook.get_journal(START, END, number=number)
    assert len(journal) == 1 and journal[0].numberOfCalls is not None


def test_call_records_page_until_short_page_and_window_is_half_open(hook: Tele2AtsHook) -> None:
    records = list(hook.iter_call_records(START, END, size=7))
    assert len(records) > 7 * 3  # several pages
    dates = [r.date for r in records]
    assert all(d is not None and START <= d < END for d in dates)
    assert dates == sorted(dates)  # type: ignore[type-var]
    assert len({(r.date, r.callerNumber) for r in records}) == len(records)
    first_page = hook.get_call_records_page(START, END, size=7)
    assert [r.date for r in first_page] == dates[:7]
    recorded = list(hook.iter_call_records(START, END, is_recorded=True))
    assert recorded and all(r.recordFileName for r in recorded)
    caller = records[0].callerNumber
    assert caller
    assert all(r.callerNumber == caller for r in hook.iter_call_records(START, END, caller=caller))


def test_record_file_streams_an_mp3_and_transcript_words(hook: Tele2AtsHook, tmp_path: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    record = next(r for r in hook.iter_call_records(START, END, is_recorded=True))
    assert record.recordFileName and "/" in record.recordFileName  # encoded exactly once, or a 404
    target = ObjectStoragePath(f"file://{tmp_path}/a.mp3")
    size = hook.download_record(record.recordFileName, target)
    data = (tmp_path / "a.mp3").read_bytes()
    assert size == len(data) > 0 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0  # MPEG frame sync
    words = hook.get_transcript(record.recordFileName)
    assert words and {w.channel for w in words} <= {"A", "B"}
    assert all(w.startTime is not None and w.endTime is not None and w.startTime <= w.endTime for w in words)


def test_managers_crud_and_both_conflicts(hook: Tele2AtsHook) -> None:
    employees = [e for e in hook.get_employees() if e.fullNumber]
    a, b = employees[0].employeeId, employees[1].employeeId
    before = {m.id for m in hook.list_managers()}
    customer = {"name": "Test Customer", "realNumber": "79990000101", "isVip": True}
    assert hook.create_manager({"employeeId": a, "name": "Manager A", "customers": [customer]}) == "SUCCESS"
    created = next(m for m in hook.list_managers() if m.id not in before)
    assert created.employeeId == a and created.customers[0].realNumber == "79990000101"
    with pytest.raises(CustomerAlreadyAssignedError):
        hook.create_manager({"employeeId": b, "name": "Manager B", "customers": [customer]})
    if not any(m.handleAllCustomers for m in hook.list_managers()):
        assert (
            hook.create_manager({"employeeId": b, "name": "Everyone", "handleAllCustomers": True})
            == "SUCCESS"
        )
    with pytest.raises(ManagerHandlingAllCustomersExistsError):
        hook.create_manager({"employeeId": a, "name": "Everyone too", "handleAllCustomers": True})
    assert created.id is not None
    updated = {"id": created.id, "employeeId": a, "name": "Manager A2", "customers": []}
    assert hook.update_manager(updated) == "SUCCESS"
    assert hook.get_manager(created.id).name == "Manager A2"
    assert hook.delete_manager(created.id) is True
    assert hook.delete_manager(created.id, missing_ok=True) is False
    with pytest.raises(RequestValidationError, match=r"manager\.id"):
        hook.update_manager({"employeeId": a, "name": "no id"})


def test_blacklist_add_is_idempotent_remove_and_list(hook: Tele2AtsHook) -> None:
    assert hook.add_to_blacklist("79990000201") is True
    assert hook.add_to_blacklist("79990000201") is False  # DUPLICATE_BLACK_LIST_NUMBER: already there
    listed = hook.list_blacklist()
    assert all(isinstance(e.number, str) for e in listed)
    assert any(e.number == "79990000201" for e in listed)
    hook.remove_from_blacklist("79990000201")
    assert all(e.number != "79990000201" for e in hook.list_blacklist())


def test_click_to_call_is_sent_once_and_never_after_a_lost_answer(
    hook: Tele2AtsHook, tele2: tuple[str, SandboxConfig]
) -> None:
    url, _ = tele2
    source = next(e.fullNumber for e in hook.get_employees() if e.fullNumber)
    assert source
    before = len(_stats(url)["click_to_call"])  # type: ignore[arg-type]
    hook.click_to_call("79990000301", source)
    # the server processes the next one, then drops the connection: the answer is lost
    httpx.post(
        f"{url}/__sandbox__/faults",
        json={"path_prefix": "/crm/openapi/call/outgoing", "fault": "drop", "count": 1},
    )
    with pytest.raises(OutcomeUnknownError, match="call journal"):
        hook.click_to_call("79990000302", source)
    calls = _stats(url)["click_to_call"]
    assert len(calls) == before + 2  # type: ignore[arg-type]  # each once: the lost one was not re-sent


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda h: h.click_to_call("89990000000", "79990000000"), "destination"),
        (lambda h: h.click_to_call("79990000000", "+79990000000"), "source"),
        (lambda h: h.get_call_records_page(END, START), "end"),
        (lambda h: h.get_call_records_page(START, END, size=0), "size"),
        (lambda h: h.get_call_records_page(START, END, size=100_000), "size"),
        (lambda h: h.get_call_records_page(START.replace(tzinfo=None), END), "start"),
        (lambda h: h.get_call_records_page(START, END, caller="7999"), "caller"),
        (lambda h: h.add_to_blacklist("7 999 000 00 00"), "number"),
        (lambda h: h.get_common_statistics(START, END, subscriber_number="79"), "subscriber_number"),
        (lambda h: h.create_manager({"employeeId": 0, "name": "x"}), "employeeId"),
        (lambda h: h.get_transcript(""), "filename"),
    ],
)
def test_bad_input_is_refused_before_any_request(
    hook: Tele2AtsHook, tele2: tuple[str, SandboxConfig], call: object, field: str
) -> None:
    url, _ = tele2
    before = _stats(url)["requests"]
    with pytest.raises(RequestValidationError, match=field):
        call(hook)  # type: ignore[operator]
    assert _stats(url)["requests"] == before


def test_missing_refresh_token_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(*conn_env("tele2_ats_default", conn_type="tele2_ats", host="http://127.0.0.1:9"))
    with Tele2AtsHook() as hook, pytest.raises(ConfigurationError, match="refresh token"):
        hook.get_employees()


# --- rotation -----------------------------------------------------------------------------------
@pytest.fixture
def short_lived(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[str, SandboxConfig, Path]]:
    config = SandboxConfig(seed=3, data_days=3, tele2_access_ttl=1.0)
    with run_sandbox(config) as url:
        _connect(monkeypatch, url, config, tmp_path)
        yield url, config, tmp_path


def test_an_expired_access_token_is_rotated_and_the_pair_saved(
    short_lived: tuple[str, SandboxConfig, Path],
) -> None:
    url, config, folder = short_lived
    with Tele2AtsHook() as hook:
        hook.get_employees()
        import time

        time.sleep(1.2)  # the connection's access token has expired: 403, refresh, re-send
        hook.get_employees()
        stored = FileTokenStore(folder).load("telephony_tele2_tokens_tele2_ats_default")
    assert stored is not None and stored.origin == origin_of(config.tele2_refresh_token)
    assert jwt_expiry(stored.access) is not None  # the sandbox issues JWTs: refreshed ahead from now on
    assert _stats(url)["refreshes"] == 1


def test_a_pair_saved_by_another_process_wins_over_the_connection(
    short_lived: tuple[str, SandboxConfig, Path],
) -> None:
    url, _config, _folder = short_lived
    with Tele2AtsHook() as first:
        first.get_employees()
        first.pair.expiring = lambda pair, now=None: True  # type: ignore[method-assign]
        first.get_employees()  # rotates and saves
    forget_pairs()  # a new process: only the store knows the newest pair
    with Tele2AtsHook() as second:
        second.get_employees()  # the connection's pair is dead: the stored one is used
    assert _stats(url)["refreshes"] == 1
    assert _stats(url)["refused_refreshes"] == {} or sum(_stats(url)["refused_refreshes"].values()) == 0  # type: ignore[union-attr]


def test_a_refresh_lost_to_another_process_uses_the_winners_pair(
    short_lived: tuple[str, SandboxConfig, Path],
) -> None:
    url, config, folder = short_lived
    # another process refreshed with the connection's refresh token and saved the pair after a moment
    pair = httpx.put(
        f"{url}/crm/openapi/authorization/refresh/token",
        headers={"Authorization": config.tele2_refresh_token},
    ).json()
    store = FileTokenStore(folder)
    key = "telephony_tele2_tokens_tele2_ats_default"

    async def save_later() -> None:
        await asyncio.sleep(0.3)
        store.save(
            key,
            TokenPair(pair["accessToken"], pair["refreshToken"], origin_of(config.tele2_refresh_token), 1.0),
        )

    async def main() -> int:
        saver = asyncio.create_task(save_later())
        async with Tele2AtsHook() as hook:
            employees = await hook.aget_employees()  # 403, refresh refused, re-read: the winner's pair
        await saver
        return len(employees)

    assert asyncio.run(main()) > 0
    stats = _stats(url)
    assert stats["refreshes"] == 1  # only the "other process" refreshed successfully


def test_a_dead_pair_says_how_to_recover(
    short_lived: tuple[str, SandboxConfig, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, config, _ = short_lived
    monkeypatch.setattr("airflow_provider_telephony.core.rotation.REREAD_DELAYS", (0.01, 0.05))
    httpx.post(f"{url}/__sandbox__/tele2/generate")  # a new pair generated in the web UI: ours is dead
    with Tele2AtsHook() as hook, pytest.raises(DeadPairError, match="Generate token") as caught:
        hook.get_employees()
    assert config.tele2_refresh_token not in str(caught.value)
    assert caught.value.permanent


def test_the_token_store_file_holds_only_this_chain(tmp_path: Path) -> None:
    # distinctive values: every pair read is registered with the (process-wide) secrets masker
    access, refresh = "store-test-access-7f3c", "store-test-refresh-7f3c"
    store = FileTokenStore(tmp_path / "store")
    assert store.load("k") is None
    store.save("k", TokenPair(access, refresh, "origin", 5.0))
    assert store.load("k") == TokenPair(access, refresh, "origin", 5.0)
    (tmp_path / "store" / "k.json").write_text("{not json")
    assert store.load("k") is None
    assert oct((tmp_path / "store").stat().st_mode & 0o777) == "0o700"
    assert access not in repr(TokenPair(access, refresh, "o"))
    assert json.loads(TokenPair(access, refresh, "o", 1.0).to_json())["origin"] == "o"


def test_refresh_failure_is_an_authentication_error_not_a_retry_loop(
    short_lived: tuple[str, SandboxConfig, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, config, folder = short_lived
    monkeypatch.setattr("airflow_provider_telephony.core.rotation.REREAD_DELAYS", (0.01, 0.01))
    _connect(monkeypatch, url, config, folder)
    monkeypatch.setenv(
        *conn_env(
            "tele2_ats_default",
            conn_type="tele2_ats",
            host=f"{url}/crm/openapi",
            password="not-a-refresh-token",
            extra={"token_file": str(folder)},
        )
    )
    with Tele2AtsHook() as hook, pytest.raises(AuthenticationError):
        hook.get_employees()


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs/name", "2026-01-01\\x", "a/../../b"])
def test_record_file_names_that_leave_the_folder_are_refused(hook: Tele2AtsHook, name: str) -> None:
    from airflow.sdk import ObjectStoragePath

    with pytest.raises(RequestValidationError, match="filename"):
        hook.download_record(name, ObjectStoragePath("file:///tmp/x.mp3"))


def test_a_token_variable_without_token_in_its_name_is_refused(
    tele2: tuple[str, SandboxConfig], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, config = tele2
    monkeypatch.setenv(
        *conn_env(
            "tele2_ats_default",
            conn_type="tele2_ats",
            host=f"{url}/crm/openapi",
            password=config.tele2_refresh_token,
            extra={"token_variable": "tele2_pair"},
        )
    )
    with Tele2AtsHook() as hook, pytest.raises(ConfigurationError, match="must contain 'token'"):
        hook.get_employees()
