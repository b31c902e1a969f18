"""Finding 7 — no raw Python errors: an unusable ``Retry-After`` (NaN, infinity, an HTTP-date), an
unusable ``timeout`` extra and a broken calls file each give a provider error (or a normal retry),
never a ``ValueError``/``OverflowError``/``KeyError`` escaping from deep inside.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_telephony.core.compat import airflow_fail_exception
from airflow_provider_telephony.core.errors import ConfigurationError, RequestValidationError
from airflow_provider_telephony.hooks.avito import AvitoHook
from airflow_provider_telephony.operators.avito import (
    AvitoCallsToStorageOperator,
    AvitoDownloadRecordingsOperator,
)
from airflow_provider_telephony.sensors.avito import AvitoRecordingSensor
from tests.hostile_server import (
    AVITO_CALLS,
    AVITO_TOKEN,
    HostileServer,
    Reply,
    Request,
    avito_conn,
    avito_token,
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
START = datetime(2026, 6, 15, tzinfo=timezone.utc)
END = datetime(2026, 6, 16, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    reset_client_state(monkeypatch)


def _avito_server(calls: Callable[[Request], Reply] | None = None) -> HostileServer:
    answer = calls or (lambda req: Reply.json({"calls": []}))
    return HostileServer(
        routes({("POST", AVITO_TOKEN): avito_token("tok-raw-1"), ("POST", AVITO_CALLS): answer})
    )


@pytest.mark.parametrize(
    "retry_after",
    [
        "nan",
        "NaN",
        "inf",
        "-inf",
        "1e999",
        "-5",
        formatdate(time.time() + 30, usegmt=True),
        formatdate(time.time() - 3600, usegmt=True),
        "Sun, 99 Foo 2026 25:61:61 GMT",
    ],
    ids=["nan", "NaN", "inf", "-inf", "overflow", "negative", "date-ahead", "date-past", "bad-date"],
)
def test_unusable_retry_after_on_503_is_retried_normally(
    monkeypatch: pytest.MonkeyPatch, retry_after: str
) -> None:
    """The 503 is retried and the retry succeeds; whatever the header said, the wait is a finite,
    non-negative number within the cap."""
    sleeps = record_sleeps(monkeypatch)

    def calls(request: Request) -> Reply:
        if request.path_number == 1:
            return Reply.text("busy", 503, headers={"Retry-After": retry_after})
        return Reply.json({"calls": []})

    with _avito_server(calls) as server:
        conn = avito_conn(monkeypatch, server.url, max_retries=1)
        with AvitoHook(conn) as hook:
            assert hook.get_calls_page(START, END) == []
        assert server.count(AVITO_CALLS) == 2
    assert len(sleeps.waits) == 1
    wait = sleeps.waits[0]
    assert math.isfinite(wait) and 0 <= wait <= 120


@pytest.mark.parametrize("timeout", ["nan", "inf", -1, "-1", 0, "soon"], ids=str)
def test_unusable_timeout_extra_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, timeout: Any
) -> None:
    """Via the export operator: the task fails at once (permanent), naming ``timeout``, with no request."""
    with _avito_server() as server:
        conn = avito_conn(monkeypatch, server.url, timeout=timeout)
        op = AvitoCallsToStorageOperator(
            task_id="export", output_path=str(tmp_path / "calls.jsonl"), avito_conn_id=conn, **WINDOW
        )
        with pytest.raises(AirflowFailException) as excinfo:
            op.execute({})
        with pytest.raises(ConfigurationError, match="'timeout'"):
            AvitoHook(conn).get_calls_page(START, END)
        assert server.count() == 0
    assert isinstance(excinfo.value.__cause__, ConfigurationError)
    assert "timeout" in str(excinfo.value)


def _calls_file(tmp_path: Path, kind: str) -> Path:
    """A calls file for the recording sensor/operator that cannot be used, of the given kind."""
    path = tmp_path / "calls.jsonl"
    lines = {
        "not-json": "this is not JSON\n",
        "no-callId": '{"talkDuration": 12, "callTime": "2026-06-15T10:00:00Z"}\n',
        "text-callId": '{"callId": "abc", "talkDuration": 12}\n',
        "fraction-callId": '{"callId": 1.5, "talkDuration": 12}\n',
        "negative-callId": '{"callId": -3, "talkDuration": 12}\n',
        "text-talkDuration": '{"callId": 3, "talkDuration": "long"}\n',
        "not-an-object": "[1, 2, 3]\n",
    }
    if kind != "missing":
        path.write_text('{"callId": 1, "talkDuration": 5}\n' + lines[kind])
    return path


CALLS_FILE_KINDS = [
    "missing",
    "not-json",
    "no-callId",
    "text-callId",
    "fraction-callId",
    "negative-callId",
    "text-talkDuration",
    "not-an-object",
]


def _assert_calls_path_refused(excinfo: pytest.ExceptionInfo[AirflowFailException]) -> None:
    cause = excinfo.value.__cause__
    assert isinstance(cause, RequestValidationError), repr(cause)
    assert cause.field == "calls_path"
    assert "calls_path" in str(excinfo.value)


@pytest.mark.parametrize("kind", CALLS_FILE_KINDS)
def test_unusable_calls_file_fails_the_sensor_before_any_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    """Poking and deferring (``execute``) both read the file first: a bad one fails the task at once."""
    calls_path = str(_calls_file(tmp_path, kind))
    with _avito_server() as server:
        conn = avito_conn(monkeypatch, server.url)
        for deferrable in (False, True):
            sensor = AvitoRecordingSensor(
                task_id="wait", calls_path=calls_path, avito_conn_id=conn, deferrable=deferrable
            )
            with pytest.raises(AirflowFailException) as excinfo:
                sensor.poke({}) if not deferrable else sensor.execute({})
            _assert_calls_path_refused(excinfo)
        assert server.count() == 0


@pytest.mark.parametrize("kind", CALLS_FILE_KINDS)
def test_unusable_calls_file_fails_the_download_before_any_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    calls_path = str(_calls_file(tmp_path, kind))
    with _avito_server() as server:
        conn = avito_conn(monkeypatch, server.url)
        op = AvitoDownloadRecordingsOperator(
            task_id="dl", calls_path=calls_path, destination=str(tmp_path / "rec"), avito_conn_id=conn
        )
        with pytest.raises(AirflowFailException) as excinfo:
            op.execute({})
        assert server.count() == 0
    _assert_calls_path_refused(excinfo)
