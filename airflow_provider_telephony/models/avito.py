"""Avito CallTracking models, from ``avito-calltracking.openapi.json``.

Requests are strict (checked before anything is sent); responses are tolerant: unknown fields are
kept, optional-looking fields may be missing, so a vendor adding a field never breaks an export.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from airflow_provider_telephony.core.windows import EARLIEST, LATEST

#: the document: "dateTimeTo … maximum dateTimeFrom + 3 months"; 89 days fits in any 3 calendar months
MAX_WINDOW = timedelta(days=89)
MAX_PAGE_SIZE = 100

#: Avito's in-body error codes (``error.code``), from the document's Error schema
CODE_OK = 0
CODE_EMPTY_REQUEST = 1000
CODE_VALIDATION = 1001
CODE_AUTH = 1002
CODE_INTERNAL = 1003
CODE_NOT_FOUND = 1004
CODE_NOT_READY = 1005


class AvitoCall(BaseModel):
    """One call (the document's ``Call``). Serialised back under the vendor's field names."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    call_id: int = Field(alias="callId")
    call_time: datetime = Field(alias="callTime")
    talk_duration: int = Field(0, alias="talkDuration")
    waiting_duration: float = Field(0.0, alias="waitingDuration")
    buyer_phone: str | None = Field(None, alias="buyerPhone")
    seller_phone: str | None = Field(None, alias="sellerPhone")
    virtual_phone: str | None = Field(None, alias="virtualPhone")
    item_id: int | None = Field(None, alias="itemId")

    @field_validator("call_time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        # a time without an offset from the vendor is read as UTC rather than rejected
        return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)

    @property
    def answered(self) -> bool:
        """A call with talk time; only such calls have recordings."""
        return self.talk_duration > 0


class AvitoError(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: int = CODE_OK
    message: str = ""


class GetCallsResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    calls: list[AvitoCall] | None = None
    error: AvitoError | None = None


class GetCallByIdResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    call: AvitoCall | None = None
    error: AvitoError | None = None


class RecordError(BaseModel):
    """Error body of ``getRecordByCallId`` (code/message at top level; nested ``error`` tolerated)."""

    model_config = ConfigDict(extra="allow")

    code: int | None = None
    message: str = ""
    error: AvitoError | None = None

    def effective(self) -> AvitoError:
        if self.code is None and self.error is not None:
            return self.error
        return AvitoError(code=self.code or 0, message=self.message)


class TokenResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    access_token: str
    expires_in: float = 3600.0
    token_type: str = "Bearer"


def rfc3339(moment: datetime, *, round_up: bool = False) -> str:
    """UTC RFC 3339 with a ``Z`` suffix and whole seconds, as in the document's examples.

    Sub-second parts are dropped, or rounded up to the next second with ``round_up`` (window ends),
    so the requested window always covers the wanted one; exact bounds are applied client-side.
    """
    moment = moment.astimezone(timezone.utc)
    if round_up and moment.microsecond:
        moment += timedelta(seconds=1)
    # explicit widths: strftime("%Y") does not pad years below 1000 on every platform
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


class GetCallsRequest(BaseModel):
    """Body of ``POST /calltracking/v1/getCalls/``, validated against the document's limits."""

    model_config = ConfigDict(strict=True, frozen=True)

    date_time_from: datetime
    date_time_to: datetime
    limit: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(0, ge=0)

    @field_validator("date_time_from", "date_time_to")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("must be time-zone aware (naive datetimes are ambiguous)")
        if not EARLIEST <= value < LATEST:
            raise ValueError("must be between 1970-01-01 and 9999-01-01 (UTC)")
        return value

    @field_validator("date_time_to")
    @classmethod
    def _window(cls, value: datetime, info: ValidationInfo) -> datetime:
        # a field validator (not a model validator) so that the error names date_time_to
        start = info.data.get("date_time_from")
        if start is None:
            return value
        if value < start:
            raise ValueError("must not be before date_time_from")
        if value - start > MAX_WINDOW:
            raise ValueError(
                f"must be at most {MAX_WINDOW.days} days after date_time_from (the API allows 3 months)"
            )
        return value

    def body(self) -> dict[str, Any]:
        return {
            "dateTimeFrom": rfc3339(self.date_time_from),
            "dateTimeTo": rfc3339(self.date_time_to, round_up=True),
            "limit": self.limit,
            "offset": self.offset,
        }
