"""The rotation soak: 8 processes share one Tele2 connection and the Variable token store (the
metadata database every worker of a deployment shares) while the sandbox expires access tokens
every 1.5 seconds and each refresh kills the previous pair at once.  No request may fail, and the
pair left in the store must still be valid."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from airflow_provider_telephony.sandbox import SandboxConfig, run_sandbox
from airflow_provider_telephony.sandbox.dagtest import airflow_env
from tests.conftest import EXAMPLE_DAGS, ROOT

PROCESSES = 8
REQUESTS = 200
KEY = "telephony_tele2_tokens_tele2_ats_default"


def test_eight_processes_rotate_one_pair_without_a_failed_request(tmp_path: Path) -> None:
    config = SandboxConfig(seed=2, data_days=2, tele2_access_ttl=1.5)
    with run_sandbox(config) as url:
        env = airflow_env(tmp_path / "home", dags_folder=EXAMPLE_DAGS, sandbox_url=url, config=config)
        env["AIRFLOW_CONN_TELE2_ATS_DEFAULT"] = json.dumps(
            {
                "conn_type": "tele2_ats",
                "host": f"{url}/crm/openapi",
                "password": config.tele2_refresh_token,
                "extra": {"access_token": config.tele2_access_token, "rate_limit_per_minute": 6000},
            }
        )
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.integration.tele2_soak_worker", str(REQUESTS)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(PROCESSES)
        ]
        results = []
        for worker in workers:
            out, err = worker.communicate(timeout=300)
            assert worker.returncode == 0, err[-3000:]
            results.append((json.loads(out.strip().splitlines()[-1]), err))
        stats = httpx.get(f"{url}/__sandbox__/tele2/stats").json()
        stored = (
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "from airflow_provider_telephony.core.tokens import VariableTokenStore as S;"
                    f"p = S().load({KEY!r}); print('PAIR', p.refresh if p else '-')",
                ],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]  # Airflow may log to stdout before it
            .removeprefix("PAIR ")
        )
        refresh = httpx.put(
            f"{url}/crm/openapi/authorization/refresh/token", headers={"Authorization": stored}
        )

    failures = [(r["failures"], err[-2000:]) for r, err in results if r["failures"]]
    assert not failures, failures
    assert sum(r["requests"] for r, _ in results) >= PROCESSES * REQUESTS
    assert stats["refreshes"] >= 2, stats  # the run really outlived several access tokens
    assert refresh.status_code == 200, refresh.text  # the stored pair is the live one
    tokens = [*stats["issued_tokens"], config.tele2_refresh_token, config.tele2_access_token]
    for _, err in results:  # no token, initial or rotated, in anything a worker printed
        assert not [token for token in tokens if token in err]
