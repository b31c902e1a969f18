"""Small helpers operators of every vendor share: fail-fast errors, trigger events, deferrable default,
progress logging, id lists."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_telephony.core.errors import RequestValidationError, TelephonyError

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_telephony.core.records import Page, RecordSchema
    from airflow_provider_telephony.core.writers import WriteStats


F = TypeVar("F", bound=Callable[..., Any])


def fail_fast(method: F) -> F:
    """Decorate ``execute``/``poke``/``execute_complete``: a *permanent* error fails the task at once.

    Configuration errors, arguments refused before sending, the vendor's validation errors and final
    authentication errors cannot be cured by waiting: they become ``AirflowFailException`` (the
    original error is its ``__cause__``), so the task does not sit out its retries before saying
    what is wrong.  Transient errors (server errors, timeouts, rate limits) pass through unchanged
    and use Airflow's retries as usual.
    """

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except TelephonyError as exc:
            if not exc.permanent:
                raise
            from airflow_provider_telephony.core.compat import airflow_fail_exception

            raise airflow_fail_exception()(f"{type(exc).__name__}: {exc} (not retried)") from exc

    return wrapper  # type: ignore[return-value]


def error_event(exc: TelephonyError) -> dict[str, Any]:
    """The payload of a trigger's error event (the message is already redacted)."""
    return {
        "status": "error",
        "error_type": type(exc).__name__,
        "message": str(exc),
        "permanent": bool(exc.permanent),
    }


def raise_for_event(event: dict[str, Any] | None, what: str) -> None:
    """Re-raise a trigger's error event in the task: fail at once when the error was permanent,
    else as an ordinary failure Airflow may retry."""
    if event is not None and event.get("status") == "success":
        return
    from airflow_provider_telephony.core.compat import airflow_exception, airflow_fail_exception

    event = event or {}
    message = f"{what} failed: {event.get('error_type', 'unknown error')}: {event.get('message', '')}"
    if event.get("permanent"):
        raise airflow_fail_exception()(message + " (not retried)")
    raise airflow_exception()(message)


def default_deferrable() -> bool:
    """``[operators] default_deferrable`` from the Airflow config (False when unset)."""
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # pragma: no cover - older task SDK
        from airflow.configuration import conf
    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))


def positive_ids(values: Any, field: str) -> list[int]:
    """Validate a list of ids (ints or digit strings) into unique positive ints, order kept."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise RequestValidationError(field, "must be a list of positive integers", value=values)
    seen: dict[int, None] = {}
    for value in values:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise RequestValidationError(field, "must contain only positive integers", value=value) from None
        if number < 1 or isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise RequestValidationError(field, "must contain only positive integers", value=value)
        seen[number] = None
    return list(seen)


class Progress:
    """Logs long work at a sensible rate: at most every ``every`` seconds, plus a final line."""

    def __init__(self, log: logging.Logger | Any, what: str, every: float = 10.0) -> None:
        self.log = log
        self.what = what
        self.every = every
        self.started = time.monotonic()
        self._last = self.started
        self.pages = 0
        self.records = 0

    def page(self, records: int, bytes_written: int) -> None:
        self.pages += 1
        self.records += records
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self.log.info(
                "%s: %d pages, %d records, %.1f KiB so far (%.0f records/s)",
                self.what,
                self.pages,
                self.records,
                bytes_written / 1024,
                self.records / max(now - self.started, 1e-6),
            )

    def done(self, bytes_written: int) -> None:
        elapsed = time.monotonic() - self.started
        self.log.info(
            "%s: finished, %d pages, %d records, %.1f KiB in %.1fs",
            self.what,
            self.pages,
            self.records,
            bytes_written / 1024,
            elapsed,
        )


#: allocations between collections of the youngest generation while an export runs (Python: 700)
YOUNG_COLLECTION = 100_000


def export_pages(
    pages: Iterable[Page],
    path: ObjectStoragePath,
    fmt: str,
    schema: RecordSchema,
    *,
    log: logging.Logger | Any,
    what: str,
) -> WriteStats:
    """Stream ``pages`` into ``path`` (published atomically), logging progress; return what was written.

    Every export operator ends in this loop; the pages iterator is lazy, so a failing page leaves
    nothing published and memory holds one page at a time.
    """
    import gc

    from airflow_provider_telephony.core.writers import open_records

    progress = Progress(log, what)
    # Pages are many short-lived containers, freed by reference counting; the cyclic collector only
    # has to see them when it runs while they are alive.  So while exporting: what the process held
    # before (Airflow's own state, most of the heap) is moved out of the collector's reach, and the
    # youngest generation collects after 100,000 allocations instead of 700 (a page's records are
    # freed long before).  Both are undone at the end; cyclic garbage is still collected meanwhile.
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], YOUNG_COLLECTION), *thresholds[1:])
    try:
        with open_records(path, fmt, schema) as writer:
            for page in pages:
                writer.write(page)
                progress.page(len(page), writer.stats.bytes)
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
    progress.done(writer.stats.bytes)
    return writer.stats


def default_client_id(context: Any, *, prefix: str = "airflow") -> str:
    """Our id for a write this task instance makes, the same for every try and every re-run of the
    same date: from the DAG, the task, the map index and the logical date (the run id where a run
    has none — a manual run without a date).  Vendors cap ids (AutoCall: 60 characters), so it is
    ``<prefix>-`` and 40 hex digits of a SHA-256."""
    import hashlib

    ti = context.get("ti")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "")
    task_id = getattr(ti, "task_id", "")
    map_index = getattr(ti, "map_index", -1)
    moment = context.get("logical_date") or context.get("data_interval_start")
    run = moment.isoformat() if moment is not None else str(context.get("run_id", ""))
    key = f"{dag_id}|{task_id}|{map_index}|{run}"
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:40]}"
