"""Sensors that wait for AutoCall.kz moderation and completion: sounds, campaigns, SMS mailings.

Each works in ``poke`` and ``reschedule`` mode and, with ``deferrable=True`` (default from
``[operators] default_deferrable``), frees the worker while
:class:`~airflow_provider_telephony.triggers.autocall.AutoCallStatusTrigger` waits.  A denied
campaign or mailing, or a rejected sound, fails the task at once with the moderator's comment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, ClassVar

from airflow.sdk import BaseSensorOperator

from airflow_provider_telephony.core.operator_utils import default_deferrable, fail_fast, raise_for_event


class _AutoCallStatusSensor(BaseSensorOperator):
    """Base: wait for one object of ``kind`` until done (see ``triggers.autocall.verdict``)."""

    kind: ClassVar[str] = ""
    id_field: ClassVar[str] = ""
    template_fields: Sequence[str] = ("object_id",)
    ui_color = "#ffd6a5"

    def __init__(
        self,
        *,
        object_id: Any,
        autocall_conn_id: str = "autocall_default",
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", 60.0)
        super().__init__(**kwargs)
        self.object_id = object_id
        self.autocall_conn_id = autocall_conn_id
        self.deferrable = default_deferrable() if deferrable is None else deferrable

    def _id(self) -> int | None:
        """The id to wait for; ``None`` (nothing was created: e.g. a mailing nobody needed) is done."""
        from airflow_provider_telephony.core.operator_utils import positive_ids

        if self.object_id in (None, "", "None"):
            return None
        return positive_ids([self.object_id], self.id_field)[0]

    @fail_fast
    def poke(self, context: Any) -> bool:
        from airflow_provider_telephony.hooks.autocall import AutoCallHook
        from airflow_provider_telephony.triggers.autocall import (
            DONE,
            KINDS,
            REFUSED,
            AutoCallRefusedError,
            verdict,
        )

        object_id = self._id()
        if object_id is None:
            self.log.info("no %s to wait for", self.kind)
            return True
        with AutoCallHook(self.autocall_conn_id) as hook:
            state, told = verdict(self.kind, getattr(hook, KINDS[self.kind])(object_id))
        if state == REFUSED:
            raise AutoCallRefusedError(told)
        self.log.info("%s %d: %s", self.kind, object_id, told)
        return state == DONE

    @fail_fast
    def execute(self, context: Any) -> int | None:
        object_id = self._id()
        if object_id is None or not self.deferrable:
            super().execute(context)
            return object_id
        if self.poke(context):
            return object_id
        from airflow_provider_telephony.triggers.autocall import AutoCallStatusTrigger

        self.defer(
            trigger=AutoCallStatusTrigger(
                kind=self.kind,
                object_id=object_id,
                autocall_conn_id=self.autocall_conn_id,
                poke_interval=self.poke_interval,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )
        return object_id  # pragma: no cover - defer() raises TaskDeferred

    @fail_fast
    def execute_complete(self, context: Any, event: dict[str, Any]) -> int:
        """Resume after the trigger fired: fail on its error (at once when permanent), else the id."""
        raise_for_event(event, f"waiting for {self.kind} {self.object_id}")
        return int(event["id"])


class AutoCallSoundModerationSensor(_AutoCallStatusSensor):
    """Wait until the moderators approve a sound (``confirmed``); a rejection fails with their comment.

    :param sound_id: the sound (templated; e.g. ``AutoCallCreateSoundOperator``'s XCom ``id``).
    """

    kind = "sound"
    id_field = "sound_id"

    def __init__(self, *, sound_id: Any, **kwargs: Any) -> None:
        super().__init__(object_id=sound_id, **kwargs)


class AutoCallCampaignSensor(_AutoCallStatusSensor):
    """Wait until a campaign is ``completed``; ``denied`` fails with the moderator's comment;
    ``moderation``, ``awaiting`` and ``running`` keep waiting.

    :param autocall_id: the campaign (templated).
    """

    kind = "autocall"
    id_field = "autocall_id"

    def __init__(self, *, autocall_id: Any, **kwargs: Any) -> None:
        super().__init__(object_id=autocall_id, **kwargs)


class AutoCallSmsBulkSensor(_AutoCallStatusSensor):
    """Wait until an SMS mailing is ``completed``; ``denied`` fails with the moderator's comment.

    :param bulk_id: the mailing (templated).
    """

    kind = "bulk"
    id_field = "bulk_id"

    def __init__(self, *, bulk_id: Any, **kwargs: Any) -> None:
        super().__init__(object_id=bulk_id, **kwargs)
