"""AutoCall.kz operators: contact lists, sounds, campaigns (launched exactly once, behind a cost
guard), their results, and relaunches.  SMS mailings and flash calls are in :mod:`.autocall_sms`.

**Exactly once.**  Every create that costs money or reaches a person carries our ``client_id`` —
by default derived from the DAG, the task, the map index and the logical date, so every try and
every re-run of the same date use the same id — and the hook looks it up before sending and after
any unclear outcome.  Where Airflow offers ``task_state_store`` (3.3+) the created object's id is
kept there too, so a retry reconnects to it without a lookup.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_telephony.core.errors import VendorError
from airflow_provider_telephony.core.operator_utils import (
    default_client_id,
    default_deferrable,
    export_pages,
    fail_fast,
    raise_for_event,
)

if TYPE_CHECKING:
    from airflow_provider_telephony.hooks.autocall import AutoCallHook

UI_COLOR = "#ffd6a5"


class CostGuardError(VendorError):
    """The campaign or mailing would cost more than allowed (``max_cost``) or than the balance holds."""

    _permanent = True


def cost_guard(hook: AutoCallHook, cost: float | None, max_cost: float | None, what: str, log: Any) -> None:
    """Refuse when the highest cost exceeds ``max_cost`` or the balance (nothing is created)."""
    if cost is None:
        raise CostGuardError(f"{what}: the calculation answered no max_cost; not launching blind")
    balance = hook.get_balance().balance
    log.info("%s: highest cost %.2f, balance %.2f, limit %s", what, cost, balance, max_cost)
    if max_cost is not None and cost > max_cost:
        raise CostGuardError(f"{what}: the highest cost {cost:.2f} exceeds max_cost {max_cost:.2f}")
    if cost > balance:
        raise CostGuardError(f"{what}: the highest cost {cost:.2f} exceeds the balance {balance:.2f}")


def reconnect(read: Any, known: int | None, client_id: str) -> Any:
    """The object an earlier try kept the id of, if it still exists and is ours, else ``None``."""
    from airflow_provider_telephony.core.errors import NotFoundError

    if known is None:
        return None
    try:
        found = read(known)
    except NotFoundError:
        return None
    return found if getattr(found, "client_id", None) == client_id else None


def remembered(context: Any, key: str) -> int | None:
    """The id an earlier try of this task kept in ``task_state_store`` (Airflow 3.3+), else ``None``."""
    store = context.get("task_state_store")
    value = store.get(key) if store is not None else None
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def remember(context: Any, key: str, value: int) -> None:
    """Keep an id for later tries of this task (a no-op where Airflow has no ``task_state_store``)."""
    store = context.get("task_state_store")
    if store is not None:
        store.set(key, value, retention=timedelta(days=30))


class AutoCallCreateContactListOperator(BaseOperator):
    """Create a contact list from a file in storage or a list: normalise, validate, de-duplicate.

    Numbers are normalised to ``+7XXXXXXXXXX`` (spaces, dashes and brackets dropped; ``8…`` and
    ``7…`` read as ``+7…``) and checked against the document's pattern for lists; a row that fails
    is written with its reason to ``rejects_path`` instead of failing the batch.  The first 10,000
    contacts create the list (with our ``client_id``); the rest are appended 10,000 at a time.
    Safe to re-run: the list is found by its ``client_id``, read back once the service has
    imported it, and only the contacts it does not hold yet are appended.

    :param name: the list's name (1-40 characters, templated).
    :param contacts_path: a CSV or JSON Lines file (templated) with a ``number`` column and
        optional ``extra`` (text) and ``variables`` (an object, or JSON text in CSV). Or:
    :param contacts: a list of numbers or ``{"number", "extra", "variables"}`` dicts (templated).
    :param rejects_path: where rejected rows go (templated; ``.jsonl`` or ``.csv``); default: beside
        ``contacts_path`` with ``.rejects.jsonl``, or none for ``contacts``.
    :param client_id: our id for the list (default: derived from the task, see the module doc).
    :param autocall_conn_id: Airflow connection id.

    Returns ``{"list_id", "client_id", "contacts", "rejected", "rejects_path"}``.
    """

    template_fields: Sequence[str] = ("name", "contacts_path", "contacts", "rejects_path", "client_id")
    ui_color = UI_COLOR

    def __init__(
        self,
        *,
        name: str,
        contacts_path: str | None = None,
        contacts: Any = None,
        rejects_path: str | None = None,
        client_id: str | None = None,
        autocall_conn_id: str = "autocall_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.contacts_path = contacts_path
        self.contacts = contacts
        self.rejects_path = rejects_path
        self.client_id = client_id
        self.autocall_conn_id = autocall_conn_id

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_telephony.hooks.autocall import AutoCallHook
        from airflow_provider_telephony.operators.autocall_contacts import (
            ensure_list,
            read_contacts,
            write_rejects,
        )

        accepted, rejected = read_contacts(self.contacts_path, self.contacts)
        rejects = None
        if rejected:
            rejects = write_rejects(rejected, self.rejects_path, self.contacts_path)
            self.log.warning("%d rows rejected (reasons in %s)", len(rejected), rejects)
        if not accepted:
            from airflow_provider_telephony.core.errors import RequestValidationError

            raise RequestValidationError("contacts", "no valid number to put in a list")
        client_id = self.client_id or default_client_id(context)
        with AutoCallHook(self.autocall_conn_id) as hook:
            list_id = ensure_list(hook, self.name, accepted, client_id, self.log)
        self.log.info("list %d: %d contacts, %d rejected", list_id, len(accepted), len(rejected))
        return {
            "list_id": list_id,
            "client_id": client_id,
            "contacts": len(accepted),
            "rejected": len(rejected),
            "rejects_path": rejects,
        }


class AutoCallCreateSoundOperator(BaseOperator):
    """Create a sound: speech synthesis from ``text`` or an upload of a file from storage.

    Created once per ``client_id`` (found by it on a retry).  New sounds go to moderation: wait for
    it with :class:`~airflow_provider_telephony.sensors.autocall.AutoCallSoundModerationSensor`.

    :param name: the sound's name (1-40 characters, templated).
    :param text: text to synthesise (1-400 characters, templated). Or:
    :param file_path: an mp3/wav/ogg file in storage to upload (templated).
    :param voice: / ``speed`` / ``pitch``: synthesis settings (the document's voices and ranges).
    :param client_id: our id for it (default: derived from the task).
    :param autocall_conn_id: Airflow connection id.

    Returns ``{"id", "client_id", "confirmed", "duration"}``.
    """

    template_fields: Sequence[str] = ("name", "text", "file_path", "client_id")
    ui_color = UI_COLOR

    def __init__(
        self,
        *,
        name: str,
        text: str | None = None,
        file_path: str | None = None,
        voice: str | None = None,
        speed: float | None = None,
        pitch: float | None = None,
        client_id: str | None = None,
        autocall_conn_id: str = "autocall_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.text = text
        self.file_path = file_path
        self.voice = voice
        self.speed = speed
        self.pitch = pitch
        self.client_id = client_id
        self.autocall_conn_id = autocall_conn_id

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_telephony.core.errors import RequestValidationError
        from airflow_provider_telephony.hooks.autocall import AutoCallHook

        if (self.text in (None, "")) == (self.file_path in (None, "")):
            raise RequestValidationError("text", "give exactly one of text (synthesis) or file_path (upload)")
        client_id = self.client_id or default_client_id(context)
        with AutoCallHook(self.autocall_conn_id) as hook:
            if self.text not in (None, ""):
                sound = hook.create_sound(
                    self.name,
                    "synthesis",
                    text=self.text,
                    voice=self.voice,
                    speed=self.speed,
                    pitch=self.pitch,
                    client_id=client_id,
                )
            else:
                from airflow_provider_telephony.core.storage import as_storage_path

                path = as_storage_path(str(self.file_path))
                if not path.is_file():
                    raise RequestValidationError("file_path", "no such file", value=str(self.file_path))
                sound = hook.create_sound(self.name, "upload", file=path.read_bytes(), client_id=client_id)
        self.log.info("sound %d created (in moderation until confirmed)", sound.id)
        return {
            "id": sound.id,
            "client_id": client_id,
            "confirmed": bool(sound.confirmed),
            "duration": sound.duration,
        }


class AutoCallLaunchCampaignOperator(BaseOperator):
    """Launch a campaign exactly once, behind a cost guard, and optionally wait for its end.

    1. An earlier try's or run's campaign (``task_state_store``, then our ``client_id``) is reused:
       nothing is calculated or sent again.
    2. The **cost guard**: ``POST /autocalls/calculate`` gives the highest cost; the launch is
       refused (``CostGuardError``, no retries) when it exceeds ``max_cost`` or the balance.
    3. ``POST /autocalls`` with our ``client_id``; a lost answer, or a 202 for more than 5,000
       numbers, is settled by looking the campaign up — never by sending it again.
    4. With ``wait_for_completion=True`` the task waits until ``completed`` (deferred with
       ``deferrable=True``: no worker slot); ``denied`` fails with the moderator's comment.

    :param name: campaign name (1-40 characters, templated).
    :param list_id: contact list ids and/or inline numbers (templated; e.g. the list operator's XCom).
    :param campaign_type: ``regular`` (``audio_id``) or ``interactive`` (``scenario_id``).
    :param audio_id: sound ids and/or ``{"type": "synthesis", "data": {...}}`` (templated).
    :param scenario_id: for interactive campaigns (templated).
    :param options: any other field of the document's ``AutocallCreate`` (``time_from``,
        ``time_to``, ``date_from``, ``max_tries``, ``tries_interval``, ``sms_unanswered``,
        ``text_unanswered``, ``record``, ``callback_url``, ``caller_id`` …), templated.
    :param max_cost: refuse to launch above this many tenge (``None``: only the balance limits).
    :param client_id: our id (default: derived from the task).
    :param wait_for_completion: wait until the campaign is completed.
    :param deferrable: / ``poke_interval`` / ``max_wait``: how to wait.
    :param autocall_conn_id: Airflow connection id.

    Returns ``{"id", "client_id", "status", "max_cost", "reused"}``.
    """

    template_fields: Sequence[str] = ("name", "list_id", "audio_id", "scenario_id", "options", "client_id")
    ui_color = UI_COLOR
    state_key = "autocall_id"

    def __init__(
        self,
        *,
        name: str,
        list_id: Any,
        campaign_type: str = "regular",
        audio_id: Any = None,
        scenario_id: Any = None,
        options: dict[str, Any] | None = None,
        max_cost: float | None = None,
        client_id: str | None = None,
        wait_for_completion: bool = False,
        deferrable: bool | None = None,
        poke_interval: float = 60.0,
        max_wait: timedelta = timedelta(hours=12),
        autocall_conn_id: str = "autocall_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.list_id = list_id
        self.campaign_type = campaign_type
        self.audio_id = audio_id
        self.scenario_id = scenario_id
        self.options = dict(options or {})
        self.max_cost = max_cost
        self.client_id = client_id
        self.wait_for_completion = wait_for_completion
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poke_interval = float(poke_interval)
        self.max_wait = max_wait
        self.autocall_conn_id = autocall_conn_id

    def spec(self) -> dict[str, Any]:
        """The campaign's fields as :meth:`AutoCallHook.create_autocall` takes them."""
        audio = None if self.audio_id in (None, "") else [ids_of(x) for x in as_list(self.audio_id)]
        return {
            "name": str(self.name),
            "list_id": [ids_of(x) for x in as_list(self.list_id)],
            "type": self.campaign_type,
            "audio_id": audio,
            "scenario_id": ids_of(self.scenario_id) if self.scenario_id not in (None, "") else None,
            **self.options,
        }

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_telephony.hooks.autocall import AutoCallHook

        client_id = self.client_id or default_client_id(context)
        spec = self.spec()
        with AutoCallHook(self.autocall_conn_id) as hook:
            campaign, reused = launch_campaign(
                hook, spec, client_id, self.max_cost, self.log, known=remembered(context, self.state_key)
            )
        remember(context, self.state_key, campaign.id)
        result = {
            "id": campaign.id,
            "client_id": client_id,
            "status": campaign.status,
            "max_cost": campaign.max_cost,
            "reused": reused,
        }
        if not self.wait_for_completion:
            return result
        return self._wait(campaign.id, result)

    def _wait(self, autocall_id: int, result: dict[str, Any]) -> dict[str, Any]:
        if self.deferrable:
            from airflow_provider_telephony.triggers.autocall import AutoCallStatusTrigger

            self.log.info("campaign %d launched; waiting for it to complete (deferred)", autocall_id)
            self.defer(
                trigger=AutoCallStatusTrigger(
                    kind="autocall",
                    object_id=autocall_id,
                    autocall_conn_id=self.autocall_conn_id,
                    poke_interval=self.poke_interval,
                    carry=result,  # the launch summary, back in execute_complete
                ),
                method_name="execute_complete",
                timeout=self.max_wait,
            )
        from airflow_provider_telephony.hooks.autocall import AutoCallHook
        from airflow_provider_telephony.triggers.autocall import DONE, REFUSED, AutoCallRefusedError, verdict

        deadline = time.monotonic() + self.max_wait.total_seconds()
        with AutoCallHook(self.autocall_conn_id) as hook:
            while True:
                state, told = verdict("autocall", hook.get_autocall(autocall_id))
                if state == DONE:
                    return {**result, "status": "completed"}
                if state == REFUSED:
                    raise AutoCallRefusedError(told)
                if time.monotonic() + self.poke_interval > deadline:
                    raise TimeoutError(f"campaign {autocall_id} still {told} after {self.max_wait}")
                time.sleep(self.poke_interval)

    @fail_fast
    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger: fail on a denial or error, else the launch summary, completed."""
        raise_for_event(event, "waiting for the campaign")
        return {**(event.get("carry") or {"id": event["id"]}), "status": "completed"}


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def ids_of(value: Any) -> Any:
    """An id rendered from a template as text (``"123"``) becomes the integer it names; a phone
    number (12 characters with ``+``) or an object stays as it is."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 11:
        return int(value.strip())
    return value


def launch_campaign(
    hook: AutoCallHook,
    spec: dict[str, Any],
    client_id: str,
    max_cost: float | None,
    log: Any,
    *,
    known: int | None = None,
) -> tuple[Any, bool]:
    """The campaign of ``client_id``: reused when it exists, else created behind the cost guard.

    Returns ``(campaign, reused)``.
    """
    existing = reconnect(hook.get_autocall, known, client_id) or hook.find_autocall(client_id)
    if existing is not None:
        log.info(
            "campaign %d (client_id %s) was already launched: not launching again", existing.id, client_id
        )
        return existing, True
    from airflow_provider_telephony.operators.autocall_contacts import wait_imported

    for list_id in spec.get("list_id") or ():
        if isinstance(list_id, int):
            wait_imported(hook, list_id, log)  # a list still importing would be priced short
    cost = hook.calculate_autocall(**spec)
    cost_guard(hook, cost.max_cost, max_cost, "campaign", log)
    campaign = hook.create_autocall(**spec, client_id=client_id)
    log.info("campaign %d launched (client_id %s)", campaign.id, client_id)
    return campaign, False


class ResultsToStorageOperator(BaseOperator):
    """Base of the result exports: every record of one campaign or mailing, paged, to one file.

    Pages are written as AutoCall sent them (validated), to a temporary file published over
    ``output_path`` only when complete; the summary counts records per ``status``.  Subclasses say
    which pages (:meth:`pages`) and which schema.  An id of ``None`` (nothing was created) writes an
    empty file.
    """

    template_fields: Sequence[str] = ("object_id", "output_path", "output_format")
    ui_color = UI_COLOR
    id_field: str = ""
    schema_name: str = ""
    what: str = ""

    def __init__(
        self,
        *,
        object_id: Any,
        output_path: str,
        output_format: str = "jsonl",
        autocall_conn_id: str = "autocall_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.object_id = object_id
        self.output_path = output_path
        self.output_format = output_format
        self.autocall_conn_id = autocall_conn_id

    def pages(self, hook: AutoCallHook, object_id: int) -> Any:
        raise NotImplementedError

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_telephony.core.operator_utils import positive_ids
        from airflow_provider_telephony.core.storage import check_format, check_output_path
        from airflow_provider_telephony.hooks import autocall

        fmt = check_format(self.output_format)
        path = check_output_path(self.output_path, fmt)
        statuses: dict[str, int] = {}

        def counted(pages: Any) -> Any:
            for page in pages:
                for record in page.typed or ():
                    statuses[record.status] = statuses.get(record.status, 0) + 1
                yield page

        with autocall.AutoCallHook(self.autocall_conn_id) as hook:
            if self.object_id in (None, "", "None"):
                pages: Any = iter(())
            else:
                pages = counted(self.pages(hook, positive_ids([self.object_id], self.id_field)[0]))
            schema = getattr(autocall, self.schema_name)
            written = export_pages(pages, path, fmt, schema, log=self.log, what=self.what)
            http = hook.exchange.stats.as_dict()
        self.log.info("%d %s exported; statuses %s", written.records, self.what, statuses)
        return {
            "path": str(path),
            "format": fmt,
            "records": written.records,
            "bytes": written.bytes,
            "statuses": statuses,
            "http": http,
        }


class AutoCallCampaignResultsToStorageOperator(ResultsToStorageOperator):
    """Export every call of a campaign — number, status (``success``, ``recalled``, ``no_answer``,
    ``busy``, ``error``, ``spam``), tries, durations, variables — to one file.

    :param autocall_id: the campaign (templated).
    :param output_path: destination (templated; ``.jsonl``, ``.csv`` or ``.parquet``).
    :param output_format: ``jsonl`` (default), ``csv`` or ``parquet``.
    :param autocall_conn_id: Airflow connection id.

    Returns ``{"path", "format", "records", "bytes", "statuses": {status: count}, "http"}``.
    """

    id_field = "autocall_id"
    schema_name = "CALLS_SCHEMA"
    what = "campaign calls"

    def __init__(self, *, autocall_id: Any, **kwargs: Any) -> None:
        super().__init__(object_id=autocall_id, **kwargs)

    def pages(self, hook: AutoCallHook, object_id: int) -> Any:
        return hook.iter_raw_autocall_call_pages(object_id)


class AutoCallRelaunchOperator(BaseOperator):
    """Collect a completed campaign's unreached numbers into a new list, and optionally call them again.

    ``GET /autocalls/relaunch/{id}`` creates the list without a ``client_id``; the operator gives it
    one at once (``PUT /lists/{id}``) and keeps its id in ``task_state_store`` (Airflow 3.3), so a
    retry or a re-run of the date finds it instead of making another — unless the task died between
    the relaunch and that update (a spare list: it costs nothing and calls nobody).  With ``launch`` (the fields of a campaign, as for
    :class:`AutoCallLaunchCampaignOperator`) a new campaign on the list is launched exactly once,
    behind the same cost guard — looked up by its ``client_id`` first, and skipped when nobody was
    left unreached.

    :param autocall_id: the completed campaign (templated).
    :param launch: ``None`` (only the list), or ``{"name": ..., "audio_id": [...], ...}`` (templated).
    :param max_cost: cost guard of the new campaign.
    :param client_id: our id for the new campaign (default: derived from the task).
    :param autocall_conn_id: Airflow connection id.

    Returns ``{"list_id", "contacts", "autocall_id"}`` (``autocall_id`` ``None`` without ``launch``).
    """

    template_fields: Sequence[str] = ("autocall_id", "launch", "client_id")
    ui_color = UI_COLOR
    state_key = "relaunch_list_id"

    def __init__(
        self,
        *,
        autocall_id: Any,
        launch: dict[str, Any] | None = None,
        max_cost: float | None = None,
        client_id: str | None = None,
        autocall_conn_id: str = "autocall_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.autocall_id = autocall_id
        self.launch = launch
        self.max_cost = max_cost
        self.client_id = client_id
        self.autocall_conn_id = autocall_conn_id

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_telephony.core.operator_utils import positive_ids
        from airflow_provider_telephony.hooks.autocall import AutoCallHook

        autocall_id = positive_ids([self.autocall_id], "autocall_id")[0]
        client_id = self.client_id or default_client_id(context)
        with AutoCallHook(self.autocall_conn_id) as hook:
            if self.launch:
                campaign = hook.find_autocall(client_id)
                if campaign is not None:  # an earlier try got as far as the new campaign
                    self.log.info("campaign %d (client_id %s) was already launched", campaign.id, client_id)
                    return {"list_id": None, "contacts": None, "autocall_id": campaign.id}
            list_client_id = f"{client_id}-list"
            list_id = remembered(context, self.state_key)
            if list_id is None:
                found = hook.find_list(list_client_id)  # a re-run of the date: the list it made
                list_id = found.id if found is not None else None
            if list_id is None:
                created = hook.relaunch_autocall(autocall_id)
                list_id, contacts = created.id, created.contacts_count
                remember(context, self.state_key, list_id)
                # the relaunch answers no client_id: give the list ours, so a re-run finds it
                hook.update_list(list_id, client_id=list_client_id)
            else:
                contacts = hook.get_list(list_id).contacts_count
            self.log.info(
                "list %d holds the %s unreached numbers of campaign %d", list_id, contacts, autocall_id
            )
            relaunched = None
            if self.launch and contacts:
                spec = {"type": "regular", **self.launch, "list_id": [list_id]}
                campaign, _ = launch_campaign(hook, spec, client_id, self.max_cost, self.log)
                relaunched = campaign.id
            elif self.launch:
                self.log.info("everyone was reached: no new campaign")
        return {"list_id": list_id, "contacts": contacts, "autocall_id": relaunched}
