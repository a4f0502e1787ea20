"""The run's files: masked text and JSON, the masked notebook, and the script-free report page.

Everything written here goes through :mod:`incidentkit.masking` first, is written atomically
and is readable by its owner only (mode 0600). ``report.html`` is nbconvert's ``lab`` page
without scripts, sanitised (:func:`incidentkit.render.markup.sanitize_notebook`) and with a
Content-Security-Policy that allows no script.

Example
-------
>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
>>> write_text(path, "key AKIAIOSFODNN7EXAMPLE")
>>> "AKIAIOSFODNN7EXAMPLE" in path.read_text(), oct(path.stat().st_mode & 0o777)
(False, '0o600')
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Mapping

from ..evidence import atomic_write_text
from ..masking import mask_obj, mask_text
from .markup import sanitize_notebook
from .results import postmortem_markdown

__all__ = ["write_text", "write_json", "mask_notebook", "write_notebook", "to_html", "write_html", "write_postmortem", "REPORT_CSS", "CONTENT_SECURITY_POLICY"]

_FILE_MODE = 0o600


# -- writing run files ------------------------------------------------------------------------


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write masked text to ``path`` (mode 0600)."""
    atomic_write_text(path, mask_text(text), mode=_FILE_MODE)


def write_json(data: Any, path: str | os.PathLike[str]) -> None:
    """Write masked JSON to ``path`` (mode 0600)."""
    atomic_write_text(path, json.dumps(mask_obj(data), indent=2, ensure_ascii=False, default=str) + "\n", mode=_FILE_MODE)


_BINARY_MIME = re.compile(r"^(image/(?!svg)|application/(pdf|octet-stream))")


def mask_notebook(nb: Mapping[str, Any]) -> Any:
    """A copy of a notebook with every source and text output masked (images left alone)."""
    import nbformat

    data = json.loads(json.dumps(nb))
    for cell in data.get("cells", []):
        cell["source"] = mask_obj(cell.get("source", ""))
        for out in cell.get("outputs", []) or []:
            if "text" in out:
                out["text"] = mask_obj(out["text"])
            if "evalue" in out:
                out["evalue"] = mask_text(str(out["evalue"]))
            if "traceback" in out:
                out["traceback"] = mask_obj(out["traceback"])
            if "data" in out:
                out["data"] = {k: (v if _BINARY_MIME.match(k) else mask_obj(v)) for k, v in out["data"].items()}
            if out.get("metadata"):
                out["metadata"] = mask_obj(out["metadata"])  # e.g. an image's alternative text
    data["metadata"] = mask_obj(data.get("metadata", {}))
    return nbformat.from_dict(data)


def write_notebook(nb: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write a masked copy of ``nb`` to ``path`` (mode 0600)."""
    import nbformat

    atomic_write_text(path, nbformat.writes(mask_notebook(nb)), mode=_FILE_MODE)


_DATA_URI = re.compile(r"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+")


def _mask_html(text: str) -> str:
    """Mask HTML text, leaving embedded base64 images intact."""
    parts = []
    last = 0
    for m in _DATA_URI.finditer(text):
        parts.append(mask_text(text[last : m.start()]))
        parts.append(m.group(0))
        last = m.end()
    parts.append(mask_text(text[last:]))
    return "".join(parts)


#: The report page's own CSS: the kit's views read left-aligned (JupyterLab right-aligns rendered
#: tables), wide tables scroll inside their output instead of being clipped, and the postmortem's
#: Markdown tables scroll too. Outputs cannot carry ``<style>`` into the export (the sanitiser drops
#: it), so this is the only stylesheet besides nbconvert's.
REPORT_CSS = """
.ik-findings-view td,.ik-findings-view th,.ik-finding-view td,.ik-finding-view th,.ik-investigation td,
.ik-investigation th,.ik-timeline td,.ik-timeline th,.ik-table td.ik-text,.ik-table th.ik-text{text-align:left}
.jp-OutputArea-output{overflow-x:auto;max-width:100%}
.ik-table-wrap{overflow-x:auto;max-width:100%}
.ik-table td,.ik-table th{white-space:nowrap;font-variant-numeric:tabular-nums}
.ik-markdown table{display:block;overflow-x:auto;max-width:100%}
.ik-markdown td{vertical-align:top}
.ik-markdown td code{white-space:nowrap}
.ik-markdown blockquote{border-left:4px solid #f59e0b;background:#fffbeb;color:#78350f;padding:4px 12px;margin:6px 0}
"""

#: The report loads and runs no script at all (no MathJax, require.js or mermaid from a CDN: the
#: report needs none), and says so to the browser: a third wall after escaping and sanitising.
CONTENT_SECURITY_POLICY = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
                           "base-uri 'none'; form-action 'none'")

_REPORT_TEMPLATE = (
    "{%- extends 'index.html.j2' -%}\n"
    "{%- block html_head_js -%}\n"
    f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
    "{%- endblock html_head_js -%}\n"
    "{% block jupyter_widgets %}{% endblock jupyter_widgets %}\n"
    "{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}\n"
    "{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}\n"
    "{%- block html_head_css -%}<style type=\"text/css\">{{ resources.incidentkit_css }}</style>{%- endblock html_head_css -%}\n"
    # an image's alternative text (a plot's title, in the output's metadata), escaped as an attribute
    "{%- block data_png scoped -%}\n"
    "{%- set alt = output | get_metadata('alt', 'image/png') -%}\n"
    "{%- if alt -%}{{ super() | replace('<img ', ('<img alt=\"' ~ (alt | escape_html) ~ '\" ') | safe) }}"
    "{%- else -%}{{ super() }}{%- endif -%}\n"
    "{%- endblock data_png -%}\n"
)


def to_html(nb: Mapping[str, Any], *, hide_code: bool = False) -> str:
    """Render a notebook to standalone HTML (masked, sanitised, script-free), optionally without code cells.

    The notebook is masked first, then every HTML/Markdown output is sanitised
    (:func:`incidentkit.render.markup.sanitize_notebook`); the page is nbconvert's ``lab`` template
    without its scripts, with :data:`REPORT_CSS` and a Content-Security-Policy that allows no
    script.
    """
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"incidentkit-report.html.j2": _REPORT_TEMPLATE})],
                            template_file="incidentkit-report.html.j2")
    # the reader sees the investigation's summary instead of the parameter cells, and the
    # outputs of setup cells without their code; report.ipynb keeps everything
    tags = TagRemovePreprocessor(
        remove_cell_tags={"parameters", "injected-parameters", "remove-cell"},
        remove_input_tags={"hide-input"},
        enabled=True,
    )
    exporter.register_preprocessor(tags, enabled=True)
    if hide_code:
        exporter.exclude_input = True
        exporter.exclude_input_prompt = True
        exporter.exclude_output_prompt = True
    clean = sanitize_notebook(mask_notebook(nb))
    body, _resources = exporter.from_notebook_node(clean, resources={"incidentkit_css": REPORT_CSS})
    return _mask_html(body)


def write_html(nb: Mapping[str, Any], path: str | os.PathLike[str], *, hide_code: bool = False, failed: bool = False) -> None:
    """Write ``report.html`` (mode 0600). ``failed`` adds nothing: papermill's banner shows the error."""
    atomic_write_text(path, to_html(nb, hide_code=hide_code), mode=_FILE_MODE)


def write_postmortem(result: Mapping[str, Any], published: Mapping[str, Any] | None, path: str | os.PathLike[str]) -> None:
    """Write ``postmortem.md`` from the published results (or, lacking them, from ``findings.json``)."""
    data = dict(result)
    if published:
        data["postmortem"] = published.get("postmortem") or {}
    write_text(path, postmortem_markdown(data))
