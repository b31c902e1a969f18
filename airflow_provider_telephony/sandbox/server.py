"""Running the sandbox: in a background thread for tests (:func:`run_sandbox`) or blocking (:func:`serve`).

We bind the listening socket ourselves so ``port=0`` gives a free port whose number we know before
anyone connects, and we wait for uvicorn's startup to finish before handing out the URL.
uvicorn and starlette are imported inside the functions to keep ``import ...sandbox`` cheap.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from airflow_provider_telephony.sandbox.config import SandboxConfig

if TYPE_CHECKING:
    import uvicorn

STARTUP_TIMEOUT = 15.0
SHUTDOWN_TIMEOUT = 10.0


def make_config(config: SandboxConfig | None = None, **overrides: Any) -> SandboxConfig:
    """``config`` (or the defaults) with ``overrides`` applied; unknown names raise ``TypeError``."""
    known = {f.name for f in dataclasses.fields(SandboxConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f"unknown SandboxConfig field(s): {', '.join(unknown)}")
    return dataclasses.replace(config or SandboxConfig(), **overrides)


def bind_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket (IPv6 when ``host`` contains ':'); ``port=0`` picks a free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _make_server(
    config: SandboxConfig, on_started: Callable[[], None], *, quiet_logging: bool
) -> uvicorn.Server:
    """A uvicorn server for the sandbox app that calls ``on_started`` once it accepts requests."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from airflow_provider_telephony.sandbox.app import create_app

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                on_started()

    uv_config = uvicorn.Config(
        create_app(config),
        lifespan="off",
        log_level="warning",
        access_log=False,
        # inside someone else's process (tests) leave their logging setup alone
        log_config=None if quiet_logging else LOGGING_CONFIG,
        timeout_graceful_shutdown=3,
    )
    return _Server(uv_config)


@contextmanager
def run_sandbox(
    config: SandboxConfig | None = None, *, host: str = "127.0.0.1", port: int = 0, **overrides: Any
) -> Iterator[str]:
    """Run a sandbox in a background thread; yields its base URL, e.g. ``"http://127.0.0.1:40123"``.

    ``overrides`` are :class:`SandboxConfig` fields (``run_sandbox(seed=3, avito_token_ttl=2)``).
    The server stops, and its port is released, when the ``with`` block ends.
    """
    settings = make_config(config, **overrides)
    sock = bind_socket(host, port)
    started = threading.Event()
    try:
        server = _make_server(settings, started.set, quiet_logging=True)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="telephony-sandbox", daemon=True
        )
        thread.start()
        try:
            _wait_started(started, thread)
            yield base_url(sock)
        finally:
            _stop(server, thread)
    finally:
        sock.close()


def _wait_started(started: threading.Event, thread: threading.Thread) -> None:
    """Block until the server serves; fail fast if its thread dies first."""
    waited = 0.0
    while not started.wait(0.01):
        waited += 0.01
        if not thread.is_alive() or waited > STARTUP_TIMEOUT:
            raise RuntimeError("telephony sandbox failed to start (see the log for uvicorn's error)")


def _stop(server: uvicorn.Server, thread: threading.Thread) -> None:
    """Ask uvicorn to exit gracefully; force it if connections linger."""
    server.should_exit = True
    thread.join(SHUTDOWN_TIMEOUT)
    if thread.is_alive():
        server.force_exit = True
        thread.join(SHUTDOWN_TIMEOUT)


def serve(
    config: SandboxConfig,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve in the foreground until SIGINT/SIGTERM; ``on_ready(base_url)`` runs once it accepts requests."""
    sock = bind_socket(host, port)
    url = base_url(sock)

    def announce() -> None:
        if on_ready is not None:
            on_ready(url)

    try:
        server = _make_server(config, announce, quiet_logging=False)
        server.run(sockets=[sock])
    finally:
        sock.close()
