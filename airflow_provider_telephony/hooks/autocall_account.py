"""AutoCall.kz account: settings and confirmed numbers, balance and payments, the dashboard,
notifications, rented caller ids, flash calls, and the public API (tariffs, test call) — the part of
:class:`~.autocall.AutoCallHook` around the account (a mixin; the hook supplies how requests are run)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from airflow_provider_telephony.core.errors import RequestValidationError
from airflow_provider_telephony.core.flow import ApiRequest, Flow
from airflow_provider_telephony.core.redact import mask_phone, register_secret
from airflow_provider_telephony.core.responses import json_parser
from airflow_provider_telephony.hooks.autocall_wire import (
    FLASH_CALLS,
    TEST_CALLS,
    HookPart,
    almaty_day,
    check_uuid,
    delete_request,
    pages,
)
from airflow_provider_telephony.models import autocall as m

if TYPE_CHECKING:
    import httpx

    from airflow_provider_telephony.core.exchange import Exchange

CONFIRMED_NUMBERS = TypeAdapter(list[m.ConfirmedNumber])
VISIT_CARD_TYPES = ("visit_card_audio", "visit_card_text")


def settings_request() -> ApiRequest[m.AccountSettings]:
    return ApiRequest(
        name="get-settings",
        method="GET",
        path="/settings",
        parse=json_parser(m.AccountSettings, "get-settings"),
    )


def confirmed_numbers_request() -> ApiRequest[list[m.ConfirmedNumber]]:
    return ApiRequest(
        name="get-settings-confirmed-numbers",
        method="GET",
        path="/settings/confirmed_numbers",
        parse=json_parser(CONFIRMED_NUMBERS, "get-settings-confirmed-numbers"),
    )


def payments_request(page: int) -> ApiRequest[m.Payments]:
    return ApiRequest(
        name="get-payments",
        method="GET",
        path="/payments",
        params={"page": page},
        parse=json_parser(m.Payments, "get-payments"),
    )


def notifications_request() -> ApiRequest[m.Notifications]:
    return ApiRequest(
        name="get-notifications",
        method="GET",
        path="/notifications",
        parse=json_parser(m.Notifications, "get-notifications"),
    )


def caller_ids_request() -> ApiRequest[m.CallerIds]:
    return ApiRequest(
        name="get-caller-ids",
        method="GET",
        path="/caller-ids",
        parse=json_parser(m.CallerIds, "get-caller-ids"),
    )


class AccountPart(HookPart):
    """Settings, confirmed numbers, balance and payments, dashboard, notifications, caller ids,
    flash calls and the public API."""

    if TYPE_CHECKING:

        def _public_run(self, request: ApiRequest[Any]) -> Any: ...

    # --- settings ---------------------------------------------------------------------------
    def get_settings(self) -> m.AccountSettings:
        """``GET /settings`` (get-settings): the account, its prices, confirmed numbers, statistics."""
        return self._run(settings_request())

    def update_settings(
        self,
        *,
        name: str | None = None,
        subscribe: bool | None = None,
        notifications_subscribe: bool | None = None,
        visit_card_audio: int | None = None,
        visit_card_text: str | None = None,
    ) -> m.AccountSettings:
        """``PUT /settings`` (put-settings): only the arguments given are sent (safe to send again)."""
        body = m.build(
            m.UpdateSettingsRequest,
            name=name,
            subscribe=subscribe,
            notifications_subscribe=notifications_subscribe,
            visit_card_audio=visit_card_audio,
            visit_card_text=visit_card_text,
        )
        return self._run(
            ApiRequest(
                name="put-settings",
                method="PUT",
                path="/settings",
                json=body.body(),
                parse=json_parser(m.AccountSettings, "put-settings"),
                idempotent=True,
            )
        )

    def delete_visit_card(self, visit_card_type: str) -> None:
        """``DELETE /settings/{visit_card_type}`` (delete-settings-visit-card): remove the audio
        (``visit_card_audio``) or text (``visit_card_text``) business card."""
        if visit_card_type not in VISIT_CARD_TYPES:
            raise RequestValidationError(
                "visit_card_type",
                "must be one of 'visit_card_audio', 'visit_card_text'",
                value=visit_card_type,
            )

        def gone(exchange: Exchange) -> Flow[bool]:
            settings = yield from exchange.attempt(settings_request())
            return getattr(settings, visit_card_type) is None

        self._run(
            delete_request(
                "delete-settings-visit-card",
                f"/settings/{visit_card_type}",
                gone,
                f"(Настройки) whether the {visit_card_type} is still set",
            )
        )

    # --- confirmed numbers ------------------------------------------------------------------
    def list_confirmed_numbers(self) -> list[m.ConfirmedNumber]:
        """``GET /settings/confirmed_numbers`` (get-settings-confirmed-numbers): every added number."""
        return self._run(confirmed_numbers_request())

    def add_confirmed_number(self, number: str) -> m.ConfirmedNumber:
        """``POST /settings/confirmed_numbers`` step 1 (post-settings-confirmed-numbers): the service
        calls ``number``; the caller's last 5 digits are the code for :meth:`confirm_number`.

        It reaches a person, so it is done once: a number already added (confirmed, or waiting — the
        service removes unconfirmed ones after 10 minutes) is returned without sending, and a lost
        answer is settled by looking for the number.
        """
        body = m.build(m.ConfirmNumberRequest, number=number)
        existing = self._confirmed(self.list_confirmed_numbers(), number)
        if existing is not None:
            return existing

        def recover(exchange: Exchange) -> Flow[m.ConfirmedNumber | None]:
            return self._confirmed((yield from exchange.attempt(confirmed_numbers_request())), number)

        return self._run(
            ApiRequest(
                name="post-settings-confirmed-numbers",
                method="POST",
                path="/settings/confirmed_numbers",
                json=body.body(),
                parse=json_parser(m.ConfirmedNumber, "post-settings-confirmed-numbers"),
                recover=recover,
                effect=f"(Настройки) whether number {mask_phone(number)} is among the confirmed numbers",
            )
        )

    @staticmethod
    def _confirmed(numbers: list[m.ConfirmedNumber], number: str) -> m.ConfirmedNumber | None:
        return next((item for item in numbers if item.number == number), None)

    def confirm_number(self, verification_code: int) -> m.ConfirmedNumber:
        """``POST /settings/confirmed_numbers`` step 2: the 5-digit code from the incoming call.

        A lost answer is not re-sent (:class:`OutcomeUnknownError`): check ``verified_at`` with
        :meth:`list_confirmed_numbers`.
        """
        body = m.build(m.ConfirmNumberRequest, verification_code=verification_code)
        return self._run(
            ApiRequest(
                name="post-settings-confirmed-numbers",
                method="POST",
                path="/settings/confirmed_numbers",
                json=body.body(),
                parse=json_parser(m.ConfirmedNumber, "post-settings-confirmed-numbers"),
                effect="(Настройки) whether the number now has verified_at",
            )
        )

    # --- balance and payments ---------------------------------------------------------------
    def get_balance(self) -> m.Balance:
        """``GET /balance`` (get-balance): the balance and the currency symbol."""
        return self._run(
            ApiRequest(name="balance", method="GET", path="/balance", parse=json_parser(m.Balance, "balance"))
        )

    def list_payments(self, *, page: int = 1) -> m.Payments:
        """``GET /payments`` (get-payments): the balance in detail and page ``page`` of transactions."""
        return self._run(payments_request(m.build(m.PageQuery, page=page).page))

    def iter_transactions(self) -> Iterator[m.Transaction]:
        """Every transaction (the pages of ``transactions`` inside ``GET /payments``)."""
        for page in pages(
            lambda p: self._run(payments_request(p["page"])).transactions, {"page": 1}, "get-payments"
        ):
            yield from page.data

    def create_payment(self, amount: int) -> m.PaymentLink:
        """``POST /payments`` (post-payments): a card payment session of ``amount`` tenge (≥ 200);
        returns the page where it is paid.

        The API offers no way to find a session whose answer was lost: it is not re-sent
        (:class:`OutcomeUnknownError`); nothing is charged until someone pays on the page.
        """
        body = m.build(m.PaymentRequest, amount=amount)
        return self._run(
            ApiRequest(
                name="post-payments",
                method="POST",
                path="/payments",
                json=body.body(),
                parse=json_parser(m.PaymentLink, "post-payments"),
                effect="(Платежи) no payment link was received; start a new one if needed",
            )
        )

    # --- dashboard and notifications --------------------------------------------------------
    def get_dashboard(self) -> m.Dashboard:
        """``GET /dashboard`` (get-dashboard): active campaigns, queue, balance, activity."""
        return self._run(
            ApiRequest(
                name="get-dashboard",
                method="GET",
                path="/dashboard",
                parse=json_parser(m.Dashboard, "get-dashboard"),
            )
        )

    def list_notifications(self) -> m.Notifications:
        """``GET /notifications`` (get-notifications): every notification and the unread count."""
        return self._run(notifications_request())

    async def alist_notifications(self) -> m.Notifications:
        return await self._arun(notifications_request())

    def mark_notification_read(self, notification_id: str) -> m.NotificationRead:
        """``PUT /notifications/{id}`` (put-notifications-id): mark it read (safe to send again)."""
        return self._run(
            ApiRequest(
                name="put-notifications-id",
                method="PUT",
                path=f"/notifications/{check_uuid(notification_id, 'notification_id')}",
                parse=json_parser(m.NotificationRead, "put-notifications-id"),
                idempotent=True,
            )
        )

    def delete_notification(self, notification_id: str, *, missing_ok: bool = False) -> None:
        """``DELETE /notifications/{id}`` (delete-notifications-id)."""
        check_uuid(notification_id, "notification_id")

        def gone(exchange: Exchange) -> Flow[bool]:
            listed = yield from exchange.attempt(notifications_request())
            return all(item.id != notification_id for item in listed.data)

        self._delete(
            delete_request(
                "delete-notifications-id",
                f"/notifications/{notification_id}",
                gone,
                f"whether notification {notification_id} still exists",
            ),
            missing_ok,
        )

    # --- caller ids -------------------------------------------------------------------------
    def list_caller_ids(self) -> m.CallerIds:
        """``GET /caller-ids`` (get-caller-ids): your rented numbers and the tariff's limits."""
        return self._run(caller_ids_request())

    def rent_caller_id(self, caller_id_id: int) -> m.CallerIdRental:
        """``POST /caller-ids`` (post-caller-ids): rent pool number ``caller_id_id`` for a month (the
        rent is charged).  Done once: a number already in :meth:`list_caller_ids` under that id is
        returned without sending, and a lost answer is settled by looking there.

        402: :class:`InsufficientFundsError`; 403: :class:`CallerIdUnavailableError`; 409:
        :class:`CallerIdTakenError`.
        """
        body = m.build(m.RentCallerIdRequest, caller_id_id=caller_id_id)

        def rented(listed: m.CallerIds) -> m.CallerIdRental | None:
            found = next((item for item in listed.data if item.id == caller_id_id), None)
            if found is None:
                return None
            return m.CallerIdRental(number=found.number, rented_until=found.rented_until, id=found.id)

        existing = rented(self.list_caller_ids())
        if existing is not None:
            return existing

        def recover(exchange: Exchange) -> Flow[m.CallerIdRental | None]:
            return rented((yield from exchange.attempt(caller_ids_request())))

        return self._run(
            ApiRequest(
                name="post-caller-ids",
                method="POST",
                path="/caller-ids",
                json=body.body(),
                parse=json_parser(m.CallerIdRental, "post-caller-ids"),
                recover=recover,
                effect=f"(Номерной пул) whether number id {caller_id_id} is among your rented numbers",
            )
        )

    def release_caller_id(self, caller_id_id: int, *, missing_ok: bool = False) -> None:
        """``DELETE /caller-ids/{id}`` (delete-caller-ids-id): give a rented number back early (the
        rent is not refunded)."""
        body = m.build(m.RentCallerIdRequest, caller_id_id=caller_id_id)

        def gone(exchange: Exchange) -> Flow[bool]:
            listed = yield from exchange.attempt(caller_ids_request())
            return all(item.id != body.caller_id_id for item in listed.data)

        self._delete(
            delete_request(
                "delete-caller-ids-id",
                f"/caller-ids/{body.caller_id_id}",
                gone,
                f"whether number id {caller_id_id} is still rented",
            ),
            missing_ok,
        )

    # --- flash calls ------------------------------------------------------------------------
    def send_flash_call(
        self, number: str, *, digits: int | None = None, code: str | None = None
    ) -> m.FlashCall:
        """``POST /flash-calls`` (post-flash-calls): verify a subscriber by a missed call; the last N
        digits of the caller's number are the code (``FlashCall.otp``).

        Give ``digits`` (3-6: the service picks the code; always works) or ``code`` (3-6 digits of
        your own; 422 when no pool number ends with it).  The code is a secret: it is registered with
        the secrets masker at once (codes under 4 digits are too short to mask) and hidden from reprs.

        At most 3 attempts per number in 5 minutes (the document): a 4th in this process is refused
        before sending with :class:`FlashCallLimitError` (``retry_after`` says when), as is the
        server's 429.  The API has no way to look a flash call up: a lost answer is never re-sent
        (:class:`OutcomeUnknownError`) — the subscriber may have been called.
        """
        body = m.build(m.FlashCallRequest, number=number, digits=digits, code=code)
        if code is not None:
            register_secret(code, "flash_call_code")
        FLASH_CALLS.reserve(body.number, mask_phone(body.number))

        def parse(response: httpx.Response) -> m.FlashCall:
            call: m.FlashCall = json_parser(m.FlashCall, "post-flash-calls")(response)
            call._digits = body.length
            register_secret(call.code, "flash_call_code")
            register_secret(call.otp, "flash_call_code")
            return call

        return self._run(
            ApiRequest(
                name="post-flash-calls",
                method="POST",
                path="/flash-calls",
                json=body.body(),
                parse=parse,
                effect=f"(Flash Calls) whether {mask_phone(body.number)} was called",
            )
        )

    # --- public API (no key) ----------------------------------------------------------------
    def get_tariffs(self) -> m.Tariffs:
        """``GET /api/public/tariffs`` (getTariffs): the plans and their unit prices (no key needed)."""
        return self._public_run(
            ApiRequest(
                name="getTariffs",
                method="GET",
                path="/tariffs",
                parse=json_parser(m.Tariffs, "getTariffs"),
                headers={"Accept": "application/json"},
                authenticated=False,
            )
        )

    def send_test_call(self, phone: str) -> m.TestCallResult:
        """``POST /api/public/test-call`` (sendTestCall): a real demo call from AutoCall.kz to ``phone``
        (the 10 digits after +7, e.g. ``"7771234567"``); no key needed.

        The document's limits: one call per number a day (a second one in this process the same
        Almaty day is refused before sending: :class:`TestCallLimitError`), 2 requests a minute per
        IP (paced client-side), 09:00-21:30 Almaty time (the server answers 422 otherwise).  It reaches
        a person and cannot be looked up: a lost answer is never re-sent (:class:`OutcomeUnknownError`).
        403: :class:`TestCallRefusedError` (blacklisted).
        """
        body = m.build(m.TestCallRequest, phone=phone)
        TEST_CALLS.reserve((body.phone, almaty_day()), mask_phone(body.phone))
        return self._public_run(
            ApiRequest(
                name="sendTestCall",
                method="POST",
                path="/test-call",
                json=body.body(),
                parse=json_parser(m.TestCallResult, "sendTestCall"),
                headers={"Accept": "application/json"},
                authenticated=False,
                effect=f"(the phone) whether {mask_phone(body.phone)} got a test call",
            )
        )
