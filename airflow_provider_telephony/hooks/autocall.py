"""AutoCall.kz hook: connection, Bearer authentication and error mapping.

Connection (type ``autocall``): *password* = API key (sent as ``Authorization: Bearer <key>``),
*host* = API base URL (default ``https://autocall.kz/api/v1``).  This release covers the
connection and :meth:`AutoCallHook.test_connection` (``GET /balance``); the campaign, SMS and
flash-call endpoints are not part of it yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_telephony.core.errors import ConfigurationError, TelephonyError
from airflow_provider_telephony.core.exchange import ApiRequest, Exchange, Flow
from airflow_provider_telephony.core.hookbase import TelephonyHook
from airflow_provider_telephony.core.simplehttp import json_get, status_error

if TYPE_CHECKING:
    import httpx


class AutoCallHook(TelephonyHook):
    """Talks to AutoCall.kz (300 requests/minute per the document)."""

    conn_name_attr = "autocall_conn_id"
    default_conn_name = "autocall_default"
    conn_type = "autocall"
    hook_name = "AutoCall.kz"
    default_base_url = "https://autocall.kz/api/v1"
    rate_limit_per_minute = 300.0

    def __init__(self, autocall_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(autocall_conn_id, **kwargs)
        self.autocall_conn_id = autocall_conn_id

    def auth_headers(self, exchange: Exchange, *, refresh: bool) -> Flow[dict[str, str]]:
        key = self.settings.password
        if not key:
            raise ConfigurationError(f"connection {self.conn_id!r}: set password to the AutoCall.kz API key")
        return {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        yield  # pragma: no cover - makes this a generator

    def error_for(self, request: ApiRequest[Any], response: httpx.Response) -> TelephonyError | None:
        return status_error(request, response)

    def get_balance(self) -> Any:
        """``GET /balance`` — the account balance as the API returns it."""
        return self.exchange.run(json_get("balance", "/balance"))

    def probe(self) -> str:
        """``GET /balance``: proves the key is accepted."""
        self.get_balance()
        return "GET /balance answered"
