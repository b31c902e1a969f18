"""Daily AutoCall.kz reminder campaign: contacts -> list -> sound -> moderation -> cost check ->
launch -> completion -> results -> SMS to everyone not reached -> their statuses.

1. The contacts file (``data/autocall_contacts.csv``: number, extra, variables) becomes a contact
   list; rows with a bad or duplicate number go to a rejects file instead of failing the batch.
2. A synthesized sound is created and waits for the moderators (deferred: no worker slot).
3. The campaign is launched **exactly once** behind a **cost guard** (refused above ``max_cost``
   or the balance) and waited for until completed (deferred).
4. Every call of the campaign is exported; the unreached numbers are also gathered into a new
   list for a later campaign.
5. Everyone not reached gets an SMS with their own variables (``{{name}}``, ``{{time}}``) — also
   exactly once, behind the same guard — and the message statuses are exported when it is done.

Every create carries a ``client_id`` derived from the DAG, the task and the logical date: a retry
after a lost answer, a killed worker or a re-run of the same date finds the campaign or mailing
instead of creating a second one.

Configuration (environment): ``TELEPHONY_OUTPUT_ROOT`` (any ObjectStoragePath URL; default
``<system temp dir>/telephony-output``), ``TELEPHONY_POKE_INTERVAL`` (seconds between status
reads, default 60), ``TELEPHONY_AUTOCALL_MAX_COST`` (tenge, default 50000); connection
``autocall_default`` (type ``autocall``, the API key as password).

Try it without an account: ``make demo``, or ``telephony-sandbox serve`` and
``airflow dags test example_autocall_campaign 2026-06-15``.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from airflow.sdk import DAG

from airflow_provider_telephony.operators.autocall import (
    AutoCallCampaignResultsToStorageOperator,
    AutoCallCreateContactListOperator,
    AutoCallCreateSoundOperator,
    AutoCallLaunchCampaignOperator,
    AutoCallRelaunchOperator,
)
from airflow_provider_telephony.operators.autocall_sms import (
    AutoCallSendSmsOperator,
    AutoCallSmsResultsToStorageOperator,
)
from airflow_provider_telephony.sensors.autocall import AutoCallSmsBulkSensor, AutoCallSoundModerationSensor

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow 3.1
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef]

OUTPUT_ROOT = os.environ.get("TELEPHONY_OUTPUT_ROOT") or f"file://{tempfile.gettempdir()}/telephony-output"
POKE_INTERVAL = float(os.environ.get("TELEPHONY_POKE_INTERVAL", "60"))
MAX_COST = float(os.environ.get("TELEPHONY_AUTOCALL_MAX_COST", "50000"))
CONTACTS = str(Path(__file__).parent / "data" / "autocall_contacts.csv")
DAY = "{{ data_interval_start | ds }}"
CAMPAIGN = "{{ ti.xcom_pull(task_ids='launch_campaign')['id'] }}"

with DAG(
    dag_id="example_autocall_campaign",
    description="A reminder campaign, its results, and an SMS to everyone it did not reach",
    schedule=CronDataIntervalTimetable("0 6 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    render_template_as_native_obj=True,  # ids from XCom stay integers
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2), "execution_timeout": timedelta(hours=1)},
    tags=["telephony", "autocall", "example"],
) as dag:
    contact_list = AutoCallCreateContactListOperator(
        task_id="create_contact_list",
        name="Reminders " + DAY,
        contacts_path=CONTACTS,
        rejects_path=f"{OUTPUT_ROOT}/autocall/rejects/{DAY}.jsonl",
    )

    sound = AutoCallCreateSoundOperator(
        task_id="create_sound",
        name="Reminder " + DAY,
        text="Здравствуйте! Напоминаем о вашей записи на завтра. Ждём вас.",
        voice="ru-RU-Wavenet-B",
    )

    moderation = AutoCallSoundModerationSensor(
        task_id="wait_for_moderation",
        sound_id="{{ ti.xcom_pull(task_ids='create_sound')['id'] }}",
        deferrable=True,
        poke_interval=POKE_INTERVAL,
        timeout=6 * 3600,
    )

    launch = AutoCallLaunchCampaignOperator(
        task_id="launch_campaign",
        name="Reminders " + DAY,
        list_id=["{{ ti.xcom_pull(task_ids='create_contact_list')['list_id'] }}"],
        audio_id=["{{ ti.xcom_pull(task_ids='create_sound')['id'] }}"],
        options={"time_from": "09:00:00", "time_to": "20:00:00", "max_tries": 2, "tries_interval": 15},
        max_cost=MAX_COST,
        wait_for_completion=True,
        deferrable=True,
        poke_interval=POKE_INTERVAL,
        max_wait=timedelta(hours=12),
        execution_timeout=timedelta(hours=13),
    )

    calls = AutoCallCampaignResultsToStorageOperator(
        task_id="export_calls",
        autocall_id=CAMPAIGN,
        output_path=f"{OUTPUT_ROOT}/autocall/calls/{DAY}.jsonl",
    )

    unreached_list = AutoCallRelaunchOperator(task_id="list_unreached", autocall_id=CAMPAIGN)

    sms = AutoCallSendSmsOperator(
        task_id="sms_unreached",
        name="Missed " + DAY,
        # {% raw %} keeps AutoCall's own {{variables}} away from Airflow's templating
        text="{% raw %}{{name}}, мы не дозвонились. Ждём вас завтра в {{time}}.{% endraw %}",
        unreached_of=CAMPAIGN,
        max_cost=MAX_COST,
    )

    sms_done = AutoCallSmsBulkSensor(
        task_id="wait_for_sms",
        bulk_id="{{ ti.xcom_pull(task_ids='sms_unreached')['bulk_id'] }}",
        deferrable=True,
        poke_interval=POKE_INTERVAL,
        timeout=6 * 3600,
    )

    messages = AutoCallSmsResultsToStorageOperator(
        task_id="export_sms_statuses",
        bulk_id="{{ ti.xcom_pull(task_ids='sms_unreached')['bulk_id'] }}",
        output_path=f"{OUTPUT_ROOT}/autocall/sms/{DAY}.jsonl",
    )

    sound >> moderation
    [contact_list, moderation] >> launch >> [calls, unreached_list, sms]
    sms >> sms_done >> messages
