"""CallKeeper hook/operator edge cases with a mocked transport (respx).

URL building (literal slashes, the key where the documents put it), validation before any request,
every documented in-body error, HTTP statuses, retries of 5xx / 429 / cut-short bodies, paging rules,
the four v1 formats read into identical records, and the key kept out of logs and messages.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

from airflow_provider_telephony.core.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PagingError,
    RateLimitedError,
    RedirectError,
    RequestValidationError,
    ServerError,
    ValidationError,
    VendorError,
)
from airflow_provider_telephony.hooks.callkeeper import CallKeeperHook
from airflow_provider_telephony.models import callkeeper as m
from airflow_provider_telephony.operators.callkeeper import CallKeeperCallsToStorageOperator
from tests.conftest import conn_env

BASE = "http://ckct.test"
KEY = "TESTKEY0123456789"[:16]
ROLE_KEY = "ROLEKEY000000042"
UTC = timezone.utc
DAY = datetime(2026, 6, 14, tzinfo=UTC)
NEXT = datetime(2026, 6, 15, tzinfo=UTC)
DAY_TS = int(DAY.timestamp())
NEXT_TS = int(NEXT.timestamp())
V3_PREFIX = f"{BASE}/api/?json/v3/{KEY}/call"
INFO = {"entities": {"call": ["get"]}, "types": ["json", "plain", "csv", "xml"], "versions": ["v1"]}


@pytest.fixture(autouse=True)
def _conn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        *conn_env(
            "callkeeper_default",
            conn_type="callkeeper",
            host=BASE,
            password=KEY,
            extra={"max_retries": 2, "role_api_key": ROLE_KEY},
        )
    )


def _error(message: str) -> dict[str, Any]:
    return {"inbound": {"error": message}, "info": INFO, "payload": []}


def _v3_call(i: int, page: int = 0) -> dict[str, Any]:
    return {
        "page": page,
        "universalId": str(10**16 + i),
        "serviceType": "calltracking",
        "clientNumber": "70000000001",
        "statusFirst": 200,
        "statusSecond": 200,
        "status": "success",
        "callTime": "2026-06-14 10:00:00",
        "duration": 15,
        "unique": True,
        "cbAttemptsQueue": [],
        "ctCallId": 1_337_000 + i,
        "tags": ["a"],
        "hooks": [{"hookEventName": "AFTER_CALL_FINISH", "hookResponseStatus": 200}],
    }


def _v1_call(i: int) -> dict[str, Any]:
    return {
        "city": "-",
        "site": "shop.example",
        "state": "720/200" if i % 2 else "200/200",
        "callId": 1_337_000 + i,
        "device": "-",
        "record": None if i % 2 else f"https://records.invalid/{i}.mp3",
        "region": "-",
        "tagsId": [] if i % 2 else [3, 5],
        "utmTerm": "купить диван",
        "audition": "Не прослушано",
        "callType": "Динамический коллтрекинг",
        "clientIp": "192.0.2.1",
        "duration": 0 if i % 2 else 42,
        "timeStart": None if i % 2 else "2026-06-14 10:00:00",
        "utmMedium": "cpc",
        "utmSource": "yandex",
        "campaignId": 559,
        "officeName": "Тестовый, главный",
        "routePhone": "70000000002",
        "sourceType": "Контекстная реклама",
        "utmContent": "-",
        "clientPhone": "70000000001",
        "officePhone": "70000000003",
        "utmCampaign": "-",
        "campaignName": 'Тест "кавычки"',
        "stateDescription": "Неизвестная ошибка оператора связи",
    }


def _v1_inbound(fmt: str, page: int, of_pages: int, total: int) -> dict[str, Any]:
    return {
        "requestedType": fmt,
        "requestedEntity": "call",
        "requestedMethod": "get",
        "requestedVersion": "v1",
        "requestedParams": {"requirePage": page, "startDate": DAY_TS, "endDate": NEXT_TS - 1},
        "pageLength": 1000,
        "totalLength": total,
        "ofPages": of_pages,
        "contentLength": 1,
    }


# ----------------------------------------------------------------------------- v1 renderings (as documented
# by the sandbox for xml/csv/plain; written out by hand here so a misreading fails instead of passing twice)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    return str(value)


def _xml(inbound: dict[str, Any], rows: list[dict[str, Any]]) -> bytes:
    from xml.sax.saxutils import escape

    def el(tag: str, value: Any) -> str:
        if value is None:
            return f'<{tag} null="true"/>'
        if isinstance(value, dict):
            return f"<{tag}>" + "".join(el(k, v) for k, v in value.items()) + f"</{tag}>"
        if isinstance(value, list):
            return f"<{tag}>" + "".join(el("item", v) for v in value) + f"</{tag}>"
        return f"<{tag}>{escape(str(value))}</{tag}>"

    payload = "<payload>\n" + "".join(el("call", r) + "\n" for r in rows) + "</payload>"
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<response>\n{el("inbound", inbound)}\n{payload}\n</response>\n'
    return body.encode()


def _csv(rows: list[dict[str, Any]]) -> bytes:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(list(rows[0]))
    for row in rows:
        writer.writerow([_text(v) for v in row.values()])
    return buf.getvalue().encode()


def _plain(inbound: dict[str, Any], rows: list[dict[str, Any]]) -> bytes:
    def flat(prefix: str, value: Any) -> list[str]:
        if isinstance(value, dict):
            return [line for k, v in value.items() for line in flat(f"{prefix}.{k}" if prefix else k, v)]
        return [f"{prefix}: {_text(value)}"]

    parts = ["[inbound]\n" + "\n".join(flat("", inbound)) + "\n\n", "[info]\nversions: v1\n\n"]
    parts += [f"[payload {i}]\n" + "\n".join(flat("", r)) + "\n\n" for i, r in enumerate(rows)]
    return "".join(parts).encode()


def _v1_body(fmt: str, rows: list[dict[str, Any]], page: int = 0, of_pages: int = 1) -> bytes:
    inbound = _v1_inbound(fmt, page, of_pages, len(rows))
    if fmt == "json":
        return json.dumps({"inbound": inbound, "info": INFO, "payload": rows}, ensure_ascii=False).encode()
    if fmt == "xml":
        return _xml(inbound, rows)
    if fmt == "csv":
        return _csv(rows)
    return _plain(inbound, rows)


# ----------------------------------------------------------------------------- URL building


def test_v3_urls_are_built_as_documented_with_literal_slashes() -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.get(url__startswith=f"{BASE}/api/").mock(return_value=httpx.Response(200, json=[]))
        with CallKeeperHook() as hook:
            hook.get_v3_page("get", date(2026, 6, 14), date(2026, 6, 15))
            hook.get_v3_page("getWithRole", DAY + timedelta(milliseconds=300), page=3)
            hook.get_v3_page("getByRole", DAY_TS, NEXT_TS - 1)
            hook.get_v3_page("get", "2026-06-14", "1781481599")
    sent = [call.request.url.raw_path.decode() for call in route.calls]
    assert sent == [
        f"/api/?json/v3/{KEY}/call/get/0/2026-06-14/2026-06-15",
        f"/api/?json/v3/{KEY}/call/getWithRole/3/{DAY_TS + 1}",  # `to` is optional; from rounds up
        f"/api/?json/v3/{ROLE_KEY}/call/getByRole/0/{DAY_TS}/{NEXT_TS - 1}",  # the role's own key
        f"/api/?json/v3/{KEY}/call/get/0/2026-06-14/1781481599",
    ]


def test_window_is_requested_as_inclusive_whole_seconds() -> None:
    with respx.mock() as router:
        route = router.get(url__startswith=V3_PREFIX).mock(return_value=httpx.Response(200, json=[]))
        with CallKeeperHook() as hook:
            assert list(hook.iter_v3_pages(DAY, NEXT, method="get")) == []
            # fractions: t >= 10.5 is t >= 11; t < 20.5 is t <= 20
            list(
                hook.iter_v3_pages(DAY + timedelta(seconds=10.5), DAY + timedelta(seconds=20.5), method="get")
            )
            # no whole second inside: nothing to ask
            list(hook.iter_v3_pages(DAY + timedelta(seconds=0.2), DAY + timedelta(seconds=0.7), method="get"))
    assert [c.request.url.raw_path.decode().rsplit("/", 2)[1:] for c in route.calls] == [
        [str(DAY_TS), str(NEXT_TS - 1)],
        [str(DAY_TS + 11), str(DAY_TS + 20)],
    ]


@pytest.mark.parametrize("fmt", m.V1_FORMATS)
def test_v1_urls_are_built_as_documented(fmt: str) -> None:
    with respx.mock() as router:
        route = router.get(url__startswith=f"{BASE}/api/index.php?").mock(
            side_effect=[
                httpx.Response(200, content=_v1_body(fmt, [_v1_call(0)])),
                # csv carries no ofPages: the client asks for the next page and learns it is past the end
                httpx.Response(200, content=b'error\r\n"Incorrect page is set"\r\n'),
            ]
        )
        with CallKeeperHook() as hook:
            list(hook.iter_v1_pages("call", DAY, NEXT, response_format=fmt))
    assert route.calls[0].request.url.raw_path.decode() == (
        f"/api/index.php?{fmt}/v1/{KEY}/call/get/0/{DAY_TS}/{NEXT_TS - 1}"
    )
    assert route.call_count == (2 if fmt == "csv" else 1)


def test_base_url_with_a_path_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        *conn_env("ck_proxy", conn_type="callkeeper", host="https://proxy.test/ck/", password=KEY)
    )
    with respx.mock() as router:
        route = router.get(url__startswith="https://proxy.test/ck/api/?json/v3/").mock(
            return_value=httpx.Response(200, json=[])
        )
        with CallKeeperHook("ck_proxy") as hook:
            hook.get_v3_page("get", "2026-06-14")
    assert route.called


# ----------------------------------------------------------------------------- validation before sending


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda h: h.get_v3_page("fetch", DAY),
            "method: Input should be 'get', 'getByRole' or 'getWithRole'",
        ),
        (lambda h: h.get_v3_page("get", DAY, page=-1), "page: Input should be greater than or equal to 0"),
        (lambda h: h.get_v3_page("get", DAY, page=True), "page: Input should be a valid integer"),
        (lambda h: h.get_v3_page("get", datetime(2026, 6, 14)), "date_from: must be time-zone aware"),
        (lambda h: h.get_v3_page("get", NEXT, DAY), "date_to: must not be before date_from"),
        (lambda h: h.get_v3_page("get", "14.06.2026"), "date_from: text must be a unix timestamp or Y-m-d"),
        (lambda h: h.get_v3_page("get", "2026-02-30"), "date_from: is not a valid Y-m-d date"),
        (lambda h: h.get_v3_page("get", -5), "date_from: a unix timestamp must not be negative"),
        (
            lambda h: h.get_v1_page("call", response_format="yaml", time_start=1, time_end=2),
            "response_format",
        ),
        (lambda h: h.get_v1_page("calls", time_start=1, time_end=2), "entity: Input should be"),
        (lambda h: h.get_v1_page("call"), "time_start: is required for calls"),
        (
            lambda h: h.get_v1_page("call", time_start=DAY, time_end=date(2026, 6, 15)),
            "time_end: API v1 takes",
        ),
        (
            lambda h: h.get_v1_page("call", time_start=5, time_end=4),
            "time_end: must not be before time_start",
        ),
        (lambda h: h.iter_v3_pages(NEXT, DAY), "end: must not be before start"),
        (lambda h: h.iter_v3_pages(datetime(2026, 6, 14), NEXT), "start: must be time-zone aware"),
        (lambda h: h.iter_v1_pages("call", None, NEXT), "start: must be a datetime"),
        (lambda h: h.iter_call_pages(DAY, NEXT, method="all"), "method: must be one of"),
        (lambda h: h.iter_call_pages(DAY, NEXT, response_format="csv"), "API v3 answers json only"),
        (lambda h: h.iter_call_pages(DAY, NEXT, api_version="v2"), "api_version: must be 'v3' or 'v1'"),
    ],
)
def test_bad_input_fails_before_any_request(call: Any, message: str) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.route()
        with CallKeeperHook() as hook, pytest.raises(RequestValidationError, match=message):
            call(hook)
    assert not route.called


def test_connection_problems_fail_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(*conn_env("ck_nokey", conn_type="callkeeper", host=BASE))
    monkeypatch.setenv(*conn_env("ck_badkey", conn_type="callkeeper", host=BASE, password="my key/1?"))
    monkeypatch.setenv(*conn_env("ck_norole", conn_type="callkeeper", host=BASE, password=KEY))
    monkeypatch.setenv(
        *conn_env("ck_v2", conn_type="callkeeper", host=BASE, password=KEY, extra={"api_version": "v2"})
    )
    with respx.mock(assert_all_called=False) as router:
        route = router.route()
        with pytest.raises(ConfigurationError, match="'ck_nokey': set the password"):
            CallKeeperHook("ck_nokey").get_v3_page("get", DAY)
        with pytest.raises(ConfigurationError, match="letters or digits") as err:
            CallKeeperHook("ck_badkey").get_v3_page("get", DAY)
        assert "my key" not in str(err.value)
        with pytest.raises(ConfigurationError, match="role_api_key"):
            CallKeeperHook("ck_norole").iter_v3_pages(DAY, NEXT, method="getByRole")
        with pytest.raises(ConfigurationError, match="api_version"):
            CallKeeperHook("ck_v2").iter_call_pages(DAY, NEXT)
    assert not route.called


def test_operator_refuses_bad_arguments_at_parse_time() -> None:
    with pytest.raises(RequestValidationError, match="method"):
        CallKeeperCallsToStorageOperator(task_id="x", output_path="/tmp/x.jsonl", method="list")
    with pytest.raises(RequestValidationError, match="api_version"):
        CallKeeperCallsToStorageOperator(task_id="x", output_path="/tmp/x.jsonl", api_version="v4")
    with pytest.raises(RequestValidationError, match="json only"):
        CallKeeperCallsToStorageOperator(
            task_id="x", output_path="/tmp/x.jsonl", api_version="v3", response_format="xml"
        )


# ----------------------------------------------------------------------------- in-body errors


@pytest.mark.parametrize(
    ("message", "error", "segment"),
    [
        ("Type to return is not available", ValidationError, "{format}"),
        ("It is wrong API version", ValidationError, "{version}"),
        ("Entity does not exist", ValidationError, "{entity}"),
        ("Method does not exist", ValidationError, "{method}"),
        ("Incorrect page is set", ValidationError, "{pages}"),
        ("Start date has wrong type. Possible format is 'Y-m-d' or timestamp", ValidationError, "{from}"),
        ("End date has wrong type. Possible format is 'Y-m-d' or timestamp", ValidationError, "{to}"),
        ("Something else broke", VendorError, None),
    ],
)
def test_documented_errors_name_the_url_segment(message: str, error: type[Exception], segment: str) -> None:
    with respx.mock() as router:
        route = router.get(url__startswith=V3_PREFIX).mock(
            return_value=httpx.Response(200, json=_error(message))
        )
        with CallKeeperHook() as hook, pytest.raises(error) as err:
            hook.get_v3_page("get", DAY, NEXT)
    assert route.call_count == 1, "an in-body error is not retried"
    assert message in str(err.value)
    if segment is not None:
        assert f"URL segment {{{segment}}}" in str(err.value)
    assert KEY not in str(err.value)


def test_v1_errors_name_v1_segments_in_every_format() -> None:
    start_error = "Start date has wrong type. Possible format is 'Y-m-d' or timestamp"
    bodies = {
        "json": json.dumps(_error(start_error)).encode(),
        "xml": f"<response><inbound><error>{start_error}</error></inbound><payload/></response>".encode(),
        "csv": f'error\r\n"{start_error}"\r\n'.encode(),
        "plain": f"[inbound]\nerror: {start_error}\n\n[info]\nversions: v1\n".encode(),
    }
    for fmt, body in bodies.items():
        with respx.mock() as router:
            router.get(url__startswith=f"{BASE}/api/index.php?").mock(
                return_value=httpx.Response(200, content=body)
            )
            with CallKeeperHook() as hook, pytest.raises(ValidationError, match=r"\{time_start\}"):
                hook.get_v1_page("call", time_start=1, time_end=2, response_format=fmt)


def test_user_not_recognized_is_an_authentication_error_naming_the_connection() -> None:
    with respx.mock() as router:
        route = router.get(url__startswith=f"{BASE}/api/").mock(
            return_value=httpx.Response(200, json=_error("User is not recognized"))
        )
        with CallKeeperHook() as hook:
            with pytest.raises(AuthenticationError, match=r"'callkeeper_default'.*password") as err:
                hook.get_v3_page("get", DAY)
            assert err.value.refreshable is False
            with pytest.raises(AuthenticationError, match="role_api_key"):
                hook.get_v3_page("getByRole", DAY)
    assert route.call_count == 2
    assert KEY not in str(err.value) and ROLE_KEY not in str(err.value)


def test_no_rows_found_is_an_empty_result_even_with_a_4xx_status() -> None:
    with respx.mock() as router:
        router.get(url__startswith=V3_PREFIX).mock(
            side_effect=[
                httpx.Response(200, json=_error("No rows found")),
                httpx.Response(404, json=_error("No rows found")),
            ]
        )
        with CallKeeperHook() as hook:
            assert hook.get_v3_page("get", DAY).rows == []
            assert list(hook.iter_v3_pages(DAY, NEXT, method="get")) == []


def test_http_statuses_map_to_error_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda s: None)
    cases: list[tuple[httpx.Response, type[Exception], int]] = [
        (httpx.Response(401, text="nope"), AuthenticationError, 1),
        (httpx.Response(404, text="<html>not here</html>"), NotFoundError, 1),
        (httpx.Response(302, headers={"location": f"https://elsewhere.test/?{KEY}"}), RedirectError, 1),
        (httpx.Response(400, text="bad"), ValidationError, 1),
        (httpx.Response(503), ServerError, 3),
        (httpx.Response(429), RateLimitedError, 3),
    ]
    for response, error, attempts in cases:
        with respx.mock() as router:
            route = router.get(url__startswith=V3_PREFIX).mock(return_value=response)
            with CallKeeperHook() as hook, pytest.raises(error) as err:
                hook.get_v3_page("get", DAY)
        assert route.call_count == attempts, (response.status_code, route.call_count)
        assert KEY not in str(err.value)


# ----------------------------------------------------------------------------- retries


def test_5xx_then_success_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("tenacity.nap.time.sleep", slept.append)
    with respx.mock() as router:
        route = router.get(url__startswith=V3_PREFIX).mock(
            side_effect=[httpx.Response(502), httpx.Response(200, json=[_v3_call(1)])]
        )
        with CallKeeperHook() as hook:
            page = hook.get_v3_page("get", DAY, NEXT)
    assert route.call_count == 2 and len(slept) == 1
    assert [c.ct_call_id for c in page.rows] == [1_337_001]


def test_429_honours_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("tenacity.nap.time.sleep", slept.append)
    with respx.mock() as router:
        router.get(url__startswith=V3_PREFIX).mock(
            side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=[])]
        )
        with CallKeeperHook() as hook:
            assert hook.get_v3_page("get", DAY).rows == []
    assert slept == [7.0]


def test_cut_short_body_is_retried_but_a_wrong_shape_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda s: None)
    full = json.dumps([_v3_call(1), _v3_call(2)]).encode()
    with respx.mock() as router:
        route = router.get(url__startswith=V3_PREFIX).mock(
            side_effect=[
                httpx.Response(200, content=full[: len(full) // 2]),
                httpx.Response(200, content=full),
            ]
        )
        with CallKeeperHook() as hook:
            assert len(hook.get_v3_page("get", DAY).rows) == 2
    assert route.call_count == 2

    wrong = json.dumps([{**_v3_call(1), "duration": "long", "clientNumber": "70001112233"}])
    with respx.mock() as router:
        route = router.get(url__startswith=V3_PREFIX).mock(return_value=httpx.Response(200, content=wrong))
        with CallKeeperHook() as hook, pytest.raises(VendorError, match=r"0\.duration") as err:
            hook.get_v3_page("get", DAY)
    assert route.call_count == 1
    assert "70001112233" not in str(err.value), "record values (phones) stay out of messages"


def test_cut_short_csv_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda s: None)
    full = _v1_body("csv", [_v1_call(0), _v1_call(1)])
    with respx.mock() as router:
        route = router.get(url__startswith=f"{BASE}/api/index.php?").mock(
            side_effect=[httpx.Response(200, content=full[:-200]), httpx.Response(200, content=full)]
        )
        with CallKeeperHook() as hook:
            page = hook.get_v1_page("call", time_start=1, time_end=2, response_format="csv")
    assert route.call_count == 2 and len(page.rows) == 2


# ----------------------------------------------------------------------------- paging


def test_v3_pages_until_an_empty_page_or_incorrect_page() -> None:
    for last in (httpx.Response(200, json=[]), httpx.Response(200, json=_error("Incorrect page is set"))):
        with respx.mock() as router:
            route = router.get(url__startswith=V3_PREFIX).mock(
                side_effect=[
                    httpx.Response(200, json=[_v3_call(1), _v3_call(2)]),
                    httpx.Response(200, json=[_v3_call(3, page=1)]),
                    last,
                ]
            )
            with CallKeeperHook() as hook:
                pages = list(hook.iter_v3_pages(DAY, NEXT, method="get"))
        assert [[c.ct_call_id for c in p] for p in pages] == [[1_337_001, 1_337_002], [1_337_003]]
        assert [c.request.url.raw_path.decode().split("/")[7] for c in route.calls] == ["0", "1", "2"]


def test_a_server_that_ignores_the_page_number_is_refused() -> None:
    with respx.mock() as router:
        router.get(url__startswith=V3_PREFIX).mock(return_value=httpx.Response(200, json=[_v3_call(1)]))
        with CallKeeperHook() as hook, pytest.raises(PagingError, match="ignores the offset or page number"):
            list(hook.iter_v3_pages(DAY, NEXT, method="get"))


def test_v1_pages_by_of_pages_and_csv_until_incorrect_page() -> None:
    with respx.mock() as router:
        route = router.get(url__startswith=f"{BASE}/api/index.php?").mock(
            side_effect=[
                httpx.Response(200, content=_v1_body("json", [_v1_call(0)], page=0, of_pages=2)),
                httpx.Response(200, content=_v1_body("json", [_v1_call(1)], page=1, of_pages=2)),
            ]
        )
        with CallKeeperHook() as hook:
            assert len(hook.get_entity("call", start=DAY, end=NEXT)) == 2
    assert route.call_count == 2, "ofPages says when to stop: no extra request"

    with respx.mock() as router:
        route = router.get(url__startswith=f"{BASE}/api/index.php?").mock(
            side_effect=[
                httpx.Response(200, content=_v1_body("csv", [_v1_call(0)])),
                httpx.Response(200, content=_v1_body("csv", [_v1_call(1)])),
                httpx.Response(200, content=b'error\r\n"Incorrect page is set"\r\n'),
            ]
        )
        with CallKeeperHook() as hook:
            rows = hook.get_entity("call", start=DAY, end=NEXT, response_format="csv")
    assert [r.call_id for r in rows] == [1_337_000, 1_337_001]  # type: ignore[attr-defined]
    assert route.call_count == 3


# ----------------------------------------------------------------------------- formats


def test_all_four_v1_formats_give_identical_records() -> None:
    rows = [_v1_call(0), _v1_call(1)]
    dumps: dict[str, list[bytes]] = {}
    for fmt in m.V1_FORMATS:
        with respx.mock() as router:
            router.get(url__startswith=f"{BASE}/api/index.php?{fmt}/").mock(
                return_value=httpx.Response(200, content=_v1_body(fmt, rows))
            )
            with CallKeeperHook() as hook:
                page = hook.get_v1_page("call", time_start=DAY, time_end=NEXT, response_format=fmt)
        assert page.of_pages == (None if fmt == "csv" else 1)
        dumps[fmt] = [r.__pydantic_serializer__.to_json(r, by_alias=True) for r in page.rows]
    assert dumps["xml"] == dumps["json"]
    assert dumps["csv"] == dumps["json"]
    assert dumps["plain"] == dumps["json"]
    assert [json.loads(d) for d in dumps["json"]] == rows  # the vendor's names, values and order


def test_v3_tolerates_unknown_fields_numbers_as_text_and_an_envelope() -> None:
    call = {**_v3_call(1), "cbOfficeNumber": 0, "statusFirst": "200", "newField": {"x": 1}}
    with respx.mock() as router:
        router.get(url__startswith=V3_PREFIX).mock(
            side_effect=[
                httpx.Response(200, json=[call]),
                httpx.Response(200, json={"inbound": {}, "payload": [call]}),
            ]
        )
        with CallKeeperHook() as hook:
            for _ in range(2):
                row = hook.get_v3_page("get", DAY).rows[0]
                assert row.cb_office_number == "0" and row.status_first == 200
                assert row.model_dump(by_alias=True)["newField"] == {"x": 1}
                assert row.call_time_utc == datetime(2026, 6, 14, 10, tzinfo=UTC)


# ----------------------------------------------------------------------------- async, connection test


def test_async_twin_sends_the_same_request() -> None:
    async def main() -> m.CallKeeperPage[m.V3Call]:
        hook = CallKeeperHook()
        try:
            return await hook.aget_v3_page("getWithRole", DAY, NEXT)
        finally:
            await hook.aclose()

    with respx.mock() as router:
        route = router.get(url__startswith=V3_PREFIX).mock(
            return_value=httpx.Response(200, json=[_v3_call(1)])
        )
        page = asyncio.run(main())
    assert len(page.rows) == 1
    assert route.calls.last.request.url.raw_path.decode().startswith(
        f"/api/?json/v3/{KEY}/call/getWithRole/0/{DAY_TS}/"
    )


def test_test_connection() -> None:
    with respx.mock() as router:
        router.get(url__startswith=V3_PREFIX).mock(
            side_effect=[
                httpx.Response(200, json=_error("No rows found")),
                httpx.Response(200, json=_error("User is not recognized")),
            ]
        )
        assert CallKeeperHook().test_connection() == (
            True,
            "Connection successfully tested: CallKeeper API v3 answered",
        )
        ok, message = CallKeeperHook().test_connection()
    assert not ok and "did not recognise the key" in message and KEY not in message


# ----------------------------------------------------------------------------- the key in logs


def test_key_never_reaches_logs_or_messages(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda s: None)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # Airflow sets it to WARNING; show its URL lines
    with respx.mock() as router:
        router.get(url__startswith=V3_PREFIX).mock(
            side_effect=[
                httpx.Response(503),
                httpx.Response(200, json=[_v3_call(1)]),
                httpx.Response(200, json=[]),
                httpx.Response(200, json=_error("User is not recognized")),
            ]
        )
        with CallKeeperHook() as hook:
            assert len([c for p in hook.iter_v3_pages(DAY, NEXT, method="get") for c in p]) == 1
            with pytest.raises(AuthenticationError) as err:
                hook.get_v3_page("get", DAY)
    assert "GET http://ckct.test/api/?json/v3/***/" in caplog.text, "the request lines were logged, redacted"
    assert "retrying" in caplog.text
    assert KEY not in caplog.text
    assert KEY not in str(err.value)
    assert "/call/get/0/" in caplog.text and "***" in caplog.text


def test_empty_strings_in_typed_fields_do_not_stop_an_export() -> None:
    """The documents promise 0 / [] for empty numbers and lists; "" from a server is read as null."""
    loose = {**_v3_call(1), "cbToolId": "", "cbAttemptsQueue": "", "unique": "", "site": ""}
    with respx.mock() as router:
        router.get(url__startswith=V3_PREFIX).mock(
            side_effect=[
                httpx.Response(200, json=[_v3_call(2), loose]),
                httpx.Response(200, json={"inbound": {}, "payload": [loose]}),
            ]
        )
        with CallKeeperHook() as hook:
            rows = hook.get_v3_page("get", DAY).rows
            assert [r.ct_call_id for r in rows] == [1_337_002, 1_337_001]
            assert rows[1].cb_tool_id is None and rows[1].cb_attempts_queue is None
            assert rows[1].site == "", "text stays text"
            assert hook.get_v3_page("get", DAY).rows[0].unique is None


def test_undocumented_error_bodies_keep_their_http_meaning() -> None:
    with respx.mock() as router:
        router.get(url__startswith=V3_PREFIX).mock(
            side_effect=[
                httpx.Response(401, json={"error": "token expired"}),
                httpx.Response(400, json={"error": "User is not recognized"}),
            ]
        )
        with CallKeeperHook() as hook:
            with pytest.raises(AuthenticationError, match="HTTP 401"):
                hook.get_v3_page("get", DAY)
            with pytest.raises(AuthenticationError, match="did not recognise the key"):
                hook.get_v3_page("get", DAY)
