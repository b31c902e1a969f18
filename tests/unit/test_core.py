"""Unit tests of the vendor-neutral core: windows, storage, retry policy, limiter, redaction."""

from __future__ import annotations

import itertools
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import msgspec
import pendulum
import pytest
from pydantic import BaseModel, Field

from airflow_provider_telephony.core import storage
from airflow_provider_telephony.core.errors import (
    AuthenticationError,
    RateLimitedError,
    RequestValidationError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    UnreadableResponseError,
    ValidationError,
)
from airflow_provider_telephony.core.ratelimit import RateLimiter
from airflow_provider_telephony.core.records import Page, RecordSchema, raw_fields
from airflow_provider_telephony.core.redact import RedactingFilter, mask_phone, redact_text, register_secret
from airflow_provider_telephony.core.retry import should_retry
from airflow_provider_telephony.core.transport import base_url_from
from airflow_provider_telephony.core.windows import Window, window_from_context
from airflow_provider_telephony.core.writers import open_records

UTC = timezone.utc


# --- windows -------------------------------------------------------------------------------
def test_window_rejects_naive_end_before_start_and_empty() -> None:
    with pytest.raises(RequestValidationError, match="window_start: must be time-zone aware"):
        Window.of(datetime(2026, 1, 1), datetime(2026, 1, 2, tzinfo=UTC))
    with pytest.raises(RequestValidationError, match="window_end: must not be before window_start"):
        Window.of(datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(RequestValidationError, match="zero-length data intervals"):
        Window.of(datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))


def test_window_parses_iso_strings_and_pendulum() -> None:
    w = Window.of("2026-06-14T00:00:00Z", pendulum.datetime(2026, 6, 15, 3, tz="Europe/Moscow"))
    assert w.start == datetime(2026, 6, 14, tzinfo=UTC)
    assert w.end == datetime(2026, 6, 15, tzinfo=UTC)
    with pytest.raises(RequestValidationError, match="ISO-8601"):
        Window.of("yesterday", "2026-06-15T00:00:00Z")


def test_window_split_covers_exactly() -> None:
    w = Window.of(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
    parts = list(w.split(timedelta(days=89)))
    assert parts[0].start == w.start and parts[-1].end == w.end
    assert all(a.end == b.start for a, b in itertools.pairwise(parts))
    assert all(p.end - p.start <= timedelta(days=89) for p in parts)
    assert len(parts) == 3


def test_window_from_context_defaults_and_lookback() -> None:
    day = datetime(2026, 6, 15, tzinfo=UTC)
    ctx = {"data_interval_start": day, "data_interval_end": day}
    with pytest.raises(RequestValidationError, match="lookback"):
        window_from_context(ctx)
    w = window_from_context(ctx, lookback=timedelta(days=1))
    assert (w.start, w.end) == (day - timedelta(days=1), day)
    w = window_from_context({"data_interval_start": day, "data_interval_end": day + timedelta(hours=1)})
    assert w.end - w.start == timedelta(hours=1)
    w = window_from_context(ctx, "2026-06-01T00:00:00+00:00", "2026-06-02T00:00:00+00:00")
    assert w.start.day == 1


# --- storage -------------------------------------------------------------------------------
class Rec(BaseModel):
    model_config = {"extra": "allow", "populate_by_name": True}
    rec_id: int = Field(alias="recId")
    when: datetime
    score: float | None = None
    tags: list[str] = []


RECORDS = [
    {"recId": i, "when": f"2026-01-01T{i:02d}:00:00Z", "score": i / 2, "tags": ["a", str(i)]}
    for i in range(5)
]
SCHEMA = RecordSchema(Rec)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_writers_round_trip(tmp_path: Path, fmt: str) -> None:
    path = storage.as_storage_path(tmp_path / f"out.{fmt}")
    with open_records(path, fmt, SCHEMA) as writer:
        writer.write(Page.from_records(RECORDS[:2]))
        writer.write(Page.from_records([]))
        writer.write(Page.from_array(msgspec.json.encode(RECORDS[2:]), "test"))
    assert writer.stats.records == 5
    assert writer.stats.bytes > 0
    rows = list(storage.read_records(path))
    assert [int(r["recId"]) for r in rows] == list(range(5))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"out.{fmt}"]
    if fmt == "parquet":  # typed columns: the time text became a UTC timestamp
        assert rows[1]["when"] == datetime(2026, 1, 1, 1, tzinfo=UTC)


def test_jsonl_writes_records_as_received(tmp_path: Path) -> None:
    """Field names, values and time strings unchanged; unknown fields kept; key order kept."""
    record = {"recId": "7", "when": "2026-01-01T00:00:00.250+03:00", "newField": {"x": 1}, "score": 1.50}
    SCHEMA.check([record], "test")
    path = storage.as_storage_path(tmp_path / "x.jsonl")
    with open_records(path, "jsonl", SCHEMA) as writer:
        writer.write(Page.from_records([record]))
    assert (
        path.read_bytes()
        == b'{"recId":"7","when":"2026-01-01T00:00:00.250+03:00","newField":{"x":1},"score":1.5}\n'
    )


def test_a_json_page_is_written_byte_for_byte(tmp_path: Path) -> None:
    """Numbers as sent (1.50, a 30-digit id), spacing kept; a record spread over lines gets one line."""
    body = (
        b'[ {"recId": 7, "when": "2026-01-01T00:00:00Z", "score": 1.50, "big": 123456789012345678901234567890},\n'
        b'  {"recId": 8,\n   "when": "2026-01-01T01:00:00Z"} ]'
    )
    page = Page.from_array(body, "test").validated(SCHEMA, "test")
    assert [checked.recId for checked in page.typed or ()] == [7, 8]
    path = storage.as_storage_path(tmp_path / "x.jsonl")
    with open_records(path, "jsonl", SCHEMA) as writer:
        writer.write(page)
    assert path.read_bytes() == (
        b'{"recId": 7, "when": "2026-01-01T00:00:00Z", "score": 1.50, "big": 123456789012345678901234567890}\n'
        b'{"recId": 8,    "when": "2026-01-01T01:00:00Z"}\n'
    )
    assert page.records[0]["big"] == 123456789012345678901234567890


def test_a_page_the_strict_check_refuses_gets_the_model_reading() -> None:
    """A number as text is what the pydantic model accepts (lax); the page is kept as sent."""
    page = Page.from_array(b'[{"recId": "7", "when": "2026-01-01T00:00:00Z"}]', "test")
    assert page.validated(SCHEMA, "test").typed is not None
    assert page.typed[0].recId == 7  # type: ignore[index]
    assert page.jsonl() == b'{"recId": "7", "when": "2026-01-01T00:00:00Z"}\n'
    bad = Page.from_array(b'[{"recId": 1, "when": "2026-01-01T00:00:00Z"}, {"recId": "x"}]', "test")
    with pytest.raises(UnexpectedResponseError, match=r"record 1\.recId") as caught:
        bad.validated(SCHEMA, "test")
    assert '"x"' not in str(caught.value)


def test_page_and_envelope_shapes_are_named() -> None:
    with pytest.raises(UnexpectedResponseError, match="'calls' is not a list"):
        Page.from_array(b'{"a": 1}', "test", field="calls")
    with pytest.raises(UnreadableResponseError):
        Page.from_array(b'[{"a": 1}', "test")
    assert raw_fields(b'{"calls": [1, 2], "error": null}', ("calls", "error", "x"), "t") == {
        "calls": b"[1, 2]",
        "error": None,
        "x": None,
    }
    with pytest.raises(UnexpectedResponseError, match="not a JSON object"):
        raw_fields(b"[1]", ("calls",), "t")
    with pytest.raises(UnreadableResponseError):
        raw_fields(b'{"calls": [1', ("calls",), "t")


def test_a_page_breaking_the_schema_names_the_record_and_field() -> None:
    with pytest.raises(UnexpectedResponseError, match=r"record 1\.recId"):
        SCHEMA.check([RECORDS[0], {"recId": "x", "when": "2026-01-01T00:00:00Z"}], "test")
    with pytest.raises(UnexpectedResponseError, match="not a list"):
        SCHEMA.check({"recId": 1}, "test")


def test_failed_export_publishes_nothing_and_keeps_previous(tmp_path: Path) -> None:
    path = storage.as_storage_path(tmp_path / "out.jsonl")
    path.write_bytes(b"previous complete file\n")
    with pytest.raises(RuntimeError), open_records(path, "jsonl", SCHEMA) as writer:
        writer.write(Page.from_records(RECORDS))
        raise RuntimeError("page 2 failed")
    assert path.read_bytes() == b"previous complete file\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_unknown_format_is_refused() -> None:
    with pytest.raises(RequestValidationError, match="output_format: must be one of jsonl, csv, parquet"):
        storage.check_format("xlsx")
    assert storage.check_format("JSON") == "jsonl"


# --- retry policy --------------------------------------------------------------------------
def test_retry_decisions() -> None:
    assert should_retry(ServerError("x"), idempotent=True)
    assert not should_retry(ServerError("x"), idempotent=False)
    assert should_retry(RateLimitedError("x"), idempotent=False)
    assert should_retry(TransportError("x", request_sent=False), idempotent=False)
    assert not should_retry(TransportError("x", request_sent=True), idempotent=False)
    assert not should_retry(AuthenticationError("x"), idempotent=True)
    assert not should_retry(ValidationError("x"), idempotent=True)
    assert not should_retry(ValueError("x"), idempotent=True)


def test_errors_survive_pickling() -> None:
    import pickle

    err = pickle.loads(pickle.dumps(RateLimitedError("slow down", retry_after=3, status_code=429)))
    assert (str(err), err.retry_after, err.status_code) == ("slow down", 3, 429)


# --- rate limiter --------------------------------------------------------------------------
def test_limiter_spreads_requests_and_obeys_headers() -> None:
    limiter = RateLimiter(12)  # bursts of a sixth of the rate: 2
    assert limiter.reserve() == 0 and limiter.reserve() == 0
    # the third request in the same instant waits one interval: 5 s and the 2% safety margin
    assert limiter.reserve() == pytest.approx(5.1, abs=0.05)
    limiter = RateLimiter(600)
    limiter.observe({"X-RateLimit-Limit": "30", "X-RateLimit-Remaining": "0"})
    assert limiter.per_minute == 30
    assert limiter.reserve() > 1.5


def test_limiter_never_lets_a_window_hold_more_than_the_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    """Callers late for their send times (a busy event loop) do not bunch up past the quota: in every
    interval one window long, wherever it starts, at most the quota's requests are sent."""
    import random

    from airflow_provider_telephony.core import ratelimit

    clock = [1000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(ratelimit, "WINDOW", 1.0)
    quota = 50
    limiter = RateLimiter(quota)
    rng = random.Random(7)
    # 600 concurrent callers reserve at once; each wakes up late by up to 0.3 s (loop lag)
    due = sorted(
        (clock[0] + limiter.reserve() + rng.choice([0.0, 0.0, 0.0, rng.uniform(0, 0.3)]), i)
        for i in range(600)
    )
    sent: list[float] = []
    import heapq

    heapq.heapify(due)
    while due:
        at, _ = heapq.heappop(due)
        clock[0] = max(clock[0], at)
        sent.append(clock[0] + limiter.admit())  # sent after the wait admit asks for
    sent.sort()
    assert len(sent) == 600
    for i in range(len(sent) - quota):
        assert sent[i + quota] - sent[i] >= 1.0, f"{quota + 1} sends within one window at {i}"
    # and the quota is used: 600 requests take about 600/50 windows, not much more
    assert sent[-1] - sent[0] < 600 / quota * 1.05 + 0.3


# --- redaction -----------------------------------------------------------------------------
def test_redaction_of_registered_secrets_and_phones() -> None:
    register_secret("SECRETKEY0000042")
    assert "SECRETKEY0000042" not in redact_text("GET https://x/api/?json/v3/SECRETKEY0000042/call/get/0")
    assert "***" in redact_text("call from +7 000 123-45-67", phones=True)
    assert mask_phone("+70001234567") == "*********67"
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, "HTTP Request: %s", ("/SECRETKEY0000042/",), None
    )
    RedactingFilter().filter(record)
    assert "SECRETKEY0000042" not in record.getMessage()


def test_base_url_resolution() -> None:
    assert base_url_from(None, None, "https://api.avito.ru/") == "https://api.avito.ru"
    assert base_url_from("http://127.0.0.1:8123", None, "x") == "http://127.0.0.1:8123"
    assert base_url_from("api.example.test", 8443, "x") == "https://api.example.test:8443"
    assert base_url_from("https://proxy.test/avito/", None, "x") == "https://proxy.test/avito"


def test_waits_after_429_without_hint_cover_a_minute_window() -> None:
    from types import SimpleNamespace

    from airflow_provider_telephony.core.retry import _WaitRetryAfter

    wait = _WaitRetryAfter(0.5, 30.0)

    def state(exc: BaseException, attempt: int) -> object:
        outcome = SimpleNamespace(exception=lambda: exc)
        return SimpleNamespace(outcome=outcome, attempt_number=attempt)

    limited = [wait(state(RateLimitedError("429"), n)) for n in range(1, 6)]  # type: ignore[arg-type]
    assert limited[0] >= 2.0 and sum(limited) >= 60.0
    assert wait(state(RateLimitedError("429", retry_after=7), 1)) == 7.0  # type: ignore[arg-type]
    assert wait(state(ServerError("503"), 1)) < 2.0  # type: ignore[arg-type]


def test_numbered_pages_go_on_after_a_short_page_until_an_empty_one() -> None:
    from airflow_provider_telephony.core.pagination import numbered_pages

    records = list(range(23))
    cap = 5  # the server serves at most 5 per page, whatever size was asked for

    def fetch(number: int, size: int) -> list[int]:
        return records[number * cap : number * cap + min(size, cap)]

    pages = list(numbered_pages(fetch, len, size=10, signature=tuple, what="x"))
    assert [r for page in pages for r in page] == records


def test_page_within_keeps_records_without_a_time_and_reads_naive_times_as_utc() -> None:
    from datetime import datetime, timezone

    from airflow_provider_telephony.core.records import Page
    from airflow_provider_telephony.core.windows import Window

    window = Window.of(datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 1, 2, tzinfo=timezone.utc))
    times = [None, datetime(2026, 1, 1, 12), datetime(2026, 1, 2), datetime(2025, 12, 31, 23, 59)]
    page = Page.from_records([{"i": i} for i in range(len(times))])
    page.typed = [type("R", (), {"t": t})() for t in times]
    kept = page.within(window, lambda r: r.t)
    assert [r["i"] for r in kept.records] == [0, 1]
