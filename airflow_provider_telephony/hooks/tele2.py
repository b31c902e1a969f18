"""Tele2 corporate PBX (ATS) CRM OpenAPI hook: connection, raw-token authentication, error mapping.

Connection (type ``tele2_ats``): *password* = refresh token, extra ``access_token`` = access token
(both generated in the PBX web UI), *host* = API base URL (default
``https://ats2.tele2.ru/crm/openapi``), extra ``ca_bundle`` for the GlobalSign chain the vendor
asks customers to trust.  Every method sends ``Authorization: <access token>`` (no ``Bearer``);
an expired token answers HTTP 403.  This release covers the connection and
:meth:`Tele2AtsHook.test_connection` (``GET /employees``); token rotation through a shared token
store and the statistics / call-record endpoints are not part of it yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_telephony.core.errors import AuthenticationError, ConfigurationError, TelephonyError
from airflow_provider_telephony.core.exchange import Exchange
from airflow_provider_telephony.core.flow import ApiRequest, Flow
from airflow_provider_telephony.core.hookbase import TelephonyHook
from airflow_provider_telephony.core.redact import register_secret
from airflow_provider_telephony.core.simplehttp import json_get, status_error

if TYPE_CHECKING:
    import httpx


class Tele2AtsHook(TelephonyHook):
    """Talks to the Tele2 ATS CRM OpenAPI."""

    conn_name_attr = "tele2_conn_id"
    default_conn_name = "tele2_ats_default"
    conn_type = "tele2_ats"
    hook_name = "Tele2 ATS CRM OpenAPI"
    default_base_url = "https://ats2.tele2.ru/crm/openapi"

    def __init__(self, tele2_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(tele2_conn_id, **kwargs)
        self.tele2_conn_id = tele2_conn_id

    def auth_headers(self, exchange: Exchange, *, refresh: bool) -> Flow[dict[str, str]]:
        token = self.settings.extras.get("access_token")
        if not token:
            raise ConfigurationError(f"connection {self.conn_id!r}: set the access_token extra")
        register_secret(str(token), "tele2_access_token")
        return {"Authorization": str(token)}
        yield  # pragma: no cover - makes this a generator

    def error_for(self, request: ApiRequest[Any], response: httpx.Response) -> TelephonyError | None:
        if response.status_code == 403:
            # Tele2 answers 403 for an expired access token; without rotation re-sending cannot help
            return AuthenticationError(
                f"{request.name}: HTTP 403 (access token of connection {self.conn_id!r} expired or invalid)",
                status_code=403,
                refreshable=False,
            )
        return status_error(request, response)

    def get_employees(self) -> Any:
        """``GET /employees`` — the PBX's employees."""
        return self.exchange.run(json_get("employees", "/employees"))

    def probe(self) -> str:
        """``GET /employees``: proves the access token is accepted."""
        self.get_employees()
        return "GET /employees answered"
