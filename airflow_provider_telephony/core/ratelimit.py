"""Client-side rate limiting, shared by every hook that talks to the same connection in a process.

A token bucket refilled at ``per_minute / 60`` tokens a second spreads requests instead of
bursting into a vendor's per-minute quota.  The rate comes from, in order of precedence:

* the connection extra ``rate_limit_per_minute`` — the user's quota (a contract above the default,
  or a share of a quota other systems use too).  The server may only lower it;
* the server's ``X-RateLimit-Limit`` header, when it sends one;
* the hook's documented default.

``X-RateLimit-Remaining: 0`` means the server's window is spent: the next request waits until the
window *can* have reset rather than one token interval, which would only earn a 429.  The window
began no later than the first answer that showed it (the answer whose remaining count went *up*:
a reset happened since the previous one), so it has reset one window after that answer arrived.
A lower remaining count than the bucket holds is believed.

Every time here is in units of :data:`WINDOW` (a minute): "per minute" means "per window", so tests
and benchmarks that scale the vendor's quota window down in time scale the bucket with it.

Headers are server-controlled, so they are bounded: a declared limit below :data:`MIN_PER_MINUTE`
(or not a finite number) is ignored with a warning, so one request interval is at most a
:data:`WINDOW`, and a "window spent" block ends at most one window ahead.  Waits longer than that
come only from queueing behind this process's own concurrent requests of the connection.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping

#: a declared ``X-RateLimit-Limit`` below this (requests per minute) is implausible and ignored
MIN_PER_MINUTE = 1.0
#: the quota window vendors count requests in, in seconds; also the longest wait the bucket asks for
WINDOW = 60.0

_registry: dict[str, RateLimiter] = {}
_registry_lock = threading.Lock()
log = logging.getLogger(__name__)


class RateLimiter:
    """Token bucket. :meth:`reserve` never sleeps; it returns how long the caller must wait.

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
        self.capacity = max(1.0, self.per_minute / 6)
        self._tokens = self.capacity
        self._updated = time.monotonic()
        self._blocked_until = 0.0
        #: the server's remaining count in its last answer, and when its current window was first seen
        self._last_remaining: float | None = None
        self._window_seen = 0.0
        self._lock = threading.Lock()
        self._warned = False
        #: seconds of waiting this bucket has asked for (all users in the process)
        self.waited_seconds = 0.0

    @property
    def _rate(self) -> float:
        return self.per_minute / WINDOW

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now

    def reserve(self) -> float:
        """Take one token; return the seconds to sleep before sending (0 when a token was free)."""
        with self._lock:
            now = time.monotonic()
            self._refill(now)
            self._tokens -= 1.0
            # callers queue honestly: the n-th reservation beyond the bucket waits n intervals, so
            # many concurrent users (a thousand triggers) stay within the quota together.  What the
            # server controls is bounded apart: the rate (>= MIN_PER_MINUTE, so one interval is at
            # most a window) and the blocked-until time (at most a window ahead)
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self._rate
            wait = max(wait, self._blocked_until - now)
            self.waited_seconds += wait
            return wait

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
                    self.capacity = max(1.0, rate / 6)
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
