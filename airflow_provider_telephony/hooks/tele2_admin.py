"""Tele2 ATS personal managers and blacklist: the part of :class:`~.tele2.Tele2AtsHook` that edits
the PBX's configuration (a mixin; the hook supplies how requests are run)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_telephony.core.errors import (
    NotFoundError,
    RequestValidationError,
    UnexpectedResponseError,
    vendor_text,
)
from airflow_provider_telephony.core.exchange import Exchange
from airflow_provider_telephony.core.flow import ApiRequest, Flow
from airflow_provider_telephony.core.responses import json_parser
from airflow_provider_telephony.core.validation import build_request
from airflow_provider_telephony.hooks.tele2_wire import (
    BLACKLIST,
    MANAGER_RESULTS,
    MANAGERS,
    check_phone_field,
    get_request,
    result_text,
)
from airflow_provider_telephony.models import tele2 as m

if TYPE_CHECKING:
    import httpx


def manager_request(manager_id: int) -> ApiRequest[m.Manager]:
    if isinstance(manager_id, bool) or not isinstance(manager_id, int) or manager_id < 1:
        raise RequestValidationError("manager_id", "must be a positive integer", value=manager_id)
    return ApiRequest(
        name="getManager",
        method="GET",
        path=f"/managers/{manager_id}",
        parse=json_parser(m.Manager, "getManager"),
    )


class Tele2AdminMixin:
    """Managers (calls of a customer go straight to his personal manager) and the blacklist."""

    if TYPE_CHECKING:

        def _run(self, request: ApiRequest[Any]) -> Any: ...

        async def _arun(self, request: ApiRequest[Any]) -> Any: ...

    # --- managers -----------------------------------------------------------------------
    def list_managers(self) -> list[m.Manager]:
        """``GET /managers``."""
        return self._run(get_request("listManagers", "/managers", json_parser(MANAGERS, "listManagers")))

    async def alist_managers(self) -> list[m.Manager]:
        return await self._arun(
            get_request("listManagers", "/managers", json_parser(MANAGERS, "listManagers"))
        )

    def get_manager(self, manager_id: int) -> m.Manager:
        """``GET /managers/{id}``; :class:`NotFoundError` when there is none."""
        return self._run(manager_request(manager_id))

    async def aget_manager(self, manager_id: int) -> m.Manager:
        return await self._arun(manager_request(manager_id))

    def _manager_write(self, name: str, method: str, manager: m.ManagerIn) -> str:
        def parse(response: httpx.Response) -> str:
            result = result_text(response)
            conflict = MANAGER_RESULTS.get(result)
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
            request = get_request("listManagers", "/managers", json_parser(MANAGERS, "listManagers"))
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
        manager_request(manager_id)  # the same id check
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
        return self._run(get_request("listBlacklist", "/blacklist", json_parser(BLACKLIST, "listBlacklist")))

    async def alist_blacklist(self) -> list[m.BlacklistEntry]:
        return await self._arun(
            get_request("listBlacklist", "/blacklist", json_parser(BLACKLIST, "listBlacklist"))
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
        """``DELETE /blacklist/by-msisdn/{msisdn}``; a number that is not listed (404, e.g. after a
        lost answer to an earlier try) is the wanted state too."""
        msisdn = check_phone_field(number, "number")
        try:
            self._run(
                ApiRequest(
                    name="removeFromBlacklist",
                    method="DELETE",
                    path=f"/blacklist/by-msisdn/{msisdn}",
                    parse=lambda response: None,
                    idempotent=True,
                )
            )
        except NotFoundError:
            return

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
