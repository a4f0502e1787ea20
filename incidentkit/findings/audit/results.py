"""The audit's results: what one flagged configuration is, the checks' ids, their order and the exit code.

Example
-------
>>> r = AuditResult("dynamodb-no-autoscaling", "orders", "medium", "orders has fixed capacity")
>>> r.finding_id, exit_code([r]), exit_code([r], fail_on="medium")
('throttling-without-backoff', 0, 1)
"""

from __future__ import annotations

import dataclasses
import textwrap
from typing import Any, Iterable, Sequence

from ..._util.severity import SEVERITIES, severity_rank
from ...errors import ParameterError

__all__ = ["CHECKS", "AuditResult", "not_checked", "worst_first", "exit_code", "format_table"]

#: check id -> (title, related finding id of incidents.md)
CHECKS: dict[str, tuple[str, str | None]] = {
    "tg-health-check-too-tight": ("Target-group health check marks targets unhealthy too fast", "health-check-flapping"),
    "tg-health-check-timeout-below-p99": ("Health-check timeout below the observed p99 response time", "health-check-flapping"),
    "deregistration-delay-too-short": ("Deregistration delay shorter than the slowest requests", "deregistration-delay-too-short"),
    "lambda-no-provisioned-concurrency": ("Latency-sensitive Lambda function without provisioned concurrency", "cold-start-tail"),
    "dynamodb-no-autoscaling": ("Provisioned DynamoDB capacity without autoscaling", "throttling-without-backoff"),
    "sg-blocks-route53-checkers": ("Security groups block the Route 53 health checkers", "healthcheck-blocked-by-change"),
    "not-checked": ("Audit check could not run", None),
}


@dataclasses.dataclass
class AuditResult:
    """One flagged configuration.

    ``evidence`` holds numbers and short strings (the ``findings.json`` evidence shape);
    ``remediation`` holds concrete steps: the setting, the value to set, the command.
    """

    check_id: str
    resource: str
    severity: str
    summary: str
    evidence: dict[str, Any] = dataclasses.field(default_factory=dict)
    remediation: list[str] = dataclasses.field(default_factory=list)
    title: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")
        if not self.title:
            self.title = CHECKS.get(self.check_id, (self.check_id, None))[0]

    @property
    def finding_id(self) -> str | None:
        """The finding id of incidents.md this misconfiguration leads to."""
        return CHECKS.get(self.check_id, (None, None))[1]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``findings.json`` shape plus ``check_id`` and ``resource``)."""
        return {"check_id": self.check_id, "finding_id": self.finding_id, "resource": self.resource, "title": self.title,
                "severity": self.severity, "summary": self.summary, "evidence": dict(self.evidence),
                "remediation": list(self.remediation)}


def not_checked(resource: str, why: str) -> AuditResult:
    """An ``info`` result saying ``resource`` could not be checked and why."""
    return AuditResult("not-checked", resource, "info", f"{resource}: {why}", {"reason": why}, [])


def worst_first(results: Iterable[AuditResult]) -> list[AuditResult]:
    """The results ordered worst first, then by check id and resource.

    Example
    -------
    >>> [r.severity for r in worst_first([not_checked("table orders", "AccessDenied"), AuditResult("c", "r", "high", "s")])]
    ['high', 'info']
    """
    return sorted(results, key=lambda r: (severity_rank(r.severity), r.check_id, r.resource))


def exit_code(results: Sequence[AuditResult], *, fail_on: str = "high") -> int:
    """``1`` when a result is at least as severe as ``fail_on``, else ``0``.

    Example
    -------
    >>> exit_code([AuditResult("dynamodb-no-autoscaling", "t", "medium", "...")])
    0
    >>> exit_code([AuditResult("dynamodb-no-autoscaling", "t", "medium", "...")], fail_on="medium")
    1
    """
    if fail_on not in SEVERITIES:
        raise ParameterError(f"fail_on must be one of {SEVERITIES}")
    return int(any(severity_rank(r.severity) <= severity_rank(fail_on) for r in results))


def format_table(results: Sequence[AuditResult], *, remediation: bool = True, width: int = 160) -> str:
    """Text report: one line per result (severity, check, resource, summary), then the fix steps.

    Example
    -------
    >>> print(format_table([]))
    no configuration problem found
    """
    if not results:
        return "no configuration problem found"
    lines = []
    for r in results:
        head = f"{r.severity.upper():<8} {r.check_id:<34} {r.resource}"
        lines.append(head)
        lines.extend(_wrap(r.summary, width, "         "))
        if remediation:
            for step in r.remediation:
                lines.extend(_wrap(step, width, "         - ", "           "))
    return "\n".join(lines)


def _wrap(text: str, width: int, first: str, rest: str | None = None) -> list[str]:
    """``text`` wrapped to ``width``, the first line indented by ``first``, the others by ``rest``."""
    return textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=rest if rest is not None else first,
                         break_long_words=False, break_on_hyphens=False) or [first.rstrip()]
