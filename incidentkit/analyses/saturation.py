"""Saturation: connection-pool exhaustion, the database's headroom, and the leak signature.

"Connection pool exhausted" has two very different causes. Either the database is really
saturated (CPU high, connections near ``max_connections``) and every pool waits on it, or the
database is idle and the *application* holds connections it no longer uses: a code path
(usually the exception path) that checks a connection out and never returns it. Each such
exception leaves the pool one connection smaller, the number in use steps up and never comes
back down, and once the pool is empty every request waits ``pool_timeout`` and fails.

Analyses (pure functions on the kit's frames):

* :func:`pool_errors` — pool-checkout failures in the texts the libraries really print
  (SQLAlchemy ``QueuePool limit of size 5 overflow 10 reached``, HikariCP ``Connection is not
  available, request timed out after 30000ms``, node-postgres ``timeout exceeded when trying
  to connect``, psycopg_pool, DBCP) and server-side limits (PostgreSQL ``sorry, too many
  clients already`` / ``remaining connection slots are reserved``, MySQL ``Too many
  connections``).
* :func:`pool_usage` — the pool's in-use gauge when the application logs it (a
  ``pool_in_use``/``checkedout``/``active`` field, HikariCP's ``(total=10, active=10, idle=0,
  waiting=3)``, SQLAlchemy's ``pool.status()``, node-postgres ``totalCount``/``idleCount``).
* :func:`leak_signature` — per pool: the floor of the in-use count (the lowest it ever goes
  again) stepping up and never returning to its starting level, and whether each step
  follows an exception.
* :func:`db_headroom` — RDS ``CPUUtilization`` and ``DatabaseConnections`` against
  ``max_connections`` (in :mod:`.database`, re-exported here).

The finding built on them (``connection-pool-leak``) is in :mod:`incidentkit.findings.detectors`.

Example
-------
>>> import pandas as pd
>>> logs = pd.DataFrame({"timestamp": [pd.Timestamp("2026-03-01T03:00Z")], "message": [
...     "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00"]})
>>> pool_errors(logs).loc[0, ["library", "kind"]].tolist()
['sqlalchemy', 'pool-timeout']
"""

from __future__ import annotations

import math
import re
from typing import Sequence

import numpy as np
import pandas as pd

from ._common import (
    as_utc,
    column_or_na,
    empty_table,
    first_group,
    select_metric,
    select_rows,
    text_test,
    to_float,
)
# the database's headroom lived here before it got its module; its names stay reachable from here
from .database import DB_COLUMNS, db_headroom

__all__ = [
    "POOL_ERROR_COLUMNS",
    "POOL_USAGE_COLUMNS",
    "LEAK_COLUMNS",
    "DB_COLUMNS",
    "pool_errors",
    "pool_usage",
    "pool_usage_metrics",
    "leak_signature",
    "db_headroom",
    "exception_lines",
    "leak_signature_of",
    "pool_error_rows",
]

UTC_NS = "datetime64[ns, UTC]"

POOL_ERROR_COLUMNS = (
    "timestamp",
    "log_group",
    "log_stream",
    "request_id",
    "library",  # sqlalchemy | hikaricp | node-postgres | psycopg-pool | dbcp | jdbc | postgresql | mysql | generic
    "kind",  # pool-timeout (the app's pool is empty) | server-limit (the database refused) | connect-timeout
    "pool_name",
    "pool_size",
    "overflow",
    "timeout_s",
    "message",
)
POOL_USAGE_COLUMNS = ("timestamp", "pool", "in_use", "size", "idle", "waiting")
LEAK_COLUMNS = (
    "pool",
    "samples",
    "baseline_in_use",  # lowest in-use count over the first 10 % of samples
    "final_in_use",  # lowest in-use count over the last 10 % of samples
    "peak_in_use",
    "size",
    "leaked",  # final_in_use - baseline_in_use
    "step_ups",  # times the floor (the lowest level it ever returns to) rose
    "step_ups_after_exception",
    "exception_share",  # share of step-ups with an exception just before
    "chance_share",  # probability that such an interval holds an exception by chance
    "exceptions_while_rising",  # exceptions from the first step to the last
    "leaked_per_exception",  # about 1 when each exception keeps one connection
    "returned_to_baseline",
    "leak",
)

# (library, kind, pattern, needles): a line is searched with the pattern only when its lower-cased
# text contains one of the needles (a literal scan is ~100x cheaper than the regex on long lines)
_POOL_PATTERNS: tuple[tuple[str, str, re.Pattern[str], tuple[str, ...]], ...] = (
    ("sqlalchemy", "pool-timeout", re.compile(
        r"QueuePool limit of size (?P<size>\d+) overflow (?P<overflow>-?\d+) reached, connection timed out, timeout (?P<timeout>[\d.]+)"),
     ("queuepool limit",)),
    ("hikaricp", "pool-timeout", re.compile(
        r"(?P<pool>\w[\w.\-]*(?: [\w.\-]+){0,4}) - Connection is not available, request timed out after (?P<timeout_ms>\d+)\s*ms"
        r"(?:[^()]{0,40}\(total=(?P<size>\d+))?"),
     ("connection is not available",)),
    ("node-postgres", "pool-timeout", re.compile(r"timeout exceeded when trying to connect"), ("timeout exceeded when trying",)),
    ("psycopg-pool", "pool-timeout", re.compile(r"(?:PoolTimeout\W*)?couldn't get a connection after (?P<timeout>[\d.]+) sec|PoolTimeout"),
     ("pooltimeout", "couldn't get a connection")),
    ("dbcp", "pool-timeout", re.compile(r"Timeout waiting for idle object|Cannot get a connection, pool error"),
     ("waiting for idle object", "pool error")),
    ("jdbc", "pool-timeout", re.compile(r"Unable to acquire JDBC Connection|Could not get JDBC Connection"), ("jdbc connection",)),
    ("generic", "pool-timeout", re.compile(
        r"(?i:connection pool (?:is )?exhausted|\bpool exhausted\b|no (?:free |available )?connections? (?:available )?in (?:the )?pool"
        r"|timed? ?out waiting for (?:a )?(?:free |available )?connection)"),
     ("exhausted", "in the pool", "in pool", "waiting for")),
    ("postgresql", "server-limit", re.compile(r"(?i:sorry, too many clients already|remaining connection slots are reserved)"),
     ("too many clients", "connection slots are reserved")),
    ("mysql", "server-limit", re.compile(r"\bToo many connections\b|ER_CON_COUNT_ERROR"), ("too many connections", "er_con_count_error")),
    ("node-postgres", "connect-timeout", re.compile(r"Connection terminated due to connection timeout"), ("connection terminated due to",)),
)
_USAGE_NEEDLES = ("total=", "checked out", "totalcount", "in_use", "inuse", "in use", "checkedout", "checked_out", "active",
                  "busy", "numactive")

_HIKARI_STATS = re.compile(
    r"(?:(?P<pool>\w[\w.\-]*(?: [\w.\-]+){0,4}) - [^()]{0,80})?\(total=(?P<total>\d+),\s*active=(?P<active>\d+),\s*idle=(?P<idle>\d+),\s*waiting=(?P<waiting>\d+)\)")
_SQLA_STATUS = re.compile(
    r"Pool size:\s*(?P<size>\d+)\s+Connections in pool:\s*(?P<idle>\d+)\s+Current Overflow:\s*(?P<overflow>-?\d+)\s+"
    r"Current Checked out connections:\s*(?P<out>\d+)")
_KV = r"[\"']?\s*[:=]\s*[\"']?(\d+)"
# keys naming the number of connections checked out of the pool: any key containing
# checked_out / in_use (DbPoolCheckedOut, pool.checkedout, connections_in_use ...), or the usual
# exact names for "active"
_IN_USE = re.compile(
    r"(?i)\b[\w.]{0,40}?(?:checked_?out|in_?use|busy_?connections|active_?connections)\w{0,20}" + _KV
    + r"|\b(?:pool_active|numActive|activeCount|active)" + _KV + r"|\bin use:\s*(\d+)")
_SIZE = re.compile(r"(?i)\b[\w.]{0,40}?(?:pool_?size|pool\.size|pool_?max|maxTotal)\w{0,10}" + _KV)
_IDLE = re.compile(r"(?i)\b(?:pool_idle|idle_connections|idleCount|numIdle|idle)" + _KV)
_WAITING = re.compile(r"(?i)\b(?:pool_waiting|waitingCount|waiting|pending_acquires|threads_awaiting)" + _KV)
_PG_TOTAL = re.compile(r"\btotalCount" + _KV)
_USAGE_COLUMNS = ("pool_in_use", "in_use", "checkedout", "checked_out", "pool_checked_out", "active_connections", "pool_active", "active")
_SIZE_COLUMNS = ("pool_size", "max_pool_size", "pool_max")
_ERROR_LEVELS = frozenset({"ERROR", "FATAL", "CRITICAL", "SEVERE"})


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _pool_key(df: pd.DataFrame) -> pd.Series:
    stream = column_or_na(df, "log_stream").astype("string")
    group = column_or_na(df, "log_group").astype("string")
    key = stream.where(stream.notna() & (stream.str.len() > 0), group)
    return key.fillna("(all)").astype("object")


# ---------------------------------------------------------------------------------------------
# analyses
# ---------------------------------------------------------------------------------------------


def pool_errors(logs: pd.DataFrame | None) -> pd.DataFrame:
    """Every log line that reports a connection-pool checkout failure or a server connection limit.

    Parameters
    ----------
    logs:
        Parsed log events (``schema.PARSED_COLUMNS``); ``message``, ``error_type`` and
        ``error_message`` are searched.

    Returns
    -------
    pandas.DataFrame
        :data:`POOL_ERROR_COLUMNS`, in time order. ``kind`` separates the application's pool
        running dry (``pool-timeout``) from the database refusing connections
        (``server-limit``); ``pool_size``/``overflow``/``timeout_s`` are read from the text when
        it carries them (SQLAlchemy does, HikariCP gives the timeout and sometimes ``total=``).

    Example
    -------
    >>> import pandas as pd
    >>> logs = pd.DataFrame({"timestamp": [pd.Timestamp("2026-03-01T03:00Z")] * 2, "message": [
    ...     "java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30014ms.",
    ...     "FATAL: sorry, too many clients already"]})
    >>> pool_errors(logs)[["library", "kind", "timeout_s"]].values.tolist()
    [['hikaricp', 'pool-timeout', 30.014], ['postgresql', 'server-limit', nan]]
    """
    dt = {"timestamp": UTC_NS, "pool_size": "float64", "overflow": "float64", "timeout_s": "float64"}
    if logs is None or logs.empty or "timestamp" not in logs.columns:
        return empty_table(POOL_ERROR_COLUMNS, dt)
    logs = logs.reset_index(drop=True)
    found_df = pool_error_rows(logs)
    if found_df.empty:
        return empty_table(POOL_ERROR_COLUMNS, dt)
    at = np.zeros(len(logs), dtype=bool)
    at[found_df["row"].to_numpy(dtype=int)] = True  # rows in order: a filter, not a row take of the message column
    sub = select_rows(logs, at)
    out = pd.DataFrame({
        "timestamp": as_utc(sub["timestamp"]).to_numpy(),
        "log_group": column_or_na(sub, "log_group").astype("string").to_numpy(),
        "log_stream": column_or_na(sub, "log_stream").astype("string").to_numpy(),
        "request_id": column_or_na(sub, "request_id").astype("string").to_numpy(),
        "library": found_df["library"].to_numpy(),
        "kind": found_df["kind"].to_numpy(),
        "pool_name": found_df["pool_name"].astype("string").to_numpy(),
        "pool_size": found_df["pool_size"].to_numpy(dtype=float),
        "overflow": found_df["overflow"].to_numpy(dtype=float),
        "timeout_s": found_df["timeout_s"].to_numpy(dtype=float),
        "message": column_or_na(sub, "message").astype("string").to_numpy(),
    })
    out["timestamp"] = as_utc(out["timestamp"])
    for c in ("log_group", "log_stream", "request_id", "library", "kind", "pool_name", "message"):
        out[c] = out[c].astype("string")
    return out.sort_values("timestamp", kind="stable", ignore_index=True)[list(POOL_ERROR_COLUMNS)]


def _contains_any(lower: pd.Series, needles: Sequence[str]) -> np.ndarray:
    """Rows of lower-cased text containing any of the literal ``needles`` (one linear pass)."""
    if len(lower) == 0:
        return np.zeros(0, dtype=bool)
    pattern = "|".join(re.escape(n) for n in needles)
    return lower.str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool)


_ALL_POOL_NEEDLES = tuple(n for *_, needles in _POOL_PATTERNS for n in needles)
#: The columns a pool error is looked for in, joined by a newline (:func:`_error_text`).
_ERROR_TEXT_COLUMNS = ("message", "error_type", "error_message")


def _lower_contains_any(values: pd.Series, needles: Sequence[str]) -> np.ndarray:
    """:func:`_contains_any` of the column lower-cased (of its distinct values for a dictionary column); missing: False."""
    return text_test(values, lambda s: pd.Series(_contains_any(s.str.lower(), needles), index=s.index))


def _error_text(logs: pd.DataFrame) -> pd.Series:
    return (column_or_na(logs, "message").astype("string").fillna("") + "\n" + column_or_na(logs, "error_type").astype("string").fillna("")
            + "\n" + column_or_na(logs, "error_message").astype("string").fillna(""))


def pool_error_rows(logs: pd.DataFrame) -> pd.DataFrame:
    """Pool errors of ``logs`` (a 0..n-1 index): ``row`` (the position) and the parsed fields, in row order."""
    # A needle holds no newline, so it is in the joined text exactly when it is in one of its parts: each column is
    # searched as it is, and only the lines found are joined (not a copy of every message a run).
    columns = [c for c in _ERROR_TEXT_COLUMNS if c in logs.columns]
    first = np.zeros(len(logs), dtype=bool)
    for c in columns:
        first |= _lower_contains_any(logs[c], _ALL_POOL_NEEDLES)
    where = np.flatnonzero(first)
    text = _error_text(select_rows(logs, first, columns)).reset_index(drop=True)
    lower = text.str.lower()
    parts: list[pd.DataFrame] = []
    claimed = np.zeros(len(text), dtype=bool)
    for library, kind, pattern, needles in _POOL_PATTERNS:
        if not len(text):
            break
        cand = _contains_any(lower, needles) & ~claimed
        if not cand.any():
            continue
        found = text[cand].str.extract(pattern.pattern if pattern.groupindex else f"({pattern.pattern})", expand=True)
        ok = found.notna().any(axis=1).to_numpy()
        if not ok.any():
            continue
        local = np.flatnonzero(cand)[ok]
        claimed[local] = True
        positions = where[local]
        f = found[ok]

        def num(name: str, scale: float = 1.0) -> np.ndarray:
            return (to_float(f[name]) / scale).to_numpy() if name in f.columns else np.full(len(f), np.nan)

        timeout = num("timeout")
        timeout = np.where(np.isnan(timeout), num("timeout_ms", 1000.0), timeout)
        parts.append(pd.DataFrame({
            "row": positions,
            "library": library,
            "kind": kind,
            "pool_name": f["pool"].astype("string").str.strip().to_numpy() if "pool" in f.columns else pd.NA,
            "pool_size": num("size"),
            "overflow": num("overflow"),
            "timeout_s": timeout,
        }))
    if not parts:
        return pd.DataFrame(columns=["row", "library", "kind", "pool_name", "pool_size", "overflow", "timeout_s"])
    return pd.concat(parts, ignore_index=True).sort_values("row", kind="stable", ignore_index=True)


def _first_int(series: pd.Series, pattern: re.Pattern[str]) -> pd.Series:
    found = series.str.extract(pattern.pattern, expand=True)
    vals = first_group(found) if found.shape[1] else pd.Series(np.nan, index=series.index)
    return to_float(vals)


def pool_usage(logs: pd.DataFrame | None) -> pd.DataFrame:
    """The pool's in-use gauge wherever the application logs it.

    Read from columns (``pool_in_use``, ``in_use``, ``checkedout``, ``checked_out``, ``active``
    ... and ``pool_size``) or from the text: HikariCP's ``(total=10, active=10, idle=0,
    waiting=3)``, SQLAlchemy's ``pool.status()`` ("Pool size: 5 Connections in pool: 0 Current
    Overflow: 10 Current Checked out connections: 15"), ``key=value``/JSON fields such as
    ``pool_in_use=7``, ``"checkedout": 7``, ``in use: 7``, node-postgres ``totalCount`` minus
    ``idleCount``.

    Returns
    -------
    pandas.DataFrame
        :data:`POOL_USAGE_COLUMNS`; ``pool`` is the log stream (one process, one pool) or the
        log group, with the HikariCP pool name appended when logged.

    Example
    -------
    >>> import pandas as pd
    >>> logs = pd.DataFrame({"timestamp": [pd.Timestamp("2026-03-01T03:00Z")], "log_stream": ["web-1"],
    ...     "message": ["HikariPool-1 - Timeout failure stats (total=10, active=10, idle=0, waiting=4)"]})
    >>> row = pool_usage(logs).iloc[0]
    >>> row["pool"], float(row["in_use"]), float(row["size"]), float(row["waiting"])
    ('web-1/HikariPool-1', 10.0, 10.0, 4.0)
    """
    dt = {"timestamp": UTC_NS, "in_use": "float64", "size": "float64", "idle": "float64", "waiting": "float64"}
    if logs is None or logs.empty or "timestamp" not in logs.columns:
        return empty_table(POOL_USAGE_COLUMNS, dt)
    logs = logs.reset_index(drop=True)
    has_column = np.zeros(len(logs), dtype=bool)
    for c in _USAGE_COLUMNS:
        if c in logs.columns:
            has_column |= pd.to_numeric(logs[c], errors="coerce").notna().to_numpy()
    said = _lower_contains_any(logs["message"], _USAGE_NEEDLES) if "message" in logs.columns else np.zeros(len(logs), dtype=bool)
    cand = has_column | said
    if not cand.any():
        return empty_table(POOL_USAGE_COLUMNS, dt)
    logs = select_rows(logs, cand).reset_index(drop=True)  # a filter, not a row take of the message column
    msg = column_or_na(logs, "message").astype("string").fillna("")
    in_use = pd.Series(np.nan, index=logs.index)
    size = pd.Series(np.nan, index=logs.index)
    idle = pd.Series(np.nan, index=logs.index)
    waiting = pd.Series(np.nan, index=logs.index)
    pool_name = pd.Series(pd.NA, index=logs.index, dtype="object")
    for c in _USAGE_COLUMNS:
        if c in logs.columns:
            in_use = in_use.fillna(to_float(logs[c]))
    for c in _SIZE_COLUMNS:
        if c in logs.columns:
            size = size.fillna(to_float(logs[c]))
    hk = msg.str.extract(_HIKARI_STATS.pattern, expand=True)
    in_use = in_use.fillna(to_float(hk["active"]))
    size = size.fillna(to_float(hk["total"]))
    idle = idle.fillna(to_float(hk["idle"]))
    waiting = waiting.fillna(to_float(hk["waiting"]))
    pool_name = pool_name.where(hk["pool"].isna(), hk["pool"].str.strip())
    sq = msg.str.extract(_SQLA_STATUS.pattern, expand=True)
    in_use = in_use.fillna(to_float(sq["out"]))
    size = size.fillna(to_float(sq["size"]) + to_float(sq["overflow"]).clip(lower=0))
    idle = idle.fillna(to_float(sq["idle"]))
    pg_total = _first_int(msg, _PG_TOTAL)
    generic_idle = _first_int(msg, _IDLE)
    in_use = in_use.fillna(pg_total - generic_idle)
    in_use = in_use.fillna(_first_int(msg, _IN_USE))
    size = size.fillna(_first_int(msg, _SIZE))
    idle = idle.fillna(generic_idle)
    waiting = waiting.fillna(_first_int(msg, _WAITING))
    keep = in_use.notna().to_numpy()
    if not keep.any():
        return empty_table(POOL_USAGE_COLUMNS, dt)
    key = _pool_key(logs)
    named = pool_name.notna()
    key = key.where(~named, key + "/" + pool_name.astype("string").fillna("").astype("object"))
    out = pd.DataFrame({
        "timestamp": as_utc(logs.loc[keep, "timestamp"]).to_numpy(),
        "pool": key[keep].to_numpy(),
        "in_use": in_use[keep].to_numpy(dtype=float),
        "size": size[keep].to_numpy(dtype=float),
        "idle": idle[keep].to_numpy(dtype=float),
        "waiting": waiting[keep].to_numpy(dtype=float),
    })
    out["timestamp"] = as_utc(out["timestamp"])
    return out.sort_values(["pool", "timestamp"], kind="stable", ignore_index=True)


_GAUGE_METRIC = re.compile(r"(?i)checked_?out|in_?use|busy_?conn|active_?conn|pool_?active|num_?active")


def pool_usage_metrics(metrics: pd.DataFrame | None) -> pd.DataFrame:
    """The pool's in-use gauge from custom CloudWatch metrics (EMF or PutMetricData).

    Any metric outside the ``AWS/`` namespaces whose name says connections checked out or in
    use (``DbPoolCheckedOut``, ``pool_in_use``, ``ActiveConnections``...) is a gauge; one pool
    per series (namespace, name, dimensions). The statistic is Minimum when present (the floor
    is what a leak raises), else Average, else Maximum.

    Returns
    -------
    pandas.DataFrame
        :data:`POOL_USAGE_COLUMNS`; ``pool`` is ``metric:<namespace>/<name> <dimensions>``.

    Example
    -------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T03:00Z"]), "namespace": "BillingApi",
    ...     "metric_name": "DbPoolCheckedOut", "dimensions": '{"Service":"billing"}', "stat": "Average",
    ...     "period": 60, "value": [4.0]})
    >>> pool_usage_metrics(m)["pool"].tolist()
    ['metric:BillingApi/DbPoolCheckedOut {"Service":"billing"}']
    """
    dt = {"timestamp": UTC_NS, "in_use": "float64", "size": "float64", "idle": "float64", "waiting": "float64"}
    if metrics is None or metrics.empty or not {"metric_name", "namespace"} <= set(metrics.columns):
        return empty_table(POOL_USAGE_COLUMNS, dt)
    names = metrics["metric_name"].astype("string").fillna("")
    ns = metrics["namespace"].astype("string").fillna("")
    sel = (names.str.contains(_GAUGE_METRIC.pattern, regex=True) & ~ns.str.startswith("AWS/")).fillna(False).to_numpy(dtype=bool)
    if not sel.any():
        return empty_table(POOL_USAGE_COLUMNS, dt)
    parts = []
    for (n, name), _ in metrics.loc[sel].groupby([ns[sel], names[sel]], sort=False):
        df = select_metric(metrics, str(n), str(name), ("Minimum", "Average", "Maximum"))
        for dims, g in df.groupby("dimensions", sort=False):
            parts.append(pd.DataFrame({"timestamp": g["timestamp"].to_numpy(), "pool": f"metric:{n}/{name} {dims}",
                                       "in_use": g["value"].to_numpy(dtype=float), "size": np.nan, "idle": np.nan, "waiting": np.nan}))
    if not parts:
        return empty_table(POOL_USAGE_COLUMNS, dt)
    out = pd.concat(parts, ignore_index=True)
    out["timestamp"] = as_utc(out["timestamp"])
    return out.sort_values(["pool", "timestamp"], kind="stable", ignore_index=True)


def exception_lines(logs: pd.DataFrame | None, pool_rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Error lines that are not themselves pool errors: the candidates for leaking a connection.

    ``pool_rows`` is :func:`pool_error_rows` of the same (index-reset) logs, when already computed.
    """
    if logs is None or logs.empty or "timestamp" not in logs.columns:
        return pd.DataFrame(columns=["timestamp", "pool", "error_type"])
    logs = logs.reset_index(drop=True)
    level = column_or_na(logs, "level").astype("string").str.upper()
    etype = column_or_na(logs, "error_type").astype("string")
    fmt = column_or_na(logs, "format").astype("string")
    msg = column_or_na(logs, "message").astype("string").fillna("")
    status = pd.to_numeric(column_or_na(logs, "status", "Int64"), errors="coerce")
    traced = (fmt == "traceback").fillna(False) | msg.str.contains(
        r"Traceback \(most recent call last\)|^\s*at [\w.$]+\(|Exception in thread", regex=True).fillna(False)
    # an exception is a raised error (a type, a traceback, an ...Error/...Exception at error level);
    # an access-log line saying "500" is its consequence, not another exception
    at_error = (level.isin(list(_ERROR_LEVELS)).fillna(False) & status.isna()).to_numpy(dtype=bool)
    named = np.zeros(len(logs), dtype=bool)  # the message is only searched where it can matter
    if at_error.any():
        named[at_error] = msg[at_error].str.contains(r"\b[A-Z]\w*(?:Error|Exception)\b", regex=True).fillna(False).to_numpy(dtype=bool)
    is_err = etype.notna() | traced | pd.Series(named, index=logs.index)
    pool_hit = np.zeros(len(logs), dtype=bool)
    rows = pool_error_rows(logs) if pool_rows is None else pool_rows
    pool_hit[rows["row"].to_numpy(dtype=int)] = True
    sel = is_err.to_numpy(dtype=bool) & ~pool_hit
    if not sel.any():
        return pd.DataFrame(columns=["timestamp", "pool", "error_type"])
    sub = logs.loc[sel]
    et = etype[sel].fillna(msg[sel].str.extract(r"([A-Z][\w.]*(?:Error|Exception))", expand=False))
    return pd.DataFrame({"timestamp": as_utc(sub["timestamp"]).to_numpy(), "pool": _pool_key(sub).to_numpy(),
                         "error_type": et.astype("object").to_numpy()})


def leak_signature(
    usage: pd.DataFrame,
    logs: pd.DataFrame | None = None,
    *,
    exception_window: str | pd.Timedelta = "60s",
    horizon: str | pd.Timedelta = "10min",
    min_samples: int = 8,
) -> pd.DataFrame:
    """Does each pool's in-use count climb in steps that never come back down?

    For each pool (a process's log stream), the *floor* at sample ``i`` is the lowest in-use
    count from ``i`` to the end: the level the pool still returns to. A healthy pool keeps
    returning to its idle level, so its floor stays flat; a leaking pool's floor steps up
    each time a connection is lost for good. A step is attributed to an exception when an
    error line (not a pool error) of the same stream falls between ``exception_window`` before
    the last sample at the old floor and ``horizon`` after the next sample (busy connections
    can hide the new floor for a while). ``chance_share`` is the probability that an interval
    of the same length holds an exception anyway, given the stream's exception rate
    (Poisson); ``leaked_per_exception`` near 1 says each exception kept one connection.

    Parameters
    ----------
    usage:
        :func:`pool_usage` output.
    logs:
        The parsed logs, for the exceptions.
    exception_window:
        How long before a step an exception counts.
    horizon:
        How long after the first sample above the old floor an exception still counts.
    min_samples:
        Pools with fewer gauge samples are left out.

    Returns
    -------
    pandas.DataFrame
        :data:`LEAK_COLUMNS`. ``leak`` is True when the floor rose at least twice, by at least
        ``max(2, 20 % of the pool size)`` connections, and never returned to the baseline.

    Example
    -------
    >>> import pandas as pd
    >>> t = pd.date_range("2026-03-01T03:00Z", periods=12, freq="1min")
    >>> use = pd.DataFrame({"timestamp": t, "pool": "web-1", "in_use": [1, 0, 1, 1, 2, 1, 2, 3, 2, 3, 4, 4],
    ...                     "size": 5.0, "idle": float("nan"), "waiting": float("nan")})
    >>> row = leak_signature(use).iloc[0]
    >>> int(row["leaked"]), int(row["step_ups"]), bool(row["leak"])
    (3, 3, True)
    """
    if usage is None or usage.empty:
        return empty_table(LEAK_COLUMNS, {"returned_to_baseline": "bool", "leak": "bool"})
    return leak_signature_of(usage, exception_lines(logs), exception_window=exception_window, horizon=horizon,
                           min_samples=min_samples)


def leak_signature_of(usage: pd.DataFrame, exc: pd.DataFrame, *, exception_window: str | pd.Timedelta = "60s",
                    horizon: str | pd.Timedelta = "10min", min_samples: int = 8) -> pd.DataFrame:
    dt = {"returned_to_baseline": "bool", "leak": "bool"}
    if usage is None or usage.empty:
        return empty_table(LEAK_COLUMNS, dt)
    window = pd.Timedelta(exception_window)
    horizon = pd.Timedelta(horizon)
    rows = []
    for pool, grp in usage.groupby("pool", sort=False):
        grp = grp.sort_values("timestamp")
        v = grp["in_use"].to_numpy(dtype=float)
        t = grp["timestamp"].reset_index(drop=True)
        n = len(v)
        if n < min_samples:
            continue
        k = max(3, int(math.ceil(0.1 * n)))
        baseline = float(v[:k].min())
        final = float(v[-k:].min())
        floor = np.minimum.accumulate(v[::-1])[::-1]
        steps = [i for i in range(n - k) if floor[i + 1] > floor[i]]
        stream = str(pool).split("/HikariPool")[0]
        if str(pool).startswith("metric:"):
            mine = exc  # a metric aggregates the tasks: every task's exceptions count
        else:
            mine = exc[exc["pool"].astype(str).map(lambda p: p == pool or p == stream or str(pool).startswith(p + "/"))] if len(exc) else exc
        ex_t = mine["timestamp"] if len(mine) else pd.Series([], dtype=UTC_NS)
        span_s = max(1.0, (t.iloc[-1] - t.iloc[0]).total_seconds())
        rate = len(ex_t) / span_s  # exceptions per second in this stream

        after_exc = 0
        chances = []
        for i in steps:
            # The connection was lost after the last sample at the old floor (t[i]); busy connections
            # can hide the new floor for a while, so look up to ``horizon`` past the next sample.
            lo, hi = t[i] - window, min(t[i + 1] + horizon, t.iloc[-1])
            if len(ex_t) and bool(((ex_t > lo) & (ex_t <= hi)).any()):
                after_exc += 1
            chances.append(1.0 - math.exp(-rate * (hi - lo).total_seconds()))
        chance = float(np.mean(chances)) if chances and len(ex_t) else float("nan")
        if steps and len(ex_t):
            rising = (ex_t > t[steps[0]] - window) & (ex_t <= min(t[steps[-1] + 1] + horizon, t.iloc[-1]))
            exc_rising = int(rising.sum())
        else:
            exc_rising = 0
        sizes = grp["size"].dropna()
        size = float(sizes.max()) if len(sizes) else float("nan")
        leaked = final - baseline
        need = max(2.0, 0.2 * size) if not math.isnan(size) else 2.0
        rows.append({
            "pool": pool,
            "samples": n,
            "baseline_in_use": baseline,
            "final_in_use": final,
            "peak_in_use": float(v.max()),
            "size": size,
            "leaked": leaked,
            "step_ups": len(steps),
            "step_ups_after_exception": after_exc,
            "exception_share": after_exc / len(steps) if steps else float("nan"),
            "chance_share": chance,
            "exceptions_while_rising": exc_rising,
            "leaked_per_exception": leaked / exc_rising if exc_rising else float("nan"),
            "returned_to_baseline": bool(final <= baseline),
            "leak": bool(leaked >= need and len(steps) >= 2 and final > baseline),
        })
    if not rows:
        return empty_table(LEAK_COLUMNS, dt)
    out = pd.DataFrame(rows, columns=list(LEAK_COLUMNS))
    return out.sort_values("leaked", ascending=False, kind="stable", ignore_index=True)
