"""Small helpers operators of every vendor share: deferrable default, progress logging, id lists."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_telephony.core.errors import RequestValidationError

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath
    from pydantic import BaseModel

    from airflow_provider_telephony.core.storage import WriteStats


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


def export_pages(
    pages: Iterable[Sequence[BaseModel]],
    path: ObjectStoragePath,
    fmt: str,
    model: type[BaseModel],
    *,
    log: logging.Logger | Any,
    what: str,
) -> WriteStats:
    """Stream ``pages`` into ``path`` (published atomically), logging progress; return what was written.

    Every export operator ends in this loop; the pages iterator is lazy, so a failing page leaves
    nothing published and memory holds one page at a time.
    """
    from airflow_provider_telephony.core.storage import open_records

    progress = Progress(log, what)
    with open_records(path, fmt, model) as writer:
        for page in pages:
            writer.write(page)
            progress.page(len(page), writer.stats.bytes)
    progress.done(writer.stats.bytes)
    return writer.stats
