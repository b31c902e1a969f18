"""The sandbox in its own process and on its own core, with server-side counters for the benchmark.

``python -m bench.server --config '<SandboxConfig fields as JSON>' [--cpu 0] [--cache-callkeeper]
[--record-times]`` prints ``bench-sandbox listening on http://127.0.0.1:PORT`` once it serves.

It runs the product's sandbox application (``airflow_provider_telephony.sandbox.app.create_app``)
unchanged, under uvicorn as ``telephony-sandbox serve`` does, wrapped in :class:`Counters`:

* every request is counted by endpoint and HTTP status (``/__bench__/*`` itself is not counted);
* every accepted TCP connection is counted (a subclass of uvicorn's HTTP protocol);
* the arrival time of every ``getRecordByCallId`` request is kept with ``--record-times``, to see
  the request rate the server saw;
* with ``--cache-callkeeper`` every CallKeeper answer is kept by its query string and replayed: the
  Avito sandbox serves pre-serialised pages, the CallKeeper one builds each page per request (a few
  ms of server CPU for 500 wide rows); the cache makes both "a fast server", so the benchmark
  measures the client.  The sandbox's data is seeded and the windows are explicit, so a replayed
  answer is byte-identical to a fresh one;
* with ``--callkeeper-rate-headers`` CallKeeper answers carry ``X-RateLimit-Limit: 10**9`` (as the
  Avito sandbox does with ``avito_rate_limit=10**9``): the documents state no CallKeeper quota and
  the sandbox sends no such header, so without it the client's limiter would stay at its default.

``GET /__bench__/stats`` returns the counters (and the server's CPU seconds so far);
``POST /__bench__/gc-freeze`` moves everything the server holds (the seeded world, pre-serialised
pages) out of the garbage collector's sight, so that a full collection of a million-call heap does
not land in the middle of one contender's run; ``POST /__bench__/callkeeper-rate-headers?on=0|1``
switches the header above.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import sys
import time
from datetime import date
from typing import Any

LISTENING_PREFIX = "bench-sandbox listening on "

Scope = dict[str, Any]
Message = dict[str, Any]


def endpoint_name(path: str) -> str:
    """Short name of a sandbox endpoint for the counters."""
    if path.startswith("/calltracking/v1/"):
        return path.strip("/").rsplit("/", 1)[-1]
    if path in ("/api/", "/api", "/api/index.php"):
        return "callkeeper"
    if path == "/token":
        return "token"
    if path.startswith("/__sandbox__/"):
        return "sandbox-control"
    return path


class Counters:
    """ASGI middleware: counts requests, statuses and clients; optionally caches CallKeeper answers."""

    def __init__(
        self, app: Any, *, cache_callkeeper: bool, record_times: bool, callkeeper_rate_headers: bool
    ) -> None:
        self.app = app
        self.cache_callkeeper = cache_callkeeper
        self.callkeeper_rate_headers = callkeeper_rate_headers
        self.record_times = record_times
        self.requests: dict[str, int] = {}
        self.statuses: dict[str, dict[str, int]] = {}
        self.record_arrivals: list[float] = []
        self.connections = 0
        self.cache: dict[bytes, tuple[int, list[tuple[bytes, bytes]], bytes]] = {}
        self.cache_hits = 0
        self.cache_misses = 0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/__bench__/"):
            await self._control(path, scope.get("query_string", b""), send)
            return
        name = endpoint_name(path)
        self.requests[name] = self.requests.get(name, 0) + 1
        if self.record_times and name == "getRecordByCallId":
            self.record_arrivals.append(time.monotonic())
        statuses = self.statuses.setdefault(name, {})

        if name == "callkeeper" and self.callkeeper_rate_headers:
            send = _with_headers(send, RATE_HEADERS)
        if self.cache_callkeeper and name == "callkeeper":
            key = scope.get("query_string", b"")
            hit = self.cache.get(key)
            if hit is not None:
                self.cache_hits += 1
                status, headers, body = hit
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                await send({"type": "http.response.start", "status": status, "headers": list(headers)})
                await send({"type": "http.response.body", "body": body})
                return
            self.cache_misses += 1
            parts: list[bytes] = []
            start: dict[str, Any] = {}

            async def capture(message: Message) -> None:
                if message["type"] == "http.response.start":
                    start.update(message)
                    code = str(message["status"])
                    statuses[code] = statuses.get(code, 0) + 1
                elif message["type"] == "http.response.body":
                    parts.append(message.get("body", b""))
                    if not message.get("more_body", False) and start.get("status") == 200:
                        self.cache[key] = (200, list(start.get("headers", [])), b"".join(parts))
                await send(message)

            await self.app(scope, receive, capture)
            return

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                code = str(message["status"])
                statuses[code] = statuses.get(code, 0) + 1
            await send(message)

        await self.app(scope, receive, counted)

    def snapshot(self) -> dict[str, Any]:
        usage = os.times()
        return {
            "requests": dict(self.requests),
            "statuses": {name: dict(codes) for name, codes in self.statuses.items()},
            "connections": self.connections,
            "cache": {"entries": len(self.cache), "hits": self.cache_hits, "misses": self.cache_misses},
            "record_arrivals": list(self.record_arrivals),
            "cpu_s": usage.user + usage.system,
            "monotonic": time.monotonic(),
        }

    async def _control(self, path: str, query: bytes, send: Any) -> None:
        if path == "/__bench__/stats":
            status, body = 200, json.dumps(self.snapshot()).encode()
        elif path == "/__bench__/gc-freeze":
            gc.collect()
            gc.freeze()
            status, body = 200, json.dumps({"frozen": gc.get_freeze_count()}).encode()
        elif path == "/__bench__/callkeeper-rate-headers":
            self.callkeeper_rate_headers = query.endswith(b"=1")
            status, body = 200, json.dumps({"on": self.callkeeper_rate_headers}).encode()
        else:
            status, body = 404, b'{"error": "unknown bench control path"}'
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


RATE_HEADERS = [(b"x-ratelimit-limit", b"1000000000"), (b"x-ratelimit-remaining", b"999999999")]


def _with_headers(send: Any, extra: list[tuple[bytes, bytes]]) -> Any:
    """``send`` that adds ``extra`` headers to the response start."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped


def sandbox_config(fields: dict[str, Any]) -> Any:
    """A ``SandboxConfig`` from JSON-friendly fields (dates as ``YYYY-MM-DD``)."""
    from airflow_provider_telephony.sandbox import SandboxConfig

    known = {f.name: f for f in dataclasses.fields(SandboxConfig)}
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in known:
            raise SystemExit(f"bench.server: unknown SandboxConfig field {name!r}")
        if name in ("data_start", "callkeeper_today") and isinstance(value, str):
            value = date.fromisoformat(value)
        values[name] = value
    return SandboxConfig(**values)


def serve(config: Any, counters_options: dict[str, bool]) -> None:
    """Run the wrapped sandbox until SIGTERM/SIGINT; announce the URL on stdout once it serves."""
    import uvicorn
    from uvicorn.config import HTTP_PROTOCOLS
    from uvicorn.importer import import_from_string

    from airflow_provider_telephony.sandbox.app import create_app
    from airflow_provider_telephony.sandbox.server import base_url, bind_socket

    counters = Counters(create_app(config), **counters_options)
    base_protocol = import_from_string(HTTP_PROTOCOLS["auto"])

    class CountingProtocol(base_protocol):  # type: ignore[misc,valid-type]
        def connection_made(self, transport: Any) -> None:
            counters.connections += 1
            super().connection_made(transport)

    sock = bind_socket("127.0.0.1", 0)
    url = base_url(sock)

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                print(f"{LISTENING_PREFIX}{url}", flush=True)

    uv_config = uvicorn.Config(
        counters,
        http=CountingProtocol,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    try:
        Server(uv_config).run(sockets=[sock])
    finally:
        sock.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--config", default="{}", help="SandboxConfig fields as JSON")
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    parser.add_argument("--cache-callkeeper", action="store_true")
    parser.add_argument("--record-times", action="store_true")
    parser.add_argument("--callkeeper-rate-headers", action="store_true")
    args = parser.parse_args(argv)
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    config = sandbox_config(json.loads(args.config))
    serve(
        config,
        {
            "cache_callkeeper": args.cache_callkeeper,
            "record_times": args.record_times,
            "callkeeper_rate_headers": args.callkeeper_rate_headers,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
