"""Daily CallKeeper export: yesterday's calls (own and granted by a role) -> storage -> summary.

Every night, export the calls of the previous day with ``getWithRole`` (the user's own calls plus
those other accounts share with it through a role) to a JSON Lines file, then log a one-line summary.
The day is the run's data interval, ``[00:00, 24:00)`` UTC; re-running a day overwrites its file.

Configuration (environment):
* ``TELEPHONY_OUTPUT_ROOT`` — where files go, any ObjectStoragePath URL (``s3://bucket/telephony``,
  ``file:///data/telephony``); default ``<system temp dir>/telephony-output``.
* connection ``callkeeper_default`` (type ``callkeeper``): the API key as password; extra
  ``{"api_version": "v3"}`` (the default; ``"v1"`` works too and reads the ``call`` and ``callrole``
  entities).  The key sits inside CallKeeper's URLs; the provider redacts it from every log line,
  error message and XCom.

Try it without a CallKeeper account: ``make demo``, or start ``telephony-sandbox serve``, point the
connection's host at the URL it prints (password ``SANDBOXKEY000001``) and run
``airflow dags test example_callkeeper_calls 2026-06-15``.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_telephony.operators.callkeeper import CallKeeperCallsToStorageOperator

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow 3.1
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef]

OUTPUT_ROOT = os.environ.get("TELEPHONY_OUTPUT_ROOT") or f"file://{tempfile.gettempdir()}/telephony-output"
DAY = "{{ data_interval_start | ds }}"

with DAG(
    dag_id="example_callkeeper_calls",
    description="CallKeeper calls of each day (own and granted by a role) to storage",
    # a real one-day interval: a plain cron schedule has zero-length data intervals in Airflow 3
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    # every task is bounded: a hung vendor fails the attempt (and Airflow retries it) instead of
    # holding a worker slot for ever; permanent errors (bad configuration) fail at once regardless
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "execution_timeout": timedelta(minutes=30),
    },
    tags=["telephony", "callkeeper", "example"],
) as dag:
    export_calls = CallKeeperCallsToStorageOperator(
        task_id="export_calls",
        output_path=f"{OUTPUT_ROOT}/callkeeper/calls/{DAY}.jsonl",
        method="getWithRole",
        # a call is recorded when it ends: give the last calls of the day time to arrive
        settle=timedelta(minutes=30),
        deferrable=True,
    )

    @task
    def summary(export: dict[str, Any]) -> dict[str, Any]:
        """One line a person can read, and the numbers for whoever looks at the XCom."""
        result = {
            "window": export["window"],
            "calls_file": export["path"],
            "calls": export["records"],
            "bytes": export["bytes"],
            "api_version": export["api_version"],
            "method": export["method"],
        }
        print(f"callkeeper summary: {result}")
        return result

    summary(export_calls.output)
