"""Which parsed log rows describe the same request, and at which tier: the engine of
:func:`incidentkit.parse.requests`.

One request leaves lines in several places: the entry point's access log, the function
invocation it triggered, the application's own lines. Counting every source as a request
counts one request two or three times, so each request row carries its **tier**:

``entry``
    the service's front door: API Gateway access and execution logs, ALB access logs; other
    access logs (Common/Combined Log Format) when no AWS entry point's log is present (with
    one, such a log is a proxy inside the service: ``app``).
``invocation``
    a function invocation: Lambda platform lines (``START``/``END``/``REPORT``,
    ``platform.*``) and every line logged inside one (runtime prefix, Powertools, any line of
    a ``/aws/lambda/<name>`` log group).
``app``
    application lines elsewhere (ECS, EC2, ...).

A request's tier is the outermost tier among its rows; ``tier_format`` is the format of the
row that puts it there (the access-log row of an entry request, the ``REPORT`` of an
invocation).

Keys: when is a request id trusted
----------------------------------
Rows sharing a ``request_id`` are one request, across log groups (an app line that logs the
API Gateway request id joins its access-log row). An id is only trusted that far when it is
unique where it is used: a request completes once per source (one access-log entry, one
``REPORT``, one "request completed" line), so an id that completes more than once in one
source — in several log streams, or at clearly different times in one stream — is a counter
unique only within a process (pino-http's ``req.id`` restarts at 1 in every task). Such an
id is scoped to its log stream and split at each completion, and it joins nothing across
sources.

Links between ids
-----------------
An entry request names the invocation it triggered when its log carries the integration's
request id (``$context.integration.requestId``, ``$context.awsEndpointRequestId``, an
execution log's ``Lambda request id: ...`` or ``x-amzn-RequestId=...``): the parsed
``integration_request_id``. The invocation's rows then join the entry request (its
duration, init and cold start fill the entry row; status and latency stay what the client
saw). An X-Ray trace held by exactly one entry request and exactly one other request joins
them too; a trace shared by several invocations (an authorizer and the backend) joins none,
and they stay invocation rows that an impact count at the entry tier leaves out.

Example
-------
>>> from incidentkit import parse as parsers
>>> p = parsers.parse([
...     '{"requestId": "gw-1", "integrationRequestId": "fn-1", "status": "502", "responseLatency": "31",'
...     ' "httpMethod": "GET", "routeKey": "GET /pay", "requestTime": "10/Mar/2026:02:31:00 +0000"}',
...     "REPORT RequestId: fn-1\\tDuration: 20.0 ms\\tBilled Duration: 20 ms\\tMemory Size: 128 MB"
...     "\\tMax Memory Used: 60 MB\\tInit Duration: 90.0 ms"])
>>> parsers.requests(p)[["request_id", "tier", "status", "latency_ms", "cold_start"]].to_dict("records")
[{'request_id': 'gw-1', 'tier': 'entry', 'status': 502, 'latency_ms': 31.0, 'cold_start': True}]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from .registry import format_names

__all__ = ["TIERS", "ENTRY_FORMATS", "assemble_requests"]

#: Tiers, outermost first.
TIERS = ("entry", "invocation", "app")
#: Formats written by an AWS entry point (their ``ROLE`` in :mod:`incidentkit.parse.registry`).
AWS_ENTRY_FORMATS = format_names("request") + format_names("entry")
#: Formats that can place a request at the entry tier (other access logs only when no AWS
#: entry point's log is there).
ENTRY_FORMATS = AWS_ENTRY_FORMATS + format_names("access")
_ACCESS = format_names("request") + format_names("access")  # one line per request
_PLATFORM = format_names("invocation")
_INVOCATION_FORMATS = _PLATFORM + format_names("function")
_NOT_REQUESTS = sum((format_names(role) for role in ("change", "metric", "network", "security")), ())
_ERROR_LEVELS = ("ERROR", "FATAL")
#: Two completion lines of one request are written by one process as it ends that request,
#: milliseconds apart; the same counter value completing again needs another request (and,
#: for a restarted counter, a new process), which takes longer than this.
SAME_REQUEST_GAP = pd.Timedelta(seconds=1)


def _bool(df: pd.DataFrame, col: str) -> np.ndarray:
    return df[col].fillna(False).to_numpy(dtype=bool)


def _row_tiers(df: pd.DataFrame) -> np.ndarray:
    """0 entry, 1 invocation, 2 app, per row (see the module docstring)."""
    fmt = df["format"]
    aws_entry = fmt.isin(AWS_ENTRY_FORMATS).to_numpy(dtype=bool)
    entry = aws_entry | (fmt.isin(format_names("access")).to_numpy(dtype=bool) & (not aws_entry.any()))
    lambda_group = df["log_group"].astype("string").str.startswith("/aws/lambda/").fillna(False).to_numpy(dtype=bool)
    invocation = fmt.isin(_INVOCATION_FORMATS).to_numpy(dtype=bool) | df["function_name"].notna().to_numpy(dtype=bool) | lambda_group
    return np.where(entry, 0, np.where(invocation, 1, 2)).astype(np.int8)


def _times_ns(df: pd.DataFrame) -> np.ndarray:
    """Row times as int64 UTC nanoseconds (the minimum int64 where unknown)."""
    ts = df["timestamp"]
    return ts.dt.tz_convert(None).to_numpy().view("i8") if len(ts) else np.zeros(0, dtype=np.int64)


def _unique_sorted(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer array, by one sort: ``np.unique``'s hash table
    (numpy 2.4, when no index is asked for) took ~0.4 s for 750k distinct int64, the sort ~20 ms."""
    s = np.sort(values)
    return s[np.concatenate(([True], s[1:] != s[:-1]))] if len(s) else s


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of a column (-1 where missing), from one hash pass."""
    return pd.factorize(values, use_na_sentinel=True)[0].astype(np.int64)


def _ambiguous(df: pd.DataFrame, codes: np.ndarray, completion: np.ndarray, t_ns: np.ndarray) -> np.ndarray:
    """Per distinct id: True when it completes more than once in one source (log group and
    format) — in several log streams, or more than :data:`SAME_REQUEST_GAP` apart."""
    n_ids = int(codes.max()) + 1 if len(codes) and codes.max() >= 0 else 0
    out = np.zeros(n_ids, dtype=bool)
    rows = np.flatnonzero(completion & (codes >= 0))
    if not len(rows):
        return out
    fmt = _codes(df["format"])
    src = (_codes(df["log_group"])[rows] + 1) * (int(fmt.max()) + 2) + fmt[rows] + 1
    key = codes[rows] * (int(src.max()) + 1) + src  # (id, source) as one integer
    dup = pd.Series(key).duplicated(keep=False).to_numpy()
    if not dup.any():  # the common case: every id completes once per source
        return out
    rows, key = rows[dup], key[dup]
    sub = pd.DataFrame({"code": codes[rows], "key": key, "stream": _codes(df["log_stream"])[rows], "t": t_ns[rows]})
    sub = sub.sort_values(["key", "t"], kind="stable")
    grouped = sub.groupby("key", sort=False)
    apart = (grouped["t"].diff() > SAME_REQUEST_GAP.value) | (grouped["stream"].transform("nunique") > 1)
    out[sub.loc[apart, "code"].to_numpy()] = True
    return out


def _scoped_groups(df: pd.DataFrame, rows: np.ndarray, completion: np.ndarray, t_ns: np.ndarray) -> np.ndarray:
    """Group numbers for the rows of untrusted ids: one per (log group, log stream, id,
    completion), each completion taking the rows before it; rows after the last completion
    stay with it."""
    sub = pd.DataFrame({
        "lg": df["log_group"].to_numpy(dtype=object)[rows], "stream": df["log_stream"].to_numpy(dtype=object)[rows],
        "rid": df["request_id"].to_numpy(dtype=object)[rows], "t": t_ns[rows], "done": completion[rows], "pos": rows,
    }).fillna({"lg": "", "stream": ""})
    sub = sub.sort_values(["lg", "stream", "rid", "t", "pos"], kind="stable")
    g = sub.groupby(["lg", "stream", "rid"], sort=False).ngroup().to_numpy()
    t = sub["t"].to_numpy()
    done = sub["done"].to_numpy(dtype=bool)
    prev_done_t = pd.Series(np.where(done, t, np.nan)).groupby(g).shift().groupby(g).ffill().to_numpy()
    starts = done & (np.isnan(prev_done_t) | (t - prev_done_t > SAME_REQUEST_GAP.value))
    cluster = pd.Series(np.cumsum(starts), index=sub.index).where(done)
    cluster = cluster.groupby(g).bfill().groupby(g).ffill().fillna(-1).to_numpy()
    key = pd.DataFrame({"g": g, "cluster": cluster}).groupby(["g", "cluster"], sort=False).ngroup().to_numpy()
    out = np.empty(len(rows), dtype=np.int64)
    out[np.searchsorted(rows, sub["pos"].to_numpy())] = key
    return out


def _link_integration_ids(df: pd.DataFrame, gcode: np.ndarray, ids: pd.Index, trusted: np.ndarray, n_groups: int) -> tuple[np.ndarray, int]:
    """Join the invocation a request names by its ``integration_request_id`` into that request."""
    if "integration_request_id" not in df.columns:
        return gcode, 0
    link = df["integration_request_id"]
    rows = np.flatnonzero(link.notna().to_numpy(dtype=bool) & (gcode >= 0))
    if not len(rows):
        return gcode, 0
    target = ids.get_indexer(link.to_numpy(dtype=object)[rows])
    ok = target >= 0
    ok[ok] &= trusted[target[ok]]
    own, target = gcode[rows[ok]], target[ok]
    keep = own != target
    own, target = own[keep], target[keep]
    if not len(own):
        return gcode, 0
    pairs = pd.DataFrame({"own": own, "target": target}).drop_duplicates()
    single = pairs.groupby("target")["own"].transform("nunique").to_numpy() == 1  # one request names it
    pairs = pairs[single & ~pairs["target"].isin(pairs["own"]).to_numpy()]  # and it names none: no chains
    remap = np.arange(n_groups)
    remap[pairs["target"].to_numpy()] = pairs["own"].to_numpy()
    return np.where(gcode >= 0, remap[np.maximum(gcode, 0)], -1), len(pairs)


def _link_traces(df: pd.DataFrame, gcode: np.ndarray, row_tier: np.ndarray, n_groups: int) -> tuple[np.ndarray, int]:
    """Join a request to the single entry request holding the same X-Ray trace."""
    trace = _codes(df["xray_trace_id"])
    rows = np.flatnonzero((trace >= 0) & (gcode >= 0))
    if not len(rows):
        return gcode, 0
    group_tier = np.full(n_groups, 2, dtype=np.int8)
    valid = gcode >= 0
    np.minimum.at(group_tier, gcode[valid], row_tier[valid])
    pairs = _unique_sorted(trace[rows] * n_groups + gcode[rows])  # each (trace, request) once
    t, g = pairs // n_groups, pairs % n_groups
    entry = group_tier[g] == 0
    n_entry = np.bincount(t, weights=entry, minlength=int(t.max()) + 1)
    size = np.bincount(t, minlength=int(t.max()) + 1)
    one_each = (n_entry == 1) & (size == 2)  # one entry request and one other request hold the trace
    pick = one_each[t]
    if not pick.any():
        return gcode, 0
    entry_of = np.full(int(t.max()) + 1, -1, dtype=np.int64)
    entry_of[t[pick & entry]] = g[pick & entry]
    joins = pick & ~entry
    remap = np.arange(n_groups)
    remap[g[joins]] = entry_of[t[joins]]  # an entry request is never re-assigned: no chains
    return np.where(gcode >= 0, remap[np.maximum(gcode, 0)], -1), int(joins.sum())


def _issues(df: pd.DataFrame, codes: np.ndarray, untrusted: np.ndarray, ids: pd.Index) -> list[str]:
    """One line per log group whose request ids were found to be unique per process only."""
    bad_rows = np.flatnonzero(untrusted)
    if not len(bad_rows):
        return []
    sub = pd.DataFrame({"lg": df["log_group"].to_numpy(dtype=object)[bad_rows], "rid": ids.to_numpy()[codes[bad_rows]],
                        "stream": df["log_stream"].to_numpy(dtype=object)[bad_rows]}).fillna({"lg": "(no log group)", "stream": ""})
    out = []
    for lg, part in sub.groupby("lg", sort=True):
        spread = part.groupby("rid")["stream"].nunique().sort_values(ascending=False)
        out.append(f"request ids of {lg} repeat ({len(spread):,} ids, e.g. {spread.index[0]!r} in {int(spread.iloc[0])} log "
                   "stream(s)): they are unique per process only, so each was counted per stream and per completion")
    return out


def _group_rows(df: pd.DataFrame, completion: np.ndarray, standalone: np.ndarray, row_tier: np.ndarray) -> tuple[np.ndarray, dict[str, Any], list[str]]:
    """The request group of each row (-1: not part of a request) and the join statistics."""
    codes, uniques = pd.factorize(df["request_id"], use_na_sentinel=True)
    ids = pd.Index(uniques)
    t_ns = _times_ns(df)
    ambiguous = _ambiguous(df, codes, completion, t_ns)
    gcode = codes.astype(np.int64)
    n_groups = len(ids)
    untrusted = (codes >= 0) & ambiguous[np.maximum(codes, 0)] if len(ambiguous) else np.zeros(len(df), dtype=bool)
    if untrusted.any():
        rows = np.flatnonzero(untrusted)
        scoped = _scoped_groups(df, rows, completion, t_ns)
        gcode[rows] = n_groups + scoped
        n_groups += int(scoped.max()) + 1
    joined_keys = n_groups
    alone = np.flatnonzero(standalone & (codes < 0))
    gcode[alone] = n_groups + np.arange(len(alone))
    n_groups += len(alone)
    gcode, by_integration = _link_integration_ids(df, gcode, ids, ~ambiguous if len(ambiguous) else np.zeros(0, dtype=bool), n_groups)
    gcode, by_trace = _link_traces(df, gcode, row_tier, n_groups)
    used = gcode >= 0
    compact = np.full(len(df), -1, dtype=np.int64)
    compact[used] = np.unique(gcode[used], return_inverse=True)[1]
    joined = len(_unique_sorted(gcode[used & (gcode < joined_keys)]))
    stats = {"joined": int(joined), "standalone": int(len(alone)), "linked_by_integration_id": int(by_integration),
             "linked_by_trace": int(by_trace), "ids_unique_per_process": int(ambiguous.sum())}
    return compact, stats, _issues(df, codes, untrusted, ids)


#: The parsed columns a request is built from (the message text is not: copying it is most of the cost).
_USED = ("timestamp", "log_group", "log_stream", "format", "record_type", "request_id", "integration_request_id", "level",
         "status", "latency_ms", "duration_ms", "init_duration_ms", "cold_start", "timed_out", "app_version", "user_agent",
         "route", "method", "client_ip", "function_name", "xray_trace_id", "error_type")


def request_rows(parsed: pd.DataFrame) -> pd.DataFrame:
    """The rows that can describe a request (parsed; not CloudTrail, VPC flow or EMF), with
    the columns a request is built from."""
    keep = ~parsed["parse_error"].astype(bool) if "parse_error" in parsed.columns else pd.Series(True, index=parsed.index)
    keep &= ~parsed["format"].isin(_NOT_REQUESTS)
    out = parsed.loc[keep.to_numpy(dtype=bool), [c for c in _USED if c in parsed.columns]].reset_index(drop=True)
    for c in _USED:  # a frame assembled by hand may lack some: they are unknown, not an error
        if c not in out.columns:
            dtype = schema.DTYPES[c]
            out[c] = pd.Series(pd.NaT if dtype == schema.UTC_NS else np.nan if dtype == "float64" else pd.NA, index=out.index, dtype=dtype)
    return out


def _no_requests() -> pd.DataFrame:
    out = schema.empty_frame("requests")
    out.attrs["request_stats"] = {"joined": 0, "standalone": 0, "linked_by_integration_id": 0, "linked_by_trace": 0,
                                  "ids_unique_per_process": 0, "by_tier": {}}
    return out


def assemble_requests(parsed: pd.DataFrame) -> pd.DataFrame:
    """One row per request from parsed rows (see :func:`incidentkit.parse.requests`)."""
    df = request_rows(parsed)
    if df.empty:
        return _no_requests()
    fmt = df["format"]
    is_access = fmt.isin(_ACCESS).to_numpy(dtype=bool)
    is_platform = fmt.isin(_PLATFORM).to_numpy(dtype=bool)
    is_report = is_platform & (df["record_type"] == "report").fillna(False).to_numpy(dtype=bool)
    described = df["status"].notna().to_numpy(dtype=bool) | df["latency_ms"].notna().to_numpy(dtype=bool)
    completion = is_access | is_report | (~is_platform & described)
    standalone = is_access | (~is_platform & described)
    row_tier = _row_tiers(df)
    gcode, stats, issues = _group_rows(df, completion, standalone, row_tier)
    if not (gcode >= 0).any():
        return _no_requests()
    out = _aggregate(df, gcode, row_tier, is_access=is_access, is_platform=is_platform, is_report=is_report)
    out = out.sort_values("timestamp", kind="stable", na_position="last").reset_index(drop=True)
    out.attrs.update({k: v for k, v in parsed.attrs.items() if k != "parse_stats"})
    stats["by_tier"] = {str(k): int(v) for k, v in out["tier"].value_counts().items()}
    out.attrs["request_stats"] = stats
    if issues:
        out.attrs["issues"] = list(out.attrs.get("issues") or []) + issues
    return out


def _aggregate(df: pd.DataFrame, gcode: np.ndarray, row_tier: np.ndarray, *, is_access: np.ndarray, is_platform: np.ndarray,
               is_report: np.ndarray) -> pd.DataFrame:
    """The request columns of each group, by the precedence :func:`incidentkit.parse.requests` documents."""
    groups = int(gcode.max()) + 1 if len(gcode) and gcode.max() >= 0 else 0
    in_group = gcode >= 0
    is_app = ~(is_access | is_platform)
    every = np.ones(len(df), dtype=bool)

    def pick(mask: np.ndarray, col: str | None = None, *, last: bool = False) -> np.ndarray:
        """Row index, per group, of the first (last) row in ``mask`` with ``col`` set; -1: none."""
        m = mask & in_group
        if col is not None:
            m &= df[col].notna().to_numpy(dtype=bool)
        rows = np.flatnonzero(m)
        if last:
            out = np.full(groups, -1, dtype=np.int64)
            np.maximum.at(out, gcode[rows], rows)
            return out
        out = np.full(groups, len(df), dtype=np.int64)
        np.minimum.at(out, gcode[rows], rows)
        out[out == len(df)] = -1
        return out

    def prefer(*choices: np.ndarray) -> np.ndarray:
        out = choices[-1].copy()
        for c in reversed(choices[:-1]):
            out = np.where(c >= 0, c, out)
        return out

    def values(col: str, at: np.ndarray) -> Any:
        arr = df[col].array
        if isinstance(arr, np.ndarray) or not hasattr(arr, "take"):
            arr = np.asarray(arr)
        return arr.take(at, allow_fill=True) if not isinstance(arr, np.ndarray) else np.where(at >= 0, arr[np.maximum(at, 0)], np.nan)

    res: dict[str, Any] = {}
    ts = df["timestamp"]
    earliest = np.full(groups, -1, dtype=np.int64)
    ts_rows = np.flatnonzero(in_group & ts.notna().to_numpy(dtype=bool))
    if len(ts_rows):  # the earliest row of each request
        stamps = _times_ns(df)
        order = ts_rows[np.argsort(stamps[ts_rows], kind="stable")]
        first_seen = pd.Series(order).groupby(gcode[order], sort=False).first()
        earliest[first_seen.index.to_numpy()] = first_seen.to_numpy()
    res["timestamp"] = values("timestamp", prefer(earliest, pick(every)))
    res["log_group"] = values("log_group", prefer(pick(is_report, "log_group"), pick(every, "log_group")))
    for col in ("status", "app_version", "user_agent", "route", "method", "client_ip"):
        res[col] = values(col, prefer(pick(is_access, col), pick(is_app, col)))
    res["latency_ms"] = values("latency_ms", prefer(pick(is_access, "latency_ms"), pick(is_report, "latency_ms"), pick(is_app, "latency_ms")))
    for col in ("duration_ms", "init_duration_ms"):
        res[col] = values(col, pick(is_report, col))
    res["cold_start"] = _cold_start(df, gcode, groups, pick, values, is_report=is_report, is_app=is_app)
    timed = np.zeros(groups, dtype=bool)
    t_rows = np.flatnonzero(in_group & _bool(df, "timed_out"))
    timed[gcode[t_rows]] = True
    res["timed_out"] = timed
    res["function_name"] = values("function_name", prefer(pick(is_report, "function_name"), pick(every, "function_name")))
    res["error_type"] = values(
        "error_type",
        prefer(pick(is_app, "error_type", last=True), pick(is_platform, "error_type", last=True), pick(is_access, "error_type")),
    )
    tier = np.full(groups, 2, dtype=np.int8)
    np.minimum.at(tier, gcode[in_group], row_tier[in_group])
    res["tier"] = pd.array(list(TIERS), dtype="string").take(tier.astype(np.intp))
    at_tier = in_group & (row_tier == tier[np.maximum(gcode, 0)])
    res["request_id"] = values("request_id", prefer(pick(at_tier, "request_id"), pick(every, "request_id")))  # the entry's id
    res["tier_format"] = _text(values("format", prefer(pick(at_tier & (is_access | is_report)), pick(at_tier))))
    logged = df["level"].isin(_ERROR_LEVELS).fillna(False).to_numpy(dtype=bool)  # tracebacks are at ERROR
    logged = logged | (is_platform & df["error_type"].notna().to_numpy(dtype=bool))
    errs = np.zeros(groups, dtype=bool)
    errs[gcode[in_group & logged]] = True
    res["logged_error"] = errs
    return schema.conform(pd.DataFrame(res), "requests", extra=False)


def _text(values: Any) -> Any:
    """Dictionary text (a ``Categorical``) as ``string``, from its categories: ``astype("string")``
    goes through a Python object a row."""
    if not isinstance(values, pd.Categorical):
        return values
    return pd.array(np.asarray(values.categories, dtype=object), dtype="string").take(values.codes.astype(np.intp), allow_fill=True)


def _cold_start(df: pd.DataFrame, gcode: np.ndarray, groups: int, pick: Any, values: Any, *, is_report: np.ndarray,
                is_app: np.ndarray) -> Any:
    """The REPORT's word on a cold start first (provisioned concurrency inits before the
    request, so Powertools' flag alone would overstate the caller's wait), else any app row's."""
    rep_cold = pick(is_report, "cold_start")
    app_true = pick(is_app & _bool(df, "cold_start"))
    app_any = pick(is_app, "cold_start")
    app_cold = pd.array(app_true >= 0, dtype="boolean")
    app_cold[app_any < 0] = pd.NA
    cold = values("cold_start", rep_cold)
    use_app = rep_cold < 0
    cold[use_app] = app_cold[use_app]
    return cold
