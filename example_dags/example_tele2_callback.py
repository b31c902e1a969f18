"""Tele2 PBX callback: ring an agent and connect a customer, archive the conversation, make the
agent the customer's personal manager.

Triggered by hand (or by another system through the REST API) with ``customer`` (7XXXXXXXXXX) and
optionally ``agent`` (an employee's federal number; default: the first employee with one):

1. ``Tele2ClickToCallOperator`` places the call once — a retry never rings the customer twice;
2. ``Tele2RecordingSensor`` waits (deferred, no worker slot) until the call's recording exists;
3. ``Tele2DownloadRecordingsOperator`` stores it with its transcript;
4. ``Tele2ManagersSyncOperator`` adds the customer to the agent's personal customers, so the
   customer's next call goes straight to the agent.

Try it against the sandbox: ``airflow dags test example_tele2_callback`` (with
``-c '{"customer": "79990000123"}'``), or ``make demo``.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_telephony.operators.tele2 import (
    Tele2ClickToCallOperator,
    Tele2DownloadRecordingsOperator,
)
from airflow_provider_telephony.operators.tele2_sync import Tele2ManagersSyncOperator
from airflow_provider_telephony.sensors.tele2 import Tele2RecordingSensor

OUTPUT_ROOT = os.environ.get("TELEPHONY_OUTPUT_ROOT") or f"file://{tempfile.gettempdir()}/telephony-output"
POKE_INTERVAL = float(os.environ.get("TELEPHONY_POKE_INTERVAL", "30"))
PLACED = "ti.xcom_pull(task_ids='click_to_call')['at']"

with DAG(
    dag_id="example_tele2_callback",
    description="Call a customer back through the PBX, archive the call, assign a personal manager",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    params={
        "customer": Param("79990000123", type="string", pattern=r"^7\d{10}$"),
        "agent": Param("", type="string", description="employee's 7XXXXXXXXXX; empty: the first one"),
    },
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1), "execution_timeout": timedelta(hours=1)},
    tags=["telephony", "tele2", "example"],
) as dag:

    @task
    def pick_agent(params: dict[str, Any]) -> dict[str, Any]:
        """The agent who calls: the ``agent`` param, or the first employee with a federal number."""
        from airflow_provider_telephony.hooks.tele2 import Tele2AtsHook

        with Tele2AtsHook() as hook:
            employees = [e for e in hook.get_employees() if e.fullNumber]
        if params["agent"]:
            agent = next((e for e in employees if e.fullNumber == params["agent"]), None)
            if agent is None:
                raise ValueError("agent: no PBX employee has this number")
        elif employees:
            agent = employees[0]
        else:
            raise ValueError("agent: the PBX lists no employee with a federal number")
        name = " ".join(p for p in (agent.name, agent.surname) if p) or f"employee {agent.employeeId}"
        return {"employeeId": agent.employeeId, "number": agent.fullNumber, "name": name}

    agent = pick_agent()

    call = Tele2ClickToCallOperator(
        task_id="click_to_call",
        source="{{ ti.xcom_pull(task_ids='pick_agent')['number'] }}",
        destination="{{ params.customer }}",
        retries=3,  # safe: a retry never rings the customer a second time
    )

    wait_recording = Tele2RecordingSensor(
        task_id="wait_for_recording",
        caller="{{ ti.xcom_pull(task_ids='pick_agent')['number'] }}",
        callee="{{ params.customer }}",
        # from the moment the call was placed, for two hours
        window_start=f"{{{{ {PLACED} }}}}",
        window_end=f"{{{{ (macros.datetime.fromisoformat({PLACED}) + macros.timedelta(hours=2)).isoformat() }}}}",
        poke_interval=POKE_INTERVAL,
        timeout=2 * 3600,
        deferrable=True,
    )

    archive = Tele2DownloadRecordingsOperator(
        task_id="archive_recording",
        file_names=wait_recording.output,
        destination=f"{OUTPUT_ROOT}/tele2/callbacks",
        transcripts=True,
    )

    @task
    def desired_manager(agent: dict[str, Any], params: dict[str, Any]) -> list[dict[str, Any]]:
        """The agent's manager entry with the customer added to the customers it already has."""
        from airflow_provider_telephony.hooks.tele2 import Tele2AtsHook

        with Tele2AtsHook() as hook:
            current = next((m for m in hook.list_managers() if m.employeeId == agent["employeeId"]), None)
        customers = [
            {
                k: v
                for k, v in c.model_dump().items()
                if k in ("name", "realNumber", "companyName", "info", "isVip") and v is not None
            }
            for c in (current.customers if current else [])
            if c.realNumber
        ]
        if all(c["realNumber"] != params["customer"] for c in customers):
            customers.append({"name": "Callback customer", "realNumber": params["customer"]})
        return [
            {
                "employeeId": agent["employeeId"],
                "name": current.name if current and current.name else agent["name"],
                "customers": customers,
                "handleAllCustomers": bool(current and current.handleAllCustomers),
            }
        ]

    assign = Tele2ManagersSyncOperator(task_id="assign_personal_manager", managers=desired_manager(agent))

    agent >> call >> wait_recording >> archive >> assign
