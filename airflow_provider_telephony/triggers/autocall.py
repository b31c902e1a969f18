"""Trigger that waits, without a worker slot, for an AutoCall.kz campaign, SMS mailing or sound.

One trigger serves the three waits, since they differ only in what is read and what counts as
done: :func:`verdict` is the rule, shared with the sensors' ``poke`` so deferred and non-deferred
waits decide alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_telephony.core.aclients import aimport
from airflow_provider_telephony.core.errors import TelephonyError, VendorError
from airflow_provider_telephony.core.operator_utils import error_event

HOOK_MODULE = "airflow_provider_telephony.hooks.autocall"
#: what can be waited for, and the hook method (sync name; ``a`` + it is the async twin) that reads it
KINDS = {"autocall": "get_autocall", "bulk": "get_bulk", "sound": "get_sound"}
DONE, WAIT, REFUSED = "done", "wait", "refused"
#: transient read failures in a row (each after the hook's own retries) before the wait gives up
MAX_FAILED_READS = 10


class AutoCallRefusedError(VendorError):
    """The moderators denied a campaign or mailing, or rejected a sound: waiting cannot help."""

    _permanent = True


def verdict(kind: str, obj: Any) -> tuple[str, str]:
    """``(DONE | WAIT | REFUSED, what to tell)`` for a campaign, mailing or sound as read.

    Campaigns and mailings: ``completed`` is done, ``denied`` refused (with the moderator's
    comment), ``moderation``/``awaiting``/``running`` wait.  Sounds: ``confirmed`` is done; not
    confirmed but with a moderator's comment is rejected; otherwise still in moderation.
    """
    if kind == "sound":
        if obj.confirmed:
            return DONE, "approved"
        if obj.comment:
            return REFUSED, f"sound {obj.id} was rejected by the moderators: {obj.comment}"
        return WAIT, "in moderation"
    status = obj.status or "unknown"
    if status == "completed":
        return DONE, status
    if status == "denied":
        comment = getattr(obj, "comment", None) or "no comment given"
        return REFUSED, f"{kind} {obj.id} was denied by the moderators: {comment}"
    return WAIT, status


class AutoCallStatusTrigger(BaseTrigger):
    """Polls a campaign (``kind="autocall"``), SMS mailing (``"bulk"``) or sound (``"sound"``)
    until :func:`verdict` says done or refused.

    Fires ``{"status": "success", "kind", "id", "state", "carry"}``, or an error event
    (``{"status": "error", "error_type", "message", "permanent"}``) when refused or on any error.

    :param kind: ``autocall``, ``bulk`` or ``sound``.
    :param object_id: its id.
    :param autocall_conn_id: Airflow connection id.
    :param poke_interval: seconds between reads.
    :param carry: anything the deferring task wants back; returned unchanged in the event as ``carry``.
    """

    def __init__(
        self,
        kind: str,
        object_id: int,
        autocall_conn_id: str = "autocall_default",
        poke_interval: float = 60.0,
        carry: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.carry = dict(carry or {})
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}")
        self.kind = kind
        self.object_id = int(object_id)
        self.autocall_conn_id = autocall_conn_id
        self.poke_interval = float(poke_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "kind": self.kind,
                "object_id": self.object_id,
                "autocall_conn_id": self.autocall_conn_id,
                "poke_interval": self.poke_interval,
                "carry": self.carry,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hooks = await aimport(HOOK_MODULE)  # pydantic models, httpx: imported off the loop
        async with hooks.AutoCallHook(self.autocall_conn_id) as hook:
            read = getattr(hook, "a" + KINDS[self.kind])
            last = ""
            failures = 0
            try:
                while True:
                    try:
                        state, told = verdict(self.kind, await read(self.object_id))
                    except TelephonyError as exc:
                        # the hook already retried it; a long wait outlives a bad minute of the vendor's
                        failures += 1
                        if not exc.retryable or failures > MAX_FAILED_READS:
                            raise
                        self.log.warning(
                            "reading %s %d failed (%s); trying again", self.kind, self.object_id, exc
                        )
                        await asyncio.sleep(self.poke_interval)
                        continue
                    failures = 0
                    if state == DONE:
                        yield TriggerEvent(
                            {
                                "status": "success",
                                "kind": self.kind,
                                "id": self.object_id,
                                "state": told,
                                "carry": self.carry,
                            }
                        )
                        return
                    if state == REFUSED:
                        raise AutoCallRefusedError(told)
                    if told != last:
                        self.log.info("%s %d: %s", self.kind, self.object_id, told)
                        last = told
                    await asyncio.sleep(self.poke_interval)
            except TelephonyError as exc:
                yield TriggerEvent({**error_event(exc), "carry": self.carry})
