"""Keep secrets and personal data out of logs and exception text.

Two mechanisms:

* :func:`register_secret` hands a value to Airflow's secrets masker, which scrubs it from every task
  and triggerer log line (and tells the supervisor process too).  Runtime tokens go through here the
  moment they are obtained.
* :func:`redact_text` / :func:`redact_url` scrub text *we* build (exception messages, log arguments)
  for secrets that are part of a URL path, before any logger or masker sees it.  CallKeeper-style
  keys live inside the URL, and httpx/tenacity log URLs, so redaction must happen at the source.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from typing import Any

REDACTED = "***"

_lock = threading.Lock()
_secrets: set[str] = set()
#: masking notifications in flight on an event loop (kept referenced until they finish)
_pending: set[asyncio.Task[Any]] = set()
# Digits that look like a phone number: 10 to 15 digits, optionally with a leading + and separators.
_PHONE_RE = re.compile(r"(?<![\w/])\+?\d(?:[\s\-()]*\d){9,14}(?![\w])")
# Credentials by their shape, whether registered or not: an ``Authorization`` value a server echoes
# (``Bearer <token>``, ``Basic <b64>``) and ``"access_token": "<value>"``-style pairs in bodies.
# (a value must hold a digit or punctuation, so "basic authentication" stays readable)
_SCHEME_RE = re.compile(r"(?i)\b(bearer|basic)(\s+)(?=[A-Za-z]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{6,}")
_PAIR_RE = re.compile(
    r"(?i)([\"']?\b(?:access_?token|refresh_?token|client_secret|api_key|apikey|password)[\"']?\s*[:=]\s*[\"']?)"
    r"[^\s\"'&,;}]{4,}"
)


def register_secret(value: str | None, name: str | None = None) -> None:
    """Mask ``value`` everywhere: Airflow's secrets masker plus this module's own list.

    Values shorter than 4 characters are ignored (masking them would shred ordinary text).  Safe to
    call from an event loop (triggers): there the supervisor is told without blocking the loop.
    """
    if not value or len(value) < 4:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
    tell_airflow(value, name)


def tell_airflow(value: Any, name: str | None = None) -> None:
    """Hand ``value`` to Airflow's secrets masker: a string, or a dict whose sensitive keys
    (``password``, ``access_token``, ``api_key`` …) Airflow masks by name, as it does for extras.

    In a task this is ``mask_secret``; on a running event loop (the triggerer) the notification of the
    supervisor process goes through ``amask_secret`` (Airflow 3.2+) or a worker thread, because a
    blocking send from the loop would stall every trigger on it.
    """
    try:
        from airflow.sdk import log as sdk_log
    except ImportError:  # pragma: no cover - Airflow without the task SDK
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    try:
        if loop is None:
            sdk_log.mask_secret(value, name)
            return
        amask = getattr(sdk_log, "amask_secret", None)
        coro = (
            amask(value, name) if amask is not None else asyncio.to_thread(sdk_log.mask_secret, value, name)
        )
        task = loop.create_task(coro)
        _pending.add(task)
        task.add_done_callback(_pending.discard)
    except Exception:  # pragma: no cover - the masker is best effort outside a task
        logging.getLogger(__name__).debug("secrets masker unavailable", exc_info=True)


def redact_text(text: str, *, phones: bool = False) -> str:
    """Return ``text`` with secrets replaced by ``***`` (and phone numbers if asked).

    Secrets are the registered values plus anything shaped like a credential: the value after
    ``Bearer``/``Basic`` and after ``access_token=``, ``"client_secret": `` and the like.
    """
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _SCHEME_RE.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    text = _PAIR_RE.sub(lambda m: m.group(1) + REDACTED, text)
    if phones:
        text = _PHONE_RE.sub(REDACTED, text)
    return text


def redact_url(url: object) -> str:
    """A URL as text with registered secrets removed from its path and query."""
    return redact_text(str(url))


def mask_phone(phone: str | None) -> str:
    """Show only the last two digits of a phone number (for DEBUG logs and error messages)."""
    if not phone:
        return ""
    digits = [c for c in phone if c.isdigit()]
    return "*" * max(len(digits) - 2, 0) + "".join(digits[-2:])


class RedactingFilter(logging.Filter):
    """Logging filter that rewrites a record's message with secrets redacted.

    Installed on the ``httpx``/``httpcore``/``tenacity`` loggers by the transport so that
    third-party log lines that print URLs never carry a key that sits inside the URL.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_filter = RedactingFilter()


def install_log_filters(*logger_names: str) -> None:
    """Attach :class:`RedactingFilter` to the named loggers (idempotent; children need their own)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if _filter not in logger.filters:
            logger.addFilter(_filter)
