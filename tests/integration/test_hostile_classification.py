"""Finding 8 — classification: each hostile answer maps to the error class that decides correctly
whether to retry — 408 is retried like a 5xx, a redirect is a configuration error sent once, a
non-JSON body is unreadable (not a raw ``JSONDecodeError``), a bad host fails before any request,
and a transport failure is reported under the request that really failed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_telephony.core.compat import airflow_fail_exception
from airflow_provider_telephony.core.errors import (
    ConfigurationError,
    RedirectError,
    ServerError,
    TransportError,
    UnreadableResponseError,
)
from airflow_provider_telephony.core.hookbase import TelephonyHook
from airflow_provider_telephony.hooks.autocall import AutoCallHook
from airflow_provider_telephony.hooks.avito import AvitoHook
from airflow_provider_telephony.hooks.callkeeper import CallKeeperHook
from airflow_provider_telephony.hooks.tele2 import Tele2AtsHook
from airflow_provider_telephony.operators.avito import AvitoCallsToStorageOperator
from tests.conftest import conn_env
from tests.hostile_server import (
    AVITO_CALLS,
    AVITO_TOKEN,
    CK_KEY,
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

AirflowFailException = airflow_fail_exception()

pytestmark = pytest.mark.timeout(60)

WINDOW: dict[str, Any] = {
    "window_start": "2026-06-15T00:00:00+00:00",
    "window_end": "2026-06-16T00:00:00+00:00",
}
START = datetime(2026, 6, 15, tzinfo=timezone.utc)
END = datetime(2026, 6, 16, tzinfo=timezone.utc)
AUTOCALL_KEY = "autocall-key-hostile-01"
TELE2_TOKEN = "tele2-access-hostile-01"
#: where a hostile redirect points: another host, with something secret-looking in the query
ELSEWHERE = "http://127.0.0.1:9/steal?token=tok-redirect-0001x7Qz"


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    reset_client_state(monkeypatch)


def _autocall_conn(monkeypatch: pytest.MonkeyPatch, host: str, **extra: Any) -> str:
    monkeypatch.setenv(
        *conn_env(
            "autocall_hostile",
            conn_type="autocall",
            host=host,
            password=AUTOCALL_KEY,
            extra={"max_retries": 1, "deadline": 2, **extra},
        )
    )
    return "autocall_hostile"


def _tele2_conn(monkeypatch: pytest.MonkeyPatch, host: str, **extra: Any) -> str:
    monkeypatch.setenv(
        *conn_env(
            "tele2_hostile",
            conn_type="tele2_ats",
            host=host,
            password="tele2-refresh-hostile-01",
            extra={"access_token": TELE2_TOKEN, "max_retries": 1, "deadline": 2, **extra},
        )
    )
    return "tele2_hostile"


def test_408_is_retried_like_a_server_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """408 (the server gave up waiting) is transient: sent max_retries + 1 times, then ServerError."""
    sleeps = record_sleeps(monkeypatch)
    handler = routes(
        {
            ("POST", AVITO_TOKEN): avito_token("tok-class-1"),
            ("POST", AVITO_CALLS): lambda req: Reply.text("request timeout", 408),
        }
    )
    with HostileServer(handler) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=2)
        with AvitoHook(conn) as hook, pytest.raises(ServerError, match="HTTP 408"):
            hook.get_calls_page(START, END)
        assert server.count(AVITO_CALLS) == 3
    assert len(sleeps.waits) == 2


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("where", [AVITO_CALLS, AVITO_TOKEN], ids=["getCalls", "token"])
def test_avito_redirect_is_a_configuration_error_sent_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str, status: int
) -> None:
    """A 3xx means the host field is wrong (http vs https, a missing path): not followed, not retried,
    the task fails at once, and the redirect target is not shown."""
    sleeps = record_sleeps(monkeypatch)
    redirect = Reply(status, b"", {"Location": ELSEWHERE})
    handler = routes(
        {
            ("POST", AVITO_TOKEN): (lambda req: redirect)
            if where == AVITO_TOKEN
            else avito_token("tok-class-2"),
            ("POST", AVITO_CALLS): lambda req: redirect,
        }
    )
    with HostileServer(handler) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=3)
        op = AvitoCallsToStorageOperator(
            task_id="export", output_path=str(tmp_path / "calls.jsonl"), avito_conn_id=conn, **WINDOW
        )
        with pytest.raises(AirflowFailException) as excinfo:
            op.execute({})
        assert server.count(where) == 1
        assert server.count() == (1 if where == AVITO_TOKEN else 2)
    cause = excinfo.value.__cause__
    assert isinstance(cause, RedirectError) and isinstance(cause, ConfigurationError)
    assert cause.permanent
    assert "host" in str(cause) and conn in str(cause)
    assert str(cause).startswith("token:" if where == AVITO_TOKEN else "getCalls:")
    assert "steal" not in str(excinfo.value) and "tok-redirect" not in str(excinfo.value)
    assert sleeps.waits == []
    assert list(tmp_path.iterdir()) == []


Connect = Callable[[pytest.MonkeyPatch, str], str]
SIMPLE_HOOKS: list[tuple[str, Connect, type[TelephonyHook], str, str]] = [
    ("autocall", _autocall_conn, AutoCallHook, "/balance", "get_balance"),
    ("tele2", _tele2_conn, Tele2AtsHook, "/employees", "get_employees"),
]


@pytest.mark.parametrize(
    "body",
    [b"<html>502 Bad Gateway</html>", b"", b'{"balance": 1', b"\xff\xfe\x00garbage"],
    ids=["html", "empty", "cut-json", "binary"],
)
@pytest.mark.parametrize(
    ("name", "connect", "hook_cls", "path", "method"), SIMPLE_HOOKS, ids=["autocall", "tele2"]
)
def test_non_json_200_is_unreadable_and_connection_test_reports_it(
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    connect: Connect,
    hook_cls: type[TelephonyHook],
    path: str,
    method: str,
    body: bytes,
) -> None:
    """A 200 that is not JSON (a proxy's page, a cut body): ``UnreadableResponseError`` (retried), and
    ``test_connection`` answers ``(False, reason)`` instead of raising."""
    sleeps = record_sleeps(monkeypatch)
    with HostileServer(
        routes({("GET", path): lambda req: Reply(200, body, {"Content-Type": "application/json"})})
    ) as server:
        conn = connect(monkeypatch, server.url)
        hook = hook_cls(conn)
        with pytest.raises(UnreadableResponseError, match="unreadable"):
            getattr(hook, method)()
        assert server.count(path) == 2  # max_retries=1: retried once
        ok, message = hook_cls(conn).test_connection()
        assert server.count(path) == 4
    assert ok is False
    assert message.startswith(f"{path.strip('/')}: unreadable response")
    assert len(sleeps.waits) == 2
    assert AUTOCALL_KEY not in message and TELE2_TOKEN not in message


@pytest.mark.parametrize(
    ("name", "connect", "hook_cls", "path", "method"), SIMPLE_HOOKS, ids=["autocall", "tele2"]
)
def test_simple_hooks_send_their_credentials_and_parse_json(
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    connect: Connect,
    hook_cls: type[TelephonyHook],
    path: str,
    method: str,
) -> None:
    """Control for the test above: a JSON answer succeeds and the key is sent as each vendor documents."""
    # AutoCall's balance (the document's {"balance", "currency"}) and Tele2's employees are typed
    body: Any = (
        {"balance": 1450.75, "currency": "₸"} if name == "autocall" else [{"employeeId": 7, "name": "A"}]
    )
    with HostileServer(routes({("GET", path): lambda req: Reply.json(body)})) as server:
        conn = connect(monkeypatch, server.url)
        result = getattr(hook_cls(conn), method)()
        dumped = (
            result.model_dump() if name == "autocall" else [e.model_dump(exclude_none=True) for e in result]
        )
        assert dumped == body
        assert hook_cls(conn).test_connection()[0] is True
        sent = server.requests[0].headers["authorization"]
    assert sent == (f"Bearer {AUTOCALL_KEY}" if name == "autocall" else TELE2_TOKEN)


#: hosts that are not usable http(s) URLs; ``{port}`` is the listening server's, so a client that
#: "repaired" the host (another scheme, spaces dropped) would reach it and be counted
BAD_HOSTS = {
    "ftp-scheme": "ftp://x",
    "ftp-to-listening-server": "ftp://127.0.0.1:{port}",
    "space-in-name": "exa mple.com",
    "space-in-path": "http://127.0.0.1:{port}/api v1",
    "control-char": "http://127.0.0.1:{port}\t/api",
}


def _avito_bad(monkeypatch: pytest.MonkeyPatch, host: str) -> Callable[[], Any]:
    hook = AvitoHook(avito_conn(monkeypatch, host, max_retries=5))
    return lambda: hook.get_calls_page(START, END)


def _callkeeper_bad(monkeypatch: pytest.MonkeyPatch, host: str) -> Callable[[], Any]:
    hook = CallKeeperHook(callkeeper_conn(monkeypatch, host, max_retries=5))
    return lambda: hook.get_v3_page("get", START, END)


def _autocall_bad(monkeypatch: pytest.MonkeyPatch, host: str) -> Callable[[], Any]:
    return AutoCallHook(_autocall_conn(monkeypatch, host, max_retries=5)).get_balance


def _tele2_bad(monkeypatch: pytest.MonkeyPatch, host: str) -> Callable[[], Any]:
    return Tele2AtsHook(_tele2_conn(monkeypatch, host, max_retries=5)).get_employees


@pytest.mark.parametrize("host", list(BAD_HOSTS.values()), ids=list(BAD_HOSTS))
@pytest.mark.parametrize(
    "call",
    [_avito_bad, _callkeeper_bad, _autocall_bad, _tele2_bad],
    ids=["avito", "callkeeper", "autocall", "tele2"],
)
def test_unusable_host_is_a_configuration_error_without_any_request(
    monkeypatch: pytest.MonkeyPatch, host: str, call: Callable[[pytest.MonkeyPatch, str], Callable[[], Any]]
) -> None:
    """A host that is not an http(s) URL — even one that points at a listening server — fails at once
    (no request, no retry waits) instead of six retried transport errors."""
    sleeps = record_sleeps(monkeypatch)
    with HostileServer(lambda req: Reply.json({"calls": []})) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with pytest.raises(ConfigurationError, match="host"):
            call(monkeypatch, host.format(port=port))()
        assert server.count() == 0
    assert sleeps.waits == []


def test_dropped_token_request_is_reported_as_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server hangs up on ``/token``: the TransportError names the token request, not getCalls."""
    record_sleeps(monkeypatch)
    handler = routes(
        {
            ("POST", AVITO_TOKEN): lambda req: Reply(hang_up=True),
            ("POST", AVITO_CALLS): lambda req: Reply.json({"calls": []}),
        }
    )
    with HostileServer(handler) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=1)
        with AvitoHook(conn) as hook, pytest.raises(TransportError) as excinfo:
            hook.get_calls_page(START, END)
        assert server.count(AVITO_TOKEN) == 2  # a transport failure is retried
        assert server.count(AVITO_CALLS) == 0
    assert str(excinfo.value).startswith("token:")
    assert "getCalls" not in str(excinfo.value)


def test_token_cut_mid_body_is_reported_as_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same with a token answer whose connection drops mid-body."""
    record_sleeps(monkeypatch)

    def token(request: Request) -> Reply:
        full = Reply.json({"access_token": "tok-class-cut-0001x7Qz", "expires_in": 3600})
        return Reply(200, full.body, full.headers, cut_after=10)

    with HostileServer(routes({("POST", AVITO_TOKEN): token})) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=0)
        with AvitoHook(conn) as hook, pytest.raises(TransportError) as excinfo:
            hook.get_calls_page(START, END)
    assert str(excinfo.value).startswith("token:")


def test_callkeeper_key_never_in_a_transport_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """CallKeeper's key is in the URL; a dropped connection's error does not show it."""
    record_sleeps(monkeypatch)
    with HostileServer(lambda req: Reply(hang_up=True)) as server:
        conn = callkeeper_conn(monkeypatch, server.url, max_retries=0)
        with CallKeeperHook(conn) as hook, pytest.raises(TransportError) as excinfo:
            hook.get_v3_page("get", START, END)
        assert server.count("/api/") == 1
    assert CK_KEY not in str(excinfo.value) and CK_KEY not in repr(excinfo.value)
