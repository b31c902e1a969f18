"""Wire side of the CallKeeper emulation: request grammar, documented errors, dates, the four v1 renderings.

:func:`answer` turns a raw query string into a response body using a :class:`World` (the seeded data of
:mod:`airflow_provider_telephony.sandbox.callkeeper`, which documents the URL grammar and the errors).

The CallKeeper documents (``seeds/callkeeper-v1.md``, ``seeds/callkeeper-v3.md``) show only JSON.  v1 also
promises ``xml``, ``csv`` and ``plain``; this module defines faithful renderings of the *same* envelope
(``inbound`` / ``info`` / ``payload``) so that a client can parse any of them into identical rows.  The
layouts are described once here and referred to from :mod:`airflow_provider_telephony.sandbox.callkeeper`.

Shared value rules (xml, csv, plain)
    * integers in decimal, booleans as ``true`` / ``false``;
    * ``null`` is an *empty* value (csv field, plain value) or an element with ``null="true"`` (xml).  v1
      rows never contain an empty string (the vendor writes ``"-"`` for "unknown"), so an empty csv/plain
      value is unambiguous: it means ``null`` for a scalar field and ``[]`` for an array field;
    * arrays of scalars (``tagsId``, ``info.types``) are joined with ``|`` (:data:`LIST_SEPARATOR`) in csv and
      plain, and are ``<item>`` children in xml.
    * values never contain line breaks (the seeded data has none).

xml (``application/xml; charset=utf-8``)::

    <?xml version="1.0" encoding="UTF-8"?>
    <response>
    <inbound><requestedType>xml</requestedType>...<requestedParams><requirePage>0</requirePage>...
      </requestedParams><pageLength>1000</pageLength>...</inbound>
    <info><entities><call><item>get</item></call>...</entities><types><item>json</item>...</types>
      <versions><item>v1</item></versions></info>
    <payload>
    <call><city>-</city>...<record null="true"/><tagsId><item>3</item></tagsId>...</call>
    ...
    </payload>
    </response>

    One element per record, named after the requested entity (``call``, ``callrole``, ``phone``, ``user``,
    ``campaign``, ``tag``), one child element per field in the JSON key order.  Errors:
    ``<inbound><error>No rows found</error></inbound>`` and an empty ``<payload/>``.

csv (``text/csv; charset=utf-8``)
    RFC 4180 (comma, ``"`` quoting when needed, CRLF line ends), UTF-8 without BOM.  The first line is the
    header: the entity's field names in the JSON key order; then one line per record.  CSV cannot carry the
    ``inbound``/``info`` blocks, so a csv client pages until the ``Incorrect page is set`` error.  An error
    is a one-column document: header ``error`` and one line with the message text.

plain (``text/plain; charset=utf-8``)
    INI-like sections separated by a blank line; every other line is ``key: value`` (split on the first
    ``:``, then drop one space; keys never contain ``:``).  Nested objects use dotted keys::

        [inbound]
        requestedType: plain
        requestedParams.requirePage: 0
        ...
        [info]
        entities.call: get
        types: json|plain|csv|xml
        versions: v1

        [payload 0]
        city: -
        record:
        tagsId: 3|5
        ...

    Records are ``[payload N]`` sections, N counting from 0 within the page.  An error is an ``[inbound]``
    section with a single ``error:`` line, followed by ``[info]`` and no payload sections.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Protocol
from urllib.parse import unquote_plus
from xml.sax.saxutils import escape

import msgspec

from airflow_provider_telephony.sandbox.config import SandboxConfig


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON (unescaped Cyrillic, as the documents show it)."""
    return msgspec.json.encode(value)


FORMATS = ("json", "xml", "csv", "plain")
MEDIA_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "plain": "text/plain; charset=utf-8",
}
LIST_SEPARATOR = "|"
#: the largest timestamp accepted (9999-12-31 23:59:59 UTC); bigger numbers are "wrong type"
MAX_TIMESTAMP = 253_402_300_799

# ----------------------------------------------------------------------------- documented constants

ERR_NO_ROWS = "No rows found"
ERR_FORMAT = "Type to return is not available"
ERR_VERSION = "It is wrong API version"
ERR_USER = "User is not recognized"
ERR_ENTITY = "Entity does not exist"
ERR_METHOD = "Method does not exist"
ERR_PAGE = "Incorrect page is set"
ERR_START = "Start date has wrong type. Possible format is 'Y-m-d' or timestamp"
#: not in the documents: made by analogy with ERR_START for a bad ``to`` / ``time_end``
ERR_END = "End date has wrong type. Possible format is 'Y-m-d' or timestamp"

#: the ``info`` block, verbatim from both documents (v3 errors carry the same one)
INFO: dict[str, Any] = {
    "entities": {
        "call": ["get"],
        "callrole": ["get"],
        "phone": ["get"],
        "user": ["get"],
        "campaign": ["get"],
        "tag": ["get"],
    },
    "types": ["json", "plain", "csv", "xml"],
    "versions": ["v1"],
}

V3_METHODS = ("get", "getByRole", "getWithRole")

#: v1 call fields, in the order of the document's sample
V1_CALL_FIELDS = (
    "city", "site", "state", "callId", "device", "record", "region", "tagsId", "utmTerm", "audition",
    "callType", "clientIp", "duration", "timeStart", "utmMedium", "utmSource", "campaignId", "officeName",
    "routePhone", "sourceType", "utmContent", "clientPhone", "officePhone", "utmCampaign", "campaignName",
    "stateDescription",
)  # fmt: skip

#: fields of the reference entities (not in the document: designed, camelCase like the call fields)
V1_REFERENCE_FIELDS: dict[str, tuple[str, ...]] = {
    "campaign": ("campaignId", "campaignName", "site", "officeName", "officePhone", "callType", "accessType"),
    "phone": ("phoneId", "phone", "campaignId", "campaignName", "accessType"),
    "user": ("userId", "login", "name", "email", "accessType"),
    "tag": ("tagId", "tagName"),
}

# ----------------------------------------------------------------------------- request path


def query_path(raw_query: str) -> str:
    """Return the CallKeeper "path" carried by a raw query string, without its trailing slashes.

    The vendor's PHP reads the path as the first key of ``$_GET``; the sandbox mirrors that so clients that
    percent-encode the slashes or let their HTTP library append ``=`` still work: keep the part before the
    first ``&``, then the part before the first ``=``, then percent-decode it (``+`` is a space).
    """
    first = raw_query.split("&", 1)[0].split("=", 1)[0]
    return unquote_plus(first).rstrip("/")


def segments(path: str, count: int) -> list[str]:
    """Split ``path`` on ``/`` and pad with empty strings (missing parameters) to at least ``count`` items."""
    parts = path.split("/") if path else []
    return parts + [""] * (count - len(parts))


_DIGITS = re.compile(r"\d+\Z")
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})\Z")


def parse_page(text: str) -> int | None:
    """A page number is a plain non-negative decimal; anything else is ``None`` (Incorrect page is set)."""
    return int(text) if _DIGITS.match(text) else None


def parse_timestamp(text: str) -> int | None:
    """Parse a unix timestamp (digits only, at most year 9999); ``None`` when it is not one."""
    if not _DIGITS.match(text):
        return None
    value = int(text)
    return value if value <= MAX_TIMESTAMP else None


def parse_day(text: str) -> date | None:
    """Parse a ``Y-m-d`` date (month and day may have one digit, as PHP accepts); ``None`` when invalid."""
    match = _YMD.match(text)
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def day_start(day: date) -> int:
    """Unix timestamp of 00:00:00 UTC of ``day``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())


def v3_window_start(text: str) -> int | None:
    """First second of a v3 ``from``: the timestamp itself, or 00:00:00 UTC of a ``Y-m-d`` day."""
    stamp = parse_timestamp(text)
    if stamp is not None:
        return stamp
    day = parse_day(text)
    return None if day is None else day_start(day)


def v3_window_end(text: str) -> int | None:
    """Exclusive end of a v3 ``to``: timestamp + 1 (the second is included), or the next day's midnight."""
    stamp = parse_timestamp(text)
    if stamp is not None:
        return stamp + 1
    day = parse_day(text)
    return None if day is None else day_start(day + timedelta(days=1))


# ----------------------------------------------------------------------------- v1 renderings


@dataclass(frozen=True)
class Envelope:
    """One v1 answer before rendering: the three documented blocks plus what the renderings need.

    ``payload_json`` is the exact JSON of ``payload`` (the json rendering embeds it verbatim, and
    ``inbound.contentLength`` is its length in bytes).  ``fields`` orders csv columns; ``row_tag`` names the
    xml record element.
    """

    inbound: Mapping[str, Any]
    info: Mapping[str, Any]
    payload: Sequence[Mapping[str, Any]]
    payload_json: bytes
    fields: Sequence[str]
    row_tag: str


def error_envelope(message: str) -> Envelope:
    """The documented failure body: ``inbound.error``, the fixed ``info``, an empty ``payload``."""
    return Envelope({"error": message}, INFO, [], b"[]", (), "call")


def render(fmt: str, envelope: Envelope) -> bytes:
    """Render ``envelope`` in one of :data:`FORMATS`."""
    renderer = {"json": render_json, "xml": render_xml, "csv": render_csv, "plain": render_plain}[fmt]
    return renderer(envelope)


def render_json(envelope: Envelope) -> bytes:
    """The documented shape: ``{"inbound": ..., "info": ..., "payload": [...]}``, compact UTF-8."""
    return b"".join(
        (
            b'{"inbound":',
            dumps(envelope.inbound),
            b',"info":',
            dumps(envelope.info),
            b',"payload":',
            envelope.payload_json,
            b"}",
        )
    )


def _scalar_text(value: Any) -> str:
    """Text of a scalar or list for csv/plain: ``None`` -> empty, bools lower-case, lists joined by ``|``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(_scalar_text(item) for item in value)
    return str(value)


def _xml_element(tag: str, value: Any) -> str:
    """One xml element: dicts nest by key, lists become ``<item>`` children, ``None`` is ``null="true"``."""
    if value is None:
        return f'<{tag} null="true"/>'
    if isinstance(value, Mapping):
        inner = "".join(_xml_element(key, item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        inner = "".join(_xml_element("item", item) for item in value)
    else:
        inner = escape(_scalar_text(value))
    return f"<{tag}>{inner}</{tag}>"


def render_xml(envelope: Envelope) -> bytes:
    """``<response>`` with ``<inbound>``, ``<info>`` and ``<payload>`` children; one element per record."""
    rows = "".join(_xml_element(envelope.row_tag, row) + "\n" for row in envelope.payload)
    payload = f"<payload>\n{rows}</payload>" if rows else "<payload/>"
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<response>\n'
        f"{_xml_element('inbound', envelope.inbound)}\n{_xml_element('info', envelope.info)}\n"
        f"{payload}\n</response>\n"
    )
    return text.encode()


def render_csv(envelope: Envelope) -> bytes:
    """Header of field names then one line per record; an error is a one-column ``error`` document."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    error = envelope.inbound.get("error")
    if error is not None:
        writer.writerows((("error",), (error,)))
    else:
        writer.writerow(envelope.fields)
        writer.writerows([_scalar_text(row[name]) for name in envelope.fields] for row in envelope.payload)
    return buffer.getvalue().encode()


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    """Dotted ``key: text`` pairs of a nested mapping (lists of scalars stay one value)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else str(key), item)
    else:
        yield prefix, _scalar_text(value)


def _plain_section(title: str, value: Mapping[str, Any]) -> str:
    """One ``[title]`` section of ``key: value`` lines, ended by a blank line."""
    lines = "".join(f"{key}: {text}\n" for key, text in _flatten("", value))
    return f"[{title}]\n{lines}\n"


def render_plain(envelope: Envelope) -> bytes:
    """``[inbound]``, ``[info]`` and one ``[payload N]`` section per record (see the module docstring)."""
    parts = [_plain_section("inbound", envelope.inbound), _plain_section("info", envelope.info)]
    parts.extend(_plain_section(f"payload {index}", row) for index, row in enumerate(envelope.payload))
    return "".join(parts).encode()


# ----------------------------------------------------------------------------- request handling


class LazyRow(Protocol):
    """A seeded call whose v1 row is built on demand."""

    def v1(self) -> dict[str, Any]:
        """The call's v1 row."""
        ...


class World(Protocol):
    """What request handling needs from the seeded data (``callkeeper.CallKeeperWorld``)."""

    config: SandboxConfig

    def calls_between_ts(self, method: str, start: int, end: int) -> list[dict[str, Any]]:
        """v3 rows of a method with ``start <= t < end``."""
        ...

    def v1_window(self, entity: str, start: int, end: int) -> Sequence[LazyRow]:
        """Calls behind v1 ``call`` / ``callrole`` with ``start <= t < end``."""
        ...

    def reference(self, entity: str) -> list[dict[str, Any]]:
        """Rows of a v1 reference entity."""
        ...


class _ApiError(Exception):
    """A documented in-body error; ``message`` is the vendor's exact text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _required_page(text: str) -> int:
    """The page segment as a number, or ``Incorrect page is set``."""
    page = parse_page(text)
    if page is None:
        raise _ApiError(ERR_PAGE)
    return page


def _v1_timestamp(text: str, message: str) -> int:
    """A v1 time parameter: a unix timestamp only (the v1 document says "формат timestamp")."""
    stamp = parse_timestamp(text)
    if stamp is None:
        raise _ApiError(message)
    return stamp


def _page_bounds(total: int, page: int, length: int) -> slice:
    """The slice of one page; ``No rows found`` when empty, ``Incorrect page is set`` beyond the last page."""
    if total == 0:
        raise _ApiError(ERR_NO_ROWS)
    if page * length >= total:
        raise _ApiError(ERR_PAGE)
    return slice(page * length, (page + 1) * length)


@dataclass(frozen=True)
class _V1Page:
    """What a v1 request resolved to: echoed parameters, the total and one page of rows."""

    page: int
    start: int
    end: int
    total: int
    rows: list[dict[str, Any]]


def _v1_page(world: World, entity: str, args: list[str]) -> _V1Page:
    """Resolve ``{page}/{time_start}/{time_end}``; call rows are built for the requested page only."""
    page_text, start_text, end_text = args[:3]
    length = world.config.callkeeper_v1_page_length
    if entity in ("call", "callrole"):
        page = _required_page(page_text)
        start, end = _v1_timestamp(start_text, ERR_START), _v1_timestamp(end_text, ERR_END)
        calls = world.v1_window(entity, start, end + 1)
        rows = [call.v1() for call in calls[_page_bounds(len(calls), page, length)]]
        return _V1Page(page, start, end, len(calls), rows)
    page = _required_page(page_text) if page_text else 0
    start = _v1_timestamp(start_text, ERR_START) if start_text else 0
    end = _v1_timestamp(end_text, ERR_END) if end_text else 0
    every = world.reference(entity)
    return _V1Page(page, start, end, len(every), every[_page_bounds(len(every), page, length)])


def _v1(world: World, fmt: str, args: list[str]) -> Envelope:
    """Answer ``{format}/v1/{key}/{entity}/{method}/{page}/{start}/{end}`` (``args`` starts at the key)."""
    key, entity, method = args[:3]
    if key != world.config.callkeeper_api_key:
        raise _ApiError(ERR_USER)
    if entity not in INFO["entities"]:
        raise _ApiError(ERR_ENTITY)
    if method not in INFO["entities"][entity]:
        raise _ApiError(ERR_METHOD)
    got = _v1_page(world, entity, args[3:])
    length = world.config.callkeeper_v1_page_length
    payload_json = dumps(got.rows)
    inbound = {
        "requestedType": fmt, "requestedEntity": entity, "requestedMethod": method, "requestedVersion": "v1",
        "requestedParams": {"requirePage": got.page, "startDate": got.start, "endDate": got.end},
        "pageLength": length, "totalLength": got.total, "ofPages": -(-got.total // length),
        "contentLength": len(payload_json),
    }  # fmt: skip
    fields = V1_CALL_FIELDS if entity in ("call", "callrole") else V1_REFERENCE_FIELDS[entity]
    return Envelope(inbound, INFO, got.rows, payload_json, fields, entity)


def _v3(world: World, args: list[str]) -> bytes:
    """Answer ``json/v3/{key}/call/{method}/{page}/{from}[/{to}]`` (``args`` starts at the key)."""
    config = world.config
    key, entity, method, page_text, from_text, to_text = args[:6]
    if key not in (config.callkeeper_api_key, config.callkeeper_role_api_key):
        raise _ApiError(ERR_USER)
    if entity != "call":
        raise _ApiError(ERR_ENTITY)
    if method not in V3_METHODS:
        raise _ApiError(ERR_METHOD)
    # getByRole takes the role's key; get and getWithRole take the user's key (v3 document)
    if key != (config.callkeeper_role_api_key if method == "getByRole" else config.callkeeper_api_key):
        raise _ApiError(ERR_USER)
    page = _required_page(page_text)
    start = v3_window_start(from_text)
    if start is None:
        raise _ApiError(ERR_START)
    today = config.callkeeper_today or datetime.now(timezone.utc).date()
    end = v3_window_end(to_text) if to_text else day_start(today + timedelta(days=1))
    if end is None:
        raise _ApiError(ERR_END)
    rows = world.calls_between_ts(method, start, end)
    chunk = rows[_page_bounds(len(rows), page, config.callkeeper_v3_page_length)]
    return dumps([{"page": page, **row} for row in chunk])


def answer(world: World, raw_query: str) -> tuple[bytes, str]:
    """Body and media type for one CallKeeper request (either version), given the raw query string."""
    fmt, version, *args = segments(query_path(raw_query), 8)
    if fmt not in FORMATS or (version == "v3" and fmt != "json"):
        return render("json", error_envelope(ERR_FORMAT)), MEDIA_TYPES["json"]
    try:
        if version == "v3":
            return _v3(world, args), MEDIA_TYPES["json"]
        if version != "v1":
            raise _ApiError(ERR_VERSION)
        return render(fmt, _v1(world, fmt, args)), MEDIA_TYPES[fmt]
    except _ApiError as error:
        out = "json" if version == "v3" else fmt
        return render(out, error_envelope(error.message)), MEDIA_TYPES[out]
