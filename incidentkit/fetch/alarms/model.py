"""What the kit knows of an alarm: the metrics it watches, the alarm, the transition into ALARM, what was derived from it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

from ..._util.fmt import iso as _iso
from ...window import Window, parse_time

_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):cloudwatch:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):alarm:(?P<name>.+)$")


@dataclass(frozen=True)
class AlarmMetric:
    """One metric an alarm watches."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str | None = None
    period: int | None = None

    @property
    def dims(self) -> dict[str, str]:
        return dict(self.dimensions)


@dataclass
class Alarm:
    """What the kit needs to know about an alarm."""

    name: str
    arn: str | None = None
    region: str | None = None
    account: str | None = None
    kind: str = "metric"  # metric | math | composite
    metrics: list[AlarmMetric] = field(default_factory=list)
    expression: str | None = None
    rule: str | None = None  # composite alarm rule
    children: list["Alarm"] = field(default_factory=list)
    period: int | None = None
    evaluation_periods: int | None = None
    datapoints_to_alarm: int | None = None
    state: str | None = None
    state_timestamp: pd.Timestamp | None = None

    @property
    def evaluation_span(self) -> pd.Timedelta:
        """How far back the alarm looked when it fired (period × evaluation periods)."""
        period = self.period or max((m.period or 60 for m in self.metrics), default=60)
        periods = self.evaluation_periods or 1
        span = pd.Timedelta(seconds=period * periods)
        for child in self.children:
            span = max(span, child.evaluation_span)
        return span


@dataclass
class AlarmTrigger:
    """An alarm and the transition into ALARM that started the investigation."""

    alarm: Alarm
    transition_time: pd.Timestamp
    previous_state: str | None = None
    previous_time: pd.Timestamp | None = None
    triggering_children: list[str] = field(default_factory=list)
    source: str = "event"  # event | history

    @property
    def key(self) -> str:
        """Idempotency key: the same transition delivered twice gives the same key."""
        return idempotency_key(self.alarm.arn or self.alarm.name, self.transition_time)


@dataclass
class Derivation:
    """What was derived from an alarm, and from what."""

    window: Window
    baseline: Window
    parameters: dict[str, Any]
    sources: dict[str, str]
    trigger: AlarmTrigger
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.trigger.key

    def to_dict(self) -> dict[str, Any]:
        """JSON-able record for the run manifest."""
        return {
            "alarm": self.trigger.alarm.name,
            "alarm_arn": self.trigger.alarm.arn,
            "alarm_kind": self.trigger.alarm.kind,
            "transition_time": _iso(self.trigger.transition_time),
            "idempotency_key": self.key,
            "window": self.window.to_dict(),
            "baseline": self.baseline.to_dict(),
            "parameters": self.parameters,
            "sources": self.sources,
            "notes": self.notes,
        }

    def describe(self) -> str:
        """Human-readable lines: what was derived and from what (printed by the CLI)."""
        lines = [f"alarm {self.trigger.alarm.name} ({self.trigger.alarm.kind}) went to ALARM at {_iso(self.trigger.transition_time)}"]
        lines.append(f"window   {self.window}   [{self.sources.get('window', '')}]")
        lines.append(f"baseline {self.baseline}   [{self.sources.get('baseline', '')}]")
        for name, value in self.parameters.items():
            lines.append(f"{name} = {value}   [{self.sources.get(name, '')}]")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)


def idempotency_key(alarm_arn: str, transition_time: Any) -> str:
    """A short, stable key for one alarm transition (alarm ARN + transition time).

    Example
    -------
    >>> idempotency_key("arn:aws:cloudwatch:us-east-1:1:alarm:x", "2026-03-01T03:10:00Z") == \\
    ...     idempotency_key("arn:aws:cloudwatch:us-east-1:1:alarm:x", "2026-03-01T03:10:00.000+0000")
    True
    """
    ts = parse_time(transition_time, name="transition time").floor("s")
    return hashlib.sha256(f"{alarm_arn}|{ts.isoformat()}".encode()).hexdigest()[:16]



def _metric_from_stat(stat: Mapping[str, Any]) -> AlarmMetric:
    metric = stat.get("metric") or stat.get("Metric") or {}
    dims = metric.get("dimensions", metric.get("Dimensions", {}))
    if isinstance(dims, list):  # API shape: [{"Name":..., "Value":...}]
        dims = {d["Name"]: d["Value"] for d in dims}
    return AlarmMetric(
        namespace=str(metric.get("namespace", metric.get("Namespace", ""))),
        name=str(metric.get("name", metric.get("MetricName", ""))),
        dimensions=tuple(sorted((str(k), str(v)) for k, v in dims.items())),
        stat=stat.get("stat", stat.get("Stat")),
        period=stat.get("period", stat.get("Period")),
    )


def _split_arn(arn: str | None) -> dict[str, str]:
    m = _ARN.match(arn or "")
    return m.groupdict() if m else {}


def _ts(value: Any) -> pd.Timestamp | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value.strip())  # +0000 -> +00:00
    return parse_time(value, name="alarm timestamp")
