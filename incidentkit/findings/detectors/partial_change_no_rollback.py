"""``partial-change-no-rollback`` (incidents.md #11): a change run failed midway, nothing undid it.

The cause: a script or a person changed production (security groups, NACLs, IAM...) directly,
failed midway, and left the resources half-changed. The evidence read: the change timeline only.
It fires on a run of changes by one principal, not infrastructure as code nor an AWS service, with
at least one applied and one failed call, that nothing later rolled back or completed.

The steps: :func:`measure` (numbers from the analyses), :func:`judge` (severity and
confidence), :func:`explain` (the finding); :func:`detect` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ...analyses import related as rel
from ...analyses._common import iso_z, sentence_case
from ...analyses.change_words import blameless_actor
from ...analyses.change_runs import INVERSE_VERBS, as_text, change_rows, change_runs, split_verb
from ...fetch.change_detail import api_of
from ..model import Finding, Inputs
from ._common import MAX_CONFIDENCE, Score, Verdict

__all__ = ["ID", "NEEDS", "detect", "measure", "judge", "explain", "Measures"]

#: The finding id (incidents.md, the catalogue).
ID = "partial-change-no-rollback"
#: The :class:`~incidentkit.findings.model.Inputs` fields this detector reads.
NEEDS: tuple[str, ...] = ("window", "changes")

#: Two changes by one principal at most this far apart belong to one run (a script's calls come seconds apart;
#: a person's console session minutes apart).
RUN_GAP = "10min"
#: Where a finding starts: a failed run is a cause by itself, but a run that merely failed once is common.
BASE_CONFIDENCE = 0.5
#: Security groups, NACLs and IAM: a half-applied change there loses (or opens) access, the incident's shape.
SECURITY_BONUS = 0.15
#: Watched this long after the run with no fix, the half-changed state is real, not a change in progress.
LONG_WATCH_S, LONG_WATCH_BONUS = 1800, 0.15
#: Watched at least this long: likely real, less sure.
SHORT_WATCH_S, SHORT_WATCH_BONUS = 600, 0.05
#: Made by hand or by an ad-hoc script (console, CLI, an SDK): no pipeline to notice and roll back.
MANUAL_BONUS = 0.1
#: The ``changed_by`` values (:func:`~incidentkit.analyses.change_runs.change_runs`) that mean by hand or a script.
MANUAL_CHANNELS = ("console", "cli", "sdk", "other")
#: Made by a deployment pipeline: it usually retries or reports the failure itself.
PIPELINE_PENALTY = -0.1


@dataclass
class Measures:
    """The failed run (a row of :func:`~incidentkit.analyses.change_runs.change_runs`), its changes, and the other candidates."""

    run: pd.Series
    security: bool
    watched_s: float
    rows: pd.DataFrame
    other_runs: int



def measure(inputs: Inputs, *, gap: str | pd.Timedelta = RUN_GAP) -> Measures | None:
    """The largest failed run nothing undid (security runs first), or None.

    Candidates are runs (:func:`change_runs`) with at least one applied and one failed change,
    made by a person or a script (not CloudFormation/Terraform/CDK, not an AWS service or
    CodeDeploy acting on its own), that nothing later rolled back or completed.
    """
    until = inputs.window.end if inputs.window is not None else None
    runs = change_runs(inputs.changes, gap=gap, until=until)
    if runs.empty:
        return None
    cand = runs[(runs["failed"] > 0) & (runs["events"] > runs["failed"]) & ~runs["iac"] & ~runs["automation"]
                & ~runs["rolled_back"] & ~runs["completed_later"]]
    if cand.empty:
        return None
    sec = cand["classes"].str.contains("SECURITY_CHANGE|IAM", regex=True)
    cand = cand.assign(_sec=sec).sort_values(["_sec", "events", "start"], ascending=[False, False, True])
    run = cand.iloc[0]
    ch = change_rows(inputs.changes)
    return Measures(run=run, security=bool(run["_sec"]), watched_s=float(run["observed_after_s"]),
                    rows=ch[ch["_row"].isin(run["rows"])], other_runs=int(len(cand) - 1))


def judge(m: Measures) -> Verdict:
    """Security-group, NACL and IAM runs are high severity (access lost or opened); others medium.

    Confidence grows with the time watched after the run without a fix and with a manual channel.
    """
    score = Score(BASE_CONFIDENCE, "a run of direct changes failed midway and nothing undid it")
    score.add(SECURITY_BONUS, "security groups, NACLs or IAM", when=m.security)
    if m.watched_s >= LONG_WATCH_S:
        score.add(LONG_WATCH_BONUS, f"no fix in the {LONG_WATCH_S / 60:.0f} minutes after")
    elif m.watched_s >= SHORT_WATCH_S:
        score.add(SHORT_WATCH_BONUS, f"no fix in the {SHORT_WATCH_S / 60:.0f} minutes after")
    score.add(MANUAL_BONUS, "made by hand or an ad-hoc script", when=m.run["changed_by"] in MANUAL_CHANNELS)
    score.add(PIPELINE_PENALTY, "made by a pipeline", when=m.run["changed_by"] == "pipeline")
    return score.verdict("high" if m.security else "medium", round(min(MAX_CONFIDENCE, score.value), 3))


def _restore_steps(applied: pd.DataFrame) -> list[str]:
    restore = []
    for _, a in applied.iterrows():
        verb, noun = split_verb(as_text(a["event_name"]))
        inverse = INVERSE_VERBS.get(verb)
        if inverse:
            restore.append(f"{inverse}{noun} on {as_text(a['resource'])} (undoes {api_of(a)} at {iso_z(a['timestamp'])})")
        else:
            restore.append(f"restore the previous value of {api_of(a)} on {as_text(a['resource'])}")
    return restore


def explain(m: Measures, verdict: Verdict, inputs: Inputs) -> Finding:
    """The finding: the run, what applied and what failed, and how to restore a known state."""
    run, rows, security, watched = m.run, m.rows, m.security, m.watched_s
    applied = rows[rows["error_code"].fillna("").str.len() == 0]
    evidence: dict[str, Any] = {
        "actor": run["actor"],
        "changed_by": run["changed_by"],
        "run_start": run["start"],
        "run_end": run["end"],
        "changes_in_run": int(run["events"]),
        "failed_changes": int(run["failed"]),
        "applied_changes": int(run["events"] - run["failed"]),
        "failed": run["failed_events"],
        "applied": ", ".join(applied["event_name"].fillna("?")),
        "resources": run["resources"],
        "minutes_watched_after": watched / 60.0,
        "other_candidate_runs": m.other_runs,
    }
    failed_rows = rows[rows["error_code"].fillna("").str.len() > 0]
    failed_text = ", ".join(f"{api_of(r)} ({r['error_code']})" for r in failed_rows.to_dict("records"))
    summary = (f"{sentence_case(blameless_actor(run['actor']))} ({run['changed_by']}) made {int(run['events'])} changes to "
               f"{run['resources'] or 'resources'} between {iso_z(run['start'])} and {iso_z(run['end'])}: "
               f"{int(run['events'] - run['failed'])} applied, "
               f"{int(run['failed'])} failed ({failed_text}). No later call undid the applied changes or completed the "
               f"failed ones in the {watched / 60:.0f} minutes that follow: the resources are left half-changed"
               + (" — for security groups that means access lost (or opened) that nobody intended." if security else "."))
    remediation = [
        "Restore a known state now: " + "; ".join(_restore_steps(applied)[:5])
        + (" — e.g. aws ec2 authorize-security-group-ingress --group-id <sg> --ip-permissions <the rules revoked>, taken "
           "from the change's requestParameters." if security else "."),
        "Keep out-of-band access (SSM Session Manager, EC2 Instance Connect) so a security-group mistake cannot lock you out.",
        "Make such changes through IaC (CloudFormation change sets with automatic rollback, or terraform plan/apply) instead "
        "of scripts; a failed stack update rolls back as a whole.",
        "If a script is unavoidable: snapshot the current state first (describe-security-groups), apply with set -euo pipefail "
        "and a trap that re-applies the snapshot on error, and prefer additive changes (authorize the new rule before revoking the old).",
    ]
    return Finding(
        id=ID,
        title="Change run failed midway with no rollback" + (" (security groups)" if "SecurityGroup" in str(run["event_names"]) else ""),
        severity=verdict.severity,
        summary=summary,
        evidence=evidence,
        remediation=remediation,
        confidence=verdict.confidence,
        related_changes=rel.records(rows, reference=inputs.window.start if inputs.window is not None else None),
        onset=iso_z(run["start"]),
    )


def detect(inputs: Inputs, *, gap: str | pd.Timedelta = RUN_GAP) -> Finding | None:
    """``partial-change-no-rollback``: a run of direct (non-IaC) changes failed midway and nothing undid it.

    Candidates are runs (:func:`change_runs`) with at least one applied and one failed change,
    made by a person or a script (not CloudFormation/Terraform/CDK, not an AWS service or
    CodeDeploy acting on its own), that nothing later rolled back or completed. Security-group,
    NACL and IAM runs are high severity (access lost or opened); others medium. Confidence
    grows with the time watched after the run without a fix (30 min or more: +0.15).

    Example
    -------
    >>> import pandas as pd
    >>> ch = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-06T09:00:00Z", "2026-03-06T09:00:04Z"]),
    ...     "event_name": ["RevokeSecurityGroupIngress", "AuthorizeSecurityGroupIngress"], "class": "SECURITY_CHANGE",
    ...     "actor": "arn:aws:iam::1:user/deploy", "resource": "sg-1", "error_code": [None, "InvalidParameterValue"],
    ...     "detail": '{"changed_by":"cli"}'})
    >>> f = detect(Inputs(changes=ch))
    >>> f.id, f.severity
    ('partial-change-no-rollback', 'high')
    """
    measures = measure(inputs, gap=gap)
    return None if measures is None else explain(measures, judge(measures), inputs)
