"""The catalogue (``incidentkit/findings/catalogue.md``), the registry and the detectors agree.

The catalogue is the one list of finding ids (the registry reads it); these tests keep the rest
honest: every detector module is registered and says its own id, ``NEEDS`` names exactly the
inputs it reads, the evidence keys the detectors write on every bundled sample are catalogued
(and every catalogued key is one a detector writes), each entry's sample finds it, and the README
names no id the catalogue does not hold.

Run alone: ``python -m pytest -p no:xdist tests/findings/test_catalogue.py``.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import re
from functools import lru_cache
from pathlib import Path

import pytest

from _helpers import ROOT
from incidentkit import samples
from incidentkit.findings import DETECTORS, FINDING_IDS, Inputs
from incidentkit.findings.registry import GENERIC_FINDINGS, catalogue_ids, generic_ids
from incidentkit.investigation import Investigation

CATALOGUE = ROOT / "incidentkit" / "findings" / "catalogue.md"
DETECTOR_DIR = ROOT / "incidentkit" / "findings" / "detectors"
#: The keys of the change a finding names (:func:`incidentkit.analyses.related.evidence`), catalogued once.
CHANGE_KEYS = {"change", "change_kind", "change_at", "change_resource", "change_by", "change_lead_s"}
INPUT_FIELDS = {f.name for f in dataclasses.fields(Inputs)}


def _entries() -> dict[str, str]:
    """Finding id -> the text of its catalogue entry."""
    text = CATALOGUE.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    return {m.group(1): part for part in parts if (m := re.match(r"`([a-z0-9-]+)`", part))}


def _catalogued_keys(entry: str) -> set[str]:
    m = re.search(r"\*\*Evidence keys\.\*\*(.*?)(?:\n\n|\Z)", entry, flags=re.DOTALL)
    assert m, "an entry needs an **Evidence keys.** paragraph"
    keys = set(re.findall(r"`(\w+)`", m.group(1)))
    return keys | (CHANGE_KEYS if "related-change keys" in m.group(1) else set())


@lru_cache(maxsize=None)
def _emitted(sample: str) -> tuple[tuple[str, frozenset[str]], ...]:
    inv = Investigation.sample(sample)
    try:
        return tuple((f.id, frozenset(f.evidence)) for f in inv.findings())
    finally:
        inv.close()


def _source(fid: str) -> str:
    return (DETECTOR_DIR / f"{fid.replace('-', '_')}.py").read_text(encoding="utf-8")


def test_the_registry_is_the_catalogue_in_its_order() -> None:
    assert FINDING_IDS == catalogue_ids() == tuple(_entries())
    assert len(set(FINDING_IDS)) == len(FINDING_IDS) >= 10
    # the catalogue's own headings other than entries are not ids
    assert "Adding a finding" in CATALOGUE.read_text(encoding="utf-8")


def test_every_detector_module_is_registered_and_says_its_id() -> None:
    on_disk = {p.stem for p in DETECTOR_DIR.glob("*.py") if not p.stem.startswith("_")}
    assert on_disk == {m.rsplit(".", 1)[1] for m in DETECTORS.values()}
    for fid, module in DETECTORS.items():
        mod = importlib.import_module(module)
        assert mod.ID == fid and callable(mod.detect), module
        assert set(mod.NEEDS) <= INPUT_FIELDS, (fid, set(mod.NEEDS) - INPUT_FIELDS)
        assert mod.__doc__ and len(mod.__doc__.strip().splitlines()) >= 3, f"{module}: say the cause, the evidence, when it fires"


def _shared_modules(fid: str) -> tuple[list[str], list[str]]:
    """The detector package's shared modules the detector imports: whole (``from . import _generic as g``)
    and by name (``from ._common import window_start``)."""
    whole, named = [], []
    for n in ast.walk(ast.parse(_source(fid))):
        if isinstance(n, ast.ImportFrom) and n.level == 1:
            if n.module is None:
                whole += [a.name for a in n.names if a.name.startswith("_")]
            elif n.module.startswith("_"):
                named.append(n.module)
    return whole, named


def _inputs_read(source: str) -> set[str]:
    tree = ast.parse(source)
    read = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
            and n.value.id == "inputs" and n.attr in INPUT_FIELDS}
    read |= {n.args[1].value for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
             and n.func.id == "getattr" and len(n.args) >= 2 and isinstance(n.args[1], ast.Constant)
             and isinstance(n.args[0], ast.Name) and n.args[0].id == "inputs"}
    return read


@pytest.mark.parametrize("fid", FINDING_IDS)
def test_needs_names_exactly_the_inputs_the_detector_reads(fid: str) -> None:
    whole, named = _shared_modules(fid)
    # a shared module imported whole is the detector's own steps; one imported by name may be read in part
    read = _inputs_read(_source(fid) + "".join(_source(m) for m in whole))
    maybe = _inputs_read("".join(_source(m) for m in named))
    needs = set(importlib.import_module(DETECTORS[fid]).NEEDS)
    # the Lambda concurrency of a cold-start finding is read by an analysis from inputs.metrics/settings
    assert read <= needs, f"{fid} reads {sorted(read - needs)} without naming it in NEEDS"
    assert needs - read - maybe <= {"metrics", "settings"}, f"{fid} names {sorted(needs - read - maybe)} in NEEDS but never reads it"


def _sources_behind(fid: str) -> str:
    """The detector's source, that of the shared detector modules and of the analysis modules they import
    (some evidence keys are theirs)."""
    whole, named = _shared_modules(fid)
    source = _source(fid) + "".join(_source(m) for m in whole + named)
    analyses = {n.module.rsplit(".", 1)[1] for n in ast.walk(ast.parse(source))
                if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("analyses.")}
    return source + "".join((ROOT / "incidentkit" / "analyses" / f"{m}.py").read_text(encoding="utf-8") for m in sorted(analyses))


@pytest.mark.parametrize("fid", FINDING_IDS)
def test_catalogued_evidence_keys_are_written_by_the_detector(fid: str) -> None:
    source = _sources_behind(fid)
    for key in _catalogued_keys(_entries()[fid]) - CHANGE_KEYS:
        # a literal key, or one built from a literal stem (``f"{name}_at_drop"`` with ``"apigw_error_rate"``)
        stems = [key[: -len(s)] for s in ("_at_drop", "_before", "_after") if key.endswith(s)]
        assert f'"{key}"' in source or any(f'"{stem}"' in source for stem in stems), (fid, key)


@pytest.mark.slow
@pytest.mark.parametrize("sample", samples.names())
def test_the_evidence_keys_written_on_every_sample_are_catalogued(sample: str) -> None:
    entries = _entries()
    for fid, keys in _emitted(sample):
        missing = set(keys) - _catalogued_keys(entries[fid])
        assert not missing, f"{fid} on {sample} writes evidence keys the catalogue does not list: {sorted(missing)}"


def test_each_entry_names_the_samples_that_are_about_it() -> None:
    cat = samples.catalog().set_index("name")
    for fid, entry in _entries().items():
        first = entry.split("\n\n", 2)[1]  # the line under the heading: "Incident: 1 · Sample: `...`"
        named = re.findall(r"`([a-z0-9-]+)`", first.split("Sample", 1)[1]) if "Sample" in first else []
        assert named or not first.startswith("Incident: "), f"{fid}: an incident of the catalogue needs its sample"
        for name in named:
            assert cat.loc[name, "finding_id"] == fid, (fid, name)
    assert set(cat["finding_id"].dropna()) <= set(FINDING_IDS)


def test_the_generic_entries_are_the_generic_findings() -> None:
    generic = {fid for fid, entry in _entries().items() if entry.split("\n\n", 2)[1].startswith("Generic")}
    assert generic == GENERIC_FINDINGS == {"error-spike", "latency-regression"}
    # generic ones come last: the catalogued causes run and are listed first
    assert set(FINDING_IDS[-len(generic):]) == generic


def test_the_readme_names_only_catalogued_ids_and_points_at_the_catalogue() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "incidentkit/findings/catalogue.md" in readme
    looks_like_ids = set(re.findall(r"`([a-z]+(?:-[a-z0-9]+){2,})`", readme))
    unknown = {i for i in looks_like_ids if i.split("-")[0] in {p.split("-")[0] for p in FINDING_IDS}} - set(FINDING_IDS)
    assert not unknown, f"README names finding ids the catalogue does not hold: {sorted(unknown)}"


def test_catalogue_ids_reads_headings_only() -> None:
    text = "# The finding catalogue\n## `a-b`\n**Evidence keys.** `x`\n## Adding a finding\n## `c-d`\n"
    assert catalogue_ids(text) == ("a-b", "c-d")
    assert catalogue_ids("## `Not-An-Id`\n## version-skew-errors\n") == ()
    assert generic_ids("## `a-b`\n\nGeneric · Samples: `x`\n## `c-d`\n\nIncident: 2\n") == {"a-b"}


def test_the_modules_catalogue_file_is_the_one_packaged() -> None:
    assert Path(importlib.import_module("incidentkit.findings").__file__).parent / "catalogue.md" == CATALOGUE
