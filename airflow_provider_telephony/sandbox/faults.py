"""Fault injection for the sandbox: the failures a real network and a real vendor produce.

Clients must survive 5xx answers, 429 with ``Retry-After``, connections that drop before any answer,
slow answers and bodies cut short.  This module makes all of them happen on purpose:

* **Profiles** (``SandboxConfig.faults``): a name (``none``, ``flaky``) or a spec such as
  ``"500=0.1,429=0.05,reset=0.02,slow=0.05,truncate=0.02"`` giving the probability of each fault per
  request.  Draws come from one ``random.Random(config.seed)`` per server, so a given sequence of
  requests meets the same faults every run.
* **One-shot rules** for tests: ``POST /__sandbox__/faults`` with
  ``{"path_prefix": "/calltracking/v1/getCalls/", "status": 503, "count": 2}`` fails the next two
  matching requests (``"method": "POST"`` narrows a rule to one HTTP method) (``status`` 0 means connection reset; ``"fault": "truncate"`` / ``"slow"`` /
  ``"reset"`` / ``"drop"`` may be given instead of a status).  ``drop`` is the fault that makes
  writes dangerous: the server *processes* the request, then the connection closes before any
  answer, so the client cannot know whether it took effect.  ``DELETE /__sandbox__/faults`` clears them,
  ``GET /__sandbox__/faults`` shows what is pending.

Nothing under ``/__sandbox__/`` is ever faulted, so the controls keep working during a storm.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import struct
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTROL_PREFIX = "/__sandbox__"
SLOW_SECONDS = 0.5
NAMED_KINDS = ("reset", "slow", "truncate", "drop")

#: named profiles, each a spec in the same syntax users may pass directly
PROFILES: dict[str, str] = {
    "none": "",
    "flaky": "500=0.017,502=0.017,503=0.016,429=0.03,reset=0.02,slow=0.02,truncate=0.02",
}


@dataclass(frozen=True)
class Fault:
    """One kind of failure: an HTTP ``status`` answer, or one of ``reset`` / ``slow`` / ``truncate``."""

    kind: str
    status: int = 0

    def describe(self) -> str:
        """Human-readable name, as used in specs (``503``, ``reset``...)."""
        return str(self.status) if self.kind == "status" else self.kind


def parse_faults(spec: str | None) -> tuple[tuple[Fault, float], ...]:
    """Turn a profile name or ``kind=probability,...`` spec into (fault, probability) pairs.

    Raises ``ValueError`` with a message that names the offending item, so the CLI can show it.
    """
    text = PROFILES.get((spec or "none").strip(), spec or "")
    pairs: list[tuple[Fault, float]] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            known = ", ".join(PROFILES)
            raise ValueError(f"fault item {item!r}: expected KIND=PROBABILITY or a profile ({known})")
        try:
            probability = float(value)
        except ValueError:
            raise ValueError(f"fault item {item!r}: probability {value!r} is not a number") from None
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"fault item {item!r}: probability must be between 0 and 1")
        pairs.append((_parse_kind(key.strip(), item), probability))
    if sum(p for _, p in pairs) > 1.0 + 1e-9:
        raise ValueError(f"fault probabilities in {spec!r} add up to more than 1")
    return tuple(pairs)


def _parse_kind(key: str, item: str) -> Fault:
    if key in NAMED_KINDS:
        return Fault(kind=key)
    if key.isdigit() and 400 <= int(key) <= 599:
        return Fault(kind="status", status=int(key))
    raise ValueError(f"fault item {item!r}: kind must be an HTTP status 400-599 or one of {NAMED_KINDS}")


@dataclass
class OneShotRule:
    """A queued test fault: the next ``remaining`` requests under ``path_prefix`` get ``fault``."""

    path_prefix: str
    fault: Fault
    remaining: int
    method: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path_prefix) and self.method in (None, method)

    def as_json(self) -> dict[str, Any]:
        """Shape shown by ``GET /__sandbox__/faults``."""
        shown = {"path_prefix": self.path_prefix, "fault": self.fault.describe(), "remaining": self.remaining}
        return shown if self.method is None else {**shown, "method": self.method}


class FaultState:
    """Per-server fault settings and the seeded random sequence; lives in the server's event loop."""

    def __init__(self, spec: str | None, seed: int) -> None:
        self.spec = spec or "none"
        self.weights = parse_faults(spec)
        self.rng = random.Random(seed)
        self.rules: list[OneShotRule] = []
        self.injected: dict[str, int] = {}

    def pick(self, path: str, method: str = "GET") -> Fault | None:
        """Decide the fault (if any) for one request: queued one-shot rules first, then the profile."""
        fault = self._pick_one_shot(method, path) or self._pick_random()
        if fault is not None:
            name = fault.describe()
            self.injected[name] = self.injected.get(name, 0) + 1
        return fault

    def _pick_one_shot(self, method: str, path: str) -> Fault | None:
        for rule in self.rules:
            if rule.matches(method, path):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self.rules.remove(rule)
                return rule.fault
        return None

    def _pick_random(self) -> Fault | None:
        if not self.weights:
            return None
        draw = self.rng.random()
        for fault, probability in self.weights:
            if draw < probability:
                return fault
            draw -= probability
        return None

    def as_json(self) -> dict[str, Any]:
        """Current profile, pending one-shot rules and counts of injected faults."""
        return {
            "profile": self.spec,
            "pending": [rule.as_json() for rule in self.rules],
            "injected": dict(self.injected),
        }


class FaultMiddleware:
    """Pure ASGI middleware that injects faults; it must sit outside everything else.

    It is the outermost layer (see ``app.SandboxApp``) so that ``send`` is the server's own callable,
    which lets a reset or a truncation close the real TCP connection instead of producing a 500.
    """

    def __init__(self, app: ASGIApp, state: FaultState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        fault = self.state.pick(scope["path"], scope.get("method", "GET"))
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind == "slow":
            await asyncio.sleep(SLOW_SECONDS)
            await self.app(scope, receive, send)
        elif fault.kind == "reset":
            await _reset_connection(send)
        elif fault.kind == "truncate":
            await self.app(scope, receive, _TruncatingSend(send))
        elif fault.kind == "drop":
            await self.app(scope, receive, _DroppingSend(send))
        else:
            await _send_status(send, fault.status)


async def _send_status(send: Send, status: int) -> None:
    """Answer with an injected HTTP error (JSON body, ``Retry-After: 1`` on 429 and 503)."""
    body = json.dumps({"error": "sandbox injected fault", "status": status}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status in (429, 503):
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _reset_connection(send: Send) -> None:
    """Drop the TCP connection with no answer at all (an RST where the platform allows it)."""
    await _drop_connection(send, hard=True)


async def _drop_connection(send: Send, *, hard: bool) -> None:
    """Close the client's connection: ``hard`` resets it, otherwise flush what was sent and close.

    Under uvicorn ``send`` is a bound method of the request cycle, which holds the transport.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        # Not under uvicorn (e.g. an in-process test client): the closest thing is an exception.
        raise ConnectionResetError("sandbox injected connection drop")
    if hard:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    # Let the server see the lost connection, so it neither answers 500 nor logs an incomplete response.
    for _ in range(200):
        if getattr(cycle, "disconnected", True):
            break
        await asyncio.sleep(0.001)


class _TruncatingSend:
    """Wraps ``send``: buffers the response, announces its full length, sends half, then drops."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.start: Message | None = None
        self.chunks: list[bytes] = []
        self.done = False

    async def __call__(self, message: Message) -> None:
        if self.done:
            return
        if message["type"] == "http.response.start":
            self.start = message
            return
        if message["type"] != "http.response.body" or self.start is None:
            await self.send(message)
            return
        self.chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            self.done = True
            await self._send_truncated(b"".join(self.chunks), self.start)

    async def _send_truncated(self, body: bytes, start: Message) -> None:
        declared = max(len(body), 16)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(declared).encode()))
        await self.send({**start, "headers": headers})
        await self.send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        await _drop_connection(self.send, hard=False)


class _DroppingSend:
    """Wraps ``send``: the application runs to the end (its effect happens), the answer is never sent."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.dropped = False

    async def __call__(self, message: Message) -> None:
        if self.dropped:
            return
        if message["type"] == "http.response.start":
            self.dropped = True
            await _drop_connection(self.send, hard=True)
            return
        await self.send(message)


def build_control_routes(state: FaultState) -> list[BaseRoute]:
    """The ``/__sandbox__/faults`` endpoints that queue, list and clear one-shot faults."""

    async def show(request: Request) -> Response:
        return JSONResponse(state.as_json())

    async def add(request: Request) -> Response:
        try:
            rule = _rule_from_json(json.loads(await request.body() or b"null"))
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        state.rules.append(rule)
        return JSONResponse({"ok": True, **state.as_json()})

    async def clear(request: Request) -> Response:
        state.rules.clear()
        return JSONResponse({"ok": True, **state.as_json()})

    return [
        Route(f"{CONTROL_PREFIX}/faults", show, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}/faults", add, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/faults", clear, methods=["DELETE"]),
    ]


def _rule_from_json(data: object) -> OneShotRule:
    """Validate a one-shot rule request body; ``ValueError`` says which field is wrong."""
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object like {'path_prefix': '/', 'status': 503, 'count': 1}")
    prefix = data.get("path_prefix", "/")
    count = data.get("count", 1)
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise ValueError("path_prefix must be a string starting with '/'")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError("count must be an integer >= 1")
    method = data.get("method")
    if method is not None and (not isinstance(method, str) or not method.isalpha()):
        raise ValueError("method must be an HTTP method such as 'POST'")
    return OneShotRule(
        path_prefix=prefix,
        fault=_fault_from_json(data),
        remaining=count,
        method=method.upper() if method else None,
    )


def _fault_from_json(data: dict[str, Any]) -> Fault:
    if "fault" in data:
        if data["fault"] not in NAMED_KINDS:
            raise ValueError(f"fault must be one of {NAMED_KINDS}")
        return Fault(kind=data["fault"])
    status = data.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not (status == 0 or 100 <= status <= 599):
        raise ValueError("status must be 0 (connection reset) or an HTTP status 100-599")
    return Fault(kind="reset") if status == 0 else Fault(kind="status", status=status)
