"""Where exports go: destination checks, atomic publish, and reading exports back.

Every export writes to a hidden temporary sibling (``.<name>.tmp-<uuid>``) and renames it over the
final name only after the last page was written and the file closed.  A failing page, a killed
task or a full disk therefore never leaves a file under the final name that looks complete; a
re-run of the same data interval overwrites the previous file instead of adding a second one.  The
formats themselves are written by ``core.writers``.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_telephony.core.errors import RequestValidationError

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

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


class AtomicFile:
    """A file written under a temporary sibling name and published over its real name only when
    complete (:meth:`publish`), or removed (:meth:`discard`).  Its methods are blocking: async code
    calls them through ``asyncio.to_thread``."""

    def __init__(self, path: ObjectStoragePath) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = path.parent / f"{temp_prefix(path.name)}{uuid.uuid4().hex[:12]}"
        self.fh: IO[bytes] = self.tmp.open("wb")

    def write(self, data: bytes) -> None:
        self.fh.write(data)

    def publish(self) -> None:
        self.fh.close()
        self.tmp.rename(self.path)

    def discard(self) -> None:
        try:
            self.fh.close()
            if self.tmp.exists():
                self.tmp.unlink()
        except Exception:  # cleanup is best effort; the error that matters is the caller's
            log.warning("could not remove temporary file %s", self.tmp, exc_info=True)


@contextmanager
def atomic_output(path: ObjectStoragePath) -> Iterator[IO[bytes]]:
    """Open a temporary sibling of ``path`` for writing; publish it over ``path`` only on success."""
    target = AtomicFile(path)
    try:
        yield target.fh
        target.publish()
    except BaseException:
        target.discard()
        raise


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


#: bytes read from a streamed body at a time
BODY_CHUNK = 256 * 1024


def _empty(what: str) -> Exception:
    from airflow_provider_telephony.core.errors import UnexpectedResponseError

    return UnexpectedResponseError(f"{what}: the answer has an empty body; nothing was saved")


def save_body(response: Any, path: ObjectStoragePath, what: str) -> int:
    """Stream an open HTTP response's body into ``path`` (published only when complete); its size.

    An empty body is refused (:class:`UnexpectedResponseError`, nothing published): a file that
    looks like a saved recording must hold one.
    """
    size = 0
    with atomic_output(path) as fh:
        for chunk in response.iter_bytes(BODY_CHUNK):
            fh.write(chunk)
            size += len(chunk)
        if not size:
            raise _empty(what)
    return size


async def asave_body(response: Any, path: ObjectStoragePath, what: str) -> int:
    """:func:`save_body` for async code: storage calls (they block) run in worker threads."""
    import asyncio

    out = await asyncio.to_thread(AtomicFile, path)
    size = 0
    try:
        async for chunk in response.aiter_bytes(BODY_CHUNK):
            await asyncio.to_thread(out.write, chunk)
            size += len(chunk)
        if not size:
            raise _empty(what)
        await asyncio.to_thread(out.publish)
    except BaseException:
        out.discard()
        raise
    return size
