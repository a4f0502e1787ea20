"""Numbers for a reader: evidence values formatted by what their name says they measure.

One place for the formatting every rendered view shares (finding cards, the postmortem,
tables in the report, the titles and summaries of findings): shares as percentages, p-values
as ``< 0.001``, latencies as ``830 ms`` / ``8.2 s``, durations with their unit, thousands
separators, times as ISO-8601 UTC. Pure: the values themselves are never changed
(``findings.json`` keeps the raw numbers). A missing value reads ``—`` everywhere.

Example
-------
>>> value(0.289, "failed_share"), value(1.399780e-14, "p_value"), value(7830.13, "p99_ms")
('28.9%', '< 0.001', '7,830 ms')
>>> percent(0.0642), ms(8230.0), p_value(0.0031), iso("2026-03-10 02:47:12+01:00")
('6.4%', '8.2 s', 'p = 0.003', '2026-03-10T01:47:12Z')
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import pandas as pd

__all__ = ["value", "percent", "ms", "p_value", "iso", "now_iso", "stamp", "clock", "source_text", "MISSING"]

#: How a missing value (None, NaN, NaT) reads.
MISSING = "—"

_FRACTION_WORDS = frozenset({"share", "fraction", "rate"})
_PVALUE_NAMES = frozenset({"p", "pvalue", "p_value", "p_val", "q", "qvalue", "q_value"})  # a q-value is an adjusted p


def _words(name: str) -> list[str]:
    return name.lower().split("_")


def _is_fraction_name(name: str) -> bool:
    """A part of a whole: a word ``share``, ``fraction`` or ``rate``, but no ``per`` (``rate_per_min``), ``limit``,
    ``ratio`` or ``lift`` (``rate_ratio`` compares two rates: it is no share)."""
    words = _words(name)
    return bool(_FRACTION_WORDS.intersection(words)) and not {"per", "limit", "ratio", "lift"}.intersection(words)


def _is_pvalue_name(name: str) -> bool:
    low = name.lower()
    return low in _PVALUE_NAMES or low.endswith(("_p_value", "_pvalue", "_q_value", "_qvalue"))


def _unit(name: str) -> str | None:
    """``ms`` / ``s`` when the name ends with that unit (and is no per-unit rate such as ``units_per_s``)."""
    words = _words(name)
    if "per" in words:
        return None
    if words[-1] == "ms":
        return "ms"
    if words[-1] in ("s", "seconds", "secs"):
        return "s"
    return None


def _missing(x: Any) -> bool:
    return x is None or x is pd.NA or x is pd.NaT or (isinstance(x, numbers.Real) and math.isnan(float(x)))


def percent(x: Any, digits: int = 1) -> str:
    """A share (0..1) as a percentage with ``digits`` decimals: ``6.4%``, ``100%``, ``< 0.1%``.

    Trailing zeros are dropped (``12%``, not ``12.0%``); a share above 0 but below the last
    digit shown reads ``< 0.1%`` (and one below 1 but within a digit of it, ``> 99.9%``), so a
    rounding never claims "none" or "all". Values outside 0..1 (a growth of 250%) are printed as they are.

    Example
    -------
    >>> percent(0.0642), percent(1.0), percent(0.0004), percent(0.38, 0), percent(2.5), percent(None)
    ('6.4%', '100%', '< 0.1%', '38%', '250%', '—')
    """
    if _missing(x):
        return MISSING
    pct = 100.0 * float(x)
    step = 10.0 ** -digits
    if 0 < pct < step:
        return f"< {step:g}%"
    if 100 - step < pct < 100:
        return f"> {100 - step:.{digits}f}%"
    return _trim(f"{pct:.{digits}f}") + "%"


def ms(x: Any) -> str:
    """A latency in milliseconds for reading: ``830 ms`` below a second, ``8.2 s`` from one.

    Example
    -------
    >>> ms(830.4), ms(8230.0), ms(125000), ms(float("nan"))
    ('830 ms', '8.2 s', '125.0 s', '—')
    """
    if _missing(x):
        return MISSING
    x = float(x)
    return f"{x / 1000:,.1f} s" if abs(x) >= 1000 else f"{x:.0f} ms"


def _pvalue(x: float) -> str:
    if x < 0.001:
        return "< 0.001"
    return f"{x:.3f}" if x < 0.01 else f"{x:.2f}"


def p_value(p: Any) -> str:
    """A p-value in a sentence: ``p < 0.001``, ``p = 0.003``, ``p = 0.03``.

    Below 0.001 the exact value says nothing a reader acts on (and no model behind it is exact
    that far out); the evidence keeps the number.

    Example
    -------
    >>> p_value(1e-9), p_value(0.0031), p_value(0.2), p_value(None)
    ('p < 0.001', 'p = 0.003', 'p = 0.20', 'p = —')
    """
    if _missing(p):
        return f"p = {MISSING}"
    text = _pvalue(float(p))
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _trim(text: str) -> str:
    """``20.50`` -> ``20.5``, ``88.0`` -> ``88`` (trailing zeros say nothing to a reader)."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def _duration(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return _trim(f"{x:,.1f}")
    if x == 0 or abs(x) >= 0.01:
        return _trim(f"{x:.2f}")
    return "< 0.01" if x > 0 else "> -0.01"


def _number(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return _trim(f"{x:,.2f}")
    return f"{x:.3g}"


def value(value: Any, name: str | None = None) -> str:
    """A value for a reader, formatted by what its evidence ``name`` says it measures.

    Pure: the value itself is not changed (``findings.json`` keeps the raw number).

    - ``None`` / NaN / ``pd.NA`` / ``NaT``: ``—``; booleans: ``yes`` / ``no``; text as it is.
    - A part of a whole (a name word ``share``, ``fraction`` or ``rate``: ``error_share``,
      ``cold_share_of_tail``, ``error_rate_near_deploys``; not a per-time ``rate_per_min`` nor
      a ``rate_limit``) between 0 and 1: a percentage (:func:`percent`: ``6.4%``, ``100%``,
      ``< 0.1%``, ``> 99.9%``). Ratios and lifts are not parts of a whole and stay numbers; so does a
      "share" outside 0..1 (it is not what its name says, and the raw number is more honest).
    - A p-value (``p_value``, ``*_pvalue``, ...) between 0 and 1: ``< 0.001``, ``0.004``, ``0.03``.
    - Durations (``*_ms``, ``*_s``; not ``*_per_s``): thousands separators and the unit
      (``6,749 ms``, ``12.5 ms``, ``29 s``).
    - Other numbers: thousands separators, integers as integers, at most 2 decimals from 1
      to 100 (no trailing zeros), none from 100, 3 significant figures below 1.

    Parameters
    ----------
    value:
        The value to show.
    name:
        Its evidence name (optional: without it only the value's type decides).

    Example
    -------
    >>> value(0.064, "cold_share_overall"), value(0.0, "p_value"), value(6749.15, "tail_all_ms")
    ('6.4%', '< 0.001', '6,749 ms')
    >>> value(15.6364, "lift"), value(1.5, "quiet_rate_per_min"), value(12345)
    ('15.64', '1.5', '12,345')
    """
    if _missing(value):
        return MISSING
    if isinstance(value, bool) or (type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")):
        return "yes" if value else "no"
    if not isinstance(value, numbers.Real):
        return str(value)
    x = float(value)
    if math.isnan(x):
        return MISSING
    if name:
        if 0 <= x <= 1 and _is_fraction_name(name):
            return percent(x)
        if 0 <= x <= 1 and _is_pvalue_name(name):
            return _pvalue(x)
        unit = _unit(name)
        if unit and math.isfinite(x):
            return _duration(x) + " " + unit
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if math.isinf(x):
        return str(value)
    return _number(x)


def iso(ts: Any) -> str | None:
    """A time as ISO-8601 UTC with ``Z`` (naive means UTC), or None when unknown.

    Example
    -------
    >>> iso("2026-03-10 02:47:12+01:00"), iso(None), iso(float("nan"))
    ('2026-03-10T01:47:12Z', None, None)
    """
    if ts is None or (isinstance(ts, float) and math.isnan(ts)):
        return None
    try:
        t = pd.Timestamp(ts)
    except (ValueError, TypeError):
        return None
    if pd.isna(t):
        return None
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.isoformat().replace("+00:00", "Z")


def now_iso() -> str:
    """The current time as ISO-8601 UTC to the second, with ``Z`` (when a file was written).

    Example
    -------
    >>> len(now_iso()), now_iso().endswith("Z")
    (20, True)
    """
    return str(iso(pd.Timestamp.now(tz="UTC").floor("s")))


def stamp(ts: Any = None) -> str:
    """A time (default: now) as a compact UTC stamp for names: ``20260301T031500Z``.

    Example
    -------
    >>> stamp("2026-03-01T04:15:00+01:00")
    '20260301T031500Z'
    """
    t = pd.Timestamp.now(tz="UTC") if ts is None else pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.strftime("%Y%m%dT%H%M%SZ")


def clock(ts: Any) -> str:
    """A time for a reader, to the second: ``2026-03-10 02:47:12 UTC`` (``—`` when unknown).

    A fraction of a second is left out (``09:56:58.028`` reads ``09:56:58``, the second it
    falls in); the evidence keeps the exact time.

    Example
    -------
    >>> clock("2026-03-10T02:47:12Z"), clock("2026-06-09T09:56:58.028Z"), clock(None)
    ('2026-03-10 02:47:12 UTC', '2026-06-09 09:56:58 UTC', '—')
    """
    text = iso(ts)
    return MISSING if text is None else pd.Timestamp(text).floor("s").strftime("%Y-%m-%d %H:%M:%S UTC")


def _backticks(text: str) -> str:
    return f"`{text}`"


def source_text(source: str, *, code: Any = _backticks) -> str:
    """How a run's ``source`` reads in a title: ``bundled sample `cold-start-tail` (offline)`` ...

    ``code`` formats the name or folder as code (the postmortem passes its Markdown escaper).

    Example
    -------
    >>> source_text("sample:cold-start-tail")
    'bundled sample `cold-start-tail` (offline)'
    >>> source_text("aws")
    ''
    """
    kind, _, what = source.partition(":")
    if kind == "sample":
        return f"bundled sample {code(what)} (offline)"
    if kind == "evidence":
        return f"replayed from the evidence in {code(what)}"
    return ""
