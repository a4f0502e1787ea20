"""``connection-pool-leak`` (incidents.md #4): the pool is exhausted while the database idles.

The cause: connections are not returned to the pool after exceptions, so the pool's in-use count
steps up and stays up until checkouts time out. The evidence read: application logs (pool errors,
exceptions, a logged in-use gauge), pool gauges in the metrics, RDS ``CPUUtilization`` and
``DatabaseConnections`` against ``max_connections``, the requests and the change timeline. It
fires on repeated pool-checkout failures, or on a gauge whose floor steps up after exceptions.

The steps: :func:`measure` (numbers from the analyses), :func:`judge` (severity and
confidence), :func:`explain` (the finding); :func:`detect` runs them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ...analyses._common import as_utc, iso_z, pct, request_share, sentence_case, severity_for_share
from ...analyses.related import ChangeSpec, related_changes, sentence, targets_from
from ...analyses.related import evidence as related_evidence
from ...analyses.database import db_headroom
from ...analyses.saturation import (exception_lines, leak_signature_of, pool_error_rows, pool_errors, pool_usage,
                                    pool_usage_metrics)
from ..model import Finding, Inputs
from ._common import MAX_CONFIDENCE, Score, Verdict, window_start

__all__ = ["ID", "NEEDS", "detect", "measure", "judge", "explain", "Measures", "POOL_LEAK_CHANGES"]

#: The finding id (incidents.md, the catalogue).
ID = "connection-pool-leak"
#: The :class:`~incidentkit.findings.model.Inputs` fields this detector reads.
NEEDS: tuple[str, ...] = ("window", "logs", "requests", "metrics", "changes", "settings", "resources")

#: Pool-checkout failures that make a finding without a gauge: one or two are a slow moment, three a pattern.
MIN_ERRORS = 3
#: A leak "by exception": at least this share of the gauge's steps has an exception just before it ...
STEP_AFTER_EXCEPTION_SHARE = 0.5
#: ... and the connections lost per exception are about one (one kept connection per failed request).
LEAKED_PER_EXCEPTION = (0.5, 2.0)
#: The database is looked at from this long before the window (a leak builds up before the pool runs dry).
DB_LOOKBACK = pd.Timedelta(hours=1)
#: Confidence: pool errors (or, without enough of them, a gauge only) ...
POOL_ERRORS_BASE, GAUGE_ONLY_BASE = 0.35, 0.2
#: ... the database had room (the pool, not the database, is the bottleneck) ...
HEADROOM_BONUS = 0.2
#: ... exceptions came before the first pool error (what leaks the connections) ...
EXCEPTIONS_FIRST_BONUS = 0.05
#: ... a leak signature in the gauge: strong (steps after exceptions, counts that match) or any step-up.
STRONG_LEAK_BONUS, WEAK_LEAK_BONUS = 0.3, 0.1
#: The database was saturated (the pool waits on it: another problem) or busy.
SATURATED_PENALTY, BUSY_PENALTY = -0.2, -0.1
#: Traffic grew this much over the gauge's span: a busier pool, not necessarily a leak.
TRAFFIC_GROWTH, TRAFFIC_GROWTH_PENALTY = 1.5, -0.1
#: Without request counts, this many pool errors is high severity; this many at least medium.
MANY_ERRORS_HIGH, ERRORS_MEDIUM = 50, 10
#: Some confidence remains even when the penalties add up: the pool did fail.
MIN_CONFIDENCE = 0.05

#: The fix in the idiom of the pool library found in the errors.
FIX_BY_LIBRARY = {
    "sqlalchemy": "SQLAlchemy: use `with engine.connect() as conn:` / `with Session(engine) as db:` (or try/finally "
                  "`conn.close()`, `session.close()`) so the exception path returns the connection too.",
    "hikaricp": "JDBC/HikariCP: open connections in try-with-resources (`try (Connection c = ds.getConnection()) {...}`), "
                "and set leakDetectionThreshold=2000 (ms) to log the stack of every connection held too long.",
    "jdbc": "JDBC: open connections in try-with-resources (`try (Connection c = ds.getConnection()) {...}`); with HikariCP "
            "set leakDetectionThreshold=2000 (ms) to log where connections are held.",
    "node-postgres": "node-postgres: `const client = await pool.connect(); try { ... } finally { client.release(); }` "
                     "(or use `pool.query`, which releases for you).",
    "psycopg-pool": "psycopg_pool: `with pool.connection() as conn:` so the connection goes back on every path.",
    "dbcp": "DBCP: close connections in finally / try-with-resources; enable removeAbandonedOnBorrow with logAbandoned=true.",
}


#: The changes that can explain ``connection-pool-leak`` (see :mod:`.related`): a leak arrives with code.
POOL_LEAK_CHANGES = ChangeSpec("connection-pool-leak", {
    "deployment": "a deploy shipped the code path that keeps connections after an exception",
    "code": "new code shipped the path that keeps connections after an exception",
    "database-config": "the database's connection settings changed",
})


@dataclass
class Measures:
    """Pool errors, the in-use gauge and its leak signature, the database's headroom, exceptions and traffic growth."""

    errs: pd.DataFrame
    client: pd.DataFrame
    usage: pd.DataFrame
    exc: pd.DataFrame
    strong: pd.DataFrame
    weak: pd.DataFrame
    db: pd.DataFrame
    saturated: bool
    headroom: bool
    first_err: Any
    exc_before: int
    growth: float
    share: float
    enough_errors: bool

    @property
    def top_leak(self) -> pd.Series | None:
        return (self.strong if not self.strong.empty else self.weak).iloc[0] if not self.weak.empty else None


def measure(inputs: Inputs, *, min_errors: int = MIN_ERRORS) -> Measures | None:
    """The pool's errors and gauge against the database; None without enough errors or a leak, or with a saturated database."""
    logs = inputs.logs.reset_index(drop=True) if inputs.logs is not None else None
    errs = pool_errors(logs)
    client = errs[errs["kind"] == "pool-timeout"]
    usage = pool_usage(logs)
    if usage.empty:
        usage = pool_usage_metrics(inputs.metrics)
    if usage.empty and len(client) < min_errors:
        return None  # no gauge that could leak and too few pool errors: the exception lines would change nothing
    if logs is not None and not logs.empty and "timestamp" in logs.columns:
        exc = exception_lines(logs, pool_error_rows(logs))
    else:
        exc = exception_lines(None)
    leaks = leak_signature_of(usage, exc)
    strong = leaks[leaks["leak"] & (leaks["exception_share"] >= STEP_AFTER_EXCEPTION_SHARE)
                   & leaks["leaked_per_exception"].between(*LEAKED_PER_EXCEPTION)]
    if len(client) < min_errors and strong.empty:
        return None
    window = inputs.window
    db = db_headroom(inputs.metrics, inputs.settings,
                     start=(window.start - DB_LOOKBACK) if window is not None else None,
                     end=window.end if window is not None else None)
    saturated = db["state"].isin(["cpu-saturated", "connections-near-max"]).any() if not db.empty else False
    if saturated and strong.empty:
        return None  # the pool waits on a busy database: a different problem
    first_err = client["timestamp"].min() if len(client) else None
    return Measures(
        errs=errs, client=client, usage=usage, exc=exc, strong=strong, weak=leaks[leaks["leak"]], db=db, saturated=bool(saturated),
        headroom=(not db.empty) and bool((db["state"] == "headroom").all()), first_err=first_err,
        exc_before=int((exc["timestamp"] < first_err).sum()) if first_err is not None and len(exc) else 0,
        growth=_traffic_growth(inputs.requests, usage if len(usage) else client),
        share=request_share(inputs.requests, client["request_id"]), enough_errors=len(client) >= min_errors,
    )


def judge(m: Measures) -> Verdict:
    """The kit's scale on the requests with a pool error (or the error count); high when the pool is exhausted."""
    n_client = len(m.client)
    score = Score(POOL_ERRORS_BASE if m.enough_errors else GAUGE_ONLY_BASE,
                  "pool-checkout failures" if m.enough_errors else "a leaking in-use gauge")
    score.add(HEADROOM_BONUS, "the database had room", when=m.headroom)
    score.add(EXCEPTIONS_FIRST_BONUS, "exceptions before the first pool error", when=m.exc_before > 0)
    if not m.strong.empty:
        score.add(STRONG_LEAK_BONUS, "the gauge steps up after exceptions, one connection each")
    elif not m.weak.empty:
        score.add(WEAK_LEAK_BONUS, "the gauge's floor steps up and never returns")
    score.add(SATURATED_PENALTY, "the database was saturated too", when=m.saturated)
    score.add(BUSY_PENALTY, "the database was busy", when=not m.db.empty and (m.db["state"] == "busy").any())
    score.add(TRAFFIC_GROWTH_PENALTY, "traffic grew over the gauge's span", when=not math.isnan(m.growth) and m.growth >= TRAFFIC_GROWTH)
    top_leak = m.top_leak
    exhausted = top_leak is not None and not math.isnan(top_leak["size"]) and top_leak["final_in_use"] >= top_leak["size"]
    if not math.isnan(m.share):
        severity = severity_for_share(m.share)
    else:
        severity = "high" if n_client >= MANY_ERRORS_HIGH else "medium"
    if (not m.strong.empty or n_client >= ERRORS_MEDIUM) and severity in ("low", "info"):
        severity = "medium"
    if exhausted and severity in ("medium", "low", "info"):
        severity = "high"
    if m.strong.empty and n_client < ERRORS_MEDIUM:
        severity = "low"
    return score.verdict(severity, round(min(MAX_CONFIDENCE, max(MIN_CONFIDENCE, score.value)), 3))


def _evidence(m: Measures, library: str | None, pool_size: float, top_exc: pd.Series, dbrow: pd.Series | None) -> dict[str, Any]:
    top_leak = m.top_leak
    evidence: dict[str, Any] = {
        "pool_error_lines": int(len(m.client)),
        "server_limit_lines": int((m.errs["kind"] == "server-limit").sum()),
        "share_requests_with_pool_error": m.share,
        "library": library,
        "pool_capacity": pool_size,
        "first_pool_error": m.first_err,
        "exceptions_before_first_pool_error": m.exc_before,
        "top_exception": str(top_exc.index[0]) if len(top_exc) else None,
        "traffic_growth": m.growth,
    }
    if dbrow is not None:
        evidence.update({"db": dbrow["db"], "db_state": dbrow["state"], "db_cpu_mean": dbrow["cpu_mean"], "db_cpu_max": dbrow["cpu_max"],
                         "db_connections_max": dbrow["connections_max"], "max_connections": dbrow["max_connections"],
                         "db_connection_use": dbrow["connection_use"]})
    if top_leak is not None:
        evidence.update({"gauge_pool": top_leak["pool"], "gauge_samples": int(top_leak["samples"]),
                         "in_use_at_start": top_leak["baseline_in_use"], "in_use_floor_at_end": top_leak["final_in_use"],
                         "leaked_connections": top_leak["leaked"], "step_ups": int(top_leak["step_ups"]),
                         "step_ups_after_exception": int(top_leak["step_ups_after_exception"]),
                         "leaked_per_exception": top_leak["leaked_per_exception"],
                         "exceptions_while_rising": int(top_leak["exceptions_while_rising"]),
                         "chance_of_exception_before_step": top_leak["chance_share"]})
    return evidence


def _summary(m: Measures, library: str | None, pool_size: float, top_exc: pd.Series, dbrow: pd.Series | None) -> str:
    client, top_leak, share = m.client, m.top_leak, m.share
    parts = []
    if len(client):
        parts.append(f"{len(client):,} connection-pool timeouts" + (f" ({library})" if library else "")
                     + (f", {pct(share)} of requests" if not math.isnan(share) else "")
                     + (f", pool of {pool_size:.0f}" if not math.isnan(pool_size) else ""))
    if dbrow is not None:
        mc = f" of max_connections {dbrow['max_connections']:.0f}" if not math.isnan(dbrow["max_connections"]) else ""
        parts.append(f"meanwhile {dbrow['db']} ran at {dbrow['cpu_mean']:.0f}% CPU on average (peak {dbrow['cpu_max']:.0f}%) "
                     f"with at most {dbrow['connections_max']:.0f} connections{mc}"
                     + (" — the database had room" if m.headroom else (" — the database was saturated too" if m.saturated else "")))
    if top_leak is not None:
        parts.append(f"the pool's in-use count rose from {top_leak['baseline_in_use']:.0f} to a floor of {top_leak['final_in_use']:.0f} "
                     f"in {int(top_leak['step_ups'])} steps and never came back"
                     + (f"; {int(top_leak['step_ups_after_exception'])} of the {int(top_leak['step_ups'])} steps came right after "
                        f"an exception, {top_leak['leaked']:.0f} connections lost for {int(top_leak['exceptions_while_rising'])} exceptions"
                        if top_leak["step_ups_after_exception"] else ""))
    if m.exc_before and len(top_exc):
        parts.append(f"{m.exc_before} exceptions (mostly {top_exc.index[0]}) preceded the first pool timeout")
    if m.saturated:
        tail = ". The gauge shows connections that are never returned, but the database is busy too: fix the leak first, then re-check the load."
    elif top_leak is not None and not m.strong.empty:
        tail = ". Connections are checked out and not returned on the error path, so the pool drains while the database sits idle."
    else:
        tail = (". The pool ran dry while the database had room: the application is most likely holding connections it no "
                "longer uses (a leak on the error path); log the pool's in-use count to confirm.")
    return sentence_case("; ".join(parts)) + tail


def explain(m: Measures, verdict: Verdict, inputs: Inputs) -> Finding:
    """The finding: the pool errors, the database's room, the gauge's steps, the change that shipped it, the fix."""
    client, top_leak = m.client, m.top_leak
    libs = client["library"].value_counts()
    library = str(libs.index[0]) if len(libs) else None
    sizes = client["pool_size"].dropna()
    overflow = client["overflow"].dropna()
    pool_size = float(sizes.iloc[0] + (overflow.iloc[0] if len(overflow) else 0)) if len(sizes) else (
        float(top_leak["size"]) if top_leak is not None else float("nan"))
    top_exc = m.exc["error_type"].dropna().value_counts()
    dbrow = m.db.iloc[0] if not m.db.empty else None
    evidence = _evidence(m, library, pool_size, top_exc, dbrow)
    summary = _summary(m, library, pool_size, top_exc, dbrow)
    onset = m.first_err if m.first_err is not None else (m.usage["timestamp"].min() if len(m.usage) else None)
    related = related_changes(inputs.changes, POOL_LEAK_CHANGES, _pool_targets(inputs, dbrow["db"] if dbrow is not None else None),
                              onset=onset, window=inputs.window)
    if related:
        evidence.update(related_evidence(related[0]))
        summary += " " + sentence(related[0], reference=window_start(inputs))
    remediation = [
        FIX_BY_LIBRARY.get(library or "", "Return every connection on every path: a context manager or try/finally around each "
                                            "checkout, so an exception cannot keep it."),
        "Find the leaking path: the exception logged just before each step of the in-use count"
        + (f" (most often {top_exc.index[0]})" if len(top_exc) else "") + " — it checks a connection out and raises before releasing it.",
        "Guard the pool: pool_pre_ping=True and pool_recycle (SQLAlchemy) / maxLifetime (HikariCP) drop dead connections; "
        "a pool timeout shorter than the request timeout fails fast instead of queueing.",
        "Alarm on pool use at 70 % (checked out / pool size), not when it is exhausted; log the pool's in-use count every minute.",
        "Now: restart or recycle the affected tasks/instances to give the leaked connections back (temporary).",
    ]
    return Finding(
        id=ID,
        title="Connection pool leak: connections not returned after exceptions" if not m.strong.empty
        else "Connection pool exhausted while the database had room: likely leak",
        severity=verdict.severity,
        summary=summary,
        evidence=evidence,
        remediation=remediation,
        confidence=verdict.confidence,
        related_changes=related,
        onset=iso_z(onset),
    )


def _pool_targets(inputs: Inputs, db: Any) -> list[Any]:
    """The service that logs the pool errors (the ECS service or functions named, or behind the log groups) and its database."""
    res = inputs.resources
    cluster, services = res.get("ecs_cluster"), res.get("ecs_service")
    names = [services] if isinstance(services, str) else list(services or [])
    out = targets_from([f"{cluster}/{n}" if cluster and "/" not in str(n) else n for n in names], kind="ecs_service")
    groups = inputs.logs["log_group"].dropna().unique()[:20] if inputs.logs is not None and "log_group" in inputs.logs.columns else []
    functions = [g.split("/aws/lambda/", 1)[1] for g in groups if isinstance(g, str) and g.startswith("/aws/lambda/")]
    out += targets_from(functions, res.get("function_name"), kind="function")
    return out + targets_from(db, res.get("db_instance"), kind="db_instance")


def _traffic_growth(requests: pd.DataFrame | None, span_of: pd.DataFrame) -> float:
    """Requests per minute in the last fifth of ``span_of``'s time span over the first fifth."""
    if requests is None or requests.empty or "timestamp" not in requests.columns or span_of is None or span_of.empty:
        return float("nan")
    t0, t1 = span_of["timestamp"].min(), span_of["timestamp"].max()
    if t1 <= t0:
        return float("nan")
    fifth = (t1 - t0) / 5
    ts = as_utc(requests["timestamp"])
    first = int(((ts >= t0) & (ts < t0 + fifth)).sum())
    last = int(((ts > t1 - fifth) & (ts <= t1)).sum())
    return last / first if first else float("nan")


def detect(inputs: Inputs, *, min_errors: int = MIN_ERRORS) -> Finding | None:
    """``connection-pool-leak``: pool exhausted while the database idles, in-use steps after exceptions.

    Fires on at least ``min_errors`` pool-checkout failures, or on a logged in-use gauge
    whose floor steps up after exceptions and never returns. Stays silent when the database
    itself is saturated (CPU or connections near the maximum) and no gauge shows a leak: the
    pool then waits on a busy database, which is a different problem. Confidence: pool errors
    (0.35) + database headroom (0.2) + exceptions before the first pool error (0.05) + a leak
    signature in the gauge (0.3 when most steps follow an exception and the connections lost
    match the exceptions, 0.1 otherwise); minus 0.2 when the database is saturated, minus
    0.1 when traffic grew a lot over the gauge's span (a busier pool, not a leak).

    Example
    -------
    >>> import pandas as pd
    >>> logs = pd.DataFrame({"timestamp": pd.date_range("2026-03-01T10:00Z", periods=12, freq="5s"),
    ...     "message": "QueuePool limit of size 5 overflow 5 reached, connection timed out, timeout 30.00"})
    >>> f = detect(Inputs(logs=logs))
    >>> f.evidence["pool_error_lines"], f.evidence["pool_capacity"], f.severity
    (12, 10.0, 'medium')
    """

    measures = measure(inputs, min_errors=min_errors)
    return None if measures is None else explain(measures, judge(measures), inputs)
