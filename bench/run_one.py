"""Run one job once in this (fresh) process and write its measurements as JSON.

``python -m bench.run_one <job> --spec '<JSON>' --result out.json [--cpu 1]``

The orchestrator (``python -m bench``) starts a new process per run, so memory numbers and import
state are independent between runs.  The job's imports happen first and are timed apart
(``setup_s``); then the peak-RSS mark is reset and the job runs under the clock.  Measured:

* ``wall_s`` / ``cpu_s`` — the job itself (connection lookup, token, every request, the file);
* ``rss_before_mb`` — resident memory after the imports, before the job;
* ``peak_rss_mb`` — the highest resident memory during the job (``VmHWM`` after
  ``/proc/self/clear_refs``; ``ru_maxrss`` is not used because it also counts what the parent had
  resident when it forked us);
* ``rss_growth_mb`` — peak minus before.

MB here is 10**6 bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import resource
import sys
import time
from typing import Any

MB = 1_000_000
#: written to stderr once the job's imports are done (``-X importtime`` runs split the log there)
SETUP_DONE = "bench: setup done"


def _status_kib(key: str) -> int | None:
    """A ``VmRSS:``/``VmHWM:`` line of ``/proc/self/status`` in KiB (Linux), else ``None``."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def current_rss() -> int:
    """Resident set size now, in bytes (the peak where ``/proc`` is missing)."""
    kib = _status_kib("VmRSS:")
    return kib * 1024 if kib is not None else peak_rss()


def peak_rss() -> int:
    """Peak resident set size of this process since the last :func:`reset_peak_rss`, in bytes."""
    kib = _status_kib("VmHWM:")
    if kib is not None:
        return kib * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def reset_peak_rss() -> bool:
    """Reset this process's peak-RSS mark (Linux ``clear_refs`` 5), so the next peak is the job's."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    from bench.jobs import JOBS

    parser = argparse.ArgumentParser(prog="python -m bench.run_one")
    parser.add_argument("job", choices=sorted(JOBS))
    parser.add_argument("--spec", required=True, help="the job's arguments as JSON")
    parser.add_argument("--result", required=True, help="file to write the measurements to")
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    args = parser.parse_args(argv)
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})

    spec: dict[str, Any] = json.loads(args.spec)
    job = JOBS[args.job]

    t0 = time.perf_counter()
    for module in job.imports:
        if module.startswith("?"):
            with contextlib.suppress(ImportError):
                importlib.import_module(module[1:])
        else:
            importlib.import_module(module)
    setup_s = time.perf_counter() - t0
    print(SETUP_DONE, file=sys.stderr, flush=True)

    rss_before = current_rss()
    peak_reset = reset_peak_rss()
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    output = job.run(spec)
    wall_s, cpu_s = time.perf_counter() - t0, cpu_seconds() - cpu0
    peak = peak_rss()

    result = {
        "job": args.job,
        "wall_s": wall_s,
        "cpu_s": cpu_s,
        "setup_s": setup_s,
        "rss_before_mb": rss_before / MB,
        "peak_rss_mb": peak / MB,
        "rss_growth_mb": max(0, peak - rss_before) / MB,
        "peak_rss_reset": peak_reset,
        **output,
    }
    with open(args.result, "w") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
