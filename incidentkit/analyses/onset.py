"""Onset: when each series left its baseline, and which changes came just before.

:func:`onset` uses a robust run-length rule, no heavy dependency: each point is
standardised against the baseline's median and MAD (a robust z-score), and the onset is
the first point of the first run of ``min_run`` consecutive points beyond ``threshold``
in the same direction. Medians and MADs ignore the occasional spike that would fool a
mean/standard-deviation rule, and the run length ignores isolated blips.

:func:`preceding_changes` lists the changes of the timeline (``schema.CHANGE_COLUMNS``)
shortly before an onset, nearest first.

Example
-------
>>> import pandas as pd
>>> t = pd.date_range("2026-03-01T03:00Z", periods=12, freq="1min")
>>> s = pd.Series([10, 11, 9, 10, 10, 11, 9, 10, 40, 42, 41, 43], index=t, name="5xx")
>>> r = onset(s, baseline=t[8]).iloc[0]
>>> r["series"], r["onset"].strftime("%H:%M"), float(r["baseline_level"]), float(r["incident_level"])
('5xx', '03:08', 10.0, 41.5)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ._common import UTC_NS, as_utc, normalize_stat, to_timedelta

__all__ = ["onset", "preceding_changes", "robust_scale", "CLASS_PRIORITY"]

#: Order of change classes on ties: what most often causes an incident first.
CLASS_PRIORITY: tuple[str, ...] = ("DEPLOYMENT", "SECURITY_CHANGE", "CONFIG_CHANGE", "IAM", "SCALING", "OTHER")

_COLUMNS = [
    "series", "onset", "end", "direction", "baseline_level", "baseline_scale", "incident_level",
    "magnitude", "peak", "peak_time", "points", "n_baseline", "n_tested", "note",
]
_MIN_BASELINE = 5


def robust_scale(values: Sequence[float] | np.ndarray, *, fallback: float | None = None) -> float:
    """A robust standard deviation: 1.4826 x MAD; 1.2533 x mean absolute deviation when
    the MAD is 0; then ``fallback``; 0.0 when the values are constant and no fallback.

    Example
    -------
    >>> robust_scale([10, 11, 9, 10, 10, 11, 9, 10, 300])
    1.4826
    """
    x = np.asarray(values, dtype="float64")
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return float("nan")
    med = np.median(x)
    mad = 1.4826 * np.median(np.abs(x - med))
    if mad > 0:
        return float(mad)
    mean_ad = 1.2533 * np.mean(np.abs(x - med))
    if mean_ad > 0:
        return float(mean_ad)
    return float(fallback) if fallback else 0.0


def _series_name(parts: Sequence[Any]) -> str:
    return " ".join(str(p) for p in parts if p is not None and not (isinstance(p, float) and np.isnan(p)) and str(p) not in ("", "{}", "<NA>"))


def _long(data: Any, *, value: str, time: str, series: str | Sequence[str] | None) -> pd.DataFrame:
    """Any accepted input as a long frame ``series, timestamp, value``."""
    if isinstance(data, pd.Series):
        name = str(data.name) if data.name is not None else "value"
        return pd.DataFrame({"series": name, "timestamp": as_utc(pd.Series(data.index)).to_numpy(),
                             "value": pd.to_numeric(data, errors="coerce").to_numpy(dtype="float64")})
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"onset() takes a Series, a metrics frame or a frame with {time!r}/{value!r} columns, not {type(data).__name__}")
    if data.empty:
        return pd.DataFrame({"series": pd.Series([], dtype="object"), "timestamp": pd.Series([], dtype=UTC_NS),
                             "value": pd.Series([], dtype="float64")})
    if time in data.columns and value in data.columns:
        if series is not None:
            keys = [series] if isinstance(series, str) else list(series)
            name = data[keys].astype("object").apply(lambda r: _series_name(list(r)), axis=1) if len(data) else pd.Series([], dtype="object")
        elif "metric_name" in data.columns:
            stat = data["stat"].map(normalize_stat) if "stat" in data.columns else None
            parts = [data.get("namespace"), data["metric_name"], stat, data.get("dimensions")]
            frame = pd.concat([p.astype("object").rename(i) for i, p in enumerate(parts) if p is not None], axis=1)
            name = frame.apply(lambda r: _series_name(list(r)), axis=1)
        else:
            name = pd.Series(value, index=data.index)
        return pd.DataFrame({"series": name.to_numpy(), "timestamp": as_utc(data[time]).to_numpy(),
                             "value": pd.to_numeric(data[value], errors="coerce").to_numpy(dtype="float64")})
    if isinstance(data.index, pd.DatetimeIndex):
        num = data.select_dtypes("number")
        frames = [
            pd.DataFrame({"series": str(c), "timestamp": as_utc(pd.Series(num.index)).to_numpy(),
                          "value": num[c].to_numpy(dtype="float64")})
            for c in num.columns
        ]
        return pd.concat(frames, ignore_index=True) if frames else _long(pd.DataFrame(), value=value, time=time, series=None)
    raise ValueError(f"onset(): the frame has no {time!r}/{value!r} columns and no DatetimeIndex")


def _bounds(spec: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    if spec is None:
        return None, None
    if hasattr(spec, "start") and hasattr(spec, "end"):
        return pd.Timestamp(spec.start), pd.Timestamp(spec.end)
    if isinstance(spec, tuple) and len(spec) == 2:
        a, b = (as_utc(pd.Series([x])).iloc[0] if x is not None else None for x in spec)
        return a, b
    return None, as_utc(pd.Series([spec])).iloc[0]


def _first_run(flags: np.ndarray, min_run: int, start: int = 0) -> int | None:
    run = 0
    for i in range(start, len(flags)):
        run = run + 1 if flags[i] else 0
        if run >= min_run:
            return i - min_run + 1
    return None


def onset(
    data: pd.Series | pd.DataFrame,
    *,
    baseline: Any = None,
    window: Any = None,
    threshold: float = 4.0,
    min_run: int = 3,
    direction: str = "both",
    min_scale: float | None = None,
    value: str = "value",
    time: str = "timestamp",
    series: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """When each series departed from its baseline (robust z-score run-length rule).

    Parameters
    ----------
    data:
        A Series with a DatetimeIndex; a long metrics frame (``schema.METRIC_COLUMNS``:
        one series per namespace + metric + statistic + dimensions); a frame with
        ``time``/``value`` columns (split by ``series`` columns when given); or a wide
        frame with a DatetimeIndex (one series per numeric column).
    baseline:
        What "normal" is: a :class:`~incidentkit.window.Window` or ``(start, end)`` (points
        inside it; points after its end are tested); a time (points before it; points from
        it on are tested); a Series or frame of baseline values (matched by series name,
        or applied to every series for a Series); or ``None``: the points before
        ``window.start`` when a ``window`` is given, else the first third of each series.
    window:
        The incident window; only points inside it are tested.
    threshold:
        Robust z beyond which a point has departed (4 ≈ a 1-in-15,000 event for Gaussian noise).
    min_run:
        Consecutive departed points needed (isolated spikes are ignored).
    direction:
        ``up``, ``down`` or ``both`` (the earlier departure wins).
    min_scale:
        A floor for the baseline scale in the series' units (e.g. 0.5 % for an error
        rate): departures smaller than ``threshold x min_scale`` are not reported. Without
        it, a flat baseline (MAD 0) falls back to the mean absolute deviation, then to 5 %
        of the baseline level, then 5 % of the largest excursion.

    Returns
    -------
    DataFrame
        One row per series: ``series, onset, end`` (last departed point of the first
        excursion), ``direction, baseline_level`` (median), ``baseline_scale`` (robust SD),
        ``incident_level`` (median from onset to end), ``magnitude`` (its robust z),
        ``peak, peak_time, points`` (departed points in the excursion), ``n_baseline,
        n_tested, note`` (why there is no onset, when there is none). Sorted by onset.

    Example
    -------
    >>> t = pd.date_range("2026-03-01T03:00Z", periods=10, freq="1min")
    >>> s = pd.Series([5.0] * 6 + [50.0, 52.0, 51.0, 5.0], index=t, name="errors")
    >>> out = onset(s, baseline=(t[0], t[5]), min_run=2)
    >>> out.loc[0, "onset"].strftime("%H:%M"), out.loc[0, "end"].strftime("%H:%M"), out.loc[0, "direction"]
    ('03:06', '03:08', 'up')
    """
    if direction not in ("up", "down", "both"):
        raise ValueError(f"direction {direction!r} must be 'up', 'down' or 'both'")
    if min_run < 1:
        raise ValueError("min_run must be >= 1")
    long = _long(data, value=value, time=time, series=series)
    base_long = None
    if isinstance(baseline, (pd.Series, pd.DataFrame)):
        base_long = _long(baseline, value=value, time=time, series=series)
    b_start, b_end = (None, None) if base_long is not None else _bounds(baseline)
    w_start, w_end = _bounds(window)
    rows = []
    for name, grp in long.dropna(subset=["timestamp"]).groupby("series", sort=True):
        grp = grp.sort_values("timestamp", kind="stable")
        t = grp["timestamp"]
        x = grp["value"].to_numpy(dtype="float64")
        valid = ~np.isnan(x)
        base_vals, tested = _baseline_and_tested(name, t, x, valid, baseline=baseline, base_long=base_long,
                                                 b_start=b_start, b_end=b_end, w_start=w_start)
        if w_start is not None:
            tested = tested & ((t >= w_start) & (t < w_end)).to_numpy()
        tested = tested & valid
        rows.append(_series_onset(name, base_vals, x[tested], t.to_numpy()[tested], threshold=threshold, min_run=min_run,
                                  direction=direction, min_scale=min_scale))
    return _result(rows)


def _baseline_and_tested(
    name: Any,
    t: pd.Series,
    x: np.ndarray,
    valid: np.ndarray,
    *,
    baseline: Any,
    base_long: pd.DataFrame | None,
    b_start: pd.Timestamp | None,
    b_end: pd.Timestamp | None,
    w_start: pd.Timestamp | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The baseline values of one series and the mask of its points to test (before the incident window applies)."""
    if base_long is not None:
        b = base_long[base_long["series"] == name]
        if b.empty and isinstance(baseline, pd.Series):
            b = base_long
        return b["value"].dropna().to_numpy(), np.ones(len(x), dtype=bool)
    if baseline is not None:
        in_base = np.ones(len(x), dtype=bool)
        if b_start is not None:
            in_base &= (t >= b_start).to_numpy()
        in_base &= (t < b_end).to_numpy()
        return x[in_base & valid], np.array((t >= b_end).to_numpy(), dtype=bool)
    if w_start is not None:
        return x[(t < w_start).to_numpy() & valid], np.array((t >= w_start).to_numpy(), dtype=bool)
    k = max(_MIN_BASELINE, int(valid.sum()) // 3)
    idx = np.flatnonzero(valid)[:k]
    tested = np.zeros(len(x), dtype=bool)
    if len(idx):
        tested[idx[-1] + 1:] = True
    return x[idx], tested


def _series_onset(
    name: Any,
    base_vals: np.ndarray,
    tx: np.ndarray,
    tt: np.ndarray,
    *,
    threshold: float,
    min_run: int,
    direction: str,
    min_scale: float | None,
) -> dict[str, Any]:
    """The result row of one series from its baseline values and its tested values ``tx`` at times ``tt``."""
    row: dict[str, Any] = {"series": name, "n_baseline": len(base_vals), "n_tested": len(tx)}
    if len(base_vals) < _MIN_BASELINE:
        row["note"] = f"baseline has {len(base_vals)} points (needs {_MIN_BASELINE})"
        return row
    level = float(np.median(base_vals))
    scale = _baseline_scale(base_vals, level, tx, min_scale)
    row.update({"baseline_level": level, "baseline_scale": scale})
    if row["n_tested"] < min_run:
        row["note"] = f"{row['n_tested']} points to test (needs {min_run})"
        return row
    if scale == 0.0:
        row["note"] = "constant series"
        return row
    z = (tx - level) / scale
    found = _departure(z, threshold=threshold, min_run=min_run, direction=direction)
    if found is None:
        row["note"] = f"no run of {min_run} points beyond {threshold:g} robust SD"
        return row
    row.update(_excursion(*found, tx, tt, level=level, scale=scale, min_run=min_run))
    return row


def _baseline_scale(base_vals: np.ndarray, level: float, tx: np.ndarray, min_scale: float | None) -> float:
    """The baseline's robust SD; for a flat baseline 5 % of its level, then 5 % of the largest excursion; at least ``min_scale``."""
    scale = robust_scale(base_vals)
    if scale == 0.0:
        scale = 0.05 * abs(level) if level != 0 else 0.0
    if scale == 0.0 and len(tx):
        scale = 0.05 * float(np.max(np.abs(tx - level)))
    if min_scale is not None:
        scale = max(scale, float(min_scale))
    return scale


def _departure(z: np.ndarray, *, threshold: float, min_run: int, direction: str) -> tuple[int, str, np.ndarray] | None:
    """``(first point, direction, beyond)`` of the earliest run of ``min_run`` robust z beyond ``threshold``; None without one."""
    found = []
    if direction in ("up", "both"):
        i = _first_run(z >= threshold, min_run)
        if i is not None:
            found.append((i, "up", z >= threshold))
    if direction in ("down", "both"):
        i = _first_run(z <= -threshold, min_run)
        if i is not None:
            found.append((i, "down", z <= -threshold))
    if not found:
        return None
    return min(found, key=lambda f: f[0])


def _excursion(i: int, way: str, beyond: np.ndarray, tx: np.ndarray, tt: np.ndarray, *, level: float, scale: float,
               min_run: int) -> dict[str, Any]:
    """The excursion departing at point ``i``: its end, incident level, magnitude, peak and departed points."""
    # The excursion ends before the first run of `min_run` points back within threshold.
    back = _first_run(~beyond, min_run, start=i)
    stop = len(tx) if back is None else back
    last = i + int(np.flatnonzero(beyond[i:stop])[-1])
    seg = tx[i:last + 1]
    peak_i = i + int(np.argmax(seg) if way == "up" else np.argmin(seg))
    inc = float(np.median(seg))
    return {
        "onset": tt[i],
        "end": tt[last],
        "direction": way,
        "incident_level": inc,
        "magnitude": (inc - level) / scale,
        "peak": float(tx[peak_i]),
        "peak_time": tt[peak_i],
        "points": int(beyond[i:last + 1].sum()),
        "note": "",
    }


def _result(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows as the typed result frame (:data:`_COLUMNS`), sorted by onset."""
    out = pd.DataFrame(rows, columns=_COLUMNS)
    for c in ("onset", "end", "peak_time"):
        out[c] = pd.to_datetime(out[c], utc=True).astype(UTC_NS)
    for c in ("baseline_level", "baseline_scale", "incident_level", "magnitude", "peak"):
        out[c] = out[c].astype("float64")
    for c in ("points", "n_baseline", "n_tested"):
        out[c] = out[c].fillna(0).astype("int64")
    out["series"] = out["series"].astype("object")
    out["direction"] = out["direction"].astype("object")
    out["note"] = out["note"].fillna("").astype("object")
    return out.sort_values(["onset", "series"], na_position="last", kind="stable").reset_index(drop=True)


def _class_rank(cls: Any) -> int:
    text = str(cls).upper() if cls is not None and not pd.isna(cls) else "OTHER"
    for i, name in enumerate(CLASS_PRIORITY):
        if text == name or (text.startswith(name.split("_")[0]) and name != "OTHER"):
            return i
    return len(CLASS_PRIORITY)


def preceding_changes(
    onset_time: Any,
    changes: pd.DataFrame | None,
    *,
    within: str | pd.Timedelta = "2h",
    slack: str | pd.Timedelta = "0s",
    classes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The changes in ``[onset - within, onset + slack]``, nearest first.

    Parameters
    ----------
    onset_time:
        When the signal started (any time form pandas reads; naive means UTC).
    changes:
        The change timeline (``schema.CHANGE_COLUMNS``).
    within:
        How far back to look.
    slack:
        Also keep changes this long *after* the onset: an onset found on binned data
        is only known to the bin (pass the bin width).
    classes:
        Keep only these classes (``DEPLOYMENT``, ``SECURITY_CHANGE``, ``CONFIG_CHANGE``...;
        ``SECURITY``/``CONFIG`` match their ``_CHANGE`` forms).

    Returns
    -------
    DataFrame
        The change columns plus ``lead_s`` (seconds from the change to the onset; negative
        within the slack) and ``rank`` (1 = most likely). Ranked by lead in whole minutes,
        then class (DEPLOYMENT, SECURITY_CHANGE, CONFIG_CHANGE, IAM, SCALING, OTHER),
        then exact lead.

    Example
    -------
    >>> ch = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T02:58:20Z", "2026-03-01T02:58:40Z",
    ...                                                 "2026-03-01T01:00:00Z"]),
    ...                    "event_name": ["PutParameter", "UpdateFunctionCode", "CreateDeployment"],
    ...                    "class": ["CONFIG_CHANGE", "DEPLOYMENT", "DEPLOYMENT"]})
    >>> preceding_changes("2026-03-01T03:00:00Z", ch, within="30min")[["rank", "event_name", "lead_s"]].values.tolist()
    [[1, 'UpdateFunctionCode', 80.0], [2, 'PutParameter', 100.0]]
    """
    base_cols = ["timestamp", "source", "event_name", "class", "actor", "resource", "error_code", "detail"]
    extra = [] if changes is None else [c for c in changes.columns if c not in base_cols]
    columns = [*base_cols, *extra, "lead_s", "rank"]
    empty = pd.DataFrame({c: pd.Series([], dtype=UTC_NS if c == "timestamp" else ("float64" if c == "lead_s" else ("int64" if c == "rank" else "object"))) for c in columns})
    if changes is None or changes.empty or "timestamp" not in changes.columns or onset_time is None or pd.isna(onset_time):
        return empty
    t0 = as_utc(pd.Series([onset_time])).iloc[0]
    back, ahead = to_timedelta(within), pd.Timedelta(slack)
    df = changes.copy()
    for c in base_cols:
        if c not in df.columns:
            df[c] = pd.NA
    df["timestamp"] = as_utc(df["timestamp"])
    df = df[((df["timestamp"] >= t0 - back) & (df["timestamp"] <= t0 + ahead)).to_numpy()]
    if classes is not None:
        wanted = {_class_rank(c) for c in classes}
        df = df[df["class"].map(_class_rank).isin(wanted).to_numpy()]
    if df.empty:
        return empty
    df["lead_s"] = (t0 - df["timestamp"]).dt.total_seconds()
    df["_minute"] = np.floor(df["lead_s"].abs() / 60.0)
    df["_cls"] = df["class"].map(_class_rank)
    df["_abs"] = df["lead_s"].abs()
    df = df.sort_values(["_minute", "_cls", "_abs"], kind="stable")
    df["rank"] = np.arange(1, len(df) + 1, dtype="int64")
    return df[columns].reset_index(drop=True)
