"""The imports that moved between Airflow 3.1, 3.2 and 3.3 resolve on this Airflow, and their
fallbacks work when the newer location is missing (as on 3.1)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_telephony.core import compat, redact


def test_current_locations_resolve() -> None:
    assert issubclass(compat.airflow_fail_exception(), compat.airflow_exception())
    assert issubclass(compat.task_deferred(), BaseException)


@pytest.mark.parametrize(
    ("function", "name"),
    [
        (compat.airflow_fail_exception, "AirflowFailException"),
        (compat.airflow_exception, "AirflowException"),
        (compat.task_deferred, "TaskDeferred"),
    ],
)
def test_fallback_to_airflow_exceptions(monkeypatch: pytest.MonkeyPatch, function: Any, name: str) -> None:
    """Airflow 3.1 has these in ``airflow.exceptions`` only: the task SDK's module lacks them.

    (On 3.3 ``airflow.exceptions`` forwards to the task SDK, so 3.1's module is stood in for.)
    """
    import sys
    import types

    import airflow.sdk.exceptions

    legacy = types.ModuleType("airflow.exceptions")
    marker = type(name, (Exception,), {})
    setattr(legacy, name, marker)
    monkeypatch.delattr(airflow.sdk.exceptions, name, raising=False)
    monkeypatch.setitem(sys.modules, "airflow.exceptions", legacy)
    assert function() is marker


def test_masking_from_an_event_loop_never_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a running loop the supervisor is told with amask_secret (3.2+) or, without it (3.1), from a
    worker thread; never with the blocking mask_secret on the loop itself."""
    import threading

    from airflow.sdk import log as sdk_log

    calls: list[tuple[str, bool]] = []

    async def amask(value: Any, name: str | None = None) -> None:
        calls.append(("amask", threading.current_thread() is threading.main_thread()))

    def mask(value: Any, name: str | None = None) -> None:
        calls.append(("mask", threading.current_thread() is threading.main_thread()))

    monkeypatch.setattr(sdk_log, "mask_secret", mask)
    monkeypatch.setattr(sdk_log, "amask_secret", amask, raising=False)

    async def register(value: str) -> None:
        redact.register_secret(value)
        await asyncio.gather(*redact._pending)

    asyncio.run(register("first-loop-secret-1"))
    monkeypatch.delattr(sdk_log, "amask_secret")
    asyncio.run(register("second-loop-secret-2"))
    redact.register_secret("plain-task-secret-3")  # no loop: the ordinary call
    assert calls == [("amask", True), ("mask", False), ("mask", True)]
