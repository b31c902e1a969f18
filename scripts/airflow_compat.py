"""`make compat`: run the suite against the newest release of each older Airflow 3 series.

The package says ``apache-airflow>=3.1``; the main environment (``.venv``) runs the newest Airflow.
For each series given (default ``3.1 3.2``) this script keeps a uv environment ``.venv-airflow-<series>``
with the package installed editable and the newest ``apache-airflow`` of that series, and runs the
unit tests, the sandbox integration tests and the Avito example DAG in it.  An environment is
rebuilt when ``pyproject.toml`` changes; the Airflow version it got is printed.

Dependencies are resolved **as of that release** (``uv --exclude-newer`` one day after its upload):
an older Airflow is installed with its constraints file in practice, and resolving today's newest
libraries instead breaks it (Airflow 3.2.2 fails every task with today's cadwyn/fastapi/pydantic).
The release and its upload time come from the package index's JSON simple API; if the index does
not give them, the newest libraries are used and a warning is printed.

Usage: ``python scripts/airflow_compat.py [SERIES ...]``; exits non-zero if any series fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SERIES = ("3.1", "3.2")
TESTS = ("tests/unit", "tests/integration", "tests/sandbox", "tests/dags/test_example_avito.py")


def uv() -> list[str]:
    """The uv command (the Makefile installs uv with pip when it is missing)."""
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def upper_bound(series: str) -> str:
    major, minor = (int(part) for part in series.split("."))
    return f"{major}.{minor + 1}"


def newest_release(series: str) -> tuple[str, str] | None:
    """(version, upload time) of the newest final ``apache-airflow`` of ``series``, from the index."""
    index = (
        os.environ.get("UV_INDEX_URL") or os.environ.get("PIP_INDEX_URL") or "https://pypi.org/simple"
    ).rstrip("/")
    request = urllib.request.Request(
        f"{index}/apache-airflow/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            files = json.load(answer)["files"]
    except (OSError, ValueError, KeyError) as exc:
        print(f"warning: cannot read the index ({exc}); resolving the newest libraries", file=sys.stderr)
        return None
    pattern = re.compile(rf"apache_airflow-({re.escape(series)}\.(\d+))-py3-none-any\.whl$")
    found = [
        (int(m.group(2)), m.group(1), f.get("upload-time"))
        for f in files
        if (m := pattern.match(f.get("filename", ""))) and f.get("upload-time")
    ]
    if not found:
        return None
    _, version, uploaded = max(found)
    return version, uploaded


def ensure_env(series: str) -> Path:
    """The environment of one series, (re)built when pyproject.toml changed."""
    venv = ROOT / f".venv-airflow-{series}"
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    subprocess.run([*uv(), "venv", "--quiet", "--allow-existing", "-p", "python3", str(venv)], check=True)
    release = newest_release(series)
    if release is None:
        pins = [f"apache-airflow>={series},<{upper_bound(series)}"]
    else:
        version, uploaded = release
        as_of = datetime.fromisoformat(uploaded.replace("Z", "+00:00")) + timedelta(days=1)
        pins = [f"apache-airflow=={version}", "--exclude-newer", as_of.strftime("%Y-%m-%dT%H:%M:%SZ")]
    subprocess.run(
        [*uv(), "pip", "install", "--quiet", "-p", str(python), "-e", f"{ROOT}[dev]", *pins],
        check=True,
    )
    # PYTHONDONTWRITEBYTECODE=1 is set on these machines: compile once so airflow starts fast
    subprocess.run(
        [str(python), "-m", "compileall", "-q", "-j", "0", str(venv / "lib")],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stamp.write_text(digest)
    return python


def airflow_version(python: Path) -> str:
    code = "from importlib.metadata import version; print(version('apache-airflow'))"
    return subprocess.run(
        [str(python), "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()


def run_series(series: str) -> bool:
    started = time.monotonic()
    python = ensure_env(series)
    version = airflow_version(python)
    print(f"== Airflow {version} (series {series}) ==", flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS], cwd=ROOT, env=env, check=False
    )
    verdict = "passed" if result.returncode == 0 else "FAILED"
    print(f"== Airflow {version}: {verdict} in {time.monotonic() - started:.0f}s ==", flush=True)
    return result.returncode == 0


def main(argv: list[str]) -> int:
    series = argv or list(DEFAULT_SERIES)
    failed = [s for s in series if not run_series(s)]
    if failed:
        print(f"failed on Airflow series: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
