"""Trigger that waits, without a worker slot, until a Tele2 call has a record file.

It polls ``GET /call-records/info`` with ``is_recorded=true`` and the call's numbers through the
connection's rotating token pair (the same shared store the workers use; store reads run in a
worker thread) and never blocks the triggerer's event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_telephony.core.aclients import aimport
from airflow_provider_telephony.core.errors import TelephonyError
from airflow_provider_telephony.core.operator_utils import error_event

HOOK_MODULE = "airflow_provider_telephony.hooks.tele2"
#: records asked for per poll: only whether there is one matters
POLL_PAGE_SIZE = 100


class Tele2RecordingTrigger(BaseTrigger):
    """Polls until a call between ``caller`` and/or ``callee`` in ``[start, end)`` has a record file.

    Fires ``{"status": "success", "file_names": [...]}`` (every matching record file found), or an
    error event (``{"status": "error", "error_type", "message", "permanent"}``) on any error.

    :param start: window start, ISO-8601 with offset.
    :param end: window end, ISO-8601 with offset.
    :param caller: the calling number (``7XXXXXXXXXX``) or ``None``.
    :param callee: the answering number or ``None``.
    :param tele2_conn_id: Airflow connection id.
    :param poke_interval: seconds between polls.
    """

    def __init__(
        self,
        start: str,
        end: str,
        caller: str | None = None,
        callee: str | None = None,
        tele2_conn_id: str = "tele2_ats_default",
        poke_interval: float = 60.0,
    ) -> None:
        super().__init__()
        self.start = str(start)
        self.end = str(end)
        self.caller = caller
        self.callee = callee
        self.tele2_conn_id = tele2_conn_id
        self.poke_interval = float(poke_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "start": self.start,
                "end": self.end,
                "caller": self.caller,
                "callee": self.callee,
                "tele2_conn_id": self.tele2_conn_id,
                "poke_interval": self.poke_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hooks = await aimport(HOOK_MODULE)  # pydantic models, httpx: imported off the loop
        start, end = datetime.fromisoformat(self.start), datetime.fromisoformat(self.end)
        async with hooks.Tele2AtsHook(self.tele2_conn_id) as hook:
            try:
                while True:
                    names = await hook.arecorded_file_names(
                        start, end, caller=self.caller, callee=self.callee
                    )
                    if names:
                        yield TriggerEvent({"status": "success", "file_names": names})
                        return
                    await asyncio.sleep(self.poke_interval)
            except TelephonyError as exc:
                yield TriggerEvent(error_event(exc))
