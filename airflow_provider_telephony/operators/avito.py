"""Avito CallTracking operators: export calls to storage, download recordings."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_telephony.core.export import WindowExportOperator
from airflow_provider_telephony.core.operator_utils import (
    Progress,
    default_deferrable,
    export_pages,
    fail_fast,
    raise_for_event,
)

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_telephony.core.records import Page
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
        from airflow_provider_telephony.hooks.avito import CALLS, AvitoHook, answered

        self.log.info("exporting Avito calls %s .. %s to %s (%s)", window.start, window.end, path, fmt)
        answered_calls = 0

        def counted(pages: Iterator[Page]) -> Iterator[Page]:
            nonlocal answered_calls
            for page in pages:
                answered_calls += answered(page)
                yield page

        with AvitoHook(self.avito_conn_id) as hook:
            pages = hook.iter_raw_pages(window.start, window.end, page_size=self.page_size)
            written = export_pages(counted(pages), path, fmt, CALLS, log=self.log, what="getCalls")
            return self.summary(path, fmt, window, written, hook.exchange.stats, answered=answered_calls)


class AvitoDownloadRecordingsOperator(BaseOperator):
    """Download call recordings (audio/mpeg) into a folder in object storage, one ``<callId>.mp3`` each.

    ``getRecordByCallId`` is both Avito's readiness check and the download, so each recording is
    fetched in the request that finds it ready: one request per recording, no sensor needed.  Files
    already present are skipped, so a retry or re-run only fetches what is missing.  A recording that
    does not exist (404) does not stop the others: it is listed in the summary.

    Recordings not ready yet (HTTP 425; Avito prepares them up to about 30 minutes after a call):

    * with ``deferrable=True`` (default from ``[operators] default_deferrable``) the task defers:
      :class:`~airflow_provider_telephony.triggers.avito.AvitoRecordingDownloadTrigger` polls them
      every ``poke_interval`` seconds in the triggerer and downloads each as soon as it is ready,
      for at most ``max_wait``; the worker slot is free meanwhile;
    * otherwise they are listed as not ready.

    Either way, with ``fail_on_not_ready=True`` the task fails if any is still not ready at the
    end (after downloading everything else), so an Airflow retry picks up the rest later.

    :param destination: folder (templated) — ObjectStoragePath URL or local path.
    :param call_ids: calls to fetch (templated; e.g. an XCom list). Or:
    :param calls_path: an export file of ``AvitoCallsToStorageOperator`` (templated): every
        answered call in it.
    :param deferrable: wait for recordings not ready yet in the triggerer.
    :param poke_interval: seconds between rounds of requests while deferred.
    :param max_wait: the longest the task waits for recordings (deferred), as a ``timedelta``.
    :param fail_on_not_ready: fail when any recording was still not ready.
    :param avito_conn_id: Airflow connection id.

    Returns a summary: counts, bytes, the ids not ready / missing, and request statistics.
    """

    template_fields: Sequence[str] = ("destination", "call_ids", "calls_path")
    ui_color = "#97d8c4"

    def __init__(
        self,
        *,
        destination: str,
        call_ids: Any = None,
        calls_path: str | None = None,
        deferrable: bool | None = None,
        poke_interval: float = 60.0,
        max_wait: timedelta = timedelta(hours=3),
        fail_on_not_ready: bool = False,
        avito_conn_id: str = "avito_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from airflow_provider_telephony.core.errors import RequestValidationError

        if not isinstance(max_wait, timedelta) or max_wait <= timedelta(0):
            raise RequestValidationError("max_wait", "must be a positive timedelta", value=max_wait)
        if (
            isinstance(poke_interval, bool)
            or not isinstance(poke_interval, int | float)
            or poke_interval <= 0
        ):
            raise RequestValidationError(
                "poke_interval", "must be a positive number of seconds", value=poke_interval
            )
        self.destination = destination
        self.call_ids = call_ids
        self.calls_path = calls_path
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poke_interval = float(poke_interval)
        self.max_wait = max_wait
        self.fail_on_not_ready = fail_on_not_ready
        self.avito_conn_id = avito_conn_id

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any] | None:
        from airflow_provider_telephony.core.errors import NotFoundError, NotReadyError
        from airflow_provider_telephony.core.storage import check_output_folder
        from airflow_provider_telephony.hooks.avito import AvitoHook, resolve_call_ids

        ids = resolve_call_ids(self.call_ids, self.calls_path)
        folder = check_output_folder(self.destination)
        summary = _Summary(str(folder), len(ids))
        progress = Progress(self.log, "recordings")
        with AvitoHook(self.avito_conn_id) as hook:
            for call_id in ids:
                target = folder / f"{call_id}.mp3"
                if target.exists():
                    summary.skipped += 1
                    continue
                try:
                    summary.add(call_id, hook.download_recording(call_id, target))
                except NotReadyError:
                    summary.not_ready.append(call_id)
                    continue
                except NotFoundError:
                    summary.missing.append(call_id)
                    continue
                progress.page(1, summary.bytes)
            summary.requests += hook.exchange.stats.requests
        progress.done(summary.bytes)
        if summary.not_ready and self.deferrable:
            from airflow_provider_telephony.triggers.avito import AvitoRecordingDownloadTrigger

            give_up_at = datetime.now(timezone.utc) + self.max_wait
            self.log.info(
                "%d recordings not ready yet; deferring (downloading each when ready, until %s)",
                len(summary.not_ready),
                give_up_at.isoformat(),
            )
            self.defer(
                trigger=AvitoRecordingDownloadTrigger(
                    call_ids=summary.not_ready,
                    destination=str(folder),
                    give_up_at=give_up_at.isoformat(),
                    avito_conn_id=self.avito_conn_id,
                    poke_interval=self.poke_interval,
                    carry=summary.as_dict(),  # the first round, merged in execute_complete
                ),
                method_name="execute_complete",
                # the trigger reports at give_up_at itself; this only catches a triggerer that died
                timeout=self.max_wait + timedelta(minutes=10),
            )
        return self._finish(summary)

    @fail_fast
    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger: merge what it downloaded into the first round's summary."""
        raise_for_event(event, "downloading recordings")
        merged = _Summary.from_dict(event["carry"])
        merged.not_ready = []
        for call_id, size in event.get("downloaded", {}).items():
            merged.add(int(call_id), int(size))
        merged.missing += [int(c) for c in event.get("missing", [])]
        merged.not_ready = [int(c) for c in event.get("not_ready", [])]
        merged.requests += int(event.get("requests", 0))
        return self._finish(merged, deferred=True)

    def _finish(self, summary: _Summary, *, deferred: bool = False) -> dict[str, Any]:
        self.log.info(
            "recordings: %d downloaded, %d already present, %d not ready%s, %d missing",
            summary.downloaded,
            summary.skipped,
            len(summary.not_ready),
            " after waiting" if deferred else " yet",
            len(summary.missing),
        )
        if summary.not_ready:
            self.log.warning("recordings not ready for calls: %s", summary.not_ready)
        if summary.missing:
            self.log.warning("no recording exists for calls: %s", summary.missing)
        if summary.not_ready and self.fail_on_not_ready:
            from airflow_provider_telephony.core.compat import airflow_exception

            raise airflow_exception()(f"{len(summary.not_ready)} recordings not ready: {summary.not_ready}")
        return summary.as_dict()


@dataclass
class _Summary:
    """What a download run did (the operator's XCom)."""

    destination: str
    requested: int
    downloaded: int = 0
    skipped: int = 0
    bytes: int = 0
    requests: int = 0
    not_ready: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)

    def add(self, call_id: int, size: int) -> None:
        self.downloaded += 1
        self.bytes += size

    def as_dict(self) -> dict[str, Any]:
        return {
            "destination": self.destination,
            "requested": self.requested,
            "downloaded": self.downloaded,
            "skipped_existing": self.skipped,
            "bytes": self.bytes,
            "not_ready": list(self.not_ready),
            "missing": list(self.missing),
            "requests": self.requests,  # getRecordByCallId (and token) requests, deferred ones included
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Summary:
        return cls(
            destination=data["destination"],
            requested=data["requested"],
            downloaded=data["downloaded"],
            skipped=data["skipped_existing"],
            bytes=data["bytes"],
            requests=data.get("requests", 0),
            not_ready=list(data["not_ready"]),
            missing=list(data["missing"]),
        )
