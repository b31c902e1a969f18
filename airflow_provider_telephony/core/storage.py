"""Streaming writers from pages of pydantic models to an ``ObjectStoragePath``, published atomically.

Every export writes to a hidden temporary sibling (``.<name>.tmp-<uuid>``) and renames it over the
final name only after the last page was written and the file closed.  A failing page, a killed
task or a full disk therefore never leaves a file under the final name that looks complete; a
re-run of the same data interval overwrites the previous file instead of adding a second one.

Formats: ``jsonl`` (default; one JSON object per line, by the vendor's field names, unknown fields
kept), ``csv`` (the model's declared fields, in order; lists/objects as JSON text) and ``parquet``
(needs the ``parquet`` extra; typed columns derived from the model).  Memory stays flat: only one
page is held at a time.
"""

from __future__ import annotations

import json
import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_telephony.core.errors import RequestValidationError

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath
    from pydantic import BaseModel

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv", "parquet")
EXTENSIONS = {"jsonl": ".jsonl", "csv": ".csv", "parquet": ".parquet"}


def check_format(fmt: str) -> str:
    """Normalise and validate an output format name; raises before anything is written."""
    normalised = (fmt or "").strip().lower()
    if normalised == "json":
        normalised = "jsonl"
    if normalised not in FORMATS:
        raise RequestValidationError("output_format", f"must be one of {', '.join(FORMATS)}", value=fmt)
    if normalised == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise RequestValidationError(
                "output_format",
                "parquet needs pyarrow: pip install 'airflow-provider-telephony[parquet]'",
                value=fmt,
            ) from None
    return normalised


def as_storage_path(path: str | ObjectStoragePath) -> ObjectStoragePath:
    """Accept a URL (``s3://…``, ``file:///…``) or a plain local path and return an ObjectStoragePath."""
    from airflow.sdk import ObjectStoragePath

    if isinstance(path, ObjectStoragePath):
        return path
    text = str(path)
    if "://" not in text:
        import os

        text = "file://" + os.path.abspath(text)
    return ObjectStoragePath(text)


@dataclass
class WriteStats:
    """What a writer produced."""

    records: int = 0
    bytes: int = 0


class RecordWriter(ABC):
    """Writes pages of models of one type to an open binary file."""

    def __init__(self, fh: IO[bytes], model: type[BaseModel]) -> None:
        self.fh = fh
        self.model = model
        self.stats = WriteStats()

    @abstractmethod
    def write(self, records: Sequence[BaseModel]) -> None:
        """Append one page of records."""

    def close(self) -> None:  # noqa: B027 - optional hook, most formats need no trailer
        """Flush format trailers (Parquet footer); the file itself is closed by the caller."""


class JsonLinesWriter(RecordWriter):
    """One compact JSON object per line, serialised by pydantic-core (no per-field Python work)."""

    def write(self, records: Sequence[BaseModel]) -> None:
        if not records:
            return
        to_json = self.model.__pydantic_serializer__.to_json
        chunk = b"\n".join([to_json(r, by_alias=True) for r in records]) + b"\n"
        self.fh.write(chunk)
        self.stats.records += len(records)
        self.stats.bytes += len(chunk)


def _columns(model: type[BaseModel]) -> list[tuple[str, str]]:
    """(attribute name, output name) of the model's declared fields, in declaration order."""
    return [(name, info.alias or name) for name, info in model.model_fields.items()]


class CsvWriter(RecordWriter):
    """CSV with a header of the model's declared fields; nested values become JSON text."""

    def __init__(self, fh: IO[bytes], model: type[BaseModel]) -> None:
        import csv
        import io

        super().__init__(fh, model)
        self._cols = _columns(model)
        self._buf = io.StringIO()
        self._csv = csv.writer(self._buf, lineterminator="\n")
        self._csv.writerow([out for _, out in self._cols])
        self._flush()

    def _flush(self) -> None:
        data = self._buf.getvalue().encode()
        self._buf.seek(0)
        self._buf.truncate()
        self.fh.write(data)
        self.stats.bytes += len(data)

    def write(self, records: Sequence[BaseModel]) -> None:
        for record in records:
            row = record.model_dump(mode="json", by_alias=True)
            self._csv.writerow([_csv_cell(row.get(out)) for _, out in self._cols])
        self.stats.records += len(records)
        self._flush()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def arrow_schema(model: type[BaseModel]) -> Any:
    """A pyarrow schema for the model's declared fields (datetimes as UTC timestamps)."""
    import datetime as dt
    import types
    import typing

    import pyarrow as pa

    def arrow_type(annotation: Any) -> Any:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            return arrow_type(args[0]) if len(args) == 1 else pa.string()
        simple = {
            bool: pa.bool_(),
            int: pa.int64(),
            float: pa.float64(),
            str: pa.string(),
            dt.datetime: pa.timestamp("us", tz="UTC"),
            dt.date: pa.date32(),
        }
        return simple.get(annotation, pa.string())

    return pa.schema(
        [
            pa.field(info.alias or name, arrow_type(info.annotation))
            for name, info in model.model_fields.items()
        ]
    )


class ParquetWriter(RecordWriter):
    """Typed columns; pages are buffered into row groups of ``ROW_GROUP`` rows (memory stays bounded)."""

    ROW_GROUP = 50_000

    def __init__(self, fh: IO[bytes], model: type[BaseModel]) -> None:
        import pyarrow.parquet as pq

        super().__init__(fh, model)
        self._schema = arrow_schema(model)
        self._writer = pq.ParquetWriter(fh, self._schema, compression="zstd")
        self._columns: dict[str, list[Any]] = {name: [] for name in self._schema.names}
        self._buffered = 0

    def write(self, records: Sequence[BaseModel]) -> None:
        names = self._schema.names
        for record in records:
            row = record.model_dump(by_alias=True)
            for name in names:
                value = row.get(name)
                if isinstance(value, list | dict):
                    value = json.dumps(value, ensure_ascii=False, default=str)
                self._columns[name].append(value)
        self._buffered += len(records)
        self.stats.records += len(records)
        if self._buffered >= self.ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self._buffered:
            self._writer.write_table(pa.Table.from_pydict(self._columns, schema=self._schema))
            self._columns = {name: [] for name in self._schema.names}
            self._buffered = 0

    def close(self) -> None:
        self._flush()
        self._writer.close()


_WRITERS: dict[str, type[RecordWriter]] = {
    "jsonl": JsonLinesWriter,
    "csv": CsvWriter,
    "parquet": ParquetWriter,
}


@contextmanager
def atomic_output(path: ObjectStoragePath) -> Iterator[IO[bytes]]:
    """Open a temporary sibling of ``path`` for writing; publish it over ``path`` only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:12]}"
    try:
        with tmp.open("wb") as fh:
            yield fh
        tmp.rename(path)
    except BaseException:
        try:
            if tmp.exists():
                tmp.unlink()
        except Exception:  # pragma: no cover - cleanup is best effort; the error that matters is raised
            log.warning("could not remove temporary file %s", tmp, exc_info=True)
        raise


@contextmanager
def open_records(path: ObjectStoragePath, fmt: str, model: type[BaseModel]) -> Iterator[RecordWriter]:
    """Stream pages of ``model`` records into ``path`` in ``fmt``, published atomically on success."""
    fmt = check_format(fmt)
    with atomic_output(path) as fh:
        writer = _WRITERS[fmt](fh, model)
        yield writer
        writer.close()
    if fmt == "parquet":  # compressed size is only known once the footer is written
        writer.stats.bytes = path.stat().st_size


def read_records(path: str | ObjectStoragePath) -> Iterator[dict[str, Any]]:
    """Stream records back from a file this module wrote (format taken from the extension).

    CSV cells come back as text (empty cell -> ``None``); JSON Lines and Parquet keep their types.
    """
    target = as_storage_path(path)
    suffix = target.name.rsplit(".", 1)[-1].lower()
    if suffix in ("jsonl", "json", "ndjson"):
        with target.open("rb") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)
    elif suffix == "csv":
        import csv
        import io

        with target.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
            for row in csv.DictReader(text):
                yield {k: (v if v != "" else None) for k, v in row.items()}
    elif suffix == "parquet":
        import pyarrow.parquet as pq

        with target.open("rb") as fh:
            for batch in pq.ParquetFile(fh).iter_batches(batch_size=10_000):
                yield from batch.to_pylist()
    else:
        raise RequestValidationError("path", "must end in .jsonl, .csv or .parquet", value=str(path))
