"""Reading contacts for AutoCall.kz lists and mailings: normalise, validate, de-duplicate, reject.

A DAG's contacts come from a CRM export: numbers written every which way, some wrong.  Each row is
normalised to ``+7XXXXXXXXXX`` and checked against the document's pattern; a row that fails goes
to a rejects file with its reason, so one bad row never fails the batch (and is never silently lost).
"""

from __future__ import annotations

import json
import re
from typing import Any

from airflow_provider_telephony.core.errors import RequestValidationError

#: characters people write inside phone numbers
_SEPARATORS = re.compile(r"[\s\-()./]")
#: the document's limits of a contact's fields (``extra``: 255 in lists, 60 inline in a mailing)
MAX_EXTRA = 255
MAX_BULK_EXTRA = 60
MAX_VARIABLE_VALUE = 255
#: contacts per ``POST /lists`` or ``/lists/append`` request (the document's maximum)
LIST_CHUNK = 10_000
#: how long to wait for a list the service is still importing
IMPORT_WAIT = 300.0


def normalise_number(raw: Any) -> str:
    """``+7XXXXXXXXXX`` from ``8 (701) 000-00-00``, ``77010000000``, ``+7 701 …`` (unchanged otherwise)."""
    text = _SEPARATORS.sub("", str(raw or ""))
    if len(text) == 11 and text[0] in "78" and text.isdigit():
        return "+7" + text[1:]
    if len(text) == 10 and text.isdigit():
        return "+7" + text
    return text


def _variables(value: Any) -> dict[str, str]:
    from airflow_provider_telephony.models.autocall_common import VARIABLE_NAME_RE

    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError("variables is not a JSON object") from None
    if not isinstance(value, dict):
        raise ValueError("variables is not an object")
    out = {}
    for key, item in value.items():
        if not VARIABLE_NAME_RE.fullmatch(str(key)):
            raise ValueError(f"variable name {key!r} is not [a-zA-Z0-9_], up to 30 characters")
        text = "" if item is None else str(item)
        if len(text) > MAX_VARIABLE_VALUE:
            raise ValueError(f"variable {key!r} is longer than {MAX_VARIABLE_VALUE} characters")
        out[str(key)] = text
    return out


def contact_of(row: Any, *, max_extra: int = MAX_EXTRA) -> dict[str, Any]:
    """One contact as the API takes it, or ``ValueError`` with the reason."""
    from airflow_provider_telephony.models.autocall_common import LIST_NUMBER_RE

    data = row if isinstance(row, dict) else {"number": row}
    number = normalise_number(data.get("number"))
    if not LIST_NUMBER_RE.fullmatch(number):
        raise ValueError("not a Kazakh mobile number (+7 and a mobile operator's code)")
    contact: dict[str, Any] = {"number": number}
    extra = data.get("extra")
    if extra not in (None, ""):
        if len(str(extra)) > max_extra:
            raise ValueError(f"extra is longer than {max_extra} characters")
        contact["extra"] = str(extra)
    variables = _variables(data.get("variables"))
    if variables:
        contact["variables"] = variables
    return contact


def read_contacts(
    path: Any, contacts: Any, *, max_extra: int = MAX_EXTRA
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(accepted, rejected)`` from exactly one of a file (``path``) and a list (``contacts``).

    A number seen before is rejected as a duplicate (the first row wins).
    """
    from airflow_provider_telephony.core.storage import read_records

    if (path in (None, "")) == (contacts is None):
        raise RequestValidationError("contacts_path", "give exactly one of contacts_path or contacts")
    if path not in (None, ""):
        rows: Any = read_records(str(path), field="contacts_path")
    elif isinstance(contacts, list | tuple):
        rows = contacts
    else:
        raise RequestValidationError("contacts", "must be a list of numbers or contact dicts")
    accepted: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, 1):
        raw = row.get("number") if isinstance(row, dict) else row
        try:
            contact = contact_of(row, max_extra=max_extra)
        except ValueError as exc:
            rejected.append({"row": number, "number": "" if raw is None else str(raw), "reason": str(exc)})
            continue
        if contact["number"] in seen:
            rejected.append({"row": number, "number": str(raw), "reason": "duplicate of an earlier row"})
            continue
        seen.add(contact["number"])
        accepted.append(contact)
    return accepted, rejected


def write_rejects(rejected: list[dict[str, Any]], rejects_path: Any, contacts_path: Any) -> str | None:
    """Write the rejected rows (row, number, reason) next to the input, published atomically."""
    from airflow_provider_telephony.core.records import Page, RecordSchema
    from airflow_provider_telephony.core.storage import check_format, check_output_path
    from airflow_provider_telephony.core.writers import open_records

    target = rejects_path
    if target in (None, ""):
        if contacts_path in (None, ""):
            return None
        target = str(contacts_path).rsplit(".", 1)[0] + ".rejects.jsonl"
    fmt = "csv" if str(target).endswith(".csv") else "jsonl"
    path = check_output_path(str(target), check_format(fmt), field="rejects_path")
    with open_records(path, fmt, RecordSchema(_rejected_model())) as writer:
        writer.write(Page.from_records(rejected))
    return str(path)


def _rejected_model() -> Any:
    """The columns of a rejects file."""
    from pydantic import BaseModel

    class RejectedContact(BaseModel):
        row: int
        number: str
        reason: str

    return RejectedContact


def wait_imported(hook: Any, list_id: int, log: Any, *, limit: float = IMPORT_WAIT) -> Any:
    """The list once the service has finished importing it (``importing`` false), bounded."""
    import time

    deadline = time.monotonic() + limit
    pause = 1.0
    while True:
        detail = hook.get_list(list_id)
        if not getattr(detail, "importing", False):
            return detail
        if time.monotonic() + pause > deadline:
            raise TimeoutError(f"list {list_id} is still being imported after {limit:.0f}s")
        log.info("list %d is still being imported; waiting", list_id)
        time.sleep(pause)
        pause = min(pause * 2, 15.0)


def ensure_list(hook: Any, name: str, contacts: list[dict[str, Any]], client_id: str, log: Any) -> int:
    """The id of the list ``client_id`` names, holding every one of ``contacts`` exactly once.

    A new list is created with the first 10,000 and the rest appended 10,000 at a time.  A list
    that exists already (a retry, a re-run) is checked once the service has finished importing it:
    holding as many contacts as wanted, it is complete (the usual re-run: one request); otherwise
    it is read back and only the contacts it does not hold are appended — nothing twice, nothing
    skipped, whatever an earlier try managed or the list lost since.
    """
    existing = hook.find_list(client_id)
    if existing is None:
        list_id = hook.create_list(name, contacts[:LIST_CHUNK], client_id=client_id).id
        rest = contacts[LIST_CHUNK:]
    else:
        list_id = existing.id
        if getattr(wait_imported(hook, list_id, log), "contacts_count", None) == len(contacts):
            log.info("list %d exists (client_id %s) and is complete", list_id, client_id)
            return int(list_id)
        held = {contact.number for contact in hook.iter_list_contacts(list_id)}
        rest = [contact for contact in contacts if contact["number"] not in held]
        log.info(
            "list %d exists (client_id %s) with %d contacts; %d to add",
            list_id,
            client_id,
            len(held),
            len(rest),
        )
    for start in range(0, len(rest), LIST_CHUNK):
        hook.append_to_list(list_id, rest[start : start + LIST_CHUNK])
        log.info("appended %d contacts to list %d", len(rest[start : start + LIST_CHUNK]), list_id)
    return int(list_id)
