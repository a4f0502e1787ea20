"""Error signatures: the message templates of the error lines, and which are new or grew.

An incident outside the catalogue shows first as *new text in the logs*: ``Runtime exited
with error: signal: killed`` where there was none, ``Missing required configuration key``
after a deploy. :func:`signatures` finds them without knowing the text in advance:

1. **Error lines** (:func:`error_lines`): lines at ERROR/FATAL, tracebacks, and platform
   records that carry an error (a JSON ``platform.report`` of an out-of-memory exit) when no
   other error line names the same request. Each gets a one-line *signature text*: the
   exception type and message the parser read (``TimeoutError: connect ETIMEDOUT ...``,
   ``java.lang.IllegalStateException: Missing ...``), else the first line of the message.
2. **Variable parts masked** (:func:`~incidentkit.analyses.templates.mask_variables`), vectorised with RE2 (pyarrow): UUIDs,
   ARNs, URLs, e-mail addresses, IPs, hex, paths, quoted values, numbers and long mixed
   identifiers become ``<UUID>``, ``<ARN>``, ... So 50,000 lines naming 50,000 request ids
   collapse to a handful of distinct texts.
3. **Templates mined** (:func:`~incidentkit.analyses.templates.mine`) with Drain3 (the streaming template miner of He et al.,
   ICWS 2017, maintained by IBM/logpai) over the distinct masked texts of both sides, most
   frequent first: tokens that still vary between otherwise equal texts become ``<*>``.
4. **Judged** (:func:`from_counts`) against the baseline (the baseline window, and the part of
   the window before an onset when one is given): ``new`` when the baseline holds none of it,
   ``grown`` when its rate rose beyond chance. The rate test is exact: given ``k1`` lines in an
   exposure ``e1`` (requests, or seconds when requests are unknown) and ``k2`` in ``e2``, under
   "same rate" ``k1 ~ Binomial(k1 + k2, e1 / (e1 + e2))``; the p-values are corrected for the
   number of templates (Benjamini-Hochberg).

Windows too large to pull are mined server-side by Logs Insights' ``pattern`` command
(:func:`incidentkit.fetch.insights.insights_error_patterns`, or
:meth:`incidentkit.Investigation.log_patterns`); :func:`from_patterns` turns its rows into the
same frame.

Example
-------
>>> import pandas as pd
>>> t = pd.Timestamp("2026-03-10T14:00Z")
>>> base = pd.DataFrame({"timestamp": [t - pd.Timedelta("50min")], "level": ["ERROR"],
...                      "error_type": ["KeyError"], "error_message": ["'user_id'"], "message": ["x"]})
>>> inc = pd.DataFrame({"timestamp": [t + pd.Timedelta(minutes=i) for i in range(3)], "level": "ERROR",
...                     "error_type": "Runtime.ExitError", "error_message": "Runtime exited with error: signal: killed",
...                     "message": "RequestId: 1 Error: Runtime exited with error: signal: killed"})
>>> s = signatures(inc, base)
>>> s.loc[0, "template"], int(s.loc[0, "count"]), bool(s.loc[0, "new"])
('Runtime.ExitError: Runtime exited with error: signal: killed', 3, True)
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..fetch.insights.patterns import DYNAMIC_TOKEN
from ..masking import mask_text
from ._common import UTC_NS, as_utc, benjamini_hochberg, binom_sf, select_rows, text_test
from ._error_text import signature_texts
from .impact import counted, counting_tier
from .templates import MASKS, mask_variables, mine  # re-exported: the steps of signatures()

__all__ = [
    "SIGNATURE_COLUMNS",
    "MASKS",
    "error_lines",
    "error_line_candidates",
    "error_lines_of",
    "mask_variables",
    "mine",
    "from_counts",
    "from_patterns",
    "signatures",
    "window_signatures",
    "split_at",
    "line_templates",
]

#: The columns of :func:`signatures` (and of :func:`from_patterns`), in order.
SIGNATURE_COLUMNS = (
    "template", "count", "baseline_count", "share_of_errors", "first_seen", "last_seen", "new", "grown", "growth",
    "p_value", "q_value", "error_type", "log_groups", "example", "source",
)

_ERROR_LEVELS = ("ERROR", "FATAL")
_REPORTS = ("report",)
#: Characters of a (masked) example kept.
_MAX_EXAMPLE = 600
_LINE_COLUMNS = ("timestamp", "log_group", "log_stream", "request_id", "error_type", "text", "message")


def _col(df: pd.DataFrame, name: str, dtype: str = "string") -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series(pd.NA, index=df.index, dtype=dtype)


def error_lines(logs: pd.DataFrame | None) -> pd.DataFrame:
    """The error lines of a parsed logs frame, each with its signature text.

    Errors are lines at ERROR/FATAL and tracebacks; a platform report that carries an error
    (``platform.report`` with ``Runtime.OutOfMemory``) counts only when no other error line
    names its request (a text-format timeout writes both ``Task timed out`` and a REPORT).

    Returns
    -------
    DataFrame
        ``timestamp, log_group, log_stream, request_id, error_type, text, message``, in time order.

    Example
    -------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-10T14:00Z"] * 2), "level": ["INFO", "ERROR"],
    ...                    "error_type": [None, "TimeoutError"], "error_message": [None, "connect ETIMEDOUT"],
    ...                    "message": ["ok", "..."]})
    >>> error_lines(df)["text"].tolist()
    ['TimeoutError: connect ETIMEDOUT']
    """
    return error_lines_of(error_line_candidates(logs))


def _empty_lines() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=UTC_NS if c == "timestamp" else "string") for c in _LINE_COLUMNS})


def error_line_candidates(logs: pd.DataFrame | None) -> pd.DataFrame:
    """The lines of ``logs`` that may be error lines, with their signature text, in the frame's order: the
    costly half of :func:`error_lines`, so that the lines of two frames and of both together are read once.

    Each row holds the :func:`error_lines` columns and ``_error`` (an error line whatever else is read)
    — False for a platform report carrying an error, which counts only when no error line (of the
    frames judged together, see :func:`error_lines_of`) names its request.

    Example
    -------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-10T14:00Z"]), "level": ["ERROR"],
    ...                    "error_type": ["KeyError"], "error_message": ["'id'"], "message": ["x"]})
    >>> error_line_candidates(df)[["text", "_error"]].values.tolist()
    [["KeyError: 'id'", True]]
    """
    empty = _empty_lines().assign(_error=pd.Series([], dtype=bool))
    if logs is None or len(logs) == 0:
        return empty
    level = _col(logs, "level")
    base = text_test(level, lambda s: s.str.upper().isin(_ERROR_LEVELS)) | text_test(_col(logs, "format"), lambda s: s == "traceback")
    report = (text_test(_col(logs, "record_type"), lambda s: s.isin(_REPORTS))
              & _col(logs, "error_type").notna().to_numpy(dtype=bool) & level.isna().to_numpy(dtype=bool))
    keep = [c for c in (*_LINE_COLUMNS, "error_message") if c in logs.columns]  # not the other columns of every line
    sel = select_rows(logs, base | report, keep)  # a filter, not a take of the whole message column
    if sel.empty:
        return empty
    texts = signature_texts(_col(sel, "error_type").astype("object"), _col(sel, "error_message").astype("object"),
                             _col(sel, "message").astype("object"))
    out = pd.DataFrame({
        "timestamp": as_utc(_col(sel, "timestamp", UTC_NS)).array,
        "log_group": _text_column(_col(sel, "log_group")),
        "log_stream": _text_column(_col(sel, "log_stream")),
        "request_id": _text_column(_col(sel, "request_id")),
        "error_type": _text_column(_col(sel, "error_type")),
        "text": pd.array(texts, dtype="string"),
        "message": _text_column(_col(sel, "message")),
        "_error": base[base | report],
    })
    out["timestamp"] = as_utc(out["timestamp"])
    return out


def _text_column(values: pd.Series) -> Any:
    """``values`` as text, in the column type pandas infers from those texts as Python objects (``str``;
    ``object`` when every value is missing), without making the objects (~0.3 s per 100k lines)."""
    text = values.astype("string")
    return text.astype("str").array if text.notna().any() else text.to_numpy()


def error_lines_of(*candidates: pd.DataFrame) -> pd.DataFrame:
    """:func:`error_lines` of the frames whose :func:`error_line_candidates` are given, taken together
    (in that order): ``error_lines_of(error_line_candidates(a), error_line_candidates(b))`` is
    ``error_lines(pd.concat([a, b], ignore_index=True))``.

    Example
    -------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-10T14:00Z"]), "level": ["ERROR"],
    ...                    "error_type": ["KeyError"], "error_message": ["'id'"], "message": ["x"]})
    >>> error_lines_of(error_line_candidates(df), error_line_candidates(None))["text"].tolist()
    ["KeyError: 'id'"]
    """
    held = [c for c in candidates if len(c)]
    if not held:
        return _empty_lines()
    lines = held[0] if len(held) == 1 else pd.concat(held, ignore_index=True)
    error = lines["_error"].to_numpy(dtype=bool)
    if not error.all():  # a report counts when no error line names its request
        rid = lines["request_id"].astype("string")
        named = set(rid[error].dropna())
        keep = error | ~rid.isin(named).fillna(False).to_numpy(dtype=bool) | rid.isna().to_numpy(dtype=bool)
        lines = lines[keep]
        if lines.empty:
            return _empty_lines()
    return lines.drop(columns="_error").sort_values("timestamp", kind="stable", ignore_index=True)


def split_at(lines: pd.DataFrame, onset: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Error lines before ``onset`` and from it on.

    Example
    -------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-10T13:59Z", "2026-03-10T14:01Z"], utc=True)})
    >>> [len(x) for x in split_at(df, "2026-03-10T14:00Z")]
    [1, 1]
    """
    t0 = pd.Timestamp(onset)
    t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0.tz_convert("UTC")
    after = (as_utc(lines["timestamp"]) >= t0).fillna(False).to_numpy(dtype=bool)
    return lines.loc[~after], lines.loc[after]


def _growth_test(k1: np.ndarray, e1: float, k2: np.ndarray, e2: float) -> np.ndarray:
    """One-sided exact test of "the rate in exposure ``e1`` is higher than in ``e2``" per template.

    Conditioned on ``k1 + k2`` lines, ``k1 ~ Binomial(k1 + k2, e1 / (e1 + e2))`` when both
    sides share one rate (the conditional test of two Poisson rates).
    """
    if not (e1 > 0 and e2 > 0):
        return np.full(len(k1), np.nan)
    share = e1 / (e1 + e2)
    return np.array([binom_sf(int(a), int(a + b), share) for a, b in zip(k1, k2)], dtype="float64")


def from_counts(
    rows: Sequence[Mapping[str, Any]] | pd.DataFrame,
    *,
    exposure: float | None,
    baseline_exposure: float | None,
    alpha: float = 0.01,
    source: str = "drain3",
) -> pd.DataFrame:
    """The signature frame from per-template counts on both sides.

    Parameters
    ----------
    rows:
        One per template: ``template, count, baseline_count`` and optionally ``first_seen,
        last_seen, error_type, log_groups, example``.
    exposure, baseline_exposure:
        What the counts are out of on each side: requests (or seconds of window when requests
        are unknown). ``baseline_exposure`` None or 0: no baseline was read, so ``new`` and
        ``grown`` are unknown (NA), not False.
    alpha:
        False-discovery rate for ``grown`` (Benjamini-Hochberg over the templates).

    Returns
    -------
    DataFrame
        :data:`SIGNATURE_COLUMNS`: ``share_of_errors`` (of the incident side's error lines),
        ``new`` (none in the baseline), ``grown`` (rate up beyond chance, q < ``alpha``),
        ``growth`` (rate ratio, the baseline count taken as 0.5 when it is 0), ``p_value`` and
        ``q_value`` of the rate test. New templates first, then grown, then by count.

    Example
    -------
    >>> s = from_counts([{"template": "a <NUM>", "count": 40, "baseline_count": 2},
    ...                  {"template": "b", "count": 5, "baseline_count": 5}], exposure=1000, baseline_exposure=1000)
    >>> s[["template", "grown", "growth"]].values.tolist()
    [['a <NUM>', True, 20.0], ['b', False, 1.0]]
    """
    df = pd.DataFrame(list(rows) if not isinstance(rows, pd.DataFrame) else rows)
    if df.empty:
        return _empty()
    for c in ("first_seen", "last_seen"):
        df[c] = as_utc(df[c]) if c in df.columns else pd.Series(pd.NaT, index=df.index, dtype=UTC_NS)
    for c in ("error_type", "log_groups", "example"):
        if c not in df.columns:
            df[c] = pd.NA
    k1 = df["count"].astype("int64").to_numpy()
    k2 = df["baseline_count"].astype("int64").to_numpy()
    total = k1.sum()
    df["share_of_errors"] = k1 / total if total else np.nan
    known = bool(baseline_exposure) and bool(exposure)
    p = _growth_test(k1, float(exposure or 0), k2, float(baseline_exposure or 0))
    df["p_value"] = p
    df["q_value"] = benjamini_hochberg(p) if known else np.nan
    if known:
        rate1, rate2 = k1 / float(exposure), np.maximum(k2, 0.5) / float(baseline_exposure)
        df["growth"] = rate1 / rate2
        df["new"] = pd.array(k2 == 0, dtype="boolean")
        df["grown"] = pd.array((k2 > 0) & (df["q_value"].to_numpy() < alpha) & (rate1 > rate2), dtype="boolean")
    else:
        df["growth"] = np.nan
        df["new"] = pd.array([pd.NA] * len(df), dtype="boolean")
        df["grown"] = pd.array([pd.NA] * len(df), dtype="boolean")
    df["source"] = source
    df["_order"] = np.where(df["new"].fillna(False), 0, np.where(df["grown"].fillna(False), 1, 2))
    df = df.sort_values(["_order", "count", "template"], ascending=[True, False, True], kind="stable")
    out = df[list(SIGNATURE_COLUMNS)].reset_index(drop=True)
    out["count"] = out["count"].astype("int64")
    out["baseline_count"] = out["baseline_count"].astype("int64")
    return out


def _empty() -> pd.DataFrame:
    dtypes = {"count": "int64", "baseline_count": "int64", "share_of_errors": "float64", "first_seen": UTC_NS,
              "last_seen": UTC_NS, "new": "boolean", "grown": "boolean", "growth": "float64", "p_value": "float64",
              "q_value": "float64"}
    return pd.DataFrame({c: pd.Series([], dtype=dtypes.get(c, "object")) for c in SIGNATURE_COLUMNS})


def _exposure(requests: pd.DataFrame | None, span: tuple[pd.Timestamp, pd.Timestamp] | None) -> float | None:
    """Requests in ``span`` when the requests are known, else its seconds."""
    if span is None:
        return None
    start, end = span
    if requests is not None and len(requests) and "timestamp" in requests.columns:
        t = as_utc(requests["timestamp"])
        n = int(((t >= start) & (t < end)).sum())
        if n:
            return float(n)
    secs = (end - start).total_seconds()
    return secs if secs > 0 else None


def _span(window: Any) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    if window is None:
        return None
    start, end = (window.start, window.end) if hasattr(window, "start") else window
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    return (start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC"),
            end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC"))


def _sides(logs: pd.DataFrame | None, baseline_logs: pd.DataFrame | None, onset: Any, window: Any,
           baseline_window: Any, lines: tuple[pd.DataFrame, pd.DataFrame] | None = None,
           ) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[pd.Timestamp, pd.Timestamp]], list[tuple[pd.Timestamp, pd.Timestamp]]]:
    """Error lines and time spans of the incident side and of the baseline side."""
    inc, base = lines if lines is not None else (error_lines(logs), error_lines(baseline_logs))
    w, bw = _span(window), _span(baseline_window)
    if w is None and logs is not None and len(logs) and "timestamp" in logs.columns:
        t = as_utc(logs["timestamp"]).dropna()
        w = (t.min(), t.max() + pd.Timedelta(milliseconds=1)) if len(t) else None
    if bw is None and baseline_logs is not None and len(baseline_logs) and "timestamp" in baseline_logs.columns:
        t = as_utc(baseline_logs["timestamp"]).dropna()
        bw = (t.min(), t.max() + pd.Timedelta(milliseconds=1)) if len(t) else None
    inc_spans, base_spans = ([w] if w else []), ([bw] if bw and baseline_logs is not None and len(baseline_logs) else [])
    if onset is not None and not pd.isna(onset):
        before, inc = split_at(inc, onset)
        base = pd.concat([base, before], ignore_index=True) if len(before) else base
        t0 = _span((onset, onset))[0]
        if w is not None:
            inc_spans = [(max(t0, w[0]), w[1])]
            if t0 > w[0]:
                base_spans.append((w[0], t0))
    return inc, base, inc_spans, base_spans


def signatures(
    logs: pd.DataFrame | None,
    baseline_logs: pd.DataFrame | None = None,
    *,
    onset: Any = None,
    window: Any = None,
    baseline_window: Any = None,
    requests: pd.DataFrame | None = None,
    baseline_requests: pd.DataFrame | None = None,
    alpha: float = 0.01,
    lines: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Message templates of the error lines, and which are new or grew against the baseline.

    Parameters
    ----------
    logs, baseline_logs:
        Parsed log events (``parsers.parse``) of the incident window and of the baseline window.
    onset:
        When the change began: the lines of ``logs`` before it join the baseline side (and the
        template counts of the incident side start there). Without a baseline frame, this is
        the only comparison.
    window, baseline_window:
        The windows the frames cover (a Window or a ``(start, end)`` pair); default: their span.
    requests, baseline_requests:
        Requests of each side (any tier): rates are lines per request when given, else per
        second.
    alpha:
        False-discovery rate for ``grown``.
    lines:
        ``(error_lines(logs), error_lines(baseline_logs))`` when the caller read them already
        (:func:`error_lines`; an investigation reads them once for the signatures and the findings).

    Returns
    -------
    DataFrame
        :data:`SIGNATURE_COLUMNS`, new templates first (see :func:`from_counts`);
        ``attrs``: ``error_lines`` (incident side), ``baseline_error_lines``, ``exposure``,
        ``baseline_exposure``, ``exposure_unit`` (``requests`` or ``seconds``).
    """
    inc, base, inc_spans, base_spans = _sides(logs, baseline_logs, onset, window, baseline_window, lines)
    lines = pd.concat([inc.assign(_side=1), base.assign(_side=0)], ignore_index=True)
    if lines.empty:
        out = _empty()
        out.attrs.update({"error_lines": 0, "baseline_error_lines": 0})
        return out
    ids, templates = mine(mask_variables(lines["text"].to_numpy(dtype=object)))
    lines["_tid"] = ids
    both_req = pd.concat([r for r in (requests, baseline_requests) if r is not None and len(r)], ignore_index=True) \
        if any(r is not None and len(r) for r in (requests, baseline_requests)) else None
    e1 = sum(x for x in (_exposure(both_req, s) for s in inc_spans) if x)
    e2 = sum(x for x in (_exposure(both_req, s) for s in base_spans) if x)
    unit = "requests" if both_req is not None and len(both_req) else "seconds"
    rows = []
    for tid, grp in lines.groupby("_tid", sort=False):
        mine_side = grp[grp["_side"] == 1]
        if mine_side.empty:
            continue
        kinds = mine_side["error_type"].dropna()
        rows.append({
            "template": templates[int(tid)], "count": len(mine_side), "baseline_count": int((grp["_side"] == 0).sum()),
            "first_seen": mine_side["timestamp"].min(), "last_seen": mine_side["timestamp"].max(),
            "error_type": str(kinds.mode().iat[0]) if len(kinds) else pd.NA,
            "log_groups": ", ".join(sorted(str(g) for g in mine_side["log_group"].dropna().unique())) or pd.NA,
            "example": _example(mine_side["message"].iat[0]),
        })
    out = from_counts(rows, exposure=e1 or None, baseline_exposure=e2 or None, alpha=alpha) if rows else _empty()
    out.attrs.update({"error_lines": int((lines["_side"] == 1).sum()), "baseline_error_lines": int((lines["_side"] == 0).sum()),
                      "exposure": e1, "baseline_exposure": e2, "exposure_unit": unit})
    return out


def window_signatures(
    logs: pd.DataFrame | None,
    baseline_logs: pd.DataFrame | None,
    requests: pd.DataFrame | None = None,
    baseline_requests: pd.DataFrame | None = None,
    *,
    window: Any = None,
    baseline_window: Any = None,
    onset: Any = None,
    lines: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """:func:`signatures` of an investigation's two windows, rates per request counted once.

    ``requests`` / ``baseline_requests`` (``parsers.requests``) hold a row per tier (an API
    Gateway entry and its Lambda invocation); the exposure counts one tier
    (:func:`incidentkit.analyses.impact.counting_tier`), so a line per failed request is a rate
    per request, whatever the stack. What ``Investigation.signatures()`` shows and what the
    ``error-spike`` finding reads. ``lines``: as in :func:`signatures`.

    Example
    -------
    >>> window_signatures(None, None).empty
    True
    """
    frames = [r for r in (baseline_requests, requests) if r is not None and len(r)]
    rows = None
    if frames:
        tier = counting_tier(requests if requests is not None and len(requests) else frames[0])
        rows = pd.concat([counted(f, tier=tier) for f in frames], ignore_index=True)
    return signatures(logs, baseline_logs, onset=onset, window=window, baseline_window=baseline_window, requests=rows,
                      lines=lines)


def _example(message: Any) -> str:
    """A real line of the signature, secrets masked, cut to a readable length."""
    text = "" if message is None or message is pd.NA else str(message)
    text = mask_text(text)
    return text if len(text) <= _MAX_EXAMPLE else text[:_MAX_EXAMPLE] + " …"


def line_templates(lines: pd.DataFrame) -> pd.Series:
    """The template of each error line (:func:`error_lines` rows), mined over the lines given.

    Example
    -------
    >>> df = pd.DataFrame({"text": ["timeout after 3000 ms", "timeout after 2999 ms"]})
    >>> line_templates(df).tolist()
    ['timeout after <NUM> ms', 'timeout after <NUM> ms']
    """
    if lines.empty:
        return pd.Series([], dtype="string", index=lines.index)
    ids, templates = mine(mask_variables(lines["text"].to_numpy(dtype=object)))
    return pd.Series([templates[int(i)] for i in ids], index=lines.index, dtype="string")


def from_patterns(
    patterns: pd.DataFrame,
    *,
    exposure: float | None,
    baseline_exposure: float | None,
    alpha: float = 0.01,
) -> pd.DataFrame:
    """The signature frame from Logs Insights ``pattern`` results of both windows.

    Parameters
    ----------
    patterns:
        :func:`incidentkit.fetch.insights.insights_error_patterns`: ``side`` (``incident`` or
        ``baseline``), ``pattern``, ``count``, ``example``, ``log_groups``. Patterns of the two
        windows are matched on their text with every dynamic token written ``<*>`` (each query
        numbers its tokens itself).
    exposure, baseline_exposure:
        As :func:`from_counts` (Insights reads no request count here: seconds of each window).

    Returns
    -------
    DataFrame
        :data:`SIGNATURE_COLUMNS`; ``first_seen``/``last_seen`` are NaT (the command does not
        return times) and ``source`` is ``insights-pattern``.

    Example
    -------
    >>> p = pd.DataFrame({"side": ["incident", "incident", "baseline"],
    ...                   "pattern": ["Task timed out after <Token-1> seconds", "disk full", "disk full"],
    ...                   "count": [12, 3, 3], "example": [None, None, None], "log_groups": "/aws/lambda/x"})
    >>> s = from_patterns(p, exposure=3600, baseline_exposure=3600)
    >>> s[["template", "count", "new"]].values.tolist()
    [['Task timed out after <*> seconds', 12, True], ['disk full', 3, False]]
    """
    if patterns is None or patterns.empty:
        return _empty()
    df = patterns.copy()
    df["template"] = df["pattern"].astype(str).map(lambda p: DYNAMIC_TOKEN.sub("<*>", p).strip())
    df["count"] = pd.to_numeric(df["count"], errors="coerce").fillna(0).astype("int64")
    rows = []
    for template, grp in df.groupby("template", sort=False):
        inc = grp[grp["side"] == "incident"]
        if inc.empty or int(inc["count"].sum()) == 0:
            continue
        examples = inc["example"].dropna() if "example" in inc.columns else pd.Series([], dtype="object")
        groups = inc["log_groups"].dropna() if "log_groups" in inc.columns else pd.Series([], dtype="object")
        rows.append({"template": template, "count": int(inc["count"].sum()),
                     "baseline_count": int(grp.loc[grp["side"] == "baseline", "count"].sum()),
                     "example": _example(examples.iat[0]) if len(examples) else pd.NA,
                     "log_groups": ", ".join(sorted({str(g) for g in groups})) or pd.NA})
    out = from_counts(rows, exposure=exposure, baseline_exposure=baseline_exposure, alpha=alpha, source="insights-pattern")
    out.attrs.update({"error_lines": int(df.loc[df["side"] == "incident", "count"].sum()),
                      "baseline_error_lines": int(df.loc[df["side"] == "baseline", "count"].sum()),
                      "exposure": exposure, "baseline_exposure": baseline_exposure, "exposure_unit": "seconds"})
    return out
