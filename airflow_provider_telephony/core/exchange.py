"""Sending request definitions: one flow, two drivers, the retry policy and exactly-once writes.

The logic of one attempt — rate limit, authentication with a single refresh on an auth failure,
error mapping, parsing — is the flow :meth:`Exchange.attempt`.  :meth:`Exchange.run` drives it
with a blocking ``httpx.Client`` (tasks); :meth:`Exchange.arun` drives the very same flow with an
``httpx.AsyncClient`` shared per event loop (triggers).  Both retry with the same policy
(``core.retry``); the first attempt runs outside tenacity, so a request that succeeds pays nothing
for the retry machinery.

**Writes are never re-sent blindly** (DESIGN rule 5).  A request that is not idempotent and fails
in a way that leaves its outcome unclear — a 5xx, a timeout or reset after it was sent, an answer
cut short, empty or of the wrong shape — is not sent again.  Instead the exchange runs the
request's *recovery* flow, which looks the effect up by our own client id: found, its result is
returned as if the first answer had arrived; provably absent, the write is sent again
(:class:`WriteNotAppliedError`, retried); undecidable, or no recovery flow,
:class:`OutcomeUnknownError` says what to check in the vendor's cabinet.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_telephony.core.deadline import DEADLINE_EXCEEDED, request_deadline
from airflow_provider_telephony.core.errors import (
    AuthenticationError,
    OutcomeUnknownError,
    TelephonyError,
    WriteNotAppliedError,
)
from airflow_provider_telephony.core.flow import ApiRequest, Call, Flow, Send, Sleep, VendorApi
from airflow_provider_telephony.core.ratelimit import RateLimiter, limiter_for
from airflow_provider_telephony.core.redact import redact_url
from airflow_provider_telephony.core.responses import map_transport_error, raise_for_redirect
from airflow_provider_telephony.core.retry import backoff, outcome_unclear, retry_kwargs, should_retry

if TYPE_CHECKING:
    import httpx

    from airflow_provider_telephony.core.transport import ConnectionSettings

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class ExchangeStats:
    """What one hook's exchange did; operators put it in their XCom summary."""

    #: HTTP requests sent (token requests and retries included)
    requests: int = 0
    #: attempts after a failed one
    retries: int = 0
    #: 429 answers received
    throttled: int = 0
    #: seconds the client-side rate limiter held requests back
    rate_limit_wait_seconds: float = 0.0
    #: seconds waited between attempts (backoff or the server's Retry-After)
    retry_wait_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rate_limit_wait_seconds"] = round(self.rate_limit_wait_seconds, 3)
        data["retry_wait_seconds"] = round(self.retry_wait_seconds, 3)
        return data


def unknown_outcome(req: ApiRequest[Any], cause: TelephonyError, detail: str) -> OutcomeUnknownError:
    """The error for a write whose effect could not be established (it is not sent again)."""
    effect = req.effect or "whether it took effect"
    return OutcomeUnknownError(
        f"{req.name}: {cause} — the request may have taken effect; {detail}. It was NOT sent again "
        f"(that could do it twice): check in the vendor's cabinet {effect} before running the task again",
        status_code=cause.status_code,
    )


def _transport_for(client: Any, url: httpx.URL) -> Any:
    """The transport ``client`` sends ``url`` through (its proxy mounts considered), or ``None``."""
    lookup = getattr(client, "_transport_for_url", None)
    return lookup(url) if lookup is not None else None


def _call(flow: Flow[Any], function: Callable[[], Any]) -> Any:
    """Run a :class:`Call` step in this thread; its result (or what it raised) goes into the flow."""
    try:
        result = function()
    except Exception as exc:
        return flow.throw(exc)
    return flow.send(result)


async def _acall(flow: Flow[Any], function: Callable[[], Any]) -> Any:
    """Run a :class:`Call` step in a worker thread, so the event loop is never blocked by it.

    Through asgiref's ``sync_to_async`` (an Airflow dependency): a Task SDK call made in that thread
    (a Variable read in a trigger) then reaches the supervisor through the running loop, as Airflow
    3.1's triggerer requires; plain ``asyncio.to_thread`` where asgiref is missing.
    """
    run: Callable[[], Awaitable[Any]]
    try:
        from asgiref.sync import sync_to_async
    except ImportError:  # pragma: no cover - asgiref comes with every supported Airflow
        import asyncio

        run = functools.partial(asyncio.to_thread, function)
    else:
        run = sync_to_async(function, thread_sensitive=False)
    try:
        result = await run()
    except Exception as exc:
        return flow.throw(exc)
    return flow.send(result)


class Exchange:
    """Sends :class:`ApiRequest` objects for one connection with one reused client per mode."""

    def __init__(
        self,
        settings: ConnectionSettings,
        api: VendorApi,
        *,
        limiter_key: str | None = None,
        rate_limit_per_minute: float = 300.0,
        rate_limits: Mapping[str, float] | None = None,
        per_endpoint: bool = True,
    ) -> None:
        self.settings = settings
        self.api = api
        self.limiter_key = limiter_key
        self.rate_limit_per_minute = rate_limit_per_minute
        self.rate_limits = dict(rate_limits or {})
        self.per_endpoint = per_endpoint
        self.stats = ExchangeStats()
        self._client: httpx.Client | None = None
        self._aclient: httpx.AsyncClient | None = None

    # --- the one flow -----------------------------------------------------------------------
    def build(self, req: ApiRequest[Any], headers: Mapping[str, str]) -> httpx.Request:
        """The HTTP request: the client's default headers (User-Agent), the credentials, the request's
        own headers; a JSON body is encoded with msgspec (in C)."""
        import httpx

        merged = {**self.settings.default_headers(), **headers, **(req.headers or {})}
        content = req.content
        if req.json is not None:
            import msgspec

            content = msgspec.json.encode(req.json)
            merged["Content-Type"] = "application/json"
        return httpx.Request(
            req.method,
            self.settings.base_url + req.path,
            params=req.params,
            content=content,
            data=req.data,
            headers=merged,
        )

    def limiter(self, endpoint: str) -> RateLimiter | None:
        """The process-wide limiter of this connection: one per endpoint when the vendor's quota is
        per endpoint, else one for the whole connection."""
        if self.limiter_key is None:
            return None
        return limiter_for(
            f"{self.limiter_key}:{endpoint}" if self.per_endpoint else self.limiter_key,
            self.rate_limits.get(endpoint, self.rate_limit_per_minute),
            user_limit=self.settings.rate_limit_per_minute,
        )

    def send_flow(self, req: ApiRequest[Any]) -> Flow[httpx.Response]:
        """Send once after the rate limiter allows it; return the response whatever its status."""
        limiter = self.limiter(req.name)
        if limiter is not None:
            wait = limiter.reserve()
            if wait > 0:
                self.stats.rate_limit_wait_seconds += wait
                if wait >= 1.0:
                    log.info("rate limit: waiting %.1fs before %s", wait, req.name)
                yield Sleep(wait)
        headers = (yield from self._credentials(refresh=False)) if req.authenticated else {}
        late = limiter.admit() if limiter is not None else 0.0
        if late > 0:
            # a burst, or a caller late for its send time: the quota's window decides
            self.stats.rate_limit_wait_seconds += late
            yield Sleep(late)
        response: httpx.Response = yield Send(self.build(req, headers), req.name, req.stream)
        if response.status_code == 429:
            self.stats.throttled += 1
        if limiter is not None:
            limiter.observe(response.headers)
        return response

    def _credentials(self, *, refresh: bool) -> Flow[dict[str, str]]:
        """The vendor's auth headers; an error getting them means the request was not (re-)sent."""
        try:
            return (yield from self.api.auth_headers(self, refresh=refresh))
        except TelephonyError as exc:
            exc.before_send = True
            raise

    def outcome(self, req: ApiRequest[T], response: httpx.Response, *, raw: bool = False) -> T:
        """Raise the error a response stands for, else parse it (parse may raise in-body errors).

        A redirect is never followed nor parsed: it means the connection's host is wrong.  With
        ``raw`` the accepted response itself is the result (its body is consumed by ``aparse``).
        """
        raise_for_redirect(response, req.name, self.settings.conn_id)
        error = self.api.error_for(req, response)
        if error is not None:
            raise error
        if raw:
            return response  # type: ignore[return-value]
        try:
            return req.parse(response)
        except TelephonyError:
            raise
        except Exception as exc:
            import httpx

            from airflow_provider_telephony.core.responses import body_error

            if isinstance(exc, httpx.TransportError | httpx.StreamError):
                raise map_transport_error(exc, req.name, self.settings.deadline) from None
            if isinstance(exc, ValueError):  # JSONDecodeError, UnicodeDecodeError, pydantic errors
                raise body_error(exc, req.name) from None
            raise

    def attempt(self, req: ApiRequest[T], *, raw: bool = False) -> Flow[T]:
        """One attempt: send; on an auth failure refresh credentials and re-send; parse.

        The vendor's ``auth_refreshes`` says how often (once for a token the provider fetches
        itself; more where other processes rotate a shared pair, whose refresh can supersede ours
        between our refresh and our re-send).  Re-sending after a 401/403 is safe for writes too:
        the server refused the request.
        """
        response = yield from self.send_flow(req)
        refreshes = getattr(self.api, "auth_refreshes", 1)
        for number in range(1, refreshes + 2):
            try:
                return self.outcome(req, response, raw=raw)
            except AuthenticationError as exc:
                if not (req.authenticated and exc.refreshable):
                    raise
                if number > refreshes:
                    exc.refreshable = False  # rejected again with fresh credentials: final
                    raise
            log.info("%s: credentials rejected, refreshing them (%d of %d)", req.name, number, refreshes)
            headers = yield from self._credentials(refresh=True)
            response = yield Send(self.build(req, headers), req.name, req.stream)
        raise AssertionError("unreachable")  # pragma: no cover

    def write_attempt(self, req: ApiRequest[T]) -> Flow[T]:
        """One attempt of a non-idempotent request, with recovery when its outcome is unclear."""
        try:
            return (yield from self.attempt(req))
        except TelephonyError as exc:
            if not outcome_unclear(exc):
                raise
            cause = exc
        if req.recover is None:
            raise unknown_outcome(req, cause, "this request has no way to look its effect up") from cause
        log.warning("%s; looking up whether it took effect before anything else", cause)
        found = yield from self._recover(req, cause)
        if found is not None:
            log.warning("%s: it did take effect (found by our client id); not sending it again", req.name)
            return found
        raise WriteNotAppliedError(
            f"{req.name}: {cause}; it did not take effect (not found by our client id), so sending it "
            "again is safe",
            status_code=cause.status_code,
        ) from cause

    def _recover(self, req: ApiRequest[T], cause: TelephonyError) -> Flow[T | None]:
        """Run the request's recovery flow, retrying its own transient failures (it only reads)."""
        assert req.recover is not None
        attempts = self.settings.max_retries + 1
        for number in range(1, attempts + 1):
            try:
                return (yield from req.recover(self))
            except TelephonyError as exc:
                if not exc.retryable or number == attempts:
                    raise unknown_outcome(req, cause, f"looking it up failed too ({exc})") from exc
                log.warning("%s: looking up its effect failed (%s); trying again", req.name, exc)
                self.stats.retry_wait_seconds += backoff(number)
                yield Sleep(backoff(number))
        return None  # pragma: no cover - the loop returns or raises

    def flow(self, req: ApiRequest[T]) -> Flow[T]:
        """The flow of one attempt of ``req``: plain for reads, with recovery for writes."""
        return self.attempt(req) if req.resendable else self.write_attempt(req)

    def _policy(self, req: ApiRequest[Any]) -> dict[str, Any]:
        def waited(seconds: float) -> None:
            self.stats.retries += 1
            self.stats.retry_wait_seconds += seconds

        return retry_kwargs(
            self.settings.max_retries, idempotent=req.resendable, logger=log, what=req.name, on_wait=waited
        )

    def _worth_retrying(self, req: ApiRequest[Any], exc: TelephonyError) -> bool:
        return self.settings.max_retries > 0 and should_retry(exc, idempotent=req.resendable)

    # --- sync driver ------------------------------------------------------------------------
    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = self.settings.client()
        return self._client

    def _send(self, request: httpx.Request, stream: bool) -> httpx.Response:
        """Send through the client's transport for the URL (its proxy mount, if any).

        ``Client.send`` adds what this provider does not use — cookie persistence, auth flows,
        redirect handling, event hooks — at about a tenth of a millisecond of CPU per request,
        which is most of an export's overhead over the plainest loop.  The transport is the same
        one ``send`` would use, with the client's timeouts.
        """
        client = self.client
        transport = _transport_for(client, request.url)
        if transport is None:  # pragma: no cover - an httpx without the lookup: the ordinary way
            return client.send(request, stream=stream)
        request.extensions.setdefault("timeout", client.timeout.as_dict())
        response = transport.handle_request(request)
        response.request = request
        if not stream:
            try:
                response.read()
            finally:
                response.close()
        return response

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
                if isinstance(step, Call):
                    step = _call(flow, step.function)
                    continue
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("%s %s", step.request.method, redact_url(step.request.url))
                self.stats.requests += 1
                # the deadline covers the send and every read of the answer, a streamed body
                # read by the parser included (it is read before the flow yields its next step)
                with request_deadline(deadline):
                    try:
                        response = self._send(step.request, step.stream)
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
            flow.close()
            for response in opened:
                response.close()

    def run(self, req: ApiRequest[T]) -> T:
        """Send ``req`` with the retry policy and return its parsed result (blocking)."""
        try:
            return self._drive(self.flow(req))
        except TelephonyError as exc:
            if not self._worth_retrying(req, exc):
                raise
            first: TelephonyError | None = exc
        from tenacity import Retrying

        # tenacity takes over from the failed first attempt: it logs, waits and stops as the policy says
        for attempt in Retrying(**self._policy(req)):
            with attempt:
                if first is not None:
                    failed, first = first, None
                    raise failed
                return self._drive(self.flow(req))
        raise AssertionError("unreachable")  # pragma: no cover

    # --- async driver -----------------------------------------------------------------------
    async def aopen(self) -> httpx.AsyncClient:
        """The async client: shared by every exchange of this connection on the running event loop,
        built off the loop (see ``core.aclients``)."""
        if self._aclient is None:
            from airflow_provider_telephony.core.aclients import acquire

            self._aclient = await acquire(self.settings)
        return self._aclient

    async def _asend(self, step: Send, opened: list[httpx.Response]) -> httpx.Response:
        """Async twin of :meth:`_send` (the shared client's transport for the URL)."""
        client = await self.aopen()
        request = step.request
        transport = _transport_for(client, request.url)
        if transport is None:  # pragma: no cover - an httpx without the lookup
            response = await client.send(request, stream=step.stream)
        else:
            request.extensions.setdefault("timeout", client.timeout.as_dict())
            response = await transport.handle_async_request(request)
            response.request = request
            if not step.stream:
                try:
                    await response.aread()
                finally:
                    await response.aclose()
        if step.stream:
            opened.append(response)
            if response.is_error or response.is_redirect:
                await response.aread()
        return response

    async def _adrive(
        self, flow: Flow[T], finish: Callable[[Any], Awaitable[T]] | None = None, what: str = ""
    ) -> T:
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
                if isinstance(step, Call):
                    step = await _acall(flow, step.function)
                    continue
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("%s %s", step.request.method, redact_url(step.request.url))
                self.stats.requests += 1
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
            if finish is None:
                return stop.value  # type: ignore[no-any-return]
            return await self._afinish(finish, stop.value, what)
        finally:
            flow.close()
            for response in opened:
                await response.aclose()

    async def _afinish(self, finish: Callable[[Any], Awaitable[T]], response: httpx.Response, what: str) -> T:
        """Consume a streamed body with the request's ``aparse``, under its own deadline."""
        import asyncio

        import httpx

        from airflow_provider_telephony.core.responses import body_error

        deadline = self.settings.deadline
        try:
            return await asyncio.wait_for(finish(response), deadline)
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise map_transport_error(exc, what, deadline) from None
        except asyncio.TimeoutError:
            raise map_transport_error(TimeoutError(DEADLINE_EXCEEDED), what, deadline) from None
        except TelephonyError:
            raise
        except ValueError as exc:
            raise body_error(exc, what) from None

    def _aflow(self, req: ApiRequest[T]) -> tuple[Flow[T], Callable[[Any], Awaitable[T]] | None, str]:
        """The async driver's flow, and for a streamed body the ``aparse`` that consumes it."""
        if req.aparse is None:
            return self.flow(req), None, req.name
        return self.attempt(req, raw=True), req.aparse, req.name

    async def arun(self, req: ApiRequest[T]) -> T:
        """Async twin of :meth:`run`, driving the same flow."""
        try:
            return await self._adrive(*self._aflow(req))
        except TelephonyError as exc:
            if not self._worth_retrying(req, exc):
                raise
            first: TelephonyError | None = exc
        from tenacity import AsyncRetrying

        async for attempt in AsyncRetrying(**self._policy(req)):
            with attempt:
                if first is not None:
                    failed, first = first, None
                    raise failed
                return await self._adrive(*self._aflow(req))
        raise AssertionError("unreachable")  # pragma: no cover

    # --- lifecycle --------------------------------------------------------------------------
    def close(self) -> None:
        """Close the sync client (the async one is given back by :meth:`aclose`)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        """Close the sync client and give the shared async client back (the last user closes it)."""
        self.close()
        if self._aclient is not None:
            from airflow_provider_telephony.core.aclients import release

            client, self._aclient = self._aclient, None
            await release(self.settings, client)
