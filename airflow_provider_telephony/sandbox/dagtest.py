"""Run DAGs with ``airflow dags test`` in an isolated Airflow home, pointed at a sandbox.

Used by this project's tests and ``make demo``, and meant for DAG authors' own tests::

    with run_sandbox() as url:
        env = airflow_env(tmp_path, dags_folder="dags/", sandbox_url=url)
        result = run_dag_test("my_dag", "2026-06-15", env)
        assert result.ok, result.output

The environment is a temporary ``AIRFLOW_HOME`` with a SQLite metadata DB (migrated once), no
example DAGs, and the connections of every vendor the sandbox emulates (``avito_default``,
``callkeeper_default``, ``tele2_ats_default``, ``autocall_default``) given as ``AIRFLOW_CONN_*`` variables that point at the sandbox with its
default credentials.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from airflow_provider_telephony.sandbox.config import SandboxConfig


def sandbox_connections(url: str, config: SandboxConfig | None = None) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` variables (JSON form) for every vendor, pointing at the sandbox ``url``."""
    import secrets

    cfg = config or SandboxConfig()
    nonce = secrets.token_hex(4)
    conns = {
        "avito_default": {
            "conn_type": "avito",
            "host": url,
            "login": cfg.avito_client_id,
            "password": cfg.avito_client_secret,
        },
        "callkeeper_default": {
            "conn_type": "callkeeper",
            "host": url,
            "password": cfg.callkeeper_api_key,
            "extra": {"api_version": "v3", "role_api_key": cfg.callkeeper_role_api_key},
        },
        "tele2_ats_default": {
            "conn_type": "tele2_ats",
            "host": f"{url}/crm/openapi",
            "password": cfg.tele2_refresh_token,
            # a token store of its own: a pair another sandbox rotated (same initial tokens, a
            # server that never issued it) would cost a refused refresh before falling back
            "extra": {
                "access_token": cfg.tele2_access_token,
                "token_variable": f"sandbox_tele2_tokens_{nonce}",
            },
        },
        "autocall_default": {
            "conn_type": "autocall",
            "host": f"{url}/api/v1",
            "password": cfg.autocall_api_key,
        },
    }
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(value) for conn_id, value in conns.items()}


def airflow_env(
    home: str | os.PathLike[str],
    *,
    dags_folder: str | os.PathLike[str],
    sandbox_url: str | None = None,
    config: SandboxConfig | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """An environment for ``airflow`` commands in an isolated home (the DB is migrated here, once)."""
    home_path = Path(home)
    home_path.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home_path),
            "AIRFLOW__CORE__DAGS_FOLDER": str(Path(dags_folder).resolve()),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home_path / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        }
    )
    if sandbox_url:
        env.update(sandbox_connections(sandbox_url, config))
    env.update(extra or {})
    if not (home_path / "airflow.db").exists():
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    return env


@dataclass
class DagTestResult:
    """Outcome of one ``airflow dags test`` run: exit code and everything it printed."""

    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_dag_test(
    dag_id: str, logical_date: str, env: Mapping[str, str], *, timeout: float = 600
) -> DagTestResult:
    """``airflow dags test <dag_id> <logical_date>``; triggers of deferred tasks run inline."""
    proc = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", dag_id, logical_date],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return DagTestResult(proc.returncode, proc.stdout + proc.stderr)
