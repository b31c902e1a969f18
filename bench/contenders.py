"""The contenders: the same Avito getCalls export written five ways.

Each contender exports every call with ``start <= callTime < end`` to a JSON Lines file and returns
the number of records written.  Heavy imports happen in :func:`prepare` (not timed), so the timed
part is the export itself: connection lookup, token, every page, the file.

* ``httpx-json`` / ``httpx-orjson`` — what a person writes by hand: one ``httpx.Client``, a token,
  offset/limit pages of 100, decode, write each record as one line.  No validation.  The orjson
  loop is the reference (DESIGN rule 7: the provider should stay within 10 % of it).
* ``httpx-pydantic`` — diagnostic: the bare loop validating with the provider's models and writing
  with its ``JsonLinesWriter``; it splits the provider's cost into validation vs machinery.
* ``provider-hook`` — ``AvitoHook.iter_call_pages`` into ``core.storage.open_records(..., "jsonl",
  AvitoCall)``: every record validated by pydantic, rate limiter, retries, atomic publish.
* ``provider-operator`` — ``AvitoCallsToStorageOperator(...).execute(...)``: the hook path plus the
  operator's window handling, answered-call count and progress log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.spec import RunSpec

PAGE_SIZE = 100
#: the API allows 3 months per request; 89 days fits in any three calendar months
MAX_WINDOW = timedelta(days=89)
GET_CALLS = "/calltracking/v1/getCalls/"


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _chunks(start: datetime, end: datetime) -> Iterator[tuple[str, str]]:
    """Inclusive ``(dateTimeFrom, dateTimeTo)`` pairs covering ``[start, end)`` (times are whole seconds)."""
    cursor = start
    while cursor < end:
        nxt = min(cursor + MAX_WINDOW, end)
        yield _rfc3339(cursor), _rfc3339(nxt - timedelta(seconds=1))
        cursor = nxt


def _token(client: Any, spec: RunSpec, loads: Callable[[bytes], Any]) -> str:
    response = client.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": spec.client_id,
            "client_secret": spec.client_secret,
        },
    )
    response.raise_for_status()
    return str(loads(response.content)["access_token"])


def httpx_json(spec: RunSpec) -> int:
    """Bare loop: httpx + stdlib ``json``."""
    import json

    import httpx

    records = 0
    with httpx.Client(base_url=spec.url, timeout=30.0) as client, open(spec.output, "w") as fh:
        client.headers["Authorization"] = "Bearer " + _token(client, spec, json.loads)
        for date_from, date_to in _chunks(spec.start_dt, spec.end_dt):
            offset = 0
            while True:
                body = {
                    "dateTimeFrom": date_from,
                    "dateTimeTo": date_to,
                    "limit": PAGE_SIZE,
                    "offset": offset,
                }
                response = client.post(GET_CALLS, json=body)
                response.raise_for_status()
                page = json.loads(response.content)
                if page["error"]["code"]:
                    raise RuntimeError(f"getCalls error {page['error']}")
                calls = page["calls"]
                for call in calls:
                    fh.write(json.dumps(call) + "\n")
                records += len(calls)
                if len(calls) < PAGE_SIZE:
                    break
                offset += len(calls)
    return records


def httpx_orjson(spec: RunSpec) -> int:
    """Bare loop: httpx + orjson (the reference)."""
    import httpx
    import orjson

    records = 0
    with httpx.Client(base_url=spec.url, timeout=30.0) as client, open(spec.output, "wb") as fh:
        client.headers["Authorization"] = "Bearer " + _token(client, spec, orjson.loads)
        for date_from, date_to in _chunks(spec.start_dt, spec.end_dt):
            offset = 0
            while True:
                body = {
                    "dateTimeFrom": date_from,
                    "dateTimeTo": date_to,
                    "limit": PAGE_SIZE,
                    "offset": offset,
                }
                response = client.post(GET_CALLS, json=body)
                response.raise_for_status()
                page = orjson.loads(response.content)
                if page["error"]["code"]:
                    raise RuntimeError(f"getCalls error {page['error']}")
                calls = page["calls"]
                for call in calls:
                    fh.write(orjson.dumps(call, option=orjson.OPT_APPEND_NEWLINE))
                records += len(calls)
                if len(calls) < PAGE_SIZE:
                    break
                offset += len(calls)
    return records


def httpx_pydantic(spec: RunSpec) -> int:
    """Diagnostic: the bare loop, but pages validated by the provider's models and written by its writer.

    Same validation and output bytes as the provider, none of its machinery (exchange, retries,
    limiter, window filter, atomic publish): the difference to ``httpx-orjson`` is the price of
    validation itself, the difference to ``provider-hook`` the price of the machinery.
    """
    import httpx
    import orjson

    from airflow_provider_telephony.core.storage import JsonLinesWriter
    from airflow_provider_telephony.models.avito import AvitoCall, GetCallsResponse

    with httpx.Client(base_url=spec.url, timeout=30.0) as client, open(spec.output, "wb") as fh:
        writer = JsonLinesWriter(fh, AvitoCall)
        client.headers["Authorization"] = "Bearer " + _token(client, spec, orjson.loads)
        for date_from, date_to in _chunks(spec.start_dt, spec.end_dt):
            offset = 0
            while True:
                body = {
                    "dateTimeFrom": date_from,
                    "dateTimeTo": date_to,
                    "limit": PAGE_SIZE,
                    "offset": offset,
                }
                response = client.post(GET_CALLS, json=body)
                response.raise_for_status()
                page = GetCallsResponse.model_validate_json(response.content)
                if page.error is not None and page.error.code:
                    raise RuntimeError(f"getCalls error {page.error}")
                calls = page.calls or []
                writer.write(calls)
                if len(calls) < PAGE_SIZE:
                    break
                offset += len(calls)
    return writer.stats.records


def provider_hook(spec: RunSpec) -> int:
    """``AvitoHook.iter_call_pages`` into ``open_records(path, "jsonl", AvitoCall)``."""
    from airflow_provider_telephony.core.storage import as_storage_path, open_records
    from airflow_provider_telephony.hooks.avito import AvitoHook
    from airflow_provider_telephony.models.avito import AvitoCall

    path = as_storage_path(spec.output)
    with AvitoHook(spec.conn_id) as hook, open_records(path, "jsonl", AvitoCall) as writer:
        for page in hook.iter_call_pages(spec.start_dt, spec.end_dt, page_size=PAGE_SIZE):
            writer.write(page)
    return writer.stats.records


def sketch_fast_hook(spec: RunSpec) -> int:
    """Prototype (not run by default): the hook's own exchange, a leaner page path.

    Same connection, token cache, rate limiter, tenacity retries and atomic publish as
    ``provider-hook``; what changes is the page: ``orjson.loads`` once, every record checked by a
    pydantic-core ``TypedDict`` adapter (``extra="ignore"``: unknown fields are not copied, they stay
    in the raw dict that is written), the half-open window compared in the page's own tzinfo, and the
    raw records written with orjson.  Evidence for the suggestions in ``bench/README.md``.
    """
    import orjson

    from airflow_provider_telephony.core.flow import ApiRequest
    from airflow_provider_telephony.core.storage import as_storage_path, atomic_output
    from airflow_provider_telephony.core.windows import Window
    from airflow_provider_telephony.hooks.avito import GET_CALLS, AvitoHook, body_error
    from airflow_provider_telephony.models import avito as m

    check = _checked_calls()
    append = orjson.OPT_APPEND_NEWLINE

    def parse(response: Any) -> list[dict[str, Any]]:
        page = orjson.loads(response.content)
        error = page.get("error")
        if error and error.get("code"):
            raised = body_error(m.AvitoError.model_validate(error), "getCalls", response.status_code)
            if raised is not None:
                raise raised
        calls: list[dict[str, Any]] = page.get("calls") or []
        return calls

    window = Window.of(spec.start_dt, spec.end_dt)
    path = as_storage_path(spec.output)
    records = 0
    with AvitoHook(spec.conn_id) as hook, atomic_output(path) as fh:
        for chunk in window.split(m.MAX_WINDOW):
            base = m.GetCallsRequest(
                date_time_from=chunk.start, date_time_to=chunk.end, limit=PAGE_SIZE
            ).body()
            offset = 0
            while True:
                request = ApiRequest(
                    name="getCalls",
                    method="POST",
                    path=GET_CALLS,
                    json={**base, "offset": offset},
                    parse=parse,
                )
                raw = hook.exchange.run(request)
                checked = check.validate_python(raw)
                keep = raw
                if checked:
                    tz = checked[0]["callTime"].tzinfo
                    lo, hi = chunk.start.astimezone(tz), chunk.end.astimezone(tz)
                    if not all(lo <= c["callTime"] < hi for c in checked):
                        keep = [r for r, c in zip(raw, checked, strict=True) if lo <= c["callTime"] < hi]
                if keep:
                    fh.write(b"".join([orjson.dumps(r, option=append) for r in keep]))
                    records += len(keep)
                if len(raw) < PAGE_SIZE:
                    break
                offset += len(raw)
    return records


def _checked_calls() -> Any:
    """A pydantic-core adapter that checks a list of Avito calls and returns plain dicts."""
    from datetime import datetime as _datetime

    from pydantic import ConfigDict, TypeAdapter, with_config
    from typing_extensions import TypedDict

    @with_config(ConfigDict(extra="ignore"))
    class CheckedCall(TypedDict, total=False):
        callId: int
        callTime: _datetime
        talkDuration: int
        waitingDuration: float
        buyerPhone: str | None
        sellerPhone: str | None
        virtualPhone: str | None
        itemId: int | None

    return TypeAdapter(list[CheckedCall])


def provider_operator(spec: RunSpec) -> int:
    """``AvitoCallsToStorageOperator(...).execute(...)`` with an explicit window."""
    from airflow_provider_telephony.operators.avito import AvitoCallsToStorageOperator

    operator = AvitoCallsToStorageOperator(
        task_id="bench_export",
        output_path=spec.output,
        window_start=spec.start,
        window_end=spec.end,
        page_size=PAGE_SIZE,
        avito_conn_id=spec.conn_id,
    )
    summary = operator.execute({})
    return int(summary["records"])


CONTENDERS: dict[str, Callable[[RunSpec], int]] = {
    "httpx-json": httpx_json,
    "httpx-orjson": httpx_orjson,
    "httpx-pydantic": httpx_pydantic,
    "provider-hook": provider_hook,
    "provider-operator": provider_operator,
    "sketch-fast-hook": sketch_fast_hook,
}
#: what ``python -m bench`` runs unless ``--contenders`` says otherwise
DEFAULT_CONTENDERS = ("httpx-json", "httpx-orjson", "httpx-pydantic", "provider-hook", "provider-operator")
REFERENCE = "httpx-orjson"
BASELINE = "httpx-json"

#: modules each contender needs, imported before the clock starts
_PROVIDER_IMPORTS = (
    "httpx",
    "tenacity",
    "airflow.sdk",
    "airflow_provider_telephony.core.storage",
    "airflow_provider_telephony.hooks.avito",
    "airflow_provider_telephony.models.avito",
)
_IMPORTS: dict[str, tuple[str, ...]] = {
    "httpx-json": ("json", "httpx"),
    "httpx-orjson": ("orjson", "httpx"),
    "httpx-pydantic": (
        "orjson",
        "httpx",
        "airflow_provider_telephony.core.storage",
        "airflow_provider_telephony.models.avito",
    ),
    "provider-hook": _PROVIDER_IMPORTS,
    "provider-operator": (*_PROVIDER_IMPORTS, "airflow_provider_telephony.operators.avito"),
    "sketch-fast-hook": (*_PROVIDER_IMPORTS, "orjson", "pydantic"),
}


def prepare(name: str) -> None:
    """Import what ``name`` needs, so module import time stays out of the measurement."""
    import importlib

    for module in _IMPORTS[name]:
        importlib.import_module(module)
