"""State of the Tele2 PBX emulation: the rotating token pair and the server's mutable data.

See :mod:`airflow_provider_telephony.sandbox.tele2` for what is emulated and why.  Every method here is
synchronous: the server runs in one event loop, so a check and the update that follows it (a token
rotation, a manager save) never interleave with another request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airflow_provider_telephony.sandbox import tele2_data as data
from airflow_provider_telephony.sandbox.config import SandboxConfig

ALREADY_UPDATED = "The token has already been updated"
EXPIRED = "The token is expired"
INVALID = "The token is invalid"


class Problem(Exception):
    """Ends a handler with a Spring-style JSON error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def bad(message: str) -> Problem:
    """A 400 problem."""
    return Problem(400, message)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


#: the JOSE header of the document's tokens
_JWT_HEADER = _b64(b'{"alg":"HS512"}')


# ----------------------------------------------------------------------------- tokens


class Tele2Auth:
    """The one valid token pair, the superseded ones, and the counters of ``/__sandbox__/tele2/stats``.

    Every method is synchronous: the server runs in one event loop, so a check and the rotation that
    follows it can never interleave with another request.
    """

    def __init__(self, config: SandboxConfig, now: float) -> None:
        self.config = config
        self.secret = secrets.token_bytes(32)
        self.generation = 0
        self.access, self.access_exp = config.tele2_access_token, now + config.tele2_access_ttl
        self.refresh, self.refresh_exp = config.tele2_refresh_token, now + config.tele2_refresh_ttl
        self.retired_access: set[str] = set()
        #: superseded refresh tokens and their own expiry
        self.retired_refresh: dict[str, float] = {}
        self.issued = [self.access, self.refresh]
        self.refreshes = 0
        self.refused = {"already_updated": 0, "expired": 0, "unknown": 0}
        self.rejected_access = 0

    def check_access(self, header: str | None) -> str | None:
        """Why the ``Authorization`` header does not authorize a method, or ``None`` when it does."""
        token = (header or "").strip()
        if token == self.access and token and time.time() < self.access_exp:
            return None
        self.rejected_access += 1
        if not token:
            return "missing Authorization header (the raw access token)"
        if token[:7].lower() == "bearer ":
            return "the Authorization header takes the raw access token, without 'Bearer '"
        if token == self.access:
            return "access token expired"
        if token in self.retired_access:
            return "access token superseded by a newer pair"
        if token == self.refresh or token in self.retired_refresh:
            return "a refresh token cannot authorize a method"
        return "invalid access token"

    def use_refresh(self, header: str | None) -> dict[str, str] | str:
        """The new pair for a valid refresh token, or the text of the 403 refusal."""
        token = (header or "").strip()
        now = time.time()
        if token and token == self.refresh:
            if now >= self.refresh_exp:
                return self._refuse("expired", EXPIRED)
            self.refreshes += 1
            return self.rotate(now)
        if token and token in self.retired_refresh:
            if now >= self.retired_refresh[token]:
                return self._refuse("expired", EXPIRED)
            return self._refuse("already_updated", ALREADY_UPDATED)
        return self._refuse("unknown", INVALID)

    def _refuse(self, reason: str, text: str) -> str:
        self.refused[reason] += 1
        return text

    def rotate(self, now: float) -> dict[str, str]:
        """Issue a new pair; the current one is superseded at once."""
        self.retired_access.add(self.access)
        self.retired_refresh[self.refresh] = self.refresh_exp
        self.access, self.access_exp = self._jwt("ACCESS_TOKEN", now, self.config.tele2_access_ttl)
        self.refresh, self.refresh_exp = self._jwt("REFRESH_TOKEN", now, self.config.tele2_refresh_ttl)
        self.issued += [self.access, self.refresh]
        self.generation += 1
        return {"accessToken": self.access, "refreshToken": self.refresh}

    def expire(self, refresh: bool) -> None:
        """Let the current access token (and the refresh token) run out now."""
        now = time.time()
        self.access_exp = min(self.access_exp, now)
        if refresh:
            self.refresh_exp = min(self.refresh_exp, now)

    def _jwt(self, subject: str, now: float, ttl: float) -> tuple[str, float]:
        """A signed token like the document's (or, with ``tele2_opaque_tokens``, a random string that
        tells a client nothing about its lifetime); returns it and its ``exp``."""
        if self.config.tele2_opaque_tokens:
            return secrets.token_hex(20), now + ttl
        if ttl >= 60:
            issued: float = math.floor(now)
            exp: float = math.ceil(now + ttl)
        else:
            issued, exp = math.floor(now * 1000) / 1000, math.ceil((now + ttl) * 1000) / 1000
        user = {"companyId": data.COMPANY_ID, "userId": 5976, "login": "sandbox_admin"}
        payload = {
            "UserDetailsImpl": user,
            "exp": exp,
            "sub": subject,
            "iat": issued,
            "jti": secrets.token_hex(16),
        }
        signing_input = f"{_JWT_HEADER}.{_b64(json.dumps(payload, separators=(',', ':')).encode())}"
        signature = hmac.new(self.secret, signing_input.encode(), hashlib.sha512).digest()
        return f"{signing_input}.{_b64(signature)}", float(exp)


# ----------------------------------------------------------------------------- state


@dataclass
class _LiveCall:
    """A click-to-call in progress."""

    ends: float
    employee: dict[str, Any]
    destination: str
    record: dict[str, Any]


class Tele2State:
    """Everything one server remembers: tokens, seeded world (built on first use), managers, blacklist,
    click-to-calls, request counts."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.auth = Tele2Auth(config, time.time())
        self.requests: dict[str, int] = {}
        self.live: list[_LiveCall] = []
        self.finished: list[dict[str, Any]] = []
        self.click_to_call: list[dict[str, str]] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.managers: list[dict[str, Any]] = []
        self.blacklist: list[dict[str, Any]] = []
        self.next_manager_id = self.next_customer_id = self.next_blacklist_id = 0
        self._world: data.Tele2World | None = None

    @property
    def world(self) -> data.Tele2World:
        """The seeded data, built on first use (a year of records takes about 0.2 s)."""
        return self.ensure_seeded()

    def ensure_seeded(self) -> data.Tele2World:
        """Build the world, with the first managers and blacklist entries, unless built already."""
        if self._world is None:
            world = self._world = data.Tele2World(self.config)
            self.managers = world.initial_managers()
            self.blacklist = world.initial_blacklist()
            self.next_manager_id = max(m["id"] for m in self.managers) + 1
            self.next_customer_id = max(c["id"] for m in self.managers for c in m["customers"]) + 1
            self.next_blacklist_id = max(e["id"] for e in self.blacklist) + 1
        return self._world

    def count(self, name: str) -> None:
        """Count one request of an operation for ``/__sandbox__/tele2/stats``."""
        self.requests[name] = self.requests.get(name, 0) + 1

    # --- click-to-call ----------------------------------------------------------------------
    def place_call(self, employee: dict[str, Any], source: str, destination: str) -> None:
        """Start a click-to-call: live for ``tele2_click_to_call_seconds``, then a record."""
        now = time.time()
        ms = int(now * 1000)
        self.click_to_call.append({"source": source, "destination": destination, "at": data.format_ms(ms)})
        digits = data.rng_for(self.config.seed, f"click:{len(self.click_to_call)}").randrange(100_000)
        live = max(0.0, self.config.tele2_click_to_call_seconds)
        total = max(1, math.ceil(live))
        record = data.Tele2World.make_record(
            ms,
            "CRM_OUTGOING",
            destination,
            (employee["fullNumber"], data.display_name(employee), destination, ""),
            (total, max(1, total - 1)),
            "ANSWERED_COMMON",
            data.record_file_name(ms, digits, outgoing=True),
        )
        self.live.append(_LiveCall(now + live, employee, destination, record))

    def settle(self) -> None:
        """Turn the click-to-calls that have ended into records (with their recordings)."""
        now = time.time()
        for call in [c for c in self.live if c.ends <= now]:
            self.live.remove(call)
            self.finished.append(call.record)
            self.files[call.record["recordFileName"]] = call.record

    def current_calls(self) -> list[dict[str, Any]]:
        """``/monitoring/calls``: the seeded calls in progress plus the click-to-calls still live."""
        self.settle()
        calls = list(self.world.current_calls)
        for call in self.live:
            entry: dict[str, Any] = {"callType": "SINGLE_CHANNEL"}
            if "shortNumber" in call.employee:
                entry["callerNumberShort"] = call.employee["shortNumber"]
            entry["callerNumberFull"] = call.employee["fullNumber"]
            entry["calledNumberFull"] = call.destination
            calls.append(entry)
        return calls

    def records_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Records (seeded and click-to-call) with ``start <= date < end``, in time order."""
        self.settle()
        start_ms, end_ms = data.epoch_ms_ceil(start), data.epoch_ms_ceil(end)
        records = self.world.records_between(start_ms, end_ms)
        lo, hi = data.format_ms(start_ms), data.format_ms(end_ms)
        extra = [r for r in self.finished if lo <= r["date"] < hi]
        return sorted(records + extra, key=lambda r: r["date"]) if extra else records

    def record_by_file(self, name: str) -> dict[str, Any]:
        """The record whose ``recordFileName`` is ``name``; 404 when there is none."""
        self.settle()
        record = self.files.get(name) or self.world.by_file.get(name)
        if record is None:
            raise Problem(404, f"record file {name!r} not found")
        return record
