"""Avito CallTracking operators: export calls to storage, download recordings."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_telephony.core.export import WindowExportOperator
from airflow_provider_telephony.core.operator_utils import Progress, export_pages, fail_fast

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_telephony.core.windows import Window


class AvitoCallsToStorageOperator(WindowExportOperator):
    """Export every call of a time window to one file in object storage.

    The window defaults to the run's data interval and is half-open, ``[start, end)``, so
    consecutive runs neither overlap nor leave gaps; it is split into requests the API accepts
    (≤ 3 months each, pages of ``page_size`` ≤ 100).  Records stream page by page into a temporary
    file that is published over ``output_path`` only when complete, so a re-run overwrites and a
    failure leaves nothing that looks finished.  Returns a small summary (XCom), never the data.

    Arguments shared by every export (``output_path``, ``window_start``, ``window_end``,
    ``lookback``, ``max_window``, ``settle``, ``output_format``, ``deferrable``) are described in
    :class:`~airflow_provider_telephony.core.export.WindowExportOperator`.

    :param page_size: calls per request, 1..100.
    :param avito_conn_id: Airflow connection id.
    """

    ui_color = "#97d8c4"

    def __init__(self, *, page_size: int = 100, avito_conn_id: str = "avito_default", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        from airflow_provider_telephony.hooks.avito import check_page_size

        self.page_size = check_page_size(page_size)
        self.avito_conn_id = avito_conn_id

    def export(self, context: Any, window: Window, path: ObjectStoragePath, fmt: str) -> dict[str, Any]:
        from airflow_provider_telephony.hooks.avito import AvitoHook
        from airflow_provider_telephony.models.avito import AvitoCall

        self.log.info("exporting Avito calls %s .. %s to %s (%s)", window.start, window.end, path, fmt)
        answered = 0

        def counted(pages: Iterator[list[AvitoCall]]) -> Iterator[list[AvitoCall]]:
            nonlocal answered
            for page in pages:
                answered += sum(1 for call in page if call.talk_duration > 0)
                yield page

        with AvitoHook(self.avito_conn_id) as hook:
            pages = hook.iter_call_pages(window.start, window.end, page_size=self.page_size)
            written = export_pages(counted(pages), path, fmt, AvitoCall, log=self.log, what="getCalls")
            return self.summary(path, fmt, window, written, hook.exchange.stats, answered=answered)


class AvitoDownloadRecordingsOperator(BaseOperator):
    """Download call recordings (audio/mpeg) into a folder in object storage, one ``<callId>.mp3`` each.

    Files already present are skipped, so a retry or re-run only fetches what is missing.  A
    recording that is not ready yet (HTTP 425) or does not exist (404) does not stop the others:
    they are listed in the summary and the log.  With ``fail_on_not_ready=True`` the task fails
    after downloading everything else, so an Airflow retry picks up the rest later.

    :param destination: folder (templated) — ObjectStoragePath URL or local path.
    :param call_ids: calls to fetch (templated; e.g. the sensor's XCom). Or:
    :param calls_path: an export file of ``AvitoCallsToStorageOperator`` (templated): every
        answered call in it.
    :param fail_on_not_ready: fail when any recording was not ready.
    :param avito_conn_id: Airflow connection id.

    Returns a summary: counts, bytes, and the ids not ready / missing.
    """

    template_fields: Sequence[str] = ("destination", "call_ids", "calls_path")
    ui_color = "#97d8c4"

    def __init__(
        self,
        *,
        destination: str,
        call_ids: Any = None,
        calls_path: str | None = None,
        fail_on_not_ready: bool = False,
        avito_conn_id: str = "avito_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.destination = destination
        self.call_ids = call_ids
        self.calls_path = calls_path
        self.fail_on_not_ready = fail_on_not_ready
        self.avito_conn_id = avito_conn_id

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_telephony.core.errors import NotFoundError, NotReadyError
        from airflow_provider_telephony.core.storage import check_output_folder
        from airflow_provider_telephony.hooks.avito import AvitoHook, resolve_call_ids

        ids = resolve_call_ids(self.call_ids, self.calls_path)
        folder = check_output_folder(self.destination)
        downloaded = skipped = total_bytes = 0
        not_ready: list[int] = []
        missing: list[int] = []
        progress = Progress(self.log, "recordings")
        with AvitoHook(self.avito_conn_id) as hook:
            for call_id in ids:
                target = folder / f"{call_id}.mp3"
                if target.exists():
                    skipped += 1
                    continue
                try:
                    size = hook.download_recording(call_id, target)
                except NotReadyError:
                    not_ready.append(call_id)
                    continue
                except NotFoundError:
                    missing.append(call_id)
                    continue
                downloaded += 1
                total_bytes += size
                progress.page(1, total_bytes)
        progress.done(total_bytes)
        self.log.info(
            "recordings: %d downloaded, %d already present, %d not ready yet, %d missing",
            downloaded,
            skipped,
            len(not_ready),
            len(missing),
        )
        if not_ready:
            self.log.warning("recordings not ready yet for calls: %s", not_ready)
        if missing:
            self.log.warning("no recording exists for calls: %s", missing)
        summary = {
            "destination": str(folder),
            "requested": len(ids),
            "downloaded": downloaded,
            "skipped_existing": skipped,
            "bytes": total_bytes,
            "not_ready": not_ready,
            "missing": missing,
        }
        if not_ready and self.fail_on_not_ready:
            from airflow_provider_telephony.core.compat import airflow_exception

            raise airflow_exception()(f"{len(not_ready)} recordings not ready yet: {not_ready}")
        return summary
