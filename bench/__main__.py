"""Avito export benchmark: the provider's export path against bare httpx loops on one local sandbox.

``python -m bench [--repeat N] [--calls-per-day N] [--days N] [--quick] [--profile]``

One sandbox (real HTTP over loopback, in this process) serves every run; each run of each contender
is a fresh ``python -m bench.run_one`` process that exports the same window to JSON Lines.  Runs
are interleaved (rep 1 of every contender, then rep 2, …) so drift hits everyone alike.  Every run's
output is checked: same record count as the seeded data, same call ids in the same order.
Results go to ``bench/results/avito_export.json`` and a table on stdout (see ``bench/README.md``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.contenders import BASELINE, CONTENDERS, DEFAULT_CONTENDERS, REFERENCE
from bench.spec import CONN_ID, RunResult, RunSpec

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
#: DESIGN rule 7: the provider's export may take at most 10 % longer than the orjson loop
TARGET_SLOWDOWN = 1.10
#: one export of the default data takes well under a second; a stuck run fails the benchmark
CHILD_TIMEOUT = 600.0
PACKAGES = (
    "airflow-provider-telephony",
    "apache-airflow",
    "apache-airflow-task-sdk",
    "httpx",
    "httpcore",
    "h11",
    "orjson",
    "pydantic",
    "pydantic-core",
    "tenacity",
    "uvicorn",
    "starlette",
)


@dataclass
class Outcome:
    """Every measured run of one contender, plus its untimed memory run."""

    name: str
    runs: list[RunResult] = field(default_factory=list)
    server_cpu_s: list[float] = field(default_factory=list)
    requests: list[dict[str, int]] = field(default_factory=list)
    py_peak_mib: float | None = None
    digest: str | None = None


# ----------------------------------------------------------------------------- helpers


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeat", type=int, default=None, help="timed runs per contender (default 3, 1 with --quick)"
    )
    parser.add_argument("--calls-per-day", type=int, default=None, help="seeded calls per day (default 400)")
    parser.add_argument("--days", type=int, default=None, help="days of data = export window (default 80)")
    parser.add_argument("--seed", type=int, default=1, help="sandbox seed")
    parser.add_argument(
        "--quick", action="store_true", help="small data, one run each: a smoke test (< 20 s)"
    )
    parser.add_argument(
        "--contenders",
        default=",".join(DEFAULT_CONTENDERS),
        help=f"comma-separated names from {', '.join(CONTENDERS)} (default: all but the sketch; "
        f"the reference {REFERENCE} is always run)",
    )
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the untimed Python-heap run")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also run each contender under cProfile (stats in bench/results/)",
    )
    parser.add_argument("--output", type=Path, default=None, help="results JSON (default bench/results/…)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.repeat = args.repeat if args.repeat is not None else (1 if quick else 3)
    args.calls_per_day = args.calls_per_day if args.calls_per_day is not None else (100 if quick else 400)
    args.days = args.days if args.days is not None else (10 if quick else 80)
    if args.output is None:
        args.output = RESULTS / ("avito_export.quick.json" if quick else "avito_export.json")
    names = [n.strip() for n in args.contenders.split(",") if n.strip()]
    unknown = sorted(set(names) - set(CONTENDERS))
    if unknown:
        parser.error(f"unknown contender(s): {', '.join(unknown)}")
    if REFERENCE not in names:
        names.insert(0, REFERENCE)
    args.names = [n for n in CONTENDERS if n in names]
    if args.repeat < 1 or args.days < 1 or args.calls_per_day < 1:
        parser.error("--repeat, --days and --calls-per-day must be positive")
    return args


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def sandbox_requests(client: Any) -> dict[str, int]:
    counts: dict[str, int] = client.get("/__sandbox__/avito/stats").json()["requests"]
    return counts


def call_id_digest(path: Path) -> tuple[int, str]:
    """Line count and a digest of the callId sequence of a JSON Lines export."""
    import orjson

    digest = hashlib.sha256()
    lines = 0
    with path.open("rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            lines += 1
            digest.update(b"%d," % int(orjson.loads(line)["callId"]))
    return lines, digest.hexdigest()[:16]


def machine_info() -> dict[str, Any]:
    cpu_model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            cpu_model = next(
                (ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu_model
            )
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "", False
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "packages": versions,
        "git_commit": commit,
        "git_dirty": dirty,
    }


def child_env(spec: RunSpec, airflow_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    conn = {"conn_type": "avito", "host": spec.url, "login": spec.client_id, "password": spec.client_secret}
    env.update(
        {
            f"AIRFLOW_CONN_{CONN_ID.upper()}": json.dumps(conn),
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        }
    )
    return env


def run_child(name: str, spec: RunSpec, env: dict[str, str], workdir: Path, *extra: str) -> RunResult:
    result_path = workdir / f"{name}.result.json"
    result_path.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "bench.run_one",
        name,
        "--spec",
        spec.to_json(),
        "--result",
        str(result_path),
    ]
    proc = subprocess.run(
        [*cmd, *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT
    )
    if proc.returncode != 0 or not result_path.exists():
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench: contender {name!r} failed (exit {proc.returncode}), output above")
    return RunResult.from_json(result_path.read_text())


# ----------------------------------------------------------------------------- the benchmark


def run(args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    from airflow_provider_telephony.sandbox import SandboxConfig, run_sandbox
    from airflow_provider_telephony.sandbox.avito import AvitoWorld

    config = SandboxConfig(
        seed=args.seed,
        calls_per_day=args.calls_per_day,
        data_days=args.days,
        avito_rate_limit=10**9,  # no server-side throttling: we measure the client, not a quota
        recording_delay=0.0,
    )
    start = datetime(*config.data_start.timetuple()[:3], tzinfo=timezone.utc)
    end = start + timedelta(days=args.days)
    expected = len(AvitoWorld(config).calls_between(start, end - timedelta(seconds=1)))
    outcomes = {name: Outcome(name) for name in args.names}
    profiles: dict[str, str] = {}

    with tempfile.TemporaryDirectory(prefix="telephony-bench-") as tmp, run_sandbox(config) as url:
        workdir = Path(tmp)
        airflow_home = workdir / "airflow-home"
        airflow_home.mkdir()
        base = RunSpec(
            url=url,
            client_id=config.avito_client_id,
            client_secret=config.avito_client_secret,
            start=start.isoformat(),
            end=end.isoformat(),
            output="",
        )
        env = child_env(base, airflow_home)
        print(
            f"sandbox {url}: {expected} calls in [{start:%Y-%m-%d}, {end:%Y-%m-%d}) "
            f"({args.days} days x ~{args.calls_per_day}/day); {args.repeat} run(s) per contender",
            flush=True,
        )
        with httpx.Client(base_url=url, timeout=60.0) as control:
            # warm the server: the seeded world and its pre-serialised pages are built on first use
            token = control.post(
                "/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": config.avito_client_id,
                    "client_secret": config.avito_client_secret,
                },
            ).json()["access_token"]
            control.post(
                "/calltracking/v1/getCalls/",
                json={"dateTimeFrom": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "limit": 1, "offset": 0},
                headers={"Authorization": f"Bearer {token}"},
            ).raise_for_status()

            for rep in range(args.repeat):
                shift = rep % len(args.names)
                for name in args.names[shift:] + args.names[:shift]:
                    out = workdir / f"{name}-{rep}.jsonl"
                    spec = RunSpec(**{**base.__dict__, "output": str(out)})
                    before, cpu0 = sandbox_requests(control), self_cpu()
                    result = run_child(name, spec, env, workdir)
                    server_cpu = self_cpu() - cpu0
                    after = sandbox_requests(control)
                    lines, digest = call_id_digest(out)
                    out.unlink()
                    outcome = outcomes[name]
                    if not (result.records == lines == expected):
                        raise SystemExit(
                            f"bench: {name} reported {result.records} records and wrote {lines} lines; "
                            f"the sandbox holds {expected} calls in the window"
                        )
                    if outcome.digest not in (None, digest):
                        raise SystemExit(f"bench: {name} wrote different call ids in run {rep + 1}")
                    outcome.digest = digest
                    outcome.runs.append(result)
                    outcome.server_cpu_s.append(server_cpu)
                    outcome.requests.append({k: after.get(k, 0) - before.get(k, 0) for k in after})
                    print(
                        f"  run {rep + 1}/{args.repeat} {name:<18} {result.wall_s:7.3f} s "
                        f"({result.records / result.wall_s:>9,.0f} records/s)",
                        flush=True,
                    )

            if not args.no_tracemalloc:
                for name in args.names:
                    spec = RunSpec(**{**base.__dict__, "output": str(workdir / f"{name}-tm.jsonl")})
                    outcomes[name].py_peak_mib = run_child(
                        name, spec, env, workdir, "--tracemalloc"
                    ).py_peak_mib

            if args.profile:
                RESULTS.mkdir(parents=True, exist_ok=True)
                for name in args.names:
                    prof = RESULTS / f"avito_export.{name}.prof"
                    spec = RunSpec(**{**base.__dict__, "output": str(workdir / f"{name}-prof.jsonl")})
                    run_child(name, spec, env, workdir, "--profile", str(prof))
                    profiles[name] = str(prof.relative_to(ROOT))

    digests = {o.digest for o in outcomes.values()}
    if len(digests) != 1:
        raise SystemExit(
            "bench: contenders wrote different call ids: "
            + ", ".join(f"{o.name}={o.digest}" for o in outcomes.values())
        )
    return summarise(args, outcomes, expected, start, end, profiles)


def summarise(
    args: argparse.Namespace,
    outcomes: dict[str, Outcome],
    expected: int,
    start: datetime,
    end: datetime,
    profiles: dict[str, str],
) -> dict[str, Any]:
    ref = outcomes[REFERENCE]
    ref_wall = statistics.median(r.wall_s for r in ref.runs)
    ref_cpu = statistics.median(r.cpu_s for r in ref.runs)
    contenders: dict[str, Any] = {}
    for name, outcome in outcomes.items():
        walls = [r.wall_s for r in outcome.runs]
        wall = statistics.median(walls)
        cpu = statistics.median(r.cpu_s for r in outcome.runs)
        contenders[name] = {
            "records": expected,
            "runs": len(walls),
            "wall_s": {"median": wall, "min": min(walls), "max": max(walls), "all": walls},
            "records_per_s": expected / wall,
            "speed_vs_reference": ref_wall / wall,
            "time_vs_reference": wall / ref_wall,
            "within_target": wall <= ref_wall * TARGET_SLOWDOWN,
            "client_cpu_s": cpu,
            "client_cpu_vs_reference": cpu / ref_cpu,
            "server_cpu_s": statistics.median(outcome.server_cpu_s),
            "setup_s": statistics.median(r.setup_s for r in outcome.runs),
            "rss_growth_mib": statistics.median(r.rss_growth_mib for r in outcome.runs),
            "py_peak_mib": outcome.py_peak_mib,
            "requests": outcome.requests[0] if outcome.requests else {},
            "call_id_digest": outcome.digest,
        }
        if name in profiles:
            contenders[name]["cprofile"] = profiles[name]
    return {
        "benchmark": "avito_export",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "config": {
            "calls_per_day": args.calls_per_day,
            "days": args.days,
            "seed": args.seed,
            "window": {"start": start.isoformat(), "end": end.isoformat()},
            "records": expected,
            "repeat": args.repeat,
            "quick": args.quick,
            "page_size": 100,
        },
        "reference": REFERENCE,
        "baseline": BASELINE,
        "target": f"time <= {TARGET_SLOWDOWN:.2f} x {REFERENCE}",
        "contenders": contenders,
    }


def table(report: dict[str, Any]) -> str:
    headers = [
        "contender",
        "records",
        "median s",
        "min..max s",
        "records/s",
        "speed vs orjson",
        "client CPU s",
        "server CPU s",
        "RSS growth MiB",
        "py peak MiB",
    ]
    rows: list[list[str]] = []
    for name, c in report["contenders"].items():
        peak = c["py_peak_mib"]
        rows.append(
            [
                name,
                f"{c['records']:,}",
                f"{c['wall_s']['median']:.3f}",
                f"{c['wall_s']['min']:.3f}..{c['wall_s']['max']:.3f}",
                f"{c['records_per_s']:,.0f}",
                f"{c['speed_vs_reference']:.2f}x" + (" *" if name == report["reference"] else ""),
                f"{c['client_cpu_s']:.3f}",
                f"{c['server_cpu_s']:.3f}",
                f"{c['rss_growth_mib']:.1f}",
                "-" if peak is None else f"{peak:.1f}",
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    report = run(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    cfg = report["config"]
    print()
    print(
        f"Avito getCalls export, {cfg['records']:,} records, {cfg['days']} days, "
        f"median of {cfg['repeat']} run(s); * = reference ({REFERENCE})"
    )
    print(table(report))
    print()
    if args.quick:
        print("quick smoke run: fixed costs (client setup, token) dominate; judge ratios on a full run")
    for name, c in report["contenders"].items():
        if not name.startswith("httpx-"):
            verdict = "within" if c["within_target"] else "NOT within"
            print(
                f"{name}: {c['time_vs_reference']:.2f}x the reference's time -> {verdict} the "
                f"{TARGET_SLOWDOWN:.2f}x target (DESIGN rule 7)"
            )
    try:
        shown = args.output.resolve().relative_to(ROOT)
    except ValueError:
        shown = args.output
    print(f"results: {shown}  ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
