"""AutoCall.kz models, from ``seeds/autocall-kz.openapi.yaml.txt`` (API v1).

Responses are tolerant (unknown fields kept, optional-looking fields may be missing); requests are
strict and checked before anything is sent, with errors naming the argument and the rule.  Phone
numbers are the document's Kazakh mobile pattern, ``+7`` and ten digits.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: the document's Kazakh mobile prefixes (``number`` of contacts and flash calls)
NUMBER_RE = re.compile(
    r"\+7(700|701|702|705|706|707|708|747|771|775|776|777|778|710|711|712|713|714|715|716|717|718"
    r"|721|722|723|724|725|726|727|728|729|736)\d{7}"
)
#: inline contacts per mailing or campaign (more: create a contact list first)
MAX_INLINE_NUMBERS = 5000
MAX_CLIENT_ID = 60

R = TypeVar("R")

_TOLERANT = ConfigDict(extra="allow", populate_by_name=True)
_STRICT = ConfigDict(extra="forbid", frozen=True)


class Page(BaseModel, Generic[R]):
    """Laravel's pagination envelope (``current_page``, ``data``, ``last_page``, ``next_page_url`` …)."""

    model_config = _TOLERANT

    current_page: int
    data: list[R]
    last_page: int | None = None
    next_page_url: str | None = None
    per_page: int | None = None
    total: int | None = None


class Bulk(BaseModel):
    """An SMS mailing (``BulkSummary``, and ``BulkDetail``'s extra fields when the answer has them)."""

    model_config = _TOLERANT

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


class Balance(BaseModel):
    """``GET /balance``."""

    model_config = _TOLERANT

    balance: float
    currency: str | None = None


def check_number(value: str) -> str:
    if not isinstance(value, str) or not NUMBER_RE.fullmatch(value):
        raise ValueError("must be a Kazakh mobile number: +7 and 10 digits (e.g. +77010000000)")
    return value


class Contact(BaseModel):
    """A recipient given inline (``list_id`` item): the number, an optional note and SMS variables."""

    model_config = _STRICT

    number: str
    extra: str | None = Field(None, max_length=60)
    variables: dict[str, str] | None = None

    @field_validator("number")
    @classmethod
    def _number(cls, value: str) -> str:
        return check_number(value)

    @field_validator("variables")
    @classmethod
    def _variables(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key, text in (value or {}).items():
            if not re.fullmatch(r"[A-Za-z0-9_]{1,30}", key):
                raise ValueError(f"variable name {key!r} must be 1-30 letters, digits or _")
            if len(text) > 255:
                raise ValueError(f"variable {key!r} must be at most 255 characters")
        return value


class CreateBulkRequest(BaseModel):
    """Body of ``POST /bulks``, checked against the document before sending.

    ``client_id`` is required here: it is how a mailing whose answer was lost is found again, so it
    is never sent twice.
    """

    model_config = _STRICT

    name: str = Field(min_length=1, max_length=40)
    text: str = Field(min_length=1, max_length=1600)
    list_id: list[int | Contact] = Field(min_length=1, max_length=MAX_INLINE_NUMBERS)
    client_id: str = Field(min_length=1, max_length=MAX_CLIENT_ID)
    date_from: date | None = None
    time_from: time | None = None
    callback_url: str | None = Field(None, max_length=256)

    @field_validator("list_id", mode="before")
    @classmethod
    def _contacts(cls, value: Any) -> Any:
        # plain numbers are the common case: "+77010000000" means {"number": "+77010000000"}
        if isinstance(value, list | tuple):
            return [{"number": item} if isinstance(item, str) else item for item in value]
        return value

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "text": self.text,
            "list_id": [
                item if isinstance(item, int) else item.model_dump(exclude_none=True) for item in self.list_id
            ],
            "client_id": self.client_id,
        }
        if self.date_from is not None:
            data["date_from"] = self.date_from.isoformat()
        if self.time_from is not None:
            data["time_from"] = self.time_from.strftime("%H:%M:%S")
        if self.callback_url is not None:
            data["callback_url"] = self.callback_url
        return data
