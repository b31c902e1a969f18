"""Time windows for incremental exports: parsing, validation and splitting to vendor limits.

Windows are half-open, ``[start, end)``: consecutive data intervals then never export a call twice
nor miss one at the boundary.  Every datetime must carry a time zone; a naive value is refused
rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_telephony.core.errors import RequestValidationError

EMPTY_WINDOW_HINT = (
    "the window is empty (start == end). Airflow 3 cron schedules have zero-length data intervals by "
    "default: use a timetable with a real interval (CronDataIntervalTimetable, or CronTriggerTimetable(..., "
    "interval=timedelta(days=1))), pass window_start/window_end explicitly, or set lookback=timedelta(...)"
)


def parse_datetime(value: Any, field: str) -> datetime:
    """Accept a datetime (incl. pendulum) or an ISO-8601 string; require a time zone."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise RequestValidationError(
                field, "must be an ISO-8601 datetime with a time zone", value=value
            ) from None
    if not isinstance(value, datetime):
        raise RequestValidationError(field, "must be a datetime or an ISO-8601 string", value=value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise RequestValidationError(
            field, "must be time-zone aware (naive datetimes are ambiguous)", value=value
        )
    return value


def to_utc(value: datetime) -> datetime:
    """A plain stdlib UTC datetime (pendulum values lose their zone in arithmetic with timedelta)."""
    v = value.astimezone(timezone.utc)
    return datetime(v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Window:
    """A half-open time window ``[start, end)`` with aware datetimes."""

    start: datetime
    end: datetime

    @classmethod
    def of(
        cls, start: Any, end: Any, *, start_field: str = "window_start", end_field: str = "window_end"
    ) -> Window:
        """Validate and build a window; refuses naive values, end before start and empty windows."""
        s = parse_datetime(start, start_field)
        e = parse_datetime(end, end_field)
        if e < s:
            raise RequestValidationError(
                end_field, f"must not be before {start_field} ({s.isoformat()})", value=e.isoformat()
            )
        if e == s:
            raise RequestValidationError(end_field, EMPTY_WINDOW_HINT, value=e.isoformat())
        return cls(to_utc(s), to_utc(e))

    def split(self, max_span: timedelta) -> Iterator[Window]:
        """Consecutive sub-windows no longer than ``max_span`` that exactly cover this one."""
        cursor = self.start
        while cursor < self.end:
            nxt = min(cursor + max_span, self.end)
            yield Window(cursor, nxt)
            cursor = nxt

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def label(self) -> str:
        """A file-name friendly label, e.g. ``20260615T000000Z_20260616T000000Z``."""
        return f"{self.start:%Y%m%dT%H%M%SZ}_{self.end:%Y%m%dT%H%M%SZ}"

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def window_from_context(
    context: Any,
    start: Any = None,
    end: Any = None,
    lookback: timedelta | None = None,
) -> Window:
    """The export window: explicit ``start``/``end`` win, else the run's data interval.

    When the resulting window is empty and ``lookback`` is given, the window becomes
    ``[end - lookback, end)``; without ``lookback`` an empty window is an error that says how to fix it.
    """
    start = start if start not in (None, "") else context.get("data_interval_start")
    end = end if end not in (None, "") else context.get("data_interval_end")
    if end is None:
        raise RequestValidationError("window_end", "not given and the run has no data interval")
    if lookback is not None and (
        start is None or parse_datetime(start, "window_start") == parse_datetime(end, "window_end")
    ):
        end_dt = parse_datetime(end, "window_end")
        return Window.of(end_dt - lookback, end_dt)
    if start is None:
        raise RequestValidationError("window_start", "not given and the run has no data interval")
    return Window.of(start, end)
