"""Every job a client process can run (``python -m bench.run_one <job>``), by name.

A job is the modules it imports before the clock starts and a function ``spec -> dict`` that does the
measured work.  The export contenders are in :mod:`bench.exports`; the rest is here:

* ``recording`` — ``AvitoHook.download_recording`` of one (large) recording to a file;
* ``recordings-deferrable`` — ``AvitoDownloadRecordingsOperator(..., deferrable=True)`` driven as
  Airflow drives a deferring task (``execute``; on ``TaskDeferred`` run the trigger to its first event
  and call the named method with ``event=payload``; repeat);
* ``recordings-two-step`` — the old way: ``AvitoRecordingSensor`` poked until every recording is ready,
  then ``AvitoDownloadRecordingsOperator`` without deferral;
* ``triggers`` — many ``AvitoRecordingTrigger`` in one event loop, as the triggerer runs them, with a
  ticker that measures how late the loop wakes it;
* ``imports`` — import the provider's operator, sensor and trigger modules (after ``airflow.sdk``).
"""

from __future__ import annotations

import asyncio
import importlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.exports import AIRFLOW_TASK_IMPORTS, CONTENDERS, IMPORTS
from bench.procs import AVITO_CONN


@dataclass(frozen=True)
class Job:
    imports: tuple[str, ...]
    run: Callable[[dict[str, Any]], dict[str, Any]]


def _scale_quota_window(spec: dict[str, Any]) -> None:
    """Scale the client's quota window like the sandbox's (``core.ratelimit.WINDOW``)."""
    if spec.get("window_seconds"):
        from airflow_provider_telephony.core import ratelimit

        ratelimit.WINDOW = float(spec["window_seconds"])


# ----------------------------------------------------------------------------- recordings


def recording(spec: dict[str, Any]) -> dict[str, Any]:
    """Stream one recording to a file with the hook."""
    from airflow_provider_telephony.hooks.avito import AvitoHook

    with AvitoHook(AVITO_CONN) as hook:
        size = hook.download_recording(int(spec["call_id"]), spec["output"])
    return {"bytes": int(size)}


async def _first_event(trigger: Any) -> Any:
    """What the triggerer does with a trigger: run it until its first event, then close it."""
    events = trigger.run()
    try:
        return await events.__anext__()
    finally:
        await events.aclose()


def recordings_deferrable(spec: dict[str, Any]) -> dict[str, Any]:
    """The deferrable download, driven like Airflow: execute, defer, trigger event, resume, repeat."""
    import inspect

    from airflow_provider_telephony.core.compat import task_deferred
    from airflow_provider_telephony.operators.avito import AvitoDownloadRecordingsOperator

    _scale_quota_window(spec)
    kwargs: dict[str, Any] = {}
    if "poke_interval" in inspect.signature(AvitoDownloadRecordingsOperator.__init__).parameters:
        kwargs["poke_interval"] = spec["poke_interval"]
    try:
        task = AvitoDownloadRecordingsOperator(
            task_id="bench_recordings",
            destination=spec["destination"],
            call_ids=spec["call_ids"],
            deferrable=True,
            avito_conn_id=AVITO_CONN,
            **kwargs,
        )
    except TypeError as exc:
        if "deferrable" not in str(exc):
            raise
        return {"skipped": "AvitoDownloadRecordingsOperator does not accept deferrable=True yet"}

    deferred = task_deferred()
    context: dict[str, Any] = {}
    method: Callable[..., Any] = task.execute
    call_kwargs: dict[str, Any] = {}
    deferrals: list[dict[str, Any]] = []
    overridden = False
    while True:
        try:
            result = method(context, **call_kwargs)
            break
        except deferred as exc:
            trigger = exc.trigger  # type: ignore[attr-defined]
            interval = getattr(trigger, "poke_interval", None)
            if isinstance(interval, int | float) and interval > spec["poke_interval"]:
                # the operator has no poke_interval argument: poll as often as the benchmark needs
                trigger.poke_interval = float(spec["poke_interval"])
                overridden = True
            started = time.perf_counter()
            event = asyncio.run(_first_event(trigger))
            deferrals.append(
                {
                    "trigger": type(trigger).__name__,
                    "method": exc.method_name,  # type: ignore[attr-defined]
                    "waited_s": round(time.perf_counter() - started, 3),
                }
            )
            method = getattr(task, exc.method_name)  # type: ignore[attr-defined]
            call_kwargs = {**(exc.kwargs or {}), "event": event.payload}  # type: ignore[attr-defined]
        if len(deferrals) > 50:
            raise RuntimeError("the operator deferred more than 50 times")
    return {
        "summary": result,
        "deferrals": deferrals,
        "trigger_poke_interval_overridden": overridden,
    }


def recordings_two_step(spec: dict[str, Any]) -> dict[str, Any]:
    """The old way: a sensor (poke mode) until every recording is ready, then the download operator."""
    from airflow_provider_telephony.operators.avito import AvitoDownloadRecordingsOperator
    from airflow_provider_telephony.sensors.avito import AvitoRecordingSensor

    _scale_quota_window(spec)
    sensor = AvitoRecordingSensor(
        task_id="bench_wait",
        call_ids=spec["call_ids"],
        avito_conn_id=AVITO_CONN,
        poke_interval=spec["poke_interval"],
        deferrable=False,
        mode="poke",
    )
    pokes = 1
    while not sensor.poke({}):  # what poke mode does: poke, sleep poke_interval, poke again
        time.sleep(spec["poke_interval"])
        pokes += 1
    task = AvitoDownloadRecordingsOperator(
        task_id="bench_download",
        destination=spec["destination"],
        call_ids=spec["call_ids"],
        avito_conn_id=AVITO_CONN,
    )
    return {"summary": task.execute({}), "pokes": pokes}


# ----------------------------------------------------------------------------- triggers at scale


def triggers(spec: dict[str, Any]) -> dict[str, Any]:
    """``len(call_ids)`` AvitoRecordingTriggers, one call each, in one event loop."""
    _scale_quota_window(spec)
    return asyncio.run(_triggers(spec))


async def _triggers(spec: dict[str, Any]) -> dict[str, Any]:
    from airflow_provider_telephony.triggers.avito import AvitoRecordingTrigger

    tick = 0.010
    lags: list[float] = []
    finished = asyncio.Event()
    fired_at: list[float] = []

    async def ticker() -> None:
        while not finished.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(tick)
            lags.append(time.perf_counter() - t0 - tick)

    started = time.perf_counter()

    async def run_one(trigger: Any) -> Any:
        event = await _first_event(trigger)
        fired_at.append(time.perf_counter() - started)
        return event.payload

    ticking = asyncio.create_task(ticker())
    pending = [
        AvitoRecordingTrigger(
            call_ids=[int(c)], avito_conn_id=AVITO_CONN, poke_interval=spec["poke_interval"]
        )
        for c in spec["call_ids"]
    ]
    try:
        payloads = await asyncio.wait_for(
            asyncio.gather(*(run_one(t) for t in pending), return_exceptions=True), spec["timeout_s"]
        )
    finally:
        finished.set()
        await ticking
    elapsed = time.perf_counter() - started
    outcomes: dict[str, int] = {}
    for payload in payloads:
        key = payload.get("status", "?") if isinstance(payload, dict) else type(payload).__name__
        outcomes[key] = outcomes.get(key, 0) + 1
    errors = [p for p in payloads if not (isinstance(p, dict) and p.get("status") == "success")][:3]
    ordered = sorted(lags)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    return {
        "triggers": len(pending),
        "outcomes": outcomes,
        "sample_errors": [str(e)[:300] for e in errors],
        "elapsed_s": elapsed,
        "last_event_s": max(fired_at) if fired_at else None,
        "median_event_s": statistics.median(fired_at) if fired_at else None,
        "lag_ms": {"ticks": len(lags), "p50": pct(0.50), "p99": pct(0.99), "max": pct(1.0)},
    }


# ----------------------------------------------------------------------------- imports


def imports(spec: dict[str, Any]) -> dict[str, Any]:
    """Import every module in ``spec["modules"]`` (``airflow.sdk`` is already imported)."""
    t0 = time.perf_counter()
    for module in spec["modules"]:
        importlib.import_module(module)
    return {"import_s": time.perf_counter() - t0, "modules": len(spec["modules"])}


_RECORDING_IMPORTS = (
    "httpx",
    "airflow.sdk",
    "airflow_provider_telephony.hooks.avito",
    "?airflow.sdk.io.path",
    *AIRFLOW_TASK_IMPORTS,
)
_OPERATOR_IMPORTS = (
    *_RECORDING_IMPORTS,
    "airflow_provider_telephony.core.compat",
    "airflow_provider_telephony.operators.avito",
    "airflow_provider_telephony.sensors.avito",
    "airflow_provider_telephony.triggers.avito",
)

JOBS: dict[str, Job] = {
    **{f"export-{name}": Job(IMPORTS[name], run) for name, run in CONTENDERS.items()},
    "recording": Job(_RECORDING_IMPORTS, recording),
    "recordings-deferrable": Job(_OPERATOR_IMPORTS, recordings_deferrable),
    "recordings-two-step": Job(_OPERATOR_IMPORTS, recordings_two_step),
    "triggers": Job(
        (
            "httpx",
            "airflow.sdk",
            "airflow_provider_telephony.triggers.avito",
            "airflow_provider_telephony.hooks.avito",
        ),
        triggers,
    ),
    "imports": Job(("airflow.sdk",), imports),
}
