"""Shift: did the share of bad requests rise from an onset by more than the baseline's noise explains?

The generic findings ask one question of a stream of requests, each good or bad (failed;
slower than the baseline's P99; slower than its P50): from some moment on, is the share of
bad requests higher than before, by more than chance and the baseline's own variation can
produce? :func:`shift` answers it in three steps:

1. **Bins**: requests are counted per time bin over the baseline and the incident window
   (bins wide enough for about :data:`REQUESTS_PER_BIN` requests, at least a minute).
2. **Onset** (a change point): every bin start inside the window that leaves at least
   :data:`MIN_AFTER_BINS` bins after it is a candidate; the one that best splits the requests
   into a "before" and a higher "after" share (binomial likelihood ratio) is the onset. Pooling
   every request after a candidate finds a shift that is small per bin (one route of ten
   failing) where a per-bin rule would need each bin to stand out on its own.
3. **Judgement**: the after share is compared with the before share by a two-proportion
   z-test whose variance is scaled by the baseline's **overdispersion** (Pearson chi-square per
   degree of freedom of the before bins against one shared share, at least 1): traffic whose
   error share already wanders from minute to minute needs a bigger shift to count. The
   p-value is multiplied by the number of candidates (Bonferroni: the onset was chosen to make
   the split look best). ``significant`` when it is below :data:`ALPHA`.

How much it matters is a separate number, ``excess_share``: the share of the requests after
the onset that are bad beyond the before share — the part of the traffic the change hurt.
Severity follows it (:func:`incidentkit.analyses._common.severity_for_share`), never the
p-value: on busy services a harmless shift is still very significant.

Example
-------
>>> import numpy as np, pandas as pd
>>> t0 = pd.Timestamp("2026-05-04T13:00Z")
>>> times = pd.Series(t0 + pd.to_timedelta(np.arange(7200) * 1.0, unit="s"))
>>> bad = (np.arange(7200) % 50 == 0) | ((np.arange(7200) >= 5520) & (np.arange(7200) % 4 == 0))
>>> s = shift(times, bad, window=(t0 + pd.Timedelta("1h"), t0 + pd.Timedelta("2h")), baseline=(t0, t0 + pd.Timedelta("1h")))
>>> s.onset.strftime("%H:%M"), round(s.before_share, 3), round(s.after_share, 3), s.significant
('14:32', 0.02, 0.26, True)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._common import NICE_BINS, as_utc, norm_sf

__all__ = ["Shift", "shift", "REQUESTS_PER_BIN", "MIN_AFTER_BINS", "ALPHA", "bin_width"]

#: Requests a bin should hold on average (so one request moves a bin's share by 5 % at most).
REQUESTS_PER_BIN = 20
#: Bins an onset must leave after it: a shift is a level that holds, not one bad minute.
MIN_AFTER_BINS = 3
#: Family-wise false-alarm rate of "the share rose": one healthy window in a thousand per question.
ALPHA = 0.001
#: Bins of "before" needed to measure the baseline's overdispersion (fewer: binomial noise alone).
_MIN_DISPERSION_BINS = 5


@dataclass(frozen=True)
class Shift:
    """The answer of :func:`shift` (``None``/NaN where there is no onset)."""

    onset: pd.Timestamp | None
    before_share: float
    after_share: float
    before_requests: int
    after_requests: int
    before_bad: int
    after_bad: int
    dispersion: float
    z: float
    p_value: float
    candidates: int
    significant: bool
    excess_share: float
    bin_s: int
    last_bad: pd.Timestamp | None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict (times as Timestamps)."""
        return asdict(self)


def _bounds(spec: Any) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    if spec is None:
        return None
    start, end = (spec.start, spec.end) if hasattr(spec, "start") else spec
    out = []
    for x in (start, end):
        ts = pd.Timestamp(x)
        out.append(ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC"))
    return out[0], out[1]


def bin_width(requests: int, span: pd.Timedelta) -> pd.Timedelta:
    """The round bin width that holds about :data:`REQUESTS_PER_BIN` requests, at least a minute.

    Example
    -------
    >>> bin_width(600, pd.Timedelta("1h")), bin_width(100_000, pd.Timedelta("1h"))
    (Timedelta('0 days 00:02:00'), Timedelta('0 days 00:01:00'))
    """
    want = max(pd.Timedelta(minutes=1), span * (REQUESTS_PER_BIN / max(requests, 1)))
    return next((b for b in NICE_BINS if b >= want), NICE_BINS[-1])


def _none(bin_s: int, before: tuple[int, int]) -> Shift:
    k, n = before
    return Shift(None, k / n if n else float("nan"), float("nan"), n, 0, k, 0, 1.0, 0.0, 1.0, 0, False, 0.0, bin_s, None)


def _dispersion(k: np.ndarray, n: np.ndarray) -> float:
    """Pearson chi-square per degree of freedom of bins against their pooled share (at least 1)."""
    busy = n > 0
    k, n = k[busy], n[busy]
    if len(n) < _MIN_DISPERSION_BINS or k.sum() == 0:
        return 1.0
    p = k.sum() / n.sum()
    if p >= 1.0:
        return 1.0
    chi2 = float(np.sum((k - n * p) ** 2 / (n * p * (1.0 - p))))
    return max(1.0, chi2 / (len(n) - 1))


def _loglik(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, k / np.maximum(n, 1), 0.0)
        a = np.where(k > 0, k * np.log(np.where(p > 0, p, 1.0)), 0.0)
        b = np.where(n - k > 0, (n - k) * np.log(np.where(p < 1, 1.0 - p, 1.0)), 0.0)
    return a + b


def shift(times: pd.Series, bad: Any, *, window: Any, baseline: Any = None) -> Shift:
    """Whether, and from when, the share of ``bad`` requests rose inside ``window``.

    Parameters
    ----------
    times:
        When each request happened (any tz; naive is UTC).
    bad:
        Boolean per request (failed, slow ...).
    window:
        The incident window ``(start, end)`` or a Window: onsets are looked for inside it.
    baseline:
        The baseline window: its requests (and the window's requests before a candidate onset)
        make the "before". None: only the window's requests before the onset.

    Returns
    -------
    Shift
        ``onset`` (start of the onset bin, moved to the first bad request in it), the shares,
        counts, ``dispersion`` of the before bins, ``z`` and the Bonferroni-adjusted
        ``p_value``, ``significant``, ``excess_share`` (after share minus before share, at
        least 0), ``bin_s`` and ``last_bad`` (the last bad request after the onset).
    """
    w = _bounds(window)
    b = _bounds(baseline)
    t = as_utc(pd.Series(times)).reset_index(drop=True)
    flags = pd.Series(np.asarray(bad, dtype=bool))
    start = min(w[0], b[0]) if b is not None else w[0]
    keep = ((t >= start) & (t < w[1])).fillna(False).to_numpy(dtype=bool).copy()
    if b is not None:  # a gap between the baseline and the window holds no evidence: leave it out
        keep &= (((t >= b[0]) & (t < b[1])) | (t >= w[0])).fillna(False).to_numpy(dtype=bool)
    t, flags = t[keep].reset_index(drop=True), flags[keep].reset_index(drop=True)
    in_window = (t >= w[0]).to_numpy(dtype=bool)
    width = bin_width(int(in_window.sum()), w[1] - w[0])
    bin_s = int(width.total_seconds())
    if not in_window.any():
        return _none(bin_s, (int(flags.sum()), len(flags)))
    # window bins counted from the window's start; baseline requests are one "before" block
    pos = ((t[in_window] - w[0]) // width).to_numpy(dtype=np.int64)
    n_bins = max(1, int(math.ceil((w[1] - w[0]) / width)))
    n = np.bincount(pos, minlength=n_bins)[:n_bins].astype(float)
    k = np.bincount(pos, weights=flags[in_window].to_numpy(dtype=float), minlength=n_bins)[:n_bins]
    base_k, base_n = float(flags[~in_window].sum()), float((~in_window).sum())
    base_bins = _baseline_bins(t[~in_window], flags[~in_window], width)
    return _judge(t[in_window], flags[in_window], n, k, base_n, base_k, base_bins, w[0], width)


def _baseline_bins(t: pd.Series, flags: pd.Series, width: pd.Timedelta) -> tuple[np.ndarray, np.ndarray]:
    if t.empty:
        return np.array([]), np.array([])
    pos = ((t - t.min()) // width).to_numpy(dtype=np.int64)
    n = np.bincount(pos).astype(float)
    k = np.bincount(pos, weights=flags.to_numpy(dtype=float))
    return k, n


def _judge(t: pd.Series, flags: pd.Series, n: np.ndarray, k: np.ndarray, base_n: float, base_k: float,
           base_bins: tuple[np.ndarray, np.ndarray], w0: pd.Timestamp, width: pd.Timedelta) -> Shift:
    """Pick the onset (best upward split) and test it against the before bins' overdispersion."""
    bin_s = int(width.total_seconds())
    cand = np.arange(0, max(0, len(n) - MIN_AFTER_BINS + 1))
    cn, ck = np.concatenate([[0.0], np.cumsum(n)]), np.concatenate([[0.0], np.cumsum(k)])
    nb, kb = base_n + cn[cand], base_k + ck[cand]
    na, ka = cn[-1] - cn[cand], ck[-1] - ck[cand]
    ok = (nb > 0) & (na > 0)
    if not ok.any():
        return _none(bin_s, (int(base_k), int(base_n)))
    with np.errstate(divide="ignore", invalid="ignore"):
        up = (ka / na) > (kb / nb)
    llr = _loglik(kb, nb) + _loglik(ka, na) - _loglik(kb + ka, nb + na)
    llr = np.where(ok & up, llr, -np.inf)
    if not np.isfinite(llr).any():
        return _none(bin_s, (int(base_k + ck[-1]), int(base_n + cn[-1])))
    i = int(np.argmax(llr))
    c = int(cand[i])
    before_k = np.concatenate([base_bins[0], k[:c]])
    before_n = np.concatenate([base_bins[1], n[:c]])
    phi = _dispersion(before_k, before_n)
    p_b, p_a = kb[i] / nb[i], ka[i] / na[i]
    pooled = (kb[i] + ka[i]) / (nb[i] + na[i])
    se = math.sqrt(phi * pooled * (1.0 - pooled) * (1.0 / nb[i] + 1.0 / na[i])) if 0 < pooled < 1 else 0.0
    z = (p_a - p_b) / se if se > 0 else 0.0
    p = min(1.0, float(norm_sf(z)) * int(ok.sum())) if z > 0 else 1.0
    onset_bin = w0 + c * width
    after_bad = t[(t >= onset_bin).to_numpy(dtype=bool) & flags.to_numpy(dtype=bool)]
    first_bad = after_bad.min() if len(after_bad) else onset_bin
    onset = first_bad if first_bad < onset_bin + width else onset_bin
    return Shift(onset=onset.floor("s"), before_share=float(p_b), after_share=float(p_a), before_requests=int(nb[i]),
                 after_requests=int(na[i]), before_bad=int(kb[i]), after_bad=int(ka[i]), dispersion=float(phi), z=float(z),
                 p_value=float(p), candidates=int(ok.sum()), significant=bool(p < ALPHA), excess_share=float(max(0.0, p_a - p_b)),
                 bin_s=bin_s, last_bad=after_bad.max().floor("s") if len(after_bad) else None)
