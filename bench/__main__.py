"""The provider's benchmark (issue 15): export speed against the tools users would pick instead, flat
memory, the fewest requests under vendor quotas, deferred waits at triggerer scale, import cost.

``python -m bench [--quick] [--repeat N] [--only NAMES] [--strict] [--update-docs]``

Every measurement runs against the project's sandbox over loopback, the server in its own process on
one core and every client in a fresh process on the other.  Results: ``bench/results/bench.json``
(``bench.quick.json`` with ``--quick``), a chart next to it, and a table on stdout; see
``bench/README.md``.  Exit status: 0 when every measurement completed (whatever the targets say),
1 when a measurement failed, 2 with ``--strict`` when a target was missed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench import report, scenarios
from bench.procs import ROOT, MeasurementError, machine_info
from bench.targets import judge

RESULTS = ROOT / "bench" / "results"
MEASUREMENTS = {
    "imports": scenarios.measure_imports,
    "exports": scenarios.measure_exports,
    "memory": scenarios.measure_memory,
    "quota": scenarios.measure_quota,
    "triggers": scenarios.measure_triggers,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, one run each: a smoke run (~1-2 min)"
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help="timed runs per export contender (default 5; quick 1)"
    )
    parser.add_argument(
        "--only",
        default=",".join(MEASUREMENTS),
        help=f"comma-separated measurements to run (default all: {', '.join(MEASUREMENTS)})",
    )
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    parser.add_argument(
        "--update-docs",
        action="store_true",
        help="rewrite the generated block of docs/performance.md and copy the chart to docs/img/bench.png",
    )
    parser.add_argument(
        "--output", type=Path, default=None, help="results JSON (default bench/results/bench.json)"
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: re-render the table, chart (and docs, with --update-docs) from --output",
    )
    args = parser.parse_args(argv)
    args.names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(args.names) - set(MEASUREMENTS))
    if unknown:
        parser.error(f"unknown measurement(s): {', '.join(unknown)}")
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be positive")
    if args.output is None:
        args.output = RESULTS / ("bench.quick.json" if args.quick else "bench.json")
    return args


def compile_bytecode() -> None:
    """Compile the package (and the bench) once, as ``make setup`` does for the venv: with
    PYTHONDONTWRITEBYTECODE=1 nothing would be cached and every process would compile from source."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", "airflow_provider_telephony", "bench"],
        cwd=ROOT,
        check=False,
        capture_output=True,
    )


def render(args: argparse.Namespace) -> int:
    """Re-render an existing results file (after a change to the report, not to the product)."""
    bench_report = json.loads(args.output.read_text())
    png = report.chart(bench_report, args.output.with_suffix(".png"))
    print(report.text(bench_report))
    if args.update_docs:
        if bench_report["config"]["quick"] or bench_report["failures"]:
            print("bench: --update-docs ignored for a quick or incomplete run")
        else:
            report.update_docs(bench_report, png)
            print(
                f"bench: updated {report.DOCS_PAGE.relative_to(ROOT)} and {report.DOCS_IMAGE.relative_to(ROOT)}"
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render_only:
        return render(args)
    started = time.perf_counter()
    machine = machine_info()  # before measuring: the commit measured, even if HEAD moves meanwhile
    settings = scenarios.Settings.make(args.quick, args.repeat)
    compile_bytecode()
    results: dict[str, Any] = {}
    failures: dict[str, str] = {}
    print(
        f"bench: {'QUICK smoke run' if args.quick else 'full run'}; measurements: {', '.join(args.names)}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="telephony-bench-") as tmp:
        for name in [n for n in MEASUREMENTS if n in args.names]:
            workdir = Path(tmp) / name
            workdir.mkdir()
            try:
                results[name] = MEASUREMENTS[name](settings, workdir)
            except (MeasurementError, subprocess.TimeoutExpired, OSError) as exc:
                failures[name] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
                print(f"bench: measurement {name!r} FAILED: {exc}", file=sys.stderr, flush=True)

    runtime = time.perf_counter() - started
    bench_report: dict[str, Any] = {
        "benchmark": "airflow-provider-telephony (issue 15)",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "runtime_s": runtime,
        "machine": machine,
        "config": {k: v for k, v in vars(settings).items()},
        "failures": failures,
        **results,
    }
    bench_report["targets"] = judge(bench_report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(bench_report, indent=2, default=str) + "\n")
    png = report.chart(bench_report, args.output.with_suffix(".png"))

    print(report.text(bench_report))
    if args.update_docs:
        if args.quick or failures:
            print("bench: --update-docs ignored for a quick or incomplete run")
        else:
            report.update_docs(bench_report, png)
            print(
                f"bench: updated {report.DOCS_PAGE.relative_to(ROOT)} and {report.DOCS_IMAGE.relative_to(ROOT)}"
            )
    missed = [k for k, t in bench_report["targets"].items() if t["met"] is False]
    met = [k for k, t in bench_report["targets"].items() if t["met"] is True]
    skipped = [k for k, t in bench_report["targets"].items() if t["met"] is None]
    print(
        f"\ntargets met: {len(met)}/{len(bench_report['targets'])}"
        + (f"; NOT met: {', '.join(missed)}" if missed else "")
        + (f"; skipped: {', '.join(skipped)}" if skipped else "")
    )
    try:
        shown: Path = args.output.resolve().relative_to(ROOT)
    except ValueError:
        shown = args.output
    print(f"results: {shown}" + (f", {png.name}" if png else "") + f"  ({runtime / 60:.1f} min)")
    if failures:
        print(f"bench: FAILED measurements: {', '.join(failures)}", file=sys.stderr)
        return 1
    if args.strict and missed:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
