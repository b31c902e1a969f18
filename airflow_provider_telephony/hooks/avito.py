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


def _within(page: list[m.AvitoCall], window: Window) -> list[m.AvitoCall]:
    """Calls of ``page`` with ``window.start <= callTime < window.end``.

    pydantic-core gives every datetime of a page one shared tzinfo; comparing against bounds in that
    same tzinfo avoids two ``utcoffset()`` calls per comparison (the filter was ~10% of an export).
    """
    if not page:
        return page
    tz = page[0].call_time.tzinfo
    lo, hi = window.start.astimezone(tz), window.end.astimezone(tz)
    if all(c.call_time.tzinfo is tz for c in page):
        return [c for c in page if lo <= c.call_time < hi]
    return [c for c in page if window.start <= c.call_time < window.end]


def _settled(exc: VendorError, call_id: int, *, missing_ok: bool) -> bool:
    """Readiness answer for a recording request that failed: 425 means "wait", a 404 means "nothing
    to wait for" when ``missing_ok``; anything else is re-raised."""
    if isinstance(exc, NotReadyError):
        return False
    if isinstance(exc, NotFoundError) and missing_ok:
        log.warning("call %s has no recording (404); not waiting for it", call_id)
        return True
    raise exc


def _call_ids(page: list[m.AvitoCall]) -> tuple[int, ...]:
    """What identifies a page of calls: their ids (unique per call)."""
    return tuple(call.call_id for call in page)


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
    #: the document's x-rate-limiter is 5 requests/second per endpoint; headers refine it
    rate_limit_per_minute = 300.0

    #: access tokens of every connection in this process, fetched by one caller at a time
    _tokens: ClassVar[TokenCache] = TokenCache()

    def __init__(self, avito_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(avito_conn_id, **kwargs)
        self.avito_conn_id = avito_conn_id
        self._token: str | None = None

    # --- VendorApi ----------------------------------------------------------------------
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
            self._token_key(),
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
    def _calls_request(body: m.GetCallsRequest) -> ApiRequest[list[m.AvitoCall]]:
        def parse(response: httpx.Response) -> list[m.AvitoCall]:
            page: m.GetCallsResponse = parse_json(m.GetCallsResponse, response.content, "getCalls")
            error = body_error(page.error, "getCalls", response.status_code)
            if error is not None:
                raise error
            if page.calls is None:
                # ``{}`` or ``"calls": null`` is not "no more calls": that is ``"calls": []``
                raise UnexpectedResponseError(
                    "getCalls: the answer has no 'calls' list (and no error); refusing to take it as "
                    "the last page",
                    status_code=response.status_code,
                )
            return page.calls

        # a read sent as POST: safe to send again
        return ApiRequest(
            name="getCalls", method="POST", path=GET_CALLS, json=body.body(), parse=parse, idempotent=True
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
        return self.exchange.run(self._calls_request(body))

    def iter_call_pages(
        self, start: datetime, end: datetime, *, page_size: int = m.MAX_PAGE_SIZE
    ) -> Iterator[list[m.AvitoCall]]:
        """Pages of calls with ``start <= callTime < end``, for a window of any length.

        The window is split into chunks the API accepts (≤ 89 days, inside its 3-month limit) and
        each chunk is paged with offset/limit until an empty page (a server may return fewer than
        ``limit`` calls per page, so a short page is not taken as the last).  The API's window is inclusive at
        both ends; calls at exactly ``end`` are dropped here so consecutive windows never overlap.
        """
        window = Window.of(start, end, start_field="start", end_field="end")
        check_page_size(page_size)
        for chunk in window.split(m.MAX_WINDOW):

            def fetch(offset: int, limit: int, chunk: Window = chunk) -> list[m.AvitoCall]:
                body = m.GetCallsRequest(
                    date_time_from=chunk.start, date_time_to=chunk.end, limit=limit, offset=offset
                )
                return self.exchange.run(self._calls_request(body))

            for page in offset_pages(fetch, len, limit=page_size, signature=_call_ids, what="getCalls"):
                kept = _within(page, chunk)
                if kept:
                    yield kept

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

    def download_recording(self, call_id: int, destination: str | ObjectStoragePath) -> int:
        """Stream the recording to ``destination`` (published atomically); return its size in bytes.

        Raises :class:`NotReadyError` while the recording is not ready and :class:`NotFoundError`
        for an unknown call or a call without a recording.  A body cut off mid-way is retried.
        """
        from airflow_provider_telephony.core.storage import as_storage_path, atomic_output

        check_call_id(call_id)
        target = as_storage_path(destination)

        def parse(response: httpx.Response) -> int:
            size = 0
            with atomic_output(target) as fh:
                for chunk in response.iter_bytes(64 * 1024):
                    fh.write(chunk)
                    size += len(chunk)
            return size

        request = ApiRequest(
            name="getRecordByCallId",
            method="GET",
            path=GET_RECORD,
            params={"callId": call_id},
            stream=True,
            parse=parse,
        )
        return self.exchange.run(request)

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
