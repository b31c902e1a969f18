"""An overall deadline per request: connect, send and every read of the answer together.

httpx's timeouts bound each network operation on its own, so a server that trickles one byte a
second never trips a 30 s read timeout and can hold a request for ever.  The exchange therefore
gives every request a deadline (connection extra ``deadline``):

* **sync** (tasks): a network backend wrapped around httpcore's shrinks the timeout of each
  socket operation to what is left of the deadline of the request in progress (a context
  variable set by the exchange around the send and the reading of the body), and fails the
  operation once nothing is left;
* **async** (triggers): the send is awaited under ``asyncio.wait_for``.

Either way the failure is an httpx timeout, which the exchange reports as a retryable
:class:`~airflow_provider_telephony.core.errors.TransportError` naming the deadline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

#: text every deadline failure carries, so the exchange can tell it from an ordinary timeout
DEADLINE_EXCEEDED = "overall request deadline exceeded"

_deadline: ContextVar[float | None] = ContextVar("telephony_request_deadline", default=None)


@contextmanager
def request_deadline(seconds: float) -> Iterator[None]:
    """Every socket operation inside the block shares one deadline ``seconds`` from now."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def deadline_passed() -> bool:
    """Whether the deadline of the request in progress (if any) has passed.

    The read that crosses the deadline fails with the socket's own timeout (its timeout was the
    time left), so the exchange asks this to name the deadline in the error.
    """
    deadline = _deadline.get()
    return deadline is not None and time.monotonic() >= deadline


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` shrunk to what is left of the current deadline; raise ``expired`` when none is left."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise expired(DEADLINE_EXCEEDED)
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream:
    """A sync httpcore network stream whose reads and writes respect the request deadline."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        import httpcore

        data: bytes = self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        import httpcore

        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> Any:
        import httpcore

        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend:
    """Wraps httpcore's sync network backend so that connecting respects the deadline too."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> _DeadlineStream:
        import httpcore

        stream = self._backend.connect_tcp(
            host,
            port,
            timeout=_bounded(timeout, httpcore.ConnectTimeout),
            local_address=local_address,
            socket_options=socket_options,
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        import httpcore

        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def install_deadlines(client: httpx.Client) -> httpx.Client:
    """Put :class:`DeadlineBackend` under every transport of a sync client (proxy mounts included).

    httpx does not expose the network backend of its default transport; the connection pool keeps
    it as ``_network_backend`` (httpcore 1.x).  If that ever changes this fails loudly, at the first
    client a hook builds, instead of silently losing the deadline.
    """
    transports = [client._transport, *(t for t in client._mounts.values() if t is not None)]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if pool is None:
            continue  # a custom transport (tests' MockTransport) has no sockets to bound
        backend = getattr(pool, "_network_backend", None)
        if backend is None:  # pragma: no cover - guards an httpcore change
            raise RuntimeError("httpcore changed: cannot install the request deadline backend")
        if not isinstance(backend, DeadlineBackend):
            pool._network_backend = DeadlineBackend(backend)
    return client
