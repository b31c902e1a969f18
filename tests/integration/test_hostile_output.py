"""Finding 3 — output paths: an export whose destination cannot be a file of its format fails before
the first request; a temporary file a killed run left next to the output is cleaned by the next
successful run; a download folder that is an existing file fails before any request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_telephony.core.compat import airflow_fail_exception
from airflow_provider_telephony.core.errors import RequestValidationError
from airflow_provider_telephony.operators.avito import (
    AvitoCallsToStorageOperator,
    AvitoDownloadRecordingsOperator,
)
from airflow_provider_telephony.operators.callkeeper import CallKeeperCallsToStorageOperator
from tests.hostile_server import (
    AVITO_CALLS,
    AVITO_TOKEN,
    HostileServer,
    Reply,
    Request,
    avito_conn,
    avito_page,
    avito_token,
    callkeeper_conn,
    record_sleeps,
    reset_client_state,
    routes,
)

AirflowFailException = airflow_fail_exception()

pytestmark = pytest.mark.timeout(60)

WINDOW: dict[str, Any] = {
    "window_start": "2026-06-15T00:00:00+00:00",
    "window_end": "2026-06-16T00:00:00+00:00",
}


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    reset_client_state(monkeypatch)
    record_sleeps(monkeypatch)


def _avito_server() -> HostileServer:
    """A well-behaved Avito: one page of 3 calls, then an empty page."""

    def calls(request: Request) -> Reply:
        return Reply.json(avito_page(1, 3) if request.json()["offset"] == 0 else {"calls": []})

    return HostileServer(
        routes({("POST", AVITO_TOKEN): avito_token("tok-output-1"), ("POST", AVITO_CALLS): calls})
    )


#: (id, output_path relative to the test's folder, output_format) that no export may write to;
#: ``existing-dir.jsonl`` is created as a folder first
BAD_PATHS = [
    ("existing-directory", "existing-dir.jsonl", "jsonl"),
    ("empty", "", "jsonl"),
    ("trailing-slash", "out/", "jsonl"),
    ("csv-under-jsonl-name", "calls.jsonl", "csv"),
    ("jsonl-under-csv-name", "calls.csv", "jsonl"),
]
BAD_IDS = [case[0] for case in BAD_PATHS]


def _bad_path(tmp_path: Path, relative: str) -> str:
    (tmp_path / "existing-dir.jsonl").mkdir()
    return str(tmp_path / relative) + ("/" if relative.endswith("/") else "") if relative else ""


def _fail_cause(excinfo: pytest.ExceptionInfo[AirflowFailException]) -> BaseException:
    cause = excinfo.value.__cause__
    assert cause is not None, "AirflowFailException must carry the provider's error as its cause"
    return cause


def _assert_output_path_refused(excinfo: pytest.ExceptionInfo[AirflowFailException]) -> None:
    cause = _fail_cause(excinfo)
    assert isinstance(cause, RequestValidationError)
    assert cause.field == "output_path"
    assert "output_path" in str(excinfo.value)


@pytest.mark.parametrize(("name", "relative", "fmt"), BAD_PATHS, ids=BAD_IDS)
def test_avito_export_refuses_unusable_output_path_before_any_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, relative: str, fmt: str
) -> None:
    """Directory, empty, ``…/``, or an extension of another format: no request is sent."""
    path = _bad_path(tmp_path, relative)
    with _avito_server() as server:
        conn = avito_conn(monkeypatch, server.url)
        op = AvitoCallsToStorageOperator(
            task_id="export", output_path=path, output_format=fmt, avito_conn_id=conn, **WINDOW
        )
        with pytest.raises(AirflowFailException) as excinfo:
            op.execute({})
        assert server.count() == 0, name
    _assert_output_path_refused(excinfo)
    assert not (tmp_path / "calls.jsonl").exists() and not (tmp_path / "calls.csv").exists()


@pytest.mark.parametrize(("name", "relative", "fmt"), BAD_PATHS, ids=BAD_IDS)
def test_callkeeper_export_refuses_unusable_output_path_before_any_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, relative: str, fmt: str
) -> None:
    """The same rules hold for the CallKeeper export."""
    path = _bad_path(tmp_path, relative)
    with HostileServer(lambda req: Reply.json([])) as server:
        conn = callkeeper_conn(monkeypatch, server.url)
        op = CallKeeperCallsToStorageOperator(
            task_id="export",
            output_path=path,
            output_format=fmt,
            callkeeper_conn_id=conn,
            api_version="v3",
            method="get",
            **WINDOW,
        )
        with pytest.raises(AirflowFailException) as excinfo:
            op.execute({})
        assert server.count() == 0, name
    _assert_output_path_refused(excinfo)


def test_stale_temp_file_of_a_killed_run_is_removed_by_the_next_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``.calls.jsonl.tmp-abc123`` (a run killed mid-write) is gone after a successful run; temp files of
    other outputs are left alone."""
    stale = tmp_path / ".calls.jsonl.tmp-abc123"
    stale.write_bytes(b'{"callId": 1, "half": "written"')
    other = tmp_path / ".other.jsonl.tmp-def456"
    other.write_bytes(b"not ours")
    with _avito_server() as server:
        conn = avito_conn(monkeypatch, server.url)
        summary: dict[str, Any] = AvitoCallsToStorageOperator(
            task_id="export", output_path=str(tmp_path / "calls.jsonl"), avito_conn_id=conn, **WINDOW
        ).execute({})
    assert summary["records"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.jsonl.tmp-def456", "calls.jsonl"]
    assert len((tmp_path / "calls.jsonl").read_text().splitlines()) == 3


def test_download_destination_that_is_a_file_fails_before_any_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Recordings go into a folder; an existing file there is refused, untouched, with no request."""
    dest = tmp_path / "recordings"
    dest.write_bytes(b"a file, not a folder")
    with _avito_server() as server:
        conn = avito_conn(monkeypatch, server.url)
        op = AvitoDownloadRecordingsOperator(
            task_id="dl", call_ids=[1, 2], destination=str(dest), avito_conn_id=conn
        )
        with pytest.raises(AirflowFailException) as excinfo:
            op.execute({})
        assert server.count() == 0
    cause = _fail_cause(excinfo)
    assert isinstance(cause, RequestValidationError) and cause.field == "destination"
    assert dest.read_bytes() == b"a file, not a folder"
