"""Runs of changes: the changes by one actor close in time, whether a call failed, and whether anything undid them.

A change made by a person or a script outside infrastructure-as-code can fail halfway — a
security-group rule revoked, its replacement refused — and nothing rolls it back.
:func:`change_runs` groups the change timeline into runs by actor and says, for each, which calls
failed, who or what made it (``changed_by``: iac, pipeline, console, cli, ...), whether a later
call undid every applied change (``rolled_back``) or the failed calls later succeeded
(``completed_later``). The finding built on it, ``partial-change-no-rollback``, is in
:mod:`incidentkit.findings.detectors`.

Example
-------
>>> split_verb("AuthorizeSecurityGroupIngress"), INVERSE_VERBS["Authorize"]
(('Authorize', 'SecurityGroupIngress'), 'Revoke')
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from ._common import UTC_NS, as_utc, empty_table

__all__ = ["CHANGE_RUN_COLUMNS", "INVERSE_VERBS", "change_runs", "change_rows", "split_verb", "as_text"]


CHANGE_RUN_COLUMNS = (
    "actor",
    "start",
    "end",
    "events",
    "failed",
    "event_names",
    "failed_events",
    "resources",
    "classes",
    "changed_by",  # iac | pipeline | aws-service | console | cli | sdk | other (from the change detail)
    "iac",
    "automation",  # an AWS service or CodeDeploy acting on its own
    "rolled_back",  # a later call undid every change the run applied
    "completed_later",  # the failed calls later succeeded on the same resources
    "observed_after_s",  # how long the timeline runs after the run ended
    "rows",  # positions of the run's changes in the input frame
)

_IAC = re.compile(r"(?i)cloudformation|terraform|hashicorp|pulumi|aws-cdk|\bcdk-|cfn-exec|crossplane|aws-sam-cli|serverless/")
_SERVICE_ACTOR = re.compile(r"(?i)AWSServiceRole|^[a-z0-9-]+\.amazonaws\.com$|codedeploy")
_DRY_RUN = frozenset({"Client.DryRunOperation", "DryRunOperation"})
INVERSE_VERBS = {
    "Authorize": "Revoke", "Revoke": "Authorize", "Create": "Delete", "Delete": "Create", "Attach": "Detach",
    "Detach": "Attach", "Associate": "Disassociate", "Disassociate": "Associate", "Add": "Remove", "Remove": "Add",
    "Enable": "Disable", "Disable": "Enable", "Register": "Deregister", "Deregister": "Register", "Start": "Stop",
    "Stop": "Start", "Allocate": "Release", "Release": "Allocate", "Assign": "Unassign", "Unassign": "Assign",
    "Put": "Delete", "Import": "Delete", "Tag": "Untag", "Untag": "Tag",
}
_RESTORING_VERBS = ("Modify", "Update", "Replace", "Set", "Put")
_VERB = re.compile(r"^([A-Z][a-z]+)(.*?)(?:\d{8}(?:v\d+)?)?$")


def as_text(v: Any) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v)


def change_rows(changes: pd.DataFrame | None) -> pd.DataFrame:
    if changes is None or changes.empty or "timestamp" not in changes.columns:
        return pd.DataFrame(columns=["timestamp", "event_name", "class", "actor", "resource", "error_code", "detail", "source", "_row"])
    df = changes.reset_index(drop=True).copy()
    df["_row"] = np.arange(len(df))
    df["timestamp"] = as_utc(df["timestamp"])
    for c in ("event_name", "class", "actor", "resource", "error_code", "detail", "source"):
        if c not in df.columns:
            df[c] = pd.NA
        df[c] = df[c].astype("string")
    return df.dropna(subset=["timestamp"]).sort_values("timestamp", kind="stable")


def split_verb(name: str) -> tuple[str, str]:
    m = _VERB.match(name or "")
    if not m:
        return "", name or ""
    return m.group(1), m.group(2)


def _changed_by(actor: str, detail: str) -> str:
    try:
        d = json.loads(detail) if detail else {}
    except ValueError:
        d = {}
    kind = d.get("changed_by") if isinstance(d, dict) else None
    if kind:
        return str(kind)
    if _IAC.search(f"{actor} {detail}"):
        return "iac"
    if _SERVICE_ACTOR.search(actor or ""):
        return "aws-service"
    return "other"


def _undoes(later: pd.Series, applied: pd.Series) -> bool:
    """Does ``later`` (a successful change) undo ``applied`` on the same resource?"""
    if as_text(later["resource"]) != as_text(applied["resource"]):
        return False
    verb, noun = split_verb(as_text(applied["event_name"]))
    lverb, lnoun = split_verb(as_text(later["event_name"]))
    if not verb:
        return False
    if verb in _RESTORING_VERBS:
        return lverb == verb and lnoun == noun
    inverse = INVERSE_VERBS.get(verb)
    return inverse is not None and lverb == inverse and lnoun == noun


def change_runs(
    changes: pd.DataFrame | None,
    *,
    gap: str | pd.Timedelta = "10min",
    until: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Runs of changes by one actor, with their failures and what happened after.

    A run is a sequence of changes by the same actor with less than ``gap`` between
    consecutive ones (a script, a console session, a stack update). For each run: the failed
    calls (``error_code`` set; dry runs excepted), how the changes were made (``changed_by``
    from the change detail, or CloudFormation/Terraform/CDK/Pulumi recognised in the actor or
    detail), whether later calls (by anyone) undid every change the run applied
    (``rolled_back``: Revoke after Authorize, Delete after Create, the same Modify again ...)
    or made the failed calls succeed (``completed_later``), and how long the timeline runs after
    it (``until``, default the last change).

    Returns
    -------
    pandas.DataFrame
        :data:`CHANGE_RUN_COLUMNS`, in time order.

    Example
    -------
    >>> import pandas as pd
    >>> ch = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-06T09:00:00Z", "2026-03-06T09:00:04Z"]),
    ...     "event_name": ["RevokeSecurityGroupIngress", "AuthorizeSecurityGroupIngress"], "class": "SECURITY_CHANGE",
    ...     "actor": "arn:aws:iam::1:user/deploy", "resource": "sg-1", "error_code": [None, "InvalidParameterValue"],
    ...     "detail": '{"changed_by":"cli"}'})
    >>> r = change_runs(ch).iloc[0]
    >>> int(r["events"]), int(r["failed"]), bool(r["iac"]), bool(r["rolled_back"])
    (2, 1, False, False)
    """
    dt = {"start": UTC_NS, "end": UTC_NS, "events": "int64", "failed": "int64", "iac": "bool", "automation": "bool",
          "rolled_back": "bool", "completed_later": "bool"}
    df = change_rows(changes)
    if df.empty:
        return empty_table(CHANGE_RUN_COLUMNS, dt)
    df = df[~df["error_code"].fillna("").isin(list(_DRY_RUN))]
    if df.empty:
        return empty_table(CHANGE_RUN_COLUMNS, dt)
    horizon = pd.Timestamp(until) if until is not None else df["timestamp"].max()
    width = pd.Timedelta(gap)
    rows = []
    df = df.assign(_actor=df["actor"].fillna("(unknown)"))
    for actor, g in df.groupby("_actor", sort=False):
        g = g.sort_values("timestamp", kind="stable")
        run_id = (g["timestamp"].diff() > width).cumsum()
        for _, run in g.groupby(run_id, sort=True):
            failed_mask = run["error_code"].fillna("").str.len() > 0
            failed = run[failed_mask]
            applied = run[~failed_mask]
            end = run["timestamp"].iloc[-1]
            first_fail = failed["timestamp"].min() if len(failed) else None
            touched = set(run["resource"].fillna(""))
            later = df[(df["timestamp"] >= (first_fail if first_fail is not None else end))
                       & (df["error_code"].fillna("").str.len() == 0)
                       & df["resource"].fillna("").isin(touched)] if len(failed) else df.iloc[0:0]
            rolled_back = bool(len(applied)) and len(failed) > 0 and all(
                any(_undoes(lt, ap) for _, lt in later[later["timestamp"] > ap["timestamp"]].iterrows())
                for _, ap in applied.iterrows())
            completed = len(failed) > 0 and all(
                bool(((later["event_name"] == f["event_name"]) & (later["resource"].fillna("") == as_text(f["resource"]))
                      & (later["timestamp"] > f["timestamp"])).any())
                for _, f in failed.iterrows())
            kinds = [_changed_by(as_text(actor), as_text(d)) for d in run["detail"]]
            kind = max(set(kinds), key=kinds.count)
            rows.append({
                "actor": actor,
                "start": run["timestamp"].iloc[0],
                "end": end,
                "events": int(len(run)),
                "failed": int(len(failed)),
                "event_names": ", ".join(run["event_name"].fillna("?")),
                "failed_events": ", ".join(f"{n} ({c})" for n, c in zip(failed["event_name"].fillna("?"), failed["error_code"])),
                "resources": ", ".join(dict.fromkeys(run["resource"].dropna())),
                "classes": ", ".join(dict.fromkeys(run["class"].dropna())),
                "changed_by": kind,
                "iac": kind == "iac",
                "automation": kind == "aws-service" or bool(_SERVICE_ACTOR.search(as_text(actor))),
                "rolled_back": rolled_back,
                "completed_later": bool(completed),
                "observed_after_s": max(0.0, (horizon - end).total_seconds()),
                "rows": run["_row"].astype(int).tolist(),
            })
    out = pd.DataFrame(rows, columns=list(CHANGE_RUN_COLUMNS))
    out["start"] = as_utc(out["start"])
    out["end"] = as_utc(out["end"])
    for c in ("iac", "automation", "rolled_back", "completed_later"):
        out[c] = out[c].astype(bool)
    return out.sort_values("start", kind="stable", ignore_index=True)
