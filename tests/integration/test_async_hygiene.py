"""Triggers never block the triggerer's event loop, share one client and one token request.

Many triggers of one connection are run on one loop, as the triggerer runs them, under asyncio's
debug mode with a slow-callback threshold: any step that holds the loop longer than the threshold
(loading the connection, building an SSL context, masking a secret with a blocking call, importing
a module, a synchronous socket) is logged by asyncio and fails the test.  The sandbox runs in its own
process so that its work cannot be mistaken for ours.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from airflow_provider_telephony.core import aclients
from airflow_provider_telephony.hooks.avito import AvitoHook
from airflow_provider_telephony.sandbox import SandboxConfig
from airflow_provider_telephony.sandbox.avito import AvitoWorld
from airflow_provider_telephony.triggers.avito import AvitoRecordingTrigger
from tests.conftest import conn_env

#: a callback holding the loop longer than this is a blocking call
SLOW_CALLBACK = 0.05
TRIGGERS = 20
CONFIG = SandboxConfig(seed=21, recording_delay=0.0)


@pytest.fixture(scope="module")
def sandbox_process() -> Iterator[str]:
    """``telephony-sandbox serve`` in a subprocess; yields its URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_telephony.sandbox.cli",
            "serve",
            "--seed",
            str(CONFIG.seed),
            "--recording-delay",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "http://" in line, line
        yield line.strip().split()[-1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _ready_call_ids(count: int) -> list[int]:
    world = AvitoWorld(CONFIG)
    ids = [
        c["callId"] for c in world.calls[:3000] if c["talkDuration"] > 0 and not world.is_late(c["callId"])
    ]
    return ids[:count]


async def _first_event(trigger: AvitoRecordingTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


async def _run_all(triggers: list[AvitoRecordingTrigger]) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    loop.slow_callback_duration = SLOW_CALLBACK
    return await asyncio.gather(*(_first_event(t) for t in triggers))


def test_triggers_share_a_client_and_a_token_and_never_block_the_loop(
    monkeypatch: pytest.MonkeyPatch, sandbox_process: str, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(
        *conn_env(
            "avito_async",
            conn_type="avito",
            host=sandbox_process,
            login=CONFIG.avito_client_id,
            password=CONFIG.avito_client_secret,
        )
    )
    AvitoHook._tokens.clear()
    ids = _ready_call_ids(TRIGGERS)
    triggers = [AvitoRecordingTrigger(call_ids=[call_id], avito_conn_id="avito_async") for call_id in ids]
    before = httpx.get(f"{sandbox_process}/__sandbox__/avito/stats").json()["tokens_issued"]
    caplog.set_level(logging.WARNING, logger="asyncio")

    # a garbage collection of this long test session's heap is not the code under test: collect first
    # and keep the collector out of the measured run
    gc.collect()
    gc.disable()
    try:
        events = asyncio.run(_run_all(triggers), debug=True)
    finally:
        gc.enable()

    assert [e["status"] for e in events] == ["success"] * len(ids), events
    slow = [r.getMessage() for r in caplog.records if r.name == "asyncio" and "took" in r.getMessage()]
    assert not slow, f"blocking calls on the event loop: {slow}"
    after = httpx.get(f"{sandbox_process}/__sandbox__/avito/stats").json()["tokens_issued"]
    assert after - before == 1, "concurrent triggers of one connection make a single token request"
    assert aclients.open_clients() == 0, "every shared client was closed by its last user"


def test_a_hook_closes_its_async_client_with_async_with(
    monkeypatch: pytest.MonkeyPatch, sandbox_process: str
) -> None:
    monkeypatch.setenv(
        *conn_env(
            "avito_async",
            conn_type="avito",
            host=sandbox_process,
            login=CONFIG.avito_client_id,
            password=CONFIG.avito_client_secret,
        )
    )
    call_id = _ready_call_ids(1)[0]

    async def check() -> tuple[bool, int, int]:
        async with AvitoHook("avito_async") as first, AvitoHook("avito_async") as second:
            ready = await first.arecording_ready(call_id)
            await second.arecording_ready(call_id)
            assert (await first.aexchange())._aclient is (await second.aexchange())._aclient
            during = aclients.open_clients()
        return ready, during, aclients.open_clients()

    ready, during, after = asyncio.run(check())
    assert ready and during == 1 and after == 0
