"""Turning what came back — or failed to — into the shared error classes.

* :func:`map_transport_error`: an httpx failure (timeout, reset, the request deadline, a TLS
  handshake) as :class:`TransportError` or, when no retry can help, :class:`ConfigurationError`;
* :func:`raise_for_redirect`: a 3xx is never followed;
* :func:`body_error` / :func:`parse_json`: a body that cannot be decoded is *unreadable* (retried),
  one of the wrong shape is *unexpected* (not retried).  Only locations and rules are quoted, never
  values (they may be phone numbers).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_provider_telephony.core.deadline import DEADLINE_EXCEEDED, deadline_passed
from airflow_provider_telephony.core.errors import (
    ConfigurationError,
    RedirectError,
    TransportError,
    UnexpectedResponseError,
    UnreadableResponseError,
)
from airflow_provider_telephony.core.redact import redact_url

if TYPE_CHECKING:
    import httpx


def map_transport_error(
    exc: Exception, what: str, deadline: float | None = None
) -> TransportError | ConfigurationError:
    """Translate an httpx transport failure into :class:`TransportError` with a redacted message
    (or :class:`ConfigurationError` for a TLS handshake no retry can fix)."""
    import httpx

    sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    if isinstance(exc, httpx.ConnectError) and _tls_failure(exc):
        # a certificate the trust store rejects, or TLS spoken to a plain-HTTP port: no retry helps
        return ConfigurationError(
            f"{what}: TLS handshake failed ({redact_url(exc)}): check the scheme (http/https) of the "
            "connection's host, and its ca_bundle extra if a proxy re-signs TLS"
        )
    if DEADLINE_EXCEEDED in str(exc) or (isinstance(exc, httpx.TimeoutException) and deadline_passed()):
        limit = f" of {deadline:g}s" if deadline else ""
        return TransportError(
            f"{what}: no complete answer within the request deadline{limit} (connection extra 'deadline')",
            request_sent=sent,
        )
    return TransportError(f"{what}: {type(exc).__name__}: {redact_url(exc)}", request_sent=sent)


def _tls_failure(exc: BaseException) -> bool:
    """Whether an httpx connect error was caused by TLS itself (verification, protocol mismatch)."""
    import ssl

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError | ssl.CertificateError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def raise_for_redirect(response: httpx.Response, what: str, conn_id: str) -> None:
    """A redirect is never followed nor parsed: it means the connection's host is wrong (and its
    target is not shown: it may carry a secret)."""
    status = response.status_code
    if 300 <= status < 400:
        raise RedirectError(
            f"{what}: HTTP {status} redirect, not followed: check the scheme (http/https), host "
            f"and path in the host field of connection {conn_id!r}",
            status_code=status,
        )


def body_error(exc: Exception, what: str) -> UnreadableResponseError | UnexpectedResponseError:
    """The error for a body that failed to parse: broken or cut-short JSON is *unreadable* (retried),
    a readable body of the wrong shape is *unexpected* (not retried)."""
    from pydantic import ValidationError as PydanticValidationError

    if not isinstance(exc, PydanticValidationError):
        return UnreadableResponseError(f"{what}: unreadable response ({type(exc).__name__})")
    errors = exc.errors(include_url=False, include_input=False)
    if any(err.get("type") == "json_invalid" for err in errors):
        return UnreadableResponseError(f"{what}: unreadable response (invalid or cut-short JSON)")
    first = errors[0]
    loc = ".".join(str(part) for part in first.get("loc", ())) or "body"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return UnexpectedResponseError(
        f"{what}: the answer does not have the documented shape: {loc}: {first.get('msg')}{more}"
    )


def parse_json(model: Any, content: bytes, what: str) -> Any:
    """Validate a JSON body into a pydantic model (or ``TypeAdapter``) in one pydantic-core call;
    a failure becomes :func:`body_error`'s class."""
    from pydantic import ValidationError as PydanticValidationError

    validate = getattr(model, "model_validate_json", None) or model.validate_json
    try:
        return validate(content)
    except PydanticValidationError as exc:
        raise body_error(exc, what) from None


@functools.cache
def _adapter(annotation: Any) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(annotation)


def json_parser(model: Any, what: str) -> Callable[[httpx.Response], Any]:
    """An :class:`ApiRequest` ``parse``: the JSON body validated as ``model`` — a pydantic model,
    a ``TypeAdapter``, or any other type (``list[Employee]``, a union) through a ``TypeAdapter``
    built once per type, not per answer."""
    if not (hasattr(model, "model_validate_json") or hasattr(model, "validate_json")):
        model = _adapter(model)
    return lambda response: parse_json(model, response.content, what)
