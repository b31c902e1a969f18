"""AutoCall.kz models, from ``seeds/autocall-kz.openapi.yaml.txt`` (API v1 and the public API).

This module holds the *answers*: tolerant models (unknown fields kept, every field the document does
not make essential may be missing, enum-like strings stay strings so a new status never breaks a
pipeline), named after the document's schemas.  The *requests* — strict, checked before anything is
sent — are in :mod:`.autocall_requests` and re-exported here, so ``from
airflow_provider_telephony.models import autocall as m`` gives both.

Dates in answers stay the strings the API sends (``"2024-03-31 05:55:19"``, no zone): the document
gives their format, not their time zone.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from airflow_provider_telephony.models.autocall_account import (
    AccountSettings,
    AccountStatistics,
    Balance,
    CallerId,
    CallerIdRental,
    CallerIds,
    ConfirmedNumber,
    Dashboard,
    DayActivity,
    FlashCall,
    Notification,
    NotificationRead,
    Notifications,
    PaymentLink,
    Payments,
    ServerMessage,
    Tariff,
    Tariffs,
    TestCallResult,
    Transaction,
)
from airflow_provider_telephony.models.autocall_common import (
    AUDIO_VOICES,
    CONFIRMED_NUMBER_RE,
    FLASH_NUMBER_RE,
    LIST_NUMBER_RE,
    MAX_CALCULATE_BULK_NUMBERS,
    MAX_CLIENT_ID,
    MAX_INLINE_NUMBERS,
    MAX_LIST_CLIENT_ID,
    MAX_LIST_NUMBERS,
    MAX_TRIES,
    NUMBER_RE,
    SOUND_VOICES,
    TEST_CALL_PHONE_RE,
    TOLERANT,
    TRIES_INTERVALS,
    Page,
    build,
    check_number,
)
from airflow_provider_telephony.models.autocall_requests import (
    AppendListRequest,
    AudioData,
    AudioSpec,
    AutocallSpec,
    BulkContact,
    BulkSpec,
    ConfirmNumberRequest,
    CreateAutocallRequest,
    CreateBulkRequest,
    CreateListRequest,
    CreateScenarioRequest,
    CreateSoundRequest,
    FlashCallRequest,
    InlineContact,
    ListContact,
    ListQuery,
    PageQuery,
    PaymentRequest,
    RentCallerIdRequest,
    SoundData,
    TestCallRequest,
    UpdateAutocallRequest,
    UpdateBulkRequest,
    UpdateListRequest,
    UpdateScenarioRequest,
    UpdateSettingsRequest,
    UpdateSoundRequest,
)

#: everything importable from here: the answers below, and the requests and checks re-exported
__all__ = [
    "AUDIO_VOICES", "AUTOCALL_FINAL_STATUSES", "AUTOCALL_STATUSES", "CALL_FINAL_STATUSES",
    "CALL_STATUSES", "CONFIRMED_NUMBER_RE", "FLASH_NUMBER_RE", "LIST_NUMBER_RE",
    "MAX_CALCULATE_BULK_NUMBERS", "MAX_CLIENT_ID", "MAX_INLINE_NUMBERS", "MAX_LIST_CLIENT_ID",
    "MAX_LIST_NUMBERS", "MAX_TRIES", "MESSAGE_FINAL_STATUSES", "MESSAGE_STATUSES",
    "NOTIFICATION_TYPES", "NUMBER_RE", "SOUND_VOICES", "TEST_CALL_PHONE_RE", "TOLERANT",
    "TRIES_INTERVALS", "AccountSettings", "AccountStatistics", "AppendListRequest", "AudioData",
    "AudioSpec", "Autocall", "AutocallCounters", "AutocallDetail", "AutocallSpec", "Balance",
    "Bulk", "BulkContact", "BulkDetail", "BulkSpec", "Call", "CallerId", "CallerIdRental",
    "CallerIds", "ConfirmNumberRequest", "ConfirmedNumber", "Contact", "ContactList",
    "ContactListDetail", "Cost", "CreateAutocallRequest", "CreateBulkRequest", "CreateListRequest",
    "CreateScenarioRequest", "CreateSoundRequest", "Dashboard", "DayActivity", "FlashCall",
    "FlashCallRequest", "InlineContact", "ListContact", "ListQuery", "ListenText", "Message",
    "Notification", "NotificationRead", "Notifications", "Page", "PageQuery", "PaymentLink",
    "PaymentRequest", "Payments", "RentCallerIdRequest", "Scenario", "ScenarioDetail",
    "ServerMessage", "Sound", "SoundData", "Tariff", "Tariffs", "TestCallRequest", "TestCallResult",
    "Transaction", "UpdateAutocallRequest", "UpdateBulkRequest", "UpdateListRequest",
    "UpdateScenarioRequest", "UpdateSettingsRequest", "UpdateSoundRequest", "build", "check_number",
]  # fmt: skip


#: campaign (``AutocallSummary.status``) and SMS mailing (``BulkSummary.status``) statuses
AUTOCALL_STATUSES = ("running", "completed", "awaiting", "moderation", "denied")
#: the statuses the document marks final ("Окончательный: да")
AUTOCALL_FINAL_STATUSES = frozenset({"completed", "denied"})
#: one call of a campaign (``Call.status``)
CALL_STATUSES = ("in_queue", "success", "recalled", "no_answer", "busy", "error", "spam")
CALL_FINAL_STATUSES = frozenset(CALL_STATUSES) - {"in_queue"}
#: one SMS of a mailing (``Message.status``)
MESSAGE_STATUSES = (
    "queued", "disabled", "new", "sent", "delivered", "pending", "failed", "expired", "undeliverable",
    "rejected",
)  # fmt: skip
MESSAGE_FINAL_STATUSES = frozenset(
    {"delivered", "failed", "expired", "undeliverable", "rejected", "disabled"}
)
NOTIFICATION_TYPES = (
    "SoundConfirmed", "SoundCommented", "SMSBulkConfirmed", "SMSBulkCommented", "SMSBulkFinished",
    "ScenarioConfirmed", "ScenarioCommented", "AutocallConfirmed", "AutocallCommented",
    "AutocallFinished", "ImportComplete", "ImportFailure", "NonexistentContactsDetected",
    "ExportIsReady", "ExportFailure", "RefreshBalance", "LowBalance", "CallerIdExpiringSoon",
    "CallerIdReleased",
)  # fmt: skip


# --- contact lists and contacts ---------------------------------------------------------------
class ContactList(BaseModel):
    """``ContactList``; also the answers of ``POST /lists/append/{id}`` and the relaunch (a new list)."""

    model_config = TOLERANT

    id: int
    client_id: str | None = None
    name: str | None = None
    importing: bool | None = None
    #: ids of contacts whose numbers the operator reported as not existing
    nonexistent: list[int] | None = None
    contacts_count: int | None = None
    #: how many campaigns or mailings used the list
    used: int | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Contact(BaseModel):
    """``Contact``: one number of a list."""

    model_config = TOLERANT

    id: int
    list_id: int | None = None
    number: str | None = None
    extra: str | None = None
    variables: dict[str, Any] | None = None
    created_at: str | None = None
    updated_at: str | None = None


class ContactListDetail(ContactList):
    """``GET /lists/{id}``: the list and one page of its contacts."""

    contacts: Page[Contact] | None = None


# --- sounds and scenarios ---------------------------------------------------------------------
class Sound(BaseModel):
    """``Sound``: an audio recording (uploaded or synthesised), moderated before use."""

    model_config = TOLERANT

    id: int
    client_id: str | None = None
    name: str | None = None
    #: seconds
    duration: int | None = None
    #: approved by the moderators
    confirmed: bool | None = None
    comment: str | None = None
    confirmed_at: str | None = None
    playback_url: str | None = None
    used: int | None = None
    created_at: str | None = None
    updated_at: str | None = None


class ListenText(BaseModel):
    """``GET /sounds/listen/{file}?type=text``: the recognised speech of a subscriber's answer."""

    model_config = TOLERANT

    text: str | None = None


class Scenario(BaseModel):
    """``Scenario``: an interactive call script."""

    model_config = TOLERANT

    id: int
    client_id: str | None = None
    name: str | None = None
    #: the highest cost of one call
    max_cost: float | str | None = None
    comment: str | None = None
    confirmed_at: str | None = None
    used: int | None = None
    created_at: str | None = None
    updated_at: str | None = None


class ScenarioDetail(Scenario):
    """``ScenarioDetail``: the scenario with its structure (``data``)."""

    data: Any = None


# --- campaigns and calls ----------------------------------------------------------------------
class Autocall(BaseModel):
    """``AutocallSummary``: a campaign as listed; ``status`` in :data:`AUTOCALL_STATUSES`."""

    model_config = TOLERANT

    id: int
    client_id: str | None = None
    name: str | None = None
    type: str | None = None
    status: str | None = None
    date_from: str | None = None
    time_from: str | None = None
    time_to: str | None = None
    max_tries: int | None = None
    tries_interval: int | None = None
    max_cost: float | str | None = None
    final_cost: float | str | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def is_final(self) -> bool:
        """Whether the campaign reached a status the document marks final (completed, denied)."""
        return self.status in AUTOCALL_FINAL_STATUSES


class AutocallCounters(BaseModel):
    """``AutocallDetail.counters``: call outcomes so far."""

    model_config = TOLERANT

    success_percentage: float | None = None
    success: int | None = None
    recalled: int | None = None
    no_answer: int | None = None
    busy: int | None = None
    error: int | None = None
    spam: int | None = None
    tries: int | None = None
    #: seconds of conversation billed
    duration: int | None = None
    total: int | None = None


class Call(BaseModel):
    """``Call``: one number of a campaign; ``status`` in :data:`CALL_STATUSES`."""

    model_config = TOLERANT

    id: int
    autocall_id: int | None = None
    number: str | None = None
    extra: str | None = None
    #: a call is in progress right now
    lock: bool | None = None
    tries: int | None = None
    date_tries: list[str] | None = None
    status_tries: list[str] | None = None
    last_try_at: str | None = None
    #: seconds of the outgoing conversation (billed)
    duration: int | None = None
    #: seconds of the subscriber's call back (free)
    r_duration: int | None = None
    status: str | None = None
    #: the scenario's results (interactive campaigns)
    data: Any = None
    variables: dict[str, Any] | None = None
    created_at: str | None = None
    updated_at: str | None = None


class AutocallDetail(Autocall):
    """``AutocallDetail``: the campaign, its statistics and one page of its calls (``?page=``)."""

    sms: bool | None = None
    sms_unanswered: bool | None = None
    text: str | None = None
    text_unanswered: str | None = None
    audio_id: list[int | float | str] | None = None
    scenario_id: int | None = None
    processed: int | None = None
    speeches: int | None = None
    lifetime: bool | None = None
    record: bool | None = None
    comment: str | None = None
    callback_url: str | None = None
    caller_id: str | None = None
    finished_at: str | None = None
    calls_count: int | None = None
    processed_percentage: float | None = None
    counters: AutocallCounters | None = None
    calls: Page[Call] | None = None


class Cost(BaseModel):
    """``POST /autocalls/calculate`` and ``POST /bulks/calculate``: the highest possible cost."""

    model_config = TOLERANT

    max_cost: float | None = None


# --- SMS mailings -----------------------------------------------------------------------------
class Bulk(BaseModel):
    """``BulkSummary`` (and ``BulkDetail``'s fields when the answer has them): an SMS mailing."""

    model_config = TOLERANT

    id: int
    client_id: str | None = None
    name: str | None = None
    status: str | None = None
    date_from: str | None = None
    time_from: str | None = None
    text: str | None = None
    segments: int | None = None
    recipients: int | None = None
    list_id: list[int] | None = None
    max_cost: str | float | None = None
    final_cost: str | float | None = None
    comment: str | None = None
    callback_url: str | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def is_final(self) -> bool:
        """Whether the mailing reached a status the document marks final (completed, denied)."""
        return self.status in AUTOCALL_FINAL_STATUSES


class Message(BaseModel):
    """``Message``: one SMS of a mailing; ``status`` in :data:`MESSAGE_STATUSES`."""

    model_config = TOLERANT

    id: int | str
    bulk_id: int | None = None
    number: str | None = None
    extra: str | None = None
    variables: dict[str, Any] | None = None
    status: str | None = None
    #: the recipient's mobile operator
    provider: str | None = None
    init_time: str | None = None
    status_time: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class BulkDetail(Bulk):
    """``BulkDetail``: the mailing and one page of its messages (``?page=``)."""

    messages: Page[Message] | None = None
