"""Throttle lines and retry spacing: did a client back off after being throttled?

* :func:`throttle_errors` — the throttle lines in the logs (``ProvisionedThroughputExceededException``,
  ``ThrottlingException``, ``Rate exceeded``, ``TooManyRequests``, ``SlowDown`` ... in the texts the SDKs
  really print), with the error code, operation, attempt and the SDK's own retry count;
* :func:`retry_spacing` / :func:`retry_summary` — for each logical call, the gaps between its attempts.
  Exponential backoff shows gaps that grow (the median ratio of successive gaps is about 2, jitter or
  not); a client without backoff retries again within milliseconds and the gaps do not grow.

:mod:`.throttling` re-exports these names (they lived there before). The finding built on them
(``throttling-without-backoff``) is in :mod:`incidentkit.findings.detectors`.

Example
-------
>>> import pandas as pd
>>> t0 = pd.Timestamp("2026-03-01T03:00:00Z")
>>> logs = pd.DataFrame({
...     "timestamp": [t0 + pd.Timedelta(milliseconds=ms) for ms in (0, 8, 15, 23)],
...     "request_id": ["r1"] * 4, "operation": ["PutItem"] * 4,
...     "message": ["ProvisionedThroughputExceededException: The level of configured "
...                 "provisioned throughput for the table was exceeded."] * 4})
>>> spacing = retry_spacing(logs)
>>> int(spacing.loc[0, "attempts"]), spacing.loc[0, "pattern"]
(4, 'no-backoff')
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ._common import UTC_NS, as_utc, column_or_na, empty_table, first_group, select_rows, text_test, to_float

__all__ = ["TIGHT_GAP_S", "THROTTLE_ERROR_COLUMNS", "RETRY_COLUMNS", "throttle_errors", "throttle_frame", "retry_spacing",
           "retry_spacing_of", "retry_summary"]

#: A retry this soon after the previous attempt had no backoff to speak of: a DynamoDB
#: round trip is 5-20 ms, so two attempts 50 ms apart were sent back to back.
TIGHT_GAP_S = 0.05
#: Median ratio of successive gaps at or above which the gaps grow (exponential backoff
#: doubles the ceiling each attempt; with full jitter the median ratio is still 2).
_GROWING = 1.5
#: Below this the gaps do not grow.
_FLAT = 1.3
#: Added to both gaps of a ratio so that jitter between round-trip-sized gaps reads as flat.
_RATIO_FLOOR_S = 0.01
THROTTLE_ERROR_COLUMNS = (
    "timestamp",
    "log_group",
    "log_stream",
    "request_id",
    "operation",
    "error_code",
    "sdk_retries",  # retries the SDK reports it already made ("reached max retries: 4")
    "attempt",  # attempt number the application logged, when it did
    "level",
    "message",
)
RETRY_COLUMNS = (
    "key",
    "operation",
    "start",
    "end",
    "attempts",
    "gaps",
    "median_gap_s",
    "min_gap_s",
    "max_gap_s",
    "growth",  # median ratio of successive gaps (NaN with fewer than two gaps)
    "gaps_within_50ms",
    "share_within_50ms",
    "interleaved",  # one key holds many calls that cannot be told apart: left out of the summary
    "pattern",  # no-backoff | exponential | fixed-delay | unclear | single
)
# Throttle texts as the SDKs print them (see aws-samples/error_messages.txt): error codes are
# matched case-sensitively ("SlowDown" is a code, "slowdown" is English), phrases are not.
_THROTTLE = re.compile(
    r"ProvisionedThroughputExceeded(?:Exception)?|ThrottlingException|TooManyRequestsException"
    r"|RequestLimitExceeded|LimitExceededException|RequestThrottled(?:Exception)?|ThrottledException"
    r"|\bSlowDown\b|\(Throttling\)|\bThrottling:|error_class=\S*Throttl\w*"
    r"|(?i:rate exceeded|too many requests|please reduce your request rate"
    r"|throughput exceeds the current capacity)"
)
#: Lower-case needles of a throttle text: a literal scan first, the regex only on the lines that hold one.
_THROTTLE_NEEDLES = "|".join(re.escape(n) for n in (
    "throttl", "rate exceeded", "too many requests", "provisionedthroughputexceeded", "slowdown",
    "reduce your request rate", "limitexceeded", "throughput exceeds", "toomanyrequests"))
_ERROR_CODE_IN_TEXT = re.compile(r"An error occurred \(([\w.]+)\)|api error (\w+):|errors::(\w+)", re.IGNORECASE)
_OPERATION_IN_TEXT = re.compile(
    r"when calling the (\w+) operation|operation error [^:,]+:\s*(\w+)|\b(\w+)Command\b"
)
_SDK_RETRIES = re.compile(r"reached max retries:\s*(\d+)|exceeded maximum number of attempts,\s*(\d+)", re.IGNORECASE)
_ATTEMPT_IN_TEXT = re.compile(
    r"(?i)\b(?:attempt|retry)(?:[_ ]?(?:number|no|count))?[\"']?\s*[:=#]?\s*[\"']?(\d+)\b"
)
_ITEM_KEY_IN_TEXT = re.compile(
    r"(?i)\b(?:item[_ ]?key|partition[_ ]?key|pk|key|item|item[_ ]?id|record[_ ]?id|message[_ ]?id)[\"']?\s*[:=]\s*[\"']?([\w\-:#./@]+)"
)
_ATTEMPT_COLUMNS = ("attempt", "attempt_number", "retry_attempt", "retry", "retries", "retry_count")
_ITEM_KEY_COLUMNS = ("item_key", "key", "pk", "partition_key", "item_id", "record_id", "message_id", "idempotency_key")
_CODE_NAMES = {
    "provisionedthroughputexceeded": "ProvisionedThroughputExceededException",
    "provisionedthroughputexceededexception": "ProvisionedThroughputExceededException",
    "throttlingexception": "ThrottlingException",
    "(throttling)": "Throttling",
    "throttling:": "Throttling",
    "toomanyrequestsexception": "TooManyRequestsException",
    "requestlimitexceeded": "RequestLimitExceeded",
    "limitexceededexception": "LimitExceededException",
    "requestthrottled": "RequestThrottled",
    "requestthrottledexception": "RequestThrottledException",
    "throttledexception": "ThrottledException",
    "slowdown": "SlowDown",
    "please reduce your request rate": "SlowDown",
    "too many requests": "TooManyRequests",
    "throughput exceeds the current capacity": "ThrottlingException",
    "rate exceeded": "Rate exceeded",
}


#: The columns a throttle is looked for in, joined by a newline (:func:`_text`).
_TEXT_COLUMNS = ("message", "error_type", "error_message")


def _text(df: pd.DataFrame, *cols: str) -> pd.Series:
    parts = [column_or_na(df, c).astype("string").fillna("") for c in cols]
    out = parts[0]
    for p in parts[1:]:
        out = out + "\n" + p
    return out


def _ns(times: pd.Series) -> np.ndarray:
    """UTC times as int64 nanoseconds since the epoch."""
    return as_utc(times).dt.tz_localize(None).astype("datetime64[ns]").to_numpy().astype("int64")


def _canonical_code(match: Any, text: str) -> str:
    if not isinstance(match, str):
        return "HTTP 429"
    low = match.lower()
    if low.startswith("error_class="):
        return match.rsplit(":", 1)[-1].split("=")[-1]
    if low == "rate exceeded":
        m = _ERROR_CODE_IN_TEXT.search(text)
        if m:
            return next(g for g in m.groups() if g)
    return _CODE_NAMES.get(low, match)


def throttle_errors(logs: pd.DataFrame | None) -> pd.DataFrame:
    """Every log line that reports throttling, with its code, operation and retry counts.

    Matches the texts AWS SDKs print (``ProvisionedThroughputExceededException``,
    ``ThrottlingException``, ``(Throttling) ... Rate exceeded``, ``TooManyRequestsException``,
    ``SlowDown``, ``RequestLimitExceeded``, DynamoDB on-demand's "Throughput exceeds the
    current capacity") in ``message``, ``error_type`` and ``error_message``, and access-log
    rows with status 429. Lines without a timestamp are left out (they cannot be placed in time).

    Parameters
    ----------
    logs:
        Parsed log events (``schema.PARSED_COLUMNS``); extra columns such as ``attempt`` are used.

    Returns
    -------
    pandas.DataFrame
        :data:`THROTTLE_ERROR_COLUMNS`, sorted by time. ``operation`` comes from the column or
        from the text ("when calling the BatchWriteItem operation", Go's "operation error
        DynamoDB: PutItem"); ``sdk_retries`` from "reached max retries: N"; ``attempt`` from
        an ``attempt`` column or "attempt 3" / "retry=2" in the text.

    Example
    -------
    >>> import pandas as pd
    >>> logs = pd.DataFrame({"timestamp": [pd.Timestamp("2026-03-01T03:00Z")], "message": [
    ...     "An error occurred (ThrottlingException) when calling the PutItem operation "
    ...     "(reached max retries: 4): Rate exceeded"]})
    >>> row = throttle_errors(logs).iloc[0]
    >>> row["error_code"], row["operation"], int(row["sdk_retries"])
    ('ThrottlingException', 'PutItem', 4)
    """
    out = throttle_frame(logs)
    return out.sort_values("timestamp", kind="stable", ignore_index=True)[list(THROTTLE_ERROR_COLUMNS)]


def throttle_frame(logs: pd.DataFrame | None) -> pd.DataFrame:
    """Throttle lines in log order, with ``_row`` (the position in ``logs``)."""
    dtypes = {"timestamp": UTC_NS, "sdk_retries": "Int64", "attempt": "Int64", "_row": "int64"}
    if logs is None or logs.empty or "timestamp" not in logs.columns:
        return empty_table(THROTTLE_ERROR_COLUMNS + ("_row",), dtypes)
    logs = logs.reset_index(drop=True)
    timed = as_utc(logs["timestamp"]).notna().to_numpy()  # a line without a time cannot be spaced: left out
    status = pd.to_numeric(column_or_na(logs, "status", "Int64"), errors="coerce")
    # a literal pre-scan (linear) keeps the regex off the lines that cannot match; a needle holds no newline, so each
    # column is scanned as it is and only the lines found are joined (:func:`_text`), not every message of the logs
    columns = [c for c in _TEXT_COLUMNS if c in logs.columns]
    cand = np.zeros(len(logs), dtype=bool)
    for c in columns:
        cand |= text_test(logs[c], lambda t: t.str.lower().str.contains(_THROTTLE_NEEDLES, regex=True))
    found = pd.Series(pd.NA, index=logs.index, dtype="string")
    if cand.any():
        found[cand] = _text(select_rows(logs, cand, columns), *_TEXT_COLUMNS).str.extract(f"({_THROTTLE.pattern})", expand=False)
    hit = (found.notna() | (status == 429)).fillna(False).to_numpy(dtype=bool) & timed
    if not hit.any():
        return empty_table(THROTTLE_ERROR_COLUMNS + ("_row",), dtypes)
    sub = select_rows(logs, hit)  # a filter, not a row take of the message column
    txt = _text(sub, *_TEXT_COLUMNS)
    codes = [_canonical_code(m, t) for m, t in zip(found[hit].tolist(), txt.tolist())]
    op = column_or_na(sub, "operation").astype("string")
    missing = (op.isna() | (op.str.len() == 0)).fillna(True).to_numpy(dtype=bool)
    if missing.any():  # only the lines the parser left without an operation are searched
        from_text = first_group(txt[missing].str.extract(_OPERATION_IN_TEXT.pattern, expand=True)).astype("string")
        op = op.copy()
        op[missing] = from_text.to_numpy()
    lower = txt.str.lower()
    sdk_retries = pd.Series(np.nan, index=txt.index)
    said = lower.str.contains("max retries|maximum number of attempts", regex=True).fillna(False).to_numpy(dtype=bool)
    if said.any():
        retries = txt[said].str.extract(_SDK_RETRIES.pattern, expand=True)
        found_retries = to_float(retries[0]).fillna(to_float(retries[1]) - 1)
        sdk_retries[said] = found_retries.to_numpy()
    out = pd.DataFrame(
        {
            "timestamp": as_utc(sub["timestamp"]).to_numpy(),
            "log_group": column_or_na(sub, "log_group").astype("string").to_numpy(),
            "log_stream": column_or_na(sub, "log_stream").astype("string").to_numpy(),
            "request_id": column_or_na(sub, "request_id").astype("string").to_numpy(),
            "operation": op.to_numpy(),
            "error_code": codes,
            "sdk_retries": sdk_retries.astype("Int64").to_numpy(),
            "attempt": _attempts(sub, txt, lower).to_numpy(),
            "level": column_or_na(sub, "level").astype("string").str.upper().to_numpy(),
            "message": column_or_na(sub, "message").astype("string").to_numpy(),
            "_row": np.flatnonzero(hit),
        }
    )
    out["timestamp"] = as_utc(out["timestamp"])
    for c in ("log_group", "log_stream", "request_id", "operation", "error_code", "level", "message"):
        out[c] = out[c].astype("string")
    out["sdk_retries"] = out["sdk_retries"].astype("Int64")
    out["attempt"] = out["attempt"].astype("Int64")
    return out


def _attempts(sub: pd.DataFrame, txt: pd.Series, lower: pd.Series) -> pd.Series:
    col = next((c for c in _ATTEMPT_COLUMNS if c in sub.columns), None)
    from_text = pd.Series(np.nan, index=txt.index)
    said = lower.str.contains("attempt|retry", regex=True).fillna(False).to_numpy(dtype=bool)
    if said.any():
        from_text[said] = to_float(txt[said].str.extract(_ATTEMPT_IN_TEXT.pattern, expand=False)).to_numpy()
    if col is not None:
        vals = to_float(sub[col])
        from_text = vals.where(vals.notna(), from_text)
    return from_text.round().astype("Int64")


def _item_keys(logs: pd.DataFrame, rows: pd.Index) -> pd.Series:
    col = next((c for c in _ITEM_KEY_COLUMNS if c in logs.columns), None)
    txt = column_or_na(logs.loc[rows], "message").astype("string").fillna("")
    from_text = txt.str.extract(_ITEM_KEY_IN_TEXT.pattern, expand=False).astype("string")
    if col is not None:
        vals = logs.loc[rows, col].astype("string")
        from_text = vals.where(vals.notna(), from_text)
    return from_text.fillna("")


def _sequences(times: np.ndarray, attempts: np.ndarray, max_gap_ns: int) -> list[list[int]]:
    """Split one key's time-sorted attempts into calls.

    With attempt numbers, each row joins the oldest open call whose last attempt is the
    previous number (so interleaved calls 1,1,2,2,3,3 come apart); otherwise a new call
    starts after a pause longer than ``max_gap``.
    """
    seqs: list[list[int]] = []
    if np.all(attempts >= 0):
        open_by_next: dict[int, list[int]] = {}
        for i in range(len(times)):
            a = int(attempts[i])
            waiting = open_by_next.get(a, [])
            chosen = None
            while waiting:
                s = waiting.pop(0)
                if times[i] - times[seqs[s][-1]] <= max_gap_ns:
                    chosen = s
                    break
            if chosen is None:
                seqs.append([i])
                chosen = len(seqs) - 1
            else:
                seqs[chosen].append(i)
            open_by_next.setdefault(a + 1, []).append(chosen)
        return seqs
    current: list[int] = []
    for i in range(len(times)):
        if current and times[i] - times[current[-1]] > max_gap_ns:
            seqs.append(current)
            current = []
        current.append(i)
    if current:
        seqs.append(current)
    return seqs


def _classify(gaps: np.ndarray, growth: float) -> str:
    if len(gaps) == 0:
        return "single"
    med = float(np.median(gaps))
    top = float(gaps.max())
    # every gap at round-trip scale: ratios between 5 ms and 15 ms gaps are noise, not growth
    if med <= TIGHT_GAP_S and (top <= 2 * TIGHT_GAP_S or len(gaps) == 1 or growth < _FLAT):
        return "no-backoff"
    if len(gaps) >= 2 and growth >= _GROWING:
        return "exponential"
    if len(gaps) >= 2 and growth < _FLAT:
        return "fixed-delay"
    return "unclear"


def retry_spacing(
    logs: pd.DataFrame | None,
    *,
    key: str | Sequence[str] | None = None,
    max_gap: str | pd.Timedelta = "2min",
    interleaved_above: int = 30,
) -> pd.DataFrame:
    """Gaps between successive attempts of the same call, one row per call.

    An attempt is a throttle line (:func:`throttle_errors`). Attempts belong to the same
    call when they share the key — by default ``request_id`` + ``operation`` + an item key
    when the logs carry one (an ``item_key``/``pk``/``key`` column or ``key=...`` in the
    text) — and follow each other within ``max_gap``. Logged attempt numbers ("attempt 3")
    split interleaved calls apart.

    Parameters
    ----------
    logs:
        Parsed log events.
    key:
        Column(s) naming one logical call, when the defaults do not fit.
    max_gap:
        A longer pause starts a new call (backoff caps are seconds to tens of seconds).
    interleaved_above:
        Without attempt numbers and item keys, a key with more attempts than this in one
        burst most likely mixes many calls (one invocation writing many items); such rows are
        marked ``interleaved`` and left out of :func:`retry_summary`.

    Returns
    -------
    pandas.DataFrame
        :data:`RETRY_COLUMNS`. ``growth`` is the median ratio of successive gaps
        (``(g[i+1] + 10 ms) / (g[i] + 10 ms)``): about 2 for exponential backoff, about 1
        without. ``pattern`` is ``no-backoff`` (median gap ≤ 50 ms and no gap beyond 100 ms,
        or not growing),
        ``exponential`` (growth ≥ 1.5), ``fixed-delay`` (flat but spaced), ``unclear`` or
        ``single`` (one attempt).

    Example
    -------
    >>> import pandas as pd
    >>> t0 = pd.Timestamp("2026-03-01T03:00:00Z")
    >>> logs = pd.DataFrame({"timestamp": [t0 + pd.Timedelta(seconds=s) for s in (0, 0.1, 0.3, 0.7, 1.5)],
    ...     "request_id": "r1", "message": "ThrottlingException: Rate exceeded"})
    >>> row = retry_spacing(logs).iloc[0]
    >>> row["pattern"], round(float(row["growth"]), 1)
    ('exponential', 2.0)
    """
    return retry_spacing_of(logs, throttle_frame(logs), key=key, max_gap=max_gap, interleaved_above=interleaved_above)


def retry_spacing_of(logs: pd.DataFrame | None, errs: pd.DataFrame, *, key: str | Sequence[str] | None = None,
                   max_gap: str | pd.Timedelta = "2min", interleaved_above: int = 30) -> pd.DataFrame:
    empty = empty_table(RETRY_COLUMNS, {"start": UTC_NS, "end": UTC_NS, "attempts": "int64", "gaps": "int64", "interleaved": "bool"})
    if errs.empty:
        return empty
    assert logs is not None
    logs = logs.reset_index(drop=True)
    errs = errs.sort_values("timestamp", kind="stable", ignore_index=True)
    rows_in_logs = errs["_row"].to_numpy()
    if key is not None:
        cols = [key] if isinstance(key, str) else list(key)
        missing = [c for c in cols if c not in logs.columns]
        if missing:
            raise ValueError(f"key column(s) {missing} not in the logs; columns are {list(logs.columns)}")
        parts = [logs[c].astype("string").fillna("").to_numpy()[rows_in_logs] for c in cols]
        has_item_key = True
    else:
        item = _item_keys(logs, logs.index[rows_in_logs]).to_numpy()
        parts = [errs["request_id"].fillna("").to_numpy(), errs["operation"].fillna("").to_numpy(), item]
        has_item_key = bool((item != "").any())
    keys = pd.Series(["|".join(map(str, v)) for v in zip(*parts)], dtype="object")
    if (keys.str.replace("|", "", regex=False) == "").all():
        return empty  # nothing ties one line to another
    times = _ns(errs["timestamp"])
    attempts = errs["attempt"].fillna(-1).astype("int64").to_numpy()
    max_gap_ns = int(pd.Timedelta(max_gap).value)
    rows = []
    for k, idx in keys.groupby(keys, sort=False).groups.items():
        if str(k).replace("|", "") == "":
            continue
        idx = np.asarray(idx)
        t, a = times[idx], attempts[idx]
        numbered = bool(np.all(a >= 0))
        for seq in _sequences(t, a, max_gap_ns):
            ts = t[seq]
            gaps = np.diff(ts) / 1e9
            if len(gaps) >= 2:
                ratios = (gaps[1:] + _RATIO_FLOOR_S) / (gaps[:-1] + _RATIO_FLOOR_S)
                growth = float(np.median(ratios))
            else:
                growth = float("nan")
            within = int((gaps <= TIGHT_GAP_S).sum())
            rows.append(
                {
                    "key": str(k),
                    "operation": errs["operation"].iloc[idx[seq[0]]],
                    "start": pd.Timestamp(int(ts[0]), tz="UTC"),
                    "end": pd.Timestamp(int(ts[-1]), tz="UTC"),
                    "attempts": len(seq),
                    "gaps": len(gaps),
                    "median_gap_s": float(np.median(gaps)) if len(gaps) else float("nan"),
                    "min_gap_s": float(gaps.min()) if len(gaps) else float("nan"),
                    "max_gap_s": float(gaps.max()) if len(gaps) else float("nan"),
                    "growth": growth,
                    "gaps_within_50ms": within,
                    "share_within_50ms": within / len(gaps) if len(gaps) else float("nan"),
                    "interleaved": bool(not numbered and not has_item_key and key is None and len(seq) > interleaved_above),
                    "pattern": _classify(gaps, growth),
                }
            )
    if not rows:
        return empty
    out = pd.DataFrame(rows, columns=list(RETRY_COLUMNS))
    out["start"] = as_utc(out["start"])
    out["end"] = as_utc(out["end"])
    out["operation"] = out["operation"].astype("string")
    return out.sort_values("start", kind="stable", ignore_index=True)


def retry_summary(spacing: pd.DataFrame, *, min_calls: int = 5, min_gaps: int = 10) -> dict[str, Any]:
    """Pool the calls of :func:`retry_spacing` into one verdict on backoff.

    Parameters
    ----------
    spacing:
        The frame :func:`retry_spacing` returns.
    min_calls, min_gaps:
        Below this many retried calls or gaps the verdict is ``insufficient``: a handful of
        gaps cannot tell a tight loop from the 5 % of full-jitter delays that fall under 50 ms.

    Returns
    -------
    dict
        ``calls`` (retried calls), ``gaps``, ``median_gap_s``, ``share_within_50ms`` (pooled over
        gaps), ``median_growth`` (over calls with two gaps or more), ``share_no_backoff`` and
        ``share_exponential`` (over calls), ``interleaved`` (calls left out) and ``verdict``:
        ``no-backoff`` (≥ 50 % of gaps within 50 ms and no growth), ``backoff`` (growth ≥ 1.5
        or most calls exponential), ``fixed-delay`` (spaced but flat), ``mixed`` or
        ``insufficient``.

    Example
    -------
    >>> import pandas as pd
    >>> retry_summary(pd.DataFrame(columns=list(RETRY_COLUMNS)))["verdict"]
    'insufficient'
    """
    out: dict[str, Any] = {
        "calls": 0, "gaps": 0, "median_gap_s": float("nan"), "share_within_50ms": float("nan"),
        "median_growth": float("nan"), "share_no_backoff": float("nan"), "share_exponential": float("nan"),
        "interleaved": 0, "verdict": "insufficient",
    }
    if spacing is None or spacing.empty:
        return out
    inter = spacing["interleaved"].astype(bool)
    out["interleaved"] = int((inter & (spacing["attempts"] > 1)).sum())
    s = spacing.loc[~inter & (spacing["gaps"] > 0)]
    if s.empty:
        return out
    gaps = int(s["gaps"].sum())
    out["calls"] = int(len(s))
    out["gaps"] = gaps
    # pooled median gap: weight each call's median by its gap count (close enough for a verdict)
    out["median_gap_s"] = float(np.median(np.repeat(s["median_gap_s"].to_numpy(), s["gaps"].to_numpy())))
    out["share_within_50ms"] = float(s["gaps_within_50ms"].sum() / gaps)
    g = s["growth"].dropna()
    out["median_growth"] = float(g.median()) if len(g) else float("nan")
    out["share_no_backoff"] = float((s["pattern"] == "no-backoff").mean())
    out["share_exponential"] = float((s["pattern"] == "exponential").mean())
    if len(s) < min_calls or gaps < min_gaps:
        return out
    growth = out["median_growth"]
    flat = math.isnan(growth) or growth < _FLAT
    if out["share_within_50ms"] >= 0.5 and flat:
        out["verdict"] = "no-backoff"
    elif (not math.isnan(growth) and growth >= _GROWING) or out["share_exponential"] >= 0.5:
        out["verdict"] = "backoff"
    elif flat and out["median_gap_s"] > TIGHT_GAP_S:
        out["verdict"] = "fixed-delay"
    else:
        out["verdict"] = "mixed"
    return out
