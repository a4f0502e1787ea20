"""The database's headroom: how busy each RDS instance (or cluster) was, CPU and connections against ``max_connections``.

"Connection pool exhausted" has two causes: a database really saturated (every pool waits on it)
or an idle database and an application that leaks connections (:mod:`.saturation`).
:func:`db_headroom` tells them apart from the RDS metrics: ``CPUUtilization`` and
``DatabaseConnections`` against the instance's ``max_connections`` setting. The finding built on
both, ``connection-pool-leak``, is in :mod:`incidentkit.findings.detectors`.

Example
-------
>>> db_headroom(None).columns.tolist() == list(DB_COLUMNS)
True
"""

from __future__ import annotations

import math

import pandas as pd

from ._common import empty_table, parse_dims, select_metric

__all__ = ["DB_COLUMNS", "db_headroom"]


DB_COLUMNS = ("db", "cpu_mean", "cpu_p95", "cpu_max", "connections_max", "max_connections", "connection_use", "state")


def _max_connections(settings: pd.DataFrame | None, db: str) -> float:
    if settings is None or settings.empty or "value" not in settings.columns:
        return float("nan")
    key = "setting" if "setting" in settings.columns else ("key" if "key" in settings.columns else None)
    if key is None:
        return float("nan")
    rows = settings[settings[key].astype("string").str.lower().eq("max_connections").fillna(False).to_numpy(dtype=bool)]
    if rows.empty:
        return float("nan")
    if "resource_id" in rows.columns and db != "(all)":
        mine = rows[rows["resource_id"].astype("string").fillna("").map(lambda r: r == db or r.endswith(":" + db) or r.endswith("/" + db))]
        rows = mine if not mine.empty else rows
    vals = pd.to_numeric(rows["value"], errors="coerce").dropna()
    return float(vals.iloc[0]) if len(vals) else float("nan")


def db_headroom(metrics: pd.DataFrame | None, settings: pd.DataFrame | None = None, *,
                start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> pd.DataFrame:
    """How busy each RDS instance (or cluster) was: CPU and connections against ``max_connections``.

    Parameters
    ----------
    metrics:
        ``AWS/RDS`` ``CPUUtilization`` (Average for the mean and P95, Maximum for the peak) and
        ``DatabaseConnections`` (Maximum, else Average), by ``DBInstanceIdentifier`` or
        ``DBClusterIdentifier``.
    settings:
        ``max_connections`` (the parameter group's value; a formula such as
        ``{DBInstanceClassMemory/9531392}`` cannot be evaluated here and leaves it unknown).
    start, end:
        Restrict to a window.

    Returns
    -------
    pandas.DataFrame
        :data:`DB_COLUMNS`. ``state`` is ``cpu-saturated`` (mean ≥ 80 % or P95 ≥ 90 %),
        ``connections-near-max`` (≥ 90 % of max_connections), ``headroom`` (CPU P95 < 60 %, a
        brief peak above it allowed, and connections < 50 % of the maximum, or the maximum
        unknown), ``busy`` in between,
        ``unknown`` without CPU data.

    Example
    -------
    >>> import pandas as pd
    >>> ts = pd.date_range("2026-03-01T03:00Z", periods=3, freq="1min")
    >>> m = pd.DataFrame({"timestamp": list(ts) * 2, "namespace": "AWS/RDS",
    ...     "metric_name": ["CPUUtilization"] * 3 + ["DatabaseConnections"] * 3,
    ...     "dimensions": '{"DBInstanceIdentifier":"orders-db"}', "stat": ["Average"] * 3 + ["Maximum"] * 3,
    ...     "period": 60, "value": [18.0, 22.0, 20.0, 40.0, 41.0, 40.0]})
    >>> s = pd.DataFrame({"resource_id": ["orders-db"], "setting": ["max_connections"], "value": ["400"]})
    >>> row = db_headroom(m, s).iloc[0]
    >>> row["db"], float(row["connection_use"]), row["state"]
    ('orders-db', 0.1025, 'headroom')
    """
    frames = {}
    for name, stats in (("cpu_avg", ("Average", "Maximum")), ("cpu_max", ("Maximum", "Average")),
                        ("conn", ("Maximum", "Average"))):
        metric = "CPUUtilization" if name.startswith("cpu") else "DatabaseConnections"
        df = select_metric(metrics, "AWS/RDS", metric, stats, start=start, end=end)
        if not df.empty:
            df = df.assign(db=df["dimensions"].map(lambda d: parse_dims(d).get("DBInstanceIdentifier") or parse_dims(d).get("DBClusterIdentifier") or "(all)"))
        frames[name] = df
    dbs = sorted(set().union(*[set(f["db"]) for f in frames.values() if not f.empty]))
    if not dbs:
        return empty_table(DB_COLUMNS)
    rows = []
    for db in dbs:
        ca = frames["cpu_avg"][frames["cpu_avg"]["db"] == db]["value"] if not frames["cpu_avg"].empty else pd.Series([], dtype=float)
        cm = frames["cpu_max"][frames["cpu_max"]["db"] == db]["value"] if not frames["cpu_max"].empty else pd.Series([], dtype=float)
        cn = frames["conn"][frames["conn"]["db"] == db]["value"] if not frames["conn"].empty else pd.Series([], dtype=float)
        cpu_mean = float(ca.mean()) if len(ca) else float("nan")
        cpu_p95 = float(ca.quantile(0.95)) if len(ca) else float("nan")
        cpu_max = float(cm.max()) if len(cm) else cpu_p95
        conn_max = float(cn.max()) if len(cn) else float("nan")
        mx = _max_connections(settings, db)
        use = conn_max / mx if mx and not math.isnan(mx) and not math.isnan(conn_max) else float("nan")
        if math.isnan(cpu_mean) and math.isnan(use):
            state = "unknown"
        elif (not math.isnan(cpu_mean) and cpu_mean >= 80) or (not math.isnan(cpu_p95) and cpu_p95 >= 90):
            state = "cpu-saturated"
        elif not math.isnan(use) and use >= 0.9:
            state = "connections-near-max"
        elif (math.isnan(cpu_p95) or cpu_p95 < 60) and (math.isnan(use) or use < 0.5):
            state = "headroom"
        else:
            state = "busy"
        rows.append({"db": db, "cpu_mean": cpu_mean, "cpu_p95": cpu_p95, "cpu_max": cpu_max, "connections_max": conn_max,
                     "max_connections": mx, "connection_use": use, "state": state})
    return pd.DataFrame(rows, columns=list(DB_COLUMNS))
