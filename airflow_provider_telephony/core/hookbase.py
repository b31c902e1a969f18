"""Base for every vendor hook: connection settings, one exchange per hook, secret registration.

Subclasses set the class attributes Airflow expects (``conn_name_attr``, ``default_conn_name``,
``conn_type``, ``hook_name``) plus ``default_base_url`` and ``rate_limit_per_minute``, implement
:class:`~airflow_provider_telephony.core.exchange.VendorApi` (``auth_headers``, ``error_for``) and
:meth:`TelephonyHook.probe` (what ``test_connection`` sends).
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from airflow.sdk import BaseHook

from airflow_provider_telephony.core.errors import ConfigurationError, TelephonyError
from airflow_provider_telephony.core.exchange import Exchange
from airflow_provider_telephony.core.flow import ApiRequest, Flow
from airflow_provider_telephony.core.redact import redact_text, register_secret, tell_airflow
from airflow_provider_telephony.core.transport import ConnectionSettings

H = TypeVar("H", bound="TelephonyHook")
T = TypeVar("T")
#: async closes scheduled by a sync close() on a running loop (kept referenced until they finish)
_closing: set[Any] = set()


def _not_found() -> type[Exception]:
    try:
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:  # pragma: no cover - Airflow 3.1
        from airflow.exceptions import AirflowNotFoundException  # type: ignore[no-redef]
    return AirflowNotFoundException  # type: ignore[no-any-return]


class TelephonyHook(BaseHook):
    """Shared plumbing; vendor hooks add endpoints."""

    conn_type: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""
    #: whether the vendor's quota is per endpoint (one limiter each) or for the whole connection
    rate_limit_per_endpoint: ClassVar[bool] = True
    rate_limit_per_minute: ClassVar[float] = 300.0
    #: documented quotas of single endpoints (requests a minute), where they differ from the above
    rate_limits: ClassVar[dict[str, float]] = {}

    def __init__(self, conn_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self._settings: ConnectionSettings | None = None
        self._exchange: Exchange | None = None

    # --- connection ---------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"{type(self).__name__}(conn_id={self.conn_id!r})"

    def _settings_from(self, conn: Any) -> ConnectionSettings:
        register_secret(getattr(conn, "password", None), "password")
        settings = ConnectionSettings.from_connection(
            conn, default_base_url=self.default_base_url, conn_type=self.conn_type
        )
        # what Airflow's extra_dejson would do: mask the values of sensitive keys (access_token, …)
        if settings.extras:
            tell_airflow(settings.extras)
        return settings

    def _missing(self, exc: Exception) -> ConfigurationError:
        return ConfigurationError(
            f"connection {self.conn_id!r} cannot be loaded: {exc} (define it in the UI, with an "
            f"AIRFLOW_CONN_{self.conn_id.upper()} variable or in your secrets backend)"
        )

    @property
    def settings(self) -> ConnectionSettings:
        if self._settings is None:
            try:
                conn = self.get_connection(self.conn_id)
            except _not_found() as exc:
                raise self._missing(exc) from None
            self._settings = self._settings_from(conn)
        return self._settings

    async def aload_settings(self) -> ConnectionSettings:
        """Load the connection from async code (triggers) without blocking the event loop."""
        if self._settings is None:
            try:
                conn = await self.aget_connection(self.conn_id)
            except _not_found() as exc:
                raise self._missing(exc) from None
            self._settings = self._settings_from(conn)
        return self._settings

    @property
    def exchange(self) -> Exchange:
        if self._exchange is None:
            self._exchange = Exchange(
                self.settings,
                self,  # type: ignore[arg-type]
                limiter_key=f"{type(self).__name__}:{self.conn_id}",
                rate_limit_per_minute=self.rate_limit_per_minute,
                rate_limits=self.rate_limits,
                per_endpoint=self.rate_limit_per_endpoint,
            )
        return self._exchange

    async def aexchange(self) -> Exchange:
        await self.aload_settings()
        return self.exchange

    def _run(self, request: ApiRequest[T]) -> T:
        """Send one request definition with the blocking client (tasks)."""
        return self.exchange.run(request)

    async def _arun(self, request: ApiRequest[T]) -> T:
        """Send the same definition with the shared async client (triggers)."""
        exchange = await self.aexchange()
        return await exchange.arun(request)

    def get_conn(self) -> Exchange:
        """The hook's :class:`Exchange` (one reused HTTP client per hook)."""
        return self.exchange

    def close(self) -> None:
        """Close the sync HTTP client.  A hook used from async code closes with :meth:`aclose`
        (or ``async with``); if it is closed here while an event loop runs, that is scheduled."""
        if self._exchange is None:
            return
        self._exchange.close()
        if self._exchange._aclient is not None:
            import asyncio

            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop: the client's loop is gone, and with it the client's connections
            task = loop.create_task(self._exchange.aclose())
            _closing.add(task)
            task.add_done_callback(_closing.discard)

    async def aclose(self) -> None:
        """Close the sync client and give back the shared async client."""
        if self._exchange is not None:
            await self._exchange.aclose()

    def __enter__(self: H) -> H:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self: H) -> H:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- connection test ----------------------------------------------------------------
    def probe(self) -> str:
        """Send the cheapest request that proves the connection works; return what it showed."""
        raise NotImplementedError

    def test_connection(self) -> tuple[bool, str]:
        """Airflow's connection test: ``(True, message)`` or ``(False, reason)``, never an exception.

        Whatever the outcome, the HTTP client the test opened is closed.
        """
        try:
            return True, f"Connection successfully tested: {self.probe()}"
        except TelephonyError as exc:
            return False, str(exc)
        except Exception as exc:
            return False, f"{type(exc).__name__}: {redact_text(str(exc))}"
        finally:
            self.close()

    # --- VendorApi defaults -------------------------------------------------------------
    def auth_headers(self, exchange: Exchange, *, refresh: bool) -> Flow[dict[str, str]]:
        """No authentication by default; vendors override."""
        return {}
        yield  # pragma: no cover - makes this a generator
