"""Tele2 corporate PBX (ATS) CRM OpenAPI models, from ``seeds/tele2-ats-crm-openapi.md``.

Responses are tolerant: unknown fields are kept and any field may be missing (the document's own
examples leave fields out), enum-like strings stay strings so a new call type never breaks an
export.  Requests are strict and checked before anything is sent; every phone number is the
document's ``7XXXXXXXXXX`` (11 digits starting with 7).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from airflow_provider_telephony.core.windows import EARLIEST, LATEST

PHONE_RE = re.compile(r"7\d{10}")
#: records per ``call-records/info`` request: the document sets no maximum (default 10); a moderate
#: page keeps answers small and requests few
DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 1000
#: lifetimes the document gives the token pair
ACCESS_TOKEN_LIFETIME = 24 * 3600.0
REFRESH_TOKEN_LIFETIME = 7 * 24 * 3600.0

#: the manager endpoints' answers (``POST``/``PUT /managers``)
SUCCESS = "SUCCESS"
MANAGER_HANDLING_ALL_CUSTOMERS_ALREADY_EXISTS = "MANAGER_HANDLING_ALL_CUSTOMERS_ALREADY_EXISTS"
CUSTOMER_ALREADY_ASSIGNED = "CUSTOMER_ALREADY_ASSIGNED"
#: ``POST /blacklist`` for a number already listed: the wanted state holds
DUPLICATE_BLACK_LIST_NUMBER = "DUPLICATE_BLACK_LIST_NUMBER"

CALL_TYPES = (
    "SINGLE_CHANNEL", "MULTI_CHANNEL", "UNKNOWN_CALL", "INTERNAL", "HIMSELF", "INTERNAL_QUEUE",
    "CRM_OUTGOING", "VOICEMAIL", "CONFERENCE", "CALLBACK", "PICKUP_CALL", "FAX", "OUTGOING",
    "CRM_CALLBACK",
)  # fmt: skip
CALL_STATUSES = (
    "ANSWERED_COMMON", "ANSWERED_BY_ORIGINAL_CLIENT", "ANSWERED_BY_BUSY_FORWARD_CLIENT",
    "ANSWERED_BY_NO_ANSWER_FORWARD_CLIENT", "NOT_ANSWERED_COMMON", "CANCELLED_BY_CALLER",
    "DENIED_DUE_TO_MAX_SESSION", "DENIED_DUE_TO_INCOMING_CALLS_BLOCKED",
    "DENIED_DUE_TO_OUTGOING_CALLS_BLOCKED", "DENIED_DUE_TO_ONLY_INTERNAL_CALLS_ENABLED",
    "DENIED_DUE_TO_BLACK_LISTED", "DENIED_NOT_IN_WHITE_LIST", "DENIED_DUE_TO_NOT_WORK_TIME",
    "DENIED_DUE_TO_UNKNOWN_NUMBER", "DESTINATION_BUSY", "CANCELLED_BY_PICKUP",
)  # fmt: skip

_TOLERANT = ConfigDict(extra="allow", populate_by_name=True)
_STRICT = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def check_phone(value: str) -> str:
    """A PBX or customer number as the API takes it: ``7XXXXXXXXXX``."""
    if not PHONE_RE.fullmatch(value):
        raise ValueError("must be 11 digits starting with 7 (7XXXXXXXXXX)")
    return value


Phone = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(check_phone)]


# --- responses ---------------------------------------------------------------------------------
class CurrentCall(BaseModel):
    """``GET /monitoring/calls``: a call in progress (``called*`` is missing until it is routed)."""

    model_config = _TOLERANT

    callType: str | None = None
    callerNumberShort: str | None = None
    callerNumberFull: str | None = None
    calledNumberShort: str | None = None
    calledNumberFull: str | None = None


class QueueEntry(BaseModel):
    """``GET /monitoring/calls/pending``: callers waiting in one queue."""

    model_config = _TOLERANT

    queueName: str | None = None
    calls: list[str] = Field(default_factory=list)


class Employee(BaseModel):
    """``GET /employees``: a number registered in the PBX (only ``employeeId`` is always there)."""

    model_config = _TOLERANT

    employeeId: int
    name: str | None = None
    surname: str | None = None
    fullNumber: str | None = None
    shortNumber: str | None = None
    email: str | None = None
    groupName: str | None = None


class CommonStatistics(BaseModel):
    """``GET /statistics/common``: company-wide figures, or one number's with ``subscriberNumber``."""

    model_config = _TOLERANT

    allCallCount: int | None = None
    successCallCount: int | None = None
    outgoingCallCount: int | None = None
    lostCallCount: int | None = None
    commonCallDuration: float | None = None
    averageCallDuration: float | None = None
    maxCallDuration: float | None = None
    callCountPerDay: float | None = None
    callCountPerHour: float | None = None
    mnAvgCallDuration: float | None = None
    mnMaxCallDuration: float | None = None
    averageCallCountPerHour: float | None = None
    transferCallCount: int | None = None
    transferCallDuration: float | None = None
    averageTransferCallDuration: float | None = None
    hangupACallCount: int | None = None
    hangupBCallCount: int | None = None
    uniqueCallCount: int | None = None
    redialCount: int | None = None
    internalCallCount: int | None = None
    internalCallDuration: float | None = None
    averageInternalCallDuration: float | None = None


class StatisticsRecord(CommonStatistics):
    """A line of the statistics export: whose figures (``company`` or a number) and for which window."""

    subject: str
    start: str
    end: str


class JournalEntry(BaseModel):
    """``GET /statistics/journal``: one number's call counts (timestamps in epoch seconds)."""

    model_config = _TOLERANT

    number: str | None = None
    startTimestamp: int | None = None
    endTimestamp: int | None = None
    numberOfCalls: int | None = None
    numberOfSuccessCalls: int | None = None


class CallRecord(BaseModel):
    """``GET /call-records/info``: one call; ``recordFileName`` is empty when it was not answered."""

    model_config = _TOLERANT

    date: datetime | None = None
    callType: str | None = None
    destinationNumber: str | None = None
    callerNumber: str | None = None
    callerName: str | None = None
    calleeNumber: str | None = None
    calleeName: str | None = None
    callDuration: float | None = None
    conversationDuration: float | None = None
    callStatus: str | None = None
    recordFileName: str | None = None

    @property
    def recorded(self) -> bool:
        return bool(self.recordFileName)


class TranscriptWord(BaseModel):
    """``GET /call-records/file/stt``: a word; ``channel`` A is the calling party, B the called one."""

    model_config = _TOLERANT

    channel: str | None = None
    startTime: float | None = None
    endTime: float | None = None
    word: str | None = None


class Customer(BaseModel):
    """A customer routed to a personal manager."""

    model_config = _TOLERANT

    id: int | None = None
    name: str | None = None
    realNumber: str | None = None
    companyName: str | None = None
    info: str | None = None
    isVip: bool | None = None
    clientId: int | None = None
    companyId: int | None = None


class Manager(BaseModel):
    """``GET /managers``: an employee who takes the calls of his customers (or of all of them)."""

    model_config = _TOLERANT

    id: int | None = None
    employeeId: int | None = None
    companyId: int | None = None
    name: str | None = None
    customers: list[Customer] = Field(default_factory=list)
    handleAllCustomers: bool | None = None


class BlacklistEntry(BaseModel):
    """``GET /blacklist``: a blocked number (a string); ``sourceType`` ``FILE`` or ``MANUAL``."""

    model_config = _TOLERANT

    id: int | None = None
    number: str
    sourceType: str | None = None

    @field_validator("number", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class TokenPairResponse(BaseModel):
    """``PUT /authorization/refresh/token``."""

    model_config = _TOLERANT

    accessToken: Annotated[str, StringConstraints(min_length=1)]
    refreshToken: Annotated[str, StringConstraints(min_length=1)]


# --- requests -------------------------------------------------------------------------------------
def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must be timezone-aware (the API takes ISO date-times with an offset)")
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year}")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


def iso(value: datetime) -> str:
    """An offset date-time as the API reads it (``2022-07-24T10:15:30+03:00``)."""
    return value.isoformat(timespec="seconds")


class Period(BaseModel):
    """``start``/``end`` of the statistics and call-record queries."""

    model_config = _STRICT

    start: AwareDatetime
    end: AwareDatetime

    @field_validator("end")
    @classmethod
    def _after_start(cls, value: datetime, info: Any) -> datetime:
        start = info.data.get("start")
        if start is not None and value <= start:
            raise ValueError("must be after start")
        return value

    def params(self) -> dict[str, str]:
        """Whole seconds, as the API's examples: ``start`` rounded down and ``end`` up, so nothing
        of the window is left out (records past ``end`` are filtered by the client)."""
        end = self.end if not self.end.microsecond else self.end.replace(microsecond=0) + timedelta(seconds=1)
        return {"start": iso(self.start), "end": iso(end)}


class CallRecordsQuery(Period):
    """``GET /call-records/info`` filters and paging."""

    caller: Phone | None = None
    callee: Phone | None = None
    is_recorded: bool | None = None
    size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    sort: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]+,(ASC|DESC)$")] = "date,ASC"

    def params(self) -> dict[str, str]:
        params = super().params()
        if self.caller:
            params["caller"] = self.caller
        if self.callee:
            params["callee"] = self.callee
        if self.is_recorded is not None:
            params["is_recorded"] = "true" if self.is_recorded else "false"
        params["size"] = str(self.size)
        params["sort"] = self.sort
        return params


class ClickToCall(BaseModel):
    """``POST /call/outgoing``: ring ``source`` (an employee's number), then connect ``destination``."""

    model_config = _STRICT

    destination: Phone
    source: Phone


class CustomerIn(BaseModel):
    """A customer as sent to ``POST``/``PUT /managers``."""

    model_config = _STRICT

    id: int | None = Field(None, ge=1)
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] | None = None
    realNumber: Phone
    companyName: str | None = None
    info: str | None = None
    isVip: bool = False
    clientId: int | None = None
    companyId: int | None = None


class ManagerIn(BaseModel):
    """A manager as sent to ``POST /managers`` (no ``id``) or ``PUT /managers`` (with ``id``)."""

    model_config = _STRICT

    id: int | None = Field(None, ge=1)
    employeeId: int = Field(ge=1)
    companyId: int | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    customers: list[CustomerIn] = Field(default_factory=list)
    handleAllCustomers: bool = False

    @field_validator("customers")
    @classmethod
    def _distinct(cls, customers: list[CustomerIn]) -> list[CustomerIn]:
        numbers = [c.realNumber for c in customers]
        if len(set(numbers)) != len(numbers):
            raise ValueError("lists a customer number twice")
        return customers

    def body(self) -> dict[str, Any]:
        """The JSON body: unset optional fields are left out."""
        return self.model_dump(exclude_none=True)
