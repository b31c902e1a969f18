"""`make wheel-check`: install the built wheel, as a user would, and check that Airflow sees the provider.

Takes the wheel ``make dist`` built, installs it (not editable, with the ``parquet`` extra) into a
fresh uv environment in a temporary folder, then, with a throw-away ``AIRFLOW_HOME``:

* imports every module of the package from the installed copy (not from this checkout);
* runs ``airflow providers list`` and requires ``airflow-provider-telephony`` in it;
* runs ``telephony-sandbox --help`` (the console script the wheel installs).

Usage: ``python scripts/check_wheel.py dist/airflow_provider_telephony-<version>-py3-none-any.whl``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "airflow_provider_telephony"
DISTRIBUTION = "airflow-provider-telephony"

IMPORT_ALL = f"""
import importlib, pkgutil, sys
import {PACKAGE} as pkg
assert "site-packages" in pkg.__file__, pkg.__file__
names = [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")]
for name in names:
    importlib.import_module(name)
print(f"imported {{len(names) + 1}} modules from {{pkg.__file__}}")
"""


def uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return result.stdout


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].endswith(".whl"):
        raise SystemExit("usage: check_wheel.py <path to the built .whl>")
    wheel = Path(argv[0]).resolve()
    with tempfile.TemporaryDirectory(prefix="telephony-wheel-") as tmp:
        work = Path(tmp)
        venv = work / "venv"
        python = venv / "bin" / "python"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "VIRTUAL_ENV"))
        }
        env["AIRFLOW_HOME"] = str(work / "airflow-home")
        env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
        run([*uv(), "venv", "--quiet", "-p", "python3", str(venv)], env, work)
        run([*uv(), "pip", "install", "--quiet", "-p", str(python), f"{wheel}[parquet]"], env, work)
        # run from the temporary folder so that this checkout is not on sys.path
        print(run([str(python), "-c", IMPORT_ALL], env, work).strip())
        providers = run([str(venv / "bin" / "airflow"), "providers", "list", "-o", "plain"], env, work)
        if DISTRIBUTION not in providers:
            sys.stderr.write(providers)
            raise SystemExit(f"{DISTRIBUTION} is missing from `airflow providers list`")
        print(f"airflow providers list: {DISTRIBUTION} found")
        run([str(venv / "bin" / "telephony-sandbox"), "--help"], env, work)
        print("telephony-sandbox --help: ok")
    print(f"wheel check passed: {wheel.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
