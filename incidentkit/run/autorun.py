"""Investigations that start themselves: from an alarm to a published report.

:func:`run_from_event` is what a Lambda function or a container task calls with the
EventBridge "CloudWatch Alarm State Change" event; :func:`run_from_alarm` is the CLI's
``--from-alarm``. Both derive the window, baseline and parameters from the alarm
(:mod:`incidentkit.fetch.alarms`), let explicitly given parameters win, run the template, and
publish to S3 when ``out`` is an ``s3://`` URL (:mod:`incidentkit.run.publish`).

The same alarm transition delivered twice yields one report: the run id is derived from
the alarm ARN and the transition time, and a run already present (a local folder, or a
published manifest in S3) is not run again.

Example
-------
>>> run_id_for("triage", pd.Timestamp("2026-03-01T03:10:40Z"), "0123456789abcdef")
'triage-20260301T031040Z-alarm-01234567'
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

from .._util.fmt import iso, stamp
from ..errors import AwsError, IncidentKitError, NotebookError, ParameterError, from_botocore
from ..fetch import alarms, aws
from ..masking import mask_obj, mask_text
from . import publish, runner, templates

__all__ = [
    "AutoRun",
    "run_from_event",
    "run_from_alarm",
    "run_derived",
    "run_to",
    "run_id_for",
    "check_destination",
    "summary",
    "handler",
]

log = logging.getLogger(__name__)

#: Called with the derivation and every note (the derivation's and the run's) before the template runs.
OnDerived = Callable[[alarms.Derivation, list[str]], None]


@dataclass
class AutoRun:
    """The outcome of an alarm-triggered run."""

    derivation: alarms.Derivation
    run_id: str
    location: str  # local folder or s3:// URL
    skipped: bool = False  # the same transition was already investigated
    result: Any = None  # runner.RunResult when it ran
    notes: list[str] = field(default_factory=list)


def run_id_for(template: str, transition_time: pd.Timestamp, key: str) -> str:
    """The deterministic run id of an alarm transition."""
    return f"{template}-{stamp(transition_time)}-alarm-{key[:8]}"


def _one_line(exc: BaseException, limit: int = 200) -> str:
    """An error as one short line (an HTML error page from an endpoint becomes its text)."""
    text = re.sub(r"<[^>]+>", " ", str(exc))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_destination(url: str, *, session: Any = None, region: str | None = None, endpoint_url: str | None = None) -> None:
    """Check that the output bucket can be listed under its prefix, before minutes are spent running.

    ``HeadObject`` answers a plain 404 for a missing bucket and a missing key alike, so a
    bucket that does not exist would otherwise show only after the run, at upload time.

    Raises
    ------
    NotFoundError, AccessDeniedError, AwsError
        The bucket does not exist, or listing the prefix is refused (the bucket is named).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = publish.parse_s3_url(url)
    s3 = aws.client("s3", session=session, region=region, endpoint_url=endpoint_url, allow_writes_to=url)
    try:
        s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    except (ClientError, BotoCoreError) as exc:
        raise from_botocore(exc, service="s3", bucket=bucket, key_prefix=prefix) from exc


def _run_facts(result: Any, run_id: str, context: Mapping[str, Any] | None) -> dict[str, Any]:
    """The published manifest's run facts (what a reader of the bucket needs without opening the run)."""
    doc = result.result or {}
    facts = {
        "run_id": run_id,
        "template": result.template,
        "window": doc.get("window"),
        "baseline": doc.get("baseline"),
        "findings": [f.get("id") for f in doc.get("findings") or []],
        "complete": (doc.get("data_quality") or {}).get("complete"),
    }
    if context:
        facts["context"] = dict(context)
    return mask_obj(json.loads(json.dumps(facts, default=str)))


def run_to(
    template: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    out: str | os.PathLike[str] = "runs",
    run_id: str | None = None,
    context: Mapping[str, Any] | None = None,
    sse: str | None = None,
    kms_key_id: str | None = None,
    session: Any = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    preflight: bool = True,
    **run_kwargs: Any,
) -> tuple[Any, str]:
    """Run ``template`` into a local folder or publish it to ``s3://bucket/prefix``.

    For S3, the run is written to a private temporary folder, uploaded with its manifest
    last (:func:`incidentkit.run.publish.upload_run`) and the folder removed. Returns the
    ``RunResult`` and where the run is (a folder, or the run's ``s3://`` URL).
    """
    out_text = os.fspath(out)
    if sse not in (None, "AES256", "aws:kms"):
        raise ParameterError(f"--sse {sse!r} is not one of AES256, aws:kms")
    if not out_text.startswith("s3://"):
        if sse or kms_key_id:
            raise ParameterError("--sse/--kms-key-id apply to an s3:// --out only (a local folder is not encrypted by the kit)")
        result = runner.run(template, parameters, out=out, region=region, profile=profile, endpoint_url=endpoint_url,
                            run_id=run_id, context=context, **run_kwargs)
        return result, str(result.path)
    publish.parse_s3_url(out_text)
    if preflight:
        check_destination(out_text, session=session, region=region, endpoint_url=endpoint_url)
    work = Path(tempfile.mkdtemp(prefix="incidentkit-"))
    try:
        try:
            result = runner.run(template, parameters, out=work, region=region, profile=profile, endpoint_url=endpoint_url,
                                run_id=run_id, context=context, **run_kwargs)
        except NotebookError as exc:
            _publish_failed(exc, out_text, sse=sse, kms_key_id=kms_key_id, session=session, region=region,
                            endpoint_url=endpoint_url)
            raise
        facts = _run_facts(result, result.run_id, context)
        (result.path / publish.PUBLISHED_MANIFEST).write_text(json.dumps(facts, indent=2), encoding="utf-8")
        url = publish.upload_run(result.path, out_text, run_id=result.run_id, sse=sse, kms_key_id=kms_key_id,
                              session=session, region=region, endpoint_url=endpoint_url)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result, url


def _publish_failed(exc: NotebookError, url: str, **publish_kwargs: Any) -> None:
    """Upload a failed run (the partially executed notebook) under ``<run-id>.failed/``.

    The team finds what failed where the report would have been; the error then names the
    uploaded notebook. Its index goes last as ``failed.json``
    (:data:`incidentkit.run.publish.FAILED_MARKER`), never as the ``manifest.json`` that marks
    a complete run. A failure to upload is added to the error, never raised over it.
    """
    notebook = exc.context.get("notebook")
    folder = Path(notebook).parent if notebook else None
    if folder is None or not folder.is_dir():
        return
    try:
        where = publish.upload_run(folder, url, run_id=folder.name, error=str(exc), **publish_kwargs)
    except IncidentKitError as pub_exc:
        exc.context["upload_error"] = str(pub_exc)
        return
    exc.context["notebook"] = f"{where}report.ipynb"


def run_derived(
    derivation: alarms.Derivation,
    *,
    template: str = "triage",
    out: str | os.PathLike[str] = "runs",
    parameters: Mapping[str, Any] | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    session: Any = None,
    sse: str | None = None,
    kms_key_id: str | None = None,
    hide_code: bool = False,
    on_derived: OnDerived | None = None,
    **run_kwargs: Any,
) -> AutoRun:
    """Run ``template`` for a derivation; publish to S3 when ``out`` is an ``s3://`` URL.

    Parameters given explicitly (``parameters``; the window as ``start``/``end``/
    ``baseline_start``/``baseline_end``) win over derived ones, with a note; derived
    parameters the template does not declare are left out and noted. ``on_derived`` is
    called before anything runs (the CLI prints what was derived there).
    """
    tpl = templates.get(template)
    declared = set(tpl.parameter_names)
    notes = list(derivation.notes)
    values: dict[str, Any] = {}
    for name, value in derivation.parameters.items():
        if name in declared:
            values[name] = value
        else:
            notes.append(f"derived {name}={value!r} is not a parameter of template {tpl.name!r}; left out")
    values.update({"start": derivation.window.start, "end": derivation.window.end,
                   "baseline_start": derivation.baseline.start, "baseline_end": derivation.baseline.end})
    if "sample" in declared:
        values["sample"] = None
    explicit = dict(parameters or {})
    if explicit.get("sample"):
        raise ParameterError("give either -p sample=NAME or an alarm (--from-alarm/--from-event), not both")
    coerced = tpl.coerce({k: v for k, v in explicit.items() if k in declared and k not in templates.RUN_PARAMETERS})
    for name, value in coerced.items():
        if name in values and values[name] != value:
            notes.append(f"{name}: the command line's {explicit[name]!r} wins over the derived {_show(values[name])}")
    values.update(explicit)
    region = region or derivation.trigger.alarm.region
    run_id = run_id_for(tpl.name, derivation.trigger.transition_time, derivation.key)
    context = {"alarm": derivation.to_dict(), "alarm_notes": notes}
    out_text = os.fspath(out)
    if out_text.startswith("s3://"):
        check_destination(out_text, session=session, region=region, endpoint_url=endpoint_url)
        if publish.exists(out_text, run_id, session=session, region=region, endpoint_url=endpoint_url):
            return AutoRun(derivation, run_id, f"{out_text.rstrip('/')}/{run_id}/", skipped=True, notes=notes)
    else:
        local = Path(out_text) / run_id
        if local.exists():
            return AutoRun(derivation, run_id, str(local), skipped=True, notes=notes)
    if on_derived is not None:
        on_derived(derivation, notes)
    result, location = run_to(tpl.name, values, out=out, run_id=run_id, context=context, sse=sse, kms_key_id=kms_key_id,
                              session=session, region=region, profile=profile, endpoint_url=endpoint_url,
                              hide_code=hide_code, preflight=False, **run_kwargs)
    return AutoRun(derivation, run_id, location, result=result, notes=notes)


def _show(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return str(iso(value))
    return repr(value)


def run_from_event(
    event: Mapping[str, Any],
    *,
    template: str | None = None,
    out: str | os.PathLike[str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    session: Any = None,
    sse: str | None = None,
    kms_key_id: str | None = None,
    now: pd.Timestamp | None = None,
    on_derived: OnDerived | None = None,
    **run_kwargs: Any,
) -> AutoRun:
    """Investigate the alarm transition an EventBridge event reports, and publish the report.

    ``template`` defaults to ``INCIDENTKIT_TEMPLATE`` or ``triage``; ``out`` to
    ``INCIDENTKIT_OUT`` or ``runs``; ``kms_key_id`` to ``INCIDENTKIT_KMS_KEY_ID``. The
    alarm's history is read when allowed (to find recovery); composite alarms have the
    children that fired described. Both degrade to the event alone, with a note.

    Example
    -------
    >>> done = run_from_event(json.load(open("event.json")), out="s3://reports/incidents")  # doctest: +SKIP
    >>> done.location, done.skipped                                                          # doctest: +SKIP
    ('s3://reports/incidents/triage-20260301T031040Z-alarm-5f0c2a91/', False)
    """
    template = template or os.environ.get("INCIDENTKIT_TEMPLATE") or "triage"
    out = out or os.environ.get("INCIDENTKIT_OUT") or "runs"
    kms_key_id = kms_key_id or os.environ.get("INCIDENTKIT_KMS_KEY_ID") or None
    if session is None and profile:
        session = aws.profile_session(profile)
    trigger = alarms.trigger_from_event(event)
    region = region or trigger.alarm.region
    access = {"session": session, "region": region, "endpoint_url": endpoint_url}
    notes: list[str] = []
    if trigger.alarm.kind == "composite":
        try:
            alarms.resolve_children(trigger, **access)
        except AwsError as exc:
            notes.append(f"composite alarm children not described ({_one_line(exc)}); pass resource parameters with -p")
        if trigger.triggering_children and not trigger.alarm.children:
            notes.append("none of the composite alarm's children that fired could be described")
    now = now if now is not None else pd.Timestamp.now(tz="UTC").floor("s")
    transitions = None
    try:
        transitions = alarms.history(trigger.alarm, start=trigger.transition_time - pd.Timedelta(days=1), end=now, **access)
    except AwsError as exc:
        notes.append(f"alarm history not read ({_one_line(exc)}); the window ends now or at the 24 h cap")
    derivation = alarms.derive(trigger, transitions=transitions, now=now)
    derivation.notes[:0] = notes
    return run_derived(derivation, template=template, out=out, parameters=parameters, region=region, profile=profile,
                       endpoint_url=endpoint_url, session=session, sse=sse, kms_key_id=kms_key_id, on_derived=on_derived,
                       **run_kwargs)


def run_from_alarm(
    name_or_arn: str,
    *,
    template: str = "triage",
    out: str | os.PathLike[str] = "runs",
    parameters: Mapping[str, Any] | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    session: Any = None,
    sse: str | None = None,
    kms_key_id: str | None = None,
    now: pd.Timestamp | None = None,
    on_derived: OnDerived | None = None,
    **run_kwargs: Any,
) -> AutoRun:
    """Investigate the last ALARM transition of a named alarm (``--from-alarm``)."""
    if session is None and profile:
        session = aws.profile_session(profile)
    derivation = alarms.from_alarm(name_or_arn, session=session, region=region, endpoint_url=endpoint_url, now=now)
    return run_derived(derivation, template=template, out=out, parameters=parameters, region=region, profile=profile,
                       endpoint_url=endpoint_url, session=session, sse=sse, kms_key_id=kms_key_id, on_derived=on_derived,
                       **run_kwargs)


def summary(done: AutoRun) -> dict[str, Any]:
    """A small JSON-able summary of an alarm-triggered run (what :func:`handler` returns)."""
    top = None
    if done.result is not None and done.result.findings:
        top = done.result.findings[0].id
    return {
        "alarm": done.derivation.trigger.alarm.name,
        "transition_time": done.derivation.to_dict()["transition_time"],
        "run_id": done.run_id,
        "location": done.location,
        "skipped": done.skipped,
        "top_finding": top,
        "inconclusive": done.result.inconclusive if done.result is not None else None,
        "window": done.derivation.window.to_dict(),
        "notes": done.notes,
    }


def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """AWS Lambda entry point (``incidentkit.run.autorun.handler``): one event, one report.

    Configured by ``INCIDENTKIT_OUT`` (``s3://bucket/prefix``), ``INCIDENTKIT_TEMPLATE``
    and ``INCIDENTKIT_KMS_KEY_ID``. Returns :func:`summary`; a kit error is logged as one
    line and re-raised so EventBridge's retry policy applies (a retried delivery is then
    skipped if it landed).
    """
    try:
        done = run_from_event(event)
    except IncidentKitError as exc:
        log.error("incidentkit: %s", mask_text(_one_line(exc, 500)))  # to CloudWatch Logs: masked like every output
        raise
    out = summary(done)
    log.info("incidentkit: %s %s", "already investigated:" if done.skipped else "report published:", done.location)
    if out["inconclusive"]:
        log.warning("incidentkit: inconclusive: %s", _one_line(Exception(out["inconclusive"]), 500))
    return out
