"""Triggers that wait for Avito recordings without holding a worker slot.

* :class:`AvitoRecordingTrigger` waits until recordings *can* be downloaded (the sensor's trigger).
* :class:`AvitoRecordingDownloadTrigger` downloads each recording in the very request that finds it
  ready — ``getRecordByCallId`` is both the readiness check and the download — so a recording costs
  one request, not a check and then a download (the deferrable download operator's trigger).

Both poll their pending calls concurrently, every request through the connection's rate limiter
(shared by every trigger of the connection on the triggerer's event loop), so many triggers stay
within the vendor's quota together.  Neither blocks the event loop: the hook is imported, the HTTP
client built and storage written in worker threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_telephony.core.aclients import aimport
from airflow_provider_telephony.core.errors import NotFoundError, NotReadyError, TelephonyError
from airflow_provider_telephony.core.operator_utils import error_event

HOOK_MODULE = "airflow_provider_telephony.hooks.avito"


class AvitoRecordingTrigger(BaseTrigger):
    """Polls ``getRecordByCallId`` for each call until every recording answers 200.

    Fires ``{"status": "success", "call_ids": [...]}`` once all are ready, or
    ``{"status": "error", "error_type": ..., "message": ..., "permanent": ...}`` on any error other
    than "not ready yet" (HTTP 425 / code 1005), e.g. an unknown call or rejected credentials.

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
        hooks = await aimport(HOOK_MODULE)  # pydantic models, httpx: imported off the loop
        pending = list(self.call_ids)
        missing_ok = not self.fail_on_missing
        async with hooks.AvitoHook(self.avito_conn_id) as hook:
            try:
                while True:
                    ready = await asyncio.gather(
                        *(hook.arecording_ready(c, missing_ok=missing_ok) for c in pending)
                    )
                    still = [call_id for call_id, done in zip(pending, ready, strict=True) if not done]
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


class AvitoRecordingDownloadTrigger(BaseTrigger):
    """Downloads recordings as they become ready: each poll of a pending call is also its download.

    Every ``poke_interval`` seconds, each pending call is requested once (concurrently, within the
    connection's quota): a 200 streams the recording to ``<destination>/<callId>.mp3`` (published
    atomically), a 425 keeps it pending, a 404 marks it missing.  Fires one event when nothing is
    pending or at ``give_up_at`` — the bound on the total wait — with what is still not ready:
    ``{"status": "success", "downloaded": {"<callId>": bytes, ...}, "missing": [...], "not_ready": [...],
    "requests": N}``,
    or an error event (``{"status": "error", ...}``) on any other error.

    :param call_ids: calls whose recordings to download.
    :param destination: folder (ObjectStoragePath URL); the triggerer must be able to write it.
    :param avito_conn_id: Airflow connection id.
    :param poke_interval: seconds between rounds.
    :param give_up_at: ISO-8601 instant after which the remaining calls are reported not ready.
    :param carry: anything the deferring task wants back; returned unchanged in the event as ``carry``.
    """

    def __init__(
        self,
        call_ids: list[int],
        destination: str,
        give_up_at: str,
        avito_conn_id: str = "avito_default",
        poke_interval: float = 60.0,
        carry: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.carry = dict(carry or {})
        self.call_ids = [int(c) for c in call_ids]
        self.destination = str(destination)
        self.give_up_at = str(give_up_at)
        self.avito_conn_id = avito_conn_id
        self.poke_interval = float(poke_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "call_ids": self.call_ids,
                "destination": self.destination,
                "give_up_at": self.give_up_at,
                "avito_conn_id": self.avito_conn_id,
                "poke_interval": self.poke_interval,
                "carry": self.carry,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hooks = await aimport(HOOK_MODULE)
        storage = await aimport("airflow_provider_telephony.core.storage")
        folder = await asyncio.to_thread(storage.as_storage_path, self.destination)
        give_up_at = datetime.fromisoformat(self.give_up_at)
        pending = list(self.call_ids)
        downloaded: dict[str, int] = {}
        missing: list[int] = []

        async def fetch(hook: Any, call_id: int) -> int | None:
            """The recording's size once downloaded, ``None`` while not ready, ``-1`` when missing."""
            try:
                size: int = await hook.adownload_recording(call_id, folder / f"{call_id}.mp3")
            except NotReadyError:
                return None
            except NotFoundError:
                return -1
            return size

        async with hooks.AvitoHook(self.avito_conn_id) as hook:
            try:
                while pending:
                    results = await asyncio.gather(*(fetch(hook, c) for c in pending))
                    still = []
                    for call_id, size in zip(pending, results, strict=True):
                        if size is None:
                            still.append(call_id)
                        elif size < 0:
                            missing.append(call_id)
                        else:
                            downloaded[str(call_id)] = size
                    if len(still) != len(pending):
                        self.log.info(
                            "%d of %d recordings downloaded, %d not ready yet",
                            len(downloaded),
                            len(self.call_ids),
                            len(still),
                        )
                    pending = still
                    wake = datetime.now(timezone.utc).timestamp() + self.poke_interval
                    if not pending or wake > give_up_at.timestamp():
                        break
                    await asyncio.sleep(self.poke_interval)
            except TelephonyError as exc:
                yield TriggerEvent({**error_event(exc), "carry": self.carry})
                return
            requests = hook.exchange.stats.requests
        yield TriggerEvent(
            {
                "status": "success",
                "downloaded": downloaded,
                "missing": missing,
                "not_ready": pending,
                "requests": requests,
                "carry": self.carry,
            }
        )
