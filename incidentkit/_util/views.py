"""How the kit's objects show themselves, without importing the layer that draws them.

A :class:`~incidentkit.findings.Finding`, a :class:`~incidentkit.findings.FindingList` and an
:class:`~incidentkit.investigation.Investigation` show as HTML in Jupyter (``_repr_html_``) and
as text in a terminal (``__str__``). Those views are drawn by :mod:`incidentkit.render.display`,
which sits above findings and investigations in the data flow: the objects may not import it.
So display registers each view here by name when it is imported (``import incidentkit`` imports
it), and the objects ask for their view by name. Until a view is registered (while the package
itself is still importing) an object shows a plain one-line fallback.

Example
-------
>>> register("example_text", lambda obj: f"<{obj}>")
>>> show("example_text", 42, fallback="42")
'<42>'
>>> show("no-such-view", 42, fallback="42")
'42'
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["register", "show"]

View = Callable[[Any], str]

_VIEWS: dict[str, View] = {}


def register(name: str, view: View) -> None:
    """Make ``view`` the way objects asking for ``name`` show themselves (the last registration wins)."""
    _VIEWS[name] = view


def show(name: str, obj: Any, *, fallback: str) -> str:
    """``obj`` drawn by the view registered as ``name``, or ``fallback`` when there is none yet."""
    view = _VIEWS.get(name)
    return fallback if view is None else view(obj)
