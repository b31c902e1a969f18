"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

Connection forms are declared here (``conn-fields`` / ``ui-field-behaviour``) rather than
through hook methods, so the Airflow UI renders them without importing any hook module.
Every secret is marked ``"format": "password"`` so the form masks it; guidance for custom
fields lives in their ``description`` because the UI shows placeholders for standard fields only.
"""

from __future__ import annotations

from typing import Any

_PKG = "airflow_provider_telephony"


def _common_extra_fields() -> dict[str, Any]:
    return {
        "timeout": {
            "label": "Timeout (seconds)",
            "description": "Timeout of each network operation (connect, each read) of a request. Default 30.",
            "schema": {"type": ["number", "null"], "default": 30},
        },
        "deadline": {
            "label": "Request deadline (seconds)",
            "description": "Time allowed for a whole request, connect to last byte (bounds a server that "
            "answers very slowly). Default 120.",
            "schema": {"type": ["number", "null"], "default": 120},
        },
        "ca_bundle": {
            "label": "CA bundle path",
            "description": "Path to a PEM file with extra CA certificates (corporate TLS proxy), trusted in "
            "addition to the default bundle. Leave empty for the default.",
            "schema": {"type": ["string", "null"]},
        },
        "rate_limit_per_minute": {
            "label": "Rate limit (requests per minute)",
            "description": "Your quota, if it differs from the vendor's documented one (a larger contract, or "
            "a share of a quota other systems use too). Requests are spread to stay under it; the "
            "server's X-RateLimit headers can only lower it. Empty: the documented default.",
            "schema": {"type": ["number", "null"]},
        },
        "max_retries": {
            "label": "Max retries",
            "description": "How many times an idempotent request is retried on 429/5xx/timeouts "
            "(0 to 20). Default 5.",
            "schema": {"type": ["integer", "null"], "default": 5},
        },
    }


def _conn_type(
    conn_type: str,
    hook: str,
    name: str,
    fields: dict[str, Any],
    hidden: list[str],
    relabel: dict[str, str],
    placeholders: dict[str, str],
) -> dict[str, Any]:
    return {
        "hook-class-name": f"{_PKG}.hooks.{hook}",
        "hook-name": name,
        "connection-type": conn_type,
        "conn-fields": {**fields, **_common_extra_fields()},
        "ui-field-behaviour": {
            "hidden-fields": hidden,
            "relabeling": relabel,
            "placeholders": placeholders,
        },
    }


def get_provider_info() -> dict[str, Any]:
    """Return the provider description Airflow expects (see ``provider_info.schema.json``)."""
    integrations = ["Avito CallTracking", "AutoCall.kz", "Tele2 ATS CRM", "CallKeeper"]
    return {
        "package-name": "airflow-provider-telephony",
        "name": "Telephony",
        "description": "Avito CallTracking, AutoCall.kz, Tele2 corporate PBX CRM OpenAPI and CallKeeper "
        "(ckct.ru) call tracking: hooks, operators, sensors and triggers.",
        "versions": [__import__(_PKG).__version__],
        "integrations": [{"integration-name": n, "tags": ["service"]} for n in integrations],
        "hooks": [
            {"integration-name": "Avito CallTracking", "python-modules": [f"{_PKG}.hooks.avito"]},
            {"integration-name": "AutoCall.kz", "python-modules": [f"{_PKG}.hooks.autocall"]},
            {"integration-name": "Tele2 ATS CRM", "python-modules": [f"{_PKG}.hooks.tele2"]},
            {"integration-name": "CallKeeper", "python-modules": [f"{_PKG}.hooks.callkeeper"]},
        ],
        "operators": [
            {"integration-name": "Avito CallTracking", "python-modules": [f"{_PKG}.operators.avito"]},
            {
                "integration-name": "AutoCall.kz",
                "python-modules": [
                    f"{_PKG}.operators.autocall",
                    f"{_PKG}.operators.autocall_contacts",
                    f"{_PKG}.operators.autocall_sms",
                ],
            },
            {
                "integration-name": "Tele2 ATS CRM",
                "python-modules": [f"{_PKG}.operators.tele2", f"{_PKG}.operators.tele2_sync"],
            },
            {"integration-name": "CallKeeper", "python-modules": [f"{_PKG}.operators.callkeeper"]},
        ],
        "sensors": [
            {"integration-name": "Avito CallTracking", "python-modules": [f"{_PKG}.sensors.avito"]},
            {"integration-name": "Tele2 ATS CRM", "python-modules": [f"{_PKG}.sensors.tele2"]},
            {"integration-name": "AutoCall.kz", "python-modules": [f"{_PKG}.sensors.autocall"]},
        ],
        "triggers": [
            {"integration-name": "Avito CallTracking", "python-modules": [f"{_PKG}.triggers.avito"]},
            {"integration-name": "Tele2 ATS CRM", "python-modules": [f"{_PKG}.triggers.tele2"]},
            {"integration-name": "AutoCall.kz", "python-modules": [f"{_PKG}.triggers.autocall"]},
        ],
        "connection-types": [
            _conn_type(
                "avito",
                "avito.AvitoHook",
                "Avito CallTracking",
                {},
                hidden=["schema", "port"],
                relabel={"host": "API base URL", "login": "Client ID", "password": "Client secret"},
                placeholders={
                    "host": "https://api.avito.ru (leave empty for the default)",
                    "login": "OAuth2 client_id from the Avito Pro cabinet",
                    "password": "OAuth2 client_secret",
                },
            ),
            _conn_type(
                "autocall",
                "autocall.AutoCallHook",
                "AutoCall.kz",
                {
                    "public_base_url": {
                        "label": "Public API base URL",
                        "description": "Only when the host does not end in /api/v1: the base of the public "
                        "API (tariffs, test call). Default: the host with /api/v1 replaced by /api/public.",
                        "schema": {"type": ["string", "null"]},
                    },
                },
                hidden=["schema", "port", "login"],
                relabel={"host": "API base URL", "password": "API key"},
                placeholders={
                    "host": "https://autocall.kz/api/v1 (leave empty for the default)",
                    "password": "API key from the AutoCall.kz cabinet (sent as Bearer token)",
                },
            ),
            _conn_type(
                "tele2_ats",
                "tele2.Tele2AtsHook",
                "Tele2 ATS CRM OpenAPI",
                {
                    "access_token": {
                        "label": "Access token",
                        "description": "Access token of the pair generated in the PBX web UI (profile "
                        "settings, 'Token API'). It rotates on every refresh; the newest pair is kept in "
                        "the token store, not here. Optional: without it the first request refreshes.",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                    "token_variable": {
                        "label": "Token store variable",
                        "description": "Airflow Variable that holds the rotating token pair (every worker "
                        "and the triggerer read it). Default: telephony_tele2_tokens_<conn_id>.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "token_file": {
                        "label": "Token store folder (one host)",
                        "description": "Instead of the Variable: a folder where the pair is kept as a "
                        "locked JSON file. Only for deployments whose tasks all run on one host.",
                        "schema": {"type": ["string", "null"]},
                    },
                },
                hidden=["schema", "port", "login"],
                relabel={"host": "API base URL", "password": "Refresh token"},
                placeholders={
                    "host": "https://ats2.tele2.ru/crm/openapi (leave empty for the default)",
                    "password": "Initial refresh token (valid 7 days)",
                },
            ),
            _conn_type(
                "callkeeper",
                "callkeeper.CallKeeperHook",
                "CallKeeper call tracking",
                {
                    "api_version": {
                        "label": "API version",
                        "description": "v3 (default) or v1.",
                        "schema": {"type": ["string", "null"], "enum": ["v3", "v1", None], "default": "v3"},
                    },
                    "role_api_key": {
                        "label": "Role API key",
                        "description": "Only for v3 getByRole: the API key issued for the role (ask your "
                        "CallKeeper manager), not the user's key. Leave empty otherwise.",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                },
                hidden=["schema", "port", "login"],
                relabel={"host": "API base URL", "password": "API key"},
                placeholders={
                    "host": "https://ckct.ru (leave empty for the default)",
                    "password": "16-character API key (it is placed in the URL and redacted from logs)",
                },
            ),
        ],
    }
