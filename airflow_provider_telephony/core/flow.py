"""The one definition of an endpoint call, and the steps a flow asks its driver to perform.

An endpoint call is described once as an :class:`ApiRequest`.  The logic of sending it is written
once, as a generator (a *flow*) that yields what it needs done — :class:`Send` a request,
:class:`Sleep`, or :class:`Call` a blocking function — and receives the result.
:class:`~airflow_provider_telephony.core.exchange.Exchange` drives flows with a blocking ``httpx.Client`` in tasks and with an ``httpx.AsyncClient`` in triggers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    import httpx

    from airflow_provider_telephony.core.errors import TelephonyError
    from airflow_provider_telephony.core.exchange import Exchange

T = TypeVar("T")

#: HTTP methods that never change anything on the server: safe to send again after any failure
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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


@dataclass(frozen=True)
class Call:
    """Ask the driver to run a blocking function (a token store's read or write) and hand back its
    result: called directly in a task, in a worker thread from a trigger so the event loop runs on.
    What it raises is thrown into the flow."""

    function: Callable[[], Any] = field(repr=False)
    name: str = "call"


Step = Send | Sleep | Call
Flow = Generator[Step, Any, T]


@dataclass(frozen=True, repr=False)
class ApiRequest(Generic[T]):
    """Everything needed to send one endpoint call and turn its response into a result.

    :param name: endpoint name for logs and errors (``getCalls``), never a URL.
    :param parse: turns a successful response into the result. With ``stream=True`` it receives the
        unread streaming response (sync driver only may read the body).  Besides the errors it
        raises itself, a ``ValueError`` it lets escape (broken JSON, a pydantic failure) becomes
        :class:`UnreadableResponseError` or :class:`UnexpectedResponseError`.
    :param json: a body sent as JSON; ``data``: a form body; ``content``: a body sent as these bytes.
    :param idempotent: whether sending the request twice has the effect of sending it once.
        ``None`` (the default) means: only for GET, HEAD and OPTIONS.  A request that only *reads*
        with another method (Avito's ``POST getCalls``) says ``idempotent=True``.
    :param recover: for a non-idempotent request (a write), a flow that finds the request's effect
        by our own client id — what the exchange runs when a send may or may not have taken effect
        (timeout or reset after sending, 5xx, a cut or empty answer).  It returns the result when
        the effect exists (the write is then *not* sent again) and ``None`` when it provably does
        not (then it is sent again).  Without it, such a failure raises
        :class:`~airflow_provider_telephony.core.errors.OutcomeUnknownError`.
    :param effect: for a write, what to look for in the vendor's cabinet when the outcome is unknown
        (``"an SMS mailing with client_id 'x' under SMS рассылки"``).
    :param aparse: with ``stream=True``, how the *async* driver consumes the body: awaited with the
        open response once its status was accepted (``parse`` is the sync driver's way).  Streaming a
        large body is inherently one or the other; everything else stays one definition.

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
    content: bytes | None = None
    headers: Mapping[str, str] | None = None
    idempotent: bool | None = None
    stream: bool = False
    authenticated: bool = True
    recover: Callable[[Exchange], Flow[T | None]] | None = None
    effect: str | None = None
    aparse: Callable[[httpx.Response], Awaitable[T]] | None = None

    @property
    def resendable(self) -> bool:
        """Whether the request may be sent again after a failure that leaves its outcome unclear."""
        return self.idempotent if self.idempotent is not None else self.method.upper() in SAFE_METHODS

    def __repr__(self) -> str:
        return f"ApiRequest(name={self.name!r}, method={self.method!r})"


class VendorApi(Protocol):
    """What a vendor supplies to the exchange: authentication and error mapping.

    ``auth_refreshes`` (optional, default 1): how many times one attempt refreshes rejected
    credentials and re-sends.
    """

    def auth_headers(self, exchange: Exchange, *, refresh: bool) -> Flow[dict[str, str]]:
        """Headers that authenticate a request; ``refresh=True`` means the last ones were rejected."""
        ...

    def error_for(self, request: ApiRequest[Any], response: httpx.Response) -> TelephonyError | None:
        """The error a response represents (HTTP status or in-body error), or ``None`` for success."""
        ...
