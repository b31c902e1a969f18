"""Emulation of AutoCall.kz, written from ``seeds/autocall-kz.openapi.yaml.txt`` (API v1).

Implemented so far: the account balance and SMS mailings ("bulks"), the part of the API whose writes
cost money and reach people, with what a client needs to make them exactly-once:

* ``GET /api/v1/balance`` — ``{"balance": <number>, "currency": "₸"}``; every mailing created
  reserves its ``max_cost``.
* ``POST /api/v1/bulks`` — create a mailing (``name`` 1..40, ``text`` 1..1600, ``list_id`` 1..5000
  items: list ids or ``{"number": "+7XXXXXXXXXX", "extra", "variables"}``; ``date_from`` Y-m-d,
  ``time_from`` H:i:s, ``client_id`` ≤ 60, ``callback_url`` ≤ 256) → 201 with the ``BulkDetail``;
  422 ``{"message", "errors": {field: [..]}}`` when invalid.
* ``GET /api/v1/bulks`` — Laravel pagination of ``BulkSummary`` (15 per page), filters
  ``client_id``, ``date_from``/``date_to`` (creation day, Y-m-d), ``order`` (asc|desc), ``page``.
* ``GET /api/v1/bulks/{id}`` — ``BulkDetail`` with its messages paginated (``page``).

Every ``/api/v1`` answer needs ``Authorization: Bearer <key>`` (401 ``{"message": "Unauthenticated."}``)
and counts against the documented 300 requests a minute per key (429 ``{"message": "Too Many
Attempts."}`` with ``Retry-After``; Laravel's ``X-RateLimit-Limit``/``-Remaining`` headers on every
answer).  A mailing moves ``moderation`` → ``awaiting`` → ``running`` → ``completed`` as sandbox time
passes (``autocall_step_seconds`` per step); its messages go ``queued`` → ``sent`` → ``delivered``
(a seeded share ``failed``).

Sandbox-only: ``GET /__sandbox__/autocall/stats`` — request counts and how many mailings each
``client_id`` created (tests prove a write happened exactly once).
"""

from __future__ import annotations

import json
import math
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from airflow_provider_telephony.sandbox.config import SandboxConfig

API = "/api/v1"
PER_PAGE = 15
#: the document's Kazakh mobile prefixes (``number`` pattern of list_id objects and flash calls)
NUMBER_RE = re.compile(
    r"^\+7(700|701|702|705|706|707|708|747|771|775|776|777|778|710|711|712|713|714|715|716|717|718"
    r"|721|722|723|724|725|726|727|728|729|736)\d{7}$"
)
GSM_CHARS = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
STATUSES = ("moderation", "awaiting", "running", "completed")
FAILED_SHARE = 0.1


def sms_segments(text: str) -> int:
    """SMS parts of a text: GSM-7 (160, or 153 per part) or, with any other character, UCS-2 (70/67)."""
    single, multi = (160, 153) if all(ch in GSM_CHARS for ch in text) else (70, 67)
    return 1 if len(text) <= single else math.ceil(len(text) / multi)


def _now_text() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


@dataclass
class _RateWindow:
    started: float
    used: int = 0


@dataclass
class Bulk:
    """One SMS mailing and its messages, as the sandbox keeps it."""

    id: int
    body: dict[str, Any]
    numbers: list[dict[str, Any]]
    created: float
    created_at: str
    max_cost: float

    def status(self, step: float, now: float) -> str:
        index = min(int((now - self.created) / step), len(STATUSES) - 1) if step > 0 else len(STATUSES) - 1
        return STATUSES[index]


@dataclass
class AutoCallState:
    """Everything one sandbox server remembers about AutoCall.kz."""

    config: SandboxConfig
    balance: float = 0.0
    bulks: list[Bulk] = field(default_factory=list)
    windows: dict[str, _RateWindow] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    next_message_id: int = 1

    def __post_init__(self) -> None:
        self.balance = self.config.autocall_balance

    def count(self, name: str) -> None:
        self.requests[name] = self.requests.get(name, 0) + 1

    def take_rate(self, key: str) -> tuple[int, float]:
        """Spend one request of the key's fixed one-minute window: (remaining, retry_after or 0)."""
        now = time.monotonic()
        window = self.windows.get(key)
        if window is None or now - window.started >= self.config.rate_window_seconds:
            window = self.windows[key] = _RateWindow(started=now)
        if window.used >= self.config.autocall_rate_limit:
            return 0, window.started + self.config.rate_window_seconds - now
        window.used += 1
        return self.config.autocall_rate_limit - window.used, 0.0

    # --- views -------------------------------------------------------------------------
    def summary(self, bulk: Bulk) -> dict[str, Any]:
        body = bulk.body
        return {
            "id": bulk.id,
            "client_id": body.get("client_id"),
            "name": body["name"],
            "status": bulk.status(self.config.autocall_step_seconds, time.monotonic()),
            "date_from": body.get("date_from") or bulk.created_at[:10],
            "time_from": body.get("time_from") or bulk.created_at[11:19],
            "text": body["text"],
            "segments": sms_segments(body["text"]),
            "recipients": len(bulk.numbers),
            "list_id": [item for item in body["list_id"] if isinstance(item, int)],
            "max_cost": f"{bulk.max_cost:.2f}",
            "created_at": bulk.created_at,
            "updated_at": bulk.created_at,
        }

    def detail(self, bulk: Bulk, page: int, base: str) -> dict[str, Any]:
        status = bulk.status(self.config.autocall_step_seconds, time.monotonic())
        messages = [self._message(bulk, index, status) for index in range(len(bulk.numbers))]
        return {
            **self.summary(bulk),
            "final_cost": f"{bulk.max_cost:.2f}" if status == "completed" else None,
            "comment": None,
            "callback_url": bulk.body.get("callback_url"),
            "messages": paginate(messages, page, f"{base}{API}/bulks/{bulk.id}"),
        }

    def _message(self, bulk: Bulk, index: int, bulk_status: str) -> dict[str, Any]:
        contact = bulk.numbers[index]
        rng = random.Random(f"{self.config.seed}:{bulk.id}:{index}")
        final = "failed" if rng.random() < FAILED_SHARE else "delivered"
        status = {"moderation": "queued", "awaiting": "queued", "running": "sent"}.get(bulk_status, final)
        return {
            "id": bulk.id * 100_000 + index + 1,
            "bulk_id": bulk.id,
            "number": contact["number"],
            "extra": contact.get("extra"),
            "variables": contact.get("variables"),
            "status": status,
            "provider": rng.choice(("Kcell", "Beeline", "Tele2", "Activ", "Altel")),
            "init_time": bulk.created_at if status != "queued" else None,
            "status_time": bulk.created_at,
            "created_at": bulk.created_at,
            "updated_at": bulk.created_at,
        }


def paginate(items: list[Any], page: int, path: str) -> dict[str, Any]:
    """Laravel's ``LengthAwarePaginator`` JSON for ``items`` (``per_page`` 15)."""
    total = len(items)
    last = max(1, math.ceil(total / PER_PAGE))
    start = (page - 1) * PER_PAGE
    chunk = items[start : start + PER_PAGE]

    def url(number: int) -> str:
        return f"{path}?page={number}"

    return {
        "current_page": page,
        "data": chunk,
        "first_page_url": url(1),
        "from": start + 1 if chunk else None,
        "last_page": last,
        "last_page_url": url(last),
        "next_page_url": url(page + 1) if page < last else None,
        "path": path,
        "per_page": PER_PAGE,
        "prev_page_url": url(page - 1) if page > 1 else None,
        "to": start + len(chunk) if chunk else None,
        "total": total,
    }


# ----------------------------------------------------------------------------- HTTP helpers

Handler = Callable[[Request, AutoCallState], Awaitable[Response]]


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(data, status_code=status, headers=headers, media_type="application/json")


def _invalid(errors: dict[str, list[str]]) -> Response:
    return _json({"message": "The given data was invalid.", "errors": errors}, 422)


def _guarded(state: AutoCallState, name: str, handler: Handler) -> Callable[..., Any]:
    """Counting, Bearer authentication and the per-key rate limit around one endpoint."""

    async def endpoint(request: Request) -> Response:
        state.count(name)
        scheme, _, key = (request.headers.get("authorization") or "").strip().partition(" ")
        expected = state.config.autocall_api_key
        if scheme.lower() != "bearer" or not secrets.compare_digest(key.strip(), expected):
            state.count("unauthorized")
            return _json({"message": "Unauthenticated."}, 401)
        limit = state.config.autocall_rate_limit
        remaining, retry_after = state.take_rate(key.strip())
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining)}
        if retry_after > 0:
            state.count("rate_limited")
            headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
            return _json({"message": "Too Many Attempts."}, 429, headers)
        response = await handler(request, state)
        response.headers.update(headers)
        return response

    return endpoint


def _page(request: Request) -> int | Response:
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        return _invalid({"page": ["The page must be an integer of at least 1."]})
    return int(raw)


def _check_text(data: dict[str, Any], name: str, low: int, high: int, errors: dict[str, list[str]]) -> None:
    value = data.get(name)
    if not isinstance(value, str):
        errors[name] = [f"The {name} field must be a string."]
    elif not low <= len(value) <= high:
        errors[name] = [f"The {name} field must be between {low} and {high} characters."]


def _check_optional(
    data: dict[str, Any], name: str, pattern: str | None, high: int, errors: dict[str, list[str]]
) -> None:
    value = data.get(name)
    if value is None:
        return
    if not isinstance(value, str) or len(value) > high:
        errors[name] = [f"The {name} field must be a string of at most {high} characters."]
    elif pattern is not None and not re.fullmatch(pattern, value):
        errors[name] = [f"The {name} field format is invalid."]


def _bulk_errors(data: Any) -> tuple[dict[str, list[str]], list[dict[str, Any]]]:
    """Validate a ``POST /bulks`` body; return (errors, inline contacts)."""
    if not isinstance(data, dict):
        return {"body": ["The request body must be a JSON object."]}, []
    errors: dict[str, list[str]] = {}
    _check_text(data, "name", 1, 40, errors)
    _check_text(data, "text", 1, 1600, errors)
    _check_optional(data, "date_from", r"\d{4}-\d{2}-\d{2}", 10, errors)
    _check_optional(data, "time_from", r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d", 8, errors)
    _check_optional(data, "client_id", None, 60, errors)
    _check_optional(data, "callback_url", None, 256, errors)
    if "date_from" not in errors and isinstance(data.get("date_from"), str):
        try:
            date.fromisoformat(data["date_from"])
        except ValueError:
            errors["date_from"] = ["The date_from is not a valid date."]
    items = data.get("list_id")
    contacts: list[dict[str, Any]] = []
    if not isinstance(items, list) or not 1 <= len(items) <= 5000:
        errors["list_id"] = ["The list_id must be an array of 1 to 5000 items."]
        return errors, contacts
    for index, item in enumerate(items):
        key = f"list_id.{index}"
        if isinstance(item, int) and not isinstance(item, bool):
            errors[key] = [f"The selected {key} is invalid."]  # no contact lists in this sandbox yet
        elif isinstance(item, dict) and isinstance(item.get("number"), str):
            if not NUMBER_RE.match(item["number"]):
                errors[f"{key}.number"] = ["The number format is invalid (+7 and a Kazakh mobile number)."]
            elif item.get("extra") is not None and (
                not isinstance(item["extra"], str) or len(item["extra"]) > 60
            ):
                errors[f"{key}.extra"] = ["The extra may not be greater than 60 characters."]
            else:
                contacts.append(item)
        else:
            errors[key] = [f"The {key} must be a list id or an object with a number."]
    return errors, contacts


# ----------------------------------------------------------------------------- endpoints


async def _balance(request: Request, state: AutoCallState) -> Response:
    return _json({"balance": round(state.balance, 2), "currency": "₸"})


async def _create_bulk(request: Request, state: AutoCallState) -> Response:
    try:
        data = json.loads(await request.body() or b"null")
    except ValueError:
        return _invalid({"body": ["The request body is not valid JSON."]})
    errors, contacts = _bulk_errors(data)
    if errors:
        return _invalid(errors)
    cost = sms_segments(data["text"]) * state.config.autocall_sms_price * len(contacts)
    if cost > state.balance:
        return _json({"message": "Недостаточно средств на балансе."}, 402)
    state.balance -= cost
    bulk = Bulk(
        id=len(state.bulks) + 1,
        body=data,
        numbers=contacts,
        created=time.monotonic(),
        created_at=_now_text(),
        max_cost=cost,
    )
    state.bulks.append(bulk)
    return _json(state.detail(bulk, 1, str(request.base_url).rstrip("/")), 201)


async def _list_bulks(request: Request, state: AutoCallState) -> Response:
    page = _page(request)
    if isinstance(page, Response):
        return page
    query = request.query_params
    bulks = list(state.bulks)
    if (client_id := query.get("client_id")) is not None:
        bulks = [b for b in bulks if b.body.get("client_id") == client_id]
    if (day_from := query.get("date_from")) is not None:
        bulks = [b for b in bulks if b.created_at[:10] >= day_from]
    if (day_to := query.get("date_to")) is not None:
        bulks = [b for b in bulks if b.created_at[:10] <= day_to]
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        return _invalid({"order": ["The selected order is invalid."]})
    bulks.sort(key=lambda b: b.id, reverse=order == "desc")
    base = str(request.base_url).rstrip("/")
    return _json(paginate([state.summary(b) for b in bulks], page, f"{base}{API}/bulks"))


async def _show_bulk(request: Request, state: AutoCallState) -> Response:
    page = _page(request)
    if isinstance(page, Response):
        return page
    raw = request.path_params["id"]
    bulk = next((b for b in state.bulks if str(b.id) == raw), None)
    if bulk is None:
        return _json({"message": "Not found."}, 404)
    return _json(state.detail(bulk, page, str(request.base_url).rstrip("/")))


def build_routes(config: SandboxConfig) -> list[BaseRoute]:
    """All AutoCall.kz routes of one server; they share one :class:`AutoCallState`."""
    state = AutoCallState(config)

    async def stats(request: Request) -> Response:
        created: dict[str, int] = {}
        for bulk in state.bulks:
            key = str(bulk.body.get("client_id"))
            created[key] = created.get(key, 0) + 1
        return JSONResponse({"requests": dict(state.requests), "bulks_by_client_id": created})

    async def bulks(request: Request) -> Response:
        handler = _create_bulk if request.method == "POST" else _list_bulks
        return await _guarded(state, f"{request.method} bulks", handler)(request)

    return [
        Route(f"{API}/balance", _guarded(state, "balance", _balance), methods=["GET"]),
        Route(f"{API}/bulks", bulks, methods=["GET", "POST"]),
        Route(f"{API}/bulks/{{id}}", _guarded(state, "GET bulks/{id}", _show_bulk), methods=["GET"]),
        Route("/__sandbox__/autocall/stats", stats, methods=["GET"]),
    ]
