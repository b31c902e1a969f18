"""httpx client factory and connection settings shared by every hook.

A connection's ``host`` may be a bare host name (``api.avito.ru``) or a full base URL
(``http://127.0.0.1:8123``, ``https://proxy.example/avito``); the latter is how tests, the
sandbox and users point a connection elsewhere.  Extras understood by every connection type:
``timeout`` (seconds), ``ca_bundle`` (PEM path for a corporate TLS proxy), ``max_retries``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_telephony.core.errors import ConfigurationError
from airflow_provider_telephony.core.redact import install_log_filters

if TYPE_CHECKING:
    import httpx

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 5
USER_AGENT = "airflow-provider-telephony"
#: third-party loggers that may print URLs; filters are per logger, so children are listed too
REDACTED_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "tenacity",
)


def _as_float(value: Any, name: str, default: float) -> float:
    if value in (None, ""):
        return default
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"connection extra {name!r} must be a number, got {value!r}") from None
    if result <= 0:
        raise ConfigurationError(f"connection extra {name!r} must be positive, got {value!r}")
    return result


def _as_int(value: Any, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        result = int(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"connection extra {name!r} must be an integer, got {value!r}") from None
    if result < 0:
        raise ConfigurationError(f"connection extra {name!r} must be >= 0, got {value!r}")
    return result


def base_url_from(host: str | None, port: int | None, default: str) -> str:
    """Resolve the API base URL from a connection's host/port, falling back to the vendor default."""
    host = (host or "").strip()
    if not host:
        return default.rstrip("/")
    if "://" not in host:
        host = f"https://{host}"
    if port and host.count(":") < 2:  # scheme:// counts once; an explicit port in host wins
        scheme, rest = host.split("://", 1)
        netloc, _, path = rest.partition("/")
        host = f"{scheme}://{netloc}:{port}" + (f"/{path}" if path else "")
    return host.rstrip("/")


def extras_of(conn: Any) -> dict[str, Any]:
    """A connection's extras as a dict, tolerating both ``extra_dejson`` and raw JSON text."""
    extra = getattr(conn, "extra_dejson", None)
    if isinstance(extra, dict):
        return extra
    raw = getattr(conn, "extra", None) or "{}"
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise ConfigurationError("connection extra is not valid JSON") from None
    return parsed if isinstance(parsed, dict) else {}


@dataclass(frozen=True)
class ConnectionSettings:
    """What a hook needs from an Airflow connection, validated once."""

    conn_id: str
    base_url: str
    login: str | None
    #: secrets never appear in the repr (which may reach a log or a traceback)
    password: str | None = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT
    ca_bundle: str | None = None
    max_retries: int = DEFAULT_MAX_RETRIES
    extras: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_connection(cls, conn: Any, *, default_base_url: str) -> ConnectionSettings:
        extras = extras_of(conn)
        return cls(
            conn_id=conn.conn_id,
            base_url=base_url_from(conn.host, conn.port, default_base_url),
            login=conn.login or None,
            password=conn.password or None,
            timeout=_as_float(extras.get("timeout"), "timeout", DEFAULT_TIMEOUT),
            ca_bundle=(extras.get("ca_bundle") or None),
            max_retries=_as_int(extras.get("max_retries"), "max_retries", DEFAULT_MAX_RETRIES),
            extras=extras,
        )

    def _client_kwargs(self) -> dict[str, Any]:
        import httpx

        from airflow_provider_telephony import __version__

        verify: Any = True
        if self.ca_bundle:
            import ssl

            import certifi

            # the bundle *adds* to the default trust (certifi, as httpx uses) instead of replacing it
            try:
                context = ssl.create_default_context(cafile=certifi.where())
                context.load_verify_locations(cafile=self.ca_bundle)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigurationError(f"ca_bundle {self.ca_bundle!r} cannot be loaded: {exc}") from None
            verify = context
        install_log_filters(*REDACTED_LOGGERS)
        return {
            "base_url": self.base_url,
            "timeout": httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            "verify": verify,
            "headers": {"User-Agent": f"{USER_AGENT}/{__version__}"},
            "limits": httpx.Limits(max_connections=10, max_keepalive_connections=5),
            "follow_redirects": False,
        }

    def client(self) -> httpx.Client:
        """A sync client for tasks: one per hook, reused for every request (keep-alive)."""
        import httpx

        return httpx.Client(**self._client_kwargs())

    def async_client(self) -> httpx.AsyncClient:
        """An async client for triggers, configured identically to :meth:`client`."""
        import httpx

        return httpx.AsyncClient(**self._client_kwargs())
