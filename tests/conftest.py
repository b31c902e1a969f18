"""Shared fixtures: one real sandbox server per session, connections pointing at it, Airflow homes.

The sandbox is started over loopback HTTP exactly as a user would start it; tests talk to it
through our hooks (integration) or run the example DAGs against it with ``airflow dags test``.
"""

from __future__ import annotations

import json
import os
import tempfile

# Before Airflow is imported: the suite never reads or writes the developer's ~/airflow (a hook whose
# token store is an Airflow Variable would otherwise create and use ~/airflow/airflow.db).
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="telephony-tests-airflow-")
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from airflow_provider_telephony.sandbox import SandboxConfig, run_sandbox
from airflow_provider_telephony.sandbox.dagtest import airflow_env

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_DAGS = ROOT / "example_dags"

#: the session's sandbox settings; tests derive expected data from the same object
SANDBOX = SandboxConfig(seed=7, recording_delay=0.0)


@pytest.fixture(scope="session")
def sandbox_config() -> SandboxConfig:
    return SANDBOX


@pytest.fixture(scope="session")
def sandbox_url(sandbox_config: SandboxConfig) -> Iterator[str]:
    with run_sandbox(sandbox_config) as url:
        yield url


def conn_env(conn_id: str, **fields: object) -> tuple[str, str]:
    """An ``AIRFLOW_CONN_<ID>`` variable (JSON form) for a connection."""
    return f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields)


@contextmanager
def avito_sandbox(config: SandboxConfig, conn_id: str = "avito_default") -> Iterator[str]:
    """A dedicated sandbox with its own settings, and ``conn_id`` pointing at it; yields the URL."""
    with run_sandbox(config) as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv(
            *conn_env(
                conn_id,
                conn_type="avito",
                host=url,
                login=config.avito_client_id,
                password=config.avito_client_secret,
            )
        )
        yield url


@pytest.fixture
def avito_conn(monkeypatch: pytest.MonkeyPatch, sandbox_url: str, sandbox_config: SandboxConfig) -> str:
    """``avito_default`` pointing at the session sandbox; returns the conn id."""
    name, value = conn_env(
        "avito_default",
        conn_type="avito",
        host=sandbox_url,
        login=sandbox_config.avito_client_id,
        password=sandbox_config.avito_client_secret,
        extra={"max_retries": 3},
    )
    monkeypatch.setenv(name, value)
    return "avito_default"


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated Airflow home (SQLite) for every DAG test of the session."""
    home = tmp_path_factory.mktemp("airflow-home")
    airflow_env(home, dags_folder=EXAMPLE_DAGS)
    return home


@pytest.fixture(autouse=True)
def _no_ambient_airflow_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests must not see the developer's own Airflow connections or config."""
    for key in list(os.environ):
        if key.startswith("AIRFLOW_CONN_"):
            monkeypatch.delenv(key)
