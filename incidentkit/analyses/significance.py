"""The significance tests the analyses use, in numpy and the standard library (no scipy).

* :func:`norm_sf` — the standard normal's upper tail;
* :func:`two_proportion_z` — is one rate above another (pooled two-proportion z-test);
* :func:`wilson_interval` — a proportion's confidence interval that stays inside [0, 1];
* :func:`benjamini_hochberg` — q-values when many dimensions are tested at once;
* :func:`binom_sf` — ``P(X >= k)`` of a binomial count (exact up to 5,000 trials).

Example
-------
>>> z, p = two_proportion_z(30, 100, 10, 100)
>>> round(z, 2), round(p, 5)
(3.54, 0.00041)
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

__all__ = ["norm_sf", "two_proportion_z", "wilson_interval", "benjamini_hochberg", "binom_sf"]


def norm_sf(z: Any) -> Any:
    """Upper tail of the standard normal, ``P(Z > z)`` (scalar or array)."""
    if np.ndim(z) == 0:
        return 0.5 * math.erfc(float(z) / math.sqrt(2.0))
    arr = np.asarray(z, dtype="float64")
    return 0.5 * np.vectorize(math.erfc, otypes=[float])(arr / math.sqrt(2.0))


def two_proportion_z(
    x1: Any, n1: Any, x2: Any, n2: Any, *, alternative: str = "two-sided"
) -> tuple[Any, Any]:
    """Two-proportion z-test (pooled) of ``x1/n1`` against ``x2/n2``.

    Parameters
    ----------
    x1, n1, x2, n2:
        Successes and trials of each group (scalars or arrays).
    alternative:
        ``two-sided``, ``greater`` (``x1/n1 > x2/n2``) or ``less``.

    Returns
    -------
    (z, p_value)
        ``z`` is 0 and ``p`` 1 where a group is empty or the pooled rate is 0 or 1.

    Example
    -------
    >>> z, p = two_proportion_z(30, 100, 10, 100, alternative="greater")
    >>> round(z, 2), p < 0.001
    (3.54, True)
    """
    scalar = all(np.ndim(v) == 0 for v in (x1, n1, x2, n2))
    a1, m1, a2, m2 = (np.asarray(v, dtype="float64") for v in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = a1 / m1
        p2 = a2 / m2
        pooled = (a1 + a2) / (m1 + m2)
        se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / m1 + 1.0 / m2))
        z = (p1 - p2) / se
    z = np.where(np.isfinite(z), z, 0.0)
    if alternative == "two-sided":
        p = 2.0 * norm_sf(np.abs(z))
    elif alternative == "greater":
        p = norm_sf(z)
    elif alternative == "less":
        p = norm_sf(-z)
    else:
        raise ValueError(f"alternative {alternative!r} must be 'two-sided', 'greater' or 'less'")
    p = np.clip(np.asarray(p, dtype="float64"), 0.0, 1.0)
    p = np.where(z == 0.0, np.where(alternative == "two-sided", 1.0, 0.5), p)
    if scalar:
        return float(z), float(p)
    return z, p


def wilson_interval(x: Any, n: Any, *, z: float = 1.96) -> tuple[Any, Any]:
    """Wilson score interval of a proportion ``x/n`` (95 % by default); NaN where ``n`` is 0.

    Example
    -------
    >>> lo, hi = wilson_interval(3, 100)
    >>> round(lo, 4), round(hi, 4)
    (0.0103, 0.0845)
    """
    scalar = np.ndim(x) == 0 and np.ndim(n) == 0
    xs = np.asarray(x, dtype="float64")
    ns = np.asarray(n, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = xs / ns
        denom = 1.0 + z * z / ns
        centre = (p + z * z / (2.0 * ns)) / denom
        half = z * np.sqrt(p * (1.0 - p) / ns + z * z / (4.0 * ns * ns)) / denom
        lo = np.where(ns > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        hi = np.where(ns > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    if scalar:
        return float(lo), float(hi)
    return lo, hi


def benjamini_hochberg(pvalues: Iterable[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), same order as the input; NaN stays NaN.

    Example
    -------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(list(pvalues), dtype="float64")
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    vals = p[ok]
    order = np.argsort(vals)
    ranked = vals[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adj = np.empty(m)
    adj[order] = np.clip(ranked, 0.0, 1.0)
    out[ok] = adj
    return out


def binom_sf(k: int, n: int, p: float) -> float:
    """``P(X >= k)`` for ``X ~ Binomial(n, p)`` (exact; normal approximation above 5,000 trials).

    Example
    -------
    >>> round(binom_sf(3, 10, 0.1), 4)
    0.0702
    """
    if k <= 0:
        return 1.0
    if n <= 0 or k > n or p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    if n > 5000:
        mu, sd = n * p, math.sqrt(n * p * (1 - p))
        return 0.5 * math.erfc((k - 0.5 - mu) / (sd * math.sqrt(2.0)))
    lp, lq = math.log(p), math.log1p(-p)
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq for i in range(k, n + 1)]
    top = max(terms)
    return float(min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms)))
