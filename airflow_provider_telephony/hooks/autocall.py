"""AutoCall.kz hook: every operation of ``seeds/autocall-kz.openapi.yaml.txt`` (API v1 and the public API).

Connection (type ``autocall``): *password* = API key (sent as ``Authorization: Bearer <key>``),
*host* = API base URL (default ``https://autocall.kz/api/v1``).  The public API (tariffs, test
call; no key) lives next to it: its base is the host with the trailing ``/api/v1`` replaced by
``/api/public`` (extra ``public_base_url`` when the host does not end so).  The document's quota is
300 requests a minute for the whole account: one rate limiter covers every endpoint of a connection
(extra ``rate_limit_per_minute`` when your contract says otherwise).

Requests are checked against the document before anything is sent (phone patterns per endpoint,
lengths, enums, ``Y-m-d`` / ``H:i:s``, at most 10,000 numbers per list request and 5,000 inline
numbers per campaign or mailing): :class:`RequestValidationError` names the argument and the rule.

==================================  ===============================================================
operationId                         method
==================================  ===============================================================
get-lists                           :meth:`~.ContactsPart.list_lists`, ``iter_lists``, ``find_list``
post-lists                          :meth:`~.ContactsPart.create_list` (once per ``client_id``)
get-lists-id                        ``get_list``, ``aget_list``, ``iter_list_contacts``
put-lists-id                        ``update_list``
delete-lists-id                     ``delete_list``
post-lists-append-id                ``append_to_list``
delete-lists-nonexistent-id         ``delete_nonexistent_numbers``
put-lists-nonexistent-id            ``ignore_nonexistent_numbers``
get-contacts-id                     ``get_contact``
delete-contacts-id                  ``delete_contact``
get-sounds                          ``list_sounds``, ``iter_sounds``, ``find_sound``
post-sounds                         ``create_sound`` (once per ``client_id``)
get-sounds-id                       ``get_sound``, ``aget_sound``
put-sounds-id                       ``update_sound``
delete-sounds-id                    ``delete_sound``
get-sounds-listen-file              ``listen_sound`` (``type="download"`` to storage, or ``"text"``)
get-scenarios                       ``list_scenarios``, ``iter_scenarios``, ``find_scenario``
post-scenarios                      ``create_scenario`` (once per ``client_id``)
get-scenarios-id                    ``get_scenario``, ``aget_scenario``
put-scenarios-id                    ``update_scenario``
delete-scenarios-id                 ``delete_scenario``
get-autocalls                       ``list_autocalls``, ``alist_autocalls``, ``iter_autocalls``,
                                    ``find_autocall``, ``afind_autocall``
post-autocalls                      ``create_autocall`` (exactly once per ``client_id``; 202 handled)
get-autocalls-id                    ``get_autocall``, ``aget_autocall``, ``iter_autocall_calls``,
                                    ``aiter_autocall_calls``, ``iter_raw_autocall_call_pages``
put-autocalls-id                    ``update_autocall``
delete-autocalls-id                 ``delete_autocall``
post-autocalls-calculate            ``calculate_autocall``
get-autocalls-relaunch-id           ``relaunch_autocall`` (creates a contact list)
get-calls-id                        ``get_call``, ``aget_call``
get-calls-recordings-id             ``download_call_recording``, ``adownload_call_recording``
get-bulks                           ``list_bulks``, ``alist_bulks``, ``iter_bulks``, ``find_bulk``,
                                    ``afind_bulk``
post-bulks                          ``create_bulk`` (exactly once per ``client_id``)
get-bulks-id                        ``get_bulk``, ``aget_bulk``, ``iter_bulk_messages``,
                                    ``aiter_bulk_messages``, ``iter_raw_bulk_message_pages``
put-bulks-id                        ``update_bulk``
delete-bulks-id                     ``delete_bulk``
post-bulks-calculate                ``calculate_bulk``
get-messages-id                     ``get_message``, ``aget_message``
get-settings                        ``get_settings``
put-settings                        ``update_settings``
delete-settings-visit-card          ``delete_visit_card``
get-settings-confirmed-numbers      ``list_confirmed_numbers``
post-settings-confirmed-numbers     ``add_confirmed_number`` (step 1, once), ``confirm_number`` (2)
get-balance                         ``get_balance``
get-payments                        ``list_payments``, ``iter_transactions``
post-payments                       ``create_payment``
get-dashboard                       ``get_dashboard``
get-notifications                   ``list_notifications``, ``alist_notifications``
put-notifications-id                ``mark_notification_read``
delete-notifications-id             ``delete_notification``
get-caller-ids                      ``list_caller_ids``
post-caller-ids                     ``rent_caller_id`` (once per pool number)
delete-caller-ids-id                ``release_caller_id``
post-flash-calls                    ``send_flash_call`` (3 per number in 5 minutes)
getTariffs                          ``get_tariffs`` (public)
sendTestCall                        ``send_test_call`` (public; one per number a day)
==================================  ===============================================================

**Exactly once.**  Creates that cost money or reach people — campaigns, SMS mailings, sounds and
scenarios and lists with a ``client_id``, the confirmation call (step 1), caller-id rentals — first
look the object up and return it without sending, and carry a recovery flow: after an unclear outcome
(timeout or reset after sending, 5xx, a cut answer) the exchange looks again before anything is
re-sent.  Where the API offers no way to look a create up — flash calls, the test call, payment
sessions, ``append_to_list``, the relaunch, step 2 of a confirmation, creates without ``client_id`` —
an unclear outcome raises :class:`OutcomeUnknownError` and nothing is sent twice.  Deletes settle a
lost answer by checking that the object is gone.

**Errors**: 401 → :class:`AuthenticationError` (a static key: final); 402 →
:class:`InsufficientFundsError`; 403 → :class:`SpamSuspectedError` (creating or calculating a
campaign), :class:`AutocallNotCompletedError` (relaunch), :class:`CallerIdUnavailableError`
(renting), :class:`TestCallRefusedError` (test call), else :class:`AuthenticationError`; 404 →
:class:`NotFoundError`; 409 (renting) → :class:`CallerIdTakenError`; 422 → :class:`ValidationError`
with ``field_errors``; 429 → :class:`RateLimitedError` (``Retry-After`` honoured; for flash calls
and the test call the not-retried :class:`FlashCallLimitError` / :class:`TestCallLimitError`); 5xx →
:class:`ServerError`; a body that is not JSON → :class:`UnreadableResponseError`.  The vendor's
``message`` is quoted redacted (secrets, phone numbers).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_telephony.core.errors import ConfigurationError, TelephonyError
from airflow_provider_telephony.core.exchange import Exchange
from airflow_provider_telephony.core.flow import ApiRequest, Flow
from airflow_provider_telephony.core.hookbase import TelephonyHook
from airflow_provider_telephony.core.transport import base_url_from
from airflow_provider_telephony.hooks.autocall_account import AccountPart
from airflow_provider_telephony.hooks.autocall_bulks import BulksPart
from airflow_provider_telephony.hooks.autocall_campaigns import CampaignsPart
from airflow_provider_telephony.hooks.autocall_contacts import ContactsPart
from airflow_provider_telephony.hooks.autocall_wire import (
    CALLS_SCHEMA,
    FLASH_CALLS,
    MESSAGES_SCHEMA,
    TEST_CALLS,
    TEST_CALLS_PER_MINUTE,
    AcceptedNotVisibleError,
    AutocallNotCompletedError,
    AutoCallRefusal,
    CallerIdTakenError,
    CallerIdUnavailableError,
    FlashCallLimitError,
    InsufficientFundsError,
    SpamSuspectedError,
    TestCallLimitError,
    TestCallRefusedError,
    error_for_response,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "CALLS_SCHEMA",
    "FLASH_CALLS",
    "MESSAGES_SCHEMA",
    "TEST_CALLS",
    "AcceptedNotVisibleError",
    "AutoCallHook",
    "AutoCallRefusal",
    "AutocallNotCompletedError",
    "CallerIdTakenError",
    "CallerIdUnavailableError",
    "FlashCallLimitError",
    "InsufficientFundsError",
    "SpamSuspectedError",
    "TestCallLimitError",
    "TestCallRefusedError",
]

T = TypeVar("T")
API_SUFFIX = "/api/v1"
PUBLIC_SUFFIX = "/api/public"


class _PublicApi:
    """The public API's side of the exchange: no credentials, AutoCall's error mapping."""

    def auth_headers(self, exchange: Exchange, *, refresh: bool) -> Flow[dict[str, str]]:
        return {}
        yield  # pragma: no cover - makes this a generator

    def error_for(self, request: ApiRequest[Any], response: httpx.Response) -> TelephonyError | None:
        return error_for_response(request, response)


class AutoCallHook(ContactsPart, CampaignsPart, BulksPart, AccountPart, TelephonyHook):
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
        self._public: Exchange | None = None

    # --- VendorApi ----------------------------------------------------------------------
    def auth_headers(self, exchange: Exchange, *, refresh: bool) -> Flow[dict[str, str]]:
        key = self.settings.password
        if not key:
            raise ConfigurationError(f"connection {self.conn_id!r}: set password to the AutoCall.kz API key")
        # the document marks both headers required on every v1 endpoint
        return {
            "Authorization": f"Bearer {key}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        yield  # pragma: no cover - makes this a generator

    def error_for(self, request: ApiRequest[Any], response: httpx.Response) -> TelephonyError | None:
        return error_for_response(request, response)

    # --- the public API ------------------------------------------------------------------
    @property
    def public_base_url(self) -> str:
        """The public API's base URL: the host's ``/api/v1`` replaced by ``/api/public``, or the
        connection extra ``public_base_url``."""
        settings = self.settings
        explicit = settings.extras.get("public_base_url")
        if explicit:
            return base_url_from(str(explicit), None, "", conn_id=self.conn_id)
        if settings.base_url.endswith(API_SUFFIX):
            return settings.base_url[: -len(API_SUFFIX)] + PUBLIC_SUFFIX
        raise ConfigurationError(
            f"connection {self.conn_id!r}: the host does not end with {API_SUFFIX}, so the public API's "
            "address cannot be derived from it: set the extra 'public_base_url' (e.g. "
            "https://autocall.kz/api/public)"
        )

    @property
    def public_exchange(self) -> Exchange:
        """The exchange of the public API: no key, its own limiter (the test call: 2 a minute)."""
        if self._public is None:
            settings = replace(
                self.settings, base_url=self.public_base_url, password=None, rate_limit_per_minute=None
            )
            self._public = Exchange(
                settings,
                _PublicApi(),
                limiter_key=f"{type(self).__name__}:public:{self.conn_id}",
                rate_limit_per_minute=self.rate_limit_per_minute,
                rate_limits={"sendTestCall": TEST_CALLS_PER_MINUTE},
                per_endpoint=True,
            )
        return self._public

    def _public_run(self, request: ApiRequest[T]) -> T:
        return self.public_exchange.run(request)

    # --- lifecycle ----------------------------------------------------------------------
    def close(self) -> None:
        if self._public is not None:
            self._public.close()
        super().close()

    async def aclose(self) -> None:
        if self._public is not None:
            await self._public.aclose()
        await super().aclose()

    # --- connection test ----------------------------------------------------------------
    def probe(self) -> str:
        """``GET /balance``: proves the key is accepted."""
        self.get_balance()
        return "GET /balance answered"
