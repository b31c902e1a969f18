"""Emulation of CallKeeper (ckct.ru) call tracking API v1 and v3, written from ``seeds/callkeeper-v1.md`` and
``seeds/callkeeper-v3.md`` (never from our client code).

URL grammar
    CallKeeper carries the whole request in the query string, read raw (see
    :func:`~airflow_provider_telephony.sandbox.callkeeper_formats.query_path`; trailing slashes are ignored)::

        GET /api/index.php?{format}/v1/{api_key}/{entity}/get/{page}/{time_start}/{time_end}
        GET /api/?json/v3/{apikey}/call/{method}/{page}/{from}[/{to}]

    ``/api/``, ``/api/index.php`` and ``/api`` are the same PHP script, so all three dispatch on the version
    segment (``v1`` or ``v3``).  ``page`` counts from 0.

    * v1: ``format`` is ``json`` | ``xml`` | ``csv`` | ``plain`` (layouts in ``callkeeper_formats``);
      ``entity`` is ``call`` (own calls), ``callrole`` (calls granted by a role), ``phone``, ``user``,
      ``campaign``, ``tag``; the only method is ``get``.  For ``call``/``callrole`` the page and both unix
      timestamps are required and the window is ``time_start <= t <= time_end`` (both ends included).  The
      reference entities have no time dimension: page defaults to 0, the timestamps are optional (checked
      when given, echoed, otherwise echoed as 0) and do not filter.  Paged by
      ``config.callkeeper_v1_page_length``; ``inbound.contentLength`` is the byte length of the page's
      ``payload`` as the json rendering writes it (the document's 722709 for 1000 calls is clearly bytes).
    * v3: ``format`` must be ``json``, ``entity`` ``call``, ``method`` ``get`` (own calls) | ``getByRole``
      (calls granted by a role; needs the *role* key ``config.callkeeper_role_api_key``, as the document
      says) | ``getWithRole`` (both).  ``get``/``getWithRole`` need the user's key
      ``config.callkeeper_api_key``.  ``from``/``to`` are a unix timestamp or ``Y-m-d``; a timestamp is the
      exact second, a day is the whole UTC day, both ends included ("с 1 по 2 мая" for
      ``2020-05-01/2020-05-02``).  Without ``to`` the window ends with the current UTC day (pinned by
      ``config.callkeeper_today`` when set).  The body is a bare JSON array of calls, each carrying
      ``"page"`` = the requested page number (0-based, as the request).  Paged by
      ``config.callkeeper_v3_page_length``; a client reads pages until the error ``Incorrect page is set``.

Errors (HTTP 200, in the body, checked in this order)
    ``Type to return is not available`` (format unknown, or not json for v3), ``It is wrong API version``,
    ``User is not recognized`` (unknown key, or the wrong kind of key for the method), ``Entity does not
    exist``, ``Method does not exist``, ``Incorrect page is set`` (not a number), ``Start date has wrong type.
    Possible format is 'Y-m-d' or timestamp``, ``End date has wrong type. Possible format is 'Y-m-d' or
    timestamp`` (not in the document: made by analogy for a bad ``to``/``time_end``), ``No rows found`` (the
    window is empty), ``Incorrect page is set`` (page beyond the last).  The body is exactly the v3
    document's ``{"inbound": {"error": ...}, "info": {...}, "payload": []}`` for both versions (the v3 error
    sample carries v1's ``info``, so the two share one backend); v1 renders it in the requested format
    (json when the format itself is wrong), v3 always in json.

Data
    :class:`CallKeeperWorld` seeds two accounts from ``config.seed`` (a CallKeeper-specific salt keeps the
    stream independent of other vendors): the key owner's calls (``own_calls``) and a second account whose
    calls the owner sees through a role (``role_calls``), at about ``calls_per_day`` and a third of that per
    day over ``data_start`` + ``data_days``.  Calls are ``calltracking`` (~75%), ``callback`` and a few
    ``import``; v1 (a call-tracking API: ``campaignId``, ``routePhone``) lists the ``calltracking`` ones.
    All clocks are UTC: ``callTime`` and v1 ``timeStart`` are ``Y-m-d H:i:s`` UTC wall-clock, ``localDate`` is
    the caller's local time with ``timezoneOffset`` as ``±HHMM``.  v1 ``timeStart`` and ``record`` are
    ``null`` for operator failures (state ``720/200``, as in the document's sample).  Phone numbers are
    ``7000`` + 7 digits, IPs come from the TEST-NET ranges, sites and URLs use ``.example``/``.invalid``.
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from airflow_provider_telephony.sandbox import callkeeper_formats as wire
from airflow_provider_telephony.sandbox.callkeeper_formats import answer
from airflow_provider_telephony.sandbox.config import SandboxConfig

_SALT = "callkeeper"
_RECORD_URL = "https://records.callkeeper.sandbox.invalid/{}.mp3"
_HOOK_URL = "https://crm.example/hooks/callkeeper"
_DYNAMIC, _STATIC = "Динамический коллтрекинг", "Статический коллтрекинг"

# ----------------------------------------------------------------------------- seeded catalogue


@dataclass(frozen=True)
class _Campaign:
    """A call-tracking campaign: its office, and the tracking numbers (``routePhone``) that ring it."""

    campaign_id: int
    name: str
    site: str
    office_name: str
    office_phone: str
    route_phones: tuple[str, ...]
    dynamic: bool
    access: str


@dataclass(frozen=True)
class _Widget:
    """A callback tool (widget or form) on a site, with its office."""

    tool_id: int
    name: str
    hash: str
    office_number: str
    office_name: str
    office_phone: str
    caller_id: str
    site: str


@dataclass(frozen=True)
class _Account:
    """One CallKeeper account: the key owner (``own``) or the one that grants it a role (``role``)."""

    access: str
    uid: int
    login: str
    id_offset: int
    campaigns: tuple[_Campaign, ...]
    widgets: tuple[_Widget, ...]


_TAGS = (
    (101, "Целевой"), (102, "Повторный"), (103, "Спам"), (104, "Заказ"),
    (105, "Консультация"), (106, "Жалоба"), (107, "Доставка"), (108, "Сервис"),
)  # fmt: skip
_TAG_NAMES = dict(_TAGS)
#: city, region, country, UTC offset in minutes
_GEO = (
    ("Москва", "Москва", "Россия", 180),
    ("Санкт-Петербург", "Санкт-Петербург", "Россия", 180),
    ("Екатеринбург", "Свердловская область", "Россия", 300),
    ("Новосибирск", "Новосибирская область", "Россия", 420),
    ("Казань", "Республика Татарстан", "Россия", 180),
    ("Краснодар", "Краснодарский край", "Россия", 180),
)
#: utm_source, utm_medium, referrer, v1 sourceType
_SOURCES = (
    ("yandex", "cpc", "yandex.ru", "Контекстная реклама"),
    ("google", "cpc", "google.com", "Контекстная реклама"),
    ("", "", "yandex.ru", "Органический поиск"),
    ("vk", "social", "vk.com", "Социальные сети"),
    ("", "", "", "Прямой заход"),
)
_DEVICES = (
    ("desktop", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"),
    (
        "iphone 7",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 12_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    ),
    ("android", "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko)"),
)
_UTM_CAMPAIGNS = ("advert", "sale", "brand")
_UTM_CONTENTS = ("goods", "banner", "text")
_UTM_TERMS = ("купить диван", "доставка мебели", "some info")
_TEST_NETS = ("192.0.2", "198.51.100", "203.0.113")
#: call-tracking outcomes: cumulative weight, statusFirst, statusSecond, v1 stateDescription
_CT_OUTCOMES = (
    (0.72, 200, 200, "Успешный звонок"),
    (0.80, 200, 486, "Занято"),
    (0.90, 200, 480, "Нет ответа"),
    (0.96, 200, 487, "Клиент положил трубку"),
    (1.00, 720, 200, "Неизвестная ошибка оператора связи"),
)
#: callback outcomes: cumulative weight, statusFirst (operator leg), statusSecond (client leg)
_CB_OUTCOMES = ((0.75, 200, 200), (0.88, 200, 480), (0.95, 480, 0), (1.0, 200, 486))
_EVENT_SOURCES = ("widget", "mobile", "api", "lg", "iform", "form", "ckapp", "hand", "fb", "vk", "ok")
_CONNECT_TYPES = ("auto", "smartcall", "dtmf")
#: web-visit fields of a call without a tracked visit (strings empty, numbers 0: the v3 doc has no nulls)
_NO_VISIT: dict[str, Any] = dict.fromkeys(
    ("visitSite", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "yaClid",
     "gaClid", "roistatClid", "calltouchClid", "comagicClid", "city", "region", "country", "ipAddress"), ""
) | {"pagesCount": 0, "entryPoint": "", "entryPointQuery": "", "callPage": "", "counts": 0, "userAgent": "",
     "device": ""}  # fmt: skip
#: callback fields of a call that is not a callback (``cbAttemptsQueue`` is set per row: no shared lists)
_NO_CALLBACK: dict[str, Any] = {
    "cbWidgetHash": "", "cbToolId": 0, "cbCallId": 0, "cbUid": 0, "cbToolName": "", "cbOfficeNumber": "",
    "cbOfficeName": "", "cbOrderDate": "", "cbAttempt": 0, "cbAttemptsQueue": None, "cbConnectType": "",
    "cbSmartCallCount": 0, "cbIvrCount": 0, "cbEventSource": "",
}  # fmt: skip


def _rng(seed: int, stream: str) -> random.Random:
    """A ``random.Random`` for one named stream, derived from the sandbox seed and the CallKeeper salt."""
    digest = hashlib.sha256(f"{_SALT}:{seed}:{stream}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _fake_phone(rnd: Callable[[], float], taken: set[str]) -> str:
    """An obviously fake 11-digit number, ``7000`` + 7 digits, not yet in ``taken`` (which it joins)."""
    while True:
        number = f"7000{int(rnd() * 10_000_000):07d}"
        if number not in taken:
            taken.add(number)
            return number


def _campaigns(
    rnd: Callable[[], float], access: str, specs: Sequence[tuple[int, str, str, str, bool]]
) -> tuple[_Campaign, ...]:
    """Campaigns from ``(id, name, site, office, dynamic)``; a dynamic one gets a pool of 5 numbers."""
    taken: set[str] = set()
    return tuple(
        _Campaign(cid, name, site, office, _fake_phone(rnd, taken),
                  tuple(_fake_phone(rnd, taken) for _ in range(5 if dynamic else 1)), dynamic, access)
        for cid, name, site, office, dynamic in specs
    )  # fmt: skip


def _widgets(rng: random.Random, specs: Sequence[tuple[int, str, str, str, str]]) -> tuple[_Widget, ...]:
    """Callback tools from ``(tool id, name, office number, office name, site)``."""
    taken: set[str] = set()
    return tuple(
        _Widget(tool_id, name, f"{rng.getrandbits(128):032x}", number, office,
                _fake_phone(rng.random, taken), _fake_phone(rng.random, taken), site)
        for tool_id, name, number, office, site in specs
    )  # fmt: skip


def _accounts(seed: int) -> tuple[_Account, _Account]:
    """The key owner's account and the partner account that shares its calls with the owner by a role."""
    rng = _rng(seed, "catalogue")
    own_campaigns = _campaigns(rng.random, "own", (
        (559, "Тест", "shop.example", "Тестовый", True),
        (560, "Яндекс Директ", "shop.example", "Центральный офис", True),
        (561, "Наружная реклама", "shop.example", "Центральный офис", False),
        (562, "Радио", "auto.example", "Склад", False),
    ))  # fmt: skip
    own_widgets = _widgets(rng, (
        (1000, "Виджет обратного звонка", "0", "Moscow office", "shop.example"),
        (1001, "Форма заявки", "1", "Центральный офис", "auto.example"),
    ))  # fmt: skip
    role_campaigns = _campaigns(rng.random, "role", (
        (871, "Партнёры", "partner.example", "Филиал Север", True),
        (872, "Франшиза", "partner.example", "Филиал Юг", False),
    ))  # fmt: skip
    role_widgets = _widgets(rng, ((2000, "Виджет обратного звонка", "0", "Филиал Север", "partner.example"),))
    return (
        _Account("own", 1000, "sandbox", 0, own_campaigns, own_widgets),
        _Account("role", 2000, "partner", 5_000_000, role_campaigns, role_widgets),
    )


# ----------------------------------------------------------------------------- call generation

_DAY_TEXT: dict[int, str] = {}


def _fmt_time(ts: int) -> str:
    """``Y-m-d H:i:s`` of a unix time, UTC (the day part is cached: this runs ~3 times per call)."""
    day, second = divmod(ts, 86400)
    prefix = _DAY_TEXT.get(day)
    if prefix is None:
        prefix = _DAY_TEXT[day] = time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
    hour, rest = divmod(second, 3600)
    return f"{prefix} {hour:02d}:{rest // 60:02d}:{rest % 60:02d}"


def _offset_text(minutes: int) -> str:
    """``timezoneOffset`` as ``±HHMM``."""
    hours, mins = divmod(abs(minutes), 60)
    return f"{'+' if minutes >= 0 else '-'}{hours:02d}{mins:02d}"


@dataclass(slots=True)
class _Call:
    """A seeded call: unix time, v3 row (no ``page``), and for call tracking what its v1 row needs.

    The v1 row is built on first use (most requests need one page of it), then kept.
    """

    ts: int
    v3: dict[str, Any]
    v1_parts: tuple[_Campaign, str, str, list[int]] | None = None
    v1_row: dict[str, Any] | None = None

    def v1(self) -> dict[str, Any]:
        """The v1 row: ``-`` for unknown text, ``null`` ``timeStart``/``record`` on operator failures."""
        if self.v1_row is None:
            assert self.v1_parts is not None, "only call-tracking calls have a v1 row"
            self.v1_row = _v1_row(self.v3, *self.v1_parts)
        return self.v1_row


def _v1_row(
    row: dict[str, Any], campaign: _Campaign, source: str, description: str, tags: list[int]
) -> dict[str, Any]:
    """The v1 view of a v3 call-tracking row (field order of the v1 document's sample)."""

    def dash(name: str) -> str:
        return str(row[name]) or "-"

    return {
        "city": dash("city"), "site": dash("site"), "state": f"{row['statusFirst']}/{row['statusSecond']}",
        "callId": row["ctCallId"], "device": dash("device"), "record": row["recordUrl"] or None,
        "region": dash("region"), "tagsId": list(tags), "utmTerm": dash("utm_term"),
        "audition": "Прослушано" if row["ctIsListened"] == "1" else "Не прослушано",
        "callType": _DYNAMIC if campaign.dynamic else _STATIC, "clientIp": dash("ipAddress"),
        "duration": row["duration"], "timeStart": None if row["statusFirst"] == 720 else row["callTime"],
        "utmMedium": dash("utm_medium"), "utmSource": dash("utm_source"), "campaignId": campaign.campaign_id,
        "officeName": campaign.office_name, "routePhone": row["callerIdToClient"], "sourceType": source,
        "utmContent": dash("utm_content"), "clientPhone": row["clientNumber"],
        "officePhone": campaign.office_phone,
        "utmCampaign": dash("utm_campaign"), "campaignName": campaign.name, "stateDescription": description,
    }  # fmt: skip


class _Generator:
    """Makes the calls of one account; every draw comes from one seeded stream, so output is deterministic."""

    def __init__(self, config: SandboxConfig, account: _Account) -> None:
        self.account = account
        self.rnd = _rng(config.seed, f"calls:{account.access}").random
        self.seen_clients: set[str] = set()
        self.clients: list[str] = []
        self.serial = 0
        self.hook_share = 0.4 if account.access == "own" else 0.2
        self.uid_base = 10**16 * (2 if account.access == "role" else 1)

    def day(self, day_ts: int, count: int) -> list[_Call]:
        """``count`` calls of one UTC day, in time order; nine in ten fall between 07:00 and 22:00."""
        rnd = self.rnd
        seconds = sorted(
            int(25200 + rnd() * 54000) if rnd() < 0.9 else int(rnd() * 86400) for _ in range(count)
        )
        return [self.call(day_ts + second) for second in seconds]

    def call(self, ts: int) -> _Call:
        """One call at ``ts``: call tracking (75%), callback, or (owner only, 2%) import."""
        self.serial += 1
        kind = self.rnd()
        if kind < 0.75:
            return self._calltracking(ts)
        if kind < 0.98 or self.account.access == "role":
            return _Call(ts, self._callback(ts))
        return _Call(ts, self._import(ts))

    def _client(self) -> tuple[str, bool]:
        """A caller's number (a third are repeat callers) and whether it is the first call from it."""
        rnd = self.rnd
        if self.clients and rnd() < 0.33:
            return self.clients[int(rnd() * len(self.clients))], False
        number = _fake_phone(rnd, self.seen_clients)
        self.clients.append(number)
        return number, True

    def _head(
        self, ts: int, service: str, statuses: tuple[int, int], duration: int, offset: int
    ) -> dict[str, Any]:
        """The leading v3 fields (``universalId`` .. ``uniqueTarget``); the caller sets numbers and flags."""
        uid = str(self.uid_base + self.serial)
        first, second = statuses
        return {
            "universalId": uid, "serviceType": service, "clientNumber": "", "managerNumber": "",
            "callerIdToManager": "", "callerIdToClient": "", "statusFirst": first, "statusSecond": second,
            "status": "success" if first == second == 200 and duration > 0 else "fail",
            "callTime": _fmt_time(ts), "localDate": _fmt_time(ts + offset * 60),
            "timezoneOffset": _offset_text(offset),
            "duration": duration, "tariffTime": -(-duration // 60), "site": "",
            "recordUrl": _RECORD_URL.format(uid) if duration > 0 else "",
            "unique": False, "target": duration >= 30, "uniqueTarget": False,
        }  # fmt: skip

    def _parties(
        self, row: dict[str, Any], manager: str, to_manager: str | None, to_client: str, site: str
    ) -> None:
        """Fill numbers, site and uniqueness of ``row`` (``to_manager=None``: the manager sees the client)."""
        client, unique = self._client()
        row["clientNumber"], row["managerNumber"] = client, manager
        row["callerIdToManager"], row["callerIdToClient"] = to_manager or client, to_client
        row["site"], row["unique"], row["uniqueTarget"] = site, unique, unique and row["target"]

    def _visit(self, site: str) -> tuple[dict[str, Any], str, int]:
        """Web-visit fields of a tracked visit, v1's ``sourceType`` and the caller's UTC offset in minutes."""
        rnd = self.rnd
        utm_source, utm_medium, referrer, source_type = _SOURCES[int(rnd() * len(_SOURCES))]
        city, region, country, offset = _GEO[int(rnd() * len(_GEO))]
        device, agent = _DEVICES[int(rnd() * len(_DEVICES))]
        paid = bool(utm_source)
        query = f"?utm_source={utm_source}&utm_medium={utm_medium}" if paid else ""
        visit = {
            "visitSite": site, "referrer": referrer, "utm_source": utm_source, "utm_medium": utm_medium,
            "utm_campaign": _UTM_CAMPAIGNS[int(rnd() * 3)] if paid else "",
            "utm_content": _UTM_CONTENTS[int(rnd() * 3)] if paid else "",
            "utm_term": _UTM_TERMS[int(rnd() * 3)] if paid else "",
            "yaClid": str(10**18 + int(rnd() * 10**18)) if referrer == "yandex.ru" else "",
            "gaClid": f"{int(rnd() * 10**9):09d}.{int(rnd() * 10**10):010d}",
            "roistatClid": str(int(rnd() * 10**6)) if rnd() < 0.1 else "",
            "calltouchClid": "", "comagicClid": "",
            "city": city, "region": region, "country": country,
            "ipAddress": f"{_TEST_NETS[int(rnd() * 3)]}.{1 + int(rnd() * 254)}",
            "pagesCount": 1 + int(rnd() * 9),
            "entryPoint": f"https://{site}/", "entryPointQuery": f"https://{site}/{query}",
            "callPage": f"https://{site}/catalog", "counts": 1 + int(rnd() * 12), "userAgent": agent,
            "device": device,
        }  # fmt: skip
        return visit, source_type, offset

    def _tags(self) -> list[int]:
        """Zero, one or two tag ids (half of the calls have none)."""
        rnd = self.rnd
        draw = rnd()
        if draw < 0.5:
            return []
        first, second = _TAGS[int(rnd() * len(_TAGS))][0], _TAGS[int(rnd() * len(_TAGS))][0]
        return [first] if draw < 0.85 or second == first else sorted((first, second))

    def _tail(self, tag_ids: list[int]) -> dict[str, Any]:
        """``tags`` (names) and ``hooks`` (the account's CRM webhook on some of the calls)."""
        rnd = self.rnd
        hooks = []
        if rnd() < self.hook_share:
            status = 200 if rnd() < 0.95 else 500
            hook = {"hookEventName": "AFTER_CALL_FINISH", "hookAddress": _HOOK_URL, "hookMethod": "POST"}
            hooks.append({**hook, "hookResponseStatus": status})
        return {"tags": [_TAG_NAMES[tag] for tag in tag_ids], "hooks": hooks}

    def _calltracking(self, ts: int) -> _Call:
        """A call to a tracking number of a campaign (v1 lists these)."""
        rnd, account = self.rnd, self.account
        campaign = account.campaigns[int(rnd() * len(account.campaigns))]
        draw = rnd()
        _, first, second, description = next(outcome for outcome in _CT_OUTCOMES if draw < outcome[0])
        duration = 10 + int(rnd() * rnd() * 900) if first == second == 200 else 0
        visit, source, offset = self._visit(campaign.site) if campaign.dynamic else (_NO_VISIT, "-", 180)
        row = self._head(ts, "calltracking", (first, second), duration, offset)
        route = campaign.route_phones[int(rnd() * len(campaign.route_phones))]
        self._parties(row, campaign.office_phone, route, route, campaign.site)
        row.update(visit)
        row.update(_NO_CALLBACK, cbAttemptsQueue=[])
        listened = "" if duration == 0 else ("1" if rnd() < 0.3 else "0")
        row.update(ctCallId=1_337_000 + account.id_offset + self.serial, ctCampaignId=campaign.campaign_id,
                   ctCampaignName=campaign.name, ctIsListened=listened)  # fmt: skip
        tag_ids = self._tags()
        row.update(self._tail(tag_ids))
        return _Call(ts, row, (campaign, source, description, tag_ids))

    def _callback(self, ts: int) -> dict[str, Any]:
        """A callback ordered from a site tool: the office is called first, then the client."""
        rnd, account = self.rnd, self.account
        widget = account.widgets[int(rnd() * len(account.widgets))]
        draw = rnd()
        _, first, second = next(outcome for outcome in _CB_OUTCOMES if draw < outcome[0])
        duration = 10 + int(rnd() * rnd() * 600) if first == second == 200 else 0
        visit, _, offset = self._visit(widget.site)
        row = self._head(ts, "callback", (first, second), duration, offset)
        self._parties(row, widget.office_phone, None, widget.caller_id, widget.site)
        row.update(visit)
        attempt = 1 + int(rnd() * rnd() * 3)
        base_id = 10_000_000 + account.id_offset + 4 * self.serial
        row.update(
            cbWidgetHash=widget.hash, cbToolId=widget.tool_id, cbCallId=base_id + attempt - 1,
            cbUid=account.uid,
            cbToolName=widget.name, cbOfficeNumber=widget.office_number, cbOfficeName=widget.office_name,
            cbOrderDate=_fmt_time(ts - 5 - int(rnd() * 300)), cbAttempt=attempt,
            cbAttemptsQueue=[base_id + n for n in range(attempt - 1)],
            cbConnectType=_CONNECT_TYPES[int(rnd() * 3)],
            cbSmartCallCount=int(rnd() * 3), cbIvrCount=int(rnd() * 4),
            cbEventSource=_EVENT_SOURCES[int(rnd() * len(_EVENT_SOURCES))],
            ctCallId=0, ctCampaignId=0, ctCampaignName="", ctIsListened="",
        )  # fmt: skip
        row.update(self._tail(self._tags()))
        return row

    def _import(self, ts: int) -> dict[str, Any]:
        """A call imported from elsewhere: no visit, no callback or call-tracking details, no tags."""
        row = self._head(ts, "import", (200, 200), 10 + int(self.rnd() * 300), 180)
        office = self.account.campaigns[0].office_phone
        self._parties(row, office, None, office, "")
        row.update(_NO_VISIT)
        row.update(
            _NO_CALLBACK, cbAttemptsQueue=[], ctCallId=0, ctCampaignId=0, ctCampaignName="", ctIsListened=""
        )
        row.update(tags=[], hooks=[])
        return row


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small containers (none of them cyclic):
    generation is about a third faster, which keeps a seeded year under 0.3 s."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _generate(config: SandboxConfig, account: _Account, per_day: int) -> list[_Call]:
    """All calls of one account, about ``per_day`` a day (uniform within ±1/3), in time order."""
    generator = _Generator(config, account)
    days = _rng(config.seed, f"days:{account.access}")
    first_day = wire.day_start(config.data_start)
    calls: list[_Call] = []
    for index in range(config.data_days):
        count = days.randint(per_day - per_day // 3, per_day + per_day // 3) if per_day > 0 else 0
        calls.extend(generator.day(first_day + index * 86400, count))
    return calls


def _as_ts(moment: datetime) -> int:
    """Unix seconds of ``moment`` (naive means UTC), rounded up: for whole-second call times,
    ``t >= 10.5`` is ``t >= 11`` and ``t < 10.5`` is ``t < 11``."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
    seconds = aware.timestamp()
    return int(seconds) + (0 if seconds == int(seconds) else 1)


# ----------------------------------------------------------------------------- world


class CallKeeperWorld:
    """The seeded CallKeeper data, without HTTP; tests use it as the expected answer.

    ``own_calls`` / ``role_calls`` are v3 rows (without the per-response ``page`` key) in time order; they
    are the very dicts the server serves (and derives v1 rows from), so treat them as read-only.
    Windows are half-open, ``start <= call time < end``; the server turns its inclusive ``to`` /
    ``time_end`` into an exclusive end (timestamp + 1 second, or the next midnight for ``Y-m-d``).
    """

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.accounts = _accounts(config.seed)
        with _gc_paused():
            own_calls = _generate(config, self.accounts[0], config.calls_per_day)
            role_calls = _generate(config, self.accounts[1], round(config.calls_per_day / 3))
        both = sorted(own_calls + role_calls, key=lambda call: call.ts)
        self._v3 = {"get": own_calls, "getByRole": role_calls, "getWithRole": both}
        self._v1 = {
            "call": [call for call in own_calls if call.v1_parts is not None],
            "callrole": [call for call in role_calls if call.v1_parts is not None],
        }
        self._stamps = {
            name: [call.ts for call in calls] for name, calls in (*self._v3.items(), *self._v1.items())
        }
        self.own_calls = [call.v3 for call in own_calls]
        self.role_calls = [call.v3 for call in role_calls]

    def calls(self, method: str) -> list[dict[str, Any]]:
        """Every v3 row of a method (``get`` | ``getByRole`` | ``getWithRole``), in time order."""
        return [call.v3 for call in self._v3[method]]

    def calls_between(self, method: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """v3 rows of ``method`` with ``start <= callTime < end`` (naive datetimes are UTC)."""
        return self.calls_between_ts(method, _as_ts(start), _as_ts(end))

    def calls_between_ts(self, method: str, start: int, end: int) -> list[dict[str, Any]]:
        """v3 rows of ``method`` with ``start <= t < end``, in unix seconds."""
        return [call.v3 for call in self._window(self._v3[method], method, start, end)]

    def v1_calls_between(self, entity: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """v1 rows of ``call`` (own) or ``callrole`` with ``start <= t < end`` (``timeStart`` may be null)."""
        return [call.v1() for call in self.v1_window(entity, _as_ts(start), _as_ts(end))]

    def v1_window(self, entity: str, start: int, end: int) -> list[_Call]:
        """The call-tracking calls behind v1 ``call`` / ``callrole`` with ``start <= t < end``."""
        return self._window(self._v1[entity], entity, start, end)

    def _window(self, calls: list[_Call], name: str, start: int, end: int) -> list[_Call]:
        """The calls whose time is in ``[start, end)``, by bisection of the sorted times."""
        stamps = self._stamps[name]
        return calls[bisect.bisect_left(stamps, start) : bisect.bisect_left(stamps, end)]

    def reference(self, entity: str) -> list[dict[str, Any]]:
        """Rows of the v1 reference entities ``campaign`` | ``phone`` | ``user`` | ``tag`` (designed)."""
        campaigns = [campaign for account in self.accounts for campaign in account.campaigns]
        if entity == "campaign":
            return [
                {
                    "campaignId": c.campaign_id,
                    "campaignName": c.name,
                    "site": c.site,
                    "officeName": c.office_name,
                    "officePhone": c.office_phone,
                    "callType": _DYNAMIC if c.dynamic else _STATIC,
                    "accessType": c.access,
                }
                for c in campaigns
            ]
        if entity == "phone":
            numbers = [(c, number) for c in campaigns for number in c.route_phones]
            return [
                {
                    "phoneId": 3001 + index,
                    "phone": number,
                    "campaignId": c.campaign_id,
                    "campaignName": c.name,
                    "accessType": c.access,
                }
                for index, (c, number) in enumerate(numbers)
            ]
        if entity == "user":
            return [
                {
                    "userId": a.uid,
                    "login": a.login,
                    "name": f"Sandbox {a.login}",
                    "email": f"{a.login}@sandbox.invalid",
                    "accessType": a.access,
                }
                for a in self.accounts
            ]
        if entity == "tag":
            return [{"tagId": tag_id, "tagName": name} for tag_id, name in _TAGS]
        raise KeyError(entity)


# ----------------------------------------------------------------------------- HTTP


def build_routes(config: SandboxConfig) -> list[BaseRoute]:
    """Routes of the CallKeeper emulation at the server root: ``/api/``, ``/api/index.php`` and ``/api``.

    The world is seeded on the first request (about 0.2 s for a year), so starting the sandbox stays fast.
    """
    worlds: list[CallKeeperWorld] = []

    async def endpoint(request: Request) -> Response:
        if not worlds:
            worlds.append(CallKeeperWorld(config))
        body, media_type = answer(worlds[0], request.url.query)
        return Response(body, media_type=media_type)

    return [Route(path, endpoint, methods=["GET"]) for path in ("/api/", "/api/index.php", "/api")]


__all__ = ["CallKeeperWorld", "answer", "build_routes"]
