"""AutoCall.kz campaigns (auto-dialing), their calls and recordings: the part of
:class:`~.autocall.AutoCallHook` that calls people (a mixin; the hook supplies how requests are run).

**Exactly once.**  Creating a campaign carries our ``client_id`` (required here): the
create method first looks it up and returns an existing one without sending; a lost answer (timeout
or reset after sending, 5xx, a cut answer) is settled by looking it up again before anything is
re-sent (the exchange's recovery flow).  A campaign over 5,000 numbers in all is answered ``202``
with no body (created in the background): the hook then looks it up until it appears, and if it does
not within ``background_timeout`` raises :class:`AcceptedNotVisibleError` — permanent, never re-sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from os import PathLike
from typing import TYPE_CHECKING, Any

from airflow_provider_telephony.core.flow import ApiRequest, Flow, Sleep
from airflow_provider_telephony.core.responses import json_parser
from airflow_provider_telephony.hooks import autocall_wire as wire
from airflow_provider_telephony.hooks.autocall_wire import (
    CALLS_SCHEMA,
    HookPart,
    absent,
    apages,
    check_id,
    created,
    delete_request,
    lookup_flow,
    pages,
    raw_nested_page,
    raw_pages,
    storage_path,
    wait_visible,
)
from airflow_provider_telephony.models import autocall as m

if TYPE_CHECKING:
    import httpx
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_telephony.core.exchange import Exchange
    from airflow_provider_telephony.core.records import Page as RecordPage

AUTOCALL_PAGE = m.Page[m.Autocall]


def _filters(**values: Any) -> dict[str, Any]:
    return m.build(m.ListQuery, **values).params()


def _page(page: int) -> int:
    return m.build(m.PageQuery, page=page).page


def autocalls_request(params: dict[str, Any]) -> ApiRequest[m.Page[m.Autocall]]:
    return ApiRequest(
        name="get-autocalls",
        method="GET",
        path="/autocalls",
        params=params,
        parse=json_parser(AUTOCALL_PAGE, "get-autocalls"),
    )


def autocall_request(autocall_id: int, page: int = 1) -> ApiRequest[m.AutocallDetail]:
    return ApiRequest(
        name="get-autocalls-id",
        method="GET",
        path=f"/autocalls/{check_id(autocall_id, 'autocall_id')}",
        params={"page": page},
        parse=json_parser(m.AutocallDetail, "get-autocalls-id"),
    )


def call_request(call_id: int) -> ApiRequest[m.Call]:
    return ApiRequest(
        name="get-calls-id",
        method="GET",
        path=f"/calls/{check_id(call_id, 'call_id')}",
        parse=json_parser(m.Call, "get-calls-id"),
    )


def create_autocall_request(body: m.CreateAutocallRequest) -> ApiRequest[m.Autocall | None]:
    """``POST /autocalls`` with recovery by ``client_id``.

    When the campaign uses existing lists it may be large enough to be created in the background,
    where a lookup right after a lost answer does not see it yet: the lookup is then repeated over
    :data:`~.autocall_wire.BACKGROUND_SETTLE` before the campaign is taken as absent.
    """
    client_id = body.client_id
    lookup = autocalls_request(_filters(client_id=client_id, order="desc"))

    def recover(exchange: Exchange) -> Flow[m.Autocall | None]:
        waits = (0.0, *wire.BACKGROUND_SETTLE) if body.references_lists else (0.0,)
        for wait in waits:
            if wait:
                yield Sleep(wait)
            found = yield from lookup_flow(exchange, lookup, client_id)
            if found is not None:
                return found
        return None

    return ApiRequest(
        name="post-autocalls",
        method="POST",
        path="/autocalls",
        json=body.body(),
        parse=created(m.AutocallDetail, "post-autocalls"),
        recover=recover,
        effect=f"(Обзвоны) whether a campaign with client_id {client_id!r} exists",
    )


class CampaignsPart(HookPart):
    """Campaigns (``/autocalls``) and their calls (``/calls``)."""

    # --- campaigns --------------------------------------------------------------------------
    def list_autocalls(
        self,
        *,
        page: int = 1,
        date_from: Any = None,
        date_to: Any = None,
        order: str | None = None,
        client_id: str | None = None,
    ) -> m.Page[m.Autocall]:
        """``GET /autocalls`` (get-autocalls): one page of campaigns, filtered like :meth:`list_lists`."""
        params = _filters(page=page, date_from=date_from, date_to=date_to, order=order, client_id=client_id)
        return self._run(autocalls_request(params))

    async def alist_autocalls(
        self,
        *,
        page: int = 1,
        date_from: Any = None,
        date_to: Any = None,
        order: str | None = None,
        client_id: str | None = None,
    ) -> m.Page[m.Autocall]:
        params = _filters(page=page, date_from=date_from, date_to=date_to, order=order, client_id=client_id)
        return await self._arun(autocalls_request(params))

    def iter_autocalls(
        self,
        *,
        date_from: Any = None,
        date_to: Any = None,
        order: str | None = None,
        client_id: str | None = None,
    ) -> Iterator[m.Autocall]:
        """Every campaign matching the filters, page after page (``next_page_url``)."""
        params = _filters(date_from=date_from, date_to=date_to, order=order, client_id=client_id)
        for page in pages(lambda p: self._run(autocalls_request(p)), params, "get-autocalls"):
            yield from page.data

    def find_autocall(self, client_id: str) -> m.Autocall | None:
        """The campaign created with ``client_id``, or ``None``."""
        return self._lookup(autocalls_request(_filters(client_id=client_id, order="desc")), client_id)

    async def afind_autocall(self, client_id: str) -> m.Autocall | None:
        page = await self.alist_autocalls(client_id=client_id, order="desc")
        return wire.matching(page.data, client_id)

    def create_autocall(
        self,
        name: str,
        list_id: list[Any],
        *,
        client_id: str,
        type: str = "regular",
        audio_id: list[Any] | None = None,
        scenario_id: int | None = None,
        time_from: Any = None,
        time_to: Any = None,
        date_from: Any = None,
        max_tries: int | None = None,
        tries_interval: int | None = None,
        sms: bool | None = None,
        text: str | None = None,
        sms_unanswered: bool | None = None,
        text_unanswered: str | None = None,
        lifetime: bool | None = None,
        record: bool | None = None,
        callback_url: str | None = None,
        caller_id: str | None = None,
        background_timeout: float | None = None,
    ) -> m.Autocall:
        """``POST /autocalls`` (post-autocalls): launch a campaign, exactly once per ``client_id``.

        :param list_id: contact list ids and/or numbers (``"+77010000000"`` or ``{"number", "extra",
            "variables"}``), at most 5,000 items; more numbers: put them in a list first.
        :param client_id: your id for it (≤ 60 characters), e.g. from the DAG run: a campaign with it
            is returned instead of launching a second one.
        :param type: ``regular`` (needs ``audio_id``: sound ids and/or ``{"type": "synthesis" |
            "upload", "data": {...}}``) or ``interactive`` (needs ``scenario_id``).
        :param time_from: / ``time_to``: calling hours (``H:i:s`` or ``time``); ``date_from``: start day.
        :param max_tries: 1-4; ``tries_interval``: 15, 30, 60 or 120 minutes.
        :param sms: / ``sms_unanswered``: send ``text`` / ``text_unanswered`` to the answered /
            unanswered (``{{variables}}`` of the contacts are filled in).
        :param caller_id: a number you rent (``list_caller_ids``); default: a random pool number.
        :param background_timeout: how long to wait (seconds) for a campaign accepted with 202 to
            appear (default :data:`~.autocall_wire.BACKGROUND_TIMEOUT`).

        Returns the campaign as the API answered it (``AutocallDetail``) or, when found by
        ``client_id``, as listed (``AutocallSummary``).  403: :class:`SpamSuspectedError`; 422:
        :class:`ValidationError` with ``field_errors``.
        """
        body = m.build(
            m.CreateAutocallRequest,
            name=name,
            type=type,
            list_id=list_id,
            audio_id=audio_id,
            scenario_id=scenario_id,
            time_from=time_from,
            time_to=time_to,
            date_from=date_from,
            max_tries=max_tries,
            tries_interval=tries_interval,
            sms=sms,
            text=text,
            sms_unanswered=sms_unanswered,
            text_unanswered=text_unanswered,
            lifetime=lifetime,
            record=record,
            client_id=client_id,
            callback_url=callback_url,
            caller_id=caller_id,
        )
        existing = self.find_autocall(client_id)
        if existing is not None:
            return existing
        created = self._run(create_autocall_request(body))
        if created is not None:
            return created
        timeout = wire.BACKGROUND_TIMEOUT if background_timeout is None else background_timeout
        return wait_visible(lambda: self.find_autocall(client_id), "post-autocalls", client_id, timeout)

    def calculate_autocall(
        self,
        name: str,
        list_id: list[Any],
        *,
        type: str = "regular",
        audio_id: list[Any] | None = None,
        scenario_id: int | None = None,
        **options: Any,
    ) -> m.Cost:
        """``POST /autocalls/calculate`` (post-autocalls-calculate): the campaign's highest cost before
        creating it; takes :meth:`create_autocall`'s arguments (``client_id`` optional) and only reads,
        so it is retried like a read.  403: :class:`SpamSuspectedError`."""
        body = m.build(
            m.AutocallSpec,
            name=name,
            type=type,
            list_id=list_id,
            audio_id=audio_id,
            scenario_id=scenario_id,
            **options,
        )
        return self._run(
            ApiRequest(
                name="post-autocalls-calculate",
                method="POST",
                path="/autocalls/calculate",
                json=body.body(),
                parse=json_parser(m.Cost, "post-autocalls-calculate"),
                idempotent=True,
            )
        )

    def get_autocall(self, autocall_id: int, *, page: int = 1) -> m.AutocallDetail:
        """``GET /autocalls/{id}`` (get-autocalls-id): status, counters and page ``page`` of its calls."""
        return self._run(autocall_request(autocall_id, _page(page)))

    async def aget_autocall(self, autocall_id: int, *, page: int = 1) -> m.AutocallDetail:
        return await self._arun(autocall_request(autocall_id, _page(page)))

    def iter_autocall_calls(self, autocall_id: int) -> Iterator[m.Call]:
        """Every call of a campaign (the pages of ``calls`` inside ``GET /autocalls/{id}``)."""
        check_id(autocall_id, "autocall_id")
        for page in pages(
            lambda p: self._run(autocall_request(autocall_id, p["page"])).calls,
            {"page": 1},
            "get-autocalls-id",
        ):
            yield from page.data

    async def aiter_autocall_calls(self, autocall_id: int) -> AsyncIterator[m.Call]:
        """Async twin of :meth:`iter_autocall_calls` (for triggers)."""
        check_id(autocall_id, "autocall_id")

        async def fetch(params: dict[str, Any]) -> m.Page[m.Call] | None:
            return (await self._arun(autocall_request(autocall_id, params["page"]))).calls

        async for page in apages(fetch, {"page": 1}, "get-autocalls-id"):
            for call in page.data:
                yield call

    def iter_raw_autocall_call_pages(self, autocall_id: int) -> Iterator[RecordPage]:
        """The campaign's calls as export pages: the vendor's bytes, every record validated
        (``CALLS_SCHEMA``) in C, for writing to storage without a Python object per field."""
        check_id(autocall_id, "autocall_id")

        def fetch(params: dict[str, Any]) -> tuple[RecordPage, str | None]:
            return self._run(
                ApiRequest(
                    name="get-autocalls-id",
                    method="GET",
                    path=f"/autocalls/{autocall_id}",
                    params={"page": params["page"]},
                    parse=lambda r: raw_nested_page(r.content, "calls", "get-autocalls-id"),
                )
            )

        yield from raw_pages(fetch, "get-autocalls-id", CALLS_SCHEMA)

    def update_autocall(
        self,
        autocall_id: int,
        *,
        name: str | None = None,
        time_from: Any = None,
        time_to: Any = None,
        tries_interval: int | None = None,
        date_from: Any = None,
        client_id: str | None = None,
        callback_url: str | None = None,
    ) -> m.AutocallDetail:
        """``PUT /autocalls/{id}`` (put-autocalls-id): only in statuses ``awaiting`` / ``moderation``."""
        body = m.build(
            m.UpdateAutocallRequest,
            name=name,
            time_from=time_from,
            time_to=time_to,
            tries_interval=tries_interval,
            date_from=date_from,
            client_id=client_id,
            callback_url=callback_url,
        )
        return self._run(
            ApiRequest(
                name="put-autocalls-id",
                method="PUT",
                path=f"/autocalls/{check_id(autocall_id, 'autocall_id')}",
                json=body.body(),
                parse=json_parser(m.AutocallDetail, "put-autocalls-id"),
                idempotent=True,
            )
        )

    def delete_autocall(self, autocall_id: int, *, missing_ok: bool = False) -> None:
        """``DELETE /autocalls/{id}`` (delete-autocalls-id): not while ``running`` (422)."""
        path = f"/autocalls/{check_id(autocall_id, 'autocall_id')}"
        gone = absent(autocall_request(autocall_id))
        self._delete(
            delete_request("delete-autocalls-id", path, gone, f"whether campaign {autocall_id} exists"),
            missing_ok,
        )

    def relaunch_autocall(self, autocall_id: int) -> m.ContactList:
        """``GET /autocalls/relaunch/{id}`` (get-autocalls-relaunch-id): a *new contact list* of the
        completed campaign's numbers that were not reached (launch it with :meth:`create_autocall`).

        A GET that creates something: it is not re-sent after a lost answer (the API gives no way to
        find the list it made: :class:`OutcomeUnknownError`).  403: :class:`AutocallNotCompletedError`.
        """
        return self._run(
            ApiRequest(
                name="get-autocalls-relaunch-id",
                method="GET",
                path=f"/autocalls/relaunch/{check_id(autocall_id, 'autocall_id')}",
                parse=json_parser(m.ContactList, "get-autocalls-relaunch-id"),
                idempotent=False,
                effect=f"(Списки контактов) a new list of campaign {autocall_id}'s unreached numbers",
            )
        )

    # --- calls and recordings ---------------------------------------------------------------
    def get_call(self, call_id: int) -> m.Call:
        """``GET /calls/{id}`` (get-calls-id): one call."""
        return self._run(call_request(call_id))

    async def aget_call(self, call_id: int) -> m.Call:
        return await self._arun(call_request(call_id))

    def _recording_request(self, call_id: int, target: Any, *, sync: bool) -> ApiRequest[int]:
        from airflow_provider_telephony.core.storage import asave_body, save_body

        path = storage_path(target)

        def parse(response: httpx.Response) -> int:
            return save_body(response, path, "get-calls-recordings-id")

        async def aparse(response: httpx.Response) -> int:
            return await asave_body(response, path, "get-calls-recordings-id")

        return ApiRequest(
            name="get-calls-recordings-id",
            method="GET",
            path=f"/calls/recordings/{check_id(call_id, 'call_id')}",
            stream=True,
            parse=parse,
            aparse=None if sync else aparse,
        )

    def download_call_recording(self, call_id: int, target: ObjectStoragePath | str | PathLike[str]) -> int:
        """``GET /calls/recordings/{id}`` (get-calls-recordings-id): stream the call's recording to
        ``target`` (published only when complete); its size in bytes.  Only campaigns created with
        ``record=True`` have recordings (404 otherwise)."""
        return self._run(self._recording_request(call_id, target, sync=True))

    async def adownload_call_recording(
        self, call_id: int, target: ObjectStoragePath | str | PathLike[str]
    ) -> int:
        return await self._arun(self._recording_request(call_id, target, sync=False))
