"""Related changes: the changes of the timeline that can explain a finding, matched by resource and kind.

Every detector declares, next to itself, a :class:`ChangeSpec`: the kinds of change that can
explain its finding (``provisioned-concurrency`` and ``code`` for cold starts,
``security-group`` for blocked health checkers ...; see
:data:`incidentkit.fetch.change_detail.KIND_LABELS`), most direct first. :func:`related_changes`
then reads the whole change timeline it was given (the investigation's change window reaches
12 h or more before the incident, not only the minutes before the onset) and keeps a change
when

* its kind is one the spec names,
* it touched one of the finding's resources, in whatever spelling (a function by name, by
  ARN, with an alias; a target group by ARN or by its CloudWatch dimension), or, for the kinds
  the spec lets match *unscoped*, it came shortly before the onset while the finding cannot
  name the resource of that kind (a security-group edit that cut off health checkers rarely
  names the endpoint),
* it happened before the onset (or the window's end when no onset is known), it succeeded,
  and no later change of the same setting on the same resource replaced it before the onset
  (a deleted provisioned concurrency restored an hour later explains nothing).

The records keep the timeline's columns and add ``api`` (the name without its version
suffix), ``kind``, ``target``, ``match``, ``lead_s`` (seconds before the onset), ``description``
(a blameless sentence) and ``explains``. :func:`sentence` and :func:`evidence` word the first
one for a summary and an evidence dict.

Example
-------
>>> import pandas as pd
>>> from incidentkit._util import resource_ids
>>> spec = ChangeSpec("cold-start-tail", {"provisioned-concurrency": "fewer initialised environments"})
>>> ch = pd.DataFrame({"timestamp": pd.to_datetime(["2026-09-01T18:26:41Z"]), "source": "cloudtrail",
...     "event_name": ["DeleteProvisionedConcurrencyConfig"], "class": "SCALING", "resource": "catalog-search",
...     "actor": "arn:aws:sts::123456789012:assumed-role/FinOps/x", "error_code": None,
...     "detail": ['{"event_source":"lambda.amazonaws.com","params":{"functionName":"catalog-search","qualifier":"live"}}']})
>>> rec = related_changes(ch, spec, [resource_ids.parse("catalog-search", "function")],
...                       onset="2026-09-02T00:00:00Z")[0]
>>> rec["target"], rec["kind"], rec["lead_s"]
('catalog-search:live', 'provisioned-concurrency', 19999.0)
>>> sentence(rec, reference="2026-09-02T00:00:00Z")
'Provisioned concurrency on `catalog-search:live` was deleted (DeleteProvisionedConcurrencyConfig) at 18:26 UTC on 2026-09-01 by role FinOps, 5.6 h before the onset.'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from .._util import resource_ids
from ..fetch.change_detail import api_of, change_kind, touched
from .change_words import blameless_actor, describe, utc_time
from .._util.resource_ids import ResourceRef

__all__ = [
    "ChangeSpec",
    "PERSISTENT_KINDS",
    "related_changes",
    "targets_from",
    "lead_text",
    "sentence",
    "evidence",
    "records",
]

#: Kinds whose effect lasts until the same setting is changed again (the latest one is in force).
PERSISTENT_KINDS = frozenset({
    "provisioned-concurrency", "reserved-concurrency", "alias", "health-check", "target-group-attributes",
    "target-group-config", "table-capacity", "event-source",
})

_BASE = ("timestamp", "source", "event_name", "class", "actor", "resource", "error_code", "detail")


@dataclass(frozen=True)
class ChangeSpec:
    """Which changes can explain one finding.

    Parameters
    ----------
    finding:
        The finding id.
    kinds:
        Change kind → how it can explain the finding (a clause for the report), most direct first.
    unscoped:
        Kinds that match without naming one of the finding's resources, with how long before the
        onset they still count — used only when the finding knows no resource of the kind the
        change touched (the security group of an endpoint is rarely among what a finding names).
    include_failed:
        Keep failed calls (a half-applied change is the finding itself).
    within:
        How long before the onset a change can still explain it, when the finding's own
        mechanics bound it (a security group that blocks health checkers fails them within a
        few check intervals); None: the whole change timeline.
    """

    finding: str
    kinds: Mapping[str, str]
    unscoped: Mapping[str, str] = field(default_factory=dict)
    include_failed: bool = False
    within: str | None = None


def _na(value: Any) -> Any:
    if value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def targets_from(*groups: Any, kind: str | None = None) -> list[ResourceRef]:
    """The resources a finding concerns, from names in any form (None and duplicates dropped).

    Each group is a value, a list of values or :class:`ResourceRef` objects; ``kind`` says what a
    bare name is.

    Example
    -------
    >>> [r.label for r in targets_from("catalog-search", ["catalog-search:live", None], kind="function")]
    ['catalog-search', 'catalog-search:live']
    """
    out: list[ResourceRef] = []
    for group in groups:
        items = group if isinstance(group, (list, tuple, set)) else [group]
        for item in items:
            ref = item if isinstance(item, ResourceRef) else resource_ids.parse(_na(item), kind) if _na(item) is not None else None
            if ref is not None and ref not in out:
                out.append(ref)
    return out


def _match(refs: Sequence[ResourceRef], targets: Sequence[ResourceRef]) -> ResourceRef | None:
    """The change's spelling of the first target it touched (the most specific one)."""
    hits = [r for r in refs for t in targets if r.matches(t)]
    if not hits:
        return None
    return max(hits, key=lambda r: (bool(r.qualifier), bool(r.unique_id), bool(r.scope)))


def _superseded(cand: list[dict[str, Any]], until: pd.Timestamp | None) -> set[int]:
    """Indexes of persistent changes replaced by a later one of the same kind on the same resource before ``until``."""
    gone: set[int] = set()
    for i, a in enumerate(cand):
        if a["kind"] not in PERSISTENT_KINDS or a["_ref"] is None:
            continue
        for b in cand[i + 1:]:
            if (b["kind"] == a["kind"] and b["_ref"] is not None and b["_ref"].matches(a["_ref"])
                    and b["_t"] > a["_t"] and (until is None or b["_t"] <= until) and not b["error_code"]):
                gone.add(i)
                break
    return gone


def _rows(changes: pd.DataFrame | None) -> list[dict[str, Any]]:
    if changes is None or changes.empty or "timestamp" not in changes.columns:
        return []
    out = []
    for r in changes.to_dict("records"):
        t = utc_time(r.get("timestamp"))
        if t is None:
            continue
        row = {c: _na(r.get(c)) for c in _BASE}
        row["_t"] = t
        out.append(row)
    out.sort(key=lambda r: r["_t"])
    return out


def related_changes(
    changes: pd.DataFrame | None,
    spec: ChangeSpec,
    targets: Iterable[ResourceRef | None],
    *,
    onset: Any = None,
    window: Any = None,
    slack: str | pd.Timedelta = "0s",
    limit: int = 10,
) -> list[dict[str, Any]]:
    """The changes that can explain a finding, most direct kind first, then nearest the onset.

    Parameters
    ----------
    changes:
        The change timeline (:data:`~incidentkit.schema.CHANGE_COLUMNS`), as far back as it was read.
    spec:
        What can explain the finding (declared next to its detector).
    targets:
        The finding's resources (:func:`targets_from`).
    onset:
        When the signal started; changes after it (plus ``slack``: an onset found on binned data is
        known to the bin) cannot explain it. Without an onset the window's end bounds them.
    window:
        The incident window (its start is where ``lead_s`` counts from when there is no onset).

    Returns
    -------
    list of dict
        The timeline's columns plus ``api``, ``kind``, ``target``, ``match`` (``resource`` or
        ``kind``), ``lead_s``, ``description`` and ``explains``; at most ``limit``.
    """
    rows = _rows(changes)
    if not rows:
        return []
    t_onset = utc_time(onset)
    anchor = t_onset or (utc_time(getattr(window, "start", None)))
    until = (t_onset + pd.Timedelta(slack)) if t_onset is not None else utc_time(getattr(window, "end", None))
    tgt = [t for t in targets if t is not None]
    kinds_known = {t.kind for t in tgt}
    cand: list[dict[str, Any]] = []
    oldest = anchor - pd.Timedelta(spec.within) if spec.within is not None and anchor is not None else None
    for row in rows:
        kind = change_kind(row)
        if kind not in spec.kinds or (row["error_code"] and not spec.include_failed):
            continue
        if oldest is not None and row["_t"] < oldest:
            continue
        refs = touched(row)
        ref = _match(refs, tgt)
        how = "resource"
        if ref is None:
            lead = spec.unscoped.get(kind)
            if lead is None or any(r.kind in kinds_known for r in refs):
                continue
            if anchor is not None and row["_t"] < anchor - pd.Timedelta(lead):
                continue
            ref, how = (refs[0] if refs else None), "kind"
        cand.append({**row, "kind": kind, "_ref": ref, "_match": how})
    gone = _superseded(cand, until)
    order = list(spec.kinds)
    kept = [c for i, c in enumerate(cand) if i not in gone and (until is None or c["_t"] <= until)]
    kept.sort(key=lambda c: (order.index(c["kind"]), abs((anchor - c["_t"]).total_seconds()) if anchor is not None else 0.0))
    out = []
    for c in kept[:limit]:
        lead_s = float((anchor - c["_t"]).total_seconds()) if anchor is not None else None
        ref = c["_ref"]
        rec = {k: c[k] for k in _BASE}
        rec.update({
            "api": api_of(c),
            "kind": c["kind"],
            "target": ref.label if ref is not None else c.get("resource"),
            "match": c["_match"],
            "lead_s": lead_s,
            "description": describe(c, reference=getattr(window, "start", None) or anchor, target=ref),
            "explains": spec.kinds[c["kind"]],
        })
        out.append(rec)
    return out


def records(rows: pd.DataFrame, *, reference: Any = None) -> list[dict[str, Any]]:
    """Timeline rows as related-change records (for a finding that *is* a set of changes).

    Example
    -------
    >>> ch = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-06T09:00:00Z"]), "event_name": ["RevokeSecurityGroupIngress"],
    ...                    "resource": ["sg-1"], "actor": ["arn:aws:iam::123456789012:user/x"]})
    >>> records(ch)[0]["api"], records(ch)[0]["kind"]
    ('RevokeSecurityGroupIngress', 'security-group')
    """
    out = []
    for row in _rows(rows):
        rec = {k: row[k] for k in _BASE}
        rec.update({"api": api_of(row), "kind": change_kind(row),
                    "description": describe(row, reference=reference)})
        out.append(rec)
    return out


def lead_text(lead_s: float | None, *, onset_known: bool = True) -> str:
    """How long before the onset (or the window) a change came: ``5.6 h before the onset``.

    Example
    -------
    >>> lead_text(19999.0), lead_text(3.0), lead_text(-840.0, onset_known=False), lead_text(259200.0)
    ('5.6 h before the onset', '3 s before the onset', '14 min into the window', '3.0 days before the onset')
    """
    if lead_s is None or (isinstance(lead_s, float) and math.isnan(lead_s)):
        return ""
    ref = "the onset" if onset_known else "the window"
    secs = abs(float(lead_s))
    if secs < 90:
        amount = f"{secs:.0f} s"
    elif secs < 5400:
        amount = f"{secs / 60:.0f} min"
    elif secs < 172800:
        amount = f"{secs / 3600:.1f} h"
    else:
        amount = f"{secs / 86400:.1f} days"
    if lead_s >= 0:
        return f"{amount} before {ref}"
    return f"{amount} after {ref}" if onset_known else f"{amount} into {ref}"


def sentence(rec: Mapping[str, Any], *, reference: Any = None, onset_known: bool = True, lead: bool = True) -> str:
    """The record as a sentence for a summary: what changed, when, by whom, how long before the onset.

    ``reference`` (the window's start) decides whether the date is repeated; the description
    the record carries is used as is when ``reference`` is None. ``lead=False`` leaves out how
    long before the onset it came.
    """
    text = rec.get("description") or ""
    if reference is not None:
        text = describe(rec, reference=reference, target=rec.get("target"))
    when = lead_text(rec.get("lead_s"), onset_known=onset_known) if lead else ""
    body = f"{text[:1].upper()}{text[1:]}" + (f", {when}" if when else "")
    return body + "."


def evidence(rec: Mapping[str, Any] | None, prefix: str = "change") -> dict[str, Any]:
    """The evidence values a summary that names ``rec`` quotes: the API, time, resource, lead and who.

    Example
    -------
    >>> evidence({"api": "UpdateFunctionCode", "timestamp": "2026-03-10T02:47:12Z", "target": "auth",
    ...           "lead_s": 3.0, "actor": "arn:aws:iam::123456789012:user/dev", "kind": "code"})["change_by"]
    'an IAM user'
    """
    if not rec:
        return {}
    out = {
        prefix: rec.get("api"),
        f"{prefix}_kind": rec.get("kind"),
        f"{prefix}_at": utc_time(rec.get("timestamp")),
        f"{prefix}_resource": rec.get("target") or rec.get("resource"),
        f"{prefix}_by": blameless_actor(rec.get("actor")),
    }
    if rec.get("lead_s") is not None:
        out[f"{prefix}_lead_s"] = float(rec["lead_s"])
    return out
