"""``settle``: an export of a window that ended moments ago waits until calls recorded late are in,
deferred (worker freed) or asleep, and then exports the whole window unchanged."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from airflow_provider_telephony.core.compat import airflow_fail_exception, task_deferred
from airflow_provider_telephony.core.errors import RequestValidationError
from airflow_provider_telephony.operators.avito import AvitoCallsToStorageOperator
from airflow_provider_telephony.operators.callkeeper import CallKeeperCallsToStorageOperator

UTC = timezone.utc
AirflowFailException = airflow_fail_exception()
TaskDeferred = task_deferred()


def _recent_window(ended_ago: timedelta) -> tuple[datetime, datetime]:
    end = datetime.now(UTC).replace(microsecond=0) - ended_ago
    return end - timedelta(hours=6), end


def test_deferrable_export_defers_until_the_window_has_settled(avito_conn: str, tmp_path: Path) -> None:
    start, end = _recent_window(timedelta(seconds=5))
    op = AvitoCallsToStorageOperator(
        task_id="export",
        output_path=str(tmp_path / "calls.jsonl"),
        window_start=start,
        window_end=end,
        settle=timedelta(minutes=30),
        deferrable=True,
    )
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({})
    trigger = deferred.value.trigger
    assert type(trigger).__name__ == "DateTimeTrigger"
    assert trigger.moment == end + timedelta(minutes=30)
    assert deferred.value.method_name == "execute"
    assert not list(tmp_path.iterdir()), "nothing is written before the window settles"


def test_resumed_export_covers_the_whole_window(avito_conn: str, tmp_path: Path) -> None:
    start, end = _recent_window(timedelta(hours=1))
    op = AvitoCallsToStorageOperator(
        task_id="export",
        output_path=str(tmp_path / "calls.jsonl"),
        window_start=start,
        window_end=end,
        settle=timedelta(minutes=30),
        deferrable=True,
    )
    summary = op.execute({}, event={"status": "success"})  # what the trigger resumes with
    assert summary is not None
    assert summary["window"] == {"start": start.isoformat(), "end": end.isoformat()}


def test_without_deferral_the_export_sleeps_then_runs(avito_conn: str, tmp_path: Path) -> None:
    end = datetime.now(UTC)
    start = end - timedelta(hours=6)
    op = AvitoCallsToStorageOperator(
        task_id="export",
        output_path=str(tmp_path / "calls.jsonl"),
        window_start=start,
        window_end=end,
        settle=timedelta(seconds=1),
        deferrable=False,
    )
    began = time.monotonic()
    summary = op.execute({})
    assert time.monotonic() - began >= 0.8
    assert summary is not None and summary["window"]["end"] == end.isoformat()


def test_a_window_far_in_the_future_is_refused_not_waited_for(tmp_path: Path) -> None:
    start = datetime.now(UTC) + timedelta(days=3)
    op = CallKeeperCallsToStorageOperator(
        task_id="export",
        output_path=str(tmp_path / "calls.jsonl"),
        window_start=start,
        window_end=start + timedelta(days=1),
        settle=timedelta(minutes=10),
        deferrable=True,
    )
    with pytest.raises(AirflowFailException, match="window_end: is more than") as err:
        op.execute({})
    assert isinstance(err.value.__cause__, RequestValidationError)


@pytest.mark.parametrize("settle", [timedelta(0), timedelta(days=8), 30])
def test_settle_must_be_a_sensible_timedelta(settle: object) -> None:
    with pytest.raises(RequestValidationError, match="settle"):
        AvitoCallsToStorageOperator(task_id="x", output_path="/tmp/x.jsonl", settle=settle)  # type: ignore[arg-type]
