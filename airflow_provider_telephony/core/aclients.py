"""Async hygiene for triggers: one shared ``httpx.AsyncClient`` per event loop and connection, and
imports done off the loop.

The triggerer runs many triggers on one event loop.  Each building its own client would cost an SSL
context (tens of milliseconds of blocking work loading the CA bundle) and a connection pool per
trigger.  Instead, :func:`acquire` hands out one client per ``(event loop, client settings)``,
built in a worker thread so that the loop never blocks, and :func:`release` closes it when the last
user lets go.  Clients never cross event loops (an ``AsyncClient`` is bound to the loop it runs on).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from airflow_provider_telephony.core.transport import ConnectionSettings


@dataclass
class _Shared:
    client: httpx.AsyncClient
    users: int = 0


_shared: dict[tuple[asyncio.AbstractEventLoop, Hashable], _Shared] = {}
_lock = threading.Lock()


def _build(settings: ConnectionSettings) -> httpx.AsyncClient:
    """Runs in a worker thread: imports and the SSL context are blocking work."""
    import tenacity  # noqa: F401 - imported here, off the loop, before the exchange needs it

    return settings.async_client()


async def acquire(settings: ConnectionSettings) -> httpx.AsyncClient:
    """The shared client of the running loop for ``settings``; pair every call with :func:`release`."""
    loop = asyncio.get_running_loop()
    key = (loop, settings.client_key())
    with _lock:
        entry = _shared.get(key)
        if entry is not None:
            entry.users += 1
            return entry.client
    client = await asyncio.to_thread(_build, settings)
    with _lock:
        entry = _shared.get(key)
        if entry is None:
            entry = _shared[key] = _Shared(client)
            client = None  # type: ignore[assignment]
        entry.users += 1
    if client is not None:  # another task of this loop built one meanwhile: use that one
        await client.aclose()
    return entry.client


async def release(settings: ConnectionSettings, client: httpx.AsyncClient) -> None:
    """Give back a client from :func:`acquire`; the last user closes it."""
    loop = asyncio.get_running_loop()
    key = (loop, settings.client_key())
    with _lock:
        entry = _shared.get(key)
        if entry is None or entry.client is not client:
            entry = None
        else:
            entry.users -= 1
            if entry.users > 0:
                return
            del _shared[key]
    await client.aclose()


async def aimport(module: str) -> Any:
    """Import ``module`` in a worker thread: a first import on the triggerer's loop would block it."""
    import importlib
    import sys

    loaded = sys.modules.get(module)
    if loaded is not None:
        return loaded
    return await asyncio.to_thread(importlib.import_module, module)


def open_clients() -> int:
    """How many shared clients are open (all loops); tests check that every client was closed."""
    with _lock:
        return len(_shared)
