"""Finding 6 — redaction: a server that echoes the ``Authorization`` header, the token it issued or the
client secret in an error body cannot make them reach an exception, a log line or a trigger event;
the repr of request definitions, settings and hooks holds no secret either.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_telephony.core.compat import airflow_fail_exception
from airflow_provider_telephony.core.errors import ServerError, TelephonyError, ValidationError
from airflow_provider_telephony.core.flow import ApiRequest
from airflow_provider_telephony.hooks.avito import AvitoHook
from airflow_provider_telephony.hooks.callkeeper import CallKeeperHook
from airflow_provider_telephony.models import avito as am
from airflow_provider_telephony.models import callkeeper as cm
from airflow_provider_telephony.operators.avito import AvitoCallsToStorageOperator
from airflow_provider_telephony.operators.callkeeper import CallKeeperCallsToStorageOperator
from airflow_provider_telephony.triggers.avito import AvitoRecordingTrigger
from tests.hostile_server import (
    AVITO_CALLS,
    AVITO_RECORD,
    AVITO_SECRET,
    AVITO_TOKEN,
    CK_KEY,
    HostileServer,
    Reply,
    Request,
    avito_conn,
    callkeeper_conn,
    record_sleeps,
    reset_client_state,
    routes,
)

AirflowFailException = airflow_fail_exception()

pytestmark = pytest.mark.timeout(60)

WINDOW: dict[str, Any] = {
    "window_start": "2026-06-15T00:00:00+00:00",
    "window_end": "2026-06-16T00:00:00+00:00",
}
START = datetime(2026, 6, 15, tzinfo=timezone.utc)
END = datetime(2026, 6, 16, tzinfo=timezone.utc)
ROLE_KEY = "HOSTILEROLEKEY01"


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    reset_client_state(monkeypatch)
    record_sleeps(monkeypatch)


class TokenIssuer:
    """``POST /token`` issuing a new, unique token each time; remembers every token it gave out."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.issued: list[str] = []

    def __call__(self, request: Request) -> Reply:
        token = f"{self.prefix}-{request.path_number:04d}x7Qz"
        self.issued.append(token)
        return Reply.json({"access_token": token, "expires_in": 3600})


def _echo_auth(request: Request) -> str:
    """What a careless server writes into its error message: the header, and the bare token again."""
    header = request.headers.get("authorization", "")
    return f"bad request, Authorization: {header} (token {header.removeprefix('Bearer ')})"


def _full_text(exc: BaseException) -> str:
    """Everything a user may see of an exception: str, repr and the formatted traceback with causes."""
    return "\n".join([str(exc), repr(exc), "".join(traceback.format_exception(exc))])


def _assert_clean(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} leaked"
    assert AVITO_SECRET not in text


@pytest.mark.parametrize("status", [400, 200])
def test_avito_error_echoing_the_authorization_header_is_redacted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, status: int
) -> None:
    """A validation error (HTTP 400, or in a 200 body) quoting ``Authorization: Bearer <token>``."""
    issuer = TokenIssuer("tok-echo-a")

    def calls(request: Request) -> Reply:
        return Reply.json({"error": {"code": 1001, "message": _echo_auth(request)}}, status)

    with HostileServer(routes({("POST", AVITO_TOKEN): issuer, ("POST", AVITO_CALLS): calls})) as server:
        conn = avito_conn(monkeypatch, server.url)
        op = AvitoCallsToStorageOperator(
            task_id="export", output_path=str(tmp_path / "calls.jsonl"), avito_conn_id=conn, **WINDOW
        )
        with pytest.raises(AirflowFailException) as excinfo:
            op.execute({})
    assert issuer.issued
    assert isinstance(excinfo.value.__cause__, ValidationError)
    assert "Avito error 1001" in str(excinfo.value)  # the vendor's message is still quoted, redacted
    _assert_clean(_full_text(excinfo.value), *issuer.issued)


def test_avito_500_echoing_the_token_and_secret_is_redacted_in_errors_and_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A 500 whose body repeats the token (bare, no ``Bearer``) and the client secret: neither reaches
    the ServerError nor the retry warnings logged on the way."""
    issuer = TokenIssuer("tok-echo-b")

    def calls(request: Request) -> Reply:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        message = f"internal error for {token}; client_secret={AVITO_SECRET}; also {AVITO_SECRET}"
        return Reply.json({"error": {"code": 1003, "message": message}}, 500)

    caplog.set_level(logging.DEBUG)
    with HostileServer(routes({("POST", AVITO_TOKEN): issuer, ("POST", AVITO_CALLS): calls})) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=1)
        with AvitoHook(conn) as hook, pytest.raises(ServerError) as excinfo:
            hook.get_calls_page(START, END)
        assert server.count(AVITO_CALLS) == 2
    assert "HTTP 500" in str(excinfo.value)
    _assert_clean(_full_text(excinfo.value), *issuer.issued)
    _assert_clean(caplog.text, *issuer.issued)


def test_token_endpoint_echoing_the_client_secret_is_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token request carries the client secret in its body; a failing ``/token`` that quotes it back."""

    def token(request: Request) -> Reply:
        form = request.form()
        message = f"cannot issue for client_id={form['client_id']} secret {form['client_secret']}"
        return Reply.json({"error": {"code": 1003, "message": message}}, 503)

    with HostileServer(routes({("POST", AVITO_TOKEN): token})) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=0)
        with AvitoHook(conn) as hook, pytest.raises(TelephonyError) as excinfo:
            hook.get_calls_page(START, END)
        assert server.count(AVITO_TOKEN) == 1
    assert str(excinfo.value).startswith("token:")
    _assert_clean(_full_text(excinfo.value))


def test_trigger_error_event_does_not_carry_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """``getRecordByCallId`` answering 403 that echoes the token: the trigger's error event — which is
    stored in the database and shown in the UI — has neither the token(s) nor the secret."""
    issuer = TokenIssuer("tok-echo-c")

    def record(request: Request) -> Reply:
        return Reply.json({"code": 1002, "message": _echo_auth(request)}, 403)

    with HostileServer(routes({("POST", AVITO_TOKEN): issuer, ("GET", AVITO_RECORD): record})) as server:
        conn = avito_conn(monkeypatch, server.url)
        trigger = AvitoRecordingTrigger(call_ids=[42], avito_conn_id=conn, poke_interval=0.1)

        async def first_event() -> dict[str, Any]:
            async for event in trigger.run():
                return dict(event.payload)
            raise AssertionError("the trigger ended without an event")

        event = asyncio.run(asyncio.wait_for(first_event(), timeout=20))
        assert server.count(AVITO_RECORD) == 2  # sent once, refreshed the token once, sent again
    assert issuer.issued
    assert event["status"] == "error" and event["error_type"] == "AuthenticationError"
    assert event["permanent"] is True
    _assert_clean(repr(event), *issuer.issued)


@pytest.mark.parametrize(
    "reply",
    [
        Reply.json({"inbound": {"error": f"User is not recognized: {CK_KEY}"}}),
        Reply.json({"inbound": {"error": f"Something odd happened to json/v3/{CK_KEY}/call"}}),
        Reply.json({"inbound": {"error": f"User is not recognized: {CK_KEY}"}}, 401),
        Reply.text(f"upstream failed for /api/?json/v3/{CK_KEY}/call/get", 500),
    ],
    ids=["key-error-in-body", "unknown-error-in-body", "key-error-401", "500-text"],
)
def test_callkeeper_error_echoing_the_key_is_redacted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, reply: Reply
) -> None:
    """CallKeeper's key is part of the URL, so a server quoting the URL (or the key) back is likely."""
    with HostileServer(routes({("GET", "/api/"): lambda req: reply})) as server:
        conn = callkeeper_conn(monkeypatch, server.url, max_retries=0)
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
        assert CK_KEY in server.requests[0].query  # the key was really sent in the URL
    _assert_clean(_full_text(excinfo.value), CK_KEY)


def test_request_definitions_settings_and_hooks_show_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """``repr`` of what may land in a traceback or a debug log: request definitions, settings, hooks."""
    avito_id = avito_conn(monkeypatch, "http://127.0.0.1:9")
    ck_id = callkeeper_conn(monkeypatch, "http://127.0.0.1:9", role_api_key=ROLE_KEY)
    texts: list[str] = []

    calls = AvitoHook._calls_request(
        am.GetCallsRequest(date_time_from=START, date_time_to=END, limit=100, offset=0)
    )
    token = ApiRequest(
        name="token",
        method="POST",
        path=AVITO_TOKEN,
        parse=lambda r: r,
        data={"grant_type": "client_credentials", "client_id": "cid", "client_secret": AVITO_SECRET},
        headers={"Authorization": "Bearer tok-repr-0001x7Qz"},
        authenticated=False,
    )
    texts += [repr(calls), repr(token), str(token)]
    assert "getCalls" in repr(calls) and "token" in repr(token)

    avito = AvitoHook(avito_id)
    texts += [repr(avito), str(avito), repr(avito.settings), str(avito.settings)]

    ck = CallKeeperHook(ck_id)
    for method in ("get", "getByRole", "getWithRole"):
        request = ck._v3_request(cm.V3CallsRequest(method=method, page=0, date_from="1", date_to="2"))
        assert CK_KEY in request.path or ROLE_KEY in request.path  # the key really is in the URL...
        texts.append(repr(request))  # ...and not in what is shown
    v1 = ck._v1_request(cm.V1PageRequest(entity="call", page=0, time_start="1", time_end="2"))
    texts += [repr(v1), repr(ck), repr(ck.settings), str(ck.settings)]

    for text in texts:
        for secret in (AVITO_SECRET, CK_KEY, ROLE_KEY, "tok-repr-0001x7Qz"):
            assert secret not in text, f"{secret!r} in {text!r}"
