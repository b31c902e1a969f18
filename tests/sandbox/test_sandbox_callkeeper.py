"""CallKeeper emulation over real loopback HTTP (plain httpx), checked against the vendor documents.

Expected texts, field names and the ``info`` block are copied from ``seeds/callkeeper-v1.md`` and
``seeds/callkeeper-v3.md`` here on purpose, instead of being imported from the module under test: a
misreading of a document must fail a test, not pass twice.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from airflow_provider_telephony.sandbox.callkeeper import CallKeeperWorld, build_routes
from airflow_provider_telephony.sandbox.config import SandboxConfig

CONFIG = SandboxConfig(
    seed=7,
    data_start=date(2026, 1, 1),
    data_days=40,
    calls_per_day=30,
    callkeeper_v1_page_length=100,
    callkeeper_v3_page_length=50,
    callkeeper_today=date(2026, 1, 20),
)
KEY = CONFIG.callkeeper_api_key
ROLE_KEY = CONFIG.callkeeper_role_api_key
#: the whole seeded range, as v1 timestamps (both ends included)
DATA_FROM = int(datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp())
DATA_TO = int(datetime(2026, 2, 10, tzinfo=timezone.utc).timestamp()) - 1

INFO = {  # verbatim from both documents
    "entities": {
        "call": ["get"],
        "callrole": ["get"],
        "phone": ["get"],
        "user": ["get"],
        "campaign": ["get"],
        "tag": ["get"],
    },
    "types": ["json", "plain", "csv", "xml"],
    "versions": ["v1"],
}
V1_FIELDS = [  # the v1 document's sample, in its order
    "city", "site", "state", "callId", "device", "record", "region", "tagsId", "utmTerm", "audition",
    "callType", "clientIp", "duration", "timeStart", "utmMedium", "utmSource", "campaignId", "officeName",
    "routePhone", "sourceType", "utmContent", "clientPhone", "officePhone", "utmCampaign", "campaignName",
    "stateDescription",
]  # fmt: skip
V3_FIELDS = [  # the v3 document's sample, in its order, plus the described-only "callPage"
    "page", "universalId", "serviceType", "clientNumber", "managerNumber", "callerIdToManager",
    "callerIdToClient", "statusFirst", "statusSecond", "status", "callTime", "localDate", "timezoneOffset",
    "duration", "tariffTime", "site", "recordUrl", "unique", "target", "uniqueTarget", "visitSite",
    "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "yaClid", "gaClid", "roistatClid",
    "calltouchClid", "comagicClid", "city", "region", "country", "ipAddress", "pagesCount", "entryPoint",
    "entryPointQuery", "callPage", "counts", "userAgent", "device", "cbWidgetHash", "cbToolId", "cbCallId",
    "cbUid", "cbToolName", "cbOfficeNumber", "cbOfficeName", "cbOrderDate", "cbAttempt", "cbAttemptsQueue",
    "cbConnectType", "cbSmartCallCount", "cbIvrCount", "cbEventSource", "ctCallId", "ctCampaignId",
    "ctCampaignName", "ctIsListened", "tags", "hooks",
]  # fmt: skip
START_ERROR = "Start date has wrong type. Possible format is 'Y-m-d' or timestamp"
END_ERROR = "End date has wrong type. Possible format is 'Y-m-d' or timestamp"


# ----------------------------------------------------------------------------- fixtures


@contextmanager
def serve(config: SandboxConfig) -> Iterator[str]:
    """Run ``build_routes(config)`` on uvicorn in a background thread on 127.0.0.1:0; yield its base URL."""
    app = Starlette(routes=build_routes(config))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="callkeeper-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve(CONFIG) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        yield http


@pytest.fixture(scope="module")
def world() -> CallKeeperWorld:
    return CallKeeperWorld(CONFIG)


# ----------------------------------------------------------------------------- helpers


def fetch(client: httpx.Client, query: str, path: str = "/api/") -> httpx.Response:
    """GET ``path?query`` with the query exactly as CallKeeper writes it (slashes unencoded)."""
    response = client.get(f"{path}?{query}")
    assert response.status_code == 200, response.text
    return response


def v3_page(client: httpx.Client, method: str, page: int | str, window: str, key: str = KEY) -> Any:
    return fetch(client, f"json/v3/{key}/call/{method}/{page}/{window}").json()


def v3_all(client: httpx.Client, method: str, window: str, key: str = KEY) -> list[dict[str, Any]]:
    """Read pages from 0 until the documented ``Incorrect page is set`` error."""
    rows: list[dict[str, Any]] = []
    for page in range(1000):
        body = v3_page(client, method, page, window, key)
        if isinstance(body, dict):
            assert body["inbound"] == {"error": "Incorrect page is set"}
            return rows
        assert body, "v3 never answers an empty page"
        assert {row["page"] for row in body} == {page}
        if page > 0:
            assert len(rows) % CONFIG.callkeeper_v3_page_length == 0, "only the last page may be short"
        rows.extend(body)
    raise AssertionError("no end of pages")


def error_body(message: str) -> dict[str, Any]:
    return {"inbound": {"error": message}, "info": INFO, "payload": []}


def v1_json(client: httpx.Client, entity: str, page: int, start: int = DATA_FROM, end: int = DATA_TO) -> Any:
    return fetch(client, f"json/v1/{KEY}/{entity}/get/{page}/{start}/{end}", "/api/index.php").json()


def coerce(name: str, text: str, empty_is_null: bool = True) -> Any:
    """Typed value of a v1 call field read from csv/plain text (empty means null, or [] for arrays)."""
    if name == "tagsId":
        return [int(part) for part in text.split("|")] if text else []
    if name in ("record", "timeStart") and not text and empty_is_null:
        return None
    if name in ("callId", "duration", "campaignId"):
        return int(text)
    return text


def parse_csv(body: str) -> list[dict[str, Any]]:
    header, *lines = list(csv.reader(io.StringIO(body)))
    assert header == V1_FIELDS
    return [{name: coerce(name, value) for name, value in zip(header, line, strict=True)} for line in lines]


def parse_xml(body: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    root = ET.fromstring(body)
    assert [child.tag for child in root] == ["inbound", "info", "payload"]
    inbound_el, payload_el = root[0], root[2]
    inbound = {el.tag: el.text for el in inbound_el if len(el) == 0}
    rows = []
    for call in payload_el:
        assert call.tag == "call"
        row: dict[str, Any] = {}
        for field in call:
            if field.get("null") == "true":
                row[field.tag] = None
            elif field.tag == "tagsId":
                row[field.tag] = [int(item.text or "") for item in field]
            else:
                row[field.tag] = coerce(field.tag, field.text or "", empty_is_null=False)
        assert list(row) == V1_FIELDS
        rows.append(row)
    return inbound, rows


def parse_plain(body: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in body.splitlines():
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif line:
            key, _, value = line.partition(":")
            current[key] = value.removeprefix(" ")
    payload = [sections[f"payload {index}"] for index in range(len(sections) - 2)]
    return sections["inbound"], [{name: coerce(name, row[name]) for name in V1_FIELDS} for row in payload]


def walk(value: Any) -> Iterator[Any]:
    """Every value nested in ``value``."""
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


# ----------------------------------------------------------------------------- v1


def test_v1_pages_with_of_pages_cover_the_window(client: httpx.Client, world: CallKeeperWorld) -> None:
    first = v1_json(client, "call", 0)
    inbound = first["inbound"]
    expected = world.v1_calls_between("call", datetime(2026, 1, 1), datetime(2026, 2, 10))
    assert list(first) == ["inbound", "info", "payload"]
    assert first["info"] == INFO
    assert inbound["requestedType"] == "json"
    assert (inbound["requestedEntity"], inbound["requestedMethod"], inbound["requestedVersion"]) == (
        "call",
        "get",
        "v1",
    )
    assert inbound["requestedParams"] == {"requirePage": 0, "startDate": DATA_FROM, "endDate": DATA_TO}
    assert inbound["pageLength"] == 100
    assert inbound["totalLength"] == len(expected) > 300
    assert inbound["ofPages"] == -(-len(expected) // 100)
    payload_bytes = json.dumps(first["payload"], ensure_ascii=False, separators=(",", ":")).encode()
    assert inbound["contentLength"] == len(payload_bytes)
    rows = list(first["payload"])
    for page in range(1, inbound["ofPages"]):
        body = v1_json(client, "call", page)
        assert body["inbound"]["requestedParams"]["requirePage"] == page
        assert body["inbound"]["ofPages"] == inbound["ofPages"]
        rows.extend(body["payload"])
    assert rows == expected
    assert all(list(row) == V1_FIELDS for row in rows)
    assert len({row["callId"] for row in rows}) == len(rows)
    beyond = v1_json(client, "call", inbound["ofPages"])
    assert beyond == error_body("Incorrect page is set")


def test_v1_time_end_is_inclusive(client: httpx.Client, world: CallKeeperWorld) -> None:
    day = world.v1_calls_between("call", datetime(2026, 1, 3), datetime(2026, 1, 4))
    row = next(call for call in day[5:] if call["timeStart"] is not None)
    moment = int(datetime.fromisoformat(row["timeStart"]).replace(tzinfo=timezone.utc).timestamp())
    body = v1_json(client, "call", 0, moment, moment)
    assert row in body["payload"]
    assert all(call["timeStart"] in (row["timeStart"], None) for call in body["payload"])


def test_v1_four_formats_carry_identical_records(client: httpx.Client) -> None:
    start, end = DATA_FROM, DATA_FROM + 8 * 86400 - 1
    query = f"{KEY}/call/get/{{page}}/{start}/{end}"
    seen: list[dict[str, Any]] = []
    first = v1_json(client, "call", 0, start, end)
    for page in range(first["inbound"]["ofPages"]):
        as_json = fetch(client, "json/v1/" + query.format(page=page)).json()
        xml = fetch(client, "xml/v1/" + query.format(page=page))
        as_csv = fetch(client, "csv/v1/" + query.format(page=page))
        plain = fetch(client, "plain/v1/" + query.format(page=page))
        assert xml.headers["content-type"].startswith("application/xml")
        assert as_csv.headers["content-type"].startswith("text/csv")
        assert plain.headers["content-type"].startswith("text/plain")
        xml_inbound, xml_rows = parse_xml(xml.content)
        plain_inbound, plain_rows = parse_plain(plain.text)
        assert parse_csv(as_csv.text) == xml_rows == plain_rows == as_json["payload"]
        numbers = {
            k: str(v) for k, v in as_json["inbound"].items() if k not in ("requestedType", "requestedParams")
        }
        assert {k: xml_inbound[k] for k in numbers} == {k: plain_inbound[k] for k in numbers} == numbers
        assert plain_inbound["requestedParams.requirePage"] == str(page)
        seen.extend(as_json["payload"])
    # the compared pages exercise nulls, empty and multi-valued arrays, and quoting-worthy text
    assert any(row["timeStart"] is None and row["record"] is None for row in seen)
    assert any(row["tagsId"] == [] for row in seen) and any(len(row["tagsId"]) == 2 for row in seen)
    assert any(" " in row["callType"] for row in seen)


def test_v1_reference_entities_match_the_calls(client: httpx.Client) -> None:
    campaigns = {row["campaignId"]: row for row in v1_json(client, "campaign", 0)["payload"]}
    tags = {row["tagId"] for row in v1_json(client, "tag", 0)["payload"]}
    phones = {row["phone"]: row["campaignId"] for row in v1_json(client, "phone", 0)["payload"]}
    users = v1_json(client, "user", 0)["payload"]
    assert {user["accessType"] for user in users} == {"own", "role"}
    for entity, access in (("call", "own"), ("callrole", "role")):
        rows = v1_json(client, entity, 0)["payload"]
        for row in rows:
            campaign = campaigns[row["campaignId"]]
            assert (campaign["campaignName"], campaign["accessType"]) == (row["campaignName"], access)
            assert (campaign["officeName"], campaign["officePhone"]) == (
                row["officeName"],
                row["officePhone"],
            )
            assert phones[row["routePhone"]] == row["campaignId"]
            assert set(row["tagsId"]) <= tags
    own = {row["callId"] for row in v1_json(client, "call", 0)["payload"]}
    role = {row["callId"] for row in v1_json(client, "callrole", 0)["payload"]}
    assert own and role and not own & role


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (f"json/v1/WRONGKEY00000001/call/get/0/{DATA_FROM}/{DATA_TO}", "User is not recognized"),
        (f"json/v1/{ROLE_KEY}/call/get/0/{DATA_FROM}/{DATA_TO}", "User is not recognized"),
        (f"json/v1//call/get/0/{DATA_FROM}/{DATA_TO}", "User is not recognized"),
        (f"json/v1/{KEY}/calls/get/0/{DATA_FROM}/{DATA_TO}", "Entity does not exist"),
        (f"json/v1/{KEY}", "Entity does not exist"),
        (f"json/v1/{KEY}/call/put/0/{DATA_FROM}/{DATA_TO}", "Method does not exist"),
        (f"json/v1/{KEY}/call/get/x/{DATA_FROM}/{DATA_TO}", "Incorrect page is set"),
        (f"json/v1/{KEY}/call/get", "Incorrect page is set"),
        (f"json/v1/{KEY}/call/get/0/2026-01-01/{DATA_TO}", START_ERROR),
        (f"json/v1/{KEY}/call/get/0/{DATA_FROM}", END_ERROR),
        (f"json/v1/{KEY}/call/get/0/1000/2000", "No rows found"),
        (f"json/v1/{KEY}/call/get/99/{DATA_FROM}/{DATA_TO}", "Incorrect page is set"),
        (f"json/v1/{KEY}/tag/get/1", "Incorrect page is set"),
        (f"json/v2/{KEY}/call/get/0/{DATA_FROM}/{DATA_TO}", "It is wrong API version"),
        (f"yaml/v1/{KEY}/call/get/0/{DATA_FROM}/{DATA_TO}", "Type to return is not available"),
        ("", "Type to return is not available"),
    ],
)
def test_v1_errors_are_in_the_body(client: httpx.Client, query: str, message: str) -> None:
    assert fetch(client, query, "/api/index.php").json() == error_body(message)


def test_v1_errors_in_the_requested_format(client: httpx.Client) -> None:
    bad_key = "WRONGKEY00000001/call/get/0/0/1"
    xml = ET.fromstring(fetch(client, f"xml/v1/{bad_key}").content)
    assert xml.findtext("inbound/error") == "User is not recognized"
    assert [child.tag for child in xml] == ["inbound", "info", "payload"] and len(xml[2]) == 0
    assert list(csv.reader(io.StringIO(fetch(client, f"csv/v1/{bad_key}").text))) == [
        ["error"],
        ["User is not recognized"],
    ]
    plain = fetch(client, f"plain/v1/{bad_key}").text
    assert plain.startswith("[inbound]\nerror: User is not recognized\n\n[info]\n")
    assert "[payload" not in plain


# ----------------------------------------------------------------------------- v3


def test_v3_methods_are_own_role_and_union(client: httpx.Client, world: CallKeeperWorld) -> None:
    window = "2026-01-01/2026-02-09"
    own = v3_all(client, "get", window)
    role = v3_all(client, "getByRole", window, key=ROLE_KEY)
    both = v3_all(client, "getWithRole", window)
    ids = {
        name: {row["universalId"] for row in rows}
        for name, rows in (("own", own), ("role", role), ("both", both))
    }
    assert ids["own"] and ids["role"] and not ids["own"] & ids["role"]
    assert ids["both"] == ids["own"] | ids["role"] and len(both) == len(own) + len(role)
    assert [row["callTime"] for row in both] == sorted(row["callTime"] for row in both)
    strip = [{k: v for k, v in row.items() if k != "page"} for row in own]
    assert strip == world.own_calls
    assert [{k: v for k, v in row.items() if k != "page"} for row in role] == world.role_calls
    for row in both:
        assert list(row) == V3_FIELDS
        assert None not in walk(row), "the v3 document: no parameter is ever NULL"
        assert row["serviceType"] in ("callback", "calltracking", "import")
        assert row["status"] in ("success", "fail")


def test_v3_role_methods_need_the_right_key(client: httpx.Client) -> None:
    window = "2026-01-01/2026-01-02"
    assert v3_page(client, "getByRole", 0, window, KEY) == error_body("User is not recognized")
    assert v3_page(client, "get", 0, window, ROLE_KEY) == error_body("User is not recognized")
    assert v3_page(client, "getWithRole", 0, window, ROLE_KEY) == error_body("User is not recognized")


def test_v3_days_and_timestamps_select_the_same_calls(client: httpx.Client, world: CallKeeperWorld) -> None:
    day_from = int(datetime(2026, 1, 5, tzinfo=timezone.utc).timestamp())
    day_after = int(datetime(2026, 1, 7, tzinfo=timezone.utc).timestamp())
    by_day = v3_all(client, "getWithRole", "2026-01-05/2026-01-06")
    by_stamp = v3_all(client, "getWithRole", f"{day_from}/{day_after - 1}")
    mixed = v3_all(client, "getWithRole", f"2026-1-5/{day_after - 1}")
    assert by_day == by_stamp == mixed
    expected = world.calls_between("getWithRole", datetime(2026, 1, 5), datetime(2026, 1, 7))
    assert [{k: v for k, v in row.items() if k != "page"} for row in by_day] == expected
    assert all("2026-01-05" <= row["callTime"][:10] <= "2026-01-06" for row in by_day)


def test_v3_timestamp_to_is_inclusive(client: httpx.Client, world: CallKeeperWorld) -> None:
    target = world.calls_between("get", datetime(2026, 1, 9), datetime(2026, 1, 10))[3]
    moment = int(datetime.fromisoformat(target["callTime"]).replace(tzinfo=timezone.utc).timestamp())
    rows = v3_page(client, "get", 0, f"{moment}/{moment}")
    assert target["universalId"] in {row["universalId"] for row in rows}
    assert {row["callTime"] for row in rows} == {target["callTime"]}


def test_v3_without_to_ends_today(client: httpx.Client, world: CallKeeperWorld) -> None:
    rows = v3_all(client, "get", "2026-01-18")
    expected = world.calls_between("get", datetime(2026, 1, 18), datetime(2026, 1, 21))
    assert [row["universalId"] for row in rows] == [row["universalId"] for row in expected]
    assert rows[-1]["callTime"].startswith("2026-01-20")
    assert v3_all(client, "get", "2026-01-18/") == rows  # trailing slash


def test_v3_paths_and_query_spellings(client: httpx.Client) -> None:
    query = f"json/v3/{KEY}/call/get/1/2026-01-02/2026-01-04"
    reference = fetch(client, query).content
    assert fetch(client, query, "/api/index.php").content == reference
    assert fetch(client, query, "/api").content == reference
    assert fetch(client, query.replace("/", "%2F") + "=").content == reference  # PHP reads it as a $_GET key


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (f"xml/v3/{KEY}/call/get/0/2026-01-01", "Type to return is not available"),
        (f"/v3/{KEY}/call/get/0/2026-01-01", "Type to return is not available"),
        (f"json/v4/{KEY}/call/get/0/2026-01-01", "It is wrong API version"),
        (f"json//{KEY}/call/get/0/2026-01-01", "It is wrong API version"),
        ("json/v3/x9xx99xx99xxxx99/call/get/0/2026-01-01", "User is not recognized"),
        (f"json/v3/{KEY}/phone/get/0/2026-01-01", "Entity does not exist"),
        (f"json/v3/{KEY}/call/put/0/2026-01-01", "Method does not exist"),
        (f"json/v3/{KEY}/call/call/0/2026-01-01", "Method does not exist"),
        (f"json/v3/{KEY}/call/getbyrole/0/2026-01-01", "Method does not exist"),
        (f"json/v3/{KEY}/call/get/-1/2026-01-01", "Incorrect page is set"),
        (f"json/v3/{KEY}/call/get/first/2026-01-01", "Incorrect page is set"),
        (f"json/v3/{KEY}/call/get/9/2026-01-01/2026-01-01", "Incorrect page is set"),
        (f"json/v3/{KEY}/call/get/0/2025-01-01/2025-12-31", "No rows found"),
        (f"json/v3/{KEY}/call/get/0/2026-01-05/2026-01-04", "No rows found"),
        (f"json/v3/{KEY}/call/get/0", START_ERROR),
        (f"json/v3/{KEY}/call/get/0/2026-13-01", START_ERROR),
        (f"json/v3/{KEY}/call/get/0/05.01.2026", START_ERROR),
        (f"json/v3/{KEY}/call/get/0/2026-01-01/2026-02-30", END_ERROR),
        (f"json/v3/{KEY}/call/get/0/2026-01-01/tomorrow", END_ERROR),
    ],
)
def test_v3_errors_are_in_the_body(client: httpx.Client, query: str, message: str) -> None:
    response = fetch(client, query)
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == error_body(message)


# ----------------------------------------------------------------------------- data


def test_same_seed_same_bytes_on_another_server(client: httpx.Client) -> None:
    queries = [
        f"json/v3/{KEY}/call/getWithRole/2/2026-01-01/2026-02-09",
        f"xml/v1/{KEY}/call/get/1/{DATA_FROM}/{DATA_TO}",
        f"plain/v1/{KEY}/phone/get/0",
    ]
    with serve(CONFIG) as other_url, httpx.Client(base_url=other_url, timeout=10) as other:
        for query in queries:
            assert fetch(other, query).content == fetch(client, query).content
    reseeded = CallKeeperWorld(dataclasses.replace(CONFIG, seed=8))
    assert reseeded.own_calls != CallKeeperWorld(CONFIG).own_calls


def test_seeded_data_is_obviously_fake_and_spread_over_the_days(world: CallKeeperWorld) -> None:
    phone_fields = ("clientNumber", "managerNumber", "callerIdToManager", "callerIdToClient")
    for row in world.own_calls + world.role_calls:
        for name in phone_fields:
            assert row[name] == "" or (row[name].startswith("7000") and len(row[name]) == 11), row[name]
        assert row["ipAddress"] == "" or row["ipAddress"].startswith(
            ("192.0.2.", "198.51.100.", "203.0.113.")
        )
    days = {row["callTime"][:10] for row in world.own_calls}
    assert len(days) == CONFIG.data_days
    assert 0.8 * 30 * 40 < len(world.own_calls) < 1.2 * 30 * 40
    assert 0.2 * len(world.own_calls) < len(world.role_calls) < 0.45 * len(world.own_calls)
