"""AutoCall.kz contact lists, contacts, sounds and scenarios: the part of :class:`~.autocall.AutoCallHook`
that prepares what campaigns and mailings use (a mixin; the hook supplies how requests are run)."""

from __future__ import annotations

from collections.abc import Iterator
from os import PathLike
from typing import TYPE_CHECKING, Any, Literal, overload

from airflow_provider_telephony.core.errors import RequestValidationError
from airflow_provider_telephony.core.flow import ApiRequest, Flow
from airflow_provider_telephony.core.responses import json_parser
from airflow_provider_telephony.hooks.autocall_wire import (
    HookPart,
    absent,
    check_file_name,
    check_id,
    delete_request,
    done,
    lookup_flow,
    pages,
    scan_flow,
    storage_path,
)
from airflow_provider_telephony.models import autocall as m

if TYPE_CHECKING:
    import httpx
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_telephony.core.exchange import Exchange

LIST_PAGE = m.Page[m.ContactList]
SOUND_PAGE = m.Page[m.Sound]
SCENARIO_PAGE = m.Page[m.Scenario]


def lists_request(params: dict[str, Any]) -> ApiRequest[m.Page[m.ContactList]]:
    return ApiRequest(
        name="get-lists",
        method="GET",
        path="/lists",
        params=params,
        parse=json_parser(LIST_PAGE, "get-lists"),
    )


def list_request(list_id: int, page: int = 1) -> ApiRequest[m.ContactListDetail]:
    return ApiRequest(
        name="get-lists-id",
        method="GET",
        path=f"/lists/{check_id(list_id, 'list_id')}",
        params={"page": page},
        parse=json_parser(m.ContactListDetail, "get-lists-id"),
    )


def sounds_request(params: dict[str, Any]) -> ApiRequest[m.Page[m.Sound]]:
    return ApiRequest(
        name="get-sounds",
        method="GET",
        path="/sounds",
        params=params,
        parse=json_parser(SOUND_PAGE, "get-sounds"),
    )


def sound_request(sound_id: int) -> ApiRequest[m.Sound]:
    return ApiRequest(
        name="get-sounds-id",
        method="GET",
        path=f"/sounds/{check_id(sound_id, 'sound_id')}",
        parse=json_parser(m.Sound, "get-sounds-id"),
    )


def scenarios_request(params: dict[str, Any]) -> ApiRequest[m.Page[m.Scenario]]:
    return ApiRequest(
        name="get-scenarios",
        method="GET",
        path="/scenarios",
        params=params,
        parse=json_parser(SCENARIO_PAGE, "get-scenarios"),
    )


def scenario_request(scenario_id: int) -> ApiRequest[m.ScenarioDetail]:
    return ApiRequest(
        name="get-scenarios-id",
        method="GET",
        path=f"/scenarios/{check_id(scenario_id, 'scenario_id')}",
        parse=json_parser(m.ScenarioDetail, "get-scenarios-id"),
    )


def _page(page: int) -> dict[str, Any]:
    return m.build(m.PageQuery, page=page).model_dump()


def _filters(**values: Any) -> dict[str, Any]:
    return m.build(m.ListQuery, **values).params()


class ContactsPart(HookPart):
    """Contact lists and contacts, sounds (recordings) and interactive scenarios."""

    # --- contact lists ----------------------------------------------------------------------
    def list_lists(
        self,
        *,
        page: int = 1,
        date_from: Any = None,
        date_to: Any = None,
        order: str | None = None,
        client_id: str | None = None,
    ) -> m.Page[m.ContactList]:
        """``GET /lists`` (get-lists): one page of contact lists, filtered by creation date (``Y-m-d``
        or a date), ``order`` (``asc``/``desc``) and ``client_id``.  With ``client_id`` and no such
        list the API answers 404 (:class:`NotFoundError`); :meth:`find_list` returns ``None`` then."""
        params = _filters(page=page, date_from=date_from, date_to=date_to, order=order, client_id=client_id)
        return self._run(lists_request(params))

    def iter_lists(
        self,
        *,
        date_from: Any = None,
        date_to: Any = None,
        order: str | None = None,
        client_id: str | None = None,
    ) -> Iterator[m.ContactList]:
        """Every contact list matching the filters, page after page (``next_page_url``)."""
        params = _filters(date_from=date_from, date_to=date_to, order=order, client_id=client_id)
        for page in pages(lambda p: self._run(lists_request(p)), params, "get-lists"):
            yield from page.data

    def find_list(self, client_id: str) -> m.ContactList | None:
        """The contact list created with ``client_id``, or ``None``."""
        return self._lookup(lists_request(_filters(client_id=client_id, order="desc")), client_id)

    def create_list(self, name: str, numbers: list[Any], *, client_id: str | None = None) -> m.ContactList:
        """``POST /lists`` (post-lists): a contact list of up to 10,000 numbers (``"+77010000000"`` or
        ``{"number", "extra", "variables"}``); add more with :meth:`append_to_list`.

        With ``client_id`` it is created once: an existing list with it is returned without sending,
        and a lost answer is settled by looking it up.  Without ``client_id`` a lost answer cannot be
        settled and raises :class:`OutcomeUnknownError` (never sent twice).
        """
        body = m.build(m.CreateListRequest, name=name, numbers=numbers, client_id=client_id)
        if client_id is not None:
            existing = self.find_list(client_id)
            if existing is not None:
                return existing
        lookup = lists_request(_filters(client_id=client_id, order="desc")) if client_id else None

        def recover(exchange: Exchange) -> Flow[m.ContactList | None]:
            assert lookup is not None and client_id is not None
            return (yield from lookup_flow(exchange, lookup, client_id))

        return self._run(
            ApiRequest(
                name="post-lists",
                method="POST",
                path="/lists",
                json=body.body(),
                parse=json_parser(m.ContactList, "post-lists"),
                recover=recover if lookup is not None else None,
                effect=f"(Списки контактов) a list named {name!r}"
                + (f" with client_id {client_id!r}" if client_id else ""),
            )
        )

    def get_list(self, list_id: int, *, page: int = 1) -> m.ContactListDetail:
        """``GET /lists/{id}`` (get-lists-id): the list and page ``page`` of its contacts."""
        return self._run(list_request(list_id, _page(page)["page"]))

    async def aget_list(self, list_id: int, *, page: int = 1) -> m.ContactListDetail:
        return await self._arun(list_request(list_id, _page(page)["page"]))

    def iter_list_contacts(self, list_id: int) -> Iterator[m.Contact]:
        """Every contact of a list, page after page."""
        check_id(list_id, "list_id")
        for page in pages(
            lambda p: self._run(list_request(list_id, p["page"])).contacts, {"page": 1}, "get-lists-id"
        ):
            yield from page.data

    def update_list(
        self, list_id: int, *, name: str | None = None, client_id: str | None = None
    ) -> m.ContactList:
        """``PUT /lists/{id}`` (put-lists-id): rename it or change its ``client_id`` (sent again safely)."""
        body = m.build(m.UpdateListRequest, name=name, client_id=client_id)
        return self._run(
            ApiRequest(
                name="put-lists-id",
                method="PUT",
                path=f"/lists/{check_id(list_id, 'list_id')}",
                json=body.body(),
                parse=json_parser(m.ContactList, "put-lists-id"),
                idempotent=True,
            )
        )

    def delete_list(self, list_id: int, *, missing_ok: bool = False) -> None:
        """``DELETE /lists/{id}`` (delete-lists-id): the list and its contacts."""
        path = f"/lists/{check_id(list_id, 'list_id')}"
        self._delete(
            delete_request(
                "delete-lists-id", path, absent(list_request(list_id)), f"whether list {list_id} still exists"
            ),
            missing_ok,
        )

    def append_to_list(self, list_id: int, numbers: list[Any]) -> m.ContactList:
        """``POST /lists/append/{id}`` (post-lists-append-id): up to 10,000 more numbers.

        The API offers no way to tell whether a lost answer's numbers were added: such a failure
        raises :class:`OutcomeUnknownError` and is not sent again (that could add them twice).
        """
        body = m.build(m.AppendListRequest, numbers=numbers)
        return self._run(
            ApiRequest(
                name="post-lists-append-id",
                method="POST",
                path=f"/lists/append/{check_id(list_id, 'list_id')}",
                json=body.body(),
                parse=json_parser(m.ContactList, "post-lists-append-id"),
                effect=f"(Списки контактов) the contacts count of list {list_id}",
            )
        )

    def delete_nonexistent_numbers(self, list_id: int) -> None:
        """``DELETE /lists/nonexistent/{id}`` (delete-lists-nonexistent-id): remove the numbers the
        operator reported as not existing (safe to send again: a second time removes nothing)."""
        self._run(
            ApiRequest(
                name="delete-lists-nonexistent-id",
                method="DELETE",
                path=f"/lists/nonexistent/{check_id(list_id, 'list_id')}",
                parse=done,
                idempotent=True,
            )
        )

    def ignore_nonexistent_numbers(self, list_id: int) -> m.ContactList:
        """``PUT /lists/nonexistent/{id}`` (put-lists-nonexistent-id): clear the flag, keep the numbers."""
        return self._run(
            ApiRequest(
                name="put-lists-nonexistent-id",
                method="PUT",
                path=f"/lists/nonexistent/{check_id(list_id, 'list_id')}",
                parse=json_parser(m.ContactList, "put-lists-nonexistent-id"),
                idempotent=True,
            )
        )

    # --- contacts ---------------------------------------------------------------------------
    def get_contact(self, contact_id: int) -> m.Contact:
        """``GET /contacts/{id}`` (get-contacts-id)."""
        return self._run(_contact_request(contact_id))

    def delete_contact(self, contact_id: int, *, missing_ok: bool = False) -> None:
        """``DELETE /contacts/{id}`` (delete-contacts-id): remove one contact from its list."""
        path = f"/contacts/{check_id(contact_id, 'contact_id')}"
        self._delete(
            delete_request(
                "delete-contacts-id",
                path,
                absent(_contact_request(contact_id)),
                f"whether contact {contact_id} exists",
            ),
            missing_ok,
        )

    # --- sounds -----------------------------------------------------------------------------
    def list_sounds(self, *, page: int = 1) -> m.Page[m.Sound]:
        """``GET /sounds`` (get-sounds): one page of recordings."""
        return self._run(sounds_request(_page(page)))

    def iter_sounds(self) -> Iterator[m.Sound]:
        """Every recording, page after page."""
        for page in pages(lambda p: self._run(sounds_request(p)), {"page": 1}, "get-sounds"):
            yield from page.data

    def find_sound(self, client_id: str) -> m.Sound | None:
        """The recording created with ``client_id``, or ``None`` (the API has no filter: every page
        is read until it is found)."""
        return next((sound for sound in self.iter_sounds() if sound.client_id == client_id), None)

    def create_sound(
        self,
        name: str,
        type: str,
        *,
        text: str | None = None,
        voice: str | None = None,
        speed: float | None = None,
        pitch: float | None = None,
        file: bytes | str | None = None,
        client_id: str | None = None,
    ) -> m.Sound:
        """``POST /sounds`` (post-sounds): synthesise ``text`` (``type="synthesis"``; costs money) or
        upload ``file`` (``type="upload"``: mp3/wav/ogg bytes, or their Base64 text).

        With ``client_id`` it is created once (an existing one is returned without sending; a lost
        answer is settled by reading the list of recordings).  Without it a lost answer raises
        :class:`OutcomeUnknownError`.  402: :class:`InsufficientFundsError`.
        """
        data = {"text": text, "voice": voice, "speed": speed, "pitch": pitch, "file": file}
        body = m.build(m.CreateSoundRequest, name=name, type=type, data=[data], client_id=client_id)
        if client_id is not None:
            existing = self.find_sound(client_id)
            if existing is not None:
                return existing

        def recover(exchange: Exchange) -> Flow[m.Sound | None]:
            assert client_id is not None
            return (yield from scan_flow(exchange, sounds_request, client_id, "get-sounds"))

        return self._run(
            ApiRequest(
                name="post-sounds",
                method="POST",
                path="/sounds",
                json=body.body(),
                parse=json_parser(m.Sound, "post-sounds"),
                recover=recover if client_id is not None else None,
                effect=f"(Аудиозаписи) a recording named {name!r}"
                + (f" with client_id {client_id!r}" if client_id else ""),
            )
        )

    def get_sound(self, sound_id: int) -> m.Sound:
        """``GET /sounds/{id}`` (get-sounds-id): e.g. whether moderation ``confirmed`` it."""
        return self._run(sound_request(sound_id))

    async def aget_sound(self, sound_id: int) -> m.Sound:
        return await self._arun(sound_request(sound_id))

    def update_sound(
        self, sound_id: int, *, name: str | None = None, client_id: str | None = None
    ) -> m.Sound:
        """``PUT /sounds/{id}`` (put-sounds-id)."""
        body = m.build(m.UpdateSoundRequest, name=name, client_id=client_id)
        return self._run(
            ApiRequest(
                name="put-sounds-id",
                method="PUT",
                path=f"/sounds/{check_id(sound_id, 'sound_id')}",
                json=body.body(),
                parse=json_parser(m.Sound, "put-sounds-id"),
                idempotent=True,
            )
        )

    def delete_sound(self, sound_id: int, *, missing_ok: bool = False) -> None:
        """``DELETE /sounds/{id}`` (delete-sounds-id)."""
        path = f"/sounds/{check_id(sound_id, 'sound_id')}"
        self._delete(
            delete_request(
                "delete-sounds-id", path, absent(sound_request(sound_id)), f"whether sound {sound_id} exists"
            ),
            missing_ok,
        )

    @overload
    def listen_sound(
        self, file: str, type: Literal["download"], target: ObjectStoragePath | str | PathLike[str]
    ) -> int: ...

    @overload
    def listen_sound(self, file: str, type: Literal["text"], target: None = None) -> m.ListenText: ...

    def listen_sound(
        self, file: str, type: str, target: ObjectStoragePath | str | PathLike[str] | None = None
    ) -> int | m.ListenText:
        """``GET /sounds/listen/{file}`` (get-sounds-listen-file): a subscriber's recorded answer in an
        interactive campaign (``file`` from the call's ``data``).

        ``type="download"`` streams the audio to ``target`` (any ``ObjectStoragePath`` or local path;
        published only when complete) and returns its size; ``type="text"`` returns the recognised
        text — billed by the vendor (402: :class:`InsufficientFundsError`).
        """
        name = check_file_name(file)
        if type == "text":
            if target is not None:
                raise RequestValidationError("target", "only for type='download'", value=str(target))
            return self._run(
                ApiRequest(
                    name="get-sounds-listen-file",
                    method="GET",
                    path=f"/sounds/listen/{name}",
                    params={"type": "text"},
                    parse=json_parser(m.ListenText, "get-sounds-listen-file"),
                )
            )
        if type != "download":
            raise RequestValidationError("type", "must be one of 'download', 'text'", value=type)
        if target is None:
            raise RequestValidationError("target", "required for type='download' (where to save the file)")
        from airflow_provider_telephony.core.storage import save_body

        path = storage_path(target)

        def save(response: httpx.Response) -> int:
            return save_body(response, path, "get-sounds-listen-file")

        return self._run(
            ApiRequest(
                name="get-sounds-listen-file",
                method="GET",
                path=f"/sounds/listen/{name}",
                params={"type": "download"},
                stream=True,
                parse=save,
            )
        )

    # --- scenarios --------------------------------------------------------------------------
    def list_scenarios(self, *, page: int = 1) -> m.Page[m.Scenario]:
        """``GET /scenarios`` (get-scenarios): one page of interactive scenarios."""
        return self._run(scenarios_request(_page(page)))

    def iter_scenarios(self) -> Iterator[m.Scenario]:
        """Every scenario, page after page."""
        for page in pages(lambda p: self._run(scenarios_request(p)), {"page": 1}, "get-scenarios"):
            yield from page.data

    def find_scenario(self, client_id: str) -> m.Scenario | None:
        """The scenario created with ``client_id``, or ``None`` (every page is read: no filter)."""
        return next((item for item in self.iter_scenarios() if item.client_id == client_id), None)

    def create_scenario(self, name: str, data: Any, *, client_id: str | None = None) -> m.Scenario:
        """``POST /scenarios`` (post-scenarios): ``data`` is the scenario as JSON text, or a dict/list
        that is encoded.  Created once per ``client_id`` like :meth:`create_sound`."""
        body = m.build(m.CreateScenarioRequest, name=name, data=data, client_id=client_id)
        if client_id is not None:
            existing = self.find_scenario(client_id)
            if existing is not None:
                return existing

        def recover(exchange: Exchange) -> Flow[m.Scenario | None]:
            assert client_id is not None
            return (yield from scan_flow(exchange, scenarios_request, client_id, "get-scenarios"))

        return self._run(
            ApiRequest(
                name="post-scenarios",
                method="POST",
                path="/scenarios",
                json=body.body(),
                parse=json_parser(m.Scenario, "post-scenarios"),
                recover=recover if client_id is not None else None,
                effect=f"(Сценарии) a scenario named {name!r}"
                + (f" with client_id {client_id!r}" if client_id else ""),
            )
        )

    def get_scenario(self, scenario_id: int) -> m.ScenarioDetail:
        """``GET /scenarios/{id}`` (get-scenarios-id): the scenario and its structure."""
        return self._run(scenario_request(scenario_id))

    async def aget_scenario(self, scenario_id: int) -> m.ScenarioDetail:
        return await self._arun(scenario_request(scenario_id))

    def update_scenario(
        self, scenario_id: int, *, name: str | None = None, data: Any = None, client_id: str | None = None
    ) -> m.ScenarioDetail:
        """``PUT /scenarios/{id}`` (put-scenarios-id)."""
        body = m.build(m.UpdateScenarioRequest, name=name, data=data, client_id=client_id)
        return self._run(
            ApiRequest(
                name="put-scenarios-id",
                method="PUT",
                path=f"/scenarios/{check_id(scenario_id, 'scenario_id')}",
                json=body.body(),
                parse=json_parser(m.ScenarioDetail, "put-scenarios-id"),
                idempotent=True,
            )
        )

    def delete_scenario(self, scenario_id: int, *, missing_ok: bool = False) -> None:
        """``DELETE /scenarios/{id}`` (delete-scenarios-id)."""
        path = f"/scenarios/{check_id(scenario_id, 'scenario_id')}"
        self._delete(
            delete_request(
                "delete-scenarios-id",
                path,
                absent(scenario_request(scenario_id)),
                f"whether scenario {scenario_id} exists",
            ),
            missing_ok,
        )


def _contact_request(contact_id: int) -> ApiRequest[m.Contact]:
    return ApiRequest(
        name="get-contacts-id",
        method="GET",
        path=f"/contacts/{check_id(contact_id, 'contact_id')}",
        parse=json_parser(m.Contact, "get-contacts-id"),
    )
