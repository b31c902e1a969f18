"""Where the provider's export spends its client-side time, piece by piece, without a server.

``python -m bench.breakdown [--calls-per-day N] [--days N] [--repeat N]``

The real getCalls pages of a sandbox are fetched once; then every piece of work is timed on them in
this process (best of ``--repeat``), so the numbers carry no network or server noise:

* **end to end over ``httpx.MockTransport``** — the orjson loop, a bare loop that validates with the
  same pydantic models (the cost of validation alone), and the real ``AvitoHook`` + ``JsonLinesWriter``
  with the mock client injected.  Same responses, same httpx, no sockets: the differences are pure
  client-side Python.
* **pieces** — decoding/validating a page, the half-open window filter, serialising records, the
  per-request machinery of ``core.exchange`` (tenacity, rate limiter, auth headers, request model).
* **what-ifs** — cheaper variants of the expensive pieces, measured on the same data, as evidence
  for the suggestions in ``bench/README.md``.  None of them changes the package.

Numbers are milliseconds per whole export (all pages) and microseconds per record.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.spec import CONN_ID

PAGE = 100
GET_CALLS = "/calltracking/v1/getCalls/"
MOCK_URL = "http://sandbox.bench"


@dataclass
class Pages:
    """Recorded getCalls answers for one export window."""

    bodies: list[bytes]
    headers: dict[str, str]
    start: datetime
    end: datetime
    records: int


@dataclass
class Row:
    group: str
    label: str
    seconds: float
    note: str = ""


def fetch_pages(calls_per_day: int, days: int, seed: int) -> Pages:
    """Start a sandbox, read every page of the window with a bare loop, stop it."""
    import httpx

    from airflow_provider_telephony.sandbox import SandboxConfig, run_sandbox

    config = SandboxConfig(seed=seed, calls_per_day=calls_per_day, data_days=days, avito_rate_limit=10**9)
    start = datetime(*config.data_start.timetuple()[:3], tzinfo=timezone.utc)
    end = start + timedelta(days=min(days, 89))
    bodies: list[bytes] = []
    headers: dict[str, str] = {}
    with run_sandbox(config) as url, httpx.Client(base_url=url, timeout=60) as client:
        token = client.post(
            "/token",
            data={
                "grant_type": "client_credentials",
                "client_id": config.avito_client_id,
                "client_secret": config.avito_client_secret,
            },
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        offset = 0
        while True:
            body = {
                "dateTimeFrom": f"{start:%Y-%m-%dT%H:%M:%SZ}",
                "dateTimeTo": f"{end:%Y-%m-%dT%H:%M:%SZ}",
                "limit": PAGE,
                "offset": offset,
            }
            response = client.post(GET_CALLS, json=body)
            response.raise_for_status()
            bodies.append(response.content)
            headers = {
                k: v
                for k, v in response.headers.items()
                if k.lower() != "content-length" and not k.lower().startswith("x-ratelimit")
            }
            count = len(json.loads(response.content)["calls"])
            if count < PAGE:
                break
            offset += count
    records = sum(len(json.loads(b)["calls"]) for b in bodies)
    return Pages(bodies, headers, start, end, records)


def best_of(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def each(fn: Callable[[Any], object], items: list[Any]) -> None:
    """Apply ``fn`` to every item, keeping no result alive (as in a streaming export)."""
    for item in items:
        fn(item)


def freeze() -> None:
    """Move fixtures built so far out of the collector's way: a real export holds one page, not all."""
    import gc

    gc.collect()
    gc.freeze()


def mock_transport(pages: Pages) -> Any:
    """An ``httpx.MockTransport`` answering /token and getCalls from the recorded pages."""
    import httpx
    import orjson

    token = orjson.dumps(
        {"access_token": "bench-token-0123456789", "expires_in": 3600, "token_type": "Bearer"}
    )
    headers = {**pages.headers, "X-RateLimit-Limit": "1000000000", "X-RateLimit-Remaining": "999999999"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, content=token, headers={"content-type": "application/json"})
        offset = orjson.loads(request.content)["offset"]
        index = offset // PAGE
        body = pages.bodies[index] if index < len(pages.bodies) else b'{"calls":[],"error":{"code":0}}'
        return httpx.Response(200, content=body, headers=headers)

    return httpx.MockTransport(handler)


# ----------------------------------------------------------------------------- end to end


def e2e_orjson(pages: Pages) -> Callable[[], int]:
    import httpx
    import orjson

    def run() -> int:
        out = io.BytesIO()
        records = 0
        with httpx.Client(base_url=MOCK_URL, transport=mock_transport(pages)) as client:
            client.headers["Authorization"] = (
                "Bearer "
                + orjson.loads(client.post("/token", data={"grant_type": "client_credentials"}).content)[
                    "access_token"
                ]
            )
            offset = 0
            while True:
                body = {"dateTimeFrom": "x", "dateTimeTo": "y", "limit": PAGE, "offset": offset}
                page = orjson.loads(client.post(GET_CALLS, json=body).content)
                calls = page["calls"]
                for call in calls:
                    out.write(orjson.dumps(call, option=orjson.OPT_APPEND_NEWLINE))
                records += len(calls)
                if len(calls) < PAGE:
                    return records
                offset += len(calls)

    return run


def e2e_pydantic(pages: Pages) -> Callable[[], int]:
    """Bare loop, but every page validated with ``GetCallsResponse`` and written by ``JsonLinesWriter``."""
    import httpx
    import orjson

    from airflow_provider_telephony.core.storage import JsonLinesWriter
    from airflow_provider_telephony.models.avito import AvitoCall, GetCallsResponse

    def run() -> int:
        writer = JsonLinesWriter(io.BytesIO(), AvitoCall)
        with httpx.Client(base_url=MOCK_URL, transport=mock_transport(pages)) as client:
            client.headers["Authorization"] = (
                "Bearer "
                + orjson.loads(client.post("/token", data={"grant_type": "client_credentials"}).content)[
                    "access_token"
                ]
            )
            offset = 0
            while True:
                body = {"dateTimeFrom": "x", "dateTimeTo": "y", "limit": PAGE, "offset": offset}
                page = GetCallsResponse.model_validate_json(client.post(GET_CALLS, json=body).content)
                calls = page.calls or []
                writer.write(calls)
                if len(calls) < PAGE:
                    return writer.stats.records
                offset += len(calls)

    return run


def e2e_hook(pages: Pages) -> Callable[[], int]:
    """The real hook and writer; only the hook's HTTP client is replaced by one on the mock transport."""
    import httpx

    from airflow_provider_telephony.core.storage import JsonLinesWriter
    from airflow_provider_telephony.hooks.avito import AvitoHook
    from airflow_provider_telephony.models.avito import AvitoCall

    os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(
        {"conn_type": "avito", "host": MOCK_URL, "login": "bench-id", "password": "bench-secret"}
    )

    def run() -> int:
        AvitoHook._tokens.clear()
        hook = AvitoHook(CONN_ID)
        hook.exchange._client = httpx.Client(base_url=MOCK_URL, transport=mock_transport(pages))
        writer = JsonLinesWriter(io.BytesIO(), AvitoCall)
        with hook:
            for page in hook.iter_call_pages(pages.start, pages.end):
                writer.write(page)
        return writer.stats.records

    return run


# ----------------------------------------------------------------------------- pieces


def pieces(pages: Pages, repeat: int) -> list[Row]:
    import httpx
    import orjson
    from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, with_config
    from typing_extensions import TypedDict

    from airflow_provider_telephony.core.ratelimit import RateLimiter
    from airflow_provider_telephony.core.redact import redact_url
    from airflow_provider_telephony.core.retry import retry_kwargs
    from airflow_provider_telephony.core.storage import JsonLinesWriter
    from airflow_provider_telephony.models.avito import AvitoCall, GetCallsRequest, GetCallsResponse

    rows: list[Row] = []
    bodies = pages.bodies
    n_pages = len(bodies)

    def add(group: str, label: str, fn: Callable[[], object], note: str = "") -> float:
        seconds = best_of(fn, repeat)
        rows.append(Row(group, label, seconds, note))
        return seconds

    # --- decode / validate -------------------------------------------------------------------
    add("decode", "orjson.loads(page)", lambda: each(orjson.loads, bodies), "reference")
    add("decode", "json.loads(page)", lambda: each(json.loads, bodies))
    add(
        "decode",
        "GetCallsResponse.model_validate_json(page)",
        lambda: each(GetCallsResponse.model_validate_json, bodies),
        "provider (includes the Python _aware validator)",
    )

    class CallNoValidator(BaseModel):
        model_config = ConfigDict(extra="allow", populate_by_name=True)
        call_id: int = Field(alias="callId")
        call_time: datetime = Field(alias="callTime")
        talk_duration: int = Field(0, alias="talkDuration")
        waiting_duration: float = Field(0.0, alias="waitingDuration")
        buyer_phone: str | None = Field(None, alias="buyerPhone")
        seller_phone: str | None = Field(None, alias="sellerPhone")
        virtual_phone: str | None = Field(None, alias="virtualPhone")
        item_id: int | None = Field(None, alias="itemId")

    class PageNoValidator(BaseModel):
        model_config = ConfigDict(extra="allow")
        calls: list[CallNoValidator] | None = None
        error: dict[str, Any] | None = None

    add(
        "decode",
        "  what-if: same model without the _aware field_validator",
        lambda: each(PageNoValidator.model_validate_json, bodies),
        "naive -> UTC done another way (see README)",
    )

    @with_config(ConfigDict(extra="allow"))
    class CallDict(TypedDict, total=False):
        callId: int
        callTime: datetime
        talkDuration: int
        waitingDuration: float
        buyerPhone: str | None
        sellerPhone: str | None
        virtualPhone: str | None
        itemId: int | None

    class PageDict(TypedDict, total=False):
        calls: list[CallDict] | None
        error: dict[str, Any] | None

    page_dicts = TypeAdapter(PageDict)
    add(
        "decode",
        "  what-if: validate into TypedDicts (no model instances)",
        lambda: each(page_dicts.validate_json, bodies),
        "same checks, unknown fields kept, dicts out",
    )

    validated = [GetCallsResponse.model_validate_json(b).calls or [] for b in bodies]
    freeze()
    start, end = pages.start, pages.end

    # --- window filter ----------------------------------------------------------------------
    add(
        "filter",
        "[c for c in page if start <= c.call_time < end]",
        lambda: [[c for c in page if start <= c.call_time < end] for page in validated],
        "provider; callTime carries pydantic_core.TzInfo",
    )
    utc_pages = [
        [c.model_copy(update={"call_time": c.call_time.replace(tzinfo=timezone.utc)}) for c in p]
        for p in validated
    ]
    freeze()
    add(
        "filter",
        "  what-if: same filter, callTime tz is timezone.utc",
        lambda: [[c for c in page if start <= c.call_time < end] for page in utc_pages],
        "same tzinfo object: no utcoffset() calls",
    )

    def page_tz_filter(page: list[AvitoCall]) -> list[AvitoCall]:
        # pydantic-core gives every datetime of a page the same TzInfo object: bounds converted to it
        # compare on the fast path (same tzinfo -> no utcoffset() calls); mixed zones stay correct
        if not page:
            return page
        tz = page[0].call_time.tzinfo
        lo, hi = start.astimezone(tz), end.astimezone(tz)
        return [c for c in page if lo <= c.call_time < hi]

    add(
        "filter",
        "  what-if: bounds converted to the page's own tzinfo",
        lambda: [page_tz_filter(p) for p in validated],
        "exact; no model change",
    )
    start_ts, end_ts = start.timestamp(), end.timestamp()
    add(
        "filter",
        "  what-if: compare c.call_time.timestamp() with floats",
        lambda: [[c for c in page if start_ts <= c.call_time.timestamp() < end_ts] for page in validated],
    )

    def aware_utc(value: datetime) -> datetime:
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

    sample = [c.call_time for p in validated for c in p]
    add(
        "filter",
        "  cost of normalising tz in _aware (astimezone(utc))",
        lambda: [aware_utc(v) for v in sample],
        "what normalising in the validator would add to decode",
    )

    # --- serialise ------------------------------------------------------------------------
    dict_pages = [orjson.loads(b)["calls"] for b in bodies]
    freeze()

    def write_orjson() -> None:
        out = io.BytesIO()
        for page in dict_pages:
            for call in page:
                out.write(orjson.dumps(call, option=orjson.OPT_APPEND_NEWLINE))

    add("write", "orjson.dumps(record) + write, per record", write_orjson, "reference")

    def write_json() -> None:
        out = io.StringIO()
        for page in dict_pages:
            for call in page:
                out.write(json.dumps(call) + "\n")

    add("write", "json.dumps(record) + write, per record", write_json)

    def write_provider() -> None:
        writer = JsonLinesWriter(io.BytesIO(), AvitoCall)
        for page in validated:
            writer.write(page)

    add("write", "JsonLinesWriter.write(page)", write_provider, "provider: to_json per record + join")
    to_json = AvitoCall.__pydantic_serializer__.to_json

    def write_bound() -> None:
        out = io.BytesIO()
        for page in validated:
            out.write(b"".join([to_json(r, by_alias=True) + b"\n" for r in page]))

    add("write", "  what-if: bound to_json, list comprehension", write_bound)
    list_adapter = TypeAdapter(list[AvitoCall])

    def write_array() -> None:
        out = io.BytesIO()
        for page in validated:
            out.write(list_adapter.dump_json(page, by_alias=True))

    add(
        "write",
        "  bound: one dump_json per page (JSON array)",
        write_array,
        "not JSONL: floor of per-call overhead",
    )
    dict_validated = [page_dicts.validate_json(b).get("calls") or [] for b in bodies]
    freeze()

    def write_dicts() -> None:
        out = io.BytesIO()
        for page in dict_validated:
            for call in page:
                out.write(orjson.dumps(call, option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_UTC_Z))

    add("write", "  what-if: TypedDict pages -> orjson.dumps per record", write_dicts)

    # --- operator-only per-record work ------------------------------------------------------
    add(
        "operator",
        "sum(1 for c in page if c.talk_duration > 0)",
        lambda: [sum(1 for call in page if call.talk_duration > 0) for page in validated],
    )

    # --- whole page pipelines: decode + validate + window filter + serialise -------------------
    opts = orjson.OPT_APPEND_NEWLINE | orjson.OPT_UTC_Z

    def in_window(calls: list[Any], get: Callable[[Any], datetime]) -> list[Any]:
        if not calls:
            return calls
        tz = get(calls[0]).tzinfo
        lo, hi = start.astimezone(tz), end.astimezone(tz)
        return [c for c in calls if lo <= get(c) < hi]

    def pipe_reference() -> int:
        out, n = io.BytesIO(), 0
        for body in bodies:
            for call in orjson.loads(body)["calls"]:
                out.write(orjson.dumps(call, option=orjson.OPT_APPEND_NEWLINE))
                n += 1
        return n

    def pipe_now() -> int:
        writer = JsonLinesWriter(io.BytesIO(), AvitoCall)
        for body in bodies:
            calls = GetCallsResponse.model_validate_json(body).calls or []
            writer.write([c for c in calls if start <= c.call_time < end])
        return writer.stats.records

    def pipe_a() -> int:
        out, n = io.BytesIO(), 0
        for body in bodies:
            kept = in_window(GetCallsResponse.model_validate_json(body).calls or [], lambda c: c.call_time)
            out.write(b"".join([to_json(r, by_alias=True) + b"\n" for r in kept]))
            n += len(kept)
        return n

    def pipe_b() -> int:
        out, n = io.BytesIO(), 0
        for body in bodies:
            kept = in_window(page_dicts.validate_json(body).get("calls") or [], lambda c: c["callTime"])
            out.write(b"".join([orjson.dumps(c, option=opts) for c in kept]))
            n += len(kept)
        return n

    @with_config(ConfigDict(extra="ignore"))
    class CheckedCall(TypedDict, total=False):
        callId: int
        callTime: datetime
        talkDuration: int
        waitingDuration: float
        buyerPhone: str | None
        sellerPhone: str | None
        virtualPhone: str | None
        itemId: int | None

    check_calls = TypeAdapter(list[CheckedCall])

    def pipe_c() -> int:
        out, n = io.BytesIO(), 0
        for body in bodies:
            raw = orjson.loads(body)["calls"]
            checked = check_calls.validate_python(raw)  # every record checked; unknown fields live on in raw
            keep = raw
            if checked:
                tz = checked[0]["callTime"].tzinfo
                lo, hi = start.astimezone(tz), end.astimezone(tz)
                if not all(lo <= c["callTime"] < hi for c in checked):
                    keep = [r for r, c in zip(raw, checked, strict=True) if lo <= c["callTime"] < hi]
            out.write(b"".join([orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in keep]))
            n += len(keep)
        return n

    expected = pipe_reference()
    for label, fn, note in (
        ("orjson.loads + orjson.dumps per record", pipe_reference, "reference (no validation, no filter)"),
        ("now: model_validate_json + filter + JsonLinesWriter", pipe_now, "provider today"),
        ("A: now + page-tz filter + bound to_json", pipe_a, "same models, same output bytes"),
        (
            "B: TypedDict validate_json + page-tz filter + orjson",
            pipe_b,
            "dicts, extras kept, callTime re-emitted",
        ),
        (
            "C: orjson.loads + validate_python(check) + orjson(raw)",
            pipe_c,
            "vendor's values written as received",
        ),
    ):
        if fn() != expected:
            raise SystemExit(f"breakdown: pipeline {label!r} kept {fn()} records, expected {expected}")
        add("pipeline (all pages)", label, fn, note)

    # --- per-request machinery --------------------------------------------------------------
    import logging

    from tenacity import Retrying

    log = logging.getLogger("bench")

    def tenacity_per_request() -> None:
        for _ in range(n_pages):
            policy = retry_kwargs(5, idempotent=True, logger=log, what="getCalls")
            for attempt in Retrying(**policy):
                with attempt:
                    break

    add("request", "tenacity Retrying(retry_kwargs(...)) per request", tenacity_per_request)
    limiter = RateLimiter(10**9)
    response_headers = httpx.Headers(
        {**pages.headers, "X-RateLimit-Limit": "1e9", "X-RateLimit-Remaining": "1e9"}
    )

    def limiter_per_request() -> None:
        for _ in range(n_pages):
            limiter.reserve()
            limiter.observe(response_headers)

    add("request", "RateLimiter.reserve() + observe(headers)", limiter_per_request)

    from airflow_provider_telephony.hooks.avito import AvitoHook

    os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(
        {"conn_type": "avito", "host": MOCK_URL, "login": "bench-id", "password": "bench-secret"}
    )
    hook = AvitoHook(CONN_ID)
    hook._tokens[hook._token_key()] = ("bench-token", time.monotonic() + 3600)

    def auth_per_request() -> None:
        for _ in range(n_pages):
            flow = hook.auth_headers(hook.exchange, refresh=False)
            with contextlib.suppress(StopIteration):
                next(flow)

    add("request", "AvitoHook.auth_headers (cached token, sha256 key)", auth_per_request)

    def request_model() -> None:
        for i in range(n_pages):
            body = GetCallsRequest(date_time_from=start, date_time_to=end, limit=PAGE, offset=i * PAGE)
            AvitoHook._calls_request(body)

    add("request", "GetCallsRequest(...) + body() + ApiRequest", request_model)
    url = httpx.URL(MOCK_URL + GET_CALLS)
    add(
        "request",
        "redact_url(url) for the DEBUG log argument",
        lambda: [redact_url(url) for _ in range(n_pages)],
    )
    # --- one request through each layer (MockTransport, body returned unparsed) -----------------
    from airflow_provider_telephony.core.flow import ApiRequest
    from airflow_provider_telephony.hooks.avito import GET_CALLS as HOOK_GET_CALLS

    def raw_body(response: httpx.Response) -> bytes:
        return response.content

    mocked = AvitoHook(CONN_ID)
    exchange = mocked.exchange
    exchange._client = httpx.Client(base_url=MOCK_URL, transport=mock_transport(pages))
    mocked._tokens[mocked._token_key()] = ("bench-token", time.monotonic() + 3600)
    exchange.run(
        ApiRequest(name="warm", method="POST", path=HOOK_GET_CALLS, json={"offset": 0}, parse=raw_body)
    )
    client = httpx.Client(
        base_url=MOCK_URL, transport=mock_transport(pages), headers={"Authorization": "Bearer bench-token"}
    )

    def calls_request(i: int) -> ApiRequest[bytes]:
        return ApiRequest(
            name="getCalls", method="POST", path=HOOK_GET_CALLS, json={"offset": i * PAGE}, parse=raw_body
        )

    def layer_post() -> None:
        for i in range(n_pages):
            _ = client.post(GET_CALLS, json={"offset": i * PAGE}).content

    def layer_send() -> None:
        for i in range(n_pages):
            request = httpx.Request(
                "POST", MOCK_URL + GET_CALLS, json={"offset": i * PAGE}, headers={"Authorization": "Bearer x"}
            )
            _ = client.send(request).content

    def layer_drive() -> None:
        for i in range(n_pages):
            exchange._drive(exchange.attempt(calls_request(i)), "getCalls")

    def layer_run() -> None:
        for i in range(n_pages):
            exchange.run(calls_request(i))

    add("request path", "httpx client.post(path, json=...) (bare loops)", layer_post)
    add("request path", "httpx.Request(...) + client.send", layer_send, "what Exchange.build + _drive send")
    add(
        "request path", "Exchange._drive(attempt(req)): no tenacity", layer_drive, "limiter, auth, build, map"
    )
    add("request path", "Exchange.run(req): with tenacity", layer_run, "provider today")
    return rows


# ----------------------------------------------------------------------------- report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.breakdown", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls-per-day", type=int, default=400)
    parser.add_argument("--days", type=int, default=80)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=7, help="best of N for every measurement")
    parser.add_argument("--json", type=str, default=None, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)

    import logging

    logging.getLogger("airflow_provider_telephony").setLevel(logging.WARNING)
    pages = fetch_pages(args.calls_per_day, args.days, args.seed)
    n = pages.records
    print(f"{len(pages.bodies)} pages, {n:,} records (best of {args.repeat})", flush=True)

    rows: list[Row] = []
    e2e: dict[str, Callable[[], int]] = {
        "orjson loop": e2e_orjson(pages),
        "bare loop + GetCallsResponse + JsonLinesWriter": e2e_pydantic(pages),
        "AvitoHook.iter_call_pages + JsonLinesWriter": e2e_hook(pages),
    }
    for label, fn in e2e.items():
        got = fn()
        if got != n:
            raise SystemExit(f"breakdown: {label} produced {got} records, expected {n}")
        rows.append(Row("end to end (MockTransport)", label, best_of(fn, args.repeat)))
    rows.extend(pieces(pages, args.repeat))

    ref = rows[0].seconds
    width = max(len(r.label) for r in rows)
    group = ""
    for row in rows:
        if row.group != group:
            group = row.group
            print(f"\n[{group}]")
        extra = f"  {row.seconds / ref:5.2f}x orjson loop" if group.startswith("end to end") else ""
        note = f"  {row.note}" if row.note else ""
        print(
            f"  {row.label:<{width}}  {row.seconds * 1e3:8.2f} ms  {row.seconds / n * 1e6:6.3f} us/rec{extra}{note}"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(
                {
                    "pages": len(pages.bodies),
                    "records": n,
                    "repeat": args.repeat,
                    "rows": [r.__dict__ for r in rows],
                },
                fh,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
