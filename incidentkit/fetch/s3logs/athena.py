"""Big windows through Athena: the ALB access-log table (partition projection, no crawler),
the same per-minute aggregations as the local path run server-side, results read into the
same frame shapes.

* :func:`ddl` - ``CREATE EXTERNAL TABLE`` over the load balancer's log location, a
  ``RegexSerDe`` reading the documented fields (:data:`INPUT_REGEX`), and a ``day``
  partition projected from the key layout's ``yyyy/MM/dd`` folders (no crawler, no
  ``MSCK REPAIR``).
* :func:`aggregate_sql` - one query per dimension (none, ``status``, ``target``, ``route``,
  ``client_ip``): per minute, requests by status class and approximate latency percentiles
  (Athena's ``approx_percentile``; Trino documents its rank error at about 1 %).
* :func:`run` - start, wait (time limit and backoff), read every result page; the guard lets
  these calls through only on a client scoped to the user's result location/workgroup.
* :func:`frames` - the result rows as the frames of
  :func:`incidentkit.analyses.latency.percentiles` and :func:`incidentkit.analyses.errors.error_rate`
  with ``by="1min"`` (the tests compare them with those functions on the rows read directly).

Example
-------
>>> sql = aggregate_sql("logs.alb_access", Window(pd.Timestamp("2026-03-01T03:00Z"), pd.Timestamp("2026-03-01T04:00Z")), "target")
>>> "approx_percentile" in sql and "GROUP BY 1, 2" in sql
True
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import botocore.exceptions as bx
import numpy as np
import pandas as pd

from ...errors import ParameterError, QueryFailedError, QueryTimeoutError, from_botocore
from ...window import Window
from ..aws import AthenaScope
from ..aws import client as aws_client
from .reader import Source

__all__ = ["COLUMNS", "DIMENSIONS", "INPUT_REGEX", "THRESHOLD_BYTES", "aggregate_sql", "ddl", "frames", "run"]

#: ``athena=auto`` uses Athena when the objects listed for the window add up to more than this
#: (compressed bytes). ALB logs compress about 5-10 times and a parsed row costs about 0.5 kB in
#: memory, so 256 MiB of gzip is some 2-5 GB of rows: beyond it, reading here would need more
#: memory than a notebook kernel should take.
THRESHOLD_BYTES = 256 << 20
#: Split dimensions: the aggregation's column name -> its SQL expression. A request no target
#: answered has target ``-`` (the load balancer's own placeholder), in both paths.
DIMENSIONS: dict[str, str] = {
    "status": "elb_status_code",
    "target": "CASE WHEN coalesce(target_ip, '') = '' THEN '-' ELSE concat(target_ip, ':', target_port) END",
    "route": r"coalesce(nullif(regexp_extract(request_url, '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*)?([^?#]*)', 1), ''), '/')",
    "client_ip": "client_ip",
}
#: The table's columns, in the order of :data:`INPUT_REGEX`'s groups (the documented fields).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("type", "string"), ("time", "string"), ("elb", "string"), ("client_ip", "string"), ("client_port", "string"),
    ("target_ip", "string"), ("target_port", "string"), ("request_processing_time", "double"),
    ("target_processing_time", "double"), ("response_processing_time", "double"), ("elb_status_code", "string"),
    ("target_status_code", "string"), ("received_bytes", "bigint"), ("sent_bytes", "bigint"), ("request_verb", "string"),
    ("request_url", "string"), ("request_proto", "string"), ("user_agent", "string"), ("ssl_cipher", "string"),
    ("ssl_protocol", "string"), ("target_group_arn", "string"), ("trace_id", "string"), ("domain_name", "string"),
    ("chosen_cert_arn", "string"), ("matched_rule_priority", "string"), ("request_creation_time", "string"),
    ("actions_executed", "string"), ("redirect_url", "string"), ("error_reason", "string"), ("target_port_list", "string"),
    ("target_status_code_list", "string"), ("classification", "string"), ("classification_reason", "string"),
    ("conn_trace_id", "string"),
)  # fmt: skip
_Q = r'"([^"]*)"'
#: One group per column of :data:`COLUMNS` (RE2- and Java-compatible: Athena's RegexSerDe and DuckDB read it alike).
INPUT_REGEX = (
    r"([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) ([^ ]*)[:-]([0-9]*) ([-.0-9]*) ([-.0-9]*) ([-.0-9]*) ([-0-9]*) ([-0-9]*) "
    r'([-0-9]*) ([-0-9]*) "([^ ]*) (.*?) ?(- |[A-Za-z]+/[0-9.]+|)" ' + _Q + r" ([^ ]*) ([^ ]*) ([^ ]*) " + _Q
    + r"(?: " + _Q + " " + _Q + r" ([^ ]*) ([^ ]*) " + _Q + " " + _Q + " " + _Q + " " + _Q + " " + _Q + " " + _Q
    + " " + _Q + r")?(?: ([^ ]*))?(?: .*)?"
)


def ddl(source: Source, *, database: str, table: str = "alb_access_logs", since: str = "2020/01/01") -> str:
    """The table DDL for an ALB's access logs at ``source`` (account and region must be known)."""
    if source.log_format != "alb_access":
        raise ParameterError(f"Athena reads ALB access logs here; {source.url} holds {source.log_format}")
    ids = source.ids
    if not ids.get("account") or not ids.get("region"):
        raise ParameterError(f"the Athena table for {source.url} needs the account and region (give the load balancer's ARN)")
    root = f"s3://{source.bucket}/{source.base}AWSLogs/{ids['account']}/elasticloadbalancing/{ids['region']}/"
    cols = ",\n  ".join(f"`{c}` {t}" for c, t in COLUMNS)
    regex = INPUT_REGEX.replace("\\", "\\\\").replace("'", "\\'")
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {database}.{table} (\n  {cols}\n)\nPARTITIONED BY (`day` string)\n"
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'\n"
        f"WITH SERDEPROPERTIES ('serialization.format' = '1', 'input.regex' = '{regex}')\n"
        f"LOCATION '{root}'\n"
        "TBLPROPERTIES ('projection.enabled' = 'true', 'projection.day.type' = 'date', "
        f"'projection.day.range' = '{since},NOW', 'projection.day.format' = 'yyyy/MM/dd', "
        "'projection.day.interval' = '1', 'projection.day.interval.unit' = 'DAYS', "
        f"'storage.location.template' = '{root}${{day}}')"
    )


def aggregate_sql(table: str, window: Window, dimension: str | None = None) -> str:
    """Per-minute requests by status class and latency percentiles of ``window`` (Trino SQL)."""
    if dimension is not None and dimension not in DIMENSIONS:
        raise ParameterError(f"no aggregation dimension {dimension!r}; use one of {', '.join(DIMENSIONS)}")
    lo, hi = (t.strftime("%Y-%m-%dT%H:%M:%S.%fZ") for t in (window.start, window.end))
    days = (window.start.strftime("%Y/%m/%d"), (window.end - pd.Timedelta(1)).strftime("%Y/%m/%d"))
    status = "TRY_CAST(elb_status_code AS integer)"
    lat = ("CASE WHEN request_processing_time >= 0 AND target_processing_time >= 0 AND response_processing_time >= 0 "
           "THEN (request_processing_time + target_processing_time + response_processing_time) * 1000 END")
    dim = f"{DIMENSIONS[dimension]} AS dim" if dimension else "CAST(NULL AS varchar) AS dim"
    classes = ", ".join(f"count_if({status} BETWEEN {c}00 AND {c}99) AS n_{c}xx" for c in (2, 3, 4, 5))
    return (
        f"WITH r AS (SELECT date_trunc('minute', from_iso8601_timestamp(time)) AS minute, {dim}, {status} AS status, "
        f"{lat} AS latency_ms FROM {table} WHERE day BETWEEN '{days[0]}' AND '{days[1]}' "
        f"AND from_iso8601_timestamp(time) >= from_iso8601_timestamp('{lo}') "
        f"AND from_iso8601_timestamp(time) < from_iso8601_timestamp('{hi}')) "
        f"SELECT minute, dim, count(*) AS requests, {classes.replace(status, 'status')}, "
        "count(latency_ms) AS latency_count, approx_percentile(latency_ms, 0.5) AS p50, "
        "approx_percentile(latency_ms, 0.9) AS p90, approx_percentile(latency_ms, 0.99) AS p99, max(latency_ms) AS max "
        "FROM r GROUP BY 1, 2 ORDER BY 1, 2"
    )


def run(sql: str, scope: AthenaScope, *, database: str | None = None, session: Any = None, region: str | None = None,
        endpoint_url: str | None = None, timeout_s: float = 600.0, client: Any = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run one query; ``(rows, stats)`` with every result page read (the header row dropped)."""
    c = client or aws_client("athena", session=session, region=region, endpoint_url=endpoint_url, athena=scope)
    params: dict[str, Any] = {"QueryString": sql}
    if scope.output:
        params["ResultConfiguration"] = {"OutputLocation": f"s3://{scope.output[0]}/{scope.output[1]}"}
    if scope.workgroup:
        params["WorkGroup"] = scope.workgroup
    if database:
        params["QueryExecutionContext"] = {"Database": database}
    try:
        qid = c.start_query_execution(**params)["QueryExecutionId"]
        state, info, delay, t0 = "QUEUED", {}, 0.5, time.monotonic()
        while state in ("QUEUED", "RUNNING"):
            if time.monotonic() - t0 > timeout_s:
                raise QueryTimeoutError(f"Athena query {qid} still {state} after {timeout_s:.0f} s; raise the timeout or narrow the window")
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
            info = c.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            state = info["Status"]["State"]
        if state != "SUCCEEDED":
            why = info["Status"].get("StateChangeReason") or state
            raise QueryFailedError(f"Athena query {qid} {state.lower()}: {why}")
        rows: list[dict[str, Any]] = []
        names: list[str] = []
        for page in c.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
            cols = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
            names = [col["Name"] for col in cols]
            for r in page["ResultSet"]["Rows"]:
                values = [d.get("VarCharValue") for d in r["Data"]]
                if values != names:  # the first page begins with the header row
                    rows.append(dict(zip(names, values)))
    except (bx.ClientError, bx.BotoCoreError) as exc:
        raise from_botocore(exc, service="athena", operation="StartQueryExecution") from exc
    stats = info.get("Statistics") or {}
    return rows, {"query_id": qid, "bytes_scanned": int(stats.get("DataScannedInBytes") or 0)}


def frames(rows: Sequence[Mapping[str, Any]], window: Window, dimension: str | None = None) -> dict[str, pd.DataFrame]:
    """Result rows of :func:`aggregate_sql` as ``{"latency": ..., "errors": ...}`` in the shapes of
    ``analyses.latency.percentiles`` / ``analyses.errors.error_rate`` (``by="1min"``, aligned to ``window``)."""
    df = pd.DataFrame(list(rows))
    groups = [dimension] if dimension else []
    num = ["requests", "n_2xx", "n_3xx", "n_4xx", "n_5xx", "latency_count", "p50", "p90", "p99", "max"]
    if df.empty:
        df = pd.DataFrame({c: pd.Series([], dtype="float64") for c in num} | {"minute": pd.Series([], dtype=str), "dim": []})
    for c in num:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df["timestamp"] = pd.to_datetime(df["minute"], utc=True, format="mixed").astype("datetime64[ns, UTC]")
    if dimension:
        df[dimension] = pd.to_numeric(df["dim"], errors="coerce").astype("Int64") if dimension == "status" else df["dim"]
    lat = df[["timestamp", *groups]].copy()
    lat["count"] = df["latency_count"].fillna(0).astype("int64")
    for c in ("p50", "p90", "p99", "max"):
        lat[c] = df[c]
    err = df[["timestamp", *groups, "requests", "n_2xx", "n_3xx", "n_4xx", "n_5xx"]].copy()
    err["n_other"] = err["requests"] - err[["n_2xx", "n_3xx", "n_4xx", "n_5xx"]].sum(axis=1)
    if not groups:
        full = pd.date_range(window.start, window.end - pd.Timedelta(1), freq="1min", tz="UTC").floor("1min")
        lat = lat.set_index("timestamp").reindex(full).rename_axis("timestamp").reset_index()
        lat["count"] = lat["count"].fillna(0).astype("int64")
        err = err.set_index("timestamp").reindex(full, fill_value=0.0).rename_axis("timestamp").reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        for c in ("2xx", "3xx", "4xx", "5xx"):
            err[f"rate_{c}"] = np.where(err["requests"] > 0, err[f"n_{c}"] / err["requests"], np.nan)
        err["error_rate"] = np.where(err["requests"] > 0, (err["n_4xx"] + err["n_5xx"]) / err["requests"], np.nan)
    lat = lat.sort_values(["timestamp", *groups], kind="stable").reset_index(drop=True)
    err = err.sort_values(["timestamp", *groups], kind="stable").reset_index(drop=True)
    for f in (lat, err):
        f["timestamp"] = f["timestamp"].astype("datetime64[ns, UTC]")
        f.attrs.update(bin=str(pd.Timedelta("1min")), approximate=True, method="Athena approx_percentile")
    return {"latency": lat, "errors": err}

