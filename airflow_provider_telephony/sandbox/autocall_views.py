"""JSON shapes of the AutoCall.kz emulation: the document's schemas, built from :mod:`.autocall_state`.

Also the small HTTP helpers every handler module shares (JSON answers, the Laravel 422 and 404 bodies,
reading a body the way Laravel's default middleware does, Laravel's ``LengthAwarePaginator``).
"""

from __future__ import annotations

import json
import math
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_telephony.sandbox import autocall_data as d
from airflow_provider_telephony.sandbox.autocall_state import (
    AutoCallState,
    Campaign,
    Contact,
    ContactList,
    Scenario,
    Sound,
)

INVALID = "The given data was invalid."


# ----------------------------------------------------------------------------- HTTP helpers


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(data, status_code=status, headers=headers, media_type="application/json")


def invalid(errors: dict[str, list[str]], message: str = INVALID, status: int = 422) -> Response:
    return answer({"message": message, "errors": errors}, status)


def message(text: str, status: int) -> Response:
    return answer({"message": text}, status)


def not_found() -> Response:
    return message("Not found.", 404)


def no_content() -> Response:
    return Response(status_code=204)


def base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _clean(value: Any) -> Any:
    """Laravel's ``TrimStrings`` + ``ConvertEmptyStringsToNull``, applied to the whole input."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    return value


async def read_body(request: Request) -> dict[str, Any]:
    """The JSON body as Laravel sees it: malformed JSON or a non-object is an empty input."""
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return _clean(data) if isinstance(data, dict) else {}


def path_id(request: Request, name: str = "id") -> int | None:
    raw = request.path_params[name]
    return int(raw) if raw.isdigit() else None


def paginate(items: list[Any], page: int, path: str, query: dict[str, str], per_page: int) -> dict[str, Any]:
    """Laravel's ``LengthAwarePaginator`` JSON; page URLs are absolute and keep the other filters."""
    total = len(items)
    last = max(1, math.ceil(total / per_page))
    start = (page - 1) * per_page
    chunk = items[start : start + per_page]
    kept = {k: v for k, v in query.items() if k != "page"}

    def url(number: int) -> str:
        return f"{path}?{urlencode({**kept, 'page': number})}"

    return {
        "current_page": page,
        "data": chunk,
        "first_page_url": url(1),
        "from": start + 1 if chunk else None,
        "last_page": last,
        "last_page_url": url(last),
        "next_page_url": url(page + 1) if page < last else None,
        "path": path,
        "per_page": per_page,
        "prev_page_url": url(page - 1) if page > 1 else None,
        "to": start + len(chunk) if chunk else None,
        "total": total,
    }


def page_of(state: AutoCallState, request: Request, items: list[Any], page: int, path: str) -> dict[str, Any]:
    return paginate(
        items, page, f"{base(request)}{path}", dict(request.query_params), state.config.autocall_per_page
    )


# ----------------------------------------------------------------------------- lists and contacts


def contact_list(state: AutoCallState, item: ContactList) -> dict[str, Any]:
    return {
        "id": item.id,
        "client_id": item.client_id,
        "name": item.name,
        "importing": item.importing_until > time.monotonic(),
        "nonexistent": item.nonexistent,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "contacts_count": len(item.contacts),
        "used": state.used(item.id),
    }


def contact(item: Contact) -> dict[str, Any]:
    return {
        "id": item.id,
        "list_id": item.list_id,
        "number": item.number,
        "extra": item.extra,
        "variables": item.variables,
        "created_at": item.created_at,
        "updated_at": item.created_at,
    }


# ----------------------------------------------------------------------------- sounds and scenarios


def sound(state: AutoCallState, request: Request, item: Sound) -> dict[str, Any]:
    done = item.timeline.steps(time.monotonic()) >= 1
    approved = done and item.timeline.deny is None
    return {
        "id": item.id,
        "client_id": item.client_id,
        "name": item.name,
        "duration": item.duration,
        "confirmed": approved,
        "comment": item.timeline.deny if done else None,
        "confirmed_at": d.stamp(item.timeline.at(1)) if approved else None,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "playback_url": f"{base(request)}/storage/sounds/{item.file}",
        "used": sum(item.id in c.audio_ids for c in state.autocalls.values()),
    }


def scenario(state: AutoCallState, item: Scenario, detail: bool) -> dict[str, Any]:
    done = item.timeline.steps(time.monotonic()) >= 1
    body = {
        "id": item.id,
        "client_id": item.client_id,
        "name": item.name,
        "max_cost": d.money(scenario_cost(state, item)),
        "comment": item.timeline.deny if done else None,
        "confirmed_at": d.stamp(item.timeline.at(1)) if done and item.timeline.deny is None else None,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "used": sum(c.body.get("scenario_id") == item.id for c in state.autocalls.values()),
    }
    return {**body, "data": item.data} if detail else body


def scenario_cost(state: AutoCallState, item: Scenario) -> float:
    """Most one call of the scenario costs: a minute of talk and one speech recognition."""
    return 60 * state.prices["call_price"] + state.prices["speech_price"]


# ----------------------------------------------------------------------------- campaigns


def _costs(campaign: Campaign) -> dict[str, Any]:
    final = campaign.final_cost
    return {"max_cost": d.money(campaign.max_cost), "final_cost": None if final is None else d.money(final)}


def autocall_summary(state: AutoCallState, item: Campaign) -> dict[str, Any]:
    body = item.body
    return {
        "id": item.id,
        "client_id": body.get("client_id"),
        "name": body["name"],
        "date_from": body["date_from"],
        "time_from": body["time_from"],
        "time_to": body["time_to"],
        "max_tries": body["max_tries"],
        "tries_interval": body["tries_interval"],
        "type": item.kind,
        "status": state.status(item),
        **_costs(item),
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def call(state: AutoCallState, item: Campaign, index: int, resolved: int) -> dict[str, Any]:
    person = item.contacts[index]
    row: dict[str, Any] = {
        "id": item.item_base + index,
        "autocall_id": item.id,
        "number": person["number"],
        "extra": person.get("extra"),
        "lock": state.status(item) == "running" and resolved <= index < resolved + 3,
        "tries": 0,
        "date_tries": None,
        "status_tries": None,
        "last_try_at": None,
        "duration": 0,
        "r_duration": 0,
        "status": "in_queue",
        "data": None,
        "variables": person.get("variables"),
        "created_at": item.created_at,
        "updated_at": item.created_at,
    }
    if index >= resolved:
        return row
    outcome = state.outcomes(item)[index]
    when = item.timeline.at(2 + index / max(1, len(item.contacts)))
    tries = [
        d.stamp(when + timedelta(seconds=k * item.body["tries_interval"])) for k in range(outcome["tries"])
    ]
    row.update(
        tries=outcome["tries"],
        date_tries=tries,
        status_tries=outcome["status_tries"],
        last_try_at=tries[-1],
        duration=outcome["duration"],
        r_duration=outcome["r_duration"],
        status=outcome["status"],
        data=outcome["data"],
        updated_at=tries[-1],
    )
    return row


def autocall_detail(state: AutoCallState, request: Request, item: Campaign, page: int) -> dict[str, Any]:
    body = item.body
    total = len(item.contacts)
    resolved = state.resolved(item)
    outcomes = state.outcomes(item)[:resolved]
    counts = {name: 0 for name, _ in d.CALL_OUTCOMES}
    for outcome in outcomes:
        counts[outcome["status"]] += 1
    status = state.status(item)
    per_page = state.config.autocall_per_page
    first = (page - 1) * per_page
    rows = [call(state, item, i, resolved) for i in range(first, min(total, first + per_page))]
    calls = paginate(list(range(total)), page, f"{base(request)}{d.API}/autocalls/{item.id}", {}, per_page)
    calls["data"] = rows
    return {
        **autocall_summary(state, item),
        "sms": body["sms"],
        "sms_unanswered": body["sms_unanswered"],
        "text": body.get("text"),
        "text_unanswered": body.get("text_unanswered"),
        "audio_id": list(item.audio_ids) if item.kind == "regular" else None,
        "scenario_id": body.get("scenario_id") if item.kind == "interactive" else None,
        "processed": resolved,
        "speeches": sum(o["data"] is not None for o in outcomes),
        "lifetime": body["lifetime"],
        "record": body["record"],
        "comment": item.timeline.deny if status == "denied" else None,
        "callback_url": body.get("callback_url"),
        "caller_id": body.get("caller_id"),
        "finished_at": d.stamp(item.timeline.at(3)) if status == "completed" else None,
        "calls_count": total,
        "processed_percentage": round(100 * resolved / total, 2) if total else 0,
        "counters": {
            "success_percentage": round(100 * counts["success"] / total, 2) if total else 0,
            **counts,
            "tries": sum(o["tries"] for o in outcomes),
            "duration": sum(o["duration"] for o in outcomes),
            "total": total,
        },
        "calls": calls,
    }


def bulk_summary(state: AutoCallState, item: Campaign) -> dict[str, Any]:
    body = item.body
    return {
        "id": item.id,
        "client_id": body.get("client_id"),
        "name": body["name"],
        "status": state.status(item),
        "date_from": body["date_from"],
        "time_from": body["time_from"],
        "text": body["text"],
        "segments": body["segments"],
        "recipients": len(item.contacts),
        "list_id": list(item.list_ids),
        **_costs(item),
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def message_row(state: AutoCallState, item: Campaign, index: int) -> dict[str, Any]:
    person = item.contacts[index]
    status = state.status(item)
    final = state.outcomes(item)[index]["status"]
    shown = {"moderation": "queued", "awaiting": "queued", "running": "sent", "denied": "disabled"}.get(
        status, final
    )
    sent = shown not in ("queued", "disabled")
    return {
        "id": item.item_base + index,
        "bulk_id": item.id,
        "number": person["number"],
        "extra": person.get("extra"),
        "variables": person.get("variables"),
        "status": shown,
        "provider": d.provider_for(person["number"]),
        "init_time": d.stamp(item.timeline.at(2)) if sent else None,
        "status_time": d.stamp(item.timeline.at({"sent": 2, "queued": 0}.get(shown, 3))),
        "created_at": item.created_at,
        "updated_at": item.created_at,
    }


def bulk_detail(state: AutoCallState, request: Request, item: Campaign, page: int) -> dict[str, Any]:
    per_page = state.config.autocall_per_page
    first = (page - 1) * per_page
    total = len(item.contacts)
    messages = paginate(list(range(total)), page, f"{base(request)}{d.API}/bulks/{item.id}", {}, per_page)
    messages["data"] = [message_row(state, item, i) for i in range(first, min(total, first + per_page))]
    return {
        **bulk_summary(state, item),
        "comment": item.timeline.deny if state.status(item) == "denied" else None,
        "callback_url": item.body.get("callback_url"),
        "messages": messages,
    }
