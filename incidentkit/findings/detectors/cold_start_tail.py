"""``cold-start-tail`` (incidents.md #7): the slowest requests are Lambda cold starts.

The cause: idle environments are reclaimed (quiet hours, a deploy, provisioned concurrency
removed), so the next requests pay the initialisation and make the P99. The evidence read:
requests with latency and cold-start flags (REPORT lines with ``Init Duration``), the baseline's
requests, Lambda concurrency metrics and settings, the change timeline. It fires when cold starts
are over-represented in the window's tail (lift, z-test) or explain most of the time bins whose
P99 is slow.

The steps: :func:`measure` (numbers from the analyses), :func:`judge` (severity and
confidence), :func:`explain` (the finding); :func:`detect` runs them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...analyses._common import downgrade, fmt_ms, pct, two_proportion_z
from ...analyses.change_words import blameless_actor, when_text
from ...analyses.lambda_capacity import concurrency, failing, function_name, in_window, span_minutes
from ...analyses.latency import SUSTAINED_BIN_SHARE, percentiles, quantile_name, tail_vs_traffic
from ...analyses.related import ChangeSpec, related_changes, sentence, targets_from
from ...analyses.related import evidence as related_evidence
from ...analyses.request_timing import cold_starts, request_latency
from ..model import Finding, Inputs, severity_rank
from ._common import Score, Verdict, bin_text, cap_confidence, window_start

__all__ = ["ID", "NEEDS", "detect", "measure", "judge", "explain", "Measures", "COLD_START_TAIL_CHANGES"]

#: The finding id (incidents.md, the catalogue).
ID = "cold-start-tail"
#: The :class:`~incidentkit.findings.model.Inputs` fields this detector reads.
NEEDS: tuple[str, ...] = ("window", "baseline", "requests", "baseline_requests", "metrics", "changes", "settings", "resources")

#: Requests with latency and cold-start information needed; of them, cold and warm ones.
MIN_REQUESTS, MIN_COLD, MIN_WARM = 100, 3, 50
#: A tail is "slow" from max(2 x the warm P99, warm P99 + 500 ms): twice what warm requests take, and a
#: difference a user notices even when the warm P99 is small.
SLOW_FACTOR, SLOW_MARGIN_MS = 2.0, 500.0
#: The window's P99 needs this many requests to hold 5 of them; below it the tail is the P95.
P99_MIN_REQUESTS = 500
#: Whole-window view: at least this many cold starts in the tail, over-represented (lift, one-sided
#: two-proportion z-test at this level — a statistical choice) ...
MIN_COLD_IN_TAIL, MIN_LIFT, MAX_P = 3, 2.0, 0.01
#: ... and leaving cold starts out lowers the tail percentile this much (ratio and milliseconds).
MIN_TAIL_RATIO, MIN_TAIL_GAP_MS = 1.5, 250.0
#: Per-bin view: at least this many bins with a slow P99, at least this share of them slow only with cold starts.
MIN_SLOW_BINS, EXPLAINED_BIN_SHARE = 3, 0.5
#: Severity from the tail users see: high at 2 s and 3x the warm P99 (a page that visibly hangs) ...
HIGH_TAIL_MS, HIGH_TAIL_FACTOR = 2000.0, 3.0
#: ... medium at 1 s and 2x (a tail users notice); below that low.
MEDIUM_TAIL_MS, MEDIUM_TAIL_FACTOR = 1000.0, 2.0
#: Confidence: a base, up to 0.3 for the strength of the view (the cold share of the tail, or of the slow bins
#: explained), up to 0.2 for how far the tail is above the warm P99 (log2 of the ratio, full at 8x).
BASE_CONFIDENCE, STRENGTH_WEIGHT, LEVEL_WEIGHT, LEVEL_DOUBLINGS = 0.3, 0.3, 0.2, 3.0
#: The quiet-hours signature (within the window or against the baseline): the incident's mechanism.
QUIET_BONUS = 0.1
#: Both views hold.
BOTH_VIEWS_BONUS = 0.05
#: The quiet-hours signature within the window: the traffic bins split into this many buckets by request rate, the
#: quietest bucket's P99 and cold-start rate at least :data:`QUIET_FACTOR` x the busiest's (z-test at :data:`MAX_P`).
QUIET_BUCKETS, QUIET_FACTOR = 4, 2.0
#: Against the baseline: the window's traffic at most this share of the baseline's rate, its cold-start rate and P99 at
#: least :data:`QUIET_FACTOR` x the baseline's, with at least :data:`MIN_WARM` baseline requests to compare with.
QUIETER_SHARE = 0.5
#: Provisioned concurrency was removed or lowered: the direct cause.
PROVISIONED_CHANGE_BONUS = 0.05
#: Fewer cold starts than this: the tail rests on a handful of requests.
FEW_COLD, FEW_COLD_PENALTY = 10, -0.1
#: At least this share of the tail failed (timeouts, 5XX): that is cold-start-timeouts, not a latency tail.
FAILED_TAIL_SHARE, FAILED_TAIL_PENALTY = 0.5, -0.25


#: The changes that can explain ``cold-start-tail``, most direct first (see :mod:`.related`).
COLD_START_TAIL_CHANGES = ChangeSpec("cold-start-tail", {
    "provisioned-concurrency": "provisioned concurrency removed or lowered: fewer environments stay initialised, so "
                               "requests after idle periods start cold",
    "code": "a code deploy replaces every environment: the requests after it start cold",
    "alias": "an alias moved to another version, whose environments start cold",
    "function-config": "a configuration update replaces every environment",
})


def _tail_views(sub: pd.DataFrame, lat: pd.Series, cold: pd.Series, window: Any) -> dict[str, Any]:
    """The two views of the tail (whole window, per time bin) and the numbers behind them."""
    n, n_cold = len(lat), int(cold.sum())
    warm = lat[~cold].to_numpy()
    warm_p99 = float(np.quantile(warm, 0.99))
    v: dict[str, Any] = {"n": n, "n_cold": n_cold, "warm_p99": warm_p99, "share_all": n_cold / n,
                         "slow": max(SLOW_FACTOR * warm_p99, warm_p99 + SLOW_MARGIN_MS),
                         "p50": float(np.quantile(lat.to_numpy(), 0.5)), "p99": float(np.quantile(lat.to_numpy(), 0.99))}
    # Whole-window view: the P99 needs >= 500 requests to hold 5 of them; below that, the P95.
    q = 0.99 if n >= P99_MIN_REQUESTS else 0.95
    thr = float(np.quantile(lat.to_numpy(), q))
    tail = lat >= thr
    n_tail, cold_tail = int(tail.sum()), int((cold & tail).sum())
    _, p = two_proportion_z(cold_tail, n_tail, n_cold - cold_tail, n - n_tail, alternative="greater")
    tail_warm = float(np.quantile(warm, q))
    ratio = thr / tail_warm if tail_warm > 0 else math.inf
    share_tail = cold_tail / n_tail
    v.update({"qn": quantile_name(q).upper(), "thr": thr, "tail": tail, "n_tail": n_tail, "cold_tail": cold_tail,
              "share_tail": share_tail, "lift": share_tail / v["share_all"], "p": p, "tail_warm": tail_warm})
    v["global_view"] = (cold_tail >= MIN_COLD_IN_TAIL and p < MAX_P and v["lift"] >= MIN_LIFT and ratio >= MIN_TAIL_RATIO
                      and thr - tail_warm >= MIN_TAIL_GAP_MS)
    # Per-bin view: the P99 a dashboard shows, ~60-200 bins over the window.
    v.update({"has_time": "timestamp" in sub.columns and sub["timestamp"].notna().any(), "slow_bins": 0, "explained": 0,
              "bin_tail": math.nan, "width": None, "n_bins": 0, "bin_requests": math.nan})
    if v["has_time"]:
        per_all = percentiles(sub, quantiles=(0.99,), window=window)
        with_traffic = per_all["count"] > 0
        v["n_bins"] = int(with_traffic.sum())
        v["bin_requests"] = float(per_all.loc[with_traffic, "count"].median()) if v["n_bins"] else math.nan
        v["width"] = per_all.attrs.get("bin")
        per_warm = percentiles(sub[~cold.to_numpy()], quantiles=(0.99,), by=v["width"], window=window)
        merged = per_all.merge(per_warm[["timestamp", "p99"]], on="timestamp", how="left", suffixes=("", "_warm"))
        is_slow = merged["p99"] >= v["slow"]
        expl = is_slow & ~(merged["p99_warm"] >= v["slow"])
        v["slow_bins"], v["explained"] = int(is_slow.sum()), int(expl.sum())
        if v["explained"]:
            v["bin_tail"] = float(merged.loc[expl, "p99"].median())
    v["bin_view"] = v["slow_bins"] >= MIN_SLOW_BINS and v["explained"] >= EXPLAINED_BIN_SHARE * v["slow_bins"]
    return v


def _tail_evidence(v: dict[str, Any], sub: pd.DataFrame) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "requests": v["n"], "cold_starts": v["n_cold"], "cold_share_overall": v["share_all"], "p50_ms": v["p50"],
        "p99_ms": v["p99"], "warm_p99_ms": v["warm_p99"], "slow_tail_threshold_ms": v["slow"], "tail_quantile": v["qn"],
        "tail_all_ms": v["thr"], "tail_without_cold_ms": v["tail_warm"], "tail_requests": v["n_tail"],
        "cold_starts_in_tail": v["cold_tail"], "cold_share_of_tail": v["share_tail"], "lift": v["lift"], "p_value": v["p"],
    }
    if v["has_time"]:
        evidence.update({"bin": bin_text(v["width"]), "bins_with_traffic": v["n_bins"], "bins_with_slow_p99": v["slow_bins"],
                         "share_of_bins_slow": v["slow_bins"] / v["n_bins"] if v["n_bins"] else math.nan,
                         "slow_bins_explained_by_cold_starts": v["explained"], "median_requests_per_bin": v["bin_requests"]})
        if v["explained"]:
            evidence["slow_bin_p99_median_ms"] = v["bin_tail"]
    init = pd.to_numeric(sub["init_duration_ms"], errors="coerce").dropna() if "init_duration_ms" in sub.columns else pd.Series(dtype="float64")
    if len(init):
        evidence["init_p50_ms"] = float(init.median())
        evidence["init_max_ms"] = float(init.max())
    return evidence


def _tail_quiet(sub: pd.DataFrame, v: dict[str, Any], window: Any, evidence: dict[str, Any]) -> bool:
    """Within the window: the quietest traffic bins have the highest P99 and cold-start rate."""
    tv = tail_vs_traffic(sub, buckets=QUIET_BUCKETS, q=0.99, window=window) if v["has_time"] else tail_vs_traffic(None)
    if len(tv) < 2:
        return False
    lo, hi = tv.iloc[0], tv.iloc[-1]
    _, pq = two_proportion_z(lo["cold_starts"], lo["requests"], hi["cold_starts"], hi["requests"], alternative="greater")
    quiet = bool(lo["p99"] >= QUIET_FACTOR * hi["p99"] and lo["cold_start_rate"] >= QUIET_FACTOR * max(hi["cold_start_rate"], 1e-9)
                 and pq < MAX_P)
    evidence.update({"quiet_rate_per_min": lo["rate_max"], "busy_rate_per_min": hi["rate_min"], "quiet_p99_ms": lo["p99"],
                     "busy_p99_ms": hi["p99"], "quiet_cold_start_rate": lo["cold_start_rate"],
                     "busy_cold_start_rate": hi["cold_start_rate"], "quiet_hours_signature": quiet})
    return quiet


def _tail_baseline(inputs: Any, sub: pd.DataFrame, v: dict[str, Any], window: Any, evidence: dict[str, Any]) -> bool:
    """Against the baseline window: quieter traffic, more cold starts (z-test), a P99 at least double."""
    base = in_window(getattr(inputs, "baseline_requests", None), getattr(inputs, "baseline", None))
    if base is None or not v["has_time"] or "timestamp" not in base.columns:
        return False
    blat = request_latency(base)
    bcold, bknown = cold_starts(base)
    bok = (blat.notna() & bknown).to_numpy()
    nb = int(bok.sum())
    inc_span = span_minutes(sub["timestamp"], window)
    base_span = span_minutes(base["timestamp"], getattr(inputs, "baseline", None))
    if nb < MIN_WARM or not inc_span or not base_span:
        return False
    n, n_cold = v["n"], v["n_cold"]
    rate_inc, rate_base = n / inc_span, nb / base_span
    b_p99 = float(np.quantile(blat[bok].to_numpy(), 0.99))
    b_cold = int(bcold[bok].sum())
    _, pb = two_proportion_z(n_cold, n, b_cold, nb, alternative="greater")
    quiet = bool(rate_inc <= QUIETER_SHARE * rate_base and n_cold / n >= QUIET_FACTOR * (b_cold / nb) and pb < MAX_P
                 and v["p99"] >= QUIET_FACTOR * b_p99)
    evidence.update({"traffic_per_min": rate_inc, "baseline_traffic_per_min": rate_base, "baseline_p99_ms": b_p99,
                     "baseline_cold_start_rate": b_cold / nb, "quieter_than_baseline": quiet})
    return quiet


def _tail_title(v: dict[str, Any]) -> str:
    """A title that says P99 shows the window's P99; the per-bin view says it is per bin."""
    if v["global_view"] or v["p99"] >= v["slow"]:
        return f"Cold starts make the P99 latency ({fmt_ms(v['p99'])} vs {fmt_ms(v['warm_p99'])} without them)"
    return (f"Cold starts raise the P99 of {v['explained']} of {v['n_bins']} {bin_text(v['width'])} bins "
            f"(median {fmt_ms(v['bin_tail'])}; window P99 {fmt_ms(v['p99'])}, {fmt_ms(v['warm_p99'])} without them)")


def _tail_summary(v: dict[str, Any], evidence: dict[str, Any], quiet: bool, base_quiet: bool) -> list[str]:
    parts = []
    if v["bin_view"]:
        few = (f"; a bin holds a median of {evidence['median_requests_per_bin']:.0f} requests, so its P99 is set by its "
               "slowest one or two" if evidence.get("median_requests_per_bin", 100) < 100 else "")
        parts.append(
            f"In {v['slow_bins']} of the {v['n_bins']} {bin_text(v['width'])} bins with traffic the P99 reached "
            f"{fmt_ms(v['slow'])} or more (median {fmt_ms(v['bin_tail'])}{few}), against a warm P99 of {fmt_ms(v['warm_p99'])}; "
            f"in {v['explained']} of them the P99 without cold starts stays below {fmt_ms(v['slow'])}."
        )
    if v["global_view"]:
        parts.append(
            f"{pct(v['share_tail'], 0)} of the requests at or above the window's {v['qn']} ({fmt_ms(v['thr'])}) were cold "
            f"starts, against {pct(v['share_all'])} of all {v['n']} requests (lift {v['lift']:.1f}); without them the "
            f"{v['qn']} is {fmt_ms(v['tail_warm'])}."
        )
    else:
        parts.append(f"Over the whole window the P99 is {fmt_ms(v['p99'])} ({fmt_ms(v['warm_p99'])} without cold starts); "
                     f"cold starts are {pct(v['share_all'])} of the {v['n']:,} requests and the P50 is {fmt_ms(v['p50'])}.")
    if quiet:
        parts.append(
            f"It is a quiet-hours effect: in the quietest quarter of the bins ({evidence['quiet_rate_per_min']:.1f} req/min or less) "
            f"the P99 is {fmt_ms(evidence['quiet_p99_ms'])} with {pct(evidence['quiet_cold_start_rate'])} cold starts, "
            f"against {fmt_ms(evidence['busy_p99_ms'])} and {pct(evidence['busy_cold_start_rate'])} at the busiest."
        )
    if base_quiet:
        parts.append(
            f"Against the baseline, traffic fell to {evidence['traffic_per_min']:.1f} req/min from "
            f"{evidence['baseline_traffic_per_min']:.1f}, cold starts rose to {pct(v['share_all'])} of requests from "
            f"{pct(evidence['baseline_cold_start_rate'])} and the P99 to {fmt_ms(v['p99'])} from "
            f"{fmt_ms(evidence['baseline_p99_ms'])}: idle environments are reclaimed and the next requests start cold."
        )
    return parts


def _tail_remediation(target: str, conc: dict[str, Any], evidence: dict[str, Any], cause: dict[str, Any] | None,
                      reference: Any = None) -> list[str]:
    steps = []
    size = ""
    if "concurrency_p95" in conc:
        n_pc = max(1, int(math.ceil(conc["concurrency_p95"])))
        size = (f"about {n_pc} environment{'s' if n_pc != 1 else ''}, the P95 of observed concurrency "
                f"({conc['concurrency_source']})")
    else:
        size = "sized to its concurrency in the quiet hours (the ConcurrentExecutions Maximum metric)"
    if cause is not None and cause["kind"] == "provisioned-concurrency":
        what = "deleted" if cause["api"].startswith(("Delete", "Deregister")) else "lowered"
        steps.append(
            f"Restore the provisioned concurrency on `{cause['target']}` that was {what} "
            f"{when_text(cause['timestamp'], reference)} ({cause['api']} by "
            f"{blameless_actor(cause['actor'])}): {size}. If it was cut to save cost, schedule it for the hours that need "
            "it (Application Auto Scaling scheduled actions) instead of removing it."
        )
    else:
        if cause is not None:
            steps.append(
                f"{sentence(cause, reference=reference, onset_known=False)[:-1]}: every deploy or configuration update replaces the function's environments, so the "
                "requests after it start cold; shift traffic gradually (CodeDeploy canary or linear on the alias) and keep "
                "provisioned concurrency on the alias so a new version is initialised before it takes traffic."
            )
        steps.append(
            f"Enable provisioned concurrency on {target} (on an alias or version): {size}, so requests after idle periods "
            "land on an initialised environment; if traffic is seasonal, schedule it or use Application Auto Scaling target "
            "tracking on ProvisionedConcurrencyUtilization (target ~0.7)."
        )
    init_txt = (
        f" (init P50 {fmt_ms(evidence['init_p50_ms'])}, max {fmt_ms(evidence['init_max_ms'])})" if "init_p50_ms" in evidence else ""
    )
    steps.append(
        f"Shorten initialisation{init_txt}: Lambda SnapStart (Java 11+, Python 3.12+, .NET 8), lazy-load heavy SDK "
        "clients and modules outside the hot path, trim the package and layers, give the function more memory "
        "(more CPU during init)."
    )
    steps.append(
        "Track the P99 with and without cold starts separately (Init Duration in REPORT lines) and alarm on the warm "
        "tail, so a code regression is not hidden behind cold starts and vice versa."
    )
    return steps


def _tail_severity(v: dict[str, Any]) -> tuple[str, float]:
    """Severity from the tail users see (the window's tail, or the per-bin P99 cold starts explain); its level."""
    def sev(level: float) -> str:
        if level >= HIGH_TAIL_MS and level >= HIGH_TAIL_FACTOR * v["warm_p99"]:
            return "high"
        if level >= MEDIUM_TAIL_MS and level >= MEDIUM_TAIL_FACTOR * v["warm_p99"]:
            return "medium"
        return "low"

    levels = ([v["thr"]] if v["global_view"] else []) + ([v["bin_tail"]] if v["bin_view"] else [])
    severity = min((sev(x) for x in levels), key=severity_rank)
    # A per-bin tail seen in fewer than 1 bin in 20 leaves the dashboard's P99 unchanged 95 % of the time: a blip.
    if not v["global_view"] and v["n_bins"] and v["slow_bins"] / v["n_bins"] < SUSTAINED_BIN_SHARE:
        severity = downgrade(severity)
    return severity, max(levels)


@dataclass
class Measures:
    """The requests with cold-start information, the two views of the tail, the quiet-hours signature, concurrency."""

    sub: pd.DataFrame
    v: dict[str, Any]
    quiet: bool = False
    quiet_evidence: dict[str, Any] = field(default_factory=dict)
    base_quiet: bool = False
    baseline_evidence: dict[str, Any] = field(default_factory=dict)
    conc: dict[str, Any] = field(default_factory=dict)
    function: str | None = None
    failed_tail: float = 0.0
    related: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cause(self) -> dict[str, Any] | None:
        return self.related[0] if self.related else None


def measure(inputs: Inputs) -> Measures | None:
    """Both views of the tail and what surrounds it; None when cold starts do not make the tail."""
    window = getattr(inputs, "window", None)
    req = in_window(getattr(inputs, "requests", None), window)
    if req is None:
        return None
    lat = request_latency(req)
    cold, known = cold_starts(req)
    ok = (lat.notna() & known).to_numpy()
    if int(ok.sum()) < MIN_REQUESTS:
        return None
    sub, lat, cold = req[ok], lat[ok], cold[ok]
    if int(cold.sum()) < MIN_COLD or int((~cold).sum()) < MIN_WARM:
        return None
    v = _tail_views(sub, lat, cold, window)
    if not (v["global_view"] or v["bin_view"]):
        return None
    m = Measures(sub=sub, v=v)
    m.quiet = _tail_quiet(sub, v, window, m.quiet_evidence)
    m.base_quiet = _tail_baseline(inputs, sub, v, window, m.baseline_evidence)
    m.conc = concurrency(inputs, sub)
    m.function = function_name(sub, cold)
    # A tail made of failed requests (timeouts, 5XX) is the cold-start-timeouts story, not a latency one.
    fail, _, _ = failing(sub)
    m.failed_tail = float(fail[v["tail"].to_numpy()].mean()) if v["n_tail"] else 0.0
    resources = getattr(inputs, "resources", None) or {}
    m.related = related_changes(getattr(inputs, "changes", None), COLD_START_TAIL_CHANGES,
                                targets_from(m.function, resources.get("function_name"), kind="function"), window=window)
    return m


def judge(m: Measures) -> Verdict:
    """Severity from the tail users see (:func:`_tail_severity`); confidence from the views' strength and the signature."""
    v, cause = m.v, m.cause
    severity, level = _tail_severity(v)
    strength = max(v["share_tail"] if v["global_view"] else 0.0, v["explained"] / v["slow_bins"] if v["bin_view"] else 0.0)
    score = Score(BASE_CONFIDENCE, "cold starts make the tail")
    score.add(STRENGTH_WEIGHT * strength, "the cold share of the tail (or of the slow bins)")
    score.add(LEVEL_WEIGHT * min(1.0, math.log2(max(level / max(v["warm_p99"], 1e-9), 1.0)) / LEVEL_DOUBLINGS),
              "how far the tail is above the warm P99")
    score.add(QUIET_BONUS, "the quiet-hours signature", when=m.quiet or m.base_quiet)
    score.add(BOTH_VIEWS_BONUS, "both views hold", when=v["global_view"] and v["bin_view"])
    score.add(PROVISIONED_CHANGE_BONUS, "provisioned concurrency was removed or lowered",
              when=cause is not None and cause["kind"] == "provisioned-concurrency")
    score.add(FEW_COLD_PENALTY, "few cold starts", when=v["n_cold"] < FEW_COLD)
    score.add(FAILED_TAIL_PENALTY, "the tail is mostly failed requests", when=m.failed_tail >= FAILED_TAIL_SHARE)
    return score.verdict(severity, cap_confidence(score.value, severity))


def _evidence(m: Measures) -> dict[str, Any]:
    evidence = _tail_evidence(m.v, m.sub)
    evidence.update(m.quiet_evidence)
    evidence.update(m.baseline_evidence)
    for k in ("concurrency_p95", "concurrency_peak", "provisioned_concurrency"):
        if k in m.conc:
            evidence[k] = m.conc[k]
    if m.function:
        evidence["function"] = m.function
    evidence["failed_share_of_tail"] = m.failed_tail
    evidence.update(related_evidence(m.cause))
    return evidence


def explain(m: Measures, verdict: Verdict, inputs: Inputs) -> Finding:
    """The finding: the tail with and without cold starts, the signature, the change, provisioned concurrency sized."""
    evidence = _evidence(m)
    start = window_start(inputs)
    parts = _tail_summary(m.v, evidence, m.quiet, m.base_quiet)
    if m.failed_tail >= FAILED_TAIL_SHARE:
        parts.append(f"{pct(m.failed_tail, 0)} of the slowest requests failed (timeouts/5XX): see cold-start-timeouts.")
    if m.cause is not None:
        parts.append(sentence(m.cause, reference=start, onset_known=False))
    return Finding(
        id=ID,
        title=_tail_title(m.v),
        severity=verdict.severity,
        summary=" ".join(parts),
        evidence=evidence,
        remediation=_tail_remediation(f"`{m.function}`" if m.function else "the function", m.conc, evidence, m.cause, start),
        confidence=verdict.confidence,
        related_changes=m.related,
    )


def detect(inputs: Inputs) -> Finding | None:
    """``cold-start-tail``: the slowest requests are cold starts (incidents.md #7).

    Needs requests with latency and cold-start information (>= 100 of them, >= 3 cold
    starts). The warm tail is the P99 of requests that were not cold starts; a tail is
    "slow" when it reaches ``max(2 x warm P99, warm P99 + 500 ms)``. Two views, either
    suffices:

    * whole window: cold starts are over-represented among the requests at or above the
      P99 (P95 under 500 requests): lift >= 2, one-sided two-proportion z-test p < 0.01,
      and leaving cold starts out lowers that percentile >= 1.5x and >= 250 ms;
    * per time bin (the P99 a dashboard shows, ~60-200 bins over the window): >= 3 bins
      have a slow P99 and in at least half of them the P99 without cold starts is not slow.
      This catches the quiet-hours case, where few requests make each bin's P99.

    The title quotes the window's P99 when it is slow (or the whole-window view holds);
    otherwise it says that the per-bin P99 is what cold starts raise.

    Severity follows the tail users see (the whole-window tail, or the median P99 of the
    slow bins that cold starts explain): ``high`` at >= 2 s and >= 3x the warm P99,
    ``medium`` at >= 1 s and >= 2x, else ``low``; one step lower when only the per-bin view
    holds and fewer than :data:`SUSTAINED_BIN_SHARE` of the bins are slow. The quiet-hours signature raises
    confidence: within the window, the quietest traffic bins have the highest P99 and
    cold-start rate; or, against ``baseline_requests``, traffic is at most half the
    baseline's while cold starts (z-test p < 0.01) and the P99 at least double; a tail made
    mostly of failed requests lowers it (that is ``cold-start-timeouts``). The changes that
    can explain it (:data:`COLD_START_TAIL_CHANGES`: provisioned concurrency removed or
    lowered, deploys, alias and configuration updates of the function, across the whole change
    timeline) are named in the summary and the remediation. Remediation sizes provisioned
    concurrency from the observed concurrency (ConcurrentExecutions Maximum, else Little's law
    on request durations).

    Returns
    -------
    Finding or None
    """

    measures = measure(inputs)
    return None if measures is None else explain(measures, judge(measures), inputs)
