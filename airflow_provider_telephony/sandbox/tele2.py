"""Emulation of the Tele2 corporate PBX ("АТС") CRM OpenAPI, written from ``seeds/tele2-ats-crm-openapi.ocr.txt``
(and its clean reading ``.md``), never from our client code.

Every path sits under ``/crm/openapi`` (the real base URL is ``https://ats2.tele2.ru/crm/openapi``), so a
connection's host is ``<sandbox url>/crm/openapi``.  The 19 documented operations:

* 5.1 ``PUT /authorization/refresh/token`` (header ``Authorization: <refresh token>``) →
  ``{"accessToken", "refreshToken"}``.  Rotation is strict: the previous access *and* refresh token die
  at once.  Refusals are 403 with a text body: ``The token has already been updated`` (a superseded
  refresh token), ``The token is expired`` (older than ``tele2_refresh_ttl``; checked first, as a JWT
  library checks ``exp`` before the server looks the token up), ``The token is invalid`` (anything else).
* 5.2 ``GET /monitoring/calls``, 5.3 ``GET /monitoring/calls/pending``, 5.4 ``GET /employees``.
* 5.5 ``POST /call/outgoing?destination=&source=`` — ``source`` must be an employee's ``fullNumber`` or
  ``shortNumber``, ``destination`` a ``7XXXXXXXXXX`` number or an employee's number (else 400).  200 with an
  empty body; the call shows in ``/monitoring/calls`` for ``tele2_click_to_call_seconds``, then becomes an
  answered ``CRM_OUTGOING`` record with a recording.
* 5.6.1 ``GET /statistics/common``, 5.6.2 ``GET /statistics/journal`` (computed from the records).
* 5.7.1 ``GET /call-records/info`` (a bare JSON array, page 0-based, default size 10, ``sort`` default
  ``date,ASC``: any response field, ``,ASC``/``,DESC`` case-insensitive, Spring's ``a,b,DESC`` and repeated
  ``sort`` parameters), 5.7.2 ``GET /call-records/file`` (a real MP3 of silent MPEG-1 Layer III frames,
  ``audio/mpeg``, streamed, its length proportional to ``conversationDuration``), 5.7.3
  ``GET /call-records/file/stt`` (word array, channels ``A``/``B``).
* 5.8 ``GET /managers``, ``GET /managers/{id}``, ``POST /managers``, ``PUT /managers``,
  ``DELETE /managers/{id}``; 5.9 ``POST /blacklist``, ``DELETE /blacklist/by-msisdn/{msisdn}``,
  ``DELETE /blacklist/all``, ``GET /blacklist``.

Authorization: every method takes ``Authorization: <access token>``, raw (a ``Bearer `` prefix is refused);
a missing, unknown, superseded or expired access token is 403.  The initial pair is
``config.tele2_access_token`` / ``config.tele2_refresh_token`` (opaque, as an administrator copies it from the
web UI), valid from server start.  Pairs issued later are JWTs shaped like the document's example:
header ``{"alg":"HS512"}`` (the document's; signed with a per-server secret), payload
``{"UserDetailsImpl": {...}, "exp", "sub": "ACCESS_TOKEN"|"REFRESH_TOKEN", "iat", "jti"}``; ``exp`` is
epoch seconds, a whole number for lifetimes of a minute or more, milliseconds otherwise (short test TTLs).

Data (:mod:`~airflow_provider_telephony.sandbox.tele2_data`): seeded from ``config.seed``, about
``calls_per_day`` records a day over ``data_start`` + ``data_days`` (built on the first Tele2 request); the
first 16 records cover every documented ``callType`` and ``callStatus``.  Numbers are obviously fake,
``7000`` + 7 digits; twelve employees (two with nothing but ``employeeId``, as in the document), two
managers (ids 26 and 27, the latter handling all customers), six blacklist entries (``FILE`` and
``MANUAL``), four calls in progress and three queues (static).

Choices where the document is unclear:

* Result strings (managers, blacklist) are the bare word as ``text/plain`` (``SUCCESS``, not ``"SUCCESS"``):
  the document lists them unquoted, beside ``HTTP 200``/``HTTP 404``, never as a JSON example.  A conflict
  is HTTP 200 with its result string; ``MANAGER_HANDLING_ALL_CUSTOMERS_ALREADY_EXISTS`` is checked before
  ``CUSTOMER_ALREADY_ASSIGNED``.  ``POST /managers`` with an ``id`` is 400; an unknown ``employeeId`` is 400.
  ``DELETE /blacklist/by-msisdn/{msisdn}`` answers ``SUCCESS`` even when the number was not listed (the
  document lists no other answer); a number not in ``7XXXXXXXXXX`` form is 400.
* ``/statistics/journal`` answers one object (the scan shows no array brackets around it, unlike the
  array examples): ``number`` echoes the ``number`` parameter, or is ``null`` for the whole company.
* Windows are half-open, ``start <= date < end``; ``start``/``end`` must be ISO-8601 offset date-times
  (``...+03:00`` or ``...Z``; a ``+`` received as a space is 400).  ``end`` before ``start``, a bad
  ``page``/``size``/``is_recorded``/``sort``, a ``subscriberNumber``/``number`` not in ``7XXXXXXXXXX`` form
  are 400.  ``caller``/``callee`` match ``callerNumber``/``calleeNumber`` exactly (both given: that
  direction only).  No page size cap (none is documented).
* Statistics: internal calls (``INTERNAL``, ``HIMSELF``, ``INTERNAL_QUEUE``) count only in ``internal*``;
  ``allCallCount = successCallCount + lostCallCount + internalCallCount`` and the per-day/per-hour rates are
  non-internal calls over the calendar days the window touches, which reproduces the document's example
  (22 = 8 + 5 + 9; 13 / 3 days = 4.333..., 13 / 72 h).  Durations count ``conversationDuration``;
  ``mn*`` are over answered calls; transfers are the ``ANSWERED_BY_*_FORWARD_CLIENT`` statuses;
  hang-ups A/B are ``CANCELLED_BY_CALLER``/``DESTINATION_BUSY``; unique/redial count the client numbers.
* ``recordFileName`` is ``YYYY-MM-DD/<digits>`` (Moscow date), with the document's ``mo_`` before the digits
  for outgoing calls; empty for calls not answered.  Every answered call has a recording.
* Error bodies (400, 403 on methods, 404) are Spring Boot's JSON error
  ``{"timestamp", "status", "error", "message", "path"}``; refresh refusals are the texts above.

Sandbox-only controls (no auth, never faulted): ``POST /__sandbox__/tele2/generate`` ("Generate token" in
the web UI: a new pair, every older one dead), ``POST /__sandbox__/tele2/expire`` (``{"refresh": true}``
optional: expire the current access token, and the refresh token, now), ``GET /__sandbox__/tele2/stats``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from http import HTTPStatus
from typing import Any

import msgspec
from starlette.concurrency import iterate_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from airflow_provider_telephony.sandbox import tele2_data as data
from airflow_provider_telephony.sandbox.config import SandboxConfig
from airflow_provider_telephony.sandbox.tele2_state import Problem, Tele2Auth, Tele2State, bad

PREFIX = "/crm/openapi"
CONTROL = "/__sandbox__/tele2"
SUCCESS = "SUCCESS"
DUPLICATE = "DUPLICATE_BLACK_LIST_NUMBER"
ALL_CUSTOMERS_TAKEN = "MANAGER_HANDLING_ALL_CUSTOMERS_ALREADY_EXISTS"
CUSTOMER_TAKEN = "CUSTOMER_ALREADY_ASSIGNED"


def _json(body: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")


def _error(request: Request, status: int, message: str) -> Response:
    return _json(
        {
            "timestamp": data.format_ms(int(time.time() * 1000)),
            "status": status,
            "error": HTTPStatus(status).phrase,
            "message": message,
            "path": request.url.path,
        },
        status,
    )


# ----------------------------------------------------------------------------- parameters


def _window(request: Request) -> tuple[datetime, datetime]:
    times = []
    for name in ("start", "end"):
        raw = request.query_params.get(name)
        if raw is None or not raw:
            raise bad(f"{name}: required query parameter (ISO-8601 offset date-time)")
        try:
            times.append(data.parse_offset_datetime(raw))
        except ValueError as exc:
            raise bad(f"{name}: {exc}") from None
    if times[1] < times[0]:
        raise bad("end: must not be before start")
    return times[0], times[1]


def _number(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not data.NUMBER_RE.fullmatch(value):
        raise bad(f"{name}: must be a number like 7XXXXXXXXXX, got {value!r}")
    return value


def _int(request: Request, name: str, default: int, minimum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum:
        raise bad(f"{name}: must be an integer >= {minimum}, got {raw!r}")
    return int(raw)


def _sort(values: list[str]) -> list[tuple[str, bool]]:
    """Spring's ``sort=prop[,prop...][,ASC|DESC]`` (repeatable); default ``date,ASC``."""
    orders: list[tuple[str, bool]] = []
    for value in values:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        descending = False
        if parts and parts[-1].upper() in ("ASC", "DESC"):
            descending = parts.pop().upper() == "DESC"
        if not parts:
            raise bad(f"sort: expected a field then ,ASC or ,DESC (e.g. date,DESC), got {value!r}")
        for name in parts:
            if name not in data.RECORD_FIELDS:
                raise bad(f"sort: {name!r} is not a field of a call record ({', '.join(data.RECORD_FIELDS)})")
            orders.append((name, descending))
    return orders or [("date", False)]


def _file_name(request: Request) -> str:
    name = request.query_params.get("filename")
    if not name:
        raise bad("filename: required query parameter (recordFileName, percent-encoded once)")
    return name


# ----------------------------------------------------------------------------- endpoints

Handler = Callable[[Request, Tele2State], Awaitable[Response]]


async def _monitoring_calls(request: Request, state: Tele2State) -> Response:
    return _json(state.current_calls())


async def _monitoring_pending(request: Request, state: Tele2State) -> Response:
    return _json(state.world.queues)


async def _employees(request: Request, state: Tele2State) -> Response:
    return _json(state.world.employees)


async def _outgoing(request: Request, state: Tele2State) -> Response:
    source, destination = request.query_params.get("source"), request.query_params.get("destination")
    if not destination:
        raise bad("destination: required query parameter (the client's phone number)")
    if not source:
        raise bad("source: required query parameter (the employee's phone number)")
    employee = state.world.agent_by_number(source)
    if employee is None:
        raise bad(f"source: {source!r} is not the fullNumber or shortNumber of an employee")
    if not data.NUMBER_RE.fullmatch(destination) and state.world.agent_by_number(destination) is None:
        raise bad(f"destination: must be a number like 7XXXXXXXXXX, got {destination!r}")
    state.place_call(employee, source, destination)
    return Response(status_code=200)


async def _statistics_common(request: Request, state: Tele2State) -> Response:
    start, end = _window(request)
    number = _number(request, "subscriberNumber")
    records = state.records_between(start, end)
    if number is not None:
        records = [r for r in records if data.involves(r, number)]
    return _json(data.common_statistics(records, start, end))


async def _statistics_journal(request: Request, state: Tele2State) -> Response:
    start, end = _window(request)
    number = _number(request, "number")
    records = state.records_between(start, end)
    if number is not None:
        records = [r for r in records if data.involves(r, number)]
    return _json(data.journal(records, number, start, end))


async def _records_info(request: Request, state: Tele2State) -> Response:
    start, end = _window(request)
    query = request.query_params
    recorded = query.get("is_recorded", "false").lower()
    if recorded not in ("true", "false"):
        raise bad(f"is_recorded: must be true or false, got {query['is_recorded']!r}")
    page, size = _int(request, "page", 0, 0), _int(request, "size", 10, 1)
    orders = _sort(query.getlist("sort"))
    records = state.records_between(start, end)
    caller, callee = query.get("caller"), query.get("callee")
    if caller:
        records = [r for r in records if r["callerNumber"] == caller]
    if callee:
        records = [r for r in records if r["calleeNumber"] == callee]
    if recorded == "true":
        records = [r for r in records if r["recordFileName"]]
    if orders != [("date", False)]:
        records = data.sort_records(records, orders)
    return _json(records[page * size : page * size + size])


async def _records_file(request: Request, state: Tele2State) -> Response:
    name = _file_name(request)
    record = state.record_by_file(name)
    seconds = record["conversationDuration"]
    chunks = data.mp3_chunks(state.config.seed, name, seconds)
    headers = {
        "Content-Length": str(data.mp3_size(seconds)),
        "Content-Disposition": f'attachment; filename="{name.rsplit("/", 1)[-1]}.mp3"',
    }
    return StreamingResponse(iterate_in_threadpool(chunks), media_type="audio/mpeg", headers=headers)


async def _records_stt(request: Request, state: Tele2State) -> Response:
    name = _file_name(request)
    record = state.record_by_file(name)
    return _json(data.transcript(state.config.seed, name, record["conversationDuration"]))


# --- managers


def _manager_id(request: Request) -> int:
    raw = request.path_params["id"]
    if not (raw.isascii() and raw.lstrip("-").isdigit()):
        raise bad(f"id: must be an integer, got {raw!r}")
    return int(raw)


def _find_manager(state: Tele2State, manager_id: Any) -> dict[str, Any]:
    for manager in state.managers:
        if manager["id"] == manager_id:
            return manager
    raise Problem(404, f"manager {manager_id!r} not found")


async def _body_json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise bad("body: must be a JSON object (Manager)") from None


def _manager_from(body: Any, state: Tele2State, manager_id: int, keep_ids: set[int]) -> dict[str, Any]:
    """A stored Manager (5.10.1) from a request body; a wrong type or an unknown employee is 400.

    Customer ids are the server's: ``keep_ids`` (the manager's own, on PUT) are kept, others assigned."""
    if not isinstance(body, dict):
        raise bad("body: must be a JSON object (Manager)")

    def typed(source: dict[str, Any], name: str, kind: type, default: Any, where: str = "") -> Any:
        value = source.get(name, default)
        if value is None:
            value = default
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise bad(f"{where}{name}: must be {kind.__name__}, got {value!r}")
        return value

    employee_id = typed(body, "employeeId", int, None)
    if not any(e["employeeId"] == employee_id for e in state.world.employees):
        raise bad(f"employeeId: {employee_id} is not an employee of the company (GET /employees)")
    customers = []
    for index, item in enumerate(typed(body, "customers", list, [])):
        where = f"customers[{index}]."
        if not isinstance(item, dict):
            raise bad(f"customers[{index}]: must be a Customer object")
        number = typed(item, "realNumber", str, None, where)
        customer_id = item.get("id")
        if customer_id not in keep_ids:
            customer_id = state.next_customer_id
            state.next_customer_id += 1
        customers.append({
            "id": customer_id, "name": typed(item, "name", str, "", where), "realNumber": number,
            "companyName": typed(item, "companyName", str, "", where), "info": typed(item, "info", str, "", where),
            "isVip": typed(item, "isVip", bool, False, where),
        })  # fmt: skip
    return {
        "id": manager_id, "employeeId": employee_id, "companyId": typed(body, "companyId", int, data.COMPANY_ID),
        "name": typed(body, "name", str, ""), "customers": customers,
        "handleAllCustomers": typed(body, "handleAllCustomers", bool, False),
    }  # fmt: skip


def _conflict(state: Tele2State, manager: dict[str, Any]) -> str | None:
    others = [m for m in state.managers if m["id"] != manager["id"]]
    if manager["handleAllCustomers"] and any(m["handleAllCustomers"] for m in others):
        return ALL_CUSTOMERS_TAKEN
    taken = {c["realNumber"] for m in others for c in m["customers"]}
    if any(c["realNumber"] in taken for c in manager["customers"]):
        return CUSTOMER_TAKEN
    return None


async def _managers_list(request: Request, state: Tele2State) -> Response:
    return _json(state.managers)


async def _managers_get(request: Request, state: Tele2State) -> Response:
    return _json(_find_manager(state, _manager_id(request)))


async def _managers_create(request: Request, state: Tele2State) -> Response:
    body = await _body_json(request)
    if isinstance(body, dict) and body.get("id") is not None:
        raise bad("id: must be absent when creating a manager (PUT /managers changes one)")
    manager = _manager_from(body, state, state.next_manager_id, set())
    conflict = _conflict(state, manager)
    if conflict is None:
        state.managers.append(manager)
        state.next_manager_id += 1
    return PlainTextResponse(conflict or SUCCESS)


async def _managers_update(request: Request, state: Tele2State) -> Response:
    body = await _body_json(request)
    current = _find_manager(state, body.get("id") if isinstance(body, dict) else None)
    manager = _manager_from(body, state, current["id"], {c["id"] for c in current["customers"]})
    conflict = _conflict(state, manager)
    if conflict is None:
        state.managers[state.managers.index(current)] = manager
    return PlainTextResponse(conflict or SUCCESS)


async def _managers_delete(request: Request, state: Tele2State) -> Response:
    state.managers.remove(_find_manager(state, _manager_id(request)))
    return Response(status_code=200)


# --- blacklist


def _msisdn(value: str) -> str:
    if not data.NUMBER_RE.fullmatch(value):
        raise bad(f"msisdn: must be a number like 7XXXXXXXXXX, got {value[:40]!r}")
    return value


async def _blacklist_add(request: Request, state: Tele2State) -> Response:
    number = _msisdn((await request.body()).decode("utf-8", "replace").strip())
    if any(entry["number"] == number for entry in state.blacklist):
        return PlainTextResponse(DUPLICATE)
    state.blacklist.append({"id": state.next_blacklist_id, "number": number, "sourceType": "MANUAL"})
    state.next_blacklist_id += 1
    return PlainTextResponse(SUCCESS)


async def _blacklist_remove(request: Request, state: Tele2State) -> Response:
    number = _msisdn(request.path_params["msisdn"])
    state.blacklist = [entry for entry in state.blacklist if entry["number"] != number]
    return PlainTextResponse(SUCCESS)


async def _blacklist_clear(request: Request, state: Tele2State) -> Response:
    state.blacklist = []
    return PlainTextResponse(SUCCESS)


async def _blacklist_list(request: Request, state: Tele2State) -> Response:
    return _json(state.blacklist)


# ----------------------------------------------------------------------------- routes


def _guarded(state: Tele2State, name: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Counting and access-token authorization (403) around one method; problems become JSON errors."""

    async def endpoint(request: Request) -> Response:
        state.count(name)
        problem = state.auth.check_access(request.headers.get("authorization"))
        if problem is not None:
            return _error(request, 403, problem)
        state.ensure_seeded()
        try:
            return await handler(request, state)
        except Problem as exc:
            return _error(request, exc.status, str(exc))

    return endpoint


def _control_routes(state: Tele2State) -> list[BaseRoute]:
    async def generate(request: Request) -> Response:
        return _json(state.auth.rotate(time.time()))

    async def expire(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _json({"error": "body must be a JSON object like {'refresh': true}"}, 400)
        state.auth.expire(bool(body.get("refresh")))
        return _json({"expired": ["access", "refresh"] if body.get("refresh") else ["access"]})

    async def stats(request: Request) -> Response:
        auth = state.auth
        world = state.world
        return _json(
            {
                "requests": dict(state.requests),
                "refreshes": auth.refreshes,
                "refused_refreshes": dict(auth.refused),
                "rejected_access": auth.rejected_access,
                "pair_generation": auth.generation,
                "click_to_call": list(state.click_to_call),
                "blacklist": len(state.blacklist),
                "managers": len(state.managers),
                "records": len(world.records) + len(state.finished),
                "issued_tokens": list(auth.issued),
            }
        )

    return [
        Route(f"{CONTROL}/generate", generate, methods=["POST"]),
        Route(f"{CONTROL}/expire", expire, methods=["POST"]),
        Route(f"{CONTROL}/stats", stats, methods=["GET"]),
    ]


def build_routes(config: SandboxConfig) -> list[BaseRoute]:
    """All Tele2 routes of one server (under ``/crm/openapi``); they share one :class:`Tele2State`."""
    state = Tele2State(config)

    async def refresh(request: Request) -> Response:
        state.count("refresh")
        answer = state.auth.use_refresh(request.headers.get("authorization"))
        if isinstance(answer, str):
            return PlainTextResponse(answer, status_code=403)
        return _json(answer)

    methods: list[tuple[str, str, str, Handler]] = [
        ("GET", "/monitoring/calls", "monitoring_calls", _monitoring_calls),
        ("GET", "/monitoring/calls/pending", "monitoring_pending", _monitoring_pending),
        ("GET", "/employees", "employees", _employees),
        ("POST", "/call/outgoing", "click_to_call", _outgoing),
        ("GET", "/statistics/common", "statistics_common", _statistics_common),
        ("GET", "/statistics/journal", "statistics_journal", _statistics_journal),
        ("GET", "/call-records/info", "call_records_info", _records_info),
        ("GET", "/call-records/file", "call_records_file", _records_file),
        ("GET", "/call-records/file/stt", "call_records_stt", _records_stt),
        ("GET", "/managers", "managers_list", _managers_list),
        ("POST", "/managers", "managers_create", _managers_create),
        ("PUT", "/managers", "managers_update", _managers_update),
        ("GET", "/managers/{id}", "managers_get", _managers_get),
        ("DELETE", "/managers/{id}", "managers_delete", _managers_delete),
        ("GET", "/blacklist", "blacklist_list", _blacklist_list),
        ("POST", "/blacklist", "blacklist_add", _blacklist_add),
        ("DELETE", "/blacklist/all", "blacklist_clear", _blacklist_clear),
        ("DELETE", "/blacklist/by-msisdn/{msisdn}", "blacklist_remove", _blacklist_remove),
    ]
    routes: list[BaseRoute] = [Route(f"{PREFIX}/authorization/refresh/token", refresh, methods=["PUT"])]
    # several routes may share a path: starlette picks the one whose method matches (405 if none)
    for method, path, name, handler in methods:
        routes.append(Route(f"{PREFIX}{path}", _guarded(state, name, handler), methods=[method]))
    return routes + _control_routes(state)


__all__ = ["Tele2Auth", "Tele2State", "build_routes"]
