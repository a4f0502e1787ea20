"""Throttling and retries: throttle events against capacity, retry spacing, scan-shaped read bursts.

Three questions, one function each, all pure functions on the kit's frames:

* :func:`capacity_timeline` — DynamoDB throttle events over time against the capacity that
  was there: ``Read/WriteThrottleEvents`` and ``ThrottledRequests`` beside
  ``Consumed*CapacityUnits`` and ``Provisioned*CapacityUnits`` (or the table's settings),
  with ``utilisation = consumed / (provisioned × period)``.
* :func:`throttle_errors` and :func:`retry_spacing` / :func:`retry_summary` — the throttle
  lines in the logs and, for each logical call, the gaps between its attempts: in
  :mod:`.retries`, re-exported here.
* :func:`scan_operations` and :func:`read_bursts` — read throttles packed into a short
  window, set against the Scan calls in the logs and against the time of day on other days
  (a scheduled report that scans the table; the cron rules' times of day in :mod:`.schedules`).

The findings built on them (``throttling-without-backoff``, ``scan-read-burst``) are in
:mod:`incidentkit.findings.detectors`.

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

import re
from typing import Any

import numpy as np
import pandas as pd

from ._common import (
    as_utc,
    binom_sf,
    column_or_na,
    empty_table,
    first_group,
    parse_dims,
    select_metric,
)

from .schedules import cron_minutes, minute_of_day, schedule_before, time_of_day_distance

# the throttle-line and retry analyses lived here before they got their module; their names stay reachable from here
from .retries import (RETRY_COLUMNS, THROTTLE_ERROR_COLUMNS, TIGHT_GAP_S, retry_spacing, retry_spacing_of, retry_summary,
                      throttle_errors, throttle_frame)

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
    "ERROR_LEVELS",
    "minute_of_day",
    "retry_spacing_of",
    "throttle_frame",
    "time_of_day_distance",
]

UTC_NS = "datetime64[ns, UTC]"

#: How close to the same time of day a burst on another day must come to count as the same schedule: a job's
#: start drifts by minutes, its run lasts minutes more.
SAME_TIME_OF_DAY = pd.Timedelta("20min")
#: A burst is scheduled when the table's read history shows it at this time of day on at least this many earlier
#: days, more than chance would put there (binomial p below this — a statistical choice).
MIN_DAYS_AT_THIS_TIME, MAX_SCHEDULE_P = 2, 0.01

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

ERROR_LEVELS = frozenset({"ERROR", "FATAL", "CRITICAL"})

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


def _schedules(settings: pd.DataFrame | None) -> list[tuple[str, str, set[int]]]:
    """Scheduled rules from the settings: ``(resource_id, expression, minutes of the day it fires, UTC)``.

    EventBridge ``cron(minutes hours day-of-month month day-of-week year)`` expressions are
    evaluated in UTC (:func:`~.schedules.cron_minutes`); ``rate(...)`` expressions have no time of
    day and are skipped, as are rules that fire so often that any burst would "match".
    """
    rows = _setting_values(settings, "ScheduleExpression", "schedule_expression", "Schedule")
    out = []
    for rid, expr in zip(rows["resource_id"], rows["value"]):
        fires = cron_minutes(str(expr))
        if fires:
            out.append((str(rid), str(expr), fires))
    return out


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
    mod = minute_of_day(at)
    day_bins = 86400.0 / period
    days = judged = 0
    for _, day in cap.groupby(cap["timestamp"].dt.floor("D")):
        if len(day) < 0.5 * day_bins:
            continue
        judged += 1
        near = day["timestamp"].map(lambda t: time_of_day_distance(minute_of_day(t), mod) <= tol.total_seconds() / 60)
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
    lead = pd.Timedelta(scan_lead)
    schedules = _schedules(settings)
    rows = []
    for resource, grp in reads.groupby("resource", sort=False):
        grp = grp.sort_values("timestamp")
        period = pd.Timedelta(seconds=float(grp["period"].dropna().median()) if grp["period"].notna().any() else 60.0)
        # CloudWatch publishes throttle events only for minutes that had some: the time covered is
        # that of every series of the table (consumed capacity is there every minute)
        covered = cap.loc[cap["resource"] == resource, "timestamp"]
        span = covered.max() + period - covered.min()
        total = float(grp["throttle_events"].sum())
        scan_times = _table_scans(scans, resource)["timestamp"]
        w = writes[writes["resource"] == resource]
        for b in _throttle_runs(grp, pd.Timedelta(merge_gap)):
            start, end = grp.loc[b[0], "timestamp"], grp.loc[b[-1], "timestamp"] + period
            util = grp.loc[(grp["timestamp"] >= start) & (grp["timestamp"] < end), "utilisation"]
            ww = w[(w["timestamp"] >= start) & (w["timestamp"] < end)]["throttle_events"]
            rows.append({
                "resource": resource, "start": start, "end": end, "duration_s": (end - start).total_seconds(),
                **_burst_shares(float(grp.loc[b, "throttle_events"].sum()), total, start, end, span),
                "peak_read_utilisation": float(util.max()) if util.notna().any() else float("nan"),
                "write_throttle_events": float(ww.sum()) if len(ww) else 0.0,
                **_scans_in(scan_times, start, end, lead, span),
                "read_error_lines": int(((read_errs["timestamp"] >= start) & (read_errs["timestamp"] < end)).sum()),
                "time_of_day": f"{start.hour:02d}:{start.minute:02d}", "days_seen": 1, "history_days": 0,
                "history_days_at_this_time": 0, "schedule_p_value": float("nan"), "recurring": False,
                "schedule": schedule_before(schedules, start),
            })
    out = _with_recurrence(pd.DataFrame(rows, columns=list(READ_BURST_COLUMNS)), history, same_time)
    return out.sort_values("read_throttle_events", ascending=False, kind="stable", ignore_index=True)


def _throttle_runs(grp: pd.DataFrame, gap: pd.Timedelta) -> list[list[int]]:
    """The index labels of the bins with throttles, in runs: a gap longer than ``gap`` starts a new run."""
    pos = grp[grp["throttle_events"] > 0]
    runs: list[list[int]] = []
    last = None
    for i, t in zip(pos.index, pos["timestamp"]):
        if last is None or t - last > gap:
            runs.append([i])
        else:
            runs[-1].append(i)
        last = t
    return runs


def _table_scans(scans: pd.DataFrame, resource: Any) -> pd.DataFrame:
    """The Scan lines of this table (and those that name no table)."""
    if scans.empty or not scans["table"].notna().any():
        return scans
    return scans[scans["table"].isna() | scans["table"].map(lambda x: _matches_resource(str(x), str(resource)) if pd.notna(x) else True)]


def _burst_shares(events: float, total: float, start: pd.Timestamp, end: pd.Timestamp, span: pd.Timedelta) -> dict[str, Any]:
    """The burst's read throttles, their share of the table's, and its share of the time covered."""
    return {"read_throttle_events": events, "share_of_read_throttles": events / total if total else float("nan"),
            "time_share": (end - start) / span if span > pd.Timedelta(0) else 1.0}


def _scans_in(scan_times: pd.Series, start: pd.Timestamp, end: pd.Timestamp, lead: pd.Timedelta,
              span: pd.Timedelta) -> dict[str, Any]:
    """The Scan lines from ``lead`` before the burst to its end, their lift over what its length holds by chance, a p-value."""
    n_scans = int(len(scan_times))
    scan_in = int(((scan_times >= start - lead) & (scan_times < end)).sum())
    covered = min(1.0, (end - start + lead) / span) if span > pd.Timedelta(0) else 1.0
    expected = n_scans * covered
    return {"scan_lines": scan_in, "scan_lines_total": n_scans,
            "scan_lift": (scan_in / expected) if expected > 0 else float("nan"),
            "scan_p_value": binom_sf(scan_in, n_scans, covered) if n_scans else float("nan")}


def _with_recurrence(out: pd.DataFrame, history: pd.DataFrame | None, same_time: str | pd.Timedelta) -> pd.DataFrame:
    """Whether each burst recurs at its time of day: on other days of the metrics, or in the ``history``
    (:func:`schedule_recurrence`: at least :data:`MIN_DAYS_AT_THIS_TIME` days, p < :data:`MAX_SCHEDULE_P`)."""
    tol = int(pd.Timedelta(same_time).total_seconds() // 60)
    for i, r in out.iterrows():
        same = out[(out["resource"] == r["resource"])]
        mod = minute_of_day(r["start"])
        days = {s.date() for s in same["start"] if time_of_day_distance(minute_of_day(s), mod) <= tol}
        hist = schedule_recurrence(history, str(r["resource"]), r["start"], same_time=same_time)
        sched = hist["days_at_this_time"] >= MIN_DAYS_AT_THIS_TIME and hist["p_value"] < MAX_SCHEDULE_P
        out.at[i, "days_seen"] = max(len(days), 1 + hist["days_at_this_time"]) if sched else len(days)
        out.at[i, "history_days"] = hist["history_days"]
        out.at[i, "history_days_at_this_time"] = hist["days_at_this_time"]
        out.at[i, "schedule_p_value"] = hist["p_value"]
        out.at[i, "recurring"] = len(days) >= 2 or sched
    out["start"] = as_utc(out["start"])
    out["end"] = as_utc(out["end"])
    out["recurring"] = out["recurring"].astype(bool)
    for c in ("days_seen", "history_days", "history_days_at_this_time"):
        out[c] = out[c].astype("int64")
    out["schedule_p_value"] = out["schedule_p_value"].astype("float64")
    out["schedule"] = out["schedule"].astype("object")
    return out
