"""AutoCall.kz request checks shared by every request model: the document's patterns, limits and formats.

The server validates with Laravel rules that have no ``nullable``: an optional field is either
absent or valid, never ``null``.  So every request model keeps unset fields as ``None`` and
:meth:`Body.body` leaves them out of the JSON.  Dates and times are normalised to the document's
formats (``Y-m-d``, ``H:i:s``) whether given as text or as ``date`` / ``time`` objects.

The document's phone rules differ by place, and each is kept as written:

* contact lists (``POST /lists``, ``POST /lists/append/{id}``): :data:`LIST_NUMBER_RE` — ``+7``, one
  of 31 mobile prefixes (no 706), 7 digits;
* numbers given inline to a campaign or a mailing (``list_id`` objects): exactly 12 characters, no
  pattern;
* flash calls: :data:`FLASH_NUMBER_RE` — the same prefixes plus 706;
* confirmed numbers (``POST /settings/confirmed_numbers``): :data:`CONFIRMED_NUMBER_RE` — 12
  prefixes only (700-702, 705, 707, 708, 747, 771, 775-778);
* the public test call: :data:`TEST_CALL_PHONE_RE` — ten digits *without* ``+7``.

:func:`build` validates and turns the first problem into a
:class:`~airflow_provider_telephony.core.errors.RequestValidationError` that names the argument the
way it was given (``numbers[3].number``, ``tries_interval``) and the rule.  Phone numbers are masked
and secrets (flash-call codes, files, scenarios) never quoted in it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from airflow_provider_telephony.core.errors import RequestValidationError
from airflow_provider_telephony.core.redact import mask_phone

_PREFIXES = (
    "700|701|702|705|707|708|747|771|775|776|777|778|710|711|712|713|714|715|716|717|718"
    "|721|722|723|724|725|726|727|728|729|736"
)
_PREFIXES_706 = _PREFIXES.replace("705|", "705|706|")
# (``re.ASCII``: ``\d`` is 0-9 only, as in PHP, not any Unicode digit)
#: contact-list numbers (``POST /lists``, ``POST /lists/append/{id}``): 706 is not among them
LIST_NUMBER_RE = re.compile(rf"\+7({_PREFIXES})\d{{7}}", re.ASCII)
#: flash-call numbers: the list prefixes plus 706
FLASH_NUMBER_RE = re.compile(rf"\+7({_PREFIXES_706})\d{{7}}", re.ASCII)
#: the broadest of the document's ``+7`` patterns (kept under its old name; :func:`check_number`)
NUMBER_RE = FLASH_NUMBER_RE
#: numbers added to the account (``POST /settings/confirmed_numbers``)
CONFIRMED_NUMBER_RE = re.compile(r"\+7(700|701|702|705|707|708|747|771|775|776|777|778)\d{7}", re.ASCII)
#: the public test call's ``phone``: the ten digits after 7, without ``+7``
TEST_CALL_PHONE_RE = re.compile(rf"({_PREFIXES_706})\d{{7}}", re.ASCII)
#: ``[a-zA-Z0-9_]``, up to 30 characters: names of a contact's SMS variables
VARIABLE_NAME_RE = re.compile(r"[A-Za-z0-9_]{1,30}")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_TIME_RE = re.compile(r"\d{2}:\d{2}:\d{2}", re.ASCII)
CODE_RE = re.compile(r"\d{3,6}", re.ASCII)

#: numbers in one ``POST /lists`` or ``POST /lists/append/{id}`` (append the rest)
MAX_LIST_NUMBERS = 10_000
#: ``list_id`` items of one campaign or mailing (more numbers: create a contact list first)
MAX_INLINE_NUMBERS = 5000
#: ``list_id`` items of ``POST /bulks/calculate`` (the document says 6000 there, 5000 for creating)
MAX_CALCULATE_BULK_NUMBERS = 6000
#: ``client_id`` of campaigns, mailings, sounds and scenarios
MAX_CLIENT_ID = 60
#: ``client_id`` of contact lists
MAX_LIST_CLIENT_ID = 256
MAX_TRIES = (1, 2, 3, 4)
TRIES_INTERVALS = (15, 30, 60, 120)
#: voices of ``POST /sounds``
SOUND_VOICES = (
    "ru-RU-Wavenet-A", "ru-RU-Wavenet-B", "ru-RU-Wavenet-C", "ru-RU-Wavenet-D",
    "alyss", "jane", "oksana", "omazh", "zahar", "ermil",
)  # fmt: skip
#: voices of a sound created inside ``POST /autocalls`` (the document lists two more there)
AUDIO_VOICES = (*SOUND_VOICES, "filipp", "alena")

#: loc parts pydantic adds for the member of a tagged union: not argument names, left out of errors
_TAGS = frozenset({"list-id", "contact", "audio-id", "new-audio"})
#: argument names whose values are phone numbers (masked in errors) or secrets (never quoted)
_PHONES = frozenset({"number", "phone"})
_SECRETS = frozenset({"code", "verification_code", "file", "data"})

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")
#: answers: unknown fields kept, fields reachable by their Python names too
TOLERANT = ConfigDict(extra="allow", populate_by_name=True)
STRICT = ConfigDict(extra="forbid", frozen=True)


# --- building with errors that name the argument ------------------------------------------------
def _where(loc: list[Any]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part not in _TAGS:
            text += f".{part}" if text else str(part)
    return text or "request"


def build(model: type[M], _names: Mapping[str, str] | None = None, /, **values: Any) -> M:
    """Validate ``values`` into ``model``; the first problem raises :class:`RequestValidationError`.

    :param _names: argument names to show instead of the body's field names (the hook's
        ``recipients`` is the body's ``list_id``).
    """
    try:
        return model.model_validate(values)
    except PydanticValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = list(first.get("loc", ()))
        ctx = first.get("ctx") or {}
        if ctx.get("field"):
            loc.extend(ctx["field"] if isinstance(ctx["field"], list) else [ctx["field"]])
        if loc and _names and isinstance(loc[0], str):
            loc[0] = _names.get(loc[0], loc[0])
        message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
        named = [part for part in loc if isinstance(part, str) and part not in _TAGS]
        last = named[-1] if named else ""
        value = first.get("input")
        if isinstance(value, (dict, list, tuple, set, BaseModel)) or last in _SECRETS or ctx.get("hide"):
            value = None
        elif last in _PHONES and isinstance(value, str):
            value = mask_phone(value) or value
        raise RequestValidationError(_where(loc), message, value=value) from None


def fail(rule: str, field: str | list[Any] | None = None, *, hide: bool = False) -> PydanticCustomError:
    """A validation error with the rule in words; ``field`` is appended to where it happened."""
    context: dict[str, Any] = {"rule": rule, "hide": hide}
    if field is not None:
        context["field"] = field
    return PydanticCustomError("autocall_rule", "{rule}", context)


# --- reusable checks ----------------------------------------------------------------------------
def check_number(value: str) -> str:
    """A ``+7`` Kazakh mobile number by the document's broadest pattern (:data:`NUMBER_RE`)."""
    if not isinstance(value, str) or not NUMBER_RE.fullmatch(value):
        raise ValueError("must be a Kazakh mobile number: +7 and 10 digits (e.g. +77010000000)")
    return value


def _pattern(regex: re.Pattern[str], rule: str) -> Any:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise fail("must be a string")
        if not regex.fullmatch(value):
            raise fail(rule)
        return value

    return BeforeValidator(check)


ListNumber = Annotated[
    str,
    _pattern(
        LIST_NUMBER_RE,
        "must be +7, a Kazakh mobile prefix the document lists for contact lists (700-702, 705, "
        "707, 708, 710-718, 721-729, 736, 747, 771, 775-778) and 7 digits",
    ),
]
FlashNumber = Annotated[
    str,
    _pattern(
        FLASH_NUMBER_RE,
        "must be +7, a Kazakh mobile prefix the document lists for flash calls (700-702, 705-708, "
        "710-718, 721-729, 736, 747, 771, 775-778) and 7 digits",
    ),
]
ConfirmedNumberText = Annotated[
    str,
    _pattern(
        CONFIRMED_NUMBER_RE,
        "must be +7, one of the prefixes the document allows for confirmed numbers (700, 701, 702, "
        "705, 707, 708, 747, 771, 775-778) and 7 digits",
    ),
]
TestCallPhone = Annotated[
    str,
    _pattern(
        TEST_CALL_PHONE_RE,
        "must be the 10 digits after +7 (no +7), starting with a Kazakh mobile prefix, e.g. 7771234567",
    ),
]
#: a number given inline to a campaign or a mailing: the document says only "12 characters"
InlineNumber = Annotated[StrictStr, Field(min_length=12, max_length=12)]
Name = Annotated[StrictStr, Field(min_length=1, max_length=40)]
ClientId = Annotated[StrictStr, Field(min_length=1, max_length=MAX_CLIENT_ID)]
ListClientId = Annotated[StrictStr, Field(min_length=1, max_length=MAX_LIST_CLIENT_ID)]
CallbackUrl = Annotated[StrictStr, Field(min_length=1, max_length=256)]
PositiveId = Annotated[StrictInt, Field(ge=1)]


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise fail("is not a real date (Y-m-d)") from None
    raise fail("must be a date as Y-m-d (e.g. 2024-03-15) or a date object")


def _time(value: Any) -> str:
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, str) and _TIME_RE.fullmatch(value):
        try:
            return time.fromisoformat(value).strftime("%H:%M:%S")
        except ValueError:
            raise fail("is not a real time of day (H:i:s, 00:00:00 to 23:59:59)") from None
    raise fail("must be a time as H:i:s (e.g. 13:00:00) or a time object")


DateText = Annotated[str, BeforeValidator(_date)]
TimeText = Annotated[str, BeforeValidator(_time)]


def literal(choices: tuple[Any, ...], what: str) -> Any:
    """An enum of the document, refusing look-alikes (``True`` for 1, ``"60"`` for 60)."""

    def check(value: Any) -> Any:
        if isinstance(value, bool) or value not in choices or type(value) is not type(choices[0]):
            shown = ", ".join(repr(c) if isinstance(c, str) else str(c) for c in choices)
            raise fail(f"must be one of {shown} ({what})")
        return value

    return BeforeValidator(check)


def _variables(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise fail("must be an object of variable name -> text")
    for key, text in value.items():
        if not isinstance(key, str) or not VARIABLE_NAME_RE.fullmatch(key):
            raise fail("a variable name must be 1-30 characters of [a-zA-Z0-9_]", str(key), hide=True)
        if not isinstance(text, str):
            raise fail("a variable's value must be a string", key, hide=True)
        if len(text) > 255:
            raise fail("a variable's value must be at most 255 characters", key, hide=True)
    return dict(value)


Variables = Annotated[dict[str, str] | None, BeforeValidator(_variables)]


def numbers_as_contacts(value: Any) -> Any:
    """A plain number stands for ``{"number": ...}`` (the common case)."""
    if isinstance(value, list | tuple):
        return [{"number": item} if isinstance(item, str) else item for item in value]
    return value


def _list_ref(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise fail("must be a contact list id (a positive integer), a phone number or a contact object")
    return value


def list_or_contact(value: Any) -> str:
    return "contact" if isinstance(value, Mapping | BaseModel) else "list-id"


ListRef = Annotated[int, BeforeValidator(_list_ref)]


class Body(BaseModel):
    """A strict request body: unknown arguments refused, unset ones left out of the JSON."""

    model_config = STRICT

    def body(self) -> dict[str, Any]:
        """The JSON body: set fields only (``None`` means unset and is never sent as ``null``)."""
        return self.model_dump(mode="json", exclude_none=True)


class AtLeastOne(Body):
    """An edit: at least one field must be given (an empty edit changes nothing)."""

    @model_validator(mode="after")
    def _something(self) -> AtLeastOne:
        if not self.body():
            names = ", ".join(type(self).model_fields)
            raise fail(f"give at least one of {names}")
        return self


# --- answers --------------------------------------------------------------------------------------
class Page(BaseModel, Generic[R]):
    """Laravel's pagination envelope (``Pagination``): ``data`` plus where the other pages are.

    ``next_page_url`` is absolute and ``null`` on the last page.
    """

    model_config = TOLERANT

    data: list[R]
    current_page: int | None = None
    first_page_url: str | None = None
    from_: int | None = Field(None, alias="from")
    last_page: int | None = None
    last_page_url: str | None = None
    next_page_url: str | None = None
    path: str | None = None
    per_page: int | None = None
    prev_page_url: str | None = None
    to: int | None = None
    total: int | None = None
