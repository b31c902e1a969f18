"""AutoCall.kz handlers: autocalls (campaigns), their calls and recordings, SMS mailings and messages."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_telephony.sandbox import autocall_data as d
from airflow_provider_telephony.sandbox import autocall_rules as rules
from airflow_provider_telephony.sandbox import autocall_views as v
from airflow_provider_telephony.sandbox.autocall_content import (
    NO_FUNDS,
    denial,
    filtered,
    new_list,
    new_sound,
    page_number,
    sound_cost,
)
from airflow_provider_telephony.sandbox.autocall_state import AutoCallState, Campaign

SPAM = "Обзвон отклонён из-за подозрения в спаме: слишком много номеров с короткой аудиозаписью."
NOT_EDITABLE = "Редактировать можно только в статусах awaiting и moderation."
RUNNING = "Нельзя удалить в статусе running."
NOT_FINISHED = "Обзвон ещё не завершён."


def snapshot(state: AutoCallState, list_ids: list[int], inline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The numbers of a campaign, copied at creation: every contact of the lists, then the inline ones."""
    people: list[dict[str, Any]] = []
    for list_id in list_ids:
        for c in state.lists[list_id].contacts:
            people.append(
                {
                    "number": c.number,
                    "extra": c.extra,
                    "variables": c.variables,
                    "contact_id": c.id,
                    "list_id": c.list_id,
                }
            )
    return people + [{**row, "contact_id": None, "list_id": None} for row in inline]


def sms_part(state: AutoCallState, text: str | None, people: list[dict[str, Any]]) -> float:
    """Most one SMS of ``text`` costs, by the document's worst case (longest value of each variable)."""
    if not text:
        return 0.0
    worst = d.worst_case_text(text, (p.get("variables") for p in people))
    return d.sms_segments(worst) * state.prices["sms_price"]


# ----------------------------------------------------------------------------- autocalls


def plan_autocall(state: AutoCallState, body: dict[str, Any]) -> dict[str, Any]:
    """Numbers, audio seconds, synthesis cost and ``max_cost`` of a valid ``AutocallCreate``."""
    people = snapshot(state, body["lists"], body["inline"])
    seconds, synthesis = 0, 0.0
    for item in body["audio"] if body["type"] == "regular" else []:
        if isinstance(item, int):
            seconds += state.sounds[item].duration
        else:
            length, cost = sound_cost(state, item)
            seconds, synthesis = seconds + length, synthesis + cost
    prices = state.prices
    if body["type"] == "regular":
        per_call = seconds * (prices["call_price"] + (prices["recording_price"] if body["record"] else 0))
    else:
        per_call = 60 * (prices["call_price"] + (prices["recording_price"] if body["record"] else 0))
        per_call += prices["speech_price"]
    sms = max(
        sms_part(state, body["text"] if body["sms"] else None, people),
        sms_part(state, body["text_unanswered"] if body["sms_unanswered"] else None, people),
    )
    limit = state.config
    spam = body["type"] == "regular" and len(people) >= limit.autocall_spam_min_numbers
    spam = spam and seconds < limit.autocall_spam_max_audio_seconds
    return {
        "people": people,
        "seconds": seconds,
        "synthesis": synthesis,
        "max_cost": round(len(people) * (per_call + sms), 2),
        "spam": spam,
    }


async def _checked_autocall(
    request: Request, state: AutoCallState
) -> tuple[dict[str, Any], dict[str, Any]] | Response:
    check, body = rules.autocall_create(state, await v.read_body(request))
    if check.errors:
        return v.invalid(check.errors)
    plan = plan_autocall(state, body)
    if plan["spam"]:
        return v.invalid({"audio_id": [SPAM]}, SPAM, 403)
    return body, plan


async def post_autocalls(request: Request, state: AutoCallState) -> Response:
    checked = await _checked_autocall(request, state)
    if isinstance(checked, Response):
        return checked
    body, plan = checked
    if plan["max_cost"] + plan["synthesis"] > state.balance:
        return v.invalid({"balance": [NO_FUNDS]}, NO_FUNDS)
    now = time.monotonic()
    background = len(plan["people"]) > d.INLINE_MAX
    ready = now + state.config.autocall_background_seconds if background else now
    audio_ids = [
        item if isinstance(item, int) else new_sound(state, body["name"], None, item).id
        for item in (body["audio"] if body["type"] == "regular" else [])
    ]
    list_ids = list(body["lists"])
    if body["inline"]:
        auto = new_list(state, body["name"], None, body["inline"])
        auto.importing_until = ready if background else 0.0
        list_ids.append(auto.id)
        first = len(plan["people"]) - len(body["inline"])
        for person, contact in zip(plan["people"][first:], auto.contacts, strict=True):
            person.update(contact_id=contact.id, list_id=auto.id)
    moment = d.stamp(d.now_local())
    stored = {k: body[k] for k in body if k not in ("audio", "lists", "inline")}
    stored["date_from"] = body["date_from"] or moment[:10]
    timeline = state.timeline(state.config.autocall_step_seconds, denial(body["name"]))
    timeline.start = ready
    timeline.wall += timedelta(seconds=ready - now)
    campaign = Campaign(
        id=state.next_id("autocall"), kind=body["type"], body=stored, contacts=plan["people"], list_ids=list_ids,
        max_cost=plan["max_cost"], timeline=timeline, created_at=moment, updated_at=moment,
        item_base=state.next_id("call", len(plan["people"])), visible_from=ready, audio_ids=audio_ids,
        audio_seconds=plan["seconds"],
    )  # fmt: skip
    state.autocalls[campaign.id] = campaign
    state.reserve(("autocall", campaign.id), campaign.max_cost)
    state.record_creation("autocalls", body.get("client_id"))
    if background:
        return v.answer({"message": "Обзвон принят в обработку."}, 202)
    return v.answer(v.autocall_detail(state, request, campaign, 1), 201)


async def calculate_autocall(request: Request, state: AutoCallState) -> Response:
    checked = await _checked_autocall(request, state)
    if isinstance(checked, Response):
        return checked
    return v.answer({"max_cost": checked[1]["max_cost"]}, 201)


def _visible(state: AutoCallState, items: dict[int, Campaign], request: Request) -> Campaign | None:
    item = items.get(v.path_id(request) or 0)
    return item if item is not None and item.visible_from <= time.monotonic() else None


async def get_autocalls(request: Request, state: AutoCallState) -> Response:
    query = dict(request.query_params)
    items = filtered(
        state.visible(state.autocalls), query, lambda x: x.body.get("client_id"), lambda x: x.created_at
    )
    rows = [v.autocall_summary(state, x) for x in items]
    return v.answer(v.page_of(state, request, rows, page_number(request), f"{d.API}/autocalls"))


async def get_autocall(request: Request, state: AutoCallState) -> Response:
    item = _visible(state, state.autocalls, request)
    return (
        v.not_found()
        if item is None
        else v.answer(v.autocall_detail(state, request, item, page_number(request)))
    )


async def put_autocall(request: Request, state: AutoCallState) -> Response:
    item = _visible(state, state.autocalls, request)
    if item is None:
        return v.not_found()
    keys = ("name", "time_from", "time_to", "tries_interval", "date_from", "client_id", "callback_url")
    return await _edit(request, state, item, keys) or v.answer(v.autocall_detail(state, request, item, 1))


async def _edit(
    request: Request, state: AutoCallState, item: Campaign, keys: tuple[str, ...]
) -> Response | None:
    check = rules.Check()
    changes = rules.schedule(check, await v.read_body(request), keys)
    if check.errors:
        return v.invalid(check.errors)
    if state.status(item) not in ("awaiting", "moderation"):
        return v.invalid({"status": [NOT_EDITABLE]})
    item.body.update(changes)
    item.updated_at = d.stamp(d.now_local())
    return None


async def _delete(
    state: AutoCallState, items: dict[int, Campaign], item: Campaign | None, kind: str
) -> Response:
    if item is None:
        return v.not_found()
    status = state.status(item)
    if status == "running":
        return v.invalid({"status": [RUNNING]})
    if status not in d.FINAL_CAMPAIGN:
        state.release((kind, item.id))
    del items[item.id]
    return v.no_content()


async def delete_autocall(request: Request, state: AutoCallState) -> Response:
    return await _delete(state, state.autocalls, _visible(state, state.autocalls, request), "autocall")


async def relaunch(request: Request, state: AutoCallState) -> Response:
    """A new list of the numbers a completed autocall did not reach (status other than ``success``)."""
    item = _visible(state, state.autocalls, request)
    if item is None:
        return v.not_found()
    if state.status(item) != "completed":
        return v.invalid({"id": [NOT_FINISHED]}, NOT_FINISHED, 403)
    missed = [
        {"number": p["number"], "extra": p.get("extra"), "variables": p.get("variables")}
        for p, outcome in zip(item.contacts, state.outcomes(item), strict=True)
        if outcome["status"] != "success"
    ]
    created = new_list(state, item.body["name"], None, missed)
    state.record_creation("relaunch_lists", None)
    shown = v.contact_list(state, created)
    keys = ("id", "name", "created_at", "updated_at", "used", "contacts_count", "importing")
    return v.answer({k: shown[k] for k in keys}, 201)


def find_item(state: AutoCallState, items: dict[int, Campaign], ident: int) -> tuple[Campaign, int] | None:
    """The campaign whose call or message has the id ``ident``, and its index there."""
    for item in state.visible(items):
        if item.item_base <= ident < item.item_base + len(item.contacts):
            return item, ident - item.item_base
    return None


async def get_call(request: Request, state: AutoCallState) -> Response:
    found = find_item(state, state.autocalls, v.path_id(request) or 0)
    if found is None:
        return v.not_found()
    item, index = found
    return v.answer(v.call(state, item, index, state.resolved(item)))


async def get_recording(request: Request, state: AutoCallState) -> Response:
    """The talk of an answered call of an autocall created with ``record: true`` (a WAV file)."""
    found = find_item(state, state.autocalls, v.path_id(request) or 0)
    if found is None:
        return v.not_found()
    item, index = found
    if not item.body["record"] or index >= state.resolved(item):
        return v.not_found()
    seconds = state.outcomes(item)[index]["duration"]
    if seconds <= 0:
        return v.not_found()
    name = f"{item.item_base + index}.wav"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(
        d.wav_bytes(seconds, f"{state.config.seed}:{name}"), media_type="audio/wav", headers=headers
    )


# ----------------------------------------------------------------------------- bulks


def plan_bulk(state: AutoCallState, body: dict[str, Any]) -> tuple[list[dict[str, Any]], int, float]:
    people = snapshot(state, body["lists"], body["inline"])
    worst = d.worst_case_text(body["text"], (p.get("variables") for p in people))
    segments = d.sms_segments(worst)
    return people, segments, round(segments * state.prices["sms_price"] * len(people), 2)


async def post_bulks(request: Request, state: AutoCallState) -> Response:
    check, body = rules.bulk_create(state, await v.read_body(request), d.INLINE_MAX)
    if check.errors:
        return v.invalid(check.errors)
    people, segments, cost = plan_bulk(state, body)
    if cost > state.balance:
        return v.invalid({"balance": [NO_FUNDS]}, NO_FUNDS)
    moment = d.stamp(d.now_local())
    stored = {k: body[k] for k in body if k not in ("lists", "inline")}
    stored.update(
        segments=segments,
        date_from=body["date_from"] or moment[:10],
        time_from=body["time_from"] or moment[11:],
    )
    campaign = Campaign(
        id=state.next_id("bulk"), kind="bulk", body=stored, contacts=people, list_ids=list(body["lists"]),
        max_cost=cost, timeline=state.timeline(state.config.autocall_step_seconds, denial(body["name"], body["text"])),
        created_at=moment, updated_at=moment, item_base=state.next_id("message", len(people)),
    )  # fmt: skip
    state.bulks[campaign.id] = campaign
    state.reserve(("bulk", campaign.id), cost)
    state.record_creation("bulks", body.get("client_id"))
    return v.answer(v.bulk_detail(state, request, campaign, 1), 201)


async def calculate_bulk(request: Request, state: AutoCallState) -> Response:
    check, body = rules.bulk_create(state, await v.read_body(request), d.BULK_CALCULATE_MAX)
    if check.errors:
        return v.invalid(check.errors)
    return v.answer({"max_cost": plan_bulk(state, body)[2]}, 201)


async def get_bulks(request: Request, state: AutoCallState) -> Response:
    query = dict(request.query_params)
    items = filtered(
        list(state.bulks.values()), query, lambda x: x.body.get("client_id"), lambda x: x.created_at
    )
    rows = [v.bulk_summary(state, x) for x in items]
    return v.answer(v.page_of(state, request, rows, page_number(request), f"{d.API}/bulks"))


async def get_bulk(request: Request, state: AutoCallState) -> Response:
    item = _visible(state, state.bulks, request)
    return (
        v.not_found() if item is None else v.answer(v.bulk_detail(state, request, item, page_number(request)))
    )


async def put_bulk(request: Request, state: AutoCallState) -> Response:
    item = _visible(state, state.bulks, request)
    if item is None:
        return v.not_found()
    keys = ("name", "time_from", "date_from", "client_id", "callback_url")
    return await _edit(request, state, item, keys) or v.answer(v.bulk_detail(state, request, item, 1))


async def delete_bulk(request: Request, state: AutoCallState) -> Response:
    return await _delete(state, state.bulks, _visible(state, state.bulks, request), "bulk")


async def get_message(request: Request, state: AutoCallState) -> Response:
    found = find_item(state, state.bulks, v.path_id(request) or 0)
    return v.not_found() if found is None else v.answer(v.message_row(state, *found))
