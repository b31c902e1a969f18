"""Seeded data of the Tele2 PBX emulation (see :mod:`airflow_provider_telephony.sandbox.tele2`).

Everything here is pure Python without HTTP: the company's employees, the call records, the calls in
progress and in queues, the first managers and blacklist entries, the recordings (real MP3 bytes) and
their transcripts, and the two statistics reports computed from the records.  Every random draw comes
from a ``random.Random`` seeded with ``config.seed`` and a Tele2-specific salt, so two servers started
with the same settings serve byte-identical data.

Phone numbers are obviously fake, ``7000`` + 7 digits (the ``7XXXXXXXXXX`` form the document asks for).
"""

from __future__ import annotations

import bisect
import math
import random
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_telephony.sandbox.config import SandboxConfig

#: the document's ``callType`` values of a call record (5.7.1), in its order
CALL_TYPES = (
    "SINGLE_CHANNEL", "MULTI_CHANNEL", "UNKNOWN_CALL", "INTERNAL", "HIMSELF", "INTERNAL_QUEUE",
    "CRM_OUTGOING", "VOICEMAIL", "CONFERENCE", "CALLBACK", "PICKUP_CALL", "FAX", "OUTGOING", "CRM_CALLBACK",
)  # fmt: skip
#: the document's ``callStatus`` values (5.7.1), in its order
CALL_STATUSES = (
    "ANSWERED_COMMON", "ANSWERED_BY_ORIGINAL_CLIENT", "ANSWERED_BY_BUSY_FORWARD_CLIENT",
    "ANSWERED_BY_NO_ANSWER_FORWARD_CLIENT", "NOT_ANSWERED_COMMON", "CANCELLED_BY_CALLER",
    "DENIED_DUE_TO_MAX_SESSION", "DENIED_DUE_TO_INCOMING_CALLS_BLOCKED", "DENIED_DUE_TO_OUTGOING_CALLS_BLOCKED",
    "DENIED_DUE_TO_ONLY_INTERNAL_CALLS_ENABLED", "DENIED_DUE_TO_BLACK_LISTED", "DENIED_NOT_IN_WHITE_LIST",
    "DENIED_DUE_TO_NOT_WORK_TIME", "DENIED_DUE_TO_UNKNOWN_NUMBER", "DESTINATION_BUSY", "CANCELLED_BY_PICKUP",
)  # fmt: skip
#: fields of a call record, in the order of the document's example; ``sort`` accepts any of them
RECORD_FIELDS = (
    "date", "callType", "destinationNumber", "callerNumber", "callerName", "calleeNumber", "calleeName",
    "callDuration", "conversationDuration", "callStatus", "recordFileName",
)  # fmt: skip
INTERNAL_TYPES = frozenset({"INTERNAL", "HIMSELF", "INTERNAL_QUEUE"})
OUTGOING_TYPES = frozenset({"OUTGOING", "CRM_OUTGOING", "CALLBACK", "CRM_CALLBACK"})
TRANSFER_STATUSES = frozenset({"ANSWERED_BY_BUSY_FORWARD_CLIENT", "ANSWERED_BY_NO_ANSWER_FORWARD_CLIENT"})
#: the company id of the document's examples (manager objects, token payloads)
COMPANY_ID = 391
NUMBER_RE = re.compile(r"7\d{10}")

_SALT = "tele2"
_MOSCOW = timezone(timedelta(hours=3))
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_TYPE_WEIGHTS = (20, 25, 2, 8, 1, 3, 8, 2, 2, 3, 2, 1, 20, 3)
_STATUS_WEIGHTS = (40, 12, 3, 3, 15, 8, 1, 1, 1, 1, 1, 1, 1, 1, 5, 2)
_FIRST_NAMES = (
    "Артём",
    "Ольга",
    "Игорь",
    "Анастасия",
    "Дмитрий",
    "Мария",
    "Сергей",
    "Елена",
    "Павел",
    "Юлия",
)
_SURNAMES = ("Иванов", "Смирнова", "Кузнецов", "Исаева", "Попов", "Заплаткина", "Соколов", "Лебедева")
_GROUPS = ("Продажи", "Поддержка", "Бухгалтерия", "Логистика")
_COMPANIES = ("ООО Ромашка", "P&G", "ИП Лютиков", "АО Вектор", "ООО Север")
_WORDS = (
    "здравствуйте", "добрый", "день", "компания", "слушаю", "вас", "я", "хотел", "бы", "уточнить", "заказ",
    "номер", "да", "конечно", "минуту", "пожалуйста", "доставка", "завтра", "после", "обеда", "спасибо",
    "разговор", "записывается", "информируем", "оплата", "картой", "курьер", "позвонит", "заранее", "адрес",
    "верно", "всё", "хорошо", "ждём", "до", "свидания", "подскажите", "цену", "скидка", "двенадцать", "нет",
)  # fmt: skip

# ----------------------------------------------------------------------------- dates


_OFFSET_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:\d{2})\Z"
)


def parse_offset_datetime(value: str) -> datetime:
    """Parse an ISO-8601 offset date-time (``2022-08-14T09:00:00+03:00``, ``...Z``) strictly.

    The offset is required; a ``+`` that arrived as a space (a client that did not percent-encode it)
    does not parse.  ``ValueError`` says what is wrong.
    """
    match = _OFFSET_DATE_TIME.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not an ISO-8601 offset date-time such as 2022-08-14T09:00:00+03:00")
    year, month, day, hour, minute = (int(part) for part in match.groups()[:5])
    second = int(match.group(6) or 0)
    micro = int((match.group(7) or "").ljust(6, "0")[:6])
    offset = match.group(8)
    if offset in ("Z", "z"):
        tz = timezone.utc
    else:
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 18 or minutes > 59:
            raise ValueError(f"{value!r} has an invalid UTC offset")
        tz = timezone((-1 if offset[0] == "-" else 1) * timedelta(hours=hours, minutes=minutes))
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid date-time: {exc}") from None


def epoch_ms_ceil(moment: datetime) -> int:
    """Milliseconds since the epoch, rounded up (records carry whole milliseconds)."""
    micros = (moment - _EPOCH) // timedelta(microseconds=1)
    return -(-micros // 1000)


def format_ms(ms: int) -> str:
    """A record's ``date``: UTC with milliseconds, ``2022-07-15T07:27:06.348Z``."""
    moment = _EPOCH + timedelta(milliseconds=ms)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def record_file_name(ms: int, digits: int, outgoing: bool) -> str:
    """``YYYY-MM-DD/<epoch ms><5 digits>`` (Moscow date), ``mo_`` before the digits for outgoing calls,
    as in the document's example ``2022-08-12/mo_166030706109315379``."""
    day = (_EPOCH + timedelta(milliseconds=ms)).astimezone(_MOSCOW).strftime("%Y-%m-%d")
    return f"{day}/{'mo_' if outgoing else ''}{ms}{digits:05d}"


# ----------------------------------------------------------------------------- seeded world


def rng_for(seed: int, stream: str) -> random.Random:
    """A random stream of its own, derived from the sandbox seed and the Tele2 salt."""
    return random.Random(f"{_SALT}:{seed}:{stream}")


def fake_number(rng: random.Random, taken: set[str]) -> str:
    """An obviously fake 11-digit number, ``7000`` + 7 digits, not yet in ``taken`` (which it joins)."""
    while True:
        number = f"7000{rng.randrange(10_000_000):07d}"
        if number not in taken:
            taken.add(number)
            return number


def is_answered(status: str) -> bool:
    """Whether a ``callStatus`` means somebody answered (the conversation took place)."""
    return status.startswith("ANSWERED_")


def display_name(employee: dict[str, Any]) -> str:
    """``Имя Фамилия`` of an employee, as call records show it (empty when unnamed)."""
    return " ".join(part for part in (employee.get("name"), employee.get("surname")) if part)


class Tele2World:
    """The seeded company: employees, numbers, call records, live calls, first managers and blacklist.

    ``records`` is sorted by time (``record_ms`` holds each record's epoch milliseconds); the dicts are
    served as they are, so treat them as read-only.
    """

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.taken: set[str] = set()
        self.employees = self._employees(rng_for(config.seed, "employees"))
        #: employees that have a federal number (they place and receive calls)
        self.agents = [e for e in self.employees if "fullNumber" in e]
        rng = rng_for(config.seed, "numbers")
        self.multichannel = [fake_number(rng, self.taken) for _ in range(2)]
        self.clients = [fake_number(rng, self.taken) for _ in range(150)]
        self.client_names = {
            number: f"{rng.choice(_FIRST_NAMES)} {rng.choice(_SURNAMES)}"
            for number in self.clients
            if rng.random() < 0.4
        }
        self.records: list[dict[str, Any]] = []
        self.record_ms: list[int] = []
        self._generate_records(rng_for(config.seed, "records"))
        self.by_file = {r["recordFileName"]: r for r in self.records if r["recordFileName"]}
        self.current_calls = self._current_calls(rng_for(config.seed, "monitoring"))
        self.queues = self._queues(rng_for(config.seed, "queues"))

    # --- employees ------------------------------------------------------------------------
    def _employees(self, rng: random.Random) -> list[dict[str, Any]]:
        """Twelve employees; some lack fields, two carry nothing but ``employeeId`` (as in the document)."""
        employees: list[dict[str, Any]] = []
        employee_id = 433
        for index in range(12):
            employee: dict[str, Any] = {"employeeId": employee_id}
            employee_id += rng.randint(1, 40)
            if index in (2, 8):
                employees.append(employee)
                continue
            employee["name"] = rng.choice(_FIRST_NAMES)
            if rng.random() < 0.8:
                employee["surname"] = rng.choice(_SURNAMES)
            employee["fullNumber"] = fake_number(rng, self.taken)
            if index % 4 != 3:
                employee["shortNumber"] = f"{index + 1:04d}"
            if rng.random() < 0.7:
                employee["email"] = f"employee{index + 1}@sandbox.invalid"
            if rng.random() < 0.8:
                employee["groupName"] = rng.choice(_GROUPS)
            employees.append(employee)
        return employees

    def agent_by_number(self, number: str) -> dict[str, Any] | None:
        """The employee whose ``fullNumber`` or ``shortNumber`` is ``number``."""
        for employee in self.agents:
            if number in (employee.get("fullNumber"), employee.get("shortNumber")):
                return employee
        return None

    # --- call records ---------------------------------------------------------------------
    def _generate_records(self, rng: random.Random) -> None:
        """About ``calls_per_day`` records a day; the first ones cover every type and status."""
        config = self.config
        day0 = int(datetime(*config.data_start.timetuple()[:3], tzinfo=timezone.utc).timestamp()) * 1000
        serial = 0
        per_day = max(0, config.calls_per_day)
        for day in range(max(0, config.data_days)):
            count = rng.randint(per_day - per_day // 3, per_day + per_day // 3) if per_day else 0
            offsets = sorted(
                rng.randrange(18_000_000, 64_800_000) if rng.random() < 0.85 else rng.randrange(86_400_000)
                for _ in range(count)
            )
            for offset in offsets:
                call_type = CALL_TYPES[serial] if serial < len(CALL_TYPES) else None
                status = CALL_STATUSES[serial] if serial < len(CALL_STATUSES) else None
                self.records.append(self._record(rng, day0 + day * 86_400_000 + offset, call_type, status))
                self.record_ms.append(day0 + day * 86_400_000 + offset)
                serial += 1

    def _record(
        self, rng: random.Random, ms: int, call_type: str | None, status: str | None
    ) -> dict[str, Any]:
        call_type = call_type or rng.choices(CALL_TYPES, _TYPE_WEIGHTS)[0]
        status = status or rng.choices(CALL_STATUSES, _STATUS_WEIGHTS)[0]
        agent = rng.choice(self.agents)
        client = self.clients[int(len(self.clients) * rng.random() ** 2)]  # some clients call often
        if call_type in INTERNAL_TYPES:
            other = agent if call_type == "HIMSELF" else rng.choice(self.agents)
            destination = other["fullNumber"]
            parties = (agent["fullNumber"], display_name(agent), other["fullNumber"], display_name(other))
        elif call_type in OUTGOING_TYPES:
            destination = client
            parties = (agent["fullNumber"], display_name(agent), client, self.client_names.get(client, ""))
        else:
            destination = (
                agent["fullNumber"] if call_type == "SINGLE_CHANNEL" else rng.choice(self.multichannel)
            )
            parties = (client, self.client_names.get(client, ""), agent["fullNumber"], display_name(agent))
        if is_answered(status):
            talk = min(1200, 5 + int(rng.expovariate(1 / 120)))
            total = talk + rng.randint(3, 30)
        elif status.startswith("DENIED_"):
            talk, total = 0, 0
        else:
            talk, total = 0, rng.randint(1, 60)
        digits = rng.randrange(100_000)
        name = record_file_name(ms, digits, call_type in OUTGOING_TYPES) if talk else ""
        return self.make_record(ms, call_type, destination, parties, (total, talk), status, name)

    @staticmethod
    def make_record(
        ms: int,
        call_type: str,
        destination: str,
        parties: tuple[str, str, str, str],
        durations: tuple[int, int],
        status: str,
        file_name: str,
    ) -> dict[str, Any]:
        """One call record in the document's field order."""
        caller, caller_name, callee, callee_name = parties
        return {
            "date": format_ms(ms), "callType": call_type, "destinationNumber": destination,
            "callerNumber": caller, "callerName": caller_name, "calleeNumber": callee, "calleeName": callee_name,
            "callDuration": durations[0], "conversationDuration": durations[1], "callStatus": status,
            "recordFileName": file_name,
        }  # fmt: skip

    def records_between(self, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        """Seeded records with ``start_ms <= time < end_ms``, in time order."""
        lo = bisect.bisect_left(self.record_ms, start_ms)
        hi = bisect.bisect_left(self.record_ms, end_ms)
        return self.records[lo:hi]

    # --- monitoring -----------------------------------------------------------------------
    def _current_calls(self, rng: random.Random) -> list[dict[str, Any]]:
        """Calls in progress: one of each documented type; one caller not yet routed to a B number."""
        calls: list[dict[str, Any]] = []
        short = [a for a in self.agents if "shortNumber" in a]
        first, second = short[0], short[1]
        calls.append({
            "callType": "INTERNAL", "callerNumberShort": first["shortNumber"],
            "callerNumberFull": first["fullNumber"], "calledNumberShort": second["shortNumber"],
            "calledNumberFull": second["fullNumber"],
        })  # fmt: skip
        agent = rng.choice(self.agents)
        callee = {"calledNumberFull": agent["fullNumber"]}
        if "shortNumber" in agent:
            callee["calledNumberShort"] = agent["shortNumber"]
        calls.append({"callType": "SINGLE_CHANNEL", "callerNumberFull": rng.choice(self.clients), **callee})
        calls.append({"callType": "MULTI_CHANNEL", "callerNumberFull": rng.choice(self.clients)})
        calls.append({
            "callType": "CONFERENCE", "callerNumberShort": second["shortNumber"],
            "callerNumberFull": second["fullNumber"], "calledNumberFull": rng.choice(self.clients),
        })  # fmt: skip
        return calls

    def _queues(self, rng: random.Random) -> list[dict[str, Any]]:
        """Two queues with waiting callers and an empty third one."""
        return [
            {"queueName": "1", "calls": [rng.choice(self.clients) for _ in range(2)]},
            {"queueName": "2", "calls": [rng.choice(self.clients)]},
            {"queueName": "3", "calls": []},
        ]

    # --- first managers and blacklist -----------------------------------------------------
    def initial_managers(self) -> list[dict[str, Any]]:
        """Two managers as in the document's example (id 26), one of them handling all customers."""
        rng = rng_for(self.config.seed, "managers")
        managers: list[dict[str, Any]] = []
        customer_id = 73
        for manager_id, agent, handle_all in ((26, self.agents[0], False), (27, self.agents[1], True)):
            customers = []
            for _ in range(2 if handle_all else 3):
                number = fake_number(rng, self.taken)
                customers.append({
                    "id": customer_id, "name": f"{rng.choice(_FIRST_NAMES)} {rng.choice(_SURNAMES)}",
                    "realNumber": number, "companyName": rng.choice(_COMPANIES), "info": "постоянный клиент",
                    "isVip": rng.random() < 0.3,
                })  # fmt: skip
                customer_id += rng.randint(1, 20)
            managers.append({
                "id": manager_id, "employeeId": agent["employeeId"], "companyId": COMPANY_ID,
                "name": display_name(agent), "customers": customers, "handleAllCustomers": handle_all,
            })  # fmt: skip
        return managers

    def initial_blacklist(self) -> list[dict[str, Any]]:
        """Six entries, ids from the document's 10622; both ``sourceType`` values occur."""
        rng = rng_for(self.config.seed, "blacklist")
        entries = []
        entry_id = 10622
        for index in range(6):
            number = fake_number(rng, self.taken)
            entries.append(
                {"id": entry_id, "number": number, "sourceType": "FILE" if index % 2 else "MANUAL"}
            )
            entry_id += rng.randint(1, 80)
        return entries


# ----------------------------------------------------------------------------- recordings

#: MPEG-1 Layer III, no CRC, 32 kbit/s, 32 kHz, no padding, mono: 144-byte frames of 1152 samples (36 ms)
FRAME_HEADER = b"\xff\xfb\x18\xc0"
FRAME_BYTES = 144
FRAME_SAMPLES = 1152
SAMPLE_RATE = 32_000
_SIDE_INFO = bytes(17)  # mono side info, all zero: main_data_begin 0, part2_3_length 0, i.e. silence
_NO_FF = bytes(range(255)) + b"\xfe"  # ancillary bytes never look like a frame sync


def mp3_frames(seconds: int) -> int:
    """Frames of a ``seconds`` long recording (at least one)."""
    return max(1, math.ceil(seconds * SAMPLE_RATE / FRAME_SAMPLES))


def mp3_size(seconds: int) -> int:
    """Bytes of a recording of ``seconds``."""
    return mp3_frames(seconds) * FRAME_BYTES


def mp3_chunks(seed: int, file_name: str, seconds: int, chunk_frames: int = 455) -> Iterator[bytes]:
    """A real MP3 of silent frames, generated chunk by chunk (~64 KB); seeded filler fills each frame's
    ancillary data, so bytes depend on the seed and the file name (never the same for two recordings)."""
    rng = rng_for(seed, f"record:{file_name}")
    filler = FRAME_BYTES - len(FRAME_HEADER) - len(_SIDE_INFO)
    remaining = mp3_frames(seconds)
    while remaining:
        count = min(chunk_frames, remaining)
        remaining -= count
        yield b"".join(
            FRAME_HEADER + _SIDE_INFO + rng.randbytes(filler).translate(_NO_FF) for _ in range(count)
        )


def transcript(seed: int, file_name: str, seconds: int) -> list[dict[str, Any]]:
    """Word-level speech-to-text of a recording: phrases alternate between channel B (the answering
    party speaks first, as in the document's example) and A, all inside ``[0, seconds]``."""
    rng = rng_for(seed, f"stt:{file_name}")
    words: list[dict[str, Any]] = []
    now = rng.uniform(0.1, 0.6)
    channel = "B"
    while len(words) < 2000:
        for _ in range(rng.randint(2, 9)):
            end = now + rng.uniform(0.08, 0.9)
            if end > seconds:
                return words
            word = rng.choice(_WORDS)
            words.append(
                {"channel": channel, "startTime": round(now, 5), "endTime": round(end, 5), "word": word}
            )
            now = end + (rng.uniform(0.0, 0.12) if rng.random() < 0.5 else 0.0)
        now += rng.uniform(0.2, 1.5)
        channel = "A" if channel == "B" else "B"
    return words


# ----------------------------------------------------------------------------- statistics


def involves(record: dict[str, Any], number: str) -> bool:
    """Whether ``number`` is the caller, the callee or the dialled number of a record."""
    return number in (record["callerNumber"], record["calleeNumber"], record["destinationNumber"])


def calendar_days(start: datetime, end: datetime) -> int:
    """Calendar days (in ``start``'s offset) that the window ``[start, end)`` touches, at least one."""
    last = max(start, end - timedelta(microseconds=1)).astimezone(start.tzinfo)
    return max(1, (last.date() - start.date()).days + 1)


def common_statistics(records: list[dict[str, Any]], start: datetime, end: datetime) -> dict[str, Any]:
    """``GET /statistics/common`` over ``records`` (already filtered), every documented field.

    Internal calls (``INTERNAL``, ``HIMSELF``, ``INTERNAL_QUEUE``) count only in ``internal*`` and
    ``allCallCount``; the others are answered (``success``) or not (``lost``), so
    ``allCallCount == successCallCount + lostCallCount + internalCallCount`` as in the document's example,
    whose per-day and per-hour rates are the non-internal calls over the calendar days the window touches.
    """
    external = [r for r in records if r["callType"] not in INTERNAL_TYPES]
    internal = [r for r in records if r["callType"] in INTERNAL_TYPES]
    answered = [r for r in external if is_answered(r["callStatus"])]
    transfers = [r for r in answered if r["callStatus"] in TRANSFER_STATUSES]
    talk = sum(r["conversationDuration"] for r in external)
    longest = max((r["conversationDuration"] for r in external), default=0)
    clients = [r["calleeNumber"] if r["callType"] in OUTGOING_TYPES else r["callerNumber"] for r in external]
    hours = calendar_days(start, end) * 24
    per_hour = len(external) / hours
    internal_talk = sum(r["conversationDuration"] for r in internal)
    transfer_talk = sum(r["conversationDuration"] for r in transfers)
    return {
        "allCallCount": len(external) + len(internal),
        "successCallCount": len(answered),
        "outgoingCallCount": sum(1 for r in external if r["callType"] in OUTGOING_TYPES),
        "lostCallCount": len(external) - len(answered),
        "commonCallDuration": talk,
        "averageCallDuration": talk // len(external) if external else 0,
        "maxCallDuration": longest,
        "callCountPerDay": len(external) / (hours / 24),
        "callCountPerHour": per_hour,
        "mnAvgCallDuration": talk // len(answered) if answered else 0,
        "mnMaxCallDuration": longest,
        "averageCallCountPerHour": int(per_hour),
        "transferCallCount": len(transfers),
        "transferCallDuration": transfer_talk,
        "averageTransferCallDuration": transfer_talk // len(transfers) if transfers else 0,
        "hangupACallCount": sum(1 for r in external if r["callStatus"] == "CANCELLED_BY_CALLER"),
        "hangupBCallCount": sum(1 for r in external if r["callStatus"] == "DESTINATION_BUSY"),
        "uniqueCallCount": len(set(clients)),
        "redialCount": len(clients) - len(set(clients)),
        "internalCallCount": len(internal),
        "internalCallDuration": internal_talk,
        "averageInternalCallDuration": internal_talk // len(internal) if internal else 0,
    }


def journal(
    records: list[dict[str, Any]], number: str | None, start: datetime, end: datetime
) -> dict[str, Any]:
    """``GET /statistics/journal``: one object for ``number`` (``null`` number: the whole company)."""
    return {
        "number": number,
        "startTimestamp": math.floor(start.timestamp()),
        "endTimestamp": math.floor(end.timestamp()),
        "numberOfCalls": len(records),
        "numberOfSuccessCalls": sum(1 for r in records if is_answered(r["callStatus"])),
    }


def sort_records(records: list[dict[str, Any]], orders: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    """``records`` (in time order) sorted by ``(field, descending)`` keys, first key first; ties keep time
    order, so paging is stable."""
    result = list(records)
    for name, descending in reversed(orders):
        result.sort(key=lambda record: record[name], reverse=descending)
    return result
