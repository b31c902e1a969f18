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
#: the file name endings each format may be written under (the first is the canonical one)
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "jsonl": (".jsonl", ".json", ".ndjson"),
    "csv": (".csv",),
    "parquet": (".parquet",),
}
TEMP_MARK = ".tmp-"


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


def temp_prefix(name: str) -> str:
    """Start of the name of every temporary sibling written for the file ``name``."""
    return f".{name}{TEMP_MARK}"


def _unusable(field: str, rule: str, value: Any) -> RequestValidationError:
    return RequestValidationError(field, rule, value=str(value))


def check_output_path(path: Any, fmt: str, *, field: str = "output_path") -> ObjectStoragePath:
    """Validate an export's destination before any request, and make it ready to be written.

    It must name a file (not empty, not ending in ``/``, not an existing folder) whose extension
    matches ``fmt`` (a CSV under a ``.jsonl`` name would mislead every reader downstream), in a
    folder that exists or can be created.  Temporary files a killed earlier run of the same output
    left behind are removed.  Returns the path as an ``ObjectStoragePath``.
    """
    text = "" if path is None else str(path).strip()
    if not text:
        raise RequestValidationError(field, "must name a file, got an empty path")
    if text.endswith(("/", "\\")):
        raise _unusable(field, "must name a file, not a folder (it ends with '/')", text)
    target = as_storage_path(text)
    name = target.name
    if name in ("", ".", "..") or (name.startswith(".") and TEMP_MARK in name):
        raise _unusable(field, "must name a file", text)
    extensions = EXTENSIONS[fmt]
    if not name.lower().endswith(extensions):
        raise _unusable(field, f"must end in {' or '.join(extensions)} for output_format {fmt!r}", text)
    try:
        if target.is_dir():
            raise _unusable(field, "is an existing folder; name a file inside it", text)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.parent.is_dir():
            raise _unusable(field, "its folder is a file", text)
    except OSError as exc:
        raise _unusable(field, f"its folder cannot be created ({type(exc).__name__}: {exc})", text) from None
    remove_stale_temps(target.parent, temp_prefix(name))
    return target


def check_output_folder(path: Any, *, field: str = "destination") -> ObjectStoragePath:
    """Validate (and create) a folder files are downloaded into; stale temporary files are removed."""
    text = "" if path is None else str(path).strip()
    if not text:
        raise RequestValidationError(field, "must name a folder, got an empty path")
    folder = as_storage_path(text)
    try:
        if folder.exists() and not folder.is_dir():
            raise _unusable(field, "is an existing file, not a folder", text)
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unusable(field, f"cannot be created ({type(exc).__name__}: {exc})", text) from None
    remove_stale_temps(folder, ".")
    return folder


def remove_stale_temps(folder: ObjectStoragePath, prefix: str) -> int:
    """Delete temporary siblings (``<prefix>…tmp-…``) a killed run left in ``folder``; return how many.

    Best effort: a failure to list or delete is logged, never raised (the export itself can go on).
    """
    removed = 0
    try:
        for entry in folder.iterdir():
            entry_name = entry.name
            if entry_name.startswith(prefix) and TEMP_MARK in entry_name:
                entry.unlink()
                removed += 1
    except (OSError, ValueError):
        log.warning("could not clean temporary files in %s", folder, exc_info=True)
    if removed:
        log.info("removed %d temporary file(s) an earlier, interrupted run left in %s", removed, folder)
    return removed


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
    tmp = path.parent / f"{temp_prefix(path.name)}{uuid.uuid4().hex[:12]}"
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


def read_records(path: str | ObjectStoragePath, *, field: str = "path") -> Iterator[dict[str, Any]]:
    """Stream records back from a file this module wrote (format taken from the extension).

    CSV cells come back as text (empty cell -> ``None``); JSON Lines and Parquet keep their types.
    A missing file, an unknown extension or content that is not records of that format raises
    :class:`RequestValidationError` naming ``field`` (the argument the path came from) and the line.
    """
    target = as_storage_path(path)
    shown = str(path)
    suffix = "." + target.name.rsplit(".", 1)[-1].lower() if "." in target.name else ""
    known = [ext for exts in EXTENSIONS.values() for ext in exts]
    if suffix not in known:
        raise _unusable(field, f"must end in {', '.join(known)}", shown)
    try:
        if not target.is_file():
            raise _unusable(field, "no such file", shown)
        if suffix in EXTENSIONS["jsonl"]:
            yield from _read_jsonl(target, field, shown)
        elif suffix == ".csv":
            yield from _read_csv(target, field, shown)
        else:
            yield from _read_parquet(target, field, shown)
    except OSError as exc:
        raise _unusable(field, f"cannot be read ({type(exc).__name__})", shown) from None


def _read_jsonl(target: ObjectStoragePath, field: str, shown: str) -> Iterator[dict[str, Any]]:
    with target.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise _unusable(
                    field, f"line {number} is not JSON (is this a JSON Lines export?)", shown
                ) from None
            if not isinstance(record, dict):
                raise _unusable(field, f"line {number} is not a JSON object", shown)
            yield record


def _read_csv(target: ObjectStoragePath, field: str, shown: str) -> Iterator[dict[str, Any]]:
    import csv
    import io

    try:
        with target.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
            for row in csv.DictReader(text):
                yield {k: (v if v != "" else None) for k, v in row.items()}
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _unusable(field, f"is not a UTF-8 CSV file ({type(exc).__name__})", shown) from None


def _read_parquet(target: ObjectStoragePath, field: str, shown: str) -> Iterator[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with target.open("rb") as fh:
            for batch in pq.ParquetFile(fh).iter_batches(batch_size=10_000):
                yield from batch.to_pylist()
    except pa.ArrowException as exc:
        raise _unusable(field, f"is not a Parquet file ({type(exc).__name__})", shown) from None
