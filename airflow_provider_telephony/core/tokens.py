"""Short-lived credentials shared by every hook of a process, fetched by one caller at a time.

A vendor whose requests need a token (Avito's OAuth2 client_credentials) keeps it in a
:class:`TokenCache`.  When N tasks' threads or N triggers on one event loop find no valid token at
the same moment, exactly one of them fetches it ("single flight"); the others wait for that fetch
(``Sleep`` steps of the exchange flow: ``time.sleep`` in a task, ``asyncio.sleep`` in a trigger, so
the event loop keeps running) and then use its result.  If the fetch fails, the next waiter tries
itself.  A token rejected by the server is passed back as ``rejected``: a cached token equal to it is
not handed out again, but one another caller obtained meanwhile is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from airflow_provider_telephony.core.flow import Flow, Sleep

#: how often a waiting caller looks whether the fetch in flight has finished
POLL_SECONDS = 0.02


@dataclass(frozen=True)
class CachedToken:
    """A token and the monotonic time after which it must not be used."""

    value: str
    usable_until: float


class TokenCache:
    """Tokens by key (e.g. base URL, client id, secret digest), with single-flight fetching."""

    def __init__(self) -> None:
        self._tokens: dict[Hashable, CachedToken] = {}
        self._in_flight: set[Hashable] = set()
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every token (tests; a rotated secret does not need it: it is part of the key)."""
        with self._lock:
            self._tokens.clear()

    def _usable(self, key: Hashable, rejected: str | None) -> str | None:
        cached = self._tokens.get(key)
        if cached is None or cached.usable_until <= time.monotonic() or cached.value == rejected:
            return None
        return cached.value

    def obtain(
        self,
        key: Hashable,
        fetch: Callable[[], Flow[tuple[str, float]]],
        *,
        rejected: str | None = None,
        wait_limit: float = 60.0,
    ) -> Flow[str]:
        """A usable token for ``key``: the cached one, the one another caller is fetching, or a new one.

        ``fetch`` is a flow returning ``(token, seconds it is valid)``; a token is used until shortly
        before it expires (10 % of its life, at most 60 s, earlier).  A caller waits at most
        ``wait_limit`` seconds for someone else's fetch before fetching itself.
        """
        waited = 0.0
        while True:
            with self._lock:
                token = self._usable(key, rejected)
                if token is not None:
                    return token
                if key not in self._in_flight or waited >= wait_limit:
                    self._in_flight.add(key)
                    break
            yield Sleep(POLL_SECONDS)
            waited += POLL_SECONDS
        try:
            value, ttl = yield from fetch()
            ttl = max(float(ttl), 0.0)
            usable_until = time.monotonic() + ttl - min(60.0, ttl * 0.1)
            with self._lock:
                self._tokens[key] = CachedToken(value, usable_until)
            return value
        finally:
            with self._lock:
                self._in_flight.discard(key)
