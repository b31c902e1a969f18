"""Nightly Tele2 PBX pipeline: call records -> recordings + transcripts -> statistics; blacklist sync.

Every night, export the previous day's call records (Tele2's corporate PBX CRM OpenAPI) to a JSON
Lines file, download the recording of every recorded call with its speech-to-text transcript, and
write the day's call statistics (company-wide and for the numbers in ``TELEPHONY_TELE2_NUMBERS``).
Beside it, the PBX blacklist is made equal to the CSV shipped with this example: a dry run logs
the difference first, then the sync applies it (only ``MANUAL`` entries are ever removed).

The token pair rotates by itself: the connection holds the pair generated in the PBX web UI, and
every refreshed pair is kept in the Airflow Variable ``telephony_tele2_tokens_tele2_ats_default``
that every worker and the triggerer share.

Configuration (environment):
* ``TELEPHONY_OUTPUT_ROOT`` — where files go, any ObjectStoragePath URL; default
  ``<system temp dir>/telephony-output``.
* ``TELEPHONY_TELE2_NUMBERS`` — comma-separated PBX numbers (7XXXXXXXXXX) to report one by one.
* connection ``tele2_ats_default`` (type ``tele2_ats``): Password = refresh token, extra
  ``access_token`` = access token.

Try it without a Tele2 account: ``make demo``, or start ``telephony-sandbox serve`` and run
``airflow dags test example_tele2_call_records 2026-06-15``.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_telephony.operators.tele2 import (
    Tele2CallRecordsToStorageOperator,
    Tele2DownloadRecordingsOperator,
    Tele2StatisticsToStorageOperator,
)
from airflow_provider_telephony.operators.tele2_sync import Tele2BlacklistSyncOperator

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow 3.1
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef]

OUTPUT_ROOT = os.environ.get("TELEPHONY_OUTPUT_ROOT") or f"file://{tempfile.gettempdir()}/telephony-output"
NUMBERS = [n.strip() for n in os.environ.get("TELEPHONY_TELE2_NUMBERS", "").split(",") if n.strip()]
BLACKLIST_CSV = str(Path(__file__).parent / "data" / "tele2_blacklist.csv")
DAY = "{{ data_interval_start | ds }}"

with DAG(
    dag_id="example_tele2_call_records",
    description="Tele2 PBX call records, recordings, transcripts and statistics of each day",
    # a real one-day interval: a plain cron schedule has zero-length data intervals in Airflow 3
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "execution_timeout": timedelta(minutes=30),
    },
    tags=["telephony", "tele2", "example"],
) as dag:
    export_records = Tele2CallRecordsToStorageOperator(
        task_id="export_call_records",
        output_path=f"{OUTPUT_ROOT}/tele2/call_records/{DAY}.jsonl",
        settle=timedelta(minutes=30),  # records of calls that end around midnight arrive late
        deferrable=True,
    )

    download_recordings = Tele2DownloadRecordingsOperator(
        task_id="download_recordings",
        records_path="{{ ti.xcom_pull(task_ids='export_call_records')['path'] }}",
        destination=f"{OUTPUT_ROOT}/tele2/recordings",  # <day>/<name>.mp3 and .json beside it
        transcripts=True,
        execution_timeout=timedelta(hours=2),
    )

    statistics = Tele2StatisticsToStorageOperator(
        task_id="export_statistics",
        output_path=f"{OUTPUT_ROOT}/tele2/statistics/{DAY}.jsonl",
        numbers=NUMBERS,
    )

    blacklist_diff = Tele2BlacklistSyncOperator(
        task_id="blacklist_dry_run", numbers_path=BLACKLIST_CSV, dry_run=True
    )
    blacklist_sync = Tele2BlacklistSyncOperator(task_id="blacklist_sync", numbers_path=BLACKLIST_CSV)

    @task
    def summary(export: dict[str, Any], download: dict[str, Any], stats: dict[str, Any]) -> dict[str, Any]:
        """One line a person can read."""
        result = {
            "window": export["window"],
            "records": export["records"],
            "recorded": export["recorded"],
            "recordings_downloaded": download["downloaded"],
            "recordings_already_present": download["skipped_existing"],
            "transcripts": download["transcripts"],
            "recordings_missing": len(download["missing"]),
            "statistics_file": stats["path"],
        }
        print(f"tele2 summary: {result}")
        return result

    export_records >> download_recordings
    blacklist_diff >> blacklist_sync
    summary(export_records.output, download_recordings.output, statistics.output)
