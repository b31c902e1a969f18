"""A JSON-over-HTTP request definition with status-based error mapping, for vendors whose errors
are plain HTTP statuses (no in-body error codes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_telephony.core.errors import TelephonyError, error_for_status, retry_after_seconds
from airflow_provider_telephony.core.flow import ApiRequest

if TYPE_CHECKING:
    import httpx


def status_error(request: ApiRequest[Any], response: httpx.Response) -> TelephonyError | None:
    """Map an HTTP error status to the shared error classes; the message names the endpoint only.

    These vendors authenticate with a static key, so an auth failure is final (no refresh-and-resend).
    """
    return error_for_status(
        response.status_code,
        f"{request.name}: HTTP {response.status_code}",
        retry_after=retry_after_seconds(response.headers),
        auth_refreshable=False,
    )


def json_get(name: str, path: str, params: dict[str, Any] | None = None) -> ApiRequest[Any]:
    """An idempotent GET whose result is the decoded JSON body."""
    return ApiRequest(name=name, method="GET", path=path, params=params, parse=lambda r: r.json())
