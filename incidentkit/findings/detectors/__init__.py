"""The detectors: one module per finding id, ``<id with underscores>.py``.

Each module has ``ID`` (the finding id), ``NEEDS`` (the :class:`~incidentkit.findings.model.Inputs`
fields it reads) and ``detect(inputs)``, made of three steps: ``measure(inputs)`` (the numbers,
from :mod:`incidentkit.analyses`; ``None`` when the evidence is not there), ``judge(measures)``
(severity and confidence, a :class:`~._common.Verdict`; every constant named at the top of the
module) and ``explain(measures, verdict, inputs)`` (the :class:`~incidentkit.findings.model.Finding`:
title, summary, remediation, related changes, evidence). What several detectors share is in
:mod:`._common`; what the two generic findings (``error-spike``, ``latency-regression``) share, in
:mod:`._generic`.

The registry (:data:`incidentkit.findings.registry.DETECTORS`) maps every id of the catalogue,
``findings/catalogue.md``, to its module here and imports it only when :func:`~incidentkit.findings.detect`
runs; this package imports none of them.

Example
-------
>>> import importlib
>>> tail = importlib.import_module("incidentkit.findings.detectors.cold_start_tail")
>>> tail.ID, "requests" in tail.NEEDS
('cold-start-tail', True)
"""
