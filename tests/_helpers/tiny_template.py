"""A tiny template for the runner tests: parameters of every type, a cell that can fail, a publishing cell."""

from __future__ import annotations

from pathlib import Path

import nbformat


TINY_PARAMS = '''text = "hello"  # any text
items: list = []  # a list
n: int = 3  # a number
ratio: float = 0.5  # a float
flag = False  # a bool
start: "time" = None  # incident start
end: "time" = None  # incident end
log_groups: list = []  # log groups to check
fail = False  # raise in the next cell
region = None
profile = None
endpoint_url = None
evidence = None
offline = False'''


TINY_BODY = '''import json, sys
print(json.dumps({"text": text, "items": items, "n": n, "ratio": ratio, "flag": flag,
                  "start": start, "executable": sys.executable}))
if fail:
    raise RuntimeError("asked to fail: password=" + text)'''


TINY_PUBLISH = '''import pandas as pd
from incidentkit.render import report
from incidentkit.evidence import EvidenceBundle
from incidentkit.findings import Finding
from IPython.display import display, HTML, Markdown
b = EvidenceBundle(evidence)
df = pd.DataFrame({"message": ["login ok", "Authorization: " + text]})
df.attrs = {"source": "test", "api_calls": 2, "complete": True}
b.record("logs-test", df, kind="logs")
print("stdout:", text)
display(HTML("<p>html: " + text + "</p>"))
display(Markdown("md: " + text))
_ = report.publish(findings=[Finding(id="cold-start-tail", title="seen " + text, severity="low",
                                 summary="s " + text, evidence={"token": text})],
               parameters={"text": text})'''


def make_template(path: Path, body: str = TINY_BODY, publish: str = TINY_PUBLISH, name: str = "tiny") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Tiny\n\nA tiny template for runner tests."),
        nbformat.v4.new_code_cell(TINY_PARAMS, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
        nbformat.v4.new_code_cell(publish),
    ]
    file = path / f"{name}.ipynb"
    nbformat.write(nb, str(file))
    return file


WINDOW = {"start": "2026-03-01T03:00:00Z", "end": "2026-03-01T04:00:00Z"}
