"""CallKeeper (ckct.ru) operators: export the calls of a time window to object storage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseOperator

from airflow_provider_telephony.core.operator_utils import export_pages, fail_fast
from airflow_provider_telephony.core.windows import DEFAULT_MAX_WINDOW


class CallKeeperCallsToStorageOperator(BaseOperator):
    """Export every CallKeeper call of a time window to one file in object storage (API v3 or v1).

    The window defaults to the run's data interval and is half-open, ``[start, end)``: it is sent as
    inclusive whole seconds ``ceil(start) .. ceil(end) - 1``, so consecutive runs neither overlap nor
    leave gaps.  Pages stream into a temporary file published over ``output_path`` only when complete;
    a re-run overwrites, a failure leaves nothing that looks finished.  Returns a small summary (XCom):
    path, format, record count, bytes, window, version and method — never the key, never a URL.

    Records keep the vendor's field names: v3 calls
    (:class:`~airflow_provider_telephony.models.callkeeper.V3Call`) or v1 calls
    (:class:`~airflow_provider_telephony.models.callkeeper.V1Call`), the latter identical whichever
    ``response_format`` carried them.

    :param output_path: destination file (templated), any ObjectStoragePath URL
        (``file:///…``, ``s3://bucket/…``) or a local path.
    :param window_start: window start (templated, aware datetime or ISO-8601 with offset);
        default: ``data_interval_start``.
    :param window_end: window end (templated); default: ``data_interval_end``.
    :param lookback: when the window is empty (cron schedules have zero-length data intervals in
        Airflow 3), export ``[end - lookback, end)`` instead of failing.
    :param max_window: the longest window accepted (default 366 days); a longer one fails before any
        request.
    :param method: ``getWithRole`` (default: own calls and those granted by a role), ``get`` (own) or
        ``getByRole`` (granted by a role; in v3 it needs the connection extra ``role_api_key``).  In v1
        these read the entities ``call`` and/or ``callrole``.
    :param api_version: ``v3`` or ``v1``; ``None`` (default) uses the connection's ``api_version``.
    :param response_format: v1 only — ``json`` (default), ``xml``, ``csv`` or ``plain``; v3 answers json.
    :param output_format: ``jsonl`` (default), ``csv`` or ``parquet`` (needs the ``parquet`` extra);
        ``output_path`` must end in the format's extension.
    :param callkeeper_conn_id: Airflow connection id.
    """

    template_fields: Sequence[str] = ("output_path", "window_start", "window_end", "output_format")
    ui_color = "#f2c48d"

    def __init__(
        self,
        *,
        output_path: str,
        window_start: Any = None,
        window_end: Any = None,
        lookback: timedelta | None = None,
        max_window: timedelta = DEFAULT_MAX_WINDOW,
        method: str = "getWithRole",
        api_version: str | None = None,
        response_format: str = "json",
        output_format: str = "jsonl",
        callkeeper_conn_id: str = "callkeeper_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from airflow_provider_telephony.core.windows import check_lookback, check_max_window
        from airflow_provider_telephony.hooks.callkeeper import (
            check_api_version,
            check_method,
            check_response_format,
        )

        # refuse what can be refused at parse time (the connection's version is known only at run time)
        self.method = check_method(method)
        self.api_version = check_api_version(api_version) if api_version is not None else None
        self.response_format = check_response_format(response_format, self.api_version)
        self.output_path = output_path
        self.window_start = window_start
        self.window_end = window_end
        self.lookback = check_lookback(lookback)
        self.max_window = check_max_window(max_window)
        self.output_format = output_format
        self.callkeeper_conn_id = callkeeper_conn_id

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_telephony.core.storage import check_format, check_output_path
        from airflow_provider_telephony.core.windows import window_from_context
        from airflow_provider_telephony.hooks.callkeeper import CallKeeperHook

        # everything is validated, and the first request defined, before the output file is opened
        fmt = check_format(self.output_format)
        window = window_from_context(
            context, self.window_start, self.window_end, self.lookback, self.max_window
        )
        path = check_output_path(self.output_path, fmt)
        with CallKeeperHook(self.callkeeper_conn_id, api_version=self.api_version) as hook:
            version = hook.api_version
            pages = hook.iter_call_pages(
                window.start,
                window.end,
                method=self.method,
                api_version=version,
                response_format=self.response_format,
            )
            what = f"CallKeeper {version} {self.method}"
            self.log.info(
                "exporting %s calls %s .. %s%s to %s (%s)",
                what,
                window.start,
                window.end,
                f" as {self.response_format}" if version == "v1" else "",
                path,
                fmt,
            )
            stats = export_pages(pages, path, fmt, hook.call_model(version), log=self.log, what=what)
        return {
            "path": str(path),
            "format": fmt,
            "records": stats.records,
            "bytes": stats.bytes,
            "window": window.as_dict(),
            "api_version": version,
            "method": self.method,
            "response_format": self.response_format if version == "v1" else "json",
        }
