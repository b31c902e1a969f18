"""Avito hook/operator edge cases with a mocked transport (respx): validation, error mapping, retries."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from airflow_provider_telephony.core.compat import airflow_fail_exception
from airflow_provider_telephony.core.errors import (
    AuthenticationError,
    NotFoundError,
    RequestValidationError,
    ServerError,
    ValidationError,
)
from airflow_provider_telephony.hooks.avito import AvitoHook
from airflow_provider_telephony.operators.avito import (
    AvitoCallsToStorageOperator,
    AvitoDownloadRecordingsOperator,
)
from tests.conftest import conn_env

AirflowFailException = airflow_fail_exception()

BASE = "http://avito.test"
UTC = timezone.utc
DAY = datetime(2026, 6, 14, tzinfo=UTC)
NEXT = datetime(2026, 6, 15, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _conn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        *conn_env(
            "avito_default",
            conn_type="avito",
            host=BASE,
            login="cid",
            password="client-secret-xyz",
            extra={"max_retries": 2},
        )
    )
    AvitoHook._tokens.clear()


def _token_route(router: respx.Router) -> respx.Route:
    return router.post(f"{BASE}/token").mock(
        return_value=httpx.Response(200, json={"access_token": "tok-abc-123", "expires_in": 3600})
    )


def _call(i: int, when: str = "2026-06-14T10:00:00Z") -> dict[str, Any]:
    return {
        "callId": i,
        "callTime": when,
        "talkDuration": 10,
        "waitingDuration": 1.5,
        "buyerPhone": "+70000000001",
        "sellerPhone": "+70000000002",
        "virtualPhone": "+70000000003",
        "itemId": None,
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": DAY, "end": datetime(2026, 6, 13, tzinfo=UTC)}, "end: must not be before start"),
        ({"start": datetime(2026, 6, 14), "end": NEXT}, "start: must be time-zone aware"),
        ({"start": DAY, "end": NEXT, "page_size": 101}, "page_size: must be an integer from 1 to 100"),
        ({"start": DAY, "end": NEXT, "page_size": 0}, "page_size"),
    ],
)
def test_bad_input_fails_before_any_request(kwargs: dict[str, Any], message: str) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.route()
        with pytest.raises(RequestValidationError, match=message):
            list(AvitoHook().iter_calls(**kwargs))
        assert not route.called


def test_operator_validates_before_any_request(tmp_path: Path) -> None:
    with pytest.raises(RequestValidationError, match="page_size"):
        AvitoCallsToStorageOperator(task_id="t", output_path=str(tmp_path / "x.jsonl"), page_size=500)
    op = AvitoCallsToStorageOperator(task_id="t", output_path=str(tmp_path / "x.jsonl"), output_format="xlsx")
    with respx.mock(assert_all_called=False) as router:
        route = router.route()
        # refused before any request, and at once (AirflowFailException: no task retries spent)
        with pytest.raises(AirflowFailException, match="output_format") as err:
            op.execute({"data_interval_start": DAY, "data_interval_end": NEXT})
        assert isinstance(err.value.__cause__, RequestValidationError)
        op.output_format = "jsonl"
        with pytest.raises(AirflowFailException, match="zero-length data intervals"):
            op.execute({"data_interval_start": DAY, "data_interval_end": DAY})
        op.window_start, op.window_end = "2026-06-15T00:00:00", "2026-06-16T00:00:00+00:00"
        with pytest.raises(AirflowFailException, match="window_start: must be time-zone aware"):
            op.execute({})
        assert not route.called
    assert not list(tmp_path.iterdir())


def test_download_operator_needs_exactly_one_source(tmp_path: Path) -> None:
    op = AvitoDownloadRecordingsOperator(task_id="d", destination=str(tmp_path))
    with pytest.raises(AirflowFailException, match="exactly one of call_ids or calls_path"):
        op.execute({})
    op.call_ids = [1, "x"]
    with pytest.raises(AirflowFailException, match="call_ids: must contain only positive integers"):
        op.execute({})


def test_in_body_errors_map_to_classes() -> None:
    cases = [(1001, ValidationError), (1002, AuthenticationError), (1004, NotFoundError)]
    for code, cls in cases:
        with respx.mock(assert_all_called=False) as router:  # the token is cached after the first case
            _token_route(router)
            router.post(f"{BASE}/calltracking/v1/getCallById/").mock(
                return_value=httpx.Response(200, json={"call": None, "error": {"code": code, "message": "m"}})
            )
            with pytest.raises(cls, match=f"Avito error {code}"):
                AvitoHook().get_call(5)


def test_internal_error_in_body_is_retried_then_succeeds() -> None:
    with respx.mock() as router:
        _token_route(router)
        route = router.post(f"{BASE}/calltracking/v1/getCallById/").mock(
            side_effect=[
                httpx.Response(200, json={"call": None, "error": {"code": 1003, "message": "internal"}}),
                httpx.Response(200, json={"call": _call(5), "error": {"code": 0, "message": ""}}),
            ]
        )
        assert AvitoHook().get_call(5).call_id == 5
        assert route.call_count == 2


def test_retry_after_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("tenacity.nap.time.sleep", slept.append)
    with respx.mock() as router:
        _token_route(router)
        router.post(f"{BASE}/calltracking/v1/getCalls/").mock(
            side_effect=[
                httpx.Response(429, headers={"Retry-After": "7"}, json={"code": 429, "message": "slow"}),
                httpx.Response(200, json={"calls": [_call(1)], "error": {"code": 0, "message": ""}}),
                httpx.Response(200, json={"calls": [], "error": {"code": 0, "message": ""}}),
            ]
        )
        assert [c.call_id for c in AvitoHook().iter_calls(DAY, NEXT)] == [1]
    assert 7.0 in slept


def test_server_errors_give_up_after_max_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda s: None)
    with respx.mock() as router:
        _token_route(router)
        route = router.post(f"{BASE}/calltracking/v1/getCalls/").mock(
            return_value=httpx.Response(502, text="bad gateway")
        )
        with pytest.raises(ServerError, match="HTTP 502"):
            list(AvitoHook().iter_calls(DAY, NEXT))
        assert route.call_count == 3  # max_retries=2 from the connection extra


def test_tolerant_response_parsing_and_exact_window() -> None:
    page = {
        "calls": [
            {**_call(1, "2026-06-13T23:59:59Z")},  # before the window (API is inclusive)
            {**_call(2, "2026-06-14T03:00:00+03:00"), "newVendorField": "kept"},
            {"callId": 3, "callTime": "2026-06-14T12:00:00Z"},  # sparse record
            {**_call(4, "2026-06-15T00:00:00Z")},  # exactly at end: belongs to the next window
        ],
        "error": {"code": 0, "message": ""},
    }
    with respx.mock() as router:
        _token_route(router)
        empty = {"calls": [], "error": {"code": 0, "message": ""}}
        route = router.post(f"{BASE}/calltracking/v1/getCalls/").mock(
            side_effect=[httpx.Response(200, json=page), httpx.Response(200, json=empty)]
        )
        calls = list(AvitoHook().iter_calls(DAY, NEXT))
    assert [c.call_id for c in calls] == [2, 3]
    assert calls[0].model_dump(by_alias=True)["newVendorField"] == "kept"
    body = json.loads(route.calls[0].request.content)
    assert body == {
        "dateTimeFrom": "2026-06-14T00:00:00Z",
        "dateTimeTo": "2026-06-15T00:00:00Z",
        "limit": 100,
        "offset": 0,
    }
    assert route.calls[0].request.headers["Authorization"] == "Bearer tok-abc-123"


def test_token_request_and_secret_registration(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    with respx.mock() as router:
        token = _token_route(router)
        router.post(f"{BASE}/calltracking/v1/getCallById/").mock(
            return_value=httpx.Response(200, json={"call": _call(9), "error": {"code": 0, "message": ""}})
        )
        AvitoHook().get_call(9)
    form = dict(x.split("=") for x in token.calls[0].request.content.decode().split("&"))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "cid",
        "client_secret": "client-secret-xyz",
    }
    assert "tok-abc-123" not in caplog.text and "client-secret-xyz" not in caplog.text


def test_pages_shorter_than_the_limit_do_not_end_paging() -> None:
    """A server may cap pages below `limit` (the document promises a maximum, not full pages)."""
    calls = [_call(i, f"2026-06-14T10:00:{i:02d}Z") for i in range(1, 6)]

    def capped(request: httpx.Request) -> httpx.Response:
        offset = json.loads(request.content)["offset"]
        return httpx.Response(
            200, json={"calls": calls[offset : offset + 2], "error": {"code": 0, "message": ""}}
        )

    with respx.mock() as router:
        _token_route(router)
        route = router.post(f"{BASE}/calltracking/v1/getCalls/").mock(side_effect=capped)
        ids = [c.call_id for c in AvitoHook().iter_calls(DAY, NEXT)]
    assert ids == [1, 2, 3, 4, 5]
    assert [json.loads(c.request.content)["offset"] for c in route.calls] == [0, 2, 4, 5]


def test_missing_recording_fails_or_is_skipped_as_asked() -> None:
    from airflow_provider_telephony.sensors.avito import AvitoRecordingSensor

    with respx.mock() as router:
        _token_route(router)
        router.get(f"{BASE}/calltracking/v1/getRecordByCallId/").mock(
            return_value=httpx.Response(404, json={"code": 1004, "message": "record not found"})
        )
        with pytest.raises(NotFoundError, match="Avito error 1004"):
            AvitoRecordingSensor(task_id="w", call_ids=[7], deferrable=False).poke({})
        assert AvitoRecordingSensor(task_id="w", call_ids=[7], deferrable=False, fail_on_missing=False).poke(
            {}
        )
