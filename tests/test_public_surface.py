"""The public surface, pinned: a move or a refactor cannot change it by accident.

``incidentkit.__all__``, every module path that worked before the stage folders (issue 14) —
as the same module object —, the CLI's commands and options, and the keys of findings.json and
of a finding. Changing any of these is a decision: update this file in the same commit and say
why (like httpx's ``tests/test_exported_members.py``).
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import click
import pytest

import incidentkit
from incidentkit import Investigation, cli
from incidentkit.render.report import findings_document, publish

ALL = ["IncidentKitError", "Window", "parse_time", "Investigation", "EvidenceBundle", "Finding", "FindingList", "run",
       "__version__"]

#: Every module path of the flat package (before issue 14) -> where the module lives now.
OLD_PATHS = {
    "incidentkit.fmt": "incidentkit._util.fmt",
    "incidentkit._progress": "incidentkit._util.progress",
    "incidentkit.resource_ids": "incidentkit._util.resource_ids",
    "incidentkit.blameless": "incidentkit._util.blameless",
    "incidentkit.masking": "incidentkit.masking",
    "incidentkit._secret_rules": "incidentkit.masking._rules",
    "incidentkit._mask_values": "incidentkit.masking._values",
    "incidentkit.errors": "incidentkit.errors",
    "incidentkit.window": "incidentkit.window",
    "incidentkit.schema": "incidentkit.schema",
    "incidentkit.aws": "incidentkit.fetch.aws",
    "incidentkit.logs": "incidentkit.fetch.logs",
    "incidentkit.insights": "incidentkit.fetch.insights",
    "incidentkit.metrics": "incidentkit.fetch.metrics",
    "incidentkit.metric_presets": "incidentkit.fetch.metric_presets",
    "incidentkit.changes": "incidentkit.fetch.changes",
    "incidentkit.change_detail": "incidentkit.fetch.change_detail",
    "incidentkit.health": "incidentkit.fetch.health",
    "incidentkit.alarms": "incidentkit.fetch.alarms",
    "incidentkit.parsers": "incidentkit.parse",
    "incidentkit._parse_arrow": "incidentkit.parse.arrow",
    "incidentkit._parse_json": "incidentkit.parse._json",
    "incidentkit._parse_text": "incidentkit.parse._text",
    "incidentkit._requests": "incidentkit.parse._requests",
    "incidentkit.emf": "incidentkit.parse.emf",
    "incidentkit.useragent": "incidentkit.parse.useragent",
    "incidentkit.analyses.compare": "incidentkit.analyses.compare",
    "incidentkit.analyses.deploys": "incidentkit.analyses.deploys",
    "incidentkit.analyses.errors": "incidentkit.analyses.errors",
    "incidentkit.analyses.healthchecks": "incidentkit.analyses.healthchecks",
    "incidentkit.analyses.impact": "incidentkit.analyses.impact",
    "incidentkit.analyses.latency": "incidentkit.analyses.latency",
    "incidentkit.analyses.onset": "incidentkit.analyses.onset",
    "incidentkit.analyses.related": "incidentkit.analyses.related",
    "incidentkit.analyses.saturation": "incidentkit.analyses.saturation",
    "incidentkit.analyses.throttling": "incidentkit.analyses.throttling",
    "incidentkit.outofcore": "incidentkit.analyses.outofcore",
    "incidentkit.change_words": "incidentkit.analyses.change_words",
    "incidentkit.findings": "incidentkit.findings",
    "incidentkit.audit": "incidentkit.findings.audit",
    "incidentkit.evidence": "incidentkit.evidence",
    "incidentkit.evidence_checks": "incidentkit.evidence_checks",
    "incidentkit.investigation": "incidentkit.investigation",
    "incidentkit.display": "incidentkit.render.display",
    "incidentkit.plots": "incidentkit.render.plots",
    "incidentkit.report": "incidentkit.render.report",
    "incidentkit.postmortem": "incidentkit.render.postmortem",
    "incidentkit.postmortem_doc": "incidentkit.render.postmortem_doc",
    "incidentkit.markup": "incidentkit.render.markup",
    "incidentkit.templates": "incidentkit.run.templates",
    "incidentkit._run_io": "incidentkit.run.notebook_io",
    "incidentkit.runner": "incidentkit.run.runner",
    "incidentkit.autorun": "incidentkit.run.autorun",
    "incidentkit.publish": "incidentkit.run.publish",
    "incidentkit.demo": "incidentkit.run.demo",
    "incidentkit.cli": "incidentkit.cli",
    "incidentkit.accessor": "incidentkit.accessor",
    "incidentkit.samples": "incidentkit.samples",
}

#: Names code outside the package reaches for through an old path (the Lambda handler, fixtures' patches).
OLD_ATTRIBUTES = [
    ("incidentkit.autorun", "handler"), ("incidentkit.metrics", "get"), ("incidentkit.metrics", "lambda_function"),
    ("incidentkit.logs", "events"), ("incidentkit.logs", "insights"), ("incidentkit.parsers", "parse"),
    ("incidentkit.parsers", "requests"), ("incidentkit.changes", "timeline"), ("incidentkit.health", "snapshot"),
    ("incidentkit.report", "publish"), ("incidentkit.templates", "get"), ("incidentkit.runner", "run"),
    ("incidentkit.masking", "mask_text"), ("incidentkit.audit", "audit_settings"), ("incidentkit.findings", "detect"),
    ("incidentkit.findings", "DETECTORS"), ("incidentkit.outofcore", "percentiles"),
]

CLI = {
    "audit": ["--endpoint-url", "--evidence", "--fail-on", "--ip-ranges", "--json", "--latency-sensitive", "--observed",
              "--profile", "--region", "--resource", "--resources", "-r"],
    "demo": ["--hide-code", "--jobs", "--out", "--sample", "-j"],
    "health": ["--endpoint-url", "--json", "--no-alarms", "--profile", "--region", "--resource", "--resources", "-r"],
    "run": ["--baseline-end", "--baseline-start", "--end", "--endpoint-url", "--evidence", "--from-alarm", "--from-event",
            "--hide-code", "--json", "--kms-key-id", "--offline", "--out", "--param", "--profile", "--region", "--sse",
            "--start", "--timeout", "-p", "<template>"],
    "templates": ["--json"],
}

FINDINGS_JSON_KEYS = {"template", "source", "window", "baseline", "parameters", "findings", "data_quality", "generated",
                      "sample", "impact", "incidentkit_version"}
FINDING_KEYS = {"id", "title", "severity", "summary", "evidence", "remediation", "confidence", "related_changes", "onset"}
#: design.md names entry_point ... duration_s; the rest say how each number was counted.
IMPACT_KEYS = {"entry_point", "requests", "failed_requests", "failed_share", "slow_requests", "clients", "failed_clients",
               "slow_clients", "onset", "peak", "recovered", "duration_s",
               "baseline", "bin_s", "by_version", "counted", "excess_failed", "failed_4xx", "failed_5xx", "failed_rule",
               "ongoing", "other_tiers", "outside_window", "p50_ms", "p99_ms", "peak_share", "reference", "reference_share",
               "slow_rule", "slow_rule_text", "slow_share", "slow_threshold_ms", "sources", "tier", "timed_out", "unit"}
DATA_QUALITY_KEYS = {"api_calls", "by_frame", "complete", "detector_errors", "fetch_seconds", "frames", "incomplete_frames",
                     "inconclusive", "issues", "parse_errors", "retries", "rows", "truncated_frames"}


def test_all_is_pinned() -> None:
    assert incidentkit.__all__ == ALL
    for name in ALL:
        assert getattr(incidentkit, name) is not None, name


def test_run_is_the_function_not_the_stage_package() -> None:
    from incidentkit.run import runner

    assert inspect.isfunction(incidentkit.run)
    assert list(inspect.signature(incidentkit.run).parameters) == ["template", "parameters", "options"]
    assert runner.run.__module__ == "incidentkit.run.runner"


@pytest.mark.parametrize("old, new", sorted(OLD_PATHS.items()))
def test_every_old_module_path_is_the_same_module(old: str, new: str) -> None:
    module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert module.__name__ == new and module.__spec__.name == new  # the module keeps saying where it lives
    parent, _, name = old.rpartition(".")
    assert getattr(importlib.import_module(parent), name) is module  # ik.metrics, ik.parsers ... as attributes


@pytest.mark.parametrize("old, name", OLD_ATTRIBUTES)
def test_old_paths_reach_the_names_users_call(old: str, name: str) -> None:
    assert callable(getattr(importlib.import_module(old), name)) or name == "DETECTORS"


def test_old_paths_work_in_a_fresh_interpreter() -> None:
    """``from incidentkit.<old> import ...`` before anything else imported the new path; no matplotlib on the way."""
    code = ("import sys\n"
            "from incidentkit.metrics import get\n"
            "from incidentkit.autorun import handler\n"
            "import incidentkit.insights\n"
            "import incidentkit as ik\n"
            "assert ik.parsers is sys.modules['incidentkit.parse'] and get.__module__ == 'incidentkit.fetch.metrics'\n"
            "assert handler.__module__ == 'incidentkit.run.autorun' and callable(ik.run)\n"
            "print(sorted(m for m in ('matplotlib', 'papermill', 'nbconvert') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_import_incidentkit_stays_light() -> None:
    code = "import sys, incidentkit\nprint(sorted(m for m in ('matplotlib', 'papermill', 'nbconvert', 'nbformat') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_cli_commands_and_options_are_pinned() -> None:
    found = {}
    for name, cmd in cli.cli.commands.items():
        opts = sorted(o for p in cmd.params if isinstance(p, click.Option) for o in (*p.opts, *p.secondary_opts))
        found[name] = opts + [f"<{p.name}>" for p in cmd.params if isinstance(p, click.Argument)]
    assert found == CLI


def test_findings_json_and_finding_keys_are_pinned() -> None:
    inv = Investigation.sample("cold-start-tail")
    doc = findings_document(template="triage", published=publish(inv, show=False), parameters={"sample": "cold-start-tail"})
    assert set(doc) == FINDINGS_JSON_KEYS
    assert doc["findings"] and all(set(f) == FINDING_KEYS for f in doc["findings"])
    assert set(doc["impact"]) == IMPACT_KEYS
    assert set(doc["data_quality"]) == DATA_QUALITY_KEYS
    assert set(doc["window"]) == {"start", "end"}
