"""Colours the render layer shares: the severity of a finding, the class of a change.

Cards, tables, the investigation view and the plots use the same colours, so a reader learns
them once. Plain data: importing it costs nothing (no matplotlib).

Example
-------
>>> SEVERITY_COLORS["high"][0], CHANGE_COLORS["DEPLOYMENT"]
('#c2410c', '#1f5fbf')
"""

from __future__ import annotations

__all__ = ["SEVERITY_COLORS", "CHANGE_COLORS"]

#: Background / text colours per severity (readable in light and dark themes).
SEVERITY_COLORS: dict[str, tuple[str, str]] = {
    "critical": ("#7f1d1d", "#ffffff"),
    "high": ("#c2410c", "#ffffff"),
    "medium": ("#b45309", "#ffffff"),
    "low": ("#1d4ed8", "#ffffff"),
    "info": ("#475569", "#ffffff"),
}

#: Colour of each change class on every plot and timeline.
CHANGE_COLORS: dict[str, str] = {
    "DEPLOYMENT": "#1f5fbf",
    "SECURITY_CHANGE": "#c0392b",
    "CONFIG_CHANGE": "#e67e22",
    "IAM": "#8e44ad",
    "SCALING": "#27ae60",
    "OTHER": "#7f8c8d",
}
