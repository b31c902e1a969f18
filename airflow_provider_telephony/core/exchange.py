"""One request definition, two clients.

An endpoint call is described once as an :class:`ApiRequest`.  The logic of sending it (rate limit,
authentication with a single refresh on an auth failure, error mapping, parsing) is written once,
as a generator that *yields* what it needs done — ``Send(request)`` or ``Sleep(seconds)`` — and
receives the result.  :meth:`Exchange.run` drives that generator with a blocking ``httpx.Client``
(tasks); :meth:`Exchange.arun` drives the very same generator with ``httpx.AsyncClient``
(triggers).  Both wrap it in the same tenacity retry policy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from airflow_provider_telephony.core.deadline import DEADLINE_EXCEEDED, deadline_passed, request_deadline
from airflow_provider_telephony.core.errors import (
    AuthenticationError,
    ConfigurationError,
    RedirectError,
    TelephonyError,
    TransportError,
    UnexpectedResponseError,
    UnreadableResponseError,
)
from airflow_provider_telephony.core.ratelimit import RateLimiter, limiter_for
from airflow_provider_telephony.core.redact import redact_url
from airflow_provider_telephony.core.retry import retry_kwargs

if TYPE_CHECKING:
    import httpx

    from airflow_provider_telephony.core.transport import ConnectionSettings

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True, repr=False)
class ApiRequest(Generic[T]):
    """Everything needed to send one endpoint call and turn its response into a result.

    :param name: endpoint name for logs and errors (``getCalls``), never a URL.
    :param parse: turns a successful response into the result. With ``stream=True`` it receives the
        unread streaming response (sync driver only may read the body).  Besides the errors it
        raises itself, a ``ValueError`` it lets escape (broken JSON, a pydantic failure) becomes
        :class:`UnreadableResponseError` or :class:`UnexpectedResponseError`.
    :param idempotent: whether re-sending after an unclear failure is safe (see ``core.retry``).

    The repr shows the name and method only: paths, parameters and bodies may hold secrets
    (CallKeeper's key is part of the path, Avito's client secret is in the token request's body).
    """

    name: str
    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    data: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = None
    idempotent: bool = True
    stream: bool = False
    authenticated: bool = True

    def __repr__(self) -> str:
        return f"ApiRequest(name={self.name!r}, method={self.method!r})"


@dataclass(frozen=True)
class Send:
    """Ask the driver to send ``request`` and hand back the response (body read unless streaming).

    ``name`` is the endpoint the request belongs to: a transport failure is reported under it.
    """

    request: httpx.Request = field(repr=False)
    name: str
    stream: bool = False


@dataclass(frozen=True)
class Sleep:
    """Ask the driver to wait (``time.sleep`` or ``asyncio.sleep``)."""

    seconds: float


Step = Send | Sleep
Flow = Generator[Step, Any, T]


class VendorApi(Protocol):
    """What a vendor supplies to the exchange: authentication and error mapping."""

    def auth_headers(self, exchange: Exchange, *, refresh: bool) -> Flow[dict[str, str]]:
        """Headers that authenticate a request; ``refresh=True`` means the last ones were rejected."""
        ...

    def error_for(self, request: ApiRequest[Any], response: httpx.Response) -> TelephonyError | None:
        """The error a response represents (HTTP status or in-body error), or ``None`` for success."""
        ...


def map_transport_error(
    exc: Exception, what: str, deadline: float | None = None
) -> TransportError | ConfigurationError:
    """Translate an httpx transport failure into :class:`TransportError` with a redacted message
    (or :class:`ConfigurationError` for a TLS handshake no retry can fix)."""
    import httpx

    sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    if isinstance(exc, httpx.ConnectError) and _tls_failure(exc):
        # a certificate the trust store rejects, or TLS spoken to a plain-HTTP port: no retry helps
        return ConfigurationError(
            f"{what}: TLS handshake failed ({redact_url(exc)}): check the scheme (http/https) of the "
            "connection's host, and its ca_bundle extra if a proxy re-signs TLS"
        )
    if DEADLINE_EXCEEDED in str(exc) or (isinstance(exc, httpx.TimeoutException) and deadline_passed()):
        limit = f" of {deadline:g}s" if deadline else ""
        return TransportError(
            f"{what}: no complete answer within the request deadline{limit} (connection extra 'deadline')",
            request_sent=sent,
        )
    kind = type(exc).__name__
    return TransportError(f"{what}: {kind}: {redact_url(exc)}", request_sent=sent)


def _tls_failure(exc: BaseException) -> bool:
    """Whether an httpx connect error was caused by TLS itself (verification, protocol mismatch)."""
    import ssl

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError | ssl.CertificateError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def body_error(exc: Exception, what: str) -> UnreadableResponseError | UnexpectedResponseError:
    """The error for a body that failed to parse: broken or cut-short JSON is *unreadable* (retried),
    a readable body of the wrong shape is *unexpected* (not retried).  Only locations and rules are
    shown, never the rejected values (they may be phone numbers)."""
    from pydantic import ValidationError as PydanticValidationError

    if not isinstance(exc, PydanticValidationError):
        return UnreadableResponseError(f"{what}: unreadable response ({type(exc).__name__})")
    errors = exc.errors(include_url=False, include_input=False)
    if any(err.get("type") == "json_invalid" for err in errors):
        return UnreadableResponseError(f"{what}: unreadable response (invalid or cut-short JSON)")
    first = errors[0]
    loc = ".".join(str(part) for part in first.get("loc", ())) or "body"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return UnexpectedResponseError(
        f"{what}: the answer does not have the documented shape: {loc}: {first.get('msg')}{more}"
    )


def parse_json(model: Any, content: bytes, what: str) -> Any:
    """Validate a JSON body into a pydantic model (or ``TypeAdapter``) in one pydantic-core call;
    a failure becomes :func:`body_error`'s class."""
    from pydantic import ValidationError as PydanticValidationError

    validate = getattr(model, "model_validate_json", None) or model.validate_json
    try:
        return validate(content)
    except PydanticValidationError as exc:
        raise body_error(exc, what) from None


def raise_for_redirect(response: httpx.Response, what: str, conn_id: str) -> None:
    """A redirect is never followed nor parsed: it means the connection's host is wrong (and its
    target is not shown: it may carry a secret)."""
    status = response.status_code
    if 300 <= status < 400:
        raise RedirectError(
            f"{what}: HTTP {status} redirect, not followed: check the scheme (http/https), host "
            f"and path in the host field of connection {conn_id!r}",
            status_code=status,
        )


class Exchange:
    """Sends :class:`ApiRequest` objects for one connection with one reused client per mode."""

    def __init__(
        self,
        settings: ConnectionSettings,
        api: VendorApi,
        *,
        limiter_key: str | None = None,
        rate_limit_per_minute: float = 300.0,
    ) -> None:
        self.settings = settings
        self.api = api
        self.limiter_key = limiter_key
        self.rate_limit_per_minute = rate_limit_per_minute
        self._client: httpx.Client | None = None
        self._aclient: httpx.AsyncClient | None = None

    # --- the one definition ---------------------------------------------------------------
    def build(self, req: ApiRequest[Any], headers: Mapping[str, str]) -> httpx.Request:
        import httpx

        merged = {**headers, **(req.headers or {})}
        return httpx.Request(
            req.method,
            self.settings.base_url + req.path,
            params=req.params,
            json=req.json,
            data=req.data,
            headers=merged,
        )

    def limiter(self, endpoint: str) -> RateLimiter | None:
        """The process-wide limiter of one endpoint of this connection (vendors limit per endpoint)."""
        if self.limiter_key is None:
            return None
        return limiter_for(f"{self.limiter_key}:{endpoint}", self.rate_limit_per_minute)

    def send_flow(self, req: ApiRequest[Any]) -> Flow[httpx.Response]:
        """Send once after the rate limiter allows it; return the response whatever its status."""
        limiter = self.limiter(req.name)
        if limiter is not None:
            wait = limiter.reserve()
            if wait > 0:
                if wait >= 1.0:
                    log.info("rate limit: waiting %.1fs before %s", wait, req.name)
                yield Sleep(wait)
        headers = (yield from self.api.auth_headers(self, refresh=False)) if req.authenticated else {}
        response = yield Send(self.build(req, headers), req.name, req.stream)
        if limiter is not None:
            limiter.observe(response.headers)
        return response  # type: ignore[no-any-return]

    def outcome(self, req: ApiRequest[T], response: httpx.Response) -> T:
        """Raise the error a response stands for, else parse it (parse may raise in-body errors).

        A redirect is never followed nor parsed: it means the connection's host is wrong.
        """
        raise_for_redirect(response, req.name, self.settings.conn_id)
        error = self.api.error_for(req, response)
        if error is not None:
            raise error
        try:
            return req.parse(response)
        except TelephonyError:
            raise
        except Exception as exc:
            import httpx

            if isinstance(exc, httpx.TransportError | httpx.StreamError):
                raise map_transport_error(exc, req.name, self.settings.deadline) from None
            if isinstance(exc, ValueError):  # JSONDecodeError, UnicodeDecodeError, pydantic errors
                raise body_error(exc, req.name) from None
            raise

    def attempt(self, req: ApiRequest[T]) -> Flow[T]:
        """One attempt: send; on an auth failure refresh credentials and re-send once; parse."""
        response = yield from self.send_flow(req)
        try:
            return self.outcome(req, response)
        except AuthenticationError as exc:
            if not (req.authenticated and exc.refreshable):
                raise
        log.info("%s: credentials rejected, refreshing them once", req.name)
        headers = yield from self.api.auth_headers(self, refresh=True)
        response = yield Send(self.build(req, headers), req.name, req.stream)
        try:
            return self.outcome(req, response)
        except AuthenticationError as exc:
            exc.refreshable = False  # rejected again with fresh credentials: final
            raise

    # --- sync driver ------------------------------------------------------------------------
    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = self.settings.client()
        return self._client

    def _drive(self, flow: Flow[T]) -> T:
        import httpx

        deadline = self.settings.deadline
        opened: list[httpx.Response] = []
        try:
            step = next(flow)
            while True:
                if isinstance(step, Sleep):
                    time.sleep(step.seconds)
                    step = flow.send(None)
                    continue
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("%s %s", step.request.method, redact_url(step.request.url))
                # the deadline covers the send and every read of the answer, a streamed body
                # read by the parser included (it is read before the flow yields its next step)
                with request_deadline(deadline):
                    try:
                        response = self.client.send(step.request, stream=step.stream)
                        if step.stream:
                            opened.append(response)
                            if response.is_error or response.is_redirect:
                                response.read()
                    except (httpx.TransportError, httpx.StreamError) as exc:
                        step = flow.throw(map_transport_error(exc, step.name, deadline))
                        continue
                    step = flow.send(response)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            for response in opened:
                response.close()

    def run(self, req: ApiRequest[T]) -> T:
        """Send ``req`` with the retry policy and return its parsed result (blocking)."""
        from tenacity import Retrying

        policy = retry_kwargs(self.settings.max_retries, idempotent=req.idempotent, logger=log, what=req.name)
        for attempt in Retrying(**policy):
            with attempt:
                return self._drive(self.attempt(req))
        raise AssertionError("unreachable")  # pragma: no cover

    # --- async driver -----------------------------------------------------------------------
    @property
    def aclient(self) -> httpx.AsyncClient:
        if self._aclient is None:
            self._aclient = self.settings.async_client()
        return self._aclient

    async def _asend(self, step: Send, opened: list[httpx.Response]) -> httpx.Response:
        response = await self.aclient.send(step.request, stream=step.stream)
        if step.stream:
            opened.append(response)
            if response.is_error or response.is_redirect:
                await response.aread()
        return response

    async def _adrive(self, flow: Flow[T]) -> T:
        import asyncio

        import httpx

        deadline = self.settings.deadline
        opened: list[httpx.Response] = []
        try:
            step = next(flow)
            while True:
                if isinstance(step, Sleep):
                    await asyncio.sleep(step.seconds)
                    step = flow.send(None)
                    continue
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("%s %s", step.request.method, redact_url(step.request.url))
                try:
                    response = await asyncio.wait_for(self._asend(step, opened), deadline)
                except (httpx.TransportError, httpx.StreamError) as exc:
                    step = flow.throw(map_transport_error(exc, step.name, deadline))
                    continue
                except asyncio.TimeoutError:
                    step = flow.throw(
                        map_transport_error(TimeoutError(DEADLINE_EXCEEDED), step.name, deadline)
                    )
                    continue
                step = flow.send(response)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            for response in opened:
                await response.aclose()

    async def arun(self, req: ApiRequest[T]) -> T:
        """Async twin of :meth:`run`, driving the same flow."""
        from tenacity import AsyncRetrying

        policy = retry_kwargs(self.settings.max_retries, idempotent=req.idempotent, logger=log, what=req.name)
        async for attempt in AsyncRetrying(**policy):
            with attempt:
                return await self._adrive(self.attempt(req))
        raise AssertionError("unreachable")  # pragma: no cover

    # --- lifecycle --------------------------------------------------------------------------
    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        if self._aclient is not None:
            await self._aclient.aclose()
            self._aclient = None
