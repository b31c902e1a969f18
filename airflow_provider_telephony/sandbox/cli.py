"""``telephony-sandbox``: run the local vendor emulator from a shell.

``telephony-sandbox serve --host 127.0.0.1 --port 0 [--seed N] [--faults PROFILE] ...`` prints, once
the server accepts requests::

    telephony-sandbox listening on http://127.0.0.1:40123
    avito client_id=sandbox-client-id client_secret=sandbox-client-secret
    callkeeper api_key=SANDBOXKEY000001
    autocall api_key=sandbox-autocall-key-0001 (host: <url>/api/v1)
    tele2 access_token=sandbox-tele2-access-0001 refresh_token=sandbox-tele2-refresh-0001 (host: <url>/crm/openapi)

The first line is the contract scripts rely on (``make demo`` reads it to find the port).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date

from airflow_provider_telephony.sandbox.config import SandboxConfig
from airflow_provider_telephony.sandbox.faults import PROFILES, parse_faults

LISTENING_PREFIX = "telephony-sandbox listening on "


def _faults(value: str) -> str:
    """argparse type: a valid fault profile or spec (checked now, not at the first request)."""
    try:
        parse_faults(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``telephony-sandbox`` argument parser."""
    defaults = SandboxConfig()
    parser = argparse.ArgumentParser(
        prog="telephony-sandbox", description="Local emulator of telephony APIs."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run the HTTP server until interrupted")
    run.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    run.add_argument("--seed", type=int, default=defaults.seed, help="seed of all generated data")
    run.add_argument(
        "--faults",
        type=_faults,
        default=None,
        help=f"fault profile ({', '.join(PROFILES)}) or spec like '500=0.1,429=0.05,reset=0.02'",
    )
    run.add_argument("--calls-per-day", type=int, default=defaults.calls_per_day)
    run.add_argument("--data-start", type=date.fromisoformat, default=defaults.data_start, help="YYYY-MM-DD")
    run.add_argument("--data-days", type=int, default=defaults.data_days)
    run.add_argument("--token-ttl", type=float, default=defaults.avito_token_ttl, help="Avito token seconds")
    run.add_argument(
        "--rate-limit",
        type=int,
        default=defaults.avito_rate_limit,
        help="Avito getCalls/getCallById requests per window",
    )
    run.add_argument(
        "--record-rate-limit",
        type=int,
        default=defaults.avito_record_rate_limit,
        help="Avito getRecordByCallId requests per window",
    )
    run.add_argument(
        "--recording-size", type=int, default=None, help="bytes of every Avito recording (streamed)"
    )
    run.add_argument(
        "--rate-window",
        type=float,
        default=defaults.rate_window_seconds,
        help="seconds of the vendors' quota window (60; smaller scales quotas down in time)",
    )
    run.add_argument(
        "--recording-delay",
        type=float,
        default=defaults.recording_delay,
        help="seconds after start during which 'late' recordings answer 425",
    )
    run.add_argument(
        "--tele2-access-ttl",
        type=float,
        default=defaults.tele2_access_ttl,
        help="Tele2 access token seconds (documented: 86400)",
    )
    run.add_argument(
        "--tele2-refresh-ttl",
        type=float,
        default=defaults.tele2_refresh_ttl,
        help="Tele2 refresh token seconds (documented: 604800)",
    )
    run.add_argument(
        "--autocall-step-seconds",
        type=float,
        default=defaults.autocall_step_seconds,
        help="AutoCall: seconds a campaign or mailing spends in moderation, awaiting and running",
    )
    run.add_argument(
        "--autocall-tariff",
        choices=("BRONZE", "SILVER", "GOLD"),
        default=defaults.autocall_tariff,
        help="AutoCall: the account's tariff (prices, caller-id rentals 0/1/2)",
    )
    run.add_argument(
        "--autocall-balance",
        type=float,
        default=defaults.autocall_balance,
        help="AutoCall: starting balance, tenge",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """Translate parsed options into a :class:`SandboxConfig`."""
    return SandboxConfig(
        seed=args.seed,
        faults=args.faults,
        data_start=args.data_start,
        data_days=args.data_days,
        calls_per_day=args.calls_per_day,
        avito_token_ttl=args.token_ttl,
        avito_rate_limit=args.rate_limit,
        avito_record_rate_limit=args.record_rate_limit,
        recording_size=args.recording_size,
        rate_window_seconds=args.rate_window,
        recording_delay=args.recording_delay,
        tele2_access_ttl=args.tele2_access_ttl,
        tele2_refresh_ttl=args.tele2_refresh_ttl,
        autocall_step_seconds=args.autocall_step_seconds,
        autocall_tariff=args.autocall_tariff,
        autocall_balance=args.autocall_balance,
    )


def credential_lines(config: SandboxConfig) -> list[str]:
    """The sandbox credentials, one vendor per line, as printed after the URL."""
    return [
        f"avito client_id={config.avito_client_id} client_secret={config.avito_client_secret}",
        f"callkeeper api_key={config.callkeeper_api_key}",
        f"autocall api_key={config.autocall_api_key} (host: <url>/api/v1)",
        f"tele2 access_token={config.tele2_access_token} refresh_token={config.tele2_refresh_token}"
        " (host: <url>/crm/openapi)",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``telephony-sandbox`` console script."""
    args = build_parser().parse_args(argv)
    config = config_from_args(args)

    def announce(url: str) -> None:
        print(f"{LISTENING_PREFIX}{url}", flush=True)
        for line in credential_lines(config):
            print(line, flush=True)

    from airflow_provider_telephony.sandbox.server import serve

    try:
        serve(config, host=args.host, port=args.port, on_ready=announce)
    except OSError as exc:
        print(f"telephony-sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
