"""One incident under investigation: the window, AWS access and the evidence, in one object.

:class:`Investigation` is what a notebook (or a person in JupyterLab at 3 AM) works
with. Its methods fetch the evidence — :meth:`~Investigation.logs`,
:meth:`~Investigation.metrics`, :meth:`~Investigation.changes`,
:meth:`~Investigation.health` — record every raw frame with its provenance into an
:class:`~incidentkit.evidence.EvidenceBundle`, and :meth:`~Investigation.findings` runs
the detectors on what was fetched.

The same calls replay offline: a frame already in the bundle is read from it (never
fetched twice), and ``offline=True`` makes no AWS call at all. So ``.save(path)`` /
``Investigation.open(path)`` pin an investigation and reopen it anywhere, and
``Investigation.sample("cold-start-tail")`` opens a bundled sample incident.

Windows
-------
``window``
    The incident window ``[start, end)``.
``baseline``
    The comparison window (optional): ``"previous"``, ``"day"``, ``"week"``, a
    :class:`~incidentkit.window.Window` or a ``(start, end)`` pair.
``context``
    What metrics are read over: from the baseline's start to the incident's end when the
    baseline lies just before the incident (the usual case), else the incident window with
    a lead-in of one incident length (and the baseline window on its own).
``change_window``
    What the change timeline is read over: the context, reaching back at least
    :data:`CHANGE_LOOKBACK` (12 h) before the incident — changes that *preceded* the
    incident are the first suspects, and the one behind it can be hours older than the
    first error.

Example
-------
>>> import incidentkit as ik
>>> inv = ik.Investigation.sample("cold-start-tail")            # doctest: +SKIP
>>> inv.findings().top.id                                       # doctest: +SKIP
'cold-start-tail'
>>> inv = ik.Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", baseline="previous",
...                        region="eu-west-1")                  # doctest: +SKIP
>>> inv.logs(["/aws/lambda/api"])                                # doctest: +SKIP
>>> inv.save("evidence/")                                        # doctest: +SKIP
"""

from __future__ import annotations

import html
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from ..errors import (
    AwsError,
    EvidenceError,
    IncidentKitError,
    IncompleteDataWarning,
    NoCredentialsError,
    NotFoundError,
    ParameterError,
)
from .. import parse as parsers
from ..parse import batches
from .. import samples as _samples
from .. import schema
from .._util import views
from .._util.fmt import iso as _iso
from .._util.fmt import source_text
from ..analyses import impact as _impact
from ..analyses.signatures import from_patterns, window_signatures
from ..errors import CREDENTIALS_HINT, from_botocore
from ..evidence import EvidenceBundle, copy_bundle, frame_key
from ..fetch import aws
from ..fetch import changes as _changes
from ..fetch import health as _health
from ..fetch import insights as _insights
from ..fetch import logs as _logs
from ..fetch import metrics as _metrics
from ..fetch.metric_presets import HISTORY_SPAN_DAYS, history_queries
from ..fetch.s3logs import collect as s3collect
from ..fetch.s3logs.athena import DIMENSIONS as S3_DIMENSIONS
from ..fetch.s3logs.discover import RESOURCE_KEYS as S3_RESOURCE_KEYS
from ..findings.model import Inputs
from ..findings.registry import detect
from ..samples._s3alb import ObjectStore
from ..window import TimeLike, Window

__all__ = ["Investigation", "RESOURCE_PARAMETERS", "CHANGE_LOOKBACK", "check_access", "metric_queries", "source_text"]

log = logging.getLogger(__name__)

#: Resource parameters an investigation understands (template parameters of the same names).
RESOURCE_PARAMETERS = (
    "log_groups",
    "function_name",
    "api_id",
    "api_name",
    "stage",
    "load_balancer",
    "target_group_arn",
    "table_name",
    "db_instance",
    "health_check_id",
    "security_group_ids",
    "instance_ids",
    "ecs_cluster",
    "ecs_service",
    "codedeploy_application",
    # logs AWS writes to S3 (incidentkit.fetch.s3logs): where, and how big windows are read
    "access_logs",
    "distribution",
    "vpc_id",
    "web_acl",
    "athena",
    "athena_workgroup",
    "athena_output",
    "athena_database",
    "athena_ddl",
)


#: How far before the incident the change timeline reaches, at least.
CHANGE_LOOKBACK = pd.Timedelta(hours=12)


def _listify(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def _clean_resources(resources: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in dict(resources or {}).items():
        if v is None or v == "" or v == [] or v == ():
            continue
        if k in ("log_groups", "security_group_ids", "instance_ids", "access_logs"):
            out[k] = sorted(set(_listify(v))) if k != "log_groups" else _listify(v)
        else:
            out[k] = v if isinstance(v, (str, int, float, bool)) else _listify(v)
    return out


def metric_queries(resources: Mapping[str, Any], *, period: int | None = None) -> list[Any]:
    """The metric presets that apply to ``resources`` (one list, ready for ``metrics.get``).

    ``function_name`` → Lambda, ``api_name`` (REST) or ``api_id`` (HTTP) (+ ``stage``) → API Gateway,
    ``load_balancer`` → ALB, ``target_group_arn`` (+ ``load_balancer``) → target group,
    ``table_name`` → DynamoDB, ``db_instance`` → RDS, ``health_check_id`` → Route 53,
    ``instance_ids`` → EC2.

    Example
    -------
    >>> [q.metric_name for q in metric_queries({"function_name": "api"})][:2]   # doctest: +SKIP
    ['Invocations', 'Errors']
    """
    res = _clean_resources(resources)
    qs: list[Any] = []
    for name in _listify(res.get("function_name")):
        qs += _metrics.lambda_function(name, period=period)
    if res.get("api_name"):  # REST APIs publish per API name
        qs += _metrics.api_gateway(str(res["api_name"]), res.get("stage") or None, kind="rest", period=period)
    elif res.get("api_id"):  # HTTP APIs per API id
        qs += _metrics.api_gateway(str(res["api_id"]), res.get("stage") or None, period=period)
    if res.get("load_balancer"):
        qs += _metrics.alb(str(res["load_balancer"]), period=period)
    if res.get("target_group_arn"):
        if not res.get("load_balancer"):
            raise ParameterError("target_group_arn needs load_balancer too: ALB target-group metrics are per (target group, load balancer)")
        qs += _metrics.target_group(str(res["target_group_arn"]), str(res["load_balancer"]), period=period)
    for name in _listify(res.get("table_name")):
        qs += _metrics.dynamodb_table(name, period=period)
    for name in _listify(res.get("db_instance")):
        qs += _metrics.rds_instance(name, period=period)
    for name in _listify(res.get("health_check_id")):
        qs += _metrics.route53_health_check(name, period=period)
    for name in _listify(res.get("instance_ids")):
        qs += _metrics.ec2_instance(name, period=period)
    seen: dict[str, Any] = {}
    for q in qs:
        seen.setdefault(q.id, q)
    return list(seen.values())


def check_access(
    *,
    log_groups: Sequence[str] | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    session: Any = None,
) -> None:
    """Fail fast, before a run: credentials exist, and every named log group exists.

    Raises
    ------
    NoCredentialsError
        No credentials in the boto3 chain (or the profile does not exist).
    NotFoundError
        A log group does not exist (similar names are suggested).
    AwsError
        Any other AWS failure while checking (endpoint unreachable, access denied).
    """
    import botocore.exceptions as bx

    sess = session or aws.profile_session(profile)
    try:
        creds = sess.get_credentials()
    except bx.BotoCoreError as exc:
        raise from_botocore(exc, service="sts") from exc
    if creds is None:
        raise NoCredentialsError(f"no AWS credentials found: {CREDENTIALS_HINT}")
    groups = [g for g in _listify(log_groups) if not g.startswith("arn:")]
    if not groups:
        return
    client = aws.client("logs", session=sess, region=region, endpoint_url=endpoint_url)
    for group in groups:
        try:
            resp = client.describe_log_groups(logGroupNamePrefix=group, limit=50)
        except (bx.BotoCoreError, bx.ClientError) as exc:
            raise from_botocore(exc, service="logs", operation="DescribeLogGroups", log_group=group) from exc
        names = [g.get("logGroupName") for g in resp.get("logGroups", [])]
        if group in names:
            continue
        hint = ""
        try:
            import difflib

            parent = group.rsplit("/", 1)[0] + "/" if "/" in group.strip("/") else ""
            pool = client.describe_log_groups(logGroupNamePrefix=parent, limit=50) if parent else client.describe_log_groups(limit=50)
            close = difflib.get_close_matches(group, [g["logGroupName"] for g in pool.get("logGroups", [])], n=3)
            if close:
                hint = f"; similar: {', '.join(close)}"
        except Exception:  # the suggestion is a courtesy; the error stands without it
            pass
        raise NotFoundError(
            f"log group {group} does not exist in {client.meta.region_name}{hint}; check the name and --region",
            log_group=group,
        )


class Investigation:
    """An incident window, AWS access and an evidence bundle.

    Parameters
    ----------
    start, end:
        The incident window, in any accepted time form (ISO-8601, epoch, ``-2h``, ``now``).
    baseline:
        The comparison window: ``"previous"``, ``"day"``, ``"week"``, a ``Window`` or a
        ``(start, end)`` pair; ``None`` for none.
    region, profile, endpoint_url:
        AWS access (the standard boto3 chain otherwise).
    evidence:
        The evidence bundle folder. Frames already in it are read, not fetched; new ones
        are recorded into it. Default: a new private temporary folder (use :meth:`save`).
    offline:
        Make no AWS call: everything must come from ``evidence``.
    resources:
        Named resources (``log_groups``, ``function_name``, ``table_name`` ... see
        :data:`RESOURCE_PARAMETERS`) used when a method is called without arguments.
    session:
        A ``boto3.Session`` to use instead of ``profile``.

    Example
    -------
    >>> inv = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", baseline="previous")
    >>> str(inv.baseline)
    '2026-03-01T02:00:00Z → 2026-03-01T03:00:00Z (60 min)'
    >>> str(inv.context)
    '2026-03-01T02:00:00Z → 2026-03-01T04:00:00Z (2 h)'
    """

    def __init__(
        self,
        start: TimeLike,
        end: TimeLike,
        *,
        baseline: Any = None,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        evidence: str | os.PathLike[str] | EvidenceBundle | None = None,
        offline: bool = False,
        resources: Mapping[str, Any] | None = None,
        session: Any = None,
    ) -> None:
        self.offline = bool(offline)
        self.window = Window.parse(start, end, allow_future=self.offline)
        self.baseline = self._baseline(baseline)
        self.region = region
        self.profile = profile
        self.endpoint_url = endpoint_url
        self._session = session
        self._own_tmp: str | None = None
        if isinstance(evidence, EvidenceBundle):
            self.bundle = evidence
        elif evidence is not None:
            if offline:
                self.bundle = EvidenceBundle.open(evidence)
            else:
                self.bundle = EvidenceBundle(evidence)
        else:
            if offline:
                raise ParameterError("offline=True needs evidence=<bundle folder> (or use Investigation.open / .sample)")
            self._own_tmp = tempfile.mkdtemp(prefix="incidentkit-evidence-")
            self.bundle = EvidenceBundle(self._own_tmp)
            _remove_when_gone(self, self._own_tmp)
        self.resources: dict[str, Any] = _clean_resources(resources)
        self.sample_name: str | None = None
        self.issues: list[str] = []
        # offline from a folder the caller named: what the findings come from
        self._replayed_from = str(self.bundle.path) if self.offline else None
        self._reset_state()
        self._save_context()

    # -- construction -----------------------------------------------------------------------

    def _baseline(self, baseline: Any) -> Window | None:
        if baseline is None or baseline is False:
            return None
        if isinstance(baseline, Window):
            return baseline
        if isinstance(baseline, str):
            return self.window.baseline(baseline)  # type: ignore[arg-type]
        if isinstance(baseline, Mapping):
            return Window.from_dict(dict(baseline))
        if isinstance(baseline, (tuple, list)) and len(baseline) == 2:
            return Window.parse(baseline[0], baseline[1], allow_future=getattr(self, "offline", False))
        raise ParameterError(f"baseline {baseline!r} is not understood; use 'previous', 'day', 'week', a Window or (start, end)")

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, offline: bool = True, **access: Any) -> "Investigation":
        """Reopen a saved investigation (an evidence bundle, or a run folder) — offline by default.

        Example
        -------
        >>> inv = Investigation.open("runs/triage-20260301T031500Z-3f2a1c")     # doctest: +SKIP
        >>> inv.findings().top.id                                              # doctest: +SKIP
        """
        bundle = EvidenceBundle.open(path)
        ctx = bundle.context
        win = ctx.get("window")
        if not win:
            raise EvidenceError(
                f"{bundle.path} holds no investigation window (it was not written by an Investigation); "
                "open it with EvidenceBundle.open instead",
                path=str(bundle.path),
            )
        inv = cls.__new__(cls)
        inv.window = Window.from_dict(win)
        inv.baseline = Window.from_dict(ctx["baseline"]) if ctx.get("baseline") else None
        inv.region = access.get("region", ctx.get("region"))
        inv.profile = access.get("profile")
        inv.endpoint_url = access.get("endpoint_url")
        inv.offline = offline
        inv._session = access.get("session")
        inv._own_tmp = None
        inv.bundle = bundle
        inv.resources = _clean_resources(ctx.get("resources"))
        inv.sample_name = ctx.get("sample")
        inv.issues = list(ctx.get("issues") or [])
        inv._replayed_from = str(bundle.path)
        inv._reset_state()
        return inv

    @classmethod
    def from_parameters(
        cls,
        *,
        sample: str | None = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        baseline_start: TimeLike | None = None,
        baseline_end: TimeLike | None = None,
        baseline: Any = None,
        resources: Mapping[str, Any] | None = None,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        evidence: str | os.PathLike[str] | None = None,
        offline: bool = False,
    ) -> "Investigation":
        """Build the investigation a template's parameters describe.

        * ``sample`` set: open that bundled sample (written into ``evidence`` when given);
        * ``evidence`` holding a recorded investigation and no window: reopen it (``offline``
          as given; the resources it recorded, overridden by those given);
        * otherwise: a live investigation of ``start``/``end`` recording into ``evidence``.

        Example
        -------
        >>> inv = Investigation.from_parameters(sample="cold-start-tail")          # doctest: +SKIP
        """
        given = _clean_resources(resources)
        if sample:
            inv = cls.sample(sample, evidence=evidence)
            inv.resources.update({k: v for k, v in given.items() if k not in inv.resources})
            return inv
        if baseline is None and baseline_start is not None and baseline_end is not None:
            baseline = (baseline_start, baseline_end)
        recorded: dict[str, Any] = {}
        if evidence is not None and (Path(evidence) / "manifest.json").exists():
            recorded = EvidenceBundle.open(evidence).context
        if start is None or end is None:
            if not recorded.get("window"):
                raise ParameterError("give start and end (or sample=NAME, or evidence=<a recorded bundle>)")
            inv = cls.open(evidence, offline=offline, region=region, profile=profile, endpoint_url=endpoint_url)  # type: ignore[arg-type]
            inv.resources.update(given)
            inv._save_context()
            return inv
        same_window = recorded.get("window") == Window.parse(start, end, allow_future=True).to_dict()
        if baseline is None and recorded.get("baseline") and same_window:
            baseline = Window.from_dict(recorded["baseline"])
        merged = _clean_resources(recorded.get("resources"))
        merged.update(given)
        inv = cls(start, end, baseline=baseline, region=region, profile=profile, endpoint_url=endpoint_url,
                  evidence=evidence, offline=offline, resources=merged)
        if same_window:  # the recorded investigation goes on: its source and its issues still hold
            inv.sample_name = recorded.get("sample")
            inv._replayed_from = str(inv.bundle.path)
            inv.issues = list(recorded.get("issues") or [])
            inv._save_context()
        return inv

    @classmethod
    def sample(cls, name: str, *, evidence: str | os.PathLike[str] | None = None) -> "Investigation":
        """Open a bundled sample incident (by sample name or by finding id), offline.

        The sample's frames are written into an evidence bundle (``evidence``, or a private
        temporary folder) under exactly the names the investigation's own calls ask for,
        so every method works on it as on a live incident, and a run made from it replays.

        Example
        -------
        >>> inv = Investigation.sample("version-skew-errors")     # doctest: +SKIP
        >>> inv.logs().shape[0] > 0                                # doctest: +SKIP
        True
        """
        if name in _samples.names():
            smp = _samples.load(name)
        else:
            ids = {str(i) for i in _samples.catalog()["finding_id"].dropna()}
            if name not in ids:
                import difflib

                close = difflib.get_close_matches(str(name), _samples.names() + sorted(ids), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ParameterError(f"no bundled sample or finding id {name!r}; {hint}samples: {', '.join(_samples.names())}")
            smp = _samples.find(name)
        window = smp.window if isinstance(smp.window, Window) else Window.from_dict(dict(smp.window)) if isinstance(smp.window, Mapping) else Window(*smp.window)
        baseline = smp.baseline
        if baseline is not None and not isinstance(baseline, Window):
            baseline = Window.from_dict(dict(baseline)) if isinstance(baseline, Mapping) else Window(*baseline)
        params = dict(smp.parameters)
        region = params.pop("region", None)
        resources = _clean_resources(params)
        if not resources.get("log_groups") and smp.events is not None and len(smp.events):
            resources["log_groups"] = sorted(pd.unique(smp.events["log_group"].astype(str)))
        bundle_path = evidence if evidence is not None else tempfile.mkdtemp(prefix=f"incidentkit-sample-{smp.name}-")
        bundle = EvidenceBundle(bundle_path)
        inv = cls.__new__(cls)
        inv.window, inv.baseline = window, baseline
        inv.region, inv.profile, inv.endpoint_url = region, None, None
        inv.offline = True
        inv._session = None
        inv._own_tmp = str(bundle_path) if evidence is None else None
        if inv._own_tmp:
            _remove_when_gone(inv, inv._own_tmp)
        inv.bundle = bundle
        inv.resources = resources
        inv.sample_name = smp.name
        inv.issues = []
        inv._replayed_from = None
        inv._reset_state()
        inv._write_sample(smp)
        inv._save_context()
        return inv

    def _write_sample(self, smp: Any) -> None:
        def prov(source: str, window: Window, rows: int, **query: Any) -> dict[str, Any]:
            return schema.provenance(
                f"sample:{smp.name}", query={"sample": smp.name, "as": source, **query}, window=window, region=None,
                complete=True, rows=rows,
            )

        events = smp.events if smp.events is not None else schema.empty_frame("events")
        groups = self.resources.get("log_groups") or []
        for role, win in self._log_windows():
            part = events[(events["timestamp"] >= win.start) & (events["timestamp"] < win.end)].reset_index(drop=True)
            part.attrs = prov("logs.events", win, len(part), log_groups=groups)
            self.bundle.record(self._logs_key(groups, None, win), part, kind="logs")
        if getattr(smp, "s3_objects", None):  # logs the sample keeps in S3: read through the S3 reader
            store = ObjectStore(smp.s3_bucket, smp.s3_objects)
            for _, win in self._log_windows():
                key = self._s3_key(win)
                frame = self._record_s3(key, s3collect.collect_store(store, self.resources, win, parser=batches))
                frame.attrs.update(source=f"sample:{smp.name}")
                self.bundle.record(key, frame, kind="logs")
        metrics_df = smp.metrics if getattr(smp, "metrics", None) is not None else schema.empty_frame("metrics")
        qs_ids = self._metric_ids()
        for win in self._metric_windows():
            part = metrics_df[(metrics_df["timestamp"] >= win.start) & (metrics_df["timestamp"] < win.end)].reset_index(drop=True)
            part.attrs = prov("metrics.get", win, len(part), queries=qs_ids)
            self.bundle.record(self._metrics_key(qs_ids, win, None), part, kind="metrics")
        history = getattr(smp, "history", None)
        if history is not None and history_queries(self.resources):
            ids = [q.id for q in history_queries(self.resources)]
            win = Window(self.window.start - pd.Timedelta(days=HISTORY_SPAN_DAYS), self.window.start)
            part = history[(history["timestamp"] >= win.start) & (history["timestamp"] < win.end)].reset_index(drop=True)
            part.attrs = prov("metrics.get", win, len(part), queries=ids, purpose="history")
            self.bundle.record(self._history_key(ids, win), part, kind="metrics")
        changes_df = smp.changes if getattr(smp, "changes", None) is not None else schema.empty_frame("changes")
        kept = 0
        for win in self._change_windows():
            part = changes_df[(changes_df["timestamp"] >= win.start) & (changes_df["timestamp"] < win.end)].reset_index(drop=True)
            kept += len(part)
            part.attrs = prov("changes.timeline", win, len(part))
            self.bundle.record(self._changes_key(win), part, kind="changes")
        if len(changes_df) > kept:
            self.issues.append(f"sample {smp.name}: {len(changes_df) - kept} change(s) outside the windows read not included")
        if self._wants_health():
            settings = smp.settings if getattr(smp, "settings", None) is not None else schema.empty_frame("settings")
            settings = settings.copy()
            settings.attrs = prov("health.snapshot", self.window, len(settings), frame="settings")
            self.bundle.record(self._health_key("settings"), settings, kind="settings")
            for hname, frame in (getattr(smp, "health", None) or {}).items():
                f = frame.copy()
                f.attrs = prov("health.snapshot", self.window, len(f), frame=hname)
                self.bundle.record(self._health_key(hname), f, kind="health")

    def _save_context(self) -> None:
        self.bundle.set_context(
            window=self.window.to_dict(),
            baseline=self.baseline.to_dict() if self.baseline else None,
            context=self.context.to_dict(),
            region=self.region,
            resources=self.resources,
            sample=self.sample_name,
            issues=self.issues,
        )

    # -- windows ----------------------------------------------------------------------------

    @property
    def context(self) -> Window:
        """The window metrics and changes are read over (see the module docstring)."""
        w, b = self.window, self.baseline
        if b is not None and b.start < w.start and b.end <= w.end and w.start - b.end <= w.duration:
            return Window(b.start, w.end)
        return Window(w.start - w.duration, w.end)

    @property
    def change_window(self) -> Window:
        """What the change timeline is read over: the context window, reaching back at least
        :data:`CHANGE_LOOKBACK` before the incident starts."""
        ctx = self.context
        return Window(min(ctx.start, self.window.start - CHANGE_LOOKBACK), ctx.end)

    def _window(self, which: Any) -> Window:
        if isinstance(which, Window):
            return which
        if which in (None, "incident"):
            return self.window
        if which == "baseline":
            if self.baseline is None:
                raise ParameterError("this investigation has no baseline window; pass baseline= when creating it")
            return self.baseline
        if which == "context":
            return self.context
        if isinstance(which, (tuple, list)) and len(which) == 2:
            return Window.parse(which[0], which[1])
        raise ParameterError(f"window {which!r} is not understood; use 'incident', 'baseline', 'context' or a Window")

    def _log_windows(self) -> list[tuple[str, Window]]:
        out = [("incident", self.window)]
        if self.baseline is not None:
            out.append(("baseline", self.baseline))
        return out

    def _metric_windows(self) -> list[Window]:
        ctx = self.context
        out = [ctx]
        if self.baseline is not None and not (ctx.start <= self.baseline.start and self.baseline.end <= ctx.end):
            out.append(self.baseline)
        return out

    # -- keys (a replay asks for the same names) -------------------------------------------

    @staticmethod
    def _logs_key(groups: Sequence[str], pattern: str | None, win: Window, limit: int | None = None) -> str:
        # a limited read is another frame: it must never stand in for the whole window's logs
        extra = {} if limit is None else {"limit": int(limit)}
        return frame_key("logs", log_groups=list(groups), pattern=pattern, start=_iso(win.start), end=_iso(win.end), **extra)

    @staticmethod
    def _metrics_key(ids: Sequence[str], win: Window, period: int | None) -> str:
        return frame_key("metrics", queries=list(ids), start=_iso(win.start), end=_iso(win.end), period=period)

    def _changes_key(self, win: Window) -> str:
        res = {k: v for k, v in self.resources.items() if k != "log_groups"}
        return frame_key("changes", resources=res, start=_iso(win.start), end=_iso(win.end))

    def _health_key(self, name: str) -> str:
        res = {k: v for k, v in self.resources.items() if k != "log_groups"}
        return frame_key("health", frame=name, resources=res)

    def _metric_ids(self, period: int | None = None) -> list[str]:
        if not any(k in self.resources for k in ("function_name", "api_id", "load_balancer", "target_group_arn", "table_name",
                                                  "db_instance", "health_check_id", "instance_ids")):
            return []
        return [q.id for q in metric_queries(self.resources, period=period)]

    def _wants_health(self) -> bool:
        return any(k in self.resources for k in ("function_name", "load_balancer", "target_group_arn", "table_name",
                                                  "db_instance", "health_check_id", "security_group_ids", "api_id"))

    # -- the fetch/replay core ---------------------------------------------------------------

    def _session_obj(self) -> Any:
        if self._session is None and self.profile:
            self._session = aws.profile_session(self.profile)
        return self._session

    def _aws(self) -> dict[str, Any]:
        return {"session": self._session_obj(), "region": self.region, "endpoint_url": self.endpoint_url}

    def _get(self, key: str, kind: str, fetch: Any, *, window: Window | None = None) -> pd.DataFrame:
        """Read ``key`` from memory or the bundle, or fetch it live and record it."""
        if key in self._raw:
            self._use(key)
            return self._raw[key]
        if key in self.bundle:
            entry = self.bundle.entry(key)
            if self.offline or (entry.get("attrs") or {}).get("complete", True):
                df = self.bundle.load(key)
                self._raw[key] = df
                self._use(key)
                return df
        if self.offline:
            raise EvidenceError(
                f"the evidence bundle has no {kind} frame for this request ({key}); it holds: "
                f"{', '.join(self.bundle.names()) or 'nothing'}. Run it once against AWS to record it",
                path=str(self.bundle.path),
            )
        try:
            df = fetch()
        except IncidentKitError as exc:
            partial = getattr(exc, "partial", None)
            if isinstance(partial, pd.DataFrame) and len(partial):
                kept = partial.copy()
                kept.attrs = dict(partial.attrs)
                what = f"fetch failed after {len(kept):,} rows: {exc}"
            elif isinstance(exc, (NoCredentialsError, NotFoundError, ParameterError)):
                raise  # nothing was read and nothing can be: no frame to keep
            elif isinstance(partial, pd.DataFrame):  # empty, but its attrs count the calls and retries made
                kept = partial.copy()
                kept.attrs = dict(partial.attrs)
                what = f"fetch failed: {exc}"
            else:
                # nothing came back: an empty frame, marked incomplete, so the report and a replay
                # say this source is missing instead of silently showing nothing
                kept = schema.empty_frame(_FRAME_KIND[kind]) if kind in _FRAME_KIND else pd.DataFrame()
                kept.attrs = schema.provenance(f"{kind} (failed)", window=window, region=self.region)
                what = f"fetch failed: {exc}"
            kept.attrs["complete"] = False
            kept.attrs["issues"] = list(kept.attrs.get("issues") or []) + [what]
            self.bundle.record(key, kept, kind=kind)
            self._raw[key] = kept
            self._use(key)
            self._note(f"{kind}: {what}")
            raise
        self.bundle.record(key, df, kind=kind)
        self._raw[key] = df
        self._use(key)
        return df

    def _use(self, key: str) -> None:
        """Note that frame ``key`` was read (what :meth:`frames_read` lists; never what the findings read)."""
        self._read.setdefault(key, None)

    def _note(self, issue: str) -> None:
        if issue not in self.issues:
            self.issues.append(issue)
            self.bundle.set_context(issues=self.issues)

    def _bundle_frames(self, kind: str, win: Window | None) -> list[str]:
        """Frames of ``kind`` in the bundle recorded for ``win`` (any window when None)."""
        names = []
        for name in self.bundle.find(kind):
            w = (self.bundle.entry(name).get("attrs") or {}).get("window")
            if win is None or (isinstance(w, Mapping) and w.get("start") == _iso(win.start) and w.get("end") == _iso(win.end)):
                names.append(name)
        return names

    # -- logs ----------------------------------------------------------------------------------

    def raw_logs(
        self,
        log_groups: str | Sequence[str] | None = None,
        *,
        pattern: str | None = None,
        window: Any = "incident",
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Raw log events (``schema.EVENT_COLUMNS``) of ``log_groups`` in ``window``.

        See :meth:`logs` for the arguments; this returns the frame before parsing.
        """
        return self._logs_frame(log_groups, pattern=pattern, window=window, limit=limit)[1]

    def _logs_frame(self, log_groups: Any, *, pattern: str | None, window: Any, limit: int | None) -> tuple[str, pd.DataFrame]:
        win = self._window(window)
        groups = _listify(log_groups) if log_groups is not None else list(self.resources.get("log_groups") or [])

        def held() -> tuple[str, pd.DataFrame] | None:
            names = self._bundle_frames("logs", win)
            if not names:
                return None
            return "+".join(names), _concat([self._get(n, "logs", None) for n in names], "events")

        if not groups:
            if log_groups is None and self.offline:  # a replayed bundle: its frames of the window are the logs
                found = held()
                if found is not None:
                    return found
            elif log_groups is None:  # live: a frame fetched earlier for another purpose never stands in
                self._note("no log groups given: log analyses are skipped")
            return "empty", schema.empty_frame("events")
        key = self._logs_key(groups, pattern, win, limit)
        if self.offline and log_groups is None and key not in self.bundle and key not in self._raw:
            found = held()
            if found is not None:
                return found

        def fetch() -> pd.DataFrame:
            return _logs.events(groups, win, pattern=pattern, limit=limit, **self._aws())

        return key, self._get(key, "logs", fetch, window=win)

    def logs(
        self,
        log_groups: str | Sequence[str] | None = None,
        *,
        pattern: str | None = None,
        window: Any = "incident",
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Parsed log events of ``log_groups`` in ``window`` (``schema.PARSED_COLUMNS``).

        Parameters
        ----------
        log_groups:
            A log group, a list, or a comma-separated string; default: the investigation's
            ``log_groups`` resource — or, on an opened sample or bundle, every log frame it
            holds for the window.
        pattern:
            A CloudWatch Logs filter pattern (``ERROR``, ``{ $.status >= 500 }``).
        window:
            ``"incident"`` (default), ``"baseline"``, ``"context"`` or a Window.
        limit:
            Stop after this many events (the frame says it is truncated).

        Returns
        -------
        pandas.DataFrame
            Formats auto-detected by :func:`incidentkit.parse.parse`; ``df.attrs`` carries
            the fetch's provenance and the parse statistics.

        Example
        -------
        >>> inv.logs("/aws/lambda/api", pattern="REPORT")       # doctest: +SKIP
        """
        key, raw = self._logs_frame(log_groups, pattern=pattern, window=window, limit=limit)
        return self._parsed_logs(key, raw)

    def _parsed_logs(self, key: str, raw: pd.DataFrame) -> pd.DataFrame:
        if key in self._parsed:
            return self._parsed[key]
        if "format" in raw.columns:  # logs read from S3 come parsed (with their own columns); parse only the others
            todo = raw["format"].isna().to_numpy()
            parsed = raw if not todo.any() else _concat([raw[~todo], parsers.parse(raw.loc[todo, list(schema.EVENT_COLUMNS)])], "parsed")
        else:
            parsed = parsers.parse(raw)
        for k, v in raw.attrs.items():
            parsed.attrs.setdefault(k, v)
        self._parsed[key] = parsed
        return parsed

    def requests(self, *, window: Any = "incident") -> pd.DataFrame:
        """One row per request (``schema.REQUEST_COLUMNS``) from the parsed logs of ``window``.

        Each row carries its ``tier`` (``entry``: an access-log request; ``invocation``: a
        Lambda invocation; ``app``: application lines): one client request behind API
        Gateway and a Lambda authorizer is one entry row and two invocation rows. Count one
        tier — :meth:`impact` does (``incidentkit.analyses.impact.counted`` gives its rows).
        """
        got = self._own_logs(window)  # the log groups' logs and those read from S3
        key, parsed = got if got is not None else ("empty", self._parsed_logs("empty", schema.empty_frame("events")))
        return self._requests_of(key, parsed)

    def _requests_of(self, key: str, parsed: pd.DataFrame) -> pd.DataFrame:
        ck = f"requests:{key}"
        if ck not in self._parsed:
            self._parsed[ck] = parsers.requests(parsed)
        return self._parsed[ck]

    def impact(self, *, latency_slo_ms: float | None = None) -> dict[str, Any]:
        """What users saw, each request counted once: failed and slow requests and clients,
        onset, peak, recovery and duration (:func:`incidentkit.analyses.impact.impact`).

        Counted at the entry point (API Gateway / ALB access log) when its log is in the
        evidence, else at the outermost tier present; ``counted`` says which. Slow means
        above ``latency_slo_ms`` when given, else above the baseline window's P99.

        Example
        -------
        >>> Investigation.sample("version-skew-errors").impact()["counted"]      # doctest: +SKIP
        '1,511 requests at the API Gateway entry point'
        """
        ins = self.inputs()  # the investigation's own evidence, whatever was looked at before
        return _impact.impact(ins.requests, ins.baseline_requests, window=self.window, baseline_window=self.baseline,
                              latency_slo_ms=latency_slo_ms)

    # -- metrics ------------------------------------------------------------------------------

    def metrics(
        self,
        queries: Any = None,
        resource: str | None = None,
        *,
        window: Any = "context",
        period: int | None = None,
    ) -> pd.DataFrame:
        """CloudWatch metrics as a long frame (``schema.METRIC_COLUMNS``).

        Parameters
        ----------
        queries:
            ``None``: every preset that applies to the investigation's resources;
            a preset name (``"lambda_function"``, ``"dynamodb_table"`` ...) with ``resource``;
            or a list of :class:`~incidentkit.fetch.metrics.MetricQuery`.
        resource:
            The resource a preset name is for.
        window:
            ``"context"`` (default: baseline through incident), ``"incident"``, ``"baseline"``
            or a Window.
        period:
            Seconds (default: chosen from the window's length and age).

        Example
        -------
        >>> inv.metrics("dynamodb_table", "orders")          # doctest: +SKIP
        """
        if queries is None and resource is None:
            qs = metric_queries(self.resources, period=period) if self._metric_ids(period) else []
        elif isinstance(queries, str):
            preset = getattr(_metrics, queries, None)
            if preset is None or queries.startswith("_") or not callable(preset):
                raise ParameterError(f"no metric preset {queries!r}; use lambda_function, api_gateway, alb, target_group, "
                                     "dynamodb_table, rds_instance, route53_health_check or ec2_instance")
            if resource is None:
                raise ParameterError(f"metric preset {queries} needs the resource it is for, e.g. inv.metrics({queries!r}, 'name')")
            qs = list(preset(resource, period=period))
        else:
            qs = _metrics.as_queries(queries)
        if not qs:
            if self.offline and queries is None:
                names = self._bundle_frames("metrics", None)
                if names:
                    return _concat([self._get(n, "metrics", None) for n in names], "metrics")
            return schema.empty_frame("metrics")
        ids = [q.id for q in qs]
        wins = self._metric_windows() if window == "context" else [self._window(window)]
        frames = []
        for win in wins:
            key = self._metrics_key(ids, win, period)

            def fetch(win: Window = win) -> pd.DataFrame:
                return _metrics.get(qs, win, period=period, **self._aws())

            frames.append(self._get(key, "metrics", fetch, window=win))
        return frames[0] if len(frames) == 1 else _concat(frames, "metrics")

    def metric_history(self) -> pd.DataFrame | None:
        """A week of coarse metrics before the incident, for schedule questions (a daily job behind a burst).

        The queries are :func:`incidentkit.fetch.metric_presets.history_queries` of the resources; the
        window and period come from :func:`incidentkit.fetch.metrics.history_window` (a period CloudWatch
        still keeps for that age). Recorded in the evidence bundle like any frame; None when no
        resource has a schedule question, or when an offline bundle was recorded without it.
        """
        qs = history_queries(self.resources)
        if not qs:
            return None
        win, period = _metrics.history_window(self.window)
        key = self._history_key([q.id for q in qs], win)
        if self.offline and key not in self.bundle:
            return None
        return self._get(key, "metrics", lambda: _metrics.get(qs, win, period=period, **self._aws()), window=win)

    @staticmethod
    def _history_key(ids: Sequence[str], win: Window) -> str:
        # no period in the name: the period follows the data's age, and a recording replays whenever it is opened
        return frame_key("metrics", queries=list(ids), start=_iso(win.start), end=_iso(win.end), purpose="history")

    # -- changes --------------------------------------------------------------------------

    def changes(self, *, window: Any = "context") -> pd.DataFrame:
        """The change timeline (``schema.CHANGE_COLUMNS``): deploys, config and security changes.

        Read over :attr:`change_window` by default: the context window, reaching back at
        least :data:`CHANGE_LOOKBACK` before the incident — the change behind an incident
        can be hours older than its first error (a nightly job hitting new code) — and
        over the baseline window too when it lies apart (e.g. the same hour a day before).
        """
        wins = self._change_windows() if window == "context" else [self._window(window)]
        frames = [self._changes_in(win) for win in wins]
        return frames[0] if len(frames) == 1 else _concat(frames, "changes")

    def _change_windows(self) -> list[Window]:
        cw, b = self.change_window, self.baseline
        if b is not None and not (cw.start <= b.start and b.end <= cw.end):
            return [cw, b]  # the same change on a baseline day that went well is worth seeing
        return [cw]

    def _changes_in(self, win: Window) -> pd.DataFrame:
        key = self._changes_key(win)
        if self.offline and key not in self.bundle and key not in self._raw:
            names = self._bundle_frames("changes", win) or self._bundle_frames("changes", None)
            if names:
                return _concat([self._get(n, "changes", None) for n in names], "changes")

        def fetch() -> pd.DataFrame:
            res = {k: v for k, v in self.resources.items() if k != "log_groups"}
            return _changes.timeline(win, resources=res, **self._aws())

        return self._get(key, "changes", fetch, window=win)

    # -- health -----------------------------------------------------------------------------

    def health(self) -> dict[str, pd.DataFrame]:
        """Health and configuration snapshot of the named resources.

        Returns the frames by name (``summary``, ``settings``, ...). Live, this is the
        state *now* (describe calls), recorded so a replay sees what the run saw.
        """
        res = {k: v for k, v in self.resources.items() if k != "log_groups"}
        names_key = self._health_key("settings")
        if names_key in self._raw or names_key in self.bundle:
            out = {"settings": self._get(names_key, "settings", None)}
            wanted = {self._health_key(n): n for n in self._recorded_health_names()}
            for key, hname in wanted.items():
                out[hname] = self._get(key, "health", None)
            return out
        if self.offline:
            if not self._wants_health():
                return {}
            raise EvidenceError("the evidence bundle has no health snapshot for these resources", path=str(self.bundle.path))
        res = {k: v for k, v in res.items() if k in _health.RESOURCE_KEYS}
        if not res:
            return {}
        snap = _health.snapshot(res, **self._aws())
        out: dict[str, pd.DataFrame] = {}
        settings = getattr(snap, "settings", None)
        if settings is not None:
            self.bundle.record(names_key, settings, kind="settings")
            self._raw[names_key] = settings
            self._use(names_key)
            out["settings"] = settings
        frames = dict(getattr(snap, "frames", {}) or {})
        summary = getattr(snap, "summary", None)
        if isinstance(summary, pd.DataFrame):
            frames.setdefault("summary", summary)
        for hname, frame in frames.items():
            if not isinstance(frame, pd.DataFrame):
                continue
            key = self._health_key(hname)
            self.bundle.record(key, frame, kind="health")
            self._raw[key] = frame
            self._use(key)
            out[hname] = frame
        self.bundle.set_context(health_frames=sorted(out))
        return out

    def _recorded_or_live_health(self) -> dict[str, pd.DataFrame] | None:
        """The health step of :meth:`collect`: a bundle recorded without a health snapshot replays
        without one (said in :attr:`issues`), where :meth:`health` asked directly refuses."""
        if self.offline and self._health_key("settings") not in self.bundle:
            self._note("health: the evidence bundle holds no health snapshot (recorded without one); "
                       "the checks that need it are not run")
            return None
        return self.health()

    def _recorded_health_names(self) -> list[str]:
        names = [n for n in (self.bundle.context.get("health_frames") or []) if n != "settings"]
        if names:
            return names
        # a sample bundle: the frames of kind health whose query names them
        out = []
        for key in self.bundle.find("health"):
            q = (self.bundle.entry(key).get("attrs") or {}).get("query") or {}
            if q.get("frame") and self._health_key(q["frame"]) == key:
                out.append(q["frame"])
        return out

    # -- everything at once, and the findings -----------------------------------------------
    #
    # The findings are a function of the investigation's own evidence alone: the logs of its
    # log groups in the incident and the baseline windows, the metrics of its resources over
    # the context, the change timeline and the health snapshot. Each is read once (the first
    # call that needs it: collect, inputs or findings) and kept in ``_evidence``; a frame fetched
    # for another purpose (``logs("/other")``, ``metrics("dynamodb_table", "t")``, a pattern, a
    # window of one's own) is recorded in the bundle but never becomes an input, so what a
    # person looks at first can never change what the investigation concludes.

    def _reset_state(self) -> None:
        """Start with nothing read and nothing concluded (frames already in the bundle stay there)."""
        self._raw: dict[str, pd.DataFrame] = {}
        self._parsed: dict[str, pd.DataFrame] = {}
        self._read: dict[str, None] = {}
        self._evidence: dict[str, Any] = {}
        self._evidence_of: str | None = None
        self._findings: Any = None

    def _definition(self) -> str:
        """What the evidence is read for: the windows and the resources (as one comparable text)."""
        return json.dumps({"window": self.window.to_dict(), "baseline": self.baseline.to_dict() if self.baseline else None,
                           "resources": self.resources}, sort_keys=True, default=str)

    def _own_evidence(self) -> dict[str, Any]:
        """The evidence read so far for the current definition; forgotten when the definition changed."""
        definition = self._definition()
        if definition != self._evidence_of:
            self._evidence, self._findings, self._evidence_of = {}, None, definition
        return self._evidence

    def _own_logs(self, which: str) -> tuple[str, pd.DataFrame] | None:
        """``(key, parsed)`` of the investigation's logs in ``which`` window; None when there are none to read."""
        key, raw = self._logs_frame(None, pattern=None, window=which, limit=None)
        s3 = self._s3_logs_frame(self._window(which), held=key.split("+"))
        if s3 is not None:
            key, raw = (s3[0], s3[1]) if key == "empty" else (f"{key}+{s3[0]}", _concat([raw, s3[1]], "events"))
        return None if key == "empty" else (key, self._parsed_logs(key, raw))

    def _s3_logs_frame(self, win: Window, held: Sequence[str] = ()) -> tuple[str, pd.DataFrame] | None:
        """The window's logs read from S3 (:mod:`incidentkit.fetch.s3logs`), when a resource names them."""
        key = self._s3_key(win)
        if key is None:
            return None
        if key in held:
            return None  # a replayed bundle's frames of the window already hold it
        if self.offline and key not in self.bundle and key not in self._raw:
            return None
        fetch = lambda: self._record_s3(key, s3collect.collect(self.resources, win, parser=batches, **self._aws()))  # noqa: E731
        frame = self._get(key, "logs", fetch, window=win)
        for name in self._s3_ledgers(key):  # the ledger of objects and Athena's frames are read with the rows
            self._use(name)
        return key, frame

    def _s3_ledgers(self, key: str) -> list[str]:
        """Frames recorded beside the S3 logs frame ``key`` (its ledger of objects, Athena's aggregates)."""
        names = [frame_key("s3objects", of=key)]
        names += [frame_key("aggregates", of=key, what=w, by=d) for w in ("latency", "errors") for d in ("all", *S3_DIMENSIONS)]
        return [n for n in names if n in self.bundle]

    def _record_s3(self, key: str, got: s3collect.S3Logs) -> pd.DataFrame:
        """Record the ledger of objects and Athena's aggregates of the S3 logs frame ``key``; its rows."""
        if got.objects is not None:
            self.bundle.record(frame_key("s3objects", of=key), got.objects, kind="s3objects")
        for (what, dim), frame in got.aggregates.items():
            self.bundle.record(frame_key("aggregates", of=key, what=what, by=dim), frame, kind="aggregates")
        return got.frame

    def _s3_key(self, win: Window) -> str | None:
        """The frame name of the window's S3 logs (None when no resource names any)."""
        res = {k: v for k, v in self.resources.items() if k in S3_RESOURCE_KEYS}
        return frame_key("logs", s3=res, start=_iso(win.start), end=_iso(win.end)) if res else None

    def s3_logs(self, *, window: Any = "incident") -> pd.DataFrame:
        """Parsed logs of ``window`` read from S3 (load balancer, CloudFront, VPC Flow, WAF ...):
        ``schema.PARSED_COLUMNS`` plus each format's own columns (``target``, ``target_status``,
        ``error_reason`` ...). Empty when no resource names such logs.

        Example
        -------
        >>> inv.s3_logs()[["timestamp", "status", "target", "error_reason"]]   # doctest: +SKIP
        """
        got = self._s3_logs_frame(self._window(window))
        return got[1] if got is not None else batches.empty()

    def _own_signatures(self) -> pd.DataFrame | None:
        """The error signatures of the logs just collected (see :meth:`signatures`); None without logs."""
        logs, base = self._evidence.get("logs"), self._evidence.get("baseline logs")
        if not logs:
            return None
        return window_signatures(
            logs[1], base[1] if base else None,
            self._requests_of(*logs) if len(logs[1]) else None,
            self._requests_of(*base) if base and len(base[1]) else None,
            window=self.window, baseline_window=self.baseline if base else None)

    def signatures(self) -> pd.DataFrame:
        """What is new in the logs: the message templates of the error lines of the incident window,
        new ones first, then those that grew against the baseline window (with a masked example line).

        A collect step like the logs (see :meth:`collect`): computed once from the investigation's
        own logs, kept with its evidence, and what the ``error-spike`` finding reads — so the
        findings stay a pure function of the evidence. Columns:
        :data:`incidentkit.analyses.signatures.SIGNATURE_COLUMNS`.

        Example
        -------
        >>> Investigation.sample("oom-after-deploy").signatures()[["template", "new"]].head(1)  # doctest: +SKIP
        """
        evidence = self._own_evidence()
        if "signatures" not in evidence:
            self.collect(metrics=False, changes=False, health=False)
        found = evidence.get("signatures")
        return found if found is not None else window_signatures(None, None)

    def log_patterns(self, log_groups: str | Sequence[str] | None = None) -> pd.DataFrame:
        """The error signatures of a window too large to pull, mined server-side by Logs Insights.

        The same frame as :meth:`signatures` (``source`` = ``insights-pattern``), from the
        ``pattern`` command run on the incident window and the baseline
        (:func:`incidentkit.fetch.insights.insights_error_patterns`): no log line is downloaded,
        counts cover every line, rates are per second (no request count), no example line and no
        first/last seen. The patterns are kept in the evidence bundle, so a replay reads them
        offline. The ``error-spike`` finding reads :meth:`signatures`, not this.

        Example
        -------
        >>> inv.log_patterns()[["template", "count", "baseline_count", "new"]]   # doctest: +SKIP
        """
        groups = _listify(log_groups) if log_groups is not None else list(self.resources.get("log_groups") or [])
        if not groups:
            raise ParameterError("log_patterns needs log groups: pass log_groups= or create the investigation with log_groups")
        base = self.baseline
        key = frame_key("patterns", log_groups=groups, start=_iso(self.window.start), end=_iso(self.window.end),
                        baseline=[_iso(base.start), _iso(base.end)] if base is not None else None)

        def fetch() -> pd.DataFrame:
            return _insights.insights_error_patterns(groups, self.window, baseline=base, **self._aws())

        patterns = self._get(key, "patterns", fetch, window=self.window)
        seconds = (self.window.end - self.window.start).total_seconds()
        return from_patterns(patterns, exposure=seconds,
                             baseline_exposure=(base.end - base.start).total_seconds() if base is not None else None)

    def _own_metrics(self) -> pd.DataFrame | None:
        """The metrics of the investigation's resources; None when it names none (and the bundle holds none)."""
        if not self._metric_ids() and not (self.offline and self._bundle_frames("metrics", None)):
            return None
        return self.metrics()

    def _evidence_steps(self, *, logs: bool, metrics: bool, changes: bool, health: bool) -> list[tuple[str, Any, bool]]:
        """``(name, read, replayable)``: a replayable read keeps what a failed fetch returned."""
        steps: list[tuple[str, Any, bool]] = []
        if logs:
            steps.append(("logs", lambda: self._own_logs("incident"), True))
            if self.baseline is not None:
                steps.append(("baseline logs", lambda: self._own_logs("baseline"), True))
            steps.append(("signatures", self._own_signatures, False))
        if metrics:
            steps.append(("metrics", self._own_metrics, True))
            steps.append(("metric history", self.metric_history, True))
        if changes:
            steps.append(("changes", self.changes, True))
        if health and self._wants_health():
            steps.append(("health", self._recorded_or_live_health, False))
        return steps

    def _read_step(self, what: str, read: Any, replayable: bool) -> Any:
        try:
            return read()
        except (NoCredentialsError, NotFoundError, EvidenceError, ParameterError):
            raise
        except AwsError as exc:
            self._note(f"{what} could not be read: {exc}")
            warnings.warn(f"{what} could not be read: {exc}", IncompleteDataWarning, stacklevel=4)
        except ImportError as exc:  # a data-layer module missing from this install
            self._note(f"{what}: not available ({exc})")
            return None
        if not replayable:
            return None
        try:  # the failed fetch kept its frame (the rows read, or empty and marked incomplete): read that
            return read()
        except AwsError:
            return None

    def collect(self, *, logs: bool = True, metrics: bool = True, changes: bool = True, health: bool = True) -> "Investigation":
        """Fetch (or replay) everything the resources allow: logs of the incident and the
        baseline, metrics, the change timeline and the health snapshot.

        Each is read once: calling it again (or :meth:`findings`, which collects what is
        missing) reads nothing new. A source that cannot be read (access denied, a throttled
        API) is reported in :attr:`issues` and the data-quality appendix, and the others
        still come; missing credentials or a missing log group stop the investigation.
        """
        evidence = self._own_evidence()
        for what, read, replayable in self._evidence_steps(logs=logs, metrics=metrics, changes=changes, health=health):
            if what not in evidence:
                evidence[what] = self._read_step(what, read, replayable)
        return self

    def inputs(self) -> Any:
        """What the detectors read (:class:`incidentkit.findings.Inputs`): the investigation's own
        evidence (see :meth:`collect`), whatever else was fetched or looked at before."""
        self.collect()
        ev = self._evidence
        logs, baseline_logs = ev.get("logs"), ev.get("baseline logs")
        health = dict(ev.get("health") or {})
        settings = health.pop("settings", None)
        return Inputs(
            window=self.window,
            baseline=self.baseline,
            logs=logs[1] if logs else None,
            baseline_logs=baseline_logs[1] if baseline_logs else None,
            requests=self._requests_of(*logs) if logs and len(logs[1]) else None,
            baseline_requests=self._requests_of(*baseline_logs) if baseline_logs and len(baseline_logs[1]) else None,
            metrics=ev.get("metrics"),
            metric_history=ev.get("metric history"),
            changes=ev.get("changes"),
            settings=settings,
            health=health,
            resources={k: v for k, v in self.resources.items() if k != "log_groups"},
            signatures=ev.get("signatures"),
        )

    def findings(self, **kwargs: Any) -> Any:
        """Run every applicable detector on the investigation's evidence; most likely cause first.

        A pure function of the evidence: the same result whatever was called before
        (:meth:`logs`, :meth:`requests`, an ad-hoc :meth:`metrics` ...). What is not read yet
        is collected first (:meth:`collect`); the result is kept until the window or the
        resources change. Keyword arguments go to :func:`incidentkit.findings.detect`
        (``only=``, ``extra=``).

        Example
        -------
        >>> inv = Investigation.sample("cold-start-tail")                  # doctest: +SKIP
        >>> _ = inv.requests(); inv.findings() == Investigation.sample("cold-start-tail").findings()  # doctest: +SKIP
        True
        """
        self._own_evidence()
        if self._findings is not None and not kwargs:
            return self._findings
        result = detect(self.inputs(), **kwargs)
        result.inconclusive = self.bundle.unread_primary()
        if not kwargs:
            self._findings = result
        return result

    @property
    def computed_findings(self) -> Any:
        """The findings of the last :meth:`findings` call (a FindingList), or None before one: never runs a detector."""
        return self._findings

    @property
    def frames_read(self) -> list[str]:
        """The evidence frames read so far (by any call), in the order first read."""
        return list(self._read)

    @property
    def source(self) -> str:
        """Where the evidence comes from (``findings.json``'s ``source``): ``sample:<name>`` for a
        bundled sample (also when replayed), ``evidence:<folder>`` for a recorded bundle replayed,
        ``aws`` for a live investigation.

        Example
        -------
        >>> Investigation.sample("cold-start-tail").source          # doctest: +SKIP
        'sample:cold-start-tail'
        """
        if self.sample_name:
            return f"sample:{self.sample_name}"
        if self._replayed_from:
            return f"evidence:{self._replayed_from}"
        return "aws"

    @property
    def parameters(self) -> dict[str, Any]:
        """What identifies this investigation (window, baseline, resources, sample, region)."""
        out: dict[str, Any] = {"start": _iso(self.window.start), "end": _iso(self.window.end)}
        if self.baseline is not None:
            out["baseline_start"], out["baseline_end"] = _iso(self.baseline.start), _iso(self.baseline.end)
        if self.sample_name:
            out["sample"] = self.sample_name
        if self.region:
            out["region"] = self.region
        out.update(self.resources)
        return out

    def data_quality(self) -> pd.DataFrame:
        """One row per recorded frame: rows, API calls, completeness (the report's appendix)."""
        return self.bundle.summary()

    # -- pinning -----------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Copy the evidence bundle to ``path`` (a new folder) and return it.

        Reopen it anywhere with :meth:`open` — offline, same findings.
        """
        dst = Path(path)
        self._save_context()
        if dst.resolve() == self.bundle.path.resolve():
            return dst
        if dst.exists() and any(dst.iterdir()):
            raise EvidenceError(f"{dst} exists and is not empty; save to a new folder", path=str(dst))
        if dst.exists():
            dst.rmdir()
        copy_bundle(self.bundle.path, dst)
        return dst

    def close(self) -> None:
        """Remove the private temporary bundle now, if this investigation made one (it also goes
        when the investigation is garbage-collected or the interpreter exits)."""
        if self._own_tmp:
            shutil.rmtree(self._own_tmp, ignore_errors=True)
            self._own_tmp = None

    def __enter__(self) -> "Investigation":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._save_context()

    # -- display -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        # window, source, evidence, findings (never fetches), drawn by incidentkit.render.display
        return views.show("investigation_repr", self, fallback=self._line())

    def __str__(self) -> str:
        return views.show("investigation_text", self, fallback=self._line())

    def _repr_html_(self) -> str:
        return views.show("investigation_html", self, fallback=f"<pre>{html.escape(self._line())}</pre>")

    def _line(self) -> str:
        return f"Investigation {_iso(self.window.start)} – {_iso(self.window.end)} ({self.source})"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))


def _remove_when_gone(inv: "Investigation", path: str) -> None:
    """A private temporary bundle (production data) goes with its investigation (``save()`` keeps one)."""
    import weakref

    weakref.finalize(inv, shutil.rmtree, path, True)


_FRAME_KIND = {"logs": "events", "metrics": "metrics", "changes": "changes", "settings": "settings"}


def _concat(frames: Sequence[pd.DataFrame], kind: str) -> pd.DataFrame:
    frames = [f for f in frames if f is not None]
    if not frames:
        return schema.empty_frame(kind)
    if len(frames) == 1:
        return frames[0]
    nonempty = [f for f in frames if len(f)] or frames[:1]
    out = schema.concat(nonempty, ignore_index=True, sort=False)
    if "timestamp" in out.columns:
        out = out.sort_values("timestamp", kind="stable").reset_index(drop=True)
    attrs = dict(frames[0].attrs)
    attrs["complete"] = all(bool(f.attrs.get("complete", True)) for f in frames)
    attrs["truncated"] = any(bool(f.attrs.get("truncated", False)) for f in frames)
    attrs["issues"] = [i for f in frames for i in (f.attrs.get("issues") or [])]
    attrs["api_calls"] = sum(int(f.attrs.get("api_calls") or 0) for f in frames)
    attrs["parts"] = len(frames)
    out.attrs = attrs
    return out
