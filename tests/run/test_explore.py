"""notebooks/explore.ipynb, the guided notebook: runs offline end to end, and stays a short guide."""

from __future__ import annotations

import json

import pytest
from _helpers import ROOT

NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"


def _outputs(nb) -> list[dict]:
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


def test_the_guide_is_short_shipped_clean_and_offline_by_default():
    nb = json.loads(NOTEBOOK.read_text())
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb["cells"] if c["cell_type"] == "code")
    assert len(code) <= 16 and max(len(s.splitlines()) for s in code) <= 8
    src = "\n".join(code)
    assert 'Investigation.sample(' in src and "LIVE = False" in src and "if LIVE:" in src
    for move in (".ik.percentiles_excluding(", ".ik.plot_percentiles(", ".ik.share(", ".ik.plot_share(",
                 ".ik.compare(", ".ik.change_timeline(", ".findings()"):
        assert move in src, move


@pytest.mark.slow
@pytest.mark.parametrize("sample", ["cold-start-tail", "version-skew-errors"])
def test_explore_runs_offline_with_papermill(tmp_path, sample):
    import papermill

    from incidentkit.run.runner import kernel_manager_class

    out = tmp_path / "explore.ipynb"
    nb = papermill.execute_notebook(
        str(NOTEBOOK), str(out), parameters={"sample": sample}, kernel_manager_class=kernel_manager_class(),
        progress_bar=False, cwd=str(tmp_path), execution_timeout=300,
    )
    outputs = _outputs(nb)
    errors = [o for o in outputs if o["output_type"] == "error"]
    stderr = [o["text"] for o in outputs if o["output_type"] == "stream" and o["name"] == "stderr"]
    assert not errors and not stderr, (errors, stderr)
    html = "\n".join(o["data"].get("text/html", "") for o in outputs if "data" in o)
    assert 'class="ik-investigation"' in html and 'class="ik-timeline' in html
    assert f'id="finding-{sample}"' in html and f"<code>{sample}</code>" in html  # the sample's own finding, as its card
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2
    assert not (tmp_path / "evidence").exists()  # the LIVE section did not run
