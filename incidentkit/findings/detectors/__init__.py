"""The detectors, one module per finding id (``error_spike.py`` finds ``error-spike``).

Each module has ``ID``, ``NEEDS`` (the :class:`~incidentkit.findings.model.Inputs` fields it
reads) and ``detect(inputs)``, made of ``measure(inputs)`` (numbers from the analyses) →
``judge(measures)`` (severity and confidence, every constant named at the module's top) →
``explain(measures, verdict, inputs)`` (the :class:`~incidentkit.findings.model.Finding`).
:mod:`incidentkit.findings.registry` names them by import string.
"""
