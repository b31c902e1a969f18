"""CallKeeper (ckct.ru) call tracking hook: API v1 and v3, sync and async, with the key kept out of logs.

URLs, exactly as the documents write them (the whole request is the query string, its slashes
literal; httpx sends it unchanged)::

    {base}/api/index.php?{format}/v1/{key}/{entity}/get/{page}/{time_start}/{time_end}
    {base}/api/?json/v3/{key}/call/{get|getByRole|getWithRole}/{page}/{from}[/{to}]

``{base}`` is the connection's host (default ``https://ckct.ru``; a full URL such as
``http://127.0.0.1:8123`` points the hook at the sandbox).

**The key is part of the URL.**  It is registered with Airflow's secrets masker and this provider's
redaction as soon as the connection is read; requests are named without it (``CallKeeper v3
call/get page 0``); every exception message is built from that name, never from a URL; the exchange
logs URLs redacted, and the ``httpx``/``httpcore``/``tenacity`` loggers carry a redacting filter.  A key
must consist of URL-safe characters (letters, digits, ``-._~``) so that the text sent is the text
redacted.

**Windows.**  Export windows are half-open, ``[start, end)``.  Both APIs treat ``from``/``to`` as
inclusive (the v3 document's ``2020-05-01/2020-05-02`` is "1 through 2 May"), and call times are whole
seconds, so a window is requested as ``from = ceil(start)``, ``to = ceil(end) - 1`` in unix seconds:
consecutive windows neither share nor skip a second, and no client-side filtering on ``callTime``
(whose time zone the documents do not state) is needed.

**Paging.**  v1: pages ``0 .. inbound.ofPages - 1`` (csv carries no ``inbound``: until "Incorrect page
is set").  v3: until an empty page or "Incorrect page is set".  A page whose records were already seen
in the same sequence (a server ignoring the page number, or cycling A, B, A, B) raises
:class:`~airflow_provider_telephony.core.errors.PagingError`; a body with neither records nor an error
is an error, never the last page.

**Errors inside the body** (``inbound.error``, whatever the HTTP status): "No rows found" is an
empty result; "User is not recognized" is an :class:`AuthenticationError` naming the connection;
"Incorrect page is set" after the first page ends paging; every other documented message is a
:class:`ValidationError` naming the URL segment the server rejected.  HTTP 429 and 5xx map to
:class:`RateLimitedError` / :class:`ServerError` and are retried by the exchange, as are timeouts,
resets and bodies cut short.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_telephony.core.errors import (
    AuthenticationError,
    ConfigurationError,
    RequestValidationError,
    TelephonyError,
    ValidationError,
    VendorError,
    error_for_status,
    retry_after_seconds,
    vendor_text,
)
from airflow_provider_telephony.core.flow import ApiRequest
from airflow_provider_telephony.core.hookbase import TelephonyHook
from airflow_provider_telephony.core.pagination import PageGuard
from airflow_provider_telephony.core.prefetch import prefetched
from airflow_provider_telephony.core.records import Page, RecordSchema
from airflow_provider_telephony.core.redact import register_secret
from airflow_provider_telephony.core.validation import build_request
from airflow_provider_telephony.core.windows import Window
from airflow_provider_telephony.hooks import callkeeper_formats as wire
from airflow_provider_telephony.hooks.callkeeper_formats import schema_of
from airflow_provider_telephony.models import callkeeper as m

if TYPE_CHECKING:
    import httpx
    from pydantic import BaseModel

    from airflow_provider_telephony.core.transport import ConnectionSettings

log = logging.getLogger(__name__)

V1_PATH = "/api/index.php"
V3_PATH = "/api/"
#: connection extra holding the role's key (v3 getByRole); marked as a password in the connection form
ROLE_KEY_EXTRA = "role_api_key"
#: characters a key may have: URL-unreserved, so the URL carries the key verbatim and redaction finds it
_KEY_RE = re.compile(r"[A-Za-z0-9._~-]{5,}")


def normalise_api_version(value: Any) -> str | None:
    """``v1`` / ``v3`` from ``"v1"``, ``"V3"``, ``"3"``, ``3`` …; empty means the default ``v3``; else ``None``."""
    if value is None or value == "":
        return m.DEFAULT_API_VERSION
    text = str(value).strip().lower()
    text = text if text.startswith("v") else f"v{text}"
    return text if text in m.API_VERSIONS else None


def check_api_version(value: Any) -> str:
    """An operator/hook ``api_version`` argument, validated before anything is sent."""
    version = normalise_api_version(value)
    if version is None:
        raise RequestValidationError("api_version", "must be 'v3' or 'v1'", value=value)
    return version


def check_method(value: Any) -> str:
    """A v3 call method (``get`` | ``getByRole`` | ``getWithRole``), validated before anything is sent."""
    if value not in m.V3_METHODS:
        raise RequestValidationError("method", f"must be one of {', '.join(m.V3_METHODS)}", value=value)
    return str(value)


def check_response_format(value: Any, api_version: str | None = None) -> str:
    """A response format: json, xml, csv or plain for v1; v3 answers json only."""
    if value not in m.V1_FORMATS:
        raise RequestValidationError(
            "response_format", f"must be one of {', '.join(m.V1_FORMATS)}", value=value
        )
    if api_version == "v3" and value != "json":
        raise RequestValidationError(
            "response_format", "API v3 answers json only (xml, csv and plain are v1 formats)", value=value
        )
    return str(value)


@dataclass(frozen=True)
class _Answer:
    """One answer as the hook reads it: the page of records (not yet validated) and what paging needs."""

    page: Page
    number: int
    of_pages: int | None = None
    total: int | None = None
    past_end: bool = False


def _signature(page: Page) -> tuple[Any, ...]:
    """What identifies a page's content (its size, first and last record without the ``page`` echo)."""

    def content(index: int) -> str:
        row = page.record(index)
        if isinstance(row, dict):
            row = {k: v for k, v in row.items() if k != "page"}
        return json.dumps(row, sort_keys=True, default=str)

    return (len(page), content(0), content(-1))


def _models(answer: _Answer, model: type[BaseModel], what: str) -> m.CallKeeperPage[Any]:
    """An answer's records, validated, as models (for the hook's model-returning methods)."""
    rows = wire.as_models(model, wire.checked(answer.page, model, what).records)
    return m.CallKeeperPage(
        rows, answer.number, of_pages=answer.of_pages, total=answer.total, past_end=answer.past_end
    )


class CallKeeperHook(TelephonyHook):
    """Talks to CallKeeper call tracking, API v1 and v3.

    Connection (type ``callkeeper``): *password* = the user's API key; *host* = API base URL (default
    ``https://ckct.ru``); extras ``api_version`` (``v3`` default, or ``v1``) and ``role_api_key`` (the
    role's key, needed only by v3 ``getByRole``), plus the common ``timeout``, ``ca_bundle``,
    ``max_retries``.

    :param callkeeper_conn_id: Airflow connection id.
    :param api_version: overrides the connection's ``api_version`` for the version-independent
        methods (:meth:`iter_call_pages`, :meth:`iter_calls`, :meth:`test_connection`).
    """

    conn_name_attr = "callkeeper_conn_id"
    default_conn_name = "callkeeper_default"
    conn_type = "callkeeper"
    hook_name = "CallKeeper call tracking"
    default_base_url = "https://ckct.ru"
    #: the documents state no limit; this spreads requests like the other vendors' defaults
    rate_limit_per_minute = 300.0

    def __init__(
        self, callkeeper_conn_id: str = default_conn_name, api_version: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(callkeeper_conn_id, **kwargs)
        self.callkeeper_conn_id = callkeeper_conn_id
        self._api_version = check_api_version(api_version) if api_version is not None else None

    # --- connection ---------------------------------------------------------------------
    def _settings_from(self, conn: Any) -> ConnectionSettings:
        settings = super()._settings_from(conn)  # registers the password (the API key)
        for raw, name in (
            (settings.password, "password"),
            (settings.extras.get(ROLE_KEY_EXTRA), ROLE_KEY_EXTRA),
        ):
            if isinstance(raw, str):
                register_secret(raw, name)
                register_secret(raw.strip(), name)
        return settings

    @property
    def api_version(self) -> str:
        """``v3`` or ``v1``: the hook's argument, else the connection's ``api_version`` extra, else ``v3``."""
        if self._api_version is not None:
            return self._api_version
        raw = self.settings.extras.get("api_version")
        version = normalise_api_version(raw)
        if version is None:
            raise ConfigurationError(
                f"connection {self.conn_id!r}: extra 'api_version' must be 'v3' or 'v1', got {raw!r}"
            )
        return version

    def _key(self, *, role: bool = False) -> str:
        """The user's key (password) or the role's key (extra ``role_api_key``), checked, never shown."""
        settings = self.settings
        raw = settings.extras.get(ROLE_KEY_EXTRA) if role else settings.password
        what = (
            f"extra {ROLE_KEY_EXTRA!r} (the role's API key, which getByRole needs)"
            if role
            else "password (the API key)"
        )
        key = raw.strip() if isinstance(raw, str) else ""
        if not key:
            raise ConfigurationError(f"connection {self.conn_id!r}: set the {what}")
        if not _KEY_RE.fullmatch(key):
            raise ConfigurationError(
                f"connection {self.conn_id!r}: the {what} must be at least 5 letters or digits "
                "(CallKeeper keys are 16); it goes into the URL, so other characters are refused"
            )
        register_secret(key, ROLE_KEY_EXTRA if role else "password")
        return key

    # --- VendorApi ----------------------------------------------------------------------
    def error_for(self, request: ApiRequest[Any], response: httpx.Response) -> TelephonyError | None:
        """HTTP-level errors; a documented error *inside* the body (any 4xx but 429) is left to the parser."""
        status = response.status_code
        if status < 400:
            return None  # redirects never get here: the exchange refuses them first
        message = f"{request.name}: HTTP {status}"
        if status < 500 and status != 429:
            text = wire.error_text(response.content)
            if text is not None and wire.error_kind(text) is not None:
                return None  # a documented in-body error, whatever the status: the parser maps it
        if status in (401, 403):
            message += f": CallKeeper refused the key of connection {self.conn_id!r}"
        elif status == 404:
            message += f": is the host of connection {self.conn_id!r} the CallKeeper API?"
        error = error_for_status(status, message, retry_after=retry_after_seconds(response.headers))
        if isinstance(error, AuthenticationError):
            error.refreshable = False  # a key does not refresh
        return error

    def _in_body_error(
        self, message: str, *, what: str, version: str, page: int, role: bool = False
    ) -> _Answer:
        """Map ``inbound.error``: an empty page for "No rows found" and for paging past the end; else raise."""
        kind = wire.error_kind(message)
        shown = vendor_text(message)
        if kind == "no_rows":
            return _Answer(Page.from_records([]), page, past_end=page > 0)
        if kind == "page" and page > 0:
            return _Answer(Page.from_records([]), page, past_end=True)
        if kind == "key":
            where = f"extra {ROLE_KEY_EXTRA!r} (the role's key)" if role else "password (the API key)"
            raise AuthenticationError(
                f"{what}: CallKeeper did not recognise the key of connection {self.conn_id!r} ({shown!r}); "
                f"check its {where}",
                vendor_code=shown,
                refreshable=False,
            )
        if kind is None:
            raise VendorError(f"{what}: CallKeeper error {shown!r}", vendor_code=shown)
        segment, argument = wire.SEGMENTS[version][kind]
        raise ValidationError(
            f"{what}: CallKeeper rejected the URL segment {segment} (argument {argument}): {shown!r}",
            vendor_code=shown,
            field_errors={argument: shown},
        )

    # --- request definitions (shared by the sync and async drivers) ---------------------
    def _v3_request(self, req: m.V3CallsRequest) -> ApiRequest[_Answer]:
        role = req.method == "getByRole"
        key = self._key(role=role)
        name = f"CallKeeper v3 call/{req.method}"  # one endpoint = one rate limiter: no page in it
        what = f"{name} page {req.page}"

        def parse(response: httpx.Response) -> _Answer:
            records, inbound = wire.parse_v3(response.content, what)
            if inbound is not None and inbound.error is not None:
                return self._in_body_error(inbound.error, what=what, version="v3", page=req.page, role=role)
            return _Answer(records, req.page)

        path = V3_PATH + "?" + "/".join(("json", "v3", key, "call", *req.segments()))
        return ApiRequest(name=name, method="GET", path=path, parse=parse)

    def _v1_request(self, req: m.V1PageRequest) -> ApiRequest[_Answer]:
        key = self._key()
        name = f"CallKeeper v1 {req.entity}/get"
        what = f"{name} page {req.page} ({req.response_format})"
        model = m.V1_MODELS[req.entity]

        def parse(response: httpx.Response) -> _Answer:
            parsed = wire.parse_v1(response.content, req.response_format, model, what)
            inbound = parsed.inbound
            if inbound.error is not None:
                return self._in_body_error(inbound.error, what=what, version="v1", page=req.page)
            return _Answer(parsed.page, req.page, of_pages=inbound.of_pages, total=inbound.total_length)

        path = V1_PATH + "?" + "/".join((req.response_format, "v1", key, req.entity, *req.segments()))
        return ApiRequest(name=name, method="GET", path=path, parse=parse)

    # --- v3 -----------------------------------------------------------------------------
    def get_v3_page(
        self,
        method: str,
        date_from: datetime | date | int | str,
        date_to: datetime | date | int | str | None = None,
        *,
        page: int = 0,
    ) -> m.CallKeeperPage[m.V3Call]:
        """One v3 request exactly as the API answers it (inclusive ``from``/``to``, no filtering).

        Dates are aware datetimes (sent as unix seconds), ``date`` objects or ``Y-m-d`` text (whole
        days), or int timestamps; ``date_to`` may be omitted (the server then uses its current date).
        "No rows found" and paging past the end give a page without rows.
        """
        req = build_request(m.V3CallsRequest, method=method, page=page, date_from=date_from, date_to=date_to)
        return _models(self.exchange.run(self._v3_request(req)), m.V3Call, "CallKeeper v3")

    async def aget_v3_page(
        self,
        method: str,
        date_from: datetime | date | int | str,
        date_to: datetime | date | int | str | None = None,
        *,
        page: int = 0,
    ) -> m.CallKeeperPage[m.V3Call]:
        """Async twin of :meth:`get_v3_page` (same request definition, ``httpx.AsyncClient``)."""
        req = build_request(m.V3CallsRequest, method=method, page=page, date_from=date_from, date_to=date_to)
        exchange = await self.aexchange()
        return _models(await exchange.arun(self._v3_request(req)), m.V3Call, "CallKeeper v3")

    def iter_v3_pages(
        self, start: datetime | str, end: datetime | str, *, method: str = "getWithRole"
    ) -> Iterator[list[m.V3Call]]:
        """Pages of v3 calls with ``start <= t < end`` (see the module docstring), until an empty page.

        Arguments are validated here, before the first request; the pages come lazily.
        """
        pages = self._v3_raw_pages(start, end, method=method)
        return (wire.as_models(m.V3Call, page.records) for page in pages)

    def _v3_raw_pages(self, start: datetime | str, end: datetime | str, *, method: str) -> Iterator[Page]:
        window = Window.of(start, end, start_field="start", end_field="end")
        bounds = m.window_segments(window.start, window.end)
        first, last = bounds or (0, 0)
        req = build_request(m.V3CallsRequest, method=method, page=0, date_from=first, date_to=last)
        self._key(role=req.method == "getByRole")
        # a window without a whole second inside (e.g. 10:00:00.2 .. 10:00:00.7) holds no call
        return self._v3_pages(req) if bounds else iter(())

    def _v3_pages(self, req: m.V3CallsRequest) -> Iterator[Page]:
        what = f"CallKeeper v3 call/{req.method}"

        def fetched(req: m.V3CallsRequest = req) -> Iterator[Page]:
            """Runs in the prefetch thread: the requests and the paging decisions."""
            guard = PageGuard(what)
            while True:
                result = self.exchange.run(self._v3_request(req))
                if not result.page:
                    return
                guard.check(_signature(result.page), f"page {req.page}")
                yield result.page
                req = req.model_copy(update={"page": req.page + 1})

        for page in prefetched(fetched, name=what):
            yield wire.checked(page, m.V3Call, what)

    # --- v1 -----------------------------------------------------------------------------
    def get_v1_page(
        self,
        entity: str = "call",
        *,
        page: int = 0,
        time_start: datetime | int | str | None = None,
        time_end: datetime | int | str | None = None,
        response_format: str = "json",
    ) -> m.CallKeeperPage[m.V1Row]:
        """One v1 request exactly as the API answers it (inclusive timestamps, no filtering).

        ``entity`` is ``call``, ``callrole``, ``phone``, ``user``, ``campaign`` or ``tag``; calls need
        ``time_start`` and ``time_end`` (aware datetimes or unix seconds), the others default to
        ``0`` .. now.  Rows are :class:`~airflow_provider_telephony.models.callkeeper.V1Call` for calls
        and the entity's model otherwise, identical whichever ``response_format`` carried them.
        """
        req = build_request(
            m.V1PageRequest,
            response_format=response_format,
            entity=entity,
            page=page,
            time_start=time_start,
            time_end=time_end,
        )
        return _models(self.exchange.run(self._v1_request(req)), m.V1_MODELS[req.entity], "CallKeeper v1")

    async def aget_v1_page(
        self,
        entity: str = "call",
        *,
        page: int = 0,
        time_start: datetime | int | str | None = None,
        time_end: datetime | int | str | None = None,
        response_format: str = "json",
    ) -> m.CallKeeperPage[m.V1Row]:
        """Async twin of :meth:`get_v1_page`."""
        req = build_request(
            m.V1PageRequest,
            response_format=response_format,
            entity=entity,
            page=page,
            time_start=time_start,
            time_end=time_end,
        )
        exchange = await self.aexchange()
        return _models(await exchange.arun(self._v1_request(req)), m.V1_MODELS[req.entity], "CallKeeper v1")

    def iter_v1_pages(
        self,
        entity: str = "call",
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        *,
        response_format: str = "json",
    ) -> Iterator[list[m.V1Row]]:
        """Pages of a v1 entity; for ``call``/``callrole`` the calls with ``start <= t < end``.

        The reference entities (``phone``, ``user``, ``campaign``, ``tag``) need no window: without
        one every record is read (``0`` .. now).  Arguments are validated before the first request.
        """
        pages = self._v1_raw_pages(entity, start, end, response_format=response_format)
        model = m.V1_MODELS[entity]  # the entity was checked by _v1_raw_pages
        return (wire.as_models(model, page.records) for page in pages)

    def _v1_raw_pages(
        self,
        entity: str,
        start: datetime | str | None,
        end: datetime | str | None,
        *,
        response_format: str,
    ) -> Iterator[Page]:
        time_start: int | None = None
        time_end: int | None = None
        empty = False
        if entity in m.V1_CALL_ENTITIES or start is not None or end is not None:
            window = Window.of(start, end, start_field="start", end_field="end")
            bounds = m.window_segments(window.start, window.end)
            empty = bounds is None
            time_start, time_end = bounds or (0, 0)
        req = build_request(
            m.V1PageRequest,
            response_format=response_format,
            entity=entity,
            page=0,
            time_start=time_start,
            time_end=time_end,
        )
        self._key()
        return iter(()) if empty else self._v1_pages(req)

    def _v1_pages(self, req: m.V1PageRequest) -> Iterator[Page]:
        what = f"CallKeeper v1 {req.entity}/get"

        def fetched(req: m.V1PageRequest = req) -> Iterator[Page]:
            """Runs in the prefetch thread: the requests and the paging decisions."""
            guard = PageGuard(what)
            while True:
                result = self.exchange.run(self._v1_request(req))
                if result.page:
                    guard.check(_signature(result.page), f"page {req.page}")
                    yield result.page
                if result.past_end or not result.page:
                    return
                if result.of_pages is not None and req.page + 1 >= result.of_pages:
                    return
                req = req.model_copy(update={"page": req.page + 1})

        model = m.V1_MODELS[req.entity]
        for page in prefetched(fetched, name=what):
            yield wire.checked(page, model, what)

    def get_entity(
        self,
        entity: str,
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        response_format: str = "json",
    ) -> list[m.V1Row]:
        """Every record of a v1 entity (``callrole``, ``phone``, ``user``, ``campaign``, ``tag``, or ``call``).

        The generic getter for the entities the v1 document lists: all pages, parsed into the
        entity's tolerant model (fields the model does not declare are kept; in xml/csv/plain they
        stay text).  ``call`` and ``callrole`` need a window ``[start, end)``.
        """
        rows: list[m.V1Row] = []
        for page in self.iter_v1_pages(entity, start, end, response_format=response_format):
            rows.extend(page)
        return rows

    # --- either version -----------------------------------------------------------------
    def call_schema(self, api_version: str | None = None) -> RecordSchema:
        """The record schema of a version's calls (what exports validate and write)."""
        return schema_of(self.call_model(api_version))

    def call_model(self, api_version: str | None = None) -> type[BaseModel]:
        """The record model of a version's calls: :class:`V3Call` or :class:`V1Call`."""
        version = check_api_version(api_version) if api_version is not None else self.api_version
        return m.V3Call if version == "v3" else m.V1Call

    def iter_raw_call_pages(
        self,
        start: datetime | str,
        end: datetime | str,
        *,
        method: str = "getWithRole",
        api_version: str | None = None,
        response_format: str = "json",
    ) -> Iterator[Page]:
        """Pages of calls with ``start <= t < end`` in either version, as CallKeeper sent them
        (validated) — the export path.

        ``method`` is the v3 name: ``get`` (own calls), ``getByRole`` (granted by a role; needs the
        ``role_api_key`` extra in v3) or ``getWithRole`` (both).  In v1 they read the entities
        ``call``, ``callrole`` or both, one after the other, with the user's key.  ``response_format``
        applies to v1 (v3 answers json only; a text format's records are typed like JSON's).
        Everything is validated before the first request.
        """
        version = check_api_version(api_version) if api_version is not None else self.api_version
        method = check_method(method)
        fmt = check_response_format(response_format, version)
        if version == "v3":
            return self._v3_raw_pages(start, end, method=method)
        pages = [
            self._v1_raw_pages(entity, start, end, response_format=fmt)
            for entity in m.V1_ENTITIES_FOR_METHOD[method]
        ]
        return itertools.chain.from_iterable(pages)

    def iter_call_pages(
        self,
        start: datetime | str,
        end: datetime | str,
        *,
        method: str = "getWithRole",
        api_version: str | None = None,
        response_format: str = "json",
    ) -> Iterator[list[BaseModel]]:
        """Pages of calls with ``start <= t < end`` in either version, as models
        (see :meth:`iter_raw_call_pages`)."""
        version = check_api_version(api_version) if api_version is not None else self.api_version
        model = self.call_model(version)
        pages = self.iter_raw_call_pages(
            start, end, method=method, api_version=version, response_format=response_format
        )
        return (wire.as_models(model, page.records) for page in pages)

    def iter_calls(
        self,
        start: datetime | str,
        end: datetime | str,
        *,
        method: str = "getWithRole",
        api_version: str | None = None,
        response_format: str = "json",
    ) -> Iterator[BaseModel]:
        """Every call of :meth:`iter_call_pages`, one by one."""
        pages = self.iter_call_pages(
            start, end, method=method, api_version=api_version, response_format=response_format
        )
        for page in pages:
            yield from page

    # --- connection test ----------------------------------------------------------------
    def probe(self) -> str:
        """Read page 0 of the last day's own calls ("No rows found" counts as success)."""
        end = datetime.now(timezone.utc)
        start = end - timedelta(days=1)
        version = self.api_version
        if version == "v3":
            self.get_v3_page("get", start, end)
        else:
            self.get_v1_page("call", time_start=start, time_end=end)
        return f"CallKeeper API {version} answered"
