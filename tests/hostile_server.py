"""A tiny misbehaving HTTP/1.1 server for tests, and the fake vendor answers the hostile tests share.

The server is stdlib only (``ThreadingHTTPServer`` on 127.0.0.1, port 0, in a daemon thread).  A test
gives it a *handler*: a callable that receives every :class:`Request` (method, path, query, headers,
body, request counters) and returns a scripted :class:`Reply` — status, headers, body — plus the
ways a hostile server misbehaves:

* ``trickle=Trickle("body")`` sends the body a few bytes at a time with a pause in between
  (``Trickle("head")`` does the same with the status line and headers);
* ``cut_after=N`` declares the full ``Content-Length`` but sends only ``N`` bytes of the body, then
  drops the connection;
* ``hang_up=True`` closes the connection without answering at all.

Every request is recorded (``server.requests``, ``server.count(path)``) so tests can prove what was,
or was not, sent.  Shutting down never waits for a client stuck in a trickle: handler threads are
daemons, pauses wait on a stop event, and idle keep-alive sockets time out after a few seconds.
A handler that raises answers 500 and makes the ``with`` block fail on exit (a broken test script
must not pass as a "server error").

Usage::

    def handler(req: Request) -> Reply:
        return Reply.json({"ok": True}) if req.path == "/ping" else Reply(404)

    with HostileServer(handler) as server:
        httpx.get(server.url + "/ping")
        assert server.count("/ping") == 1
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs

import pytest

from tests.conftest import conn_env

# ----------------------------------------------------------------------------- the server


@dataclass(frozen=True)
class Request:
    """One request as the server received it.

    :param query: the raw query string (CallKeeper puts its whole request there), without ``?``.
    :param headers: header names in lower case.
    :param number: 1-based position of this request among all the server received.
    :param path_number: 1-based position among the requests to the same path.
    """

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    number: int
    path_number: int

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """The body decoded as an HTML form (last value of each field)."""
        return {k: v[-1] for k, v in parse_qs(self.body.decode()).items()}

    def params(self) -> dict[str, str]:
        """The query string decoded as ``key=value`` pairs (last value of each field)."""
        return {k: v[-1] for k, v in parse_qs(self.query).items()}


@dataclass(frozen=True)
class Trickle:
    """Send one part of the answer ``chunk`` bytes at a time, pausing ``interval`` seconds after each."""

    part: Literal["head", "body"] = "body"
    chunk: int = 1
    interval: float = 0.2


@dataclass(frozen=True)
class Reply:
    """A scripted answer.  ``Content-Length`` is added unless ``headers`` sets it."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    trickle: Trickle | None = None
    #: send only this many bytes of the body, then drop the connection (declared length is the full one)
    cut_after: int | None = None
    #: close the connection without sending anything
    hang_up: bool = False

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None, **kw: Any) -> Reply:
        """A JSON answer (``Content-Type: application/json``)."""
        merged = {"Content-Type": "application/json", **(headers or {})}
        return cls(status, json.dumps(data).encode(), merged, **kw)

    @classmethod
    def text(cls, text: str, status: int = 200, headers: Mapping[str, str] | None = None, **kw: Any) -> Reply:
        """A plain-text answer."""
        merged = {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}
        return cls(status, text.encode(), merged, **kw)


Handler = Callable[[Request], Reply]


class _Http(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # never join a handler thread that is mid-trickle
    allow_reuse_address = True

    def __init__(self, owner: HostileServer) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _RequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn, a reverse DNS lookup that can take seconds
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]  # type: ignore[assignment]


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5.0  # an idle keep-alive connection is closed after this long
    disable_nagle_algorithm = True  # trickled bytes leave at once
    server: _Http

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a test's output should show the test, not an access log."""

    def _dispatch(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        request = owner._record(
            self.command, path, query, {k.lower(): v for k, v in self.headers.items()}, body
        )
        try:
            reply = owner.handler(request)
        except Exception as exc:  # a broken test script: answer 500 and fail the test on exit
            owner.errors.append(exc)
            reply = Reply.text(f"handler failed: {type(exc).__name__}: {exc}", 500)
        self._send(reply)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def _send(self, reply: Reply) -> None:
        if reply.hang_up:
            self._drop()
            return
        headers = dict(reply.headers)
        if not any(k.lower() == "content-length" for k in headers):
            headers["Content-Length"] = str(len(reply.body))
        if reply.cut_after is not None:
            headers["Connection"] = "close"
        try:
            reason = HTTPStatus(reply.status).phrase
        except ValueError:
            reason = "Unknown"
        head = f"HTTP/1.1 {reply.status} {reason}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        body = reply.body if reply.cut_after is None else reply.body[: reply.cut_after]
        trickle = reply.trickle
        try:
            self._write(head.encode("latin-1"), trickle if trickle and trickle.part == "head" else None)
            self._write(body, trickle if trickle and trickle.part == "body" else None)
        except OSError:  # the client gave up (deadline) or we are shutting down
            self.close_connection = True
            return
        if reply.cut_after is not None:
            self._drop()

    def _drop(self) -> None:
        """Close the connection now (the client sees EOF), whatever state the client is in."""
        self.close_connection = True
        with contextlib.suppress(OSError):  # the client may already have gone away
            self.connection.shutdown(socket.SHUT_RDWR)

    def _write(self, data: bytes, trickle: Trickle | None) -> None:
        if trickle is None:
            self.wfile.write(data)
            return
        stopping = self.server.owner.stopping
        for start in range(0, len(data), trickle.chunk):
            if stopping.is_set():
                raise ConnectionAbortedError("server stopping")
            self.wfile.write(data[start : start + trickle.chunk])
            stopping.wait(trickle.interval)


class HostileServer:
    """A loopback HTTP/1.1 server that answers every request with ``handler(request)``.

    A context manager: ``with HostileServer(handler) as server`` starts it and yields it;
    ``server.url`` is its base URL (``http://127.0.0.1:<port>``).
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.stopping = threading.Event()
        self.errors: list[BaseException] = []
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._http: _Http | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._http is None:
            raise RuntimeError("the server is not running")
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def requests(self) -> list[Request]:
        """Every request received so far, in order (a copy)."""
        with self._lock:
            return list(self._requests)

    def count(self, path: str | None = None, method: str | None = None) -> int:
        """How many requests arrived (to ``path`` exactly, with ``method``, when given)."""
        return sum(
            1
            for r in self.requests
            if (path is None or r.path == path) and (method is None or r.method == method)
        )

    def _record(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Request:
        with self._lock:
            number = len(self._requests) + 1
            path_number = sum(1 for r in self._requests if r.path == path) + 1
            request = Request(method, path, query, headers, body, number, path_number)
            self._requests.append(request)
        return request

    def __enter__(self) -> HostileServer:
        self._http = _Http(self)
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="hostile-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.errors:
            raise AssertionError(f"the test's handler failed: {self.errors[0]!r}") from self.errors[0]


def routes(table: Mapping[tuple[str, str], Handler], default: Handler | None = None) -> Handler:
    """A handler dispatching on ``(method, path)``; anything else gets ``default`` or a 404."""

    def handler(request: Request) -> Reply:
        route = table.get((request.method, request.path))
        if route is not None:
            return route(request)
        if default is not None:
            return default(request)
        return Reply.text("no such route", 404)

    return handler


# ----------------------------------------------------------------------------- shared test state


class SleepRecorder:
    """Replaces ``time.sleep`` (through ``tenacity.nap.time``): records every wait, sleeps none.

    ``tenacity``'s default sleep is ``time.sleep`` looked up at call time, so retry waits land here;
    the server's own pauses use an event, not ``time.sleep``, so they are not affected.
    """

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(float(seconds))


def record_sleeps(monkeypatch: pytest.MonkeyPatch) -> SleepRecorder:
    """Install a :class:`SleepRecorder` for the test's duration and return it."""
    recorder = SleepRecorder()
    monkeypatch.setattr("tenacity.nap.time.sleep", recorder)
    return recorder


def reset_client_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget process-wide client state another test may have left: cached Avito tokens and
    rate limiters (both are keyed by base URL / connection, and loopback ports get reused)."""
    from airflow_provider_telephony.core import ratelimit
    from airflow_provider_telephony.hooks.avito import AvitoHook

    AvitoHook._tokens.clear()
    monkeypatch.setattr(ratelimit, "_registry", {})


@contextmanager
def elapsed() -> Iterator[Callable[[], float]]:
    """Measure a block: ``with elapsed() as took: ...; assert took() < 10``."""
    started = time.monotonic()
    end: list[float] = []
    try:
        yield lambda: (end[0] if end else time.monotonic()) - started
    finally:
        end.append(time.monotonic())


# ----------------------------------------------------------------------------- fake vendors

#: an Avito client secret / CallKeeper key no real account has; tests check they never leak
AVITO_CLIENT_ID = "hostile-client-id"
AVITO_SECRET = "secret-value-123"
CK_KEY = "HOSTILEKEY000001"
AVITO_CALLS = "/calltracking/v1/getCalls/"
AVITO_RECORD = "/calltracking/v1/getRecordByCallId/"
AVITO_TOKEN = "/token"


def avito_conn(
    monkeypatch: pytest.MonkeyPatch, url: str, conn_id: str = "avito_hostile", **extra: Any
) -> str:
    """Point an ``avito`` connection at ``url`` (extras default to 1 retry, 2 s deadline); return its id."""
    settings = {"max_retries": 1, "deadline": 2, **extra}
    monkeypatch.setenv(
        *conn_env(
            conn_id,
            conn_type="avito",
            host=url,
            login=AVITO_CLIENT_ID,
            password=AVITO_SECRET,
            extra=settings,
        )
    )
    return conn_id


def callkeeper_conn(
    monkeypatch: pytest.MonkeyPatch, url: str, conn_id: str = "callkeeper_hostile", **extra: Any
) -> str:
    """Point a ``callkeeper`` connection (key :data:`CK_KEY`) at ``url``; return its id."""
    settings = {"max_retries": 1, "deadline": 2, "api_version": "v3", **extra}
    monkeypatch.setenv(*conn_env(conn_id, conn_type="callkeeper", host=url, password=CK_KEY, extra=settings))
    return conn_id


def avito_token(token: str, expires_in: int = 3600) -> Handler:
    """``POST /token`` answering ``token`` whatever the form says."""
    return lambda request: Reply.json({"access_token": token, "expires_in": expires_in})


def avito_call(call_id: int, when: str = "2026-06-15T10:00:00Z", talk: int = 30) -> dict[str, Any]:
    """One Avito call record with obviously fake phone numbers."""
    return {
        "callId": call_id,
        "callTime": when,
        "talkDuration": talk,
        "waitingDuration": 2.5,
        "buyerPhone": "+70000000001",
        "sellerPhone": "+70000000002",
        "virtualPhone": "+70000000003",
        "itemId": 1000 + call_id,
    }


def avito_page(first_id: int, size: int) -> dict[str, Any]:
    """A ``getCalls`` answer of ``size`` calls with consecutive ids from ``first_id``."""
    return {"calls": [avito_call(first_id + i) for i in range(size)]}


def ck_v3_call(n: int, when: str = "2026-06-15 10:00:00") -> dict[str, Any]:
    """One CallKeeper v3 call record."""
    return {
        "universalId": f"u-{n:06d}",
        "callTime": when,
        "serviceType": "callback",
        "clientNumber": "70000000001",
        "managerNumber": "70000000002",
    }


def ck_v1_call(n: int, when: str = "2026-06-15 10:00:00") -> dict[str, Any]:
    """One CallKeeper v1 call record."""
    return {"callId": n, "timeStart": when, "duration": 30, "clientPhone": "70000000001", "state": "ok"}


def ck_v1_page(rows: list[dict[str, Any]], of_pages: int) -> dict[str, Any]:
    """A v1 envelope with ``rows`` as its payload."""
    return {
        "inbound": {"ofPages": of_pages, "pageLength": len(rows), "totalLength": of_pages * len(rows)},
        "info": {"entity": "call"},
        "payload": rows,
    }


def ck_page_number(request: Request) -> int:
    """The ``{page}`` segment of a CallKeeper v1/v3 request (``json/v3/KEY/call/get/<page>/...``)."""
    segments = request.query.split("/")
    return int(segments[5])
