"""Validation of AutoCall.kz requests, rule by rule from the document's request schemas, Laravel style.

Laravel semantics kept: ``required`` fails for a missing key, ``null``, ``""`` and ``[]``; an optional
field (no ``nullable`` in the document) that is present as ``null`` fails its type rule; ``integer``,
``numeric`` and ``boolean`` accept what PHP accepts (``"5"``, ``1``/``"0"`` for booleans); lengths count
characters; ``date_format`` is strict (``2024-02-30`` and ``24:00:00`` fail).  One message per field (the
first rule that fails), in Russian like the document's ``"Поле name обязательно."``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Final

from airflow_provider_telephony.sandbox import autocall_data as d
from airflow_provider_telephony.sandbox.autocall_state import AutoCallState

MISSING: Final[Any] = object()
FORMATS = {"Y-m-d": "%Y-%m-%d", "H:i:s": "%H:%M:%S"}
CODE = re.compile(r"^\d{3,6}$")


class Check:
    """Collects ``{field: [message]}`` like Laravel's validator."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def fail(self, key: str, text: str) -> None:
        self.errors.setdefault(key, [text])

    def _go(self, key: str, value: Any, required: bool, nullable: bool = False) -> bool:
        """Whether the type rules should run (``required`` already checked)."""
        empty = value is MISSING or value is None or value == [] or value == {}
        if required and empty:
            self.fail(key, f"Поле {key} обязательно.")
            return False
        return value is not MISSING and not (nullable and value is None)

    def string(
        self,
        key: str,
        value: Any,
        *,
        required: bool = False,
        low: int | None = None,
        high: int | None = None,
        size: int | None = None,
        pattern: re.Pattern[str] | None = None,
        fmt: str | None = None,
        nullable: bool = False,
    ) -> str | None:
        if not self._go(key, value, required, nullable):
            return None
        if not isinstance(value, str):
            self.fail(key, f"Поле {key} должно быть строкой.")
        elif size is not None and len(value) != size:
            self.fail(key, f"Количество символов в поле {key} должно быть равным {size}.")
        elif low is not None and len(value) < low:
            self.fail(key, f"Количество символов в поле {key} должно быть не меньше {low}.")
        elif high is not None and len(value) > high:
            self.fail(key, f"Количество символов в поле {key} не может превышать {high}.")
        elif pattern is not None and not pattern.search(value):
            self.fail(key, f"Поле {key} имеет ошибочный формат.")
        elif fmt is not None and not valid_format(value, fmt):
            self.fail(key, f"Поле {key} не соответствует формату {fmt}.")
        else:
            return value
        return None

    def integer(
        self,
        key: str,
        value: Any,
        *,
        required: bool = False,
        low: int | None = None,
        high: int | None = None,
        choices: tuple[int, ...] | None = None,
    ) -> int | None:
        if not self._go(key, value, required):
            return None
        number = _as_int(value)
        if number is None:
            self.fail(key, f"Поле {key} должно быть целым числом.")
        elif choices is not None and number not in choices:
            self.fail(key, f"Выбранное значение для {key} некорректно.")
        elif low is not None and number < low:
            self.fail(key, f"Значение поля {key} должно быть не меньше {low}.")
        elif high is not None and number > high:
            self.fail(key, f"Значение поля {key} не может быть больше {high}.")
        else:
            return number
        return None

    def number(self, key: str, value: Any, low: float, high: float) -> float | None:
        if not self._go(key, value, False):
            return None
        number = _as_float(value)
        if number is None:
            self.fail(key, f"Поле {key} должно быть числом.")
        elif not low <= number <= high:
            self.fail(key, f"Значение поля {key} должно быть между {low:g} и {high:g}.")
        else:
            return number
        return None

    def boolean(self, key: str, value: Any) -> bool | None:
        if not self._go(key, value, False):
            return None
        if value in (True, False, 0, 1, "0", "1") and not isinstance(value, float):
            return value in (True, 1, "1")
        self.fail(key, f"Поле {key} должно иметь значение логического типа.")
        return None

    def choice(self, key: str, value: Any, choices: tuple[str, ...], *, required: bool = False) -> str | None:
        if not self._go(key, value, required):
            return None
        if isinstance(value, str) and value in choices:
            return value
        self.fail(key, f"Выбранное значение для {key} некорректно.")
        return None

    def array(
        self, key: str, value: Any, *, required: bool = False, low: int = 0, high: int | None = None
    ) -> list[Any] | None:
        if not self._go(key, value, required):
            return None
        if not isinstance(value, list):
            self.fail(key, f"Поле {key} должно быть массивом.")
        elif len(value) < low:
            self.fail(key, f"Количество элементов в поле {key} должно быть не меньше {low}.")
        elif high is not None and len(value) > high:
            self.fail(key, f"Количество элементов в поле {key} не может превышать {high}.")
        else:
            return value
        return None

    def variables(self, key: str, value: Any) -> dict[str, str] | None:
        """Contact variables: keys ``[a-zA-Z0-9_]`` up to 30 characters, string values up to 255."""
        if not self._go(key, value, False):
            return None
        if value == []:  # PHP decodes ``{}`` as an empty array
            return {}
        if not isinstance(value, dict):
            self.fail(key, f"Поле {key} должно быть массивом.")
            return None
        for name, item in value.items():
            if not d.VARIABLE_KEY.match(name):
                self.fail(f"{key}.{name}", f"Ключ {name} в поле {key}: только [a-zA-Z0-9_], до 30 символов.")
            else:
                self.string(f"{key}.{name}", item, required=True, high=255)
        return value

    def unknown(self, key: str) -> None:
        self.fail(key, f"Выбранное значение для {key} некорректно.")


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    return None


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def valid_format(value: str, fmt: str) -> bool:
    """PHP's ``date_format``: parses, and formats back to the same text."""
    pattern = FORMATS[fmt]
    try:
        return datetime.strptime(value, pattern).strftime(pattern) == value
    except ValueError:
        return False


def get(data: Any, key: str) -> Any:
    return data.get(key, MISSING) if isinstance(data, dict) else MISSING


# ----------------------------------------------------------------------------- contact lists


def numbers(check: Check, data: dict[str, Any]) -> list[dict[str, Any]]:
    """``numbers`` of ``POST /lists`` and ``POST /lists/append/{id}``: at most 10,000, list pattern."""
    items = check.array("numbers", get(data, "numbers"), required=True, high=d.LIST_MAX_NUMBERS) or []
    found = []
    for index, item in enumerate(items):
        key = f"numbers.{index}"
        if not isinstance(item, dict):
            check.fail(key, f"Поле {key} должно быть массивом.")
            continue
        number = check.string(
            f"{key}.number", get(item, "number"), required=True, size=12, pattern=d.LIST_NUMBER
        )
        extra = check.string(f"{key}.extra", get(item, "extra"), high=255)
        variables = check.variables(f"{key}.variables", get(item, "variables"))
        found.append({"number": number, "extra": extra, "variables": variables or None})
    return found


def list_create(data: dict[str, Any]) -> tuple[Check, dict[str, Any]]:
    check = Check()
    name = check.string("name", get(data, "name"), required=True, low=1, high=40)
    contacts = numbers(check, data)
    client_id = check.string("client_id", get(data, "client_id"), high=256)
    return check, {"name": name, "numbers": contacts, "client_id": client_id}


def list_update(data: dict[str, Any]) -> tuple[Check, dict[str, Any]]:
    check = Check()
    out = {
        "name": check.string("name", get(data, "name"), low=1, high=40),
        "client_id": check.string("client_id", get(data, "client_id"), high=256),
    }
    return check, {k: v for k, v in out.items() if k in data}


def list_filters(query: dict[str, str]) -> Check:
    """``GET /lists`` (the only list operation with a documented 422): dates ``Y-m-d``, ``order``."""
    check = Check()
    for key in ("date_from", "date_to"):
        if query.get(key):
            check.string(key, query[key], fmt="Y-m-d")
    if query.get("order"):
        check.choice("order", query["order"], ("asc", "desc"))
    return check


# ----------------------------------------------------------------------------- sounds and scenarios


def audio_params(
    check: Check, key: str, kind: str | None, params: Any, voices: tuple[str, ...]
) -> dict[str, Any]:
    """One audio's ``data``: ``text``/``voice``/``speed``/``pitch`` to synthesise, or a Base64 ``file``."""
    if not isinstance(params, dict):
        check.fail(key, f"Поле {key} должно быть массивом.")
        return {}
    out: dict[str, Any] = {"type": kind}
    if kind == "synthesis":
        required = f"Поле {key}.text обязательно для заполнения, когда type равно synthesis."
        if get(params, "text") in (MISSING, None):
            check.fail(f"{key}.text", required)
        out["text"] = check.string(f"{key}.text", get(params, "text"), low=1, high=400)
        voice = get(params, "voice")
        out["voice"] = (
            check.choice(f"{key}.voice", voice, voices) if voice is not MISSING else "ru-RU-Wavenet-B"
        )
        speed = get(params, "speed")
        out["speed"] = check.number(f"{key}.speed", speed, 0.25, 4) if speed is not MISSING else 1.0
        pitch = get(params, "pitch")
        out["pitch"] = check.number(f"{key}.pitch", pitch, -20, 20) if pitch is not MISSING else 0.0
    elif kind == "upload":
        file = get(params, "file")
        if file in (MISSING, None):
            check.fail(f"{key}.file", f"Поле {key}.file обязательно для заполнения, когда type равно upload.")
        elif (text := check.string(f"{key}.file", file)) is not None:
            decoded = d.decode_audio(text)
            if decoded is None:
                check.fail(f"{key}.file", f"Поле {key}.file должно быть файлом mp3, wav или ogg в Base64.")
            else:
                out["audio"], out["format"] = decoded
    return out


def sound_create(data: dict[str, Any]) -> tuple[Check, dict[str, Any]]:
    check = Check()
    name = check.string("name", get(data, "name"), required=True, low=1, high=40)
    kind = check.choice("type", get(data, "type"), ("synthesis", "upload"), required=True)
    items = check.array("data", get(data, "data"), required=True, low=1, high=1)
    params = audio_params(check, "data.0", kind, items[0], d.SOUND_VOICES) if items and kind else {}
    client_id = check.string("client_id", get(data, "client_id"), high=60)
    return check, {"name": name, "audio": params, "client_id": client_id}


def rename(data: dict[str, Any], client_id_max: int) -> tuple[Check, dict[str, Any]]:
    """``PUT`` of a sound: ``name`` 1..40 and ``client_id``, both optional."""
    check = Check()
    out = {
        "name": check.string("name", get(data, "name"), low=1, high=40),
        "client_id": check.string("client_id", get(data, "client_id"), high=client_id_max),
    }
    return check, {k: v for k, v in out.items() if k in data}


def scenario_fields(data: dict[str, Any], *, create: bool) -> tuple[Check, dict[str, Any]]:
    check = Check()
    out: dict[str, Any] = {
        "name": check.string("name", get(data, "name"), required=create, low=1, high=40),
        "client_id": check.string("client_id", get(data, "client_id"), high=60),
    }
    text = check.string("data", get(data, "data"), required=create)
    if text is not None:
        try:
            out["data"] = json.loads(text)
        except ValueError:
            check.fail("data", "Поле data должно быть JSON строкой.")
    return check, out if create else {k: v for k, v in out.items() if k in data}


# ----------------------------------------------------------------------------- campaigns


def inline_contact(check: Check, key: str, item: dict[str, Any], extra_max: int) -> dict[str, Any]:
    """A number given inline in ``list_id``: only ``minLength``/``maxLength`` 12 in the document."""
    return {
        "number": check.string(f"{key}.number", get(item, "number"), required=True, size=12),
        "extra": check.string(f"{key}.extra", get(item, "extra"), high=extra_max),
        "variables": check.variables(f"{key}.variables", get(item, "variables")) or None,
    }


def targets(
    check: Check, state: AutoCallState, data: dict[str, Any], high: int, extra_max: int
) -> tuple[list[int], list[dict[str, Any]]]:
    """``list_id``: existing list ids and inline numbers, ``1..high`` items."""
    items = check.array("list_id", get(data, "list_id"), required=True, low=1, high=high) or []
    ids: list[int] = []
    inline: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        key = f"list_id.{index}"
        if isinstance(item, dict):
            inline.append(inline_contact(check, key, item, extra_max))
        elif (ident := _as_int(item)) is not None and ident in state.lists:
            ids.append(ident)
        else:
            check.unknown(key)
    return ids, inline


def schedule(check: Check, data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in keys:
        if key == "date_from":
            out[key] = check.string(key, get(data, key), size=10, fmt="Y-m-d")
        elif key in ("time_from", "time_to"):
            out[key] = check.string(key, get(data, key), size=8, fmt="H:i:s")
        elif key == "tries_interval":
            out[key] = check.integer(key, get(data, key), choices=d.TRIES_INTERVALS)
        elif key == "name":
            out[key] = check.string(key, get(data, key), low=1, high=40)
        elif key == "client_id":
            out[key] = check.string(key, get(data, key), high=60)
        elif key == "callback_url":
            out[key] = check.string(key, get(data, key), high=256)
    return {k: v for k, v in out.items() if k in data}


def autocall_create(state: AutoCallState, data: dict[str, Any]) -> tuple[Check, dict[str, Any]]:
    """``AutocallCreate``: the body of ``POST /autocalls`` and ``POST /autocalls/calculate``."""
    check = Check()
    body: dict[str, Any] = {"name": check.string("name", get(data, "name"), required=True, low=1, high=40)}
    body["type"] = check.choice("type", get(data, "type"), ("regular", "interactive"), required=True)
    body.update(
        {
            "time_from": "12:00:00",
            "time_to": "18:00:00",
            "max_tries": 1,
            "tries_interval": 60,
            "date_from": None,
        }
    )
    body.update(
        schedule(
            check, data, ("time_from", "time_to", "tries_interval", "date_from", "client_id", "callback_url")
        )
    )
    body["max_tries"] = check.integer("max_tries", get(data, "max_tries"), choices=d.MAX_TRIES) or 1
    body["tries_interval"] = body["tries_interval"] or 60
    body["audio"] = []
    if body["type"] == "regular" and get(data, "audio_id") in (MISSING, None, []):
        check.fail("audio_id", "Поле audio_id обязательно для заполнения, когда type равно regular.")
    for index, item in enumerate(check.array("audio_id", get(data, "audio_id")) or []):
        key = f"audio_id.{index}"
        if isinstance(item, dict):
            kind = check.choice(f"{key}.type", get(item, "type"), ("synthesis", "upload"), required=True)
            if get(item, "data") in (MISSING, None):
                check.fail(f"{key}.data", f"Поле {key}.data обязательно.")
            elif kind:
                body["audio"].append(
                    audio_params(check, f"{key}.data", kind, item["data"], d.AUTOCALL_VOICES)
                )
        elif (ident := _as_int(item)) is not None and ident in state.sounds:
            body["audio"].append(ident)
        else:
            check.unknown(key)
    scenario = get(data, "scenario_id")
    if body["type"] == "interactive" and scenario in (MISSING, None):
        check.fail(
            "scenario_id", "Поле scenario_id обязательно для заполнения, когда type равно interactive."
        )
    body["scenario_id"] = check.integer("scenario_id", scenario)
    if body["scenario_id"] is not None and body["scenario_id"] not in state.scenarios:
        check.unknown("scenario_id")
    body["lists"], body["inline"] = targets(check, state, data, d.INLINE_MAX, 255)
    for flag, text in (("sms", "text"), ("sms_unanswered", "text_unanswered")):
        body[flag] = bool(check.boolean(flag, get(data, flag)))
        if body[flag] and get(data, text) in (MISSING, None):
            check.fail(text, f"Поле {text} обязательно для заполнения, когда {flag} равно true.")
        body[text] = check.string(text, get(data, text))
    for flag in ("lifetime", "record"):
        body[flag] = bool(check.boolean(flag, get(data, flag)))
    body["caller_id"] = check.string("caller_id", get(data, "caller_id"), high=20, nullable=True)
    if body["caller_id"] is not None and body["caller_id"] not in {r.number for r in state.rentals.values()}:
        check.fail("caller_id", "Номер caller_id не арендован вами или аренда истекла.")
    return check, body


def bulk_create(state: AutoCallState, data: dict[str, Any], high: int) -> tuple[Check, dict[str, Any]]:
    """``POST /bulks`` (``high`` 5000) and ``POST /bulks/calculate`` (``high`` 6000, as documented)."""
    check = Check()
    body: dict[str, Any] = {
        "name": check.string("name", get(data, "name"), required=True, low=1, high=40),
        "text": check.string("text", get(data, "text"), required=True, low=1, high=1600),
        "date_from": None,
        "time_from": None,
    }
    body["lists"], body["inline"] = targets(check, state, data, high, 60)
    body.update(schedule(check, data, ("date_from", "time_from", "client_id", "callback_url")))
    return check, body


# ----------------------------------------------------------------------------- account


def settings_update(state: AutoCallState, data: dict[str, Any]) -> tuple[Check, dict[str, Any]]:
    check = Check()
    out: dict[str, Any] = {
        "name": check.string("name", get(data, "name"), low=2, high=40),
        "subscribe": check.boolean("subscribe", get(data, "subscribe")),
        "notifications_subscribe": check.boolean(
            "notifications_subscribe", get(data, "notifications_subscribe")
        ),
        "visit_card_audio": check.integer("visit_card_audio", get(data, "visit_card_audio")),
        "visit_card_text": check.string("visit_card_text", get(data, "visit_card_text"), high=160),
    }
    if out["visit_card_audio"] is not None and out["visit_card_audio"] not in state.sounds:
        check.unknown("visit_card_audio")
    return check, {k: v for k, v in out.items() if k in data}


def confirmed_number(data: dict[str, Any]) -> tuple[Check, dict[str, Any]]:
    check = Check()
    number, code = get(data, "number"), get(data, "verification_code")
    if number in (MISSING, None) and code in (MISSING, None):
        check.fail("number", "Поле number обязательно для заполнения, когда verification_code не указано.")
        check.fail(
            "verification_code", "Поле verification_code обязательно для заполнения, когда number не указано."
        )
    out = {
        "number": check.string("number", number, size=12, pattern=d.CONFIRMED_NUMBER),
        "verification_code": check.integer("verification_code", code, low=10000, high=99999),
    }
    return check, out


def flash_call(data: dict[str, Any]) -> tuple[Check, dict[str, Any]]:
    check = Check()
    out: dict[str, Any] = {
        "number": check.string("number", get(data, "number"), required=True, size=12, pattern=d.FLASH_NUMBER)
    }
    digits, code = get(data, "digits"), get(data, "code")
    if digits in (MISSING, None) and code in (MISSING, None):
        check.fail("digits", "Поле digits обязательно для заполнения, когда code не указано.")
        check.fail("code", "Поле code обязательно для заполнения, когда digits не указано.")
    out["digits"] = check.integer("digits", digits, low=3, high=6)
    out["code"] = check.string("code", code, low=3, high=6, pattern=CODE)
    return check, out


def single_integer(data: dict[str, Any], key: str, low: int | None = None) -> tuple[Check, int | None]:
    """``POST /payments`` ``amount`` (min 200) and ``POST /caller-ids`` ``caller_id_id``."""
    check = Check()
    return check, check.integer(key, get(data, key), required=True, low=low)
