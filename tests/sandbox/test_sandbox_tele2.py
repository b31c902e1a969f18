"""The Tele2 PBX CRM OpenAPI sandbox, tested over real loopback HTTP with plain httpx.

Paths, field names, enum values, result strings and refusal texts are copied here from
``seeds/tele2-ats-crm-openapi.ocr.txt`` on purpose, instead of being imported from the module under test:
a misreading of the document must fail a test, not pass twice.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from airflow_provider_telephony.sandbox import run_sandbox
from airflow_provider_telephony.sandbox.cli import build_parser, config_from_args, credential_lines

CONFIG: dict[str, Any] = {
    "seed": 7,
    "data_start": date(2026, 1, 1),
    "data_days": 20,
    "calls_per_day": 30,
    "tele2_click_to_call_seconds": 0.5,
}
ACCESS = "sandbox-tele2-access-0001"
REFRESH = "sandbox-tele2-refresh-0001"
API = "/crm/openapi"
REFRESH_PATH = "/authorization/refresh/token"
ALL_DATA = {"start": "2025-12-31T00:00:00+03:00", "end": "2026-01-22T00:00:00+03:00"}
WINDOW = {"start": "2026-01-03T00:00:00+03:00", "end": "2026-01-06T00:00:00+03:00"}

# --- copied from the document ----------------------------------------------------------------
ALREADY_UPDATED = "The token has already been updated"
EXPIRED = "The token is expired"
CALL_TYPES = {
    "SINGLE_CHANNEL", "MULTI_CHANNEL", "UNKNOWN_CALL", "INTERNAL", "HIMSELF", "INTERNAL_QUEUE", "CRM_OUTGOING",
    "VOICEMAIL", "CONFERENCE", "CALLBACK", "PICKUP_CALL", "FAX", "OUTGOING", "CRM_CALLBACK",
}  # fmt: skip
CALL_STATUSES = {
    "ANSWERED_COMMON", "ANSWERED_BY_ORIGINAL_CLIENT", "ANSWERED_BY_BUSY_FORWARD_CLIENT",
    "ANSWERED_BY_NO_ANSWER_FORWARD_CLIENT", "NOT_ANSWERED_COMMON", "CANCELLED_BY_CALLER",
    "DENIED_DUE_TO_MAX_SESSION", "DENIED_DUE_TO_INCOMING_CALLS_BLOCKED", "DENIED_DUE_TO_OUTGOING_CALLS_BLOCKED",
    "DENIED_DUE_TO_ONLY_INTERNAL_CALLS_ENABLED", "DENIED_DUE_TO_BLACK_LISTED", "DENIED_NOT_IN_WHITE_LIST",
    "DENIED_DUE_TO_NOT_WORK_TIME", "DENIED_DUE_TO_UNKNOWN_NUMBER", "DESTINATION_BUSY", "CANCELLED_BY_PICKUP",
}  # fmt: skip
RECORD_FIELDS = [
    "date", "callType", "destinationNumber", "callerNumber", "callerName", "calleeNumber", "calleeName",
    "callDuration", "conversationDuration", "callStatus", "recordFileName",
]  # fmt: skip
STATISTICS_FIELDS = [  # the order of the document's example
    "allCallCount", "successCallCount", "outgoingCallCount", "lostCallCount", "commonCallDuration",
    "averageCallDuration", "maxCallDuration", "callCountPerDay", "callCountPerHour", "mnAvgCallDuration",
    "mnMaxCallDuration", "averageCallCountPerHour", "transferCallCount", "transferCallDuration",
    "averageTransferCallDuration", "hangupACallCount", "hangupBCallCount", "uniqueCallCount", "redialCount",
    "internalCallCount", "internalCallDuration", "averageInternalCallDuration",
]  # fmt: skip
JOURNAL_FIELDS = {"number", "startTimestamp", "endTimestamp", "numberOfCalls", "numberOfSuccessCalls"}
MONITORING_TYPES = {"MULTI_CHANNEL", "INTERNAL", "SINGLE_CHANNEL", "CONFERENCE"}
MONITORING_FIELDS = {
    "callType",
    "callerNumberShort",
    "callerNumberFull",
    "calledNumberShort",
    "calledNumberFull",
}
EMPLOYEE_FIELDS = {"employeeId", "name", "surname", "fullNumber", "shortNumber", "email", "groupName"}
MANAGER_FIELDS = {"id", "employeeId", "companyId", "name", "customers", "handleAllCustomers"}
CUSTOMER_FIELDS = {"id", "name", "realNumber", "companyName", "info", "isVip"}
NUMBER = re.compile(r"7\d{10}")
ISO_MS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with run_sandbox(**CONFIG) as url:
        yield url


@pytest.fixture(scope="module")
def api(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url + API, headers={"Authorization": ACCESS}, timeout=10) as http:
        yield http


def records(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/call-records/info", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list)
    return body


def jwt_payload(token: str) -> dict[str, Any]:
    header, payload, signature = token.split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS512"}  # the document's header
    assert signature
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return result


def refresh(http: httpx.Client, token: str) -> httpx.Response:
    return http.put(API + REFRESH_PATH, headers={"Authorization": token})


def works(http: httpx.Client, access: str) -> bool:
    status = http.get(API + "/monitoring/calls", headers={"Authorization": access}).status_code
    assert status in (200, 403)
    return status == 200


# ----------------------------------------------------------------------------- authorization

DOCUMENTED = [
    ("GET", "/monitoring/calls"), ("GET", "/monitoring/calls/pending"), ("GET", "/employees"),
    ("POST", "/call/outgoing"), ("GET", "/statistics/common"), ("GET", "/statistics/journal"),
    ("GET", "/call-records/info"), ("GET", "/call-records/file"), ("GET", "/call-records/file/stt"),
    ("GET", "/managers"), ("GET", "/managers/26"), ("POST", "/managers"), ("PUT", "/managers"),
    ("DELETE", "/managers/26"), ("POST", "/blacklist"), ("DELETE", "/blacklist/by-msisdn/70001112233"),
    ("DELETE", "/blacklist/all"), ("GET", "/blacklist"),
]  # fmt: skip


def test_every_method_wants_the_raw_access_token(base_url: str) -> None:
    with httpx.Client(base_url=base_url + API) as http:
        for method, path in DOCUMENTED:
            for headers in ({}, {"Authorization": f"Bearer {ACCESS}"}, {"Authorization": REFRESH}):
                response = http.request(method, path, headers=headers)
                assert response.status_code == 403, (method, path, headers)
                assert response.json()["status"] == 403
        assert http.get("/employees", headers={"Authorization": ACCESS}).status_code == 200
        stats = http.get(base_url + "/__sandbox__/tele2/stats").json()
        assert stats["rejected_access"] >= 3 * len(DOCUMENTED)
        assert stats["requests"]["managers_delete"] >= 3


def test_refresh_rotates_the_pair_strictly() -> None:
    with run_sandbox(**CONFIG) as url, httpx.Client(base_url=url) as http:
        first = refresh(http, REFRESH)
        assert first.status_code == 200, first.text
        pair = first.json()
        assert set(pair) == {"accessToken", "refreshToken"}
        assert works(http, pair["accessToken"])
        assert not works(http, ACCESS), "the old access token dies with the refresh"
        again = refresh(http, REFRESH)
        assert (again.status_code, again.text) == (403, ALREADY_UPDATED)

        access, refresh_claims = jwt_payload(pair["accessToken"]), jwt_payload(pair["refreshToken"])
        assert (access["sub"], refresh_claims["sub"]) == ("ACCESS_TOKEN", "REFRESH_TOKEN")
        assert access["exp"] - access["iat"] == pytest.approx(86400, abs=1)
        assert refresh_claims["exp"] - refresh_claims["iat"] == pytest.approx(604800, abs=1)
        assert access["jti"] != refresh_claims["jti"]

        second = refresh(http, pair["refreshToken"]).json()
        assert not works(http, pair["accessToken"])
        assert works(http, second["accessToken"])
        stale = refresh(http, pair["refreshToken"])
        assert (stale.status_code, stale.text) == (403, ALREADY_UPDATED)
        assert refresh(http, f"Bearer {second['refreshToken']}").status_code == 403
        assert refresh(http, "no-such-token").status_code == 403
        assert refresh(http, second["accessToken"]).status_code == 403
        assert jwt_payload(second["accessToken"])["jti"] != access["jti"]

        stats = http.get("/__sandbox__/tele2/stats").json()
        assert stats["refreshes"] == 2
        assert stats["pair_generation"] == 2
        assert stats["refused_refreshes"] == {"already_updated": 2, "expired": 0, "unknown": 3}
        assert second["refreshToken"] in stats["issued_tokens"]


def test_tokens_expire_after_their_lifetimes() -> None:
    config = {**CONFIG, "tele2_access_ttl": 0.5, "tele2_refresh_ttl": 1.5}
    with run_sandbox(**config) as url, httpx.Client(base_url=url) as http:
        assert works(http, ACCESS)
        time.sleep(0.6)
        assert not works(http, ACCESS), "an expired access token is 403, not 401"
        pair = refresh(http, REFRESH).json()  # the initial refresh token lives 1.5 s from server start
        assert works(http, pair["accessToken"])
        access, claims = jwt_payload(pair["accessToken"]), jwt_payload(pair["refreshToken"])
        assert access["exp"] - access["iat"] == pytest.approx(0.5, abs=0.01), "sub-second exp for short TTLs"
        assert claims["exp"] - claims["iat"] == pytest.approx(1.5, abs=0.01)
        time.sleep(max(0.0, access["exp"] - time.time()) + 0.05)
        assert not works(http, pair["accessToken"])
        time.sleep(max(0.0, claims["exp"] - time.time()) + 0.05)
        expired = refresh(http, pair["refreshToken"])
        assert (expired.status_code, expired.text) == (403, EXPIRED)
        old = refresh(http, REFRESH)  # superseded and expired: expiry is checked first
        assert (old.status_code, old.text) == (403, EXPIRED)
        stats = http.get("/__sandbox__/tele2/stats").json()
        assert stats["refused_refreshes"]["expired"] == 2
        assert stats["pair_generation"] == 1


def test_generate_control_kills_every_previous_pair() -> None:
    with run_sandbox(**CONFIG) as url, httpx.Client(base_url=url) as http:
        generated = http.post("/__sandbox__/tele2/generate").json()
        assert set(generated) == {"accessToken", "refreshToken"}
        assert not works(http, ACCESS)
        stale = refresh(http, REFRESH)
        assert (stale.status_code, stale.text) == (403, ALREADY_UPDATED)
        assert works(http, generated["accessToken"])
        assert http.get("/__sandbox__/tele2/stats").json()["pair_generation"] == 1

        assert http.post("/__sandbox__/tele2/expire").json() == {"expired": ["access"]}
        assert not works(http, generated["accessToken"])
        renewed = refresh(http, generated["refreshToken"])
        assert renewed.status_code == 200
        http.post("/__sandbox__/tele2/expire", json={"refresh": True})
        assert refresh(http, renewed.json()["refreshToken"]).text == EXPIRED
        assert http.get("/__sandbox__/tele2/stats").json()["pair_generation"] == 2


# ----------------------------------------------------------------------------- call records


def test_records_page_until_a_short_page(api: httpx.Client) -> None:
    everything = records(api, **WINDOW, size=1000)
    assert 40 < len(everything) < 1000
    assert len(records(api, **WINDOW)) == 10, "the documented default size"
    pages: list[dict[str, Any]] = []
    for page in range(100):
        chunk = records(api, **WINDOW, page=page, size=7)
        pages.extend(chunk)
        if len(chunk) < 7:
            break
    assert pages == everything
    dates = [row["date"] for row in everything]
    assert dates == sorted(dates), "default sort is date,ASC"
    assert dates[0] >= "2026-01-02T21:00:00.000Z" and dates[-1] < "2026-01-05T21:00:00.000Z"
    assert records(api, **WINDOW, page=1000) == []


def test_records_sort(api: httpx.Client) -> None:
    ascending = records(api, **WINDOW, size=1000)
    descending = records(api, **WINDOW, size=1000, sort="date,DESC")
    assert [r["date"] for r in descending] == sorted((r["date"] for r in ascending), reverse=True)
    by_type = records(api, **WINDOW, size=1000, sort="callType,ASC")
    assert [r["callType"] for r in by_type] == sorted(r["callType"] for r in ascending)
    by_length = records(api, **WINDOW, size=1000, sort="callDuration,desc")
    assert [r["callDuration"] for r in by_length] == sorted(
        (r["callDuration"] for r in ascending), reverse=True
    )
    assert sorted(map(json.dumps, by_length)) == sorted(map(json.dumps, ascending))
    assert api.get("/call-records/info", params={**WINDOW, "sort": "nope,ASC"}).status_code == 400


def test_records_filters(api: httpx.Client) -> None:
    everything = records(api, **WINDOW, size=1000)
    caller = max({r["callerNumber"] for r in everything}, key=[r["callerNumber"] for r in everything].count)
    by_caller = records(api, **WINDOW, size=1000, caller=caller)
    assert by_caller == [r for r in everything if r["callerNumber"] == caller]
    callee = by_caller[0]["calleeNumber"]
    both = records(api, **WINDOW, size=1000, caller=caller, callee=callee)
    assert both and all((r["callerNumber"], r["calleeNumber"]) == (caller, callee) for r in both)
    assert records(api, **WINDOW, size=1000, callee=callee) == [
        r for r in everything if r["calleeNumber"] == callee
    ]
    recorded = records(api, **WINDOW, size=1000, is_recorded="true")
    assert recorded == [r for r in everything if r["recordFileName"]]
    assert records(api, **WINDOW, size=1000, is_recorded="false") == everything


def test_records_use_every_documented_value(api: httpx.Client) -> None:
    rows = records(api, **ALL_DATA, size=100_000)
    assert 300 < len(rows) < 900
    assert {r["callType"] for r in rows} == CALL_TYPES
    assert {r["callStatus"] for r in rows} == CALL_STATUSES
    for row in rows:
        assert list(row) == RECORD_FIELDS
        assert ISO_MS.fullmatch(row["date"])
        assert NUMBER.fullmatch(row["callerNumber"]) and NUMBER.fullmatch(row["calleeNumber"])
        assert row["callDuration"] >= row["conversationDuration"] >= 0
        if row["callStatus"].startswith("ANSWERED"):
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}/(mo_)?\d+", row["recordFileName"])
            assert row["conversationDuration"] > 0
        else:
            assert row["recordFileName"] == "" and row["conversationDuration"] == 0


def test_time_parameters_are_strict(base_url: str, api: httpx.Client) -> None:
    raw = f"{base_url}{API}/call-records/info?start=2026-01-03T00:00:00+03:00&end=2026-01-04T00:00:00+03:00"
    response = api.get(raw)
    assert response.status_code == 400, "a '+' not percent-encoded arrives as a space"
    assert response.json()["status"] == 400 and "start" in response.json()["message"]
    encoded = raw.replace("+", "%2B")
    assert api.get(encoded).status_code == 200
    assert api.get(encoded.replace("%2B03:00", "Z")).status_code == 200
    bad = [
        {"start": WINDOW["start"]},
        {"end": WINDOW["end"]},
        {"start": "2026-01-03T00:00:00", "end": WINDOW["end"]},
        {"start": "2026-01-03", "end": WINDOW["end"]},
        {"start": WINDOW["end"], "end": WINDOW["start"]},
        {**WINDOW, "page": "abc"},
        {**WINDOW, "page": "-1"},
        {**WINDOW, "size": "0"},
        {**WINDOW, "size": "1.5"},
        {**WINDOW, "is_recorded": "maybe"},
    ]
    for params in bad:
        assert api.get("/call-records/info", params=params).status_code == 400, params
    for path in ("/statistics/common", "/statistics/journal"):
        assert api.get(path, params={"start": WINDOW["start"]}).status_code == 400
        assert (
            api.get(path, params={**WINDOW, "subscriberNumber": "+70001234567", "number": "8900"}).status_code
            == 400
        )


# ----------------------------------------------------------------------------- recordings


def first_recorded(api: httpx.Client, minimum: int = 10) -> dict[str, Any]:
    return next(
        r
        for r in records(api, **WINDOW, size=1000, is_recorded="true")
        if r["conversationDuration"] >= minimum
    )


def test_recording_is_a_real_mp3(base_url: str, api: httpx.Client) -> None:
    row = first_recorded(api)
    name = row["recordFileName"]
    response = api.get(f"/call-records/file?filename={quote(name, safe='')}")  # 2026-01-03%2F...
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/mpeg"
    body = response.content
    assert int(response.headers["content-length"]) == len(body)
    assert body[0] == 0xFF and body[1] & 0xF0 == 0xF0, "frame sync 0xFFF"
    # MPEG-1 Layer III, 32 kbit/s, 32 kHz: 144-byte frames of 1152 samples
    assert body[1] & 0x0E == 0x0A and body[2] >> 4 == 1 and (body[2] >> 2) & 3 == 2
    frames = math.ceil(row["conversationDuration"] * 32000 / 1152)
    assert len(body) == frames * 144
    assert all(body[i] == 0xFF and body[i + 1] & 0xF0 == 0xF0 for i in range(0, len(body), 144))

    twice = quote(quote(name, safe=""), safe="")  # the document's 2022-08-19%252F... example
    assert api.get(f"/call-records/file?filename={twice}").status_code == 404
    assert api.get("/call-records/file", params={"filename": "2026-01-03/1"}).status_code == 404
    assert api.get("/call-records/file").status_code == 400

    with (
        run_sandbox(**CONFIG) as other,
        httpx.Client(base_url=other + API, headers={"Authorization": ACCESS}) as http,
    ):
        assert http.get("/call-records/file", params={"filename": name}).content == body
        assert records(http, **ALL_DATA, size=100_000) == records(api, **ALL_DATA, size=100_000)
    with (
        run_sandbox(**{**CONFIG, "seed": 8}) as other,
        httpx.Client(base_url=other + API, headers={"Authorization": ACCESS}) as http,
    ):
        assert records(http, **WINDOW, size=1000) != records(api, **WINDOW, size=1000)


def test_transcript_words(api: httpx.Client) -> None:
    row = first_recorded(api, minimum=20)
    response = api.get("/call-records/file/stt", params={"filename": row["recordFileName"]})
    assert response.status_code == 200
    words = response.json()
    assert len(words) > 5
    assert {w["channel"] for w in words} == {"A", "B"}
    for word in words:
        assert set(word) == {"channel", "startTime", "endTime", "word"}
        assert 0 <= word["startTime"] <= word["endTime"] <= row["conversationDuration"]
        assert isinstance(word["word"], str) and word["word"]
    assert [w["startTime"] for w in words] == sorted(w["startTime"] for w in words)
    assert api.get("/call-records/file/stt", params={"filename": "2026-01-03/1"}).status_code == 404


# ----------------------------------------------------------------------------- statistics


def test_statistics_common(api: httpx.Client) -> None:
    stats = api.get("/statistics/common", params=WINDOW).json()
    assert list(stats) == STATISTICS_FIELDS
    for name, value in stats.items():
        kind = (int, float) if name in ("callCountPerDay", "callCountPerHour") else int
        assert isinstance(value, kind) and not isinstance(value, bool), name
    rows = records(api, **WINDOW, size=1000)
    assert stats["allCallCount"] == len(rows)
    assert (
        stats["allCallCount"]
        == stats["successCallCount"] + stats["lostCallCount"] + stats["internalCallCount"]
    )
    assert stats["callCountPerDay"] == pytest.approx((stats["successCallCount"] + stats["lostCallCount"]) / 3)
    assert stats["callCountPerHour"] == pytest.approx(stats["callCountPerDay"] / 24)
    number = rows[0]["calleeNumber"]
    mine = api.get("/statistics/common", params={**WINDOW, "subscriberNumber": number}).json()
    involved = [r for r in rows if number in (r["callerNumber"], r["calleeNumber"], r["destinationNumber"])]
    assert 0 < mine["allCallCount"] == len(involved) < stats["allCallCount"]


def test_statistics_journal(api: httpx.Client) -> None:
    rows = records(api, **WINDOW, size=1000)
    number = rows[0]["calleeNumber"]
    journal = api.get("/statistics/journal", params={**WINDOW, "number": number}).json()
    assert set(journal) == JOURNAL_FIELDS
    assert journal["number"] == number
    assert journal["startTimestamp"] == int(datetime.fromisoformat(WINDOW["start"]).timestamp())
    assert journal["endTimestamp"] == int(datetime.fromisoformat(WINDOW["end"]).timestamp())
    involved = [r for r in rows if number in (r["callerNumber"], r["calleeNumber"], r["destinationNumber"])]
    assert journal["numberOfCalls"] == len(involved)
    assert journal["numberOfSuccessCalls"] == sum(r["callStatus"].startswith("ANSWERED") for r in involved)
    company = api.get("/statistics/journal", params=WINDOW).json()
    assert company["number"] is None and company["numberOfCalls"] == len(rows)


# ----------------------------------------------------------------------------- monitoring, employees, c2c


def test_monitoring_and_employees(api: httpx.Client) -> None:
    calls = api.get("/monitoring/calls").json()
    assert calls and {c["callType"] for c in calls} <= MONITORING_TYPES
    assert all(set(c) <= MONITORING_FIELDS and "callerNumberFull" in c for c in calls)
    assert any("calledNumberFull" not in c for c in calls), "a caller not yet routed to a B number"
    queues = api.get("/monitoring/calls/pending").json()
    assert queues and all(set(q) == {"queueName", "calls"} for q in queues)
    assert all(
        isinstance(q["queueName"], str) and all(NUMBER.fullmatch(n) for n in q["calls"]) for q in queues
    )
    employees = api.get("/employees").json()
    assert all(set(e) <= EMPLOYEE_FIELDS and isinstance(e["employeeId"], int) for e in employees)
    assert any(set(e) == {"employeeId"} for e in employees), "the document's example has such an employee"
    assert all(NUMBER.fullmatch(e["fullNumber"]) for e in employees if "fullNumber" in e)


def test_click_to_call_happens_once(base_url: str, api: httpx.Client) -> None:
    employee = next(e for e in api.get("/employees").json() if "shortNumber" in e)
    destination = "70009990001"
    for params in ({"source": employee["fullNumber"]}, {"destination": destination}):
        assert api.post("/call/outgoing", params=params).status_code == 400
    assert (
        api.post("/call/outgoing", params={"destination": destination, "source": "70000000000"}).status_code
        == 400
    )
    before = time.time()
    response = api.post(
        "/call/outgoing", params={"destination": destination, "source": employee["shortNumber"]}
    )
    assert (response.status_code, response.content) == (200, b"")
    live = [c for c in api.get("/monitoring/calls").json() if c.get("calledNumberFull") == destination]
    assert live == [{
        "callType": "SINGLE_CHANNEL", "callerNumberShort": employee["shortNumber"],
        "callerNumberFull": employee["fullNumber"], "calledNumberFull": destination,
    }]  # fmt: skip
    clicks = httpx.get(base_url + "/__sandbox__/tele2/stats").json()["click_to_call"]
    assert len(clicks) == 1
    assert (clicks[0]["source"], clicks[0]["destination"]) == (employee["shortNumber"], destination)
    time.sleep(0.6)
    assert not [c for c in api.get("/monitoring/calls").json() if c.get("calledNumberFull") == destination]
    window = {
        "start": datetime.fromtimestamp(before - 5).astimezone().isoformat(),
        "end": datetime.fromtimestamp(time.time() + 5).astimezone().isoformat(),
    }
    (row,) = records(api, **window, size=100)
    assert (row["callType"], row["callStatus"]) == ("CRM_OUTGOING", "ANSWERED_COMMON")
    assert (row["callerNumber"], row["calleeNumber"]) == (employee["fullNumber"], destination)
    recording = api.get("/call-records/file", params={"filename": row["recordFileName"]})
    assert recording.status_code == 200 and recording.content[:2] == b"\xff\xfb"


# ----------------------------------------------------------------------------- managers and blacklist


def test_managers() -> None:
    with (
        run_sandbox(**CONFIG) as url,
        httpx.Client(base_url=url + API, headers={"Authorization": ACCESS}) as api,
    ):
        managers = api.get("/managers").json()
        assert managers and all(set(m) == MANAGER_FIELDS for m in managers)
        assert all(set(c) == CUSTOMER_FIELDS for m in managers for c in m["customers"])
        first = managers[0]
        assert api.get(f"/managers/{first['id']}").json() == first
        assert api.get("/managers/999999").status_code == 404
        assert api.get("/managers/abc").status_code == 400
        assert any(m["handleAllCustomers"] for m in managers)
        employee_id = api.get("/employees").json()[3]["employeeId"]
        customer = {
            "name": "Петров",
            "realNumber": "70001230000",
            "companyName": "test",
            "info": "",
            "isVip": True,
        }
        new = {"employeeId": employee_id, "companyId": 391, "name": "Петров", "customers": [customer]}

        created = api.post("/managers", json={**new, "handleAllCustomers": False})
        assert (created.status_code, created.text) == (200, "SUCCESS")
        assert created.headers["content-type"].startswith("text/plain")
        all_customers = api.post("/managers", json={**new, "customers": [], "handleAllCustomers": True})
        assert all_customers.text == "MANAGER_HANDLING_ALL_CUSTOMERS_ALREADY_EXISTS"
        taken = {**customer, "realNumber": first["customers"][0]["realNumber"]}
        assert api.post("/managers", json={**new, "customers": [taken]}).text == "CUSTOMER_ALREADY_ASSIGNED"
        assert api.post("/managers", json={**new, "id": 45}).status_code == 400
        assert api.post("/managers", json={**new, "employeeId": "x"}).status_code == 400

        mine = next(m for m in api.get("/managers").json() if m["name"] == "Петров")
        assert mine["customers"][0]["realNumber"] == "70001230000"
        assert api.put("/managers", json=new).status_code == 404, "PUT without id"
        assert api.put("/managers", json={**new, "id": 999999}).status_code == 404
        renamed = api.put("/managers", json={**mine, "name": "Сидоров"})
        assert (renamed.status_code, renamed.text) == (200, "SUCCESS")
        assert api.get(f"/managers/{mine['id']}").json()["name"] == "Сидоров"
        assert api.delete(f"/managers/{mine['id']}").status_code == 200
        assert api.delete(f"/managers/{mine['id']}").status_code == 404
        assert httpx.get(url + "/__sandbox__/tele2/stats").json()["managers"] == len(managers)


def test_blacklist() -> None:
    with (
        run_sandbox(**CONFIG) as url,
        httpx.Client(base_url=url + API, headers={"Authorization": ACCESS}) as api,
    ):
        entries = api.get("/blacklist").json()
        assert {e["sourceType"] for e in entries} == {"FILE", "MANUAL"}
        assert all(
            set(e) == {"id", "number", "sourceType"} and NUMBER.fullmatch(e["number"]) for e in entries
        )
        number = "70009998877"
        assert number not in {e["number"] for e in entries}
        added = api.post("/blacklist", content=number, headers={"Content-Type": "text/plain"})
        assert (added.status_code, added.text) == (200, "SUCCESS")
        assert api.post("/blacklist", content=number).text == "DUPLICATE_BLACK_LIST_NUMBER"
        assert {"number": number, "sourceType": "MANUAL"}.items() <= api.get("/blacklist").json()[-1].items()
        for malformed in ("+70009998877", f'"{number}"', "89998887766", ""):
            assert api.post("/blacklist", content=malformed).status_code == 400, malformed
        assert api.delete(f"/blacklist/by-msisdn/{number}").text == "SUCCESS"
        assert number not in {e["number"] for e in api.get("/blacklist").json()}
        assert api.delete("/blacklist/all").text == "SUCCESS"
        assert api.get("/blacklist").json() == []
        stats = httpx.get(url + "/__sandbox__/tele2/stats").json()
        assert stats["blacklist"] == 0 and stats["requests"]["blacklist_add"] == 6


# ----------------------------------------------------------------------------- CLI


def test_cli_flags_and_hint() -> None:
    config = config_from_args(
        build_parser().parse_args(["serve", "--tele2-access-ttl", "5", "--tele2-refresh-ttl", "9"])
    )
    assert (config.tele2_access_ttl, config.tele2_refresh_ttl) == (5.0, 9.0)
    (line,) = [line for line in credential_lines(config) if line.startswith("tele2 ")]
    assert ACCESS in line and REFRESH in line and "/crm/openapi" in line
