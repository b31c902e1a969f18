"""Constants and pure helpers of the AutoCall.kz emulation, copied from ``seeds/autocall-kz.openapi.yaml.txt``.

Nothing here holds state: number patterns, enums, the public tariff table, SMS segment arithmetic with
``{{varname}}`` substitution, audio sniffing and generation, the Almaty clock.  See :mod:`.autocall` for
the choices made where the document is unclear.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import random
import re
import struct
import wave
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

API = "/api/v1"
PUBLIC = "/api/public"
CONTROL = "/__sandbox__/autocall"
#: the document: "Доступно с 09:00 до 21:30 по Алматы (UTC+6)"; every timestamp is Almaty wall time
ALMATY = timezone(timedelta(hours=6))

_CITY = "710|711|712|713|714|715|716|717|718|721|722|723|724|725|726|727|728|729|736"
#: ``POST /lists`` and ``POST /lists/append/{id}``: no 706
LIST_NUMBER = re.compile(r"^\+7(700|701|702|705|707|708|747|771|775|776|777|778|" + _CITY + r")\d{7}$")
#: ``POST /flash-calls``: with 706
FLASH_NUMBER = re.compile(r"^\+7(700|701|702|705|706|707|708|747|771|775|776|777|778|" + _CITY + r")\d{7}$")
#: ``POST /settings/confirmed_numbers``: mobile operators only, no 706
CONFIRMED_NUMBER = re.compile(r"^\+7(700|701|702|705|707|708|747|771|775|776|777|778)\d{7}$")
#: ``POST /api/public/test-call`` ``phone``: ten digits without +7, with 706
TEST_CALL_PHONE = re.compile(r"^(700|701|702|705|706|707|708|747|771|775|776|777|778|" + _CITY + r")\d{7}$")
VARIABLE_KEY = re.compile(r"^[a-zA-Z0-9_]{1,30}$")
PLACEHOLDER = re.compile(r"\{\{([a-zA-Z0-9_]+)\}\}")

#: ``POST /sounds`` ``data[].voice`` (ten voices) and ``AutocallCreate.audio_id[].data.voice`` (twelve)
SOUND_VOICES = (
    "ru-RU-Wavenet-A", "ru-RU-Wavenet-B", "ru-RU-Wavenet-C", "ru-RU-Wavenet-D",
    "alyss", "jane", "oksana", "omazh", "zahar", "ermil",
)  # fmt: skip
AUTOCALL_VOICES = (*SOUND_VOICES, "filipp", "alena")
MAX_TRIES = (1, 2, 3, 4)
TRIES_INTERVALS = (15, 30, 60, 120)
CAMPAIGN_STEPS = ("moderation", "awaiting", "running", "completed")
FINAL_CAMPAIGN = ("completed", "denied")
#: final call statuses and the sandbox's seeded share of each (``in_queue`` is the only non-final one)
CALL_OUTCOMES = (
    ("success", 0.55),
    ("recalled", 0.05),
    ("no_answer", 0.2),
    ("busy", 0.1),
    ("error", 0.06),
    ("spam", 0.04),
)
#: final message statuses of a completed mailing and their seeded shares
MESSAGE_OUTCOMES = (
    ("delivered", 0.85),
    ("failed", 0.04),
    ("expired", 0.03),
    ("undeliverable", 0.05),
    ("rejected", 0.03),
)
NOTIFICATION_TYPES = (
    "SoundConfirmed", "SoundCommented", "SMSBulkConfirmed", "SMSBulkCommented", "SMSBulkFinished",
    "ScenarioConfirmed", "ScenarioCommented", "AutocallConfirmed", "AutocallCommented", "AutocallFinished",
    "ImportComplete", "ImportFailure", "NonexistentContactsDetected", "ExportIsReady", "ExportFailure",
    "RefreshBalance", "LowBalance", "CallerIdExpiringSoon", "CallerIdReleased",
)  # fmt: skip
#: ``GET /api/public/tariffs``, the document's example verbatim
TARIFFS_BODY: dict[str, Any] = {
    "currency": "KZT",
    "note": "Цены за единицу: звонок (секунда тарификации), SMS (1 сообщение).",
    "tariffs": [
        {"name": "BRONZE", "threshold": 0, "call_price": 3.5, "sms_price": 18, "synthesis_price": 2,
         "speech_price": 2, "recording_price": 1},
        {"name": "SILVER", "threshold": 50000, "call_price": 2.8, "sms_price": 16, "synthesis_price": 1.8,
         "speech_price": 1.8, "recording_price": 0.8},
        {"name": "GOLD", "threshold": 200000, "call_price": 2.2, "sms_price": 14, "synthesis_price": 1.5,
         "speech_price": 1.5, "recording_price": 0.5},
    ],
}  # fmt: skip
#: "**Лимиты:** Bronze — 0 номеров, Silver — 1, Gold — 2."
CALLER_ID_LIMITS = {"BRONZE": 0, "SILVER": 1, "GOLD": 2}
#: tenge a month per rented caller id (the document names the field, not the price)
CALLER_ID_RENT_PRICE = 3000.0
#: the price of a PBX second (``AccountSettings.sip_price``; not in the tariff table)
SIP_PRICE = 2.0
#: documented limits
FLASH_ATTEMPTS = 3
TEST_CALLS_PER_MINUTE = 2
LIST_MAX_NUMBERS = 10_000
INLINE_MAX = 5000
BULK_CALCULATE_MAX = 6000
PROVIDERS = {
    "700": "Altel", "701": "Kcell", "702": "Kcell", "705": "Beeline", "706": "Beeline", "707": "Tele2",
    "708": "Altel", "747": "Tele2", "771": "Beeline", "775": "Activ", "776": "Beeline", "777": "Beeline",
    "778": "Activ",
}  # fmt: skip
RECOGNISED = (
    "Да, мне удобно", "Нет, перезвоните позже", "Спасибо, всё понятно", "Хочу поговорить с оператором",
    "Не интересует", "Да", "Нет",
)  # fmt: skip
#: a name containing this marker is denied by the sandbox's moderators, with :data:`DENY_COMMENT`
DENY_MARKER = "[deny]"
DENY_COMMENT = "Отклонено модератором: содержимое не соответствует правилам сервиса."

GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")


def tariff(name: str) -> dict[str, float]:
    """Prices of one documented tariff (``BRONZE``, ``SILVER``, ``GOLD``)."""
    for row in TARIFFS_BODY["tariffs"]:
        if row["name"] == name:
            return {k: float(v) for k, v in row.items() if k != "name"}
    raise ValueError(f"unknown AutoCall tariff {name!r}: one of BRONZE, SILVER, GOLD")


def sms_segments(text: str) -> int:
    """SMS parts: GSM-7 (160, or 153 a part; extension characters take two) or UCS-2 (70/67)."""
    if all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text):
        units = sum(2 if ch in GSM_EXTENDED else 1 for ch in text)
        return 1 if units <= 160 else math.ceil(units / 153)
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    return 1 if units <= 70 else math.ceil(units / 67)


def worst_case_text(text: str, contacts: Iterable[dict[str, str] | None]) -> str:
    """``text`` with every ``{{var}}`` replaced by the longest value any contact has (``""`` if none)."""
    longest: dict[str, str] = {}
    for variables in contacts:
        for key, value in (variables or {}).items():
            if len(value) > len(longest.get(key, "")):
                longest[key] = value
    return PLACEHOLDER.sub(lambda match: longest.get(match.group(1), ""), text)


def personal_text(text: str, variables: dict[str, str] | None) -> str:
    """One contact's text: its values substituted, unknown variables become the empty string."""
    return PLACEHOLDER.sub(lambda match: (variables or {}).get(match.group(1), ""), text)


def synthesis_seconds(text: str, speed: float) -> int:
    """Seconds of synthesised speech: about 15 characters a second at speed 1."""
    return max(1, math.ceil(len(text) / (15 * speed)))


def decode_audio(data: str) -> tuple[bytes, str] | None:
    """Base64 ``file`` of ``type=upload`` → (bytes, ``mp3``|``wav``|``ogg``), or ``None`` if it is neither."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    if raw[:4] == b"RIFF" and raw[8:12] == b"WAVE":
        return raw, "wav"
    if raw[:4] == b"OggS":
        return raw, "ogg"
    if raw[:3] == b"ID3" or (len(raw) > 1 and raw[0] == 0xFF and raw[1] & 0xE0 == 0xE0):
        return raw, "mp3"
    return None


def audio_seconds(raw: bytes, kind: str) -> int:
    """Whole seconds of an uploaded file: a WAV's header, otherwise its size at 128 kbit/s."""
    if kind == "wav":
        try:
            with wave.open(io.BytesIO(raw)) as wav:
                return max(1, math.ceil(wav.getnframes() / max(1, wav.getframerate())))
        except (wave.Error, EOFError, struct.error):
            pass
    return max(1, math.ceil(len(raw) / 16_000))


def wav_bytes(seconds: int, seed: str) -> bytes:
    """A real WAV (8 kHz, 8-bit mono) of ``seconds``: a quiet seeded tone, so every file differs."""
    rng = random.Random(seed)
    period = rng.randint(12, 40)
    count = 8000 * max(1, seconds)
    cycle = bytes([122] * period + [134] * period)
    frames = (cycle * (count // len(cycle) + 1))[:count]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(frames)
    return buffer.getvalue()


def provider_for(number: str) -> str:
    """Mobile operator of a Kazakh number by its prefix."""
    return PROVIDERS.get(number[2:5], "Kazakhtelecom")


def now_local() -> datetime:
    """The current Almaty time (UTC+6), without microseconds."""
    return datetime.now(ALMATY).replace(microsecond=0)


def stamp(moment: datetime) -> str:
    """The document's ``Y-m-d H:i:s``."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def money(value: float) -> str:
    """A decimal column as Laravel serialises it: ``"245.60"``."""
    return f"{value:.2f}"


def weighted(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    """One name of ``table`` drawn by its share."""
    draw = rng.random()
    for name, share in table:
        if draw < share:
            return name
        draw -= share
    return table[-1][0]
