"""Recordings in one request each: ``getRecordByCallId`` is the readiness check *and* the download.

The deferrable download operator fetches every ready recording in its first request, defers the
late ones to a trigger that downloads each in the request that finds it ready, and reports what
stayed not ready when its total wait ran out.  Driven as Airflow drives it: ``execute`` raises
``TaskDeferred``, the trigger runs to its event, ``execute_complete`` resumes.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_telephony.core import ratelimit
from airflow_provider_telephony.core.compat import task_deferred
from airflow_provider_telephony.hooks.avito import AvitoHook
from airflow_provider_telephony.operators.avito import AvitoDownloadRecordingsOperator
from airflow_provider_telephony.sandbox import SandboxConfig
from airflow_provider_telephony.sandbox.avito import AvitoWorld
from tests.conftest import avito_sandbox

TaskDeferred = task_deferred()


def _answered(world: AvitoWorld, count: int, *, late: bool) -> list[int]:
    ids = [
        c["callId"]
        for c in world.calls[:4000]
        if c["talkDuration"] > 0 and world.is_late(c["callId"]) == late
    ]
    return ids[:count]


async def _first_event(trigger: Any) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


def _run_deferred(op: AvitoDownloadRecordingsOperator) -> tuple[dict[str, Any], bool]:
    """Run the operator as Airflow would; (result, whether it deferred)."""
    try:
        return op.execute({}), False  # type: ignore[return-value]
    except TaskDeferred as deferral:
        event = asyncio.run(asyncio.wait_for(_first_event(deferral.trigger), 60))
        assert deferral.method_name == "execute_complete"
        return getattr(op, deferral.method_name)({}, event=event), True


def test_late_recordings_are_downloaded_by_the_trigger_one_request_each(tmp_path: Path) -> None:
    config = SandboxConfig(seed=5, recording_delay=2.0)
    world = AvitoWorld(config)
    ready, late = _answered(world, 4, late=False), _answered(world, 3, late=True)
    with avito_sandbox(config, "avito_dl") as url:
        AvitoHook._tokens.clear()
        op = AvitoDownloadRecordingsOperator(
            task_id="dl",
            destination=str(tmp_path / "rec"),
            call_ids=ready + late,
            deferrable=True,
            poke_interval=0.5,
            avito_conn_id="avito_dl",
        )
        result, deferred = _run_deferred(op)
        requests = httpx.get(f"{url}/__sandbox__/avito/stats").json()["requests"]["getRecordByCallId"]
    assert deferred
    assert result["downloaded"] == len(ready + late) and result["not_ready"] == [] and result["missing"] == []
    for call_id in ready + late:
        assert (tmp_path / "rec" / f"{call_id}.mp3").read_bytes() == world.recording_bytes(call_id)
    # a ready recording: exactly one request; a late one: one per round until it was ready
    rounds = (requests - len(ready)) / len(late)
    assert len(ready) + len(late) <= requests and rounds <= 2.0 / 0.5 + 2, requests
    assert result["requests"] >= requests  # the summary counts the trigger's requests too
    assert not [p.name for p in (tmp_path / "rec").iterdir() if ".tmp-" in p.name]


def test_the_total_wait_is_bounded_and_reported(tmp_path: Path) -> None:
    config = SandboxConfig(seed=5, recording_delay=600.0)  # late ones stay late for this test
    world = AvitoWorld(config)
    late = _answered(world, 2, late=True)
    with avito_sandbox(config, "avito_dl"):
        AvitoHook._tokens.clear()
        op = AvitoDownloadRecordingsOperator(
            task_id="dl",
            destination=str(tmp_path / "rec"),
            call_ids=late,
            deferrable=True,
            poke_interval=0.2,
            max_wait=timedelta(seconds=1),
            avito_conn_id="avito_dl",
        )
        began = time.monotonic()
        result, deferred = _run_deferred(op)
    assert deferred and time.monotonic() - began < 10
    assert result["not_ready"] == late and result["downloaded"] == 0


def test_without_deferral_late_recordings_are_listed(tmp_path: Path) -> None:
    config = SandboxConfig(seed=5, recording_delay=600.0)
    world = AvitoWorld(config)
    ready, late = _answered(world, 2, late=False), _answered(world, 2, late=True)
    with avito_sandbox(config, "avito_dl"):
        AvitoHook._tokens.clear()
        op = AvitoDownloadRecordingsOperator(
            task_id="dl",
            destination=str(tmp_path / "rec"),
            call_ids=ready + late,
            deferrable=False,
            avito_conn_id="avito_dl",
        )
        result = op.execute({})
    assert result is not None and result["downloaded"] == 2 and result["not_ready"] == late


def test_a_large_recording_streams_with_flat_memory(tmp_path: Path) -> None:
    """50 MB through the sync and the async path; the peak Python heap (the in-process sandbox's
    buffers included) stays far below the recording's size: it is streamed, never held whole."""
    import tracemalloc

    size = 50_000_000
    config = SandboxConfig(seed=5, recording_delay=0.0, recording_size=size)
    call_id = _answered(AvitoWorld(config), 1, late=False)[0]
    with avito_sandbox(config, "avito_dl"):
        AvitoHook._tokens.clear()
        tracemalloc.start()
        try:
            with AvitoHook("avito_dl") as hook:
                assert hook.download_recording(call_id, tmp_path / "sync.mp3") == size
            sync_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()

            async def download() -> int:
                from airflow_provider_telephony.core.storage import as_storage_path

                async with AvitoHook("avito_dl") as hook:
                    return await hook.adownload_recording(call_id, as_storage_path(tmp_path / "async.mp3"))

            assert asyncio.run(download()) == size
            async_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert (tmp_path / "sync.mp3").stat().st_size == size == (tmp_path / "async.mp3").stat().st_size
    assert sync_peak < size / 4 and async_peak < size / 4, (sync_peak, async_peak)


def test_many_concurrent_callers_queue_within_the_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waits are not capped per caller: the n-th concurrent reservation waits n intervals."""
    monkeypatch.setattr(ratelimit, "WINDOW", 1.0)
    limiter = ratelimit.RateLimiter(60)  # 60 per (scaled) window: one interval is 1/60 s
    waits = [limiter.reserve() for _ in range(200)]
    assert waits[:10] == [0.0] * 10  # the burst: a sixth of the rate
    assert waits == sorted(waits)
    assert waits[-1] == pytest.approx((200 - 10) * 1.02 / 60, rel=0.01)  # well over one window: queued
