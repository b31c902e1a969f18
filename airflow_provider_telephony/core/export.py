"""The base of every export operator: one time window of records to one file in object storage.

A vendor operator says which hook and which pages (:meth:`WindowExportOperator.export`); the base
validates everything before the first request, waits for late data when asked to (``settle``), and
builds the XCom summary, request statistics included.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_telephony.core.operator_utils import default_deferrable, fail_fast
from airflow_provider_telephony.core.windows import DEFAULT_MAX_WINDOW

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_telephony.core.exchange import ExchangeStats
    from airflow_provider_telephony.core.windows import Window
    from airflow_provider_telephony.core.writers import WriteStats

#: a window that would only settle more than this far in the future is a mistake, not a wait
MAX_SETTLE_WAIT = timedelta(days=1)


class WindowExportOperator(BaseOperator):
    """Export every record of a time window to one file (base class; vendors implement :meth:`export`).

    :param output_path: destination file (templated), any ObjectStoragePath URL
        (``file:///…``, ``s3://bucket/…``) or a local path; its extension must match ``output_format``.
    :param window_start: window start (templated, aware datetime or ISO-8601 with offset);
        default: ``data_interval_start``.
    :param window_end: window end, excluded (templated); default: ``data_interval_end``.
    :param lookback: when the window is empty (cron schedules have zero-length data intervals in
        Airflow 3), export ``[end - lookback, end)`` instead of failing.
    :param max_window: the longest window accepted (default 366 days); a longer one fails before any
        request, so a mistyped year cannot turn into hundreds of requests.
    :param settle: wait until the window ended at least this long ago before exporting it, for calls
        the vendor records late (``timedelta(minutes=30)``).  The window itself is unchanged: a run
        that starts earlier waits (deferred, freeing the worker, with ``deferrable=True``), so
        nothing is cut off and nothing is lost.
    :param output_format: ``jsonl`` (default), ``csv`` or ``parquet`` (needs the ``parquet`` extra).
    :param deferrable: wait for ``settle`` in the triggerer instead of a worker slot (default from
        ``[operators] default_deferrable``).
    """

    template_fields: Sequence[str] = ("output_path", "window_start", "window_end", "output_format")

    def __init__(
        self,
        *,
        output_path: str,
        window_start: Any = None,
        window_end: Any = None,
        lookback: timedelta | None = None,
        max_window: timedelta = DEFAULT_MAX_WINDOW,
        settle: timedelta | None = None,
        output_format: str = "jsonl",
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from airflow_provider_telephony.core.windows import check_lookback, check_max_window, check_settle

        self.output_path = output_path
        self.window_start = window_start
        self.window_end = window_end
        self.lookback = check_lookback(lookback)
        self.max_window = check_max_window(max_window)
        self.settle = check_settle(settle)
        self.output_format = output_format
        self.deferrable = default_deferrable() if deferrable is None else deferrable

    @fail_fast
    def execute(self, context: Any, event: Any = None) -> dict[str, Any] | None:
        """Validate everything, wait for the window to settle, then :meth:`export`.

        Also the method a ``settle`` deferral resumes in (``event`` is then the trigger's).
        """
        from airflow_provider_telephony.core.storage import check_format, check_output_path
        from airflow_provider_telephony.core.windows import window_from_context

        fmt = check_format(self.output_format)
        window = window_from_context(
            context, self.window_start, self.window_end, self.lookback, self.max_window
        )
        if self._wait_to_settle(window):
            return None
        path = check_output_path(self.output_path, fmt)
        return self.export(context, window, path, fmt)

    def export(self, context: Any, window: Window, path: ObjectStoragePath, fmt: str) -> dict[str, Any]:
        """Write the window's records to ``path``; return the summary (see :meth:`summary`)."""
        raise NotImplementedError

    def summary(
        self,
        path: ObjectStoragePath,
        fmt: str,
        window: Window,
        written: WriteStats,
        http: ExchangeStats,
        **extra: Any,
    ) -> dict[str, Any]:
        """The XCom every export returns: where, what, how much, and what it cost in requests."""
        return {
            "path": str(path),
            "format": fmt,
            "records": written.records,
            "bytes": written.bytes,
            "window": window.as_dict(),
            **extra,
            "http": http.as_dict(),
        }

    def _wait_to_settle(self, window: Window) -> bool:
        """Defer (or sleep) until ``window.end + settle``; True when the task deferred."""
        if self.settle is None:
            return False
        from airflow_provider_telephony.core.errors import RequestValidationError

        ready_at = window.end + self.settle
        wait = ready_at - datetime.now(timezone.utc)
        if wait <= timedelta(0):
            return False
        if wait > self.settle + MAX_SETTLE_WAIT:
            raise RequestValidationError(
                "window_end",
                f"is more than {MAX_SETTLE_WAIT} in the future: with settle={self.settle} the export would "
                "wait until then",
                value=window.end.isoformat(),
            )
        self.log.info("waiting until %s (window end + settle %s) for late records", ready_at, self.settle)
        if self.deferrable:
            from airflow.providers.standard.triggers.temporal import DateTimeTrigger

            self.defer(trigger=DateTimeTrigger(moment=ready_at), method_name="execute")
            return True  # pragma: no cover - defer() raises TaskDeferred
        import time

        time.sleep(wait.total_seconds())
        return False
