"""Pages of records: validated in C from their bytes, written exactly as the vendor sent them.

The export hot path never builds a Python object per record field.  A page's JSON array is read by
msgspec twice over its bytes, both in C: once into each record's *raw bytes* (what JSON Lines
output writes — the vendor's record byte for byte, unknown fields included), once into a typed
structure generated from the vendor's pydantic model (same field names and types), which is the
validation of every record and gives the few values a hook decides on (a call's time for a
window filter) without a Python loop per record.  msgspec is a dependency of Airflow itself.

A page the strict check refuses is not accepted silently: it is decoded into dicts and gets a
second, tolerant reading (the vendor model's own validators, in one pydantic-core call); only if
that fails too is it an :class:`~airflow_provider_telephony.core.errors.UnexpectedResponseError`
naming the record and field (never a value: it may be a phone number).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

import msgspec
from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from airflow_provider_telephony.core.errors import UnexpectedResponseError, UnreadableResponseError

if TYPE_CHECKING:
    from airflow_provider_telephony.core.windows import Window

#: a list of records as decoded from JSON
Records = list[dict[str, Any]]

_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])
_ENCODER = msgspec.json.Encoder()


def _line(record: Any) -> bytes:
    """One record as a JSON line (for records that did not come as JSON bytes)."""
    buf = bytearray()
    _ENCODER.encode_into(record, buf)
    buf += b"\n"
    return bytes(buf)


def _multiline(raw: Any) -> bool:
    data = memoryview(raw).tobytes()
    return b"\n" in data or b"\r" in data


def _one_line(raw: Any) -> bytes:
    """A record written across lines, on one line: JSON strings cannot hold a raw line break, so
    every CR/LF in a valid record is whitespace between tokens and becomes a space (values untouched)."""
    return memoryview(raw).tobytes().replace(b"\r", b" ").replace(b"\n", b" ")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def decode(content: bytes, what: str) -> Any:
    """A JSON body as Python objects (msgspec: in C, and integers of any size stay exact)."""
    try:
        return msgspec.json.decode(content)
    except msgspec.DecodeError:
        raise _unreadable(what) from None


def _unreadable(what: str) -> UnreadableResponseError:
    return UnreadableResponseError(f"{what}: unreadable response (invalid or cut-short JSON)")


class Page:
    """One page of records as received: the array's bytes, each record's bytes, and — once
    :meth:`validated` — each record's checked values.

    Build it with :meth:`from_array` (the bytes of a JSON array of records) or :meth:`from_records`
    (records decoded already, e.g. from XML or CSV).
    """

    def __init__(
        self,
        *,
        content: bytes | None = None,
        raws: Sequence[Any] | None = None,
        records: Records | None = None,
        typed: list[Any] | None = None,
    ) -> None:
        self.content = content
        self.raws = raws
        self._records = records
        self.typed = typed

    @classmethod
    def from_array(cls, content: bytes, what: str, *, field: str | None = None) -> Page:
        """Split a JSON array into its records' bytes (a C-level scan: no values are built).

        :param field: the envelope field the array came in, for the error message.
        """
        try:
            raws = _RAW_LIST.decode(content)
        except msgspec.ValidationError:
            where = f"the answer's {field!r}" if field else "the answer"
            raise UnexpectedResponseError(f"{what}: {where} is not a list") from None
        except msgspec.DecodeError:
            raise _unreadable(what) from None
        return cls(content=content, raws=raws)

    @classmethod
    def from_records(cls, records: Records) -> Page:
        return cls(records=records)

    def __len__(self) -> int:
        return len(self.raws) if self.raws is not None else len(self._records or ())

    def __bool__(self) -> bool:
        return len(self) > 0

    @property
    def records(self) -> Records:
        """The records as dicts (decoded on first use: CSV and Parquet need them, JSON Lines does not)."""
        if self._records is None:
            if self.content is not None:
                self._records = decode(self.content, "a page")
            else:
                self._records = [decode(memoryview(raw).tobytes(), "a record") for raw in self.raws or ()]
        return self._records

    def jsonl(self) -> bytes:
        """The records as JSON Lines: the vendor's bytes when the page came as JSON."""
        if self.raws is None:
            return b"".join(map(_line, self.records))
        if not self.raws:
            return b""
        raws: Sequence[Any] = self.raws
        if self.content is None or b"\n" in self.content or b"\r" in self.content:
            # a pretty-printed body: a record spanning lines is put on one line
            raws = [_one_line(raw) if _multiline(raw) else raw for raw in raws]
        return b"\n".join(raws) + b"\n"

    def record(self, index: int) -> Any:
        """One record decoded (without decoding the page)."""
        if self.raws is not None and self._records is None:
            return decode(memoryview(self.raws[index]).tobytes(), "a record")
        return self.records[index]

    def record_bytes(self, index: int) -> bytes:
        """One record's bytes (for a page signature)."""
        if self.raws is not None:
            return bytes(self.raws[index])
        return msgspec.json.encode(self.records[index], order="sorted")

    def validated(self, schema: RecordSchema, what: str) -> Page:
        """This page with every record checked against ``schema`` (see :meth:`RecordSchema.check_page`)."""
        if self.typed is None:
            self.typed = schema.check_page(self, what)
        return self

    def within(self, window: Window, moment: Callable[[Any], datetime | None]) -> Page:
        """The records of a validated page whose ``moment`` (of the typed record) is in ``window``.

        Pages lie inside their window but at its two edges, so the page's earliest and latest times
        (C-level ``min``/``max``) decide at once; only an edge page, or one with times without an
        offset (read as UTC) or without a time (kept: the server placed them in the window), is
        filtered record by record.
        """
        if not self:
            return self
        assert self.typed is not None, "validate the page first"
        times: list[Any] = list(map(moment, self.typed))
        try:
            if window.start <= min(times) and max(times) < window.end:
                return self
        except TypeError:  # a time without an offset among aware ones, or a missing one
            pass
        return self.select(
            [i for i, when in enumerate(times) if when is None or window.contains(_aware(when))]
        )

    def select(self, keep: list[int]) -> Page:
        """A page of the records at ``keep`` (an edge page of a time window)."""
        return Page(
            raws=[self.raws[i] for i in keep] if self.raws is not None else None,
            records=[self._records[i] for i in keep] if self._records is not None else None,
            typed=[self.typed[i] for i in keep] if self.typed is not None else None,
        )


class RecordSchema:
    """The declared fields of a record model, as a validator of whole pages.

    :param model: the vendor's tolerant record model (``AvitoCall``, ``V3Call`` …); its aliases are
        the vendor's field names.
    """

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model

    @cached_property
    def columns(self) -> list[str]:
        """The vendor names of the declared fields, in declaration order (CSV/Parquet columns)."""
        return [info.alias or name for name, info in self.model.model_fields.items()]

    @cached_property
    def annotations(self) -> dict[str, Any]:
        """Vendor field name -> declared type."""
        return {info.alias or name: info.annotation for name, info in self.model.model_fields.items()}

    @cached_property
    def _strict(self) -> msgspec.json.Decoder[Any]:
        """msgspec's decoder of a list of the model as a struct: every declared field typed, unknown
        fields skipped (the raw bytes keep them)."""
        return msgspec.json.Decoder(list[_struct_of(self.model)])  # type: ignore[misc]

    @cached_property
    def _tolerant(self) -> TypeAdapter[Any]:
        """pydantic-core's check of a list of dicts, lax like the model (the second reading)."""
        from typing_extensions import NotRequired, TypedDict

        fields: dict[str, Any] = {}
        for name, info in self.model.model_fields.items():
            annotation = info.annotation
            fields[info.alias or name] = annotation if info.is_required() else NotRequired[annotation]
        record = TypedDict(f"{self.model.__name__}Record", fields)  # type: ignore[misc]
        config = self.model.model_config
        record.__pydantic_config__ = ConfigDict(  # type: ignore[attr-defined]
            extra="ignore",
            coerce_numbers_to_str=bool(config.get("coerce_numbers_to_str", False)),
        )
        return TypeAdapter(list[record])

    def check_page(self, page: Page, what: str) -> list[Any]:
        """Every record of ``page`` checked; returns the checked values, one object per record
        (attributes under the vendor's field names: ``checked.callTime``), for the hook's own decisions."""
        if page.content is not None:
            try:
                return self._strict.decode(page.content)  # type: ignore[no-any-return]
            except msgspec.ValidationError:
                pass  # not the strict form of the document: the tolerant reading decides
            except msgspec.DecodeError:
                raise _unreadable(what) from None
        return [_Checked(values) for values in self.check(page.records, what)]

    def check(self, records: Any, what: str) -> list[dict[str, Any]]:
        """The tolerant check of decoded records (one pydantic-core call, then the model's own
        validators for what that refuses); returns the checked values as dicts.

        Raises :class:`UnexpectedResponseError` naming the first bad record and field (never its value).
        """
        if not isinstance(records, list):
            raise UnexpectedResponseError(
                f"{what}: the records are not a list (got {type(records).__name__})"
            )
        try:
            checked: list[dict[str, Any]] = self._tolerant.validate_python(records)
        except PydanticValidationError as exc:
            try:
                models = [self.model.model_validate(record) for record in records]
            except PydanticValidationError:
                raise shape_error(exc, what) from None
            return [model.model_dump(by_alias=True) for model in models]
        return checked

    def models(self, records: Records) -> list[Any]:
        """The records as models (for hook methods that return models, not for exports)."""
        return [self.model.model_validate(record) for record in records]


class _Checked:
    """Checked values of a record that came through the tolerant reading, read like a struct
    (``checked.talkDuration``)."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        return self._values.get(name)


def raw_fields(content: bytes, names: tuple[str, ...], what: str) -> dict[str, bytes | None]:
    """The bytes of top-level fields of a JSON object (an envelope's ``calls``, ``error`` …); absent or
    ``null`` ones are ``None``.  The object is scanned in C, its fields not decoded."""
    decoder = _ENVELOPES.get(names)
    if decoder is None:
        absent = msgspec.Raw(b"")  # msgspec takes Raw alone, not in a union: b"" marks "absent"
        fields = [(f"f{i}", msgspec.Raw, absent) for i in range(len(names))]
        rename = {f"f{i}": name for i, name in enumerate(names)}
        envelope = msgspec.defstruct("Envelope", fields, rename=rename)
        decoder = _ENVELOPES[names] = msgspec.json.Decoder(envelope)
    try:
        decoded = decoder.decode(content)
    except msgspec.ValidationError:
        raise UnexpectedResponseError(f"{what}: the answer is not a JSON object") from None
    except msgspec.DecodeError:
        raise _unreadable(what) from None
    found: dict[str, bytes | None] = {}
    for i, name in enumerate(names):
        value = memoryview(getattr(decoded, f"f{i}")).tobytes()
        found[name] = None if not value or value == b"null" else value
    return found


_ENVELOPES: dict[tuple[str, ...], msgspec.json.Decoder[Any]] = {}


def _struct_of(model: type[BaseModel]) -> Any:
    """A msgspec struct of ``model``'s declared fields under the vendor's names, with the model's
    types (numbers accepted as text fields where the model coerces them), nested models as structs."""
    coerce = bool(model.model_config.get("coerce_numbers_to_str", False))
    fields: list[Any] = []
    for name, info in model.model_fields.items():
        annotation = _msgspec_type(info.annotation, coerce)
        key = info.alias or name  # attributes under the vendor's names, like the tolerant reading's
        if info.is_required():
            fields.append((key, annotation))
        else:  # the model's default when it is a plain value (a list default is left as None)
            default = info.default if isinstance(info.default, (int, float, str, bool)) else None
            fields.append((key, annotation, default))
    return msgspec.defstruct(f"{model.__name__}Struct", fields, forbid_unknown_fields=False)


def _msgspec_type(annotation: Any, coerce: bool) -> Any:
    """The msgspec form of a declared type (recursively through unions and lists)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _struct_of(annotation)
    if annotation is str and coerce:
        return str | int | float
    if annotation is float:
        return int | float
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = {_msgspec_type(a, coerce) for a in typing.get_args(annotation)}
        return typing.Union[tuple(members)]  # noqa: UP007 - built at run time
    if origin is list:
        args = typing.get_args(annotation)
        return list[_msgspec_type(args[0], coerce) if args else Any]  # type: ignore[misc]
    return annotation


def shape_error(exc: PydanticValidationError, what: str) -> UnexpectedResponseError:
    """Where a page broke its schema: record index, field and rule (no values: they may be phones)."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    loc = ".".join(str(part) for part in first.get("loc", ())) or "records"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return UnexpectedResponseError(
        f"{what}: the answer does not have the documented shape: record {loc}: {first.get('msg')}{more}"
    )


def union_args(annotation: Any) -> tuple[Any, ...]:
    """The members of ``X | Y`` / ``Optional[X]``, or ``(annotation,)``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)
