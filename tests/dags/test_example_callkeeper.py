"""The CallKeeper example DAG under real Airflow against the session sandbox.

``airflow dags test example_callkeeper_calls 2026-06-15`` must export exactly the sandbox's
getWithRole calls of the data interval, and the API key — which sits inside every CallKeeper URL —
must appear nowhere: not in the output, not in what Airflow printed, not under ``logs/``.  A failing
run (wrong key) is checked the same way, traceback included.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from airflow_provider_telephony.sandbox import SandboxConfig
from airflow_provider_telephony.sandbox.callkeeper import CallKeeperWorld
from airflow_provider_telephony.sandbox.dagtest import airflow_env, run_dag_test
from tests.conftest import EXAMPLE_DAGS

pytestmark = pytest.mark.dags

DAG_ID = "example_callkeeper_calls"
# a daily CronDataIntervalTimetable run for logical date 2026-06-15 covers the day before it
START = datetime(2026, 6, 14, tzinfo=timezone.utc)
END = datetime(2026, 6, 15, tzinfo=timezone.utc)
WRONG_KEY = "WRONGKEY0000XYZ9"


def _all_logs(home: Path) -> str:
    folder = home / "logs"
    if not folder.exists():
        return ""
    return "\n".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


def test_example_dag_exports_yesterdays_calls_without_leaking_the_key(
    airflow_home: Path, sandbox_url: str, sandbox_config: SandboxConfig, tmp_path: Path
) -> None:
    expected = CallKeeperWorld(sandbox_config).calls_between("getWithRole", START, END)
    assert expected, "the seeded day must hold calls"
    out = tmp_path / "out"
    env = airflow_env(
        airflow_home,
        dags_folder=EXAMPLE_DAGS,
        sandbox_url=sandbox_url,
        config=sandbox_config,
        extra={"TELEPHONY_OUTPUT_ROOT": f"file://{out}"},
    )

    result = run_dag_test(DAG_ID, "2026-06-15", env)

    assert result.ok, result.output[-5000:]
    calls_file = out / "callkeeper" / "calls" / "2026-06-14.jsonl"
    text = calls_file.read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) == len(expected)
    assert [r["universalId"] for r in rows] == [c["universalId"] for c in expected]
    assert {r["serviceType"] for r in rows} <= {"calltracking", "callback", "import"}
    assert not list(calls_file.parent.glob(".*tmp*")), "temporary files must not be left behind"
    assert "callkeeper summary" in result.output
    assert "exporting CallKeeper v3 getWithRole calls" in result.output, "task logs are in the output"

    key = sandbox_config.callkeeper_api_key
    assert key not in text
    assert key not in result.output
    assert key not in _all_logs(airflow_home)


def test_failing_run_names_the_connection_and_hides_the_key(
    airflow_home: Path, sandbox_url: str, sandbox_config: SandboxConfig, tmp_path: Path
) -> None:
    """A rejected key fails the task with a readable error; the (wrong) key is in no traceback or log."""
    env = airflow_env(
        airflow_home,
        dags_folder=EXAMPLE_DAGS,
        sandbox_url=sandbox_url,
        config=sandbox_config,
        extra={"TELEPHONY_OUTPUT_ROOT": f"file://{tmp_path / 'out'}"},
    )
    env["AIRFLOW_CONN_CALLKEEPER_DEFAULT"] = json.dumps(
        {"conn_type": "callkeeper", "host": sandbox_url, "password": WRONG_KEY}
    )
    # DEBUG, so the exchange's request lines (URLs, redacted) are in the output too
    env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "DEBUG"
    proc = subprocess.run(
        [sys.executable, "-m", "airflow", "tasks", "test", DAG_ID, "export_calls", "2026-06-15"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = proc.stdout + proc.stderr

    # `tasks test` exits 0 when the task fails into up_for_retry: the failure is read from the output
    assert "AuthenticationError" in output, output[-3000:]
    assert "did not recognise the key of connection 'callkeeper_default'" in output
    assert "Traceback" in output or "traceback" in output
    assert "/api/?json/v3/***/call/getWithRole/0/" in output, "the request URL was logged, redacted"
    assert WRONG_KEY not in output
    assert WRONG_KEY not in _all_logs(airflow_home)
    assert not (tmp_path / "out" / "callkeeper" / "calls" / "2026-06-14.jsonl").exists()
