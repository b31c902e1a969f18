"""AutoCall.kz handlers: settings and confirmed numbers, balance and payments, dashboard, notifications,
caller ids, flash calls, and the public part (tariffs, test call)."""

from __future__ import annotations

import math
import random
import time
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from airflow_provider_telephony.sandbox import autocall_data as d
from airflow_provider_telephony.sandbox import autocall_rules as rules
from airflow_provider_telephony.sandbox import autocall_views as v
from airflow_provider_telephony.sandbox.autocall_content import NO_FUNDS, page_number
from airflow_provider_telephony.sandbox.autocall_state import AutoCallState, Rental

CURRENCY = "₸"


# ----------------------------------------------------------------------------- settings


def confirmed_view(row: dict[str, Any]) -> dict[str, Any]:
    return {k: value for k, value in row.items() if not k.startswith("_")}


def settings_view(state: AutoCallState) -> dict[str, Any]:
    prices, now = state.prices, time.monotonic()
    outcomes = [
        o for c in state.visible(state.autocalls) for o in state.outcomes(c)[: state.resolved(c, now)]
    ]
    return {
        "name": state.settings["name"],
        "phone": "7010000000",
        "sms_verified_at": d.stamp(state.epoch),
        "moderation": True,
        "time_from": "09:00:00",
        "time_to": "21:00:00",
        "price": d.money(prices["call_price"]),
        "sms_price": d.money(prices["sms_price"]),
        "sip_price": d.money(d.SIP_PRICE),
        "speech_price": d.money(prices["speech_price"]),
        "synthesis_price": d.money(prices["synthesis_price"]),
        "recording_price": d.money(prices["recording_price"]),
        "recalled": 24,
        "subscribe": state.settings["subscribe"],
        "notifications_subscribe": state.settings["notifications_subscribe"],
        "visit_card_audio": state.settings["visit_card_audio"],
        "visit_card_text": state.settings["visit_card_text"],
        "confirmed_numbers": [confirmed_view(row) for row in state.confirmed],
        "statistics": {
            "duration": sum(o["duration"] for o in outcomes),
            "calls": len(outcomes),
            "confirmed_numbers": sum(row["verified_at"] is not None for row in state.confirmed),
            "spam_reports": sum(o["status"] == "spam" for o in outcomes),
            "lists": len(state.lists),
            "contacts": len(state.contacts),
            "autocalls": len(state.autocalls),
            "bulks": len(state.bulks),
            "sms": sum(len(b.contacts) for b in state.bulks.values()),
        },
    }


async def get_settings(request: Request, state: AutoCallState) -> Response:
    return v.answer(settings_view(state))


async def put_settings(request: Request, state: AutoCallState) -> Response:
    check, body = rules.settings_update(state, await v.read_body(request))
    if check.errors:
        return v.invalid(check.errors)
    state.settings.update(body)
    return v.answer(settings_view(state))


async def delete_visit_card(request: Request, state: AutoCallState) -> Response:
    check = rules.Check()
    kind = check.choice(
        "visit_card_type", request.path_params["kind"], ("visit_card_audio", "visit_card_text")
    )
    if kind is None:
        return v.invalid(check.errors)
    state.settings[kind] = None
    return v.no_content()


async def get_confirmed(request: Request, state: AutoCallState) -> Response:
    return v.answer([confirmed_view(row) for row in state.confirmed])


async def post_confirmed(request: Request, state: AutoCallState) -> Response:
    """Step 1 (``number``): the service calls it; step 2 (``verification_code``): the number is verified."""
    check, body = rules.confirmed_number(await v.read_body(request))
    if check.errors:
        return v.invalid(check.errors)
    moment = d.stamp(d.now_local())
    if body["verification_code"] is not None:
        row = next(
            (
                r
                for r in state.confirmed
                if r["verified_at"] is None and r["_code"] == body["verification_code"]
            ),
            None,
        )
        if row is None:
            return v.invalid({"verification_code": ["Неверный код подтверждения."]})
        row.update(verified_at=moment, updated_at=moment)
        return v.answer(confirmed_view(row), 201)
    number = body["number"]
    row = next((r for r in state.confirmed if r["number"] == number), None)
    if row is not None and row["verified_at"] is not None:
        return v.invalid({"number": ["Такой номер уже подтверждён."]})
    if row is None:
        row = {"id": state.next_id("confirmed"), "number": number, "verified_at": None, "created_at": moment}
        state.confirmed.append(row)
    calls = state.by_number.setdefault("confirmation_calls", {})
    calls[number] = calls.get(number, 0) + 1
    code = random.Random(f"{state.config.seed}:confirm:{number}:{calls[number]}").randint(10000, 99999)
    row.update(updated_at=moment, _code=code, _born=time.monotonic())
    return v.answer(confirmed_view(row), 201)


# ----------------------------------------------------------------------------- money


async def get_balance(request: Request, state: AutoCallState) -> Response:
    return v.answer({"balance": round(state.balance, 2), "currency": CURRENCY})


async def get_payments(request: Request, state: AutoCallState) -> Response:
    confirmed = [t for t in state.transactions if t["confirmed"]]
    incoming = round(sum(t["total"] for t in confirmed if t["type"] == "deposit"), 2)
    outgoing = round(-sum(t["total"] for t in confirmed if t["type"] == "withdraw"), 2)
    rows = sorted(state.transactions, key=lambda t: -t["id"])
    return v.answer(
        {
            "balance": round(state.balance, 2),
            "currency": CURRENCY,
            "reserved": round(float(sum(state.reserved.values())), 2),
            "incoming": incoming,
            "outgoing": outgoing,
            "paid": incoming,
            "used": outgoing,
            "transactions": v.page_of(state, request, rows, page_number(request), f"{d.API}/payments"),
        }
    )


async def post_payments(request: Request, state: AutoCallState) -> Response:
    data = await v.read_body(request)
    check, amount = rules.single_integer(data, "amount", low=200)
    if check.errors or amount is None:
        return v.invalid(check.errors)
    order = f"{state.rng.getrandbits(32):08x}"
    row = state.transaction(
        "deposit", amount, f"Пополнение баланса картой, заказ {order}", d.now_local(), False
    )
    state.payments[order] = {"amount": amount, "transaction": row, "paid": False}
    state.record_creation("payments", data.get("client_id"))
    url = f"{v.base(request)}{d.CONTROL}/payment.html?mdOrder={order}&language=ru"
    return v.answer({"payment_url": url}, 201)


async def pay(request: Request, state: AutoCallState) -> Response:
    """The card page behind ``payment_url``: opening it pays the order (once)."""
    payment = state.payments.get(request.query_params.get("mdOrder", ""))
    if payment is None:
        return HTMLResponse("<h1>Заказ не найден</h1>", status_code=404)
    if not payment["paid"]:
        payment["paid"] = True
        moment = d.stamp(d.now_local())
        payment["transaction"].update(confirmed=True, updated_at=moment)
        state.balance = round(state.balance + payment["amount"], 2)
        data = {"action": "deposit", "amount": d.money(payment["amount"]), "balance": state.balance}
        state.notify("RefreshBalance", data)
        state.check_low()
    return HTMLResponse("<h1>Оплата прошла успешно</h1>")


# ----------------------------------------------------------------------------- dashboard, notifications


def _activity() -> dict[str, int]:
    return {"all": 0, **{name: 0 for name, _ in d.CALL_OUTCOMES}}


async def get_dashboard(request: Request, state: AutoCallState) -> Response:
    now = time.monotonic()
    today = d.now_local().date()
    days = [(today - timedelta(days=back)).isoformat() for back in range(6, -1, -1)]
    week = {day: _activity() for day in days}
    full = _activity()
    active = in_queue = 0
    for item in state.visible(state.autocalls):
        status = item.timeline.campaign_status(now)
        active += status in ("running", "awaiting")
        resolved = state.resolved(item, now)
        if status not in d.FINAL_CAMPAIGN:
            in_queue += len(item.contacts) - resolved
        total = max(1, len(item.contacts))
        for index, outcome in enumerate(state.outcomes(item)[:resolved]):
            day = item.timeline.at(2 + index / total).date().isoformat()
            for bucket in (full, week.get(day)):
                if bucket is not None:
                    bucket["all"] += 1
                    bucket[outcome["status"]] += 1
    return v.answer(
        {
            "running&awaiting": active,
            "in_queue": in_queue,
            "reserved": round(float(sum(state.reserved.values())), 2),
            "balance": round(state.balance, 2),
            "currency": CURRENCY,
            "week_activity": week,
            "full_activity": full,
        }
    )


async def get_notifications(request: Request, state: AutoCallState) -> Response:
    rows = list(reversed(state.notifications))
    return v.answer({"data": rows, "unread": sum(n["read_at"] is None for n in rows)})


def _notification(state: AutoCallState, request: Request) -> dict[str, Any] | None:
    return next((n for n in state.notifications if n["id"] == request.path_params["id"]), None)


async def read_notification(request: Request, state: AutoCallState) -> Response:
    row = _notification(state, request)
    if row is None:
        return v.not_found()
    if row["read_at"] is None:
        row["read_at"] = row["updated_at"] = d.stamp(d.now_local())
    return v.answer({"id": row["id"], "read_at": row["read_at"]})


async def delete_notification(request: Request, state: AutoCallState) -> Response:
    row = _notification(state, request)
    if row is None:
        return v.not_found()
    state.notifications.remove(row)
    return v.no_content()


# ----------------------------------------------------------------------------- caller ids


async def get_caller_ids(request: Request, state: AutoCallState) -> Response:
    rows = [
        {"id": r.id, "provider": r.provider, "number": r.number, "rented_until": r.rented_until}
        for r in state.rentals.values()
    ]
    limit = d.CALLER_ID_LIMITS[state.config.autocall_tariff]
    return v.answer(
        {"data": rows, "max_caller_id_rentals": limit, "caller_id_rent_price": d.CALLER_ID_RENT_PRICE}
    )


async def post_caller_ids(request: Request, state: AutoCallState) -> Response:
    check, pool_id = rules.single_integer(await v.read_body(request), "caller_id_id")
    if pool_id is not None and pool_id not in state.pool:
        check.unknown("caller_id_id")
    if check.errors or pool_id is None:
        return v.invalid(check.errors)
    limit = d.CALLER_ID_LIMITS[state.config.autocall_tariff]
    if len(state.rentals) >= limit:
        return v.message("Тариф не поддерживает аренду номеров или достигнут лимит.", 403)
    number, provider, taken = state.pool[pool_id]
    if taken or any(r.pool_id == pool_id for r in state.rentals.values()):
        return v.message("Выбранный номер уже занят другим пользователем.", 409)
    if state.balance < d.CALLER_ID_RENT_PRICE:
        return v.message(NO_FUNDS, 402)
    state.charge(d.CALLER_ID_RENT_PRICE, f"Аренда номера {number}")
    until = d.stamp(d.now_local() + timedelta(days=30))
    rental = Rental(state.next_id("rental"), pool_id, number, provider, until)
    state.rentals[rental.id] = rental
    state.record_creation("caller_id_rentals", None)
    return v.answer({"message": "Номер успешно арендован.", "number": number, "rented_until": until}, 201)


async def delete_caller_id(request: Request, state: AutoCallState) -> Response:
    rental = state.rentals.pop(v.path_id(request) or 0, None)
    if rental is None:
        return v.message("Номер не найден или не принадлежит вам.", 404)
    state.notify("CallerIdReleased", {"id": rental.id, "name": rental.number})
    return v.answer({"message": "Номер освобождён досрочно. Средства не возвращаются."})


# ----------------------------------------------------------------------------- flash calls


async def post_flash_calls(request: Request, state: AutoCallState) -> Response:
    data = await v.read_body(request)
    check, body = rules.flash_call(data)
    code = body["code"]
    if code is not None and len(set(code)) == 1:
        check.fail("code", "Номер с нужными последними цифрами сейчас недоступен в пуле.")
    if check.errors:
        return v.invalid(check.errors)
    number = body["number"]
    now = time.monotonic()
    window = state.config.autocall_flash_window_seconds
    recent = [t for t in state.attempts.get(number, []) if now - t < window]
    state.attempts[number] = recent
    if len(recent) >= d.FLASH_ATTEMPTS:
        wait = str(max(1, math.ceil(recent[0] + window - now)))
        return v.answer(
            {"message": "Не более 3 попыток на один номер в течение 5 минут."}, 429, {"Retry-After": wait}
        )
    price = state.prices["call_price"]
    if price > state.balance:
        return v.message(NO_FUNDS, 402)
    ident = state.next_id("flash_call")
    if code is None:
        rng = random.Random(f"{state.config.seed}:flash:{ident}")
        code = "".join(rng.choice("0123456789") for _ in range(body["digits"]))
    state.charge(price, f"Flash Call {number}")
    recent.append(now)
    state.flash_calls.append({"id": ident, "code": code, "number": number})
    state.record_creation("flash_calls", data.get("client_id"))
    counts = state.by_number["flash_calls"]
    counts[number] = counts.get(number, 0) + 1
    return v.answer({"id": ident, "code": code, "number": number}, 201)


# ----------------------------------------------------------------------------- public part


async def get_tariffs(request: Request, state: AutoCallState) -> Response:
    return v.answer(d.TARIFFS_BODY)


async def post_test_call(request: Request, state: AutoCallState) -> Response:
    """A real call to a Kazakh mobile: 2 requests a minute per IP, one call per number a day, 09:00-21:30."""
    host = request.client.host if request.client else "unknown"
    wait = state.take(f"test-call:{host}", d.TEST_CALLS_PER_MINUTE, state.config.rate_window_seconds)
    if wait > 0:
        return v.answer({"message": "Too Many Attempts."}, 429, {"Retry-After": str(max(1, math.ceil(wait)))})
    data = await v.read_body(request)
    check = rules.Check()
    phone = check.string("phone", rules.get(data, "phone"), required=True, pattern=d.TEST_CALL_PHONE)
    if check.errors or phone is None:
        return v.invalid(check.errors)
    number = f"+7{phone}"
    if number in state.config.autocall_blacklisted_numbers:
        return v.message("Номер находится в чёрном списке.", 403)
    now = d.now_local()
    opens, closes = state.config.autocall_test_call_hours
    if not opens <= now.strftime("%H:%M:%S") < closes:
        return v.message(f"Тестовые звонки доступны с {opens[:5]} до {closes[:5]} по времени Алматы.", 422)
    if state.test_call_days.get(number) == now.date().isoformat():
        return v.message("На этот номер сегодня уже был тестовый звонок.", 429)
    state.test_call_days[number] = now.date().isoformat()
    state.record_creation("test_calls", data.get("client_id"))
    counts = state.by_number["test_calls"]
    counts[number] = counts.get(number, 0) + 1
    text = f"Тестовый звонок отправлен на номер {number}. Ожидайте звонка в течение 1–2 минут."
    return v.answer({"message": text, "number": number})
