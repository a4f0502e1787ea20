"""A small simulation of Lambda execution environments, and the log lines they write.

Cold starts are not drawn at random: they come out of the simulation. Each request is
served by an idle warm environment when one exists; otherwise a new environment starts
(a cold start with an ``Init Duration``), unless the function is at its concurrency limit
(then the request is throttled). Idle environments are reclaimed after a few minutes
(a random time per environment, as Lambda does) and every environment is recycled after a
few hours. So quiet hours make cold starts after idle periods, bursts make many cold starts
at once, and deploys (a new version) start from no warm environment.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from . import _formats as F
from ._core import Builder, hexs, uuid4s

__all__ = ["LambdaFunction", "Invocations", "simulate", "platform_text_lines", "platform_json_lines"]


@dataclass
class LambdaFunction:
    """What the simulation needs to know about a function."""

    name: str
    memory_mb: int = 512
    timeout_s: float = 30.0
    runtime: str = "python:3.12.v38"
    runtime_arn_hash: str = ""
    region: str = "us-east-1"
    reserved_concurrency: int | None = None
    idle_ttl_s: tuple[float, float] = (330.0, 900.0)  # idle environments are reclaimed after this long
    lifetime_s: tuple[float, float] = (2.0 * 3600, 5.0 * 3600)  # environments are recycled after this long
    base_memory_mb: float = 90.0

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"

    @property
    def runtime_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}::runtime:{self.runtime_arn_hash}"


@dataclass
class Invocations:
    """The outcome of :func:`simulate`, one element per request (arrays of equal length)."""

    t: np.ndarray  # arrival, epoch seconds
    request_id: list[str]
    env: np.ndarray  # environment index, -1 when throttled
    cold: np.ndarray  # bool
    init_ms: np.ndarray  # NaN when warm
    duration_ms: np.ndarray  # the handler's Duration (REPORT), NaN when throttled
    timed_out: np.ndarray  # bool
    throttled: np.ndarray  # bool
    version: np.ndarray  # object: function version that served it ("$LATEST", "42", ...)
    reinit: np.ndarray = field(default_factory=lambda: np.array([], dtype=bool))  # re-init after a timeout, inside Duration
    env_stream: list[str] = field(default_factory=list)  # log stream of each environment
    env_start: np.ndarray = field(default_factory=lambda: np.array([]))

    @property
    def start(self) -> np.ndarray:
        """When the handler started (after the init phase on cold starts)."""
        return self.t + np.nan_to_num(self.init_ms) / 1000.0

    @property
    def end(self) -> np.ndarray:
        """When the invocation finished."""
        return self.start + np.nan_to_num(self.duration_ms) / 1000.0

    @property
    def stream(self) -> np.ndarray:
        """The log stream of each request (``None`` when throttled)."""
        s = np.empty(len(self.t), dtype=object)
        ok = self.env >= 0
        streams = np.asarray(self.env_stream, dtype=object)
        s[ok] = streams[self.env[ok]] if len(streams) else None
        return s


def simulate(
    b: Builder,
    fn: LambdaFunction,
    t: np.ndarray,
    handler_ms: np.ndarray,
    *,
    init_ms: Callable[[int], np.ndarray],
    cold_extra_ms: np.ndarray | None = None,
    version: Callable[[float], str] | None = None,
    warm_at_start: int = 2,
    concurrency_limit: int | None = None,
    reinit_after_timeout: bool = True,
) -> Invocations:
    """Run requests arriving at ``t`` through a pool of execution environments.

    Parameters
    ----------
    handler_ms:
        The handler's own time for each request on a warm environment.
    init_ms:
        ``init_ms(n)`` draws ``n`` init durations (ms).
    cold_extra_ms:
        Extra handler time when the request is the first on its environment (lazy
        connections, JIT warm-up).
    version:
        The function version serving at time ``t`` (a deploy switches it; environments of
        the old version are not reused).
    warm_at_start:
        Idle warm environments present at the start of each segment (the function was
        already running before the window).
    concurrency_limit:
        Reserved (or account) concurrency; beyond it requests are throttled.
    reinit_after_timeout:
        After a timeout Lambda resets the environment; the next request on it runs the
        init again *inside* its own Duration (a "suppressed init": no ``Init Duration`` in
        the REPORT line), which under load often times out again.
    """
    rng = b.rng
    n = len(t)
    t = np.asarray(t, dtype=float)
    extra = np.zeros(n) if cold_extra_ms is None else np.asarray(cold_extra_ms, dtype=float)
    inits = init_ms(n)
    ttl_lo, ttl_hi = fn.idle_ttl_s
    life_lo, life_hi = fn.lifetime_s
    limit = concurrency_limit if concurrency_limit is not None else fn.reserved_concurrency
    vfun = version or (lambda _t: "$LATEST")

    env_version: list[str] = []
    env_born: list[float] = []
    env_ttl: list[float] = []
    env_death: list[float] = []
    env_dirty: list[bool] = []
    busy: list[tuple[float, int]] = []  # heap of (free_at, env)
    idle: dict[str, list[tuple[float, int]]] = {}  # version -> stack of (free_at, env)

    def new_env(at: float, ver: str) -> int:
        env_version.append(ver)
        env_born.append(at)
        env_ttl.append(float(rng.uniform(ttl_lo, ttl_hi)))
        env_death.append(at + float(rng.uniform(life_lo, life_hi)))
        env_dirty.append(False)
        return len(env_version) - 1

    out_env = np.full(n, -1, dtype=np.int64)
    out_cold = np.zeros(n, dtype=bool)
    out_init = np.full(n, np.nan)
    out_dur = np.full(n, np.nan)
    out_to = np.zeros(n, dtype=bool)
    out_thr = np.zeros(n, dtype=bool)
    out_ver = np.empty(n, dtype=object)
    out_reinit = np.zeros(n, dtype=bool)
    timeout_ms = fn.timeout_s * 1000.0

    seg_starts = [s.start for s in b.segments]
    next_seg = 0
    for i in range(n):
        ti = t[i]
        while next_seg < len(seg_starts) and seg_starts[next_seg] <= ti:
            v0 = vfun(seg_starts[next_seg])
            for _ in range(warm_at_start):
                e = new_env(seg_starts[next_seg] - float(rng.uniform(600, 3600)), v0)
                idle.setdefault(v0, []).append((seg_starts[next_seg] - float(rng.uniform(1, 60)), e))
            next_seg += 1
        while busy and busy[0][0] <= ti:
            free_at, e = heapq.heappop(busy)
            idle.setdefault(env_version[e], []).append((free_at, e))
        ver = vfun(ti)
        out_ver[i] = ver
        stack = idle.get(ver, [])
        env = -1
        while stack:
            free_at, e = stack.pop()
            if ti - free_at <= env_ttl[e] and ti < env_death[e]:
                env = e
                break
        if stack:  # drop environments Lambda has reclaimed by now
            idle[ver] = [(f, e) for f, e in stack if ti - f <= env_ttl[e] and ti < env_death[e]]
        cold = env < 0
        if cold:
            if limit is not None and len(busy) >= limit:
                out_thr[i] = True
                continue
            env = new_env(ti, ver)
        dur = handler_ms[i] + (extra[i] if cold else 0.0)
        if not cold and env_dirty[env]:
            dur += inits[i] + extra[i]
            out_reinit[i] = True
            env_dirty[env] = False
        if dur >= timeout_ms:
            dur = timeout_ms + float(rng.uniform(2, 60))
            out_to[i] = True
            env_dirty[env] = reinit_after_timeout
        init = inits[i] if cold else 0.0
        out_env[i] = env
        out_cold[i] = cold
        out_init[i] = init if cold else np.nan
        out_dur[i] = dur
        heapq.heappush(busy, (ti + (init + dur) / 1000.0 + 0.002, env))

    ids = uuid4s(rng, n)
    tails = hexs(rng, len(env_version), 32)
    born = np.asarray(env_born)
    days = np.datetime_as_string(np.floor(born).astype("int64").astype("datetime64[s]"), unit="D") if len(born) else []
    streams = [f"{d[:4]}/{d[5:7]}/{d[8:10]}/[{v}]{tail}" for d, v, tail in zip(days, env_version, tails)]
    return Invocations(
        t=t, request_id=ids, env=out_env, cold=out_cold, init_ms=out_init, duration_ms=out_dur,
        timed_out=out_to, throttled=out_thr, version=out_ver, reinit=out_reinit, env_stream=streams, env_start=born,
    )


def max_memory(b: Builder, fn: LambdaFunction, inv: Invocations) -> np.ndarray:
    """Max Memory Used (MB): grows a little over an environment's life, capped by the memory size."""
    n = len(inv.t)
    mem = fn.base_memory_mb + b.rng.gamma(2.0, 4.0, n) + np.where(inv.cold, -6.0, 0.0)
    return np.clip(np.round(mem), 30, fn.memory_mb)


def platform_text_lines(
    b: Builder,
    fn: LambdaFunction,
    inv: Invocations,
    *,
    xray: Sequence[str | None] | None = None,
    with_init_start: bool = True,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``INIT_START`` / ``START`` / ``END`` / ``REPORT`` lines of the served invocations.

    Returns ``(times, streams, messages)`` ready for :meth:`Builder.log`.
    """
    ok = ~inv.throttled
    idx = np.flatnonzero(ok)
    rid = [inv.request_id[i] for i in idx]
    start = inv.start[idx]
    end = inv.end[idx]
    streams = inv.stream[idx]
    vers = inv.version[idx]
    mem = max_memory(b, fn, inv)[idx]
    ts: list[np.ndarray] = []
    ss: list[np.ndarray] = []
    ms: list[list[str]] = []
    if with_init_start:
        cold = np.flatnonzero(inv.cold[idx])
        ts.append(inv.t[idx][cold])
        ss.append(streams[cold])
        ms.append(F.lambda_init_start(len(cold), fn.runtime, fn.runtime_arn))
    ts.append(start)
    ss.append(streams)
    ms.append(F.lambda_start(rid, vers))
    ts.append(end)
    ss.append(streams)
    ms.append(F.lambda_end(rid))
    ts.append(end + 0.0005)
    ss.append(streams)
    xr = [xray[i] for i in idx] if xray is not None else None
    ms.append(F.lambda_report(rid, inv.duration_ms[idx], fn.memory_mb, mem, inv.init_ms[idx], timed_out=inv.timed_out[idx], xray=xr))
    return np.concatenate(ts), np.concatenate(ss), [m for part in ms for m in part]


def platform_json_lines(b: Builder, fn: LambdaFunction, inv: Invocations) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The same invocations as JSON platform records (``LoggingConfig.LogFormat=JSON``)."""
    ok = ~inv.throttled
    idx = np.flatnonzero(ok)
    rid = [inv.request_id[i] for i in idx]
    start = inv.start[idx]
    end = inv.end[idx]
    streams = inv.stream[idx]
    vers = inv.version[idx]
    mem = max_memory(b, fn, inv)[idx]
    dur = inv.duration_ms[idx]
    init = inv.init_ms[idx]
    tos = inv.timed_out[idx]
    cold = np.flatnonzero(inv.cold[idx])
    ts: list[np.ndarray] = []
    ss: list[np.ndarray] = []
    ms: list[str] = []
    t_init = inv.t[idx][cold]
    ts += [t_init, t_init + init[cold] / 1000.0]
    ss += [streams[cold], streams[cold]]
    ms += F.platform_json(
        t_init, "platform.initStart",
        [{"initializationType": "on-demand", "phase": "init", "runtimeVersion": fn.runtime,
          "runtimeVersionArn": fn.runtime_arn, "functionName": fn.name, "functionVersion": str(vers[c])} for c in cold],
    )
    ms += F.platform_json(
        t_init + init[cold] / 1000.0, "platform.initReport",
        [{"initializationType": "on-demand", "phase": "init", "status": "success",
          "metrics": {"durationMs": round(float(init[c]), 3)}} for c in cold],
    )
    ts.append(start)
    ss.append(streams)
    ms += F.platform_json(start, "platform.start", [{"requestId": r, "version": str(v)} for r, v in zip(rid, vers)])
    ts.append(end)
    ss.append(streams)
    ms += F.platform_json(
        end, "platform.runtimeDone",
        [{"requestId": r, "status": "timeout" if to else "success", "metrics": {"durationMs": round(float(d), 3), "producedBytes": 0 if to else 412}}
         for r, d, to in zip(rid, dur, tos)],
    )
    ts.append(end + 0.0005)
    ss.append(streams)
    reports = []
    for k, r in enumerate(rid):
        metrics = {
            "durationMs": round(float(dur[k]), 3),
            "billedDurationMs": int(np.ceil(dur[k] + (0 if init[k] != init[k] else init[k]))),
            "memorySizeMB": fn.memory_mb,
            "maxMemoryUsedMB": int(mem[k]),
        }
        if init[k] == init[k]:
            metrics["initDurationMs"] = round(float(init[k]), 3)
        reports.append({"requestId": r, "metrics": metrics, "status": "timeout" if tos[k] else "success"})
    ms += F.platform_json(end + 0.0005, "platform.report", reports)
    return np.concatenate(ts), np.concatenate(ss), ms
