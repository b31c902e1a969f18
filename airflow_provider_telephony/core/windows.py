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

#: calendar bounds of a usable window: unix timestamps start in 1970, and a window must leave room
#: for vendors' date arithmetic and four-digit years (9999-12-31 + a day overflows ``datetime``)
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9999, 1, 1, tzinfo=timezone.utc)
#: the longest window an export operator accepts unless told otherwise (``max_window``)
DEFAULT_MAX_WINDOW = timedelta(days=366)

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
    try:
        in_range = EARLIEST <= value < LATEST
    except OverflowError:  # a year-1 or year-9999 value whose offset leaves datetime's range
        in_range = False
    if not in_range:
        raise RequestValidationError(
            field, "must be between 1970-01-01 and 9999-01-01 (UTC)", value=_iso(value)
        )
    return value


def _iso(value: datetime) -> str:
    try:
        return value.isoformat()
    except Exception:  # pragma: no cover - isoformat of an aware datetime does not fail in practice
        return repr(value)


def check_lookback(lookback: Any, field: str = "lookback") -> timedelta | None:
    """``None`` or a positive ``timedelta``."""
    if lookback is None:
        return None
    if not isinstance(lookback, timedelta) or lookback <= timedelta(0):
        raise RequestValidationError(field, "must be a positive timedelta", value=lookback)
    return lookback


def check_settle(settle: Any, field: str = "settle") -> timedelta | None:
    """``None`` or a positive ``timedelta`` of at most a week (how long late records may take)."""
    if settle is None:
        return None
    if not isinstance(settle, timedelta) or not timedelta(0) < settle <= timedelta(days=7):
        raise RequestValidationError(field, "must be a positive timedelta of at most 7 days", value=settle)
    return settle


def check_max_window(max_window: Any, field: str = "max_window") -> timedelta:
    """A positive ``timedelta``: the longest window an export accepts."""
    if not isinstance(max_window, timedelta) or max_window <= timedelta(0):
        raise RequestValidationError(field, "must be a positive timedelta", value=max_window)
    return max_window


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

    def check_span(self, max_window: timedelta, *, blame: str = "window_end") -> Window:
        """Refuse a window longer than ``max_window`` (a typo'd year must not become 400 requests).

        ``blame`` is the argument the error names (the one that made the window this long).
        """
        if self.end - self.start > max_window:
            raise RequestValidationError(
                blame,
                f"makes the window {_days(self.end - self.start)} long, more than "
                f"max_window={_days(max_window)}: split it into several runs, or raise max_window",
            )
        return self

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


def _days(span: timedelta) -> str:
    return f"{span.days} days" if span.seconds == span.microseconds == 0 else str(span)


def window_from_context(
    context: Any,
    start: Any = None,
    end: Any = None,
    lookback: timedelta | None = None,
    max_window: timedelta = DEFAULT_MAX_WINDOW,
) -> Window:
    """The export window: explicit ``start``/``end`` win, else the run's data interval.

    When the resulting window is empty and ``lookback`` is given, the window becomes
    ``[end - lookback, end)``; without ``lookback`` an empty window is an error that says how to fix it.
    A window longer than ``max_window`` is refused.
    """
    lookback = check_lookback(lookback)
    max_window = check_max_window(max_window)
    start = start if start not in (None, "") else context.get("data_interval_start")
    end = end if end not in (None, "") else context.get("data_interval_end")
    if end is None:
        raise RequestValidationError("window_end", "not given and the run has no data interval")
    if lookback is not None and (
        start is None or parse_datetime(start, "window_start") == parse_datetime(end, "window_end")
    ):
        end_dt = parse_datetime(end, "window_end")
        try:
            begin = end_dt - lookback
        except OverflowError:
            raise RequestValidationError("lookback", "reaches before 1970-01-01", value=lookback) from None
        if begin < EARLIEST:
            raise RequestValidationError("lookback", "reaches before 1970-01-01", value=lookback)
        return Window.of(begin, end_dt).check_span(max_window, blame="lookback")
    if start is None:
        raise RequestValidationError("window_start", "not given and the run has no data interval")
    return Window.of(start, end).check_span(max_window)
