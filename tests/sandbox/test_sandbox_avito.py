"""The Avito CallTracking sandbox, tested over real loopback HTTP with plain httpx.

Expectations come from the vendor document (seeds/avito-calltracking.openapi.json) and from
``AvitoWorld``, the sandbox's own pure-Python view of its seeded data.
"""

from __future__ import annotations

import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from airflow_provider_telephony.sandbox import SandboxConfig, run_sandbox
from airflow_provider_telephony.sandbox.avito import AvitoWorld, add_months, parse_rfc3339
from airflow_provider_telephony.sandbox.faults import parse_faults

CALLS = "/calltracking/v1/getCalls/"
BY_ID = "/calltracking/v1/getCallById/"
RECORD = "/calltracking/v1/getRecordByCallId/"
CREDENTIALS = {
    "grant_type": "client_credentials",
    "client_id": "sandbox-client-id",
    "client_secret": "sandbox-client-secret",
}
WINDOW = {"dateTimeFrom": "2026-03-01T00:00:00Z", "dateTimeTo": "2026-03-08T00:00:00Z"}


def token(client: httpx.Client) -> dict[str, str]:
    """Authorization header with a fresh access token."""
    response = client.post("/token", data=CREDENTIALS)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with run_sandbox(seed=7) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield http


@pytest.fixture(scope="module")
def auth(client: httpx.Client) -> dict[str, str]:
    return token(client)


@pytest.fixture(scope="module")
def world() -> AvitoWorld:
    return AvitoWorld(SandboxConfig(seed=7))


def get_calls(client: httpx.Client, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(CALLS, json=body, headers=auth)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# ----------------------------------------------------------------------------- data model


def test_world_calls_follow_the_document_schema(world: AvitoWorld) -> None:
    calls = world.calls
    assert 300 * 30 < len(calls) < 365 * 30 * 1.3
    for call in calls[:500]:
        assert set(call) == {
            "callId",
            "callTime",
            "talkDuration",
            "waitingDuration",
            "buyerPhone",
            "sellerPhone",
            "virtualPhone",
            "itemId",
        }
        assert call["callTime"].endswith("Z") and "." not in call["callTime"]
        for phone in ("buyerPhone", "sellerPhone", "virtualPhone"):
            assert call[phone].startswith("+7000") and len(call[phone]) == 12
    keys = [(c["callTime"], c["callId"]) for c in calls]
    assert keys == sorted(keys)
    unanswered = sum(1 for c in calls if c["talkDuration"] == 0) / len(calls)
    assert 0.15 < unanswered < 0.35
    assert any(c["itemId"] is None for c in calls) and any(c["itemId"] for c in calls)


def test_rfc3339_parsing_and_month_arithmetic() -> None:
    assert parse_rfc3339("2026-03-01T03:00:00+03:00") == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert parse_rfc3339("2026-03-01T00:00:00.5Z").microsecond == 500_000
    for bad in ("2026-03-01", "2026-03-01T00:00:00", "2026-02-30T00:00:00Z", "yesterday"):
        with pytest.raises(ValueError):
            parse_rfc3339(bad)
    assert add_months(datetime(2026, 1, 31, tzinfo=timezone.utc), 1).day == 28


def test_fault_specs_are_validated() -> None:
    assert parse_faults("none") == ()
    assert len(parse_faults("flaky")) == 7
    assert parse_faults("500=0.1,reset=0.02")[1][1] == 0.02
    for bad in ("500", "700=0.1", "500=2", "500=0.7,503=0.7", "boom=0.1"):
        with pytest.raises(ValueError):
            parse_faults(bad)


# ----------------------------------------------------------------------------- token


def test_token_flow_and_errors(client: httpx.Client) -> None:
    body = client.post("/token", data=CREDENTIALS).json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and len(body["access_token"]) > 20
    wrong = client.post("/token", data={**CREDENTIALS, "client_secret": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    grant = client.post("/token", data={**CREDENTIALS, "grant_type": "password"})
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    as_json = client.post("/token", json=CREDENTIALS)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"


def test_missing_or_unknown_token_is_401(client: httpx.Client) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        response = client.post(CALLS, json={**WINDOW, "limit": 1, "offset": 0}, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == 1002
    record = client.get(RECORD, params={"callId": 1})
    assert record.status_code == 401 and record.json()["code"] == 1002


def test_token_expires_and_stats_count_it() -> None:
    with run_sandbox(avito_token_ttl=0.5) as url, httpx.Client(base_url=url) as http:
        auth = token(http)
        assert http.post(CALLS, json={**WINDOW, "limit": 1, "offset": 0}, headers=auth).status_code == 200
        time.sleep(0.6)
        expired = http.post(CALLS, json={**WINDOW, "limit": 1, "offset": 0}, headers=auth)
        assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]
        token(http)
        stats = http.get("/__sandbox__/avito/stats").json()
        assert stats["tokens_issued"] == 2
        assert stats["requests"]["getCalls"] == 2 and stats["requests"]["token"] == 2


# ----------------------------------------------------------------------------- getCalls


def test_get_calls_pages_match_the_world(
    client: httpx.Client, auth: dict[str, str], world: AvitoWorld
) -> None:
    expected = world.calls_between(parse_rfc3339(WINDOW["dateTimeFrom"]), parse_rfc3339(WINDOW["dateTimeTo"]))
    assert len(expected) > 100
    got: list[dict[str, Any]] = []
    offset = 0
    while True:
        body = get_calls(client, auth, **WINDOW, limit=100, offset=offset)
        assert body["error"] == {"code": 0, "message": ""}
        got.extend(body["calls"])
        if len(body["calls"]) < 100:
            break
        offset += 100
    assert got == expected


def test_get_calls_window_is_inclusive_and_accepts_offsets(
    client: httpx.Client, auth: dict[str, str], world: AvitoWorld
) -> None:
    call = world.calls[1000]
    moment = parse_rfc3339(call["callTime"]).astimezone(timezone(timedelta(hours=3)))
    exact = moment.isoformat(timespec="microseconds")  # "+03:00" offset and a fraction
    body = get_calls(client, auth, dateTimeFrom=exact, dateTimeTo=exact, limit=10, offset=0)
    assert call in body["calls"]
    assert all(c["callTime"] == call["callTime"] for c in body["calls"])


def test_get_calls_default_window_is_one_month(
    client: httpx.Client, auth: dict[str, str], world: AvitoWorld
) -> None:
    start = datetime(2026, 1, 31, tzinfo=timezone.utc)
    expected = world.calls_between(start, datetime(2026, 2, 28, tzinfo=timezone.utc))
    body = get_calls(client, auth, dateTimeFrom="2026-01-31T00:00:00Z", limit=100, offset=len(expected) - 1)
    assert body["calls"] == expected[-1:]
    null_to = get_calls(client, auth, dateTimeFrom="2026-01-31T00:00:00Z", dateTimeTo=None, limit=1, offset=0)
    assert null_to["calls"] == expected[:1]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({**WINDOW, "limit": 101, "offset": 0}, "limit"),
        ({**WINDOW, "limit": 0, "offset": 0}, "limit"),
        ({**WINDOW, "limit": "10", "offset": 0}, "limit"),
        ({**WINDOW, "limit": 10, "offset": -1}, "offset"),
        ({**WINDOW, "limit": 10}, "offset"),
        ({"dateTimeTo": WINDOW["dateTimeTo"], "limit": 10, "offset": 0}, "dateTimeFrom"),
        ({"dateTimeFrom": "2026-03-01", "limit": 10, "offset": 0}, "dateTimeFrom"),
        (
            {
                "dateTimeFrom": "2026-03-02T00:00:00Z",
                "dateTimeTo": "2026-03-01T00:00:00Z",
                "limit": 1,
                "offset": 0,
            },
            "earlier",
        ),
        (
            {
                "dateTimeFrom": "2026-01-31T00:00:00Z",
                "dateTimeTo": "2026-05-01T00:00:00Z",
                "limit": 1,
                "offset": 0,
            },
            "3 months",
        ),
        ([1, 2], "object"),
    ],
)
def test_get_calls_validation_errors_are_1001(
    client: httpx.Client, auth: dict[str, str], body: Any, needle: str
) -> None:
    result = client.post(CALLS, json=body, headers=auth)
    assert result.status_code == 200
    assert result.json()["calls"] == []
    assert result.json()["error"]["code"] == 1001 and needle in result.json()["error"]["message"]


def test_get_calls_exactly_three_months_is_allowed(client: httpx.Client, auth: dict[str, str]) -> None:
    body = get_calls(
        client,
        auth,
        dateTimeFrom="2026-01-31T00:00:00Z",
        dateTimeTo="2026-04-30T00:00:00Z",
        limit=1,
        offset=0,
    )
    assert body["error"]["code"] == 0 and len(body["calls"]) == 1


@pytest.mark.parametrize("raw", [b"", b"   ", b"{not json", b"null"])
def test_empty_or_unparsable_body_is_1000(client: httpx.Client, auth: dict[str, str], raw: bytes) -> None:
    headers = {**auth, "Content-Type": "application/json"}
    assert client.post(CALLS, content=raw, headers=headers).json()["error"]["code"] == 1000
    assert client.post(BY_ID, content=raw, headers=headers).json()["error"]["code"] == 1000


# ----------------------------------------------------------------------------- getCallById


def test_get_call_by_id(client: httpx.Client, auth: dict[str, str], world: AvitoWorld) -> None:
    call = world.calls[42]
    found = client.post(BY_ID, json={"callId": call["callId"]}, headers=auth).json()
    assert found == {"call": call, "error": {"code": 0, "message": ""}}
    missing = client.post(BY_ID, json={"callId": 1}, headers=auth).json()
    assert missing["call"] is None and missing["error"]["code"] == 1004
    for bad in ({"callId": 0}, {"callId": "5"}, {}):
        invalid = client.post(BY_ID, json=bad, headers=auth).json()
        assert invalid["call"] is None and invalid["error"]["code"] == 1001


# ----------------------------------------------------------------------------- recordings


def test_recording_of_late_call_is_425_then_ready() -> None:
    config = SandboxConfig(
        seed=11, data_start=date.today() - timedelta(days=5), data_days=3, recording_delay=1.0
    )
    world = AvitoWorld(config)
    late = next(c["callId"] for c in world.calls if world.is_late(c["callId"]))
    prompt = next(
        c["callId"]
        for c in world.calls
        if world.has_recording(c["callId"]) and not world.is_late(c["callId"])
    )
    with run_sandbox(config) as url, httpx.Client(base_url=url) as http:
        auth = token(http)
        early = http.get(RECORD, params={"callId": late}, headers=auth)
        assert early.status_code == 425 and early.json()["code"] == 1005
        assert http.get(RECORD, params={"callId": prompt}, headers=auth).status_code == 200
        deadline = time.monotonic() + 5
        while (ready := http.get(RECORD, params={"callId": late}, headers=auth)).status_code == 425:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert ready.status_code == 200 and ready.headers["content-type"] == "audio/mpeg"
    assert ready.content == world.recording_bytes(late)
    assert int(ready.headers["content-length"]) == len(ready.content)
    assert ready.content.startswith(b"ID3") and 2048 <= len(ready.content) <= 40960


def test_recording_of_a_call_that_has_not_ended_plus_delay_is_425() -> None:
    config = SandboxConfig(data_start=date.today() + timedelta(days=2), data_days=1, recording_delay=0)
    world = AvitoWorld(config)
    future = next(c["callId"] for c in world.calls if world.has_recording(c["callId"]))
    with run_sandbox(config) as url, httpx.Client(base_url=url) as http:
        response = http.get(RECORD, params={"callId": future}, headers=token(http))
    assert response.status_code == 425 and response.json()["code"] == 1005


def test_recording_errors(client: httpx.Client, auth: dict[str, str], world: AvitoWorld) -> None:
    unanswered = next(c["callId"] for c in world.calls if c["talkDuration"] == 0)
    assert not world.has_recording(unanswered)
    cases = [({"callId": unanswered}, 404, 1004), ({"callId": 1}, 404, 1004), ({}, 400, 1001)]
    cases += [({"callId": "abc"}, 400, 1001), ({"callId": 0}, 400, 1001)]
    for params, status, code in cases:
        response = client.get(RECORD, params=params, headers=auth)
        assert (response.status_code, response.json()["code"]) == (status, code), params


# ----------------------------------------------------------------------------- rate limit


def test_rate_limit_429_with_headers() -> None:
    with run_sandbox(avito_rate_limit=3) as url, httpx.Client(base_url=url) as http:
        auth = token(http)
        body = {**WINDOW, "limit": 1, "offset": 0}
        remaining = [
            http.post(CALLS, json=body, headers=auth).headers["X-RateLimit-Remaining"] for _ in range(3)
        ]
        assert remaining == ["2", "1", "0"]
        limited = http.post(CALLS, json=body, headers=auth)
        assert limited.status_code == 429
        assert limited.headers["X-RateLimit-Limit"] == "3" and limited.headers["X-RateLimit-Remaining"] == "0"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        other = token(http)  # the limit is per access token
        assert http.post(CALLS, json=body, headers=other).status_code == 200


# ----------------------------------------------------------------------------- faults


def test_one_shot_faults(client: httpx.Client, auth: dict[str, str]) -> None:
    body = {**WINDOW, "limit": 1, "offset": 0}
    rule = {"path_prefix": CALLS, "status": 503, "count": 2}
    assert client.post("/__sandbox__/faults", json=rule).status_code == 200
    assert [client.post(CALLS, json=body, headers=auth).status_code for _ in range(3)] == [503, 503, 200]
    client.post("/__sandbox__/faults", json={"path_prefix": CALLS, "status": 0})
    with pytest.raises(httpx.TransportError):
        client.post(CALLS, json=body, headers=auth)
    client.post("/__sandbox__/faults", json={"path_prefix": CALLS, "fault": "truncate"})
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(CALLS, json=body, headers=auth)
    client.post("/__sandbox__/faults", json={"path_prefix": CALLS, "status": 500, "count": 5})
    assert client.delete("/__sandbox__/faults").json()["pending"] == []
    assert client.post(CALLS, json=body, headers=auth).status_code == 200
    assert client.post("/__sandbox__/faults", json={"status": 200.5}).status_code == 400


def test_fault_profile_spares_control_paths() -> None:
    with run_sandbox(faults="429=1.0") as url, httpx.Client(base_url=url) as http:
        limited = http.post("/token", data=CREDENTIALS)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
        assert http.get("/__sandbox__/health").json() == {"ok": True}
        assert http.get("/__sandbox__/faults").json()["injected"] == {"429": 1}


def test_flaky_profile_is_deterministic() -> None:
    def statuses() -> list[int | str]:
        seen: list[int | str] = []
        with run_sandbox(faults="500=0.3,reset=0.2", seed=5) as url:
            for _ in range(30):
                with httpx.Client(base_url=url) as http:
                    try:
                        seen.append(http.post("/token", data=CREDENTIALS).status_code)
                    except httpx.TransportError:
                        seen.append("reset")
        return seen

    first = statuses()
    assert {500, 200, "reset"} <= set(first)
    assert statuses() == first


# ----------------------------------------------------------------------------- determinism & CLI


def test_same_seed_same_data_over_http() -> None:
    def snapshot(seed: int) -> tuple[bytes, bytes]:
        with run_sandbox(seed=seed) as url, httpx.Client(base_url=url) as http:
            auth = token(http)
            page = http.post(CALLS, json={**WINDOW, "limit": 100, "offset": 0}, headers=auth)
            answered = next(c for c in page.json()["calls"] if c["talkDuration"] > 0)
            record = http.get(RECORD, params={"callId": answered["callId"]}, headers=auth)
            return page.content, record.content

    first = snapshot(3)
    assert snapshot(3) == first
    assert snapshot(4)[0] != first[0]


def test_cli_serves_and_prints_url_and_credentials() -> None:
    command = [
        sys.executable,
        "-m",
        "airflow_provider_telephony.sandbox.cli",
        "serve",
        "--port",
        "0",
        "--seed",
        "2",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready, "sandbox CLI printed nothing within 30 s"
        first = process.stdout.readline().strip()
        assert first.startswith("telephony-sandbox listening on http://127.0.0.1:")
        url = first.rsplit(" ", 1)[1]
        assert "client_secret=sandbox-client-secret" in process.stdout.readline()
        assert "api_key=" in process.stdout.readline()
        assert httpx.get(f"{url}/__sandbox__/health").json() == {"ok": True}
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=15)
    # uvicorn shuts down gracefully, then re-raises the signal it caught (so the exit shows SIGTERM)
    assert process.returncode in (0, -signal.SIGTERM)
    assert "Traceback" not in errors
