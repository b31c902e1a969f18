"""Finding 1 — paging without an end: a server that ignores the offset or page number, or cycles
pages, must stop an export with ``PagingError`` after a few requests and publish nothing.  The error
is permanent (the server will not behave better on the next attempt), so the operator fails the task
at once: ``AirflowFailException`` caused by the ``PagingError``.

Each test runs against a real loopback server (``tests.hostile_server``); every one is bounded in
time and asserts how few requests were sent, so a regression fails instead of looping for ever.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_telephony.core.compat import airflow_fail_exception
from airflow_provider_telephony.core.errors import PagingError
from airflow_provider_telephony.operators.avito import AvitoCallsToStorageOperator
from airflow_provider_telephony.operators.callkeeper import CallKeeperCallsToStorageOperator
from tests.hostile_server import (
    AVITO_CALLS,
    AVITO_TOKEN,
    HostileServer,
    Reply,
    Request,
    avito_conn,
    avito_page,
    avito_token,
    callkeeper_conn,
    ck_page_number,
    ck_v1_call,
    ck_v1_page,
    ck_v3_call,
    record_sleeps,
    reset_client_state,
    routes,
)

pytestmark = pytest.mark.timeout(60)
AirflowFailException = airflow_fail_exception()

WINDOW: dict[str, Any] = {
    "window_start": "2026-06-15T00:00:00+00:00",
    "window_end": "2026-06-16T00:00:00+00:00",
}


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    reset_client_state(monkeypatch)
    record_sleeps(monkeypatch)  # a regression that retries must not make the suite slow


@contextmanager
def _fails_with_paging_error(match: str) -> Iterator[None]:
    """The operator fails the task at once, and the cause is a PagingError matching ``match``."""
    with pytest.raises(AirflowFailException, match=match) as excinfo:
        yield
    assert isinstance(excinfo.value.__cause__, PagingError)


def _nothing_published(folder: Path) -> None:
    """Neither the output nor a temporary sibling (``.<name>.tmp-*``) is left in ``folder``."""
    assert sorted(p.name for p in folder.iterdir()) == []


def _avito_export(conn_id: str, out: Path, **kw: Any) -> AvitoCallsToStorageOperator:
    return AvitoCallsToStorageOperator(
        task_id="export", output_path=str(out), avito_conn_id=conn_id, **WINDOW, **kw
    )


def test_avito_server_ignoring_offset_stops_after_two_pages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The same full page of 100 calls whatever the offset: the second page repeats the first."""
    handler = routes(
        {
            ("POST", AVITO_TOKEN): avito_token("tok-ignore-offset-1"),
            ("POST", AVITO_CALLS): lambda req: Reply.json(avito_page(1, 100)),
        }
    )
    with HostileServer(handler) as server:
        conn = avito_conn(monkeypatch, server.url)
        with _fails_with_paging_error("offset 100 repeats"):
            _avito_export(conn, tmp_path / "calls.jsonl").execute({})
        assert server.count(AVITO_CALLS) == 2
        offsets = [r.json()["offset"] for r in server.requests if r.path == AVITO_CALLS]
    assert offsets == [0, 100]
    _nothing_published(tmp_path)


def test_avito_page_larger_than_limit_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Asked for 10 calls, the server sends 11: paging on would skip or repeat records."""
    handler = routes(
        {
            ("POST", AVITO_TOKEN): avito_token("tok-too-large-1"),
            ("POST", AVITO_CALLS): lambda req: Reply.json(avito_page(1, req.json()["limit"] + 1)),
        }
    )
    with HostileServer(handler) as server:
        conn = avito_conn(monkeypatch, server.url)
        with _fails_with_paging_error("11 records at offset 0 for a limit of 10"):
            _avito_export(conn, tmp_path / "calls.jsonl", page_size=10).execute({})
        assert server.count(AVITO_CALLS) == 1
    _nothing_published(tmp_path)


def _v3_cycling(pages: str) -> Any:
    """A v3 handler answering page ``n`` with the page named by ``pages[n % len(pages)]`` (A or B)."""
    contents = {"A": [ck_v3_call(1), ck_v3_call(2)], "B": [ck_v3_call(3), ck_v3_call(4)]}

    def handler(request: Request) -> Reply:
        if request.path != "/api/":
            return Reply.text("no such route", 404)
        return Reply.json(contents[pages[ck_page_number(request) % len(pages)]])

    return handler


@pytest.mark.parametrize(
    ("cycle", "requests", "repeated"),
    [("AB", 3, "page 2 repeats the records of page 0"), ("A", 2, "page 1 repeats the records of page 0")],
    ids=["alternating-A-B", "same-page-forever"],
)
def test_callkeeper_v3_cycling_pages_are_a_paging_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cycle: str, requests: int, repeated: str
) -> None:
    """Pages A, B, A, B …: the third page was seen before; the same page forever: the second was."""
    with HostileServer(_v3_cycling(cycle)) as server:
        conn = callkeeper_conn(monkeypatch, server.url)
        op = CallKeeperCallsToStorageOperator(
            task_id="export",
            output_path=str(tmp_path / "calls.jsonl"),
            callkeeper_conn_id=conn,
            api_version="v3",
            method="get",
            **WINDOW,
        )
        with _fails_with_paging_error(repeated):
            op.execute({})
        assert server.count("/api/") == requests
    _nothing_published(tmp_path)


@pytest.mark.parametrize(
    ("cycle", "requests"), [("AB", 3), ("A", 2)], ids=["alternating-A-B", "same-page-forever"]
)
def test_callkeeper_v1_cycling_pages_are_a_paging_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cycle: str, requests: int
) -> None:
    """v1 pages until ``ofPages``; a server claiming 1000 pages but cycling two is stopped early."""
    contents = {"A": [ck_v1_call(1), ck_v1_call(2)], "B": [ck_v1_call(3), ck_v1_call(4)]}

    def handler(request: Request) -> Reply:
        if request.path != "/api/index.php":
            return Reply.text("no such route", 404)
        rows = contents[cycle[ck_page_number(request) % len(cycle)]]
        return Reply.json(ck_v1_page(rows, of_pages=1000))

    with HostileServer(handler) as server:
        conn = callkeeper_conn(monkeypatch, server.url, api_version="v1")
        op = CallKeeperCallsToStorageOperator(
            task_id="export",
            output_path=str(tmp_path / "calls.jsonl"),
            callkeeper_conn_id=conn,
            api_version="v1",
            method="get",
            **WINDOW,
        )
        with _fails_with_paging_error("repeats the records of page 0"):
            op.execute({})
        assert server.count("/api/index.php") == requests
    _nothing_published(tmp_path)
