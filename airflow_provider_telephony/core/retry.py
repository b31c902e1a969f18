"""The retry policy every hook uses (tenacity), for sync and async drivers alike.

What retries: :class:`ServerError` (5xx / vendor internal errors), :class:`RateLimitedError` (429),
and :class:`TransportError` (timeouts, resets, truncated bodies).  Non-idempotent calls (send an
SMS, create a campaign) are retried only when the failure proves the vendor did not act on the
request: a 429, a connection that never reached the server, or a :class:`WriteNotAppliedError` (the
exchange looked the write up by our client id and did not find it).  Every other failure of a write
leaves its outcome unclear (:func:`outcome_unclear`): the exchange's recovery flow decides.  Waits are exponential with jitter;
a server's ``Retry-After`` hint (on a 429 or a 503) replaces the computed wait (capped); a 429
without one backs off harder, because vendor quotas are per minute.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_provider_telephony.core.errors import (
    RateLimitedError,
    ServerError,
    TelephonyError,
    TransportError,
    UnexpectedResponseError,
    WriteNotAppliedError,
)

if TYPE_CHECKING:
    from tenacity import RetryCallState

INITIAL_WAIT = 0.5
MAX_WAIT = 30.0
#: longest Retry-After we honour; a longer hint is better served by an Airflow task retry
MAX_RETRY_AFTER = 120.0
#: first wait after a 429 that carries no Retry-After
RATE_LIMIT_BASE_WAIT = 2.0

log = logging.getLogger(__name__)


def should_retry(exc: BaseException, *, idempotent: bool) -> bool:
    """Decide whether ``exc`` may be retried for a call of the given idempotency."""
    if not isinstance(exc, TelephonyError) or not exc.retryable:
        return False
    if idempotent:
        return True
    if isinstance(exc, RateLimitedError | WriteNotAppliedError) or exc.before_send:
        return True
    return isinstance(exc, TransportError) and not exc.request_sent


def outcome_unclear(exc: BaseException) -> bool:
    """Whether a write that failed with ``exc`` may nevertheless have taken effect.

    A refusal (4xx), a 429, a failure to obtain credentials before (re-)sending it and a connection
    that never carried the request are clear: nothing happened.  A 5xx, a timeout or reset after
    sending, and an answer that was cut, empty or of the wrong shape are not: the server may have
    acted before it failed to tell us.
    """
    if isinstance(exc, RateLimitedError) or getattr(exc, "before_send", False):
        return False
    if isinstance(exc, TransportError):
        return exc.request_sent
    return isinstance(exc, ServerError | UnexpectedResponseError)


def backoff(attempt_number: int, initial: float = INITIAL_WAIT, maximum: float = MAX_WAIT) -> float:
    """The wait before retry ``attempt_number`` (1-based) when the server gave no hint."""
    return float(min(initial * 2 ** (attempt_number - 1), maximum))


class _WaitRetryAfter:
    """Use the server's Retry-After when the error carries one, else exponential backoff + jitter."""

    def __init__(self, initial: float, maximum: float) -> None:
        from tenacity import wait_exponential, wait_random

        self._fallback = wait_exponential(multiplier=initial, max=maximum) + wait_random(0, initial)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        computed = float(self._fallback(state))
        if isinstance(exc, TelephonyError) and exc.retry_after is not None:
            if exc.retry_after > MAX_RETRY_AFTER:
                log.warning(
                    "the server asked to retry after %.0fs; waiting the cap of %.0fs instead",
                    exc.retry_after,
                    MAX_RETRY_AFTER,
                )
            return min(max(exc.retry_after, 0.0), MAX_RETRY_AFTER)
        if isinstance(exc, RateLimitedError):
            # no hint: quotas are per minute, so back off harder (2, 4, 8, 16, 32 s) than for a 5xx
            return max(computed, min(RATE_LIMIT_BASE_WAIT * 2 ** (state.attempt_number - 1), 60.0))
        return computed


def retry_kwargs(
    max_retries: int,
    *,
    idempotent: bool,
    logger: logging.Logger,
    what: str,
    initial_wait: float = INITIAL_WAIT,
    max_wait: float = MAX_WAIT,
    on_wait: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``tenacity.Retrying`` / ``AsyncRetrying`` implementing the policy.

    ``on_wait`` is told every wait between attempts (the exchange reports them in its stats).
    """
    from tenacity import retry_if_exception, stop_after_attempt

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        if on_wait is not None:
            on_wait(wait)
        # exception text is already redacted by the hook that raised it
        logger.warning(
            "%s failed (attempt %d of %d): %s; retrying in %.1fs",
            what,
            state.attempt_number,
            max_retries + 1,
            exc,
            wait,
        )

    return {
        "retry": retry_if_exception(lambda exc: should_retry(exc, idempotent=idempotent)),
        "wait": _WaitRetryAfter(initial_wait, max_wait),
        "stop": stop_after_attempt(max_retries + 1),
        "before_sleep": before_sleep,
        "reraise": True,
    }


def surely_not_applied(exc: BaseException) -> bool:
    """Whether a write that failed with ``exc`` certainly had no effect (refused, or never sent):
    neither an unclear outcome nor an :class:`OutcomeUnknownError` the exchange already raised."""
    from airflow_provider_telephony.core.errors import OutcomeUnknownError

    return not isinstance(exc, OutcomeUnknownError) and not outcome_unclear(exc)
