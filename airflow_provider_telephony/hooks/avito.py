"""Avito CallTracking hook: OAuth2 client_credentials, every endpoint, sync and async.

Endpoints (``avito-calltracking.openapi.json``):

* ``POST /token`` — client_credentials; the token is cached per process until shortly before it
  expires and refreshed once when a request is rejected as unauthorised.
* ``POST /calltracking/v1/getCalls/`` — calls in a window (≤ 3 months, ``limit`` ≤ 100, offset).
* ``POST /calltracking/v1/getCallById/`` — one call.
* ``GET /calltracking/v1/getRecordByCallId/?callId=`` — the recording (audio/mpeg); HTTP 425 with
  code 1005 until it is ready.

Errors arrive both as HTTP statuses and inside 200 bodies (``error.code`` ≠ 0); both map to
:mod:`airflow_provider_telephony.core.errors`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import cached_property
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_telephony.core.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    NotReadyError,
    RequestValidationError,
    ServerError,
    TelephonyError,
    UnexpectedResponseError,
    ValidationError,
    VendorError,
    error_for_status,
    retry_after_seconds,
    vendor_text,
)
from airflow_provider_telephony.core.exchange import Exchange
from airflow_provider_telephony.core.flow import ApiRequest, Flow
from airflow_provider_telephony.core.hookbase import TelephonyHook
from airflow_provider_telephony.core.pagination import offset_pages
from airflow_provider_telephony.core.prefetch import prefetched
from airflow_provider_telephony.core.records import Page, RecordSchema, decode, raw_fields
from airflow_provider_telephony.core.redact import register_secret
from airflow_provider_telephony.core.responses import parse_json, raise_for_redirect
from airflow_provider_telephony.core.tokens import TokenCache
from airflow_provider_telephony.core.validation import build_request
from airflow_provider_telephony.core.windows import Window
from airflow_provider_telephony.models import avito as m

if TYPE_CHECKING:
    import httpx
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

GET_CALLS = "/calltracking/v1/getCalls/"
GET_CALL_BY_ID = "/calltracking/v1/getCallById/"
GET_RECORD = "/calltracking/v1/getRecordByCallId/"
TOKEN = "/token"

_BODY_ERRORS: dict[int, type[VendorError]] = {
    m.CODE_EMPTY_REQUEST: ValidationError,
    m.CODE_VALIDATION: ValidationError,
    m.CODE_AUTH: AuthenticationError,
    m.CODE_INTERNAL: ServerError,
    m.CODE_NOT_FOUND: NotFoundError,
    m.CODE_NOT_READY: NotReadyError,
}


def body_error(error: m.AvitoError | None, what: str, status: int | None = None) -> VendorError | None:
    """The exception for an in-body ``error`` object, or ``None`` when ``code`` is 0."""
    if error is None or error.code == m.CODE_OK:
        return None
    cls = _BODY_ERRORS.get(error.code, VendorError)
    return cls(
        f"{what}: Avito error {error.code}: {vendor_text(error.message)}",
        status_code=status,
        vendor_code=error.code,
    )


def parse_error(raw: Any, what: str) -> m.AvitoError:
    """An in-body ``error`` object as decoded from JSON; one of the wrong shape is an unexpected answer."""
    from pydantic import ValidationError as PydanticValidationError

    try:
        return m.AvitoError.model_validate(raw)
    except PydanticValidationError:
        raise UnexpectedResponseError(f"{what}: the answer's 'error' is not an object with a code") from None


def status_error(response: httpx.Response, what: str) -> VendorError | None:
    """The exception for an HTTP error status (body codes win when the body carries one)."""
    status = response.status_code
    if status < 400:
        return None
    detail = ""
    code: int | None = None
    try:
        err = m.RecordError.model_validate_json(response.content).effective()
        code, detail = err.code, vendor_text(err.message)
    except ValueError:  # not JSON, or not the documented error shape: the status speaks alone
        detail = ""
    message = f"{what}: HTTP {status}" + (f", Avito error {code}: {detail}" if code else "")
    body_cls = _BODY_ERRORS.get(code or 0)
    if body_cls is not None and status < 500 and status not in (401, 403, 429):
        # a 4xx whose body names the problem (e.g. 400 with code 1005) follows the body code
        return body_cls(message, status_code=status, vendor_code=code)
    return error_for_status(
        status, message, retry_after=retry_after_seconds(response.headers), vendor_code=code
    )


def check_call_id(call_id: Any) -> int:
    """Refuse a call id the API would reject (``callId`` minimum 1) before any request."""
    if not isinstance(call_id, int) or isinstance(call_id, bool) or call_id < 1:
        raise RequestValidationError("call_id", "must be a positive integer", value=call_id)
    return call_id


def check_page_size(page_size: Any) -> int:
    """Refuse a page size the API would reject (``limit`` must be 1..100) before any request."""
    if not isinstance(page_size, int) or isinstance(page_size, bool) or not 1 <= page_size <= m.MAX_PAGE_SIZE:
        raise RequestValidationError(
            "page_size", f"must be an integer from 1 to {m.MAX_PAGE_SIZE}", value=page_size
        )
    return page_size


#: the declared fields of a call, as a validator of whole pages
CALLS = RecordSchema(m.AvitoCall)
_CALL_TIME = attrgetter("callTime")
_TALK_DURATION = attrgetter("talkDuration")


def within(page: Page, window: Window) -> Page:
    """The calls of a validated page with ``window.start <= callTime < window.end``."""
    return page.within(window, _CALL_TIME)


def answered(page: Page) -> int:
    """How many calls of a validated page have talk time (only those have recordings)."""
    return sum(map(bool, map(_TALK_DURATION, page.typed or ())))


def _signature(page: Page) -> tuple[Any, ...]:
    """What identifies a page: its size and its first and last calls as sent (ids are unique)."""
    return (len(page), page.record_bytes(0), page.record_bytes(-1))


def _settled(exc: VendorError, call_id: int, *, missing_ok: bool) -> bool:
    """Readiness answer for a recording request that failed: 425 means "wait", a 404 means "nothing
    to wait for" when ``missing_ok``; anything else is re-raised."""
    if isinstance(exc, NotReadyError):
        return False
    if isinstance(exc, NotFoundError) and missing_ok:
        log.warning("call %s has no recording (404); not waiting for it", call_id)
        return True
    raise exc


class AvitoHook(TelephonyHook):
    """Talks to Avito CallTracking.

    Connection (type ``avito``): *login* = OAuth2 ``client_id``, *password* = ``client_secret``,
    *host* = API base URL (default ``https://api.avito.ru``; a full URL such as
    ``http://127.0.0.1:8123`` points it at the sandbox).

    :param avito_conn_id: Airflow connection id.
    """

    conn_name_attr = "avito_conn_id"
    default_conn_name = "avito_default"
    conn_type = "avito"
    hook_name = "Avito CallTracking"
    default_base_url = "https://api.avito.ru"
    #: Starting rates until the server's X-RateLimit-Limit (per minute, as documented) replaces
    #: them: the document gives each endpoint an x-rate-limiter (5 for the calls, 50 for the
    #: recordings) without a unit.  Calls start at 300 a minute (5 a second); recordings at 50 a
    #: minute, so that many waiting triggers stay within the quota before the first answer.
    rate_limit_per_minute = 300.0
    rate_limits: ClassVar[dict[str, float]] = {"getRecordByCallId": 50.0}

    #: access tokens of every connection in this process, fetched by one caller at a time
    _tokens: ClassVar[TokenCache] = TokenCache()

    def __init__(self, avito_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(avito_conn_id, **kwargs)
        self.avito_conn_id = avito_conn_id
        self._token: str | None = None

    # --- VendorApi ----------------------------------------------------------------------
    @cached_property
    def _token_key(self) -> tuple[str, str, str]:
        # the secret's digest is part of the key: a corrected secret must not reuse an old token
        import hashlib

        digest = hashlib.sha256((self.settings.password or "").encode()).hexdigest()
        return (self.settings.base_url, self.settings.login or "", digest)

    def auth_headers(self, exchange: Exchange, *, refresh: bool) -> Flow[dict[str, str]]:
        """Bearer header from the process-wide token cache; one caller fetches a missing, expiring or
        rejected token while concurrent callers of the same connection wait for it."""
        settings = self.settings
        if not settings.login or not settings.password:
            raise ConfigurationError(
                f"connection {self.conn_id!r}: set login (client_id) and password (client_secret)"
            )
        rejected = self._token if refresh else None
        self._token = yield from self._tokens.obtain(
            self._token_key,
            lambda: self._fetch_token(exchange),
            rejected=rejected,
            wait_limit=settings.deadline,
        )
        return {"Authorization": f"Bearer {self._token}"}

    def _fetch_token(self, exchange: Exchange) -> Flow[tuple[str, float]]:
        """``POST /token`` (client_credentials): the token and how many seconds it is valid."""
        settings = self.settings
        request: ApiRequest[Any] = ApiRequest(
            name="token",
            method="POST",
            path=TOKEN,
            parse=lambda r: r,
            data={
                "grant_type": "client_credentials",
                "client_id": settings.login or "",
                "client_secret": settings.password or "",
            },
            idempotent=True,  # asking for a token twice is harmless
            authenticated=False,
        )
        response = yield from exchange.send_flow(request)
        raise_for_redirect(response, "token", self.conn_id)
        if response.status_code in (400, 401, 403):
            raise AuthenticationError(
                f"Avito rejected the client credentials of connection {self.conn_id!r} "
                f"(HTTP {response.status_code})",
                status_code=response.status_code,
                refreshable=False,
            )
        error = status_error(response, "token")
        if error is not None:
            raise error
        token: m.TokenResponse = parse_json(m.TokenResponse, response.content, "token")
        register_secret(token.access_token, "avito_access_token")
        ttl = max(float(token.expires_in), 0.0)
        log.info("obtained an Avito access token for connection %r (valid %.0fs)", self.conn_id, ttl)
        return token.access_token, ttl

    def error_for(self, request: ApiRequest[Any], response: httpx.Response) -> TelephonyError | None:
        return status_error(response, request.name)

    # --- request definitions (shared by sync and async) ---------------------------------
    @staticmethod
    def _calls_request(body: dict[str, Any]) -> ApiRequest[Page]:
        def parse(response: httpx.Response) -> Page:
            # the envelope is scanned, the calls split into their bytes; validated by the consumer
            fields = raw_fields(response.content, ("calls", "error"), "getCalls")
            if fields["error"] is not None:
                raw_error = decode(fields["error"], "getCalls")
                if not (isinstance(raw_error, dict) and raw_error.get("code") == 0):
                    error = body_error(parse_error(raw_error, "getCalls"), "getCalls", response.status_code)
                    if error is not None:
                        raise error
            if fields["calls"] is None:
                # ``{}`` or ``"calls": null`` is not "no more calls": that is ``"calls": []``
                raise UnexpectedResponseError(
                    "getCalls: the answer has no 'calls' list (and no error); refusing to take it as "
                    "the last page",
                    status_code=response.status_code,
                )
            return Page.from_array(fields["calls"], "getCalls", field="calls")

        # a read sent as POST: safe to send again
        return ApiRequest(
            name="getCalls", method="POST", path=GET_CALLS, json=body, parse=parse, idempotent=True
        )

    @staticmethod
    def _call_request(call_id: int) -> ApiRequest[m.AvitoCall]:
        check_call_id(call_id)

        def parse(response: httpx.Response) -> m.AvitoCall:
            body: m.GetCallByIdResponse = parse_json(m.GetCallByIdResponse, response.content, "getCallById")
            error = body_error(body.error, "getCallById", response.status_code)
            if error is not None:
                raise error
            if body.call is None:
                raise NotFoundError(f"getCallById: call {call_id} not in the response")
            return body.call

        return ApiRequest(
            name="getCallById",
            method="POST",
            path=GET_CALL_BY_ID,
            json={"callId": call_id},
            parse=parse,
            idempotent=True,
        )

    @staticmethod
    def _record_ready_request(call_id: int) -> ApiRequest[bool]:
        check_call_id(call_id)
        # a 200 means ready; the body is not read (stream=True) and the connection is released
        return ApiRequest(
            name="getRecordByCallId",
            method="GET",
            path=GET_RECORD,
            params={"callId": call_id},
            stream=True,
            parse=lambda response: True,
        )

    # --- calls --------------------------------------------------------------------------
    def get_calls_page(
        self,
        date_time_from: datetime,
        date_time_to: datetime,
        *,
        limit: int = m.MAX_PAGE_SIZE,
        offset: int = 0,
    ) -> list[m.AvitoCall]:
        """One ``getCalls`` request, exactly as the API answers it (inclusive window, no filtering)."""
        body = build_request(
            m.GetCallsRequest,
            date_time_from=date_time_from,
            date_time_to=date_time_to,
            limit=limit,
            offset=offset,
        )
        page = self.exchange.run(self._calls_request(body.body())).validated(CALLS, "getCalls")
        return CALLS.models(page.records)

    def iter_raw_pages(
        self, start: datetime, end: datetime, *, page_size: int = m.MAX_PAGE_SIZE
    ) -> Iterator[Page]:
        """Pages of calls with ``start <= callTime < end`` as Avito sent them (validated), for a window
        of any length — the export path.

        The window is split into chunks the API accepts (≤ 89 days, inside its 3-month limit) and
        each chunk is paged with offset/limit until an empty page (a server may return fewer than
        ``limit`` calls per page, so a short page is not taken as the last).  The API's window is
        inclusive at both ends; calls at exactly ``end`` are dropped here so consecutive windows
        never overlap.  Arguments are checked before the first request.
        """
        window = Window.of(start, end, start_field="start", end_field="end")
        check_page_size(page_size)
        return self._raw_pages(window, page_size)

    def _raw_pages(self, window: Window, page_size: int) -> Iterator[Page]:
        chunks = list(window.split(m.MAX_WINDOW))

        def fetched() -> Iterator[tuple[Window, Page]]:
            """Runs in the prefetch thread: the requests and the paging decisions."""
            for chunk in chunks:
                # validated once per chunk; pages differ only in their offset
                first = m.GetCallsRequest(date_time_from=chunk.start, date_time_to=chunk.end, limit=page_size)
                body = first.body()

                def fetch(offset: int, limit: int, body: dict[str, Any] = body) -> Page:
                    return self.exchange.run(self._calls_request({**body, "offset": offset}))

                pages = offset_pages(fetch, len, limit=page_size, signature=_signature, what="getCalls")
                for page in pages:
                    yield chunk, page

        for chunk, page in prefetched(fetched, name="getCalls"):
            kept = within(page.validated(CALLS, "getCalls"), chunk)
            if kept:
                yield kept

    def iter_call_pages(
        self, start: datetime, end: datetime, *, page_size: int = m.MAX_PAGE_SIZE
    ) -> Iterator[list[m.AvitoCall]]:
        """Pages of calls with ``start <= callTime < end`` as models (see :meth:`iter_raw_pages`)."""
        for page in self.iter_raw_pages(start, end, page_size=page_size):
            yield CALLS.models(page.records)

    def iter_calls(
        self, start: datetime, end: datetime, *, page_size: int = m.MAX_PAGE_SIZE
    ) -> Iterator[m.AvitoCall]:
        """Every call with ``start <= callTime < end`` (see :meth:`iter_call_pages`)."""
        for page in self.iter_call_pages(start, end, page_size=page_size):
            yield from page

    def get_call(self, call_id: int) -> m.AvitoCall:
        """One call by id; :class:`NotFoundError` when Avito does not know it."""
        return self.exchange.run(self._call_request(call_id))

    async def aget_call(self, call_id: int) -> m.AvitoCall:
        exchange = await self.aexchange()
        return await exchange.arun(self._call_request(call_id))

    # --- recordings ---------------------------------------------------------------------
    def recording_ready(self, call_id: int, *, missing_ok: bool = False) -> bool:
        """True when the recording can be downloaded, False while Avito answers 425 (code 1005).

        A call without a recording (404, code 1004 — e.g. older than the 3 months Avito keeps them)
        raises :class:`NotFoundError`, or counts as settled (True, nothing to wait for) with
        ``missing_ok``.  Other errors (auth, validation, server) are raised.
        """
        try:
            return self.exchange.run(self._record_ready_request(call_id))
        except (NotReadyError, NotFoundError) as exc:
            return _settled(exc, call_id, missing_ok=missing_ok)

    async def arecording_ready(self, call_id: int, *, missing_ok: bool = False) -> bool:
        """Async twin of :meth:`recording_ready`, for triggers."""
        exchange = await self.aexchange()
        try:
            return await exchange.arun(self._record_ready_request(call_id))
        except (NotReadyError, NotFoundError) as exc:
            return _settled(exc, call_id, missing_ok=missing_ok)

    @staticmethod
    def _download_request(call_id: int, target: ObjectStoragePath) -> ApiRequest[int]:
        """``getRecordByCallId`` whose body streams into ``target`` (published atomically): the
        readiness check and the download in one request."""
        check_call_id(call_id)

        from airflow_provider_telephony.core.storage import asave_body, save_body

        def parse(response: httpx.Response) -> int:
            return save_body(response, target, "getRecordByCallId")

        async def aparse(response: httpx.Response) -> int:
            return await asave_body(response, target, "getRecordByCallId")

        return ApiRequest(
            name="getRecordByCallId",
            method="GET",
            path=GET_RECORD,
            params={"callId": call_id},
            stream=True,
            parse=parse,
            aparse=aparse,
        )

    def download_recording(self, call_id: int, destination: str | ObjectStoragePath) -> int:
        """Stream the recording to ``destination`` (published atomically); return its size in bytes.

        Memory stays flat whatever the size.  Raises :class:`NotReadyError` while the recording is not
        ready and :class:`NotFoundError` for an unknown call or a call without a recording.  A body
        cut off mid-way is retried.
        """
        from airflow_provider_telephony.core.storage import as_storage_path

        return self.exchange.run(self._download_request(call_id, as_storage_path(destination)))

    async def adownload_recording(self, call_id: int, destination: ObjectStoragePath) -> int:
        """Async twin of :meth:`download_recording`, for triggers (storage writes run in threads)."""
        exchange = await self.aexchange()
        return await exchange.arun(self._download_request(call_id, destination))

    # --- connection test ----------------------------------------------------------------
    def probe(self) -> str:
        """Obtain a token and read one page of the last day's calls."""
        end = datetime.now(timezone.utc)
        self.get_calls_page(end - timedelta(days=1), end, limit=1)
        return "token obtained and getCalls answered"


def answered_call_ids(calls_path: str | ObjectStoragePath, *, field: str = "calls_path") -> list[int]:
    """Ids of answered calls (talk time > 0) in an export written by ``AvitoCallsToStorageOperator``.

    A file that is missing, not an export, or holds a record without a usable ``callId`` raises
    :class:`RequestValidationError` naming ``field`` and the record.
    """
    from airflow_provider_telephony.core.storage import read_records

    ids: list[int] = []
    for number, record in enumerate(read_records(calls_path, field=field), 1):
        try:
            answered = float(record.get("talkDuration") or 0) > 0
        except (TypeError, ValueError):
            raise RequestValidationError(
                field, f"record {number} has a talkDuration that is not a number", value=str(calls_path)
            ) from None
        if not answered:
            continue
        call_id = record.get("callId")
        if call_id is None:
            raise RequestValidationError(
                field,
                f"record {number} has no callId (is this an Avito calls export?)",
                value=str(calls_path),
            )
        try:
            ids.append(check_call_id(int(call_id) if isinstance(call_id, str) else call_id))
        except (ValueError, RequestValidationError):
            raise RequestValidationError(
                field, f"record {number} has a callId that is not a positive integer", value=str(calls_path)
            ) from None
    return ids


def resolve_call_ids(call_ids: Any, calls_path: Any) -> list[int]:
    """The call ids an operator or sensor works on: exactly one of ``call_ids`` / ``calls_path``."""
    from airflow_provider_telephony.core.operator_utils import positive_ids

    if (call_ids is None) == (calls_path in (None, "")):
        raise RequestValidationError("call_ids", "give exactly one of call_ids or calls_path")
    if calls_path not in (None, ""):
        return answered_call_ids(calls_path)
    return positive_ids(call_ids, "call_ids")
