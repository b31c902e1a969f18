"""The AutoCall.kz example DAG under real Airflow against a fresh sandbox whose first campaign
create and first SMS mailing create each drop the connection after the server made them, run
twice for the same date: exactly one campaign and one mailing exist, every call is exported."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from airflow_provider_telephony.sandbox import SandboxConfig, run_sandbox
from airflow_provider_telephony.sandbox.dagtest import airflow_env, run_dag_test
from tests.conftest import EXAMPLE_DAGS

pytestmark = pytest.mark.dags


def _all_logs(home: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in (home / "logs").rglob("*") if p.is_file())


def test_example_autocall_dag_launches_once_despite_lost_answers_and_a_rerun(
    airflow_home: Path, tmp_path: Path
) -> None:
    config = SandboxConfig(seed=21)
    out = tmp_path / "out"
    with run_sandbox(config) as url:
        for prefix in ("/api/v1/autocalls", "/api/v1/bulks"):
            httpx.post(
                f"{url}/__sandbox__/faults",
                json={"path_prefix": prefix, "method": "POST", "fault": "drop", "count": 1},
            ).raise_for_status()
        env = airflow_env(
            airflow_home,
            dags_folder=EXAMPLE_DAGS,
            sandbox_url=url,
            config=config,
            extra={"TELEPHONY_OUTPUT_ROOT": f"file://{out}", "TELEPHONY_POKE_INTERVAL": "1"},
        )
        first = run_dag_test("example_autocall_campaign", "2026-06-15", env)
        rerun = run_dag_test("example_autocall_campaign", "2026-06-15", env)
        stats = httpx.get(f"{url}/__sandbox__/autocall/stats").json()
        faults = httpx.get(f"{url}/__sandbox__/faults").json()
        key = {"Authorization": f"Bearer {config.autocall_api_key}", "Accept": "application/json"}
        listed = httpx.get(f"{url}/api/v1/autocalls", headers=key).json()["data"]
    campaigns = [c for c in listed if c["client_id"]]  # the sandbox also seeds older campaigns

    assert first.ok, first.output[-5000:]
    assert rerun.ok, rerun.output[-5000:]
    assert faults["pending"] == [] and faults["injected"].get("drop") == 2  # both creates lost their answers
    assert list(stats["created"]["autocalls"].values()) == [1]
    assert list(stats["created"]["bulks"].values()) == [1]
    assert len(campaigns) == 1 and campaigns[0]["status"] == "completed"
    [calls_file] = (out / "autocall/calls").glob("*.jsonl")
    exported = [json.loads(line) for line in calls_file.read_text().splitlines()]
    assert exported and all(call["autocall_id"] == campaigns[0]["id"] for call in exported)
    assert len({call["id"] for call in exported}) == len(exported) == 12  # every valid contact once
    [rejects] = (out / "autocall/rejects").glob("*.jsonl")
    reasons = [json.loads(line)["reason"] for line in rejects.read_text().splitlines()]
    assert len(reasons) == 3 and any("duplicate" in r for r in reasons)
    [messages] = (out / "autocall/sms").glob("*.jsonl")
    unreached = [c for c in exported if c["status"] in ("no_answer", "busy")]
    assert len(messages.read_text().splitlines()) == len(unreached)
    assert "already launched" in rerun.output  # the re-run found the campaign by its client_id
    assert config.autocall_api_key not in _all_logs(airflow_home)
