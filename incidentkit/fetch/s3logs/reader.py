"""Read the logs AWS writes to S3 for one window: list, fetch, gunzip, hand to the parser, clip.

Only the key prefixes that can hold the window are listed (each layout names the hour in its
keys or folders: :mod:`.layouts`), and of the listed keys only those whose time can hold
records of the window are read. Objects are fetched concurrently (``workers`` at a time), each
streamed: gzip is decompressed as bytes arrive (multi-member files too), and the text goes
in batches of about ``batch_bytes`` to the ``parser`` the caller gives (:class:`LineParser`;
the kit's is :mod:`incidentkit.parse.batches`: fetch does not parse), so memory holds at most
``workers`` batches besides the rows kept. Rows outside the window are dropped after parsing
(their count is kept); a line that claims the format and fails it is kept as a parse error.

Every object read is recorded (bucket, key, size, ETag, its key time, lines, lines in the
window, parse errors), and so is every object that could not be read: ``missing`` (listed,
then gone), ``changed`` (overwritten since listing: the read asks for the listed ETag) or
``unreadable`` (access denied, damaged gzip ...). Those make the frame incomplete and are
said in its ``issues``; nothing is skipped silently.

Example
-------
>>> src = Source("s3://logs-bucket/alb/", "alb_access", {"account": "123456789012", "region": "eu-west-1"})
>>> src.bucket, src.base
('logs-bucket', 'alb/')
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import botocore.exceptions as bx
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ... import schema
from ...errors import ParameterError, from_botocore
from ...window import Window
from ..aws import client as aws_client
from .layouts import LAYOUTS, Layout, hours

__all__ = ["OBJECT_COLUMNS", "LineParser", "S3Read", "Source", "list_objects", "read"]

#: Columns of the ledger of objects (:attr:`S3Read.objects`).
OBJECT_COLUMNS = ("bucket", "key", "size", "etag", "key_time", "status", "lines", "lines_in_window", "parse_errors", "error")


class LineParser(Protocol):
    """What turns the lines of an object into rows; the reader fetches, it does not parse
    (:mod:`incidentkit.parse.batches` is the one the kit passes: the module itself).

    ``parse_batch`` gets one batch of one object's lines in order and returns an object with
    ``frame`` (its records, with ``timestamp`` and ``parse_error``), ``lines`` (how many lines
    were records) and ``fields`` (the field list in effect for the object's next batch);
    ``empty`` gives the frame's columns with no rows.
    """

    def parse_batch(self, lines: pa.Array, log_format: str, *, fields: str | None = None, log_group: str = "",
                    log_stream: str = "") -> Any: ...

    def empty(self) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Source:
    """Where one resource's logs are: ``s3://bucket/prefix``, the key layout, the ids known.

    ``layout`` is a key of :data:`~.layouts.LAYOUTS`, or ``"any"``: every object under the
    prefix, read whole (then ``format`` names the format). ``fields`` is a custom field list
    (a VPC flow log's ``LogFormat``)."""

    url: str
    layout: str
    ids: Mapping[str, str] = field(default_factory=dict)
    format: str | None = None
    fields: str | None = None
    resource: str | None = None

    @property
    def bucket(self) -> str:
        return _split_url(self.url)[0]

    @property
    def base(self) -> str:
        return _split_url(self.url)[1]

    @property
    def log_format(self) -> str:
        if self.format:
            return self.format
        if self.layout not in LAYOUTS:
            raise ParameterError(f"S3 log source {self.url} has layout {self.layout!r} and no format; name the format")
        return LAYOUTS[self.layout].format


def _split_url(url: str) -> tuple[str, str]:
    if not url.startswith("s3://") or len(url) <= 5:
        raise ParameterError(f"an S3 log location must look like s3://bucket/prefix, got {url!r}")
    bucket, _, prefix = url[5:].partition("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


@dataclass
class S3Read:
    """What :func:`read` returns: the parsed rows of the window, and the ledger of objects."""

    frame: pd.DataFrame
    objects: pd.DataFrame
    attrs: dict[str, Any]

    @property
    def bytes_listed(self) -> int:
        return int(self.objects["size"].sum()) if len(self.objects) else 0


# --------------------------------------------------------------------------- listing


class _Calls:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, fn: Callable[..., Any], **kw: Any) -> Any:
        self.n += 1
        return fn(**kw)


def _expand(s3: Any, calls: _Calls, src: Source, layout: Layout) -> list[dict[str, str]]:
    """Id sets for the layout's unknown ``{account}``/``{region}``: the folders that exist."""
    todo = [dict(src.ids)]
    done: list[dict[str, str]] = []
    probe = pd.Timestamp("2000-01-01T00:00Z")
    while todo:
        ids = todo.pop()
        prefix = layout.prefix(probe, base=src.base, **ids)
        missing = next((p for p in layout.placeholders() if p not in ids and p not in ("base", "Y", "m", "d", "H")), None)
        if missing not in ("account", "region") or not prefix.endswith("/"):
            done.append(ids)
            continue
        values = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=src.bucket, Prefix=prefix, Delimiter="/"):
            calls.n += 1
            values += [cp["Prefix"][len(prefix):].rstrip("/") for cp in page.get("CommonPrefixes", [])]
        todo += [{**ids, missing: v} for v in values if v]
    return done


def _list_objects(s3: Any, src: Source, window: Window, calls: _Calls | None) -> tuple[list[dict[str, Any]], int]:
    calls = calls or _Calls()
    if src.layout == "any":
        return [_obj(src.bucket, o, None) for o in _pages(s3, calls, src.bucket, src.base)], 0
    layout = LAYOUTS.get(src.layout)
    if layout is None:
        raise ParameterError(f"no S3 key layout {src.layout!r}; layouts: {', '.join(LAYOUTS)}, any")
    lo, hi = window.start - layout.after, window.end + layout.before
    out: dict[str, dict[str, Any]] = {}
    other = 0
    for ids in _expand(s3, calls, src, layout):
        rx = layout.regex(src.base)
        prefixes = dict.fromkeys(layout.prefix(h, base=src.base, **ids) for h in hours(lo, hi))
        for prefix in prefixes:
            for o in _pages(s3, calls, src.bucket, prefix):
                m = rx.match(o["Key"])
                t = layout.key_time(o["Key"], src.base) if m else None
                if t is None or not (lo <= t <= hi) or any(m.group(k) != v for k, v in ids.items() if k in m.groupdict()):
                    other += 1
                    continue
                out[o["Key"]] = _obj(src.bucket, o, t)
    return list(out.values()), other


def list_objects(s3: Any, src: Source, window: Window, calls: _Calls | None = None) -> tuple[list[dict[str, Any]], int]:
    """``(objects, other)``: the objects of ``src`` whose key time can hold records of
    ``window`` (bucket, key, size, etag, key_time), and how many listed keys were not of
    the layout or of another time. A bucket that cannot be listed raises one line saying
    which logs, why, and what to grant."""
    try:
        return _list_objects(s3, src, window, calls)
    except (bx.ClientError, bx.BotoCoreError) as exc:
        err = from_botocore(exc, service="s3", operation="ListObjectsV2")
        whose = f" ({src.resource})" if src.resource else ""
        raise type(err)(f"the logs at {src.url}{whose} cannot be listed: {err.message}; the kit needs s3:ListBucket on "
                        f"{src.bucket} and s3:GetObject on its objects, or give -p access_logs=s3://... where they are",
                        **err.context) from exc


def _pages(s3: Any, calls: _Calls, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        calls.n += 1
        yield from page.get("Contents", [])


def _obj(bucket: str, o: Mapping[str, Any], t: pd.Timestamp | None) -> dict[str, Any]:
    return {"bucket": bucket, "key": o["Key"], "size": int(o.get("Size") or 0), "etag": str(o.get("ETag") or ""), "key_time": t}


# --------------------------------------------------------------------------- reading one object


def _text_batches(body: Any, batch_bytes: int) -> Iterator[bytes]:
    """Whole lines of an object, about ``batch_bytes`` at a time, gunzipped on the fly when
    the object is gzip (by its magic bytes; multi-member files included)."""
    dec: Any = None
    gz: bool | None = None
    pending = bytearray()
    for chunk in body.iter_chunks(1 << 20):
        if gz is None:
            gz = chunk[:2] == b"\x1f\x8b"
            dec = zlib.decompressobj(31) if gz else None
        while gz and chunk:
            pending += dec.decompress(chunk)
            chunk = dec.unused_data
            if chunk:  # next gzip member
                dec = zlib.decompressobj(31)
        if not gz:
            pending += chunk
        if len(pending) >= batch_bytes:
            cut = pending.rfind(b"\n") + 1
            if cut:
                yield bytes(pending[:cut])
                del pending[:cut]
    if gz and dec is not None:
        pending += dec.flush()
        if not dec.eof:
            raise zlib.error("the gzip stream ends before its end marker (truncated object)")
    if pending:
        yield bytes(pending)


def _lines(batch: bytes) -> pa.Array:
    text = batch.decode("utf-8", errors="replace")
    arr = pc.split_pattern(pa.array([text], type=pa.string()), "\n").values
    arr = pc.utf8_rtrim(arr, characters="\r")
    return arr.filter(pc.greater(pc.utf8_length(arr), 0))


def _read_object(s3: Any, obj: dict[str, Any], src: Source, window: Window, batch_bytes: int,
                 parser: LineParser) -> tuple[list[pd.DataFrame], dict[str, Any]]:
    stats = {**obj, "status": "read", "lines": 0, "lines_in_window": 0, "parse_errors": 0, "error": None}
    frames: list[pd.DataFrame] = []
    fields = src.fields
    try:
        body = s3.get_object(Bucket=obj["bucket"], Key=obj["key"], **({"IfMatch": obj["etag"]} if obj["etag"] else {}))["Body"]
        for batch in _text_batches(body, batch_bytes):
            got = parser.parse_batch(_lines(batch), src.log_format, fields=fields, log_group=src.url, log_stream=obj["key"])
            fields, rows = got.fields, got.frame
            ts, err = rows["timestamp"], rows["parse_error"].to_numpy(dtype=bool)
            keep = ((ts >= window.start) & (ts < window.end)).to_numpy() | (err & ts.isna().to_numpy())
            stats["lines"] += int(got.lines)
            stats["lines_in_window"] += int(keep.sum())
            stats["parse_errors"] += int((err & keep).sum())
            if keep.any():
                frames.append(rows if keep.all() else rows[keep].reset_index(drop=True))
    except bx.ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        stats["status"] = "missing" if code in ("NoSuchKey", "404") else "changed" if code in ("PreconditionFailed", "412") else "unreadable"
        stats["error"] = str(from_botocore(exc, service="s3", bucket=obj["bucket"], key=obj["key"]))
        frames = []
    except (zlib.error, bx.BotoCoreError, OSError) as exc:
        stats["status"], stats["error"] = "unreadable", f"{type(exc).__name__}: {exc}"
        frames = []
    return frames, stats


# --------------------------------------------------------------------------- all together


def read(
    sources: list[Source],
    window: Window,
    *,
    parser: LineParser,
    session: Any = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    workers: int = 8,
    batch_bytes: int = 8 << 20,
    sink: Callable[[pd.DataFrame], None] | None = None,
    client: Any = None,
) -> S3Read:
    """Read the records of ``window`` from every source (see the module docstring), each batch
    of lines parsed by ``parser`` (:mod:`incidentkit.parse.batches`).

    With ``sink`` each clipped batch goes to it as it is parsed and is not kept (the frame
    returned is then empty): for windows whose rows should go straight to disk. ``client``
    stands in for the guarded S3 client (an object store answering the same two calls).
    """
    t0 = time.monotonic()
    s3 = client or aws_client("s3", session=session, region=region, endpoint_url=endpoint_url)
    calls = _Calls()
    todo: list[tuple[dict[str, Any], Source]] = []
    other = 0
    for src in sources:
        objs, skipped = list_objects(s3, src, window, calls)
        todo += [(o, src) for o in sorted(objs, key=lambda o: o["key"])]
        other += skipped
    frames: list[pd.DataFrame] = []
    ledger: list[dict[str, Any]] = []
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="incidentkit-s3") as pool:
        pending: list[Any] = []
        for obj, src in todo:
            pending.append(pool.submit(_read_object, s3, obj, src, window, batch_bytes, parser))
            if len(pending) >= 2 * workers:  # bounded: at most 2 x workers objects' batches wait
                _collect(pending.pop(0).result(), frames, ledger, sink)
        for fut in pending:
            _collect(fut.result(), frames, ledger, sink)
    calls.n += len(todo)
    objects = pd.DataFrame(ledger, columns=list(OBJECT_COLUMNS))
    objects["key_time"] = pd.to_datetime(objects["key_time"], utc=True)
    frame = _concat(frames, parser)
    failed = objects[objects["status"] != "read"]
    issues = [f"{len(failed)} of {len(objects)} log objects could not be read ("
              + ", ".join(f"{s}: {c}" for s, c in failed["status"].value_counts().items()) + f"); first: {failed['error'].iloc[0]}"] if len(failed) else []
    attrs = schema.provenance(
        "s3", query={"sources": [s.url for s in sources], "layouts": [s.layout for s in sources]}, window=window,
        region=region, api_calls=calls.n, elapsed_s=time.monotonic() - t0, complete=not len(failed), issues=issues,
        objects={"listed": len(objects), "read": int((objects["status"] == "read").sum()), "failed": len(failed),
                 "bytes": int(objects["size"].sum()), "other_keys": other},
    )
    frame.attrs = dict(attrs)
    return S3Read(frame, objects, attrs)


def _collect(result: tuple[list[pd.DataFrame], dict[str, Any]], frames: list[pd.DataFrame], ledger: list[dict[str, Any]],
             sink: Callable[[pd.DataFrame], None] | None) -> None:
    got, stats = result
    ledger.append(stats)
    for f in got:
        if sink is not None:
            sink(f)
        else:
            frames.append(f)


def _concat(frames: list[pd.DataFrame], parser: LineParser) -> pd.DataFrame:
    """The batches as one frame in time order (the parser's empty frame when there are none)."""
    if not frames:
        return parser.empty()
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values("timestamp", kind="stable", na_position="last").reset_index(drop=True)
