"""Avito operators, sensor and trigger against the sandbox (executed directly, outside a DAG run)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_telephony.core.storage import read_records
from airflow_provider_telephony.operators.avito import (
    AvitoCallsToStorageOperator,
    AvitoDownloadRecordingsOperator,
)
from airflow_provider_telephony.sandbox import SandboxConfig
from airflow_provider_telephony.sandbox.avito import AvitoWorld
from airflow_provider_telephony.sensors.avito import AvitoRecordingSensor
from airflow_provider_telephony.triggers.avito import AvitoRecordingTrigger
from tests.conftest import avito_sandbox

UTC = timezone.utc
START, END = datetime(2026, 6, 14, tzinfo=UTC), datetime(2026, 6, 15, tzinfo=UTC)
CONTEXT = {"data_interval_start": START, "data_interval_end": END}


def _expected(world: AvitoWorld) -> list[dict[str, Any]]:
    return [c for c in world.calls_between(START, END) if c["callTime"] < "2026-06-15T00:00:00Z"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_operator_writes_every_call(
    avito_conn: str, sandbox_config: SandboxConfig, tmp_path: Path, fmt: str
) -> None:
    expected = _expected(AvitoWorld(sandbox_config))
    op = AvitoCallsToStorageOperator(
        task_id="export", output_path=str(tmp_path / f"calls.{fmt}"), output_format=fmt, page_size=9
    )
    summary = op.execute(CONTEXT)
    assert summary["records"] == len(expected)
    assert summary["answered"] == sum(1 for c in expected if c["talkDuration"] > 0)
    assert summary["window"] == {"start": "2026-06-14T00:00:00+00:00", "end": "2026-06-15T00:00:00+00:00"}
    assert set(summary) == {"path", "format", "records", "answered", "bytes", "window", "http"}
    # request statistics: one token, one request per page of 9 and the empty page that ends paging
    pages = -(-len(expected) // 9) + 1
    assert summary["http"]["requests"] in (pages, pages + 1)
    assert summary["http"]["throttled"] == 0 and summary["http"]["retries"] == 0
    rows = list(read_records(tmp_path / f"calls.{fmt}"))
    assert [int(r["callId"]) for r in rows] == [c["callId"] for c in expected]
    # re-running the same interval overwrites instead of appending
    op.execute(CONTEXT)
    assert len(list(read_records(tmp_path / f"calls.{fmt}"))) == len(expected)
    assert [p.name for p in tmp_path.iterdir()] == [f"calls.{fmt}"]


def test_export_of_empty_day_writes_an_empty_file(avito_conn: str, tmp_path: Path) -> None:
    op = AvitoCallsToStorageOperator(
        task_id="export",
        output_path=str(tmp_path / "none.jsonl"),
        window_start="2027-03-01T00:00:00+00:00",
        window_end="2027-03-01T00:00:01+00:00",
    )
    assert op.execute({})["records"] == 0
    assert (tmp_path / "none.jsonl").read_bytes() == b""


def test_download_operator_skips_existing_and_reports(
    avito_conn: str, sandbox_config: SandboxConfig, tmp_path: Path
) -> None:
    world = AvitoWorld(sandbox_config)
    expected = _expected(world)
    calls = tmp_path / "calls.jsonl"
    calls.write_text("".join(json.dumps(c) + "\n" for c in expected))
    answered = [c["callId"] for c in expected if c["talkDuration"] > 0]
    unanswered = next(c["callId"] for c in expected if c["talkDuration"] == 0)

    first = AvitoDownloadRecordingsOperator(
        task_id="dl", calls_path=str(calls), destination=str(tmp_path / "rec")
    ).execute({})
    assert first["downloaded"] == len(answered) and first["skipped_existing"] == 0
    again = AvitoDownloadRecordingsOperator(
        task_id="dl", call_ids=[*answered[:2], unanswered], destination=str(tmp_path / "rec")
    ).execute({})
    assert again["downloaded"] == 0 and again["skipped_existing"] == 2
    assert again["missing"] == [unanswered]
    for cid in answered:
        assert (tmp_path / "rec" / f"{cid}.mp3").read_bytes() == world.recording_bytes(cid)


def _late_setup() -> tuple[SandboxConfig, list[int]]:
    config = SandboxConfig(seed=21, recording_delay=2.0)
    world = AvitoWorld(config)
    late = [c["callId"] for c in world.calls[:3000] if c["talkDuration"] > 0 and world.is_late(c["callId"])][
        :3
    ]
    return config, late


@pytest.mark.parametrize("mode", ["poke", "reschedule"])
def test_sensor_pokes_until_ready(mode: str) -> None:
    config, late = _late_setup()
    with avito_sandbox(config, "avito_default"):
        sensor = AvitoRecordingSensor(task_id="wait", call_ids=late, mode=mode, deferrable=False)
        assert sensor.poke({}) is False
        import time

        time.sleep(2.2)
        assert sensor.poke({}) is True


def test_trigger_fires_success_after_not_ready() -> None:
    config, late = _late_setup()
    with avito_sandbox(config, "avito_default"):
        trigger = AvitoRecordingTrigger(call_ids=late, poke_interval=0.5)
        classpath, kwargs = trigger.serialize()
        assert classpath == "airflow_provider_telephony.triggers.avito.AvitoRecordingTrigger"
        assert AvitoRecordingTrigger(**kwargs).serialize() == (classpath, kwargs)

        async def first_event() -> dict[str, Any]:
            async for event in trigger.run():
                return dict(event.payload)
            raise AssertionError("no event")

        event = asyncio.run(asyncio.wait_for(first_event(), timeout=20))
    assert event == {"status": "success", "call_ids": late}


def test_trigger_reports_errors_instead_of_waiting(avito_conn: str) -> None:
    trigger = AvitoRecordingTrigger(call_ids=[999_999_999], poke_interval=0.1)

    async def first_event() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("no event")

    event = asyncio.run(asyncio.wait_for(first_event(), timeout=20))
    assert event["status"] == "error" and event["error_type"] == "NotFoundError"
    sensor = AvitoRecordingSensor(task_id="wait", call_ids=[999_999_999], deferrable=True)
    from airflow_provider_telephony.core.compat import airflow_exception

    AirflowException = airflow_exception()

    with pytest.raises(AirflowException, match="NotFoundError"):
        sensor.execute_complete({}, event)


def test_deferrable_sensor_defers_with_pending_ids_only() -> None:
    from airflow_provider_telephony.core.compat import task_deferred

    TaskDeferred = task_deferred()

    config, late = _late_setup()
    with avito_sandbox(config, "avito_default"):
        sensor = AvitoRecordingSensor(
            task_id="wait", call_ids=late, deferrable=True, poke_interval=5, timeout=600
        )
        with pytest.raises(TaskDeferred) as deferred:
            sensor.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, AvitoRecordingTrigger)
    assert trigger.call_ids == late and trigger.poke_interval == 5
    assert deferred.value.method_name == "execute_complete"
