"""Tele2 ATS operators: call records, recordings and transcripts, statistics, click-to-call.

The blacklist and personal-manager synchronisations are in :mod:`.tele2_sync`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_telephony.core.export import WindowExportOperator
from airflow_provider_telephony.core.operator_utils import Progress, export_pages, fail_fast

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_telephony.core.records import Page
    from airflow_provider_telephony.core.windows import Window

UI_COLOR = "#c7b8ea"


class Tele2CallRecordsToStorageOperator(WindowExportOperator):
    """Export every call record of a time window (``GET /call-records/info``) to one file in storage.

    Records are paged (``page``/``size``, until a short page) in date order, written as Tele2 sent
    them, and published over ``output_path`` only when complete.  Records dated exactly at the
    window's end belong to the next window.  Returns a summary (XCom): path, counts — ``recorded``
    is how many have a record file — and request statistics.

    Arguments shared by every export (``output_path``, ``window_start``, ``window_end``,
    ``lookback``, ``max_window``, ``settle``, ``output_format``, ``deferrable``) are described in
    :class:`~airflow_provider_telephony.core.export.WindowExportOperator`.

    :param caller: only calls from this number (``7XXXXXXXXXX``, templated).
    :param callee: only calls that this number answered or ended at (templated).  With both, only
        calls between the two.
    :param is_recorded: only calls whose conversation was recorded.
    :param page_size: records per request (1..1000; the document sets no maximum).
    :param tele2_conn_id: Airflow connection id.
    """

    template_fields: Sequence[str] = (*WindowExportOperator.template_fields, "caller", "callee")
    ui_color = UI_COLOR

    def __init__(
        self,
        *,
        caller: str | None = None,
        callee: str | None = None,
        is_recorded: bool | None = None,
        page_size: int | None = None,
        tele2_conn_id: str = "tele2_ats_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from airflow_provider_telephony.models.tele2 import DEFAULT_PAGE_SIZE

        self.caller = caller
        self.callee = callee
        self.is_recorded = is_recorded
        self.page_size = DEFAULT_PAGE_SIZE if page_size is None else page_size
        self.tele2_conn_id = tele2_conn_id

    def export(self, context: Any, window: Window, path: ObjectStoragePath, fmt: str) -> dict[str, Any]:
        from airflow_provider_telephony.hooks.tele2 import CALL_RECORDS_SCHEMA, Tele2AtsHook

        filters: dict[str, Any] = {"size": self.page_size}
        for name in ("caller", "callee", "is_recorded"):
            if getattr(self, name) not in (None, ""):
                filters[name] = getattr(self, name)
        self.log.info("exporting Tele2 call records %s .. %s to %s (%s)", window.start, window.end, path, fmt)
        recorded = 0

        def counted(pages: Iterator[Page]) -> Iterator[Page]:
            nonlocal recorded
            for page in pages:
                recorded += sum(1 for record in page.typed or () if record.recordFileName)
                yield page

        with Tele2AtsHook(self.tele2_conn_id) as hook:
            pages = hook.iter_raw_call_record_pages(window.start, window.end, **filters)
            written = export_pages(
                counted(pages), path, fmt, CALL_RECORDS_SCHEMA, log=self.log, what="callRecordsInfo"
            )
            return self.summary(path, fmt, window, written, hook.exchange.stats, recorded=recorded)


class Tele2StatisticsToStorageOperator(WindowExportOperator):
    """Write the PBX's call statistics of a window (``GET /statistics/common``) to one file.

    One record for the whole company and one per number in ``numbers`` (each with
    ``subscriberNumber``), each with ``subject`` (``"company"`` or the number), ``start``, ``end``
    and every figure Tele2 returns, unknown ones included.  Published atomically like every export.

    :param numbers: PBX numbers (``7XXXXXXXXXX``) to report one by one as well (templated).
    :param company: include the company-wide record (default True).
    :param tele2_conn_id: Airflow connection id.
    """

    template_fields: Sequence[str] = (*WindowExportOperator.template_fields, "numbers")
    ui_color = UI_COLOR

    def __init__(
        self,
        *,
        numbers: Sequence[str] | None = None,
        company: bool = True,
        tele2_conn_id: str = "tele2_ats_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.numbers = numbers
        self.company = company
        self.tele2_conn_id = tele2_conn_id

    def _subjects(self) -> list[str | None]:
        from airflow_provider_telephony.core.errors import RequestValidationError
        from airflow_provider_telephony.hooks.tele2 import check_phone_field

        numbers = self.numbers or []
        if isinstance(numbers, str) or not isinstance(numbers, list | tuple):
            raise RequestValidationError("numbers", "must be a list of numbers (7XXXXXXXXXX)", value=numbers)
        subjects: list[str | None] = [None] if self.company else []
        subjects += [check_phone_field(n, f"numbers[{i}]") for i, n in enumerate(numbers)]
        if not subjects:
            raise RequestValidationError("numbers", "is empty and company=False: nothing to report")
        return subjects

    def export(self, context: Any, window: Window, path: ObjectStoragePath, fmt: str) -> dict[str, Any]:
        from airflow_provider_telephony.core.records import Page, RecordSchema
        from airflow_provider_telephony.hooks.tele2 import Tele2AtsHook
        from airflow_provider_telephony.models.tele2 import StatisticsRecord

        subjects = self._subjects()
        records = []
        with Tele2AtsHook(self.tele2_conn_id) as hook:
            for number in subjects:
                stats = hook.get_common_statistics(window.start, window.end, subscriber_number=number)
                records.append(
                    {
                        "subject": number or "company",
                        "start": window.start.isoformat(),
                        "end": window.end.isoformat(),
                        **stats.model_dump(mode="json"),
                    }
                )
            schema = RecordSchema(StatisticsRecord)
            written = export_pages(
                [Page.from_records(records)], path, fmt, schema, log=self.log, what="statistics"
            )
            return self.summary(path, fmt, window, written, hook.exchange.stats)


class Tele2DownloadRecordingsOperator(BaseOperator):
    """Download call recordings (mp3) — and optionally their transcripts — into a folder in storage.

    Each record file ``<day>/<name>`` becomes ``<destination>/<day>/<name>.mp3`` (and, with
    ``transcripts=True``, ``<day>/<name>.json``: the word list with channel A = caller, B = called).
    Files already present are skipped, so a retry or re-run fetches only what is missing; each
    file is streamed and published only when complete.  A record the PBX no longer has (404) does
    not stop the others: it is listed in the summary.

    :param destination: folder (templated) — ObjectStoragePath URL or local path.
    :param file_names: record file names (templated; e.g. an XCom list). Or:
    :param records_path: an export of :class:`Tele2CallRecordsToStorageOperator` (templated): every
        record in it with a file name.
    :param transcripts: also save each record's transcript.
    :param tele2_conn_id: Airflow connection id.
    """

    template_fields: Sequence[str] = ("destination", "file_names", "records_path")
    ui_color = UI_COLOR

    def __init__(
        self,
        *,
        destination: str,
        file_names: Any = None,
        records_path: str | None = None,
        transcripts: bool = False,
        tele2_conn_id: str = "tele2_ats_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.destination = destination
        self.file_names = file_names
        self.records_path = records_path
        self.transcripts = transcripts
        self.tele2_conn_id = tele2_conn_id

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        import json

        from airflow_provider_telephony.core.errors import NotFoundError
        from airflow_provider_telephony.core.storage import atomic_output, check_output_folder
        from airflow_provider_telephony.hooks.tele2 import Tele2AtsHook, record_file_names

        names = record_file_names(self.file_names, self.records_path)
        folder = check_output_folder(self.destination)
        summary: dict[str, Any] = {
            "destination": str(folder),
            "requested": len(names),
            "downloaded": 0,
            "transcripts": 0,
            "skipped_existing": 0,
            "bytes": 0,
            "missing": [],
        }
        progress = Progress(self.log, "recordings")
        with Tele2AtsHook(self.tele2_conn_id) as hook:
            for name in names:
                audio, text = folder / f"{name}.mp3", folder / f"{name}.json"
                try:
                    if audio.exists():
                        summary["skipped_existing"] += 1
                    else:
                        summary["bytes"] += hook.download_record(name, audio)
                        summary["downloaded"] += 1
                    if self.transcripts and not text.exists():
                        words = hook.get_transcript(name)
                        with atomic_output(text) as out:
                            out.write(
                                json.dumps(
                                    [w.model_dump(mode="json") for w in words], ensure_ascii=False
                                ).encode()
                            )
                        summary["transcripts"] += 1
                except NotFoundError:
                    summary["missing"].append(name)
                    continue
                progress.page(1, summary["bytes"])
            summary["http"] = hook.exchange.stats.as_dict()
        progress.done(summary["bytes"])
        self.log.info(
            "recordings: %d downloaded, %d already present, %d transcripts, %d missing",
            summary["downloaded"],
            summary["skipped_existing"],
            summary["transcripts"],
            len(summary["missing"]),
        )
        if summary["missing"]:
            self.log.warning("no record file on the PBX for: %s", summary["missing"])
        return summary


#: the key of the click-to-call marker in ``task_state_store`` (Airflow 3.3+)
CLICK_TO_CALL_KEY = "tele2_click_to_call"


class Tele2ClickToCallOperator(BaseOperator):
    """Ring an employee's phone, then connect the customer (``POST /call/outgoing``) — once.

    A call reaches a person, so it is never sent twice:

    * inside one try, a request whose answer was lost (timeout, reset, 5xx) is not re-sent
      (``OutcomeUnknownError``, which fails the task without retries);
    * across tries (a worker killed mid-request, a cleared task): where Airflow offers
      ``task_state_store`` (3.3+), the try marks the call *before* sending it, and a later try that
      finds the mark does not send again — it reports the call it finds in the PBX (a call in
      progress between the two numbers, or a call record since the mark), or fails with what to
      check.  Without a mark (no store on Airflow 3.1/3.2, or none kept) a later try first looks
      for such a call since the DAG run started and sends only when there is none — any call
      between the two numbers counts, so an unrelated one in that time also stops it.

    :param destination: the customer's number, ``7XXXXXXXXXX`` (templated).
    :param source: the employee's number that rings first, ``7XXXXXXXXXX`` (templated).
    :param tele2_conn_id: Airflow connection id.

    Returns ``{"sent": bool, "at": ISO time the call was placed (or first tried), "evidence": …}``
    (numbers are not returned: they are personal data).
    """

    template_fields: Sequence[str] = ("destination", "source")
    ui_color = UI_COLOR

    def __init__(
        self, *, destination: str, source: str, tele2_conn_id: str = "tele2_ats_default", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.destination = destination
        self.source = source
        self.tele2_conn_id = tele2_conn_id

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_telephony.core.errors import OutcomeUnknownError, TelephonyError
        from airflow_provider_telephony.core.retry import surely_not_applied
        from airflow_provider_telephony.core.validation import build_request
        from airflow_provider_telephony.hooks.tele2 import Tele2AtsHook
        from airflow_provider_telephony.models.tele2 import ClickToCall

        call = build_request(ClickToCall, destination=self.destination, source=self.source)
        store = context.get("task_state_store")
        with Tele2AtsHook(self.tele2_conn_id) as hook:
            mark = store.get(CLICK_TO_CALL_KEY) if store is not None else None
            since = _earlier_try_start(context, mark)
            if since is not None:
                evidence = hook.find_call_between(call.source, call.destination, since)
                if evidence is not None:
                    self.log.info("an earlier try already placed this call (%s); not calling again", evidence)
                    return {"sent": False, "at": since.isoformat(), "evidence": evidence}
                if mark is not None:
                    raise OutcomeUnknownError(
                        f"clickToCall: an earlier try of this task sent the call at {mark['at']} and its outcome "
                        "was not recorded; no call between the two numbers is visible in the PBX. Not calling "
                        "again: check the PBX call journal, then trigger a new DAG run to call anew"
                    )
            at = datetime.now(timezone.utc).isoformat()
            if store is not None:
                store.set(CLICK_TO_CALL_KEY, {"at": at}, retention=_KEEP_MARK)
            try:
                hook.click_to_call(call.destination, call.source)
            except TelephonyError as exc:
                if store is not None and surely_not_applied(exc):
                    store.delete(CLICK_TO_CALL_KEY)  # refused or never sent: a later try may call
                raise
            self.log.info("click-to-call placed")
            return {"sent": True, "at": at, "evidence": None}


#: how long the click-to-call mark outlives the try (longer than any retry schedule)
_KEEP_MARK = timedelta(days=30)


def _earlier_try_start(context: Any, mark: dict[str, Any] | None) -> datetime | None:
    """Since when to look for a call an earlier try placed: the store's mark, or — for a try after
    the first without one (no store on Airflow 3.1/3.2, or a mark that expired) — the DAG run's
    start; ``None`` for a first try."""
    if mark is not None:
        return datetime.fromisoformat(mark["at"])
    ti = context.get("ti")
    if ti is None or int(getattr(ti, "try_number", 1) or 1) <= 1:
        return None
    dag_run = context.get("dag_run")
    started = getattr(dag_run, "start_date", None) if dag_run is not None else None
    return started if isinstance(started, datetime) else None
