"""Tele2 ATS wire details shared by the hook's parts: paths, checks, result strings, conflict errors."""

from __future__ import annotations

from datetime import datetime, timezone
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from airflow_provider_telephony.core.errors import RequestValidationError, VendorError
from airflow_provider_telephony.core.flow import ApiRequest
from airflow_provider_telephony.core.records import Page, RecordSchema
from airflow_provider_telephony.core.windows import Window
from airflow_provider_telephony.models import tele2 as m

if TYPE_CHECKING:
    import httpx

REFRESH = "/authorization/refresh/token"
CALL_RECORDS = "/call-records/info"
RECORD_FILE = "/call-records/file"
TRANSCRIPT = "/call-records/file/stt"

#: the declared fields of a call record, as a validator of whole pages
CALL_RECORDS_SCHEMA = RecordSchema(m.CallRecord)
RECORD_DATE = attrgetter("date")

EMPLOYEES = list[m.Employee]
CURRENT_CALLS = list[m.CurrentCall]
QUEUES = list[m.QueueEntry]
WORDS = list[m.TranscriptWord]
MANAGERS = list[m.Manager]
BLACKLIST = list[m.BlacklistEntry]


def dead_pair_message(conn_id: str) -> str:
    """What to do when the pair cannot be refreshed any more."""
    return (
        f"connection {conn_id!r}: the Tele2 token pair is no longer valid (its refresh token was refused: "
        "unused for more than 7 days, or a new pair was generated in the PBX web UI). Generate a new pair "
        "in the PBX web UI (profile settings → block 'Token API' → 'Generate token'), then paste the "
        "refresh token into the connection's Password field and the access token into its 'Access "
        "token' field; the provider rotates it from then on"
    )


def result_text(response: httpx.Response) -> str:
    """A result string answer (``SUCCESS`` …), sent as plain text or as a JSON string."""
    text = response.text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text


def page_signature(page: Page) -> tuple[Any, ...]:
    """What identifies a page of call records: its size and its first and last records as sent."""
    return (len(page), page.record_bytes(0), page.record_bytes(-1))


def check_phone_field(value: Any, field: str) -> str:
    """A number in the API's ``7XXXXXXXXXX`` form, or a :class:`RequestValidationError` naming ``field``."""
    if not isinstance(value, str) or not m.PHONE_RE.fullmatch(value.strip()):
        raise RequestValidationError(field, "must be 11 digits starting with 7 (7XXXXXXXXXX)", value=value)
    return value.strip()


def check_file_name(value: Any, field: str = "filename") -> str:
    """A record file name as ``call-records/info`` gives it (``2022-08-12/mo_1660…``).

    It becomes a path under the download folder, so one that could leave it (``..``, a leading
    ``/``, a backslash) is refused, whoever sent it.
    """
    if not isinstance(value, str) or not value.strip():
        raise RequestValidationError(field, "must be a non-empty record file name", value=value)
    name = value.strip()
    if name.startswith("/") or "\\" in name or ".." in name.split("/"):
        raise RequestValidationError(field, "must be a relative name without '..' or '\\'", value=value)
    return name


class Tele2ManagerConflictError(VendorError):
    """A manager write the PBX refused because of another manager (see the subclasses)."""


class ManagerHandlingAllCustomersExistsError(Tele2ManagerConflictError):
    """``MANAGER_HANDLING_ALL_CUSTOMERS_ALREADY_EXISTS``: only one manager may handle all customers."""

    _permanent = True


class CustomerAlreadyAssignedError(Tele2ManagerConflictError):
    """``CUSTOMER_ALREADY_ASSIGNED``: a customer already belongs to another manager."""

    _permanent = True


MANAGER_RESULTS: dict[str, type[Tele2ManagerConflictError]] = {
    m.MANAGER_HANDLING_ALL_CUSTOMERS_ALREADY_EXISTS: ManagerHandlingAllCustomersExistsError,
    m.CUSTOMER_ALREADY_ASSIGNED: CustomerAlreadyAssignedError,
}


def get_request(name: str, path: str, parse: Any, params: dict[str, Any] | None = None) -> ApiRequest[Any]:
    """A GET (idempotent) whose answer ``parse`` reads."""
    return ApiRequest(name=name, method="GET", path=path, params=params, parse=parse)


def recorded_filters(caller: str | None, callee: str | None) -> dict[str, Any]:
    filters: dict[str, Any] = {"is_recorded": True, "size": 100}
    if caller:
        filters["caller"] = caller
    if callee:
        filters["callee"] = callee
    return filters


def file_names_in(records: list[m.CallRecord], start: datetime, end: datetime) -> list[str]:
    window = Window.of(start, end, start_field="start", end_field="end")
    return [
        r.recordFileName
        for r in records
        if r.recordFileName
        and (
            r.date is None
            or window.contains(r.date if r.date.tzinfo else r.date.replace(tzinfo=timezone.utc))
        )
    ]


def record_file_names(file_names: Any, records_path: Any) -> list[str]:
    """The record files an operator works on: exactly one of ``file_names`` / ``records_path``
    (an export of :class:`Tele2CallRecordsToStorageOperator`: every record with a file name)."""
    from airflow_provider_telephony.core.storage import read_records

    if (file_names is None) == (records_path in (None, "")):
        raise RequestValidationError("file_names", "give exactly one of file_names or records_path")
    if records_path not in (None, ""):
        names = [
            check_file_name(str(r["recordFileName"]), f"records_path line {number}")
            for number, r in enumerate(read_records(records_path, field="records_path"), 1)
            if r.get("recordFileName")
        ]
    else:
        if isinstance(file_names, str) or not isinstance(file_names, list | tuple):
            raise RequestValidationError(
                "file_names", "must be a list of record file names", value=file_names
            )
        names = [check_file_name(name, f"file_names[{i}]") for i, name in enumerate(file_names)]
    return list(dict.fromkeys(names))  # each once, in order
