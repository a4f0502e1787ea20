"""Per-request target evidence from load-balancer access logs: which targets failed requests, and
which failures the load balancer answered itself (no response from any target).

An ALB (or Classic ELB) access log line names the target that got the request (``target``,
``ip:port``), the target's own status (``target_status``; none when the target never answered),
the status the client got (``status``) and, for a request the load balancer failed, why
(``error_reason``: ``TargetConnectionError``, ``TargetResponseTimeout`` ...; ``classification``
for desync mitigation). That tells apart the two halves of "5XX at the edge":

* **no target response**: the client got a 5XX and no target answered (``target_status`` empty,
  or no ``target`` at all) - the load balancer could not connect, the connection was cut
  (a deregistration delay running out, a target killed mid-request) or the target timed out;
* **target 5XX**: the target itself answered 5XX.

These rows come from the logs read from S3 (:mod:`incidentkit.fetch.s3logs`); the detectors of
health-check flapping, deregistration delay and cold-start timeouts add what they show to
their evidence when the rows are there (:func:`target_evidence`, :func:`target_sentence`).

Example
-------
>>> import pandas as pd
>>> logs = pd.DataFrame({"format": "alb_access", "parse_error": False,
...     "timestamp": pd.date_range("2026-03-01T10:00Z", periods=4, freq="1min"),
...     "status": pd.array([200, 502, 502, 500], dtype="Int64"),
...     "target": pd.array(["10.0.0.1:80", "10.0.0.1:80", None, "10.0.0.2:80"], dtype="string"),
...     "target_status": pd.array([200, None, None, 500], dtype="Int64"),
...     "error_reason": pd.array([None, "TargetConnectionError", "TargetConnectionError", None], dtype="string")})
>>> ev = target_evidence(logs)
>>> ev["edge_5xx"], ev["edge_5xx_without_target_response"], ev["target_5xx"], ev["edge_error_reasons"]
(3, 2, 1, 'TargetConnectionError: 2')
>>> ev["failed_targets"]
'10.0.0.1:80 1 of 2 (1 without response, 0 target 5XX); 10.0.0.2:80 1 of 1 (0 without response, 1 target 5XX); (none) 1 of 1 (1 without response, 0 target 5XX)'
>>> failed_targets(per_request_rows(logs))[["target", "requests", "failed", "no_response"]].values.tolist()
[['10.0.0.1:80', 2, 1, 1], ['10.0.0.2:80', 1, 1, 0], ['(none)', 1, 1, 1]]
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..window import Window
from ._common import tg_matches

__all__ = ["TARGET_FORMATS", "TABLE_ROWS", "per_request_rows", "failed_targets", "target_evidence", "target_sentence"]

#: Formats whose rows name the target behind each request.
TARGET_FORMATS = ("alb_access", "elb_classic_access")
#: Targets a finding's ``failed_targets`` names at most (the most failed first); the evidence counts them all.
TABLE_ROWS = 8
#: How a request with no target is named in the table (the load balancer found none to send it to).
NO_TARGET = "(none)"
#: The lowest HTTP status code: a target status below it (a Classic ELB's ``0``) means no target answered.
MIN_HTTP_STATUS = 100


def per_request_rows(logs: pd.DataFrame | None, window: Window | None = None,
                     target_group: str | None = None) -> pd.DataFrame | None:
    """The access-log rows that name a target (``TARGET_FORMATS``, parsed, in ``window``); None when there are none.

    With ``target_group`` (an ARN or the ``targetgroup/name/id`` dimension), only the requests the
    load balancer routed to that group, when the log says (an ALB's ``target_group_arn``); a log
    without the field (Classic ELB: one pool of back ends) is kept whole.
    """
    if logs is None or logs.empty or "target" not in logs.columns or "format" not in logs.columns:
        return None
    keep = logs["format"].isin(TARGET_FORMATS).to_numpy(dtype=bool, copy=True)
    if "parse_error" in logs.columns:
        keep = keep & ~logs["parse_error"].fillna(False).to_numpy(dtype=bool)
    if window is not None and "timestamp" in logs.columns:
        ts = logs["timestamp"]
        keep = keep & ((ts >= window.start) & (ts < window.end)).fillna(False).to_numpy(dtype=bool)
    rows = logs.loc[keep]
    if target_group and "target_group" in rows.columns:
        groups = rows["target_group"].astype("string").replace({"-": pd.NA, "": pd.NA})
        if groups.notna().any():
            rows = rows.loc[groups.fillna("").map(lambda g: bool(g) and tg_matches(g, target_group)).to_numpy(dtype=bool)]
    return rows if len(rows) else None


def _flags(rows: pd.DataFrame) -> pd.DataFrame:
    status = pd.to_numeric(rows["status"], errors="coerce")
    target_status = pd.to_numeric(rows["target_status"], errors="coerce") if "target_status" in rows.columns else pd.Series(float("nan"), index=rows.index)
    target_status = target_status.where(target_status >= MIN_HTTP_STATUS)  # a Classic ELB writes 0 when no back end answered
    target = rows["target"].astype("string").replace({"-": pd.NA, "": pd.NA})
    failed = (status >= 500).fillna(False)
    return pd.DataFrame({
        "target": target.fillna(NO_TARGET),
        "failed": failed,
        "no_response": failed & target_status.isna(),
        "target_5xx": (target_status >= 500).fillna(False),
    }, index=rows.index)


def failed_targets(rows: pd.DataFrame) -> pd.DataFrame:
    """Per target (``(none)`` when the load balancer had none): ``requests``, ``failed`` (5XX to the
    client), ``no_response`` (of those, no answer from the target), ``target_5xx`` (the target's own
    5XX) and ``failed_share``; targets with a failure only, most failed first."""
    f = _flags(rows)
    out = f.groupby("target", sort=False).agg(requests=("failed", "size"), failed=("failed", "sum"),
                                              no_response=("no_response", "sum"), target_5xx=("target_5xx", "sum"))
    out = out[out["failed"] > 0].reset_index()
    out["failed_share"] = out["failed"] / out["requests"]
    out["_none"] = out["target"].eq(NO_TARGET)
    out = out.sort_values(["_none", "failed", "target"], ascending=[True, False, True], kind="stable").drop(columns="_none")
    return out.reset_index(drop=True).astype({"requests": "int64", "failed": "int64", "no_response": "int64", "target_5xx": "int64"})


#: evidence text when the failed requests' log lines carry no reason (ALB writes ``-``)
NONE_IN_LOG = "none in the log"
#: evidence text when the log's format has no such field (Classic ELB has no ``error_reason``)
NOT_IN_FORMAT = "not in this log's format"


def _counts_text(rows: pd.DataFrame, column: str) -> str:
    """``reason: count`` of ``column``'s values, most frequent first; never an empty string."""
    if column not in rows.columns:
        return NOT_IN_FORMAT
    counts = rows[column].astype("string").replace({"-": pd.NA, "": pd.NA}).dropna().value_counts()
    return ", ".join(f"{k}: {int(v):,}" for k, v in counts.items()) or NONE_IN_LOG


def target_evidence(logs: pd.DataFrame | None, window: Window | None = None,
                    target_group: str | None = None) -> dict[str, Any]:
    """Evidence values from the per-request target fields; ``{}`` when no access log names targets.

    ``access_log_requests``, ``edge_5xx`` (5XX the clients got), ``edge_5xx_without_target_response``,
    ``target_5xx``, ``edge_error_reasons`` / ``edge_classifications`` (``reason: count`` of the
    failed requests; :data:`NONE_IN_LOG` when none carries one, :data:`NOT_IN_FORMAT` when the log
    has no such field — never an empty text), ``failed_target_count`` and ``failed_targets``: the first :data:`TABLE_ROWS`
    rows of :func:`failed_targets` as one line (evidence values are numbers or strings; the
    report shows the whole table in its section on targets).
    """
    rows = per_request_rows(logs, window, target_group)
    if rows is None:
        return {}
    f = _flags(rows)
    failed_rows = rows.loc[f["failed"].to_numpy(dtype=bool)]
    table = failed_targets(rows)
    ev: dict[str, Any] = {
        "access_log_requests": int(len(rows)),
        "edge_5xx": int(f["failed"].sum()),
        "edge_5xx_without_target_response": int(f["no_response"].sum()),
        "target_5xx": int(f["target_5xx"].sum()),
        "edge_error_reasons": _counts_text(failed_rows, "error_reason"),
        "edge_classifications": _counts_text(failed_rows, "classification"),
        "failed_target_count": int((table["target"] != NO_TARGET).sum()),
        "failed_targets": "; ".join(
            f"{r.target} {r.failed} of {r.requests} ({r.no_response} without response, {r.target_5xx} target 5XX)"
            for r in table.head(TABLE_ROWS).itertuples(index=False)),
    }
    return ev


def target_sentence(ev: dict[str, Any]) -> str:
    """One sentence of a finding's summary from :func:`target_evidence` (``""`` without it).

    Example
    -------
    >>> target_sentence({"access_log_requests": 1200, "edge_5xx": 3, "edge_5xx_without_target_response": 2,
    ...                  "target_5xx": 1, "edge_error_reasons": "TargetConnectionError: 2", "failed_target_count": 2})
    "The load balancer's access log (1,200 requests) shows 3 answered 5XX: 2 with no response from any target (TargetConnectionError: 2), 1 a 5XX from the target itself; 2 targets failed requests (listed in failed_targets)."
    """
    if not ev or not ev.get("access_log_requests"):
        return ""
    n5 = ev["edge_5xx"]
    head = f"The load balancer's access log ({ev['access_log_requests']:,} requests)"
    if not n5:
        return f"{head} shows no request answered 5XX."
    text = f"{head} shows {n5:,} answered 5XX: {ev['edge_5xx_without_target_response']:,} with no response from any target"
    if ev.get("edge_error_reasons") not in (None, "", NONE_IN_LOG, NOT_IN_FORMAT):
        text += f" ({ev['edge_error_reasons']})"
    text += f", {ev['target_5xx']:,} a 5XX from the target itself"
    if ev.get("failed_target_count"):
        many = ev["failed_target_count"]
        text += f"; {many:,} target{'s' if many != 1 else ''} failed requests (listed in failed_targets)"
    return text + "."
