"""Finding 10 — permanent errors fail fast: rejected credentials and a vendor validation error fail the
task at once (``AirflowFailException`` with the provider's error as cause), while a transient error
(a 503 that persists) stays an ordinary failure that Airflow's retries may still cure — in operators,
in a poking sensor, and in a deferred sensor resuming from its trigger's event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_telephony.core.compat import airflow_exception, airflow_fail_exception
from airflow_provider_telephony.core.errors import (
    AuthenticationError,
    ServerError,
    TelephonyError,
    ValidationError,
)
from airflow_provider_telephony.operators.avito import AvitoCallsToStorageOperator
from airflow_provider_telephony.operators.callkeeper import CallKeeperCallsToStorageOperator
from airflow_provider_telephony.sensors.avito import AvitoRecordingSensor
from airflow_provider_telephony.triggers.avito import AvitoRecordingTrigger
from tests.hostile_server import (
    AVITO_CALLS,
    AVITO_RECORD,
    AVITO_TOKEN,
    HostileServer,
    Reply,
    Request,
    avito_conn,
    avito_token,
    callkeeper_conn,
    record_sleeps,
    reset_client_state,
    routes,
)

AirflowException = airflow_exception()
AirflowFailException = airflow_fail_exception()

pytestmark = pytest.mark.timeout(60)

WINDOW: dict[str, Any] = {
    "window_start": "2026-06-15T00:00:00+00:00",
    "window_end": "2026-06-16T00:00:00+00:00",
}


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    reset_client_state(monkeypatch)
    record_sleeps(monkeypatch)


def _avito(
    token: Callable[[Request], Reply], calls: Callable[[Request], Reply] | None = None
) -> HostileServer:
    table = {("POST", AVITO_TOKEN): token}
    if calls is not None:
        table[("POST", AVITO_CALLS)] = calls
    return HostileServer(routes(table))


def _export(conn: str, tmp_path: Path) -> AvitoCallsToStorageOperator:
    return AvitoCallsToStorageOperator(
        task_id="export", output_path=str(tmp_path / "calls.jsonl"), avito_conn_id=conn, **WINDOW
    )


@pytest.mark.parametrize("status", [400, 401, 403])
def test_rejected_client_credentials_fail_the_export_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, status: int
) -> None:
    """``/token`` refusing the client id/secret: retrying the task cannot help."""
    with _avito(lambda req: Reply.json({"error": "invalid_client"}, status)) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=3)
        with pytest.raises(AirflowFailException) as excinfo:
            _export(conn, tmp_path).execute({})
        assert server.count(AVITO_TOKEN) == 1
        assert server.count(AVITO_CALLS) == 0
    cause = excinfo.value.__cause__
    assert isinstance(cause, AuthenticationError) and cause.permanent is True
    assert conn in str(excinfo.value)
    assert list(tmp_path.iterdir()) == []


def test_getcalls_rejected_twice_after_a_fresh_token_fails_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """401 on getCalls: one token refresh and one re-send, then the error is final (permanent)."""
    with _avito(
        avito_token("tok-fast-1"), lambda req: Reply.json({"message": "unauthorized"}, 401)
    ) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=3)
        with pytest.raises(AirflowFailException) as excinfo:
            _export(conn, tmp_path).execute({})
        assert server.count(AVITO_TOKEN) == 2
        assert server.count(AVITO_CALLS) == 2
    assert isinstance(excinfo.value.__cause__, AuthenticationError)


@pytest.mark.parametrize("status", [200, 400])
def test_vendor_validation_error_fails_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, status: int
) -> None:
    """In-body code 1001 (the vendor rejected the request's content), in a 200 or a 400."""
    body = {"error": {"code": 1001, "message": "dateTimeFrom is invalid"}}
    with _avito(avito_token("tok-fast-2"), lambda req: Reply.json(body, status)) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=3)
        with pytest.raises(AirflowFailException) as excinfo:
            _export(conn, tmp_path).execute({})
        assert server.count(AVITO_CALLS) == 1
    cause = excinfo.value.__cause__
    assert isinstance(cause, ValidationError) and cause.permanent
    assert "1001" in str(excinfo.value)


def test_persistent_503_is_left_to_airflow_retries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A vendor outage may be over by the next task try: the task fails with ``ServerError``, not
    ``AirflowFailException`` (which would skip its retries)."""
    with _avito(avito_token("tok-fast-3"), lambda req: Reply.text("maintenance", 503)) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=2)
        with pytest.raises(ServerError) as excinfo:
            _export(conn, tmp_path).execute({})
        assert server.count(AVITO_CALLS) == 3
    assert not isinstance(excinfo.value, AirflowException)
    assert excinfo.value.permanent is False


@pytest.mark.parametrize(
    ("reply", "fails_fast"),
    [
        (Reply.json({"inbound": {"error": "User is not recognized"}}), True),
        (Reply.json({"inbound": {"error": "User is not recognized"}}, 401), True),
        (Reply.text("forbidden", 403), True),
        (
            Reply.json(
                {"inbound": {"error": "Start date has wrong type. Possible format is 'Y-m-d' or timestamp"}}
            ),
            True,
        ),
        (Reply.text("bad gateway", 502), False),
    ],
    ids=["key-in-body", "key-401", "403", "validation-in-body", "502"],
)
def test_callkeeper_export_fails_fast_only_on_permanent_errors(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, reply: Reply, fails_fast: bool
) -> None:
    with HostileServer(routes({("GET", "/api/"): lambda req: reply})) as server:
        conn = callkeeper_conn(monkeypatch, server.url, max_retries=1)
        op = CallKeeperCallsToStorageOperator(
            task_id="export",
            output_path=str(tmp_path / "calls.jsonl"),
            callkeeper_conn_id=conn,
            api_version="v3",
            method="get",
            **WINDOW,
        )
        with pytest.raises((AirflowFailException, TelephonyError)) as excinfo:
            op.execute({})
        sent = server.count("/api/")
    if fails_fast:
        assert isinstance(excinfo.value, AirflowFailException)
        assert isinstance(excinfo.value.__cause__, TelephonyError) and excinfo.value.__cause__.permanent
        assert sent == 1
    else:
        assert isinstance(excinfo.value, ServerError)
        assert sent == 2


# ----------------------------------------------------------------------------- sensor and trigger


def _record_server(
    record: Callable[[Request], Reply], token: Callable[[Request], Reply] | None = None
) -> HostileServer:
    return HostileServer(
        routes({("POST", AVITO_TOKEN): token or avito_token("tok-fast-4"), ("GET", AVITO_RECORD): record})
    )


def test_poking_sensor_fails_fast_on_rejected_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    with _record_server(lambda req: Reply(200, b"ID3"), token=lambda req: Reply.json({}, 401)) as server:
        conn = avito_conn(monkeypatch, server.url)
        sensor = AvitoRecordingSensor(task_id="wait", call_ids=[5], avito_conn_id=conn, deferrable=False)
        with pytest.raises(AirflowFailException) as excinfo:
            sensor.poke({})
        assert server.count(AVITO_RECORD) == 0
    assert isinstance(excinfo.value.__cause__, AuthenticationError)


def test_poking_sensor_leaves_a_persistent_503_to_airflow(monkeypatch: pytest.MonkeyPatch) -> None:
    with _record_server(lambda req: Reply.text("down", 503)) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=1)
        sensor = AvitoRecordingSensor(task_id="wait", call_ids=[5], avito_conn_id=conn, deferrable=False)
        with pytest.raises(ServerError):
            sensor.poke({})
        assert server.count(AVITO_RECORD) == 2


def _first_event(trigger: AvitoRecordingTrigger) -> dict[str, Any]:
    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(asyncio.wait_for(first(), timeout=20))


@pytest.mark.parametrize(
    ("record", "permanent"),
    [
        (lambda req: Reply.json({"code": 1002, "message": "forbidden"}, 403), True),
        (lambda req: Reply.json({"code": 1001, "message": "callId is invalid"}, 400), True),
        (lambda req: Reply.text("down", 503), False),
    ],
    ids=["403", "400-validation", "503"],
)
def test_deferred_sensor_resumes_into_the_right_failure(
    monkeypatch: pytest.MonkeyPatch, record: Callable[[Request], Reply], permanent: bool
) -> None:
    """The trigger marks its error event ``permanent``; ``execute_complete`` turns a permanent one into
    ``AirflowFailException`` and a transient one into a plain ``AirflowException`` (retried by Airflow)."""
    with _record_server(record) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=0)
        event = _first_event(AvitoRecordingTrigger(call_ids=[5], avito_conn_id=conn, poke_interval=0.1))
    assert event["status"] == "error" and event["permanent"] is permanent
    sensor = AvitoRecordingSensor(task_id="wait", call_ids=[5], avito_conn_id=conn, deferrable=True)
    with pytest.raises(AirflowException) as excinfo:
        sensor.execute_complete({}, event)
    assert isinstance(excinfo.value, AirflowFailException) is permanent
    assert event["error_type"] in str(excinfo.value)


@pytest.mark.parametrize("permanent", [True, False])
def test_execute_complete_decides_on_the_event_permanent_flag(permanent: bool) -> None:
    """The decision is the event's ``permanent`` flag, exactly as documented for trigger events."""
    event = {
        "status": "error",
        "error_type": "ServerError",
        "message": "getRecordByCallId: HTTP 503",
        "permanent": permanent,
    }
    sensor = AvitoRecordingSensor(task_id="wait", call_ids=[5], deferrable=True)
    with pytest.raises(AirflowException) as excinfo:
        sensor.execute_complete({}, event)
    assert isinstance(excinfo.value, AirflowFailException) is permanent
    assert type(excinfo.value) is (AirflowFailException if permanent else AirflowException)


def test_execute_complete_success_returns_the_ids() -> None:
    sensor = AvitoRecordingSensor(task_id="wait", call_ids=[5, 6], deferrable=True)
    assert sensor.execute_complete({}, {"status": "success", "call_ids": [5, 6]}) == [5, 6]
