"""Short-lived credentials: fetched by one caller at a time, or rotated pairs kept in a shared store.

A vendor whose requests need a token (Avito's OAuth2 client_credentials) keeps it in a
:class:`TokenCache`.  When N tasks' threads or N triggers on one event loop find no valid token at
the same moment, exactly one of them fetches it ("single flight"); the others wait for that fetch
(``Sleep`` steps of the exchange flow: ``time.sleep`` in a task, ``asyncio.sleep`` in a trigger, so
the event loop keeps running) and then use its result.  If the fetch fails, the next waiter tries
itself.  A token rejected by the server is passed back as ``rejected``: a cached token equal to it is
not handed out again, but one another caller obtained meanwhile is.

A vendor whose credential *rotates* (Tele2: every refresh returns a new access/refresh pair and
kills the old one at once) must keep the newest pair where every process can read it: a
:class:`TokenStore`.  :class:`VariableTokenStore` (an Airflow Variable per connection) is the
default and works from workers of any executor and from the triggerer; :class:`FileTokenStore`
serves one host.  How processes share a pair without locking each other out is
:mod:`airflow_provider_telephony.core.rotation`.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from airflow_provider_telephony.core.flow import Flow, Sleep
from airflow_provider_telephony.core.redact import register_secret

#: how often a waiting caller looks whether the fetch in flight has finished
POLL_SECONDS = 0.02
#: longest wait for a token file's lock
LOCK_WAIT = 10.0


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


# --- rotating pairs: where the newest pair lives ------------------------------------------------


@dataclass(frozen=True)
class TokenPair:
    """An access token and the refresh token that replaces it, as one rotation step issued them.

    ``origin`` fingerprints the refresh token of the connection the chain started from: when a user
    pastes a new pair into the connection (after generating one in the vendor's UI), pairs stored
    for the old chain are ignored instead of overriding it.  ``saved_at`` is epoch seconds.
    """

    access: str = field(repr=False)
    refresh: str = field(repr=False)
    origin: str
    saved_at: float = 0.0

    def to_json(self) -> str:
        return json.dumps(
            {
                "access_token": self.access,
                "refresh_token": self.refresh,
                "origin": self.origin,
                "saved_at": self.saved_at,
            }
        )

    @classmethod
    def from_json(cls, text: Any) -> TokenPair | None:
        """The pair a store holds, or ``None`` for anything else (empty, foreign, damaged)."""
        try:
            data = json.loads(text) if isinstance(text, str | bytes) else text
            pair = cls(
                access=data["access_token"],
                refresh=data["refresh_token"],
                origin=data["origin"],
                saved_at=float(data.get("saved_at") or 0.0),
            )
        except (TypeError, ValueError, KeyError, AttributeError):
            return None
        if not all(isinstance(v, str) and v for v in (pair.access, pair.refresh, pair.origin)):
            return None
        return pair


def origin_of(refresh_token: str) -> str:
    """A short fingerprint of a refresh token (never the token itself)."""
    return hashlib.sha256(refresh_token.encode()).hexdigest()[:16]


class TokenStore(Protocol):
    """Where the newest pair of a rotating credential lives, shared by every process that uses it."""

    def load(self, key: str) -> TokenPair | None:
        """The stored pair, or ``None`` when there is none (or it is unreadable)."""
        ...

    def save(self, key: str, pair: TokenPair) -> None:
        """Replace the stored pair."""
        ...

    def describe(self, key: str) -> str:
        """Where the pair lives, for messages (``Airflow Variable 'x'``)."""
        ...


def _in_airflow_runtime() -> bool:
    """Whether this process talks to Airflow through a supervisor (a task, or the triggerer)."""
    try:
        from airflow.sdk.execution_time import task_runner
    except ImportError:  # pragma: no cover - the task SDK is part of every supported Airflow
        return False
    return getattr(task_runner, "SUPERVISOR_COMMS", None) is not None


class VariableTokenStore:
    """One Airflow Variable per connection, holding the pair as JSON (the default store).

    In a task or a trigger it goes through the Task SDK (the API server stores it), so workers of
    any executor and the triggerer share it; elsewhere (a script, a test, the scheduler side) it
    uses Airflow's metadata database directly.  Variables have no compare-and-set: concurrent
    refreshes are reconciled by the reader (:mod:`core.rotation`), not here.  Every value read is
    registered with the secrets masker.
    """

    def load(self, key: str) -> TokenPair | None:
        _forget_cached_variable(key)
        if _in_airflow_runtime():
            from airflow.sdk import Variable

            text = Variable.get(key, default=None)
        else:
            from airflow.models import Variable as StoredVariable

            text = StoredVariable.get(key, default_var=None)
        pair = TokenPair.from_json(text) if text else None
        if pair is not None:
            register_pair(pair)
        return pair

    def save(self, key: str, pair: TokenPair) -> None:
        description = "rotating token pair (written by airflow-provider-telephony; do not edit)"
        if _in_airflow_runtime():
            from airflow.sdk import Variable

            Variable.set(key, pair.to_json(), description=description)
        else:
            from airflow.models import Variable as StoredVariable

            StoredVariable.set(key, pair.to_json(), description=description)
        _forget_cached_variable(key)

    def describe(self, key: str) -> str:
        return f"Airflow Variable {key!r}"


def _forget_cached_variable(key: str) -> None:
    """Drop the Task SDK's cached value (``[secrets] use_cache``): a rotated pair must be read fresh."""
    try:
        from airflow.sdk.execution_time.cache import SecretCache

        SecretCache.invalidate_variable(key)
    except Exception:  # no cache in this Airflow, or not initialised: nothing to drop
        return


class FileTokenStore:
    """A JSON file per key in a folder, for one host (several processes, no metadata database).

    Readers and writers take an exclusive ``flock`` on a lock file beside it; a write goes to a
    temporary file that replaces the old one, so a reader never sees half a pair.  The folder is
    created with mode 0700 and files with 0600: they hold live credentials.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder).expanduser()

    def _path(self, key: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in key)
        return self.folder / f"{safe}.json"

    @contextmanager
    def _locked(self, key: str) -> Iterator[Path]:
        import fcntl

        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self._path(key)
        fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            waited = 0.0
            while True:  # bounded: a holder that hangs must not hang every user of the connection
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if waited >= LOCK_WAIT:
                        raise TimeoutError(f"{path}.lock held for over {LOCK_WAIT:.0f}s") from None
                    time.sleep(0.05)
                    waited += 0.05
            yield path
        finally:
            os.close(fd)  # closing releases the lock

    def load(self, key: str) -> TokenPair | None:
        with self._locked(key) as path:
            try:
                text = path.read_text()
            except FileNotFoundError:
                return None
        pair = TokenPair.from_json(text)
        if pair is not None:
            register_pair(pair)
        return pair

    def save(self, key: str, pair: TokenPair) -> None:
        with self._locked(key) as path:
            temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(pair.to_json())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)

    def describe(self, key: str) -> str:
        return f"file {str(self._path(key))!r}"


def register_pair(pair: TokenPair) -> None:
    """Mask both tokens of a pair in every log line from now on."""
    register_secret(pair.access, "access_token")
    register_secret(pair.refresh, "refresh_token")
