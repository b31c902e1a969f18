"""Trigger that waits, without holding a worker, until Avito recordings are ready."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_telephony.core.aclients import aimport
from airflow_provider_telephony.core.errors import TelephonyError
from airflow_provider_telephony.core.operator_utils import error_event


class AvitoRecordingTrigger(BaseTrigger):
    """Polls ``getRecordByCallId`` for each call until every recording answers 200.

    Fires ``{"status": "success", "call_ids": [...]}`` once all are ready, or
    ``{"status": "error", "error_type": ..., "message": ...}`` on any error other than
    "not ready yet" (HTTP 425 / code 1005), e.g. an unknown call or rejected credentials.

    :param call_ids: calls whose recordings to wait for.
    :param avito_conn_id: Airflow connection id.
    :param poke_interval: seconds between rounds of checks.
    :param fail_on_missing: a call without a recording (404) is an error event (default), or is
        not waited for.
    """

    def __init__(
        self,
        call_ids: list[int],
        avito_conn_id: str = "avito_default",
        poke_interval: float = 60.0,
        fail_on_missing: bool = True,
    ) -> None:
        super().__init__()
        self.call_ids = [int(c) for c in call_ids]
        self.avito_conn_id = avito_conn_id
        self.poke_interval = float(poke_interval)
        self.fail_on_missing = bool(fail_on_missing)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "call_ids": self.call_ids,
                "avito_conn_id": self.avito_conn_id,
                "poke_interval": self.poke_interval,
                "fail_on_missing": self.fail_on_missing,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # the hook (pydantic models, httpx) is imported off the loop: this module stays cheap to load
        hooks = await aimport("airflow_provider_telephony.hooks.avito")
        hook = hooks.AvitoHook(self.avito_conn_id)
        pending = list(self.call_ids)
        try:
            while True:
                missing_ok = not self.fail_on_missing
                still = [c for c in pending if not await hook.arecording_ready(c, missing_ok=missing_ok)]
                if not still:
                    yield TriggerEvent({"status": "success", "call_ids": self.call_ids})
                    return
                if len(still) != len(pending):
                    self.log.info(
                        "%d of %d recordings ready", len(self.call_ids) - len(still), len(self.call_ids)
                    )
                pending = still
                await asyncio.sleep(self.poke_interval)
        except TelephonyError as exc:
            yield TriggerEvent(error_event(exc))
        finally:
            await hook.aclose()
