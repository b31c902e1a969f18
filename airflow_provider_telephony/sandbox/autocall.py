"""Emulation of AutoCall.kz, written from ``seeds/autocall-kz.openapi.yaml.txt`` (API v1 and the public part).

All 55 documented operations, under ``/api/v1`` (``Authorization: Bearer <autocall_api_key>``) and
``/api/public`` (no key).  Modules: this one (routes, authentication, rate limit, sandbox controls, the
seeded history), :mod:`.autocall_rules` (validation), :mod:`.autocall_state` (objects, time, money),
:mod:`.autocall_views` (JSON shapes), :mod:`.autocall_content` (lists, contacts, sounds, scenarios),
:mod:`.autocall_campaigns` (autocalls, calls, bulks, messages), :mod:`.autocall_account` (settings,
payments, dashboard, notifications, caller ids, flash calls, public part), :mod:`.autocall_data`.

What is emulated
----------------
* Every ``/api/v1`` answer: 401 ``{"message": "Unauthenticated."}`` without the key; 300 requests a
  minute per key (``autocall_rate_limit`` per ``rate_window_seconds``), then 429 ``{"message": "Too Many
  Attempts."}`` with ``Retry-After``; ``X-RateLimit-Limit``/``-Remaining`` on every answer; 404
  ``{"message": "Not found."}``; 422 ``{"message": "The given data was invalid.", "errors": {field: [..]}}``.
* Lists: create (``numbers`` ≤ 10,000, list pattern without 706, ``extra`` ≤ 255, ``variables`` keys
  ``[a-zA-Z0-9_]`` ≤ 30 / values ≤ 255, ``client_id`` ≤ 256), show with paged contacts, edit, delete,
  append (≤ 10,000 a request), ``nonexistent``: filled when an autocall completes with the contacts whose
  call ended ``error``; ``DELETE /lists/nonexistent/{id}`` removes them, ``PUT`` forgets them.
  ``GET /lists?client_id=`` that matches nothing is 404, as documented.
* Sounds: synthesis (``text`` ≤ 400, ten voices, ``speed`` 0.25..4, ``pitch`` -20..20; charged
  ``synthesis_price`` a second, 402 when the balance is short) or upload (Base64 mp3/wav/ogg, recognised
  by its magic bytes); moderation approves after ``autocall_moderation_seconds``; ``playback_url`` serves
  the audio (``/storage/sounds/<file>``, no key).  ``GET /sounds/listen/{file}?type=download|text``: the
  ``record`` answer of an interactive call (WAV) or its recognised text (charged ``speech_price`` a
  second, 402; ``null`` text for a silent answer).
* Scenarios: ``data`` is a JSON string (``json`` rule), shown parsed in ``ScenarioDetail``; moderation as
  for sounds (``confirmed_at``/``comment``); changing ``data`` sends it back to moderation.
* Autocalls (regular/interactive) and bulks: ``moderation`` → ``awaiting`` → ``running`` → ``completed``,
  ``autocall_step_seconds`` each; calls resolve during ``running`` to the documented statuses with a
  seeded share (success 55 %, recalled 5, no_answer 20, busy 10, error 6, spam 4), with tries,
  ``date_tries``/``status_tries``, durations, ``lock`` on the next three numbers; messages go ``queued`` →
  ``sent`` → delivered/failed/expired/undeliverable/rejected.  ``max_cost`` is reserved at creation,
  released at the end, when ``final_cost`` (seeded outcomes × tariff) is charged as a ``withdraw``.
  Over 5,000 numbers in all (lists + inline) an autocall answers 202 and appears after
  ``autocall_background_seconds``.  403 spam: a regular autocall of at least
  ``autocall_spam_min_numbers`` numbers with less than ``autocall_spam_max_audio_seconds`` of audio.
  Calculate, relaunch (a new list of the numbers whose status is not ``success``; 403 until completed),
  edit (only ``moderation``/``awaiting``, else 422) and delete (``running`` is 422) are there too.
* Calls and recordings (``record: true`` and a call that talked: a WAV as long as the talk).
* Settings (``name`` 2..40, visit card audio/text ≤ 160), ``DELETE /settings/{visit_card_type}``;
  confirmed numbers in two steps (number → a call whose last five digits are the code → code); an
  unverified number disappears after ``autocall_unconfirmed_ttl_seconds``.
* Balance, payments (``amount`` ≥ 200 → ``payment_url``; opening it pays: a confirmed deposit and a
  ``RefreshBalance`` notification), dashboard, notifications (all 19 types can occur except the
  export ones and ``ImportFailure``/``CallerIdExpiringSoon``), caller ids (tariff limits 0/1/2; 402,
  403, 409), flash calls (auto code or own code; 3 per number per ``autocall_flash_window_seconds``,
  else 429), public tariffs and test call.

Choices where the document is unclear
-------------------------------------
* Timestamps are Almaty time (UTC+6, as the test call says) in the examples' ``Y-m-d H:i:s``; money
  columns are strings ``"245.60"`` in objects, numbers in ``calculate``, ``balance`` and ``payments``.
* Laravel defaults: inputs are trimmed and ``""`` becomes ``null``; no field is ``nullable`` except
  ``caller_id`` (the only one the document marks so), so ``null`` for an optional field is 422.  Malformed
  JSON is an empty input.  ``type`` of ``AutocallCreate`` is ``required`` (the schema says so) despite its
  ``default``.  Inline numbers of autocalls and bulks are only checked for 12 characters: their schema has
  no pattern, unlike lists (no 706), flash calls (with 706), confirmed numbers (mobile prefixes only) and
  the test call (ten digits without +7).
* ``page`` that is not an integer ≥ 1 means page 1 (Laravel's paginator); page URLs keep the other query
  parameters; 15 per page (``autocall_per_page``).  Only ``GET /lists`` validates its filters (422 is
  documented there only); elsewhere a malformed ``date_from``/``date_to``/``order`` is ignored.  Newest
  first unless ``order=asc``.
* The balance shown is what is free: a campaign's ``max_cost`` leaves it at creation (``reserved``) and the
  unspent part comes back when it ends or is denied.  Short of money, ``POST /autocalls`` and
  ``POST /bulks`` answer 422 with ``errors.balance`` (the document lists no 402 for them); 402 is
  used where documented (synthesis, speech recognition, caller ids, flash calls).
* A name (or synthesis/SMS text) containing ``[deny]`` is refused by the moderators: a campaign becomes
  ``denied`` after its moderation step, a sound/scenario gets ``comment`` and no confirmation.  Or
  ``POST /__sandbox__/autocall/moderation``.  A denied mailing's messages show ``disabled``; a denied
  autocall's calls stay ``in_queue``.  Deleting a list, contact, sound or scenario that an unfinished
  campaign uses is 422.
* Costs: a regular call's most is the audio's seconds × ``call_price`` (+ ``recording_price``), an
  interactive one a minute plus one ``speech_price``; SMS by the document's worst case (longest value of
  each variable; GSM-7 160/153 or UCS-2 70/67 a segment).  A flash call costs one ``call_price``
  second; a caller id 3,000 ₸ a month; its rental ``id`` differs from the pool's ``caller_id_id``
  (the free pool: ``GET /__sandbox__/autocall/caller-ids``; id 44 is another user's → 409).
* ``POST /flash-calls``: ``code`` wins over ``digits``; an own code made of one repeated digit is "not
  in the pool" (422); the answer's ``code`` is the N-digit code.  ``POST /sounds`` takes ``data`` as an
  array of one object, ``AutocallCreate.audio_id[]`` as an object, as each schema says.
* Sandbox time is compressed: a call's tries are ``tries_interval`` *seconds* apart (minutes, surely, on
  the real service), inside the campaign's ``running`` step.
* The 202 answer of a background autocall is ``{"message": ...}`` (no schema in the document).  Call
  ``data`` of an answered interactive call is ``{"dtmf": "1", "record": "<file>.wav"}``.
* The ``Content-Type``/``Accept`` headers the document marks required are not enforced (any body is read
  as JSON; every answer is JSON).  ``GET /autocalls/relaunch/{id}`` creates a new list on every call, as
  documented, so it is not idempotent despite its method.
* Creations that cost money or reach people are counted per ``client_id`` for the sandbox stats; where the
  document has no ``client_id`` (payments, flash and test calls) a ``client_id`` sent anyway is only
  counted, never validated, and flash/test calls are also counted per number.

Sandbox controls (never faulted): ``GET /__sandbox__/autocall/stats``; ``POST .../moderation`` with
``{"kind": "autocall"|"bulk"|"sound"|"scenario", "id": 1, "decision": "approve"|"deny", "comment": "..."}``;
``POST .../balance`` with ``{"balance": 10.5}``; ``GET .../caller-ids``; ``GET .../payment.html?mdOrder=``.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from datetime import time as clock
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from airflow_provider_telephony.sandbox import autocall_account as a
from airflow_provider_telephony.sandbox import autocall_campaigns as camp
from airflow_provider_telephony.sandbox import autocall_content as c
from airflow_provider_telephony.sandbox import autocall_data as d
from airflow_provider_telephony.sandbox import autocall_views as v
from airflow_provider_telephony.sandbox.autocall_state import (
    AutoCallState,
    Campaign,
    Contact,
    ContactList,
    Scenario,
    Sound,
    Timeline,
)
from airflow_provider_telephony.sandbox.config import SandboxConfig

Handler = Callable[[Request, AutoCallState], Awaitable[Response]]

#: (method, path under /api/v1, handler): the document's 53 authorised operations
V1: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/lists", c.get_lists),
    ("POST", "/lists", c.post_lists),
    ("POST", "/lists/append/{id}", c.append_list),
    ("DELETE", "/lists/nonexistent/{id}", c.delete_nonexistent),
    ("PUT", "/lists/nonexistent/{id}", c.put_nonexistent),
    ("GET", "/lists/{id}", c.get_list),
    ("PUT", "/lists/{id}", c.put_list),
    ("DELETE", "/lists/{id}", c.delete_list),
    ("GET", "/contacts/{id}", c.get_contact),
    ("DELETE", "/contacts/{id}", c.delete_contact),
    ("GET", "/sounds", c.get_sounds),
    ("POST", "/sounds", c.post_sounds),
    ("GET", "/sounds/listen/{file}", c.listen),
    ("GET", "/sounds/{id}", c.get_sound),
    ("PUT", "/sounds/{id}", c.put_sound),
    ("DELETE", "/sounds/{id}", c.delete_sound),
    ("GET", "/scenarios", c.get_scenarios),
    ("POST", "/scenarios", c.post_scenarios),
    ("GET", "/scenarios/{id}", c.get_scenario),
    ("PUT", "/scenarios/{id}", c.put_scenario),
    ("DELETE", "/scenarios/{id}", c.delete_scenario),
    ("GET", "/autocalls", camp.get_autocalls),
    ("POST", "/autocalls", camp.post_autocalls),
    ("POST", "/autocalls/calculate", camp.calculate_autocall),
    ("GET", "/autocalls/relaunch/{id}", camp.relaunch),
    ("GET", "/autocalls/{id}", camp.get_autocall),
    ("PUT", "/autocalls/{id}", camp.put_autocall),
    ("DELETE", "/autocalls/{id}", camp.delete_autocall),
    ("GET", "/calls/recordings/{id}", camp.get_recording),
    ("GET", "/calls/{id}", camp.get_call),
    ("GET", "/bulks", camp.get_bulks),
    ("POST", "/bulks", camp.post_bulks),
    ("POST", "/bulks/calculate", camp.calculate_bulk),
    ("GET", "/bulks/{id}", camp.get_bulk),
    ("PUT", "/bulks/{id}", camp.put_bulk),
    ("DELETE", "/bulks/{id}", camp.delete_bulk),
    ("GET", "/messages/{id}", camp.get_message),
    ("GET", "/settings", a.get_settings),
    ("PUT", "/settings", a.put_settings),
    ("GET", "/settings/confirmed_numbers", a.get_confirmed),
    ("POST", "/settings/confirmed_numbers", a.post_confirmed),
    ("DELETE", "/settings/{kind}", a.delete_visit_card),
    ("GET", "/balance", a.get_balance),
    ("GET", "/payments", a.get_payments),
    ("POST", "/payments", a.post_payments),
    ("GET", "/dashboard", a.get_dashboard),
    ("GET", "/notifications", a.get_notifications),
    ("PUT", "/notifications/{id}", a.read_notification),
    ("DELETE", "/notifications/{id}", a.delete_notification),
    ("GET", "/caller-ids", a.get_caller_ids),
    ("POST", "/caller-ids", a.post_caller_ids),
    ("DELETE", "/caller-ids/{id}", a.delete_caller_id),
    ("POST", "/flash-calls", a.post_flash_calls),
)
PUBLIC: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/tariffs", a.get_tariffs),
    ("POST", "/test-call", a.post_test_call),
)


def _guarded(state: AutoCallState, name: str, handler: Handler) -> Handler:
    """Counting, Bearer authentication, the per-key rate limit and the clock around one operation."""

    async def endpoint(request: Request, _: AutoCallState) -> Response:
        state.count(name)
        scheme, _sep, key = (request.headers.get("authorization") or "").strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not secrets.compare_digest(
            key.encode(), state.config.autocall_api_key.encode()
        ):
            state.count("unauthorized")
            return v.message("Unauthenticated.", 401)
        limit = state.config.autocall_rate_limit
        wait = state.take(f"key:{key}", limit, state.config.rate_window_seconds)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(state.remaining(f"key:{key}", limit)),
        }
        if wait > 0:
            state.count("rate_limited")
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return v.answer({"message": "Too Many Attempts."}, 429, headers)
        state.tick()
        response = await handler(request, state)
        response.headers.update(headers)
        return response

    return endpoint


def _public(state: AutoCallState, name: str, handler: Handler) -> Handler:
    async def endpoint(request: Request, _: AutoCallState) -> Response:
        state.count(name)
        state.tick()
        return await handler(request, state)

    return endpoint


def _routes(
    state: AutoCallState, prefix: str, table: tuple[tuple[str, str, Handler], ...], wrap: Any
) -> list[BaseRoute]:
    """One starlette route per path (in table order), dispatching on the method."""
    by_path: dict[str, dict[str, Handler]] = {}
    for method, path, handler in table:
        by_path.setdefault(path, {})[method] = wrap(state, f"{method} {path.lstrip('/')}", handler)
    routes: list[BaseRoute] = []
    for path, methods in by_path.items():

        async def endpoint(request: Request, methods: dict[str, Handler] = methods) -> Response:
            return await methods[request.method](request, state)

        routes.append(Route(f"{prefix}{path}", endpoint, methods=list(methods)))
    return routes


# ----------------------------------------------------------------------------- seeded history


def seed_history(state: AutoCallState) -> None:
    """The account as the sandbox starts it: a deposit, a verified number and (``autocall_history``)
    a list of 25 contacts, an approved sound and scenario, two completed autocalls and a mailing."""
    config = state.config
    epoch = datetime.combine(config.data_start, clock(10, 0), d.ALMATY)
    state.epoch = epoch
    deposit = state.transaction("deposit", 0.0, "Пополнение баланса", epoch)
    stamp = d.stamp(epoch)
    number = {"id": state.next_id("confirmed"), "number": "+77010000001", "verified_at": stamp}
    state.confirmed.append({**number, "created_at": stamp, "updated_at": stamp, "_code": 0, "_born": 0.0})
    free = state.balance
    state.balance = 1e12
    if config.autocall_history:
        _history(state, epoch)
        state.tick()
    spent = 1e12 - state.balance
    state.balance = free
    deposit["total"] = round(free + spent, 2)
    state.low = state.balance < config.autocall_low_balance_threshold


def _history(state: AutoCallState, epoch: datetime) -> None:
    rng = state.rng
    past = time.monotonic() - 1e7
    stamp = d.stamp(epoch)

    def timeline(days: int) -> Timeline:
        return Timeline(
            start=past, wall=epoch + timedelta(days=days), step=state.config.autocall_step_seconds
        )

    names = ("Айгерим", "Ерлан", "Дана", "Нурлан", "Асель", "Бауыржан", "Жанна", "Тимур")
    people = ContactList(state.next_id("list"), "Клиенты", None, stamp, stamp)
    state.lists[people.id] = people
    for _ in range(25):
        name = rng.choice(names)
        number = f"+77{rng.choice(('01', '05', '07', '47', '77'))}{rng.randint(0, 9_999_999):07d}"
        person = Contact(state.next_id("contact"), people.id, number, name, {"name": name}, stamp)
        people.contacts.append(person)
        state.contacts[person.id] = person
    sound = Sound(
        state.next_id("sound"),
        "Приветствие",
        None,
        12,
        "a1b2c3d4e5f60718.wav",
        None,
        timeline(0),
        stamp,
        stamp,
        True,
    )
    state.sounds[sound.id] = sound
    survey = {
        "1": {"type": "play", "sound_id": sound.id, "next": "2"},
        "2": {"type": "record", "seconds": 10},
    }
    scenario = Scenario(state.next_id("scenario"), "Опрос", None, survey, timeline(0), stamp, stamp, True)
    state.scenarios[scenario.id] = scenario
    snapshot = camp.snapshot(state, [people.id], [])
    base = {"time_from": "10:00:00", "time_to": "20:00:00", "max_tries": 2, "tries_interval": 60, "sms": False,
            "text": None, "sms_unanswered": False, "text_unanswered": None, "lifetime": False, "record": True,
            "client_id": None, "callback_url": None, "caller_id": None, "scenario_id": None}  # fmt: skip
    for day, kind in ((1, "regular"), (2, "interactive")):
        when = epoch + timedelta(days=day)
        body = {**base, "name": f"История {day}", "type": kind, "date_from": when.date().isoformat()}
        if kind == "interactive":
            body["scenario_id"] = scenario.id
        item = Campaign(
            id=state.next_id("autocall"), kind=kind, body=body, contacts=[dict(p) for p in snapshot],
            list_ids=[people.id], max_cost=0.0, timeline=timeline(day), created_at=d.stamp(when),
            updated_at=d.stamp(when), item_base=state.next_id("call", len(snapshot)),
            audio_ids=[sound.id] if kind == "regular" else [], audio_seconds=sound.duration,
        )  # fmt: skip
        item.max_cost = camp.plan_autocall(
            state, {**body, "audio": item.audio_ids, "lists": [people.id], "inline": []}
        )["max_cost"]
        state.autocalls[item.id] = item
        state.reserve(("autocall", item.id), item.max_cost)
    when = epoch + timedelta(days=3)
    text = "{{name}}, ждём вас завтра!"
    body = {"name": "История SMS", "text": text, "date_from": when.date().isoformat(), "time_from": "10:00:00",
            "client_id": None, "callback_url": None, "lists": [people.id], "inline": []}  # fmt: skip
    _people, segments, cost = camp.plan_bulk(state, body)
    bulk = Campaign(
        id=state.next_id("bulk"), kind="bulk", body={**body, "segments": segments}, contacts=_people,
        list_ids=[people.id], max_cost=cost, timeline=timeline(3), created_at=d.stamp(when),
        updated_at=d.stamp(when), item_base=state.next_id("message", len(_people)),
    )  # fmt: skip
    state.bulks[bulk.id] = bulk
    state.reserve(("bulk", bulk.id), cost)


# ----------------------------------------------------------------------------- sandbox controls


def _moderate(state: AutoCallState, data: Any) -> tuple[dict[str, Any], int]:
    """Approve or deny an object that is still in moderation, at once."""
    if not isinstance(data, dict):
        return {"error": "body must be a JSON object"}, 400
    stores: dict[str, dict[int, Any]] = {
        "autocall": state.autocalls, "bulk": state.bulks, "sound": state.sounds, "scenario": state.scenarios,
    }  # fmt: skip
    kind, ident, decision = data.get("kind"), data.get("id"), data.get("decision")
    if kind not in stores or decision not in ("approve", "deny"):
        return {"error": "kind must be autocall|bulk|sound|scenario, decision approve|deny"}, 400
    item = stores[kind].get(ident) if isinstance(ident, int) else None
    if item is None:
        return {"error": f"no {kind} {ident}"}, 404
    timeline: Timeline = item.timeline
    now = time.monotonic()
    if getattr(item, "visible_from", 0.0) > now or timeline.steps(now) >= 1:
        return {"error": f"{kind} {ident} is not in moderation"}, 409
    if decision == "deny":
        comment = data.get("comment")
        timeline.deny = comment if isinstance(comment, str) and comment else d.DENY_COMMENT
    timeline.start = now - timeline.step
    timeline.wall = d.now_local() - timedelta(seconds=timeline.step)
    state.tick()
    return {"kind": kind, "id": ident, "decision": decision}, 200


def _controls(state: AutoCallState) -> list[BaseRoute]:
    async def stats(request: Request) -> Response:
        state.tick()
        codes = {r["number"]: r["_code"] for r in state.confirmed if r["verified_at"] is None}
        return JSONResponse(
            {
                "requests": dict(state.requests),
                "created": state.created,
                "bulks_by_client_id": state.created.get("bulks", {}),
                "by_number": state.by_number,
                "verification_codes": codes,
                "balance": round(state.balance, 2),
                "reserved": round(float(sum(state.reserved.values())), 2),
            }
        )

    async def moderation(request: Request) -> Response:
        body, status = _moderate(state, await _json(request))
        return JSONResponse(body, status_code=status)

    async def balance(request: Request) -> Response:
        data = await _json(request)
        value = data.get("balance") if isinstance(data, dict) else None
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return JSONResponse({"error": "body must be {'balance': <number>}"}, status_code=400)
        state.balance = round(float(value), 2)
        state.low = state.balance < state.config.autocall_low_balance_threshold
        return JSONResponse({"balance": state.balance})

    async def pool(request: Request) -> Response:
        rented = {r.pool_id for r in state.rentals.values()}
        rows = [
            {
                "caller_id_id": ident,
                "number": number,
                "provider": provider,
                "free": not taken and ident not in rented,
            }
            for ident, (number, provider, taken) in state.pool.items()
        ]
        return JSONResponse(rows)

    async def pay(request: Request) -> Response:
        state.tick()
        return await a.pay(request, state)

    return [
        Route(f"{d.CONTROL}/stats", stats, methods=["GET"]),
        Route(f"{d.CONTROL}/moderation", moderation, methods=["POST"]),
        Route(f"{d.CONTROL}/balance", balance, methods=["POST"]),
        Route(f"{d.CONTROL}/caller-ids", pool, methods=["GET"]),
        Route(f"{d.CONTROL}/payment.html", pay, methods=["GET"]),
    ]


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return None


def build_routes(config: SandboxConfig) -> list[BaseRoute]:
    """All AutoCall.kz routes of one server; they share one :class:`AutoCallState`."""
    state = AutoCallState(config)
    seed_history(state)

    async def storage(request: Request) -> Response:
        state.count("GET storage/sounds/{file}")
        return await c.storage_file(request, state)

    return [
        *_routes(state, d.API, V1, _guarded),
        *_routes(state, d.PUBLIC, PUBLIC, _public),
        Route("/storage/sounds/{file}", storage, methods=["GET"]),
        *_controls(state),
    ]
