"""What the checks read: the settings frame (a lookup by resource) and the observed numbers.

Example
-------
>>> import pandas as pd
>>> observed_from_frame(pd.DataFrame({"latency_ms": [100.0, 200.0, 4000.0]}))["max_ms"]
4000.0
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import pandas as pd

from ...errors import ParameterError
from ...schema import resource_type

__all__ = ["observed_from_frame"]


class _Settings:
    """Lookup over a settings frame: ``get(type, id, name)`` → text or None."""

    def __init__(self, settings: Any) -> None:
        df = getattr(settings, "settings", settings)  # a HealthSnapshot works too
        if not isinstance(df, pd.DataFrame):
            raise ParameterError("settings must be a settings DataFrame (schema.SETTING_COLUMNS) or a HealthSnapshot")
        missing = {"resource_type", "resource_id", "setting", "value"} - set(df.columns)
        if missing:
            raise ParameterError(f"settings frame lacks column(s) {sorted(missing)}")
        self.values: dict[tuple[str, str], dict[str, Any]] = {}
        for rtype, rid, name, value in df[["resource_type", "resource_id", "setting", "value"]].itertuples(index=False, name=None):
            v = None if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) else str(value)
            self.values.setdefault((resource_type(str(rtype)), str(rid)), {})[str(name)] = v

    def resources(self, rtype: str) -> list[str]:
        return sorted(rid for (t, rid) in self.values if t == rtype)

    def has(self, rtype: str, rid: str, name: str) -> bool:
        return name in self.values.get((rtype, rid), {})

    def get(self, rtype: str, rid: str, name: str) -> str | None:
        return self.values.get((rtype, rid), {}).get(name)

    def num(self, rtype: str, rid: str, name: str) -> float | None:
        v = self.get(rtype, rid, name)
        try:
            f = float(v) if v is not None else None
        except ValueError:
            return None
        return None if f is None or math.isnan(f) else f


_OBS_ALIASES = {
    "p99_ms": ("p99_ms", "p99_latency_ms", "latency_p99_ms", "p99"),
    "p999_ms": ("p999_ms", "p99.9_ms", "p999_latency_ms", "latency_p999_ms", "p99.9"),
    "max_ms": ("max_ms", "max_latency_ms", "max_duration_ms", "latency_max_ms", "max"),
    "init_p99_ms": ("init_p99_ms", "init_duration_p99_ms", "cold_start_p99_ms"),
    "cold_start_share": ("cold_start_share", "cold_start_rate"),
    "peak_concurrency": ("peak_concurrency", "concurrent_executions_max", "max_concurrency"),
    "throttle_events": ("throttle_events", "throttled_requests"),
    "read_throttle_events": ("read_throttle_events", "ReadThrottleEvents"),
    "write_throttle_events": ("write_throttle_events", "WriteThrottleEvents"),
}


def observed_from_frame(df: pd.DataFrame) -> dict[str, float]:
    """Latency percentiles from a requests/parsed frame (``latency_ms`` or ``duration_ms``)."""
    for col in ("latency_ms", "duration_ms"):
        if col in df.columns:
            s = pd.to_numeric(df[col], errors="coerce").dropna()
            if len(s):
                out = {"p99_ms": float(s.quantile(0.99)), "p999_ms": float(s.quantile(0.999)), "max_ms": float(s.max()),
                       "requests": float(len(s))}
                if "init_duration_ms" in df.columns:
                    init = pd.to_numeric(df["init_duration_ms"], errors="coerce").dropna()
                    if len(init):
                        out["init_p99_ms"] = float(init.quantile(0.99))
                        out["cold_start_share"] = float(len(init) / len(s))
                return out
    raise ParameterError("an observed frame needs a latency_ms or duration_ms column")


def _obs(observed: Any, resource: str | None, key: str) -> float | None:
    """An observed number for ``resource`` (its own entry first, then the global one)."""
    if observed is None:
        return None
    if isinstance(observed, pd.DataFrame):
        observed = observed_from_frame(observed)
    scopes: list[Mapping[str, Any]] = []
    if resource is not None and isinstance(observed.get(resource), (Mapping, pd.DataFrame)):
        own = observed[resource]
        scopes.append(observed_from_frame(own) if isinstance(own, pd.DataFrame) else own)
    scopes.append(observed)
    for scope in scopes:
        for alias in _OBS_ALIASES.get(key, (key,)):
            v = scope.get(alias)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(float(v)):
                return float(v)
    return None


def _fmt_s(seconds: float) -> str:
    return f"{seconds:g} s" if seconds < 10 else f"{seconds:.0f} s"
