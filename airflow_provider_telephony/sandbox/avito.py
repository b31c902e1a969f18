"""Emulation of Avito CallTracking, written from ``seeds/avito-calltracking.openapi.json``.

Endpoints (paths exactly as in the document, trailing slash included):

* ``POST /token`` - OAuth2 ``client_credentials`` (form-encoded) -> ``access_token``/``expires_in``.
* ``POST /calltracking/v1/getCalls/`` - calls with ``dateTimeFrom <= callTime <= dateTimeTo``, paged by
  ``limit`` (<= 100) / ``offset``; the window is at most 3 months. Errors come inside a 200 body.
* ``POST /calltracking/v1/getCallById/`` - one call, ``error.code`` 1004 when unknown.
* ``GET /calltracking/v1/getRecordByCallId/?callId=N`` - ``audio/mpeg`` bytes, or 425 (code 1005) while the
  recording is not ready, 404 (1004) when there is none.

Every calltracking answer carries ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining`` (per token, per
minute); over the limit the answer is 429 with ``Retry-After``.  Sandbox-only helpers live under
``/__sandbox__/avito/``: ``stats`` (read-only counters) and ``revoke-tokens`` (expire every token now,
to exercise a client's refresh-on-401).

The seeded data is also available without HTTP through :class:`AvitoWorld`, which tests use as the
expected answer.
"""

from __future__ import annotations

import bisect
import calendar
import json
import math
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs

import msgspec
from starlette.concurrency import iterate_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from airflow_provider_telephony.sandbox.config import SandboxConfig


def _dumps(value: Any) -> bytes:
    return msgspec.json.encode(value)


MAX_LIMIT = 100
MAX_WINDOW_MONTHS = 3
DEFAULT_WINDOW_MONTHS = 1
FIRST_CALL_ID = 100_000_001
UNANSWERED_SHARE = 0.25
LATE_SHARE = 0.30

# ----------------------------------------------------------------------------- dates


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z",
)


def parse_rfc3339(value: str) -> datetime:
    """Parse an RFC 3339 date-time (``Z`` or ``±HH:MM``, optional fraction) into an aware datetime."""
    match = _RFC3339.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not an RFC3339 date-time such as 2021-01-02T00:00:00Z")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, offset = match.group(7), match.group(8)
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    if offset in ("Z", "z"):
        tz = timezone.utc
    else:
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(f"{value!r} has an invalid UTC offset")
        sign = -1 if offset[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid date-time: {exc}") from None


def add_months(moment: datetime, months: int) -> datetime:
    """Same day and time ``months`` calendar months later, clamped to the month's last day."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _epoch(moment: datetime) -> float:
    """Seconds since the epoch; naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


# ----------------------------------------------------------------------------- seeded data


class AvitoWorld:
    """The seeded calls of one sandbox, in the exact shape of the document's ``Call`` schema.

    ``calls`` is sorted by (callTime, callId); call ids grow with time.  Phone numbers follow the
    obviously fake pattern ``+7000XXXXXXX``.  Everything derives from ``config.seed``.
    """

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.calls: list[dict[str, Any]] = []
        self._times: list[int] = []
        self._index: dict[int, int] = {}
        self._ready_delay: list[int] = []
        self._late: list[bool] = []
        self._generate()

    def _generate(self) -> None:
        rng = random.Random(f"avito:{self.config.seed}")
        # a few sellers, virtual numbers and ads recur, as in a real account
        self._sellers = [_fake_phone(rng) for _ in range(5)]
        self._virtuals = [_fake_phone(rng) for _ in range(20)]
        self._items = [rng.randrange(1_000_000_000, 5_000_000_000) for _ in range(50)]
        start = datetime(*self.config.data_start.timetuple()[:3], tzinfo=timezone.utc)
        day0 = int(start.timestamp())
        call_id = FIRST_CALL_ID + rng.randrange(1000)
        for day in range(max(0, self.config.data_days)):
            for second in sorted(_seconds_of_day(rng, self.config.calls_per_day)):
                self._add_call(rng, call_id, day0 + day * 86_400 + second)
                call_id += rng.randint(1, 3)

    def _add_call(self, rng: random.Random, call_id: int, ts: int) -> None:
        answered = rng.random() >= UNANSWERED_SHARE
        talk = min(3600, 5 + int(rng.expovariate(1 / 150))) if answered else 0
        call = {
            "callId": call_id,
            "callTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)),
            "talkDuration": talk,
            "waitingDuration": round(rng.uniform(1.0, 45.0), 1),
            "buyerPhone": _fake_phone(rng),
            "sellerPhone": rng.choice(self._sellers),
            "virtualPhone": rng.choice(self._virtuals),
            "itemId": rng.choice(self._items) if rng.random() < 0.7 else None,
        }
        self._index[call_id] = len(self.calls)
        self.calls.append(call)
        self._times.append(ts)
        self._ready_delay.append(rng.randint(60, 1800))
        self._late.append(answered and rng.random() < LATE_SHARE)

    def index_range(self, start: datetime, end: datetime) -> tuple[int, int]:
        """Positions ``[lo, hi)`` in ``calls`` of the calls with ``start <= callTime <= end``."""
        return bisect.bisect_left(self._times, _epoch(start)), bisect.bisect_right(self._times, _epoch(end))

    def calls_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Calls with ``start <= callTime <= end`` (both inclusive), in API order."""
        lo, hi = self.index_range(start, end)
        return self.calls[lo:hi]

    def get_call(self, call_id: int) -> dict[str, Any] | None:
        """The call with this id, or ``None``."""
        position = self._index.get(call_id)
        return None if position is None else self.calls[position]

    def has_recording(self, call_id: int) -> bool:
        """Whether the call exists and was answered (unanswered calls have no recording)."""
        call = self.get_call(call_id)
        return call is not None and call["talkDuration"] > 0

    def recording_ready_at(self, call_id: int) -> float | None:
        """Epoch seconds when the recording appears: call end plus a seeded 1-30 minute delay."""
        if not self.has_recording(call_id):
            return None
        position = self._index[call_id]
        call = self.calls[position]
        end = self._times[position] + call["waitingDuration"] + call["talkDuration"]
        return float(end + self._ready_delay[position])

    def is_late(self, call_id: int) -> bool:
        """Whether this recording also waits ``config.recording_delay`` after server start (~30%)."""
        position = self._index.get(call_id)
        return position is not None and self._late[position]

    def recording_size(self, call_id: int) -> int:
        """Bytes of a recording: ``config.recording_size`` when set, else 2-40 KB by talk time."""
        call = self.get_call(call_id)
        if call is None or call["talkDuration"] <= 0:
            raise KeyError(f"call {call_id} has no recording")
        if self.config.recording_size is not None:
            return self.config.recording_size
        return int(min(40_960, 2_048 + call["talkDuration"] * 128))

    def recording_chunks(self, call_id: int, chunk: int = 1 << 16) -> Iterator[bytes]:
        """The recording as a stream of chunks, generated on the fly (a large one is never held whole):
        a deterministic fake MP3, ID3 tag then MPEG frame headers with seeded noise."""
        size = self.recording_size(call_id)
        rng = random.Random(f"avito-record:{self.config.seed}:{call_id}")
        title = f"sandbox call {call_id}".encode()
        frame = b"TIT2" + (len(title) + 1).to_bytes(4, "big") + b"\x00\x00\x00" + title
        data = bytearray(b"ID3\x03\x00\x00" + _syncsafe(len(frame)) + frame)
        sent = 0
        while sent < size:
            while len(data) < chunk and sent + len(data) < size:
                data += b"\xff\xfb\x90\x64" + rng.randbytes(413)
            piece = bytes(data[: min(chunk, size - sent)])
            del data[: len(piece)]
            sent += len(piece)
            yield piece

    def recording_bytes(self, call_id: int) -> bytes:
        """The whole recording (tests compare downloads with it)."""
        return b"".join(self.recording_chunks(call_id))


def _syncsafe(value: int) -> bytes:
    """ID3v2 tag size: four 7-bit groups."""
    return bytes((value >> shift) & 0x7F for shift in (21, 14, 7, 0))


def _fake_phone(rng: random.Random) -> str:
    return f"+7000{rng.randrange(10_000_000):07d}"


def _seconds_of_day(rng: random.Random, per_day: int) -> list[int]:
    """Call start offsets within one day: ~60-140% of ``per_day``, mostly in Moscow business hours."""
    if per_day <= 0:
        return []
    count = rng.randint(round(per_day * 0.6), round(per_day * 1.4))
    # 85% between 05:00 and 18:00 UTC (08:00-21:00 Moscow), the rest any time
    return [
        rng.randrange(18_000, 64_800) if rng.random() < 0.85 else rng.randrange(86_400) for _ in range(count)
    ]


# ----------------------------------------------------------------------------- server state


@dataclass
class _RateWindow:
    started: float
    used: int = 0


@dataclass
class AvitoState:
    """Mutable server-side state: issued tokens, rate windows, counters, the lazily built world."""

    config: SandboxConfig
    started_at: float = field(default_factory=time.time)
    tokens: dict[str, float] = field(default_factory=dict)
    windows: dict[str, _RateWindow] = field(default_factory=dict)
    tokens_issued: int = 0
    #: every token ever issued, so tests can prove none of them reached a log
    issued_tokens: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)
    _world: AvitoWorld | None = None
    _call_json: list[bytes] | None = None

    @property
    def world(self) -> AvitoWorld:
        """The seeded data, built on first use."""
        if self._world is None:
            self._world = AvitoWorld(self.config)
        return self._world

    def call_json(self) -> list[bytes]:
        """Every call pre-serialised once, so a getCalls page is a byte join."""
        if self._call_json is None:
            self._call_json = [_dumps(call) for call in self.world.calls]
        return self._call_json

    def count(self, name: str) -> None:
        """Count one request for ``/__sandbox__/avito/stats``."""
        self.requests[name] = self.requests.get(name, 0) + 1

    def issue_token(self) -> str:
        """A fresh random token valid for ``config.avito_token_ttl`` seconds."""
        token = secrets.token_urlsafe(32)
        self.tokens[token] = time.monotonic() + self.config.avito_token_ttl
        self.tokens_issued += 1
        self.issued_tokens.append(token)
        return token

    def check_token(self, header: str | None) -> str | None:
        """Why the ``Authorization`` header is not acceptable, or ``None`` when it is."""
        scheme, _, token = (header or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "missing 'Authorization: Bearer <access_token>' header"
        expiry = self.tokens.get(token.strip())
        if expiry is None:
            return "unknown access token"
        if time.monotonic() >= expiry:
            del self.tokens[token.strip()]
            return "access token expired"
        return None

    def limit_of(self, endpoint: str) -> int:
        """Requests per window of an endpoint (the document's ``x-rate-limiter`` is per endpoint)."""
        config = self.config
        return config.avito_record_rate_limit if endpoint == "getRecordByCallId" else config.avito_rate_limit

    def take_rate(self, token: str, endpoint: str) -> tuple[int, float]:
        """Spend one request of the token's fixed window for ``endpoint``: (remaining, retry_after or 0)."""
        now = time.monotonic()
        limit = self.limit_of(endpoint)
        key = f"{token}:{endpoint}"
        window = self.windows.get(key)
        if window is None or now - window.started >= self.config.rate_window_seconds:
            window = self.windows[key] = _RateWindow(started=now)
        if window.used >= limit:
            return 0, window.started + self.config.rate_window_seconds - now
        window.used += 1
        return limit - window.used, 0.0

    def recording_ready(self, call_id: int) -> bool:
        """Ready once wall clock passes call end + delay; "late" ones also wait for server start + delay."""
        ready_at = self.world.recording_ready_at(call_id)
        now = time.time()
        if ready_at is None or now < ready_at:
            return False
        return not self.world.is_late(call_id) or now >= self.started_at + self.config.recording_delay


# ----------------------------------------------------------------------------- HTTP helpers

Handler = Callable[[Request, AvitoState], Awaitable[Response]]
Envelope = Callable[[int, str], dict[str, Any]]


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_dumps(body), status_code=status, headers=headers, media_type="application/json")


def _calls_error(code: int, message: str) -> dict[str, Any]:
    return {"calls": [], "error": {"code": code, "message": message}}


def _call_error(code: int, message: str) -> dict[str, Any]:
    return {"call": None, "error": {"code": code, "message": message}}


def _record_error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}


def _guarded(state: AvitoState, name: str, envelope: Envelope, handler: Handler) -> Callable[..., Any]:
    """Wrap a calltracking handler with counting, bearer auth (401/1002) and the per-token rate limit."""

    async def endpoint(request: Request) -> Response:
        state.count(name)
        limit = str(state.limit_of(name))
        problem = state.check_token(request.headers.get("authorization"))
        if problem is not None:
            state.count("unauthorized")
            headers = {"WWW-Authenticate": 'Bearer error="invalid_token"', "X-RateLimit-Limit": limit}
            headers["X-RateLimit-Remaining"] = limit
            return _json(envelope(1002, problem), 401, headers)
        token = request.headers["authorization"].strip().partition(" ")[2].strip()
        remaining, retry_after = state.take_rate(token, name)
        rate_headers = {"X-RateLimit-Limit": limit, "X-RateLimit-Remaining": str(remaining)}
        if retry_after > 0:
            state.count("rate_limited")
            rate_headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
            return _json(
                envelope(429, f"rate limit of {limit} requests per minute exceeded"), 429, rate_headers
            )
        response = await handler(request, state)
        response.headers.update(rate_headers)
        return response

    return endpoint


async def _json_object(request: Request) -> dict[str, Any] | tuple[int, str]:
    """The request body as a JSON object, or (code, message): 1000 when empty/unparsable, 1001 otherwise."""
    raw = await request.body()
    if not raw.strip():
        return 1000, "empty request body"
    try:
        data = json.loads(raw)
    except ValueError:
        return 1000, "request body is not valid JSON"
    if data is None:
        return 1000, "empty request body"
    if not isinstance(data, dict):
        return 1001, "request body must be a JSON object"
    return data


def _int_field(data: dict[str, Any], name: str, low: int, high: int | None, errors: list[str]) -> int:
    value = data.get(name)
    if name not in data or value is None:
        errors.append(f"{name}: required")
    elif not isinstance(value, int) or isinstance(value, bool):
        errors.append(f"{name}: must be an integer, got {value!r}")
    elif value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        errors.append(f"{name}: must be {bound}, got {value}")
    else:
        return value
    return 0


def _date_field(data: dict[str, Any], name: str, errors: list[str], required: bool) -> datetime | None:
    value = data.get(name)
    if value is None:
        if required:
            errors.append(f"{name}: required (RFC3339 string such as 2021-01-02T00:00:00Z)")
        return None
    if not isinstance(value, str):
        errors.append(f"{name}: must be an RFC3339 string, got {value!r}")
        return None
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        errors.append(f"{name}: {exc}")
        return None


def _window(data: dict[str, Any], errors: list[str]) -> tuple[datetime, datetime] | None:
    """Validated (from, to); ``to`` defaults to from + 1 month and may not pass from + 3 months."""
    start = _date_field(data, "dateTimeFrom", errors, required=True)
    errors_before = len(errors)
    end = _date_field(data, "dateTimeTo", errors, required=False)
    if start is None or len(errors) > errors_before:
        return None
    if end is None:  # absent or null: the documented default
        return start, add_months(start, DEFAULT_WINDOW_MONTHS)
    if end < start:
        errors.append("dateTimeTo: must not be earlier than dateTimeFrom")
    elif end > add_months(start, MAX_WINDOW_MONTHS):
        errors.append(f"dateTimeTo: must be at most {MAX_WINDOW_MONTHS} months after dateTimeFrom")
    return start, end


# ----------------------------------------------------------------------------- endpoints


async def _token(request: Request, state: AvitoState) -> Response:
    """OAuth2 client_credentials grant (RFC 6749 section 4.4), form-encoded as the token URL expects."""
    state.count("token")
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return _oauth_error(400, "invalid_request", "body must be application/x-www-form-urlencoded")
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
    if not form.get("client_id") or not form.get("client_secret"):
        return _oauth_error(400, "invalid_request", "client_id and client_secret are required")
    config = state.config
    ok_id = secrets.compare_digest(form["client_id"], config.avito_client_id)
    ok_secret = secrets.compare_digest(form["client_secret"], config.avito_client_secret)
    if not (ok_id and ok_secret):
        return _oauth_error(401, "invalid_client", "client authentication failed")
    body = {
        "access_token": state.issue_token(),
        "expires_in": max(1, math.ceil(config.avito_token_ttl)),
        "token_type": "Bearer",
    }
    return _json(body, headers={"Cache-Control": "no-store"})


def _oauth_error(status: int, error: str, description: str) -> Response:
    return _json({"error": error, "error_description": description}, status, {"Cache-Control": "no-store"})


async def _get_calls(request: Request, state: AvitoState) -> Response:
    data = await _json_object(request)
    if isinstance(data, tuple):
        return _json(_calls_error(*data))
    errors: list[str] = []
    window = _window(data, errors)
    limit = _int_field(data, "limit", 1, MAX_LIMIT, errors)
    offset = _int_field(data, "offset", 0, None, errors)
    if errors or window is None:
        return _json(_calls_error(1001, "; ".join(errors)))
    lo, hi = state.world.index_range(*window)
    page = state.call_json()[min(hi, lo + offset) : min(hi, lo + offset + limit)]
    body = b'{"calls":[' + b",".join(page) + b'],"error":{"code":0,"message":""}}'
    return Response(body, media_type="application/json")


async def _get_call_by_id(request: Request, state: AvitoState) -> Response:
    data = await _json_object(request)
    if isinstance(data, tuple):
        return _json(_call_error(*data))
    errors: list[str] = []
    call_id = _int_field(data, "callId", 1, None, errors)
    if errors:
        return _json(_call_error(1001, "; ".join(errors)))
    call = state.world.get_call(call_id)
    if call is None:
        return _json(_call_error(1004, f"call {call_id} not found"))
    return _json({"call": call, "error": {"code": 0, "message": ""}})


async def _get_record(request: Request, state: AvitoState) -> Response:
    raw = request.query_params.get("callId")
    if raw is None or not raw.strip():
        return _json(_record_error(1001, "callId: required query parameter"), 400)
    if not (raw.strip().isascii() and raw.strip().isdigit()) or int(raw) < 1:
        return _json(_record_error(1001, f"callId: must be an integer >= 1, got {raw!r}"), 400)
    call_id = int(raw)
    if state.world.get_call(call_id) is None:
        return _json(_record_error(1004, f"call {call_id} not found"), 404)
    if not state.world.has_recording(call_id):
        return _json(_record_error(1004, f"call {call_id} has no recording (not answered)"), 404)
    if not state.recording_ready(call_id):
        return _json(_record_error(1005, f"recording of call {call_id} is not ready yet"), 425)
    size = state.world.recording_size(call_id)
    if size <= 1 << 20:
        return Response(state.world.recording_bytes(call_id), media_type="audio/mpeg")
    return StreamingResponse(
        iterate_in_threadpool(state.world.recording_chunks(call_id)),
        media_type="audio/mpeg",
        headers={"Content-Length": str(size)},
    )


def _control_routes(state: AvitoState) -> list[BaseRoute]:
    async def stats(request: Request) -> Response:
        return JSONResponse(
            {
                "tokens_issued": state.tokens_issued,
                "issued_tokens": list(state.issued_tokens),
                "requests": dict(state.requests),
            }
        )

    async def revoke(request: Request) -> Response:
        revoked = len(state.tokens)
        state.tokens.clear()
        return JSONResponse({"revoked": revoked})

    return [
        Route("/__sandbox__/avito/stats", stats, methods=["GET"]),
        Route("/__sandbox__/avito/revoke-tokens", revoke, methods=["POST"]),
    ]


def build_routes(config: SandboxConfig) -> list[BaseRoute]:
    """All Avito routes for one server; they share one :class:`AvitoState`."""
    state = AvitoState(config)

    async def token(request: Request) -> Response:
        return await _token(request, state)

    calltracking: list[tuple[str, str, Envelope, Handler]] = [
        ("getCalls", "POST", _calls_error, _get_calls),
        ("getCallById", "POST", _call_error, _get_call_by_id),
        ("getRecordByCallId", "GET", _record_error, _get_record),
    ]
    routes: list[BaseRoute] = [Route("/token", token, methods=["POST"])]
    for name, method, envelope, handler in calltracking:
        endpoint = _guarded(state, name, envelope, handler)
        routes.append(Route(f"/calltracking/v1/{name}/", endpoint, methods=[method]))
    return routes + _control_routes(state)
