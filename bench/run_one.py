"""Run one contender once in this (fresh) process and write its measurements as JSON.

``python -m bench.run_one <contender> --spec '<RunSpec JSON>' --result out.json
[--tracemalloc | --profile out.prof]``

The orchestrator (``python -m bench``) starts a new process per run so memory numbers and import
state are independent between contenders.  With ``--tracemalloc`` the run reports the Python heap
peak (and is slower: its time is not used); with ``--profile`` it runs under cProfile and dumps the
stats (time not used either).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from bench.contenders import CONTENDERS, prepare
from bench.spec import RunResult, RunSpec

MIB = 1024 * 1024


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
    """Resident set size now, in bytes (falls back to the peak where ``/proc`` is missing)."""
    kib = _status_kib("VmRSS:")
    return kib * 1024 if kib is not None else peak_rss()


def reset_peak_rss() -> bool:
    """Reset this process's peak-RSS mark (Linux ``clear_refs`` 5), so the next peak is the export's."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def peak_rss() -> int:
    """Peak resident set size of this process, in bytes.

    ``VmHWM`` belongs to this process's own address space; ``ru_maxrss`` (the fallback) also counts
    what the parent had resident when it forked us, which here includes the whole sandbox.
    """
    kib = _status_kib("VmHWM:")
    if kib is not None:
        return kib * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_one")
    parser.add_argument("contender", choices=sorted(CONTENDERS))
    parser.add_argument("--spec", required=True, help="RunSpec as JSON")
    parser.add_argument("--result", required=True, help="file to write the RunResult JSON to")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--tracemalloc", action="store_true", help="measure the Python heap peak")
    mode.add_argument("--profile", metavar="PATH", help="run under cProfile, dump stats to PATH")
    args = parser.parse_args(argv)

    spec = RunSpec.from_json(args.spec)
    export = CONTENDERS[args.contender]

    t0 = time.perf_counter()
    prepare(args.contender)
    setup_s = time.perf_counter() - t0

    rss_before = current_rss()
    peak_reset = reset_peak_rss()
    py_peak: float | None = None
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    records = export(spec)
    wall_s, cpu_s = time.perf_counter() - t0, cpu_seconds() - cpu0
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    if args.tracemalloc:
        import tracemalloc

        py_peak = tracemalloc.get_traced_memory()[1] / MIB
        tracemalloc.stop()
    rss_growth = max(0, peak_rss() - rss_before) / MIB

    result = RunResult(
        contender=args.contender,
        records=records,
        wall_s=wall_s,
        cpu_s=cpu_s,
        setup_s=setup_s,
        rss_growth_mib=rss_growth,
        py_peak_mib=py_peak,
        extra={"peak_rss_reset": peak_reset},
    )
    with open(args.result, "w") as fh:
        fh.write(result.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
