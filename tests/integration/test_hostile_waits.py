"""Finding 5 — server-controlled sleeps are bounded: an absurd ``X-RateLimit-Limit`` is ignored (with a
warning), a huge ``Retry-After`` is capped (with a warning), and the client-side limiter never asks
for more than one quota window (``core.ratelimit.WINDOW``) before a request.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_telephony.core import ratelimit, retry
from airflow_provider_telephony.hooks.avito import AvitoHook
from airflow_provider_telephony.operators.avito import AvitoCallsToStorageOperator
from tests.hostile_server import (
    AVITO_CALLS,
    AVITO_TOKEN,
    HostileServer,
    Reply,
    Request,
    avito_conn,
    avito_page,
    elapsed,
    record_sleeps,
    reset_client_state,
    routes,
)

pytestmark = pytest.mark.timeout(60)

WINDOW: dict[str, Any] = {
    "window_start": "2026-06-15T00:00:00+00:00",
    "window_end": "2026-06-16T00:00:00+00:00",
}
START = datetime(2026, 6, 15, tzinfo=timezone.utc)
END = datetime(2026, 6, 16, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    reset_client_state(monkeypatch)


def _paged_calls(request: Request) -> list[dict[str, object]]:
    """Three pages by offset: 100 calls, 20 calls, then none."""
    pages = {0: avito_page(1, 100), 100: avito_page(101, 20)}
    calls: list[dict[str, object]] = pages.get(request.json()["offset"], {"calls": []})["calls"]
    return calls


def test_implausible_rate_limit_header_is_ignored_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``X-RateLimit-Limit: 0.01`` (one request per 100 minutes) on every answer: believed, a 3-page
    export would wait thousands of seconds; it is ignored and the export runs at full speed."""
    header = {"X-RateLimit-Limit": "0.01"}
    handler = routes(
        {
            ("POST", AVITO_TOKEN): lambda req: Reply.json(
                {"access_token": "tok-waits-1", "expires_in": 3600}, headers=header
            ),
            ("POST", AVITO_CALLS): lambda req: Reply.json({"calls": _paged_calls(req)}, headers=header),
        }
    )
    caplog.set_level(logging.WARNING, logger=ratelimit.__name__)
    with HostileServer(handler) as server:
        conn = avito_conn(monkeypatch, server.url)
        op = AvitoCallsToStorageOperator(
            task_id="export", output_path=str(tmp_path / "calls.jsonl"), avito_conn_id=conn, **WINDOW
        )
        with elapsed() as took:
            summary = op.execute({})
        assert server.count(AVITO_CALLS) == 3
    assert summary["records"] == 120
    assert took() < 5
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "X-RateLimit-Limit" in r.getMessage()
    ]
    assert warnings, caplog.text
    assert "ignor" in warnings[0].getMessage()


def test_huge_retry_after_is_capped_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``Retry-After: 100000`` on a 429: the retry waits at most ``MAX_RETRY_AFTER`` (120 s), and says so."""
    sleeps = record_sleeps(monkeypatch)

    def calls(request: Request) -> Reply:
        if request.path_number == 1:
            return Reply.json({"error": "too many requests"}, 429, headers={"Retry-After": "100000"})
        return Reply.json({"calls": []})

    handler = routes(
        {
            ("POST", AVITO_TOKEN): lambda req: Reply.json(
                {"access_token": "tok-waits-2", "expires_in": 3600}
            ),
            ("POST", AVITO_CALLS): calls,
        }
    )
    caplog.set_level(logging.WARNING, logger=retry.__name__)
    with HostileServer(handler) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=1)
        with AvitoHook(conn) as hook:
            assert hook.get_calls_page(START, END) == []
        assert server.count(AVITO_CALLS) == 2
    assert sleeps.waits, "the 429 must be retried after a wait"
    assert max(sleeps.waits) <= retry.MAX_RETRY_AFTER <= 120
    assert any("100000" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING), (
        caplog.text
    )


def test_rate_limiter_never_waits_more_than_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """``X-RateLimit-Limit: 1`` with ``X-RateLimit-Remaining: 0`` on every answer: no single wait
    before a request exceeds ``WINDOW`` (60 s) and the limiter's 2% safety margin.

    The waits are recorded, not slept; the limiter's clock advances by each recorded wait, as it
    would if the process had really slept (the limiter is a queue: a caller that did not wait its
    turn would owe more on its next request)."""
    sleeps = record_sleeps(monkeypatch)  # also catches the exchange's rate-limit sleeps (time.sleep)
    started = time.monotonic()

    class SleptClock:
        @staticmethod
        def monotonic() -> float:
            return started + sum(sleeps.waits)

    monkeypatch.setattr(ratelimit, "time", SleptClock)
    quota = {"X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0"}
    handler = routes(
        {
            ("POST", AVITO_TOKEN): lambda req: Reply.json(
                {"access_token": "tok-waits-3", "expires_in": 3600}
            ),
            ("POST", AVITO_CALLS): lambda req: Reply.json({"calls": []}, headers=quota),
        }
    )
    with HostileServer(handler) as server:
        conn = avito_conn(monkeypatch, server.url)
        with AvitoHook(conn) as hook:
            for _ in range(4):
                hook.get_calls_page(START, END)
        assert server.count(AVITO_CALLS) == 4
    assert ratelimit.WINDOW <= 60
    assert len(sleeps.waits) >= 3, sleeps.waits  # the quota really made requests wait
    assert max(sleeps.waits) <= ratelimit.WINDOW * (1 + ratelimit.SAFETY) + 1e-6
    assert max(sleeps.waits) >= ratelimit.WINDOW - 1
