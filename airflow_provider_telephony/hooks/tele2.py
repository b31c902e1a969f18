"""Tele2 corporate PBX (ATS) CRM OpenAPI hook: a rotating token pair shared by every process, all operations.

Connection (type ``tele2_ats``): *password* = the refresh token, extra ``access_token`` = the
access token (the first pair, generated in the PBX web UI), *host* = API base URL (default
``https://ats2.tele2.ru/crm/openapi``), extra ``ca_bundle`` for the GlobalSign chain the vendor
asks customers to trust.

**Authentication** (``seeds/tele2-ats-crm-openapi.md`` §4): every method sends the raw
``Authorization: <access token>`` (no ``Bearer``); an expired access token answers 403;
``PUT /authorization/refresh/token`` with the refresh token returns a new pair and kills the old
one at once.  The newest pair lives in a token store shared by every worker and the triggerer —
an Airflow Variable per connection (extra ``token_variable``, default
``telephony_tele2_tokens_<conn_id>``), or with extra ``token_file`` a JSON file in that folder
(one host).  How concurrent refreshes are reconciled: :mod:`airflow_provider_telephony.core.rotation`.

**Operations** (one method each; ``a``-prefixed async twins of the reads, for triggers):
current calls and queue, employees, click-to-call, common statistics and the journal, call records
(paged until a short page), record file (streamed), transcript, managers
list/get/create/update/delete, blacklist add/remove/remove-all/list, and the token refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_telephony.core.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    RequestValidationError,
    TelephonyError,
    UnexpectedResponseError,
    VendorError,
    error_for_status,
    retry_after_seconds,
    vendor_text,
)
from airflow_provider_telephony.core.exchange import Exchange
from airflow_provider_telephony.core.flow import ApiRequest, Flow
from airflow_provider_telephony.core.hookbase import TelephonyHook
from airflow_provider_telephony.core.pagination import numbered_pages
from airflow_provider_telephony.core.prefetch import prefetched
from airflow_provider_telephony.core.records import Page, RecordSchema
from airflow_provider_telephony.core.responses import parse_json, raise_for_redirect
from airflow_provider_telephony.core.rotation import RotatingPair
from airflow_provider_telephony.core.validation import build_request
from airflow_provider_telephony.core.windows import Window
from airflow_provider_telephony.models import tele2 as m

if TYPE_CHECKING:
    import httpx
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_telephony.core.tokens import TokenStore

log = logging.getLogger(__name__)

REFRESH = "/authorization/refresh/token"
CALL_RECORDS = "/call-records/info"
RECORD_FILE = "/call-records/file"
TRANSCRIPT = "/call-records/file/stt"
#: bytes read from a record file's body at a time
RECORDING_CHUNK = 256 * 1024

#: the declared fields of a call record, as a validator of whole pages
CALL_RECORDS_SCHEMA = RecordSchema(m.CallRecord)
_RECORD_DATE = attrgetter("date")

_EMPLOYEES = list[m.Employee]
_CURRENT = list[m.CurrentCall]
_QUEUE = list[m.QueueEntry]
_WORDS = list[m.TranscriptWord]
_MANAGERS = list[m.Manager]
_BLACKLIST = list[m.BlacklistEntry]


def dead_pair_message(conn_id: str) -> str:
    """What to do when the pair cannot be refreshed any more."""
    return (
        f"connection {conn_id!r}: the Tele2 token pair is no longer valid (its refresh token was refused: "
        "unused for more than 7 days, or a new pair was generated in the PBX web UI). Generate a new pair "
        "in the PBX web UI (profile settings → block 'Token API' → 'Generate token'), then paste the "
        "refresh token into the connection's Password field and the access token into its 'Access "
        "token' field; the provider rotates it from then on"
    )


def result_text(response: httpx.Response) -> str:
    """A result string answer (``SUCCESS`` …), sent as plain text or as a JSON string."""
    text = response.text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text


def _list_of(adapter_type: Any, what: str) -> Any:
    """A parser of a JSON array answer into ``adapter_type`` (tolerant models)."""

    def parse(response: httpx.Response) -> Any:
        from pydantic import TypeAdapter

        return parse_json(TypeAdapter(adapter_type), response.content, what)

    return parse


def _signature(page: Page) -> tuple[Any, ...]:
    """What identifies a page of call records: its size and its first and last records as sent."""
    return (len(page), page.record_bytes(0), page.record_bytes(-1))


def check_phone_field(value: Any, field: str) -> str:
    """A number in the API's ``7XXXXXXXXXX`` form, or a :class:`RequestValidationError` naming ``field``."""
    if not isinstance(value, str) or not m.PHONE_RE.fullmatch(value.strip()):
        raise RequestValidationError(field, "must be 11 digits starting with 7 (7XXXXXXXXXX)", value=value)
    return value.strip()


def check_file_name(value: Any, field: str = "filename") -> str:
    """A record file name as ``call-records/info`` gives it (``2022-08-12/mo_1660…``)."""
    if not isinstance(value, str) or not value.strip():
        raise RequestValidationError(field, "must be a non-empty record file name", value=value)
    return value.strip()


class Tele2ManagerConflictError(VendorError):
    """A manager write the PBX refused because of another manager (see the subclasses)."""


class ManagerHandlingAllCustomersExistsError(Tele2ManagerConflictError):
    """``MANAGER_HANDLING_ALL_CUSTOMERS_ALREADY_EXISTS``: only one manager may handle all customers."""

    _permanent = True


class CustomerAlreadyAssignedError(Tele2ManagerConflictError):
    """``CUSTOMER_ALREADY_ASSIGNED``: a customer already belongs to another manager."""

    _permanent = True


_MANAGER_RESULTS: dict[str, type[Tele2ManagerConflictError]] = {
    m.MANAGER_HANDLING_ALL_CUSTOMERS_ALREADY_EXISTS: ManagerHandlingAllCustomersExistsError,
    m.CUSTOMER_ALREADY_ASSIGNED: CustomerAlreadyAssignedError,
}


class Tele2AtsHook(TelephonyHook):
    """Talks to the Tele2 ATS CRM OpenAPI.

    :param tele2_conn_id: Airflow connection id.
    """

    conn_name_attr = "tele2_conn_id"
    default_conn_name = "tele2_ats_default"
    conn_type = "tele2_ats"
    hook_name = "Tele2 ATS CRM OpenAPI"
    default_base_url = "https://ats2.tele2.ru/crm/openapi"
    #: the document gives no quota: a polite pace for the whole connection, raised with the
    #: connection extra ``rate_limit_per_minute``
    rate_limit_per_minute = 600.0
    rate_limit_per_endpoint = False
    #: another process may rotate the shared pair between our refresh and our re-send
    auth_refreshes: ClassVar[int] = 3

    def __init__(self, tele2_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(tele2_conn_id, **kwargs)
        self.tele2_conn_id = tele2_conn_id
        self._pair: RotatingPair | None = None
        self._token: str | None = None

    # --- authentication -----------------------------------------------------------------
    def token_store(self) -> tuple[TokenStore, str]:
        """The store of the rotating pair and its key, from the connection's extras."""
        from airflow_provider_telephony.core.tokens import FileTokenStore, VariableTokenStore

        extras = self.settings.extras
        key = str(extras.get("token_variable") or f"telephony_tele2_tokens_{self.conn_id}")
        folder = extras.get("token_file")
        if folder:
            return FileTokenStore(str(folder)), key
        return VariableTokenStore(), key

    @property
    def pair(self) -> RotatingPair:
        """The connection's rotating pair (shared in this process with every hook of the connection)."""
        if self._pair is None:
            settings = self.settings
            if not settings.password:
                raise ConfigurationError(
                    f"connection {self.conn_id!r}: set Password to the refresh token generated in the PBX "
                    "web UI (profile settings → 'Token API')"
                )
            store, key = self.token_store()
            access = settings.extras.get("access_token")
            self._pair = RotatingPair(
                store=store,
                key=key,
                initial_refresh=settings.password,
                initial_access=str(access) if access else None,
                refresh=lambda token: self._refresh_flow(self.exchange, token),
                dead=dead_pair_message(self.conn_id),
                lifetime=m.ACCESS_TOKEN_LIFETIME,
            )
        return self._pair

    def auth_headers(self, exchange: Exchange, *, refresh: bool) -> Flow[dict[str, str]]:
        """The raw access token (no ``Bearer``), rotated when expiring or rejected."""
        rejected = self._token if refresh else None
        self._token = yield from self.pair.access(rejected)
        return {"Authorization": self._token}

    def _refresh_flow(self, exchange: Exchange, refresh_token: str) -> Flow[tuple[str, str]]:
        """``PUT /authorization/refresh/token``: the new ``(access, refresh)`` pair.

        Sending it again after a lost answer cannot make things worse (the old refresh token is all
        there is), so it is retried like a read.  A 401/403 is a refusal the rotation handles.
        """
        request: ApiRequest[Any] = ApiRequest(
            name="refreshToken",
            method="PUT",
            path=REFRESH,
            headers={"Authorization": refresh_token},
            parse=lambda response: response,
            idempotent=True,
            authenticated=False,
        )
        response = yield from exchange.send_flow(request)
        raise_for_redirect(response, "refreshToken", self.conn_id)
        if response.status_code in (401, 403):
            raise AuthenticationError(
                f"refreshToken: HTTP {response.status_code}: {vendor_text(response.text) or 'refused'}",
                status_code=response.status_code,
                refreshable=False,
            )
        error = self.error_for(request, response)
        if error is not None:
            raise error
        body: m.TokenPairResponse = parse_json(m.TokenPairResponse, response.content, "refreshToken")
        return body.accessToken, body.refreshToken

    def error_for(self, request: ApiRequest[Any], response: httpx.Response) -> TelephonyError | None:
        status = response.status_code
        if status < 400:
            return None
        detail = vendor_text(response.text) if status != 403 else ""
        message = f"{request.name}: HTTP {status}" + (f": {detail}" if detail else "")
        if status == 403:
            # an expired or superseded access token: rotate and re-send (the exchange does)
            return AuthenticationError(f"{message} (access token rejected)", status_code=403)
        return error_for_status(
            status, message, retry_after=retry_after_seconds(response.headers), auth_refreshable=False
        )

    # --- running a definition sync or async ----------------------------------------------
    def _run(self, request: ApiRequest[Any]) -> Any:
        return self.exchange.run(request)

    async def _arun(self, request: ApiRequest[Any]) -> Any:
        exchange = await self.aexchange()
        return await exchange.arun(request)

    # --- request definitions ------------------------------------------------------------
    @staticmethod
    def _get(name: str, path: str, parse: Any, params: dict[str, Any] | None = None) -> ApiRequest[Any]:
        return ApiRequest(name=name, method="GET", path=path, params=params, parse=parse)

    @staticmethod
    def _period(start: Any, end: Any) -> m.Period:
        return build_request(m.Period, start=start, end=end)

    def _common_request(self, start: Any, end: Any, subscriber_number: str | None) -> ApiRequest[Any]:
        params = self._period(start, end).params()
        if subscriber_number is not None:
            params["subscriberNumber"] = check_phone_field(subscriber_number, "subscriber_number")
        return self._get(
            "statisticsCommon",
            "/statistics/common",
            lambda r: parse_json(m.CommonStatistics, r.content, "statisticsCommon"),
            params,
        )

    def _journal_request(self, start: Any, end: Any, number: str | None) -> ApiRequest[Any]:
        params = self._period(start, end).params()
        if number is not None:
            params["number"] = check_phone_field(number, "number")

        def parse(response: httpx.Response) -> list[m.JournalEntry]:
            from pydantic import TypeAdapter

            # the document does not make clear whether this is one object or an array: accept both
            entries = parse_json(
                TypeAdapter(m.JournalEntry | list[m.JournalEntry]), response.content, "journal"
            )
            return entries if isinstance(entries, list) else [entries]

        return self._get("statisticsJournal", "/statistics/journal", parse, params)

    @staticmethod
    def _records_request(query: m.CallRecordsQuery, page: int) -> ApiRequest[Page]:
        return ApiRequest(
            name="callRecordsInfo",
            method="GET",
            path=CALL_RECORDS,
            params={**query.params(), "page": str(page)},
            parse=lambda response: Page.from_array(response.content, "callRecordsInfo"),
        )

    @staticmethod
    def _transcript_request(filename: str) -> ApiRequest[list[m.TranscriptWord]]:
        return ApiRequest(
            name="recordTranscript",
            method="GET",
            path=TRANSCRIPT,
            params={"filename": check_file_name(filename)},
            parse=_list_of(_WORDS, "recordTranscript"),
        )

    @staticmethod
    def _manager_request(manager_id: int) -> ApiRequest[m.Manager]:
        if isinstance(manager_id, bool) or not isinstance(manager_id, int) or manager_id < 1:
            raise RequestValidationError("manager_id", "must be a positive integer", value=manager_id)
        return ApiRequest(
            name="getManager",
            method="GET",
            path=f"/managers/{manager_id}",
            parse=lambda r: parse_json(m.Manager, r.content, "getManager"),
        )

    # --- monitoring and employees -------------------------------------------------------
    def get_current_calls(self) -> list[m.CurrentCall]:
        """``GET /monitoring/calls`` — calls in progress."""
        return self._run(self._get("currentCalls", "/monitoring/calls", _list_of(_CURRENT, "currentCalls")))

    async def aget_current_calls(self) -> list[m.CurrentCall]:
        return await self._arun(
            self._get("currentCalls", "/monitoring/calls", _list_of(_CURRENT, "currentCalls"))
        )

    def get_queue(self) -> list[m.QueueEntry]:
        """``GET /monitoring/calls/pending`` — callers waiting, per queue."""
        return self._run(self._get("queue", "/monitoring/calls/pending", _list_of(_QUEUE, "queue")))

    async def aget_queue(self) -> list[m.QueueEntry]:
        return await self._arun(self._get("queue", "/monitoring/calls/pending", _list_of(_QUEUE, "queue")))

    def get_employees(self) -> list[m.Employee]:
        """``GET /employees`` — the numbers registered in the PBX."""
        return self._run(self._get("employees", "/employees", _list_of(_EMPLOYEES, "employees")))

    async def aget_employees(self) -> list[m.Employee]:
        return await self._arun(self._get("employees", "/employees", _list_of(_EMPLOYEES, "employees")))

    # --- click-to-call ------------------------------------------------------------------
    def click_to_call(self, destination: str, source: str) -> None:
        """``POST /call/outgoing`` — ring ``source`` (an employee's number), then connect ``destination``.

        It reaches a person, and the API offers no way to find out whether a lost answer's call was
        placed: it is never re-sent after an unclear outcome
        (:class:`~airflow_provider_telephony.core.errors.OutcomeUnknownError` says what to check).
        """
        call = build_request(m.ClickToCall, destination=destination, source=source)
        self._run(
            ApiRequest(
                name="clickToCall",
                method="POST",
                path="/call/outgoing",
                params={"destination": call.destination, "source": call.source},
                parse=lambda response: None,
                effect="an outgoing call from the employee's number to the customer in the PBX call journal",
            )
        )

    def find_call_between(self, source: str, destination: str, since: datetime) -> dict[str, Any] | None:
        """Evidence that ``source`` and ``destination`` were connected since ``since``: a call in
        progress between them, or a call record (what a click-to-call retry looks for)."""
        numbers = {check_phone_field(source, "source"), check_phone_field(destination, "destination")}
        for call in self.get_current_calls():
            if {call.callerNumberFull, call.calledNumberFull} == numbers:
                return {"current_call": call.callType or "call in progress"}
        now = datetime.now(timezone.utc)
        if since < now:
            for record in self.iter_call_records(since, now, caller=source, callee=destination, size=100):
                return {
                    "call_record": record.date.isoformat() if record.date else "",
                    "status": record.callStatus,
                }
        return None

    # --- statistics ---------------------------------------------------------------------
    def get_common_statistics(
        self, start: datetime, end: datetime, *, subscriber_number: str | None = None
    ) -> m.CommonStatistics:
        """``GET /statistics/common`` — company-wide, or for one PBX number."""
        return self._run(self._common_request(start, end, subscriber_number))

    async def aget_common_statistics(
        self, start: datetime, end: datetime, *, subscriber_number: str | None = None
    ) -> m.CommonStatistics:
        return await self._arun(self._common_request(start, end, subscriber_number))

    def get_journal(
        self, start: datetime, end: datetime, *, number: str | None = None
    ) -> list[m.JournalEntry]:
        """``GET /statistics/journal`` — call counts per number (one entry, or several)."""
        return self._run(self._journal_request(start, end, number))

    async def aget_journal(
        self, start: datetime, end: datetime, *, number: str | None = None
    ) -> list[m.JournalEntry]:
        return await self._arun(self._journal_request(start, end, number))

    # --- call records -------------------------------------------------------------------
    def call_records_query(self, start: Any, end: Any, **filters: Any) -> m.CallRecordsQuery:
        """Validate a call-records query (``caller``, ``callee``, ``is_recorded``, ``size``, ``sort``)."""
        return build_request(m.CallRecordsQuery, start=start, end=end, **filters)

    def get_call_records_page(
        self, start: datetime, end: datetime, *, page: int = 0, **filters: Any
    ) -> list[m.CallRecord]:
        """One ``GET /call-records/info`` page exactly as the API answers it."""
        if isinstance(page, bool) or not isinstance(page, int) or page < 0:
            raise RequestValidationError("page", "must be an integer from 0", value=page)
        query = self.call_records_query(start, end, **filters)
        records = self._run(self._records_request(query, page)).validated(
            CALL_RECORDS_SCHEMA, "callRecordsInfo"
        )
        return CALL_RECORDS_SCHEMA.models(records.records)

    async def aget_call_records_page(
        self, start: datetime, end: datetime, *, page: int = 0, **filters: Any
    ) -> list[m.CallRecord]:
        query = self.call_records_query(start, end, **filters)
        records = (await self._arun(self._records_request(query, page))).validated(
            CALL_RECORDS_SCHEMA, "callRecordsInfo"
        )
        return CALL_RECORDS_SCHEMA.models(records.records)

    def iter_raw_call_record_pages(self, start: datetime, end: datetime, **filters: Any) -> Iterator[Page]:
        """Pages of call records with ``start <= date < end`` as Tele2 sent them (validated) — the export path.

        Paged by ``page``/``size`` until a short page, as the document says (the answer is a bare
        array, no total); a page that repeats an earlier one stops paging with an error instead of
        looping.  Records dated exactly ``end`` are dropped, so consecutive windows never overlap.
        Arguments are checked before the first request.
        """
        window = Window.of(start, end, start_field="start", end_field="end")
        query = self.call_records_query(window.start, window.end, **filters)

        def fetched() -> Iterator[Page]:
            def fetch(number: int, size: int) -> Page:
                return self._run(self._records_request(query, number))

            yield from numbered_pages(
                fetch, len, size=query.size, signature=_signature, what="callRecordsInfo"
            )

        for page in prefetched(fetched, name="callRecordsInfo"):
            kept = page.validated(CALL_RECORDS_SCHEMA, "callRecordsInfo").within(window, _RECORD_DATE)
            if kept:
                yield kept

    def iter_call_records(self, start: datetime, end: datetime, **filters: Any) -> Iterator[m.CallRecord]:
        """Every call record with ``start <= date < end`` (see :meth:`iter_raw_call_record_pages`)."""
        for page in self.iter_raw_call_record_pages(start, end, **filters):
            yield from CALL_RECORDS_SCHEMA.models(page.records)

    def recorded_file_names(
        self, start: datetime, end: datetime, *, caller: str | None = None, callee: str | None = None
    ) -> list[str]:
        """Record files of calls between ``caller`` and/or ``callee`` in ``[start, end)`` (first page)."""
        return _file_names(self.get_call_records_page(start, end, **_recorded(caller, callee)), start, end)

    async def arecorded_file_names(
        self, start: datetime, end: datetime, *, caller: str | None = None, callee: str | None = None
    ) -> list[str]:
        return _file_names(
            await self.aget_call_records_page(start, end, **_recorded(caller, callee)), start, end
        )

    # --- record files and transcripts ---------------------------------------------------
    def download_record(self, filename: str, target: ObjectStoragePath) -> int:
        """``GET /call-records/file`` streamed to ``target`` (published only when complete); its size."""
        from airflow_provider_telephony.core.storage import atomic_output

        name = check_file_name(filename)

        def parse(response: httpx.Response) -> int:
            size = 0
            with atomic_output(target) as out:
                for chunk in response.iter_bytes(RECORDING_CHUNK):
                    out.write(chunk)
                    size += len(chunk)
            if not size:
                raise UnexpectedResponseError(f"recordFile: an empty body for {name!r}")
            return size

        return self._run(
            ApiRequest(
                name="recordFile",
                method="GET",
                path=RECORD_FILE,
                params={"filename": name},
                stream=True,
                parse=parse,
            )
        )

    def get_transcript(self, filename: str) -> list[m.TranscriptWord]:
        """``GET /call-records/file/stt`` — the record's words, by channel (A caller, B called)."""
        return self._run(self._transcript_request(filename))

    async def aget_transcript(self, filename: str) -> list[m.TranscriptWord]:
        return await self._arun(self._transcript_request(filename))

    # --- managers -----------------------------------------------------------------------
    def list_managers(self) -> list[m.Manager]:
        """``GET /managers``."""
        return self._run(self._get("listManagers", "/managers", _list_of(_MANAGERS, "listManagers")))

    async def alist_managers(self) -> list[m.Manager]:
        return await self._arun(self._get("listManagers", "/managers", _list_of(_MANAGERS, "listManagers")))

    def get_manager(self, manager_id: int) -> m.Manager:
        """``GET /managers/{id}``; :class:`NotFoundError` when there is none."""
        return self._run(self._manager_request(manager_id))

    async def aget_manager(self, manager_id: int) -> m.Manager:
        return await self._arun(self._manager_request(manager_id))

    def _manager_write(self, name: str, method: str, manager: m.ManagerIn) -> str:
        def parse(response: httpx.Response) -> str:
            result = result_text(response)
            conflict = _MANAGER_RESULTS.get(result)
            if conflict is not None:
                raise conflict(f"{name}: {result}", status_code=response.status_code, vendor_code=result)
            if result and result != m.SUCCESS:
                raise UnexpectedResponseError(f"{name}: unexpected result {vendor_text(result)!r}")
            return result or m.SUCCESS

        return self._run(
            ApiRequest(
                name=name,
                method=method,
                path="/managers",
                json=manager.body(),
                parse=parse,
                # PUT replaces the manager with this state: the same effect however often it is sent
                idempotent=method == "PUT",
                recover=None if method == "PUT" else self._find_created(manager),
                effect=f"a personal manager for employee {manager.employeeId} named {manager.name!r}",
            )
        )

    def _find_created(self, manager: m.ManagerIn) -> Any:
        """Recovery of a lost ``POST /managers`` answer: a manager of this employee and name exists."""

        def recover(exchange: Exchange) -> Flow[str | None]:
            request = self._get("listManagers", "/managers", _list_of(_MANAGERS, "listManagers"))
            managers: list[m.Manager] = yield from exchange.attempt(request)
            found = any(x.employeeId == manager.employeeId and x.name == manager.name for x in managers)
            return m.SUCCESS if found else None

        return recover

    def create_manager(self, manager: dict[str, Any] | m.ManagerIn) -> str:
        """``POST /managers`` (no ``id``): ``SUCCESS``, or :class:`ManagerHandlingAllCustomersExistsError`
        / :class:`CustomerAlreadyAssignedError`.  The API answers no id: find it with :meth:`list_managers`."""
        data = manager.body() if isinstance(manager, m.ManagerIn) else dict(manager)
        model = build_request(m.ManagerIn, **data)
        if model.id is not None:
            raise RequestValidationError("manager.id", "must be absent when creating (use update_manager)")
        return self._manager_write("createManager", "POST", model)

    def update_manager(self, manager: dict[str, Any] | m.ManagerIn) -> str:
        """``PUT /managers`` (with ``id``): ``SUCCESS`` or a conflict error; :class:`NotFoundError`
        for an unknown id."""
        data = manager.body() if isinstance(manager, m.ManagerIn) else dict(manager)
        model = build_request(m.ManagerIn, **data)
        if model.id is None:
            raise RequestValidationError("manager.id", "is required when updating (use create_manager)")
        return self._manager_write("updateManager", "PUT", model)

    def delete_manager(self, manager_id: int, *, missing_ok: bool = False) -> bool:
        """``DELETE /managers/{id}``; False (with ``missing_ok``) when there was none."""
        self._manager_request(manager_id)  # the same id check
        try:
            self._run(
                ApiRequest(
                    name="deleteManager",
                    method="DELETE",
                    path=f"/managers/{manager_id}",
                    parse=lambda response: None,
                    idempotent=True,  # deleting twice leaves it deleted (the second says 404)
                )
            )
        except NotFoundError:
            if missing_ok:
                return False
            raise
        return True

    # --- blacklist ----------------------------------------------------------------------
    def list_blacklist(self) -> list[m.BlacklistEntry]:
        """``GET /blacklist`` — blocked numbers (as strings) with their source (``FILE``/``MANUAL``)."""
        return self._run(self._get("listBlacklist", "/blacklist", _list_of(_BLACKLIST, "listBlacklist")))

    async def alist_blacklist(self) -> list[m.BlacklistEntry]:
        return await self._arun(
            self._get("listBlacklist", "/blacklist", _list_of(_BLACKLIST, "listBlacklist"))
        )

    def add_to_blacklist(self, number: str) -> bool:
        """``POST /blacklist`` — block a number; True when added, False when it was already listed
        (``DUPLICATE_BLACK_LIST_NUMBER``: the wanted state holds, so it is safe to send again)."""
        msisdn = check_phone_field(number, "number")

        def parse(response: httpx.Response) -> bool:
            result = result_text(response)
            if result == m.DUPLICATE_BLACK_LIST_NUMBER:
                return False
            if result and result != m.SUCCESS:
                raise UnexpectedResponseError(f"addToBlacklist: unexpected result {vendor_text(result)!r}")
            return True

        return self._run(
            ApiRequest(
                name="addToBlacklist",
                method="POST",
                path="/blacklist",
                parse=parse,
                content=msisdn.encode(),
                headers={"Content-Type": "text/plain"},
                idempotent=True,
            )
        )

    def remove_from_blacklist(self, number: str) -> None:
        """``DELETE /blacklist/by-msisdn/{msisdn}``."""
        msisdn = check_phone_field(number, "number")
        self._run(
            ApiRequest(
                name="removeFromBlacklist",
                method="DELETE",
                path=f"/blacklist/by-msisdn/{msisdn}",
                parse=lambda response: None,
                idempotent=True,
            )
        )

    def clear_blacklist(self) -> None:
        """``DELETE /blacklist/all`` — every entry, ``FILE`` ones included."""
        self._run(
            ApiRequest(
                name="clearBlacklist",
                method="DELETE",
                path="/blacklist/all",
                parse=lambda response: None,
                idempotent=True,
            )
        )

    # --- connection test ----------------------------------------------------------------
    def probe(self) -> str:
        """``GET /employees``: proves the token pair works (rotating it if it must)."""
        return f"GET /employees answered with {len(self.get_employees())} employees"


def _recorded(caller: str | None, callee: str | None) -> dict[str, Any]:
    filters: dict[str, Any] = {"is_recorded": True, "size": 100}
    if caller:
        filters["caller"] = caller
    if callee:
        filters["callee"] = callee
    return filters


def _file_names(records: list[m.CallRecord], start: datetime, end: datetime) -> list[str]:
    window = Window.of(start, end, start_field="start", end_field="end")
    return [
        r.recordFileName
        for r in records
        if r.recordFileName
        and (
            r.date is None
            or window.contains(r.date if r.date.tzinfo else r.date.replace(tzinfo=timezone.utc))
        )
    ]


def record_file_names(file_names: Any, records_path: Any) -> list[str]:
    """The record files an operator works on: exactly one of ``file_names`` / ``records_path``
    (an export of :class:`Tele2CallRecordsToStorageOperator`: every record with a file name)."""
    from airflow_provider_telephony.core.storage import read_records

    if (file_names is None) == (records_path in (None, "")):
        raise RequestValidationError("file_names", "give exactly one of file_names or records_path")
    if records_path not in (None, ""):
        names = [
            str(r["recordFileName"])
            for r in read_records(records_path, field="records_path")
            if r.get("recordFileName")
        ]
    else:
        if isinstance(file_names, str) or not isinstance(file_names, list | tuple):
            raise RequestValidationError(
                "file_names", "must be a list of record file names", value=file_names
            )
        names = [check_file_name(name, f"file_names[{i}]") for i, name in enumerate(file_names)]
    return list(dict.fromkeys(names))  # each once, in order
