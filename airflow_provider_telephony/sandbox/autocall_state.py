"""What one AutoCall.kz sandbox remembers, and how its objects move with time.

Objects are plain dataclasses; :meth:`AutoCallState.tick` runs at the start of every request and applies
the effects of each status a campaign, mailing, sound or scenario has reached since the last look
(notifications, money, ``nonexistent`` contacts), once and in order, so what a client observes is
consistent whatever its polling rate.  Call and message outcomes are seeded per object and index.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from airflow_provider_telephony.sandbox import autocall_data as d
from airflow_provider_telephony.sandbox.config import SandboxConfig


@dataclass
class Timeline:
    """Moderation start (monotonic and wall clock), seconds per step, and a moderator's refusal."""

    start: float
    wall: datetime
    step: float
    deny: str | None = None

    def steps(self, now: float) -> float:
        return (now - self.start) / self.step if self.step > 0 else float("inf")

    def at(self, steps: float) -> datetime:
        return self.wall + timedelta(seconds=steps * self.step)

    def campaign_status(self, now: float) -> str:
        index = int(min(self.steps(now), 3))
        return "denied" if self.deny is not None and index >= 1 else d.CAMPAIGN_STEPS[index]

    def progress(self, now: float) -> float:
        """Share of a campaign's numbers already resolved (0 before ``running``, 1 when completed)."""
        return min(1.0, max(0.0, self.steps(now) - 2))


@dataclass
class Contact:
    id: int
    list_id: int
    number: str
    extra: str | None
    variables: dict[str, str] | None
    created_at: str


@dataclass
class ContactList:
    id: int
    name: str
    client_id: str | None
    created_at: str
    updated_at: str
    contacts: list[Contact] = field(default_factory=list)
    nonexistent: list[int] | None = None
    importing_until: float = 0.0


@dataclass
class Sound:
    id: int
    name: str
    client_id: str | None
    duration: int
    file: str
    audio: bytes | None
    timeline: Timeline
    created_at: str
    updated_at: str
    applied: bool = False


@dataclass
class Scenario:
    id: int
    name: str
    client_id: str | None
    data: Any
    timeline: Timeline
    created_at: str
    updated_at: str
    applied: bool = False


@dataclass
class Campaign:
    """An autocall (``kind`` regular|interactive) or an SMS mailing (``kind`` bulk)."""

    id: int
    kind: str
    body: dict[str, Any]
    contacts: list[dict[str, Any]]
    list_ids: list[int]
    max_cost: float
    timeline: Timeline
    created_at: str
    updated_at: str
    item_base: int
    visible_from: float = 0.0
    audio_ids: list[int] = field(default_factory=list)
    audio_seconds: int = 0
    applied: str = "moderation"
    final_cost: float | None = None
    _outcomes: list[dict[str, Any]] | None = None

    @property
    def is_bulk(self) -> bool:
        return self.kind == "bulk"


@dataclass
class Rental:
    id: int
    pool_id: int
    number: str
    provider: str
    rented_until: str


class AutoCallState:
    """Everything one sandbox server knows about its AutoCall.kz account."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.prices = d.tariff(config.autocall_tariff)
        if config.autocall_sms_price is not None:
            self.prices["sms_price"] = config.autocall_sms_price
        self.balance = config.autocall_balance
        self.reserved: dict[tuple[str, int], float] = {}
        self.lists: dict[int, ContactList] = {}
        self.contacts: dict[int, Contact] = {}
        self.sounds: dict[int, Sound] = {}
        self.scenarios: dict[int, Scenario] = {}
        self.autocalls: dict[int, Campaign] = {}
        self.bulks: dict[int, Campaign] = {}
        self.notifications: list[dict[str, Any]] = []
        self.transactions: list[dict[str, Any]] = []
        self.payments: dict[str, dict[str, Any]] = {}
        self.confirmed: list[dict[str, Any]] = []
        self.rentals: dict[int, Rental] = {}
        self.flash_calls: list[dict[str, Any]] = []
        self.records: dict[str, tuple[int, int]] = {}
        self.settings: dict[str, Any] = {
            "name": "Sandbox",
            "subscribe": True,
            "notifications_subscribe": False,
            "visit_card_audio": None,
            "visit_card_text": None,
        }
        #: the pool of caller ids (``sip_caller_ids``): id → (number, provider, rented by someone else)
        self.pool = {
            41: ("+77086469620", "tele2", False),
            42: ("+77086469621", "tele2", False),
            43: ("+77719990011", "beeline", False),
            44: ("+77019990022", "kcell", True),
            45: ("+77479990033", "tele2", False),
        }
        self.ids: dict[str, int] = {}
        self.requests: dict[str, int] = {}
        self.created: dict[str, dict[str, int]] = {}
        self.by_number: dict[str, dict[str, int]] = {"flash_calls": {}, "test_calls": {}}
        self.windows: dict[str, tuple[float, int]] = {}
        self.attempts: dict[str, list[float]] = {}
        self.test_call_days: dict[str, str] = {}
        self.rng = random.Random(f"{config.seed}:autocall")
        self.low = self.balance < config.autocall_low_balance_threshold
        self.epoch = d.now_local()

    # --- bookkeeping -------------------------------------------------------------------------
    def next_id(self, kind: str, count: int = 1) -> int:
        first = self.ids.get(kind, 0) + 1
        self.ids[kind] = first + count - 1
        return first

    def count(self, name: str) -> None:
        self.requests[name] = self.requests.get(name, 0) + 1

    def record_creation(self, kind: str, client_id: Any) -> None:
        key = client_id if isinstance(client_id, str) else "null"
        bucket = self.created.setdefault(kind, {})
        bucket[key] = bucket.get(key, 0) + 1

    def take(self, key: str, limit: int, window: float) -> float:
        """Spend one request of ``key``'s fixed window; the seconds to wait, or 0 when allowed."""
        now = time.monotonic()
        started, used = self.windows.get(key, (now, 0))
        if now - started >= window:
            started, used = now, 0
        if used >= limit:
            return started + window - now
        self.windows[key] = (started, used + 1)
        return 0.0

    def remaining(self, key: str, limit: int) -> int:
        return max(0, limit - self.windows.get(key, (0.0, 0))[1])

    def timeline(self, step: float, deny: str | None = None) -> Timeline:
        return Timeline(start=time.monotonic(), wall=d.now_local(), step=step, deny=deny)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # --- money --------------------------------------------------------------------------------
    def transaction(
        self, kind: str, total: float, description: str, when: datetime, confirmed: bool = True
    ) -> dict[str, Any]:
        row = {
            "id": self.next_id("transaction"),
            "type": kind,
            "confirmed": confirmed,
            "meta": {"description": description},
            "created_at": d.stamp(when),
            "updated_at": d.stamp(when),
            "total": round(total, 2),
        }
        self.transactions.append(row)
        return row

    def charge(self, amount: float, description: str, when: datetime | None = None) -> None:
        self.balance = round(self.balance - amount, 2)
        self.transaction("withdraw", -amount, description, when or d.now_local())
        self.check_low(when)

    def check_low(self, when: datetime | None = None) -> None:
        threshold = self.config.autocall_low_balance_threshold
        low = self.balance < threshold
        if low and not self.low:
            self.notify("LowBalance", {"balance": round(self.balance, 2), "threshold": threshold}, when)
        self.low = low

    def reserve(self, key: tuple[str, int], amount: float) -> None:
        self.reserved[key] = amount
        self.balance = round(self.balance - amount, 2)

    def release(self, key: tuple[str, int]) -> None:
        self.balance = round(self.balance + self.reserved.pop(key, 0.0), 2)

    def notify(self, kind: str, data: dict[str, Any], when: datetime | None = None) -> None:
        moment = d.stamp(when or d.now_local())
        self.notifications.append(
            {
                "id": self.uuid(),
                "type": kind,
                "data": data,
                "read_at": None,
                "created_at": moment,
                "updated_at": moment,
            }
        )

    # --- time -----------------------------------------------------------------------------------
    def tick(self) -> None:
        """Apply every status reached since the last request (notifications, money, nonexistent)."""
        now = time.monotonic()
        for sound in self.sounds.values():
            if not sound.applied and sound.timeline.steps(now) >= 1:
                sound.applied = True
                self._moderated("Sound", sound.id, sound.name, sound.timeline)
        for scenario in self.scenarios.values():
            if not scenario.applied and scenario.timeline.steps(now) >= 1:
                scenario.applied = True
                self._moderated("Scenario", scenario.id, scenario.name, scenario.timeline)
        for items in (self.autocalls, self.bulks):
            for campaign in items.values():
                if campaign.visible_from <= now:
                    self._advance(campaign, now)
        for contact_list in self.lists.values():
            if contact_list.importing_until and contact_list.importing_until <= now:
                contact_list.importing_until = 0.0
                self.notify("ImportComplete", {"id": contact_list.id, "name": contact_list.name})
        cutoff = now - self.config.autocall_unconfirmed_ttl_seconds
        self.confirmed = [row for row in self.confirmed if row["verified_at"] or row["_born"] > cutoff]

    def _moderated(self, kind: str, ident: int, name: str, timeline: Timeline) -> None:
        when = timeline.at(1)
        self.notify(f"{kind}Confirmed", {"id": ident, "name": name}, when)
        if timeline.deny is not None:
            self.notify(f"{kind}Commented", {"id": ident, "name": name}, when)

    def _advance(self, campaign: Campaign, now: float) -> None:
        status = campaign.timeline.campaign_status(now)
        if status == campaign.applied:
            return
        prefix, kind = ("SMSBulk", "bulk") if campaign.is_bulk else ("Autocall", "autocall")
        data = {"id": campaign.id, "name": campaign.body["name"], "type": kind}
        timeline = campaign.timeline
        if campaign.applied == "moderation":
            self.notify(f"{prefix}Confirmed", data, timeline.at(1))
            if status == "denied":
                self.notify(f"{prefix}Commented", data, timeline.at(1))
                self.release((kind, campaign.id))
        if status == "completed":
            self._finish(campaign, prefix, kind, data)
        campaign.applied = status

    def _finish(self, campaign: Campaign, prefix: str, kind: str, data: dict[str, Any]) -> None:
        when = campaign.timeline.at(3)
        cost = round(sum(outcome["cost"] for outcome in self.outcomes(campaign)), 2)
        campaign.final_cost = cost
        self.release((kind, campaign.id))
        label = "Рассылка" if campaign.is_bulk else "Обзвон"
        self.charge(cost, f"{label} «{campaign.body['name']}»", when)
        self.notify(f"{prefix}Finished", data, when)
        if campaign.is_bulk:
            return
        missing: dict[int, list[int]] = {}
        for contact, outcome in zip(campaign.contacts, self.outcomes(campaign), strict=True):
            if outcome["status"] == "error" and contact.get("contact_id") in self.contacts:
                missing.setdefault(contact["list_id"], []).append(contact["contact_id"])
        for list_id, contact_ids in missing.items():
            contact_list = self.lists.get(list_id)
            if contact_list is not None:
                contact_list.nonexistent = sorted(set(contact_list.nonexistent or []) | set(contact_ids))
                self.notify("NonexistentContactsDetected", {"id": list_id, "name": contact_list.name}, when)

    # --- outcomes -------------------------------------------------------------------------------
    def outcomes(self, campaign: Campaign) -> list[dict[str, Any]]:
        """The final result of every call or message of a campaign (seeded; visible once resolved)."""
        if campaign._outcomes is None:
            make = self._message_outcome if campaign.is_bulk else self._call_outcome
            campaign._outcomes = [make(campaign, i, c) for i, c in enumerate(campaign.contacts)]
        return campaign._outcomes

    def _message_outcome(self, bulk: Campaign, index: int, contact: dict[str, Any]) -> dict[str, Any]:
        rng = random.Random(f"{self.config.seed}:bulk:{bulk.id}:{index}")
        status = d.weighted(rng, d.MESSAGE_OUTCOMES)
        parts = d.sms_segments(d.personal_text(bulk.body["text"], contact.get("variables")))
        billed = status in ("delivered", "expired", "undeliverable")
        return {"status": status, "cost": parts * self.prices["sms_price"] if billed else 0.0}

    def _call_outcome(self, call: Campaign, index: int, contact: dict[str, Any]) -> dict[str, Any]:
        rng = random.Random(f"{self.config.seed}:autocall:{call.id}:{index}")
        body, prices = call.body, self.prices
        status = d.weighted(rng, d.CALL_OUTCOMES)
        max_tries = body["max_tries"]
        tries = 1 if status in ("error", "spam") else max_tries
        if status == "success":
            tries = rng.randint(1, max_tries)
        statuses = [rng.choice(("no_answer", "busy")) for _ in range(tries - 1)]
        statuses.append(status if status != "recalled" else "no_answer")
        duration = r_duration = 0
        result: dict[str, Any] | None = None
        if status in ("success", "spam"):
            longest = call.audio_seconds if call.kind == "regular" else 60
            duration = rng.randint(max(1, longest // 2), max(1, longest))
        if status == "recalled":
            r_duration = rng.randint(5, 60)
        cost = duration * prices["call_price"]
        if body["record"]:
            cost += duration * prices["recording_price"]
        if call.kind == "interactive" and status == "success":
            cost += prices["speech_price"]
            file = hashlib.sha1(f"{self.config.seed}:{call.id}:{index}".encode()).hexdigest()[:20] + ".wav"
            result = {"dtmf": rng.choice("123"), "record": file}
            self.records[file] = (call.id, index)
        text = body["text"] if status == "success" and body["sms"] else None
        if status in ("no_answer", "busy") and body["sms_unanswered"]:
            text = body["text_unanswered"]
        if text:
            cost += d.sms_segments(d.personal_text(text, contact.get("variables"))) * prices["sms_price"]
        return {
            "status": status,
            "tries": tries,
            "status_tries": statuses,
            "duration": duration,
            "r_duration": r_duration,
            "data": result,
            "cost": round(cost, 2),
            "silent": rng.random() < 0.1,
        }

    def resolved(self, campaign: Campaign, now: float | None = None) -> int:
        """How many of the campaign's numbers have their final status at ``now``."""
        moment = time.monotonic() if now is None else now
        if campaign.timeline.campaign_status(moment) == "denied":
            return 0
        return int(len(campaign.contacts) * campaign.timeline.progress(moment))

    def status(self, campaign: Campaign) -> str:
        return campaign.timeline.campaign_status(time.monotonic())

    def visible(self, items: dict[int, Campaign]) -> list[Campaign]:
        now = time.monotonic()
        return [c for c in items.values() if c.visible_from <= now]

    def in_use(
        self, *, list_id: int | None = None, sound_id: int | None = None, scenario_id: int | None = None
    ) -> bool:
        """Whether an unfinished campaign uses the list, sound or scenario (deleting it is then 422)."""
        for campaign in [*self.autocalls.values(), *self.bulks.values()]:
            if self.status(campaign) in d.FINAL_CAMPAIGN:
                continue
            if list_id in campaign.list_ids or sound_id in campaign.audio_ids:
                return True
            if scenario_id is not None and campaign.body.get("scenario_id") == scenario_id:
                return True
        return False

    def used(self, list_id: int) -> int:
        return sum(list_id in c.list_ids for c in [*self.autocalls.values(), *self.bulks.values()])
