"""The Avito example DAG under real Airflow (``airflow dags test``) against a fresh sandbox.

Recordings of a share of calls are "late" (HTTP 425 for a few seconds after the sandbox starts),
so the deferrable download really defers and its trigger (run inline by ``airflow dags test``)
downloads them as they become ready.  The test then checks the output against the sandbox's own
data, that every recording cost exactly one successful request, and that no secret reached any log.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from airflow_provider_telephony.sandbox import SandboxConfig, run_sandbox
from airflow_provider_telephony.sandbox.avito import AvitoWorld
from airflow_provider_telephony.sandbox.dagtest import airflow_env, run_dag_test
from tests.conftest import EXAMPLE_DAGS

pytestmark = pytest.mark.dags

# `airflow dags test example_avito_calltracking 2026-06-15` with a daily CronDataIntervalTimetable
# runs the interval that ends at the logical date
START = datetime(2026, 6, 14, tzinfo=timezone.utc)
END = datetime(2026, 6, 15, tzinfo=timezone.utc)


def _all_logs(home: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in (home / "logs").rglob("*") if p.is_file())


def test_example_avito_dag_exports_waits_and_downloads(airflow_home: Path, tmp_path: Path) -> None:
    config = SandboxConfig(seed=11, recording_delay=15.0)
    world = AvitoWorld(config)
    expected = [c for c in world.calls_between(START, END) if c["callTime"] < "2026-06-15T00:00:00Z"]
    answered = [c["callId"] for c in expected if c["talkDuration"] > 0]
    late = [cid for cid in answered if world.is_late(cid)]
    assert late, "seed must give late recordings so the download defers"

    out = tmp_path / "out"
    with run_sandbox(config) as url:
        env = airflow_env(
            airflow_home,
            dags_folder=EXAMPLE_DAGS,
            sandbox_url=url,
            config=config,
            extra={"TELEPHONY_OUTPUT_ROOT": f"file://{out}", "TELEPHONY_POKE_INTERVAL": "1"},
        )
        result = run_dag_test("example_avito_calltracking", "2026-06-15", env)
        stats = httpx.get(f"{url}/__sandbox__/avito/stats").json()

    assert result.ok, result.output[-5000:]
    assert "deferring" in result.output  # the download handed the late recordings to its trigger
    # one request per recording that was ready, plus one per poll of a late one while it was not:
    # never a readiness check followed by a separate download
    record_requests = stats["requests"]["getRecordByCallId"]
    assert len(answered) <= record_requests < len(answered) + 20 * len(late), record_requests

    calls_file = out / "avito" / "calls" / "2026-06-14.jsonl"
    rows = [json.loads(line) for line in calls_file.read_text().splitlines()]
    assert len(rows) == len(expected)
    assert [r["callId"] for r in rows] == [c["callId"] for c in expected]
    assert rows == expected  # field for field, under the vendor's names
    assert not list(calls_file.parent.glob(".*tmp*")), "temporary files must not be left behind"

    folder = out / "avito" / "recordings" / "2026-06-14"
    files = sorted(folder.glob("*.mp3"))
    assert sorted(int(f.stem) for f in files) == sorted(answered)
    for f in files:
        assert f.read_bytes() == world.recording_bytes(int(f.stem))

    logs = result.output + _all_logs(airflow_home)
    assert config.avito_client_secret not in logs
    assert stats["issued_tokens"], "the DAG must have obtained tokens"
    for token in stats["issued_tokens"]:
        assert token not in logs
    assert "avito summary" in result.output
