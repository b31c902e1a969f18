"""Tele2 and AutoCall.kz hooks against a small misbehaving server: endless or odd pages, a
trickled answer, a write whose answer is dropped, a body echoing the credentials.  Each ends in
bounded time with a named error, no write happens twice, nothing partial is published."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_telephony.core.errors import (
    OutcomeUnknownError,
    PagingError,
    TelephonyError,
    TransportError,
    UnexpectedResponseError,
)
from tests.conftest import conn_env
from tests.hostile_server import HostileServer, Reply, Request, Trickle, routes

ACCESS = "hostile-tele2-access-token-01"
REFRESH = "hostile-tele2-refresh-token-01"
KEY = "hostile-autocall-key-000001"
START = datetime(2026, 6, 14, tzinfo=timezone.utc)
END = datetime(2026, 6, 15, tzinfo=timezone.utc)
RECORD = {
    "date": "2026-06-14T10:00:00.000Z",
    "callType": "SINGLE_CHANNEL",
    "callerNumber": "79990000001",
    "calleeNumber": "79990000002",
    "callStatus": "ANSWERED_COMMON",
    "recordFileName": "2026-06-14/1",
}


def _tele2(monkeypatch: pytest.MonkeyPatch, url: str, tmp_path: Path) -> None:
    monkeypatch.setenv(
        *conn_env(
            "tele2_ats_default",
            conn_type="tele2_ats",
            host=url,
            password=REFRESH,
            extra={
                "access_token": ACCESS,
                "token_file": str(tmp_path / "tokens"),
                "max_retries": 1,
                "deadline": 2,
            },
        )
    )


def _autocall(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv(
        *conn_env(
            "autocall_default",
            conn_type="autocall",
            host=f"{url}/api/v1",
            password=KEY,
            extra={"max_retries": 1, "deadline": 2},
        )
    )


def test_tele2_server_ignoring_the_page_stops_with_a_paging_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from airflow_provider_telephony.hooks.tele2 import Tele2AtsHook

    same = [dict(RECORD, date=f"2026-06-14T10:00:{n:02d}.000Z") for n in range(5)]
    with HostileServer(routes({("GET", "/call-records/info"): lambda req: Reply.json(same)})) as server:
        _tele2(monkeypatch, server.url, tmp_path)
        with Tele2AtsHook() as hook, pytest.raises(PagingError, match="repeats"):
            list(hook.iter_call_records(START, END, size=5))
        assert server.count("/call-records/info") == 2


def test_tele2_export_with_an_odd_page_publishes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from airflow_provider_telephony.core.compat import airflow_fail_exception
    from airflow_provider_telephony.operators.tele2 import Tele2CallRecordsToStorageOperator

    def pages(req: Request) -> Reply:
        if req.params().get("page") == "0":
            return Reply.json([dict(RECORD, date=f"2026-06-14T10:00:{n:02d}.000Z") for n in range(2)])
        return Reply.json({})  # not an array: not "the last page"

    out = tmp_path / "out.jsonl"
    with HostileServer(routes({("GET", "/call-records/info"): pages})) as server:
        _tele2(monkeypatch, server.url, tmp_path)
        op = Tele2CallRecordsToStorageOperator(
            task_id="t", output_path=str(out), window_start=START, window_end=END, page_size=2
        )
        with pytest.raises((UnexpectedResponseError, airflow_fail_exception())):
            op.execute({})
    assert not out.exists() and not list(tmp_path.glob("*.jsonl*"))


def test_tele2_trickled_answer_ends_at_the_deadline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from airflow_provider_telephony.hooks.tele2 import Tele2AtsHook

    slow = Reply.json([{"employeeId": 1}] * 50, trickle=Trickle("body", chunk=1, interval=0.2))
    with HostileServer(routes({("GET", "/employees"): lambda req: slow})) as server:
        _tele2(monkeypatch, server.url, tmp_path)
        started = time.monotonic()
        with Tele2AtsHook() as hook, pytest.raises(TransportError):
            hook.get_employees()
        assert time.monotonic() - started < 12  # 2 attempts of a 2 s deadline, plus a backoff


def test_tele2_click_to_call_whose_answer_is_dropped_is_not_sent_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from airflow_provider_telephony.hooks.tele2 import Tele2AtsHook

    with HostileServer(routes({("POST", "/call/outgoing"): lambda req: Reply(hang_up=True)})) as server:
        _tele2(monkeypatch, server.url, tmp_path)
        with Tele2AtsHook() as hook, pytest.raises(OutcomeUnknownError):
            hook.click_to_call("79990000002", "79990000001")
        assert server.count("/call/outgoing", "POST") == 1


def test_tele2_error_echoing_the_token_is_redacted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from airflow_provider_telephony.hooks.tele2 import Tele2AtsHook

    def echo(req: Request) -> Reply:
        return Reply.text(f"bad request, Authorization: {req.headers.get('authorization')}", status=400)

    with HostileServer(routes({("GET", "/employees"): echo})) as server:
        _tele2(monkeypatch, server.url, tmp_path)
        with Tele2AtsHook() as hook, pytest.raises(TelephonyError) as caught:
            hook.get_employees()
    assert ACCESS not in str(caught.value) and REFRESH not in str(caught.value)


def test_autocall_endless_next_page_url_stops_with_a_paging_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_telephony.hooks.autocall import AutoCallHook

    def same(req: Request) -> Reply:
        page: dict[str, Any] = {
            "current_page": 1,
            "data": [{"id": 7, "name": "x", "status": "completed"}],
            "next_page_url": f"http://{req.headers.get('host')}/api/v1/autocalls?page=1",
        }
        return Reply.json(page)

    with HostileServer(routes({("GET", "/api/v1/autocalls"): same})) as server:
        _autocall(monkeypatch, server.url)
        with AutoCallHook() as hook, pytest.raises(PagingError):
            list(hook.iter_autocalls())
        assert server.count("/api/v1/autocalls") <= 3


def test_autocall_bulk_whose_answer_is_dropped_is_found_not_sent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow_provider_telephony.hooks.autocall import AutoCallHook

    made: list[dict[str, Any]] = []

    def create(req: Request) -> Reply:
        body = req.json()
        made.append({"id": 11, "client_id": body["client_id"], "name": body["name"], "status": "moderation"})
        return Reply(hang_up=True)  # created, then the answer is lost

    def listed(req: Request) -> Reply:
        wanted = [b for b in made if b["client_id"] == req.params().get("client_id")]
        return Reply.json({"current_page": 1, "data": wanted, "next_page_url": None})

    table = {("POST", "/api/v1/bulks"): create, ("GET", "/api/v1/bulks"): listed}
    with HostileServer(routes(table)) as server:
        _autocall(monkeypatch, server.url)
        with AutoCallHook() as hook:
            bulk = hook.create_bulk(
                name="Once", text="Hi", recipients=["+77010000001"], client_id="hostile-1"
            )
        assert bulk.id == 11 and server.count("/api/v1/bulks", "POST") == 1
