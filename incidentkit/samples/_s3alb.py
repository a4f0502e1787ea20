"""A sample whose load-balancer evidence is the ALB's access log in S3 (incident 10, read from S3).

The deregistration-delay incident with its access log as the load balancer delivers it: gzip
objects of five minutes each under ``AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/``,
named ``<account>_elasticloadbalancing_<region>_app.<name>.<id>_<end time>_<ip>_<random>.log.gz``,
in the bucket the load balancer's ``access_logs.s3.bucket`` attribute names. The investigation
reads them through the S3 reader (listing, gunzip, parsing, clipping) from an in-memory
object store, so the demo exercises that path offline.

Example
-------
>>> s = s3_objects_sample()
>>> len(s.s3_objects) > 10 and all(k.endswith(".log.gz") for k in s.s3_objects)
True
"""

from __future__ import annotations

import gzip
import hashlib
from typing import Any, Iterator

import pandas as pd

from ..fetch.s3logs.discover import lb_ids
from ._alb import deregistration_delay_too_short

__all__ = ["ObjectStore", "s3_objects_sample"]

NAME = "deregistration-delay-from-s3"


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def iter_chunks(self, size: int) -> Iterator[bytes]:
        for i in range(0, len(self._data), size):
            yield self._data[i : i + size]


class _Pages:
    def __init__(self, store: "ObjectStore") -> None:
        self._store = store

    def paginate(self, *, Bucket: str, Prefix: str = "", Delimiter: str | None = None) -> Iterator[dict[str, Any]]:  # noqa: N803
        keys = sorted(k for k in self._store.objects if k.startswith(Prefix)) if Bucket == self._store.bucket else []
        if Delimiter:
            prefixes = sorted({Prefix + k[len(Prefix):].split(Delimiter)[0] + Delimiter for k in keys if Delimiter in k[len(Prefix):]})
            yield {"CommonPrefixes": [{"Prefix": p} for p in prefixes]}
            return
        yield {"Contents": [{"Key": k, "Size": len(self._store.objects[k]), "ETag": self._store.etag(k)} for k in keys]}


class ObjectStore:
    """Objects of one bucket in memory, answering the two S3 calls the reader makes."""

    def __init__(self, bucket: str, objects: dict[str, bytes]) -> None:
        self.bucket, self.objects = bucket, objects

    def etag(self, key: str) -> str:
        return '"' + hashlib.md5(self.objects[key], usedforsecurity=False).hexdigest() + '"'

    def get_paginator(self, name: str) -> _Pages:
        return _Pages(self)

    def get_object(self, *, Bucket: str, Key: str, IfMatch: str | None = None) -> dict[str, Any]:  # noqa: N803
        return {"Body": _Body(self.objects[Key])}


def s3_objects_sample(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Incident 10 with the ALB access log in S3 (see the module docstring)."""
    smp = deregistration_delay_too_short(seed=seed, scale=scale)
    access = [g for g in smp.parameters["log_groups"] if g.startswith("/alb/")][0]
    ev = smp.events
    rows = ev[ev["log_group"] == access]
    ids = lb_ids(smp.parameters["load_balancer"])
    bucket = str(smp.settings.loc[smp.settings["setting"] == "access_logs.s3.bucket", "value"].iloc[0])
    objects: dict[str, bytes] = {}
    # each line goes to the file of the five minutes its own time falls in, named by the interval's end
    times = pd.to_datetime(rows["message"].str.split(" ", n=2).str[1], utc=True)
    for end, part in rows.groupby(times.dt.floor("5min") + pd.Timedelta(minutes=5)):
        key = (f"AWSLogs/{ids['account']}/elasticloadbalancing/{ids['region']}/{end:%Y/%m/%d}/"
               f"{ids['account']}_elasticloadbalancing_{ids['region']}_{ids['lb']}_{end:%Y%m%dT%H%M}Z_10.2.0.17_"
               f"{hashlib.sha1(str(end).encode()).hexdigest()[:8]}.log.gz")
        objects[key] = gzip.compress(("\n".join(part.sort_values("timestamp")["message"]) + "\n").encode(), mtime=0)
    smp.name = NAME
    smp.title = "502s on every blue/green deploy, the ALB's access log read from S3"
    smp.events = ev[ev["log_group"] != access].reset_index(drop=True)
    smp.parameters = {**smp.parameters, "log_groups": [g for g in smp.parameters["log_groups"] if g != access]}
    smp.s3_objects, smp.s3_bucket = objects, bucket
    return smp
