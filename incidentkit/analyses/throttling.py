"""Throttling and retries: throttle events against capacity, retry spacing, scan-shaped read bursts.

Three questions, one function each, all pure functions on the kit's frames:

* :func:`capacity_timeline` — DynamoDB throttle events over time against the capacity that
  was there: ``Read/WriteThrottleEvents`` and ``ThrottledRequests`` beside
  ``Consumed*CapacityUnits`` and ``Provisioned*CapacityUnits`` (or the table's settings),
  with ``utilisation = consumed / (provisioned × period)``.
* :func:`throttle_errors` and :func:`retry_spacing` / :func:`retry_summary` — the throttle
  lines in the logs (``ProvisionedThroughputExceededException``, ``ThrottlingException``,
  ``Rate exceeded``, ``TooManyRequests``, ``SlowDown`` ... in the texts the SDKs really
  print) and, for each logical call, the gaps between its attempts. Exponential backoff
  shows gaps that grow (the median ratio of successive gaps is about 2, jitter or not);
  a client without backoff retries again within milliseconds and the gaps do not grow.
* :func:`scan_operations` and :func:`read_bursts` — read throttles packed into a short
  window, set against the Scan calls in the logs and against the time of day on other days
  (a scheduled report that scans the table).

The detectors :func:`detect_throttling_without_backoff` (``throttling-without-backoff``)
and :func:`detect_scan_read_burst` (``scan-read-burst``) turn these into findings.

Example
-------
>>> import pandas as pd
>>> t0 = pd.Timestamp("2026-03-01T03:00:00Z")
>>> logs = pd.DataFrame({
...     "timestamp": [t0 + pd.Timedelta(milliseconds=ms) for ms in (0, 8, 15, 23)],
...     "request_id": ["r1"] * 4, "operation": ["PutItem"] * 4,
...     "message": ["ProvisionedThroughputExceededException: The level of configured "
...                 "provisioned throughput for the table was exceeded."] * 4})
>>> spacing = retry_spacing(logs)
>>> int(spacing.loc[0, "attempts"]), spacing.loc[0, "pattern"]
(4, 'no-backoff')
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..findings.model import Finding, Inputs
from ._common import (
    as_utc,
    binom_sf,
    column_or_na,
    empty_table,
    first_group,
    fmt_ms,
    fmt_p,
    iso_z,
    parse_dims,
    pct,
    request_share,
    select_metric,
    sentence_case,
    severity_for_share,
    to_float,
)
from .related import ChangeSpec, related_changes, sentence, targets_from
from .related import evidence as related_evidence

__all__ = [
    "CAPACITY_COLUMNS",
    "THROTTLE_ERROR_COLUMNS",
    "RETRY_COLUMNS",
    "SCAN_COLUMNS",
    "READ_BURST_COLUMNS",
    "TIGHT_GAP_S",
    "SAME_TIME_OF_DAY",
    "capacity_timeline",
    "throttle_errors",
    "retry_spacing",
    "retry_summary",
    "scan_operations",
    "read_bursts",
    "schedule_recurrence",
    "detect_throttling_without_backoff",
    "detect_scan_read_burst",
    "THROTTLING_CHANGES",
    "SCAN_BURST_CHANGES",
]

UTC_NS = "datetime64[ns, UTC]"

#: A retry this soon after the previous attempt had no backoff to speak of: a DynamoDB
#: round trip is 5-20 ms, so two attempts 50 ms apart were sent back to back.
TIGHT_GAP_S = 0.05
#: How close to the same time of day a burst on another day must come to count as the same schedule: a job's
#: start drifts by minutes, its run lasts minutes more.
SAME_TIME_OF_DAY = pd.Timedelta("20min")
#: Median ratio of successive gaps at or above which the gaps grow (exponential backoff
#: doubles the ceiling each attempt; with full jitter the median ratio is still 2).
_GROWING = 1.5
#: Below this the gaps do not grow.
_FLAT = 1.3
#: Added to both gaps of a ratio so that jitter between round-trip-sized gaps reads as flat.
_RATIO_FLOOR_S = 0.01

CAPACITY_COLUMNS = (
    "timestamp",
    "resource",
    "kind",  # read | write
    "period",
    "throttle_events",
    "throttled_requests",
    "consumed_units",
    "consumed_per_s",
    "provisioned_per_s",
    "utilisation",  # consumed / (provisioned * period)
    "throttle_ratio",  # throttle events / (provisioned * period): demand refused per unit of capacity
    "capacity_source",  # metric | settings | on-demand | (NA: unknown)
)

THROTTLE_ERROR_COLUMNS = (
    "timestamp",
    "log_group",
    "log_stream",
    "request_id",
    "operation",
    "error_code",
    "sdk_retries",  # retries the SDK reports it already made ("reached max retries: 4")
    "attempt",  # attempt number the application logged, when it did
    "level",
    "message",
)

RETRY_COLUMNS = (
    "key",
    "operation",
    "start",
    "end",
    "attempts",
    "gaps",
    "median_gap_s",
    "min_gap_s",
    "max_gap_s",
    "growth",  # median ratio of successive gaps (NaN with fewer than two gaps)
    "gaps_within_50ms",
    "share_within_50ms",
    "interleaved",  # one key holds many calls that cannot be told apart: left out of the summary
    "pattern",  # no-backoff | exponential | fixed-delay | unclear | single
)

SCAN_COLUMNS = ("timestamp", "log_group", "request_id", "table", "message")

READ_BURST_COLUMNS = (
    "resource",
    "start",
    "end",
    "duration_s",
    "read_throttle_events",
    "share_of_read_throttles",
    "time_share",  # the burst's length over the span the read metrics cover
    "peak_read_utilisation",
    "write_throttle_events",
    "scan_lines",  # Scan lines from 5 min before the burst to its end
    "scan_lines_total",
    "scan_lift",
    "scan_p_value",
    "read_error_lines",  # throttled reads in the logs during the burst
    "time_of_day",  # HH:MM UTC of the burst's start
    "days_seen",  # distinct days with a burst at this time of day (±20 min), the burst's own day included
    "history_days",  # days of the longer history the time of day was checked on
    "history_days_at_this_time",  # of those, the days whose reads peaked or were throttled at this time of day
    "schedule_p_value",  # chance of that many days' read peaks at this time of day if peaks fell anywhere
    "recurring",
    "schedule",  # a scheduled rule (EventBridge ScheduleExpression cron) firing just before the burst
)

_READ_OPS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "ExecuteStatement", "BatchExecuteStatement"})
_WRITE_OPS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "ExecuteTransaction"})

# Throttle texts as the SDKs print them (see aws-samples/error_messages.txt): error codes are
# matched case-sensitively ("SlowDown" is a code, "slowdown" is English), phrases are not.
_THROTTLE = re.compile(
    r"ProvisionedThroughputExceeded(?:Exception)?|ThrottlingException|TooManyRequestsException"
    r"|RequestLimitExceeded|LimitExceededException|RequestThrottled(?:Exception)?|ThrottledException"
    r"|\bSlowDown\b|\(Throttling\)|\bThrottling:|error_class=\S*Throttl\w*"
    r"|(?i:rate exceeded|too many requests|please reduce your request rate"
    r"|throughput exceeds the current capacity)"
)
_THROTTLE_NEEDLES = "|".join(re.escape(n) for n in (
    "throttl", "rate exceeded", "too many requests", "provisionedthroughputexceeded", "slowdown",
    "reduce your request rate", "limitexceeded", "throughput exceeds", "toomanyrequests"))
_ERROR_CODE_IN_TEXT = re.compile(r"An error occurred \(([\w.]+)\)|api error (\w+):|errors::(\w+)", re.IGNORECASE)
_OPERATION_IN_TEXT = re.compile(
    r"when calling the (\w+) operation|operation error [^:,]+:\s*(\w+)|\b(\w+)Command\b"
)
_SDK_RETRIES = re.compile(r"reached max retries:\s*(\d+)|exceeded maximum number of attempts,\s*(\d+)", re.IGNORECASE)
_ATTEMPT_IN_TEXT = re.compile(
    r"(?i)\b(?:attempt|retry)(?:[_ ]?(?:number|no|count))?[\"']?\s*[:=#]?\s*[\"']?(\d+)\b"
)
_ITEM_KEY_IN_TEXT = re.compile(
    r"(?i)\b(?:item[_ ]?key|partition[_ ]?key|pk|key|item|item[_ ]?id|record[_ ]?id|message[_ ]?id)[\"']?\s*[:=]\s*[\"']?([\w\-:#./@]+)"
)
_ATTEMPT_COLUMNS = ("attempt", "attempt_number", "retry_attempt", "retry", "retries", "retry_count")
_ITEM_KEY_COLUMNS = ("item_key", "key", "pk", "partition_key", "item_id", "record_id", "message_id", "idempotency_key")
_ERROR_LEVELS = frozenset({"ERROR", "FATAL", "CRITICAL"})

_SCAN = re.compile(
    r"\"operation\"\s*:\s*\"Scan\"|\boperation[=:]\s*\"?Scan\b|calling the Scan operation"
    r"|\bScanCommand\b|\.scan\(|\bdynamodb[.:]scan\b|\bScan\b"
)
# A scanning job's own progress lines: "scanning orders, page 12 (1000 items)", "scanned 250000 rows", "segment 3/8 scan".
_SCAN_PROGRESS = re.compile(
    r"(?i)\bscan(?:s|ning|ned)?\b.{0,80}?\b(?:pages?|segments?|items?|rows?|records?|table|batch(?:es)?|"
    r"lastevaluatedkey|exclusivestartkey|totalsegments)\b"
    r"|\b(?:page|segment|batch)\b.{0,40}?\bscan(?:ned|ning)?\b"
)
# Pagination markers of a full-table read with no key condition (a Query names one).
_PAGINATED_READ = re.compile(r"(?i)last_?evaluated_?key|exclusive_?start_?key|total_?segments")
_KEYED_READ = re.compile(r"(?i)\bquery\b|key_?condition")
_TABLE_IN_TEXT = re.compile(r"(?i)\"?table[_ ]?name\"?\s*[:=]\s*\"?([\w.\-]+)|\btable[=/]([\w.\-]+)")


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------


def _table_of(dims: Any) -> str:
    d = parse_dims(dims)
    table = d.get("TableName")
    if not table:
        return "(all)"
    gsi = d.get("GlobalSecondaryIndexName")
    return f"{table}/index/{gsi}" if gsi else table


def _text(df: pd.DataFrame, *cols: str) -> pd.Series:
    parts = [column_or_na(df, c).astype("string").fillna("") for c in cols]
    out = parts[0]
    for p in parts[1:]:
        out = out + "\n" + p
    return out


def _setting_values(settings: pd.DataFrame | None, *names: str) -> pd.DataFrame:
    """Rows of a settings frame whose ``setting`` (or ``key``) is one of ``names`` (case-insensitive)."""
    if settings is None or settings.empty:
        return pd.DataFrame(columns=["resource_id", "setting", "value"])
    key = "setting" if "setting" in settings.columns else ("key" if "key" in settings.columns else None)
    if key is None or "value" not in settings.columns:
        return pd.DataFrame(columns=["resource_id", "setting", "value"])
    wanted = {n.lower() for n in names}
    sel = settings[key].astype("string").str.lower().isin(wanted).fillna(False).to_numpy(dtype=bool)
    out = settings.loc[sel]
    rid = out["resource_id"] if "resource_id" in out.columns else pd.Series("", index=out.index)
    return pd.DataFrame({"resource_id": rid.astype("string").fillna(""), "setting": out[key].astype("string"), "value": out["value"]})


def _matches_resource(resource_id: str, name: str) -> bool:
    if not resource_id or not name:
        return not resource_id
    rid, nm = resource_id.lower(), name.lower().split("/index/")[0]
    return rid == nm or rid.endswith("/" + nm) or rid.endswith(":" + nm)


def _ns(times: pd.Series) -> np.ndarray:
    """UTC times as int64 nanoseconds since the epoch."""
    return as_utc(times).dt.tz_localize(None).astype("datetime64[ns]").to_numpy().astype("int64")


# ---------------------------------------------------------------------------------------------
# capacity
# ---------------------------------------------------------------------------------------------


def _per_resource(df: pd.DataFrame, name: str) -> pd.DataFrame:
    if df.empty:
        return pd.DataFrame(columns=["timestamp", "resource", name, "period"])
    out = pd.DataFrame(
        {
            "timestamp": df["timestamp"],
            "resource": df["dimensions"].map(_table_of),
            name: df["value"],
            "period": pd.to_numeric(df["period"], errors="coerce"),
        }
    )
    return out.groupby(["timestamp", "resource"], as_index=False).agg({name: "sum", "period": "max"})


def capacity_timeline(metrics: pd.DataFrame | None, settings: pd.DataFrame | None = None) -> pd.DataFrame:
    """DynamoDB throttles against capacity, per table (or index), kind (read/write) and time bin.

    Parameters
    ----------
    metrics:
        Long metrics frame (``schema.METRIC_COLUMNS``) with ``AWS/DynamoDB`` series:
        ``ReadThrottleEvents``/``WriteThrottleEvents`` (Sum), ``ThrottledRequests`` (Sum, by
        ``Operation``), ``ConsumedRead/WriteCapacityUnits`` (Sum) and
        ``ProvisionedRead/WriteCapacityUnits`` (Average, Maximum or Minimum).
    settings:
        Optional settings frame; ``ReadCapacityUnits``/``WriteCapacityUnits`` stand in when
        the Provisioned* series are missing, ``BillingMode`` ``PAY_PER_REQUEST`` marks an
        on-demand table (no provisioned capacity, utilisation NaN).

    Returns
    -------
    pandas.DataFrame
        :data:`CAPACITY_COLUMNS`, one row per (timestamp, resource, kind). ``utilisation`` is
        consumed units over ``provisioned_per_s × period`` (1.0 = every provisioned unit
        used); ``throttle_ratio`` is refused events per provisioned unit of the bin.

    Example
    -------
    >>> import pandas as pd
    >>> t = pd.Timestamp("2026-03-01T03:00Z")
    >>> m = pd.DataFrame({"timestamp": [t, t, t], "namespace": "AWS/DynamoDB",
    ...     "metric_name": ["ConsumedWriteCapacityUnits", "ProvisionedWriteCapacityUnits", "WriteThrottleEvents"],
    ...     "dimensions": '{"TableName":"orders"}', "stat": ["Sum", "Average", "Sum"], "period": 60,
    ...     "value": [5400.0, 100.0, 800.0]})
    >>> row = capacity_timeline(m).iloc[0]
    >>> row["kind"], round(float(row["utilisation"]), 2), round(float(row["throttle_ratio"]), 3)
    ('write', 0.9, 0.133)
    """
    frames = []
    for kind in ("read", "write"):
        k = kind.capitalize()
        thr = _per_resource(select_metric(metrics, "AWS/DynamoDB", f"{k}ThrottleEvents", "Sum"), "throttle_events")
        con = _per_resource(select_metric(metrics, "AWS/DynamoDB", f"Consumed{k}CapacityUnits", "Sum"), "consumed_units")
        prov = select_metric(metrics, "AWS/DynamoDB", f"Provisioned{k}CapacityUnits", ("Average", "Maximum", "Minimum"))
        prov = _per_resource(prov, "provisioned_per_s")
        req = select_metric(metrics, "AWS/DynamoDB", "ThrottledRequests", "Sum")
        if not req.empty:
            ops = req["dimensions"].map(lambda d: parse_dims(d).get("Operation", ""))
            ops_of_kind = _READ_OPS if kind == "read" else _WRITE_OPS
            req = req.loc[ops.isin(ops_of_kind).to_numpy(dtype=bool)]
        req = _per_resource(req, "throttled_requests")
        parts = [p for p in (thr, con, prov, req) if not p.empty]
        if not parts:
            continue
        merged = parts[0]
        for p in parts[1:]:
            merged = merged.merge(p, on=["timestamp", "resource"], how="outer", suffixes=("", "_r"))
            if "period_r" in merged.columns:
                merged["period"] = merged["period"].fillna(merged["period_r"])
                merged = merged.drop(columns=["period_r"])
        merged["kind"] = kind
        frames.append(merged)
    if not frames:
        return empty_table(CAPACITY_COLUMNS, {"timestamp": UTC_NS, "period": "float64"})
    df = pd.concat(frames, ignore_index=True)
    for c in ("throttle_events", "throttled_requests", "consumed_units", "provisioned_per_s"):
        if c not in df.columns:
            df[c] = np.nan
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df["capacity_source"] = pd.Series(np.where(df["provisioned_per_s"].notna(), "metric", None), index=df.index, dtype="object")
    _capacity_from_settings(df, settings)
    df["period"] = pd.to_numeric(df["period"], errors="coerce").astype("float64")
    df["consumed_per_s"] = df["consumed_units"] / df["period"]
    cap_units = df["provisioned_per_s"] * df["period"]
    with np.errstate(divide="ignore", invalid="ignore"):
        df["utilisation"] = np.where(cap_units > 0, df["consumed_units"] / cap_units, np.nan)
        df["throttle_ratio"] = np.where(cap_units > 0, df["throttle_events"].fillna(0.0) / cap_units, np.nan)
    df["timestamp"] = as_utc(df["timestamp"])
    df = df.sort_values(["resource", "kind", "timestamp"], kind="stable", ignore_index=True)
    return df[list(CAPACITY_COLUMNS)]


def _capacity_from_settings(df: pd.DataFrame, settings: pd.DataFrame | None) -> None:
    rows = _setting_values(settings, "ReadCapacityUnits", "WriteCapacityUnits", "BillingMode",
                           "ProvisionedThroughput.ReadCapacityUnits", "ProvisionedThroughput.WriteCapacityUnits",
                           "BillingModeSummary.BillingMode")
    if rows.empty:
        return
    for resource in df["resource"].unique():
        mine = rows[[_matches_resource(r, resource) for r in rows["resource_id"]]]
        if mine.empty:
            continue
        names = mine["setting"].str.lower()
        mode = mine.loc[names.str.endswith("billingmode").to_numpy(dtype=bool), "value"]
        on_demand = any(str(v).upper() == "PAY_PER_REQUEST" for v in mode)
        for kind in ("read", "write"):
            sel = ((df["resource"] == resource) & (df["kind"] == kind) & df["provisioned_per_s"].isna()).to_numpy(dtype=bool)
            if not sel.any():
                continue
            if on_demand:
                df.loc[sel, "capacity_source"] = "on-demand"
                continue
            vals = pd.to_numeric(mine.loc[names.str.endswith(f"{kind}capacityunits").to_numpy(dtype=bool), "value"], errors="coerce").dropna()
            if len(vals) and vals.iloc[0] > 0:
                df.loc[sel, "provisioned_per_s"] = float(vals.iloc[0])
                df.loc[sel, "capacity_source"] = "settings"


# ---------------------------------------------------------------------------------------------
# throttle lines and retry spacing
# ---------------------------------------------------------------------------------------------

_CODE_NAMES = {
    "provisionedthroughputexceeded": "ProvisionedThroughputExceededException",
    "provisionedthroughputexceededexception": "ProvisionedThroughputExceededException",
    "throttlingexception": "ThrottlingException",
    "(throttling)": "Throttling",
    "throttling:": "Throttling",
    "toomanyrequestsexception": "TooManyRequestsException",
    "requestlimitexceeded": "RequestLimitExceeded",
    "limitexceededexception": "LimitExceededException",
    "requestthrottled": "RequestThrottled",
    "requestthrottledexception": "RequestThrottledException",
    "throttledexception": "ThrottledException",
    "slowdown": "SlowDown",
    "please reduce your request rate": "SlowDown",
    "too many requests": "TooManyRequests",
    "throughput exceeds the current capacity": "ThrottlingException",
    "rate exceeded": "Rate exceeded",
}


def _canonical_code(match: Any, text: str) -> str:
    if not isinstance(match, str):
        return "HTTP 429"
    low = match.lower()
    if low.startswith("error_class="):
        return match.rsplit(":", 1)[-1].split("=")[-1]
    if low == "rate exceeded":
        m = _ERROR_CODE_IN_TEXT.search(text)
        if m:
            return next(g for g in m.groups() if g)
    return _CODE_NAMES.get(low, match)


def throttle_errors(logs: pd.DataFrame | None) -> pd.DataFrame:
    """Every log line that reports throttling, with its code, operation and retry counts.

    Matches the texts AWS SDKs print (``ProvisionedThroughputExceededException``,
    ``ThrottlingException``, ``(Throttling) ... Rate exceeded``, ``TooManyRequestsException``,
    ``SlowDown``, ``RequestLimitExceeded``, DynamoDB on-demand's "Throughput exceeds the
    current capacity") in ``message``, ``error_type`` and ``error_message``, and access-log
    rows with status 429. Lines without a timestamp are left out (they cannot be placed in time).

    Parameters
    ----------
    logs:
        Parsed log events (``schema.PARSED_COLUMNS``); extra columns such as ``attempt`` are used.

    Returns
    -------
    pandas.DataFrame
        :data:`THROTTLE_ERROR_COLUMNS`, sorted by time. ``operation`` comes from the column or
        from the text ("when calling the BatchWriteItem operation", Go's "operation error
        DynamoDB: PutItem"); ``sdk_retries`` from "reached max retries: N"; ``attempt`` from
        an ``attempt`` column or "attempt 3" / "retry=2" in the text.

    Example
    -------
    >>> import pandas as pd
    >>> logs = pd.DataFrame({"timestamp": [pd.Timestamp("2026-03-01T03:00Z")], "message": [
    ...     "An error occurred (ThrottlingException) when calling the PutItem operation "
    ...     "(reached max retries: 4): Rate exceeded"]})
    >>> row = throttle_errors(logs).iloc[0]
    >>> row["error_code"], row["operation"], int(row["sdk_retries"])
    ('ThrottlingException', 'PutItem', 4)
    """
    out = _throttle_frame(logs)
    return out.sort_values("timestamp", kind="stable", ignore_index=True)[list(THROTTLE_ERROR_COLUMNS)]


def _throttle_frame(logs: pd.DataFrame | None) -> pd.DataFrame:
    """Throttle lines in log order, with ``_row`` (the position in ``logs``)."""
    dtypes = {"timestamp": UTC_NS, "sdk_retries": "Int64", "attempt": "Int64", "_row": "int64"}
    if logs is None or logs.empty or "timestamp" not in logs.columns:
        return empty_table(THROTTLE_ERROR_COLUMNS + ("_row",), dtypes)
    logs = logs.reset_index(drop=True)
    timed = as_utc(logs["timestamp"]).notna().to_numpy()  # a line without a time cannot be spaced: left out
    text = _text(logs, "message", "error_type", "error_message")
    status = pd.to_numeric(column_or_na(logs, "status", "Int64"), errors="coerce")
    # a literal pre-scan (linear) keeps the regex off the lines that cannot match
    cand = text.str.lower().str.contains(_THROTTLE_NEEDLES, regex=True).fillna(False).to_numpy(dtype=bool)
    found = pd.Series(pd.NA, index=text.index, dtype="string")
    if cand.any():
        found[cand] = text[cand].str.extract(f"({_THROTTLE.pattern})", expand=False)
    hit = (found.notna() | (status == 429)).fillna(False).to_numpy(dtype=bool) & timed
    if not hit.any():
        return empty_table(THROTTLE_ERROR_COLUMNS + ("_row",), dtypes)
    sub = logs.loc[hit]
    txt = text[hit]
    codes = [_canonical_code(m, t) for m, t in zip(found[hit].tolist(), txt.tolist())]
    op = column_or_na(sub, "operation").astype("string")
    missing = (op.isna() | (op.str.len() == 0)).fillna(True).to_numpy(dtype=bool)
    if missing.any():  # only the lines the parser left without an operation are searched
        from_text = first_group(txt[missing].str.extract(_OPERATION_IN_TEXT.pattern, expand=True)).astype("string")
        op = op.copy()
        op[missing] = from_text.to_numpy()
    lower = txt.str.lower()
    sdk_retries = pd.Series(np.nan, index=txt.index)
    said = lower.str.contains("max retries|maximum number of attempts", regex=True).fillna(False).to_numpy(dtype=bool)
    if said.any():
        retries = txt[said].str.extract(_SDK_RETRIES.pattern, expand=True)
        found_retries = to_float(retries[0]).fillna(to_float(retries[1]) - 1)
        sdk_retries[said] = found_retries.to_numpy()
    out = pd.DataFrame(
        {
            "timestamp": as_utc(sub["timestamp"]).to_numpy(),
            "log_group": column_or_na(sub, "log_group").astype("string").to_numpy(),
            "log_stream": column_or_na(sub, "log_stream").astype("string").to_numpy(),
            "request_id": column_or_na(sub, "request_id").astype("string").to_numpy(),
            "operation": op.to_numpy(),
            "error_code": codes,
            "sdk_retries": sdk_retries.astype("Int64").to_numpy(),
            "attempt": _attempts(sub, txt, lower).to_numpy(),
            "level": column_or_na(sub, "level").astype("string").str.upper().to_numpy(),
            "message": column_or_na(sub, "message").astype("string").to_numpy(),
            "_row": np.flatnonzero(hit),
        }
    )
    out["timestamp"] = as_utc(out["timestamp"])
    for c in ("log_group", "log_stream", "request_id", "operation", "error_code", "level", "message"):
        out[c] = out[c].astype("string")
    out["sdk_retries"] = out["sdk_retries"].astype("Int64")
    out["attempt"] = out["attempt"].astype("Int64")
    return out


def _attempts(sub: pd.DataFrame, txt: pd.Series, lower: pd.Series) -> pd.Series:
    col = next((c for c in _ATTEMPT_COLUMNS if c in sub.columns), None)
    from_text = pd.Series(np.nan, index=txt.index)
    said = lower.str.contains("attempt|retry", regex=True).fillna(False).to_numpy(dtype=bool)
    if said.any():
        from_text[said] = to_float(txt[said].str.extract(_ATTEMPT_IN_TEXT.pattern, expand=False)).to_numpy()
    if col is not None:
        vals = to_float(sub[col])
        from_text = vals.where(vals.notna(), from_text)
    return from_text.round().astype("Int64")


def _item_keys(logs: pd.DataFrame, rows: pd.Index) -> pd.Series:
    col = next((c for c in _ITEM_KEY_COLUMNS if c in logs.columns), None)
    txt = column_or_na(logs.loc[rows], "message").astype("string").fillna("")
    from_text = txt.str.extract(_ITEM_KEY_IN_TEXT.pattern, expand=False).astype("string")
    if col is not None:
        vals = logs.loc[rows, col].astype("string")
        from_text = vals.where(vals.notna(), from_text)
    return from_text.fillna("")


def _sequences(times: np.ndarray, attempts: np.ndarray, max_gap_ns: int) -> list[list[int]]:
    """Split one key's time-sorted attempts into calls.

    With attempt numbers, each row joins the oldest open call whose last attempt is the
    previous number (so interleaved calls 1,1,2,2,3,3 come apart); otherwise a new call
    starts after a pause longer than ``max_gap``.
    """
    seqs: list[list[int]] = []
    if np.all(attempts >= 0):
        open_by_next: dict[int, list[int]] = {}
        for i in range(len(times)):
            a = int(attempts[i])
            waiting = open_by_next.get(a, [])
            chosen = None
            while waiting:
                s = waiting.pop(0)
                if times[i] - times[seqs[s][-1]] <= max_gap_ns:
                    chosen = s
                    break
            if chosen is None:
                seqs.append([i])
                chosen = len(seqs) - 1
            else:
                seqs[chosen].append(i)
            open_by_next.setdefault(a + 1, []).append(chosen)
        return seqs
    current: list[int] = []
    for i in range(len(times)):
        if current and times[i] - times[current[-1]] > max_gap_ns:
            seqs.append(current)
            current = []
        current.append(i)
    if current:
        seqs.append(current)
    return seqs


def _classify(gaps: np.ndarray, growth: float) -> str:
    if len(gaps) == 0:
        return "single"
    med = float(np.median(gaps))
    top = float(gaps.max())
    # every gap at round-trip scale: ratios between 5 ms and 15 ms gaps are noise, not growth
    if med <= TIGHT_GAP_S and (top <= 2 * TIGHT_GAP_S or len(gaps) == 1 or growth < _FLAT):
        return "no-backoff"
    if len(gaps) >= 2 and growth >= _GROWING:
        return "exponential"
    if len(gaps) >= 2 and growth < _FLAT:
        return "fixed-delay"
    return "unclear"


def retry_spacing(
    logs: pd.DataFrame | None,
    *,
    key: str | Sequence[str] | None = None,
    max_gap: str | pd.Timedelta = "2min",
    interleaved_above: int = 30,
) -> pd.DataFrame:
    """Gaps between successive attempts of the same call, one row per call.

    An attempt is a throttle line (:func:`throttle_errors`). Attempts belong to the same
    call when they share the key — by default ``request_id`` + ``operation`` + an item key
    when the logs carry one (an ``item_key``/``pk``/``key`` column or ``key=...`` in the
    text) — and follow each other within ``max_gap``. Logged attempt numbers ("attempt 3")
    split interleaved calls apart.

    Parameters
    ----------
    logs:
        Parsed log events.
    key:
        Column(s) naming one logical call, when the defaults do not fit.
    max_gap:
        A longer pause starts a new call (backoff caps are seconds to tens of seconds).
    interleaved_above:
        Without attempt numbers and item keys, a key with more attempts than this in one
        burst most likely mixes many calls (one invocation writing many items); such rows are
        marked ``interleaved`` and left out of :func:`retry_summary`.

    Returns
    -------
    pandas.DataFrame
        :data:`RETRY_COLUMNS`. ``growth`` is the median ratio of successive gaps
        (``(g[i+1] + 10 ms) / (g[i] + 10 ms)``): about 2 for exponential backoff, about 1
        without. ``pattern`` is ``no-backoff`` (median gap ≤ 50 ms and no gap beyond 100 ms,
        or not growing),
        ``exponential`` (growth ≥ 1.5), ``fixed-delay`` (flat but spaced), ``unclear`` or
        ``single`` (one attempt).

    Example
    -------
    >>> import pandas as pd
    >>> t0 = pd.Timestamp("2026-03-01T03:00:00Z")
    >>> logs = pd.DataFrame({"timestamp": [t0 + pd.Timedelta(seconds=s) for s in (0, 0.1, 0.3, 0.7, 1.5)],
    ...     "request_id": "r1", "message": "ThrottlingException: Rate exceeded"})
    >>> row = retry_spacing(logs).iloc[0]
    >>> row["pattern"], round(float(row["growth"]), 1)
    ('exponential', 2.0)
    """
    return _retry_spacing(logs, _throttle_frame(logs), key=key, max_gap=max_gap, interleaved_above=interleaved_above)


def _retry_spacing(logs: pd.DataFrame | None, errs: pd.DataFrame, *, key: str | Sequence[str] | None = None,
                   max_gap: str | pd.Timedelta = "2min", interleaved_above: int = 30) -> pd.DataFrame:
    empty = empty_table(RETRY_COLUMNS, {"start": UTC_NS, "end": UTC_NS, "attempts": "int64", "gaps": "int64", "interleaved": "bool"})
    if errs.empty:
        return empty
    assert logs is not None
    logs = logs.reset_index(drop=True)
    errs = errs.sort_values("timestamp", kind="stable", ignore_index=True)
    rows_in_logs = errs["_row"].to_numpy()
    if key is not None:
        cols = [key] if isinstance(key, str) else list(key)
        missing = [c for c in cols if c not in logs.columns]
        if missing:
            raise ValueError(f"key column(s) {missing} not in the logs; columns are {list(logs.columns)}")
        parts = [logs[c].astype("string").fillna("").to_numpy()[rows_in_logs] for c in cols]
        has_item_key = True
    else:
        item = _item_keys(logs, logs.index[rows_in_logs]).to_numpy()
        parts = [errs["request_id"].fillna("").to_numpy(), errs["operation"].fillna("").to_numpy(), item]
        has_item_key = bool((item != "").any())
    keys = pd.Series(["|".join(map(str, v)) for v in zip(*parts)], dtype="object")
    if (keys.str.replace("|", "", regex=False) == "").all():
        return empty  # nothing ties one line to another
    times = _ns(errs["timestamp"])
    attempts = errs["attempt"].fillna(-1).astype("int64").to_numpy()
    max_gap_ns = int(pd.Timedelta(max_gap).value)
    rows = []
    for k, idx in keys.groupby(keys, sort=False).groups.items():
        if str(k).replace("|", "") == "":
            continue
        idx = np.asarray(idx)
        t, a = times[idx], attempts[idx]
        numbered = bool(np.all(a >= 0))
        for seq in _sequences(t, a, max_gap_ns):
            ts = t[seq]
            gaps = np.diff(ts) / 1e9
            if len(gaps) >= 2:
                ratios = (gaps[1:] + _RATIO_FLOOR_S) / (gaps[:-1] + _RATIO_FLOOR_S)
                growth = float(np.median(ratios))
            else:
                growth = float("nan")
            within = int((gaps <= TIGHT_GAP_S).sum())
            rows.append(
                {
                    "key": str(k),
                    "operation": errs["operation"].iloc[idx[seq[0]]],
                    "start": pd.Timestamp(int(ts[0]), tz="UTC"),
                    "end": pd.Timestamp(int(ts[-1]), tz="UTC"),
                    "attempts": len(seq),
                    "gaps": len(gaps),
                    "median_gap_s": float(np.median(gaps)) if len(gaps) else float("nan"),
                    "min_gap_s": float(gaps.min()) if len(gaps) else float("nan"),
                    "max_gap_s": float(gaps.max()) if len(gaps) else float("nan"),
                    "growth": growth,
                    "gaps_within_50ms": within,
                    "share_within_50ms": within / len(gaps) if len(gaps) else float("nan"),
                    "interleaved": bool(not numbered and not has_item_key and key is None and len(seq) > interleaved_above),
                    "pattern": _classify(gaps, growth),
                }
            )
    if not rows:
        return empty
    out = pd.DataFrame(rows, columns=list(RETRY_COLUMNS))
    out["start"] = as_utc(out["start"])
    out["end"] = as_utc(out["end"])
    out["operation"] = out["operation"].astype("string")
    return out.sort_values("start", kind="stable", ignore_index=True)


def retry_summary(spacing: pd.DataFrame, *, min_calls: int = 5, min_gaps: int = 10) -> dict[str, Any]:
    """Pool the calls of :func:`retry_spacing` into one verdict on backoff.

    Parameters
    ----------
    spacing:
        The frame :func:`retry_spacing` returns.
    min_calls, min_gaps:
        Below this many retried calls or gaps the verdict is ``insufficient``: a handful of
        gaps cannot tell a tight loop from the 5 % of full-jitter delays that fall under 50 ms.

    Returns
    -------
    dict
        ``calls`` (retried calls), ``gaps``, ``median_gap_s``, ``share_within_50ms`` (pooled over
        gaps), ``median_growth`` (over calls with two gaps or more), ``share_no_backoff`` and
        ``share_exponential`` (over calls), ``interleaved`` (calls left out) and ``verdict``:
        ``no-backoff`` (≥ 50 % of gaps within 50 ms and no growth), ``backoff`` (growth ≥ 1.5
        or most calls exponential), ``fixed-delay`` (spaced but flat), ``mixed`` or
        ``insufficient``.

    Example
    -------
    >>> import pandas as pd
    >>> retry_summary(pd.DataFrame(columns=list(RETRY_COLUMNS)))["verdict"]
    'insufficient'
    """
    out: dict[str, Any] = {
        "calls": 0, "gaps": 0, "median_gap_s": float("nan"), "share_within_50ms": float("nan"),
        "median_growth": float("nan"), "share_no_backoff": float("nan"), "share_exponential": float("nan"),
        "interleaved": 0, "verdict": "insufficient",
    }
    if spacing is None or spacing.empty:
        return out
    inter = spacing["interleaved"].astype(bool)
    out["interleaved"] = int((inter & (spacing["attempts"] > 1)).sum())
    s = spacing.loc[~inter & (spacing["gaps"] > 0)]
    if s.empty:
        return out
    gaps = int(s["gaps"].sum())
    out["calls"] = int(len(s))
    out["gaps"] = gaps
    # pooled median gap: weight each call's median by its gap count (close enough for a verdict)
    out["median_gap_s"] = float(np.median(np.repeat(s["median_gap_s"].to_numpy(), s["gaps"].to_numpy())))
    out["share_within_50ms"] = float(s["gaps_within_50ms"].sum() / gaps)
    g = s["growth"].dropna()
    out["median_growth"] = float(g.median()) if len(g) else float("nan")
    out["share_no_backoff"] = float((s["pattern"] == "no-backoff").mean())
    out["share_exponential"] = float((s["pattern"] == "exponential").mean())
    if len(s) < min_calls or gaps < min_gaps:
        return out
    growth = out["median_growth"]
    flat = math.isnan(growth) or growth < _FLAT
    if out["share_within_50ms"] >= 0.5 and flat:
        out["verdict"] = "no-backoff"
    elif (not math.isnan(growth) and growth >= _GROWING) or out["share_exponential"] >= 0.5:
        out["verdict"] = "backoff"
    elif flat and out["median_gap_s"] > TIGHT_GAP_S:
        out["verdict"] = "fixed-delay"
    else:
        out["verdict"] = "mixed"
    return out


# ---------------------------------------------------------------------------------------------
# scans and read bursts
# ---------------------------------------------------------------------------------------------


def scan_operations(logs: pd.DataFrame | None) -> pd.DataFrame:
    """Log lines of DynamoDB Scan calls, from the client or from the scanning job itself.

    A line counts when its ``operation`` is ``Scan`` or its text names the call: a JSON
    ``"operation": "Scan"``, boto's "calling the Scan operation", ``ScanCommand`` (JS v3),
    ``table.scan(``, or the word ``Scan`` (case-sensitive, so "ScannedCount" alone does not
    count). A job that logs its own progress counts too: "scan", "scanning" or "scanned"
    (any case) with a page, segment, batch, item, row or record count on the same line, or
    the pagination keys of a full-table read (``LastEvaluatedKey``, ``ExclusiveStartKey``,
    ``TotalSegments``) on a line that names no Query or key condition.

    Returns
    -------
    pandas.DataFrame
        :data:`SCAN_COLUMNS`; ``table`` from ``TableName=...``/``"table_name": ...`` when present.

    Example
    -------
    >>> import pandas as pd
    >>> logs = pd.DataFrame({"timestamp": [pd.Timestamp("2026-03-01T02:00Z")] * 2,
    ...     "message": ["Scan of table orders started TableName=orders", "ScannedCount=10"]})
    >>> scan_operations(logs)["table"].tolist()
    ['orders']
    """
    cols = {"timestamp": UTC_NS}
    if logs is None or logs.empty or "timestamp" not in logs.columns:
        return empty_table(SCAN_COLUMNS, cols)
    op = column_or_na(logs, "operation").astype("string").str.strip().str.lower()
    msg = column_or_na(logs, "message").astype("string").fillna("")
    cand = msg.str.contains("scan", case=False, regex=False).fillna(False).to_numpy(dtype=bool)
    text_hit = np.zeros(len(msg), dtype=bool)
    if cand.any():
        text_hit[cand] = (msg[cand].str.contains(_SCAN.pattern, regex=True, na=False)
                          | msg[cand].str.contains(_SCAN_PROGRESS.pattern, regex=True, na=False)).to_numpy(dtype=bool)
    paged = msg.str.contains(_PAGINATED_READ.pattern, regex=True, na=False).to_numpy(dtype=bool)
    if paged.any():
        text_hit[paged] |= ~msg[paged].str.contains(_KEYED_READ.pattern, regex=True, na=False).to_numpy(dtype=bool)
    hit = (op.isin(["scan", "scancommand", "parallel_scan"])).fillna(False).to_numpy(dtype=bool) | text_hit
    if not hit.any():
        return empty_table(SCAN_COLUMNS, cols)
    sub = logs.loc[hit]
    tables = first_group(msg[hit].str.extract(_TABLE_IN_TEXT.pattern, expand=True))
    out = pd.DataFrame(
        {
            "timestamp": as_utc(sub["timestamp"]).to_numpy(),
            "log_group": column_or_na(sub, "log_group").astype("string").to_numpy(),
            "request_id": column_or_na(sub, "request_id").astype("string").to_numpy(),
            "table": tables.astype("string").to_numpy(),
            "message": msg[hit].to_numpy(),
        }
    )
    out["timestamp"] = as_utc(out["timestamp"])
    for c in ("log_group", "request_id", "table", "message"):
        out[c] = out[c].astype("string")
    return out.sort_values("timestamp", kind="stable", ignore_index=True)


def _cron_field(text: str, low: int, high: int) -> set[int] | None:
    """Values of one cron field (``*``, ``5``, ``1,2``, ``0-10``, ``*/15``, ``10-50/10``); None when unreadable."""
    out: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        step = 1
        if "/" in part:
            part, _, st = part.partition("/")
            if not st.isdigit() or int(st) == 0:
                return None
            step = int(st)
        if part in ("*", "?", ""):
            lo, hi = low, high
        elif "-" in part:
            a, _, b = part.partition("-")
            if not (a.isdigit() and b.isdigit()):
                return None
            lo, hi = int(a), int(b)
        elif part.isdigit():
            lo = hi = int(part)
            if step != 1:
                hi = high
        else:
            return None
        out.update(range(lo, hi + 1, step))
    return {v for v in out if low <= v <= high}


def _schedules(settings: pd.DataFrame | None) -> list[tuple[str, str, set[int]]]:
    """Scheduled rules from the settings: ``(resource_id, expression, minutes of the day it fires, UTC)``.

    EventBridge ``cron(minutes hours day-of-month month day-of-week year)`` expressions are
    evaluated in UTC; ``rate(...)`` expressions have no time of day and are skipped.
    """
    rows = _setting_values(settings, "ScheduleExpression", "schedule_expression", "Schedule")
    out = []
    for rid, expr in zip(rows["resource_id"], rows["value"]):
        m = re.match(r"^\s*cron\((.*)\)\s*$", str(expr))
        if not m:
            continue
        fields = m.group(1).split()
        if len(fields) < 2:
            continue
        minutes = _cron_field(fields[0], 0, 59)
        hours = _cron_field(fields[1], 0, 23)
        if not minutes or not hours or len(minutes) * len(hours) > 288:
            continue  # unreadable, or fires so often that any burst would "match"
        out.append((str(rid), str(expr), {h * 60 + mi for h in hours for mi in minutes}))
    return out


def _schedule_before(schedules: list[tuple[str, str, set[int]]], start: pd.Timestamp, *,
                     lead_min: int = 5, lag_min: int = 15) -> str | None:
    """The first schedule firing between ``lead_min`` after and ``lag_min`` before ``start``'s time of day."""
    mod = _minute_of_day(start)
    for rid, expr, fires in schedules:
        if any(-lead_min <= ((mod - f) % 1440 if (mod - f) % 1440 <= 720 else (mod - f) % 1440 - 1440) <= lag_min for f in fires):
            name = rid.rsplit("/", 1)[-1] if rid else "rule"
            return f"{name} {expr}"
    return None


def _minute_of_day(ts: pd.Timestamp) -> int:
    return ts.hour * 60 + ts.minute


def _tod_distance(a: int, b: int) -> int:
    d = abs(a - b) % 1440
    return min(d, 1440 - d)


def schedule_recurrence(history: pd.DataFrame | None, resource: str, at: pd.Timestamp, *,
                        same_time: str | pd.Timedelta = "20min") -> dict[str, Any]:  # SAME_TIME_OF_DAY
    """Do the table's reads peak at this time of day on the days before ``at``? A daily job shows so.

    Reads a longer, coarser history (``ConsumedReadCapacityUnits`` and ``ReadThrottleEvents``,
    Sum, e.g. a week at 5 minutes) of ``resource``. A day before ``at``'s day *shows it* when it
    had read throttles within ``same_time`` of ``at``'s time of day, or its read peak fell there
    and stood out (at least twice the day's median bin). Days covered by less than half their
    bins are not judged. The p-value is the binomial chance of at least that many such days if
    each day's peak fell anywhere: ``P = (2 × same_time + period) / 24 h`` a day.

    Returns
    -------
    dict
        ``history_days`` (days judged), ``days_at_this_time``, ``p_value``, ``resolution_s``.

    Example
    -------
    >>> import pandas as pd
    >>> ts = pd.date_range("2026-03-01T00:00Z", "2026-03-07T23:55Z", freq="5min")
    >>> reads = [900.0 if (t.hour, t.minute) == (6, 0) else 50.0 for t in ts]
    >>> h = pd.DataFrame({"timestamp": ts, "namespace": "AWS/DynamoDB", "metric_name": "ConsumedReadCapacityUnits",
    ...                   "dimensions": '{"TableName":"orders"}', "stat": "Sum", "period": 300, "value": reads})
    >>> r = schedule_recurrence(h, "orders", pd.Timestamp("2026-03-08T06:01Z"))
    >>> r["days_at_this_time"], r["history_days"], r["p_value"] < 1e-6
    (7, 7, True)
    """
    out: dict[str, Any] = {"history_days": 0, "days_at_this_time": 0, "p_value": float("nan"), "resolution_s": float("nan")}
    cap = capacity_timeline(history)
    if cap.empty:
        return out
    cap = cap[(cap["kind"] == "read") & cap["resource"].map(lambda r: _matches_resource(str(r), str(resource)) or r == resource)]
    cap = cap[cap["timestamp"] < at.floor("D")]
    if cap.empty:
        return out
    period = float(cap["period"].dropna().median()) if cap["period"].notna().any() else 300.0
    tol = pd.Timedelta(same_time)
    mod = _minute_of_day(at)
    day_bins = 86400.0 / period
    days = judged = 0
    for _, day in cap.groupby(cap["timestamp"].dt.floor("D")):
        if len(day) < 0.5 * day_bins:
            continue
        judged += 1
        near = day["timestamp"].map(lambda t: _tod_distance(_minute_of_day(t), mod) <= tol.total_seconds() / 60)
        throttled = bool((day.loc[near.to_numpy(dtype=bool), "throttle_events"].fillna(0) > 0).any())
        reads = day["consumed_units"].fillna(0.0)
        peak_near = bool(near.loc[reads.idxmax()]) and float(reads.max()) >= 2 * max(float(reads.median()), 1e-9)
        days += int(throttled or peak_near)
    chance = min(1.0, (2 * tol.total_seconds() + period) / 86400.0)
    out.update({"history_days": judged, "days_at_this_time": days, "resolution_s": period,
                "p_value": binom_sf(days, judged, chance) if judged else float("nan")})
    return out


def read_bursts(
    metrics: pd.DataFrame | None,
    logs: pd.DataFrame | None = None,
    *,
    settings: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
    merge_gap: str | pd.Timedelta = "15min",
    scan_lead: str | pd.Timedelta = "5min",
    same_time: str | pd.Timedelta = "20min",
) -> pd.DataFrame:
    """Read-throttle bursts per table, with the Scans, writes and time of day around each.

    A burst is a run of bins with ``ReadThrottleEvents > 0``; runs separated by less than
    ``merge_gap`` are one burst. For each burst: its share of the table's read throttles
    against its share of the time covered (a scan burns capacity in one block), the peak
    read utilisation, the write throttles in the same span (a Scan hurts reads, not writes),
    the Scan lines from ``scan_lead`` before it to its end with their lift over what the
    burst's length would hold by chance and a binomial p-value, throttled reads logged in it,
    whether bursts recur at the same time of day (± ``same_time``) on other days — in the
    metrics themselves, and in a longer, coarser ``history`` of the table's reads
    (:func:`schedule_recurrence`: a daily job needs days of history to show) — and which
    scheduled rule (a ``ScheduleExpression`` cron in the settings, UTC) fired up to 15 minutes
    before it.

    Returns
    -------
    pandas.DataFrame
        :data:`READ_BURST_COLUMNS`, largest burst first.

    Example
    -------
    >>> import pandas as pd
    >>> ts = pd.date_range("2026-03-01T01:00Z", periods=120, freq="1min")
    >>> vals = [0.0] * 60 + [400.0] * 5 + [0.0] * 55
    >>> m = pd.DataFrame({"timestamp": ts, "namespace": "AWS/DynamoDB", "metric_name": "ReadThrottleEvents",
    ...     "dimensions": '{"TableName":"orders"}', "stat": "Sum", "period": 60, "value": vals})
    >>> b = read_bursts(m)
    >>> float(b.loc[0, "read_throttle_events"]), float(b.loc[0, "duration_s"]), b.loc[0, "time_of_day"]
    (2000.0, 300.0, '02:00')
    """
    dt = {"start": UTC_NS, "end": UTC_NS, "recurring": "bool"}
    cap = capacity_timeline(metrics, settings)
    if cap.empty:
        return empty_table(READ_BURST_COLUMNS, dt)
    reads = cap[(cap["kind"] == "read") & cap["throttle_events"].notna()]
    if reads.empty or not (reads["throttle_events"] > 0).any():
        return empty_table(READ_BURST_COLUMNS, dt)
    writes = cap[cap["kind"] == "write"]
    scans = scan_operations(logs)
    errs = throttle_errors(logs)
    read_errs = errs[errs["operation"].isin(list(_READ_OPS)).fillna(False).to_numpy(dtype=bool)
                     | (errs["operation"].isna() & (errs["error_code"] == "ProvisionedThroughputExceededException")).to_numpy(dtype=bool)]
    gap = pd.Timedelta(merge_gap)
    lead = pd.Timedelta(scan_lead)
    schedules = _schedules(settings)
    rows = []
    for resource, grp in reads.groupby("resource", sort=False):
        grp = grp.sort_values("timestamp")
        period = pd.Timedelta(seconds=float(grp["period"].dropna().median()) if grp["period"].notna().any() else 60.0)
        # CloudWatch publishes throttle events only for minutes that had some: the time covered is
        # that of every series of the table (consumed capacity is there every minute)
        covered = cap.loc[cap["resource"] == resource, "timestamp"]
        span_start = covered.min()
        span = covered.max() + period - span_start
        total = float(grp["throttle_events"].sum())
        pos = grp[grp["throttle_events"] > 0]
        bursts: list[list[int]] = []
        last = None
        for i, t in zip(pos.index, pos["timestamp"]):
            if last is None or t - last > gap:
                bursts.append([i])
            else:
                bursts[-1].append(i)
            last = t
        table_scans = scans
        if not scans.empty and scans["table"].notna().any():
            table_scans = scans[scans["table"].isna() | scans["table"].map(lambda x: _matches_resource(str(x), str(resource)) if pd.notna(x) else True)]
        scan_times = table_scans["timestamp"]
        n_scans = int(len(scan_times))
        w = writes[writes["resource"] == resource]
        for b in bursts:
            start = grp.loc[b[0], "timestamp"]
            end = grp.loc[b[-1], "timestamp"] + period
            events = float(grp.loc[b, "throttle_events"].sum())
            in_span = (grp["timestamp"] >= start) & (grp["timestamp"] < end)
            util = grp.loc[in_span, "utilisation"]
            ww = w[(w["timestamp"] >= start) & (w["timestamp"] < end)]["throttle_events"]
            scan_in = int(((scan_times >= start - lead) & (scan_times < end)).sum())
            covered = min(1.0, (end - start + lead) / span) if span > pd.Timedelta(0) else 1.0
            expected = n_scans * covered
            rows.append(
                {
                    "resource": resource,
                    "start": start,
                    "end": end,
                    "duration_s": (end - start).total_seconds(),
                    "read_throttle_events": events,
                    "share_of_read_throttles": events / total if total else float("nan"),
                    "time_share": (end - start) / span if span > pd.Timedelta(0) else 1.0,
                    "peak_read_utilisation": float(util.max()) if util.notna().any() else float("nan"),
                    "write_throttle_events": float(ww.sum()) if len(ww) else 0.0,
                    "scan_lines": scan_in,
                    "scan_lines_total": n_scans,
                    "scan_lift": (scan_in / expected) if expected > 0 else float("nan"),
                    "scan_p_value": binom_sf(scan_in, n_scans, covered) if n_scans else float("nan"),
                    "read_error_lines": int(((read_errs["timestamp"] >= start) & (read_errs["timestamp"] < end)).sum()),
                    "time_of_day": f"{start.hour:02d}:{start.minute:02d}",
                    "days_seen": 1,
                    "history_days": 0,
                    "history_days_at_this_time": 0,
                    "schedule_p_value": float("nan"),
                    "recurring": False,
                    "schedule": _schedule_before(schedules, start),
                }
            )
    out = pd.DataFrame(rows, columns=list(READ_BURST_COLUMNS))
    tol = int(pd.Timedelta(same_time).total_seconds() // 60)
    for i, r in out.iterrows():
        same = out[(out["resource"] == r["resource"])]
        mod = _minute_of_day(r["start"])
        days = {s.date() for s in same["start"] if _tod_distance(_minute_of_day(s), mod) <= tol}
        hist = schedule_recurrence(history, str(r["resource"]), r["start"], same_time=same_time)
        sched = hist["days_at_this_time"] >= 2 and hist["p_value"] < 0.01
        out.at[i, "days_seen"] = max(len(days), 1 + hist["days_at_this_time"]) if sched else len(days)
        out.at[i, "history_days"] = hist["history_days"]
        out.at[i, "history_days_at_this_time"] = hist["days_at_this_time"]
        out.at[i, "schedule_p_value"] = hist["p_value"]
        out.at[i, "recurring"] = len(days) >= 2 or sched
    out["start"] = as_utc(out["start"])
    out["end"] = as_utc(out["end"])
    out["recurring"] = out["recurring"].astype(bool)
    out["days_seen"] = out["days_seen"].astype("int64")
    out["history_days"] = out["history_days"].astype("int64")
    out["history_days_at_this_time"] = out["history_days_at_this_time"].astype("int64")
    out["schedule_p_value"] = out["schedule_p_value"].astype("float64")
    out["schedule"] = out["schedule"].astype("object")
    return out.sort_values("read_throttle_events", ascending=False, kind="stable", ignore_index=True)


# ---------------------------------------------------------------------------------------------
# detectors
# ---------------------------------------------------------------------------------------------


def _at_least(severity: str, floor: str) -> str:
    order = ("critical", "high", "medium", "low", "info")
    return severity if order.index(severity) <= order.index(floor) else floor


def detect_throttling_without_backoff(inputs: Inputs) -> Finding | None:
    """``throttling-without-backoff``: throttled calls retried back to back.

    Evidence, strongest first: the spacing of retries of the same call (:func:`retry_summary`
    verdict ``no-backoff``: most gaps within 50 ms and no growth); failing that, throttle
    events per minute at ten times or more the provisioned capacity of the minute (clients
    refused ten times over keep hammering — backing-off clients fall back within seconds).
    Calls whose gaps grow (backoff) raise nothing here: throttling with backoff is a
    capacity question, not this finding.

    Example
    -------
    >>> import pandas as pd
    >>> t0 = pd.Timestamp("2026-03-01T01:00:00Z")
    >>> logs = pd.DataFrame([{"timestamp": t0 + pd.Timedelta(seconds=i, milliseconds=9 * a), "request_id": f"item-{i}",
    ...                       "message": "ProvisionedThroughputExceededException: throughput exceeded"}
    ...                      for i in range(6) for a in range(4)])
    >>> f = detect_throttling_without_backoff(Inputs(logs=logs))
    >>> f.id, f.evidence["share_gaps_within_50ms"]
    ('throttling-without-backoff', 1.0)
    """
    logs = inputs.logs
    frame = _throttle_frame(logs)
    errs = frame.sort_values("timestamp", kind="stable", ignore_index=True)[list(THROTTLE_ERROR_COLUMNS)]
    cap = capacity_timeline(inputs.metrics, inputs.settings)
    events = cap["throttle_events"].fillna(0.0)
    metric_throttles = float(events.sum()) if len(cap) else 0.0
    if errs.empty and metric_throttles <= 0:
        return None
    spacing = _retry_spacing(logs, frame)
    summ = retry_summary(spacing)
    throttled = cap[events > 0]
    peak = throttled.loc[throttled["throttle_events"].idxmax()] if len(throttled) else None
    peak_ratio = float(throttled["throttle_ratio"].max()) if len(throttled) and throttled["throttle_ratio"].notna().any() else float("nan")
    peak_util = float(cap["utilisation"].max()) if len(cap) and cap["utilisation"].notna().any() else float("nan")
    # "reached max retries: 0" means the SDK's own retries were switched off; N >= 1 means it backed off N times
    sdk_known = errs["sdk_retries"].dropna()
    sdk_share = float((sdk_known >= 1).sum() / len(errs)) if len(errs) else float("nan")
    sdk_off = bool(len(sdk_known) and (sdk_known == 0).mean() >= 0.9 and len(sdk_known) >= 0.5 * len(errs))

    verdict = summ["verdict"]
    if verdict in ("backoff", "fixed-delay", "mixed"):
        return None
    if verdict == "insufficient":
        # No call-level spacing: judge from intensity alone, and only when it is extreme.
        if not (peak_ratio >= 10.0) or (not math.isnan(sdk_share) and sdk_share >= 0.5):
            return None
        confidence = 0.4
        severity = "medium"
        basis = (
            f"throttle events reached {peak_ratio:.0f}× the provisioned capacity of the minute; "
            "retry spacing could not be measured (no request id / item key / attempt number ties lines together)"
        )
    else:
        confidence = 0.55 + 0.2 * (summ["share_no_backoff"] or 0.0) + 0.1 * min(1.0, summ["calls"] / 20.0)
        if (not math.isnan(peak_util) and peak_util >= 0.9) or metric_throttles > 0:
            confidence += 0.1
        if not math.isnan(sdk_share) and sdk_share >= 0.5:
            confidence -= 0.15  # the SDK itself retried (with its own backoff) before the app looped
        if sdk_off:
            confidence += 0.05
        share = request_share(inputs.requests, errs.loc[errs["level"].isin(list(_ERROR_LEVELS)).fillna(False), "request_id"])
        severity = "medium"
        if not math.isnan(share):
            severity = _at_least(severity_for_share(share), "medium")
        failed_lines = int(errs["level"].isin(list(_ERROR_LEVELS)).fillna(False).sum())
        if failed_lines >= 100 or (not math.isnan(peak_util) and peak_util >= 1.0) or peak_ratio >= 1.0:
            severity = _at_least(severity, "high")
        basis = (
            f"{summ['calls']} retried calls: {pct(summ['share_within_50ms'])} of {summ['gaps']} gaps between attempts "
            f"within 50 ms (median gap {fmt_ms(summ['median_gap_s'] * 1000)}), gaps do not grow "
            f"(median ratio of successive gaps {summ['median_growth']:.2f}; exponential backoff doubles them)"
            if not math.isnan(summ["median_growth"])
            else f"{summ['calls']} retried calls: {pct(summ['share_within_50ms'])} of {summ['gaps']} gaps between "
            f"attempts within 50 ms (median gap {fmt_ms(summ['median_gap_s'] * 1000)})"
        )

    onset = errs["timestamp"].min() if len(errs) else (throttled["timestamp"].min() if len(throttled) else None)
    op = errs["operation"].dropna()
    top_op = str(op.mode().iloc[0]) if len(op) else None
    table = str(peak["resource"]) if peak is not None else None
    kind = str(peak["kind"]) if peak is not None else "write"
    prov = float(peak["provisioned_per_s"]) if peak is not None and pd.notna(peak["provisioned_per_s"]) else float("nan")
    evidence: dict[str, Any] = {
        "throttle_error_lines": int(len(errs)),
        "throttle_events_metric": metric_throttles,
        "retried_calls": summ["calls"],
        "retry_gaps": summ["gaps"],
        "median_retry_gap_ms": summ["median_gap_s"] * 1000 if not math.isnan(summ["median_gap_s"]) else float("nan"),
        "share_gaps_within_50ms": summ["share_within_50ms"],
        "tight_gap_ms": TIGHT_GAP_S * 1000,
        "median_gap_growth": summ["median_growth"],
        "share_calls_no_backoff": summ["share_no_backoff"],
        "calls_left_out_interleaved": summ["interleaved"],
        "peak_throttle_to_capacity": peak_ratio,
        "peak_utilisation": peak_util,
        "provisioned_units_per_s": prov,
        "share_lines_sdk_retried": sdk_share,
        "sdk_retries_off": sdk_off,
        "top_operation": top_op,
        "table": table,
        "top_error_code": str(errs["error_code"].mode().iloc[0]) if len(errs) else None,
    }
    what = f"{kind} capacity of {table}" if table and table != "(all)" else "capacity"
    counts = []
    if len(errs):
        counts.append(f"{len(errs)} throttle lines in the logs")
    if metric_throttles:
        counts.append(f"{metric_throttles:.0f} throttle events in CloudWatch")
    lead = "Throttled calls were retried with no backoff" if verdict == "no-backoff" else "Throttled calls were likely retried with no backoff"
    summary = (
        f"{lead}: {basis}. "
        + sentence_case(", ".join(counts))
        + (f"; consumed {pct(peak_util)} of the provisioned {what} at peak" if not math.isnan(peak_util) else "")
        + ". "
        + ("The SDK's own retries were switched off (\"reached max retries: 0\"), so every retry is the application's. "
           if sdk_off else "")
        + "Retrying at once multiplies the load on a table that is already refusing it, so the job drains "
        "its retry budget in seconds and fails."
    )
    related = related_changes(inputs.changes, THROTTLING_CHANGES, _writer_targets(inputs, table), onset=onset,
                              window=inputs.window, slack="1min")
    if related:
        evidence.update(related_evidence(related[0]))
        summary += " " + sentence(related[0], reference=inputs.window.start if inputs.window is not None else None)
    remediation = [
        "Retry with exponential backoff and full jitter (sleep = random(0, min(cap, base × 2^attempt))); with boto3 "
        "drop the hand-written loop and use Config(retries={'mode': 'adaptive', 'max_attempts': 10}) "
        "(or 'standard'), which also rate-limits the client when it sees throttling"
        + (" — the SDK's retries are switched off today (max_attempts 1)." if sdk_off else "."),
        "Write in batches with BatchWriteItem (25 items) and re-send only the UnprocessedItems it returns, "
        "backing off between rounds.",
        "Bound the writers' concurrency (Lambda reserved concurrency, SQS batch size / maximum concurrency, "
        "or a token bucket at the table's capacity) instead of starting thousands of writes at once.",
        (
            f"Capacity: the table had {prov:.0f} {kind} units/s provisioned; switch it to on-demand "
            "(BillingMode PAY_PER_REQUEST) or enable auto scaling with a 70 % target utilisation for batch peaks."
            if not math.isnan(prov)
            else "Capacity: switch the table to on-demand (BillingMode PAY_PER_REQUEST) or enable auto scaling "
            "with a 70 % target utilisation for batch peaks."
        ),
    ]
    return Finding(
        id="throttling-without-backoff",
        title="Throttled writes retried with no backoff" if kind == "write" else "Throttled calls retried with no backoff",
        severity=severity,
        summary=summary,
        evidence=evidence,
        remediation=remediation,
        confidence=round(min(0.95, max(0.0, confidence)), 3),
        related_changes=related,
        onset=iso_z(onset),
    )


#: The changes that can explain ``throttling-without-backoff``, most direct first (see :mod:`.related`).
THROTTLING_CHANGES = ChangeSpec("throttling-without-backoff", {
    "table-capacity": "the table's capacity or capacity mode changed",
    "event-source": "the event source mapping changed how many writers run at once (batch size, maximum concurrency)",
    "reserved-concurrency": "the writers' concurrency limit changed",
    "code": "new code changed how the writers call and retry",
    "function-config": "the writers' configuration changed (SDK retry settings, timeouts, memory)",
}, unscoped={"event-source": "24h"})  # a mapping change's request names only the mapping's UUID
#: The changes that can explain ``scan-read-burst`` (see :mod:`.related`).
SCAN_BURST_CHANGES = ChangeSpec("scan-read-burst", {
    "table-capacity": "the table's read capacity or capacity mode changed",
    "code": "new code of a function that scans the table",
})


def _function_of_log_group(group: Any) -> str | None:
    """``/aws/lambda/<name>`` → ``<name>`` (the log group Lambda writes to by default)."""
    text = group if isinstance(group, str) else ""
    return text.split("/aws/lambda/", 1)[1] if text.startswith("/aws/lambda/") and len(text) > 12 else None


def _writer_targets(inputs: Inputs, table: str | None) -> list[Any]:
    """The table and the functions whose logs hold the throttled calls (and those the investigation names)."""
    names = []
    logs = inputs.logs
    if logs is not None and not logs.empty:
        if "function_name" in logs.columns:
            names += [str(x) for x in logs["function_name"].dropna().unique()[:20]]
        if "log_group" in logs.columns:
            names += [n for n in map(_function_of_log_group, logs["log_group"].dropna().unique()[:20]) if n]
    return (targets_from(table if table != "(all)" else None, inputs.resources.get("table_name"), kind="table")
            + targets_from(names, inputs.resources.get("function_name"), kind="function"))


def detect_scan_read_burst(inputs: Inputs, *, min_events: int = 20) -> Finding | None:
    """``scan-read-burst``: read throttles packed into one window, with Scans or a schedule behind them.

    Needs ``ReadThrottleEvents``. The largest burst must hold at least ``min_events`` read
    throttles (a few throttles are normal partition-level noise) and at least half of the
    table's read throttles in at most a quarter of the time covered. It is then explained by
    Scan lines in the logs concentrated in the burst (lift and binomial p-value against the
    burst's share of time) and/or a schedule: bursts at the same time of day on other days, or
    a cron rule in the settings firing just before it. A concentrated burst with neither is
    reported at low severity.

    Example
    -------
    >>> detect_scan_read_burst(Inputs()) is None      # no ReadThrottleEvents, no finding
    True
    """
    bursts = read_bursts(inputs.metrics, inputs.logs, settings=inputs.settings, history=inputs.metric_history)
    if bursts.empty:
        return None
    top = bursts.iloc[0]
    resource = top["resource"]
    same = bursts[(bursts["resource"] == resource) & bursts["recurring"] & (bursts["time_of_day"].map(
        lambda s: _tod_distance(int(s[:2]) * 60 + int(s[3:]), _minute_of_day(top["start"])) <= SAME_TIME_OF_DAY.total_seconds() / 60))]
    recurring = bool(top["recurring"])
    share = float(same["share_of_read_throttles"].sum()) if recurring else float(top["share_of_read_throttles"])
    time_share = float(same["time_share"].sum()) if recurring else float(top["time_share"])
    if top["read_throttle_events"] < min_events:
        return None
    if not (share >= 0.5 and time_share <= 0.25):
        return None
    scans_in = int(top["scan_lines"])
    scans_total = int(top["scan_lines_total"])
    p = float(top["scan_p_value"]) if pd.notna(top["scan_p_value"]) else float("nan")
    lift = float(top["scan_lift"]) if pd.notna(top["scan_lift"]) else float("nan")
    strong_scan = scans_in >= 1 and not math.isnan(p) and p < 0.01 and lift >= 2
    weak_scan = scans_in >= 1 and not strong_scan and scans_in / max(1, scans_total) >= 0.5
    util = float(top["peak_read_utilisation"])
    writes_fine = float(top["write_throttle_events"]) <= 0.1 * float(top["read_throttle_events"])
    schedule = top["schedule"] if isinstance(top["schedule"], str) else None
    confidence = 0.35
    confidence += 0.3 if strong_scan else (0.2 if weak_scan else 0.0)
    confidence += 0.15 if (recurring or schedule) else 0.0
    confidence += 0.05 if writes_fine else 0.0
    confidence += 0.1 if (not math.isnan(util) and util >= 0.9) else 0.0
    explained = strong_scan or weak_scan or recurring or bool(schedule)
    if not explained:
        severity = "low"
    elif int(top["read_error_lines"]) >= 10:
        severity = "high"
    else:
        severity = "medium"
    start, end = top["start"], top["end"]
    scans = scan_operations(inputs.logs)
    scanners = scans.loc[(scans["timestamp"] >= start - pd.Timedelta("5min")) & (scans["timestamp"] < end), "log_group"] if not scans.empty else []
    targets = (targets_from(resource, inputs.resources.get("table_name"), kind="table")
               + targets_from([_function_of_log_group(g) for g in pd.unique(pd.Series(scanners, dtype="object"))], kind="function"))
    related = related_changes(inputs.changes, SCAN_BURST_CHANGES, targets, onset=start, window=inputs.window, slack="1min")
    evidence = {
        "table": resource,
        "burst_start": start,
        "burst_end": end,
        "burst_minutes": float(top["duration_s"]) / 60.0,
        "read_throttle_events_in_burst": float(top["read_throttle_events"]),
        "share_of_read_throttles": share,
        "share_of_time": time_share,
        "peak_read_utilisation": util,
        "write_throttle_events_in_burst": float(top["write_throttle_events"]),
        "scan_lines_in_burst": scans_in,
        "scan_lines_total": scans_total,
        "scan_lift": lift,
        "scan_p_value": p,
        "throttled_read_lines_in_burst": int(top["read_error_lines"]),
        "time_of_day_utc": top["time_of_day"],
        "days_with_burst_at_this_time": int(top["days_seen"]),
        "history_days": int(top["history_days"]),
        "history_days_at_this_time": int(top["history_days_at_this_time"]),
        "same_time_of_day_within_s": SAME_TIME_OF_DAY.total_seconds(),
        "schedule_p_value": float(top["schedule_p_value"]),
        "schedule": schedule,
    }
    causes = []
    if strong_scan or weak_scan:
        causes.append(f"{scans_in} of {scans_total} Scan lines in the logs fall in or just before it"
                      + (f" ({lift:.1f}× what its length would hold by chance, {fmt_p(p)})" if not math.isnan(lift) else ""))
    if recurring and int(top["history_days"]) and pd.notna(top["schedule_p_value"]) and top["schedule_p_value"] < 0.01:
        causes.append(f"it recurs: on {int(top['history_days_at_this_time'])} of the {int(top['history_days'])} days before, "
                      f"the table's reads peaked or were throttled within {SAME_TIME_OF_DAY.total_seconds() / 60:.0f} min of {top['time_of_day']} UTC "
                      f"({fmt_p(float(top['schedule_p_value']))} against peaks at random times)")
    elif recurring:
        causes.append(f"it recurs at {top['time_of_day']} UTC on {int(top['days_seen'])} days")
    if schedule:
        causes.append(f"the scheduled rule {schedule} fires just before it")
    summary = (
        f"{float(top['read_throttle_events']):.0f} read throttles on {resource} in {float(top['duration_s']) / 60:.0f} min "
        f"from {top['time_of_day']} UTC: {pct(share)} of the table's read throttles in {pct(time_share)} of the time"
        + (f", read capacity {pct(util)} used at peak" if not math.isnan(util) else "")
        + (f", writes {'unaffected' if writes_fine else 'throttled too'}")
        + ". "
        + (sentence_case("; ".join(causes)) + ": a full-table Scan burning the read capacity in one block."
           if causes else "No Scan lines or schedule explain it; check what reads the table at that time.")
    )
    if related:
        evidence.update(related_evidence(related[0]))
        summary += " " + sentence(related[0], reference=inputs.window.start if inputs.window is not None else None)
    remediation = [
        "Replace the Scan with a Query on a key (add a GSI keyed for the report if needed); a Scan reads and bills every item.",
        "If a Scan is unavoidable: paginate with Limit (e.g. 100-500 items a page) and ExclusiveStartKey, rate-limit "
        "the pages to a fraction of the read capacity (e.g. 20 % of ReadCapacityUnits), use eventually consistent "
        "reads (half the RCU), and split it with Segment/TotalSegments only as far as the capacity allows.",
        "Run heavy reports off the table: export to S3 (ExportTableToPointInTime) and query with Athena, or read a stream-fed copy.",
        f"Capacity around the schedule: on-demand (BillingMode PAY_PER_REQUEST), or an Application Auto Scaling "
        f"scheduled action raising ReadCapacityUnits shortly before {top['time_of_day']} UTC.",
    ]
    return Finding(
        id="scan-read-burst",
        title=f"Scan-shaped read burst throttles {resource}" if explained else f"Concentrated read-throttle burst on {resource}",
        severity=severity,
        summary=summary,
        evidence=evidence,
        remediation=remediation,
        confidence=round(min(0.95, confidence), 3),
        related_changes=related,
        onset=iso_z(start),
    )
