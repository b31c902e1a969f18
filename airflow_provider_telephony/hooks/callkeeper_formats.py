"""Reading CallKeeper response bodies: v1 in json, xml, csv and plain, v3 json, and errors in any of them.

The documents show only JSON.  v1 also promises ``xml``, ``csv`` and ``plain``; their layouts follow the
same envelope (``inbound`` / ``info`` / ``payload``) and are read as the sandbox documents them
(``airflow_provider_telephony.sandbox.callkeeper_formats``), tolerantly:

* **xml** — any root element; its ``inbound`` and ``payload`` children are read, every child of
  ``payload`` is one record whose child elements are its fields.  ``<item>`` children make a list,
  ``null="true"`` is ``null``.
* **csv** — a header line of field names, then one line per record (RFC 4180).  CSV cannot carry
  ``inbound``, so a client pages until "Incorrect page is set".  An error is a one-column document with
  the header ``error``.
* **plain** — ``[inbound]``, ``[info]`` and ``[payload N]`` sections of ``key: value`` lines; dotted keys
  nest.

In the three text formats every value is text: an empty value is ``null`` (``[]`` for a list field) and
list fields are joined with ``|``.  Values are converted by the record model's declared field types, so
a record reads identically from all four formats.  Fields a model does not declare stay text.

Whatever was requested, a body that starts with ``{`` is read as JSON and one that starts with ``<`` as
XML: a server answers a wrong ``{format}`` segment in JSON.

A body that cannot be read at all (empty, cut short, not the format it claims) raises
:class:`~airflow_provider_telephony.core.errors.UnreadableResponseError`, which is retried; a readable
body of the wrong shape — a record that breaks its model, or an answer with neither records
(``payload``) nor an error — raises :class:`~airflow_provider_telephony.core.errors.UnexpectedResponseError`,
which is not.  Neither is ever taken as "no more rows": only an empty ``payload``/array, "No rows
found" or "Incorrect page is set" ends paging.
Neither message contains record values (they may be phone numbers).  A csv or plain body cut inside
its very last value cannot be told from a complete one; cuts the transport sees (``Content-Length``,
chunked encoding) are retried by the exchange before parsing.

The module also classifies the documented in-body error texts (:func:`error_kind`) and names the URL
segment each one is about (:data:`SEGMENTS`), in the documents' own ``{{segment}}`` notation.
"""

from __future__ import annotations

import csv
import io
import json
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from airflow_provider_telephony.core.errors import UnexpectedResponseError, UnreadableResponseError
from airflow_provider_telephony.core.records import (
    Page,
    Records,
    RecordSchema,
    decode,
    raw_fields,
    union_args,
)
from airflow_provider_telephony.core.responses import body_error
from airflow_provider_telephony.models import callkeeper as m

LIST_SEPARATOR = "|"


@dataclass(frozen=True)
class ParsedV1:
    """A v1 body read into ``inbound`` (possibly carrying ``error``) and its page of records."""

    inbound: m.Inbound
    page: Page


def _unreadable(what: str, fmt: str, exc: BaseException | str) -> UnreadableResponseError:
    reason = exc if isinstance(exc, str) else type(exc).__name__
    return UnreadableResponseError(f"{what}: unreadable {fmt} response ({reason})")


def _no_payload(what: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"{what}: the answer has neither records ('payload') nor an error ('inbound.error'); "
        "refusing to take it as the last page"
    )


def first_byte(content: bytes) -> bytes:
    """The first non-blank byte of a body (after a UTF-8 BOM), or ``b""`` for an empty body."""
    return content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]


# ----------------------------------------------------------------------------- json


@cache
def schema_of(model: type[BaseModel]) -> RecordSchema:
    """The one-call page validator of a record model."""
    return RecordSchema(model)


@cache
def _typed_fields(model: type[BaseModel]) -> frozenset[str]:
    """Vendor names of the declared fields that are not text (numbers, booleans, lists, objects)."""
    return frozenset(
        info.alias or name
        for name, info in model.model_fields.items()
        if str not in union_args(info.annotation)
    )


def _blank_to_none(model: type[BaseModel], row: Any) -> Any:
    if not isinstance(row, dict):
        return row
    typed = _typed_fields(model)
    return {key: (None if value == "" and key in typed else value) for key, value in row.items()}


def checked(page: Page, model: type[BaseModel], what: str) -> Page:
    """A page with every record validated (in C from its bytes when it came as JSON; see
    :class:`~airflow_provider_telephony.core.records.RecordSchema`), records kept as received.

    A page that fails is read a second time with ``""`` in a typed field taken as ``null``: the
    documents promise ``0`` / ``[]`` for empty numbers and lists, and a server that writes ``""``
    instead should not stop an export (the record is still written as received).  Only pages that
    fail the fast check pay for this.
    """
    schema = schema_of(model)
    try:
        return page.validated(schema, what)
    except UnexpectedResponseError:
        records = page.records
        if not isinstance(records, list):
            raise
        schema.check([_blank_to_none(model, row) for row in records], what)
        return page


def as_models(model: type[BaseModel], rows: Records) -> list[Any]:
    """Records as models, with the same tolerance as :func:`checked` (``""`` in a typed field
    is ``null``)."""
    try:
        return [model.model_validate(row) for row in rows]
    except PydanticValidationError:
        return [model.model_validate(_blank_to_none(model, row)) for row in rows]


def _inbound_of(data: dict[str, Any], what: str) -> m.Inbound:
    """``inbound`` of an envelope; a top-level ``error`` text (not documented) is read as ``inbound.error``."""
    raw = data.get("inbound")
    inbound = _inbound(raw if isinstance(raw, dict) else {}, what)
    if inbound.error is None and isinstance(data.get("error"), str):
        inbound = inbound.model_copy(update={"error": data["error"]})
    return inbound


def _envelope_page(inbound: m.Inbound, payload: bytes | None, what: str) -> ParsedV1:
    """The page of an envelope, its ``payload`` split into the records' bytes (in C)."""
    if inbound.error is not None:
        return ParsedV1(inbound, Page.from_records([]))
    if payload is None:
        raise _no_payload(what)
    return ParsedV1(inbound, Page.from_array(payload, what, field="payload"))


def parse_v1_json(content: bytes, what: str) -> ParsedV1:
    """A v1 JSON envelope: ``inbound`` decoded, ``payload`` split into its records' bytes (checked
    by :func:`checked` in the consumer, while the next page is fetched)."""
    fields = raw_fields(content, ("inbound", "error", "payload"), what)
    inbound_raw = decode(fields["inbound"], what) if fields["inbound"] is not None else {}
    error = decode(fields["error"], what) if fields["error"] is not None else None
    inbound = _inbound_of({"inbound": inbound_raw, "error": error}, what)
    return _envelope_page(inbound, fields["payload"], what)


def parse_v3(content: bytes, what: str) -> tuple[Page, m.Inbound | None]:
    """A v3 body: a bare JSON array of calls (documented), or an envelope (errors; payload tolerated).

    Returns the page of calls as received (split into records, not yet validated: :func:`checked`
    does that, in the consumer) and, for an envelope, its ``inbound`` (which may carry ``error``).
    """
    head = first_byte(content)
    if head == b"[":
        return Page.from_array(content, what), None
    if head == b"{":
        parsed = parse_v1_json(content, what)
        return parsed.page, parsed.inbound
    reason = "empty body" if head == b"" else "expected a JSON array of calls"
    raise _unreadable(what, "json", reason)


# ----------------------------------------------------------------------------- text formats


@cache
def _list_fields(model: type[BaseModel]) -> frozenset[str]:
    """Vendor names of the model's fields whose type is a list."""
    return frozenset(
        info.alias or name
        for name, info in model.model_fields.items()
        if any(typing.get_origin(arg) is list or arg is list for arg in union_args(info.annotation))
    )


def text_row(model: type[BaseModel], row: dict[str, Any]) -> dict[str, Any]:
    """Undo the text formats' value rules for one record: ``""`` -> ``None``, ``"a|b"`` -> list fields."""
    lists = _list_fields(model)
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in lists:
            if value is None or value == "":
                value = []
            elif isinstance(value, str):
                value = value.split(LIST_SEPARATOR)
        elif value == "":
            value = None
        out[key] = value
    return out


def _nest(flat: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """``{"a.b": 1}`` -> ``{"a": {"b": 1}}`` (plain format's dotted keys)."""
    out: dict[str, Any] = {}
    for key, value in flat:
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return out


def _rows(model: type[BaseModel], raw: list[dict[str, Any]], what: str) -> Page:
    """Records of a text format (every value text) typed by the model, as the JSON format has them:
    the fields the record has, with the model's types (undeclared fields stay text)."""
    try:
        models = [model.model_validate(text_row(model, row)) for row in raw]
    except PydanticValidationError as exc:
        raise body_error(exc, what) from None
    return Page.from_records(
        [record.model_dump(mode="json", by_alias=True, exclude_unset=True) for record in models]
    )


def _inbound(raw: dict[str, Any], what: str) -> m.Inbound:
    try:
        return m.Inbound.model_validate({k: (None if v == "" else v) for k, v in raw.items()})
    except PydanticValidationError as exc:
        raise body_error(exc, what) from None


def _xml_value(element: Any) -> Any:
    if element.get("null") == "true":
        return None
    children = list(element)
    if children:
        if all(child.tag == "item" for child in children):
            return [_xml_value(child) for child in children]
        return {child.tag: _xml_value(child) for child in children}
    return element.text or ""


def parse_v1_xml(content: bytes, model: type[BaseModel], what: str) -> ParsedV1:
    """``<response><inbound/><info/><payload><call>...</call>...</payload></response>``."""
    import xml.etree.ElementTree as ET  # expat >= 2.4.1 refuses entity expansion attacks

    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise _unreadable(what, "xml", exc) from None
    inbound_el = root.find("inbound")
    inbound_raw = _xml_value(inbound_el) if inbound_el is not None else {}
    inbound = _inbound(inbound_raw if isinstance(inbound_raw, dict) else {}, what)
    payload_el = root.find("payload")
    if payload_el is None and inbound.error is None:
        raise _no_payload(what)
    raw_rows: list[dict[str, Any]] = []
    if payload_el is not None:
        for record in payload_el:
            raw_rows.append({field.tag: _xml_value(field) for field in record})
    return ParsedV1(inbound, _rows(model, raw_rows, what))


def parse_v1_csv(content: bytes, model: type[BaseModel], what: str) -> ParsedV1:
    """Header line then records; a one-column ``error`` document is an error."""
    try:
        text = content.decode("utf-8-sig")
        lines = [line for line in csv.reader(io.StringIO(text, newline="")) if line]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _unreadable(what, "csv", exc) from None
    if not lines:
        raise _unreadable(what, "csv", "empty body")
    header = [name.strip() for name in lines[0]]
    if header == ["error"]:
        message = lines[1][0] if len(lines) > 1 and lines[1] else ""
        return ParsedV1(m.Inbound(error=message), Page.from_records([]))
    raw_rows = []
    for line in lines[1:]:
        if len(line) != len(header):
            # a record with the wrong number of cells: the body was cut short
            raise _unreadable(what, "csv", "a record does not match the header")
        raw_rows.append(dict(zip(header, line, strict=True)))
    return ParsedV1(m.Inbound(), _rows(model, raw_rows, what))


def parse_v1_plain(content: bytes, model: type[BaseModel], what: str) -> ParsedV1:
    """``[inbound]`` / ``[info]`` / ``[payload N]`` sections of ``key: value`` lines."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _unreadable(what, "plain", exc) from None
    sections: list[tuple[str, list[tuple[str, str]]]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            sections.append((stripped[1:-1].strip(), []))
            continue
        key, sep, value = line.partition(":")
        if not sep or not sections:
            raise _unreadable(what, "plain", "a line is not 'key: value'")
        sections[-1][1].append((key.strip(), value[1:] if value.startswith(" ") else value))
    if not sections:
        raise _unreadable(what, "plain", "empty body")
    inbound_raw: dict[str, Any] | None = None
    raw_rows: list[dict[str, Any]] = []
    for title, pairs in sections:
        if title == "inbound":
            inbound_raw = _nest(pairs)
        elif title == "payload" or title.startswith("payload "):
            raw_rows.append(_nest(pairs))
    if inbound_raw is None and not raw_rows:
        raise _no_payload(what)
    return ParsedV1(_inbound(inbound_raw or {}, what), _rows(model, raw_rows, what))


def parse_v1(content: bytes, fmt: str, model: type[BaseModel], what: str) -> ParsedV1:
    """Read a v1 body requested in ``fmt`` (sniffing JSON and XML bodies whatever was requested)."""
    head = first_byte(content)
    if head == b"{":
        return parse_v1_json(content, what)
    if head == b"<":
        return parse_v1_xml(content, model, what)
    if head == b"":
        raise _unreadable(what, fmt, "empty body")
    if fmt == "csv":
        return parse_v1_csv(content, model, what)
    if fmt == "plain":
        return parse_v1_plain(content, model, what)
    raise _unreadable(what, fmt, "not JSON or XML")


def error_text(content: bytes) -> str | None:
    """The ``inbound.error`` a body carries in any of the formats, or ``None`` (for non-200 answers)."""
    head = first_byte(content)
    try:
        if head == b"{":
            body = json.loads(content)
            if not isinstance(body, dict):
                return None
            inbound = body.get("inbound")
            error = inbound.get("error") if isinstance(inbound, dict) else None
            error = error if error is not None else body.get("error")
            return error if isinstance(error, str) else None
        if head == b"<":
            import xml.etree.ElementTree as ET

            found = ET.fromstring(content).find("inbound/error")
            return found.text or "" if found is not None else None
        text = content.decode("utf-8-sig")
    except (ValueError, SyntaxError):  # json and xml parse errors (ET.ParseError is a SyntaxError)
        return None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) >= 2 and lines[0] == "error":
        return next(csv.reader([lines[1]]))[0]
    if len(lines) >= 2 and lines[0] == "[inbound]" and lines[1].startswith("error:"):
        return lines[1].partition(":")[2].strip()
    return None


# ----------------------------------------------------------------------------- in-body errors

#: documented error texts (lower-case prefixes, tolerant of punctuation) -> what they are about
_ERROR_KINDS: tuple[tuple[str, str], ...] = (
    ("no rows found", "no_rows"),
    ("type to return is not available", "format"),
    ("it is wrong api version", "version"),
    ("user is not recogni", "key"),
    ("entity does not exist", "entity"),
    ("method does not exist", "method"),
    ("incorrect page", "page"),
    ("start date", "from"),
    ("end date", "to"),
)
#: the URL segment (as each document names it) and our argument behind each kind of error
SEGMENTS: dict[str, dict[str, tuple[str, str]]] = {
    "v3": {
        "format": ("{{format}}", "response_format"),
        "version": ("{{version}}", "api_version"),
        "entity": ("{{entity}}", "entity"),
        "method": ("{{method}}", "method"),
        "page": ("{{pages}}", "page"),
        "from": ("{{from}}", "date_from"),
        "to": ("{{to}}", "date_to"),
    },
    "v1": {
        "format": ("{{format}}", "response_format"),
        "version": ("{{version}}", "api_version"),
        "entity": ("{{entity}}", "entity"),
        "method": ("{{method}}", "method"),
        "page": ("{{page}}", "page"),
        "from": ("{{time_start}}", "time_start"),
        "to": ("{{time_end}}", "time_end"),
    },
}


def error_kind(message: str) -> str | None:
    """Which documented error ``message`` is (``no_rows``, ``key``, ``page``, ``from`` ...), or ``None``."""
    text = message.strip().lower()
    for prefix, kind in _ERROR_KINDS:
        if text.startswith(prefix):
            return kind
    return None
