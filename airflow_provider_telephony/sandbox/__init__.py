"""Local emulator of the vendor APIs (a real HTTP server), for tests, the demo and DAG authors.

Typical use::

    from airflow_provider_telephony.sandbox import run_sandbox

    with run_sandbox(seed=3, avito_token_ttl=2) as base_url:
        ...  # point a connection's host at base_url

Importing this package is cheap: starlette and uvicorn load only when a server starts.
"""

from __future__ import annotations

from airflow_provider_telephony.sandbox.config import SandboxConfig
from airflow_provider_telephony.sandbox.server import run_sandbox

__all__ = ["SandboxConfig", "run_sandbox"]
