"""Evidence bundles: every fetched frame pinned on disk so a report can be re-run offline.

A bundle is a folder::

    evidence/
      manifest.json          what each frame is: the exact query, window, region, API calls,
                             retries, rows, completeness/truncation, sha256 of its file
      <name>.parquet         one file per frame (text masked: see incidentkit.masking)

The manifest is rewritten atomically after each frame, and always last: a bundle whose
manifest lists a frame has that frame's file complete on disk (the sha256 proves it).
Folders are created ``0700`` and files ``0600``: evidence holds production data.

Frame names come from :func:`frame_key`, a readable slug plus a short hash of the query,
so the same request in a replay finds the same frame.

Example
-------
>>> import pandas as pd, tempfile
>>> from incidentkit.evidence import EvidenceBundle, frame_key
>>> bundle = EvidenceBundle(tempfile.mkdtemp())
>>> key = frame_key("logs", log_groups=["/aws/lambda/api"], start="2026-03-01T03:00:00Z")
>>> key.startswith("logs-aws-lambda-api-")
True
>>> _ = bundle.record(key, pd.DataFrame({"x": [1, 2]}))
>>> bundle.load(key)["x"].tolist()
[1, 2]
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

import pandas as pd

from ._util.fmt import now_iso as _now_iso
from .errors import EvidenceError
from .evidence_checks import SAFE_NAME, FrameLimits, check_header, frame_file, read_frame, read_manifest
from .masking import mask_frame, mask_obj, rules_fingerprint

__all__ = ["EvidenceBundle", "FrameLimits", "frame_key", "MANIFEST", "FORMAT", "sha256_file", "atomic_write_text",
           "copy_bundle"]

MANIFEST = "manifest.json"
FORMAT = "incidentkit-evidence/1"
_SLUG = re.compile(r"[^a-z0-9]+")


def frame_key(kind: str, **query: Any) -> str:
    """A stable, readable frame name for a request: ``<kind>-<slug>-<hash8>``.

    The slug is made from the most telling values (log groups, resource names); the hash
    covers the whole query, so two different requests never share a name.

    Example
    -------
    >>> frame_key("metrics", function_name="api", preset="lambda")[:18]
    'metrics-api-lambda'
    """
    canon = json.dumps(query, sort_keys=True, default=str, separators=(",", ":"))
    digest = hashlib.sha256(f"{kind}|{canon}".encode()).hexdigest()[:8]
    parts: list[str] = []
    for key in sorted(query):
        if key in ("start", "end", "window", "baseline", "period"):
            continue
        value = query[key]
        if isinstance(value, (list, tuple)):
            parts.extend(str(v) for v in value[:2])
        elif isinstance(value, (str, int)) and not isinstance(value, bool):
            parts.append(str(value))
    slug = _SLUG.sub("-", "-".join(parts).lower()).strip("-")[:48].strip("-")
    return f"{kind}-{slug}-{digest}" if slug else f"{kind}-{digest}"


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write_text(path: str | os.PathLike[str], text: str, *, mode: int = 0o600) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace`` (never half-written)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _jsonable(obj: Any) -> Any:
    """Make attrs JSON-able (timestamps to ISO, numpy scalars to Python)."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (pd.Timestamp, _dt.datetime)):
        return pd.Timestamp(obj).isoformat()
    if hasattr(obj, "to_dict") and hasattr(obj, "start"):
        return obj.to_dict()
    if hasattr(obj, "item") and callable(obj.item):
        try:
            return obj.item()
        except (ValueError, TypeError):
            return str(obj)
    if isinstance(obj, float) and obj != obj:
        return None
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def _flatten_objects(df: pd.DataFrame) -> pd.DataFrame:
    """Parquet wants flat columns: nested dicts/lists become JSON text."""
    out = df
    for col in df.columns:
        if df[col].dtype == object:
            sample = df[col].dropna().head(50)
            if any(isinstance(v, (dict, list, tuple)) for v in sample):
                if out is df:
                    out = df.copy()
                out[col] = df[col].map(
                    lambda v: json.dumps(_jsonable(v), sort_keys=True) if isinstance(v, (dict, list, tuple)) else v
                )
    return out


class EvidenceBundle:
    """A folder of Parquet frames plus ``manifest.json``.

    Parameters
    ----------
    path:
        The bundle folder (created ``0700`` when missing and ``create`` is true).
    create:
        Create the folder and an empty manifest when missing (default). With ``False``
        a missing bundle raises :class:`~incidentkit.errors.EvidenceError`.
    limits:
        How many rows and decoded bytes :meth:`load` reads of one frame (default
        :meth:`FrameLimits.from_env`: 5M rows, 768 MiB, or ``INCIDENTKIT_MAX_FRAME_ROWS`` /
        ``INCIDENTKIT_MAX_FRAME_BYTES``).

    An existing manifest is validated when the bundle is opened
    (:func:`incidentkit.evidence_checks.validate_manifest`): every frame names a plain file
    of the bundle and carries its sha256 and row count, or nothing of the bundle is used.

    Example
    -------
    >>> import tempfile, pandas as pd
    >>> b = EvidenceBundle(tempfile.mkdtemp() + "/evidence")
    >>> entry = b.record("changes-x", pd.DataFrame({"a": [1]}), kind="changes")
    >>> entry["rows"], b.names()
    (1, ['changes-x'])
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True, limits: FrameLimits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits if limits is not None else FrameLimits.from_env()
        self._lock = threading.RLock()
        manifest_path = self.path / MANIFEST
        if manifest_path.exists():
            self._manifest = read_manifest(manifest_path, fmt=FORMAT)
        elif create:
            self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.path, 0o700)
            self._manifest = {"format": FORMAT, "created": _now_iso(), "context": {}, "frames": {}}
            self._write_manifest()
        else:
            raise EvidenceError(
                f"no evidence bundle at {self.path} (no {MANIFEST}); pass the evidence/ folder of a run",
                path=str(self.path),
            )

    # -- reading -------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, limits: FrameLimits | None = None) -> "EvidenceBundle":
        """Open an existing bundle (error when it does not exist or its manifest is not sound)."""
        p = Path(path)
        if "\x00" in str(p):
            raise EvidenceError("the evidence path holds a NUL character: give the folder of a bundle or a run")
        try:
            if not (p / MANIFEST).exists() and (p / "evidence" / MANIFEST).exists():
                p = p / "evidence"  # a run folder was given
            if (p / MANIFEST).exists() and not (p / MANIFEST).is_file():
                raise EvidenceError(f"{p / MANIFEST} is not a file", path=str(p))
            return cls(p, create=False, limits=limits)
        except OSError as exc:  # a name too long, a link loop, a folder we may not enter
            raise EvidenceError(f"cannot open the evidence bundle: {exc.strerror or exc}", path=str(p)) from None

    @property
    def manifest(self) -> dict[str, Any]:
        """A copy of the manifest."""
        with self._lock:
            return json.loads(json.dumps(self._manifest))

    @property
    def context(self) -> dict[str, Any]:
        """Run context stored with the bundle (window, baseline, parameters, region...)."""
        return dict(self._manifest.get("context", {}))

    def names(self) -> list[str]:
        """Names of the frames in the bundle, in the order they were recorded."""
        return list(self._manifest["frames"])

    def __contains__(self, name: object) -> bool:
        return name in self._manifest["frames"]

    def entry(self, name: str) -> dict[str, Any]:
        """The manifest entry of one frame."""
        try:
            return dict(self._manifest["frames"][name])
        except KeyError:
            raise EvidenceError(
                f"the evidence bundle has no frame {name!r}; it holds: {', '.join(self.names()) or 'nothing'}",
                path=str(self.path),
            ) from None

    def checked_file(self, name: str, *, verify: bool = True) -> Path:
        """The path of a frame's file: a regular file of the bundle whose sha256 matches the manifest.

        Raises
        ------
        EvidenceError
            No such frame, the file is missing or a link, or its bytes changed.
        """
        entry = self.entry(name)
        file = frame_file(self.path, name, entry)
        if verify and sha256_file(file) != entry["sha256"]:
            raise EvidenceError(
                f"evidence file {file.name} does not match its sha256 in the manifest: it was changed or is corrupt",
                path=str(file),
            )
        return file

    def load(self, name: str, *, verify: bool = True) -> pd.DataFrame:
        """Read a frame back, with its ``df.attrs`` restored from the manifest.

        The file is checked against its sha256, then read within :attr:`limits` (rows and
        decoded bytes, from the Parquet footer before any data); timestamps come back as
        ``datetime64[ns, UTC]``.

        Raises
        ------
        EvidenceError
            The frame is missing, its file changed, exceeds a limit, or holds a column of a
            type the kit never writes.
        """
        entry = self.entry(name)
        file = self.checked_file(name, verify=verify)
        df = read_frame(file, name=name, rows=int(entry["rows"]), limits=self.limits)
        df.attrs = dict(entry.get("attrs", {}))
        df.attrs["evidence"] = {"bundle": str(self.path), "name": name, "sha256": entry.get("sha256")}
        return df

    def find(self, kind: str) -> list[str]:
        """Names of the frames of one kind (``logs``, ``metrics``, ``changes``, ...)."""
        return [n for n, e in self._manifest["frames"].items() if e.get("kind") == kind]

    def summary(self) -> pd.DataFrame:
        """One row per frame: what it is and how complete (the data-quality appendix)."""
        rows = []
        for name, e in self._manifest["frames"].items():
            attrs = e.get("attrs", {})
            rows.append(
                {
                    "frame": name,
                    "kind": e.get("kind"),
                    "source": attrs.get("source"),
                    "rows": e.get("rows"),
                    "api_calls": attrs.get("api_calls", 0),
                    "retries": attrs.get("retries", 0),
                    "complete": bool(attrs.get("complete", True)),
                    "truncated": bool(attrs.get("truncated", False)),
                    "parse_errors": (attrs.get("parse_stats") or {}).get("errors", 0),
                    "issues": "; ".join(attrs.get("issues", []) or []),
                    "elapsed_s": attrs.get("elapsed_s"),
                }
            )
        cols = ["frame", "kind", "source", "rows", "api_calls", "retries", "complete", "truncated", "parse_errors", "issues", "elapsed_s"]
        return pd.DataFrame(rows, columns=cols)

    def unread_primary(self) -> str | None:
        """Why the primary evidence, the logs, could not be read; None when it was.

        The bundle holds log frames and every one came back empty and incomplete: each
        fetch failed (throttled, denied, unreachable, interrupted) before it returned an
        event, so "no finding" would be a lie (design.md: exit 3, inconclusive). A log
        frame that is complete and empty *was* read: nothing was logged. A bundle without
        log frames (no log group asked for) is not inconclusive on this count.

        Example
        -------
        >>> import tempfile
        >>> from incidentkit.schema import empty_frame, provenance
        >>> b = EvidenceBundle(tempfile.mkdtemp())
        >>> failed = empty_frame("events")
        >>> failed.attrs = provenance("logs (failed)", complete=False, issues=["fetch failed: throttled"])
        >>> _ = b.record("logs-api", failed, kind="logs")
        >>> b.unread_primary()
        'every log source failed or came back empty through an error (1 of 1 log frames): fetch failed: throttled'
        """
        logs = [e for e in self._manifest["frames"].values() if e.get("kind") == "logs"]
        unread = [e for e in logs if not (e.get("attrs") or {}).get("complete", True) and not e.get("rows")]
        if not logs or len(unread) < len(logs):
            return None
        issues = [i for e in unread for i in (e.get("attrs") or {}).get("issues") or []]
        why = f": {issues[-1]}" if issues else ""
        return f"every log source failed or came back empty through an error ({len(unread)} of {len(logs)} log frames){why}"

    # -- writing -------------------------------------------------------------------------------

    def set_context(self, **values: Any) -> None:
        """Store run context (window, baseline, parameters, region...) in the manifest."""
        with self._lock:
            self._manifest.setdefault("context", {}).update(mask_obj(_jsonable(values)))
            self._write_manifest()

    def record(self, name: str, df: pd.DataFrame, *, kind: str | None = None, mask: bool = True) -> dict[str, Any]:
        """Write ``df`` as ``<name>.parquet`` and list it in the manifest.

        Text is masked first (``mask=True``); ``df.attrs`` (provenance) goes to the
        manifest. Re-recording a name replaces the frame.

        Returns
        -------
        dict
            The manifest entry (file, kind, rows, sha256, attrs, recorded).
        """
        if not SAFE_NAME.fullmatch(name):
            raise EvidenceError(f"frame name {name!r} is not a safe file name; use frame_key()")
        data = mask_frame(df) if mask else df.copy()
        data = _flatten_objects(data)
        attrs = _jsonable(data.attrs)
        attrs.pop("evidence", None)
        data.attrs = {}
        file = self.path / f"{name}.parquet"
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".parquet", dir=self.path)
        os.close(fd)
        try:
            data.to_parquet(tmp, index=False)
            os.chmod(tmp, 0o600)
            digest = sha256_file(tmp)
            os.replace(tmp, file)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        entry = {
            "file": file.name,
            "kind": kind or name.split("-", 1)[0],
            "rows": int(len(data)),
            "columns": [str(c) for c in data.columns],
            "sha256": digest,
            "recorded": _now_iso(),
            "attrs": attrs,
        }
        if mask:
            entry["masked"] = rules_fingerprint()  # what copy_bundle checks before copying the file as it is
        with self._lock:
            self._manifest["frames"][name] = entry
            self._write_manifest()
        return dict(entry)

    @contextmanager
    def writer(self, name: str, *, kind: str, schema: Any = None) -> Iterator[Any]:
        """Stream a large frame into the bundle in chunks without holding it in memory.

        Yields an object with ``write(df)``; on exit the file is hashed and listed.
        ``attrs`` for the manifest can be set on the yielded object's ``attrs`` dict.

        Example
        -------
        >>> import tempfile, pandas as pd
        >>> b = EvidenceBundle(tempfile.mkdtemp())
        >>> with b.writer("logs-big", kind="logs") as w:
        ...     w.write(pd.DataFrame({"message": ["a", "b"]}))
        ...     w.write(pd.DataFrame({"message": ["c"]}))
        >>> len(b.load("logs-big"))
        3
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        file = self.path / f"{name}.parquet"
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".parquet", dir=self.path)
        os.close(fd)
        state = _ChunkWriter(tmp, schema, pa, pq)
        try:
            yield state
            state.close()
            os.chmod(tmp, 0o600)
            digest = sha256_file(tmp)
            os.replace(tmp, file)
        except BaseException:
            state.close()
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        entry = {
            "file": file.name,
            "kind": kind,
            "rows": state.rows,
            "columns": state.columns,
            "sha256": digest,
            "recorded": _now_iso(),
            "attrs": _jsonable(state.attrs),
        }
        if state.masked:
            entry["masked"] = rules_fingerprint()
        with self._lock:
            self._manifest["frames"][name] = entry
            self._write_manifest()

    def _copy_masked(self, source: "EvidenceBundle", name: str, entry: Mapping[str, Any]) -> bool:
        """Copy frame ``name`` of ``source``, masked under the current rules, byte for byte; False
        when its file is not the one the manifest names (then it is re-recorded, masked, or fails there).

        What :func:`copy_bundle` does instead of reading, masking and writing a frame again that
        would come out the same; the copy is checked against the manifest's sha256.
        """
        file = frame_file(source.path, name, dict(entry))
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".parquet", dir=self.path)
        os.close(fd)
        copied = False
        try:
            shutil.copyfile(file, tmp)
            os.chmod(tmp, 0o600)
            if sha256_file(tmp) == entry.get("sha256"):
                check_header(Path(tmp), name=name, rows=int(entry["rows"]), limits=source.limits)  # as load() does first
                os.replace(tmp, self.path / f"{name}.parquet")
                copied = True
        finally:
            if not copied:
                Path(tmp).unlink(missing_ok=True)
        if not copied:
            return False
        with self._lock:
            self._manifest["frames"][name] = {**entry, "file": f"{name}.parquet"}
            self._write_manifest()
        return True

    def _write_manifest(self) -> None:
        self._manifest["updated"] = _now_iso()
        atomic_write_text(self.path / MANIFEST, json.dumps(self._manifest, indent=2, sort_keys=False) + "\n")

    def __repr__(self) -> str:
        return f"EvidenceBundle({str(self.path)!r}, frames={len(self._manifest['frames'])})"


class _ChunkWriter:
    def __init__(self, path: str, schema: Any, pa: Any, pq: Any) -> None:
        self._path, self._schema, self._pa, self._pq = path, schema, pa, pq
        self._writer: Any = None
        self.rows = 0
        self.columns: list[str] = []
        self.attrs: dict[str, Any] = {}
        self.masked = True  # every chunk written so far was masked

    def write(self, df: pd.DataFrame, *, mask: bool = True) -> None:
        self.masked = self.masked and mask
        data = _flatten_objects(mask_frame(df) if mask else df)
        table = self._pa.Table.from_pandas(data, preserve_index=False, schema=self._schema)
        if self._writer is None:
            self._schema = table.schema
            self.columns = list(table.schema.names)
            self._writer = self._pq.ParquetWriter(self._path, self._schema)
        else:
            table = table.cast(self._schema)
        self._writer.write_table(table)
        self.rows += len(data)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        elif self.rows == 0 and not os.path.getsize(self._path):
            # no chunk at all: still leave a valid (empty) Parquet file
            self._pq.write_table(self._pa.table({}), self._path)


def copy_bundle(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """Copy a bundle into a new folder: each frame checked against its sha256, masked again, re-recorded.

    Masking again matters: a bundle may have been recorded unmasked (``record(mask=False)``)
    or by an older version with fewer patterns; nothing written into a run folder is unmasked.
    A run (``incidentkit run --evidence``) and :meth:`Investigation.save
    <incidentkit.investigation.Investigation.save>` copy their evidence with it.

    Example
    -------
    >>> copy_bundle("runs/triage-20260301T031500Z-3f2a1c/evidence", "evidence/pinned")   # doctest: +SKIP
    """
    dst = Path(dst)
    source = EvidenceBundle.open(src)
    if dst.exists() and any(dst.iterdir()):
        raise EvidenceError(f"{dst} exists and is not empty", path=str(dst))
    target = EvidenceBundle(dst)
    for name in source.names():
        entry = source.entry(name)
        if entry.get("masked") != rules_fingerprint() or not target._copy_masked(source, name, entry):
            target.record(name, source.load(name), kind=entry.get("kind"), mask=True)
    ctx = source.context
    if ctx:
        target.set_context(**ctx)
