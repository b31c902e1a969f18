"""Daily Avito CallTracking pipeline: calls -> recordings -> summary.

Every night, export the previous day's calls to a JSON Lines file, then download the recordings of
the answered calls next to it, and log a summary.  Avito's ``getRecordByCallId`` is both the
readiness check and the download, so the download task fetches each recording in the request that
finds it ready and waits for the rest in the triggerer (deferred: no worker slot held) — one
request per recording, no separate sensor.  Re-running a day overwrites its file and skips
recordings already downloaded.

Configuration (environment):
* ``TELEPHONY_OUTPUT_ROOT`` — where files go, any ObjectStoragePath URL (``s3://bucket/telephony``,
  ``file:///data/telephony``); default ``<system temp dir>/telephony-output``.
* ``TELEPHONY_POKE_INTERVAL`` — seconds between rounds of recording requests (default 300).
* connection ``avito_default`` (type ``avito``): client_id as login, client_secret as password.

Try it without an Avito account: ``make demo``, or start ``telephony-sandbox serve`` and run
``airflow dags test example_avito_calltracking 2026-06-15``.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_telephony.operators.avito import (
    AvitoCallsToStorageOperator,
    AvitoDownloadRecordingsOperator,
)

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow 3.1
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef]

OUTPUT_ROOT = os.environ.get("TELEPHONY_OUTPUT_ROOT") or f"file://{tempfile.gettempdir()}/telephony-output"
POKE_INTERVAL = float(os.environ.get("TELEPHONY_POKE_INTERVAL", "300"))
DAY = "{{ data_interval_start | ds }}"
CALLS_PATH = "{{ ti.xcom_pull(task_ids='export_calls')['path'] }}"

with DAG(
    dag_id="example_avito_calltracking",
    description="Avito calls of each day to storage, with their recordings",
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
    tags=["telephony", "avito", "example"],
) as dag:
    export_calls = AvitoCallsToStorageOperator(
        task_id="export_calls",
        output_path=f"{OUTPUT_ROOT}/avito/calls/{DAY}.jsonl",
        # calls can show up in getCalls a little after they end: start no earlier than 00:30
        settle=timedelta(minutes=30),
        deferrable=True,
    )

    download_recordings = AvitoDownloadRecordingsOperator(
        task_id="download_recordings",
        calls_path=CALLS_PATH,
        destination=f"{OUTPUT_ROOT}/avito/recordings/{DAY}",
        # recordings not ready yet are downloaded by the triggerer as they become ready, for at most
        # three hours; a call whose recording Avito no longer has (404) is listed as missing
        deferrable=True,
        poke_interval=POKE_INTERVAL,
        max_wait=timedelta(hours=3),
        execution_timeout=timedelta(hours=3, minutes=30),
    )

    @task
    def summary(export: dict[str, Any], download: dict[str, Any]) -> dict[str, Any]:
        """One line a person can read, and the numbers for whoever looks at the XCom."""
        result = {
            "window": export["window"],
            "calls_file": export["path"],
            "calls": export["records"],
            "answered": export["answered"],
            "recordings_folder": download["destination"],
            "recordings_downloaded": download["downloaded"],
            "recordings_already_present": download["skipped_existing"],
            "recordings_not_ready": len(download["not_ready"]),
            "recordings_missing": len(download["missing"]),
            "recording_requests": download["requests"],
        }
        print(f"avito summary: {result}")
        return result

    export_calls >> download_recordings
    summary(export_calls.output, download_recordings.output)
