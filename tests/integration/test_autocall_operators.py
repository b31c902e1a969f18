"""AutoCall operators and sensors against the sandbox, executed directly with a small context:
contact-list normalisation and rejects, the cost guard, moderation verdicts, exactly-once reuse,
flash-call marks.  (The whole pipeline under Airflow: tests/dags/test_example_autocall.py.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_telephony.sandbox import SandboxConfig, run_sandbox
from tests.conftest import conn_env

KEY_HEADERS: dict[str, str] = {}


class FakeTi:
    dag_id = "dag"
    task_id = "task"
    map_index = -1
    try_number = 1


class FakeStore:
    """``task_state_store`` as Airflow 3.3 offers it (get/set/delete)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any, *, retention: Any = None) -> None:
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


def context(store: FakeStore | None = None, day: int = 15) -> dict[str, Any]:
    ctx: dict[str, Any] = {"ti": FakeTi(), "logical_date": datetime(2026, 6, day, tzinfo=timezone.utc)}
    if store is not None:
        ctx["task_state_store"] = store
    return ctx


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[str, SandboxConfig]]:
    config = SandboxConfig(seed=9, autocall_history=False)
    with run_sandbox(config) as url:
        yield url, config


@pytest.fixture(autouse=True)
def _conn(sandbox: tuple[str, SandboxConfig], monkeypatch: pytest.MonkeyPatch) -> None:
    url, config = sandbox
    monkeypatch.setenv(
        *conn_env(
            "autocall_default", conn_type="autocall", host=f"{url}/api/v1", password=config.autocall_api_key
        )
    )
    from airflow_provider_telephony.hooks.autocall import FLASH_CALLS

    FLASH_CALLS.reset()


def created(url: str, kind: str) -> dict[str, int]:
    return httpx.get(f"{url}/__sandbox__/autocall/stats").json()["created"].get(kind, {})  # type: ignore[no-any-return]


def test_contact_list_normalises_rejects_and_appends_past_ten_thousand(
    sandbox: tuple[str, SandboxConfig], tmp_path: Path
) -> None:
    from airflow_provider_telephony.operators.autocall import AutoCallCreateContactListOperator

    rows = ["number,extra,variables", '8 (701) 000-00-01,A,"{""name"": ""A""}"', "+7 999 000 00 00,bad,"]
    rows += [f"+7701{n:07d}," for n in range(2, 10_006)]  # 10,004 more: one append
    rows += ["77010000002,duplicate,"]
    source = tmp_path / "contacts.csv"
    source.write_text("\n".join(rows) + "\n")
    op = AutoCallCreateContactListOperator(task_id="t", name="Big list", contacts_path=str(source))
    result = op.execute(context())
    assert result["contacts"] == 10_005 and result["rejected"] == 2
    from airflow.sdk import ObjectStoragePath

    rejects = [json.loads(x) for x in ObjectStoragePath(result["rejects_path"]).read_text().splitlines()]
    assert [r["row"] for r in rejects] == [2, 10_007]
    assert "Kazakh" in rejects[0]["reason"] and "duplicate" in rejects[1]["reason"]
    again = op.execute(context())  # a re-run: the list is found by its client_id, nothing appended twice
    assert again["list_id"] == result["list_id"]
    url, config = sandbox
    detail = httpx.get(
        f"{url}/api/v1/lists/{result['list_id']}",
        headers={"Authorization": f"Bearer {config.autocall_api_key}", "Accept": "application/json"},
    ).json()
    assert detail["contacts_count"] == 10_005


def test_the_cost_guard_refuses_before_anything_is_created(sandbox: tuple[str, SandboxConfig]) -> None:
    from airflow_provider_telephony.core.compat import airflow_fail_exception

    AirflowFailException = airflow_fail_exception()
    from airflow_provider_telephony.operators.autocall import AutoCallLaunchCampaignOperator

    url, _ = sandbox
    before = created(url, "autocalls")
    op = AutoCallLaunchCampaignOperator(
        task_id="launch",
        name="Too dear",
        list_id=["+77010000001", "+77010000002"],
        audio_id=[{"type": "synthesis", "data": {"text": "Здравствуйте"}}],
        max_cost=0.01,
    )
    with pytest.raises(AirflowFailException, match=r"CostGuardError.*exceeds max_cost"):
        op.execute(context())
    assert created(url, "autocalls") == before


def test_a_launch_is_reused_by_a_retry_and_waits_until_completed(sandbox: tuple[str, SandboxConfig]) -> None:
    from airflow_provider_telephony.operators.autocall import AutoCallLaunchCampaignOperator

    url, _ = sandbox
    store = FakeStore()
    op = AutoCallLaunchCampaignOperator(
        task_id="launch_once",
        name="Once",
        list_id=["+77010000003"],
        audio_id=[{"type": "synthesis", "data": {"text": "Здравствуйте"}}],
        options={"time_from": "00:00:00", "time_to": "23:59:59"},
        max_cost=10_000,
        wait_for_completion=True,
        deferrable=False,
        poke_interval=0.5,
    )
    first = op.execute(context(store, day=20))
    retry = op.execute(context(store, day=20))
    assert first["status"] == retry["status"] == "completed"
    assert retry["reused"] and retry["id"] == first["id"] == store.values["autocall_id"]
    assert created(url, "autocalls")[first["client_id"]] == 1


def test_a_denied_campaign_and_a_rejected_sound_fail_with_the_moderators_comment(
    sandbox: tuple[str, SandboxConfig],
) -> None:
    from airflow_provider_telephony.core.compat import airflow_fail_exception

    AirflowFailException = airflow_fail_exception()
    from airflow_provider_telephony.operators.autocall import (
        AutoCallCreateSoundOperator,
        AutoCallLaunchCampaignOperator,
    )
    from airflow_provider_telephony.sensors.autocall import (
        AutoCallCampaignSensor,
        AutoCallSoundModerationSensor,
    )

    sound = AutoCallCreateSoundOperator(task_id="sound", name="Bad [deny]", text="Текст [deny]").execute(
        context()
    )
    sensor = AutoCallSoundModerationSensor(
        task_id="s", sound_id=sound["id"], deferrable=False, poke_interval=0.2
    )
    with pytest.raises(AirflowFailException, match="rejected by the moderators"):
        sensor.execute(context())
    launch = AutoCallLaunchCampaignOperator(
        task_id="denied",
        name="Spam [deny]",
        list_id=["+77010000004"],
        audio_id=[{"type": "synthesis", "data": {"text": "Здравствуйте"}}],
        options={"time_from": "00:00:00", "time_to": "23:59:59"},
    ).execute(context(day=21))
    wait = AutoCallCampaignSensor(task_id="w", autocall_id=launch["id"], deferrable=False, poke_interval=0.2)
    with pytest.raises(AirflowFailException, match="denied by the moderators"):
        wait.execute(context())


def test_a_flash_call_is_never_placed_twice_even_after_a_lost_answer(
    sandbox: tuple[str, SandboxConfig],
) -> None:
    from airflow_provider_telephony.core.compat import airflow_fail_exception

    AirflowFailException = airflow_fail_exception()
    from airflow_provider_telephony.operators.autocall_sms import AutoCallFlashCallOperator

    url, _ = sandbox
    ok = AutoCallFlashCallOperator(task_id="otp", number="+77010000009").execute(context(FakeStore()))
    assert set(ok) == {"id"}  # the code is a secret: never in XCom
    store = FakeStore()
    httpx.post(
        f"{url}/__sandbox__/faults", json={"path_prefix": "/api/v1/flash-calls", "fault": "drop", "count": 1}
    )
    op = AutoCallFlashCallOperator(task_id="otp2", number="+77010000008")
    with pytest.raises(AirflowFailException, match="OutcomeUnknownError"):
        op.execute(context(store))  # the server placed it; the answer was lost
    with pytest.raises(AirflowFailException, match="not calling the subscriber again"):
        op.execute(context(store))  # the retry finds the mark
    by_number = httpx.get(f"{url}/__sandbox__/autocall/stats").json()["by_number"]["flash_calls"]
    assert sorted(by_number.values()) == [1, 1]


def test_a_rerun_appends_only_the_contacts_a_list_lacks(
    sandbox: tuple[str, SandboxConfig], tmp_path: Path
) -> None:
    from airflow_provider_telephony.hooks.autocall import AutoCallHook
    from airflow_provider_telephony.operators.autocall import AutoCallCreateContactListOperator

    numbers = [f"+7705{n:07d}" for n in range(1, 31)]
    op = AutoCallCreateContactListOperator(task_id="list2", name="Resume", contacts=numbers)
    first = op.execute(context(day=25))
    with AutoCallHook() as hook:
        some = next(iter(hook.iter_list_contacts(first["list_id"])))
        hook.delete_contact(some.id)  # the list lost one since
        again = op.execute(context(day=25))
        held = [c.number for c in hook.iter_list_contacts(first["list_id"])]
    assert again["list_id"] == first["list_id"]
    assert len(held) == len(set(held)) == len(numbers)  # nothing twice, nothing missing


def test_a_remembered_campaign_that_is_gone_falls_back_to_the_lookup(
    sandbox: tuple[str, SandboxConfig],
) -> None:
    from airflow_provider_telephony.operators.autocall import AutoCallLaunchCampaignOperator

    store = FakeStore()
    store.values["autocall_id"] = 999_999  # an id that no longer exists
    op = AutoCallLaunchCampaignOperator(
        task_id="launch_gone",
        name="Gone",
        list_id=["+77010000005"],
        audio_id=[{"type": "synthesis", "data": {"text": "Здравствуйте"}}],
        options={"time_from": "00:00:00", "time_to": "23:59:59"},
    )
    result = op.execute(context(store, day=26))
    assert not result["reused"] and store.values["autocall_id"] == result["id"]


def test_contacts_are_validated_before_any_request() -> None:
    from airflow_provider_telephony.operators.autocall_contacts import contact_of, normalise_number

    assert normalise_number("8 (701) 000-00-01") == "+77010000001"
    assert normalise_number("7010000001") == "+77010000001"
    assert contact_of({"number": "+77010000001", "variables": '{"name": "A"}'})["variables"] == {"name": "A"}
    for bad, reason in [
        ({"number": "+77060000001"}, "Kazakh"),  # 706: flash calls only, not lists
        ({"number": "+77010000001", "variables": "{not json"}, "JSON"),
        ({"number": "+77010000001", "variables": {"bad-name": "x"}}, "variable name"),
        ({"number": "+77010000001", "extra": "x" * 256}, "extra"),
    ]:
        with pytest.raises(ValueError, match=reason):
            contact_of(bad)
