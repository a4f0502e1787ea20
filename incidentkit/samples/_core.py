"""The toolkit the sample generators share: random ids, traffic, per-minute metrics, frames.

A generator builds one :class:`~incidentkit.samples.Sample` with a :class:`Builder`: it draws
traffic with :meth:`Builder.arrivals`, renders log lines with :mod:`._formats`, adds log
events (:meth:`Builder.log`), metric datapoints aggregated from the same simulated requests
(:meth:`Builder.metric_series`), CloudTrail records (:meth:`Builder.cloudtrail`, turned into
the change timeline by :func:`incidentkit.fetch.changes.parse_cloudtrail_records`, exactly as the
kit reads a trail) and describe-call settings (:meth:`Builder.settings`).

Times inside the generators are float epoch **seconds** (numpy ``float64``); frames get
``datetime64[ns, UTC]`` at the end. Everything random comes from one
``numpy.random.Generator`` seeded with ``(seed, crc32(name))``: the same name and seed give
the same sample, byte for byte.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import schema
from ..fetch.changes import parse_cloudtrail_records
from ..window import Window

__all__ = [
    "ACCOUNT",
    "Builder",
    "Segment",
    "uuid4s",
    "hexs",
    "b64ids",
    "xray_ids",
    "ip_pool",
    "pick",
    "lognormal",
    "drawer",
    "minute_grid",
    "per_minute",
    "concurrency_per_minute",
    "TARGET_HEALTH_COLUMNS",
    "ROUTE53_CHECKER_COLUMNS",
    "ECS_EVENT_COLUMNS",
    "role_identity",
    "user_identity",
    "finish",
    "window",
    "trail_log",
]

#: The account every sample lives in (the placeholder AWS's own documentation uses).
ACCOUNT = "123456789012"

#: Columns of ``health["target_health"]``: one row per observed target state (DescribeTargetHealth).
TARGET_HEALTH_COLUMNS = (
    "timestamp", "target_group_arn", "target_id", "port", "availability_zone", "state", "reason", "description",
)
#: Columns of ``health["route53_checkers"]``: GetHealthCheckStatus observations, one per checker and poll
#: (names as in :data:`incidentkit.fetch.health.FRAME_COLUMNS`; ``timestamp`` = ``checked_at``).
ROUTE53_CHECKER_COLUMNS = ("timestamp", "health_check_id", "region", "checker_ip", "checked_at", "status", "healthy")
#: Columns of ``health["ecs_events"]``: DescribeServices ``events`` (as :mod:`incidentkit.fetch.health` names them).
ECS_EVENT_COLUMNS = ("timestamp", "cluster", "service", "message")

_NS = 1_000_000_000


@dataclass(frozen=True)
class Segment:
    """One stretch of simulated time, ``[start, end)`` in epoch seconds, and its role."""

    start: float
    end: float
    phase: str  # "baseline" or "incident"

    @property
    def seconds(self) -> float:
        return self.end - self.start


def _epoch(ts: pd.Timestamp) -> float:
    return ts.value / _NS


def window(start: str, end: str) -> Window:
    """A fixed window from two ISO times."""
    return Window(pd.Timestamp(start).tz_convert("UTC"), pd.Timestamp(end).tz_convert("UTC"))


# --------------------------------------------------------------------------------------------
# random ids
# --------------------------------------------------------------------------------------------


def _hex_rows(rng: np.random.Generator, n: int, nbytes: int) -> list[str]:
    if n == 0:
        return []
    raw = rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8).tobytes().hex()
    w = 2 * nbytes
    return [raw[i * w : (i + 1) * w] for i in range(n)]


def uuid4s(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` random RFC 4122 version-4 UUIDs (what Lambda uses for request ids)."""
    if n == 0:
        return []
    b = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80
    raw = b.tobytes().hex()
    out = []
    for i in range(n):
        h = raw[i * 32 : (i + 1) * 32]
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def hexs(rng: np.random.Generator, n: int, length: int) -> list[str]:
    """``n`` random lower-case hex strings of ``length`` characters."""
    rows = _hex_rows(rng, n, (length + 1) // 2)
    return [r[:length] for r in rows]


_B64 = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"))


def b64ids(rng: np.random.Generator, n: int) -> list[str]:
    """API Gateway-style ids (``JT4BDGQ2IAMFfWA=``): 15 base64 characters and ``=``."""
    if n == 0:
        return []
    chars = _B64[rng.integers(0, 64, size=(n, 15))]
    return ["".join(row) + "=" for row in chars]


def xray_ids(rng: np.random.Generator, t: np.ndarray) -> list[str]:
    """X-Ray trace ids ``1-<epoch hex>-<24 hex>`` for requests starting at ``t`` (seconds)."""
    tails = hexs(rng, len(t), 24)
    return [f"1-{int(x):08x}-{tail}" for x, tail in zip(t, tails)]


def ip_pool(rng: np.random.Generator, n: int, *, private: bool = False) -> np.ndarray:
    """``n`` distinct-looking IPv4 addresses (public unless ``private``)."""
    if private:
        a = np.full(n, 10)
        b = rng.integers(0, 4, n)
        c = rng.integers(0, 256, n)
        d = rng.integers(2, 255, n)
    else:
        firsts = np.array([3, 18, 31, 37, 46, 62, 73, 81, 86, 91, 98, 104, 109, 146, 152, 176, 185, 188, 203, 212])
        a = firsts[rng.integers(0, len(firsts), n)]
        b = rng.integers(0, 256, n)
        c = rng.integers(0, 256, n)
        d = rng.integers(1, 255, n)
    return np.array([f"{w}.{x}.{y}.{z}" for w, x, y, z in zip(a, b, c, d)], dtype=object)


def pick(rng: np.random.Generator, values: Sequence[Any], weights: Sequence[float] | None, n: int) -> np.ndarray:
    """``n`` draws from ``values`` with ``weights`` (normalised), as an object array."""
    vals = np.empty(len(values), dtype=object)
    vals[:] = list(values)
    if weights is None:
        return vals[rng.integers(0, len(values), n)]
    p = np.asarray(weights, dtype=float)
    return vals[rng.choice(len(values), size=n, p=p / p.sum())]


def lognormal(rng: np.random.Generator, median: float | np.ndarray, sigma: float | np.ndarray, n: int) -> np.ndarray:
    """Log-normal draws with the given median (latencies are log-normal-ish)."""
    return np.asarray(median, dtype=float) * np.exp(np.asarray(sigma, dtype=float) * rng.standard_normal(n))


def drawer(draw: Callable[[int], np.ndarray], chunk: int = 4096) -> Callable[[], float]:
    """A function returning one value at a time from ``draw(chunk)`` batches (for event-by-event simulations)."""
    buf = draw(chunk).tolist()
    pos = 0

    def one() -> float:
        nonlocal buf, pos
        if pos >= len(buf):
            buf, pos = draw(chunk).tolist(), 0
        pos += 1
        return buf[pos - 1]

    return one


# --------------------------------------------------------------------------------------------
# per-minute aggregation (what CloudWatch does with period=60)
# --------------------------------------------------------------------------------------------


def minute_grid(segments: Sequence[Segment]) -> np.ndarray:
    """Start of every whole minute inside the segments (epoch seconds)."""
    parts = [np.arange(np.ceil(s.start / 60) * 60, s.end, 60.0) for s in segments]
    return np.concatenate(parts) if parts else np.array([], dtype=float)


def per_minute(
    grid: np.ndarray, t: np.ndarray, values: np.ndarray | None = None, how: str = "count"
) -> np.ndarray:
    """Aggregate samples at times ``t`` into the minutes of ``grid`` (``NaN`` where undefined).

    ``how``: ``count``, ``sum``, ``avg``, ``max``, ``min`` or ``pNN`` (nearest-rank percentile).
    Samples outside every minute of the grid are ignored.
    """
    n = len(grid)
    out_nan = np.full(n, np.nan)
    if n == 0:
        return out_nan
    t = np.asarray(t, dtype=float)
    idx = np.searchsorted(grid, t, side="right") - 1
    ok = (idx >= 0) & (t < grid[np.clip(idx, 0, n - 1)] + 60)
    idx = idx[ok]
    counts = np.bincount(idx, minlength=n).astype(float)
    if how == "count":
        return counts
    v = np.asarray(values, dtype=float)[ok]
    if how == "sum":
        return np.bincount(idx, weights=v, minlength=n)
    if how == "avg":
        s = np.bincount(idx, weights=v, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, s / np.maximum(counts, 1), np.nan)
    if how in ("max", "min"):
        out = np.full(n, -np.inf if how == "max" else np.inf)
        (np.maximum if how == "max" else np.minimum).at(out, idx, v)
        out[counts == 0] = np.nan
        return out
    if how.startswith("p"):
        q = float(how[1:]) / 100.0
        order = np.lexsort((v, idx))
        sv = v[order]
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int)
        rank = np.ceil(q * counts).astype(int) - 1
        pos = starts + np.clip(rank, 0, None)
        out = out_nan.copy()
        has = counts > 0
        out[has] = sv[pos[has]]
        return out
    raise ValueError(f"unknown aggregation {how!r}")


def concurrency_per_minute(grid: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Maximum number of overlapping ``[start, end)`` intervals within each minute of ``grid``."""
    n = len(grid)
    if n == 0:
        return np.array([])
    times = np.concatenate([start, end, grid])
    delta = np.concatenate([np.ones(len(start)), -np.ones(len(end)), np.zeros(n)])
    order = np.lexsort((delta, times))  # ends (-1) before starts (+1) at the same instant
    level = np.cumsum(delta[order])
    t_sorted = times[order]
    # the level at each minute boundary, and the max of the level over events inside the minute
    idx = np.searchsorted(grid, t_sorted, side="right") - 1
    ok = idx >= 0
    out = np.zeros(n)
    np.maximum.at(out, idx[ok], level[ok])
    return out


# --------------------------------------------------------------------------------------------
# the builder
# --------------------------------------------------------------------------------------------


class Builder:
    """Collects the evidence of one sample while a generator simulates it.

    Parameters
    ----------
    name:
        The sample's name (part of the random seed).
    seed:
        The user's seed.
    scale:
        Multiplies traffic volume (rates); the story's shape is kept.
    window, baseline:
        Incident and comparison windows.
    region:
        Default AWS region of the resources.
    """

    def __init__(self, name: str, seed: int, scale: float, window: Window, baseline: Window, *, region: str = "us-east-1"):
        self.name = name
        self.rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(name.encode())])
        #: draws that must not depend on the seed: the ids of the resources named in the parameters
        self.fixed = np.random.default_rng(zlib.crc32(name.encode()))
        self.scale = float(scale)
        self.window = window
        self.baseline = baseline
        self.region = region
        segs = sorted(
            [Segment(_epoch(baseline.start), _epoch(baseline.end), "baseline"), Segment(_epoch(window.start), _epoch(window.end), "incident")],
            key=lambda s: s.start,
        )
        self.segments: list[Segment] = segs
        self.grid = minute_grid(segs)
        self._logs: list[tuple[str, Any, np.ndarray, list[str], np.ndarray | None]] = []
        self._metrics: list[pd.DataFrame] = []
        self._trail: list[dict[str, Any]] = []
        self._settings: list[tuple[float, str, str, str, str]] = []
        self.health: dict[str, pd.DataFrame] = {}

    # ---- time --------------------------------------------------------------------------

    @property
    def t_window(self) -> tuple[float, float]:
        return _epoch(self.window.start), _epoch(self.window.end)

    @property
    def t_baseline(self) -> tuple[float, float]:
        return _epoch(self.baseline.start), _epoch(self.baseline.end)

    @staticmethod
    def at(text: str) -> float:
        """Epoch seconds of an ISO time with a zone (``"2026-03-10T02:47:12Z"``)."""
        return pd.Timestamp(text).tz_convert("UTC").value / _NS

    def in_segments(self, t: np.ndarray) -> np.ndarray:
        """Boolean mask: which times fall inside the baseline or the incident window."""
        t = np.asarray(t, dtype=float)
        mask = np.zeros(len(t), dtype=bool)
        for s in self.segments:
            mask |= (t >= s.start) & (t < s.end)
        return mask

    def arrivals(self, rate: Callable[[np.ndarray], np.ndarray], *, step: float = 1.0, scaled: bool = True) -> np.ndarray:
        """Poisson arrival times (sorted epoch seconds) over the segments.

        ``rate(t)`` gives requests per second at the epoch seconds ``t`` (a grid of
        ``step`` seconds); it is multiplied by ``scale`` unless ``scaled=False``.
        """
        out = []
        for s in self.segments:
            grid = np.arange(s.start, s.end, step)
            lam = np.clip(np.broadcast_to(np.asarray(rate(grid), dtype=float), grid.shape), 0, None) * step * (self.scale if scaled else 1.0)
            counts = self.rng.poisson(lam)
            t = np.repeat(grid, counts) + self.rng.random(int(counts.sum())) * step
            out.append(t[t < s.end])
        t = np.concatenate(out) if out else np.array([])
        t.sort()
        return t

    def count(self, n: float) -> int:
        """A count scaled by ``scale`` (at least 1 when ``n`` > 0)."""
        return max(1, int(round(n * self.scale))) if n > 0 else 0

    # ---- logs --------------------------------------------------------------------------

    def log(
        self,
        group: str,
        stream: str | Sequence[str] | np.ndarray,
        t: np.ndarray | Sequence[float],
        messages: Sequence[str],
        *,
        ingest_delay: np.ndarray | None = None,
    ) -> None:
        """Add raw log events (``t`` in epoch seconds, one message each)."""
        t = np.asarray(t, dtype=float)
        if len(t) != len(messages):
            raise ValueError(f"{group}: {len(t)} times for {len(messages)} messages")
        if not isinstance(stream, str) and len(stream) != len(t):
            raise ValueError(f"{group}: {len(stream)} streams for {len(t)} events")
        self._logs.append((group, stream, t, list(messages), ingest_delay))

    # ---- metrics -----------------------------------------------------------------------

    def metric(self, query: Any, t: np.ndarray, values: np.ndarray, *, drop_zero: bool = False) -> None:
        """Add datapoints of one metric query (a :class:`incidentkit.fetch.metrics.MetricQuery`).

        NaN values are dropped (no datapoint, as CloudWatch returns none for a period
        without data); ``drop_zero`` also drops zeros (metrics CloudWatch only publishes
        when non-zero, such as ALB ``HTTPCode_*`` counts).
        """
        t = np.asarray(t, dtype=float)
        v = np.asarray(values, dtype=float)
        keep = ~np.isnan(v)
        if drop_zero:
            keep &= v != 0
        t, v = t[keep], v[keep]
        if len(t) == 0:
            return
        n = len(t)
        self._metrics.append(
            pd.DataFrame(
                {
                    "timestamp": (t * _NS).astype("int64"),
                    "query_id": np.full(n, query.id, dtype=object),
                    "label": np.full(n, query.label, dtype=object),
                    "namespace": np.full(n, query.namespace, dtype=object),
                    "metric_name": np.full(n, query.metric_name, dtype=object),
                    "dimensions": np.full(n, query.dimensions_json, dtype=object),
                    "stat": np.full(n, query.stat, dtype=object),
                    "period": np.full(n, 60, dtype="int64"),
                    "value": v,
                }
            )
        )

    def metric_series(
        self,
        queries: Iterable[Any],
        series: Mapping[tuple[str, str], np.ndarray],
        *,
        drop_zero: Iterable[str] = (),
    ) -> None:
        """Add per-minute series (on :attr:`grid`) for each query whose ``(metric, stat)`` is in ``series``."""
        zero = set(drop_zero)
        for q in queries:
            key = (q.metric_name, q.stat)
            if key in series:
                self.metric(q, self.grid, series[key], drop_zero=q.metric_name in zero)

    # ---- changes -----------------------------------------------------------------------

    def cloudtrail(
        self,
        t: float,
        source: str,
        name: str,
        *,
        identity: Mapping[str, Any],
        request: Mapping[str, Any] | None,
        response: Mapping[str, Any] | None = None,
        user_agent: str,
        source_ip: str,
        error_code: str | None = None,
        error_message: str | None = None,
        region: str | None = None,
        resources: Sequence[Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Add one CloudTrail management write event, shaped as CloudTrail records it."""
        when = pd.Timestamp(int(t * _NS), tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
        record: dict[str, Any] = {
            "eventVersion": "1.09",
            "userIdentity": dict(identity),
            "eventTime": when,
            "eventSource": source,
            "eventName": name,
            "awsRegion": region or self.region,
            "sourceIPAddress": source_ip,
            "userAgent": user_agent,
        }
        if error_code:
            record["errorCode"] = error_code
            record["errorMessage"] = error_message or ""
        record["requestParameters"] = dict(request) if request is not None else None
        record["responseElements"] = dict(response) if response is not None else None
        record["requestID"] = uuid4s(self.rng, 1)[0]
        record["eventID"] = uuid4s(self.rng, 1)[0]
        record["readOnly"] = False
        if resources:
            record["resources"] = [dict(r) for r in resources]
        record["eventType"] = "AwsApiCall"
        record["managementEvent"] = True
        record["recipientAccountId"] = ACCOUNT
        record["eventCategory"] = "Management"
        self._trail.append(record)
        return record

    @property
    def trail(self) -> list[dict[str, Any]]:
        """The CloudTrail records added so far, in time order."""
        return sorted(self._trail, key=lambda r: r["eventTime"])

    # ---- settings / health --------------------------------------------------------------

    def settings(self, resource_type: str, resource_id: str, values: Mapping[str, Any], *, t: float | None = None) -> None:
        """Add describe-call settings of one resource (values stored as text, JSON for lists/dicts)."""
        when = t if t is not None else _epoch(self.window.end)
        for key, value in values.items():
            if isinstance(value, (dict, list)):
                text = json.dumps(value, separators=(",", ":"))
            elif isinstance(value, bool):
                text = "true" if value else "false"
            else:
                text = str(value)
            self._settings.append((when, resource_type, resource_id, key, text))

    def health_frame(self, name: str, columns: Sequence[str], rows: list[dict[str, Any]]) -> None:
        """Add one health-snapshot frame (``timestamp`` in epoch seconds in ``rows``)."""
        df = pd.DataFrame(rows, columns=list(columns))
        for c in columns:
            if c in ("timestamp", "checked_at"):
                secs = df[c].astype(float).to_numpy() if len(df) else np.array([], dtype=float)
                df[c] = pd.Series(pd.to_datetime((secs * _NS).astype("int64"), utc=True), dtype=schema.UTC_NS)
            elif c == "port":
                df[c] = df[c].astype("Int64")
            elif c == "healthy":
                df[c] = df[c].astype("boolean")
            else:
                df[c] = df[c].astype("string")
        self.health[name] = df.sort_values("timestamp", kind="stable", ignore_index=True)

    # ---- frames ------------------------------------------------------------------------

    def events_frame(self) -> pd.DataFrame:
        """All log events inside the baseline or incident window, sorted by time."""
        if not self._logs:
            return schema.empty_frame("events")
        groups, streams, ts, msgs, delays = [], [], [], [], []
        for group, stream, t, messages, delay in self._logs:
            n = len(t)
            groups.append(np.full(n, group, dtype=object))
            if isinstance(stream, str):
                streams.append(np.full(n, stream, dtype=object))
            else:
                streams.append(np.asarray(stream, dtype=object))
            ts.append(t)
            m = np.empty(n, dtype=object)
            m[:] = messages
            msgs.append(m)
            d = delay if delay is not None else 0.15 + self.rng.gamma(2.0, 0.35, n)
            delays.append(np.asarray(d, dtype=float))
        t = np.concatenate(ts)
        keep = self.in_segments(t)
        g = np.concatenate(groups)[keep]
        s = np.concatenate(streams)[keep]
        m = np.concatenate(msgs)[keep]
        d = np.concatenate(delays)[keep]
        t = t[keep]
        ms = np.floor(t * 1000).astype("int64")
        ing = ms + np.maximum(1, (d * 1000)).astype("int64")
        order = np.lexsort((s, g, ms))
        ms, ing, g, s, m = ms[order], ing[order], g[order], s[order], m[order]
        n = len(ms)
        # CloudWatch Logs event ids: opaque 56-digit strings
        hi = self.rng.integers(10**17, 10**18, n)
        lo = self.rng.integers(10**17, 10**18, n)
        ids = [f"{a:019d}{b:018d}{c:019d}" for a, b, c in zip((ms * 1000 + (np.arange(n) % 1000)).tolist(), hi.tolist(), lo.tolist())]
        df = pd.DataFrame(
            {
                "timestamp": pd.to_datetime(ms, unit="ms", utc=True),
                "ingestion_time": pd.to_datetime(ing, unit="ms", utc=True),
                "log_group": g,
                "log_stream": s,
                "event_id": ids,
                "message": m,
            }
        )
        return schema.conform(df, "events", extra=False)

    def metrics_frame(self) -> pd.DataFrame:
        """All metric datapoints, sorted by query and time."""
        if not self._metrics:
            return schema.empty_frame("metrics")
        df = pd.concat(self._metrics, ignore_index=True)
        df["timestamp"] = pd.to_datetime(df["timestamp"], unit="ns", utc=True)
        keep = self.in_segments(df["timestamp"].to_numpy(dtype="datetime64[ns]").astype("int64") / _NS)
        df = df[keep]
        df = df.sort_values(["query_id", "timestamp"], kind="stable", ignore_index=True)
        return schema.conform(df, "metrics", extra=False)

    def changes_frame(self) -> pd.DataFrame:
        """The change timeline, read from the CloudTrail records the way the kit reads a trail."""
        df = parse_cloudtrail_records(self.trail)
        df = df.reset_index(drop=True)
        df.attrs = {}
        return schema.conform(df, "changes", extra=False)

    def settings_frame(self) -> pd.DataFrame:
        """The settings rows."""
        if not self._settings:
            return schema.empty_frame("settings").astype({"value": "string"})
        t, rt, rid, key, val = zip(*self._settings)
        # built directly: settings values are text (schema.DTYPES types "value" as the float of
        # the metrics frame, which cannot hold "nodejs20.x")
        return pd.DataFrame(
            {
                "timestamp": pd.Series(pd.to_datetime((np.asarray(t) * _NS).astype("int64"), utc=True), dtype=schema.UTC_NS),
                "resource_type": pd.Series(rt, dtype="string"),
                "resource_id": pd.Series(rid, dtype="string"),
                "setting": pd.Series(key, dtype="string"),
                "value": pd.Series(val, dtype="string"),
            }
        )


# --------------------------------------------------------------------------------------------
# CloudTrail identities, and the finished sample
# --------------------------------------------------------------------------------------------


def _key_id(rng: np.random.Generator, prefix: str) -> str:
    chars = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))
    return prefix + "".join(chars[rng.integers(0, len(chars), 16)])


def role_identity(
    b: Builder, role: str, session: str, *, invoked_by: str | None = None, mfa: bool = False, when: float | None = None
) -> dict[str, Any]:
    """``userIdentity`` of an assumed role (SSO user, CI role, service role)."""
    role_id = "AROA" + _key_id(b.rng, "")[:17]
    created = pd.Timestamp(int(((when or b.t_window[0]) - 900) * _NS), tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    ident: dict[str, Any] = {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": _key_id(b.rng, "ASIA"),
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}" if not role.startswith("AWSReservedSSO") else
                f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/{role}",
                "accountId": ACCOUNT,
                "userName": role,
            },
            "attributes": {"creationDate": created, "mfaAuthenticated": "true" if mfa else "false"},
        },
    }
    if invoked_by:
        ident["invokedBy"] = invoked_by
    return ident


def user_identity(b: Builder, user: str) -> dict[str, Any]:
    """``userIdentity`` of an IAM user with long-term access keys (a script, a person)."""
    return {
        "type": "IAMUser",
        "principalId": "AIDA" + _key_id(b.rng, "")[:17],
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}",
        "accountId": ACCOUNT,
        "accessKeyId": _key_id(b.rng, "AKIA"),
        "userName": user,
    }


#: User agents seen in CloudTrail for the usual ways of making a change.
UA_CLI = "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0-1022-aws md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#{command}"
UA_CONSOLE = "AWS Internal"
UA_BOTO3 = "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.219-208.866.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.144"
UA_TERRAFORM = "APN/1.0 HashiCorp/1.0 Terraform/1.8.5 (+https://www.terraform.io) terraform-provider-aws/5.58.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.1 os/linux lang/go#1.22.4 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.168.0"


@dataclass(repr=False)
class Sample:
    """The evidence of one sample incident (or healthy window).

    Attributes
    ----------
    name:
        ``"cold-start-tail"``, ``"version-skew-errors"``, ..., ``"healthy-lambda-api"``. Incident
        samples are named by their finding id, except incident 9 (``"aggressive-health-checks"``);
        samples of causes beyond the catalogue by their cause (``"oom-after-deploy"``).
    finding_id:
        The finding the kit must rank first; ``None`` for a healthy window.
    incident:
        Its number in incidents.md (``None`` for a healthy window and for a cause beyond the catalogue).
    title, description:
        The story: what was seen, and what it really was.
    window, baseline:
        The incident window and a comparison window of the same length before it.
    parameters:
        The triage template parameters a user would pass (``log_groups``, ``function_name``,
        ``load_balancer``, ...), only those that apply.
    events:
        Raw log events (:data:`~incidentkit.schema.EVENT_COLUMNS`) of both windows.
    metrics:
        Metric datapoints (:data:`~incidentkit.schema.METRIC_COLUMNS`) of both windows.
    changes:
        The change timeline (:data:`~incidentkit.schema.CHANGE_COLUMNS`).
    settings:
        Configuration as describe calls return it (:data:`~incidentkit.schema.SETTING_COLUMNS`).
    health:
        Health-snapshot frames by name (see :data:`incidentkit.samples.HEALTH_FRAMES`); may be empty.
    history:
        A longer, coarser metric history before the baseline (the week of 5-minute datapoints
        :meth:`incidentkit.Investigation.metric_history` reads), when the story needs days to show
        (a daily job); None otherwise.
    """

    name: str
    finding_id: str | None
    incident: int | None
    title: str
    description: str
    window: Window
    baseline: Window
    parameters: dict
    events: pd.DataFrame
    metrics: pd.DataFrame
    changes: pd.DataFrame
    settings: pd.DataFrame
    health: dict[str, pd.DataFrame] = field(default_factory=dict)
    history: pd.DataFrame | None = None
    #: Logs the sample keeps where AWS writes them: gzip objects of ``s3_bucket`` by key (AWS key layout).
    s3_objects: dict[str, bytes] | None = None
    s3_bucket: str | None = None

    @property
    def healthy(self) -> bool:
        """True for a calibration negative (no finding expected)."""
        return self.finding_id is None

    def __repr__(self) -> str:
        kind = (f"incident {self.incident}, finding {self.finding_id!r}" if self.incident
                else f"beyond the catalogue, finding {self.finding_id!r}" if self.finding_id else "healthy")
        return (
            f"Sample({self.name!r}, {kind}, window {self.window}, "
            f"{len(self.events)} events in {self.events['log_group'].nunique()} log groups, "
            f"{len(self.metrics)} datapoints, {len(self.changes)} changes, {len(self.settings)} settings)"
        )


def finish(
    b: Builder,
    *,
    finding_id: str | None,
    incident: int | None,
    title: str,
    description: str,
    parameters: dict[str, Any],
    history: pd.DataFrame | None = None,
) -> Any:
    """Turn a builder into a :class:`~incidentkit.samples.Sample`."""
    return Sample(
        name=b.name,
        finding_id=finding_id,
        incident=incident,
        title=title,
        description=" ".join(description.split()),
        window=b.window,
        baseline=b.baseline,
        parameters=parameters,
        events=b.events_frame(),
        metrics=b.metrics_frame(),
        changes=b.changes_frame(),
        settings=b.settings_frame(),
        health=dict(b.health),
        history=history,
    )


# --------------------------------------------------------------------------------------------
# a trail delivered to CloudWatch Logs (reads included)
# --------------------------------------------------------------------------------------------

_READS = (
    # (event source, event name, role, session, user agent, request parameters)
    ("ec2.amazonaws.com", "DescribeInstances", "DatadogIntegrationRole", "datadog-aws-integration", "Datadog/1.0 aws-sdk-go/1.55.5 (go1.22.5; linux; amd64)", {"filterSet": {}, "maxResults": 1000}),
    ("ec2.amazonaws.com", "DescribeSecurityGroups", "DatadogIntegrationRole", "datadog-aws-integration", "Datadog/1.0 aws-sdk-go/1.55.5 (go1.22.5; linux; amd64)", {"securityGroupSet": {}, "filterSet": {}}),
    ("monitoring.amazonaws.com", "DescribeAlarms", "grafana-cloudwatch-reader", "grafana", "aws-sdk-go/1.54.19 (go1.22.5; linux; amd64) Grafana/11.1.0", {"maxRecords": 100}),
    ("kms.amazonaws.com", "Decrypt", "app-task-role", "ecs-task", "aws-sdk-java/2.25.60 Linux/5.10.219-208.866.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 md/internal exec-env/AWS_ECS_FARGATE", {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
    ("sts.amazonaws.com", "AssumeRole", "ci-runner", "jenkins-agent-7", "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0-1022-aws md/arch#x86_64 lang/python#3.11.9", {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/deploy", "roleSessionName": "jenkins", "durationSeconds": 3600}),
    ("ssm.amazonaws.com", "GetParameters", "app-task-role", "ecs-task", "aws-sdk-java/2.25.60 Linux/5.10.219-208.866.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11", {"names": ["/prod/app/feature-flags"], "withDecryption": True}),
)


def trail_log(b: Builder, group: str, *, read_rate: float) -> None:
    """Write the sample's CloudTrail records to a log group, with read-only events around them.

    A trail delivered to CloudWatch Logs holds every management event - mostly reads by
    monitoring tools and applications - one JSON record per event, about five minutes late.
    """
    import orjson

    rng = b.rng
    t = b.arrivals(lambda s: read_rate)
    kinds = rng.integers(0, len(_READS), len(t))
    idents = {k: role_identity(b, r[2], r[3]) for k, r in enumerate(_READS)}
    records = []
    for ti, k in zip(t.tolist(), kinds.tolist()):
        src, name, _role, _sess, ua, req = _READS[k]
        records.append({
            "eventVersion": "1.09", "userIdentity": idents[k],
            "eventTime": pd.Timestamp(int(ti * _NS), tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": src, "eventName": name, "awsRegion": b.region,
            "sourceIPAddress": "54.80.12.34" if k < 2 else "10.20.11.31", "userAgent": ua,
            "requestParameters": req, "responseElements": None, "requestID": None, "eventID": None,
            "readOnly": True, "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCOUNT,
            "eventCategory": "Management",
        })
    ids = uuid4s(rng, 2 * len(records))
    for j, rec in enumerate(records):
        rec["requestID"], rec["eventID"] = ids[2 * j], ids[2 * j + 1]
    writes = b.trail
    w_t = np.array([pd.Timestamp(r["eventTime"]).value / _NS for r in writes]) + rng.uniform(0, 0.9, len(writes))
    all_t = np.concatenate([t, w_t])
    msgs = [orjson.dumps(r).decode() for r in records + writes]
    b.log(group, f"{ACCOUNT}_CloudTrail_{b.region}", all_t, msgs, ingest_delay=rng.uniform(180, 600, len(all_t)))
