"""Client-side rate limiting, shared by every hook that talks to the same connection in a process.

A quota of *L requests per window* is kept by two rules together:

* **Pacing.**  A token bucket refilled at a little under ``L`` per window (see :data:`SAFETY`), with
  bursts of up to a sixth of ``L``, gives callers send times in the order they ask: the n-th of many
  concurrent callers (a thousand triggers) waits n intervals, and none of them polls.
* **A log of actual sends.**  A burst on top of the full rate, or a caller that was late for its send
  time (a busy event loop, a token request in between) landing close behind the next one, could put
  more than ``L`` requests into one of the server's windows.  So before sending, each caller checks
  that fewer than ``L`` requests left in the last window, and otherwise waits for the oldest to age
  out: no interval of a window's length ever holds more than ``L`` requests, wherever the server's
  window begins.

The rate comes from, in order of precedence:

* the connection extra ``rate_limit_per_minute`` — the user's quota (a contract above the default,
  or a share of a quota other systems use too).  The server may only lower it;
* the server's ``X-RateLimit-Limit`` header, when it sends one;
* the hook's documented default.

``X-RateLimit-Remaining: 0`` means the server's window is spent (other clients share the quota): the
next request waits until the window *can* have reset rather than one interval, which would only earn
a 429.  The window began no later than the first answer that showed it (the answer whose remaining
count went *up*: a reset happened since the previous one), so it has reset one window after that
answer arrived.

Every time here is in units of :data:`WINDOW` (a minute): "per minute" means "per window", so tests
and benchmarks that scale the vendor's quota window down in time scale the limiter with it.

Headers are server-controlled, so they are bounded: a declared limit below :data:`MIN_PER_MINUTE`
(or not a finite number) is ignored with a warning, so one request interval is at most a
:data:`WINDOW` and the safety margin, and a "window spent" block ends at most one window ahead.  Waits longer than that
come only from queueing behind this process's own concurrent requests of the connection.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Mapping

#: a declared ``X-RateLimit-Limit`` below this (requests per minute) is implausible and ignored
MIN_PER_MINUTE = 1.0
#: the quota window vendors count requests in, in seconds; also the longest wait the limiter asks for
WINDOW = 60.0
#: the limiter's pace is this much slower than the quota, and its log's window half as much longer
#: than the server's: requests reach a server a little unevenly (network and server queueing), and
#: steady pacing then never waits on the log
SAFETY = 0.02

_registry: dict[str, RateLimiter] = {}
_registry_lock = threading.Lock()
log = logging.getLogger(__name__)


class RateLimiter:
    """A paced token bucket plus a log of actual sends (see the module docstring).

    :meth:`reserve` and :meth:`admit` never sleep; they return how long the caller must wait.

    :param per_minute: the starting rate (the hook's default).
    :param user_limit: the user's ``rate_limit_per_minute``; the server's headers may lower the
        rate below it, never raise it above.
    """

    def __init__(self, per_minute: float, *, user_limit: float | None = None) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.user_limit = user_limit
        # the user's quota replaces the documented default, in either direction
        self.per_minute = float(user_limit if user_limit else per_minute)
        self._tokens = self.capacity
        self._updated = time.monotonic()
        self._sent: deque[float] = deque(maxlen=self._per_window())
        self._blocked_until = 0.0
        #: the server's remaining count in its last answer, and when its current window was first seen
        self._last_remaining: float | None = None
        self._window_seen = 0.0
        self._lock = threading.Lock()
        self._warned = False
        #: seconds of waiting this limiter has asked for (all users in the process)
        self.waited_seconds = 0.0

    @property
    def capacity(self) -> float:
        """The burst: a sixth of the quota (at least one request)."""
        return max(1.0, self.per_minute / 6)

    def _per_window(self) -> int:
        return max(1, math.floor(self.per_minute))

    @property
    def _rate(self) -> float:
        return self.per_minute / (WINDOW * (1 + SAFETY))

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now

    def reserve(self) -> float:
        """Take one token; return the seconds to sleep before sending (0 when a token was free)."""
        with self._lock:
            now = time.monotonic()
            self._refill(now)
            self._tokens -= 1.0
            # callers queue honestly: the n-th reservation beyond the bucket waits n intervals.  What
            # the server controls is bounded apart: the rate (>= MIN_PER_MINUTE, so one interval is
            # at most a window) and the blocked-until time (at most a window ahead)
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self._rate
            wait = max(wait, self._blocked_until - now)
            self.waited_seconds += wait
            return wait

    def admit(self) -> float:
        """Just before sending: the seconds to wait so that fewer than the quota's requests left in
        the window before the send (0 almost always); the send is logged at that time."""
        with self._lock:
            now = time.monotonic()
            sent = self._sent
            at = now
            if len(sent) == sent.maxlen:
                at = max(now, sent[0] + WINDOW * (1 + SAFETY / 2))
            sent.append(at)
            self.waited_seconds += at - now
            return at - now

    def observe(self, headers: Mapping[str, str]) -> None:
        """Adjust to the server's view of the quota (``X-RateLimit-Limit`` / ``-Remaining``)."""
        limit = _header_number(headers, "x-ratelimit-limit")
        remaining = _header_number(headers, "x-ratelimit-remaining")
        if limit is None and remaining is None:
            return
        if limit is not None and limit < MIN_PER_MINUTE:
            if not self._warned:
                self._warned = True
                log.warning(
                    "ignoring implausible X-RateLimit-Limit %g (below %g per minute)", limit, MIN_PER_MINUTE
                )
            limit = None
        with self._lock:
            if limit:
                rate = min(limit, self.user_limit) if self.user_limit else limit
                if rate != self.per_minute:
                    self.per_minute = rate
                    self._sent = deque(self._sent, maxlen=self._per_window())
            if remaining is None or remaining < 0:
                return
            now = time.monotonic()
            if self._last_remaining is None or remaining > self._last_remaining:
                self._window_seen = now  # a (new) server window: it began before this answer arrived
            self._last_remaining = remaining
            self._refill(now)
            self._tokens = min(self._tokens, remaining)
            if remaining < 1:
                # the window is spent: it has reset one window after we first saw it
                self._blocked_until = max(self._blocked_until, min(self._window_seen + WINDOW, now + WINDOW))


def _header_number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:  # plain mappings are case-sensitive; httpx.Headers is not
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def limiter_for(key: str, per_minute: float, *, user_limit: float | None = None) -> RateLimiter:
    """The process-wide limiter for ``key`` (connection and endpoint), created on first use.

    A changed ``user_limit`` (the connection was edited) replaces the limiter.
    """
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None or limiter.user_limit != user_limit:
            limiter = _registry[key] = RateLimiter(per_minute, user_limit=user_limit)
        return limiter
