"""Connection settings, validated strictly, and the httpx client factory every hook uses.

A connection's ``host`` may be a bare host name (``api.avito.ru``) or a full base URL
(``http://127.0.0.1:8123``, ``https://proxy.example/avito``); the latter is how tests, the
sandbox and users point a connection elsewhere.  Extras understood by every connection type:
``timeout`` (seconds per network operation), ``deadline`` (seconds for a whole request),
``ca_bundle`` (PEM path for a corporate TLS proxy), ``max_retries``, ``rate_limit_per_minute``
(the user's quota, overriding the hook's documented default).

Everything is checked when a hook first reads the connection: malformed extra JSON, a number that
is not finite or out of range, a retry count that is not a whole number, a host that is not an
http(s) URL and a connection of another type are :class:`ConfigurationError` naming the field.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_telephony.core.errors import ConfigurationError
from airflow_provider_telephony.core.redact import install_log_filters

if TYPE_CHECKING:
    import httpx

DEFAULT_TIMEOUT = 30.0
MAX_TIMEOUT = 3600.0
#: the whole of one request (connect + send + every read); bounds a server that trickles its answer
DEFAULT_DEADLINE = 120.0
MAX_DEADLINE = 6 * 3600.0
DEFAULT_MAX_RETRIES = 5
MAX_RETRIES = 20
#: bounds of a user's ``rate_limit_per_minute``: at least one request a minute, at most 100 a second
MIN_RATE, MAX_RATE = 1.0, 6000.0
USER_AGENT = "airflow-provider-telephony"
SCHEMES = ("http", "https")
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


def _where(conn_id: str, name: str) -> str:
    return f"connection {conn_id!r}: extra {name!r}"


def extra_number(
    extras: dict[str, Any],
    name: str,
    default: float,
    *,
    conn_id: str,
    maximum: float,
    minimum: float = 0.0,
    unit: str = "seconds",
) -> float:
    """A finite number ``minimum < n <= maximum`` from the extras (``default`` when unset or empty)."""
    value = extras.get(name)
    if value is None or value == "":
        return default
    rule = f"must be a number of {unit} above {minimum:g} and at most {maximum:g}, got {value!r}"
    if isinstance(value, bool):
        raise ConfigurationError(f"{_where(conn_id, name)} {rule}")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{_where(conn_id, name)} {rule}") from None
    if not math.isfinite(result) or not minimum < result <= maximum:
        raise ConfigurationError(f"{_where(conn_id, name)} {rule}")
    return result


def _user_rate(extras: dict[str, Any], conn_id: str) -> float | None:
    """The extra ``rate_limit_per_minute``: requests a minute, 1 to 6000; unset means the hook's default."""
    if extras.get("rate_limit_per_minute") in (None, ""):
        return None
    return extra_number(
        extras,
        "rate_limit_per_minute",
        0.0,
        conn_id=conn_id,
        minimum=MIN_RATE - 1e-9,
        maximum=MAX_RATE,
        unit="requests a minute",
    )


def extra_int(extras: dict[str, Any], name: str, default: int, *, conn_id: str, maximum: int) -> int:
    """A whole number ``0 <= n <= maximum`` from the extras; ``2.9`` or ``"2.5"`` is refused, not truncated."""
    value = extras.get(name)
    if value is None or value == "":
        return default
    result: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        result = value
    elif isinstance(value, float) and value.is_integer():
        result = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        result = int(value.strip())
    if result is None or not 0 <= result <= maximum:
        raise ConfigurationError(
            f"{_where(conn_id, name)} must be a whole number from 0 to {maximum}, got {value!r}"
        )
    return result


def base_url_from(host: str | None, port: int | None, default: str, *, conn_id: str = "?") -> str:
    """Resolve the API base URL from a connection's host/port, falling back to the vendor default.

    Only ``http``/``https`` URLs with a host name are accepted; credentials inside the URL are
    refused (they belong in the login/password fields, where they are masked).
    """
    from urllib.parse import urlsplit

    text = (host or "").strip()
    if not text:
        return default.rstrip("/")
    where = f"connection {conn_id!r}: host"
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise ConfigurationError(f"{where} must not contain spaces or control characters")
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        explicit_port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"{where} is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ConfigurationError(f"{where} must be an http:// or https:// URL, got scheme {scheme!r}")
    if not parts.hostname:
        raise ConfigurationError(f"{where} has no host name")
    if parts.username or parts.password:
        raise ConfigurationError(f"{where} must not carry credentials: use the login and password fields")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"{where} must not have a query or fragment")
    netloc = parts.netloc
    if port and explicit_port is None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigurationError(f"connection {conn_id!r}: port must be 1..65535, got {port!r}")
        netloc = f"{netloc}:{port}"
    return f"{scheme}://{netloc}{parts.path}".rstrip("/")


def extras_of(conn: Any) -> dict[str, Any]:
    """A connection's extras as a dict; malformed JSON or a non-object is a configuration error.

    Airflow's ``extra_dejson`` logs and swallows invalid JSON (every setting silently at its
    default), so the raw text is parsed here instead.
    """
    raw = getattr(conn, "extra", None)
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"connection {getattr(conn, 'conn_id', '?')!r}: extra is not valid JSON ({exc})"
        ) from None
    if not isinstance(parsed, dict):
        raise ConfigurationError(
            f"connection {getattr(conn, 'conn_id', '?')!r}: extra must be a JSON object, "
            f"got {type(parsed).__name__}"
        )
    return parsed


def check_conn_type(conn: Any, expected: str) -> None:
    """Refuse a connection of another type (an ``http`` connection handed to the Avito hook)."""
    actual = (getattr(conn, "conn_type", None) or "").strip().lower().replace("-", "_")
    if expected and actual and actual != expected:
        raise ConfigurationError(
            f"connection {getattr(conn, 'conn_id', '?')!r} has type {actual!r}; "
            f"this hook needs a connection of type {expected!r}"
        )


@dataclass(frozen=True)
class ConnectionSettings:
    """What a hook needs from an Airflow connection, validated once."""

    conn_id: str
    base_url: str
    login: str | None
    #: secrets never appear in the repr (which may reach a log or a traceback)
    password: str | None = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT
    deadline: float = DEFAULT_DEADLINE
    ca_bundle: str | None = None
    max_retries: int = DEFAULT_MAX_RETRIES
    #: the user's quota (extra ``rate_limit_per_minute``); ``None``: the hook's documented default
    rate_limit_per_minute: float | None = None
    extras: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_connection(cls, conn: Any, *, default_base_url: str, conn_type: str = "") -> ConnectionSettings:
        conn_id = str(getattr(conn, "conn_id", None) or "?")
        check_conn_type(conn, conn_type)
        extras = extras_of(conn)
        ca_bundle = extras.get("ca_bundle") or None
        if ca_bundle is not None and not isinstance(ca_bundle, str):
            raise ConfigurationError(f"{_where(conn_id, 'ca_bundle')} must be a file path")
        timeout = extra_number(extras, "timeout", DEFAULT_TIMEOUT, conn_id=conn_id, maximum=MAX_TIMEOUT)
        return cls(
            conn_id=conn_id,
            base_url=base_url_from(conn.host, conn.port, default_base_url, conn_id=conn_id),
            login=conn.login or None,
            password=conn.password or None,
            timeout=timeout,
            deadline=extra_number(
                extras, "deadline", max(DEFAULT_DEADLINE, timeout), conn_id=conn_id, maximum=MAX_DEADLINE
            ),
            ca_bundle=ca_bundle,
            max_retries=extra_int(
                extras, "max_retries", DEFAULT_MAX_RETRIES, conn_id=conn_id, maximum=MAX_RETRIES
            ),
            rate_limit_per_minute=_user_rate(extras, conn_id),
            extras=extras,
        )

    def default_headers(self) -> dict[str, str]:
        """Headers every request carries (requests are built apart from the client, so the exchange
        adds these itself)."""
        from airflow_provider_telephony import __version__

        return {"User-Agent": f"{USER_AGENT}/{__version__}"}

    def client_key(self) -> tuple[str, float, str | None]:
        """What makes two connections' HTTP clients interchangeable (they may share one)."""
        return (self.base_url, self.timeout, self.ca_bundle)

    def _client_kwargs(self) -> dict[str, Any]:
        import httpx

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
            "headers": self.default_headers(),
            "limits": httpx.Limits(max_connections=10, max_keepalive_connections=5),
            "follow_redirects": False,
        }

    def client(self) -> httpx.Client:
        """A sync client for tasks: one per hook, reused for every request (keep-alive), with the
        request deadline installed under its transports (see ``core.deadline``)."""
        import httpx

        from airflow_provider_telephony.core.deadline import install_deadlines

        return install_deadlines(httpx.Client(**self._client_kwargs()))

    def async_client(self) -> httpx.AsyncClient:
        """An async client for triggers, configured identically to :meth:`client` (the exchange
        bounds each request with ``asyncio.wait_for``)."""
        import httpx

        return httpx.AsyncClient(**self._client_kwargs())
