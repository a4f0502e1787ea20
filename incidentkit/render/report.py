"""Reports: the one import the templates use — findings as HTML, the notebook protocol, the
run's files and the helpers that tell the story.

This module gathers the render layer's public names so a template needs one import
(``from incidentkit.render import report``); each lives in the module of its concern:

* :mod:`~incidentkit.render.cards` — findings as HTML cards and text, the data-quality appendix;
* :mod:`~incidentkit.render.results` — the notebook protocol: :func:`publish` (a template's last
  cell attaches its results to its output, MIME :data:`MIME`), :func:`read_results` (the runner
  reads them back), :func:`findings_document` (``findings.json``), the postmortem;
* :mod:`~incidentkit.render.files` — masked run files: text, JSON, the notebook, ``report.html``;
* :mod:`~incidentkit.render.story` — notes, moved metrics, the change table, traffic and latency
  paragraphs, the data-quality view, metrics and settings by name;
* :mod:`~incidentkit.render.table` — tables for reading.

Everything written goes through :mod:`incidentkit.masking` first.

Example
-------
>>> from incidentkit.render import report
>>> report.publish is report.publish_results and report.findings_html.__module__
'incidentkit.render.cards'
"""

from __future__ import annotations

from .._util.fmt import value as _fmt  # noqa: F401  (tests read the evidence formatting through here)
from .cards import ISSUE_LIMIT, data_quality_html, findings_html, findings_text
from .files import (
    CONTENT_SECURITY_POLICY,
    REPORT_CSS,
    mask_notebook,
    to_html,
    write_html,
    write_json,
    write_notebook,
    write_postmortem,
    write_text,
)
from .markup import sanitize_notebook  # noqa: F401  (the old name stays reachable)
from .results import (
    MIME,
    data_quality,
    findings_document,
    postmortem_data,
    postmortem_markdown,
    publish_results,
    read_results,
)
from .story import (
    changes_table,
    data_quality_view,
    latency_note,
    metrics_named,
    moved_metrics,
    note,
    settings_table,
    signatures_view,
    traffic_note,
)
from .table import TABLE_ROWS, Table, table
from .theme import SEVERITY_COLORS

#: What a template's last cell calls (``report.publish(inv, found)``): :func:`publish_results`.
publish = publish_results
#: The results a notebook published, read back (:func:`read_results`; the older name).
extract = read_results

__all__ = [
    "MIME",
    "signatures_view",
    "SEVERITY_COLORS",
    "findings_html",
    "findings_text",
    "data_quality",
    "data_quality_html",
    "publish",
    "findings_document",
    "postmortem_data",
    "postmortem_markdown",
    "mask_notebook",
    "write_notebook",
    "write_html",
    "write_json",
    "write_postmortem",
    "write_text",
    "to_html",
    "note",
    "moved_metrics",
    "changes_table",
    "traffic_note",
    "latency_note",
    "data_quality_view",
    "metrics_named",
    "settings_table",
    "table",
    "Table",
    "publish_results",
    "read_results",
    "ISSUE_LIMIT",
    "REPORT_CSS",
    "CONTENT_SECURITY_POLICY",
    "TABLE_ROWS",
]
