"""A rotating access/refresh pair shared by every process of a deployment without locking anyone out.

Some vendors (Tele2's PBX API) issue a pair: the access token authenticates requests, the refresh
token buys the next pair, and each refresh **kills the previous pair at once**.  Every worker and
the triggerer use the same connection, so the newest pair must live in a shared
:class:`~airflow_provider_telephony.core.tokens.TokenStore`, and concurrent refreshes must not lock
anyone out.  The rules, per process:

* The pair in memory is used until it is rejected or about to expire (the JWT ``exp`` when the
  token decodes; otherwise ``lifetime`` after it was saved).  The store is read only then — not on
  every request.
* Before refreshing, read the store: another process may already have rotated.  Then refresh with
  the newest refresh token known and save the new pair at once.
* A refused refresh usually means a lost race: another process used the same refresh token a moment
  earlier and is about to save its pair.  Re-read the store over about 30 seconds (longer than a
  winner's bounded save); the winner's pair appears and is used.  A store that cannot be read is a
  transient :class:`TokenStoreError`, never a dead pair.  If none does, the connection's own pair gets one try (a
  server that forgot the stored chain); refused too, the pair is dead (unused for too long, or
  regenerated in the vendor's UI) and the vendor's ``dead`` message says how to recover.
* Within a process one caller refreshes at a time (others wait with ``Sleep`` steps, so triggers
  on one event loop keep running); store reads and writes are ``Call`` steps (a worker thread in a
  trigger).

A new pair can only be obtained with the refresh token of the newest pair, so saves follow the
order pairs were issued; a retried save first re-reads the store and never writes over a pair that
descends from its own.  A pair whose save failed stays the one this process uses, and its save is
retried every few seconds and when the hook closes.  A token obtained seconds ago and rejected is
not rotated again if the server never accepted it (after a moment's wait for another process's
pair): the token is not the problem.  One that was accepted and is then rejected just expired.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from airflow_provider_telephony.core.errors import AuthenticationError, TelephonyError
from airflow_provider_telephony.core.flow import Call, Flow, Sleep
from airflow_provider_telephony.core.tokens import TokenPair, TokenStore, origin_of, register_pair

log = logging.getLogger(__name__)

#: pauses between re-reads of the store after a refused refresh (about 30 s in all: longer than a
#: winner's bounded save through the Task SDK, so a lost race is never taken for a dead pair)
REREAD_DELAYS = (0.1, 0.2, 0.4, 0.8, 1.5, 3.0, 5.0, 8.0, 12.0)
#: a token this process obtained less than this many seconds ago, that the server rejects before
#: ever accepting it: the problem is not the token (a permission, say), so it is not rotated again
FRESH_SECONDS = 5.0
#: re-reads of the store when such a token is rejected (another process may be saving its pair)
FRESH_REREADS = (0.05, 0.2, 0.5, 1.0)
#: while a new pair is unsaved, how often an access tries to save it again
RESAVE_SECONDS = 5.0
#: how often a caller waiting for this process's refresh in flight looks again
POLL_SECONDS = 0.02
#: longest wait for another caller's refresh before refreshing oneself
WAIT_LIMIT = 30.0
#: a JWT time above this (the year 5138 in seconds) is read as milliseconds
MILLISECONDS = 1e11
#: attempts to save a new pair before giving up (the pair then lives in this process only)
SAVE_ATTEMPTS = 3


class DeadPairError(AuthenticationError):
    """The stored refresh token was refused and no newer pair appeared: a person must issue a new one."""

    def __init__(self, message: str) -> None:
        super().__init__(message, refreshable=False, status_code=403)


class TokenStoreError(TelephonyError):
    """The token store could not be read while the pair needed renewing: transient, retried (a
    store outage must never be taken for a dead pair, whose fix would kill the live chain)."""

    retryable = True


def jwt_expiry(token: str) -> tuple[float, float | None] | None:
    """``(exp, iat)`` of a JWT's payload as epoch seconds, or ``None`` when it does not decode.

    The signature is not checked: the server does that; the client only plans when to refresh.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        exp = float(payload["exp"])
        iat = payload.get("iat")
        issued = float(iat) if isinstance(iat, int | float) else None
        if exp > MILLISECONDS:  # a server that counts in milliseconds
            exp, issued = exp / 1000, (issued / 1000 if issued and issued > MILLISECONDS else issued)
        return exp, issued
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


@dataclass
class _Shared:
    """What one process knows about one pair, shared by every hook and trigger in it."""

    pair: TokenPair | None = None
    #: the pair in memory is newer than the store's (its save failed): it wins, and is saved again
    unsaved: bool = False
    last_save_try: float = 0.0
    #: monotonic time this process obtained ``pair`` by a refresh (0: read, not obtained)
    obtained_at: float = 0.0
    #: whether the server has accepted the current access token at least once
    accepted: bool = False
    #: the caller holding the refresh turn (``None``: nobody)
    refreshing: object | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_shared: dict[str, _Shared] = {}
_registry_lock = threading.Lock()


def _state(key: str) -> _Shared:
    with _registry_lock:
        return _shared.setdefault(key, _Shared())


def forget_pairs() -> None:
    """Forget every pair held in memory (tests; a new process starts empty anyway)."""
    with _registry_lock:
        _shared.clear()


class RotatingPair:
    """One connection's rotating pair: hand out a valid access token, rotate it when needed.

    :param store: where the newest pair lives for every process.
    :param key: the pair's name in the store (e.g. a Variable name per connection).
    :param initial_refresh: the refresh token the connection holds (the first pair).
    :param initial_access: the access token the connection holds, if any (else the first use refreshes).
    :param refresh: a flow sending the vendor's refresh request with a refresh token and returning
        ``(access, refresh)``; it raises :class:`AuthenticationError` when the token is refused.
    :param dead: the message of :class:`DeadPairError` (how to issue and paste a new pair).
    :param lifetime: seconds an access token lives when it is not a JWT that says so itself.
    """

    def __init__(
        self,
        *,
        store: TokenStore,
        key: str,
        initial_refresh: str,
        initial_access: str | None,
        refresh: Callable[[str], Flow[tuple[str, str]]],
        dead: str,
        lifetime: float,
    ) -> None:
        self.store = store
        self.key = key
        self.origin = origin_of(initial_refresh)
        self.initial = TokenPair(access=initial_access or "", refresh=initial_refresh, origin=self.origin)
        register_pair(self.initial)
        self._refresh = refresh
        self.dead = dead
        self.lifetime = lifetime
        self.state = _state(f"{key}:{self.origin}")

    # --- planning -----------------------------------------------------------------------------
    def expiring(self, pair: TokenPair, now: float | None = None) -> bool:
        """Whether the pair's access token is missing or expires within its safety margin."""
        if not pair.access:
            return True
        now = time.time() if now is None else now
        claims = jwt_expiry(pair.access)
        if claims is not None:
            exp, iat = claims
            life = exp - iat if iat is not None and exp > iat else self.lifetime
        elif pair.saved_at:
            exp, life = pair.saved_at + self.lifetime, self.lifetime
        else:
            return False  # the connection's first pair, issued at an unknown time: the server decides
        return exp - now <= min(60.0, life * 0.1)

    def _usable(self, rejected: str | None) -> str | None:
        pair = self.state.pair
        if pair is None or pair.access == rejected or self.expiring(pair):
            return None
        return pair.access

    def _adopt(self, pair: TokenPair) -> str:
        """Use ``pair`` from now on in this process (only the caller holding the refresh turn calls it)."""
        register_pair(pair)
        with self.state.lock:
            self.state.pair = pair
        return pair.access

    def _load(self) -> Flow[TokenPair | None]:
        """The stored pair of this chain (``None``: none, or another chain's); a failed read raises
        :class:`TokenStoreError`."""
        try:
            stored: TokenPair | None = yield Call(lambda: self.store.load(self.key), "token store read")
        except Exception as exc:
            raise TokenStoreError(
                f"reading the token pair from {self.store.describe(self.key)} failed: {exc}"
            ) from exc
        if stored is None or stored.origin != self.origin:
            return None
        return stored

    def _save(self, pair: TokenPair, replaces: str | None) -> Flow[None]:
        """Save ``pair`` (obtained with the refresh token ``replaces``), never over a newer one.

        Before each retry the store is read: a write that failed on our side may have landed, and
        another process may already have rotated from it — then its pair is newer and is adopted.
        """
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            if attempt > 1:
                yield Sleep(0.2 * attempt)
                try:
                    stored = yield from self._load()
                except TokenStoreError:
                    stored = None
                if stored is not None and stored.refresh not in (pair.refresh, replaces):
                    self._adopt(stored)  # someone rotated from our pair: theirs is the newest
                    self.state.unsaved = False
                    return
                if stored is not None and stored.refresh == pair.refresh:
                    self.state.unsaved = False
                    return
            try:
                yield Call(lambda: self.store.save(self.key, pair), "token store write")
            except Exception as exc:
                log.warning(
                    "saving the new token pair to %s failed (%s, attempt %d of %d)",
                    self.store.describe(self.key),
                    exc,
                    attempt,
                    SAVE_ATTEMPTS,
                )
                continue
            self.state.unsaved = False
            return
        # the pair works here; other processes will lose the race and find nothing newer: say so loudly
        self.state.unsaved = True
        self.state.last_save_try = time.monotonic()
        log.error(
            "the new token pair could not be saved to %s; other processes of this deployment cannot use "
            "it until it is (this process tries again every %.0f s and when its hook closes)",
            self.store.describe(self.key),
            RESAVE_SECONDS,
        )

    def flush(self) -> None:
        """Save an unsaved pair now (blocking; hooks call it when they close), best effort."""
        pair = self.state.pair
        if not self.state.unsaved or pair is None:
            return
        try:
            self.store.save(self.key, pair)
        except Exception as exc:
            log.error("the token pair is still unsaved at close (%s): other processes cannot use it", exc)
            return
        self.state.unsaved = False

    # --- the flow -----------------------------------------------------------------------------
    def access(self, rejected: str | None = None) -> Flow[str]:
        """A usable access token; ``rejected`` is one the server just refused (never handed out again)."""
        token = self._usable(rejected)
        if token is not None and not self._resave_due():
            return token
        turn = object()
        waited = 0.0
        while True:
            with self.state.lock:
                token = self._usable(rejected)
                if token is not None and not self._resave_due():
                    return token
                if self.state.refreshing is None or waited >= WAIT_LIMIT:
                    self.state.refreshing = turn
                    break
            yield Sleep(POLL_SECONDS)
            waited += POLL_SECONDS
        try:
            if token is not None:  # only the unsaved pair's save is due
                yield from self._save_unsaved()
                return token
            return (yield from self._renew(rejected))
        finally:
            with self.state.lock:
                if self.state.refreshing is turn:
                    self.state.refreshing = None

    def _resave_due(self) -> bool:
        return self.state.unsaved and time.monotonic() - self.state.last_save_try >= RESAVE_SECONDS

    def _save_unsaved(self) -> Flow[None]:
        pair = self.state.pair
        if self.state.unsaved and pair is not None:
            self.state.last_save_try = time.monotonic()
            yield from self._save(pair, None)

    def _renew(self, rejected: str | None) -> Flow[str]:
        known = self.state.pair
        if self.state.unsaved and known is not None:
            # this process holds the newest pair (its save failed): it wins over the store's
            yield from self._save_unsaved()
        else:
            stored = yield from self._load()
            known = stored or known or self.initial
            if rejected is not None and known.access == rejected and self._fresh(rejected):
                known = yield from self._newer_than(rejected)
        if known.access and known.access != rejected and not self.expiring(known):
            return self._adopt(known)
        return (yield from self._rotate(known))

    def _newer_than(self, rejected: str) -> Flow[TokenPair]:
        """A token this process obtained seconds ago was rejected: either another process rotated
        since (its pair appears in the store within a moment) or the token is not the problem."""
        for delay in FRESH_REREADS:
            yield Sleep(delay)
            stored = yield from self._load()
            if stored is not None and stored.access != rejected:
                return stored
        raise AuthenticationError(
            "the server rejected an access token obtained seconds ago and no newer pair appeared: not an "
            "expired token (a missing permission, or a wrong API base URL?); not rotating again",
            refreshable=False,
            status_code=403,
        )

    def _fresh(self, token: str) -> bool:
        """Whether ``token`` is one this process obtained moments ago and the server never accepted
        (an accepted one that is now rejected simply expired, however short its life)."""
        pair = self.state.pair
        return (
            pair is not None
            and pair.access == token
            and not self.state.accepted
            and self.state.obtained_at > 0
            and time.monotonic() - self.state.obtained_at < FRESH_SECONDS
        )

    def accepted(self, token: str) -> None:
        """The server accepted ``token`` (the vendor calls this on a successful answer)."""
        state = self.state
        if not state.accepted and state.pair is not None and state.pair.access == token:
            state.accepted = True

    def _rotate(self, known: TokenPair) -> Flow[str]:
        try:
            access, refresh = yield from self._refresh(known.refresh)
        except AuthenticationError as exc:
            return (yield from self._after_refused(known, exc))
        return (yield from self._keep(access, refresh, replaces=known.refresh))

    def _keep(self, access: str, refresh: str, *, replaces: str) -> Flow[str]:
        """Use a pair the server just issued, and save it for every other process."""
        pair = TokenPair(access=access, refresh=refresh, origin=self.origin, saved_at=time.time())
        token = self._adopt(pair)
        self.state.obtained_at = time.monotonic()
        self.state.accepted = False
        log.info("token pair rotated; saving it to %s", self.store.describe(self.key))
        yield from self._save(pair, replaces)
        return token

    def _after_refused(self, used: TokenPair, refused: AuthenticationError) -> Flow[str]:
        """A refused refresh: wait for the pair the winner of a race saves, else the pair is dead.

        A store that cannot be read meanwhile makes it a :class:`TokenStoreError` (retried), never
        a dead pair.
        """
        log.info("refresh refused (%s); looking for a pair another process saved", refused)
        unreadable: TokenStoreError | None = None
        for delay in REREAD_DELAYS:
            yield Sleep(delay)
            try:
                stored = yield from self._load()
            except TokenStoreError as exc:
                unreadable = exc
                continue
            if stored is not None and stored.refresh != used.refresh:
                log.info("another process rotated the pair; using the one it saved")
                return self._adopt(stored)
        if unreadable is not None:
            raise unreadable
        if used.refresh != self.initial.refresh:
            # the stored chain is dead; the connection's own pair is worth one try (a server that
            # forgot the chain, e.g. a sandbox restarted) — refused too, it is dead as well
            try:
                access, refresh = yield from self._refresh(self.initial.refresh)
            except AuthenticationError:
                pass
            else:
                log.warning("the stored token pair was dead; started again from the connection's pair")
                return (yield from self._keep(access, refresh, replaces=self.initial.refresh))
        raise DeadPairError(f"{self.dead} (the refresh was refused: {refused})") from refused
