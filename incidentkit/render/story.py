"""Helpers the templates use to tell the story: a note, the metrics that moved, the change table,
the traffic and latency paragraphs, the data-quality view, metrics and settings by name.

Each returns something a notebook displays (Markdown or a :class:`~incidentkit.render.table.Table`),
masked; the numbers are the investigation's own (:func:`incidentkit.analyses.impact.impact`),
formatted by :mod:`incidentkit._util.fmt`.

Example
-------
>>> note("The P99 doubled at 03:07 UTC.").data
'The P99 doubled at 03:07 UTC.'
"""

from __future__ import annotations

from typing import Any, Mapping

from .._util.blameless import blameless_actor
from .._util.fmt import ms as _ms
from .._util.fmt import percent as _rate
from ..analyses import impact as _impact
from ..analyses import latency as _latency
from ..analyses import onset as _onset
from ..fetch.changes import normalize_event_name
from ..masking import mask_text
from .cards import data_quality_html
from .results import data_quality
from .table import table

__all__ = ["note", "moved_metrics", "changes_table", "signatures_view", "traffic_note", "latency_note", "data_quality_view", "metrics_named", "settings_table"]

# -- helpers the templates use to tell the story ----------------------------------------------


def note(text: str) -> Any:
    """A Markdown paragraph for a notebook (masked)."""
    from IPython.display import Markdown

    return Markdown(mask_text(text))


def moved_metrics(metrics: Any, *, window: Any, baseline: Any = None, limit: int = 6) -> tuple[Any, Any]:
    """The metric series that departed from their baseline in the incident, earliest first.

    Returns ``(metrics_subset, onsets)``: the rows of the series that moved (at most
    ``limit``; when none moved, the first ``limit`` series so the plot still shows the
    context) and :func:`incidentkit.analyses.onset.onset`'s table for them (with the
    series' label).
    """
    import pandas as pd

    if metrics is None or len(metrics) == 0:
        return metrics, pd.DataFrame()
    ref = baseline if baseline is not None else None
    table = _onset.onset(metrics, series="query_id", baseline=ref, window=window)
    moved = table[table["onset"].notna()].sort_values("onset") if len(table) else table
    ids = list(moved["series"].head(limit)) if len(moved) else []
    if not ids:  # nothing departed: show the signals an on-call reads first
        order = ("5XX", "5xx", "Error", "Throttl", "Unhealthy", "Latency", "Duration", "ResponseTime", "Count", "Invocations")
        names = metrics.drop_duplicates("query_id")[["query_id", "metric_name", "stat"]]
        def rank(row: Any) -> tuple[int, str]:
            for i, key in enumerate(order):
                if key in str(row.metric_name):
                    return (i, str(row.query_id))
            return (len(order), str(row.query_id))
        ids = [r.query_id for r in sorted(names.itertuples(index=False), key=rank)][:limit]
    labels = metrics.drop_duplicates("query_id").set_index("query_id")["label"]
    if len(moved):
        moved = moved.assign(label=moved["series"].map(labels)).head(limit)
        cols = ["label", "onset", "direction", "baseline_level", "incident_level", "peak", "peak_time"]
        moved = moved[[c for c in cols if c in moved.columns]].reset_index(drop=True)
        levels = [c for c in ("baseline_level", "incident_level", "peak") if c in moved.columns]
        moved[levels] = moved[levels].astype("float64").round(2)  # a reading table, not six decimals
    subset = metrics[metrics["query_id"].isin(ids)]
    return subset, moved


def _signature_status(row: Mapping[str, Any]) -> str:
    """``new``, ``grown 3.2x``, ``as before`` or ``no baseline`` (a row of the signatures frame)."""
    import pandas as pd

    new, grown, growth = row.get("new"), row.get("grown"), row.get("growth")
    if not pd.isna(new) and bool(new):
        return "new"
    if not pd.isna(grown) and bool(grown):
        return f"grown {float(growth):.1f}x" if growth is not None and not pd.isna(growth) else "grown"
    return "as before" if not pd.isna(new) else "no baseline"


def signatures_view(signatures: Any, *, limit: int = 12) -> Any:
    """"What is new in the logs" for reading: each error-line template (new first, then grown, then
    the most frequent), what it is against the baseline, its counts and a masked example line.

    Every cell is text in a :class:`~incidentkit.render.table.Table` (escaped); a note when the
    window has no error line.

    Example
    -------
    >>> import pandas as pd
    >>> sig = pd.DataFrame({"template": ["<b>boom</b> <NUM>"], "count": [3], "baseline_count": [0], "new": [True],
    ...                     "grown": [False], "growth": [None], "share_of_errors": [1.0], "example": ["<b>boom</b> 7"]})
    >>> html = signatures_view(sig)._repr_html_()
    >>> "&lt;b&gt;boom&lt;/b&gt;" in html and "new" in html and "<b>boom" not in html
    True
    """
    import pandas as pd

    if signatures is None or len(signatures) == 0:
        return note("No error lines in the incident window: nothing new in the logs.")
    df = signatures.head(limit)

    def column(name: str, missing: Any = pd.NA) -> Any:
        return df[name] if name in df.columns else missing

    out = pd.DataFrame({
        "signature": df["template"].astype("string"),
        "against the baseline": [_signature_status(r) for r in df.to_dict("records")],
        "count": df["count"],
        "baseline count": column("baseline_count"),
        "share_of_errors": column("share_of_errors"),
        "first seen": column("first_seen", pd.NaT),
        "example": column("example"),
    })
    return table(out.reset_index(drop=True), limit=limit)


def changes_table(changes: Any, *, limit: int = 30) -> Any:
    """The change timeline for reading: time, class, what, resource, who (blameless), error."""
    import pandas as pd

    if changes is None or len(changes) == 0:
        return pd.DataFrame(columns=["time (UTC)", "class", "change", "resource", "by", "error"])
    df = changes.sort_values("timestamp").tail(limit)
    out = pd.DataFrame(
        {
            "time (UTC)": df["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S"),
            "class": df["class"],
            "change": df["event_name"].map(normalize_event_name),
            "resource": df["resource"],
            "by": df["actor"].map(blameless_actor),
            "error": df["error_code"].fillna(""),
        }
    )
    return out.reset_index(drop=True)


def traffic_note(impact: Any, baseline_requests: Any = None, *, window: Any = None) -> Any:
    """One paragraph: what was counted, failed and slow requests and clients, against the baseline.

    ``impact`` is the investigation's impact (``inv.impact()``: the numbers ``findings.json``
    and the postmortem show), or a requests frame, then counted the same way
    (:func:`incidentkit.analyses.impact.impact` with ``baseline_requests`` and ``window``).
    """
    imp = dict(impact) if isinstance(impact, Mapping) else _impact.impact(impact, baseline_requests, window=window)
    if not imp.get("requests"):
        return note("No request-level logs in the evidence: traffic and error rates come from metrics only.")
    invocations = imp.get("unit") == "invocations"
    why = "timed out or logged an error" if invocations else f"{imp['failed_5xx']:,} 5xx or timeouts, {imp['failed_4xx']:,} 4xx"
    text = f"**{imp['counted']}** in the incident window; **{imp['failed_requests']:,} failed** ({_rate(imp['failed_share'])}: {why})"
    base = imp.get("baseline") or {}
    if base.get("failed_share") is not None:
        text += f", against {_rate(base['failed_share'])} in the baseline ({base['requests']:,} {imp.get('unit', 'requests')})"
    if imp.get("slow_requests") is not None:
        text += f". **{imp['slow_requests']:,} slow** ({_rate(imp.get('slow_share'))}; {imp['slow_rule_text']})"
    if imp.get("clients") is not None:
        text += f". {imp['failed_clients']:,} of {imp['clients']:,} clients (distinct IPs) saw a failure"
        if imp.get("slow_clients") is not None:
            text += f", {imp['slow_clients']:,} a slow response"
    other = {k: v for k, v in (imp.get("other_tiers") or {}).items() if v}
    if other:
        text += ". Rows of other tiers, not counted: " + ", ".join(f"{v:,} {_TIER_ROWS.get(k, k)}" for k, v in other.items())
    return note(text + ".")


#: How the rows of a tier are called when a note says they were not counted.
_TIER_ROWS = {"invocation": "Lambda invocations", "app": "application request lines", "entry": "access-log requests"}


def latency_note(requests: Any, baseline_requests: Any = None) -> Any:
    """One paragraph: P50/P90/P99 of the requests counted once (the impact's tier), against
    the baseline at the same tier, and the cold starts left out — of the Lambda invocations
    behind the requests when the entry point's rows do not say which were cold."""
    if requests is None or len(requests) == 0:
        return note("No request-level logs in the evidence: latency comes from metrics only.")
    tier = _impact.counting_tier(requests)
    unit = "Lambda invocations" if tier == "invocation" else "requests"
    at_tier = _impact.counted(requests, tier=tier)
    rows = _split_rows(_latency.percentiles_excluding(at_tier))
    allr = rows.get("all")
    if allr is None:
        return note("The requests carry no latency.")
    n = int(allr.get("count", 0))
    text = (f"P50 **{_ms(allr.get('p50'))}**, P90 **{_ms(allr.get('p90'))}**, P99 **{_ms(allr.get('p99'))}** over {n:,} {unit}"
            + (f" (of {len(at_tier):,}) with a latency" if n < len(at_tier) else ""))
    base = _impact.counted(baseline_requests, tier=tier) if baseline_requests is not None else None
    if base is not None and len(base):
        ball = _split_rows(_latency.percentiles_excluding(base)).get("all")
        if ball is not None:
            text += f" (baseline P99 {_ms(ball.get('p99'))})"
    of = ""
    if not int((rows.get("only cold_start") or {}).get("count", 0) or 0) and tier == "entry":
        rows, of = _split_rows(_latency.percentiles_excluding(_impact.counted(requests, tier="invocation"))), " of the Lambda invocations behind them"
    warm, cold = rows.get("excluding cold_start"), rows.get("only cold_start")
    if warm is not None and cold is not None and int(cold.get("count", 0) or 0) > 0:
        text += (
            f". Without cold starts the P99{of} is **{_ms(warm.get('p99'))}**; the {int(cold.get('count', 0)):,} cold starts "
            f"have a P50 of {_ms(cold.get('p50'))}"
        )
    return note(text + ".")


def _split_rows(split: Any) -> dict[str, Any]:
    """``percentiles_excluding``'s rows by subset (``all``, ``excluding cold_start``, ``only cold_start``)."""
    if split is None or split.empty or "subset" not in split:
        return {}
    return {str(r["subset"]): r.to_dict() for _, r in split.iterrows()}


def data_quality_view(investigation: Any) -> Any:
    """The data-quality appendix of an investigation as HTML (verdict, totals, per frame)."""
    from IPython.display import HTML

    findings = investigation.computed_findings
    dq = data_quality(investigation.bundle, detector_errors=getattr(findings, "errors", None), issues=investigation.issues)
    return HTML(data_quality_html(dq))


def metrics_named(metrics: Any, *names: str, stat: str | None = None) -> Any:
    """The rows of a long metrics frame whose metric name contains one of ``names``.

    Example
    -------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"metric_name": ["Duration", "Errors", "Throttles"], "stat": ["p99", "Sum", "Sum"]})
    >>> metrics_named(m, "Error", "Throttl")["metric_name"].tolist()
    ['Errors', 'Throttles']
    """
    import pandas as pd

    if metrics is None or len(metrics) == 0:
        return metrics
    mask = pd.Series(False, index=metrics.index)
    for n in names:
        mask |= metrics["metric_name"].astype(str).str.contains(n, regex=False)
    if stat is not None:
        mask &= metrics["stat"].astype(str).str.lower() == stat.lower()
    return metrics[mask]


def settings_table(settings: Any, *names: str) -> Any:
    """Configuration settings (``schema.SETTING_COLUMNS``) as resource × setting, optionally only ``names``."""
    import pandas as pd

    if settings is None or len(settings) == 0:
        return pd.DataFrame(columns=["resource_type", "resource_id", "setting", "value"])
    df = settings
    if names:
        df = df[df["setting"].astype(str).isin(names)]
    return df[["resource_type", "resource_id", "setting", "value"]].drop_duplicates().reset_index(drop=True)
