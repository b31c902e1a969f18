"""The five measurements, orchestrator side: start a sandbox, run client processes, check their output.

Each ``measure_*`` function returns a JSON-ready dict for ``bench.json``; targets are judged later
(:mod:`bench.targets`).  A run whose output does not verify raises :class:`MeasurementError`.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import shutil
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bench.exports import CONTENDERS, REFERENCE, ck_bounds
from bench.procs import (
    CALLKEEPER_EXTRA_CONN,
    ROOT,
    MeasurementError,
    Server,
    busy_cpu_seconds,
    child_env,
    delta,
    run_child,
    sandbox,
)

#: the window of every export starts here; all data is in the past, so recordings are "ready"
DATA_START = date(2025, 1, 1)
RECORDINGS_START = date(2026, 1, 1)


@dataclass(frozen=True)
class Settings:
    """Sizes of one benchmark run: the full run, or ``--quick`` (a smoke run)."""

    quick: bool
    repeat: int
    # item 1 and 2: Avito seeded data (calls_per_day x days) and windows in days
    avito_per_day: int = 2000
    avito_days: int = 500
    export_days: int = 100
    memory_small_days: int = 5
    memory_large_days: int = 500
    # item 1: CallKeeper, comparable to the Avito export in bytes (v3 rows are ~6x wider)
    ck_per_day: int = 1250
    ck_days: int = 40
    # item 2: one recording this big
    recording_size: int = 200_000_000
    # item 3: quota export (getCalls per window) and recordings (getRecordByCallId per window)
    quota_limit: int = 20
    quota_window: float = 1.0
    quota_per_day: int = 2000
    quota_days: int = 10
    record_limit: int = 50
    recordings: int = 30
    recordings_delay: float = 8.0
    recordings_poke: float = 1.0
    # item 4
    triggers: int = 1000
    triggers_delay: float = 10.0
    triggers_poke: float = 2.0
    triggers_timeout: float = 300.0
    # item 5
    import_runs: int = 7

    @classmethod
    def make(cls, quick: bool, repeat: int | None) -> Settings:
        if not quick:
            return cls(quick=False, repeat=repeat or 5)
        return cls(
            quick=True,
            repeat=repeat or 1,
            avito_per_day=200,
            memory_small_days=50,
            ck_per_day=250,
            recording_size=20_000_000,
            quota_days=2,
            recordings=10,
            recordings_delay=6.0,
            triggers=200,
            triggers_delay=5.0,
            import_runs=3,
        )


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def _log(message: str) -> None:
    print(message, flush=True)


# ----------------------------------------------------------------------------- output checks


def _output_files(path: Path) -> list[Path]:
    if path.is_dir():  # dlt: <bucket>/<dataset>/calls/<load_id>.<file_id>.jsonl
        return sorted(p for p in path.rglob("*.jsonl*") if p.parent.name == "calls")
    return [path]


def _ids(path: Path, fields: tuple[str, ...]) -> list[str]:
    """The id of every record in a JSONL export (a file, or dlt's folder), in file order."""
    import orjson

    ids: list[str] = []
    for file in _output_files(path):
        opener = gzip.open if file.suffix == ".gz" else open
        with opener(file, "rb") as fh:
            for line in fh:
                if not line.strip():
                    continue
                record = orjson.loads(line)
                value = next((record[f] for f in fields if f in record), None)
                if value is None:
                    raise MeasurementError(f"{path}: a record without {' / '.join(fields)}")
                ids.append(str(value))
    return ids


def _digest(ids: Iterable[str]) -> str:
    h = hashlib.sha256()
    for value in ids:
        h.update(value.encode() + b",")
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class Expected:
    records: int
    digest: str
    sorted_digest: str
    id_fields: tuple[str, ...]

    @classmethod
    def of(cls, ids: list[str], id_fields: tuple[str, ...]) -> Expected:
        return cls(len(ids), _digest(ids), _digest(sorted(ids)), id_fields)


def verify(name: str, reported: int, output: Path, expected: Expected) -> bool:
    """Check an export: reported count, records written and their ids against the seeded data.

    Returns whether the order matched too (dlt may interleave its resources).
    """
    ids = _ids(output, expected.id_fields)
    if not (reported == len(ids) == expected.records):
        raise MeasurementError(
            f"{name}: reported {reported} records and wrote {len(ids)}; the window holds {expected.records}"
        )
    if _digest(ids) == expected.digest:
        return True
    if _digest(sorted(ids)) == expected.sorted_digest:
        return False
    raise MeasurementError(f"{name}: wrote other call ids than the sandbox holds in the window")


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


# ----------------------------------------------------------------------------- item 1: exports


def avito_config(s: Settings) -> dict[str, Any]:
    return {
        "seed": 1,
        "data_start": DATA_START.isoformat(),
        "calls_per_day": s.avito_per_day,
        "data_days": s.avito_days,
        "avito_rate_limit": 10**9,  # the server never throttles: this measures the client
        "recording_delay": 0.0,
    }


def ck_config(s: Settings) -> dict[str, Any]:
    return {
        "seed": 1,
        "data_start": DATA_START.isoformat(),
        "calls_per_day": s.ck_per_day,
        "data_days": s.ck_days,
    }


def _avito_expected(config: dict[str, Any], days: int) -> Expected:
    from airflow_provider_telephony.sandbox.avito import AvitoWorld
    from bench.server import sandbox_config

    # the world is generated day by day from one seeded stream, so its first ``days`` are the same
    world = AvitoWorld(dataclasses.replace(sandbox_config(config), data_days=days))
    start = _midnight(DATA_START)
    calls = world.calls_between(start, start + timedelta(days=days) - timedelta(seconds=1))
    return Expected.of([str(c["callId"]) for c in calls], ("callId", "call_id"))


def _ck_expected(config: dict[str, Any], days: int) -> Expected:
    from airflow_provider_telephony.sandbox.callkeeper import CallKeeperWorld
    from bench.server import sandbox_config

    world = CallKeeperWorld(sandbox_config(config))
    start = _midnight(DATA_START)
    first, last = ck_bounds(start, start + timedelta(days=days))
    calls = world.calls_between_ts("get", first, last + 1)
    return Expected.of([str(c["universalId"]) for c in calls], ("universalId", "universal_id"))


def _export_spec(server: Server, vendor: str, days: int, output: Path, workdir: Path) -> dict[str, Any]:
    from airflow_provider_telephony.sandbox import SandboxConfig

    defaults = SandboxConfig()
    start = _midnight(DATA_START)
    return {
        "vendor": vendor,
        "url": server.url,
        "start": start.isoformat(),
        "end": (start + timedelta(days=days)).isoformat(),
        "output": str(output),
        "workdir": str(workdir),
        "client_id": defaults.avito_client_id,
        "client_secret": defaults.avito_client_secret,
        "api_key": defaults.callkeeper_api_key,
    }


def _one_export(
    server: Server, name: str, spec: dict[str, Any], workdir: Path, expected: Expected
) -> dict[str, Any]:
    output = Path(spec["output"])
    _remove(output)
    env = child_env(server.url, workdir, config=server.config)
    before = server.stats()
    busy0, own0 = busy_cpu_seconds(), time.process_time()
    result = run_child(f"export-{name}", spec, env, workdir)
    busy1, own1 = busy_cpu_seconds(), time.process_time()
    seen = delta(before, server.stats())
    # CPU the machine spent on anything but this run's client process, the server and this
    # orchestrator: other work on a shared machine, which makes the run's numbers less trustworthy
    foreign = None
    if busy0 is not None and busy1 is not None:
        ours = result["process_cpu_s"] + seen["server_cpu_s"] + (own1 - own0)
        foreign = max(0.0, (busy1 - busy0) - ours)
    in_order = verify(name, int(result["records"]), output, expected)
    size = sum(p.stat().st_size for p in _output_files(output))
    _remove(output)
    summary = result.get("summary") or {}
    return {
        "wall_s": result["wall_s"],
        "cpu_s": result["cpu_s"],
        "setup_s": result["setup_s"],
        "rss_before_mb": result["rss_before_mb"],
        "peak_rss_mb": result["peak_rss_mb"],
        "rss_growth_mb": result["rss_growth_mb"],
        "output_bytes": size,
        "in_order": in_order,
        "server": {k: v for k, v in seen.items() if k != "record_arrivals"},
        "http": summary.get("http"),
        "other_cpu_s": foreign,
    }


def measure_exports(s: Settings, workdir: Path) -> dict[str, Any]:
    """Item 1: every contender, both vendors, interleaved repeats, each run a fresh process."""
    results: dict[str, Any] = {}
    for vendor in ("avito", "callkeeper"):
        config = avito_config(s) if vendor == "avito" else ck_config(s)
        days = s.export_days if vendor == "avito" else s.ck_days
        expected = _avito_expected(config, days) if vendor == "avito" else _ck_expected(config, days)
        names = list(CONTENDERS)
        runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
        ck = vendor == "callkeeper"
        with sandbox(config, cache_callkeeper=ck, callkeeper_rate_headers=ck) as server:
            _log(f"[1] {vendor}: sandbox {server.url}, {expected.records:,} calls in {days} days; warming up")
            spec = _export_spec(server, vendor, days, workdir / f"{vendor}-warmup.jsonl", workdir)
            _one_export(server, REFERENCE, spec, workdir, expected)  # builds the pages / fills the cache
            server.control("gc-freeze")
            for rep in range(s.repeat):
                shift = rep % len(names)
                for name in names[shift:] + names[:shift]:
                    out = (
                        workdir / f"{vendor}-{name}-{rep}"
                        if name == "dlt"
                        else workdir / f"{vendor}-{name}-{rep}.jsonl"
                    )
                    run = _one_export(
                        server, name, _export_spec(server, vendor, days, out, workdir), workdir, expected
                    )
                    runs[name].append(run)
                    _log(
                        f"    run {rep + 1}/{s.repeat} {name:<14} {run['wall_s']:7.3f} s "
                        f"({expected.records / run['wall_s']:>9,.0f} records/s, peak RSS {run['peak_rss_mb']:.0f} MB)"
                    )
            if ck:
                limiter_check = _ck_limiter_check(server, days, workdir, expected)
        results[vendor] = _summarise_exports(vendor, expected, days, runs)
    results["callkeeper"]["limiter_check"] = limiter_check
    return results


def _ck_limiter_check(server: Server, days: int, workdir: Path, expected: Expected) -> dict[str, Any]:
    """The CallKeeper operator once more, as a user would lift its limiter: no rate-limit headers from
    the server (as the real API), the connection extra ``rate_limit_per_minute=6000`` (the most the
    product accepts).  Not a target: it shows whether the extra really lifts the limiter."""
    server.control("callkeeper-rate-headers?on=0")
    spec = _export_spec(server, "callkeeper", days, workdir / "callkeeper-limiter.jsonl", workdir)
    spec["conn_id"] = CALLKEEPER_EXTRA_CONN
    run = _one_export(server, "operator", spec, workdir, expected)
    server.control("callkeeper-rate-headers?on=1")
    http = run["http"] or {}
    _log(
        f"    operator with rate_limit_per_minute=6000 and no rate headers: {run['wall_s']:.2f} s, "
        f"rate-limit waits {http.get('rate_limit_wait_seconds')} s"
    )
    return {
        "what": "CallKeeper operator, connection extra rate_limit_per_minute=6000, server sends no rate headers",
        "wall_s": run["wall_s"],
        "records_per_s": expected.records / run["wall_s"],
        "http_requests": sum(run["server"]["requests"].values()),
        "provider_http_stats": http,
    }


def _summarise_exports(
    vendor: str, expected: Expected, days: int, runs: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    ref_wall = statistics.median(r["wall_s"] for r in runs[REFERENCE])
    contenders: dict[str, Any] = {}
    for name, rs in runs.items():
        walls = [r["wall_s"] for r in rs]
        wall = statistics.median(walls)
        first = rs[0]
        requests = first["server"]["requests"]
        contenders[name] = {
            "records": expected.records,
            "runs": len(rs),
            "wall_s": {"median": wall, "min": min(walls), "max": max(walls), "all": walls},
            "records_per_s": expected.records / wall,
            "speed_vs_reference": ref_wall / wall,
            "time_vs_reference": wall / ref_wall,
            "client_cpu_s": statistics.median(r["cpu_s"] for r in rs),
            "server_cpu_s": statistics.median(r["server"]["server_cpu_s"] for r in rs),
            "setup_s": statistics.median(r["setup_s"] for r in rs),
            "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in rs),
            "rss_growth_mb": statistics.median(r["rss_growth_mb"] for r in rs),
            "http_requests": sum(requests.values()),
            "requests_by_endpoint": requests,
            "statuses": first["server"]["statuses"],
            "tcp_connections": first["server"]["tcp_connections"],
            "server_cache_misses": max(r["server"]["cache_misses"] for r in rs),
            "output_bytes": first["output_bytes"],
            "in_order": all(r["in_order"] for r in rs),
            "provider_http_stats": first["http"],
            "other_cpu_s": [r["other_cpu_s"] for r in rs],
        }
    disturbed = sum(
        1
        for rs in runs.values()
        for r in rs
        if r["other_cpu_s"] is not None and r["other_cpu_s"] > 0.3 + 0.1 * r["wall_s"]
    )
    return {
        "records": expected.records,
        "window_days": days,
        "reference": REFERENCE,
        # runs during which the machine did other work worth more than 10 % of the run's wall time
        "disturbed_runs": disturbed,
        "total_runs": sum(len(rs) for rs in runs.values()),
        "ids_digest": expected.digest,
        "contenders": contenders,
    }


# ----------------------------------------------------------------------------- item 2: memory


def measure_memory(s: Settings, workdir: Path) -> dict[str, Any]:
    """Item 2: the Avito export's RSS growth at two sizes, and one big recording streamed to a file."""
    config = avito_config(s)
    sizes: dict[str, Any] = {}
    with sandbox(config) as server:
        _log(f"[2] memory: sandbox {server.url}; warming up")
        small = _avito_expected(config, s.memory_small_days)
        warm = _export_spec(server, "avito", s.memory_small_days, workdir / "mem-warmup.jsonl", workdir)
        _one_export(server, REFERENCE, warm, workdir, small)
        server.control("gc-freeze")
        for label, days in (("small", s.memory_small_days), ("large", s.memory_large_days)):
            expected = small if label == "small" else _avito_expected(config, days)
            spec = _export_spec(server, "avito", days, workdir / f"mem-{label}.jsonl", workdir)
            spec["max_window_days"] = max(days, 366)
            run = _one_export(server, "operator", spec, workdir, expected)
            sizes[label] = {
                "records": expected.records,
                "window_days": days,
                "wall_s": run["wall_s"],
                "records_per_s": expected.records / run["wall_s"],
                "rss_before_mb": run["rss_before_mb"],
                "peak_rss_mb": run["peak_rss_mb"],
                "rss_growth_mb": run["rss_growth_mb"],
                "output_bytes": run["output_bytes"],
            }
            _log(
                f"    operator {expected.records:>9,} records: RSS growth {run['rss_growth_mb']:.1f} MB, "
                f"peak {run['peak_rss_mb']:.0f} MB, {run['wall_s']:.1f} s"
            )
    return {
        "export": {
            **sizes,
            "growth_difference_mb": sizes["large"]["rss_growth_mb"] - sizes["small"]["rss_growth_mb"],
        },
        "recording": _measure_recording(s, workdir),
    }


def _measure_recording(s: Settings, workdir: Path) -> dict[str, Any]:
    from airflow_provider_telephony.sandbox.avito import AvitoWorld
    from bench.server import sandbox_config

    config = {
        "seed": 1,
        "data_start": RECORDINGS_START.isoformat(),
        "calls_per_day": 30,
        "data_days": 30,
        "recording_size": s.recording_size,
        "recording_delay": 0.0,
    }
    world = AvitoWorld(sandbox_config(config))
    call_id = next(
        int(c["callId"]) for c in world.calls if c["talkDuration"] > 0 and not world.is_late(c["callId"])
    )
    want = hashlib.sha256()
    for chunk in world.recording_chunks(call_id):
        want.update(chunk)
    output = workdir / "recording.mp3"
    with sandbox(config) as server:
        _log(f"[2] recording: {s.recording_size / 1e6:.0f} MB, sandbox {server.url}")
        env = child_env(server.url, workdir, config=config)
        before = server.stats()
        result = run_child("recording", {"call_id": call_id, "output": str(output)}, env, workdir)
        seen = delta(before, server.stats())
    got = hashlib.sha256()
    with output.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            got.update(chunk)
    size = output.stat().st_size
    output.unlink()
    if not (size == result["bytes"] == s.recording_size) or got.hexdigest() != want.hexdigest():
        raise MeasurementError(f"recording: wrote {size} bytes (reported {result['bytes']}), content differs")
    _log(f"    RSS growth {result['rss_growth_mb']:.1f} MB, {size / result['wall_s'] / 1e6:.0f} MB/s")
    return {
        "bytes": size,
        "wall_s": result["wall_s"],
        "mb_per_s": size / result["wall_s"] / 1e6,
        "rss_before_mb": result["rss_before_mb"],
        "peak_rss_mb": result["peak_rss_mb"],
        "rss_growth_mb": result["rss_growth_mb"],
        "requests": seen["requests"],
        "sha256_ok": True,
    }


# ----------------------------------------------------------------------------- item 3: quotas


def measure_quota(s: Settings, workdir: Path) -> dict[str, Any]:
    """Item 3: an export under a (time-scaled) getCalls quota; recordings with and without deferral."""
    config = {
        "seed": 1,
        "data_start": DATA_START.isoformat(),
        "calls_per_day": s.quota_per_day,
        "data_days": s.quota_days,
        "avito_rate_limit": s.quota_limit,
        "rate_window_seconds": s.quota_window,
    }
    expected = _avito_expected(config, s.quota_days)
    pages_needed = expected.records // 100 + 1  # one chunk: full pages, then one short (or empty) page
    rate = s.quota_limit / s.quota_window
    with sandbox(config) as server:
        _log(
            f"[3] quota export: {expected.records:,} calls = {pages_needed} pages at "
            f"{s.quota_limit} per {s.quota_window:g} s; sandbox {server.url}"
        )
        spec = _export_spec(server, "avito", s.quota_days, workdir / "quota.jsonl", workdir)
        spec["window_seconds"] = s.quota_window
        run = _one_export(server, "operator", spec, workdir, expected)
        stats = server.stats()
    ideal = pages_needed / rate
    statuses = run["server"]["statuses"].get("getCalls", {})
    export = {
        "records": expected.records,
        "quota": {"requests": s.quota_limit, "window_s": s.quota_window},
        "pages_needed": pages_needed,
        "getcalls_requests": run["server"]["requests"].get("getCalls", 0),
        "wall_s": run["wall_s"],
        "ideal_s": ideal,
        "wall_vs_ideal": run["wall_s"] / ideal,
        "http_429": int(statuses.get("429", 0)),
        "sandbox_rate_limited": int(stats["avito"]["requests"].get("rate_limited", 0)),
        "provider_http_stats": run["http"],
    }
    _log(
        f"    {run['wall_s']:.2f} s for {export['getcalls_requests']} getCalls requests "
        f"(ideal {ideal:.2f} s = {export['wall_vs_ideal']:.3f}x), {export['sandbox_rate_limited']} answered 429"
    )
    return {"export": export, "recordings": _measure_recordings(s, workdir)}


def _recording_calls(config: dict[str, Any], count: int, late: int) -> tuple[list[int], dict[int, int]]:
    """``count`` answered calls whose recordings exist by now, ``late`` of them "late" (425 until the
    sandbox's ``recording_delay`` passes); and each one's size."""
    from airflow_provider_telephony.sandbox.avito import AvitoWorld
    from bench.server import sandbox_config

    world = AvitoWorld(sandbox_config(config))
    cutoff = time.time() - 3600
    ready = [
        c["callId"]
        for c in world.calls
        if world.has_recording(c["callId"]) and (world.recording_ready_at(c["callId"]) or 0) < cutoff
    ]
    on_time = [c for c in ready if not world.is_late(c)]
    delayed = [c for c in ready if world.is_late(c)]
    if len(on_time) < count - late or len(delayed) < late:
        raise MeasurementError("the sandbox config seeds too few recordings for this measurement")
    ids = sorted(on_time[: count - late] + delayed[:late])
    return ids, {c: world.recording_size(c) for c in ids}


def _measure_recordings(s: Settings, workdir: Path) -> dict[str, Any]:
    config = {
        "seed": 1,
        "data_start": RECORDINGS_START.isoformat(),
        "calls_per_day": 30,
        "data_days": 60,
        "avito_record_rate_limit": s.record_limit,
        "rate_window_seconds": s.quota_window,
        "recording_delay": s.recordings_delay,
    }
    late = s.recordings // 2
    ids, sizes = _recording_calls(config, s.recordings, late)
    modes: dict[str, Any] = {}
    for mode in ("deferrable", "two-step"):
        destination = workdir / f"recordings-{mode}"
        _remove(destination)
        destination.mkdir()
        spec = {
            "call_ids": ids,
            "destination": str(destination),
            "poke_interval": s.recordings_poke,
            "window_seconds": s.quota_window,
        }
        # a fresh sandbox per mode: "late" counts from the server's start
        with sandbox(config) as server:
            env = child_env(server.url, workdir, config=config)
            before = server.stats()
            result = run_child(f"recordings-{mode}", spec, env, workdir)
            seen = delta(before, server.stats())
        if result.get("skipped"):
            modes[mode] = {"skipped": result["skipped"]}
            _log(f"[3] recordings {mode}: skipped ({result['skipped']})")
            continue
        files = {int(p.stem): p.stat().st_size for p in destination.glob("*.mp3")}
        _remove(destination)
        if files != sizes:
            raise MeasurementError(
                f"recordings {mode}: downloaded {len(files)} of {len(ids)} (or wrong sizes)"
            )
        codes = seen["statuses"].get("getRecordByCallId", {})
        total = seen["requests"].get("getRecordByCallId", 0)
        found_ready = int(codes.get("200", 0))
        modes[mode] = {
            "recordings": len(ids),
            "late": late,
            "wall_s": result["wall_s"],
            "requests": total,
            "answered_200": found_ready,
            "answered_425": int(codes.get("425", 0)),
            "answered_429": int(codes.get("429", 0)),
            "requests_per_recording": total / len(ids),
            "ready_requests_per_recording": found_ready / len(ids),
            "deferrals": len(result.get("deferrals", [])),
            "trigger_poke_interval_overridden": result.get("trigger_poke_interval_overridden"),
            "pokes": result.get("pokes"),
        }
        _log(
            f"[3] recordings {mode}: {len(ids)} ({late} late): {total} getRecordByCallId requests, "
            f"{found_ready} answered 200 ({found_ready / len(ids):.2f} per recording), "
            f"{modes[mode]['answered_425']} answered 425, {modes[mode]['answered_429']} answered 429"
        )
    return {"quota": {"requests": s.record_limit, "window_s": s.quota_window}, "modes": modes}


# ----------------------------------------------------------------------------- item 4: triggers


def _server_windows(arrivals: list[float], window: float) -> list[int]:
    """Requests per quota window as the sandbox counts them (a fixed window opens at a request
    that arrives after the previous window has run out)."""
    counts: list[int] = []
    opened: float | None = None
    for t in arrivals:
        if opened is None or t - opened >= window:
            opened = t
            counts.append(0)
        counts[-1] += 1
    return counts


def _sliding_max(arrivals: list[float], window: float) -> int:
    best = lo = 0
    for hi, t in enumerate(arrivals):
        while t - arrivals[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def measure_triggers(s: Settings, workdir: Path) -> dict[str, Any]:
    """Item 4: ``s.triggers`` AvitoRecordingTriggers in one event loop, late recordings, a quota."""
    config = {
        "seed": 1,
        "data_start": RECORDINGS_START.isoformat(),
        "calls_per_day": 200,
        "data_days": 30,
        "avito_record_rate_limit": s.record_limit,
        "rate_window_seconds": s.quota_window,
        "recording_delay": s.triggers_delay,
    }
    ids, _ = _recording_calls(config, s.triggers, s.triggers)
    spec = {
        "call_ids": ids,
        "poke_interval": s.triggers_poke,
        "window_seconds": s.quota_window,
        "timeout_s": s.triggers_timeout,
    }
    with sandbox(config, record_times=True) as server:
        _log(
            f"[4] {s.triggers} triggers, late recordings (ready {s.triggers_delay:g} s after the sandbox "
            f"starts), getRecordByCallId quota {s.record_limit} per {s.quota_window:g} s; sandbox {server.url}"
        )
        env = child_env(server.url, workdir, config=config)
        before = server.stats()
        result = run_child("triggers", spec, env, workdir, timeout=s.triggers_timeout + 120)
        seen = delta(before, server.stats())
    arrivals = seen["record_arrivals"]
    codes = seen["statuses"].get("getRecordByCallId", {})
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    per_window = _server_windows(arrivals, s.quota_window)
    rate = {
        "quota_per_s": s.record_limit / s.quota_window,
        "requests": len(arrivals),
        "answered_200": int(codes.get("200", 0)),
        "answered_425": int(codes.get("425", 0)),
        "answered_429": int(codes.get("429", 0)),
        "span_s": span,
        "mean_per_s": (len(arrivals) - 1) / span if span > 0 else None,
        "max_per_quota_window": max(per_window) if per_window else 0,
        "max_in_any_1s": _sliding_max(arrivals, 1.0),
    }
    _log(
        f"    peak RSS {result['peak_rss_mb']:.0f} MB, loop lag p99 {result['lag_ms']['p99']:.1f} ms, "
        f"{rate['requests']} requests in {span:.1f} s ({rate['mean_per_s'] or 0:.1f}/s; quota "
        f"{rate['quota_per_s']:g}/s), {rate['answered_429']} answered 429; outcomes {result['outcomes']}"
    )
    return {
        "triggers": result["triggers"],
        "outcomes": result["outcomes"],
        "sample_errors": result["sample_errors"],
        "poke_interval_s": s.triggers_poke,
        "elapsed_s": result["elapsed_s"],
        "median_event_s": result["median_event_s"],
        "rss_before_mb": result["rss_before_mb"],
        "peak_rss_mb": result["peak_rss_mb"],
        "rss_growth_mb": result["rss_growth_mb"],
        "lag_ms": result["lag_ms"],
        "server": rate,
    }


# ----------------------------------------------------------------------------- item 5: imports


def provider_modules() -> list[str]:
    """Every operator, sensor and trigger module of the package, found on disk (nothing imported)."""
    package = ROOT / "airflow_provider_telephony"
    modules = []
    for kind in ("operators", "sensors", "triggers"):
        for path in sorted((package / kind).glob("*.py")):
            if path.stem != "__init__":
                modules.append(f"airflow_provider_telephony.{kind}.{path.stem}")
    return modules


def _importtime_top(stderr: str, marker: str, limit: int = 10) -> list[dict[str, Any]]:
    """The slowest modules (self time) imported after ``marker`` in a ``-X importtime`` log."""
    lines = stderr.split(marker, 1)[-1].splitlines()
    rows = []
    for line in lines:
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = [p.strip() for p in line[len("import time:") :].split("|")]
        if len(parts) == 3 and parts[0].isdigit():
            rows.append(
                {
                    "module": parts[2].strip(),
                    "self_ms": int(parts[0]) / 1000,
                    "cumulative_ms": int(parts[1]) / 1000,
                }
            )
    return sorted(rows, key=lambda r: r["self_ms"], reverse=True)[:limit]


def measure_imports(s: Settings, workdir: Path) -> dict[str, Any]:
    """Item 5: import every operator/sensor/trigger module after ``import airflow.sdk``, fresh process."""
    from bench.run_one import SETUP_DONE

    modules = provider_modules()
    env = child_env("http://127.0.0.1:9", workdir)
    times = [
        run_child("imports", {"modules": modules}, env, workdir)["import_s"] for _ in range(s.import_runs)
    ]
    traced = run_child("imports", {"modules": modules}, env, workdir, python_args=("-X", "importtime"))
    result = {
        "modules": modules,
        "runs": len(times),
        "best_ms": min(times) * 1000,
        "median_ms": statistics.median(times) * 1000,
        "all_ms": [t * 1000 for t in times],
        "slowest_imports": _importtime_top(traced["_stderr"], SETUP_DONE),
    }
    _log(
        f"[5] imports of {len(modules)} modules: best {result['best_ms']:.1f} ms, median {result['median_ms']:.1f} ms"
    )
    return result
