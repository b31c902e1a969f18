"""AutoCall.kz handlers: contact lists, contacts, sounds (with ``listen``), scenarios, public sound files."""

from __future__ import annotations

import hashlib
import random
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_telephony.sandbox import autocall_data as d
from airflow_provider_telephony.sandbox import autocall_rules as rules
from airflow_provider_telephony.sandbox import autocall_views as v
from airflow_provider_telephony.sandbox.autocall_state import (
    AutoCallState,
    Contact,
    ContactList,
    Scenario,
    Sound,
)

NO_FUNDS = "Недостаточно средств на балансе."
IN_USE = "Используется в обзвоне или рассылке, которые ещё не завершены."


def denial(*texts: Any) -> str | None:
    """The moderators refuse anything whose name (or text) contains :data:`~.autocall_data.DENY_MARKER`."""
    marked = any(isinstance(text, str) and d.DENY_MARKER in text.lower() for text in texts)
    return d.DENY_COMMENT if marked else None


# ----------------------------------------------------------------------------- creation helpers


def new_list(
    state: AutoCallState, name: str, client_id: str | None, numbers: list[dict[str, Any]]
) -> ContactList:
    moment = d.stamp(d.now_local())
    item = ContactList(
        id=state.next_id("list"), name=name, client_id=client_id, created_at=moment, updated_at=moment
    )
    state.lists[item.id] = item
    add_contacts(state, item, numbers)
    return item


def add_contacts(state: AutoCallState, item: ContactList, numbers: list[dict[str, Any]]) -> None:
    moment = d.stamp(d.now_local())
    first = state.next_id("contact", len(numbers)) if numbers else 0
    for offset, row in enumerate(numbers):
        person = Contact(
            first + offset, item.id, row["number"], row.get("extra"), row.get("variables"), moment
        )
        item.contacts.append(person)
        state.contacts[person.id] = person
    item.updated_at = moment


def sound_cost(state: AutoCallState, params: dict[str, Any]) -> tuple[int, float]:
    """(seconds, tenge) of one new sound: synthesis costs ``synthesis_price`` a second, uploads nothing."""
    if params.get("type") == "synthesis":
        seconds = d.synthesis_seconds(params["text"], params["speed"])
        return seconds, seconds * state.prices["synthesis_price"]
    return d.audio_seconds(params["audio"], params["format"]), 0.0


def new_sound(state: AutoCallState, name: str, client_id: str | None, params: dict[str, Any]) -> Sound:
    seconds, cost = sound_cost(state, params)
    ident = state.next_id("sound")
    ext = params.get("format", "wav")
    file = hashlib.sha1(f"{state.config.seed}:sound:{ident}".encode()).hexdigest()[:16] + f".{ext}"
    moment = d.stamp(d.now_local())
    deny = denial(name, params.get("text"))
    item = Sound(ident, name, client_id, seconds, file, params.get("audio"),
                 state.timeline(state.config.autocall_moderation_seconds, deny), moment, moment)  # fmt: skip
    state.sounds[ident] = item
    if cost:
        state.charge(cost, f"Синтез речи «{name}»")
    return item


def new_scenario(state: AutoCallState, name: str, client_id: str | None, data: Any) -> Scenario:
    moment = d.stamp(d.now_local())
    timeline = state.timeline(state.config.autocall_moderation_seconds, denial(name))
    item = Scenario(state.next_id("scenario"), name, client_id, data, timeline, moment, moment)
    state.scenarios[item.id] = item
    return item


# ----------------------------------------------------------------------------- lists


async def get_lists(request: Request, state: AutoCallState) -> Response:
    query = dict(request.query_params)
    check = rules.list_filters(query)
    if check.errors:
        return v.invalid(check.errors)
    items = filtered(list(state.lists.values()), query, lambda x: x.client_id, lambda x: x.created_at)
    if query.get("client_id") and not items:
        return v.not_found()
    rows = [v.contact_list(state, x) for x in items]
    return v.answer(v.page_of(state, request, rows, page_number(request), f"{d.API}/lists"))


def filtered(items: list[Any], query: dict[str, str], client_id: Any, created: Any) -> list[Any]:
    """The document's list filters: ``client_id``, ``date_from``/``date_to`` (creation day), ``order``."""
    if query.get("client_id"):
        items = [x for x in items if client_id(x) == query["client_id"]]
    if rules.valid_format(query.get("date_from", ""), "Y-m-d"):
        items = [x for x in items if created(x)[:10] >= query["date_from"]]
    if rules.valid_format(query.get("date_to", ""), "Y-m-d"):
        items = [x for x in items if created(x)[:10] <= query["date_to"]]
    return sorted(items, key=lambda x: x.id, reverse=query.get("order") != "asc")


def page_number(request: Request) -> int:
    """Laravel's paginator: a ``page`` that is not an integer of at least 1 means page 1."""
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and int(raw) >= 1 else 1


async def post_lists(request: Request, state: AutoCallState) -> Response:
    check, body = rules.list_create(await v.read_body(request))
    if check.errors:
        return v.invalid(check.errors)
    item = new_list(state, body["name"], body["client_id"], body["numbers"])
    state.record_creation("lists", body["client_id"])
    return v.answer(v.contact_list(state, item), 201)


async def get_list(request: Request, state: AutoCallState) -> Response:
    item = state.lists.get(v.path_id(request) or 0)
    if item is None:
        return v.not_found()
    rows = [v.contact(c) for c in item.contacts]
    contacts = v.page_of(state, request, rows, page_number(request), f"{d.API}/lists/{item.id}")
    return v.answer({**v.contact_list(state, item), "contacts": contacts})


async def put_list(request: Request, state: AutoCallState) -> Response:
    item = state.lists.get(v.path_id(request) or 0)
    if item is None:
        return v.not_found()
    check, body = rules.list_update(await v.read_body(request))
    if check.errors:
        return v.invalid(check.errors)
    for key, value in body.items():
        setattr(item, key, value)
    item.updated_at = d.stamp(d.now_local())
    return v.answer(v.contact_list(state, item))


async def delete_list(request: Request, state: AutoCallState) -> Response:
    item = state.lists.get(v.path_id(request) or 0)
    if item is None:
        return v.not_found()
    if state.in_use(list_id=item.id):
        return v.invalid({"id": [IN_USE]})
    for person in item.contacts:
        state.contacts.pop(person.id, None)
    del state.lists[item.id]
    return v.no_content()


async def append_list(request: Request, state: AutoCallState) -> Response:
    item = state.lists.get(v.path_id(request) or 0)
    if item is None:
        return v.not_found()
    check = rules.Check()
    found = rules.numbers(check, await v.read_body(request))
    if check.errors:
        return v.invalid(check.errors)
    add_contacts(state, item, found)
    shown = v.contact_list(state, item)
    return v.answer(
        {k: shown[k] for k in ("id", "client_id", "contacts_count", "created_at", "updated_at")}, 201
    )


async def delete_nonexistent(request: Request, state: AutoCallState) -> Response:
    item = state.lists.get(v.path_id(request) or 0)
    if item is None:
        return v.not_found()
    gone = set(item.nonexistent or [])
    item.contacts = [c for c in item.contacts if c.id not in gone]
    for ident in gone:
        state.contacts.pop(ident, None)
    item.nonexistent = None
    item.updated_at = d.stamp(d.now_local())
    return v.no_content()


async def put_nonexistent(request: Request, state: AutoCallState) -> Response:
    item = state.lists.get(v.path_id(request) or 0)
    if item is None:
        return v.not_found()
    item.nonexistent = None
    item.updated_at = d.stamp(d.now_local())
    return v.answer(v.contact_list(state, item))


# ----------------------------------------------------------------------------- contacts


async def get_contact(request: Request, state: AutoCallState) -> Response:
    person = state.contacts.get(v.path_id(request) or 0)
    return v.not_found() if person is None else v.answer(v.contact(person))


async def delete_contact(request: Request, state: AutoCallState) -> Response:
    person = state.contacts.get(v.path_id(request) or 0)
    if person is None:
        return v.not_found()
    if state.in_use(list_id=person.list_id):
        return v.invalid({"id": [IN_USE]})
    owner = state.lists[person.list_id]
    owner.contacts = [c for c in owner.contacts if c.id != person.id]
    del state.contacts[person.id]
    return v.no_content()


# ----------------------------------------------------------------------------- sounds


async def get_sounds(request: Request, state: AutoCallState) -> Response:
    rows = [v.sound(state, request, s) for s in sorted(state.sounds.values(), key=lambda s: -s.id)]
    return v.answer(v.page_of(state, request, rows, page_number(request), f"{d.API}/sounds"))


async def post_sounds(request: Request, state: AutoCallState) -> Response:
    check, body = rules.sound_create(await v.read_body(request))
    if check.errors:
        return v.invalid(check.errors)
    if sound_cost(state, body["audio"])[1] > state.balance:
        return v.message(NO_FUNDS, 402)
    item = new_sound(state, body["name"], body["client_id"], body["audio"])
    state.record_creation("sounds", body["client_id"])
    return v.answer(v.sound(state, request, item), 201)


async def get_sound(request: Request, state: AutoCallState) -> Response:
    item = state.sounds.get(v.path_id(request) or 0)
    return v.not_found() if item is None else v.answer(v.sound(state, request, item))


async def put_sound(request: Request, state: AutoCallState) -> Response:
    item = state.sounds.get(v.path_id(request) or 0)
    if item is None:
        return v.not_found()
    check, body = rules.rename(await v.read_body(request), 60)
    if check.errors:
        return v.invalid(check.errors)
    for key, value in body.items():
        setattr(item, key, value)
    item.updated_at = d.stamp(d.now_local())
    return v.answer(v.sound(state, request, item))


async def delete_sound(request: Request, state: AutoCallState) -> Response:
    item = state.sounds.get(v.path_id(request) or 0)
    if item is None:
        return v.not_found()
    if state.in_use(sound_id=item.id):
        return v.invalid({"id": [IN_USE]})
    del state.sounds[item.id]
    if state.settings["visit_card_audio"] == item.id:
        state.settings["visit_card_audio"] = None
    return v.no_content()


async def listen(request: Request, state: AutoCallState) -> Response:
    """A subscriber's answer to a ``record`` element: the file, or its recognised text (charged)."""
    check = rules.Check()
    kind = check.choice(
        "type", request.query_params.get("type") or rules.MISSING, ("download", "text"), required=True
    )
    if check.errors:
        return v.invalid(check.errors)
    file = request.path_params["file"]
    where = state.records.get(file)
    campaign = state.autocalls.get(where[0]) if where else None
    if where is None or campaign is None or where[1] >= state.resolved(campaign):
        return v.not_found()
    outcome = state.outcomes(campaign)[where[1]]
    seconds = max(1, outcome["duration"] // 2)
    if kind == "download":
        headers = {"Content-Disposition": f'attachment; filename="{file}"'}
        return Response(d.wav_bytes(seconds, file), media_type="audio/wav", headers=headers)
    cost = seconds * state.prices["speech_price"]
    if cost > state.balance:
        return v.message(NO_FUNDS, 402)
    state.charge(cost, f"Распознавание речи {file}")
    rng = random.Random(f"{state.config.seed}:speech:{file}")
    return v.answer({"text": None if outcome["silent"] else rng.choice(d.RECOGNISED)})


async def storage_file(request: Request, state: AutoCallState) -> Response:
    """``playback_url`` of a sound (public, like Laravel's ``/storage``)."""
    name = request.path_params["file"]
    item = next((s for s in state.sounds.values() if s.file == name), None)
    if item is None:
        return v.not_found()
    if item.audio is not None:
        kind = {"mp3": "audio/mpeg", "ogg": "audio/ogg"}.get(name.rsplit(".", 1)[-1], "audio/wav")
        return Response(item.audio, media_type=kind)
    return Response(d.wav_bytes(item.duration, name), media_type="audio/wav")


# ----------------------------------------------------------------------------- scenarios


async def get_scenarios(request: Request, state: AutoCallState) -> Response:
    rows = [v.scenario(state, s, False) for s in sorted(state.scenarios.values(), key=lambda s: -s.id)]
    return v.answer(v.page_of(state, request, rows, page_number(request), f"{d.API}/scenarios"))


async def post_scenarios(request: Request, state: AutoCallState) -> Response:
    check, body = rules.scenario_fields(await v.read_body(request), create=True)
    if check.errors:
        return v.invalid(check.errors)
    item = new_scenario(state, body["name"], body["client_id"], body["data"])
    state.record_creation("scenarios", body["client_id"])
    return v.answer(v.scenario(state, item, False), 201)


async def get_scenario(request: Request, state: AutoCallState) -> Response:
    item = state.scenarios.get(v.path_id(request) or 0)
    return v.not_found() if item is None else v.answer(v.scenario(state, item, True))


async def put_scenario(request: Request, state: AutoCallState) -> Response:
    item = state.scenarios.get(v.path_id(request) or 0)
    if item is None:
        return v.not_found()
    check, body = rules.scenario_fields(await v.read_body(request), create=False)
    if check.errors:
        return v.invalid(check.errors)
    for key, value in body.items():
        setattr(item, key, value)
    if "data" in body:  # a changed structure goes back to the moderators
        item.timeline = state.timeline(state.config.autocall_moderation_seconds, denial(item.name))
        item.applied = False
    item.updated_at = d.stamp(d.now_local())
    return v.answer(v.scenario(state, item, True))


async def delete_scenario(request: Request, state: AutoCallState) -> Response:
    item = state.scenarios.get(v.path_id(request) or 0)
    if item is None:
        return v.not_found()
    if state.in_use(scenario_id=item.id):
        return v.invalid({"id": [IN_USE]})
    del state.scenarios[item.id]
    return v.no_content()
