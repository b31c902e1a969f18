"""AutoCall.kz wire details shared by the hook's parts: error classes and mapping, checks of path
arguments, parsers, Laravel paging, client-side attempt limits and lookups by ``client_id``."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterator, Mapping, Sequence
from os import PathLike, fspath
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import parse_qsl, quote, urlsplit

from airflow_provider_telephony.core.errors import (
    AuthenticationError,
    NotFoundError,
    NotReadyError,
    OutcomeUnknownError,
    PagingError,
    RateLimitedError,
    RequestValidationError,
    TelephonyError,
    UnexpectedResponseError,
    ValidationError,
    VendorError,
    error_for_status,
    retry_after_seconds,
    vendor_text,
)
from airflow_provider_telephony.core.flow import ApiRequest, Flow
from airflow_provider_telephony.core.pagination import PageGuard
from airflow_provider_telephony.core.records import Page as RecordPage
from airflow_provider_telephony.core.records import RecordSchema, raw_fields
from airflow_provider_telephony.core.responses import json_parser
from airflow_provider_telephony.models import autocall as m

if TYPE_CHECKING:
    import httpx
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_telephony.core.exchange import Exchange

T = TypeVar("T")

#: the declared fields of a call and of an SMS message, as validators of whole export pages
CALLS_SCHEMA = RecordSchema(m.Call)
MESSAGES_SCHEMA = RecordSchema(m.Message)

#: the document's flash-call limit: at most 3 attempts per number in 5 minutes
FLASH_CALL_ATTEMPTS = 3
FLASH_CALL_WINDOW = 300.0
#: the public test call: one per number a day (Almaty time, UTC+6), 2 requests a minute per IP
TEST_CALLS_PER_DAY = 1
TEST_CALLS_PER_MINUTE = 2.0
ALMATY_OFFSET = 6 * 3600
#: after a lost answer to ``POST /autocalls`` that used existing lists (the campaign may then be
#: created in the background, 202), how long to keep looking before calling it absent (seconds)
BACKGROUND_SETTLE: tuple[float, ...] = (2.0, 5.0, 10.0)
#: how long ``create_autocall`` waits by default for a campaign accepted with 202 to appear
BACKGROUND_TIMEOUT = 300.0
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


# --- error classes ----------------------------------------------------------------------------
class AutoCallRefusal(VendorError):
    """Base of AutoCall.kz's refusals that trying again cannot cure; ``field_errors`` as in a 422."""

    _permanent = True

    def __init__(self, message: str, *, field_errors: Mapping[str, Any] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.field_errors = dict(field_errors or {})


class InsufficientFundsError(AutoCallRefusal):
    """HTTP 402: the balance does not cover it (a synthesis, a recognition, a flash call, a caller-id
    rental).  Top up (``create_payment``) and run again."""


class SpamSuspectedError(AutoCallRefusal):
    """HTTP 403 on ``POST /autocalls`` or ``/autocalls/calculate``: refused as suspected spam (too many
    numbers for a short recording).  Nothing was created."""


class CallerIdUnavailableError(AutoCallRefusal):
    """HTTP 403 on ``POST /caller-ids``: the tariff does not allow renting, or its limit is reached."""


class CallerIdTakenError(AutoCallRefusal):
    """HTTP 409 on ``POST /caller-ids``: another customer rents that number."""


class TestCallRefusedError(AutoCallRefusal):
    """HTTP 403 on the public test call: the number is blacklisted or the request blocked."""

    __test__ = False  # not a pytest test class, whatever its name


class AutocallNotCompletedError(NotReadyError):
    """HTTP 403 on ``GET /autocalls/relaunch/{id}``: the campaign is not ``completed`` yet (wait for it)."""


class FlashCallLimitError(RateLimitedError):
    """More than 3 flash calls to one number within 5 minutes: refused before sending (this process
    counts its attempts) or by the server (429).  Not retried at once — the window is minutes long;
    ``retry_after`` says when a new attempt is allowed."""

    retryable: ClassVar[bool] = False


class TestCallLimitError(RateLimitedError):
    """The public test call's limits: one call per number a day (refused before sending when this
    process already made it), or the server's 429 (that, or 2 requests a minute per IP).  Not retried."""

    __test__ = False  # not a pytest test class, whatever its name
    retryable: ClassVar[bool] = False


class AcceptedNotVisibleError(OutcomeUnknownError):
    """A campaign (or mailing) was accepted with HTTP 202 to be created in the background, and did not
    appear under our ``client_id`` within the wait.  It was NOT sent again (it will most likely appear):
    look it up later with ``find_autocall`` / ``find_bulk``.  Permanent, so no retry sends it twice."""


#: what a 403 means per operation (elsewhere it is the key's missing permission)
FORBIDDEN: dict[str, type[AutoCallRefusal] | type[NotReadyError]] = {
    "post-autocalls": SpamSuspectedError,
    "post-autocalls-calculate": SpamSuspectedError,
    "get-autocalls-relaunch-id": AutocallNotCompletedError,
    "post-caller-ids": CallerIdUnavailableError,
    "sendTestCall": TestCallRefusedError,
}


def vendor_message(response: httpx.Response) -> tuple[str, dict[str, list[str]]]:
    """The ``message`` and per-field ``errors`` of an error body (``ErrorMessage`` / ``ValidationError``),
    redacted (secrets, phone numbers) and shortened; empty when the body is not such JSON."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return "", {}
    if not isinstance(body, dict):
        return "", {}
    errors = body.get("errors")
    fields: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            items = value if isinstance(value, list) else [value]
            fields[str(key)] = [vendor_text(item) for item in items]
    message = body.get("message")
    return (vendor_text(message) if isinstance(message, str) else ""), fields


def error_for_response(request: ApiRequest[Any], response: httpx.Response) -> TelephonyError | None:
    """The error class an AutoCall.kz answer stands for (``None`` for success)."""
    status = response.status_code
    if status < 400:
        return None
    message, fields = vendor_message(response)
    name = request.name
    text = f"{name}: HTTP {status}" + (f": {message}" if message else "")
    if fields:
        text += "; " + "; ".join(f"{key}: {' '.join(values)}" for key, values in fields.items())
    retry_after = retry_after_seconds(response.headers)
    if status == 402:
        return InsufficientFundsError(f"{text} (top up the balance)", status_code=402, field_errors=fields)
    if status == 403:
        special = FORBIDDEN.get(name)
        if special is not None and issubclass(special, AutoCallRefusal):
            return special(text, status_code=403, field_errors=fields)
        if special is not None:
            return special(text, status_code=403)
        return AuthenticationError(
            f"{text} (the API key lacks a permission)", refreshable=False, status_code=403
        )
    if status == 409 and name == "post-caller-ids":
        return CallerIdTakenError(text, status_code=409, field_errors=fields)
    if status == 422:
        return ValidationError(text, status_code=422, field_errors=fields)
    if status == 429 and name == "post-flash-calls":
        return FlashCallLimitError(text, status_code=429, retry_after=retry_after or FLASH_CALL_WINDOW)
    if status == 429 and name == "sendTestCall":
        return TestCallLimitError(text, status_code=429, retry_after=retry_after)
    return error_for_status(status, text, retry_after=retry_after, auth_refreshable=False)


# --- checks of path arguments and parsers -----------------------------------------------------
def check_id(value: Any, field: str) -> int:
    """An object id in a path: a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RequestValidationError(field, "must be a positive integer", value=value)
    return value


def check_uuid(value: Any, field: str) -> str:
    """A notification id: the document says UUID."""
    if not isinstance(value, str) or not _UUID_RE.fullmatch(value):
        raise RequestValidationError(field, "must be a UUID (the notification's id)", value=value)
    return value


def check_message_id(value: Any) -> str:
    """A message id (the path's string; the ``Message`` schema's integer)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and value.strip("0"):
        return value
    raise RequestValidationError("message_id", "must be a positive integer (or its digits)", value=value)


def check_file_name(value: Any) -> str:
    """A recording's file name from an interactive campaign's ``data``, encoded for the path."""
    if (
        not isinstance(value, str)
        or not value.strip()
        or value in (".", "..")
        or "/" in value
        or "\\" in value
    ):
        raise RequestValidationError("file", "must be a file name (no slashes)", value=value)
    return quote(value, safe="")


def storage_path(target: ObjectStoragePath | str | PathLike[str]) -> ObjectStoragePath:
    """Where a download goes: an ``ObjectStoragePath`` (any fsspec backend), a URL or a local path."""
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_telephony.core.storage import as_storage_path

    if isinstance(target, ObjectStoragePath | str):
        return as_storage_path(target)
    return as_storage_path(fspath(target))  # a local path (pathlib.Path)


def done(response: httpx.Response) -> bool:
    """An answer whose body does not matter (204 No Content, or a 200 with a message)."""
    return True


def created(model: Any, what: str) -> Any:
    """Parse a create's answer; ``None`` for a 202 without a body (created in the background)."""
    read = json_parser(model, what)

    def parse(response: httpx.Response) -> Any:
        if response.status_code == 202:
            return None
        return read(response)

    return parse


# --- Laravel paging ---------------------------------------------------------------------------
class LaravelPaging:
    """Follows Laravel's ``next_page_url`` and refuses pages that do not advance.

    The URL is absolute and names the vendor's own host; it is *followed* by taking its query
    (``page=N`` and whatever else it carries) onto our own base URL, so the key never goes to a host
    an answer names, and a proxy rewriting schemes or hosts cannot send paging astray.  The next page
    number must grow, and a page whose records were seen before stops paging with
    :class:`PagingError` instead of looping.
    """

    def __init__(self, what: str, params: Mapping[str, Any]) -> None:
        self.what = what
        self.params: dict[str, Any] = dict(params)
        self.number = int(self.params.get("page", 1))
        self._guard = PageGuard(what)

    def accept(self, records: Sequence[Any] | None, signature: Hashable) -> bool:
        """Whether a page's records are worth yielding (an empty page ends paging)."""
        if not records:
            return False
        self._guard.check(signature, f"page {self.number}")
        return True

    def advance(self, next_page_url: str | None) -> dict[str, Any] | None:
        """The parameters of the next page, or ``None`` after the last one."""
        if not next_page_url:
            return None
        query = dict(parse_qsl(urlsplit(next_page_url).query))
        try:
            number = int(query.get("page", self.number + 1))
        except ValueError:
            raise UnexpectedResponseError(f"{self.what}: next_page_url has no usable page number") from None
        if number <= self.number:
            raise PagingError(
                f"{self.what}: next_page_url of page {self.number} points to page {number}: the pages "
                "do not advance; stopping instead of looping"
            )
        self.params = {**self.params, **query, "page": number}
        self.number = number
        return self.params


def ids_of(page: m.Page[Any]) -> tuple[Any, ...]:
    """A page's signature: its records' ids."""
    return tuple(getattr(item, "id", None) for item in page.data)


def pages(
    fetch: Callable[[dict[str, Any]], m.Page[T] | None], params: Mapping[str, Any], what: str
) -> Iterator[m.Page[T]]:
    """Every page from ``params`` on: ``fetch`` sends one request (``None``: no page in the answer)."""
    paging = LaravelPaging(what, params)
    current: dict[str, Any] | None = paging.params
    while current is not None:
        page = fetch(current)
        if page is None or not paging.accept(page.data, ids_of(page)):
            return
        yield page
        current = paging.advance(page.next_page_url)


async def apages(
    fetch: Callable[[dict[str, Any]], Awaitable[m.Page[T] | None]], params: Mapping[str, Any], what: str
) -> AsyncIterator[m.Page[T]]:
    """Async twin of :func:`pages` (same paging rules)."""
    paging = LaravelPaging(what, params)
    current: dict[str, Any] | None = paging.params
    while current is not None:
        page = await fetch(current)
        if page is None or not paging.accept(page.data, ids_of(page)):
            return
        yield page
        current = paging.advance(page.next_page_url)


def raw_nested_page(content: bytes, field: str, what: str) -> tuple[RecordPage, str | None]:
    """The records of a page nested in a detail answer (``calls`` of a campaign, ``messages`` of a
    mailing) as the vendor's bytes, and the page's ``next_page_url`` — without decoding the records."""
    envelope = raw_fields(content, (field,), what)[field]
    if envelope is None:
        return RecordPage(content=b"[]", raws=[]), None
    inner = raw_fields(envelope, ("data", "next_page_url"), what)
    records = RecordPage.from_array(inner["data"] or b"[]", what, field=f"{field}.data")
    next_url = json.loads(inner["next_page_url"]) if inner["next_page_url"] else None
    return records, next_url if isinstance(next_url, str) else None


def raw_pages(
    fetch: Callable[[dict[str, Any]], tuple[RecordPage, str | None]], what: str, schema: RecordSchema
) -> Iterator[RecordPage]:
    """Every nested page as validated raw records (:func:`raw_nested_page`), for exports."""
    paging = LaravelPaging(what, {"page": 1})
    current: dict[str, Any] | None = paging.params
    while current is not None:
        records, next_url = fetch(current)
        if not paging.accept(records.raws, records.content):
            return
        yield records.validated(schema, what)
        current = paging.advance(next_url)


# --- lookups by client_id ---------------------------------------------------------------------
def matching(items: list[T], client_id: str) -> T | None:
    """The first item carrying ``client_id`` (a server that ignores the filter is not trusted)."""
    return next((item for item in items if getattr(item, "client_id", None) == client_id), None)


def lookup_flow(exchange: Exchange, request: ApiRequest[m.Page[T]], client_id: str) -> Flow[T | None]:
    """Look an object up by ``client_id`` with a filtered list request (a 404 means: none)."""
    try:
        page = yield from exchange.attempt(request)
    except NotFoundError:
        return None
    return matching(page.data, client_id)


def scan_flow(
    exchange: Exchange,
    request_for: Callable[[dict[str, Any]], ApiRequest[m.Page[T]]],
    client_id: str,
    what: str,
) -> Flow[T | None]:
    """Look an object up by ``client_id`` through every page of a list without a filter."""
    paging = LaravelPaging(what, {"page": 1})
    current: dict[str, Any] | None = paging.params
    while current is not None:
        page = yield from exchange.attempt(request_for(current))
        if not paging.accept(page.data, ids_of(page)):
            return None
        found = matching(page.data, client_id)
        if found is not None:
            return found
        current = paging.advance(page.next_page_url)
    return None


def wait_visible(find: Callable[[], T | None], what: str, client_id: str, timeout: float) -> T:
    """After a 202 (created in the background): look the object up until it appears or ``timeout``.

    Raises :class:`AcceptedNotVisibleError` (permanent; nothing is sent again) if it never appears.
    """
    deadline = time.monotonic() + max(timeout, 0.0)
    pause = 1.0
    while True:
        found = find()
        if found is not None:
            return found
        left = deadline - time.monotonic()
        if left <= 0:
            raise AcceptedNotVisibleError(
                f"{what}: accepted (HTTP 202) to be created in the background with client_id {client_id!r}, "
                f"but not visible after {timeout:g}s. It was NOT sent again: look it up later by that "
                "client_id (or in the cabinet) before running the task again",
                status_code=202,
            )
        time.sleep(min(pause, left))
        pause = min(pause * 2, 30.0)


# --- client-side attempt limits ---------------------------------------------------------------
class AttemptTracker:
    """At most ``limit`` attempts per key within ``window`` seconds, in this process (thread-safe).

    It keeps this process within a documented per-number limit; other processes (other workers)
    keep their own count, and the server's 429 covers the rest.
    """

    def __init__(self, limit: int, window: float, error: type[RateLimitedError], what: str) -> None:
        self.limit = limit
        self.window = window
        self.error = error
        self.what = what
        self._lock = threading.Lock()
        self._attempts: dict[Hashable, list[float]] = {}

    def reserve(self, key: Hashable, shown: str) -> None:
        """Count an attempt for ``key``, or raise ``error`` when the limit is reached (nothing sent)."""
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._attempts.get(key, []) if now - t < self.window]
            if len(recent) >= self.limit:
                wait = self.window - (now - recent[0])
                self._attempts[key] = recent
                raise self.error(
                    f"{self.what} to {shown}: at most {self.limit} within {self.window:g}s (the document's "
                    f"limit); not sent — try again in {wait:.0f}s",
                    retry_after=wait,
                )
            recent.append(now)
            self._attempts[key] = recent
            # forget keys whose attempts all aged out, so memory stays bounded
            for other in [k for k, v in self._attempts.items() if v and now - v[-1] >= self.window]:
                del self._attempts[other]

    def reset(self) -> None:
        """Forget every attempt (tests)."""
        with self._lock:
            self._attempts.clear()


FLASH_CALLS = AttemptTracker(FLASH_CALL_ATTEMPTS, FLASH_CALL_WINDOW, FlashCallLimitError, "flash calls")
TEST_CALLS = AttemptTracker(TEST_CALLS_PER_DAY, 86400.0, TestCallLimitError, "test calls")


def almaty_day(now: float | None = None) -> str:
    """Today's date in Almaty (UTC+6): the test call's "one a day" counts by it."""
    moment = time.time() if now is None else now
    return time.strftime("%Y-%m-%d", time.gmtime(moment + ALMATY_OFFSET))


# --- what every part of the hook has --------------------------------------------------------------
def delete_request(
    name: str, path: str, gone: Callable[[Exchange], Flow[bool]], effect: str
) -> ApiRequest[bool]:
    """A ``DELETE`` whose lost answer is settled by looking: ``gone`` tells whether the object is gone
    (then the delete took effect and is not sent again), else it is sent again."""

    def recover(exchange: Exchange) -> Flow[bool | None]:
        return True if (yield from gone(exchange)) else None

    return ApiRequest(name=name, method="DELETE", path=path, parse=done, recover=recover, effect=effect)


def absent(request: ApiRequest[Any]) -> Callable[[Exchange], Flow[bool]]:
    """A ``gone`` check for :func:`delete_request`: the object's own ``GET`` answers 404."""

    def gone(exchange: Exchange) -> Flow[bool]:
        try:
            yield from exchange.attempt(request)
        except NotFoundError:
            return True
        return False

    return gone


class HookPart:
    """What the parts of :class:`~.autocall.AutoCallHook` share: how requests are run."""

    if TYPE_CHECKING:
        exchange: Exchange

        def _run(self, request: ApiRequest[T]) -> T: ...

        async def _arun(self, request: ApiRequest[T]) -> T: ...

    def _lookup(self, request: ApiRequest[m.Page[T]], client_id: str) -> T | None:
        """The object a filtered list request finds by ``client_id`` (a 404 means: none)."""
        try:
            page = self._run(request)
        except NotFoundError:
            return None
        return matching(page.data, client_id)

    def _delete(self, request: ApiRequest[bool], missing_ok: bool) -> None:
        """Send a delete; with ``missing_ok`` an object that is already gone (404) is fine."""
        try:
            self._run(request)
        except NotFoundError:
            if not missing_ok:
                raise
