"""CallKeeper (ckct.ru) call tracking models, from ``seeds/callkeeper-v1.md`` and ``seeds/callkeeper-v3.md``.

Responses are tolerant: every field may be missing (``None``), unknown fields are kept
(``extra="allow"``) and numbers sent as text are accepted (the documents contradict themselves on
a few types, e.g. ``cbOfficeNumber`` is "INT" but ``"0"`` in the sample).  Records serialise back under
the vendor's field names, declared fields first in the documents' order.

Requests are strict and checked before anything is sent; an invalid argument raises
:class:`~airflow_provider_telephony.core.errors.RequestValidationError` naming it.  The request
models hold the *URL segments* (text) they will produce, so what is validated is exactly what is sent.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

API_VERSIONS = ("v3", "v1")
DEFAULT_API_VERSION = "v3"
#: v1 response formats (``{format}`` segment); v3 knows only ``json``
V1_FORMATS = ("json", "xml", "csv", "plain")
#: v3 methods of the ``call`` entity: own calls, calls granted by a role, both
V3_METHODS = ("get", "getByRole", "getWithRole")
#: v1 entities (``info.entities`` of the documents); each has the single method ``get``
V1_ENTITIES = ("call", "callrole", "phone", "user", "campaign", "tag")
V1_CALL_ENTITIES = ("call", "callrole")
#: the v1 entities that hold the calls a v3 method returns (v1 has no "with role" entity: both are read)
V1_ENTITIES_FOR_METHOD: dict[str, tuple[str, ...]] = {
    "get": ("call",),
    "getByRole": ("callrole",),
    "getWithRole": ("call", "callrole"),
}

#: the documented in-body errors (``inbound.error``), verbatim
ERR_NO_ROWS = "No rows found"
ERR_FORMAT = "Type to return is not available"
ERR_VERSION = "It is wrong API version"
ERR_USER = "User is not recognized"
ERR_ENTITY = "Entity does not exist"
ERR_METHOD = "Method does not exist"
ERR_PAGE = "Incorrect page is set"
ERR_START = "Start date has wrong type. Possible format is 'Y-m-d' or timestamp"

#: ``callTime`` / ``timeStart`` layout ("Y-m-d H:i:s"; read as UTC, the zone the documents' dates imply)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

R = TypeVar("R", bound=BaseModel)
#: what a page holds: the records as received (dicts) or as models
Row = TypeVar("Row")

# ----------------------------------------------------------------------------- responses

_TOLERANT = ConfigDict(
    extra="allow",
    populate_by_name=True,
    alias_generator=to_camel,
    coerce_numbers_to_str=True,
)


def parse_call_time(text: str | None) -> datetime | None:
    """A ``Y-m-d H:i:s`` vendor time as an aware UTC datetime; ``None`` when empty or unparseable."""
    if not text:
        return None
    try:
        return datetime.strptime(text.strip(), TIME_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


class V1Row(BaseModel):
    """Base of every v1 record: tolerant, serialised under the vendor's (camelCase) names."""

    model_config = _TOLERANT


class V1Call(V1Row):
    """A v1 ``call`` / ``callrole`` record (the v1 document's ``payload[]``, in its order).

    The vendor writes ``"-"`` for unknown text; ``timeStart`` and ``record`` may be ``null``.
    """

    city: str | None = None
    site: str | None = None
    state: str | None = None
    call_id: int | None = None
    device: str | None = None
    record: str | None = None
    region: str | None = None
    tags_id: list[int] | None = None
    utm_term: str | None = None
    audition: str | None = None
    call_type: str | None = None
    client_ip: str | None = None
    duration: int | None = None
    time_start: str | None = None
    utm_medium: str | None = None
    utm_source: str | None = None
    campaign_id: int | None = None
    office_name: str | None = None
    route_phone: str | None = None
    source_type: str | None = None
    utm_content: str | None = None
    client_phone: str | None = None
    office_phone: str | None = None
    utm_campaign: str | None = None
    campaign_name: str | None = None
    state_description: str | None = None

    @property
    def time_start_utc(self) -> datetime | None:
        """``timeStart`` as an aware UTC datetime (``None`` for failed calls, which have no start)."""
        return parse_call_time(self.time_start)


class V1Campaign(V1Row):
    """A v1 ``campaign`` record. The document lists the entity without its fields: the rest are kept as sent."""

    campaign_id: int | None = None
    campaign_name: str | None = None


class V1Phone(V1Row):
    """A v1 ``phone`` record (fields beyond these are kept as sent)."""

    phone_id: int | None = None
    phone: str | None = None
    campaign_id: int | None = None


class V1User(V1Row):
    """A v1 ``user`` record (fields beyond these are kept as sent)."""

    user_id: int | None = None
    login: str | None = None


class V1Tag(V1Row):
    """A v1 ``tag`` record (fields beyond these are kept as sent)."""

    tag_id: int | None = None
    tag_name: str | None = None


V1_MODELS: dict[str, type[V1Row]] = {
    "call": V1Call,
    "callrole": V1Call,
    "phone": V1Phone,
    "user": V1User,
    "campaign": V1Campaign,
    "tag": V1Tag,
}


class V1RequestedParams(BaseModel):
    model_config = _TOLERANT

    require_page: int | None = None
    start_date: int | None = None
    end_date: int | None = None


class Inbound(BaseModel):
    """``inbound``: what was asked and how many pages there are, or the ``error`` of a failed request."""

    model_config = _TOLERANT

    error: str | None = None
    requested_type: str | None = None
    requested_entity: str | None = None
    requested_method: str | None = None
    requested_version: str | None = None
    requested_params: V1RequestedParams | None = None
    page_length: int | None = None
    total_length: int | None = None
    of_pages: int | None = None
    content_length: int | None = None


class V1Response(BaseModel, Generic[R]):
    """The v1 envelope ``{"inbound": ..., "info": ..., "payload": [...]}`` (also v3's error body)."""

    model_config = ConfigDict(extra="allow")

    inbound: Inbound = Field(default_factory=Inbound)
    info: dict[str, Any] | None = None
    payload: list[R] | None = None


class V3Hook(BaseModel):
    """One webhook CallKeeper sent about a call (``hooks[]``)."""

    model_config = _TOLERANT

    hook_event_name: str | None = None
    hook_address: str | None = None
    hook_method: str | None = None
    hook_response_status: int | None = None


class V3Call(BaseModel):
    """A v3 call (the v3 document's sample, in its order; ``callPage`` is described but not in the sample).

    ``page`` is the number of the page the record came on, as the API sends it.  The document names
    the visit site ``visitSite`` in the sample and ``siteVisit`` in the field list: the sample's name
    is declared, the other is kept if a server sends it.
    """

    model_config = _TOLERANT

    page: int | None = None
    universal_id: str | None = None
    service_type: str | None = None
    client_number: str | None = None
    manager_number: str | None = None
    caller_id_to_manager: str | None = None
    caller_id_to_client: str | None = None
    status_first: int | None = None
    status_second: int | None = None
    status: str | None = None
    call_time: str | None = None
    local_date: str | None = None
    timezone_offset: str | None = None
    duration: int | None = None
    tariff_time: int | None = None
    site: str | None = None
    record_url: str | None = None
    unique: bool | None = None
    target: bool | None = None
    unique_target: bool | None = None
    visit_site: str | None = None
    referrer: str | None = None
    utm_source: str | None = Field(None, alias="utm_source")
    utm_medium: str | None = Field(None, alias="utm_medium")
    utm_campaign: str | None = Field(None, alias="utm_campaign")
    utm_content: str | None = Field(None, alias="utm_content")
    utm_term: str | None = Field(None, alias="utm_term")
    ya_clid: str | None = None
    ga_clid: str | None = None
    roistat_clid: str | None = None
    calltouch_clid: str | None = None
    comagic_clid: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    ip_address: str | None = None
    pages_count: int | None = None
    entry_point: str | None = None
    entry_point_query: str | None = None
    call_page: str | None = None
    counts: int | None = None
    user_agent: str | None = None
    device: str | None = None
    cb_widget_hash: str | None = None
    cb_tool_id: int | None = None
    cb_call_id: int | None = None
    cb_uid: int | None = None
    cb_tool_name: str | None = None
    cb_office_number: str | None = None
    cb_office_name: str | None = None
    cb_order_date: str | None = None
    cb_attempt: int | None = None
    cb_attempts_queue: list[int] | None = None
    cb_connect_type: str | None = None
    cb_smart_call_count: int | None = None
    cb_ivr_count: int | None = None
    cb_event_source: str | None = None
    ct_call_id: int | None = None
    ct_campaign_id: int | None = None
    ct_campaign_name: str | None = None
    ct_is_listened: str | None = None
    tags: list[str] | None = None
    hooks: list[V3Hook] | None = None

    @property
    def call_time_utc(self) -> datetime | None:
        """``callTime`` as an aware UTC datetime; ``None`` when missing or not ``Y-m-d H:i:s``."""
        return parse_call_time(self.call_time)


@dataclass(frozen=True)
class CallKeeperPage(Generic[Row]):
    """One page as the hook understood it.

    :param rows: the records (empty for "No rows found").
    :param page: the page number that was requested (0-based).
    :param of_pages: v1 ``inbound.ofPages`` when the format carries it (json, xml, plain).
    :param total: v1 ``inbound.totalLength`` when given.
    :param past_end: the server answered "Incorrect page is set" for a page after the first:
        there are no more pages.
    """

    rows: list[Row]
    page: int
    of_pages: int | None = None
    total: int | None = None
    past_end: bool = False


# ----------------------------------------------------------------------------- requests

_YMD = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DIGITS = re.compile(r"\d+\Z")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must be time-zone aware (naive datetimes are ambiguous)")
    return value


def whole_seconds(value: datetime, *, round_up: bool) -> int:
    """Unix seconds of an aware datetime, rounded up (window starts) or down (inclusive window ends)."""
    seconds = _aware(value).timestamp()
    return math.ceil(seconds) if round_up else math.floor(seconds)


def _timestamp_segment(value: Any, *, round_up: bool, allow_day: bool) -> str | None:
    """The URL text of a time: aware datetime or int -> unix seconds; a date -> ``Y-m-d`` (v3 only)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("must be a datetime, a date or a unix timestamp")
    if isinstance(value, datetime):
        return str(whole_seconds(value, round_up=round_up))
    if isinstance(value, date):
        if not allow_day:
            raise ValueError("API v1 takes unix timestamps only: pass an aware datetime or an int")
        return value.isoformat()
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a unix timestamp must not be negative")
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        if _DIGITS.match(text):
            return text
        if allow_day and _YMD.match(text):
            try:
                date.fromisoformat(text)
            except ValueError:
                raise ValueError("is not a valid Y-m-d date") from None
            return text
        shape = "a unix timestamp or Y-m-d" if allow_day else "a unix timestamp"
        raise ValueError(f"text must be {shape}")
    raise ValueError("must be a datetime, a date or a unix timestamp")


def segment_bounds(segment: str, *, end: bool) -> int:
    """The first second a ``from`` segment admits, or the last second a ``to`` segment admits."""
    if _DIGITS.match(segment):
        return int(segment)
    day = date.fromisoformat(segment)
    start = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())
    return start + 86399 if end else start


_STRICT = ConfigDict(strict=True, frozen=True)


class V3CallsRequest(BaseModel):
    """``json/v3/{key}/call/{method}/{page}/{from}[/{to}]`` without the key.

    ``date_from`` / ``date_to`` accept an aware datetime (sent as a unix timestamp: ``from`` rounded up,
    ``to`` rounded down, so both stay inside the given instants), a ``date`` (sent as ``Y-m-d``), an int
    timestamp, or text in either form.  ``date_to`` is optional, as documented (the server then ends
    the selection at its current date).  Both ends are inclusive, as the API treats them.
    """

    model_config = _STRICT

    method: Literal["get", "getByRole", "getWithRole"]
    page: int = Field(0, ge=0)
    date_from: str
    date_to: str | None = None

    @field_validator("date_from", mode="before")
    @classmethod
    def _from(cls, value: Any) -> str | None:
        if value is None:
            raise ValueError("is required")
        return _timestamp_segment(value, round_up=True, allow_day=True)

    @field_validator("date_to", mode="before")
    @classmethod
    def _to(cls, value: Any, info: ValidationInfo) -> str | None:
        segment = _timestamp_segment(value, round_up=False, allow_day=True)
        start = info.data.get("date_from")
        if (
            segment is not None
            and start is not None
            and segment_bounds(segment, end=True) < segment_bounds(start, end=False)
        ):
            raise ValueError(f"must not be before date_from ({start})")
        return segment

    def segments(self) -> list[str]:
        """URL segments after ``call``: method, page, from and (when given) to."""
        tail = [self.date_to] if self.date_to is not None else []
        return [self.method, str(self.page), self.date_from, *tail]


class V1PageRequest(BaseModel):
    """``{format}/v1/{key}/{entity}/get/{page}/{time_start}/{time_end}`` without the key.

    The times are unix timestamps (the v1 document says so); both ends inclusive.  ``call`` and
    ``callrole`` need both; the reference entities default to ``0`` .. now (all of them).
    """

    model_config = _STRICT

    response_format: Literal["json", "xml", "csv", "plain"] = "json"
    entity: Literal["call", "callrole", "phone", "user", "campaign", "tag"] = "call"
    page: int = Field(0, ge=0)
    time_start: str | None = Field(None, validate_default=True)
    time_end: str | None = Field(None, validate_default=True)

    @field_validator("time_start", mode="before")
    @classmethod
    def _start(cls, value: Any, info: ValidationInfo) -> str | None:
        if value is None:
            if info.data.get("entity") in V1_CALL_ENTITIES:
                raise ValueError("is required for calls (an aware datetime or a unix timestamp)")
            return "0"
        return _timestamp_segment(value, round_up=True, allow_day=False)

    @field_validator("time_end", mode="before")
    @classmethod
    def _end(cls, value: Any, info: ValidationInfo) -> str | None:
        if value is None:
            if info.data.get("entity") in V1_CALL_ENTITIES:
                raise ValueError("is required for calls (an aware datetime or a unix timestamp)")
            value = datetime.now(timezone.utc)
        segment = _timestamp_segment(value, round_up=False, allow_day=False)
        start = info.data.get("time_start")
        if segment is not None and start is not None and int(segment) < int(start):
            raise ValueError(f"must not be before time_start ({start})")
        return segment

    def segments(self) -> list[str]:
        """URL segments after ``{entity}``: method, page and the two timestamps."""
        return ["get", str(self.page), str(self.time_start), str(self.time_end)]


def window_segments(start: datetime, end: datetime) -> tuple[int, int] | None:
    """The inclusive whole-second bounds that select exactly ``start <= t < end`` for whole-second times.

    ``from = ceil(start)`` and ``to = ceil(end) - 1``: consecutive half-open windows then never share a
    second, whatever zone the server writes call times in.  ``None`` when no whole second is inside.
    """
    first = whole_seconds(start, round_up=True)
    last = whole_seconds(end, round_up=True) - 1
    return (first, last) if last >= first else None
