"""AutoCall.kz answers of the account area: settings, confirmed numbers, balance and payments, the
dashboard, notifications, rented caller ids, flash calls and the public API (tariffs, test call).

Tolerant like every answer model (see :mod:`.autocall`); re-exported from there.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from airflow_provider_telephony.models.autocall_common import TOLERANT, Page


# --- settings, confirmed numbers --------------------------------------------------------------
class ConfirmedNumber(BaseModel):
    """``ConfirmedNumber``: a number added to the account; ``verified_at`` is ``None`` until confirmed
    (unconfirmed numbers are removed after 10 minutes)."""

    model_config = TOLERANT

    id: int
    number: str | None = None
    verified_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class AccountStatistics(BaseModel):
    """``AccountSettings.statistics``."""

    model_config = TOLERANT

    duration: int | None = None
    calls: float | str | None = None
    confirmed_numbers: int | None = None
    spam_reports: int | None = None
    lists: int | None = None
    contacts: int | None = None
    autocalls: int | None = None
    bulks: int | None = None
    sms: int | None = None


class AccountSettings(BaseModel):
    """``AccountSettings``: the account, its tariff prices, confirmed numbers and statistics."""

    model_config = TOLERANT

    name: str | None = None
    #: without +7
    phone: str | None = None
    sms_verified_at: str | None = None
    moderation: bool | None = None
    time_from: str | None = None
    time_to: str | None = None
    price: str | float | None = None
    sms_price: str | float | None = None
    sip_price: str | float | None = None
    speech_price: str | float | None = None
    synthesis_price: str | float | None = None
    recording_price: str | float | None = None
    #: hours during which subscribers who call back are tracked
    recalled: int | None = None
    subscribe: bool | None = None
    notifications_subscribe: bool | None = None
    visit_card_audio: int | None = None
    visit_card_text: str | None = None
    confirmed_numbers: list[ConfirmedNumber] | None = None
    statistics: AccountStatistics | None = None


# --- payments, dashboard ----------------------------------------------------------------------
class Balance(BaseModel):
    """``GET /balance``."""

    model_config = TOLERANT

    balance: float
    currency: str | None = None


class Transaction(BaseModel):
    """``Transaction``: ``type`` is ``withdraw`` (``total`` negative) or ``deposit``."""

    model_config = TOLERANT

    id: int
    type: str | None = None
    confirmed: bool | None = None
    meta: dict[str, Any] | None = None
    total: float | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Payments(BaseModel):
    """``GET /payments``: the balance in detail and one page of transactions."""

    model_config = TOLERANT

    balance: float | None = None
    currency: str | None = None
    #: frozen for running campaigns and mailings
    reserved: float | None = None
    incoming: float | None = None
    outgoing: float | None = None
    paid: float | None = None
    used: float | None = None
    transactions: Page[Transaction] | None = None


class PaymentLink(BaseModel):
    """``POST /payments``: where the card payment is made."""

    model_config = TOLERANT

    payment_url: str


class DayActivity(BaseModel):
    """``DayActivity``: call outcomes of a day (or of all time)."""

    model_config = TOLERANT

    all: int | None = None
    success: int | None = None
    recalled: int | None = None
    no_answer: int | None = None
    busy: int | None = None
    error: int | None = None
    spam: int | None = None


class Dashboard(BaseModel):
    """``GET /dashboard``; the document's key ``running&awaiting`` is ``running_awaiting`` here."""

    model_config = TOLERANT

    running_awaiting: int | None = Field(None, alias="running&awaiting")
    in_queue: int | None = None
    reserved: float | None = None
    balance: float | None = None
    currency: str | None = None
    #: by day (``Y-m-d``) over the last week
    week_activity: dict[str, DayActivity] | None = None
    full_activity: DayActivity | None = None


# --- notifications ----------------------------------------------------------------------------
class Notification(BaseModel):
    """``Notification``: ``type`` in :data:`NOTIFICATION_TYPES`; ``data`` depends on the type."""

    model_config = TOLERANT

    id: str
    type: str | None = None
    data: dict[str, Any] | None = None
    read_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Notifications(BaseModel):
    """``GET /notifications``: every notification (not paged) and the unread count."""

    model_config = TOLERANT

    data: list[Notification]
    unread: int | None = None


class NotificationRead(BaseModel):
    """``PUT /notifications/{id}``."""

    model_config = TOLERANT

    id: str
    read_at: str | None = None


# --- caller ids -------------------------------------------------------------------------------
class CallerId(BaseModel):
    """A rented outgoing number (``GET /caller-ids`` item)."""

    model_config = TOLERANT

    id: int
    provider: str | None = None
    number: str | None = None
    rented_until: str | None = None


class CallerIds(BaseModel):
    """``GET /caller-ids``: rented numbers and the tariff's limits."""

    model_config = TOLERANT

    data: list[CallerId] = Field(default_factory=list)
    max_caller_id_rentals: int | None = None
    #: tenge a month
    caller_id_rent_price: float | None = None


class CallerIdRental(BaseModel):
    """``POST /caller-ids``: the number rented for a month."""

    model_config = TOLERANT

    message: str | None = None
    number: str | None = None
    rented_until: str | None = None


class ServerMessage(BaseModel):
    """An answer that is only a ``message`` (``DELETE /caller-ids/{id}``)."""

    model_config = TOLERANT

    message: str | None = None


# --- flash calls ------------------------------------------------------------------------------
class FlashCall(BaseModel):
    """``POST /flash-calls``: the call was placed.

    ``code`` is a secret (the one-time code the subscriber will type): it is registered with the
    secrets masker by the hook and hidden from this model's repr.  The document says the
    verification code is "the last N digits" of ``code``; :attr:`otp` is exactly that, N being the
    ``digits`` asked for (or the length of the ``code`` given).
    """

    model_config = TOLERANT

    id: int
    code: str = Field(repr=False)
    number: str | None = None
    _digits: int | None = PrivateAttr(default=None)

    @property
    def otp(self) -> str:
        """The verification code: the last N digits of ``code``."""
        return self.code[-self._digits :] if self._digits else self.code


# --- public API -------------------------------------------------------------------------------
class Tariff(BaseModel):
    """``Tariff``: a plan (BRONZE, SILVER, GOLD) and its unit prices in tenge."""

    model_config = TOLERANT

    name: str | None = None
    #: balance from which the plan applies
    threshold: int | float | None = None
    call_price: float | None = None
    sms_price: float | None = None
    synthesis_price: float | None = None
    speech_price: float | None = None
    recording_price: float | None = None


class Tariffs(BaseModel):
    """``GET /api/public/tariffs`` (cached by the server for an hour)."""

    model_config = TOLERANT

    currency: str | None = None
    note: str | None = None
    tariffs: list[Tariff] = Field(default_factory=list)


class TestCallResult(BaseModel):
    """``POST /api/public/test-call``."""

    __test__ = False  # not a pytest test class, whatever its name

    model_config = TOLERANT

    message: str | None = None
    number: str | None = None
