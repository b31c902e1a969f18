"""Tele2 ATS operators that make the PBX match a desired state: the blacklist and personal managers.

Both read the desired state from an argument or a file in storage (JSON Lines, CSV or Parquet),
validate all of it before the first write, compute the difference with what the PBX holds, and
apply only that — so running them again changes nothing.  ``dry_run=True`` reports the difference
without writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_telephony.core.operator_utils import fail_fast

if TYPE_CHECKING:
    from airflow_provider_telephony.models.tele2 import Manager, ManagerIn

UI_COLOR = "#c7b8ea"
SOURCE_TYPES = ("MANUAL", "FILE")


def _one_of(value: Any, path: Any, value_field: str, path_field: str) -> None:
    from airflow_provider_telephony.core.errors import RequestValidationError

    if (value is None) == (path in (None, "")):
        raise RequestValidationError(value_field, f"give exactly one of {value_field} or {path_field}")


class Tele2BlacklistSyncOperator(BaseOperator):
    """Make the PBX blacklist equal a desired list: add what is missing, remove what is extra.

    Only entries whose ``sourceType`` is in ``remove_sources`` are ever removed — by default the
    ``MANUAL`` ones, so numbers an administrator loaded from a file in the PBX UI stay.  An empty
    desired list would remove every such entry: it is refused unless ``allow_empty=True``.
    Adding a number already listed counts as done (``DUPLICATE_BLACK_LIST_NUMBER``).

    :param numbers: the desired numbers, ``7XXXXXXXXXX`` (templated). Or:
    :param numbers_path: a file with a ``number`` column/field (templated; ``.csv``, ``.jsonl``, ``.parquet``).
    :param remove_sources: which entries the sync may remove (``MANUAL``, ``FILE``).
    :param dry_run: only report the difference.
    :param allow_empty: accept an empty desired list.
    :param tele2_conn_id: Airflow connection id.

    Returns counts and the numbers added/removed (masked: they are personal data).
    """

    template_fields: Sequence[str] = ("numbers", "numbers_path")
    ui_color = UI_COLOR

    def __init__(
        self,
        *,
        numbers: Any = None,
        numbers_path: str | None = None,
        remove_sources: Sequence[str] = ("MANUAL",),
        dry_run: bool = False,
        allow_empty: bool = False,
        tele2_conn_id: str = "tele2_ats_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from airflow_provider_telephony.core.errors import RequestValidationError

        if isinstance(remove_sources, str) or not set(remove_sources) <= set(SOURCE_TYPES):
            raise RequestValidationError(
                "remove_sources", f"must be a list of {', '.join(SOURCE_TYPES)}", value=remove_sources
            )
        _one_of(numbers, numbers_path, "numbers", "numbers_path")
        self.numbers = numbers
        self.numbers_path = numbers_path
        self.remove_sources = tuple(remove_sources)
        self.report_only = dry_run  # BaseOperator has a dry_run() method
        self.allow_empty = allow_empty
        self.tele2_conn_id = tele2_conn_id

    def desired(self) -> list[str]:
        """The desired numbers, validated, each once (in order of first appearance)."""
        from airflow_provider_telephony.core.errors import RequestValidationError
        from airflow_provider_telephony.core.storage import read_records
        from airflow_provider_telephony.hooks.tele2 import check_phone_field

        _one_of(self.numbers, self.numbers_path, "numbers", "numbers_path")
        if self.numbers_path not in (None, ""):
            rows = read_records(str(self.numbers_path), field="numbers_path")
            values = [(f"numbers_path line {i}", str(r.get("number") or "")) for i, r in enumerate(rows, 1)]
        else:
            if isinstance(self.numbers, str) or not isinstance(self.numbers, list | tuple):
                raise RequestValidationError("numbers", "must be a list of numbers (7XXXXXXXXXX)")
            values = [(f"numbers[{i}]", str(n)) for i, n in enumerate(self.numbers)]
        numbers = list(dict.fromkeys(check_phone_field(v, where) for where, v in values))
        if not numbers and not self.allow_empty:
            raise RequestValidationError(
                "numbers",
                "is empty: the sync would remove every "
                + "/".join(self.remove_sources)
                + " entry; pass allow_empty=True if that is what you want",
            )
        return numbers

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_telephony.core.redact import mask_phone
        from airflow_provider_telephony.hooks.tele2 import Tele2AtsHook

        desired = self.desired()
        with Tele2AtsHook(self.tele2_conn_id) as hook:
            current = hook.list_blacklist()
            listed = {entry.number for entry in current}
            wanted = set(desired)
            to_add = [n for n in desired if n not in listed]
            # an entry without a sourceType is kept: only what is known to be removable is removed
            to_remove = sorted(
                {e.number for e in current if e.number not in wanted and e.sourceType in self.remove_sources}
            )
            kept_other = sum(
                1 for e in current if e.number not in wanted and e.sourceType not in self.remove_sources
            )
            self.log.info(
                "blacklist: %d listed, %d desired; %d to add, %d to remove, %d extra kept (source not in %s)%s",
                len(listed),
                len(wanted),
                len(to_add),
                len(to_remove),
                kept_other,
                list(self.remove_sources),
                " — dry run, nothing changed" if self.report_only else "",
            )
            if not self.report_only:
                for number in to_add:
                    hook.add_to_blacklist(number)
                for number in to_remove:
                    hook.remove_from_blacklist(number)
            return {
                "dry_run": self.report_only,
                "listed": len(listed),
                "desired": len(wanted),
                "added": len(to_add),
                "removed": len(to_remove),
                "kept_other_sources": kept_other,
                "to_add": [mask_phone(n) for n in to_add],
                "to_remove": [mask_phone(n) for n in to_remove],
            }


class Tele2ManagersSyncOperator(BaseOperator):
    """Upsert personal managers and their customers from a list: create missing, update changed.

    A manager is matched to the PBX's by ``employeeId`` (one manager per employee); a matched one
    is updated (``PUT`` with its id) only when its name, customers or ``handleAllCustomers``
    differ.  With ``remove_missing=True`` managers of other employees are deleted.  Every manager is
    validated before the first write; the PBX's refusals surface as
    ``ManagerHandlingAllCustomersExistsError`` or ``CustomerAlreadyAssignedError``.

    :param managers: desired managers (templated): dicts with ``employeeId``, ``name``,
        ``customers`` (``realNumber``, ``name``, ``companyName``, ``info``, ``isVip``) and
        ``handleAllCustomers``. Or:
    :param managers_path: a JSON Lines file of such managers (templated).
    :param remove_missing: delete managers whose employee is not in the list.
    :param dry_run: only report what would change.
    :param tele2_conn_id: Airflow connection id.
    """

    template_fields: Sequence[str] = ("managers", "managers_path")
    ui_color = UI_COLOR

    def __init__(
        self,
        *,
        managers: Any = None,
        managers_path: str | None = None,
        remove_missing: bool = False,
        dry_run: bool = False,
        tele2_conn_id: str = "tele2_ats_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _one_of(managers, managers_path, "managers", "managers_path")
        self.managers = managers
        self.managers_path = managers_path
        self.remove_missing = remove_missing
        self.report_only = dry_run  # BaseOperator has a dry_run() method
        self.tele2_conn_id = tele2_conn_id

    def desired(self) -> list[ManagerIn]:
        """The desired managers, validated (field names in errors: ``managers[2].customers.0.realNumber``)."""
        from airflow_provider_telephony.core.errors import RequestValidationError
        from airflow_provider_telephony.core.storage import read_records
        from airflow_provider_telephony.core.validation import build_request
        from airflow_provider_telephony.models.tele2 import ManagerIn

        _one_of(self.managers, self.managers_path, "managers", "managers_path")
        if self.managers_path not in (None, ""):
            rows = list(read_records(str(self.managers_path), field="managers_path"))
        elif isinstance(self.managers, list | tuple):
            rows = list(self.managers)
        else:
            raise RequestValidationError(
                "managers", "must be a list of managers", value=type(self.managers).__name__
            )
        result: list[ManagerIn] = []
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                raise RequestValidationError(
                    f"managers[{index}]", "must be an object", value=type(row).__name__
                )
            try:
                result.append(build_request(ManagerIn, **{k: v for k, v in row.items() if k != "id"}))
            except RequestValidationError as exc:
                raise RequestValidationError(f"managers[{index}].{exc.field}", exc.rule) from None
        employees = [m.employeeId for m in result]
        duplicated = sorted({e for e in employees if employees.count(e) > 1})
        if duplicated:
            raise RequestValidationError("managers", f"list employees {duplicated} more than once")
        return result

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_telephony.hooks.tele2 import Tele2AtsHook

        desired = self.desired()
        summary: dict[str, Any] = {
            "dry_run": self.report_only,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "deleted": 0,
        }
        with Tele2AtsHook(self.tele2_conn_id) as hook:
            existing = {m.employeeId: m for m in hook.list_managers() if m.employeeId is not None}
            for manager in desired:
                found = existing.get(manager.employeeId)
                if found is None:
                    summary["created"] += 1
                    if not self.report_only:
                        hook.create_manager(manager)
                elif _differs(manager, found):
                    summary["updated"] += 1
                    if not self.report_only:
                        hook.update_manager(
                            manager.model_copy(
                                update={"id": found.id, "companyId": manager.companyId or found.companyId}
                            )
                        )
                else:
                    summary["unchanged"] += 1
            if self.remove_missing:
                wanted = {m.employeeId for m in desired}
                for employee, found in existing.items():
                    if employee not in wanted and found.id is not None:
                        summary["deleted"] += 1
                        if not self.report_only:
                            hook.delete_manager(found.id, missing_ok=True)
        self.log.info(
            "managers: %(created)d to create, %(updated)d to update, %(unchanged)d unchanged, %(deleted)d to delete",
            summary,
        )
        return summary


def _customers(customers: Sequence[Any]) -> set[tuple[Any, ...]]:
    return {
        (c.realNumber, c.name or None, c.companyName or None, c.info or None, bool(c.isVip))
        for c in customers
    }


def _differs(wanted: ManagerIn, found: Manager) -> bool:
    """Whether the PBX's manager differs from the wanted one in anything the list sets."""
    return (
        wanted.name != found.name
        or bool(wanted.handleAllCustomers) != bool(found.handleAllCustomers)
        or _customers(wanted.customers) != _customers(found.customers)
    )
