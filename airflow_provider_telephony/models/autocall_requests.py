"""AutoCall.kz request bodies and queries, checked exactly as ``seeds/autocall-kz.openapi.yaml.txt`` says.

Build them with :func:`~.autocall_common.build` (the hook does): the first broken rule raises a
:class:`~airflow_provider_telephony.core.errors.RequestValidationError` naming the argument and the
rule, before anything is sent.  ``body()`` gives the JSON with unset fields left out.  The patterns,
limits and formats themselves are in :mod:`.autocall_common`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    Tag,
    field_validator,
    model_validator,
)

from airflow_provider_telephony.models.autocall_common import (
    AUDIO_VOICES,
    CODE_RE,
    MAX_CALCULATE_BULK_NUMBERS,
    MAX_INLINE_NUMBERS,
    MAX_LIST_NUMBERS,
    MAX_TRIES,
    SOUND_VOICES,
    STRICT,
    TRIES_INTERVALS,
    AtLeastOne,
    Body,
    CallbackUrl,
    ClientId,
    ConfirmedNumberText,
    DateText,
    FlashNumber,
    InlineNumber,
    ListClientId,
    ListNumber,
    ListRef,
    Name,
    PositiveId,
    TestCallPhone,
    TimeText,
    Variables,
    fail,
    list_or_contact,
    literal,
    numbers_as_contacts,
)


# --- contact lists ------------------------------------------------------------------------------
class ListContact(Body):
    """One number of ``POST /lists`` / ``POST /lists/append/{id}``."""

    number: ListNumber
    extra: Annotated[StrictStr, Field(max_length=255)] | None = None
    variables: Variables = None


class CreateListRequest(Body):
    """``POST /lists``: a name and up to 10,000 numbers (append the rest with ``/lists/append``)."""

    name: Name
    numbers: Annotated[
        list[ListContact],
        Field(min_length=1, max_length=MAX_LIST_NUMBERS),
        BeforeValidator(numbers_as_contacts),
    ]
    client_id: ListClientId | None = None


class AppendListRequest(Body):
    """``POST /lists/append/{id}``: up to 10,000 more numbers."""

    numbers: Annotated[
        list[ListContact],
        Field(min_length=1, max_length=MAX_LIST_NUMBERS),
        BeforeValidator(numbers_as_contacts),
    ]


class UpdateListRequest(AtLeastOne):
    """``PUT /lists/{id}``."""

    name: Name | None = None
    client_id: ListClientId | None = None


class ListQuery(BaseModel):
    """Filters of ``GET /lists``, ``GET /autocalls`` and ``GET /bulks``."""

    model_config = STRICT

    date_from: DateText | None = None
    date_to: DateText | None = None
    order: Annotated[str, literal(("asc", "desc"), "by creation date")] | None = None
    client_id: Annotated[StrictStr, Field(min_length=1)] | None = None
    page: PositiveId = 1

    def params(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class PageQuery(BaseModel):
    """``?page=`` of the other paged answers."""

    model_config = STRICT

    page: PositiveId = 1


# --- sounds and scenarios -----------------------------------------------------------------------
def _base64(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        if not value:
            raise fail("must not be empty", hide=True)
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, str):
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise fail("must be the file's bytes or their Base64 text", hide=True) from None
        if not decoded:
            raise fail("must not be empty", hide=True)
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail("must be a number")
    return value


AudioFile = Annotated[StrictStr, BeforeValidator(_base64)]
Speed = Annotated[float, Field(ge=0.25, le=4), BeforeValidator(_number)]
Pitch = Annotated[float, Field(ge=-20, le=20), BeforeValidator(_number)]


class SoundData(Body):
    """The one object of ``POST /sounds``' ``data``: ``text`` (+ voice, speed, pitch) for synthesis,
    ``file`` (mp3/wav/ogg as Base64; bytes are encoded) for an upload."""

    text: Annotated[StrictStr, Field(min_length=1, max_length=400)] | None = None
    voice: Annotated[str, literal(SOUND_VOICES, "voices of POST /sounds")] | None = None
    speed: Speed | None = None
    pitch: Pitch | None = None
    file: AudioFile | None = None


def _check_audio(kind: str, data: Any, where: list[Any]) -> None:
    if kind == "synthesis" and data.text is None:
        raise fail("required when type is 'synthesis'", [*where, "text"])
    if kind == "upload" and data.file is None:
        raise fail("required when type is 'upload'", [*where, "file"])


class CreateSoundRequest(Body):
    """``POST /sounds``: synthesise ``data[0].text`` or upload ``data[0].file``; moderated after."""

    name: Name
    type: Annotated[str, literal(("synthesis", "upload"), "how the sound is made")]
    data: Annotated[list[SoundData], Field(min_length=1, max_length=1)]
    client_id: ClientId | None = None

    @model_validator(mode="after")
    def _required(self) -> CreateSoundRequest:
        _check_audio(self.type, self.data[0], ["data", 0])
        return self


class UpdateSoundRequest(AtLeastOne):
    """``PUT /sounds/{id}``."""

    name: Name | None = None
    client_id: ClientId | None = None


def _json_text(value: Any) -> Any:
    """A scenario as the JSON text the API wants (``json_encode``); a dict or list is encoded."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            raise fail("must be the scenario as JSON text (or a dict to encode)", hide=True) from None
    return value


ScenarioJson = Annotated[StrictStr, Field(min_length=1), BeforeValidator(_json_text)]


class CreateScenarioRequest(Body):
    """``POST /scenarios``: the scenario is JSON text in ``data``."""

    name: Name
    data: ScenarioJson
    client_id: ClientId | None = None


class UpdateScenarioRequest(AtLeastOne):
    """``PUT /scenarios/{id}``."""

    name: Name | None = None
    data: ScenarioJson | None = None
    client_id: ClientId | None = None


# --- campaigns ----------------------------------------------------------------------------------
class AudioData(Body):
    """``data`` of a sound created inside a campaign (an object here, not a one-item array)."""

    text: Annotated[StrictStr, Field(min_length=1, max_length=400)] | None = None
    voice: Annotated[str, literal(AUDIO_VOICES, "voices of AutocallCreate")] | None = None
    speed: Speed | None = None
    pitch: Pitch | None = None
    file: AudioFile | None = None


class AudioSpec(Body):
    """An ``audio_id`` item that creates a sound: ``{"type": "synthesis"|"upload", "data": {...}}``."""

    type: Annotated[str, literal(("synthesis", "upload"), "how the sound is made")]
    data: AudioData

    @model_validator(mode="after")
    def _required(self) -> AudioSpec:
        _check_audio(self.type, self.data, ["data"])
        return self


def _audio_ref(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise fail("must be a sound id (a positive integer) or a sound to create {type, data}")
    return value


def _audio_or_new(value: Any) -> str:
    return "new-audio" if isinstance(value, Mapping | BaseModel) else "audio-id"


AudioItem = Annotated[
    Annotated[Annotated[int, BeforeValidator(_audio_ref)], Tag("audio-id")]
    | Annotated[AudioSpec, Tag("new-audio")],
    Discriminator(_audio_or_new),
]


class InlineContact(Body):
    """A number given inline in a campaign's ``list_id`` (a contact list is made of them)."""

    number: InlineNumber
    extra: Annotated[StrictStr, Field(max_length=255)] | None = None
    variables: Variables = None


CampaignItem = Annotated[
    Annotated[ListRef, Tag("list-id")] | Annotated[InlineContact, Tag("contact")],
    Discriminator(list_or_contact),
]


class AutocallSpec(Body):
    """``AutocallCreate`` — the body of ``POST /autocalls/calculate`` (``client_id`` optional).

    ``type`` ``regular`` needs ``audio_id``, ``interactive`` needs ``scenario_id``; ``sms=True``
    needs ``text``, ``sms_unanswered=True`` needs ``text_unanswered``.
    """

    name: Name
    type: Annotated[str, literal(("regular", "interactive"), "campaign types")]
    list_id: Annotated[
        list[CampaignItem],
        Field(min_length=1, max_length=MAX_INLINE_NUMBERS),
        BeforeValidator(numbers_as_contacts),
    ]
    audio_id: list[AudioItem] | None = None
    scenario_id: PositiveId | None = None
    time_from: TimeText | None = None
    time_to: TimeText | None = None
    date_from: DateText | None = None
    max_tries: Annotated[int, literal(MAX_TRIES, "calls to one number")] | None = None
    tries_interval: Annotated[int, literal(TRIES_INTERVALS, "minutes between tries")] | None = None
    sms: StrictBool | None = None
    text: Annotated[StrictStr, Field(min_length=1)] | None = None
    sms_unanswered: StrictBool | None = None
    text_unanswered: Annotated[StrictStr, Field(min_length=1)] | None = None
    lifetime: StrictBool | None = None
    record: StrictBool | None = None
    client_id: ClientId | None = None
    callback_url: CallbackUrl | None = None
    #: a number you rent (``GET /caller-ids``); unset: a random one from the pool
    caller_id: Annotated[StrictStr, Field(min_length=1, max_length=20)] | None = None

    @model_validator(mode="after")
    def _required(self) -> AutocallSpec:
        if self.type == "regular" and not self.audio_id:
            raise fail("required (at least one sound) when type is 'regular'", "audio_id")
        if self.type == "interactive" and self.scenario_id is None:
            raise fail("required when type is 'interactive'", "scenario_id")
        if self.sms and self.text is None:
            raise fail("required when sms is true", "text")
        if self.sms_unanswered and self.text_unanswered is None:
            raise fail("required when sms_unanswered is true", "text_unanswered")
        return self

    @property
    def references_lists(self) -> bool:
        """Whether existing contact lists are used: their size is unknown here, so more than 5,000
        numbers in all — a campaign created in the background (202) — cannot be ruled out."""
        return any(isinstance(item, int) for item in self.list_id)


class CreateAutocallRequest(AutocallSpec):
    """``POST /autocalls``: :class:`AutocallSpec` with our ``client_id`` required — it is how a
    campaign whose answer was lost is found again instead of being launched twice."""

    client_id: ClientId


class UpdateAutocallRequest(AtLeastOne):
    """``PUT /autocalls/{id}`` (only in statuses ``awaiting`` and ``moderation``)."""

    name: Name | None = None
    time_from: TimeText | None = None
    time_to: TimeText | None = None
    tries_interval: Annotated[int, literal(TRIES_INTERVALS, "minutes between tries")] | None = None
    date_from: DateText | None = None
    client_id: ClientId | None = None
    callback_url: CallbackUrl | None = None


# --- SMS mailings -------------------------------------------------------------------------------
class BulkContact(Body):
    """A recipient given inline in a mailing's ``list_id``: the number, a note and SMS variables."""

    number: InlineNumber
    extra: Annotated[StrictStr, Field(max_length=60)] | None = None
    variables: Variables = None


BulkItem = Annotated[
    Annotated[ListRef, Tag("list-id")] | Annotated[BulkContact, Tag("contact")],
    Discriminator(list_or_contact),
]


class BulkSpec(Body):
    """The body of ``POST /bulks/calculate`` (up to 6,000 ``list_id`` items there, ``client_id`` optional)."""

    name: Name
    text: Annotated[StrictStr, Field(min_length=1, max_length=1600)]
    list_id: Annotated[
        list[BulkItem],
        Field(min_length=1, max_length=MAX_CALCULATE_BULK_NUMBERS),
        BeforeValidator(numbers_as_contacts),
    ]
    date_from: DateText | None = None
    time_from: TimeText | None = None
    client_id: ClientId | None = None
    callback_url: CallbackUrl | None = None


class CreateBulkRequest(BulkSpec):
    """Body of ``POST /bulks``, checked against the document before sending.

    ``client_id`` is required here: it is how a mailing whose answer was lost is found again, so it
    is never sent twice.  At most 5,000 ``list_id`` items.
    """

    list_id: Annotated[
        list[BulkItem],
        Field(min_length=1, max_length=MAX_INLINE_NUMBERS),
        BeforeValidator(numbers_as_contacts),
    ]
    client_id: ClientId


class UpdateBulkRequest(AtLeastOne):
    """``PUT /bulks/{id}`` (only in statuses ``awaiting`` and ``moderation``)."""

    name: Name | None = None
    time_from: TimeText | None = None
    date_from: DateText | None = None
    client_id: ClientId | None = None
    callback_url: CallbackUrl | None = None


# --- settings, payments, caller ids -------------------------------------------------------------
class UpdateSettingsRequest(AtLeastOne):
    """``PUT /settings``: send only what changes."""

    name: Annotated[StrictStr, Field(min_length=2, max_length=40)] | None = None
    subscribe: StrictBool | None = None
    notifications_subscribe: StrictBool | None = None
    visit_card_audio: PositiveId | None = None
    visit_card_text: Annotated[StrictStr, Field(min_length=1, max_length=160)] | None = None


class ConfirmNumberRequest(Body):
    """``POST /settings/confirmed_numbers``: step 1 sends ``number`` (the service calls it), step 2
    the ``verification_code`` (the caller's last 5 digits).  Exactly one of them."""

    number: ConfirmedNumberText | None = None
    verification_code: Annotated[StrictInt, Field(ge=10000, le=99999)] | None = None

    @model_validator(mode="after")
    def _one(self) -> ConfirmNumberRequest:
        if self.number is None and self.verification_code is None:
            raise fail("required (step 1) unless verification_code (step 2) is given", "number")
        if self.number is not None and self.verification_code is not None:
            raise fail("give it alone (step 2), not together with number (step 1)", "verification_code")
        return self


class PaymentRequest(Body):
    """``POST /payments``: at least 200 tenge."""

    amount: Annotated[StrictInt, Field(ge=200)]


class RentCallerIdRequest(Body):
    """``POST /caller-ids``: the pool number's id."""

    caller_id_id: PositiveId


# --- flash calls and the public test call -------------------------------------------------------
class FlashCallRequest(Body):
    """``POST /flash-calls``: ``digits`` (the service picks a code of 3-6 digits) or ``code`` (yours,
    3-6 digits; 422 if no pool number ends with it) — one of the two."""

    number: FlashNumber
    digits: Annotated[StrictInt, Field(ge=3, le=6)] | None = None
    code: StrictStr | None = None

    @field_validator("code")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        if value is not None and not CODE_RE.fullmatch(value):
            raise fail("must be 3 to 6 digits", hide=True)
        return value

    @model_validator(mode="after")
    def _one(self) -> FlashCallRequest:
        if self.digits is None and self.code is None:
            raise fail("required when code is not given (the service picks a code of 3-6 digits)", "digits")
        if self.digits is not None and self.code is not None:
            raise fail("give digits or code (your own), not both", "code")
        return self

    @property
    def length(self) -> int:
        """How many trailing digits of the answer's ``code`` are the verification code."""
        return self.digits if self.digits is not None else len(self.code or "")


class TestCallRequest(Body):
    """``POST /api/public/test-call``."""

    __test__ = False  # not a pytest test class, whatever its name

    phone: TestCallPhone
