"""AutoCall.kz flash call: verify a phone number by a missed call whose last digits are the code.

Triggered with ``number`` (``+7XXXXXXXXXX``).  The code the subscriber must type is a secret: it is
masked in every log line and not put in XCom (an application that checks it calls the hook's
``send_flash_call`` itself and keeps the code).  A flash call reaches a person: it is never sent
twice, and the operator keeps to the document's 3 attempts per number per 5 minutes.

Try it against the sandbox: ``airflow dags test example_autocall_flash_call``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, Param

from airflow_provider_telephony.operators.autocall_sms import AutoCallFlashCallOperator

with DAG(
    dag_id="example_autocall_flash_call",
    description="Verify a number with a flash call",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    params={"number": Param("+77010000001", type="string", pattern=r"^\+7\d{10}$")},
    # a retry would be refused anyway (a flash call is never sent twice): fail fast and visibly
    default_args={"retries": 0, "execution_timeout": timedelta(minutes=5)},
    tags=["telephony", "autocall", "example"],
) as dag:
    AutoCallFlashCallOperator(task_id="flash_call", number="{{ params.number }}", digits=6)
