"""One investigation's logs from S3 for a window: discover, choose the path (direct or Athena), read.

:func:`collect` is what :class:`incidentkit.Investigation` calls for a window (it records what
comes back in the evidence bundle; nothing here writes). It finds the sources
(:mod:`.discover`), lists the objects that can hold the window, and then

* reads them directly (:mod:`.reader`) - ``athena=never``, or ``auto`` with at most
  :data:`~.athena.THRESHOLD_BYTES` listed - returning the parsed rows, or
* runs the aggregations in Athena (:mod:`.athena`) - ``athena=always``, or ``auto`` above the
  threshold - returning the per-minute frames and no rows (the frame's ``issues`` say so), or
* with ``athena=print``, prints the table DDL and the queries for someone to run by hand,
  then reads directly.

The ledger of objects comes back beside the rows: key, size, ETag, status of every object.

Example
-------
>>> mode({"athena": "auto"}, 1 << 30), mode({"athena": "never"}, 1 << 40), mode({}, 10)
('athena', 'direct', 'direct')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ... import schema
from ...errors import ParameterError
from ...window import Window
from ..aws import AthenaScope
from ..aws import client as aws_client
from . import athena as _athena
from .discover import RESOURCE_KEYS, discover, sources_from_urls
from .reader import LineParser, _Calls, list_objects, read

__all__ = ["RESOURCE_KEYS", "S3Logs", "collect", "collect_store", "mode"]

_MODES = ("auto", "always", "never", "print")


@dataclass
class S3Logs:
    """What :func:`collect` returns for a window.

    Attributes
    ----------
    frame:
        The parsed rows (none on the Athena path); its ``attrs`` are the provenance.
    objects:
        The ledger of objects read directly (:data:`~.reader.OBJECT_COLUMNS`); None on the Athena path.
    aggregates:
        ``{(what, dimension): frame}`` from Athena (``what`` is ``latency`` or ``errors``,
        ``dimension`` ``all`` or a column); empty on the direct path.
    """

    frame: pd.DataFrame
    objects: pd.DataFrame | None = None
    aggregates: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)


def mode(resources: Mapping[str, Any], listed_bytes: int) -> str:
    """``direct`` or ``athena`` for ``athena=`` (auto|always|never|print) and the bytes listed."""
    choice = str(resources.get("athena") or "auto").lower()
    if choice not in _MODES:
        raise ParameterError(f"athena={choice!r}: use one of {', '.join(_MODES)}")
    if choice == "always" or (choice == "auto" and listed_bytes > _athena.THRESHOLD_BYTES):
        return "athena"
    return "direct"


def _scope(resources: Mapping[str, Any]) -> AthenaScope | None:
    if not resources.get("athena_output") and not resources.get("athena_workgroup"):
        return None
    return AthenaScope(output=resources.get("athena_output"), workgroup=resources.get("athena_workgroup"),
                       database=resources.get("athena_database") or "default",
                       allow_ddl=str(resources.get("athena_ddl")).lower() in ("true", "1", "yes"))


def collect(resources: Mapping[str, Any], window: Window, *, parser: LineParser, session: Any = None,
            region: str | None = None, endpoint_url: str | None = None) -> S3Logs:
    """The window's logs from the resources' S3 logs (see the module docstring)."""
    aws = {"session": session, "region": region, "endpoint_url": endpoint_url}
    sources, notes = discover(resources, **aws)
    s3 = aws_client("s3", **aws)
    calls = _Calls()
    listed = [o for src in sources for o in list_objects(s3, src, window, calls)[0]]
    size = sum(o["size"] for o in listed)
    how = mode(resources, size)
    scope = _scope(resources)
    if how == "athena" and scope is None:
        notes.append(f"the window's logs add up to {size / 2**20:,.0f} MiB, above the {_athena.THRESHOLD_BYTES >> 20} MiB "
                     "for reading here: give -p athena_output=s3://bucket/prefix (or a workgroup) to aggregate them in "
                     "Athena; read here instead")
        how = "direct"
    if str(resources.get("athena") or "").lower() == "print":
        print(_printout(sources, window, resources))
    if how == "athena":
        return _via_athena(sources, window, scope, notes, size, parser, **aws)  # type: ignore[arg-type]
    got = read(sources, window, parser=parser, **aws)
    got.objects.attrs = schema.provenance("s3.objects", window=window, region=region, rows=len(got.objects))
    frame = got.frame
    frame.attrs = {**got.attrs, "issues": list(got.attrs.get("issues") or []) + notes}
    if not sources:
        frame.attrs["complete"] = False  # a resource was named but its logs cannot be read
    return S3Logs(frame, got.objects)


def _printout(sources: list[Any], window: Window, resources: Mapping[str, Any]) -> str:
    db = resources.get("athena_database") or "default"
    out = ["-- incidentkit: Athena DDL and queries for the load balancer's access logs (athena=print)"]
    for src in sources:
        if src.log_format == "alb_access":
            out += [_athena.ddl(src, database=db) + ";"]
    out += [_athena.aggregate_sql(f"{db}.alb_access_logs", window, d) + ";" for d in (None, *_athena.DIMENSIONS)]
    return "\n\n".join(out)


def _via_athena(sources: list[Any], window: Window, scope: AthenaScope, notes: list[str], size: int,
                parser: LineParser, **aws: Any) -> S3Logs:
    db = scope.database or "default"
    table = f"{db}.alb_access_logs"
    stats = []
    if scope.allow_ddl:
        for src in sources:
            if src.log_format == "alb_access":
                stats.append(_athena.run(_athena.ddl(src, database=db), scope, database=db, **aws)[1])
    aggregates: dict[tuple[str, str], pd.DataFrame] = {}
    for dim in (None, *_athena.DIMENSIONS):
        rows, st = _athena.run(_athena.aggregate_sql(table, window, dim), scope, database=db, **aws)
        stats.append(st)
        for what, frame in _athena.frames(rows, window, dim).items():
            frame.attrs.update(schema.provenance("athena", query={"sql": "aggregate_sql", "dimension": dim, **st},
                                                 window=window, rows=len(frame)))
            aggregates[(what, dim or "all")] = frame
    out = parser.empty()  # the fixed columns, no rows
    out.attrs = schema.provenance(
        "athena", window=window, query={"table": table, "queries": [s["query_id"] for s in stats]},
        issues=notes + [f"{size / 2**20:,.0f} MiB of logs were aggregated in Athena ({sum(s['bytes_scanned'] for s in stats) / 2**20:,.0f} "
                        "MiB scanned): per-minute frames are in the evidence (kind aggregates); per-request rows were not read"],
    )
    return S3Logs(out, None, aggregates)


def collect_store(store: Any, resources: Mapping[str, Any], window: Window, *, parser: LineParser) -> S3Logs:
    """The direct path over an object store standing in for S3 (a bundled sample's objects):
    the sources come from ``access_logs`` or the load balancer's ARN, in ``store``'s bucket."""
    urls = resources.get("access_logs") or [f"s3://{store.bucket}/"]
    got = read(sources_from_urls(urls if isinstance(urls, list) else [urls], resources), window, parser=parser, client=store)
    got.objects.attrs = schema.provenance("s3.objects", window=window, rows=len(got.objects))
    return S3Logs(got.frame, got.objects)
