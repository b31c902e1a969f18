"""Orchestrator side: sandbox server processes, contender processes, server counters, the machine."""

from __future__ import annotations

import json
import os
import platform
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.server import LISTENING_PREFIX

ROOT = Path(__file__).resolve().parents[1]
#: the server runs on this core, every client on the other (a 2-core machine)
SERVER_CPU = 0
CLIENT_CPU = 1
CHILD_TIMEOUT = 900.0
PACKAGES = (
    "airflow-provider-telephony",
    "apache-airflow",
    "apache-airflow-task-sdk",
    "apache-airflow-providers-http",
    "dlt",
    "httpx",
    "httpcore",
    "requests",
    "orjson",
    "pydantic",
    "pydantic-core",
    "tenacity",
    "fsspec",
    "uvicorn",
    "httptools",
    "uvloop",
    "starlette",
    "matplotlib",
)

#: connection ids the contenders use (``AIRFLOW_CONN_<ID>`` in their environment)
AVITO_CONN = "avito_bench"
CALLKEEPER_CONN = "callkeeper_bench"
#: the same CallKeeper account with the connection extra rate_limit_per_minute=6000 (the most the
#: product accepts), for the limiter check
CALLKEEPER_EXTRA_CONN = "callkeeper_bench_extra"
HTTP_CONN = "http_bench"


def cpus() -> tuple[int | None, int | None]:
    """(server CPU, client CPU), or (None, None) where pinning is impossible (fewer than 2 CPUs)."""
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None, None
    return allowed[0], allowed[1]


@dataclass
class Server:
    """A running ``python -m bench.server`` process."""

    url: str
    proc: subprocess.Popen[str]
    config: dict[str, Any]

    def stats(self) -> dict[str, Any]:
        """The server's counters plus the sandbox's own Avito stats; costs exactly one new connection."""
        import httpx

        with httpx.Client(base_url=self.url, timeout=60.0) as client:
            ours = client.get("/__bench__/stats").json()
            ours["avito"] = client.get("/__sandbox__/avito/stats").json()
        ours["avito"].pop("issued_tokens", None)
        return ours

    def control(self, path: str) -> dict[str, Any]:
        """``POST /__bench__/<path>`` (``gc-freeze``, ``callkeeper-rate-headers?on=0``)."""
        import httpx

        response = httpx.post(f"{self.url}/__bench__/{path}", timeout=120.0)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


@contextmanager
def sandbox(
    config: dict[str, Any],
    *,
    cache_callkeeper: bool = False,
    record_times: bool = False,
    callkeeper_rate_headers: bool = False,
) -> Iterator[Server]:
    """Start the sandbox (``config`` = SandboxConfig fields) in its own process, pinned to a core."""
    server_cpu, _ = cpus()
    cmd = [sys.executable, "-m", "bench.server", "--config", json.dumps(config)]
    if server_cpu is not None:
        cmd += ["--cpu", str(server_cpu)]
    if cache_callkeeper:
        cmd.append("--cache-callkeeper")
    if record_times:
        cmd.append("--record-times")
    if callkeeper_rate_headers:
        cmd.append("--callkeeper-rate-headers")
    env = {**os.environ, "PYTHONPATH": _pythonpath()}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith(LISTENING_PREFIX):
            raise SystemExit(f"bench: the sandbox did not start (said {line!r}, exit {proc.poll()})")
        yield Server(url=line[len(LISTENING_PREFIX) :].strip(), proc=proc, config=config)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(15)


def _pythonpath() -> str:
    return os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)


def child_env(url: str, workdir: Path, *, config: dict[str, Any] | None = None) -> dict[str, str]:
    """Environment of a client process: the connections to ``url``, a private AIRFLOW_HOME and dlt dirs."""
    from airflow_provider_telephony.sandbox import SandboxConfig

    defaults = SandboxConfig()
    config = config or {}
    avito = {
        "conn_type": "avito",
        "host": url,
        "login": config.get("avito_client_id", defaults.avito_client_id),
        "password": config.get("avito_client_secret", defaults.avito_client_secret),
    }
    callkeeper = {
        "conn_type": "callkeeper",
        "host": url,
        "password": config.get("callkeeper_api_key", defaults.callkeeper_api_key),
        "extra": {"api_version": "v3"},
    }
    callkeeper_extra = {**callkeeper, "extra": {"api_version": "v3", "rate_limit_per_minute": 6000}}
    http = {"conn_type": "http", "host": url}
    home = workdir / "airflow-home"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update(
        {
            f"AIRFLOW_CONN_{AVITO_CONN.upper()}": json.dumps(avito),
            f"AIRFLOW_CONN_{CALLKEEPER_CONN.upper()}": json.dumps(callkeeper),
            f"AIRFLOW_CONN_{CALLKEEPER_EXTRA_CONN.upper()}": json.dumps(callkeeper_extra),
            f"AIRFLOW_CONN_{HTTP_CONN.upper()}": json.dumps(http),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            # dlt: no telemetry (no network here), its global dir private to the run, plain JSONL files
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "DLT_DATA_DIR": str(workdir / "dlt-data"),
            "DATA_WRITER__DISABLE_COMPRESSION": "true",
            "PYTHONPATH": _pythonpath(),
        }
    )
    return env


def run_child(
    job: str,
    spec: dict[str, Any],
    env: dict[str, str],
    workdir: Path,
    *,
    python_args: tuple[str, ...] = (),
    timeout: float = CHILD_TIMEOUT,
) -> dict[str, Any]:
    """Run ``python -m bench.run_one <job>`` in a fresh process pinned to the client core."""
    result_path = workdir / f"{job}.result.json"
    result_path.unlink(missing_ok=True)
    _, client_cpu = cpus()
    cmd = [sys.executable, *python_args, "-m", "bench.run_one", job, "--spec", json.dumps(spec)]
    cmd += ["--result", str(result_path)]
    if client_cpu is not None:
        cmd += ["--cpu", str(client_cpu)]
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0 or not result_path.exists():
        sys.stderr.write(proc.stdout[-5000:] + proc.stderr[-20000:])
        raise MeasurementError(f"job {job!r} failed (exit {proc.returncode}), output above")
    result: dict[str, Any] = json.loads(result_path.read_text())
    result["_stderr"] = proc.stderr
    # everything the process (and any process it started) used: interpreter start, imports, the job
    result["process_cpu_s"] = (children1.ru_utime + children1.ru_stime) - (
        children0.ru_utime + children0.ru_stime
    )
    return result


class MeasurementError(RuntimeError):
    """A measurement could not be taken (a process failed, an output did not verify)."""


def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What the server saw between two :meth:`Server.stats` snapshots (the second one's own
    connection is not counted)."""
    requests = {
        name: after["requests"].get(name, 0) - before["requests"].get(name, 0) for name in after["requests"]
    }
    statuses: dict[str, dict[str, int]] = {}
    for name, codes in after["statuses"].items():
        old = before["statuses"].get(name, {})
        diff = {code: n - old.get(code, 0) for code, n in codes.items() if n - old.get(code, 0)}
        if diff:
            statuses[name] = diff
    avito_before = before["avito"]["requests"]
    avito_after = after["avito"]["requests"]
    return {
        "requests": {name: n for name, n in requests.items() if n and name != "sandbox-control"},
        "statuses": {name: codes for name, codes in statuses.items() if name != "sandbox-control"},
        "tcp_connections": after["connections"] - before["connections"] - 1,
        "server_cpu_s": after["cpu_s"] - before["cpu_s"],
        "cache_misses": after["cache"]["misses"] - before["cache"]["misses"],
        "sandbox_avito_requests": {
            name: n - avito_before.get(name, 0)
            for name, n in avito_after.items()
            if n - avito_before.get(name, 0)
        },
        "record_arrivals": after["record_arrivals"][len(before["record_arrivals"]) :],
    }


def machine_info() -> dict[str, Any]:
    cpu_model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            cpu_model = next(
                (ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu_model
            )
    except OSError:
        pass
    mem_total = None
    try:
        with open("/proc/meminfo") as fh:
            kib = next(int(ln.split()[1]) for ln in fh if ln.startswith("MemTotal:"))
            mem_total = round(kib / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
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
    server_cpu, client_cpu = cpus()
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "memory_gib": mem_total,
        "pinning": {"server_cpu": server_cpu, "client_cpu": client_cpu},
        "packages": versions,
        "git_commit": commit,
        "git_dirty": dirty,
    }


def busy_cpu_seconds() -> float | None:
    """CPU seconds the whole machine has been busy (all cores, ``/proc/stat``), or None off Linux."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal ...
    ticks = [int(x) for x in fields[1:9]]
    busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]
    return busy / os.sysconf("SC_CLK_TCK")


def wait_until(deadline: float) -> None:
    """Sleep until ``time.monotonic()`` reaches ``deadline``."""
    remaining = deadline - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
