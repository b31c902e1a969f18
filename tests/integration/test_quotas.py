"""Quotas the user controls: ``rate_limit_per_minute``, waiting for the server's window to reset,
one limiter per connection in a process, and waits reported in the task's summary.

The sandbox enforces Avito's per-minute quota; here its window is scaled down to one second (and the
client's with it, ``core.ratelimit.WINDOW``) so that several windows pass in a test.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_telephony.core import ratelimit
from airflow_provider_telephony.core.errors import ConfigurationError
from airflow_provider_telephony.hooks.avito import AvitoHook
from airflow_provider_telephony.operators.avito import AvitoCallsToStorageOperator
from airflow_provider_telephony.provider_info import get_provider_info
from airflow_provider_telephony.sandbox import SandboxConfig
from tests.conftest import avito_sandbox, conn_env

UTC = timezone.utc


def _avito_conn(monkeypatch: pytest.MonkeyPatch, url: str, **extra: Any) -> str:
    config = SandboxConfig()
    monkeypatch.setenv(
        *conn_env(
            "avito_quota",
            conn_type="avito",
            host=url,
            login=config.avito_client_id,
            password=config.avito_client_secret,
            extra=extra,
        )
    )
    return "avito_quota"


def test_the_users_quota_overrides_the_default_and_headers_only_lower_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conn = _avito_conn(monkeypatch, "http://127.0.0.1:9", rate_limit_per_minute=120)
    hook = AvitoHook(conn)
    limiter = hook.exchange.limiter("getCalls")
    assert limiter is not None and limiter.per_minute == 120
    limiter.observe({"X-RateLimit-Limit": "1000"})
    assert limiter.per_minute == 120, "the server's larger quota does not override the user's"
    limiter.observe({"X-RateLimit-Limit": "60"})
    assert limiter.per_minute == 60, "a smaller server quota wins"
    # every hook of the connection in the process shares the limiter
    assert AvitoHook(conn).exchange.limiter("getCalls") is limiter
    # without the extra, the hook's documented default applies
    monkeypatch.setenv(
        *conn_env("avito_plain", conn_type="avito", host="http://127.0.0.1:9", login="a", password="bbbb")
    )
    plain = AvitoHook("avito_plain").exchange.limiter("getCalls")
    assert plain is not None and plain.per_minute == AvitoHook.rate_limit_per_minute


@pytest.mark.parametrize("value", [0, -5, "nan", "lots", 10**6, True])
def test_an_unusable_quota_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch, value: Any) -> None:
    conn = _avito_conn(monkeypatch, "http://127.0.0.1:9", rate_limit_per_minute=value)
    with pytest.raises(ConfigurationError, match="rate_limit_per_minute"):
        AvitoHook(conn).settings  # noqa: B018 - loading the connection is the check


def test_the_connection_form_offers_the_quota() -> None:
    for conn_type in get_provider_info()["connection-types"]:
        field = conn_type["conn-fields"]["rate_limit_per_minute"]
        assert "requests" in field["description"].lower()


def test_remaining_zero_waits_until_the_window_can_have_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "WINDOW", 1.0)
    limiter = ratelimit.RateLimiter(300)
    limiter.observe({"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "2"})
    seen = time.monotonic()
    limiter.observe({"X-RateLimit-Remaining": "1"})
    limiter.observe({"X-RateLimit-Remaining": "0"})
    wait = limiter.reserve()
    # until a window after the window was first seen, not one token interval (1/3 s)
    assert seen + 1.0 - time.monotonic() - 0.05 <= wait <= seen + 1.0 - time.monotonic() + 0.05
    assert wait > 0.6


def test_an_export_under_the_servers_quota_never_gets_a_429_and_reports_its_waits(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(ratelimit, "WINDOW", 1.0)
    limit = 5
    config = SandboxConfig(seed=13, avito_rate_limit=limit, rate_window_seconds=1.0, calls_per_day=40)
    with avito_sandbox(config, "avito_quota") as url:
        AvitoHook._tokens.clear()
        op = AvitoCallsToStorageOperator(
            task_id="export",
            output_path=str(tmp_path / "calls.jsonl"),
            window_start=datetime(2026, 3, 1, tzinfo=UTC),
            window_end=datetime(2026, 3, 5, tzinfo=UTC),
            page_size=10,
            avito_conn_id="avito_quota",
        )
        started = time.monotonic()
        summary = op.execute({})
        elapsed = time.monotonic() - started
        stats = httpx.get(f"{url}/__sandbox__/avito/stats").json()["requests"]
    pages = stats["getCalls"]
    assert pages >= 12, "the export spans several quota windows"
    assert stats.get("rate_limited", 0) == 0 and summary["http"]["throttled"] == 0
    assert summary["http"]["rate_limit_wait_seconds"] > 0, "the limiter's waits are in the summary"
    # the quota allows `limit` requests per window: the export takes about pages/rate, no more
    assert elapsed <= 1.05 * (pages - 1) / limit + 0.5, (elapsed, pages)
