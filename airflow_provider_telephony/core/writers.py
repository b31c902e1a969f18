"""Streaming writers from pages of records to a file, published atomically.

Formats: ``jsonl`` (default; one JSON object per line, each record exactly as the vendor sent it —
its own bytes when the page came as JSON: field names, values and time strings unchanged, unknown
fields kept), ``csv`` (the model's declared fields, in order; lists/objects as JSON
text) and ``parquet`` (needs the ``parquet`` extra; typed columns derived from the model, so a time
string becomes a UTC timestamp).  Memory stays flat: one page is held at a time (Parquet: one row
group of pages).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_telephony.core.records import Page, RecordSchema


@dataclass
class WriteStats:
    """What a writer produced."""

    records: int = 0
    bytes: int = 0


#: bytes collected before they are handed to the file (object-storage files cost per write call)
FLUSH_BYTES = 1 << 20


class RecordWriter(ABC):
    """Writes pages of records of one schema to an open binary file, in writes of about a MiB."""

    def __init__(self, fh: IO[bytes], schema: RecordSchema) -> None:
        self.fh = fh
        self.schema = schema
        self.stats = WriteStats()
        self._chunks: list[bytes] = []
        self._held = 0

    @abstractmethod
    def write(self, page: Page) -> None:
        """Append one page of records."""

    def _emit(self, data: bytes) -> None:
        self._chunks.append(data)
        self._held += len(data)
        self.stats.bytes += len(data)
        if self._held >= FLUSH_BYTES:
            self._flush_bytes()

    def _flush_bytes(self) -> None:
        if self._chunks:
            self.fh.write(b"".join(self._chunks))
            self._chunks, self._held = [], 0

    def close(self) -> None:
        """Write what is held, and format trailers (Parquet footer); the caller closes the file."""
        self._flush_bytes()


class JsonLinesWriter(RecordWriter):
    """One JSON object per line: each record as received (its bytes, joined in C)."""

    def write(self, page: Page) -> None:
        if not page:
            return
        self._emit(page.jsonl())
        self.stats.records += len(page)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


class CsvWriter(RecordWriter):
    """CSV with a header of the model's declared fields; nested values become JSON text."""

    def __init__(self, fh: IO[bytes], schema: RecordSchema) -> None:
        import csv
        import io

        super().__init__(fh, schema)
        self._buf = io.StringIO()
        self._csv = csv.writer(self._buf, lineterminator="\n")
        self._csv.writerow(schema.columns)
        self._flush()

    def _flush(self) -> None:
        data = self._buf.getvalue().encode()
        self._buf.seek(0)
        self._buf.truncate()
        self._emit(data)

    def write(self, page: Page) -> None:
        columns = self.schema.columns
        self._csv.writerows([_cell(record.get(name)) for name in columns] for record in page.records)
        self.stats.records += len(page)
        self._flush()


def arrow_type(annotation: Any) -> Any:
    """The Parquet type of a declared field: ints, floats, bools, strings, UTC timestamps, dates;
    anything else (lists, objects, unions of several types) is JSON text."""
    import datetime as dt

    import pyarrow as pa

    from airflow_provider_telephony.core.records import union_args

    members = [a for a in union_args(annotation) if a is not type(None)]
    if len(members) != 1:
        return pa.string()
    simple = {
        bool: pa.bool_(),
        int: pa.int64(),
        float: pa.float64(),
        str: pa.string(),
        dt.datetime: pa.timestamp("us", tz="UTC"),
        dt.date: pa.date32(),
    }
    return simple.get(members[0], pa.string())


def arrow_schema(schema: RecordSchema) -> Any:
    """A pyarrow schema for the model's declared fields."""
    import pyarrow as pa

    return pa.schema(
        [pa.field(name, arrow_type(annotation)) for name, annotation in schema.annotations.items()]
    )


def _arrow_column(values: list[Any], kind: Any) -> Any:
    """One column: as typed as the schema says; text sent for a number or a time is converted."""
    import pyarrow as pa

    if pa.types.is_string(kind):
        return pa.array(
            [v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values],
            type=kind,
        )
    try:
        return pa.array(values, type=kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string()).cast(kind)


class ParquetWriter(RecordWriter):
    """Typed columns; pages are buffered into row groups of ``ROW_GROUP`` rows (memory stays bounded)."""

    ROW_GROUP = 50_000

    def __init__(self, fh: IO[bytes], schema: RecordSchema) -> None:
        import pyarrow.parquet as pq

        super().__init__(fh, schema)
        self._schema = arrow_schema(schema)
        self._writer = pq.ParquetWriter(fh, self._schema, compression="zstd")
        self._pending: list[dict[str, Any]] = []

    def write(self, page: Page) -> None:
        self._pending.extend(page.records)
        self.stats.records += len(page)
        if len(self._pending) >= self.ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if not self._pending:
            return
        columns = [
            _arrow_column([record.get(field.name) for record in self._pending], field.type)
            for field in self._schema
        ]
        self._writer.write_table(pa.Table.from_arrays(columns, schema=self._schema))
        self._pending = []

    def close(self) -> None:
        self._flush()
        self._writer.close()
        super().close()


WRITERS: dict[str, type[RecordWriter]] = {
    "jsonl": JsonLinesWriter,
    "csv": CsvWriter,
    "parquet": ParquetWriter,
}


@contextmanager
def open_records(path: ObjectStoragePath, fmt: str, schema: RecordSchema) -> Iterator[RecordWriter]:
    """Stream pages of records into ``path`` in ``fmt``, published atomically on success."""
    from airflow_provider_telephony.core.storage import atomic_output, check_format

    fmt = check_format(fmt)
    with atomic_output(path) as fh:
        writer = WRITERS[fmt](fh, schema)
        yield writer
        writer.close()
    if fmt == "parquet":  # compressed size is only known once the footer is written
        writer.stats.bytes = path.stat().st_size
