"""``version-skew-errors`` (incidents.md #1): errors concentrated in one app version.

The cause: a change (a deploy, an authorizer or configuration update) broke what older clients
send or expect, so one app version (or version family, ``2.9.x``) fails while the others do not.
The evidence read: requests with a status and an app version (or a ``Product/1.2.3`` User-Agent),
at the outermost tier that carries versions; the baseline's requests and the change timeline for
the onset and the change at it. It fires when one version holds at least half of the 4XX or 5XX
errors with at most 90 % of the traffic, a lift of 2 or more and a Benjamini-Hochberg q < 0.001.

The steps: :func:`measure` (numbers from the analyses), :func:`judge` (severity and
confidence), :func:`explain` (the finding); :func:`detect` runs them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...analyses._common import as_utc, fmt_p, pct, severity_for_share
from ...analyses.change_words import blameless_actor, when_text
from ...analyses.errors import by_version, error_mask, skew_onset, version_family
from ...analyses.impact import counted
from ...analyses.related import ChangeSpec, related_changes, sentence, targets_from
from ...analyses.related import evidence as related_evidence
from ...parse.useragent import version_from_user_agent
from ...schema import as_category
from ..model import Finding, Inputs
from ._common import Score, Verdict, cap_confidence, window_start

__all__ = ["ID", "NEEDS", "detect", "measure", "judge", "explain", "Measures", "VERSION_SKEW_CHANGES"]

#: The finding id (incidents.md, the catalogue).
ID = "version-skew-errors"
#: The :class:`~incidentkit.findings.model.Inputs` fields this detector reads.
NEEDS: tuple[str, ...] = ("window", "requests", "baseline_requests", "changes", "resources")

#: Requests with a known version needed in the window: below it the per-version shares are too coarse to test.
MIN_VERSIONED_REQUESTS = 100
#: Errors of a class needed before a version's share of them is judged.
MIN_ERRORS = 10
#: A skew: the version holds at least this share of the class's errors ...
MIN_ERROR_SHARE = 0.5
#: ... with at most this share of the traffic (a version carrying everything is "all traffic failing", not a skew) ...
MAX_TRAFFIC_SHARE = 0.9
#: ... an error share at least twice its traffic share ...
MIN_LIFT = 2.0
#: ... significant after Benjamini-Hochberg over the versions tested (two-proportion z-test) — a statistical choice,
#: strict because every version and family is tested ...
MAX_Q = 0.001
#: ... and failing enough to matter: at least this share of its own requests.
MIN_VERSION_ERROR_RATE = 0.05
#: A version family (2.9.x) replaces a version only when it holds this much more of the errors.
FAMILY_MARGIN = 0.05
#: Confidence: a base, up to 0.2 for the version's share of the errors, up to 0.1 for how much more often it fails
#: (log10 of its error-rate ratio to the other versions, full at a 100x ratio).
BASE_CONFIDENCE, ERROR_SHARE_WEIGHT, RATE_RATIO_WEIGHT, RATE_RATIO_DECADES = 0.45, 0.2, 0.1, 2.0
#: The errors start at a change that can explain them (before/after rates): the incident's signature.
STARTS_AT_CHANGE_BONUS = 0.15
#: A change that can explain them, not at their onset.
RELATED_CHANGE_BONUS = 0.05
#: Many requests (this share) carry no version and fail like the version does: they may hide the same failure.
UNKNOWN_SHARE, UNKNOWN_PENALTY = 0.3, -0.1
#: "Fail like the version": above both this multiple of the other versions' error rate and that rate plus this margin
#: (the margin keeps a tiny rate's doubling from counting).
UNKNOWN_RATE_FACTOR, UNKNOWN_RATE_MARGIN = 2.0, 0.02


def _with_versions(req: pd.DataFrame | None) -> pd.DataFrame | None:
    """Requests with ``app_version`` filled from a ``Product/1.2.3`` User-Agent where missing."""
    if req is None or req.empty:
        return None
    has = "app_version" in req.columns and req["app_version"].notna().any()
    if "user_agent" not in req.columns:
        return req if has else None
    # the kit's User-Agent rules: HTTP libraries and SDKs (okhttp/4.9.0) carry no app version
    codes, agents = pd.factorize(req["user_agent"])  # each distinct User-Agent read once
    versions = np.array([version_from_user_agent(ua) if isinstance(ua, str) else None for ua in agents] + [None], dtype=object)
    from_ua = pd.Series(versions[codes], index=req.index, dtype=object)  # code -1 (missing) -> the last: None
    out = req.copy()
    out["app_version"] = (out["app_version"].astype("object").where(out["app_version"].notna(), from_ua)
                          if "app_version" in out.columns else from_ua)
    out["app_version"] = as_category(out["app_version"].where(out["app_version"].notna(), None))
    return out if out["app_version"].notna().any() else None


def _versioned_once(req: pd.DataFrame | None) -> tuple[pd.DataFrame | None, str | None]:
    """Requests with versions, each counted once: those of the outermost tier (entry,
    invocation, app) whose rows carry an app version, and that tier."""
    if req is None or req.empty or "tier" not in req.columns:
        return _with_versions(req), None
    for t in ("entry", "invocation", "app"):
        got = _with_versions(counted(req, tier=t))
        if got is not None:
            return got, t
    return None, None


def _combined_requests(inputs: Any, tier: str | None = None) -> pd.DataFrame | None:
    frames = [counted(f, tier=tier) if tier else f for f in (getattr(inputs, "baseline_requests", None), getattr(inputs, "requests", None))
              if f is not None and not f.empty]
    frames = [f for f in frames if f is not None and not f.empty]
    if not frames:
        return None
    if len(frames) == 1:
        return frames[0]
    both = pd.concat(frames, ignore_index=True)
    if "request_id" in both.columns and both["request_id"].notna().any():
        dup = both["request_id"].notna() & both.duplicated(subset=["request_id"], keep="last")
        both = both[~dup.to_numpy()]
    return both


#: The changes that can explain ``version-skew-errors``, most direct first (see :mod:`incidentkit.analyses.related`).
#: Deploys and configuration pushed from elsewhere (AppConfig, SSM parameters, stacks) rarely name the service,
#: so they count unscoped in the two hours before the onset.
VERSION_SKEW_CHANGES = ChangeSpec("version-skew-errors", {
    "code": "new code changed what older clients may send or receive",
    "alias": "an alias moved traffic to a new version",
    "deployment": "a deployment changed what older clients may send or receive",
    "api-auth": "an authorizer change rejects tokens older clients still send",
    "api-config": "an API change altered the contract older clients rely on",
    "function-config": "a configuration change altered validation",
    "config-deployment": "a configuration deployment changed behaviour for some clients",
    "parameter": "a parameter change altered behaviour for some clients",
    "stack-deployment": "a stack update changed the service",
}, unscoped={k: "2h" for k in ("deployment", "config-deployment", "parameter", "stack-deployment", "code", "alias",
                                "api-auth", "api-config", "function-config")})


def _skew_targets(inputs: Any) -> list[Any]:
    """The service's resources: the functions the requests ran on and the ones named, the API, ECS services."""
    resources = getattr(inputs, "resources", None) or {}
    names: list[Any] = []
    for frame in (getattr(inputs, "requests", None), getattr(inputs, "baseline_requests", None)):
        if frame is not None and "function_name" in frame.columns:
            names += [str(x) for x in frame["function_name"].dropna().unique()[:20]]
    targets = targets_from(names, resources.get("function_name"), kind="function")
    targets += targets_from(resources.get("api_id"), resources.get("api_name"), kind="api")
    services = resources.get("ecs_service")
    cluster = resources.get("ecs_cluster")
    for svc in ([services] if isinstance(services, str) else list(services or [])):
        targets += targets_from(f"{cluster}/{svc}" if cluster and "/" not in str(svc) else svc, kind="ecs_service")
    return targets


def _skew_changes(inputs: Any, v: str, level: int | None, cls: str, t_err: pd.Series | None,
                  evidence: dict[str, Any], tier: str | None = None) -> tuple[Any, bool, list[dict[str, Any]]]:
    """The onset of the version's errors, whether they start at a change, and the changes that can explain them.

    The change at the onset counts only when it is one of :data:`VERSION_SKEW_CHANGES` on the service's
    resources (or unscoped): an alarm edited at that minute is a coincidence, not a cause.
    """
    onset_time = t_err.min() if t_err is not None and len(t_err) else None
    changes = getattr(inputs, "changes", None)
    both = _combined_requests(inputs, tier)
    if both is not None:
        both = _with_versions(both)
    if both is not None:
        both = both.assign(_v=both["app_version"].map(lambda x: version_family(x, level)))
    so = (skew_onset(both, changes, version=v, version_col="_v", error=cls)
          if both is not None and "timestamp" in both.columns else None)
    slack = so.attrs.get("bin", "0s") if so is not None else "0s"
    if so is not None and not so.empty and pd.notna(so.iloc[0]["onset"]):
        onset_time = so.iloc[0]["onset"].floor("s")
    related = related_changes(changes, VERSION_SKEW_CHANGES, _skew_targets(inputs), onset=onset_time,
                              window=getattr(inputs, "window", None), slack=slack)
    starts = False
    if so is not None and not so.empty and pd.notna(so.iloc[0]["change_time"]):
        s = so.iloc[0]
        at = [r for r in related if pd.Timestamp(r["timestamp"]) == pd.Timestamp(s["change_time"])
              and r["event_name"] == s["change_event"]]
        if at:  # the change at the onset is one that can explain it: it leads the list
            related = at[:1] + [r for r in related if r is not at[0]]
            starts = bool(s["starts_at_change"])
            evidence.update({"change_to_onset_s": s["lead_s"], "starts_at_change": starts})
            if pd.notna(s["before_rate"]):
                evidence["version_error_rate_before_change"] = s["before_rate"]
            if pd.notna(s["after_rate"]):
                evidence["version_error_rate_after_change"] = s["after_rate"]
    if related:
        evidence.update(related_evidence(related[0]))
    return onset_time, starts, related


@dataclass
class Measures:
    """The most skewed version (a row of :func:`~incidentkit.analyses.errors.by_version`) and the numbers around it."""

    req: pd.DataFrame
    cls: str
    row: pd.Series
    bv: pd.DataFrame
    level: int | None
    http: pd.Series
    known: pd.Series
    unknown_share: float
    err_v: pd.Series
    onset_time: Any = None
    starts: bool = False
    related: list[dict[str, Any]] = field(default_factory=list)
    change_evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return str(self.row["version"])

    @property
    def n_http(self) -> int:
        """Every request the entry point counted, those without a version included."""
        return int(self.http.sum()) or int(self.bv["requests"].sum())

    @property
    def impact(self) -> float:
        """The version's excess errors (beyond the other versions' rate) over all requests."""
        return max(0.0, float(self.row["excess_errors"])) / self.n_http

    @property
    def unknown_like_version(self) -> bool:
        """Requests without a version fail more than the other versions do (they could hide the same failure)."""
        if self.unknown_share <= 0:
            return False
        rest = float(self.row["rest_error_rate"])
        return self.unknown_rate > max(UNKNOWN_RATE_FACTOR * rest, rest + UNKNOWN_RATE_MARGIN)

    @property
    def unknown_rate(self) -> float:
        unk = self.req[(self.http & ~self.known).to_numpy()]
        return float(error_mask(unk, self.cls).mean())

    @property
    def error_times(self) -> pd.Series | None:
        return as_utc(self.req.loc[self.err_v.to_numpy(), "timestamp"]) if "timestamp" in self.req.columns else None

    @property
    def duration(self) -> pd.Timedelta | None:
        if self.onset_time is None or pd.isna(self.onset_time):
            return None
        return self.error_times.max() - self.onset_time


def _most_skewed(kn: pd.DataFrame) -> tuple[str, pd.Series, pd.DataFrame, int | None] | None:
    """(status class, by_version row, by_version frame, family level) of the most skewed version, or None.

    Full versions first, then families (2.9.x, 2.x): an old app line often spans patch versions.
    """
    best = None
    for level in (None, 2, 1):
        kn["_v"] = kn["app_version"].map(lambda x: version_family(x, level))
        if level is not None and kn["_v"].nunique() == kn["app_version"].nunique():
            continue
        for cls in ("4xx", "5xx"):
            bv = by_version(kn, version="_v", error=cls)
            if bv.empty or bv.attrs.get("total_errors", 0) < MIN_ERRORS:
                continue
            cand = bv[(bv["q_value"] < MAX_Q) & (bv["lift"] >= MIN_LIFT) & (bv["error_share"] >= MIN_ERROR_SHARE)
                      & (bv["traffic_share"] <= MAX_TRAFFIC_SHARE) & (bv["errors"] >= MIN_ERRORS)
                      & (bv["error_rate"] >= MIN_VERSION_ERROR_RATE)]
            if cand.empty:
                continue
            row = cand.iloc[0]
            better = best is None or row["error_share"] > best[1]["error_share"] + FAMILY_MARGIN or (
                abs(row["error_share"] - best[1]["error_share"]) <= FAMILY_MARGIN and best[3] == level and row["z"] > best[1]["z"])
            if better:
                best = (cls, row, bv, level)
    return best


def measure(inputs: Inputs) -> Measures | None:
    """The most skewed version in the window, its errors, their onset and the change at it; None without a skew."""
    req, tier = _versioned_once(getattr(inputs, "requests", None))
    if req is None or "status" not in req.columns:
        return None
    window = getattr(inputs, "window", None)
    if window is not None and "timestamp" in req.columns:
        t = as_utc(req["timestamp"])
        inside = req[((t >= window.start) & (t < window.end)).to_numpy()]
        req = inside if not inside.empty else req
    known = req["app_version"].notna()
    if int(known.sum()) < MIN_VERSIONED_REQUESTS:
        return None
    # Rows without a status (e.g. Lambda platform lines of an authorizer) are not client requests.
    http = pd.to_numeric(req["status"], errors="coerce").notna()
    best = _most_skewed(req[known.to_numpy()].copy())
    if best is None:
        return None
    cls, row, bv, level = best
    v = str(row["version"])
    req = req.copy()
    req["_v"] = req["app_version"].map(lambda x: version_family(x, level))
    m = Measures(req=req, cls=cls, row=row, bv=bv, level=level, http=http, known=known,
                 unknown_share=float((http & ~known).sum() / http.sum()) if http.any() else 0.0,
                 err_v=error_mask(req, cls) & (req["_v"].astype("object").astype(str) == v))
    m.onset_time, m.starts, m.related = _skew_changes(inputs, v, level, cls, m.error_times, m.change_evidence, tier)
    return m


def judge(m: Measures) -> Verdict:
    """The kit's scale on the excess errors over all requests (lower when they last under 5 minutes)."""
    row = m.row
    severity = severity_for_share(m.impact, duration=m.duration)
    score = Score(BASE_CONFIDENCE, "one version holds the errors (lift, q-value)")
    score.add(ERROR_SHARE_WEIGHT * float(row["error_share"]), "the version's share of the errors")
    score.add(RATE_RATIO_WEIGHT * min(1.0, math.log10(max(float(row["rate_ratio"]), 1.0)) / RATE_RATIO_DECADES),
              "how much more often the version fails")
    if m.starts:
        score.add(STARTS_AT_CHANGE_BONUS, "the errors start at a change that can explain them")
    elif m.related:
        score.add(RELATED_CHANGE_BONUS, "a change that can explain them")
    score.add(UNKNOWN_PENALTY, "many requests carry no version and fail like it",
              when=m.unknown_share > UNKNOWN_SHARE and m.unknown_like_version)
    return score.verdict(severity, cap_confidence(score.value, severity))


def _evidence(m: Measures) -> dict[str, Any]:
    row, bv, req, http, cls = m.row, m.bv, m.req, m.http, m.cls
    codes = pd.to_numeric(req.loc[m.err_v.to_numpy(), "status"], errors="coerce").value_counts()
    errors_all = int((error_mask(req, cls) & http).sum()) or int(bv["errors"].sum())
    evidence: dict[str, Any] = {
        "version": m.version,
        "status_class": cls,
        "requests": int(bv["requests"].sum()),
        "version_requests": int(row["requests"]),
        "traffic_share": row["traffic_share"],
        "errors": int(bv["errors"].sum()),
        "version_errors": int(row["errors"]),
        "error_share": row["error_share"],
        "lift": row["lift"],
        "error_rate": row["error_rate"],
        "rest_error_rate": row["rest_error_rate"],
        "p_value": row["p_value"],
        "share_of_requests_failing": m.impact,
        "all_requests": m.n_http,
        # shares of everything the entry point counted: the title's "of requests" is every request
        "share_of_all_requests": float(row["requests"]) / m.n_http,
        "share_of_all_errors": float(row["errors"]) / errors_all if errors_all else float(row["error_share"]),
    }
    if m.level is not None:
        members = req.loc[(req["_v"].astype("object").astype(str) == m.version).to_numpy(), "app_version"].value_counts()
        evidence["versions_in_group"] = ", ".join(str(x) for x in members.index[:8])
    if len(codes):
        evidence["top_status"], evidence["top_status_share"] = int(codes.index[0]), float(codes.iloc[0] / codes.sum())
    if m.unknown_share > 0:
        evidence["requests_without_version"] = m.unknown_share
        evidence["error_rate_without_version"] = m.unknown_rate
    evidence.update(m.change_evidence)
    if m.duration is not None:
        evidence["errors_from"], evidence["errors_until"] = pd.Timestamp(m.onset_time).floor("s"), m.error_times.max().floor("s")
    return evidence


def explain(m: Measures, verdict: Verdict, inputs: Inputs) -> Finding:
    """The finding: the version's share of traffic and errors, the change at the onset, how to restore compatibility."""
    row, cls, v, n_http, related = m.row, m.cls, m.version, m.n_http, m.related
    evidence = _evidence(m)
    top_code, top_code_share = evidence.get("top_status"), evidence.get("top_status_share")
    share_all, error_share_all = evidence["share_of_all_requests"], evidence["share_of_all_errors"]
    code_txt = f"{top_code}" if top_code is not None and top_code_share and top_code_share >= 0.8 else cls.upper()
    summary = (
        f"App version {v} sent {pct(share_all, 0)} of all {n_http:,} requests ({pct(row['traffic_share'], 0)} of those "
        f"with a known version) but {pct(error_share_all, 0)} of the "
        f"{cls.upper()} errors: {pct(row['error_rate'])} of its requests failed (mostly {code_txt}) against "
        f"{pct(row['rest_error_rate'])} for the other versions (lift {row['lift']:.1f}, {fmt_p(row['p_value'])}). "
        f"That is {pct(m.impact)} of all requests failing for one group of clients."
    )
    if related:
        cause = related[0]
        lead = evidence.get("change_to_onset_s")
        if m.starts and lead is not None:
            gap = f"{abs(lead):.0f} s" if abs(lead) < 90 else f"{abs(lead) / 60:.0f} min"
            summary += (
                f" The errors start at a change: {cause['description']}"
                f" ({gap} {'before' if lead >= 0 else 'after'} the first error); this version's error rate went from "
                f"{pct(evidence.get('version_error_rate_before_change', float('nan')))} before it to "
                f"{pct(evidence.get('version_error_rate_after_change', float('nan')))} after."
            )
        else:
            summary += f" A change that can explain it: {sentence(cause, reference=window_start(inputs))}"
    onset_time = m.onset_time
    return Finding(
        id=ID,
        title=f"{code_txt} errors concentrated in app version {v} ({pct(share_all, 0)} of requests, {pct(error_share_all, 0)} of {cls.upper()} errors)",
        severity=verdict.severity,
        summary=summary,
        evidence=evidence,
        remediation=_skew_remediation(v, top_code, cls, row, evidence, related[0] if related else None),
        confidence=verdict.confidence,
        related_changes=related,
        onset=None if onset_time is None or pd.isna(onset_time) else pd.Timestamp(onset_time).isoformat().replace("+00:00", "Z"),
    )


def detect(inputs: Inputs) -> Finding | None:
    """``version-skew-errors``: errors concentrated in one app version, starting at a change (incidents.md #1).

    Evidence needed (requests with ``status`` and ``app_version``; >= 100 requests with a
    known version in the incident window):

    * for the 4xx or the 5xx class (whichever is more skewed), one version holds >= 50 %
      of the errors (>= 10 of them) while carrying at most 90 % of the traffic, with lift
      (error share / traffic share) >= 2 and a Benjamini-Hochberg q < 0.001;
    * its errors are not noise: error rate >= 5 % in that version.

    Versions are tried as they are, then as families (``2.9.x``, ``2.x``): an old app
    line often spans patch versions; the family is kept when it holds clearly more of the
    errors. Without an ``app_version`` value, the version of a ``Product/1.2.3`` User-Agent
    is used.

    A DEPLOYMENT/CONFIG_CHANGE change at the onset of the version's errors (from
    :func:`skew_onset` on the baseline and incident requests together) raises confidence
    and is attached as ``related_changes``. Requests without a version lower confidence
    when they fail more than the other versions (they may hide the same failure).
    Severity: :func:`severity_for_share` of the excess errors (those beyond the other
    versions' rate) over all requests, lowered when they last under 5 minutes.

    Returns
    -------
    Finding or None
    """

    measures = measure(inputs)
    return None if measures is None else explain(measures, judge(measures), inputs)


def _skew_remediation(v: str, top_code: int | None, cls: str, row: pd.Series, evidence: dict[str, Any],
                      cause: dict[str, Any] | None = None) -> list[str]:
    share = pct(row["traffic_share"])
    change = (f" ({cause['api']} on `{cause['target']}` {when_text(cause['timestamp'])} by {blameless_actor(cause['actor'])})"
              if cause is not None else "")
    steps = []
    if top_code in (401, 403):
        steps.append(
            f"Restore the previous token validation path alongside the new one (accept both issuers/audiences/"
            f"signing keys or claim formats) so clients on {v} authenticate again; keep both until {v} falls below "
            f"1 % of traffic (now {share}), then retire the old path."
        )
    else:
        steps.append(
            f"Restore backward compatibility for clients on {v} (the request/response contract they rely on) and keep "
            f"it until {v} falls below 1 % of traffic (now {share})."
        )
    steps.append(f"If compatibility cannot be restored quickly, roll back the change{change} and re-release it with the compatibility path.")
    steps.append(
        "Alarm on the error rate per app version (a metric filter or an EMF dimension on app_version), not only on the "
        "total: one client version failing hides inside a normal-looking total."
    )
    steps.append(
        f"Canary releases with traffic from old client versions, a published minimum supported version, and a "
        f"force-upgrade prompt for {v}."
    )
    return steps
