"""The Tele2 example DAGs under real Airflow (``airflow dags test``) against a fresh sandbox whose
access tokens expire every two seconds, so the pair rotates many times during the run through the
Variable token store (the Task SDK's, as on a real worker)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from airflow_provider_telephony.sandbox import SandboxConfig, run_sandbox
from airflow_provider_telephony.sandbox.dagtest import airflow_env, run_dag_test
from airflow_provider_telephony.sandbox.tele2_data import Tele2World, mp3_chunks
from tests.conftest import EXAMPLE_DAGS

pytestmark = pytest.mark.dags

START = datetime(2026, 6, 14, tzinfo=timezone.utc)
END = datetime(2026, 6, 15, tzinfo=timezone.utc)


def _all_logs(home: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in (home / "logs").rglob("*") if p.is_file())


def test_example_tele2_dag_exports_downloads_and_syncs(airflow_home: Path, tmp_path: Path) -> None:
    config = SandboxConfig(seed=13, tele2_access_ttl=2.0)
    world = Tele2World(config)
    expected = world.records_between(int(START.timestamp() * 1000), int(END.timestamp() * 1000))
    recorded = [r for r in expected if r["recordFileName"]]
    assert recorded
    out = tmp_path / "out"
    with run_sandbox(config) as url:
        env = airflow_env(
            airflow_home,
            dags_folder=EXAMPLE_DAGS,
            sandbox_url=url,
            config=config,
            extra={"TELEPHONY_OUTPUT_ROOT": f"file://{out}"},
        )
        result = run_dag_test("example_tele2_call_records", "2026-06-15", env)
        stats = httpx.get(f"{url}/__sandbox__/tele2/stats").json()
        fresh = httpx.post(f"{url}/__sandbox__/tele2/generate").json()
        blacklist = httpx.get(
            f"{url}/crm/openapi/blacklist", headers={"Authorization": fresh["accessToken"]}
        ).json()

    assert result.ok, result.output[-5000:]
    exported = [
        json.loads(line) for line in (out / "tele2/call_records/2026-06-14.jsonl").read_text().splitlines()
    ]
    assert exported == expected  # every record of the window, as the server sent it
    for record in recorded:
        name = record["recordFileName"]
        audio = (out / "tele2/recordings" / f"{name}.mp3").read_bytes()
        assert audio == b"".join(mp3_chunks(config.seed, name, record["conversationDuration"]))
        words = json.loads((out / "tele2/recordings" / f"{name}.json").read_text())
        assert words and {w["channel"] for w in words} <= {"A", "B"}
    statistics = [json.loads(x) for x in (out / "tele2/statistics/2026-06-14.jsonl").read_text().splitlines()]
    assert [row["subject"] for row in statistics] == ["company"]
    assert statistics[0]["start"] == START.isoformat() and statistics[0]["allCallCount"] > 0
    # the sync made the MANUAL entries equal the CSV; FILE entries (loaded in the PBX UI) stay
    manual = {e["number"] for e in blacklist if e["sourceType"] == "MANUAL"}
    assert manual == {"79990001001", "79990001002", "79990001003"}
    assert any(e["sourceType"] == "FILE" for e in blacklist)
    assert stats["refreshes"] >= 1, stats  # the pair rotated during the run
    logs = _all_logs(airflow_home) + result.output
    for token in [*stats.get("issued_tokens", []), config.tele2_refresh_token, config.tele2_access_token]:
        assert token not in logs


def test_example_tele2_dag_with_opaque_tokens_that_live_two_seconds(
    airflow_home: Path, tmp_path: Path
) -> None:
    """A server whose tokens say nothing about their lifetime, and expire faster than a task runs:
    every expiry is learnt from a 403, rotated and re-sent; nothing fails."""
    # every other answer half a second late: the run outlives many tokens
    config = SandboxConfig(seed=19, tele2_access_ttl=2.0, tele2_opaque_tokens=True, faults="slow=0.5")
    world = Tele2World(config)
    expected = world.records_between(int(START.timestamp() * 1000), int(END.timestamp() * 1000))
    out = tmp_path / "out"
    with run_sandbox(config) as url:
        env = airflow_env(
            airflow_home,
            dags_folder=EXAMPLE_DAGS,
            sandbox_url=url,
            config=config,
            extra={"TELEPHONY_OUTPUT_ROOT": f"file://{out}"},
        )
        result = run_dag_test("example_tele2_call_records", "2026-06-15", env)
        stats = httpx.get(f"{url}/__sandbox__/tele2/stats").json()

    assert result.ok, result.output[-5000:]
    exported = (out / "tele2/call_records/2026-06-14.jsonl").read_text().splitlines()
    assert len(exported) == len(expected)
    recorded = [r for r in expected if r["recordFileName"]]
    assert len(list((out / "tele2/recordings").rglob("*.mp3"))) == len(recorded)
    assert stats["refreshes"] >= 2 and stats["rejected_access"] >= 2, stats  # expiries learnt from 403s


def test_example_tele2_callback_calls_once_waits_and_assigns(airflow_home: Path, tmp_path: Path) -> None:
    # tokens expire every two seconds: the pair rotates while the sensor waits in its trigger
    config = SandboxConfig(seed=17, tele2_click_to_call_seconds=2.0, tele2_access_ttl=2.0)
    out = tmp_path / "out"
    with run_sandbox(config) as url:
        env = airflow_env(
            airflow_home,
            dags_folder=EXAMPLE_DAGS,
            sandbox_url=url,
            config=config,
            extra={"TELEPHONY_OUTPUT_ROOT": f"file://{out}", "TELEPHONY_POKE_INTERVAL": "1"},
        )
        result = run_dag_test("example_tele2_callback", "2026-06-15", env)
        stats = httpx.get(f"{url}/__sandbox__/tele2/stats").json()
        fresh = httpx.post(f"{url}/__sandbox__/tele2/generate").json()
        managers = httpx.get(
            f"{url}/crm/openapi/managers", headers={"Authorization": fresh["accessToken"]}
        ).json()

    assert result.ok, result.output[-5000:]
    assert [c["destination"] for c in stats["click_to_call"]] == ["79990000123"]  # exactly once
    assert list((out / "tele2/callbacks").rglob("*.mp3")) and list((out / "tele2/callbacks").rglob("*.json"))
    assert any(c["realNumber"] == "79990000123" for m in managers for c in m["customers"])
