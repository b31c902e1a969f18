"""One exception hierarchy for every vendor.

Hooks translate HTTP statuses *and* errors carried inside a 200 body into these classes, so
sensors, retry policies and DAG authors decide on the class, never on a vendor's message text.
Messages are built from already-redacted text: no secret or phone number reaches them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class TelephonyError(Exception):
    """Base of every error raised by this provider.

    :param message: human readable, already redacted.
    :param status_code: HTTP status when the error came from a response.
    :param vendor_code: the vendor's own error code (e.g. Avito ``error.code``), if any.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        vendor_code: int | str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.vendor_code = vendor_code
        #: the server's ``Retry-After`` hint in seconds (429, 503), used by the retry policy
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        # keep keyword-only attributes when pickled across processes (triggerer -> worker)
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[TelephonyError], message: str, state: dict[str, Any]) -> TelephonyError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class ConfigurationError(TelephonyError):
    """The connection or operator arguments are unusable (missing credentials, bad extra)."""


class RequestValidationError(TelephonyError):
    """A request was refused *before* sending because an argument breaks a documented rule.

    :param field: the argument that is wrong.
    :param rule: the rule it breaks, in words.
    """

    def __init__(self, field: str, rule: str, *, value: Any = None) -> None:
        shown = "" if value is None else f" (got {value!r})"
        super().__init__(f"{field}: {rule}{shown}")
        self.field = field
        self.rule = rule


class VendorError(TelephonyError):
    """The vendor answered with an error (HTTP status or an error inside a 200 body)."""


class AuthenticationError(VendorError):
    """Credentials are wrong, expired or lack a permission (401/403, vendor auth codes).

    ``refreshable`` says whether obtaining fresh credentials and re-sending once may help (an
    expired token); it is False for errors raised by the credential exchange itself.
    """

    def __init__(self, message: str, *, refreshable: bool = True, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.refreshable = refreshable


class NotFoundError(VendorError):
    """The requested object does not exist (404, vendor "not found" codes)."""


class ValidationError(VendorError):
    """The vendor rejected the request's content.

    :param field_errors: per-field messages when the vendor lists them.
    """

    def __init__(self, message: str, *, field_errors: Mapping[str, Any] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.field_errors = dict(field_errors or {})


class NotReadyError(VendorError):
    """The object exists but is not available yet (e.g. a recording still being processed, HTTP 425)."""


class RateLimitedError(VendorError):
    """Too many requests (429). ``retry_after`` is the server's hint in seconds, if it gave one."""

    retryable = True


class ServerError(VendorError):
    """The vendor failed (5xx or its own "internal error" code). Safe to retry for idempotent calls."""

    retryable = True


class TransportError(TelephonyError):
    """The request did not get a complete answer: timeout, connection reset, truncated body.

    ``request_sent`` is False when the connection failed before the request left (connect error),
    which makes even a non-idempotent call safe to send again.
    """

    retryable = True

    def __init__(self, message: str, *, request_sent: bool = True, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.request_sent = request_sent


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
    with the same key cannot help.
    """
    if status < 400:
        return None
    kw: dict[str, Any] = {"status_code": status, "vendor_code": vendor_code, "retry_after": retry_after}
    if status == 429:
        return RateLimitedError(message, **kw)
    if status >= 500:
        return ServerError(message, **kw)
    if status in (401, 403):
        return AuthenticationError(message, refreshable=auth_refreshable, **kw)
    if status == 404:
        return NotFoundError(message, **kw)
    if status == 425:
        return NotReadyError(message, **kw)
    return ValidationError(message, **kw)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds (delta form); ``None`` when absent or an HTTP date."""
    value = headers.get("retry-after") or headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None
