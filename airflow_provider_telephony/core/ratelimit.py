"""Client-side rate limiting, shared by every hook that talks to the same connection in a process.

A token bucket refilled at ``per_minute / 60`` tokens a second spreads requests instead of
bursting into a vendor's per-minute quota.  Vendor headers correct the bucket: a declared
``X-RateLimit-Limit`` replaces the configured guess, and when ``X-RateLimit-Remaining`` says fewer
requests remain than we think, we believe the server (none left: the next request waits).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

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
            self.waited_seconds += wait
            return wait

    def observe(self, headers: Mapping[str, str]) -> None:
        """Adjust to the server's view of the quota (``X-RateLimit-Limit`` / ``-Remaining``)."""
        limit = _header_number(headers, "x-ratelimit-limit")
        remaining = _header_number(headers, "x-ratelimit-remaining")
        with self._lock:
            if limit and limit > 0 and limit != self.per_minute:
                # the server's declared quota replaces our guess, in either direction
                self.per_minute = limit
                self.capacity = max(1.0, limit / 6)
            if remaining is not None:
                self._refill(time.monotonic())
                self._tokens = min(self._tokens, remaining)


def _header_number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:  # plain mappings are case-sensitive; httpx.Headers is not
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def limiter_for(key: str, per_minute: float) -> RateLimiter:
    """The process-wide limiter for ``key`` (usually the connection id), created on first use."""
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = _registry[key] = RateLimiter(per_minute)
        return limiter
