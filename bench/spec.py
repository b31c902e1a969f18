"""What the orchestrator hands to one contender run, and what the run hands back (both JSON)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: connection id the provider contenders use (``AIRFLOW_CONN_AVITO_BENCH`` in their environment)
CONN_ID = "avito_bench"


@dataclass(frozen=True)
class RunSpec:
    """One export: sandbox URL, credentials, the half-open window ``[start, end)`` and the output file."""

    url: str
    client_id: str
    client_secret: str
    start: str  # ISO 8601 with offset, whole seconds
    end: str
    output: str
    conn_id: str = CONN_ID

    @property
    def start_dt(self) -> datetime:
        return datetime.fromisoformat(self.start)

    @property
    def end_dt(self) -> datetime:
        return datetime.fromisoformat(self.end)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        return cls(**json.loads(text))


@dataclass
class RunResult:
    """Measurements of one contender run in its own process.

    ``wall_s`` and ``cpu_s`` cover the export only (connection lookup, token, every page, the file);
    imports are ``setup_s``.  ``rss_growth_mib`` is peak RSS during the export minus RSS before it;
    ``py_peak_mib`` is the tracemalloc peak (only in a ``--tracemalloc`` run, which is not timed).
    """

    contender: str
    records: int
    wall_s: float
    cpu_s: float
    setup_s: float
    rss_growth_mib: float
    py_peak_mib: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        return cls(**json.loads(text))
