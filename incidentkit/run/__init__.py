"""Run: notebook templates executed into report folders — the template registry, papermill,
the run files, alarm-triggered runs, publishing and the demo.

``incidentkit.run`` (the attribute of the package) is the function :func:`incidentkit.run`;
import these modules with ``from incidentkit.run import runner`` (or
``from incidentkit.run.runner import ...``), not ``import incidentkit.run.runner as runner``.
"""
