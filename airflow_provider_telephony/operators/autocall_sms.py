"""AutoCall.kz SMS mailings and flash calls: sent exactly once, behind a cost guard, and exported.

Like campaigns (:mod:`.autocall`), a mailing carries our ``client_id`` (by default derived from the
DAG, the task, the map index and the logical date) and is looked up by it before sending and
after any unclear outcome; a retry or a re-run of the same date never sends a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from airflow.sdk import BaseOperator

from airflow_provider_telephony.core.operator_utils import default_client_id, fail_fast
from airflow_provider_telephony.operators.autocall import (
    UI_COLOR,
    ResultsToStorageOperator,
    cost_guard,
    reconnect,
    remember,
    remembered,
)

#: inline recipients a mailing takes; more go into a contact list first
MAX_INLINE = 5000

#: call statuses whose numbers ``unreached_of`` texts by default: the person simply did not pick
#: up.  Not ``spam`` (they complained), ``error`` (the number does not exist), ``in_queue``.
UNREACHED = ("no_answer", "busy")


class AutoCallSendSmsOperator(BaseOperator):
    """Send an SMS mailing exactly once, with per-contact variables, behind a cost guard.

    Recipients come from exactly one of: ``recipients`` (numbers, contact dicts with
    ``variables``, or list ids), ``contacts_path`` (a file as for the contact-list operator; a row
    the mailing cannot take goes unsent, with a warning), or ``unreached_of`` — a *completed*
    campaign whose calls ended in ``unreached_statuses`` (default ``no_answer`` and ``busy``) get
    the SMS, each with the variables it was called with.  More than 5,000 recipients go into a
    contact list first (created once, by a ``client_id`` derived from the mailing's).  The text may
    use ``{{variable}}``.  ``POST /bulks/calculate`` gives the highest cost first; over
    ``max_cost`` or the balance, nothing is sent (``CostGuardError``).  An earlier mailing with
    our ``client_id`` is reused instead.  With no recipient at all (everyone was reached), nothing
    is sent and ``bulk_id`` is ``None``.

    :param name: mailing name (templated).
    :param text: the message, up to 1,600 characters (templated).
    :param recipients: / ``contacts_path`` / ``unreached_of``: who gets it (templated).
    :param unreached_statuses: with ``unreached_of``, the call statuses that get the SMS.
    :param max_cost: refuse above this many tenge (``None``: only the balance limits).
    :param client_id: our id (default: derived from the task).
    :param date_from: / ``time_from``: when to start (default: now).
    :param autocall_conn_id: Airflow connection id.

    Returns ``{"bulk_id", "client_id", "recipients", "status", "reused"}``.
    """

    template_fields: Sequence[str] = (
        "name",
        "text",
        "recipients",
        "contacts_path",
        "unreached_of",
        "client_id",
    )
    ui_color = UI_COLOR
    state_key = "bulk_id"

    def __init__(
        self,
        *,
        name: str,
        text: str,
        recipients: Any = None,
        contacts_path: str | None = None,
        unreached_of: Any = None,
        unreached_statuses: Sequence[str] = UNREACHED,
        max_cost: float | None = None,
        client_id: str | None = None,
        date_from: Any = None,
        time_from: Any = None,
        autocall_conn_id: str = "autocall_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.text = text
        self.recipients = recipients
        self.contacts_path = contacts_path
        self.unreached_of = unreached_of
        self.unreached_statuses = tuple(unreached_statuses)
        self.max_cost = max_cost
        self.client_id = client_id
        self.date_from = date_from
        self.time_from = time_from
        self.autocall_conn_id = autocall_conn_id

    def _recipients(self, hook: Any) -> list[Any]:
        from airflow_provider_telephony.core.errors import RequestValidationError
        from airflow_provider_telephony.core.operator_utils import positive_ids
        from airflow_provider_telephony.operators.autocall_contacts import MAX_BULK_EXTRA, read_contacts

        given = [x not in (None, "") for x in (self.recipients, self.contacts_path, self.unreached_of)]
        if sum(given) != 1:
            raise RequestValidationError(
                "recipients", "give exactly one of recipients, contacts_path or unreached_of"
            )
        if self.recipients not in (None, ""):
            if isinstance(self.recipients, str) or not isinstance(self.recipients, list | tuple):
                raise RequestValidationError("recipients", "must be a list", value=self.recipients)
            return list(self.recipients)
        if self.contacts_path not in (None, ""):
            accepted, rejected = read_contacts(self.contacts_path, None, max_extra=MAX_BULK_EXTRA)
            if rejected:
                self.log.warning("%d rows of %s rejected (not sent to)", len(rejected), self.contacts_path)
            return accepted
        from airflow_provider_telephony.core.errors import NotReadyError

        autocall_id = positive_ids([self.unreached_of], "unreached_of")[0]
        status = hook.get_autocall(autocall_id).status
        if status != "completed":
            # texting "unreached" people while the campaign still calls them would reach them twice
            raise NotReadyError(
                f"campaign {autocall_id} is {status}, not completed: not texting its unreached yet"
            )
        unreached = []
        for call in hook.iter_autocall_calls(autocall_id):
            if call.status not in self.unreached_statuses:
                continue
            contact: dict[str, Any] = {"number": call.number}
            if call.variables:
                contact["variables"] = dict(call.variables)
            unreached.append(contact)
        self.log.info("campaign %d: %d numbers not reached", autocall_id, len(unreached))
        return unreached

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_telephony.hooks.autocall import AutoCallHook

        client_id = self.client_id or default_client_id(context)
        with AutoCallHook(self.autocall_conn_id) as hook:
            known = remembered(context, self.state_key)
            existing = reconnect(hook.get_bulk, known, client_id) or hook.find_bulk(client_id)
            if existing is not None:
                self.log.info(
                    "mailing %d (client_id %s) was already sent: not sending again", existing.id, client_id
                )
                return self._result(existing, client_id, reused=True)
            recipients = self._recipients(hook)
            if not recipients:
                self.log.info("no recipients: nothing to send")
                return {
                    "bulk_id": None,
                    "client_id": client_id,
                    "recipients": 0,
                    "status": None,
                    "reused": False,
                }
            if len(recipients) > MAX_INLINE and all(isinstance(r, dict) for r in recipients):
                from airflow_provider_telephony.operators.autocall_contacts import ensure_list

                list_id = ensure_list(hook, str(self.name), recipients, f"{client_id}-recipients", self.log)
                self.log.info(
                    "%d recipients put in list %d (more than %d)", len(recipients), list_id, MAX_INLINE
                )
                recipients = [list_id]
            spec = {
                "name": str(self.name),
                "text": str(self.text),
                "recipients": recipients,
                "date_from": self.date_from,
                "time_from": self.time_from,
            }
            cost = hook.calculate_bulk(**spec)
            cost_guard(hook, cost.max_cost, self.max_cost, "SMS mailing", self.log)
            bulk = hook.create_bulk(**spec, client_id=client_id)
        remember(context, self.state_key, bulk.id)
        self.log.info("mailing %d created (client_id %s)", bulk.id, client_id)
        return self._result(bulk, client_id, reused=False)

    @staticmethod
    def _result(bulk: Any, client_id: str, *, reused: bool) -> dict[str, Any]:
        return {
            "bulk_id": bulk.id,
            "client_id": client_id,
            "recipients": bulk.recipients,
            "status": bulk.status,
            "reused": reused,
        }


class AutoCallSmsResultsToStorageOperator(ResultsToStorageOperator):
    """Export every message of an SMS mailing — number, status, variables — to one file.

    :param bulk_id: the mailing (templated).  ``None`` (a mailing that was not needed) writes an
        empty file.
    :param output_path: destination (templated; ``.jsonl``, ``.csv`` or ``.parquet``).
    :param output_format: ``jsonl`` (default), ``csv`` or ``parquet``.
    :param autocall_conn_id: Airflow connection id.

    Returns ``{"path", "format", "records", "bytes", "statuses": {status: count}, "http"}``.
    """

    id_field = "bulk_id"
    schema_name = "MESSAGES_SCHEMA"
    what = "SMS messages"

    def __init__(self, *, bulk_id: Any, **kwargs: Any) -> None:
        super().__init__(object_id=bulk_id, **kwargs)

    def pages(self, hook: Any, object_id: int) -> Any:
        return hook.iter_raw_bulk_message_pages(object_id)


#: the key of the flash-call mark in ``task_state_store`` (Airflow 3.3+)
FLASH_CALL_KEY = "autocall_flash_call"


class AutoCallFlashCallOperator(BaseOperator):
    """Verify a subscriber with a flash call: a missed call whose caller's last digits are the code.

    Keeps to the document's 3 attempts per number per 5 minutes within a worker process (a 4th is
    refused before sending); across processes the server's 429 says so and is not retried.  The
    code is a secret: it is registered with Airflow's secrets masker (which masks values of 5
    characters or more: hence ``digits=6`` by default) and it is **not** returned in XCom — a task
    that must know it calls :meth:`AutoCallHook.send_flash_call` itself.  A flash call reaches a
    person and cannot be looked up: a lost answer is never re-sent, and on Airflow 3.3 a later try
    that finds this try's mark in ``task_state_store`` fails instead of calling again (on 3.1/3.2,
    a worker killed after sending leaves nothing to stop a retry: run it with ``retries=0``).

    :param number: ``+7XXXXXXXXXX`` (templated).
    :param digits: let the service pick a code of 3-6 digits (default 6). Or:
    :param code: your own code of 3-6 digits (templated; 422 when no pool number ends with it).
    :param autocall_conn_id: Airflow connection id.

    Returns ``{"id"}`` of the flash call.
    """

    template_fields: Sequence[str] = ("number", "code")
    ui_color = UI_COLOR

    def __init__(
        self,
        *,
        number: str,
        digits: int | None = 6,
        code: str | None = None,
        autocall_conn_id: str = "autocall_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.number = number
        self.digits = None if code else digits
        self.code = code
        self.autocall_conn_id = autocall_conn_id

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_telephony.core.errors import OutcomeUnknownError, TelephonyError
        from airflow_provider_telephony.core.retry import surely_not_applied
        from airflow_provider_telephony.hooks.autocall import AutoCallHook

        store = context.get("task_state_store")
        mark = store.get(FLASH_CALL_KEY) if store is not None else None
        if mark:
            raise OutcomeUnknownError(
                f"flash call: an earlier try of this task sent it at {mark.get('at')}; not calling the "
                "subscriber again (trigger a new DAG run for a new code)"
            )
        if store is not None:
            from datetime import timedelta

            store.set(
                FLASH_CALL_KEY, {"at": datetime.now(timezone.utc).isoformat()}, retention=timedelta(days=1)
            )
        with AutoCallHook(self.autocall_conn_id) as hook:
            try:
                flash = hook.send_flash_call(self.number, digits=self.digits, code=self.code or None)
            except TelephonyError as exc:
                if store is not None and surely_not_applied(exc):
                    store.delete(FLASH_CALL_KEY)  # refused or never sent: a later try may call
                raise
        self.log.info("flash call %d placed", flash.id)
        return {"id": flash.id}
