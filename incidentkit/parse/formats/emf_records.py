"""CloudWatch Embedded Metric Format records: JSON log lines with an ``_aws`` object that
declares which keys are metrics (Powertools' Metrics utility, the EMF client libraries).

Source: *Amazon CloudWatch User Guide*, "Specification: Embedded metric format". As log
rows they are ``record_type="metric"``, timed by ``_aws.Timestamp`` (epoch ms), with their
other keys read like an app line's; they are not requests. The metrics themselves are read
by :func:`incidentkit.parse.emf.metrics`.

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(['{"_aws": {"Timestamp": 1700000000000, "CloudWatchMetrics": []}, "service": "cart", "Latency": 12}'])
>>> print(df.at[0, "format"], df.at[0, "record_type"], str(df.at[0, "timestamp"]))
emf metric 2023-11-14 22:13:20+00:00
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow import F64, as_float, nulls
from ._keys import Field, JsonRows, Keys
from .app_json import read_error_text

__all__ = ["FIELDS", "NAME", "PATHS", "RECOGNISE", "ROLE", "parse"]

NAME = "emf"
ROLE = "metric"
RECOGNISE = Keys(objects=("_aws",))

#: The specification's fields, with when they appeared.
FIELDS: tuple[Field, ...] = (
    ("_aws.Timestamp", "2019-11 (launch)"),
    ("_aws.CloudWatchMetrics[].Namespace", "2019-11 (launch)"),
    ("_aws.CloudWatchMetrics[].Dimensions", "2019-11 (launch)"),
    ("_aws.CloudWatchMetrics[].Metrics[].Name", "2019-11 (launch)"),
    ("_aws.CloudWatchMetrics[].Metrics[].Unit", "2019-11 (launch)"),
    ("_aws.CloudWatchMetrics[].Metrics[].StorageResolution", "later (high-resolution metrics; undated)"),
)
PATHS = ["_aws.Timestamp"]


def parse(rows: JsonRows, out: dict[str, pa.Array], mine: np.ndarray, need_time: np.ndarray) -> str:
    """EMF rows: the record's time, and error text like an app line."""
    read_error_text(rows, out, mine)
    if need_time.any() and "_aws.Timestamp" in rows.leaves:
        out["_time_num"] = pc.if_else(pa.array(mine), as_float(rows.leaves["_aws.Timestamp"], rows.n), out.get("_time_num", nulls(rows.n, F64)))
    return "metric"
