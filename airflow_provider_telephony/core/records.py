"""Pages of records: decoded once, validated in one pydantic-core call, kept as the vendor sent them.

The export hot path never builds a model per record.  A page's body is decoded with orjson into
plain dicts; :class:`RecordSchema` checks the whole list against the vendor model's declared fields
in a single pydantic-core call (a ``TypedDict`` generated from the model: same names, same types,
unknown fields allowed but not copied); the dicts themselves — field names, values and time strings
exactly as received, unknown fields included — are what the writers write.  The validated copy the
check returns carries parsed values (datetimes) for the few things a hook decides on (a window
filter), read with C-level ``map``/``itemgetter``, never a Python loop per record.

A page that fails the fast check is not accepted silently: the vendor decides whether a tolerant
second reading (its model's own validators) accepts it, else it is an
:class:`~airflow_provider_telephony.core.errors.UnexpectedResponseError` naming the record and field.
"""

from __future__ import annotations

import types
import typing
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from airflow_provider_telephony.core.errors import UnexpectedResponseError, UnreadableResponseError

#: a list of records as decoded from JSON
Records = list[dict[str, Any]]


def decode(content: bytes, what: str) -> Any:
    """A JSON body as Python objects (orjson; the stdlib for what orjson refuses, e.g. huge integers)."""
    import orjson

    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        import json

        try:
            return json.loads(content)
        except ValueError:
            raise UnreadableResponseError(
                f"{what}: unreadable response (invalid or cut-short JSON)"
            ) from None


class RecordSchema:
    """The declared fields of a record model, as a one-call validator of whole pages.

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
    def _adapter(self) -> TypeAdapter[Any]:
        from typing_extensions import NotRequired, TypedDict

        fields: dict[str, Any] = {}
        for name, info in self.model.model_fields.items():
            # a time is checked as RFC 3339 text, not parsed (the copy would be thrown away); nested
            # models stay models: they validate themselves
            annotation = _as_checked_text(info.annotation)
            fields[info.alias or name] = annotation if info.is_required() else NotRequired[annotation]
        record = TypedDict(f"{self.model.__name__}Record", fields)  # type: ignore[misc]
        config = self.model.model_config
        # lax like the model (a number sent as text passes, and is still written as sent); unknown
        # fields allowed but not copied into the check's output (the raw dict keeps them)
        record.__pydantic_config__ = ConfigDict(  # type: ignore[attr-defined]
            extra="ignore",
            coerce_numbers_to_str=bool(config.get("coerce_numbers_to_str", False)),
        )
        return TypeAdapter(list[record])

    def check(self, records: Any, what: str) -> list[dict[str, Any]]:
        """Validate a list of records in one call; return the validated copies (parsed values).

        Raises :class:`UnexpectedResponseError` naming the first bad record and field (never its value).
        """
        if not isinstance(records, list):
            raise UnexpectedResponseError(
                f"{what}: the records are not a list (got {type(records).__name__})"
            )
        try:
            checked: list[dict[str, Any]] = self._adapter.validate_python(records)
        except PydanticValidationError as exc:
            # a second, tolerant reading by the model itself (its own validators, e.g. a time
            # without an offset read as UTC); only pages that fail the fast check pay for it
            try:
                models = [self.model.model_validate(record) for record in records]
            except PydanticValidationError:
                raise shape_error(exc, what) from None
            return [model.model_dump(by_alias=True) for model in models]
        return checked

    def models(self, records: Records) -> list[Any]:
        """The records as models (for hook methods that return models, not for exports)."""
        return [self.model.model_validate(record) for record in records]


#: RFC 3339 date-time text, with an offset: what a time field must look like on the fast path
RFC3339 = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:?\d{2})$"


def _as_checked_text(annotation: Any) -> Any:
    """``datetime`` (also inside ``X | None``) becomes text that must match :data:`RFC3339`."""
    from datetime import datetime
    from typing import Annotated

    from pydantic import StringConstraints

    members = union_args(annotation)
    if datetime not in members:
        return annotation
    text = Annotated[str, StringConstraints(pattern=RFC3339)]
    others = tuple(m for m in members if m is not datetime)
    return typing.Union[(text, *others)] if others else text


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
