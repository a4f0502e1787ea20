"""Every number in a finding's title and summary is one of its evidence values, formatted.

For every bundled sample, the numbers are parsed out of each finding's title and summary and
each is looked for among the finding's evidence values, under the conversions a reader expects
(a share shown as a percentage, milliseconds as seconds, seconds as minutes or hours), at the
precision shown. Times of day are looked for among the evidence's timestamps. Text the finding
quotes from its related changes (their own record is the evidence) and identifiers (backticked
names, evidence strings such as ``2.x`` or ``30-s``, ARNs, ids) are left out.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

import pandas as pd
import pytest

from incidentkit import Investigation, samples
from incidentkit.masking import mask_obj

_CODE = re.compile(r"`[^`]*`")
_TIME = re.compile(r"(?:(\d{4}-\d{2}-\d{2})[T ])?(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?Z?(?: UTC)?(?: on (\d{4}-\d{2}-\d{2}))?")
_P_VALUE = re.compile(r"\bp\s*(<|=)\s*(\d+(?:\.\d+)?(?:e-?\d+)?)", re.IGNORECASE)
_IDENT = re.compile(r"\b[\w.:/-]*(?:[A-Za-z][\w.:/-]*\d|\d[\w.:/-]*[A-Za-z])[\w.:/-]*\b")
#: "< 0.1%" / "> 99%": a share shown as a bound so rounding never claims none or all (fmt.percent)
_SHARE_BOUND = re.compile(r"([<>])\s*(\d+(?:\.\d+)?)%")
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s?(%|ms\b|s\b|min\b|h\b|days?\b|x\b|×|req/min|requests/min)?")
_SCALES = {
    "%": (100.0, 1.0),
    "ms": (1.0, 1000.0),
    "s": (1.0, 0.001, 1 / 1000.0),
    "min": (1 / 60.0, 1.0, 1 / 60000.0),
    "h": (1 / 3600.0, 1 / 60.0, 1.0),
    "day": (1 / 86400.0, 1.0),
    "days": (1 / 86400.0, 1.0),
    None: (1.0,),
}


@lru_cache(maxsize=None)
def sample_findings(name: str) -> list[dict[str, Any]]:
    return Investigation.sample(name).findings().to_dicts()


def _numbers(evidence: dict[str, Any]) -> list[float]:
    out = []
    for v in evidence.values():
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v)):
            out.append(abs(float(v)))  # a lead of -1260 s reads "21 min into the window"
    return out


def _times(finding: dict[str, Any]) -> list[pd.Timestamp]:
    out = []
    for v in list(finding["evidence"].values()) + [finding.get("onset")]:
        if isinstance(v, str) and re.match(r"\d{4}-\d{2}-\d{2}T", v):
            out.append(pd.Timestamp(v))
    return out


def _strip_quotes(text: str, finding: dict[str, Any]) -> str:
    for c in finding.get("related_changes") or []:
        d = str(c.get("description") or "")
        if d:
            text = text.replace(d, " ").replace(d[:1].upper() + d[1:], " ")
    for v in sorted((str(v) for v in finding["evidence"].values() if isinstance(v, str) and len(str(v)) > 1), key=len, reverse=True):
        if not re.match(r"\d{4}-\d{2}-\d{2}T", v):
            text = text.replace(v, " ")
    return _CODE.sub(" ", text).replace("Route 53", "Route")  # a product's name, not a number


def _time_ok(m: re.Match, times: list[pd.Timestamp]) -> bool:
    date = m.group(1) or m.group(5)
    hh, mm = int(m.group(2)), int(m.group(3))
    return any(t.hour == hh and t.minute == mm and (date is None or t.strftime("%Y-%m-%d") == date) for t in times)


def _matches(shown: float, decimals: int, unit: str | None, values: list[float]) -> bool:
    tol = 0.5 * 10 ** (-decimals) + 1e-9
    for v in values:
        for scale in _SCALES.get(unit, (1.0,)):
            if abs(v * scale - shown) <= tol:
                return True
            if unit in (None, "x", "×") and decimals == 0 and abs(round(v) - shown) < 1e-9:
                return True
    return False


def unsupported_numbers(finding: dict[str, Any]) -> list[str]:
    """The numbers of the title and summary that are no evidence value (as shown, with their unit)."""
    values = _numbers(finding["evidence"])
    times = _times(finding)
    missing = []
    for text in (finding["title"], finding["summary"]):
        text = _strip_quotes(text, finding)
        for m in list(_TIME.finditer(text)):
            if not _time_ok(m, times):
                missing.append(m.group(0))
        text = _TIME.sub(" ", text)
        for m in _P_VALUE.finditer(text):
            bound = float(m.group(2))
            ps = [float(v) for k, v in finding["evidence"].items() if "p_value" in k and isinstance(v, (int, float))]
            if not any((p < bound) if m.group(1) == "<" else abs(p - bound) <= 0.5 * 10 ** -max(1, len(m.group(2).split(".")[-1])) for p in ps):
                missing.append(m.group(0))
        text = _IDENT.sub(" ", _P_VALUE.sub(" ", text))
        for m in _SHARE_BOUND.finditer(text):
            bound = float(m.group(2))
            inside = (lambda pct: 0 < pct < bound) if m.group(1) == "<" else (lambda pct: bound < pct < 100)
            if not any(inside(100 * v) for v in values):
                missing.append(m.group(0))
        text = _SHARE_BOUND.sub(" ", text)
        for m in _NUMBER.finditer(text):
            whole, frac, unit = m.group(1).replace(",", ""), m.group(2) or "", m.group(3)
            shown = float(whole + frac)
            if not _matches(shown, len(frac) - 1 if frac else 0, unit.strip() if unit else None, values):
                missing.append(m.group(0).strip())
    return missing


def problems_in(name: str, check) -> dict[str, list[str]]:
    """``check``'s complaints about each finding of sample ``name``, by finding id (none: ``{}``)."""
    found = {f["id"]: check(f) for f in sample_findings(name)}
    return {k: v for k, v in found.items() if v}


@pytest.mark.parametrize("name", samples.names())
def test_every_number_in_titles_and_summaries_is_an_evidence_value(name):
    assert not problems_in(name, unsupported_numbers)


@pytest.mark.parametrize("name", samples.names())
def test_no_evidence_key_of_ours_reads_like_a_credential_to_the_masking(name):
    """findings.json is masked as it is written: an evidence key named like a credential (``signature``,
    ``token``...) or a sentence of ours that reads like ``name: value`` to the rules would lose its value
    there. The samples hold no secret, so masking must leave what the kit writes as it is. (The raw
    fields of a related change are data: ``shop-jwt-authorizer:13`` as CloudTrail names it is masked,
    the masking erring on the safe side.)"""
    for f in sample_findings(name):
        ours = {k: f[k] for k in ("title", "summary", "remediation")}
        ours["evidence"] = {k: v for k, v in f["evidence"].items() if k != "related_changes"}  # a list of the data's records
        masked = mask_obj(ours)
        assert masked == ours, {k: masked[k] for k in ours if masked[k] != ours[k]}


def test_the_audit_finds_a_number_that_is_not_evidence():
    f = {"id": "x", "title": "Cold starts make the P99 latency (831 ms vs 222 ms warm)", "summary": "At 18:26 UTC on 2026-09-01.",
         "evidence": {"p99_ms": 258.0, "warm_p99_ms": 222.0, "change_at": "2026-09-01T18:26:41Z"}, "related_changes": []}
    assert unsupported_numbers(f) == ["831 ms"]
    f["evidence"]["slow_bin_p99_median_ms"] = 831.0
    assert unsupported_numbers(f) == []
    f["summary"] = "At 18:27 UTC; 12.5% of requests; p < 0.001; > 99% of the traffic."
    f["evidence"].update({"share": 0.125, "p_value": 0.2})
    assert unsupported_numbers(f) == ["18:27 UTC", "p < 0.001", "> 99%"]


#: a count of four digits or more written without its thousands separators ("1494 requests")
_BARE_COUNT = re.compile(r"(?<![\w.,])\d{4,}(?![\w,]|\.\d)")


def bare_counts(finding: dict[str, Any]) -> list[str]:
    """Numbers of 1,000 or more in the title, summary or remediation prose written without ``,``.

    The report's evidence table writes ``1,494`` (``fmt.value``); the sentence above it must write
    the same number the same way, so that either can be pasted into a postmortem. Times, p-values,
    identifiers (ARNs, ids, names in backticks) and quoted evidence strings are left out, as above.
    """
    found = []
    prose = [finding["title"], finding["summary"], *(finding.get("remediation") or [])]
    for text in prose:
        text = _IDENT.sub(" ", _P_VALUE.sub(" ", _TIME.sub(" ", _strip_quotes(str(text), finding))))
        found += _BARE_COUNT.findall(text)
    return found


@pytest.mark.parametrize("name", samples.names())
def test_counts_in_titles_summaries_and_remediations_carry_thousands_separators(name):
    assert not problems_in(name, bare_counts)


def test_a_bare_count_is_found_and_a_separated_one_is_not():
    f = {"id": "x", "title": "t", "summary": "1494 requests (18.8%) of 7,967 at 14:01 UTC; p < 0.0001; `id 12345`.",
         "remediation": ["AWS allows up to 3600 s", "keep 3,600"], "evidence": {}, "related_changes": []}
    assert bare_counts(f) == ["1494", "3600"]
