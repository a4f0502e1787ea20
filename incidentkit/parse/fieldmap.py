"""A user's ``field_map``: which JSON path (and unit) gives an output field, checked once.

Example
-------
>>> fm = normalize_field_map({"latency_ms": ("t", "s"), "status": "resp.code"})
>>> fm.entries["latency_ms"], fm.paths()
((('t', 's'),), ['t', 'resp.code'])
>>> unit_factor("s")
1000.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ParameterError

__all__ = ["GENERIC_FIELDS", "NUMERIC_FIELDS", "FieldMap", "normalize_field_map", "unit_factor"]

_UNIT = {"ms": 1.0, "s": 1000.0, "us": 1e-3, "ns": 1e-6, "min": 60000.0}


def unit_factor(unit: str) -> float:
    """Multiplier from ``unit`` (ms, s, us, ns, min) to milliseconds."""
    try:
        return _UNIT[unit]
    except KeyError:
        raise ValueError(f"unknown unit {unit!r}; use one of {sorted(_UNIT)}") from None


GENERIC_FIELDS = (
    "request_id",
    "integration_request_id",
    "level",
    "status",
    "latency_ms",
    "app_version",
    "user_agent",
    "route",
    "method",
    "client_ip",
    "function_name",
    "service",
    "xray_trace_id",
    "operation",
    "error_type",
    "error_message",
    "cold_start",
    "timed_out",
    "duration_ms",
    "billed_duration_ms",
    "init_duration_ms",
    "memory_size_mb",
    "max_memory_used_mb",
    "timestamp",
)
NUMERIC_FIELDS = {"latency_ms", "duration_ms", "billed_duration_ms", "init_duration_ms", "memory_size_mb", "max_memory_used_mb"}


@dataclass(frozen=True)
class FieldMap:
    """A validated ``field_map``: for each output field, ``(path, unit)`` tried first."""

    entries: Mapping[str, tuple[tuple[str, str | None], ...]] = field(default_factory=dict)

    def paths(self) -> list[str]:
        return [p for specs in self.entries.values() for p, _ in specs]


def normalize_field_map(field_map: Mapping[str, Any] | None) -> FieldMap:
    """Check and normalise a user ``field_map``.

    Each value is a dotted path (``"resp.code"``), a ``(path, unit)`` pair for a numeric
    field (``("t", "s")``: the value is in seconds), or a list of those tried in order.
    Keys are output fields (``status``, ``latency_ms``, ``app_version``, ... or
    ``timestamp`` for the record's own time).
    """
    if not field_map:
        return FieldMap({})
    if not isinstance(field_map, Mapping):
        raise ParameterError("field_map must be a mapping {output field: JSON path}", got=type(field_map).__name__)
    out: dict[str, tuple[tuple[str, str | None], ...]] = {}
    for target, spec in field_map.items():
        if target not in GENERIC_FIELDS:
            raise ParameterError(
                f"field_map key {target!r} is not a field the parser fills; use one of {sorted(GENERIC_FIELDS)}",
                field=target,
            )
        specs = spec if isinstance(spec, list) else [spec]
        norm: list[tuple[str, str | None]] = []
        for s in specs:
            if isinstance(s, str):
                path, unit = s, None
            elif isinstance(s, tuple) and len(s) == 2 and all(isinstance(x, str) for x in s):
                path, unit = s
            else:
                raise ParameterError(
                    f"field_map[{target!r}] must be a path, a (path, unit) pair or a list of them", got=repr(s)
                )
            if not path or path.startswith(".") or path.endswith("."):
                raise ParameterError(f"field_map[{target!r}]: {path!r} is not a dotted JSON path", field=target)
            if unit is not None:
                if target not in NUMERIC_FIELDS:
                    raise ParameterError(f"field_map[{target!r}]: a unit only applies to duration fields", unit=unit)
                if unit not in _UNIT:
                    raise ParameterError(f"field_map[{target!r}]: unknown unit {unit!r}; use one of {sorted(_UNIT)}")
            norm.append((path, unit))
        out[target] = tuple(norm)
    return FieldMap(out)
