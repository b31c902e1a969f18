"""Client-side rate limiting, shared by every hook that talks to the same connection in a process.

A token bucket refilled at ``per_minute / 60`` tokens a second spreads requests instead of
bursting into a vendor's per-minute quota.  Vendor headers correct the bucket: a declared
``X-RateLimit-Limit`` replaces the configured guess, and when ``X-RateLimit-Remaining`` says fewer
requests remain than we think, we believe the server (none left: the next request waits).

Headers are server-controlled, so they are bounded: a declared limit below
:data:`MIN_PER_MINUTE` (or not a finite number) is ignored, and no single wait the bucket asks for
exceeds :data:`MAX_WAIT` — a quota is per minute, so a longer wait cannot be needed.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping

#: a declared ``X-RateLimit-Limit`` below this (requests per minute) is implausible and ignored
MIN_PER_MINUTE = 1.0
#: the longest wait the bucket ever asks for: one quota window
MAX_WAIT = 60.0

log = logging.getLogger(__name__)

_registry: dict[str, RateLimiter] = {}
_registry_lock = threading.Lock()


class RateLimiter:
    """Token bucket. :meth:`reserve` never sleeps; it returns how long the caller must wait."""

    def __init__(self, per_minute: float, *, burst: float | None = None) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.per_minute = float(per_minute)
        self.capacity = float(burst if burst is not None else max(1.0, per_minute / 6))
        self._tokens = self.capacity
        self._updated = time.monotonic()
        self._lock = threading.Lock()
        self.waited_seconds = 0.0
        self._warned = False

    @property
    def _rate(self) -> float:
        return self.per_minute / 60.0

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now

    def reserve(self) -> float:
        """Take one token; return the seconds to sleep before sending (0 when a token was free)."""
        with self._lock:
            now = time.monotonic()
            self._refill(now)
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self._rate
            if wait > MAX_WAIT:
                # never owe more than one window: forget the debt beyond it
                self._tokens = -MAX_WAIT * self._rate
                wait = MAX_WAIT
            self.waited_seconds += wait
            return wait

    def observe(self, headers: Mapping[str, str]) -> None:
        """Adjust to the server's view of the quota (``X-RateLimit-Limit`` / ``-Remaining``)."""
        limit = _header_number(headers, "x-ratelimit-limit")
        remaining = _header_number(headers, "x-ratelimit-remaining")
        if limit is not None and limit < MIN_PER_MINUTE:
            if not self._warned:
                self._warned = True
                log.warning(
                    "ignoring implausible X-RateLimit-Limit %g (below %g per minute)", limit, MIN_PER_MINUTE
                )
            limit = None
        with self._lock:
            if limit and limit != self.per_minute:
                # the server's declared quota replaces our guess, in either direction
                self.per_minute = limit
                self.capacity = max(1.0, limit / 6)
            if remaining is not None and remaining >= 0:
                self._refill(time.monotonic())
                self._tokens = min(self._tokens, remaining)


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


def limiter_for(key: str, per_minute: float) -> RateLimiter:
    """The process-wide limiter for ``key`` (usually the connection id), created on first use."""
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = _registry[key] = RateLimiter(per_minute)
        return limiter
