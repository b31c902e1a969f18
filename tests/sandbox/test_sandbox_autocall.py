"""AutoCall.kz emulation over real loopback HTTP (plain httpx), checked against the vendor document.

Paths, field names, enum values, limits, patterns and the example bodies are copied here from
``seeds/autocall-kz.openapi.yaml.txt`` on purpose, instead of being imported from the module under test:
a misreading of the document must fail a test, not pass twice.
"""

from __future__ import annotations

import base64
import io
import time
import wave
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from airflow_provider_telephony.sandbox import run_sandbox

KEY = "sandbox-autocall-key-0001"
API = "/api/v1"
SETTINGS: dict[str, Any] = {
    "seed": 5,
    "rate_window_seconds": 1.0,
    "autocall_step_seconds": 0.25,
    "autocall_moderation_seconds": 0.25,
    "autocall_background_seconds": 0.3,
    "autocall_test_call_hours": ("00:00:00", "23:59:59"),
}

# --- copied from the document ----------------------------------------------------------------------
PAGINATION = {
    "current_page", "data", "first_page_url", "from", "last_page", "last_page_url", "next_page_url", "path",
    "per_page", "prev_page_url", "to", "total",
}  # fmt: skip
CONTACT_LIST = {
    "id",
    "client_id",
    "name",
    "importing",
    "nonexistent",
    "created_at",
    "updated_at",
    "contacts_count",
    "used",
}
CONTACT = {"id", "number", "extra", "variables", "created_at", "updated_at"}
SOUND = {
    "id", "client_id", "name", "duration", "confirmed", "comment", "confirmed_at", "created_at", "updated_at",
    "playback_url", "used",
}  # fmt: skip
SCENARIO = {"id", "client_id", "name", "max_cost", "comment", "created_at", "updated_at", "used"}
AUTOCALL_SUMMARY = {
    "id", "client_id", "name", "date_from", "time_from", "time_to", "max_tries", "tries_interval", "type",
    "status", "max_cost", "final_cost", "created_at", "updated_at",
}  # fmt: skip
AUTOCALL_DETAIL = AUTOCALL_SUMMARY | {
    "sms", "sms_unanswered", "text", "text_unanswered", "audio_id", "scenario_id", "processed", "speeches",
    "lifetime", "record", "comment", "callback_url", "caller_id", "finished_at", "calls_count",
    "processed_percentage", "counters", "calls",
}  # fmt: skip
COUNTERS = {
    "success_percentage",
    "success",
    "recalled",
    "no_answer",
    "busy",
    "error",
    "spam",
    "tries",
    "duration",
    "total",
}
CALL = {
    "id", "autocall_id", "number", "extra", "lock", "tries", "date_tries", "status_tries", "last_try_at",
    "duration", "r_duration", "status", "created_at", "updated_at",
}  # fmt: skip
CALL_STATUSES = {"in_queue", "success", "recalled", "no_answer", "busy", "error", "spam"}
CAMPAIGN_STATUSES = {"running", "completed", "awaiting", "moderation", "denied"}
BULK_SUMMARY = {
    "id", "client_id", "name", "status", "date_from", "time_from", "text", "segments", "recipients", "list_id",
    "max_cost", "created_at", "updated_at",
}  # fmt: skip
MESSAGE = {
    "id", "bulk_id", "number", "extra", "variables", "status", "provider", "init_time", "status_time",
    "created_at", "updated_at",
}  # fmt: skip
MESSAGE_STATUSES = {
    "queued", "disabled", "new", "sent", "delivered", "pending", "failed", "expired", "undeliverable", "rejected",
}  # fmt: skip
CONFIRMED_NUMBER = {"id", "number", "verified_at", "created_at", "updated_at"}
SETTINGS_FIELDS = {
    "name", "phone", "sms_verified_at", "moderation", "time_from", "time_to", "price", "sms_price", "sip_price",
    "speech_price", "synthesis_price", "recording_price", "recalled", "subscribe", "notifications_subscribe",
    "visit_card_audio", "visit_card_text", "confirmed_numbers", "statistics",
}  # fmt: skip
STATISTICS = {
    "duration",
    "calls",
    "confirmed_numbers",
    "spam_reports",
    "lists",
    "contacts",
    "autocalls",
    "bulks",
    "sms",
}
PAYMENTS = {"balance", "currency", "reserved", "incoming", "outgoing", "paid", "used", "transactions"}
DASHBOARD = {
    "running&awaiting",
    "in_queue",
    "reserved",
    "balance",
    "currency",
    "week_activity",
    "full_activity",
}
DAY_ACTIVITY = {"all", "success", "recalled", "no_answer", "busy", "error", "spam"}
NOTIFICATION = {"id", "type", "read_at", "created_at", "updated_at"}
NOTIFICATION_TYPES = {
    "SoundConfirmed", "SoundCommented", "SMSBulkConfirmed", "SMSBulkCommented", "SMSBulkFinished",
    "ScenarioConfirmed", "ScenarioCommented", "AutocallConfirmed", "AutocallCommented", "AutocallFinished",
    "ImportComplete", "ImportFailure", "NonexistentContactsDetected", "ExportIsReady", "ExportFailure",
    "RefreshBalance", "LowBalance", "CallerIdExpiringSoon", "CallerIdReleased",
}  # fmt: skip
TARIFFS = {
    "currency": "KZT",
    "note": "Цены за единицу: звонок (секунда тарификации), SMS (1 сообщение).",
    "tariffs": [
        {"name": "BRONZE", "threshold": 0, "call_price": 3.5, "sms_price": 18, "synthesis_price": 2,
         "speech_price": 2, "recording_price": 1},
        {"name": "SILVER", "threshold": 50000, "call_price": 2.8, "sms_price": 16, "synthesis_price": 1.8,
         "speech_price": 1.8, "recording_price": 0.8},
        {"name": "GOLD", "threshold": 200000, "call_price": 2.2, "sms_price": 14, "synthesis_price": 1.5,
         "speech_price": 1.5, "recording_price": 0.5},
    ],
}  # fmt: skip
#: the document's 55 operations: (method, path, operationId)
OPERATIONS = [
    ("GET", "/lists", "get-lists"), ("POST", "/lists", "post-lists"), ("GET", "/lists/{id}", "get-lists-id"),
    ("PUT", "/lists/{id}", "put-lists-id"), ("DELETE", "/lists/{id}", "delete-lists-id"),
    ("POST", "/lists/append/{id}", "post-lists-append-id"),
    ("DELETE", "/lists/nonexistent/{id}", "delete-lists-nonexistent-id"),
    ("PUT", "/lists/nonexistent/{id}", "put-lists-nonexistent-id"), ("GET", "/contacts/{id}", "get-contacts-id"),
    ("DELETE", "/contacts/{id}", "delete-contacts-id"), ("GET", "/sounds", "get-sounds"),
    ("POST", "/sounds", "post-sounds"), ("GET", "/sounds/{id}", "get-sounds-id"),
    ("PUT", "/sounds/{id}", "put-sounds-id"), ("DELETE", "/sounds/{id}", "delete-sounds-id"),
    ("GET", "/sounds/listen/{file}", "get-sounds-listen-file"), ("GET", "/scenarios", "get-scenarios"),
    ("POST", "/scenarios", "post-scenarios"), ("GET", "/scenarios/{id}", "get-scenarios-id"),
    ("PUT", "/scenarios/{id}", "put-scenarios-id"), ("DELETE", "/scenarios/{id}", "delete-scenarios-id"),
    ("GET", "/autocalls", "get-autocalls"), ("POST", "/autocalls", "post-autocalls"),
    ("GET", "/autocalls/{id}", "get-autocalls-id"), ("PUT", "/autocalls/{id}", "put-autocalls-id"),
    ("DELETE", "/autocalls/{id}", "delete-autocalls-id"), ("POST", "/autocalls/calculate", "post-autocalls-calculate"),
    ("GET", "/autocalls/relaunch/{id}", "get-autocalls-relaunch-id"), ("GET", "/calls/{id}", "get-calls-id"),
    ("GET", "/calls/recordings/{id}", "get-calls-recordings-id"), ("GET", "/bulks", "get-bulks"),
    ("POST", "/bulks", "post-bulks"), ("GET", "/bulks/{id}", "get-bulks-id"), ("PUT", "/bulks/{id}", "put-bulks-id"),
    ("DELETE", "/bulks/{id}", "delete-bulks-id"), ("POST", "/bulks/calculate", "post-bulks-calculate"),
    ("GET", "/messages/{id}", "get-messages-id"), ("GET", "/settings", "get-settings"),
    ("PUT", "/settings", "put-settings"), ("DELETE", "/settings/{visit_card_type}", "delete-settings-visit-card"),
    ("GET", "/settings/confirmed_numbers", "get-settings-confirmed-numbers"),
    ("POST", "/settings/confirmed_numbers", "post-settings-confirmed-numbers"), ("GET", "/balance", "get-balance"),
    ("GET", "/payments", "get-payments"), ("POST", "/payments", "post-payments"),
    ("GET", "/dashboard", "get-dashboard"), ("GET", "/notifications", "get-notifications"),
    ("PUT", "/notifications/{id}", "put-notifications-id"), ("DELETE", "/notifications/{id}", "delete-notifications-id"),
    ("GET", "/caller-ids", "get-caller-ids"), ("POST", "/caller-ids", "post-caller-ids"),
    ("DELETE", "/caller-ids/{id}", "delete-caller-ids-id"), ("POST", "/flash-calls", "post-flash-calls"),
    ("GET", "/api/public/tariffs", "getTariffs"), ("POST", "/api/public/test-call", "sendTestCall"),
]  # fmt: skip


# ----------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with run_sandbox(**SETTINGS) as url:
        yield url


@pytest.fixture(scope="module")
def api(base_url: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {KEY}", "Accept": "application/json"}
    with httpx.Client(base_url=f"{base_url}{API}", headers=headers, timeout=10) as client:
        yield client


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def errors(response: httpx.Response, status: int = 422) -> dict[str, list[str]]:
    body = ok(response, status)
    assert body["message"] and isinstance(body["errors"], dict), body
    return body["errors"]


def wait_for(probe: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def stats(base_url: str) -> dict[str, Any]:
    return httpx.get(f"{base_url}/__sandbox__/autocall/stats").json()


def set_balance(base_url: str, value: float) -> None:
    httpx.post(f"{base_url}/__sandbox__/autocall/balance", json={"balance": value}).raise_for_status()


def wav(seconds: int) -> str:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(b"\x80" * 8000 * seconds)
    return base64.b64encode(buffer.getvalue()).decode()


def numbers(count: int, prefix: str = "+7701") -> list[dict[str, str]]:
    return [{"number": f"{prefix}{i:07d}"} for i in range(count)]


# ----------------------------------------------------------------------------- every operation, auth, rate


def test_every_documented_operation_is_served(base_url: str, api: httpx.Client) -> None:
    """Each of the 55 (method, path) pairs reaches an AutoCall handler: JSON (or audio), never a bare 404/405."""
    assert len(OPERATIONS) == 55
    concrete = {"{id}": "999999", "{file}": "missing.wav", "{visit_card_type}": "visit_card_text"}
    for method, path, operation in OPERATIONS:
        for name, value in concrete.items():
            path = path.replace(name, value)
        url = path if path.startswith("/api/public") else f"{API}{path}"
        response = api.request(method, f"{base_url}{url}", json={} if method in ("POST", "PUT") else None)
        assert response.status_code not in (405, 500), (operation, response.status_code)
        if response.status_code != 204:
            kind = response.headers["content-type"]
            assert kind.startswith(("application/json", "audio/")), (operation, kind, response.text)


def test_bearer_key_is_required_except_for_the_public_part(base_url: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
        response = httpx.get(f"{base_url}{API}/balance", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthenticated."}
    assert httpx.get(f"{base_url}/api/public/tariffs").json() == TARIFFS


def test_300_requests_a_minute_then_429() -> None:
    with run_sandbox(seed=5) as url, httpx.Client(headers={"Authorization": f"Bearer {KEY}"}) as client:
        first = client.get(f"{url}{API}/balance")
        assert first.headers["X-RateLimit-Limit"] == "300"
        assert first.headers["X-RateLimit-Remaining"] == "299"
        for _ in range(299):
            assert client.get(f"{url}{API}/balance").status_code == 200
        refused = client.get(f"{url}{API}/balance")
        assert refused.status_code == 429
        assert refused.json() == {"message": "Too Many Attempts."}
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        # the public part is not counted against the key
        assert httpx.get(f"{url}/api/public/tariffs").status_code == 200


def test_balance_and_history_are_seeded_and_deterministic(api: httpx.Client) -> None:
    assert ok(api.get("/balance")) == {"balance": 100000.0, "currency": "₸"}
    with run_sandbox(**SETTINGS) as other, httpx.Client(headers=api.headers) as client:
        for path in ("/autocalls/1", "/bulks/1", "/lists/1", "/calls/3"):
            mine = ok(api.get(path))
            theirs = ok(client.get(f"{other}{API}{path}"))
            assert mine == {**theirs, **_urls(mine)}
    autocall = ok(api.get("/autocalls/1"))
    assert set(autocall) == AUTOCALL_DETAIL and autocall["status"] == "completed"
    assert autocall["calls_count"] == 25 and autocall["processed"] == 25


def _urls(body: dict[str, Any]) -> dict[str, Any]:
    """The parts of a body that name the server (absolute page URLs)."""
    return {k: body[k] for k in ("calls", "messages", "contacts") if k in body}


# ----------------------------------------------------------------------------- lists and contacts


def test_lists_create_show_page_filter_edit_append(base_url: str, api: httpx.Client) -> None:
    created = ok(
        api.post("/lists", json={"name": "VIP клиенты", "client_id": "vip-2024", "numbers": numbers(20)}), 201
    )
    assert set(created) == CONTACT_LIST
    assert (
        created["contacts_count"] == 20 and created["importing"] is False and created["nonexistent"] is None
    )
    shown = ok(api.get(f"/lists/{created['id']}", params={"page": 2}))
    assert set(shown["contacts"]) >= PAGINATION and set(shown["contacts"]["data"][0]) >= CONTACT
    assert shown["contacts"]["current_page"] == 2 and shown["contacts"]["total"] == 20
    assert shown["contacts"]["prev_page_url"] == f"{base_url}{API}/lists/{created['id']}?page=1"
    found = ok(api.get("/lists", params={"client_id": "vip-2024"}))
    assert [row["id"] for row in found["data"]] == [created["id"]]
    assert found["first_page_url"].startswith(f"{base_url}{API}/lists?")
    missing = api.get("/lists", params={"client_id": "nobody"})
    assert missing.status_code == 404 and missing.json() == {"message": "Not found."}
    assert errors(api.get("/lists", params={"order": "sideways"})).keys() == {"order"}
    assert errors(api.get("/lists", params={"date_from": "2024-02-30"})).keys() == {"date_from"}
    edited = ok(api.put(f"/lists/{created['id']}", json={"name": "VIP"}))
    assert edited["name"] == "VIP" and edited["client_id"] == "vip-2024"
    appended = ok(api.post(f"/lists/append/{created['id']}", json={"numbers": numbers(5, "+7705")}), 201)
    assert set(appended) == {"id", "client_id", "contacts_count", "created_at", "updated_at"}
    assert appended["contacts_count"] == 25
    contact = shown["contacts"]["data"][0]
    assert ok(api.get(f"/contacts/{contact['id']}"))["list_id"] == created["id"]
    assert api.delete(f"/contacts/{contact['id']}").status_code == 204
    assert api.get(f"/contacts/{contact['id']}").status_code == 404
    assert api.delete(f"/lists/{created['id']}").status_code == 204
    assert api.get(f"/lists/{created['id']}").json() == {"message": "Not found."}


def test_list_validation_follows_the_document(api: httpx.Client) -> None:
    assert errors(api.post("/lists", json={"numbers": numbers(1)})) == {"name": ["Поле name обязательно."]}
    assert "numbers" in errors(api.post("/lists", json={"name": "x", "numbers": numbers(10_001)}))
    assert (
        ok(api.post("/lists", json={"name": "x" * 40, "numbers": numbers(10_000, "+7702")}), 201)[
            "contacts_count"
        ]
        == 10_000
    )
    cases = {
        "numbers.0.number": {"number": "+77061234567"},  # 706 is not in the lists' pattern
        "numbers.1.number": {"number": "87011234567"},
        "numbers.2.extra": {"number": "+77011234567", "extra": "x" * 256},
        "numbers.3.variables.bad-key": {"number": "+77011234567", "variables": {"bad-key": "1"}},
        "numbers.4.variables.name": {"number": "+77011234567", "variables": {"name": "x" * 256}},
    }
    found = errors(api.post("/lists", json={"name": "x", "numbers": list(cases.values())}))
    assert set(found) == set(cases)
    for body, bad in (({"name": "x" * 41}, "name"), ({"name": "x", "client_id": None}, "client_id"),
                      ({"name": "x", "client_id": "c" * 257}, "client_id"), ({"name": "   "}, "name")):  # fmt: skip
        assert set(errors(api.post("/lists", json={**body, "numbers": numbers(1)}))) == {bad}
    assert ok(api.post("/lists", json={"name": "x", "client_id": "c" * 256, "numbers": numbers(1)}), 201)
    assert "numbers" in errors(api.post("/lists/append/1", json={"numbers": numbers(10_001)}))
    assert api.post("/lists/append/999999", json={"numbers": numbers(1)}).status_code == 404


# ----------------------------------------------------------------------------- sounds and scenarios


def test_sound_synthesis_upload_moderation_and_playback(base_url: str, api: httpx.Client) -> None:
    body = {"name": "Уведомление об оплате", "type": "synthesis", "client_id": "s-1",
            "data": [{"text": "Здравствуйте! Напоминаем об оплате до конца месяца.", "voice": "ru-RU-Wavenet-B", "speed": 1, "pitch": 0}]}  # fmt: skip
    before = ok(api.get("/balance"))["balance"]
    sound = ok(api.post("/sounds", json=body), 201)
    assert set(sound) == SOUND and sound["confirmed"] is False and sound["comment"] is None
    assert ok(api.get("/balance"))["balance"] == before - 2 * sound["duration"]  # BRONZE synthesis_price 2
    approved = wait_for(lambda: ok(api.get(f"/sounds/{sound['id']}"))["confirmed"])
    assert approved is True
    assert ok(api.get(f"/sounds/{sound['id']}"))["confirmed_at"] is not None
    upload = ok(
        api.post("/sounds", json={"name": "Моё приветствие", "type": "upload", "data": [{"file": wav(3)}]}),
        201,
    )
    assert upload["duration"] == 3
    audio = httpx.get(upload["playback_url"])
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
    refused = ok(api.post("/sounds", json={**body, "name": "Спам [deny]"}), 201)
    shown = wait_for(lambda: ok(api.get(f"/sounds/{refused['id']}"))["comment"])
    assert shown and ok(api.get(f"/sounds/{refused['id']}"))["confirmed"] is False
    renamed = ok(api.put(f"/sounds/{upload['id']}", json={"name": "Новое", "client_id": "up-1"}))
    assert (renamed["name"], renamed["client_id"]) == ("Новое", "up-1")
    assert api.delete(f"/sounds/{upload['id']}").status_code == 204
    set_balance(base_url, 1.0)
    try:
        short = api.post("/sounds", json=body)
        assert short.status_code == 402 and set(short.json()) == {"message"}
    finally:
        set_balance(base_url, 100_000.0)


def test_sound_validation(api: httpx.Client) -> None:
    def fail(body: dict[str, Any]) -> set[str]:
        return set(errors(api.post("/sounds", json=body)))

    synth = {"name": "x", "type": "synthesis"}
    assert fail({**synth, "data": [{"text": "a", "voice": "filipp"}]}) == {
        "data.0.voice"
    }  # autocall-only voice
    assert fail({**synth, "data": [{"text": "a" * 401}]}) == {"data.0.text"}
    assert fail({**synth, "data": [{"text": "a", "speed": 4.5, "pitch": -21}]}) == {
        "data.0.speed",
        "data.0.pitch",
    }
    assert fail({**synth, "data": [{"text": "a"}, {"text": "b"}]}) == {"data"}
    assert fail({**synth, "data": [{"voice": "jane"}]}) == {"data.0.text"}
    assert fail({"name": "x", "type": "upload", "data": [{"file": "base64_строка_файла_mp3"}]}) == {
        "data.0.file"
    }
    assert fail({"name": "x", "type": "tts", "data": [{"text": "a"}]}) == {"type"}
    assert fail({**synth, "data": [{"text": "a"}], "client_id": "c" * 61}) == {"client_id"}


def test_scenarios(api: httpx.Client) -> None:
    assert set(errors(api.post("/scenarios", json={"name": "Опрос", "data": "{not json"}))) == {"data"}
    created = ok(
        api.post(
            "/scenarios", json={"name": "Опрос", "data": '{"1": {"type": "record"}}', "client_id": "sc"}
        ),
        201,
    )
    assert set(created) >= SCENARIO
    detail = ok(api.get(f"/scenarios/{created['id']}"))
    assert detail["data"] == {"1": {"type": "record"}}
    assert wait_for(lambda: ok(api.get(f"/scenarios/{created['id']}"))["confirmed_at"])
    edited = ok(api.put(f"/scenarios/{created['id']}", json={"name": "Опрос 2"}))
    assert edited["name"] == "Опрос 2" and edited["data"] == {"1": {"type": "record"}}
    listed = ok(api.get("/scenarios"))
    assert set(listed) >= PAGINATION and any(row["id"] == created["id"] for row in listed["data"])
    assert api.delete(f"/scenarios/{created['id']}").status_code == 204


# ----------------------------------------------------------------------------- autocalls


def _regular(**extra: Any) -> dict[str, Any]:
    return {"name": "Уведомление об акции", "type": "regular", "time_from": "10:00:00", "time_to": "20:00:00",
            "audio_id": [1], "list_id": numbers(30, "+7707"), **extra}  # fmt: skip


def test_autocall_moves_to_completed_and_resolves_its_calls(base_url: str, api: httpx.Client) -> None:
    created = ok(api.post("/autocalls", json=_regular(client_id="ac-1", record=True, max_tries=3)), 201)
    assert set(created) == AUTOCALL_DETAIL and created["status"] == "moderation"
    assert created["calls"]["total"] == 30 and {c["status"] for c in created["calls"]["data"]} == {"in_queue"}
    seen = {created["status"]}

    def done() -> bool:
        seen.add(ok(api.get(f"/autocalls/{created['id']}"))["status"])
        return "completed" in seen

    assert wait_for(done)
    assert seen <= CAMPAIGN_STATUSES and {"moderation", "completed"} <= seen
    detail = ok(api.get(f"/autocalls/{created['id']}", params={"page": 2}))
    assert (
        set(detail["counters"]) == COUNTERS and detail["processed"] == 30 and detail["final_cost"] is not None
    )
    assert float(detail["final_cost"]) <= float(detail["max_cost"]) and detail["finished_at"]
    calls = detail["calls"]["data"]
    assert set(calls[0]) >= CALL and {c["status"] for c in calls} <= CALL_STATUSES - {"in_queue"}
    assert all(c["tries"] == len(c["date_tries"]) == len(c["status_tries"]) for c in calls)
    talked = next(c for c in calls if c["duration"] > 0)
    assert ok(api.get(f"/calls/{talked['id']}")) == talked
    recording = api.get(f"/calls/recordings/{talked['id']}")
    assert recording.status_code == 200 and recording.content[:4] == b"RIFF"
    silent = next((c for c in calls if c["duration"] == 0), None)
    if silent is not None:
        assert api.get(f"/calls/recordings/{silent['id']}").status_code == 404
    relaunched = ok(api.get(f"/autocalls/relaunch/{created['id']}"), 201)
    assert set(relaunched) == {
        "id",
        "name",
        "updated_at",
        "created_at",
        "used",
        "contacts_count",
        "importing",
    }
    assert relaunched["contacts_count"] == 30 - detail["counters"]["success"]
    assert ok(api.get("/autocalls", params={"client_id": "ac-1"}))["data"][0]["id"] == created["id"]
    assert stats(base_url)["created"]["autocalls"]["ac-1"] == 1


def test_autocall_nonexistent_numbers_reach_the_list(api: httpx.Client) -> None:
    people = ok(api.post("/lists", json={"name": "Проверка", "numbers": numbers(60, "+7747")}), 201)
    created = ok(api.post("/autocalls", json={**_regular(), "list_id": [people["id"]]}), 201)
    assert wait_for(lambda: ok(api.get(f"/autocalls/{created['id']}"))["status"] == "completed")
    detail = ok(api.get(f"/autocalls/{created['id']}"))
    shown = ok(api.get(f"/lists/{people['id']}"))
    assert len(shown["nonexistent"]) == detail["counters"]["error"] > 0
    assert shown["used"] == 1
    assert api.delete(f"/lists/nonexistent/{people['id']}").status_code == 204
    after = ok(api.get(f"/lists/{people['id']}"))
    assert after["nonexistent"] is None and after["contacts_count"] == 60 - detail["counters"]["error"]
    assert ok(api.put(f"/lists/nonexistent/{people['id']}"))["nonexistent"] is None


def test_autocall_validation_follows_the_document(api: httpx.Client) -> None:
    def fail(**extra: Any) -> set[str]:
        return set(errors(api.post("/autocalls", json=_regular(**extra))))

    assert fail(tries_interval=45) == {"tries_interval"}
    assert fail(max_tries=5) == {"max_tries"}
    assert fail(time_from="9:00:00", time_to="24:00:00") == {"time_from", "time_to"}
    assert fail(date_from="2024-3-15") == {"date_from"}
    assert fail(type="robot") == {"type"}
    assert fail(client_id=None) == {"client_id"}  # no ``nullable`` in the document
    assert fail(callback_url="h" * 257) == {"callback_url"}
    assert fail(audio_id=[]) == {"audio_id"}
    assert fail(audio_id=[999_999]) == {"audio_id.0"}
    assert fail(sms=True) == {"text"}
    assert fail(caller_id="+77086469620") == {"caller_id"}  # not rented
    assert fail(list_id=[{"number": "+7701"}]) == {"list_id.0.number"}
    assert fail(list_id=numbers(5001)) == {"list_id"}
    voice = {"type": "synthesis", "data": {"text": "Ваш код подтверждения: 3, 0, 7, 5.", "voice": "filipp"}}
    assert (
        ok(api.post("/autocalls/calculate", json=_regular(audio_id=[voice], caller_id=None)), 201)["max_cost"]
        > 0
    )
    assert fail(audio_id=[{**voice, "data": {"text": "x", "voice": "bob"}}]) == {"audio_id.0.data.voice"}
    interactive = {"name": "Опрос удовлетворённости", "type": "interactive", "list_id": numbers(2)}
    assert set(errors(api.post("/autocalls", json=interactive))) == {"scenario_id"}
    missing_type = {k: v for k, v in _regular().items() if k != "type"}
    assert set(errors(api.post("/autocalls", json=missing_type))) == {"type"}
    # inline numbers of a campaign only need 12 characters (their schema has no pattern)
    assert ok(api.post("/autocalls/calculate", json=_regular(list_id=[{"number": "+77061234567"}])), 201)


def test_calculate_spam_denial_edit_and_delete(base_url: str, api: httpx.Client) -> None:
    cost = ok(api.post("/autocalls/calculate", json=_regular()), 201)
    assert set(cost) == {"max_cost"} and isinstance(cost["max_cost"], (int, float))
    assert cost["max_cost"] == 30 * 12 * 3.5  # 30 numbers x 12 s of sound 1 x BRONZE call_price
    short = {"type": "synthesis", "data": {"text": "Код 1"}}
    spam = api.post("/autocalls", json=_regular(audio_id=[short], list_id=numbers(1000)))
    assert spam.status_code == 403 and "audio_id" in spam.json()["errors"]
    assert (
        api.post("/autocalls/calculate", json=_regular(audio_id=[short], list_id=numbers(1000))).status_code
        == 403
    )
    denied = ok(api.post("/autocalls", json=_regular(name="Акция [deny]")), 201)
    assert wait_for(lambda: ok(api.get(f"/autocalls/{denied['id']}"))["status"] == "denied")
    assert ok(api.get(f"/autocalls/{denied['id']}"))["comment"]
    other = ok(api.post("/autocalls", json=_regular()), 201)
    moderated = httpx.post(
        f"{base_url}/__sandbox__/autocall/moderation",
        json={"kind": "autocall", "id": other["id"], "decision": "deny", "comment": "Нет лицензии"},
    )
    assert moderated.status_code == 200
    assert ok(api.get(f"/autocalls/{other['id']}"))["comment"] == "Нет лицензии"
    edit = ok(api.post("/autocalls", json=_regular()), 201)
    changed = ok(
        api.put(f"/autocalls/{edit['id']}", json={"name": "Новое имя", "tries_interval": 120, "max_tries": 4})
    )
    assert (changed["name"], changed["tries_interval"], changed["max_tries"]) == ("Новое имя", 120, 1)
    assert set(errors(api.put(f"/autocalls/{edit['id']}", json={"tries_interval": 45}))) == {"tries_interval"}
    assert wait_for(lambda: ok(api.get(f"/autocalls/{edit['id']}"))["status"] == "running", 3)
    assert set(errors(api.put(f"/autocalls/{edit['id']}", json={"name": "x"}))) == {"status"}
    assert set(errors(api.delete(f"/autocalls/{edit['id']}"))) == {"status"}
    refused = api.get(f"/autocalls/relaunch/{edit['id']}")
    assert refused.status_code == 403 and refused.json()["errors"]
    assert api.delete(f"/autocalls/{denied['id']}").status_code == 204


def test_over_5000_numbers_is_202_and_appears_later(base_url: str, api: httpx.Client) -> None:
    set_balance(base_url, 1_000_000.0)  # 5,001 numbers x 12 s x 3.5 ₸ is more than the default balance
    big = ok(api.post("/lists", json={"name": "Большой", "numbers": numbers(5001, "+7708")}), 201)
    accepted = api.post("/autocalls", json=_regular(list_id=[big["id"]], client_id="bg-1"))
    assert accepted.status_code == 202
    assert ok(api.get("/autocalls", params={"client_id": "bg-1"}))["total"] == 0
    found = wait_for(lambda: ok(api.get("/autocalls", params={"client_id": "bg-1"}))["data"])
    assert found and found[0]["status"] in CAMPAIGN_STATUSES


def test_interactive_autocall_answers_and_listen(base_url: str, api: httpx.Client) -> None:
    body = {"name": "Опрос удовлетворённости", "type": "interactive", "time_from": "10:00:00", "time_to": "18:00:00",
            "scenario_id": 1, "list_id": numbers(20, "+7771"), "max_tries": 3, "tries_interval": 60, "record": True,
            "callback_url": "https://example.com/reports"}  # fmt: skip
    created = ok(api.post("/autocalls", json=body), 201)
    assert created["type"] == "interactive" and created["scenario_id"] == 1 and created["audio_id"] is None
    assert wait_for(lambda: ok(api.get(f"/autocalls/{created['id']}"))["status"] == "completed")
    calls = ok(api.get(f"/autocalls/{created['id']}"))["calls"]["data"]
    answered = next(c for c in calls if c["data"])
    file = answered["data"]["record"]
    assert api.get(f"/sounds/listen/{file}", params={"type": "download"}).content[:4] == b"RIFF"
    text = ok(api.get(f"/sounds/listen/{file}", params={"type": "text"}))
    assert set(text) == {"text"}
    assert set(errors(api.get(f"/sounds/listen/{file}"))) == {"type"}
    assert api.get("/sounds/listen/nothing.wav", params={"type": "text"}).status_code == 404


# ----------------------------------------------------------------------------- bulks and messages


def test_bulk_lifecycle_messages_and_worst_case_cost(base_url: str, api: httpx.Client) -> None:
    text = "Здравствуйте, {{name}}! Ваш долг {{debt}} тенге. Оплатите до конца месяца."
    recipients = [{"number": "+77010000001", "variables": {"name": "Иван", "debt": "15000"}},
                  {"number": "+77010000002", "variables": {"name": "Пётр", "debt": "3200"}}]  # fmt: skip
    cost = ok(
        api.post(
            "/bulks/calculate", json={"name": "Напоминание о долге", "text": text, "list_id": recipients}
        ),
        201,
    )
    assert cost == {"max_cost": 2 * 18}  # 69 UCS-2 characters at worst: one segment, BRONZE sms_price 18
    bulk = ok(
        api.post(
            "/bulks",
            json={"name": "Напоминание о долге", "text": text, "list_id": recipients, "client_id": "b-1"},
        ),
        201,
    )
    assert set(bulk) >= BULK_SUMMARY and {"final_cost", "comment", "callback_url", "messages"} <= set(bulk)
    assert bulk["segments"] == 1 and bulk["recipients"] == 2 and bulk["status"] == "moderation"
    message = bulk["messages"]["data"][0]
    assert (
        set(message) == MESSAGE
        and message["status"] == "queued"
        and message["variables"] == {"name": "Иван", "debt": "15000"}
    )
    assert wait_for(lambda: ok(api.get(f"/bulks/{bulk['id']}"))["status"] == "completed")
    final = ok(api.get(f"/messages/{message['id']}"))
    assert final["status"] in MESSAGE_STATUSES - {"queued", "new", "sent", "pending", "disabled"}
    assert ok(api.get("/bulks", params={"client_id": "b-1"}))["data"][0]["id"] == bulk["id"]
    assert stats(base_url)["bulks_by_client_id"]["b-1"] == 1


def test_bulk_limits_denial_edit_and_delete(base_url: str, api: httpx.Client) -> None:
    many = numbers(5001)
    assert set(errors(api.post("/bulks", json={"name": "x", "text": "Hi", "list_id": many}))) == {"list_id"}
    assert (
        ok(api.post("/bulks/calculate", json={"name": "x", "text": "Hi", "list_id": many}), 201)["max_cost"]
        == 5001 * 18
    )
    assert set(
        errors(api.post("/bulks/calculate", json={"name": "x", "text": "Hi", "list_id": numbers(6001)}))
    ) == {"list_id"}
    bad = {
        "name": "",
        "text": "t" * 1601,
        "list_id": [{"number": "+7701", "extra": "e" * 61}],
        "time_from": "10:00",
    }
    assert set(errors(api.post("/bulks", json=bad))) == {
        "name",
        "text",
        "list_id.0.number",
        "list_id.0.extra",
        "time_from",
    }
    assert set(errors(api.post("/bulks", json={"name": "x", "text": "Hi", "list_id": [999_999]}))) == {
        "list_id.0"
    }
    bulk = ok(api.post("/bulks", json={"name": "Акция — ноябрь", "text": "Скидка 20%", "list_id": [1]}), 201)
    assert bulk["list_id"] == [1] and bulk["recipients"] == 25
    edited = ok(
        api.put(
            f"/bulks/{bulk['id']}", json={"time_from": "11:00:00", "callback_url": "https://example.com/sms"}
        )
    )
    assert edited["time_from"] == "11:00:00" and edited["callback_url"] == "https://example.com/sms"
    denied = httpx.post(
        f"{base_url}/__sandbox__/autocall/moderation",
        json={"kind": "bulk", "id": bulk["id"], "decision": "deny"},
    )
    assert denied.status_code == 200
    shown = ok(api.get(f"/bulks/{bulk['id']}"))
    assert (
        shown["status"] == "denied"
        and shown["comment"]
        and shown["messages"]["data"][0]["status"] == "disabled"
    )
    assert set(errors(api.put(f"/bulks/{bulk['id']}", json={"name": "x"}))) == {"status"}
    assert api.delete(f"/bulks/{bulk['id']}").status_code == 204
    set_balance(base_url, 10.0)
    try:
        assert "balance" in errors(
            api.post("/bulks", json={"name": "x", "text": "Hi", "list_id": numbers(2)})
        )
    finally:
        set_balance(base_url, 100_000.0)


# ----------------------------------------------------------------------------- settings and confirmed numbers


def test_settings_and_visit_card(api: httpx.Client) -> None:
    settings = ok(api.get("/settings"))
    assert set(settings) == SETTINGS_FIELDS and set(settings["statistics"]) == STATISTICS
    assert settings["price"] == "3.50" and settings["sms_price"] == "18.00"
    changed = ok(api.put("/settings", json={"name": "Жандос", "subscribe": True, "notifications_subscribe": False,
                                            "visit_card_text": "Компания AutoCall.kz, тел: +77470000000", "visit_card_audio": 1}))  # fmt: skip
    assert changed["name"] == "Жандос" and changed["visit_card_audio"] == 1
    assert set(errors(api.put("/settings", json={"name": "Ж", "visit_card_text": "x" * 161}))) == {
        "name",
        "visit_card_text",
    }
    assert set(errors(api.put("/settings", json={"subscribe": "yes", "visit_card_audio": 999_999}))) == {
        "subscribe",
        "visit_card_audio",
    }
    assert api.delete("/settings/visit_card_text").status_code == 204
    assert ok(api.get("/settings"))["visit_card_text"] is None
    assert set(errors(api.delete("/settings/visit_card_video"))) == {"visit_card_type"}


def test_confirmed_numbers_in_two_steps(base_url: str, api: httpx.Client) -> None:
    listed = ok(api.get("/settings/confirmed_numbers"))
    assert set(listed[0]) == CONFIRMED_NUMBER and listed[0]["verified_at"]
    assert set(errors(api.post("/settings/confirmed_numbers", json={"number": "+77060000001"}))) == {"number"}
    assert set(errors(api.post("/settings/confirmed_numbers", json={"number": "+77100000001"}))) == {"number"}
    assert set(errors(api.post("/settings/confirmed_numbers", json={}))) == {"number", "verification_code"}
    step1 = ok(api.post("/settings/confirmed_numbers", json={"number": "+77020000001"}), 201)
    assert set(step1) == CONFIRMED_NUMBER and step1["verified_at"] is None
    code = stats(base_url)["verification_codes"]["+77020000001"]
    assert 10000 <= code <= 99999
    wrong = 10000 if code != 10000 else 10001
    assert set(errors(api.post("/settings/confirmed_numbers", json={"verification_code": wrong}))) == {
        "verification_code"
    }
    assert set(errors(api.post("/settings/confirmed_numbers", json={"verification_code": 9999}))) == {
        "verification_code"
    }
    step2 = ok(api.post("/settings/confirmed_numbers", json={"verification_code": code}), 201)
    assert step2["number"] == "+77020000001" and step2["verified_at"]


# ----------------------------------------------------------------------------- money, dashboard, notifications


def test_payments_dashboard_and_notifications(base_url: str, api: httpx.Client) -> None:
    assert set(errors(api.post("/payments", json={"amount": 199}))) == {"amount"}
    assert set(errors(api.post("/payments", json={"amount": "много"}))) == {"amount"}
    url = ok(api.post("/payments", json={"amount": 1000}), 201)["payment_url"]
    payments = ok(api.get("/payments"))
    assert set(payments) == PAYMENTS and set(payments["transactions"]) >= PAGINATION
    pending = payments["transactions"]["data"][0]
    assert (pending["type"], pending["confirmed"], pending["total"]) == ("deposit", False, 1000)
    before = ok(api.get("/balance"))["balance"]
    assert httpx.get(url).status_code == 200 and httpx.get(url).status_code == 200  # paid once
    assert ok(api.get("/balance"))["balance"] == before + 1000
    assert ok(api.get("/payments"))["transactions"]["data"][0]["confirmed"] is True
    dashboard = ok(api.get("/dashboard"))
    assert set(dashboard) == DASHBOARD and set(dashboard["full_activity"]) == DAY_ACTIVITY
    assert len(dashboard["week_activity"]) == 7 and dashboard["full_activity"]["all"] >= 50
    notes = ok(api.get("/notifications"))
    assert set(notes) == {"data", "unread"} and notes["unread"] == len(notes["data"])
    assert {n["type"] for n in notes["data"]} <= NOTIFICATION_TYPES
    assert {"AutocallFinished", "SMSBulkFinished", "RefreshBalance"} <= {n["type"] for n in notes["data"]}
    first = notes["data"][0]
    assert set(first) >= NOTIFICATION and first["type"] == "RefreshBalance"
    read = ok(api.put(f"/notifications/{first['id']}"))
    assert read["id"] == first["id"] and read["read_at"]
    assert ok(api.get("/notifications"))["unread"] == notes["unread"] - 1
    assert api.delete(f"/notifications/{first['id']}").status_code == 204
    assert api.put(f"/notifications/{first['id']}").status_code == 404


def test_caller_ids_follow_the_tariff_limits(api: httpx.Client) -> None:
    listed = ok(api.get("/caller-ids"))
    assert listed["data"] == [] and listed["max_caller_id_rentals"] == 0  # Bronze — 0 номеров
    assert api.post("/caller-ids", json={"caller_id_id": 42}).status_code == 403
    with (
        run_sandbox(seed=5, autocall_tariff="SILVER") as url,
        httpx.Client(base_url=f"{url}{API}", headers=api.headers) as silver,
    ):
        pool = httpx.get(f"{url}/__sandbox__/autocall/caller-ids").json()
        taken = next(row["caller_id_id"] for row in pool if not row["free"])
        assert silver.post("/caller-ids", json={"caller_id_id": taken}).status_code == 409
        assert set(errors(silver.post("/caller-ids", json={"caller_id_id": 1}))) == {"caller_id_id"}
        rented = ok(silver.post("/caller-ids", json={"caller_id_id": 42}), 201)
        assert set(rented) == {"message", "number", "rented_until"}
        assert silver.post("/caller-ids", json={"caller_id_id": 43}).status_code == 403  # Silver — 1
        row = ok(silver.get("/caller-ids"))["data"][0]
        assert row["number"] == rented["number"] and row["id"] != 42
        campaign = _regular(caller_id=rented["number"])
        assert ok(silver.post("/autocalls", json=campaign), 201)["caller_id"] == rented["number"]
        assert silver.delete("/caller-ids/42").status_code == 404  # the rental's id, not the pool's
        assert set(ok(silver.delete(f"/caller-ids/{row['id']}"))) == {"message"}
        assert set(errors(silver.post("/autocalls", json=campaign))) == {"caller_id"}


def test_flash_calls(base_url: str, api: httpx.Client) -> None:
    auto = ok(api.post("/flash-calls", json={"number": "+77000000000", "digits": 4}), 201)
    assert set(auto) == {"id", "code", "number"} and len(auto["code"]) == 4 and auto["code"].isdigit()
    # 706 is in the flash calls' pattern (not in the lists')
    own = ok(api.post("/flash-calls", json={"number": "+77060000000", "code": "7823"}), 201)
    assert own["code"] == "7823"
    assert set(errors(api.post("/flash-calls", json={"number": "+77060000001", "code": "1111"}))) == {"code"}
    assert set(errors(api.post("/flash-calls", json={"number": "+77060000001"}))) == {"digits", "code"}
    assert set(errors(api.post("/flash-calls", json={"number": "87010000000", "digits": 7}))) == {
        "number",
        "digits",
    }
    assert set(errors(api.post("/flash-calls", json={"number": "+77010000000", "code": "12a4"}))) == {"code"}
    for _ in range(2):
        assert api.post("/flash-calls", json={"number": "+77000000000", "digits": 6}).status_code == 201
    limited = api.post("/flash-calls", json={"number": "+77000000000", "digits": 6})
    assert limited.status_code == 429 and set(limited.json()) == {"message"}
    assert stats(base_url)["by_number"]["flash_calls"]["+77000000000"] == 3
    set_balance(base_url, 0.0)
    try:
        assert api.post("/flash-calls", json={"number": "+77010000009", "digits": 4}).status_code == 402
    finally:
        set_balance(base_url, 100_000.0)


def test_public_test_call(base_url: str) -> None:
    time.sleep(1.0)  # a fresh per-IP window (rate_window_seconds=1 in this module)
    sent = httpx.post(f"{base_url}/api/public/test-call", json={"phone": "7771234567"})
    assert sent.status_code == 200
    assert sent.json() == {
        "message": "Тестовый звонок отправлен на номер +77771234567. Ожидайте звонка в течение 1–2 минут.",
        "number": "+77771234567",
    }
    again = httpx.post(f"{base_url}/api/public/test-call", json={"phone": "7771234567"})
    assert again.status_code == 429 and set(again.json()) == {"message"}  # one call per number a day
    third = httpx.post(f"{base_url}/api/public/test-call", json={"phone": "7061234567"})
    assert third.status_code == 429  # two requests a minute per IP
    time.sleep(1.0)
    assert httpx.post(f"{base_url}/api/public/test-call", json={"phone": "+77061234567"}).status_code == 422
    assert httpx.post(f"{base_url}/api/public/test-call", json={"phone": "7010000666"}).status_code == 403
    with run_sandbox(seed=5, autocall_test_call_hours=("00:00:00", "00:00:00")) as closed:
        shut = httpx.post(f"{closed}/api/public/test-call", json={"phone": "7061234567"})
        assert shut.status_code == 422 and "09:00" not in shut.json()["message"]


# ----------------------------------------------------------------------------- exactly once


def test_a_dropped_create_is_found_by_client_id(base_url: str, api: httpx.Client) -> None:
    rule = {"path_prefix": "/api/v1/autocalls", "method": "POST", "fault": "drop"}
    httpx.post(f"{base_url}/__sandbox__/faults", json=rule).raise_for_status()
    with pytest.raises(httpx.TransportError):
        api.post("/autocalls", json=_regular(client_id="drop-ac"))
    found = ok(api.get("/autocalls", params={"client_id": "drop-ac"}))["data"]
    assert len(found) == 1 and found[0]["client_id"] == "drop-ac"
    assert stats(base_url)["created"]["autocalls"]["drop-ac"] == 1


def test_cli_flags() -> None:
    from airflow_provider_telephony.sandbox.cli import build_parser, config_from_args

    args = [
        "serve",
        "--autocall-tariff",
        "GOLD",
        "--autocall-step-seconds",
        "0.5",
        "--autocall-balance",
        "50",
    ]
    config = config_from_args(build_parser().parse_args(args))
    assert (config.autocall_tariff, config.autocall_step_seconds, config.autocall_balance) == (
        "GOLD",
        0.5,
        50.0,
    )
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--autocall-tariff", "PLATINUM"])
