"""The export contenders: the same export written the ways a user could write it.

Each contender exports every call with ``start <= callTime < end`` of one vendor to JSON Lines and
returns ``{"records": n, ...}``.  The orchestrator checks the count and the call ids it wrote.

* ``httpx-json`` / ``httpx-orjson`` — what a person writes by hand: one ``httpx.Client``, decode each
  page, write each record as one line.  No validation.  The orjson loop is the reference.
* ``http-operator`` — ``apache-airflow-providers-http``'s ``HttpOperator`` with a
  ``pagination_function`` (it returns the next request's parameters, ``None`` at the end) and a
  ``response_filter``, which receives the list of every page's response and writes the JSONL file,
  returning only a count (the operator's return value goes to XCom).
* ``dlt`` — dlt's declarative ``rest_api`` source (its own paginator, auth and response actions) run
  by a pipeline into the ``filesystem`` destination as JSONL.  dlt adds its ``_dlt_load_id`` /
  ``_dlt_id`` columns and normalises names to snake_case (``callId`` → ``call_id``); nested values
  stay JSON (``max_table_nesting=0``) so one record stays one line.
* ``operator`` — this provider's export operator, ``execute({})`` with an explicit window.

Avito: ``POST /calltracking/v1/getCalls/`` pages of 100 by offset, windows of at most 89 days (the API
allows 3 months).  The hand loops stop at a short page (the fewest requests); the provider and dlt stop
at an empty page.  CallKeeper v3: ``GET /api/?json/v3/{key}/call/get/{page}/{from}/{to}`` (unix seconds,
both inclusive), a JSON array per page; the server decides the page length, so every contender reads
until an empty page or the documented end error (``Incorrect page is set`` / ``No rows found``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.procs import AVITO_CONN, CALLKEEPER_CONN, HTTP_CONN

PAGE_SIZE = 100
#: the API allows 3 months per request; 89 days fits in any three calendar months
AVITO_MAX_WINDOW = timedelta(days=89)
GET_CALLS = "/calltracking/v1/getCalls/"
#: CallKeeper's in-body errors that mean "no more pages"
CK_END = ("Incorrect page is set", "No rows found")


# ----------------------------------------------------------------------------- shared bits


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def avito_chunks(start: datetime, end: datetime) -> Iterator[tuple[str, str]]:
    """Inclusive ``(dateTimeFrom, dateTimeTo)`` pairs covering ``[start, end)`` (whole seconds)."""
    cursor = start
    while cursor < end:
        nxt = min(cursor + AVITO_MAX_WINDOW, end)
        yield _rfc3339(cursor), _rfc3339(nxt - timedelta(seconds=1))
        cursor = nxt


def ck_bounds(start: datetime, end: datetime) -> tuple[int, int]:
    """CallKeeper's inclusive ``from``/``to`` seconds for the half-open ``[start, end)``."""
    return math.ceil(start.timestamp()), math.ceil(end.timestamp()) - 1


def ck_path(key: str, page: int, first: int, last: int) -> str:
    return f"/api/?json/v3/{key}/call/get/{page}/{first}/{last}"


def ck_end_of_pages(body: Any) -> bool:
    """True for a page that ends the paging; raises for any other in-body error."""
    if isinstance(body, list):
        return not body
    error = (body.get("inbound") or {}).get("error") if isinstance(body, dict) else None
    if error in CK_END:
        return True
    raise RuntimeError(f"CallKeeper error {error!r}")


def _avito_token(client: Any, spec: dict[str, Any], loads: Callable[[bytes], Any]) -> str:
    response = client.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": spec["client_id"],
            "client_secret": spec["client_secret"],
        },
    )
    response.raise_for_status()
    return str(loads(response.content)["access_token"])


# ----------------------------------------------------------------------------- hand-written loops


def _avito_loop(
    spec: dict[str, Any], loads: Callable[[bytes], Any], write: Callable[[Any, Any], None]
) -> int:
    import httpx

    records = 0
    with httpx.Client(base_url=spec["url"], timeout=60.0) as client, open(spec["output"], "wb") as fh:
        client.headers["Authorization"] = "Bearer " + _avito_token(client, spec, loads)
        for date_from, date_to in avito_chunks(_dt(spec["start"]), _dt(spec["end"])):
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
                page = loads(response.content)
                if page["error"]["code"]:
                    raise RuntimeError(f"getCalls error {page['error']}")
                calls = page["calls"]
                write(fh, calls)
                records += len(calls)
                if len(calls) < PAGE_SIZE:
                    break
                offset += len(calls)
    return records


def _ck_loop(spec: dict[str, Any], loads: Callable[[bytes], Any], write: Callable[[Any, Any], None]) -> int:
    import httpx

    first, last = ck_bounds(_dt(spec["start"]), _dt(spec["end"]))
    records = 0
    page = 0
    with httpx.Client(base_url=spec["url"], timeout=60.0) as client, open(spec["output"], "wb") as fh:
        while True:
            response = client.get(ck_path(spec["api_key"], page, first, last))
            response.raise_for_status()
            rows = loads(response.content)
            if ck_end_of_pages(rows):
                break
            write(fh, rows)
            records += len(rows)
            page += 1
    return records


def _write_json(fh: Any, records: list[Any]) -> None:
    import json

    for record in records:
        fh.write((json.dumps(record, ensure_ascii=False) + "\n").encode())


def _write_orjson(fh: Any, records: list[Any]) -> None:
    import orjson

    option = orjson.OPT_APPEND_NEWLINE
    for record in records:
        fh.write(orjson.dumps(record, option=option))


def httpx_json(spec: dict[str, Any]) -> dict[str, Any]:
    """Bare loop: httpx + stdlib ``json``."""
    import json

    loop = _avito_loop if spec["vendor"] == "avito" else _ck_loop
    return {"records": loop(spec, json.loads, _write_json)}


def httpx_orjson(spec: dict[str, Any]) -> dict[str, Any]:
    """Bare loop: httpx + orjson (the reference)."""
    import orjson

    loop = _avito_loop if spec["vendor"] == "avito" else _ck_loop
    return {"records": loop(spec, orjson.loads, _write_orjson)}


# ----------------------------------------------------------------------------- HttpOperator


def http_operator(spec: dict[str, Any]) -> dict[str, Any]:
    """``HttpOperator`` with ``pagination_function`` and a ``response_filter`` that writes the file."""
    import json

    from airflow.providers.http.hooks.http import HttpHook
    from airflow.providers.http.operators.http import HttpOperator

    output = spec["output"]

    def write_jsonl(responses: list[Any]) -> int:
        written = 0
        with open(output, "w", encoding="utf-8") as fh:
            for response in responses:
                body = response.json()
                records = body["calls"] if spec["vendor"] == "avito" else body
                if not isinstance(records, list):
                    continue  # CallKeeper's end-of-pages answer
                for record in records:
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                written += len(records)
        return written

    if spec["vendor"] == "avito":
        token = (
            HttpHook(method="POST", http_conn_id=HTTP_CONN)
            .run(
                "/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": spec["client_id"],
                    "client_secret": spec["client_secret"],
                },
            )
            .json()["access_token"]
        )
        chunks = list(avito_chunks(_dt(spec["start"]), _dt(spec["end"])))

        def body(chunk: int, offset: int) -> str:
            date_from, date_to = chunks[chunk]
            return json.dumps(
                {"dateTimeFrom": date_from, "dateTimeTo": date_to, "limit": PAGE_SIZE, "offset": offset}
            )

        def next_page(response: Any) -> dict[str, Any] | None:
            sent = json.loads(response.request.body)
            calls = response.json()["calls"]
            chunk = next(i for i, (f, t) in enumerate(chunks) if f == sent["dateTimeFrom"])
            if len(calls) == PAGE_SIZE:
                return {"data": body(chunk, sent["offset"] + PAGE_SIZE)}
            if chunk + 1 < len(chunks):
                return {"data": body(chunk + 1, 0)}
            return None

        operator = HttpOperator(
            task_id="bench_http_operator",
            http_conn_id=HTTP_CONN,
            method="POST",
            endpoint=GET_CALLS,
            data=body(0, 0),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            pagination_function=next_page,
            response_filter=write_jsonl,
        )
    else:
        first, last = ck_bounds(_dt(spec["start"]), _dt(spec["end"]))
        key = spec["api_key"]
        page_re = re.compile(r"/call/get/(\d+)/")

        def next_ck_page(response: Any) -> dict[str, Any] | None:
            if ck_end_of_pages(response.json()):
                return None
            page = int(page_re.search(response.request.url).group(1))  # type: ignore[union-attr]
            return {"endpoint": ck_path(key, page + 1, first, last)}

        operator = HttpOperator(
            task_id="bench_http_operator",
            http_conn_id=HTTP_CONN,
            method="GET",
            endpoint=ck_path(key, 0, first, last),
            pagination_function=next_ck_page,
            response_filter=write_jsonl,
        )
    return {"records": int(operator.execute({}))}


# ----------------------------------------------------------------------------- dlt


def dlt_rest_api(spec: dict[str, Any]) -> dict[str, Any]:
    """dlt ``rest_api`` source → ``filesystem`` destination, JSONL (``spec["output"]`` is a folder)."""
    from pathlib import Path

    import dlt
    from dlt.sources.helpers.rest_client.auth import OAuth2ClientCredentials
    from dlt.sources.helpers.rest_client.paginators import BasePaginator, OffsetPaginator
    from dlt.sources.rest_api import rest_api_source

    url = spec["url"]
    workdir = Path(spec["workdir"])
    if spec["vendor"] == "avito":
        resources: list[Any] = [
            {
                "name": f"calls_{i}",
                "table_name": "calls",
                "endpoint": {
                    "path": GET_CALLS.lstrip("/"),
                    "method": "POST",
                    "json": {"dateTimeFrom": date_from, "dateTimeTo": date_to},
                    "data_selector": "calls",
                    "paginator": OffsetPaginator(
                        limit=PAGE_SIZE, offset_body_path="offset", limit_body_path="limit", total_path=None
                    ),
                },
            }
            for i, (date_from, date_to) in enumerate(avito_chunks(_dt(spec["start"]), _dt(spec["end"])))
        ]
        client: dict[str, Any] = {
            "base_url": url + "/",
            "auth": OAuth2ClientCredentials(
                access_token_url=url + "/token",
                client_id=spec["client_id"],
                client_secret=spec["client_secret"],
            ),
        }
    else:
        first, last = ck_bounds(_dt(spec["start"]), _dt(spec["end"]))

        class PageInPath(BasePaginator):
            """CallKeeper carries the page number inside the URL's query path: ``…/call/get/{page}/…``."""

            def __init__(self) -> None:
                super().__init__()
                self.page = 0

            def update_state(self, response: Any, data: list[Any] | None = None) -> None:
                if not data:
                    self._has_next_page = False
                else:
                    self.page += 1

            def update_request(self, request: Any) -> None:
                request.url = re.sub(r"/call/get/\d+/", f"/call/get/{self.page}/", request.url)

        resources = [
            {
                "name": "calls",
                "endpoint": {
                    "path": ck_path(spec["api_key"], 0, first, last).lstrip("/"),
                    "data_selector": "$",
                    "paginator": PageInPath(),
                    # the end of the pages is an error inside a 200 body
                    "response_actions": [{"content": message, "action": "ignore"} for message in CK_END],
                },
            }
        ]
        client = {"base_url": url + "/"}
    source = rest_api_source(
        {"client": client, "resource_defaults": {"write_disposition": "append"}, "resources": resources},
        max_table_nesting=0,
    )
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{spec['vendor']}",
        pipelines_dir=str(workdir / "dlt-pipelines"),
        destination=dlt.destinations.filesystem(bucket_url=Path(spec["output"]).as_uri()),
        dataset_name="bench",
    )
    info = pipeline.run(source, loader_file_format="jsonl")
    info.raise_on_failed_jobs()
    counts = pipeline.last_trace.last_normalize_info.row_counts  # type: ignore[union-attr]
    return {"records": int(counts.get("calls", 0))}


# ----------------------------------------------------------------------------- the provider


def operator(spec: dict[str, Any]) -> dict[str, Any]:
    """This provider's export operator, ``execute({})`` with an explicit window."""
    if spec.get("window_seconds"):
        from airflow_provider_telephony.core import ratelimit

        ratelimit.WINDOW = float(spec["window_seconds"])
    extra: dict[str, Any] = {}
    if spec.get("max_window_days"):
        extra["max_window"] = timedelta(days=spec["max_window_days"])
    if spec["vendor"] == "avito":
        from airflow_provider_telephony.operators.avito import AvitoCallsToStorageOperator

        task: Any = AvitoCallsToStorageOperator(
            task_id="bench_export",
            output_path=spec["output"],
            window_start=spec["start"],
            window_end=spec["end"],
            avito_conn_id=AVITO_CONN,
            **extra,
        )
    else:
        from airflow_provider_telephony.operators.callkeeper import CallKeeperCallsToStorageOperator

        task = CallKeeperCallsToStorageOperator(
            task_id="bench_export",
            output_path=spec["output"],
            window_start=spec["start"],
            window_end=spec["end"],
            method="get",
            api_version="v3",
            callkeeper_conn_id=spec.get("conn_id", CALLKEEPER_CONN),
            **extra,
        )
    summary = task.execute({})
    return {"records": int(summary["records"]), "summary": summary}


CONTENDERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "httpx-json": httpx_json,
    "httpx-orjson": httpx_orjson,
    "http-operator": http_operator,
    "dlt": dlt_rest_api,
    "operator": operator,
}
REFERENCE = "httpx-orjson"

#: what a task's first connection lookup and log line import (a worker has them loaded already)
AIRFLOW_TASK_IMPORTS = (
    "?airflow.sdk.definitions.connection",
    "?airflow.sdk.execution_time.supervisor",
    "?airflow.sdk.lineage",
    "?upath.implementations.local",
    "?airflow.providers.common.io.assets.file",
    "?encodings.idna",
)
#: what each contender imports before the clock starts ("?" marks a module that may not exist: the
#: provider's internals move; the public modules are required)
IMPORTS: dict[str, tuple[str, ...]] = {
    "httpx-json": ("json", "httpx"),
    "httpx-orjson": ("orjson", "httpx"),
    "http-operator": (
        "airflow.sdk",
        "requests",
        "airflow.providers.http.hooks.http",
        "airflow.providers.http.operators.http",
        *AIRFLOW_TASK_IMPORTS,
    ),
    "dlt": (
        "dlt",
        "dlt.sources.rest_api",
        "dlt.sources.helpers.rest_client.paginators",
        "dlt.destinations",
    ),
    "operator": (
        "httpx",
        "airflow.sdk",
        "airflow_provider_telephony.hooks.avito",
        "airflow_provider_telephony.hooks.callkeeper",
        "airflow_provider_telephony.operators.avito",
        "airflow_provider_telephony.operators.callkeeper",
        # what an export imports lazily on first use: the storage path and the writers
        "?airflow.sdk.io.path",
        "?fsspec.implementations.local",
        "?upath",
        "?orjson",
        "?airflow_provider_telephony.core.storage",
        "?airflow_provider_telephony.core.writers",
        "?airflow_provider_telephony.core.records",
        *AIRFLOW_TASK_IMPORTS,
    ),
}
