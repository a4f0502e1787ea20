"""What an evidence bundle must prove before any of it is used.

A bundle may come from someone else (a colleague's run folder, a ticket attachment, a
bucket): its ``manifest.json`` and its Parquet files are untrusted input. Before a frame
reaches pandas,

* the manifest has the shape the kit writes (:func:`validate_manifest`): an object whose
  ``frames`` map safe names to entries; each entry names a **plain file name** inside the
  bundle (no folder, no ``..``, no absolute path), carries the **sha256** of that file and
  its **row count**; the context's window and lists have their types;
* the file is a regular file of the bundle (not a symlink) whose sha256 matches;
* its Parquet footer is read first (:func:`read_frame`): the rows it declares must equal
  the manifest's and stay within :class:`FrameLimits`, and so must its uncompressed bytes;
  its columns must be of the types the kit writes (text, numbers, booleans, times,
  durations);
* it is then decoded batch by batch, counting the bytes the batches take in memory: text
  that dictionary encoding compresses a millionfold (one 1,000-character line repeated a
  million times fits in a 34 KB file, and grew a kernel to 22 GB) is refused at the limit,
  before pandas sees it; a time outside what pandas holds (year 9999) is refused too.

Every refusal is one :class:`~incidentkit.errors.EvidenceError` line naming the frame and
what to do.

Example
-------
>>> FrameLimits(max_rows=10, max_bytes=1 << 20).max_rows
10
>>> parse_size("768MiB", name="INCIDENTKIT_MAX_FRAME_BYTES")
805306368
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import pyarrow as pa

from .errors import EvidenceError, ParameterError
from .schema import CATEGORY_COLUMNS, as_category

__all__ = [
    "FrameLimits",
    "DEFAULT_MAX_ROWS",
    "DEFAULT_MAX_BYTES",
    "MAX_MANIFEST_BYTES",
    "parse_size",
    "validate_manifest",
    "check_header",
    "read_manifest",
    "read_frame",
    "frame_file",
    "SAFE_NAME",
]

#: Rows one frame may hold when it is read into memory (``INCIDENTKIT_MAX_FRAME_ROWS``).
#: Five times the 1M events the benchmarks replay in one run.
DEFAULT_MAX_ROWS = 5_000_000
#: Bytes one frame may take in memory once decoded (``INCIDENTKIT_MAX_FRAME_BYTES``).
#: 1M benchmark events (~320-byte messages) take ~0.5 GB of Arrow memory and the kernel
#: ~3 GB more to parse and analyse them; text a frame holds is copied several times over
#: (a 1 GB frame of repeated text grew a kernel to 22 GB), so 768 MiB keeps one frame
#: within the memory of a 16 GB machine.
DEFAULT_MAX_BYTES = 768 * 2**20
#: A manifest larger than this is refused before it is parsed.
MAX_MANIFEST_BYTES = 64 * 2**20

#: Frame names (and so file stems): what :func:`incidentkit.evidence.frame_key` makes.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,150}")
_SAFE_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.parquet")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SIZE = re.compile(r"\s*(\d+)\s*([kmgt]i?b?|b)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
_BATCH_ROWS = 65_536


def parse_size(text: str, *, name: str) -> int:
    """A byte count from ``768MiB``, ``2G``, ``1048576`` (binary units); ParameterError otherwise."""
    m = _SIZE.fullmatch(str(text))
    if not m:
        raise ParameterError(f"{name}={text!r} is not a size; give bytes, or a number with K, M, G or T (e.g. 2G)")
    return int(m.group(1)) * _UNITS[(m.group(2) or "")[:1].lower()]


def _env_int(var: str, default: int, *, size: bool) -> int:
    raw = os.environ.get(var)
    if raw is None or not raw.strip():
        return default
    value = parse_size(raw, name=var) if size else _whole(raw, var)
    if value < 1:
        raise ParameterError(f"{var}={raw!r} must be at least 1")
    return value


def _whole(raw: str, var: str) -> int:
    try:
        return int(raw.replace("_", "").replace(",", ""))
    except ValueError:
        raise ParameterError(f"{var}={raw!r} is not a whole number") from None


@dataclass(frozen=True)
class FrameLimits:
    """How much of one frame the kit reads into memory.

    Parameters
    ----------
    max_rows:
        Rows a frame may declare.
    max_bytes:
        Bytes a frame may take once decoded (Arrow memory, before pandas).

    Example
    -------
    >>> FrameLimits.from_env().max_rows >= 1
    True
    """

    max_rows: int = DEFAULT_MAX_ROWS
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def from_env(cls) -> "FrameLimits":
        """The defaults, or ``INCIDENTKIT_MAX_FRAME_ROWS`` / ``INCIDENTKIT_MAX_FRAME_BYTES``."""
        return cls(
            max_rows=_env_int("INCIDENTKIT_MAX_FRAME_ROWS", DEFAULT_MAX_ROWS, size=False),
            max_bytes=_env_int("INCIDENTKIT_MAX_FRAME_BYTES", DEFAULT_MAX_BYTES, size=True),
        )


# -- the manifest --------------------------------------------------------------------------------


def read_manifest(path: Path, *, fmt: str) -> dict[str, Any]:
    """Read and validate ``manifest.json`` (size first, then JSON, then shape)."""
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise EvidenceError(
                f"evidence manifest is {size:,} bytes, more than {MAX_MANIFEST_BYTES:,}: not a manifest the kit wrote",
                path=str(path),
            )
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise EvidenceError(f"evidence manifest is unreadable: {_short(exc)}", path=str(path)) from None
    return validate_manifest(doc, where=str(path), fmt=fmt)


def validate_manifest(doc: Any, *, where: str, fmt: str = "incidentkit-evidence/1") -> dict[str, Any]:
    """Check that ``doc`` has the manifest's shape; return it.

    Raises
    ------
    EvidenceError
        One line naming the first thing wrong (a frame without sha256, a file outside the
        bundle, frames given as a list, a window that is not a pair of times...).

    Example
    -------
    >>> validate_manifest({"format": "incidentkit-evidence/1", "frames": []}, where="m.json")
    Traceback (most recent call last):
    incidentkit.errors.EvidenceError: m.json: 'frames' must be an object of frame name -> entry, not a list
    """
    if not isinstance(doc, dict):
        raise EvidenceError(f"{where} is not an evidence manifest: it holds a JSON {_json_type(doc)}, not an object")
    if doc.get("format") != fmt:
        raise EvidenceError(f"{where} is not an incidentkit evidence manifest (format {_short(doc.get('format'))!r})")
    frames = doc.get("frames")
    if not isinstance(frames, dict):
        raise EvidenceError(f"{where}: 'frames' must be an object of frame name -> entry, not a {_json_type(frames)}")
    context = doc.get("context", {})
    if not isinstance(context, dict):
        raise EvidenceError(f"{where}: 'context' must be an object, not a {_json_type(context)}")
    _check_context(context, where)
    files: dict[str, str] = {}
    for name, entry in frames.items():
        _check_entry(name, entry, where)
        other = files.setdefault(entry["file"], name)
        if other != name:
            raise EvidenceError(f"{where}: frames {other!r} and {name!r} name the same file {entry['file']!r}")
    return doc


def _check_entry(name: str, entry: Any, where: str) -> None:
    if not SAFE_NAME.fullmatch(name):
        raise EvidenceError(f"{where}: frame name {_short(name)!r} is not a safe name (letters, digits, '.', '_', '-')")
    if not isinstance(entry, dict):
        raise EvidenceError(f"{where}: frame {name!r} must be an object, not a {_json_type(entry)}")
    file = entry.get("file")
    if not isinstance(file, str) or not _SAFE_FILE.fullmatch(file):
        raise EvidenceError(
            f"{where}: frame {name!r} names the file {_short(file)!r}; a frame's file must be a plain .parquet "
            "file name inside the bundle (no folder, no '..', no absolute path)"
        )
    sha = entry.get("sha256")
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
        raise EvidenceError(
            f"{where}: frame {name!r} carries no sha256 of its file (64 hex digits); every frame must, so a changed "
            "or cut file is detected: re-record the evidence with incidentkit"
        )
    rows = entry.get("rows")
    if not _is_count(rows):
        raise EvidenceError(f"{where}: frame {name!r} has no row count ('rows' must be a whole number >= 0)")
    if not isinstance(entry.get("kind", ""), (str, type(None))):
        raise EvidenceError(f"{where}: frame {name!r} has a 'kind' that is not text")
    attrs = entry.get("attrs", {})
    if not isinstance(attrs, dict):
        raise EvidenceError(f"{where}: frame {name!r}: 'attrs' must be an object, not a {_json_type(attrs)}")
    _check_attrs(name, attrs, where)


#: Provenance keys the kit reads back, and the JSON types each may have.
_ATTR_TYPES: dict[str, tuple[type, ...]] = {
    "complete": (bool,),
    "truncated": (bool,),
    "interrupted": (bool,),
    "source": (str, type(None)),
    "region": (str, type(None)),
    "issues": (list,),
    "parse_stats": (dict, type(None)),
    "window": (dict, type(None)),
    "query": (dict, type(None)),
    "elapsed_s": (int, float, type(None)),
}
_ATTR_COUNTS = ("api_calls", "retries", "rows", "pages", "empty_pages", "duplicates")


def _check_attrs(name: str, attrs: Mapping[str, Any], where: str) -> None:
    for key, types in _ATTR_TYPES.items():
        if key in attrs and not isinstance(attrs[key], types):
            raise EvidenceError(f"{where}: frame {name!r}: attrs.{key} is a {_json_type(attrs[key])}, not what the kit writes")
    for key in _ATTR_COUNTS:
        if key in attrs and attrs[key] is not None and not _is_count(attrs[key]):
            raise EvidenceError(f"{where}: frame {name!r}: attrs.{key} must be a whole number >= 0")
    if not all(isinstance(i, str) for i in attrs.get("issues") or []):
        raise EvidenceError(f"{where}: frame {name!r}: attrs.issues must be a list of text")
    if isinstance(attrs.get("window"), dict):
        _check_window(attrs["window"], f"{where}: frame {name!r}: attrs.window")
    stats = attrs.get("parse_stats")
    if isinstance(stats, dict) and "errors" in stats and not _is_count(stats["errors"]):
        raise EvidenceError(f"{where}: frame {name!r}: attrs.parse_stats.errors must be a whole number >= 0")


_CONTEXT_TYPES: dict[str, tuple[type, ...]] = {
    "window": (dict, type(None)),
    "baseline": (dict, type(None)),
    "context": (dict, type(None)),
    "parameters": (dict, type(None)),
    "resources": (dict, type(None)),
    "issues": (list, type(None)),
    "health_frames": (list, type(None)),
    "sample": (str, type(None)),
    "region": (str, type(None)),
    "template": (str, type(None)),
}


def _check_context(context: Mapping[str, Any], where: str) -> None:
    for key, types in _CONTEXT_TYPES.items():
        if key in context and not isinstance(context[key], types):
            raise EvidenceError(f"{where}: context.{key} is a {_json_type(context[key])}, not what the kit writes")
    for key in ("window", "baseline", "context"):
        if isinstance(context.get(key), dict):
            _check_window(context[key], f"{where}: context.{key}")
    for key in ("issues", "health_frames"):
        if not all(isinstance(i, str) for i in context.get(key) or []):
            raise EvidenceError(f"{where}: context.{key} must be a list of text")


def _check_window(win: Mapping[str, Any], what: str) -> None:
    if not (isinstance(win.get("start"), str) and isinstance(win.get("end"), str)):
        raise EvidenceError(f"{what} must hold 'start' and 'end' as ISO-8601 text")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "list", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )


def _short(value: Any, limit: int = 80) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- one frame -------------------------------------------------------------------------------------


def frame_file(bundle: Path, name: str, entry: Mapping[str, Any]) -> Path:
    """The frame's file inside ``bundle``: a regular file there, not a link elsewhere."""
    file = bundle / str(entry["file"])
    if file.is_symlink():
        raise EvidenceError(f"evidence file {file.name} of frame {name!r} is a symbolic link; a bundle holds its own files",
                            path=str(file))
    if not file.is_file():
        raise EvidenceError(f"evidence file {file.name} of frame {name!r} is missing", path=str(file))
    return file


_DICTIONARY_TEXT = pa.dictionary(pa.int32(), pa.large_string())


def _allowed(field: pa.Field) -> bool:
    t = field.type
    if pa.types.is_dictionary(t):
        return pa.types.is_integer(t.index_type) and (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type))
    return (pa.types.is_null(t) or pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_floating(t)
            or pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_timestamp(t) or pa.types.is_duration(t)
            or (hasattr(pa.types, "is_string_view") and pa.types.is_string_view(t)))  # fmt: skip


def _target_schema(schema: pa.Schema, name: str, file: Path) -> pa.Schema:
    """The schema the frame is read into: times as ns UTC, dictionary text kept as dictionaries (the frame contract's
    ``category`` columns; the bytes counted are those of the codes and values held); refuses column types the kit never writes."""
    fields = []
    for field in schema:
        if not _allowed(field):
            raise EvidenceError(
                f"evidence frame {name!r}: column {_short(field.name)!r} is of type {field.type}; evidence columns hold "
                "text, numbers, booleans, times or durations",
                path=str(file),
            )
        if pa.types.is_timestamp(field.type):
            field = field.with_type(pa.timestamp("ns", tz="UTC"))
        elif pa.types.is_dictionary(field.type):
            # a column the frame contract stores as a category stays one (one code a row, each value once);
            # any other is decoded, so its bytes are counted as they will be used
            field = field.with_type(_DICTIONARY_TEXT if field.name in CATEGORY_COLUMNS else pa.large_string())
        fields.append(field)
    return pa.schema(fields, metadata=schema.metadata)


def _check_footer(meta: Any, name: str, file: Path, rows: int, limits: FrameLimits) -> None:
    declared = int(meta.num_rows)
    if declared != rows:
        raise EvidenceError(
            f"evidence frame {name!r} holds {declared:,} rows but its manifest says {rows:,}: the bundle was changed",
            path=str(file),
        )
    if declared > limits.max_rows:
        raise EvidenceError(
            f"evidence frame {name!r} holds {declared:,} rows, more than the limit of {limits.max_rows:,}; "
            "if you trust it, raise INCIDENTKIT_MAX_FRAME_ROWS",
            path=str(file),
        )
    packed = sum(meta.row_group(g).column(c).total_uncompressed_size
                 for g in range(meta.num_row_groups) for c in range(meta.num_columns))  # fmt: skip
    if packed > limits.max_bytes:
        raise EvidenceError(_too_big(name, packed, limits), path=str(file))


def _too_big(name: str, size: int, limits: FrameLimits) -> str:
    return (
        f"evidence frame {name!r} decodes to more than {size / 2**20:,.0f} MiB, over the limit of "
        f"{limits.max_bytes / 2**20:,.0f} MiB a frame; if you trust it, raise INCIDENTKIT_MAX_FRAME_BYTES (e.g. 4G)"
    )


def check_header(file: Path, *, name: str, rows: int, limits: FrameLimits) -> None:
    """What :func:`read_frame` checks before reading any data: a Parquet file whose footer declares
    ``rows`` rows within ``limits`` and only column types the kit writes.

    Raises
    ------
    EvidenceError
        As :func:`read_frame` does for the same faults.
    """
    import pyarrow.parquet as pq  # heavy; only needed when a frame is checked

    try:
        pf = pq.ParquetFile(file)
        _check_footer(pf.metadata, name, file, rows, limits)
        _target_schema(pf.schema_arrow, name, file)
    except EvidenceError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise EvidenceError(f"evidence frame {name!r} is not a readable Parquet file: {_short(exc, 160)}", path=str(file)) from None


def read_frame(file: Path, *, name: str, rows: int, limits: FrameLimits) -> pd.DataFrame:
    """Read a verified frame file within ``limits`` (footer first, then batch by batch).

    Timestamps come back as ``datetime64[ns, UTC]`` (a naive time means UTC).

    Raises
    ------
    EvidenceError
        The file is not Parquet, its rows differ from ``rows``, it exceeds a limit, a
        column has a type the kit never writes, or a time is outside pandas' range.
    """
    import pyarrow.parquet as pq  # heavy; only needed when a frame is read

    try:
        pf = pq.ParquetFile(file)
        _check_footer(pf.metadata, name, file, rows, limits)
        target = _target_schema(pf.schema_arrow, name, file)
        batches, used = [], 0
        for batch in pf.iter_batches(batch_size=_BATCH_ROWS):
            batch = _conform(batch, target, name, file)
            used += batch.nbytes
            if used > limits.max_bytes:
                raise EvidenceError(_too_big(name, used, limits), path=str(file))
            batches.append(batch)
        table = pa.Table.from_batches(batches, schema=target)
    except EvidenceError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise EvidenceError(f"evidence frame {name!r} is not a readable Parquet file: {_short(exc, 160)}", path=str(file)) from None
    if table.num_rows != rows:
        raise EvidenceError(f"evidence frame {name!r} read {table.num_rows:,} rows, not the {rows:,} it declares", path=str(file))
    try:
        frame = table.to_pandas()
    except (pa.ArrowException, ValueError, OverflowError) as exc:
        raise EvidenceError(f"evidence frame {name!r} cannot be turned into a table: {_short(exc, 160)}", path=str(file)) from None
    for column in CATEGORY_COLUMNS:  # an all-null dictionary reads back with object categories: str, as written
        if column in frame.columns and isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = as_category(frame[column])
    return frame


def _conform(batch: pa.RecordBatch, target: pa.Schema, name: str, file: Path) -> pa.RecordBatch:
    if batch.schema.equals(target, check_metadata=False):
        return batch
    columns = []
    for column, field in zip(batch.columns, target):
        if column.type.equals(field.type):
            columns.append(column)
            continue
        if pa.types.is_dictionary(column.type) and not pa.types.is_dictionary(field.type):
            columns.append(column.dictionary_decode().cast(field.type))
            continue
        try:
            columns.append(column.cast(field.type, safe=True))
        except pa.ArrowInvalid:
            raise EvidenceError(
                f"evidence frame {name!r}: column {_short(field.name)!r} holds a time outside 1677-09-21 .. 2262-04-11, "
                "the range the kit can represent",
                path=str(file),
            ) from None
    return pa.RecordBatch.from_arrays(columns, schema=target)

