"""placeholder while the runner is brought up; replaced below."""

from __future__ import annotations

from typing import Any, Iterable, Mapping


def build(investigation: Any, findings: Iterable[Any]) -> dict[str, Any]:
    return {}


def markdown(result: Mapping[str, Any], *, links: bool = True) -> str:
    lines = ["# Postmortem", ""]
    for f in result.get("findings", []):
        lines.append(f"- **{f['id']}**: {f['title']}")
    return "\n".join(lines) + "\n"
