"""The acceptance targets of issue 15, judged from the measurements.

Every target is ``{"target": text, "value": number | None, "unit": ..., "met": bool | None}``;
``met`` is ``None`` when the measurement was skipped (e.g. a product feature not there yet).
"""

from __future__ import annotations

from typing import Any

SPEED_TARGET = 0.9
MEMORY_TARGET_MB = 5.0
RECORDING_TARGET_MB = 20.0
QUOTA_SLACK = 1.05
READY_REQUESTS_TARGET = 1.0
TRIGGER_RSS_TARGET_MB = 150.0
TRIGGER_LAG_TARGET_MS = 50.0
IMPORT_TARGET_MS = 50.0


def _target(
    text: str,
    value: float | None,
    unit: str,
    met: bool | None,
    *,
    limit: float,
    higher_is_better: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """One judged target; ``limit`` is the number the value is held against (for the chart)."""
    return {
        "target": text,
        "value": value,
        "unit": unit,
        "limit": limit,
        "higher_is_better": higher_is_better,
        "met": met,
        **extra,
    }


def judge(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    targets: dict[str, dict[str, Any]] = {}
    exports = results.get("exports") or {}
    for vendor, label in (("avito", "Avito"), ("callkeeper", "CallKeeper")):
        data = exports.get(vendor)
        if not data:
            continue
        speed = data["contenders"]["operator"]["speed_vs_reference"]
        targets[f"{vendor}_export_speed"] = _target(
            f"{label} export: our operator >= {SPEED_TARGET}x the httpx+orjson loop's records/s",
            speed,
            "x",
            speed >= SPEED_TARGET,
            limit=SPEED_TARGET,
            higher_is_better=True,
        )
    memory = results.get("memory")
    if memory:
        export = memory["export"]
        diff = export["growth_difference_mb"]
        targets["flat_memory_export"] = _target(
            f"RSS growth of the Avito export at {export['large']['records']:,} records minus at "
            f"{export['small']['records']:,} <= {MEMORY_TARGET_MB:g} MB",
            diff,
            "MB",
            diff <= MEMORY_TARGET_MB,
            limit=MEMORY_TARGET_MB,
        )
        recording = memory["recording"]
        targets["flat_memory_recording"] = _target(
            f"{recording['bytes'] / 1e6:.0f} MB recording streamed to a file: RSS growth <= {RECORDING_TARGET_MB:g} MB",
            recording["rss_growth_mb"],
            "MB",
            recording["rss_growth_mb"] <= RECORDING_TARGET_MB,
            limit=RECORDING_TARGET_MB,
        )
    quota = results.get("quota")
    if quota:
        export = quota["export"]
        met = export["wall_vs_ideal"] <= QUOTA_SLACK and export["sandbox_rate_limited"] == 0
        targets["quota_export"] = _target(
            f"export under a quota: wall <= {QUOTA_SLACK}x pages/rate, zero 429s",
            export["wall_vs_ideal"],
            "x pages/rate",
            met,
            limit=QUOTA_SLACK,
            http_429=export["sandbox_rate_limited"],
        )
        deferrable = quota["recordings"]["modes"].get("deferrable", {})
        if deferrable.get("skipped"):
            targets["recording_requests"] = _target(
                "deferrable recording download: 1.0 request that finds a recording ready, per recording",
                None,
                "requests/recording",
                None,
                limit=READY_REQUESTS_TARGET,
                skipped=deferrable["skipped"],
            )
        elif deferrable:
            value = deferrable["ready_requests_per_recording"]
            targets["recording_requests"] = _target(
                "deferrable recording download: 1.0 request that finds a recording ready, per recording "
                "(zero 429s)",
                value,
                "requests/recording",
                value <= READY_REQUESTS_TARGET and deferrable["answered_429"] == 0,
                limit=READY_REQUESTS_TARGET,
                all_requests_per_recording=deferrable["requests_per_recording"],
            )
    triggers = results.get("triggers")
    if triggers:
        n = triggers["triggers"]
        targets["triggers_rss"] = _target(
            f"{n:,} triggers in one event loop: peak RSS <= {TRIGGER_RSS_TARGET_MB:g} MB",
            triggers["peak_rss_mb"],
            "MB",
            triggers["peak_rss_mb"] <= TRIGGER_RSS_TARGET_MB,
            limit=TRIGGER_RSS_TARGET_MB,
        )
        lag = triggers["lag_ms"]["p99"]
        targets["triggers_loop_lag"] = _target(
            f"{n:,} triggers: event-loop lag p99 < {TRIGGER_LAG_TARGET_MS:g} ms",
            lag,
            "ms",
            lag < TRIGGER_LAG_TARGET_MS,
            limit=TRIGGER_LAG_TARGET_MS,
        )
        server = triggers["server"]
        all_fired = triggers["outcomes"].get("success", 0) == n
        within = server["answered_429"] == 0 and (server["mean_per_s"] or 0) <= server["quota_per_s"]
        targets["triggers_quota"] = _target(
            f"{n:,} triggers: requests/s at the sandbox within its getRecordByCallId quota "
            f"({server['quota_per_s']:g}/s; zero 429s), every trigger fired",
            server["mean_per_s"],
            "requests/s",
            within and all_fired,
            limit=server["quota_per_s"],
            http_429=server["answered_429"],
        )
    imports = results.get("imports")
    if imports:
        targets["import_cost"] = _target(
            f"importing every operator, sensor and trigger module after airflow.sdk < {IMPORT_TARGET_MS:g} ms "
            "(median of fresh processes)",
            imports["median_ms"],
            "ms",
            imports["median_ms"] < IMPORT_TARGET_MS,
            limit=IMPORT_TARGET_MS,
            best_ms=imports["best_ms"],
        )
    return targets
