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
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_telephony.core.errors import (
    AuthenticationError,
    ConfigurationError,
    RequestValidationError,
    TelephonyError,
    error_for_status,
    retry_after_seconds,
    vendor_text,
)
from airflow_provider_telephony.core.exchange import Exchange
from airflow_provider_telephony.core.flow import ApiRequest, Flow
from airflow_provider_telephony.core.hookbase import TelephonyHook
from airflow_provider_telephony.core.pagination import numbered_pages
from airflow_provider_telephony.core.prefetch import prefetched
from airflow_provider_telephony.core.records import Page
from airflow_provider_telephony.core.responses import json_parser, parse_json, raise_for_redirect
from airflow_provider_telephony.core.rotation import RotatingPair
from airflow_provider_telephony.core.validation import build_request
from airflow_provider_telephony.core.windows import Window
from airflow_provider_telephony.hooks.tele2_admin import Tele2AdminMixin
from airflow_provider_telephony.hooks.tele2_wire import (
    CALL_RECORDS,
    CALL_RECORDS_SCHEMA,
    CURRENT_CALLS,
    EMPLOYEES,
    QUEUES,
    RECORD_DATE,
    RECORD_FILE,
    REFRESH,
    TRANSCRIPT,
    WORDS,
    CustomerAlreadyAssignedError,
    ManagerHandlingAllCustomersExistsError,
    Tele2ManagerConflictError,
    check_file_name,
    check_phone_field,
    dead_pair_message,
    file_names_in,
    get_request,
    page_signature,
    record_file_names,
    recorded_filters,
)
from airflow_provider_telephony.models import tele2 as m

__all__ = [
    "CALL_RECORDS_SCHEMA",
    "CustomerAlreadyAssignedError",
    "ManagerHandlingAllCustomersExistsError",
    "Tele2AtsHook",
    "Tele2ManagerConflictError",
    "check_file_name",
    "check_phone_field",
    "dead_pair_message",
    "record_file_names",
]

if TYPE_CHECKING:
    import httpx
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_telephony.core.tokens import TokenStore

log = logging.getLogger(__name__)


class Tele2AtsHook(Tele2AdminMixin, TelephonyHook):
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
        if "token" not in key.lower():
            # Airflow hides a Variable's value in its UI and API only when the name looks secret
            raise ConfigurationError(
                f"connection {self.conn_id!r}: extra 'token_variable' must contain 'token' (got {key!r}), "
                "so that Airflow masks the stored pair in its UI and API"
            )
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
        there is), so it is retried like a read.  A 4xx (but 429) is a refusal the rotation handles.
        """
        request: ApiRequest[Any] = ApiRequest(
            name="tokenRefresh",
            method="PUT",
            path=REFRESH,
            headers={"Authorization": refresh_token},
            parse=lambda response: response,
            idempotent=True,
            authenticated=False,
        )
        response = yield from exchange.send_flow(request)
        raise_for_redirect(response, "tokenRefresh", self.conn_id)
        if 400 <= response.status_code < 500 and response.status_code != 429:
            # the document does not say how a used or expired refresh token is refused: any 4xx is a
            # refusal, which the rotation answers by looking for the pair another process saved
            raise AuthenticationError(
                f"tokenRefresh: HTTP {response.status_code}: {vendor_text(response.text) or 'refused'}",
                status_code=response.status_code,
                refreshable=False,
            )
        error = self.error_for(request, response)
        if error is not None:
            raise error
        body: m.TokenPairResponse = parse_json(m.TokenPairResponse, response.content, "tokenRefresh")
        return body.accessToken, body.refreshToken

    def error_for(self, request: ApiRequest[Any], response: httpx.Response) -> TelephonyError | None:
        status = response.status_code
        if status < 400:
            if request.authenticated and self._pair is not None and self._token is not None:
                self._pair.accepted(self._token)  # evidence the token works (see RotatingPair._fresh)
            return None
        detail = vendor_text(response.text) if status != 403 else ""
        message = f"{request.name}: HTTP {status}" + (f": {detail}" if detail else "")
        if status == 403:
            # an expired or superseded access token: rotate and re-send (the exchange does)
            return AuthenticationError(f"{message} (access token rejected)", status_code=403)
        return error_for_status(
            status, message, retry_after=retry_after_seconds(response.headers), auth_refreshable=False
        )

    def close(self) -> None:
        """Save a pair whose save failed (best effort), then close the HTTP clients."""
        if self._pair is not None:
            self._pair.flush()
        super().close()

    async def aclose(self) -> None:
        if self._pair is not None:
            import asyncio

            await asyncio.to_thread(self._pair.flush)
        await super().aclose()

    # --- request definitions ------------------------------------------------------------
    @staticmethod
    def _period(start: Any, end: Any) -> m.Period:
        return build_request(m.Period, start=start, end=end)

    def _common_request(self, start: Any, end: Any, subscriber_number: str | None) -> ApiRequest[Any]:
        params = self._period(start, end).params()
        if subscriber_number is not None:
            params["subscriberNumber"] = check_phone_field(subscriber_number, "subscriber_number")
        return get_request(
            "statisticsCommon",
            "/statistics/common",
            json_parser(m.CommonStatistics, "statisticsCommon"),
            params,
        )

    def _journal_request(self, start: Any, end: Any, number: str | None) -> ApiRequest[Any]:
        params = self._period(start, end).params()
        if number is not None:
            params["number"] = check_phone_field(number, "number")

        # the document does not make clear whether this is one object or an array: accept both
        read = json_parser(m.JournalEntry | list[m.JournalEntry], "journal")

        def parse(response: httpx.Response) -> list[m.JournalEntry]:
            entries = read(response)
            return entries if isinstance(entries, list) else [entries]

        return get_request("statisticsJournal", "/statistics/journal", parse, params)

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
            parse=json_parser(WORDS, "recordTranscript"),
        )

    # --- monitoring and employees -------------------------------------------------------
    def get_current_calls(self) -> list[m.CurrentCall]:
        """``GET /monitoring/calls`` — calls in progress."""
        return self._run(
            get_request("currentCalls", "/monitoring/calls", json_parser(CURRENT_CALLS, "currentCalls"))
        )

    async def aget_current_calls(self) -> list[m.CurrentCall]:
        return await self._arun(
            get_request("currentCalls", "/monitoring/calls", json_parser(CURRENT_CALLS, "currentCalls"))
        )

    def get_queue(self) -> list[m.QueueEntry]:
        """``GET /monitoring/calls/pending`` — callers waiting, per queue."""
        return self._run(get_request("queue", "/monitoring/calls/pending", json_parser(QUEUES, "queue")))

    async def aget_queue(self) -> list[m.QueueEntry]:
        return await self._arun(
            get_request("queue", "/monitoring/calls/pending", json_parser(QUEUES, "queue"))
        )

    def get_employees(self) -> list[m.Employee]:
        """``GET /employees`` — the numbers registered in the PBX."""
        return self._run(get_request("employees", "/employees", json_parser(EMPLOYEES, "employees")))

    async def aget_employees(self) -> list[m.Employee]:
        return await self._arun(get_request("employees", "/employees", json_parser(EMPLOYEES, "employees")))

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
                fetch, len, size=query.size, signature=page_signature, what="callRecordsInfo"
            )

        for page in prefetched(fetched, name="callRecordsInfo"):
            kept = page.validated(CALL_RECORDS_SCHEMA, "callRecordsInfo").within(window, RECORD_DATE)
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
        return file_names_in(
            self.get_call_records_page(start, end, **recorded_filters(caller, callee)), start, end
        )

    async def arecorded_file_names(
        self, start: datetime, end: datetime, *, caller: str | None = None, callee: str | None = None
    ) -> list[str]:
        return file_names_in(
            await self.aget_call_records_page(start, end, **recorded_filters(caller, callee)), start, end
        )

    # --- record files and transcripts ---------------------------------------------------
    def download_record(self, filename: str, target: ObjectStoragePath) -> int:
        """``GET /call-records/file`` streamed to ``target`` (published only when complete); its size."""
        from airflow_provider_telephony.core.storage import save_body

        name = check_file_name(filename)

        def parse(response: httpx.Response) -> int:
            return save_body(response, target, "recordFile")

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

    # --- connection test ----------------------------------------------------------------
    def probe(self) -> str:
        """``GET /employees``: proves the token pair works (rotating it if it must)."""
        return f"GET /employees answered with {len(self.get_employees())} employees"
