"""CallKeeper (ckct.ru) operators: export the calls of a time window to object storage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_telephony.core.export import WindowExportOperator
from airflow_provider_telephony.core.operator_utils import export_pages

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_telephony.core.windows import Window


class CallKeeperCallsToStorageOperator(WindowExportOperator):
    """Export every CallKeeper call of a time window to one file in object storage (API v3 or v1).

    The window defaults to the run's data interval and is half-open, ``[start, end)``: it is sent as
    inclusive whole seconds ``ceil(start) .. ceil(end) - 1``, so consecutive runs neither overlap nor
    leave gaps.  Pages stream into a temporary file published over ``output_path`` only when complete;
    a re-run overwrites, a failure leaves nothing that looks finished.  Returns a small summary (XCom):
    path, format, record count, bytes, window, version, method and request statistics — never the
    key, never a URL.

    Records keep the vendor's field names: v3 calls
    (:class:`~airflow_provider_telephony.models.callkeeper.V3Call`) or v1 calls
    (:class:`~airflow_provider_telephony.models.callkeeper.V1Call`), the latter identical whichever
    ``response_format`` carried them.

    Arguments shared by every export (``output_path``, ``window_start``, ``window_end``,
    ``lookback``, ``max_window``, ``settle``, ``output_format``, ``deferrable``) are described in
    :class:`~airflow_provider_telephony.core.export.WindowExportOperator`.

    :param method: ``getWithRole`` (default: own calls and those granted by a role), ``get`` (own) or
        ``getByRole`` (granted by a role; in v3 it needs the connection extra ``role_api_key``).  In v1
        these read the entities ``call`` and/or ``callrole``.
    :param api_version: ``v3`` or ``v1``; ``None`` (default) uses the connection's ``api_version``.
    :param response_format: v1 only — ``json`` (default), ``xml``, ``csv`` or ``plain``; v3 answers json.
    :param callkeeper_conn_id: Airflow connection id.
    """

    ui_color = "#f2c48d"

    def __init__(
        self,
        *,
        method: str = "getWithRole",
        api_version: str | None = None,
        response_format: str = "json",
        callkeeper_conn_id: str = "callkeeper_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from airflow_provider_telephony.hooks.callkeeper import (
            check_api_version,
            check_method,
            check_response_format,
        )

        # refuse what can be refused at parse time (the connection's version is known only at run time)
        self.method = check_method(method)
        self.api_version = check_api_version(api_version) if api_version is not None else None
        self.response_format = check_response_format(response_format, self.api_version)
        self.callkeeper_conn_id = callkeeper_conn_id

    def export(self, context: Any, window: Window, path: ObjectStoragePath, fmt: str) -> dict[str, Any]:
        from airflow_provider_telephony.hooks.callkeeper import CallKeeperHook

        with CallKeeperHook(self.callkeeper_conn_id, api_version=self.api_version) as hook:
            version = hook.api_version
            # the first request is defined (version, method and key checked) before the file is opened
            pages = hook.iter_raw_call_pages(
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
            written = export_pages(pages, path, fmt, hook.call_schema(version), log=self.log, what=what)
            return self.summary(
                path,
                fmt,
                window,
                written,
                hook.exchange.stats,
                api_version=version,
                method=self.method,
                response_format=self.response_format if version == "v1" else "json",
            )
