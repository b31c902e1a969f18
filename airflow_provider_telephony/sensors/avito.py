"""Sensor that waits until Avito call recordings can be downloaded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator

from airflow_provider_telephony.core.operator_utils import default_deferrable, fail_fast, raise_for_event


class AvitoRecordingSensor(BaseSensorOperator):
    """Wait until the recordings of the given calls are ready (Avito answers 425 until then).

    "Not ready yet" (HTTP 425, code 1005) keeps waiting; any other error — unknown call, a call
    without a recording, rejected credentials — fails the task at once instead of waiting out the
    timeout.  With ``fail_on_missing=False`` a call without a recording (404, code 1004, which the
    API also answers for recordings older than its 3-month retention) is not waited for instead.  Works in ``poke`` and ``reschedule`` mode and, with ``deferrable=True`` (default from
    ``[operators] default_deferrable``), frees the worker while :class:`AvitoRecordingTrigger` waits.

    :param call_ids: calls to wait for (templated; e.g. an XCom list). Or:
    :param calls_path: an export written by ``AvitoCallsToStorageOperator`` (templated): waits for
        every *answered* call in it.
    :param fail_on_missing: fail when a call has no recording (default), or skip it.
    :param avito_conn_id: Airflow connection id.
    :param deferrable: wait in the triggerer instead of a worker slot.

    Returns (XCom) the list of call ids whose recordings are ready.
    """

    template_fields: Sequence[str] = ("call_ids", "calls_path")
    ui_color = "#b8e0d2"

    def __init__(
        self,
        *,
        call_ids: Any = None,
        calls_path: str | None = None,
        fail_on_missing: bool = True,
        avito_conn_id: str = "avito_default",
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", 60.0)
        super().__init__(**kwargs)
        self.call_ids = call_ids
        self.calls_path = calls_path
        self.fail_on_missing = fail_on_missing
        self.avito_conn_id = avito_conn_id
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self._ready_ids: set[int] = set()

    def _ids(self) -> list[int]:
        from airflow_provider_telephony.hooks.avito import resolve_call_ids

        return resolve_call_ids(self.call_ids, self.calls_path)

    def _pending(self, ids: list[int]) -> list[int]:
        """Ids whose recordings are not ready; ready ones are remembered between pokes of one process."""
        from airflow_provider_telephony.hooks.avito import AvitoHook

        ready = self._ready_ids
        with AvitoHook(self.avito_conn_id) as hook:
            for call_id in ids:
                if call_id not in ready and hook.recording_ready(
                    call_id, missing_ok=not self.fail_on_missing
                ):
                    ready.add(call_id)
        return [call_id for call_id in ids if call_id not in ready]

    @fail_fast
    def poke(self, context: Any) -> bool:
        ids = self._ids()
        pending = self._pending(ids)
        self.log.info("%d of %d recordings ready", len(ids) - len(pending), len(ids))
        return not pending

    @fail_fast
    def execute(self, context: Any) -> list[int]:
        ids = self._ids()
        if not self.deferrable:
            super().execute(context)
            return ids
        pending = self._pending(ids) if ids else []
        if pending:
            from airflow_provider_telephony.triggers.avito import AvitoRecordingTrigger

            self.log.info("%d of %d recordings not ready yet; deferring", len(pending), len(ids))
            self.defer(
                trigger=AvitoRecordingTrigger(
                    call_ids=pending,
                    avito_conn_id=self.avito_conn_id,
                    poke_interval=self.poke_interval,
                    fail_on_missing=self.fail_on_missing,
                ),
                method_name="execute_complete",
                timeout=timedelta(seconds=self.timeout),
            )
        return ids

    @fail_fast
    def execute_complete(self, context: Any, event: dict[str, Any]) -> list[int]:
        """Resume after the trigger fired: fail on its error (at once when it is permanent), else
        return every waited-for id."""
        raise_for_event(event, "waiting for recordings")
        return self._ids()
