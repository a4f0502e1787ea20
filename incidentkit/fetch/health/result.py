"""What a health snapshot returns (:class:`HealthSnapshot`) and its outputs: the exit code and the text table."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pandas as pd

from ..._util.fmt import iso as _iso


@dataclasses.dataclass
class HealthSnapshot:
    """What :func:`snapshot` returns.

    Attributes
    ----------
    summary:
        One row per resource (:data:`SUMMARY_COLUMNS`).
    frames:
        Detail frames by name (:data:`FRAME_COLUMNS`), each with provenance in ``attrs``.
    settings:
        :data:`incidentkit.schema.SETTING_COLUMNS`, the configuration read beside the health.
    collected_at:
        When the snapshot was taken (UTC). A snapshot taken after an incident describes
        *now*, not the incident: reports say so.
    region:
        The region read.
    issues:
        What could not be collected, one line each.
    """

    summary: pd.DataFrame
    frames: dict[str, pd.DataFrame]
    settings: pd.DataFrame
    collected_at: pd.Timestamp
    region: str | None = None
    issues: list[str] = dataclasses.field(default_factory=list)

    @property
    def unhealthy(self) -> pd.DataFrame:
        """The summary rows whose state is ``unhealthy``."""
        return self.summary[self.summary["state"] == "unhealthy"].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (``--json``): collection time, summary, frames, settings, issues."""
        return {
            "collected_at": _iso(self.collected_at),
            "region": self.region,
            "summary": _records(self.summary),
            "frames": {name: _records(df) for name, df in self.frames.items()},
            "settings": _records(self.settings),
            "issues": list(self.issues),
            "exit_code": exit_code(self.summary),
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), **kwargs)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cols = list(df.columns)
    for row in df.itertuples(index=False, name=None):
        rec: dict[str, Any] = {}
        for c, v in zip(cols, row):
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
                rec[c] = None
            elif isinstance(v, pd.Timestamp):
                rec[c] = _iso(v)
            elif hasattr(v, "item"):  # numpy scalars
                rec[c] = v.item()
            else:
                rec[c] = v
        out.append(rec)
    return out



# --------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------


def _summary_of(obj: HealthSnapshot | pd.DataFrame) -> pd.DataFrame:
    return obj.summary if isinstance(obj, HealthSnapshot) else obj


#: The exit code of a snapshot that could not look at every resource (and found none unhealthy).
EXIT_NOT_COLLECTED = 3


def exit_code(summary: HealthSnapshot | pd.DataFrame) -> int:
    """``1`` when any resource is unhealthy; else ``3`` (:data:`EXIT_NOT_COLLECTED`) when one could
    not be read — a snapshot that did not look cannot say it is healthy; else ``0`` (degraded
    and unknown do not fail).

    Example
    -------
    >>> import pandas as pd
    >>> exit_code(pd.DataFrame({"state": ["healthy", "degraded"]}))
    0
    >>> exit_code(pd.DataFrame({"state": ["healthy", "unhealthy", "not_collected"]}))
    1
    >>> exit_code(pd.DataFrame({"state": ["healthy", "not_collected"]}))
    3
    """
    df = _summary_of(summary)
    if not len(df):
        return 0
    if (df["state"] == "unhealthy").any():
        return 1
    return EXIT_NOT_COLLECTED if (df["state"] == "not_collected").any() else 0


def format_table(summary: HealthSnapshot | pd.DataFrame, *, width: int = 160) -> str:
    """A compact text table: one line per resource — state, resource, the number that matters, reason.

    Example
    -------
    >>> import pandas as pd
    >>> df = pd.DataFrame([{"resource_type": "lambda_function", "resource_id": "api", "state": "healthy",
    ...                     "reason": "Active", "key_number": "reserved none", "details": ""}])
    >>> print(format_table(df))
    STATE    RESOURCE             KEY NUMBER     REASON
    healthy  lambda_function api  reserved none  Active
    """
    df = _summary_of(summary)
    header = ("STATE", "RESOURCE", "KEY NUMBER", "REASON")
    rows = []
    for r in df.itertuples(index=False):
        rid = str(r.resource_id)
        if rid.startswith("arn:") and rid.count(":") >= 5:
            rid = rid.split(":", 5)[5]  # targetgroup/web/61a1a3d94d8ed630
        rid = _shorten(rid, 64)
        rows.append((str(r.state), f"{r.resource_type} {rid}", _na(r.key_number), _na(r.reason)))
    widths = [max([len(header[i])] + [len(row[i]) for row in rows]) for i in range(3)]
    lines = []
    for row in [header, *rows]:
        head = "  ".join(str(row[i]).ljust(widths[i]) for i in range(3))
        room = max(20, width - len(head) - 2)
        reason = row[3] if len(row[3]) <= room else row[3][: room - 1] + "…"
        lines.append(f"{head}  {reason}".rstrip())
    collected = getattr(summary, "collected_at", None) or df.attrs.get("collected_at")
    if collected is not None:
        lines.insert(0, f"health snapshot collected {_iso(collected)}")
    return "\n".join(lines)


def _na(value: Any) -> str:
    return "" if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) else str(value)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return "…" + text[-(limit - 1):]
