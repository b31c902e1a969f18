"""One closed exception hierarchy for every vendor.

Hooks translate HTTP statuses *and* errors carried inside a 200 body into these classes, so
sensors, retry policies and DAG authors decide on the class, never on a vendor's message text::

    TelephonyError
    ├── ConfigurationError          permanent: the connection or an argument cannot work
    │   └── RedirectError           the server redirected: the connection's host is wrong
    ├── RequestValidationError      permanent: refused before sending, names the argument
    ├── VendorError                 the vendor answered with an error
    │   ├── AuthenticationError     permanent once final (``refreshable`` False)
    │   ├── NotFoundError
    │   ├── ValidationError         permanent: the vendor rejected the request's content
    │   ├── NotReadyError           sensors wait on it
    │   ├── RateLimitedError        retried
    │   ├── ServerError             retried (5xx, 408, vendor "internal error")
    │   │   └── UnreadableResponseError   retried: a body that cannot be decoded
    │   ├── UnexpectedResponseError a readable body without the documented shape
    │   ├── PagingError             permanent: pages do not advance (a page seen before)
    │   └── WriteNotAppliedError    retried: a failed write proven not to have taken effect
    ├── TransportError              retried: no complete answer (timeout, reset, deadline)
    └── OutcomeUnknownError         permanent: a write may have taken effect; never re-sent blindly

``permanent`` errors cannot be cured by trying again: operators fail the task at once
(``AirflowFailException``) instead of spending Airflow retries on them.

Every message is redacted when the exception is built (registered secrets, ``Bearer`` tokens),
so an error may be logged, pickled into a trigger event or shown in the UI as it is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

from airflow_provider_telephony.core.redact import redact_text

#: longest piece of a vendor's own message quoted in an error
VENDOR_TEXT_LIMIT = 300


class TelephonyError(Exception):
    """Base of every error raised by this provider.

    :param message: human readable; redacted here whatever the caller passed.
    :param status_code: HTTP status when the error came from a response.
    :param vendor_code: the vendor's own error code (e.g. Avito ``error.code``), if any.
    :param retry_after: the server's ``Retry-After`` hint in seconds (429, 503), used by the retry policy.
    """

    #: whether the retry policy may send the request again
    retryable: ClassVar[bool] = False
    #: whether trying again (an Airflow task retry included) cannot help; see :attr:`permanent`
    _permanent: ClassVar[bool] = False
    #: set by the exchange when the error came from obtaining credentials, before the request
    #: itself was (re-)sent: a write that fails so certainly did not take effect
    before_send: bool = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        vendor_code: int | str | None = None,
        retry_after: float | None = None,
    ) -> None:
        message = redact_text(str(message))
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.vendor_code = vendor_code
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message

    @property
    def permanent(self) -> bool:
        """True when trying again — a retry, an Airflow task retry — cannot help."""
        return self._permanent

    def __reduce__(self) -> tuple[Any, ...]:
        # keep keyword-only attributes when pickled across processes (triggerer -> worker)
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[TelephonyError], message: str, state: dict[str, Any]) -> TelephonyError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class ConfigurationError(TelephonyError):
    """The connection or operator arguments are unusable (missing credentials, a bad extra, a wrong
    connection type, an unsupported URL scheme)."""

    _permanent = True


class RedirectError(ConfigurationError):
    """The server answered with a redirect (3xx). Redirects are never followed: they usually mean the
    connection's host has the wrong scheme or path, and the target may carry a secret."""


class RequestValidationError(TelephonyError):
    """A request was refused *before* sending because an argument breaks a documented rule.

    :param field: the argument that is wrong, by the name the user set it with.
    :param rule: the rule it breaks, in words.
    """

    _permanent = True

    def __init__(self, field: str, rule: str, *, value: Any = None) -> None:
        shown = "" if value is None else f" (got {_short_repr(value)})"
        super().__init__(f"{field}: {rule}{shown}")
        self.field = field
        self.rule = rule


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


class VendorError(TelephonyError):
    """The vendor answered with an error (HTTP status or an error inside a 200 body)."""


class AuthenticationError(VendorError):
    """Credentials are wrong, expired or lack a permission (401/403, vendor auth codes).

    ``refreshable`` says whether obtaining fresh credentials and re-sending once may help (an
    expired token); it is False for errors raised by the credential exchange itself and after the
    one refresh was spent.  A non-refreshable authentication error is permanent.
    """

    def __init__(self, message: str, *, refreshable: bool = True, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.refreshable = refreshable

    @property
    def permanent(self) -> bool:
        return not self.refreshable


class NotFoundError(VendorError):
    """The requested object does not exist (404, vendor "not found" codes)."""


class ValidationError(VendorError):
    """The vendor rejected the request's content.

    :param field_errors: per-field messages when the vendor lists them.
    """

    _permanent = True

    def __init__(self, message: str, *, field_errors: Mapping[str, Any] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.field_errors = dict(field_errors or {})


class NotReadyError(VendorError):
    """The object exists but is not available yet (e.g. a recording still being processed, HTTP 425)."""


class RateLimitedError(VendorError):
    """Too many requests (429). ``retry_after`` is the server's hint in seconds, if it gave one."""

    retryable = True


class ServerError(VendorError):
    """The vendor failed (5xx, 408, or its own "internal error" code). Safe to retry for idempotent calls."""

    retryable = True


class UnreadableResponseError(ServerError):
    """A body that cannot be decoded at all (not JSON, cut short, not the declared format); retried,
    since a proxy or a cut connection produces it as often as the vendor does."""


class UnexpectedResponseError(VendorError):
    """A readable body without the documented shape (e.g. no ``calls`` list in a page).

    Never taken as "no data": an export that met it fails instead of publishing part of the data.
    """


class PagingError(VendorError):
    """Pages do not advance: the server sent a page seen before (it ignores the page or offset), or
    more records than asked for.  Paging on would loop forever or duplicate records.  Permanent: a
    server that ignores the offset does so on the next attempt too."""

    _permanent = True


class WriteNotAppliedError(VendorError):
    """A write failed in a way that left its outcome unclear (5xx, timeout after sending, a cut
    answer), and looking it up by our own client id proved it did *not* take effect: sending it
    again is safe, so the retry policy does."""

    retryable = True


class OutcomeUnknownError(TelephonyError):
    """A write (it costs money or reaches a person) may have taken effect, and it could not be
    established whether it did: it was **not** sent again.  Permanent: an automatic retry, Airflow's
    included, could do it twice.  The message says what to check in the vendor's cabinet."""

    _permanent = True


class TransportError(TelephonyError):
    """The request did not get a complete answer: timeout, connection reset, truncated body, or the
    request's overall deadline passed.

    ``request_sent`` is False when the connection failed before the request left (connect error),
    which makes even a non-idempotent call safe to send again.
    """

    retryable = True

    def __init__(self, message: str, *, request_sent: bool = True, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.request_sent = request_sent


def vendor_text(text: Any, limit: int = VENDOR_TEXT_LIMIT) -> str:
    """A vendor's own message, fit to quote in an error: secrets and phone numbers redacted, shortened."""
    shown = redact_text(str(text), phones=True).strip()
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def error_for_status(
    status: int,
    message: str,
    *,
    retry_after: float | None = None,
    vendor_code: int | str | None = None,
    auth_refreshable: bool = True,
) -> VendorError | None:
    """The error class an HTTP status stands for (``None`` below 400), shared by every vendor.

    ``auth_refreshable=False`` is for vendors with static keys, where re-sending a rejected request
    with the same key cannot help.  408 (the server gave up waiting for the request) is retried like a
    5xx.  Redirects are handled by the exchange before a vendor maps the status.
    """
    if status < 400:
        return None
    kw: dict[str, Any] = {"status_code": status, "vendor_code": vendor_code, "retry_after": retry_after}
    if status == 429:
        return RateLimitedError(message, **kw)
    if status >= 500 or status == 408:
        return ServerError(message, **kw)
    if status in (401, 403):
        return AuthenticationError(message, refreshable=auth_refreshable, **kw)
    if status == 404:
        return NotFoundError(message, **kw)
    if status == 425:
        return NotReadyError(message, **kw)
    return ValidationError(message, **kw)


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP-date; ``None`` when absent or unusable.

    NaN, infinities and negative values are ignored (``None``); a date in the past is 0.  The cap on
    how long a hint may make us wait is the retry policy's (``core.retry.MAX_RETRY_AFTER``).
    """
    value = headers.get("retry-after") or headers.get("Retry-After")
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _http_date_delay(text, now)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _http_date_delay(text: str, now: float | None) -> float | None:
    import time
    from email.utils import parsedate_to_datetime

    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None or moment.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(moment.timestamp() - current, 0.0)
