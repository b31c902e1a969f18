"""Settings shared by every vendor emulation of the sandbox.

One frozen object is built by the CLI (``telephony-sandbox serve``) or by
``run_sandbox(...)`` and handed to each vendor module's ``build_routes``.  Every
random choice a vendor makes derives from ``seed`` so two servers started with
the same settings serve byte-identical data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class SandboxConfig:
    """Knobs of the local emulator; defaults are what tests and the demo use."""

    seed: int = 1
    #: fault profile name or spec (see ``sandbox.faults``); ``None`` means no faults
    faults: str | None = None
    #: first day (UTC) of seeded data and how many days it spans
    data_start: date = date(2026, 1, 1)
    data_days: int = 365
    #: average number of seeded calls per day, per vendor
    calls_per_day: int = 30
    #: length of the vendors' quota window in seconds (per minute, as documented); tests and
    #: benchmarks scale quotas down in time with a shorter one
    rate_window_seconds: float = 60.0

    # --- Avito CallTracking ---------------------------------------------------
    avito_client_id: str = "sandbox-client-id"
    avito_client_secret: str = "sandbox-client-secret"
    #: lifetime of an issued access token in seconds; later requests get 401
    avito_token_ttl: float = 3600.0
    #: requests per window per token and endpoint before 429 (X-RateLimit-* headers report it):
    #: getCalls and getCallById, and getRecordByCallId (the document's x-rate-limiter: 5 and 50)
    avito_rate_limit: int = 1000
    avito_record_rate_limit: int = 1000
    #: bytes of every recording (streamed, so hundreds of MB are fine); ``None``: 2-40 KB by talk time
    recording_size: int | None = None
    #: seconds after server start during which "late" recordings answer 425
    recording_delay: float = 2.0

    # --- CallKeeper -----------------------------------------------------------
    #: the 16-character API key that CallKeeper expects inside the URL
    callkeeper_api_key: str = "SANDBOXKEY000001"
    #: calls per page for v1 (documented default 1000) and v3
    callkeeper_v1_page_length: int = 1000
    callkeeper_v3_page_length: int = 500
    #: 16-character key of the role that grants access to another account's calls (v3 ``getByRole``
    #: takes this key, as the v3 document says; ``get`` / ``getWithRole`` take ``callkeeper_api_key``)
    callkeeper_role_api_key: str = "SANDBOXROLEKEY01"
    #: the "current date" a v3 request without ``to`` ends with; ``None`` means today's UTC date
    callkeeper_today: date | None = None

    # --- AutoCall.kz ------------------------------------------------------------
    #: the API key expected in ``Authorization: Bearer <key>``
    autocall_api_key: str = "sandbox-autocall-key-0001"
    #: requests per minute per key before 429 (the document's default)
    autocall_rate_limit: int = 300
    #: starting balance in tenge; a campaign or mailing reserves its ``max_cost`` until it ends
    autocall_balance: float = 100_000.0
    #: the account's tariff, one of the document's ``BRONZE`` / ``SILVER`` / ``GOLD`` (prices and the
    #: caller-id rental limit: 0 / 1 / 2 numbers)
    autocall_tariff: str = "BRONZE"
    #: tenge per SMS segment; ``None`` means the tariff's (BRONZE: 18)
    autocall_sms_price: float | None = None
    #: seconds a campaign or mailing spends in each of moderation, awaiting and running
    autocall_step_seconds: float = 1.0
    #: seconds a new sound or scenario stays in moderation before it is approved (or refused)
    autocall_moderation_seconds: float = 1.0
    #: seconds a campaign of more than 5,000 numbers (answered 202) takes to appear
    autocall_background_seconds: float = 1.0
    #: items per Laravel page (Laravel's default)
    autocall_per_page: int = 15
    #: a regular campaign with at least this many numbers and less audio than this is refused as spam (403)
    autocall_spam_min_numbers: int = 1000
    autocall_spam_max_audio_seconds: int = 5
    #: a LowBalance notification is sent when the balance falls below this
    autocall_low_balance_threshold: float = 100.0
    #: the flash-call limit's window (documented: 3 attempts per number in 5 minutes)
    autocall_flash_window_seconds: float = 300.0
    #: Almaty hours during which the public test call works (documented: 09:00-21:30)
    autocall_test_call_hours: tuple[str, str] = ("09:00:00", "21:30:00")
    #: numbers the public test call refuses with 403 (its blacklist)
    autocall_blacklisted_numbers: tuple[str, ...] = ("+77010000666",)
    #: seconds before an unverified confirmed number disappears (documented: 10 minutes)
    autocall_unconfirmed_ttl_seconds: float = 600.0
    #: seed the account with a finished history (a list, a sound, a scenario, two autocalls, a mailing)
    autocall_history: bool = True

    # --- Tele2 ATS --------------------------------------------------------------
    #: the initial pair, as an administrator copies it from the PBX web UI ("Generate token"):
    #: opaque strings, valid from server start; refreshes issue JWT-shaped pairs
    tele2_access_token: str = "sandbox-tele2-access-0001"
    tele2_refresh_token: str = "sandbox-tele2-refresh-0001"
    #: lifetimes in seconds of an access token (documented: 1 day) and a refresh token (7 days)
    tele2_access_ttl: float = 86400.0
    tele2_refresh_ttl: float = 604800.0
    #: seconds a click-to-call stays in /monitoring/calls before it becomes a call record
    tele2_click_to_call_seconds: float = 3.0
    #: issue refreshed pairs as opaque strings instead of the document's JWTs (a server whose tokens
    #: carry no ``exp``: the client can only learn of expiry from a 403)
    tele2_opaque_tokens: bool = False
