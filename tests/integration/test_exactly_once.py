"""Writes happen once: the exchange's recovery flow against the sandbox (AutoCall.kz SMS mailings).

The sandbox's ``drop`` fault is the case that makes writes dangerous: the server *creates* the
mailing, then the connection closes before any answer.  Whatever the failure, the mailing must
exist exactly once (the sandbox counts mailings per ``client_id``), and a write is sent again only
after it was proven not to have taken effect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from airflow_provider_telephony.core.errors import OutcomeUnknownError, TransportError, WriteNotAppliedError
from airflow_provider_telephony.core.flow import ApiRequest
from airflow_provider_telephony.core.validation import build_request
from airflow_provider_telephony.hooks.autocall import AutoCallHook
from airflow_provider_telephony.models import autocall as m
from airflow_provider_telephony.sandbox import SandboxConfig, run_sandbox
from tests.conftest import conn_env

NUMBERS = ["+77010000001", "+77010000002"]


@pytest.fixture(scope="module")
def autocall_url() -> Iterator[str]:
    with run_sandbox(SandboxConfig(seed=11)) as url:
        yield url


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch, autocall_url: str) -> Iterator[AutoCallHook]:
    monkeypatch.setenv(
        *conn_env(
            "autocall_once",
            conn_type="autocall",
            host=f"{autocall_url}/api/v1",
            password=SandboxConfig().autocall_api_key,
            extra={"max_retries": 2},
        )
    )
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda seconds: None)
    httpx.delete(f"{autocall_url}/__sandbox__/faults")
    with AutoCallHook("autocall_once") as hook:
        yield hook


def _fault(url: str, **rule: Any) -> None:
    httpx.post(f"{url}/__sandbox__/faults", json=rule).raise_for_status()


def _stats(url: str) -> dict[str, Any]:
    stats: dict[str, Any] = httpx.get(f"{url}/__sandbox__/autocall/stats").json()
    return stats


def _created(url: str, client_id: str) -> int:
    return int(_stats(url)["bulks_by_client_id"].get(client_id, 0))


def _posts(url: str) -> int:
    return int(_stats(url)["requests"].get("POST bulks", 0))


def test_answer_lost_after_the_server_created_it_means_one_mailing(
    hook: AutoCallHook, autocall_url: str
) -> None:
    posts = _posts(autocall_url)
    _fault(autocall_url, path_prefix="/api/v1/bulks", method="POST", fault="drop")
    bulk = hook.create_bulk(name="reminder", text="See you at 10", recipients=NUMBERS, client_id="drop-1")
    assert bulk.client_id == "drop-1" and bulk.recipients == 2
    assert _created(autocall_url, "drop-1") == 1
    assert _posts(autocall_url) - posts == 1, "the write was not sent a second time"


def test_a_5xx_before_the_server_acted_is_looked_up_then_sent_again(
    hook: AutoCallHook, autocall_url: str
) -> None:
    # the injected 503 answers before the server acts: the first POST never reaches the application
    _fault(autocall_url, path_prefix="/api/v1/bulks", method="POST", status=503)
    bulk = hook.create_bulk(name="reminder", text="See you at 10", recipients=NUMBERS, client_id="e503-1")
    assert bulk.client_id == "e503-1"
    assert _created(autocall_url, "e503-1") == 1
    # find first, POST (503), look up (absent), POST again: sent again only after the lookup
    assert hook.exchange.stats.requests == 4
    assert hook.exchange.stats.retries == 1


def test_a_second_call_with_the_same_client_id_sends_nothing(hook: AutoCallHook, autocall_url: str) -> None:
    first = hook.create_bulk(name="promo", text="Hello", recipients=NUMBERS, client_id="twice-1")
    posts = _posts(autocall_url)
    again = hook.create_bulk(name="promo", text="Hello", recipients=NUMBERS, client_id="twice-1")
    assert again.id == first.id
    assert _posts(autocall_url) == posts
    assert _created(autocall_url, "twice-1") == 1


def test_a_write_without_recovery_is_not_resent_and_says_what_to_check(
    hook: AutoCallHook, autocall_url: str
) -> None:
    body = build_request(
        m.CreateBulkRequest, name="blind", text="Hello", list_id=NUMBERS, client_id="blind-1"
    ).body()
    blind: ApiRequest[Any] = ApiRequest(
        name="POST bulks", method="POST", path="/bulks", json=body, parse=lambda r: r.json()
    )
    assert not blind.resendable, "a POST is not idempotent unless it says so"
    posts = _posts(autocall_url)
    _fault(autocall_url, path_prefix="/api/v1/bulks", method="POST", fault="drop")
    with pytest.raises(OutcomeUnknownError, match="may have taken effect") as err:
        hook.exchange.run(blind)
    assert err.value.permanent
    assert isinstance(err.value.__cause__, TransportError)
    assert _posts(autocall_url) - posts == 1
    assert _created(autocall_url, "blind-1") == 1


def test_the_async_driver_recovers_the_same_way(hook: AutoCallHook, autocall_url: str) -> None:
    body = build_request(m.CreateBulkRequest, name="async", text="Hi", list_id=NUMBERS, client_id="async-1")
    _fault(autocall_url, path_prefix="/api/v1/bulks", method="POST", fault="drop")

    async def create() -> m.Bulk:
        exchange = await hook.aexchange()
        try:
            return await exchange.arun(hook._create_bulk_request(body))
        finally:
            await hook.aclose()

    bulk = asyncio.run(create())
    assert bulk.client_id == "async-1"
    assert _created(autocall_url, "async-1") == 1


def test_a_failed_lookup_gives_up_without_sending_again(hook: AutoCallHook, autocall_url: str) -> None:
    body = build_request(m.CreateBulkRequest, name="dark", text="Hi", list_id=NUMBERS, client_id="dark-1")
    _fault(autocall_url, path_prefix="/api/v1/bulks", method="POST", status=502)
    _fault(autocall_url, path_prefix="/api/v1/bulks", method="GET", status=503, count=3)
    with pytest.raises(OutcomeUnknownError, match="looking it up failed too") as err:
        hook.exchange.run(hook._create_bulk_request(body))
    assert "client_id 'dark-1'" in str(err.value)
    # one POST, then three lookups (max_retries=2 -> 3 tries), and no second POST
    assert hook.exchange.stats.requests == 4


def test_write_not_applied_is_what_makes_a_retry_safe() -> None:
    from airflow_provider_telephony.core.retry import outcome_unclear, should_retry

    assert should_retry(WriteNotAppliedError("x"), idempotent=False)
    assert not should_retry(TransportError("x", request_sent=True), idempotent=False)
    assert should_retry(TransportError("x", request_sent=False), idempotent=False)
    assert outcome_unclear(TransportError("x", request_sent=True))
    assert not outcome_unclear(TransportError("x", request_sent=False))
