"""Sensor that waits until a Tele2 call has a record file (its recording can be downloaded)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator

from airflow_provider_telephony.core.operator_utils import default_deferrable, fail_fast, raise_for_event


class Tele2RecordingSensor(BaseSensorOperator):
    """Wait until a call matching ``caller`` / ``callee`` in a time window has a record file.

    Polls ``GET /call-records/info`` (``is_recorded=true``).  Works in ``poke`` and ``reschedule``
    mode and, with ``deferrable=True`` (default from ``[operators] default_deferrable``), frees the
    worker while :class:`~airflow_provider_telephony.triggers.tele2.Tele2RecordingTrigger` waits.
    Errors other than "nothing yet" (rejected credentials, a dead token pair, bad arguments) fail
    the task at once instead of waiting out the timeout.

    :param caller: the calling number, ``7XXXXXXXXXX`` (templated).
    :param callee: the number that answered (templated).  At least one of the two.
    :param window_start: window start (templated; default ``data_interval_start``).
    :param window_end: window end, excluded (templated; default ``data_interval_end``).
    :param tele2_conn_id: Airflow connection id.
    :param deferrable: wait in the triggerer instead of a worker slot.

    Returns (XCom) the record file names found — feed them to ``Tele2DownloadRecordingsOperator``.
    """

    template_fields: Sequence[str] = ("caller", "callee", "window_start", "window_end")
    ui_color = "#d8cdf0"

    def __init__(
        self,
        *,
        caller: str | None = None,
        callee: str | None = None,
        window_start: Any = None,
        window_end: Any = None,
        tele2_conn_id: str = "tele2_ats_default",
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", 60.0)
        super().__init__(**kwargs)
        self.caller = caller
        self.callee = callee
        self.window_start = window_start
        self.window_end = window_end
        self.tele2_conn_id = tele2_conn_id
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self._found: list[str] = []

    def _query(self, context: Any) -> tuple[Any, dict[str, Any]]:
        from airflow_provider_telephony.core.errors import RequestValidationError
        from airflow_provider_telephony.core.windows import window_from_context
        from airflow_provider_telephony.hooks.tele2 import check_phone_field

        if self.caller in (None, "") and self.callee in (None, ""):
            raise RequestValidationError("caller", "give caller, callee or both")
        numbers = {
            name: check_phone_field(getattr(self, name), name)
            for name in ("caller", "callee")
            if getattr(self, name) not in (None, "")
        }
        return window_from_context(context, self.window_start, self.window_end), numbers

    @fail_fast
    def poke(self, context: Any) -> bool:
        from airflow_provider_telephony.hooks.tele2 import Tele2AtsHook

        window, numbers = self._query(context)
        with Tele2AtsHook(self.tele2_conn_id) as hook:
            self._found = hook.recorded_file_names(window.start, window.end, **numbers)
        self.log.info("%d matching recorded calls", len(self._found))
        return bool(self._found)

    @fail_fast
    def execute(self, context: Any) -> list[str]:
        if not self.deferrable:
            super().execute(context)
            return self._found
        if self.poke(context):
            return self._found
        from airflow_provider_telephony.triggers.tele2 import Tele2RecordingTrigger

        window, numbers = self._query(context)
        self.log.info("no recorded call yet; deferring")
        self.defer(
            trigger=Tele2RecordingTrigger(
                start=window.start.isoformat(),
                end=window.end.isoformat(),
                tele2_conn_id=self.tele2_conn_id,
                poke_interval=self.poke_interval,
                **numbers,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )
        return []  # pragma: no cover - defer() raises TaskDeferred

    @fail_fast
    def execute_complete(self, context: Any, event: dict[str, Any]) -> list[str]:
        """Resume after the trigger fired: fail on its error, else return the record file names."""
        raise_for_event(event, "waiting for a recorded call")
        return [str(name) for name in event.get("file_names", [])]
