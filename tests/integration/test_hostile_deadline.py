"""Finding 4 — an overall deadline per request: a server that trickles its answer (one byte every
0.2 s never trips a per-read timeout) is cut off once the connection's ``deadline`` passes, in the
sync client (tasks) and the async one (triggers); the example DAGs bound every task as well.
"""

from __future__ import annotations

import asyncio
import importlib.util
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_telephony.core.errors import TransportError
from airflow_provider_telephony.hooks.avito import AvitoHook
from airflow_provider_telephony.hooks.callkeeper import CallKeeperHook
from airflow_provider_telephony.operators.avito import AvitoCallsToStorageOperator
from airflow_provider_telephony.operators.callkeeper import CallKeeperCallsToStorageOperator
from tests.conftest import EXAMPLE_DAGS
from tests.hostile_server import (
    AVITO_CALLS,
    AVITO_RECORD,
    AVITO_TOKEN,
    HostileServer,
    Reply,
    Trickle,
    avito_conn,
    avito_page,
    avito_token,
    callkeeper_conn,
    ck_v3_call,
    elapsed,
    reset_client_state,
    routes,
)

pytestmark = pytest.mark.timeout(60)

WINDOW: dict[str, Any] = {
    "window_start": "2026-06-15T00:00:00+00:00",
    "window_end": "2026-06-16T00:00:00+00:00",
}
DEADLINE: dict[str, Any] = {"deadline": 1, "max_retries": 0}
#: well above the 1 s deadline (and far below what a trickle of the whole answer would take)
BOUND = 10.0
SLOW_BODY = Trickle("body", chunk=1, interval=0.2)
SLOW_HEAD = Trickle("head", chunk=1, interval=0.2)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    reset_client_state(monkeypatch)


def _calls_page(trickle: Trickle) -> Reply:
    """A 5-call page (about 1 KiB: minutes at one byte per 0.2 s)."""
    return Reply.json(avito_page(1, 5), trickle=trickle)


@pytest.mark.parametrize("trickle", [SLOW_BODY, SLOW_HEAD], ids=["body-trickled", "headers-trickled"])
def test_avito_export_trickled_page_hits_the_deadline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, trickle: Trickle
) -> None:
    handler = routes(
        {
            ("POST", AVITO_TOKEN): avito_token("tok-deadline-1"),
            ("POST", AVITO_CALLS): lambda req: _calls_page(trickle),
        }
    )
    with HostileServer(handler) as server:
        conn = avito_conn(monkeypatch, server.url, **DEADLINE)
        op = AvitoCallsToStorageOperator(
            task_id="export", output_path=str(tmp_path / "calls.jsonl"), avito_conn_id=conn, **WINDOW
        )
        with elapsed() as took, pytest.raises(TransportError) as excinfo:
            op.execute({})
        assert server.count(AVITO_CALLS) == 1
    assert took() < BOUND
    assert str(excinfo.value).startswith("getCalls:")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("trickle", [SLOW_BODY, SLOW_HEAD], ids=["body-trickled", "headers-trickled"])
def test_avito_trickled_token_hits_the_deadline(monkeypatch: pytest.MonkeyPatch, trickle: Trickle) -> None:
    """The token request is bounded too, and the error names it."""
    token = Reply.json({"access_token": "tok-deadline-2", "expires_in": 3600, "padding": "p" * 200})
    handler = routes(
        {
            ("POST", AVITO_TOKEN): lambda req: Reply(
                token.status, token.body, token.headers, trickle=trickle
            ),
            ("POST", AVITO_CALLS): lambda req: Reply.json({"calls": []}),
        }
    )
    start = datetime(2026, 6, 15, tzinfo=timezone.utc)
    with HostileServer(handler) as server:
        conn = avito_conn(monkeypatch, server.url, **DEADLINE)
        with (
            AvitoHook(conn) as hook,
            elapsed() as took,
            pytest.raises(TransportError) as excinfo,
        ):
            hook.get_calls_page(start, start.replace(day=16))
        assert server.count(AVITO_CALLS) == 0
    assert took() < BOUND
    assert str(excinfo.value).startswith("token:")


@pytest.mark.parametrize("trickle", [SLOW_BODY, SLOW_HEAD], ids=["body-trickled", "headers-trickled"])
def test_callkeeper_trickled_page_hits_the_deadline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, trickle: Trickle
) -> None:
    page = [ck_v3_call(i) for i in range(5)]
    with HostileServer(routes({("GET", "/api/"): lambda req: Reply.json(page, trickle=trickle)})) as server:
        conn = callkeeper_conn(monkeypatch, server.url, **DEADLINE)
        op = CallKeeperCallsToStorageOperator(
            task_id="export",
            output_path=str(tmp_path / "calls.jsonl"),
            callkeeper_conn_id=conn,
            api_version="v3",
            method="get",
            **WINDOW,
        )
        with elapsed() as took, pytest.raises(TransportError) as excinfo:
            op.execute({})
        assert server.count("/api/") == 1
    assert took() < BOUND
    assert "HOSTILEKEY" not in str(excinfo.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("vendor", ["avito-getCalls", "avito-token", "callkeeper-v3"])
def test_sync_deadline_error_names_the_deadline(monkeypatch: pytest.MonkeyPatch, vendor: str) -> None:
    """The message must tell the user which setting cut the request off (connection extra 'deadline')."""
    token = Reply.json({"access_token": "tok-deadline-4", "expires_in": 3600, "padding": "p" * 200})
    handler = routes(
        {
            ("POST", AVITO_TOKEN): lambda req: (
                Reply(200, token.body, token.headers, trickle=SLOW_BODY) if vendor == "avito-token" else token
            ),
            ("POST", AVITO_CALLS): lambda req: _calls_page(SLOW_BODY),
            ("GET", "/api/"): lambda req: Reply.json([ck_v3_call(i) for i in range(5)], trickle=SLOW_BODY),
        }
    )
    start = datetime(2026, 6, 15, tzinfo=timezone.utc)
    with HostileServer(handler) as server, pytest.raises(TransportError) as excinfo:
        if vendor == "callkeeper-v3":
            with CallKeeperHook(callkeeper_conn(monkeypatch, server.url, **DEADLINE)) as ck:
                ck.get_v3_page("get", start, start.replace(day=16))
        else:
            with AvitoHook(avito_conn(monkeypatch, server.url, **DEADLINE)) as avito:
                avito.get_calls_page(start, start.replace(day=16))
    assert "deadline" in str(excinfo.value)


def test_callkeeper_async_page_hits_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The async twin (``aget_v3_page``) is bounded by the same deadline."""
    page = [ck_v3_call(i) for i in range(5)]
    with HostileServer(routes({("GET", "/api/"): lambda req: Reply.json(page, trickle=SLOW_BODY)})) as server:
        conn = callkeeper_conn(monkeypatch, server.url, **DEADLINE)

        async def fetch() -> None:
            hook = CallKeeperHook(conn)
            try:
                await hook.aget_v3_page("get", 1781481600, 1781567999)
            finally:
                await hook.aclose()

        with elapsed() as took, pytest.raises(TransportError, match="deadline"):
            asyncio.run(asyncio.wait_for(fetch(), timeout=30))
    assert took() < BOUND


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, b"ID3" + b"\0" * 500, {"Content-Type": "audio/mpeg"}, trickle=SLOW_HEAD),
        Reply.json({"code": 1005, "message": "record is not ready yet " + "." * 300}, 425, trickle=SLOW_BODY),
    ],
    ids=["ready-headers-trickled", "not-ready-body-trickled"],
)
def test_async_recording_check_hits_the_deadline(monkeypatch: pytest.MonkeyPatch, reply: Reply) -> None:
    """``arecording_ready`` (what the trigger awaits) cannot be held by a trickling server."""
    handler = routes(
        {("POST", AVITO_TOKEN): avito_token("tok-deadline-3"), ("GET", AVITO_RECORD): lambda req: reply}
    )
    with HostileServer(handler) as server:
        conn = avito_conn(monkeypatch, server.url, **DEADLINE)

        async def check() -> bool:
            hook = AvitoHook(conn)
            try:
                return await hook.arecording_ready(42)
            finally:
                await hook.aclose()

        with elapsed() as took, pytest.raises(TransportError, match="deadline") as excinfo:
            asyncio.run(asyncio.wait_for(check(), timeout=30))
        assert server.count(AVITO_RECORD) == 1
    assert took() < BOUND
    assert str(excinfo.value).startswith("getRecordByCallId:")


def _load(path: Path) -> object:
    spec = importlib.util.spec_from_file_location(f"hostile_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", sorted(EXAMPLE_DAGS.glob("*.py")), ids=lambda p: p.stem)
def test_example_dags_bound_every_task(path: Path) -> None:
    """A hung vendor must fail a task attempt, not hold a worker slot for ever."""
    module = _load(path)
    dags = [value for value in vars(module).values() if type(value).__name__ == "DAG"]
    assert dags, f"{path.name} defines no DAG"
    for dag in dags:
        assert dag.default_args.get("execution_timeout") is not None, dag.dag_id
        for task in dag.tasks:
            assert task.execution_timeout is not None, f"{dag.dag_id}.{task.task_id}"
            assert task.execution_timeout.total_seconds() > 0


def test_trickled_server_does_not_hold_the_test_session() -> None:
    """The utility itself: leaving a server mid-trickle returns at once (daemon threads, stop event)."""
    import httpx

    slow = Reply(200, b"x" * 1000, trickle=SLOW_BODY)
    # the handler thread is still mid-trickle when the server's block ends
    with elapsed() as took, HostileServer(lambda req: slow) as server, pytest.raises(httpx.ReadTimeout):
        httpx.get(server.url + "/slow", timeout=httpx.Timeout(5, read=0.1))
    assert took() < 3
    assert server.count() == 1
