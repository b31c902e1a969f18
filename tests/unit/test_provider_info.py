"""Provider metadata: valid against Airflow's schema, declarative connection forms, cheap imports."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import airflow
import jsonschema
import pytest

from airflow_provider_telephony import get_provider_info

INFO = get_provider_info()


def test_provider_info_matches_airflow_schema() -> None:
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(INFO, schema)


def test_four_connection_types_with_forms() -> None:
    types = {c["connection-type"]: c for c in INFO["connection-types"]}
    assert set(types) == {"avito", "autocall", "tele2_ats", "callkeeper"}
    for conn in types.values():
        behaviour = conn["ui-field-behaviour"]
        assert "schema" in behaviour["hidden-fields"] and "port" in behaviour["hidden-fields"]
        assert behaviour["relabeling"]["host"] == "API base URL"
        assert "password" in behaviour["relabeling"]
        for name, field in conn["conn-fields"].items():
            assert field["label"] and "schema" in field, name
    assert types["avito"]["ui-field-behaviour"]["relabeling"]["login"] == "Client ID"
    assert types["tele2_ats"]["conn-fields"]["access_token"]["schema"]["format"] == "password"


@pytest.mark.parametrize("conn", INFO["connection-types"], ids=lambda c: c["connection-type"])
def test_hook_classes_import(conn: dict[str, str]) -> None:
    module, _, name = conn["hook-class-name"].rpartition(".")
    hook = getattr(importlib.import_module(module), name)
    assert hook.conn_type == conn["connection-type"]


def test_every_listed_module_imports() -> None:
    for section in ("hooks", "operators", "sensors", "triggers"):
        for entry in INFO.get(section, []):
            for module in entry["python-modules"]:
                importlib.import_module(module)


def test_airflow_lists_the_provider(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "list", "-o", "json"],
        env={"AIRFLOW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = [p["package_name"] for p in json.loads(out[out.index("[") :])]
    assert "airflow-provider-telephony" in names


def test_operator_modules_import_cheaply() -> None:
    heavy = ("pyarrow", "starlette", "uvicorn", "airflow_provider_telephony.sandbox.app")
    code = (
        "import sys, airflow.sdk; before = set(sys.modules);"
        "import airflow_provider_telephony.operators.avito, airflow_provider_telephony.sensors.avito,"
        " airflow_provider_telephony.operators.callkeeper;"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules and m not in before))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"importing operators pulled in {out}"
