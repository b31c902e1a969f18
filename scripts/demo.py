"""`make demo`: run every example DAG against a local sandbox and show what it produced.

Starts the sandbox on a free loopback port, creates a throw-away Airflow home (SQLite), points the
connections at the sandbox, runs ``airflow dags test <dag> 2026-06-15`` for each
``example_dags/example_*.py`` (the file name is the DAG id), and prints the files each run wrote.
Outputs go to ``$TELEPHONY_OUTPUT_ROOT`` when set, else to a fresh folder under the system temp dir.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from airflow_provider_telephony.sandbox import SandboxConfig, run_sandbox
from airflow_provider_telephony.sandbox.dagtest import airflow_env, run_dag_test

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "example_dags"
LOGICAL_DATE = "2026-06-15"


def _describe(folder: Path) -> list[str]:
    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        size = path.stat().st_size
        extra = ""
        if path.suffix in (".jsonl", ".csv"):
            rows = sum(1 for _ in path.open("rb")) - (1 if path.suffix == ".csv" else 0)
            extra = f", {rows} records"
        lines.append(f"    {path.relative_to(folder)}  ({size:,} bytes{extra})")
    return lines


def _summarise_recordings(lines: list[str]) -> list[str]:
    """Collapse long runs of files of one kind in one folder (recordings, transcripts) to a count."""
    groups: dict[tuple[str, str], list[str]] = {}
    for line in lines:
        name = line.strip().split("  (", 1)[0]
        folder, _, base = name.rpartition("/")
        groups.setdefault((folder, base.rpartition(".")[2]), []).append(line)
    out = []
    for (folder, suffix), members in groups.items():
        if len(members) <= 3:
            out.extend(members)
            continue
        total = sum(int(m.rsplit("(", 1)[1].split(" ")[0].replace(",", "")) for m in members)
        out.append(f"    {folder}/*.{suffix}  ({len(members)} files, {total:,} bytes)")
    return out


def main() -> int:
    out_root = os.environ.get("TELEPHONY_OUTPUT_ROOT")
    work = Path(tempfile.mkdtemp(prefix="telephony-demo-"))
    out_dir = Path(out_root.removeprefix("file://")) if out_root else work / "output"
    dag_ids = sorted(p.stem for p in DAGS.glob("example_*.py"))
    # a few recordings answer "not ready" for the first seconds, so the sensor really defers
    # Tele2 access tokens expire every 5 s: the runs rotate the pair through the token store
    config = SandboxConfig(recording_delay=4.0, tele2_access_ttl=5.0)
    failed = []
    print(f"demo: Airflow home {work / 'airflow'}; outputs under {out_dir}")
    with run_sandbox(config) as url:
        print(f"demo: sandbox listening on {url}")
        env = airflow_env(
            work / "airflow",
            dags_folder=DAGS,
            sandbox_url=url,
            config=config,
            extra={"TELEPHONY_OUTPUT_ROOT": f"file://{out_dir}", "TELEPHONY_POKE_INTERVAL": "2"},
        )
        for dag_id in dag_ids:
            started = time.monotonic()
            result = run_dag_test(dag_id, LOGICAL_DATE, env)
            took = time.monotonic() - started
            status = "succeeded" if result.ok else "FAILED"
            print(f"\n== {dag_id} {LOGICAL_DATE}: {status} in {took:.1f}s")
            if not result.ok:
                failed.append(dag_id)
                print(result.output[-4000:])
                continue
            for line in result.output.splitlines():
                if " summary: " in line and "Returned value" not in line:
                    print("  " + line.strip())
    print(f"\nfiles under {out_dir}:")
    print("\n".join(_summarise_recordings(_describe(out_dir))) or "    (none)")
    if failed:
        print(f"\ndemo: {len(failed)} example DAG(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"\ndemo: {len(dag_ids)} example DAG(s) ran against the sandbox")
    return 0


if __name__ == "__main__":
    sys.exit(main())
