"""Finding 9 — strict settings: a malformed extra, a retry count that is not a whole number in range,
a connection of another type, an absurd export window or date, and a negative lookback are refused
by name before any request (never silently replaced by a default, truncated, or sent to the server).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_telephony.core.compat import airflow_fail_exception
from airflow_provider_telephony.core.errors import (
    ConfigurationError,
    RequestValidationError,
    ServerError,
)
from airflow_provider_telephony.hooks.avito import AvitoHook
from airflow_provider_telephony.operators.avito import AvitoCallsToStorageOperator
from airflow_provider_telephony.operators.callkeeper import CallKeeperCallsToStorageOperator
from tests.conftest import conn_env
from tests.hostile_server import (
    AVITO_CALLS,
    AVITO_CLIENT_ID,
    AVITO_SECRET,
    AVITO_TOKEN,
    HostileServer,
    Reply,
    Request,
    avito_conn,
    avito_token,
    record_sleeps,
    reset_client_state,
    routes,
)

AirflowFailException = airflow_fail_exception()

pytestmark = pytest.mark.timeout(60)

WINDOW: dict[str, Any] = {
    "window_start": "2026-06-15T00:00:00+00:00",
    "window_end": "2026-06-16T00:00:00+00:00",
}
START = datetime(2026, 6, 15, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    reset_client_state(monkeypatch)


def _avito_server(calls: Callable[[Request], Reply] | None = None) -> HostileServer:
    answer = calls or (lambda req: Reply.json({"calls": []}))
    return HostileServer(
        routes({("POST", AVITO_TOKEN): avito_token("tok-settings-1"), ("POST", AVITO_CALLS): answer})
    )


def _export(conn: str, out: Path, **kw: Any) -> AvitoCallsToStorageOperator:
    args = {**WINDOW, **kw}
    return AvitoCallsToStorageOperator(task_id="export", output_path=str(out), avito_conn_id=conn, **args)


def _cause(excinfo: pytest.ExceptionInfo[AirflowFailException]) -> BaseException:
    assert excinfo.value.__cause__ is not None
    return excinfo.value.__cause__


def test_malformed_extra_json_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``"extra": "{not json"``: Airflow would log and use no extras at all (every default, silently)."""
    with _avito_server() as server:
        monkeypatch.setenv(
            *conn_env(
                "avito_bad_extra",
                conn_type="avito",
                host=server.url,
                login=AVITO_CLIENT_ID,
                password=AVITO_SECRET,
                extra="{not json",
            )
        )
        # Airflow 3.2+ hands us the connection and we refuse its extra; Airflow 3.1 refuses to load
        # such a connection at all ("isn't defined"): either way a ConfigurationError naming it
        refused = "extra is not valid JSON|cannot be loaded"
        with pytest.raises(ConfigurationError, match=refused):
            AvitoHook("avito_bad_extra").get_calls_page(START, START + timedelta(days=1))
        with pytest.raises(AirflowFailException, match=refused) as excinfo:
            _export("avito_bad_extra", tmp_path / "calls.jsonl").execute({})
        assert server.count() == 0
    assert isinstance(_cause(excinfo), ConfigurationError)
    assert "avito_bad_extra" in str(excinfo.value)


@pytest.mark.parametrize("extra", ['["a", "list"]', '"text"', "42"], ids=["list", "string", "number"])
def test_extra_that_is_not_an_object_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, extra: str
) -> None:
    with _avito_server() as server:
        monkeypatch.setenv(
            *conn_env(
                "avito_odd_extra",
                conn_type="avito",
                host=server.url,
                login="id",
                password=AVITO_SECRET,
                extra=extra,
            )
        )
        with pytest.raises(ConfigurationError, match="extra"):
            AvitoHook("avito_odd_extra").get_calls_page(START, START + timedelta(days=1))
        assert server.count() == 0


@pytest.mark.parametrize("value", [2.9, 10**9, "abc", "2.5", -1, True, 21], ids=repr)
def test_unusable_max_retries_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: Any
) -> None:
    """Not truncated (2.9 is not 2), not huge (10**9 retries of a 503 is for ever), not ignored."""
    with _avito_server() as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=value)
        with pytest.raises(ConfigurationError, match="max_retries"):
            AvitoHook(conn).get_calls_page(START, START + timedelta(days=1))
        with pytest.raises(AirflowFailException) as excinfo:
            _export(conn, tmp_path / "calls.jsonl").execute({})
        assert server.count() == 0
    assert isinstance(_cause(excinfo), ConfigurationError)
    assert "max_retries" in str(excinfo.value)


@pytest.mark.parametrize(("value", "attempts"), [(2.0, 3), ("3", 4), (0, 1), ("0", 1)], ids=repr)
def test_whole_max_retries_are_accepted_and_honoured(
    monkeypatch: pytest.MonkeyPatch, value: Any, attempts: int
) -> None:
    """``2.0`` and ``"3"`` are whole numbers: accepted, and a persistent 503 is sent that many times more."""
    sleeps = record_sleeps(monkeypatch)
    with _avito_server(lambda req: Reply.text("down", 503)) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=value)
        with pytest.raises(ServerError):
            AvitoHook(conn).get_calls_page(START, START + timedelta(days=1))
        assert server.count(AVITO_CALLS) == attempts
    assert len(sleeps.waits) == attempts - 1


@pytest.mark.parametrize("conn_type", ["http", "callkeeper", "tele2_ats"])
def test_connection_of_another_type_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, conn_type: str
) -> None:
    with _avito_server() as server:
        monkeypatch.setenv(
            *conn_env(
                "avito_wrong_type",
                conn_type=conn_type,
                host=server.url,
                login=AVITO_CLIENT_ID,
                password=AVITO_SECRET,
            )
        )
        with pytest.raises(ConfigurationError, match=f"'{conn_type}'") as excinfo:
            AvitoHook("avito_wrong_type").get_calls_page(START, START + timedelta(days=1))
        with pytest.raises(AirflowFailException):
            _export("avito_wrong_type", tmp_path / "calls.jsonl").execute({})
        assert server.count() == 0
    assert "'avito'" in str(excinfo.value)


def test_century_long_window_is_refused_before_any_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A mistyped year (100 years instead of 1 day) must not become hundreds of requests."""
    with _avito_server() as server:
        conn = avito_conn(monkeypatch, server.url)
        op = _export(
            conn,
            tmp_path / "calls.jsonl",
            window_start="1990-01-01T00:00:00+00:00",
            window_end="2090-01-01T00:00:00+00:00",
        )
        with pytest.raises(AirflowFailException) as excinfo:
            op.execute({})
        assert server.count() == 0
    cause = _cause(excinfo)
    assert isinstance(cause, RequestValidationError) and cause.field == "window_end"
    assert "max_window" in str(cause)
    assert list(tmp_path.iterdir()) == []


def test_long_window_runs_when_max_window_is_raised(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The limit is a guard, not a ceiling: raising ``max_window`` lets a century-long backfill run,
    split into windows the API accepts (≤ 89 days each).  (The rate limiter's pauses are recorded,
    not slept, to keep 411 requests fast.)"""
    record_sleeps(monkeypatch)
    start, end = "1990-01-01T00:00:00+00:00", "2090-01-01T00:00:00+00:00"  # 100 years
    with _avito_server() as server:
        conn = avito_conn(monkeypatch, server.url)
        with pytest.raises(AirflowFailException, match="max_window"):
            _export(conn, tmp_path / "refused.jsonl", window_start=start, window_end=end).execute({})
        assert server.count() == 0
        summary = _export(
            conn,
            tmp_path / "calls.jsonl",
            window_start=start,
            window_end=end,
            max_window=timedelta(days=36525),
        ).execute({})
        bodies = [r.json() for r in server.requests if r.path == AVITO_CALLS]
    assert summary["records"] == 0
    assert len(bodies) == 411  # ceil(36525 / 89) windows, one empty page each
    assert (
        bodies[0]["dateTimeFrom"] == "1990-01-01T00:00:00Z"
        and bodies[-1]["dateTimeTo"] == "2090-01-01T00:00:00Z"
    )


@pytest.mark.parametrize(
    ("window", "field"),
    [
        (
            {"window_start": "1969-12-31T00:00:00+00:00", "window_end": "1970-01-02T00:00:00+00:00"},
            "window_start",
        ),
        (
            {"window_start": "0001-01-01T00:00:00+00:00", "window_end": "0001-01-02T00:00:00+00:00"},
            "window_start",
        ),
        (
            {"window_start": "9998-12-31T00:00:00+00:00", "window_end": "9999-01-01T12:00:00+00:00"},
            "window_end",
        ),
        (
            {"window_start": "9999-06-01T00:00:00+00:00", "window_end": "9999-06-02T00:00:00+00:00"},
            "window_start",
        ),
        (
            {"window_start": "9999-12-31T00:00:00-05:00", "window_end": "9999-12-31T12:00:00-05:00"},
            "window_start",
        ),
    ],
    ids=["1969", "year-1", "into-9999", "9999", "9999-with-offset"],
)
def test_years_outside_1970_to_9998_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, window: dict[str, str], field: str
) -> None:
    with _avito_server() as server:
        conn = avito_conn(monkeypatch, server.url)
        with pytest.raises(AirflowFailException) as excinfo:
            _export(conn, tmp_path / "calls.jsonl", **window).execute({})
        assert server.count() == 0
    cause = _cause(excinfo)
    assert isinstance(cause, RequestValidationError) and cause.field == field


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (
            datetime(1969, 12, 31, tzinfo=timezone.utc),
            datetime(1970, 1, 2, tzinfo=timezone.utc),
            "date_time_from",
        ),
        (
            datetime(9999, 1, 2, tzinfo=timezone.utc),
            datetime(9999, 1, 3, tzinfo=timezone.utc),
            "date_time_from",
        ),
    ],
    ids=["1969", "9999"],
)
def test_hook_refuses_years_outside_range(
    monkeypatch: pytest.MonkeyPatch, start: datetime, end: datetime, field: str
) -> None:
    with _avito_server() as server:
        conn = avito_conn(monkeypatch, server.url)
        with pytest.raises(RequestValidationError) as excinfo:
            AvitoHook(conn).get_calls_page(start, end)
        with pytest.raises(RequestValidationError):
            list(AvitoHook(conn).iter_call_pages(start, end))
        assert server.count() == 0
    assert excinfo.value.field == field


@pytest.mark.parametrize(
    "lookback", [timedelta(days=-1), timedelta(0), "1 day"], ids=["negative", "zero", "text"]
)
def test_unusable_lookback_is_refused_in_the_constructor(lookback: Any, tmp_path: Path) -> None:
    """Caught when the DAG is parsed, not at 3 a.m. when the task runs."""
    with pytest.raises(RequestValidationError, match="lookback") as excinfo:
        AvitoCallsToStorageOperator(
            task_id="export", output_path=str(tmp_path / "a.jsonl"), lookback=lookback
        )
    assert excinfo.value.field == "lookback"
    with pytest.raises(RequestValidationError, match="lookback"):
        CallKeeperCallsToStorageOperator(
            task_id="export", output_path=str(tmp_path / "a.jsonl"), lookback=lookback
        )


def test_get_calls_page_over_the_api_limit_names_date_time_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """100 days is over Avito's 3-month limit: the error names the argument to fix, not ``request``."""
    with _avito_server() as server:
        conn = avito_conn(monkeypatch, server.url)
        with pytest.raises(RequestValidationError) as excinfo:
            AvitoHook(conn).get_calls_page(START, START + timedelta(days=100))
        assert server.count() == 0
    assert excinfo.value.field == "date_time_to"
    assert str(excinfo.value).startswith("date_time_to:")
    assert "request" not in str(excinfo.value).split(":")[0]
