"""An ECS service for the sample generators: tasks that start and stop in a rolling deploy, requests
spread over the tasks alive, awslogs stream names, and the service's CloudWatch metrics.

A rolling deploy (ECS's default ``minimumHealthyPercent`` 100 / ``maximumPercent`` 200) starts
each new task, waits for it to pass its health checks, then drains one old task: so for a few
minutes both versions serve, and the requests of the new version come from the new tasks'
log streams only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..fetch.metric_query import MetricQuery, make_id
from ._apis import _routes
from ._core import Builder, hexs, per_minute

__all__ = ["Task", "rolling_deploy", "steady_tasks", "assign_tasks", "task_streams", "ecs_service_metrics", "ecs_requests",
           "ecs_parameters"]

_FOREVER = float("inf")


@dataclass(frozen=True)
class Task:
    """One ECS task: its id, the app version it runs, when it serves ``[start, stop)`` (epoch seconds)."""

    task_id: str
    version: str
    start: float
    stop: float


def rolling_deploy(b: Builder, service: str, *, old: tuple[str, int], new: tuple[str, int], start: float,
                   every: float) -> list[Task]:
    """``old[1]`` tasks of version ``old[0]`` replaced one by one by tasks of ``new[0]`` from ``start``, ``every`` seconds."""
    (v_old, n_old), (v_new, n_new) = old, new
    ids = hexs(b.rng, n_old + n_new, 32)
    tasks = []
    for k in range(n_old):
        stop = start + (k + 1) * every + 12.0 if k < n_new else _FOREVER  # drained once its replacement serves
        tasks.append(Task(ids[k], v_old, -_FOREVER, stop))
    for k in range(n_new):
        tasks.append(Task(ids[n_old + k], v_new, start + k * every, _FOREVER))
    return tasks


def steady_tasks(b: Builder, version: str, count: int) -> list[Task]:
    """``count`` tasks serving the whole time."""
    return [Task(tid, version, -_FOREVER, _FOREVER) for tid in hexs(b.rng, count, 32)]


def assign_tasks(b: Builder, t: np.ndarray, tasks: list[Task]) -> np.ndarray:
    """For each request at ``t``, the index of a task serving then (uniformly among those alive; the load balancer's
    round robin)."""
    starts = np.array([x.start for x in tasks])
    stops = np.array([x.stop for x in tasks])
    alive = (t[:, None] >= starts[None, :]) & (t[:, None] < stops[None, :])
    pick = b.rng.random(len(t))[:, None] * alive.sum(axis=1, keepdims=True)
    return np.argmax(np.cumsum(alive, axis=1) > pick, axis=1)


def task_streams(tasks: list[Task], index: np.ndarray, prefix: str, container: str = "app") -> np.ndarray:
    """The awslogs stream of each request's task: ``<prefix>/<container>/<task id>``."""
    names = np.array([f"{prefix}/{container}/{x.task_id}" for x in tasks], dtype=object)
    return names[index]


def ecs_service_metrics(b: Builder, cluster: str, service: str, t: np.ndarray, work_ms: np.ndarray, tasks: list[Task]) -> None:
    """AWS/ECS CPUUtilization and MemoryUtilization of the service (average and maximum over its tasks), from the work done."""
    g = b.grid
    running = np.array([sum(1 for x in tasks if x.start <= m < x.stop) for m in g], dtype=float)
    busy = per_minute(g, t, work_ms / 60000.0, "sum")  # task-minutes of request work in each minute
    cpu = np.clip(6.0 + 100.0 * busy / np.maximum(running, 1) * 0.8 + b.rng.normal(0, 1.2, len(g)), 1, 100)
    mem = np.clip(41.0 + 4.0 * busy / np.maximum(running, 1) + b.rng.normal(0, 0.6, len(g)), 5, 100)
    dims = {"ClusterName": cluster, "ServiceName": service}
    for name, values in (("CPUUtilization", cpu), ("MemoryUtilization", mem)):
        for stat, v in (("Average", values), ("Maximum", np.clip(values * b.rng.uniform(1.05, 1.3, len(g)), 0, 100))):
            query = MetricQuery(id=make_id("ecs", f"{cluster}_{service}", name, stat), namespace="AWS/ECS", metric_name=name,
                                dimensions=dims, stat=stat, period=60, label=f"{service} {name} {stat}", region=b.region)
            b.metric(query, g, np.round(v, 2))


def ecs_requests(b: Builder, routes: list[dict[str, Any]], rate: Callable[[np.ndarray], np.ndarray],
                 tasks: list[Task]) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Requests arriving at ``rate`` (per second, of the second), their routes, the task serving each and its version."""
    t = b.arrivals(rate)
    r = _routes(b, routes, len(t))
    task = assign_tasks(b, t, tasks)
    return t, r, task, np.array([tasks[k].version for k in task], dtype=object)


def ecs_parameters(b: Builder, cluster: str, service: str) -> dict[str, Any]:
    """The triage parameters of an ECS service sample: its awslogs group (``/ecs/<service>``), cluster, service, region."""
    return {"log_groups": [f"/ecs/{service}"], "ecs_cluster": cluster, "ecs_service": service, "region": b.region}
