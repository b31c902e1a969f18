"""RotatingPair's decisions, driven without a network: a fake vendor that rotates strictly and a
store that can fail on demand.  (The real server and stores: tests/integration/test_tele2_*.)"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_telephony.core import rotation
from airflow_provider_telephony.core.errors import AuthenticationError
from airflow_provider_telephony.core.flow import Call, Flow, Sleep
from airflow_provider_telephony.core.rotation import (
    DeadPairError,
    RotatingPair,
    TokenStoreError,
    forget_pairs,
)
from airflow_provider_telephony.core.tokens import TokenPair, origin_of


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    forget_pairs()
    yield
    forget_pairs()


def drive(flow: Flow[Any]) -> Any:
    """Run a flow: sleeps are skipped, calls made in place."""
    try:
        step = next(flow)
        while True:
            if isinstance(step, Sleep):
                step = flow.send(None)
            elif isinstance(step, Call):
                try:
                    result = step.function()
                except Exception as exc:
                    step = flow.throw(exc)
                else:
                    step = flow.send(result)
            else:  # pragma: no cover - RotatingPair only sleeps and calls
                raise AssertionError(step)
    except StopIteration as stop:
        return stop.value


class Vendor:
    """Strict rotation: only the newest refresh token works, and it is replaced on use."""

    def __init__(self, refresh: str) -> None:
        self.valid = refresh
        self.numbers = itertools.count(1)
        self.refreshes = 0

    def refresh(self, token: str) -> Flow[tuple[str, str]]:
        if token != self.valid:
            raise AuthenticationError("refreshToken: HTTP 403: refused", refreshable=False)
        n = next(self.numbers)
        self.valid = f"refresh-{n:04d}"
        self.refreshes += 1
        return f"access-{n:04d}", self.valid
        yield  # pragma: no cover


class Store:
    def __init__(self) -> None:
        self.pairs: dict[str, TokenPair] = {}
        self.fail_reads = 0
        self.fail_saves = 0

    def load(self, key: str) -> TokenPair | None:
        if self.fail_reads:
            self.fail_reads -= 1
            raise OSError("store down")
        return self.pairs.get(key)

    def save(self, key: str, pair: TokenPair) -> None:
        if self.fail_saves:
            self.fail_saves -= 1
            raise OSError("store down")
        self.pairs[key] = pair

    def describe(self, key: str) -> str:
        return f"store {key}"


def pair_for(
    store: Store, vendor: Vendor, refresh: str = "refresh-0000", access: str | None = "access-0000"
) -> RotatingPair:
    return RotatingPair(
        store=store,
        key="k",
        initial_refresh=refresh,
        initial_access=access,
        refresh=vendor.refresh,
        dead="generate a new pair",
        lifetime=86400.0,
    )


def test_a_rejected_token_rotates_and_the_pair_is_saved() -> None:
    store, vendor = Store(), Vendor("refresh-0000")
    pair = pair_for(store, vendor)
    assert drive(pair.access()) == "access-0000"
    assert drive(pair.access(rejected="access-0000")) == "access-0001"
    assert store.pairs["k"].refresh == "refresh-0001" and store.pairs["k"].origin == origin_of("refresh-0000")


def test_an_unreadable_store_is_transient_never_a_dead_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    store, vendor = Store(), Vendor("refresh-0000")
    drive(pair_for(store, vendor).access(rejected="access-0000"))  # another process rotated: chain at 0001
    forget_pairs()  # this process starts cold, and the store is down
    store.fail_reads = 100
    with pytest.raises(TokenStoreError) as caught:
        drive(pair_for(store, vendor).access())
    assert caught.value.retryable and not caught.value.permanent
    assert vendor.valid == "refresh-0001"  # the live chain was not touched


def test_a_lost_race_uses_the_pair_the_winner_saves(monkeypatch: pytest.MonkeyPatch) -> None:
    store, vendor = Store(), Vendor("refresh-0000")
    mine = pair_for(store, vendor)
    drive(mine.access())
    # the winner refreshes with the same token but saves only while we are re-reading
    winner = drive(vendor.refresh("refresh-0000"))
    sleeps = iter(range(100))

    def load(key: str) -> TokenPair | None:
        if next(sleeps) == 2:
            store.pairs[key] = TokenPair(winner[0], winner[1], origin_of("refresh-0000"), 1.0)
        return store.pairs.get(key)

    monkeypatch.setattr(store, "load", load)
    assert drive(mine.access(rejected="access-0000")) == "access-0001"
    assert vendor.refreshes == 1


def test_a_dead_pair_is_permanent_and_says_what_to_do() -> None:
    store, vendor = Store(), Vendor("regenerated-in-the-ui")
    with pytest.raises(DeadPairError, match="generate a new pair") as caught:
        drive(pair_for(store, vendor).access(rejected="access-0000"))
    assert caught.value.permanent


def test_an_unsaved_pair_wins_and_is_saved_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rotation, "RESAVE_SECONDS", 0.0)
    store, vendor = Store(), Vendor("refresh-0000")
    pair = pair_for(store, vendor)
    store.fail_saves = rotation.SAVE_ATTEMPTS
    assert drive(pair.access(rejected="access-0000")) == "access-0001"
    assert "k" not in store.pairs and pair.state.unsaved
    assert drive(pair.access()) == "access-0001"  # the next access saves it
    assert store.pairs["k"].refresh == "refresh-0001" and not pair.state.unsaved


def test_flush_saves_an_unsaved_pair_at_close() -> None:
    store, vendor = Store(), Vendor("refresh-0000")
    pair = pair_for(store, vendor)
    store.fail_saves = rotation.SAVE_ATTEMPTS
    drive(pair.access(rejected="access-0000"))
    pair.flush()
    assert store.pairs["k"].access == "access-0001"


def test_a_pair_pasted_into_the_connection_starts_a_new_chain() -> None:
    store, vendor = Store(), Vendor("refresh-0000")
    drive(pair_for(store, vendor).access(rejected="access-0000"))  # old chain stored
    forget_pairs()
    vendor.valid = "pasted-refresh"  # a new pair generated in the UI
    fresh = pair_for(store, vendor, refresh="pasted-refresh", access="pasted-access")
    assert drive(fresh.access()) == "pasted-access"  # the stored pair of the old chain is ignored


def test_a_token_rejected_right_after_its_refresh_is_not_rotated_again() -> None:
    store, vendor = Store(), Vendor("refresh-0000")
    pair = pair_for(store, vendor)
    token = drive(pair.access(rejected="access-0000"))
    with pytest.raises(AuthenticationError, match="not rotating again") as caught:
        drive(pair.access(rejected=token))
    assert not caught.value.refreshable
    assert vendor.refreshes == 1


def test_jwt_expiry_is_read_in_seconds_or_milliseconds() -> None:
    import base64
    import json

    def jwt(payload: dict[str, Any]) -> str:
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
        return f"e30.{body}.sig"

    assert rotation.jwt_expiry(jwt({"exp": 2000, "iat": 1000})) == (2000.0, 1000.0)
    assert rotation.jwt_expiry(jwt({"exp": 2_000_000_000_000, "iat": 1_000_000_000_000})) == (2e9, 1e9)
    assert rotation.jwt_expiry("opaque-token") is None
    assert rotation.jwt_expiry(jwt({"sub": "x"})) is None


def test_a_token_that_worked_and_is_then_rejected_soon_after_is_rotated() -> None:
    """Short-lived opaque tokens: an expiry is only learnt from a 403, however young the token."""
    store, vendor = Store(), Vendor("refresh-0000")
    pair = pair_for(store, vendor)
    token = drive(pair.access(rejected="access-0000"))
    pair.accepted(token)  # the server took it at least once: now it simply expired
    assert drive(pair.access(rejected=token)) == "access-0002"
    assert vendor.refreshes == 2
