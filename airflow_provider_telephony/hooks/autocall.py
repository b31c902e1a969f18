"""AutoCall.kz hook: Bearer authentication, error mapping, and SMS mailings that are created once.

Connection (type ``autocall``): *password* = API key (sent as ``Authorization: Bearer <key>``),
*host* = API base URL (default ``https://autocall.kz/api/v1``).  The document's quota is 300
requests a minute for the whole account, so one rate limiter covers every endpoint of a connection
(extra ``rate_limit_per_minute`` when your contract says otherwise).

Covered so far: the balance, and SMS mailings (``POST /bulks``, ``GET /bulks``, ``GET /bulks/{id}``).
Creating a mailing costs money and reaches people, so :meth:`AutoCallHook.create_bulk` is
exactly-once: every mailing carries our ``client_id``; when the answer to ``POST /bulks`` is lost
(timeout or reset after sending, 5xx, a cut answer) the hook looks the mailing up by that
``client_id`` before anything else, returns it if it exists and sends again only if it does not.

Errors: 401 → :class:`AuthenticationError` (a static key: final), 402 (balance too low) and 422
(field errors, in ``field_errors``) → :class:`ValidationError`, 404 → :class:`NotFoundError`, 429 →
:class:`RateLimitedError`, 5xx → :class:`ServerError`; the vendor's ``message`` is quoted redacted.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from airflow_provider_telephony.core.errors import (
    ConfigurationError,
    TelephonyError,
    ValidationError,
    error_for_status,
    retry_after_seconds,
    vendor_text,
)
from airflow_provider_telephony.core.exchange import Exchange
from airflow_provider_telephony.core.flow import ApiRequest, Flow
from airflow_provider_telephony.core.hookbase import TelephonyHook
from airflow_provider_telephony.core.responses import parse_json
from airflow_provider_telephony.core.validation import build_request
from airflow_provider_telephony.models import autocall as m

if TYPE_CHECKING:
    import httpx

BULKS = "/bulks"


def _vendor_message(response: httpx.Response) -> tuple[str, dict[str, Any]]:
    """The ``message`` and per-field ``errors`` of an error body (``ErrorMessage`` / ``ValidationError``)."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return "", {}
    if not isinstance(body, dict):
        return "", {}
    errors = body.get("errors")
    fields = {str(k): vendor_text(v) for k, v in errors.items()} if isinstance(errors, dict) else {}
    message = body.get("message")
    return (vendor_text(message) if isinstance(message, str) else ""), fields


class AutoCallHook(TelephonyHook):
    """Talks to AutoCall.kz (300 requests/minute per account, per the document).

    :param autocall_conn_id: Airflow connection id.
    """

    conn_name_attr = "autocall_conn_id"
    default_conn_name = "autocall_default"
    conn_type = "autocall"
    hook_name = "AutoCall.kz"
    default_base_url = "https://autocall.kz/api/v1"
    rate_limit_per_minute = 300.0
    rate_limit_per_endpoint = False

    def __init__(self, autocall_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(autocall_conn_id, **kwargs)
        self.autocall_conn_id = autocall_conn_id

    # --- VendorApi ----------------------------------------------------------------------
    def auth_headers(self, exchange: Exchange, *, refresh: bool) -> Flow[dict[str, str]]:
        key = self.settings.password
        if not key:
            raise ConfigurationError(f"connection {self.conn_id!r}: set password to the AutoCall.kz API key")
        return {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        yield  # pragma: no cover - makes this a generator

    def error_for(self, request: ApiRequest[Any], response: httpx.Response) -> TelephonyError | None:
        status = response.status_code
        if status < 400:
            return None
        message, fields = _vendor_message(response)
        text = f"{request.name}: HTTP {status}" + (f": {message}" if message else "")
        if fields:
            text += "; " + "; ".join(f"{k}: {v}" for k, v in fields.items())
        if status == 402:
            return ValidationError(text + " (top up the balance)", status_code=status)
        if status == 422:
            return ValidationError(text, status_code=status, field_errors=fields)
        return error_for_status(
            status, text, retry_after=retry_after_seconds(response.headers), auth_refreshable=False
        )

    # --- balance ------------------------------------------------------------------------
    def get_balance(self) -> m.Balance:
        """``GET /balance``: the account's balance and currency."""
        return self.exchange.run(
            ApiRequest(
                name="balance",
                method="GET",
                path="/balance",
                parse=lambda r: parse_json(m.Balance, r.content, "balance"),
            )
        )

    # --- SMS mailings -------------------------------------------------------------------
    def _bulks_request(self, *, client_id: str | None = None, page: int = 1) -> ApiRequest[m.Page[m.Bulk]]:
        params: dict[str, Any] = {"page": page}
        if client_id is not None:
            params["client_id"] = client_id
        return ApiRequest(
            name="GET bulks",
            method="GET",
            path=BULKS,
            params=params,
            parse=lambda r: parse_json(m.Page[m.Bulk], r.content, "GET bulks"),
        )

    def _create_bulk_request(self, body: m.CreateBulkRequest) -> ApiRequest[m.Bulk]:
        client_id = body.client_id

        def recover(exchange: Exchange) -> Flow[m.Bulk | None]:
            """Did the lost ``POST /bulks`` create the mailing?  Look for our client_id."""
            page = yield from exchange.attempt(self._bulks_request(client_id=client_id))
            return next((bulk for bulk in page.data if bulk.client_id == client_id), None)

        return ApiRequest(
            name="POST bulks",
            method="POST",
            path=BULKS,
            json=body.body(),
            parse=lambda r: parse_json(m.Bulk, r.content, "POST bulks"),
            recover=recover,
            effect=f"(SMS рассылки) whether a mailing with client_id {client_id!r} exists",
        )

    def create_bulk(
        self,
        *,
        name: str,
        text: str,
        recipients: list[Any],
        client_id: str,
        date_from: Any = None,
        time_from: Any = None,
        callback_url: str | None = None,
    ) -> m.Bulk:
        """Create an SMS mailing, exactly once per ``client_id``.

        :param recipients: contact list ids and/or contacts — numbers (``"+77010000000"``) or
            ``{"number": ..., "extra": ..., "variables": {...}}`` — at most 5,000.
        :param client_id: your id for this mailing (≤ 60 characters), e.g. derived from the DAG run:
            an earlier mailing with it is found instead of sending a second one.
        :param date_from: / :param time_from: when to start (``date`` / ``time`` or ``Y-m-d`` /
            ``H:i:s``); default: now.

        If a mailing with ``client_id`` already exists it is returned and nothing is sent.
        """
        body = build_request(
            m.CreateBulkRequest,
            name=name,
            text=text,
            list_id=recipients,
            client_id=client_id,
            date_from=date_from,
            time_from=time_from,
            callback_url=callback_url,
        )
        existing = self.find_bulk(client_id)
        if existing is not None:
            return existing
        return self.exchange.run(self._create_bulk_request(body))

    def find_bulk(self, client_id: str) -> m.Bulk | None:
        """The mailing created with ``client_id``, or ``None``."""
        page = self.exchange.run(self._bulks_request(client_id=client_id))
        return next((bulk for bulk in page.data if bulk.client_id == client_id), None)

    def get_bulk(self, bulk_id: int) -> m.Bulk:
        """``GET /bulks/{id}``: one mailing (its messages are in the model's extra field ``messages``)."""
        return self.exchange.run(
            ApiRequest(
                name="GET bulks/{id}",
                method="GET",
                path=f"{BULKS}/{int(bulk_id)}",
                parse=lambda r: parse_json(m.Bulk, r.content, "GET bulks/{id}"),
            )
        )

    # --- connection test ----------------------------------------------------------------
    def probe(self) -> str:
        """``GET /balance``: proves the key is accepted."""
        self.get_balance()
        return "GET /balance answered"
