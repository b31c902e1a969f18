"""CallKeeperHook and CallKeeperCallsToStorageOperator against the real sandbox over loopback HTTP.

Expected data comes from the sandbox's own seeded world (``CallKeeperWorld``), never from our client.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_telephony.core.errors import AuthenticationError, ConfigurationError, ValidationError
from airflow_provider_telephony.core.storage import read_records
from airflow_provider_telephony.hooks.callkeeper import CallKeeperHook
from airflow_provider_telephony.models import callkeeper as m
from airflow_provider_telephony.operators.callkeeper import CallKeeperCallsToStorageOperator
from airflow_provider_telephony.sandbox import SandboxConfig
from airflow_provider_telephony.sandbox.callkeeper import CallKeeperWorld
from tests.conftest import conn_env

UTC = timezone.utc
DAY, NEXT = datetime(2026, 6, 14, tzinfo=UTC), datetime(2026, 6, 15, tzinfo=UTC)
CONTEXT = {"data_interval_start": DAY, "data_interval_end": NEXT}
#: a window long enough for several v3 pages (500) and two v1 pages (1000)
LONG_START, LONG_END = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 25, tzinfo=UTC)


@pytest.fixture(scope="module")
def world(sandbox_config: SandboxConfig) -> CallKeeperWorld:
    return CallKeeperWorld(sandbox_config)


@pytest.fixture
def ck_conn(monkeypatch: pytest.MonkeyPatch, sandbox_url: str, sandbox_config: SandboxConfig) -> str:
    """``callkeeper_default`` at the sandbox (v3, with the role key); returns the conn id."""
    monkeypatch.setenv(
        *conn_env(
            "callkeeper_default",
            conn_type="callkeeper",
            host=sandbox_url,
            password=sandbox_config.callkeeper_api_key,
            extra={
                "api_version": "v3",
                "role_api_key": sandbox_config.callkeeper_role_api_key,
                "max_retries": 3,
            },
        )
    )
    return "callkeeper_default"


@pytest.fixture
def hook(ck_conn: str) -> Iterator[CallKeeperHook]:
    with CallKeeperHook(ck_conn) as h:
        yield h


def _ids(rows: list[Any]) -> list[str]:
    return [row.universal_id for row in rows]


def _flat(pages: Any) -> list[Any]:
    return [row for page in pages for row in page]


# ----------------------------------------------------------------------------- v3


@pytest.mark.parametrize("method", m.V3_METHODS)
def test_v3_methods_page_through_a_long_window(
    hook: CallKeeperHook, world: CallKeeperWorld, method: str
) -> None:
    pages = list(hook.iter_v3_pages(LONG_START, LONG_END, method=method))
    expected = world.calls_between(method, LONG_START, LONG_END)
    assert _ids(_flat(pages)) == [c["universalId"] for c in expected]
    if method != "getByRole":
        assert len(pages) >= 3, "the window spans several pages"
    # the record is the vendor's, field for field (plus the documented per-page "page")
    first = pages[0][0].model_dump(by_alias=True)
    assert first == {"page": 0, **expected[0]}


def test_adjacent_windows_neither_overlap_nor_miss(hook: CallKeeperHook) -> None:
    a, b, c = (datetime(2026, 5, d, tzinfo=UTC) for d in (1, 2, 3))
    first = _ids(_flat(hook.iter_v3_pages(a, b)))
    second = _ids(_flat(hook.iter_v3_pages(b, c)))
    assert first + second == _ids(_flat(hook.iter_v3_pages(a, c)))
    assert first and second and not set(first) & set(second)


def test_getbyrole_needs_the_role_key(
    monkeypatch: pytest.MonkeyPatch, sandbox_url: str, sandbox_config: SandboxConfig, world: CallKeeperWorld
) -> None:
    key = sandbox_config.callkeeper_api_key
    monkeypatch.setenv(*conn_env("ck_norole", conn_type="callkeeper", host=sandbox_url, password=key))
    monkeypatch.setenv(
        *conn_env(
            "ck_swapped",
            conn_type="callkeeper",
            host=sandbox_url,
            password=key,
            extra={"role_api_key": key},  # the user's key where the role's belongs
        )
    )
    with CallKeeperHook("ck_norole") as hook:
        with pytest.raises(ConfigurationError, match="role_api_key"):
            hook.iter_v3_pages(DAY, NEXT, method="getByRole")
        # getWithRole takes the user's key and sees both accounts
        assert len(_flat(hook.iter_v3_pages(DAY, NEXT))) == len(world.calls_between("getWithRole", DAY, NEXT))
    with CallKeeperHook("ck_swapped") as hook, pytest.raises(AuthenticationError, match="role_api_key"):
        hook.get_v3_page("getByRole", DAY, NEXT)


def test_raw_page_with_days_and_without_to(hook: CallKeeperHook, world: CallKeeperWorld) -> None:
    page = hook.get_v3_page("get", "2026-06-14", "2026-06-14")  # one whole day, both ends included
    assert _ids(page.rows) == [c["universalId"] for c in world.calls_between("get", DAY, NEXT)]
    assert hook.get_v3_page("get", "2026-06-14", page=10_000).past_end
    assert hook.get_v3_page("get", "2031-01-01", "2031-01-02").rows == []  # "No rows found"


# ----------------------------------------------------------------------------- v1


def test_v1_four_formats_give_identical_records(hook: CallKeeperHook, world: CallKeeperWorld) -> None:
    outputs: dict[str, list[bytes]] = {}
    for fmt in m.V1_FORMATS:
        rows = _flat(hook.iter_v1_pages("call", LONG_START, LONG_END, response_format=fmt))
        outputs[fmt] = [r.__pydantic_serializer__.to_json(r, by_alias=True) for r in rows]
    expected = world.v1_calls_between("call", LONG_START, LONG_END)
    assert len(expected) > 1000, "two v1 pages"
    assert [json.loads(row) for row in outputs["json"]] == expected
    for fmt in ("xml", "csv", "plain"):
        assert outputs[fmt] == outputs["json"], fmt


def test_v1_and_v3_agree_on_the_calls_they_share(hook: CallKeeperHook) -> None:
    """v1 lists the call-tracking calls: its callIds are v3's ctCallIds of those calls."""
    for entity, method in (("call", "get"), ("callrole", "getByRole")):
        v1 = [r.call_id for r in _flat(hook.iter_v1_pages(entity, DAY, NEXT))]  # type: ignore[attr-defined]
        v3 = [c.ct_call_id for c in _flat(hook.iter_v3_pages(DAY, NEXT, method=method))]
        v3_tracking = [
            c.ct_call_id
            for c in _flat(hook.iter_v3_pages(DAY, NEXT, method=method))
            if c.service_type == "calltracking"
        ]
        assert v1 and v1 == v3_tracking
        assert set(v1) <= set(v3)
    both = _flat(hook.iter_call_pages(DAY, NEXT, method="getWithRole", api_version="v1"))
    assert sorted(r.call_id for r in both) == sorted(  # type: ignore[attr-defined]
        c.ct_call_id for c in _flat(hook.iter_v3_pages(DAY, NEXT)) if c.service_type == "calltracking"
    )


@pytest.mark.parametrize("entity", ["phone", "user", "campaign", "tag"])
def test_generic_getter_reads_the_reference_entities(
    hook: CallKeeperHook, world: CallKeeperWorld, entity: str
) -> None:
    expected = world.reference(entity)
    rows = hook.get_entity(entity)
    assert [r.model_dump(by_alias=True) for r in rows] == expected
    # the same records from csv: declared fields typed, the rest kept as text
    from_csv = hook.get_entity(entity, response_format="csv")
    id_field = f"{entity}Id"
    assert [r.model_dump(by_alias=True)[id_field] for r in from_csv] == [e[id_field] for e in expected]


def test_generic_getter_reads_callrole(hook: CallKeeperHook, world: CallKeeperWorld) -> None:
    rows = hook.get_entity("callrole", start=DAY, end=NEXT, response_format="xml")
    assert [r.model_dump(by_alias=True) for r in rows] == world.v1_calls_between("callrole", DAY, NEXT)


# ----------------------------------------------------------------------------- the operator


@pytest.mark.parametrize("api_version", ["v3", "v1"])
def test_operator_exports_the_window(
    ck_conn: str, world: CallKeeperWorld, tmp_path: Path, api_version: str
) -> None:
    out = tmp_path / "calls.jsonl"
    op = CallKeeperCallsToStorageOperator(task_id="export", output_path=str(out), api_version=api_version)
    summary = op.execute(CONTEXT)
    rows = list(read_records(str(out)))
    if api_version == "v3":
        expected = [{"page": 0, **c} for c in world.calls_between("getWithRole", DAY, NEXT)]
    else:
        expected = world.v1_calls_between("call", DAY, NEXT) + world.v1_calls_between("callrole", DAY, NEXT)
    assert rows == expected
    http = summary.pop("http")
    assert http["requests"] >= 2 and http["throttled"] == 0
    assert summary == {
        "path": f"file://{out}",
        "format": "jsonl",
        "records": len(expected),
        "bytes": out.stat().st_size,
        "window": {"start": "2026-06-14T00:00:00+00:00", "end": "2026-06-15T00:00:00+00:00"},
        "api_version": api_version,
        "method": "getWithRole",
        "response_format": "json",
    }
    # re-running the interval overwrites
    op.execute(CONTEXT)
    assert len(list(read_records(str(out)))) == len(expected)
    assert [p.name for p in tmp_path.iterdir()] == ["calls.jsonl"]


def test_operator_output_is_identical_whichever_v1_format(ck_conn: str, tmp_path: Path) -> None:
    contents = {}
    for fmt in m.V1_FORMATS:
        out = tmp_path / f"{fmt}.jsonl"
        CallKeeperCallsToStorageOperator(
            task_id="export", output_path=str(out), api_version="v1", response_format=fmt, method="get"
        ).execute(CONTEXT)
        contents[fmt] = out.read_bytes()
    assert contents["json"]
    assert contents["xml"] == contents["csv"] == contents["plain"] == contents["json"]


def test_operator_csv_output_and_empty_window(ck_conn: str, tmp_path: Path) -> None:
    out = tmp_path / "calls.csv"
    summary = CallKeeperCallsToStorageOperator(
        task_id="export", output_path=str(out), output_format="csv", method="get"
    ).execute(CONTEXT)
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:3] == ["page", "universalId", "serviceType"] and "utm_source" in header
    assert summary["records"] == len(list(read_records(str(out))))

    empty = tmp_path / "none.jsonl"
    summary = CallKeeperCallsToStorageOperator(
        task_id="export",
        output_path=str(empty),
        window_start="2031-03-01T00:00:00+00:00",
        window_end="2031-03-02T00:00:00+00:00",
    ).execute({})
    assert summary["records"] == 0 and empty.read_bytes() == b""


# ----------------------------------------------------------------------------- the key in logs


def test_the_key_never_reaches_captured_logs(
    ck_conn: str,
    monkeypatch: pytest.MonkeyPatch,
    sandbox_url: str,
    sandbox_config: SandboxConfig,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """Success, a retried 5xx, a cut-short body, a wrong key, a wrong page and a wrong date: no key anywhere."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # Airflow sets httpx to WARNING; show its URL lines
    key = sandbox_config.callkeeper_api_key
    wrong = "WRONGKEY0000XYZ2"
    monkeypatch.setenv(*conn_env("ck_wrong", conn_type="callkeeper", host=sandbox_url, password=wrong))
    messages: list[str] = []

    faults = f"{sandbox_url}/__sandbox__/faults"
    httpx.post(faults, json={"path_prefix": "/api/", "status": 503, "count": 1}).raise_for_status()
    httpx.post(faults, json={"path_prefix": "/api/", "fault": "truncate", "count": 1}).raise_for_status()
    try:
        summary = CallKeeperCallsToStorageOperator(
            task_id="export", output_path=str(tmp_path / "calls.jsonl")
        ).execute(CONTEXT)
    finally:
        httpx.delete(faults)
    assert summary["records"] > 0
    assert key not in json.dumps(summary)
    assert "HTTP 503" in caplog.text and "retrying" in caplog.text

    with CallKeeperHook("ck_wrong") as hook, pytest.raises(AuthenticationError) as auth:
        list(hook.iter_v3_pages(DAY, NEXT))
    messages.append(str(auth.value))
    with CallKeeperHook(ck_conn) as hook:
        # a page segment the server rejects (bypassing our own validation, which would refuse it)
        bad_page = m.V3CallsRequest.model_construct(
            method="get", page=-1, date_from="1781395200", date_to=None
        )
        with pytest.raises(ValidationError, match=r"\{pages\}") as page_err:
            hook.exchange.run(hook._v3_request(bad_page))
        messages.append(str(page_err.value))
        bad_date = m.V3CallsRequest.model_construct(method="get", page=0, date_from="yesterday", date_to=None)
        with pytest.raises(ValidationError, match=r"\{from\}") as date_err:
            hook.exchange.run(hook._v3_request(bad_date))
        messages.append(str(date_err.value))
        ok, message = hook.test_connection()
        assert ok
        messages.append(message)
    ok, message = CallKeeperHook("ck_wrong").test_connection()
    assert not ok
    messages.append(message)

    # the exchange logs every request line at DEBUG, redacted (httpcore's own lines are filtered too)
    assert "GET http://" in caplog.text, "the request lines were logged"
    assert "/call/getWithRole/0/" in caplog.text and "/***/" in caplog.text
    for secret in (key, wrong, sandbox_config.callkeeper_role_api_key):
        assert secret not in caplog.text
        for text in messages:
            assert secret not in text
