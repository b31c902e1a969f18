"""AutoCall.kz SMS mailings and their messages: the part of :class:`~.autocall.AutoCallHook` that texts
people (a mixin; the hook supplies how requests are run).

**Exactly once.**  Creating a mailing carries our ``client_id`` (required here): :meth:`create_bulk`
first looks it up and returns an existing one without sending; a lost answer (timeout or reset after
sending, 5xx, a cut answer) is settled by looking it up again before anything is re-sent.  A ``202``
answer (documented for campaigns only) is handled like a campaign's: looked up until it appears.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from airflow_provider_telephony.core.flow import ApiRequest, Flow
from airflow_provider_telephony.core.responses import json_parser
from airflow_provider_telephony.hooks import autocall_wire as wire
from airflow_provider_telephony.hooks.autocall_wire import (
    MESSAGES_SCHEMA,
    HookPart,
    absent,
    apages,
    check_id,
    check_message_id,
    created,
    delete_request,
    lookup_flow,
    pages,
    raw_nested_page,
    raw_pages,
    wait_visible,
)
from airflow_provider_telephony.models import autocall as m

if TYPE_CHECKING:
    from airflow_provider_telephony.core.exchange import Exchange
    from airflow_provider_telephony.core.records import Page as RecordPage

BULK_PAGE = m.Page[m.Bulk]
#: the hook's argument names for body fields named otherwise in the document
BULK_NAMES = {"list_id": "recipients"}


def _filters(**values: Any) -> dict[str, Any]:
    return m.build(m.ListQuery, **values).params()


def _page(page: int) -> int:
    return m.build(m.PageQuery, page=page).page


def bulks_request(params: dict[str, Any]) -> ApiRequest[m.Page[m.Bulk]]:
    return ApiRequest(
        name="get-bulks",
        method="GET",
        path="/bulks",
        params=params,
        parse=json_parser(BULK_PAGE, "get-bulks"),
    )


def bulk_request(bulk_id: int, page: int = 1) -> ApiRequest[m.BulkDetail]:
    return ApiRequest(
        name="get-bulks-id",
        method="GET",
        path=f"/bulks/{check_id(bulk_id, 'bulk_id')}",
        params={"page": page},
        parse=json_parser(m.BulkDetail, "get-bulks-id"),
    )


def message_request(message_id: int | str) -> ApiRequest[m.Message]:
    return ApiRequest(
        name="get-messages-id",
        method="GET",
        path=f"/messages/{check_message_id(message_id)}",
        parse=json_parser(m.Message, "get-messages-id"),
    )


class BulksPart(HookPart):
    """SMS mailings (``/bulks``) and their messages (``/messages``)."""

    # --- SMS mailings -----------------------------------------------------------------------
    def list_bulks(
        self,
        *,
        page: int = 1,
        date_from: Any = None,
        date_to: Any = None,
        order: str | None = None,
        client_id: str | None = None,
    ) -> m.Page[m.Bulk]:
        """``GET /bulks`` (get-bulks): one page of SMS mailings, filtered like :meth:`list_lists`."""
        params = _filters(page=page, date_from=date_from, date_to=date_to, order=order, client_id=client_id)
        return self._run(bulks_request(params))

    async def alist_bulks(
        self,
        *,
        page: int = 1,
        date_from: Any = None,
        date_to: Any = None,
        order: str | None = None,
        client_id: str | None = None,
    ) -> m.Page[m.Bulk]:
        params = _filters(page=page, date_from=date_from, date_to=date_to, order=order, client_id=client_id)
        return await self._arun(bulks_request(params))

    def iter_bulks(
        self,
        *,
        date_from: Any = None,
        date_to: Any = None,
        order: str | None = None,
        client_id: str | None = None,
    ) -> Iterator[m.Bulk]:
        """Every mailing matching the filters, page after page."""
        params = _filters(date_from=date_from, date_to=date_to, order=order, client_id=client_id)
        for page in pages(lambda p: self._run(bulks_request(p)), params, "get-bulks"):
            yield from page.data

    def _bulks_request(self, *, client_id: str | None = None, page: int = 1) -> ApiRequest[m.Page[m.Bulk]]:
        return bulks_request(_filters(client_id=client_id, page=page, order="desc" if client_id else None))

    def _create_bulk_request(self, body: m.CreateBulkRequest) -> ApiRequest[m.Bulk | None]:
        """``POST /bulks`` with recovery by ``client_id`` (a 202 answer parses to ``None``)."""
        client_id = body.client_id

        def recover(exchange: Exchange) -> Flow[m.Bulk | None]:
            """Did the lost ``POST /bulks`` create the mailing?  Look for our client_id."""
            return (yield from lookup_flow(exchange, self._bulks_request(client_id=client_id), client_id))

        return ApiRequest(
            name="post-bulks",
            method="POST",
            path="/bulks",
            json=body.body(),
            parse=created(m.BulkDetail, "post-bulks"),
            recover=recover,
            effect=f"(SMS рассылки) whether a mailing with client_id {client_id!r} exists",
        )

    def create_bulk(
        self,
        *,
        name: str,
        text: str,
        recipients: list[Any],
        client_id: str,
        date_from: Any = None,
        time_from: Any = None,
        callback_url: str | None = None,
        background_timeout: float | None = None,
    ) -> m.Bulk:
        """``POST /bulks`` (post-bulks): an SMS mailing, exactly once per ``client_id``.

        :param recipients: the body's ``list_id``: contact list ids and/or contacts — numbers
            (``"+77010000000"``) or ``{"number", "extra", "variables"}`` — at most 5,000 items.
        :param text: up to 1,600 characters; ``{{name}}`` is replaced by each contact's variable.
        :param client_id: your id for it (≤ 60 characters): an earlier mailing with it is returned
            instead of sending a second one.
        :param date_from: / ``time_from``: when to start (``Y-m-d`` / ``H:i:s`` or ``date`` / ``time``);
            default: now.
        :param background_timeout: a 202 answer (undocumented for mailings, handled like a campaign's)
            is followed by lookups for this long.
        """
        body = m.build(
            m.CreateBulkRequest,
            BULK_NAMES,
            name=name,
            text=text,
            list_id=recipients,
            client_id=client_id,
            date_from=date_from,
            time_from=time_from,
            callback_url=callback_url,
        )
        existing = self.find_bulk(client_id)
        if existing is not None:
            return existing
        created = self._run(self._create_bulk_request(body))
        if created is not None:
            return created
        timeout = wire.BACKGROUND_TIMEOUT if background_timeout is None else background_timeout
        return wait_visible(lambda: self.find_bulk(client_id), "post-bulks", client_id, timeout)

    def find_bulk(self, client_id: str) -> m.Bulk | None:
        """The mailing created with ``client_id``, or ``None``."""
        return self._lookup(self._bulks_request(client_id=client_id), client_id)

    async def afind_bulk(self, client_id: str) -> m.Bulk | None:
        page = await self.alist_bulks(client_id=client_id, order="desc")
        return wire.matching(page.data, client_id)

    def calculate_bulk(
        self,
        *,
        name: str,
        text: str,
        recipients: list[Any],
        date_from: Any = None,
        time_from: Any = None,
        client_id: str | None = None,
        callback_url: str | None = None,
    ) -> m.Cost:
        """``POST /bulks/calculate`` (post-bulks-calculate): the mailing's highest cost (worst case of
        every ``{{variable}}``); up to 6,000 recipients here.  Only reads: retried like a read."""
        body = m.build(
            m.BulkSpec,
            BULK_NAMES,
            name=name,
            text=text,
            list_id=recipients,
            date_from=date_from,
            time_from=time_from,
            client_id=client_id,
            callback_url=callback_url,
        )
        return self._run(
            ApiRequest(
                name="post-bulks-calculate",
                method="POST",
                path="/bulks/calculate",
                json=body.body(),
                parse=json_parser(m.Cost, "post-bulks-calculate"),
                idempotent=True,
            )
        )

    def get_bulk(self, bulk_id: int, *, page: int = 1) -> m.BulkDetail:
        """``GET /bulks/{id}`` (get-bulks-id): the mailing and page ``page`` of its messages."""
        return self._run(bulk_request(bulk_id, _page(page)))

    async def aget_bulk(self, bulk_id: int, *, page: int = 1) -> m.BulkDetail:
        return await self._arun(bulk_request(bulk_id, _page(page)))

    def iter_bulk_messages(self, bulk_id: int) -> Iterator[m.Message]:
        """Every message of a mailing (the pages of ``messages`` inside ``GET /bulks/{id}``)."""
        check_id(bulk_id, "bulk_id")
        for page in pages(
            lambda p: self._run(bulk_request(bulk_id, p["page"])).messages, {"page": 1}, "get-bulks-id"
        ):
            yield from page.data

    async def aiter_bulk_messages(self, bulk_id: int) -> AsyncIterator[m.Message]:
        """Async twin of :meth:`iter_bulk_messages` (for triggers)."""
        check_id(bulk_id, "bulk_id")

        async def fetch(params: dict[str, Any]) -> m.Page[m.Message] | None:
            return (await self._arun(bulk_request(bulk_id, params["page"]))).messages

        async for page in apages(fetch, {"page": 1}, "get-bulks-id"):
            for message in page.data:
                yield message

    def iter_raw_bulk_message_pages(self, bulk_id: int) -> Iterator[RecordPage]:
        """The mailing's messages as export pages (vendor bytes, validated by ``MESSAGES_SCHEMA``)."""
        check_id(bulk_id, "bulk_id")

        def fetch(params: dict[str, Any]) -> tuple[RecordPage, str | None]:
            return self._run(
                ApiRequest(
                    name="get-bulks-id",
                    method="GET",
                    path=f"/bulks/{bulk_id}",
                    params={"page": params["page"]},
                    parse=lambda r: raw_nested_page(r.content, "messages", "get-bulks-id"),
                )
            )

        yield from raw_pages(fetch, "get-bulks-id", MESSAGES_SCHEMA)

    def update_bulk(
        self,
        bulk_id: int,
        *,
        name: str | None = None,
        time_from: Any = None,
        date_from: Any = None,
        client_id: str | None = None,
        callback_url: str | None = None,
    ) -> m.BulkDetail:
        """``PUT /bulks/{id}`` (put-bulks-id): only in statuses ``awaiting`` / ``moderation``."""
        body = m.build(
            m.UpdateBulkRequest,
            name=name,
            time_from=time_from,
            date_from=date_from,
            client_id=client_id,
            callback_url=callback_url,
        )
        return self._run(
            ApiRequest(
                name="put-bulks-id",
                method="PUT",
                path=f"/bulks/{check_id(bulk_id, 'bulk_id')}",
                json=body.body(),
                parse=json_parser(m.BulkDetail, "put-bulks-id"),
                idempotent=True,
            )
        )

    def delete_bulk(self, bulk_id: int, *, missing_ok: bool = False) -> None:
        """``DELETE /bulks/{id}`` (delete-bulks-id): not while ``running`` (422)."""
        path = f"/bulks/{check_id(bulk_id, 'bulk_id')}"
        gone = absent(bulk_request(bulk_id))
        self._delete(
            delete_request("delete-bulks-id", path, gone, f"whether mailing {bulk_id} exists"), missing_ok
        )

    # --- messages ---------------------------------------------------------------------------
    def get_message(self, message_id: int | str) -> m.Message:
        """``GET /messages/{id}`` (get-messages-id): one SMS and its delivery status."""
        return self._run(message_request(message_id))

    async def aget_message(self, message_id: int | str) -> m.Message:
        return await self._arun(message_request(message_id))
