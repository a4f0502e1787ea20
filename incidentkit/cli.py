"""The ``incidentkit`` command: templates, run, demo, audit, health.

Exit codes (every command):

==  ==========================================================================
0   success (``audit``/``health``: nothing at or above the failing severity)
1   the work failed: a notebook cell raised, AWS refused or was unreachable, an
    evidence bundle is corrupt; ``demo``: a sample did not give its expected
    finding; ``audit``/``health``: a problem was found
2   bad usage: unknown option, command, template or parameter, a missing option,
    a time that cannot be read, no AWS region given or configured
3   inconclusive: ``run`` wrote the run folder, but the primary evidence could not be
    read (every log source failed or came back empty through an error), so "no finding"
    would be a lie; ``health`` could not read a resource (``not_collected``: access
    denied, an API that failed) and found none unhealthy — not a healthy result
130 interrupted (Ctrl-C)
==  ==========================================================================

Errors are one line on stderr: ``incidentkit: error: <what and what to do>`` — click's own
usage errors too (:class:`OneLineErrors`).
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import click

from . import audit_run, samples
from ._util import console
from ._util.severity import SEVERITIES
from .errors import BadWindowError, IncidentKitError, ParameterError
from .fetch import aws, health
from .findings import audit
from .masking import mask_obj, mask_text
from .run import autorun, demo, runner, templates

__all__ = ["main", "cli", "OneLineErrors", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INCONCLUSIVE", "EXIT_INTERRUPTED"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INCONCLUSIVE = 3
EXIT_INTERRUPTED = 130

TIME_HELP = "ISO-8601 (2026-03-01T03:00:00Z or with an offset; naive = UTC), epoch seconds, 'now', or relative (-2h, -30m, -7d)"


def _err(message: str) -> None:
    click.echo(f"incidentkit: error: {mask_text(message)}", err=True)  # an error may quote data: masked like every output


def _info(message: str) -> None:
    click.echo(f"incidentkit: {message}", err=True)


def _exit_code(exc: IncidentKitError) -> int:
    return EXIT_USAGE if isinstance(exc, (ParameterError, BadWindowError)) else EXIT_FAILED


def _handled(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn kit errors into one line on stderr and the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except IncidentKitError as exc:
            _err(" ".join(str(exc).split()))
            sys.exit(_exit_code(exc))
        except KeyboardInterrupt:
            console.quiet_from_now()  # what the libraries log while their tasks are torn down is noise now
            _err("interrupted")
            sys.exit(EXIT_INTERRUPTED)

    return wrapper


#: click ≥ 8.2 raises this usage error for a group called without a command (its message is the help).
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())


class OneLineErrors(click.Group):
    """A command group whose usage errors are the kit's one line, for every command.

    click prints a usage error as three lines (``Usage: …``, ``Try …``, ``Error: …``);
    the kit's contract is one line on stderr, ``incidentkit: error: <what> (see <command>
    --help)``, exit 2. Ctrl-C is ``interrupted``, exit 130.
    """

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:  # type: ignore[override]
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)  # --help/--version: their exit code
        except _NO_ARGS_IS_HELP as exc:  # the bare command: its help, as click shows it
            exc.show()
            sys.exit(EXIT_USAGE)
        except click.UsageError as exc:
            message = " ".join(exc.format_message().split()).rstrip(".")
            where = exc.ctx.command_path if exc.ctx is not None else "incidentkit"
            _err(f"{message[:1].lower()}{message[1:]} (see {where} --help)")
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            _err(" ".join(exc.format_message().split()))
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            console.quiet_from_now()
            _err("interrupted")
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    click.echo(f"incidentkit: warning: {mask_text(' '.join(str(message).split()))}", err=True)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: str | None, what: str) -> str | None:
    """Command-line text must be Unicode: a byte that is not UTF-8 arrives as a lone surrogate (PEP 383)."""
    found = _SURROGATE.search(value) if value else None
    if found:
        code = ord(found.group())
        char = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"a lone surrogate U+{code:04X}"
        raise ParameterError(f"{what} is not valid UTF-8 text ({char} at character {found.start() + 1}); pass it in UTF-8")
    return value


def _pairs(values: Sequence[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        _text(item, f"{what} {item.partition('=')[0][:40]!r}" if "=" in item else what)
        if "=" not in item:
            raise ParameterError(f"{what} {item!r} is not name=value (e.g. {what} log_groups=/aws/lambda/api)")
        name, _, value = item.partition("=")
        name = name.strip()
        if not name:
            raise ParameterError(f"{what} {item!r} has no name before '='")
        if name in out:
            raise ParameterError(f"{what} {name} is given twice")
        out[name] = value
    return out


class _PathArg(click.Path):
    """``click.Path`` that refuses a NUL character as bad usage (``os.stat`` raises ValueError on it)."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            self.fail("holds a NUL character, which no path can", param, ctx)
        return super().convert(value, param, ctx)


def _progress_on() -> bool:
    return os.environ.get("INCIDENTKIT_PROGRESS", "1") != "0" and sys.stderr.isatty()


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="incidentkit", message="incidentkit %(version)s")
def cli() -> None:
    """Investigate AWS production incidents: CloudWatch metrics, logs and the change
    timeline as pandas DataFrames, findings with evidence, and executed notebooks with a
    postmortem.

    \b
    Start here (offline, no AWS account needed):
      incidentkit demo
    Then, against AWS:
      incidentkit templates
      incidentkit run triage --start 2026-03-01T03:00Z --end 2026-03-01T04:00Z \\
          -p log_groups=/aws/lambda/api -p function_name=api --region eu-west-1

    Exit codes: 0 ok, 1 the work failed (or found a problem), 2 bad usage, 3 inconclusive
    (run: the logs could not be read; health: a resource could not be read), 130 interrupted.
    """


# -- templates -------------------------------------------------------------------------------


@cli.command("templates")
@click.option("--json", "as_json", is_flag=True, help="Print the templates and their parameters as JSON.")
@_handled
def templates_cmd(as_json: bool) -> None:
    """List the notebook templates, what each is for, and their parameters.

    \b
    Examples:
      incidentkit templates
      incidentkit templates --json | jq '.[].name'
    """
    items = templates.all_templates()
    if as_json:
        doc = [
            {
                "name": t.name,
                "title": t.title,
                "summary": t.summary,
                "parameters": [
                    {"name": p.name, "type": p.type, "default": p.default, "required": p.required, "help": p.help, "group": p.group}
                    for p in t.parameters
                ],
            }
            for t in items
        ]
        click.echo(json.dumps(doc, indent=2))
        return
    for t in items:
        click.echo(click.style(t.name, bold=True) + f" — {t.title}")
        if t.summary:
            for line in _wrap(t.summary, 96):
                click.echo(f"    {line}")
        own = [p for p in t.parameters if p.group == "template"]
        if own:
            click.echo("    parameters (-p name=value):")
            for p in own:
                click.echo(f"      {p.describe()}")
        click.echo("")
    click.echo(
        "Every template also takes the window (--start/--end, --baseline-start/--baseline-end) or -p sample=NAME\n"
        "(a bundled sample incident, offline), and --region/--profile/--endpoint-url/--evidence/--offline.\n"
        f"Times: {TIME_HELP}.\nLists: comma-separated (-p log_groups=/a,/b) or JSON (-p 'log_groups=[\"/a\",\"/b\"]')."
    )


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [""]


# -- run -------------------------------------------------------------------------------------


@cli.command("run", context_settings={"show_default": True})
@click.argument("template")
@click.option("--start", help=f"Incident start: {TIME_HELP}.")
@click.option("--end", help="Incident end (same forms as --start).")
@click.option("--baseline-start", help="Start of the comparison window (same forms).")
@click.option("--baseline-end", help="End of the comparison window.")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A template parameter; repeat it. Lists: comma-separated or a JSON list.")
@click.option("--region", help="AWS region (default: the boto3 chain: AWS_REGION, profile).")
@click.option("--profile", help="AWS named profile (default: the boto3 chain).")
@click.option("--endpoint-url", help="AWS endpoint (LocalStack, moto server, VPC endpoint); also AWS_ENDPOINT_URL.")
@click.option("--evidence", type=_PathArg(file_okay=False, path_type=Path),
              help="An evidence bundle (or run folder) to start from; with --offline, the only source.")
@click.option("--offline", is_flag=True, help="Make no AWS call: replay --evidence (or a -p sample=NAME).")
@click.option("--from-alarm", metavar="NAME_OR_ARN",
              help="Derive the window, baseline and resources from this alarm's last ALARM transition.")
@click.option("--from-event", type=_PathArg(dir_okay=False, exists=True, allow_dash=True), metavar="FILE",
              help="Derive them from an EventBridge 'CloudWatch Alarm State Change' event (JSON file, - for stdin).")
@click.option("--out", default="runs", metavar="DIR_OR_S3_URL",
              help="Folder the run folder is created in, or s3://bucket/prefix to publish the run there (manifest last).")
@click.option("--sse", type=click.Choice(["AES256", "aws:kms"]), help="Server-side encryption of an s3:// --out.")
@click.option("--kms-key-id", metavar="KEY", help="KMS key (id, ARN or alias) for an s3:// --out; implies --sse aws:kms.")
@click.option("--hide-code", is_flag=True, help="Leave code cells out of report.html.")
@click.option("--timeout", type=click.IntRange(min=1), default=1800, help="Seconds a single cell may run.")
@click.option("--json", "as_json", is_flag=True, help="Print findings.json on stdout instead of the summary.")
@_handled
def run_cmd(template: str, start: str | None, end: str | None, baseline_start: str | None, baseline_end: str | None,
            params: Sequence[str], region: str | None, profile: str | None, endpoint_url: str | None,
            evidence: Path | None, offline: bool, from_alarm: str | None, from_event: str | None, out: str,
            sse: str | None, kms_key_id: str | None, hide_code: bool, timeout: int, as_json: bool) -> None:
    """Execute a notebook template for an incident window.

    Writes OUT/<template>-<UTC time>-<id>/ with report.ipynb, report.html, postmortem.md,
    findings.json and evidence/, then prints the run folder (first line of stdout) and
    the findings. On a failing cell the partial notebook is kept in OUT/<run>.failed/.

    \b
    Examples:
      # the last two hours of a Lambda API, compared with the two hours before
      incidentkit run triage --start -2h --end now --baseline-start -4h --baseline-end -2h \\
          -p log_groups=/aws/lambda/api,/aws/apigateway/api-access -p function_name=api
      # a DynamoDB deep dive with epoch times, in another account's profile
      incidentkit run dynamodb --start 1772334000 --end 1772337600 -p table_name=orders --profile prod
      # replay a run offline from its evidence: same findings, no AWS call
      incidentkit run triage --offline --evidence runs/triage-20260301T031500Z-3f2a1c
      # a bundled sample, offline
      incidentkit run latency -p sample=cold-start-tail --offline
      # from the alarm that paged: window, baseline and resources derived; published to S3
      incidentkit run triage --from-alarm api-handler-errors --out s3://reports/incidents --sse AES256
      incidentkit run triage --from-event event.json -p log_groups=/aws/ecs/orders --out s3://reports/incidents
    """
    values: dict[str, Any] = _pairs(params, "-p")
    for name, value in (("--region", region), ("--profile", profile), ("--endpoint-url", endpoint_url),
                        ("--from-alarm", from_alarm), ("--kms-key-id", kms_key_id)):  # fmt: skip
        _text(value, name)
    for name, value in (("start", start), ("end", end), ("baseline_start", baseline_start), ("baseline_end", baseline_end)):
        _text(value, f"--{name.replace('_', '-')}")
        if value is not None:
            if name in values:
                raise ParameterError(f"give {name} once: as --{name.replace('_', '-')} or as -p {name}=..., not both")
            values[name] = value
    templates.get(template)  # a typo is one error line before anything else, on every path
    warnings.showwarning = _show_warning
    started = time.monotonic()
    run_kw: dict[str, Any] = {"hide_code": hide_code, "timeout": timeout, "progress": _progress_on()}
    publish_kw: dict[str, Any] = {"sse": sse, "kms_key_id": kms_key_id}
    if from_alarm is not None or from_event is not None:
        _run_from_alarm(template, values, from_alarm=from_alarm, from_event=from_event, evidence=evidence,
                        offline=offline, out=out, region=region, profile=profile, endpoint_url=endpoint_url,
                        as_json=as_json, started=started, run_kw=run_kw, publish_kw=publish_kw)
        return
    # everything checked before a word is printed (a typo in the template is one error line, nothing else)
    plan = runner.prepare(template, values, evidence=evidence, offline=offline, region=region, profile=profile,
                          endpoint_url=endpoint_url, check_access=False)
    _info(f"running template {plan.template.name} {_source_words(plan.source)} …")
    result, location = autorun.run_to(template, values, out=out, evidence=evidence, offline=offline, region=region,
                                      profile=profile, endpoint_url=endpoint_url, **publish_kw, **run_kw)
    _report_run(result, location, as_json=as_json, started=started)


def _report_run(result: Any, location: str, *, as_json: bool, started: float) -> None:
    if as_json:
        if location.startswith("s3://"):  # the local folder is gone: the same document, masked as when written
            click.echo(json.dumps(mask_obj(json.loads(json.dumps(result.result, default=str))), indent=2))
        else:
            click.echo(result.findings_json.read_text(encoding="utf-8"))
    else:
        click.echo(location)
        _print_findings(result.result)
    html = f"{location}report.html" if location.startswith("s3://") else str(Path(location) / "report.html")
    _info(f"done in {time.monotonic() - started:.1f} s: {html}")
    if result.inconclusive:
        _err(f"inconclusive: {' '.join(result.inconclusive.split())}; the report is at {html}")
        sys.exit(EXIT_INCONCLUSIVE)


def _run_from_alarm(template: str, values: dict[str, Any], *, from_alarm: str | None, from_event: str | None,
                    evidence: Path | None, offline: bool, out: str, region: str | None, profile: str | None,
                    endpoint_url: str | None, as_json: bool, started: float, run_kw: dict[str, Any],
                    publish_kw: dict[str, Any]) -> None:
    if from_alarm is not None and from_event is not None:
        raise ParameterError("give either --from-alarm or --from-event, not both")
    if evidence is not None or offline:
        raise ParameterError("--from-alarm/--from-event investigate AWS; they do not combine with --evidence or --offline")
    if values.get("sample"):
        raise ParameterError("give either -p sample=NAME or --from-alarm/--from-event, not both")

    def announce(derivation: Any, notes: list[str]) -> None:
        _info("derived from the alarm (anything given on the command line wins):")
        for line in derivation.describe().splitlines():
            _info(f"  {line}")
        for note in notes[len(derivation.notes):]:
            _info(f"  note: {note}")
        _info(f"running template {template} …")

    access: dict[str, Any] = {"out": out, "parameters": values, "region": region, "profile": profile,
                              "endpoint_url": endpoint_url, "session": _session(profile), "on_derived": announce}
    if from_event is not None:
        done = autorun.run_from_event(_read_event(from_event), template=template, **access, **publish_kw, **run_kw)
    else:
        done = autorun.run_from_alarm(str(from_alarm), template=template, **access, **publish_kw, **run_kw)
    if done.skipped:
        _info(f"already investigated: {done.location}")
        click.echo(done.location)
        return
    _report_run(done.result, done.location, as_json=as_json, started=started)


def _read_event(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"--from-event {path}: cannot read it ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParameterError(f"--from-event {path} is not JSON ({exc.msg} at line {exc.lineno}); "
                             "pass the EventBridge alarm state change event as delivered") from None


def _source_words(source: str) -> str:
    """``on the bundled sample cold-start-tail (offline, not your AWS account)`` / ``on the evidence in DIR`` / ``against AWS``."""
    kind, _, what = str(source).partition(":")
    if kind == "sample":
        return f"on the bundled sample {what} (offline, not your AWS account)"
    if kind == "evidence":
        return f"on the evidence in {what}"
    return "against AWS"


def _print_findings(doc: dict[str, Any]) -> None:
    items = doc.get("findings") or []
    source = str(doc.get("source") or "")
    if source.startswith("sample:"):
        click.echo(f"  source: {source} — a bundled sample incident, not your AWS account")
    dq = doc.get("data_quality") or {}
    if not items and dq.get("inconclusive"):
        click.echo("  inconclusive: the logs could not be read, so no cause can be ruled out")
    elif not items:
        click.echo("  no finding: the evidence shows none of the known causes")
    for i, f in enumerate(items, 1):
        click.echo(f"  #{i} [{f['severity'].upper()}] {f['id']}: {f['title']}")
    if dq and not dq.get("complete", True):
        click.echo(f"  data quality: INCOMPLETE — {len(dq.get('issues') or [])} issue(s), see the report's appendix")


# -- demo ------------------------------------------------------------------------------------


@cli.command("demo", context_settings={"show_default": True})
@click.option("--out", type=_PathArg(file_okay=False, path_type=Path), default=Path("incidentkit-demo"),
              help="Parent folder of the demo folder.")
@click.option("--jobs", "-j", type=click.IntRange(min=1, max=64), default=None,
              help="Investigations run at once (default: CPUs, at most 4).")
@click.option("--sample", "only", multiple=True, metavar="NAME", help="Only this sample (repeat it).")
@click.option("--hide-code", is_flag=True, help="Reports without code cells.")
@_handled
def demo_cmd(out: Path, jobs: int | None, only: Sequence[str], hide_code: bool) -> None:
    """Investigate every bundled sample incident offline (no AWS, no credentials).

    Runs the triage template on each sample of the incident catalogue and on healthy
    windows, in parallel, and prints each report's place and its top finding — and
    whether it is the finding the sample is known for. An index.html links them all.

    \b
    Examples:
      incidentkit demo
      incidentkit demo --out /tmp/demo --jobs 2
      incidentkit demo --sample cold-start-tail --sample version-skew-errors
    """
    warnings.showwarning = _show_warning
    n_jobs = jobs or demo.default_jobs()
    started = time.monotonic()
    total = len(only) if only else len(samples.names())
    _info(f"demo: investigating {total} sample incidents offline, {n_jobs} at a time …")
    done = [0]

    def progress(r: Any) -> None:
        done[0] += 1
        first, second = demo.format_line(r, root=Path.cwd()).split("\n", 1)
        click.echo(f"[{done[0]:>2}/{total}] {first}\n{' ' * 8}{second.lstrip()}")

    folder, results = demo.run_demo(out, jobs=n_jobs, names=list(only) or None, hide_code=hide_code, on_result=progress)
    ok = sum(r.ok for r in results)
    elapsed = time.monotonic() - started
    click.echo(f"\n{ok}/{len(results)} investigations found what their sample is known for, in {elapsed:.0f} s ({n_jobs} jobs).")
    click.echo(f"Open {folder / 'index.html'} for all reports.")
    if ok != len(results):
        bad = [r.sample for r in results if not r.ok]
        _err(f"{len(bad)} sample(s) not as expected: {', '.join(bad)}")
        sys.exit(EXIT_FAILED)


# -- audit and health ------------------------------------------------------------------------


_RESOURCES_HELP = (
    "A resource as name=value; repeat it. Names: target_group_arn, load_balancer, function_name, table_name, "
    "db_instance, api_id, stage, health_check_id, ecs_cluster, ecs_service, security_group_ids. "
    "Lists: comma-separated."
)


def _session(profile: str | None) -> Any:
    if not profile:
        return None
    return aws.profile_session(profile)


@cli.command("audit", context_settings={"show_default": True})
@click.option("--resources", "--resource", "-r", "resources", multiple=True, metavar="NAME=VALUE", help=_RESOURCES_HELP)
@click.option("--observed", multiple=True, metavar="NAME=NUMBER",
              help="What was observed, for the checks that compare against it (p99_ms, p999_ms, max_ms ...).")
@click.option("--latency-sensitive", multiple=True, metavar="FUNCTION",
              help="A Lambda function whose cold starts matter (checked for provisioned concurrency).")
@click.option("--ip-ranges", metavar="FILE_OR_URL", help="AWS ip-ranges.json for the Route 53 checker check (default: shipped copy).")
@click.option("--evidence", type=_PathArg(file_okay=False, path_type=Path),
              help="Audit the settings recorded in an evidence bundle or run folder instead of reading AWS.")
@click.option("--fail-on", type=click.Choice(list(SEVERITIES)), default="high",
              help="Exit 1 when a result is at least this severe.")
@click.option("--region", help="AWS region.")
@click.option("--profile", help="AWS named profile.")
@click.option("--endpoint-url", help="AWS endpoint (LocalStack, moto server).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@_handled
def audit_cmd(resources: Sequence[str], observed: Sequence[str], latency_sensitive: Sequence[str], ip_ranges: str | None,
              evidence: Path | None, fail_on: str, region: str | None, profile: str | None, endpoint_url: str | None,
              as_json: bool) -> None:
    """Check the configuration behind the classic incidents, before they page you.

    Health-check timing vs observed latency, deregistration delay vs the slowest
    requests, provisioned concurrency of latency-sensitive functions, DynamoDB
    autoscaling, security groups vs the Route 53 health checkers. Read-only describe calls.

    \b
    Examples:
      incidentkit audit -r target_group_arn=arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067 \\
          --observed p99_ms=2400 --observed max_ms=61000
      incidentkit audit -r table_name=orders -r function_name=api --latency-sensitive api --json
      incidentkit audit --evidence runs/triage-20260301T031500Z-3f2a1c
    """
    res = _pairs(resources, "--resources")
    obs: dict[str, float] = {}
    for name, value in _pairs(observed, "--observed").items():
        try:
            obs[name] = float(value)
        except ValueError:
            raise ParameterError(f"--observed {name}={value!r} is not a number") from None
    settings = None
    if evidence is not None:
        rec = audit_run.recorded(evidence)
        settings, obs = rec.settings, {**rec.observed, **obs}  # what the user gives wins
        _info(rec.note)
    elif not res:
        raise ParameterError("name at least one resource (-r name=value) or give --evidence DIR")
    warnings.showwarning = _show_warning
    results = audit_run.run(res or None, settings=settings, observed=obs or None, ip_ranges=ip_ranges,
                            latency_sensitive=list(latency_sensitive) or None, session=_session(profile), region=region,
                            endpoint_url=endpoint_url)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], indent=2, default=str))
    else:
        click.echo(audit.format_table(results))
    sys.exit(audit.exit_code(results, fail_on=fail_on))


@cli.command("health", context_settings={"show_default": True})
@click.option("--resources", "--resource", "-r", "resources", multiple=True, metavar="NAME=VALUE", help=_RESOURCES_HELP)
@click.option("--no-alarms", is_flag=True, help="Do not read the CloudWatch alarms of the resources.")
@click.option("--region", help="AWS region.")
@click.option("--profile", help="AWS named profile.")
@click.option("--endpoint-url", help="AWS endpoint (LocalStack, moto server).")
@click.option("--json", "as_json", is_flag=True, help="Print the snapshot (summary, frames, settings) as JSON.")
@_handled
def health_cmd(resources: Sequence[str], no_alarms: bool, region: str | None, profile: str | None,
               endpoint_url: str | None, as_json: bool) -> None:
    """Is it healthy right now, and what does AWS itself say? One line per resource.

    Target health with AWS's reason codes, Route 53 checker observations, Lambda
    concurrency, DynamoDB capacity, RDS status, ECS deployments, alarms in ALARM.
    Exit 1 when a resource is unhealthy; 3 when one could not be read (not_collected:
    access denied, a failed API) and none is unhealthy — that is not a healthy result.

    \b
    Examples:
      incidentkit health -r load_balancer=app/web/50dc6c495c0c9188 -r health_check_id=abcdef12-3456-7890-abcd-ef1234567890
      incidentkit health -r function_name=api -r table_name=orders --json
    """
    res = _pairs(resources, "--resources")
    if not res:
        raise ParameterError("name at least one resource: -r name=value (e.g. -r function_name=api -r table_name=orders)")
    warnings.showwarning = _show_warning
    snap = health.snapshot(res, alarms=not no_alarms, session=_session(profile), region=region, endpoint_url=endpoint_url)
    if as_json:
        click.echo(snap.to_json(indent=2, default=str))
    else:
        click.echo(health.format_table(snap.summary))
        for issue in snap.issues:
            _info(f"note: {issue}")
    code = health.exit_code(snap.summary)
    if code == EXIT_INCONCLUSIVE:
        unread = snap.summary[snap.summary["state"] == "not_collected"]
        _info(f"inconclusive: {len(unread)} of {len(snap.summary)} resource(s) could not be read (not_collected, see the "
              "reason): not a healthy result; grant the access or fix the call and run again")
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``incidentkit`` console script.

    The last net: an error the kit did not foresee (a bug) is one line naming its type,
    exit 1, never a traceback on the user's screen; ``INCIDENTKIT_DEBUG=1`` shows it. The
    libraries' log records are one masked line each (:mod:`incidentkit._util.console`).
    """
    if os.environ.get("INCIDENTKIT_DEBUG") != "1":  # the libraries' log records: one masked line each, no traceback
        console.install(lambda line: click.echo(line, err=True), clean=mask_text)
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="incidentkit")
    except Exception as exc:  # noqa: BLE001 - click handled its own errors; this is whatever else escaped
        if os.environ.get("INCIDENTKIT_DEBUG") == "1":
            raise
        _err(f"internal error ({type(exc).__name__}), a bug in incidentkit: re-run with INCIDENTKIT_DEBUG=1 "
             "to see where, and report it")  # the message itself is not shown: it may quote data
        sys.exit(EXIT_FAILED)


if __name__ == "__main__":  # pragma: no cover
    main()
