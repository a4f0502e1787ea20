"""The notebook templates: where they are, what they are for, and their parameters.

The templates are the ``*.ipynb`` files of the ``notebooks/`` folder of the source tree
(shipped inside the wheel as ``incidentkit/notebooks/``), listed with their title and summary,
in the order ``incidentkit templates`` shows them, in that folder's ``templates.json`` (data, not
code: adding a template is its notebook and one entry there). This module reads them. Each has a cell
tagged ``parameters`` whose lines declare one parameter each, in the form papermill
understands::

    start: "time" = None        # incident start; required unless a sample or evidence is given
    log_groups: list = []       # CloudWatch log groups to read
    max_events: int = 200000    # stop fetching a log group after this many events

The annotation gives the type (``"time"``, ``str``, ``int``, ``float``, ``bool``,
``list``); the value is the default; the comment is the help text (``required:`` at its
start marks a parameter that must be given when investigating AWS). Nothing is read at
import time: the registry is built on first use.

Example
-------
>>> from incidentkit.run import templates
>>> "triage" in templates.names()                                   # doctest: +SKIP
True
>>> spec = templates.get("triage").parameter("log_groups")          # doctest: +SKIP
>>> spec.coerce("/aws/lambda/api,/ecs/web")                         # doctest: +SKIP
['/aws/lambda/api', '/ecs/web']
"""

from __future__ import annotations

import ast
import difflib
import functools
import io
import json
import os
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from .._util.fmt import iso
from ..errors import BadWindowError, IncidentKitError, ParameterError, UnknownTemplateError
from ..window import parse_time

__all__ = [
    "Parameter",
    "Template",
    "names",
    "get",
    "all_templates",
    "SOURCE_PARAMETERS",
    "RUN_PARAMETERS",
    "TYPES",
]

#: Where the evidence comes from: a bundled sample, or a window (with AWS or an evidence bundle).
SOURCE_PARAMETERS = ("sample", "start", "end", "baseline_start", "baseline_end")
#: Set by ``incidentkit run`` from its options (``--region`` ...), present in every template.
RUN_PARAMETERS = ("region", "profile", "endpoint_url", "evidence", "offline")
TYPES = ("time", "str", "int", "float", "bool", "list")

_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}
_NONE = {"", "none", "null"}


@dataclass(frozen=True)
class Parameter:
    """One template parameter, as declared in the ``parameters`` cell.

    Parameters
    ----------
    name:
        The Python name in the notebook.
    type:
        One of :data:`TYPES`.
    default:
        The value in the cell (a Python literal).
    help:
        The comment on its line.
    required:
        Must be given when investigating AWS (not a sample or an evidence bundle).
    """

    name: str
    type: str
    default: Any = None
    help: str = ""
    required: bool = False

    @property
    def group(self) -> str:
        """``source``, ``run`` or ``template`` (the template's own parameters)."""
        if self.name in SOURCE_PARAMETERS:
            return "source"
        if self.name in RUN_PARAMETERS:
            return "run"
        return "template"

    def coerce(self, value: Any) -> Any:
        """Turn a CLI string (or a Python value) into this parameter's type.

        Times become ISO-8601 UTC strings (``...Z``); lists accept comma-separated text or a
        JSON list; ``none``/``null``/empty text means ``None``. The result is always a plain
        str/int/float/bool/None or a list of str: data, never code.

        Raises
        ------
        ParameterError
            With the parameter's name, the value and what is expected.

        Example
        -------
        >>> Parameter("n", "int").coerce("42")
        42
        >>> Parameter("groups", "list").coerce('["/a", "/b"]')
        ['/a', '/b']
        >>> Parameter("start", "time").coerce("1772334000")
        '2026-03-01T03:00:00Z'
        """
        if value is None:
            return None
        if isinstance(value, str) and value.strip().lower() in _NONE and self.type != "list":
            return None
        try:
            return _COERCE[self.type](value)
        except ParameterError:
            raise
        except BadWindowError as exc:
            raise ParameterError(f"parameter {self.name}: {exc.message}") from None
        except (ValueError, TypeError) as exc:
            raise ParameterError(
                f"parameter {self.name}: {value!r} is not a valid {self.type} ({exc}); {_EXPECT[self.type]}"
            ) from None

    def describe(self) -> str:
        """One line for ``incidentkit templates``."""
        if self.required:
            req = "required"
        elif self.default in (None, [], ""):
            req = "optional"
        else:
            req = f"default {json.dumps(self.default)}"
        return f"{self.name} ({self.type}, {req}): {self.help}".rstrip(": ")


def _to_str(value: Any) -> str:
    if isinstance(value, (list, dict, tuple, set, bool)) or not isinstance(value, (str, int, float)):
        raise TypeError(f"got {type(value).__name__}")
    return str(value)


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("a bool is not an int")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not a whole number")
        return int(value)
    if isinstance(value, int):
        return value
    return int(str(value).strip().replace("_", ""))


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a bool is not a number")
    out = float(str(value).strip()) if isinstance(value, str) else float(value)
    if out != out or out in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return out


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("not a yes/no value")


def _to_list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            raise ValueError("a JSON object is not a list; give a JSON list or comma-separated values")
        if text.startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"bad JSON list: {exc.msg}") from None
            if not isinstance(items, list):
                raise ValueError("JSON value is not a list")
        elif not text:
            items = []
        else:
            items = [part.strip() for part in text.split(",")]
    else:
        raise TypeError(f"got {type(value).__name__}")
    out = []
    for item in items:
        if isinstance(item, (list, dict, tuple)) or item is None or isinstance(item, bool):
            raise ValueError(f"list items must be text, got {item!r}")
        text = str(item).strip()
        if text:
            out.append(text)
    return out


def _to_time(value: Any) -> str:
    return str(iso(parse_time(value, name="time")))


_COERCE = {"str": _to_str, "int": _to_int, "float": _to_float, "bool": _to_bool, "list": _to_list, "time": _to_time}
_EXPECT = {
    "str": "give text",
    "int": "give a whole number, e.g. 100",
    "float": "give a number, e.g. 0.5",
    "bool": "give true or false",
    "list": "give comma-separated values (a,b) or a JSON list ([\"a\",\"b\"])",
    "time": "give ISO-8601 (2026-03-01T03:00:00Z), epoch seconds, now, or -2h",
}


@dataclass
class Template:
    """A notebook template.

    Attributes
    ----------
    name:
        The name ``incidentkit run`` takes (the file name without ``.ipynb``).
    path:
        The notebook file.
    title, summary:
        From the notebook's first Markdown cell (its heading and first paragraph).
    parameters:
        Declared parameters, in cell order.
    """

    name: str
    path: Path
    title: str = ""
    summary: str = ""
    parameters: list[Parameter] = field(default_factory=list)

    def parameter(self, name: str) -> Parameter:
        """The parameter called ``name`` (ParameterError with a suggestion otherwise)."""
        for p in self.parameters:
            if p.name == name:
                return p
        raise ParameterError(_unknown(name, [p.name for p in self.parameters], self.name))

    @property
    def parameter_names(self) -> list[str]:
        """Names of all parameters, in cell order."""
        return [p.name for p in self.parameters]

    def defaults(self) -> dict[str, Any]:
        """The default value of each parameter."""
        return {p.name: p.default for p in self.parameters}

    def coerce(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Check names and types of ``values`` (unknown names get a "did you mean").

        Returns only the given values, coerced; requirements that depend on the source of
        evidence are checked by :func:`incidentkit.run.runner.run`.

        Example
        -------
        >>> t = Template("t", Path("t.ipynb"), parameters=[Parameter("limit", "int", 10)])
        >>> t.coerce({"limit": "25"})
        {'limit': 25}
        >>> t.coerce({"limt": "25"})
        Traceback (most recent call last):
        incidentkit.errors.ParameterError: template t has no parameter 'limt'; did you mean 'limit'? ...
        """
        out: dict[str, Any] = {}
        for name, value in values.items():
            out[name] = self.parameter(str(name)).coerce(value)
        return out

    def read(self) -> dict[str, Any]:
        """The notebook as a dict (nbformat JSON)."""
        return json.loads(self.path.read_text(encoding="utf-8"))


def _unknown(name: str, known: Iterable[str], template: str) -> str:
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"template {template} has no parameter {name!r}{hint} (it takes: {', '.join(known) or 'none'})"


def _template_dir() -> Path:
    """The folder of the ``.ipynb`` templates: ``incidentkit/notebooks/`` in an installed wheel (the
    source tree's top-level ``notebooks/``, shipped as package data), else the ``notebooks/``
    folder beside the package (a source checkout or an editable install)."""
    package = Path(__file__).resolve().parents[1]
    candidates = (package / "notebooks", package.parent / "notebooks")
    for folder in candidates:
        if folder.is_dir():
            return folder
    raise IncidentKitError(f"the notebook templates are missing (looked in {', '.join(map(str, candidates))}): "
                           "reinstall incidentkit")


#: The registry's file, beside the notebooks: which templates exist, in listing order, with the
#: title and summary ``incidentkit templates`` shows (parameters stay in each notebook's cell).
REGISTRY_FILE = "templates.json"


@dataclass(frozen=True)
class _Entry:
    path: Path
    title: str
    summary: str


@functools.lru_cache(maxsize=1)
def _registry() -> dict[str, _Entry]:
    """The templates of ``notebooks/templates.json``, in its order (read on first use)."""
    root = _template_dir()
    source = root / REGISTRY_FILE
    try:
        entries = json.loads(source.read_text(encoding="utf-8"))["templates"]
        found = {str(e["name"]): _Entry(root / str(e["notebook"]), str(e.get("title") or e["name"]), str(e.get("summary") or ""))
                 for e in entries}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IncidentKitError(f"the template registry {source} is unreadable ({type(exc).__name__}: {exc}): "
                               "reinstall incidentkit") from None
    return found


def names() -> list[str]:
    """Names of the bundled templates, triage first."""
    return list(_registry())


def get(name: str | os.PathLike[str]) -> Template:
    """A template by name (``triage``) or by path to an ``.ipynb`` file.

    Raises
    ------
    UnknownTemplateError
        With the closest name and the list of templates.
    """
    text = str(name)
    if text.endswith(".ipynb") or os.sep in text:
        path = Path(text)
        try:
            found = path.is_file()
        except (OSError, ValueError):  # a name too long for the file system, a NUL
            found = False
        if not found:
            raise UnknownTemplateError(f"no notebook at {path}", template=text)
        return _load(path.stem, path)
    reg = _registry()
    if text not in reg:
        close = difflib.get_close_matches(text, list(reg), n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UnknownTemplateError(
            f"no template named {text!r}; {hint}templates: {', '.join(reg)} (or give a path to an .ipynb)"
        )
    entry = reg[text]
    tpl = _load(text, entry.path)
    tpl.title, tpl.summary = entry.title, entry.summary
    return tpl


def all_templates() -> list[Template]:
    """Every bundled template, parsed."""
    return [get(n) for n in names()]


@functools.lru_cache(maxsize=64)
def _load_cached(name: str, path: str, mtime: float) -> Template:
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    title, summary = _title(nb)
    cell = _parameters_cell(nb)
    params = parse_parameters(cell) if cell is not None else []
    return Template(name=name, path=Path(path), title=title or name, summary=summary, parameters=params)


def _load(name: str, path: Path) -> Template:
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise UnknownTemplateError(f"cannot read template {path}: {exc}") from None
    try:
        tpl = _load_cached(name, str(path), mtime)
    except (json.JSONDecodeError, UnicodeDecodeError, SyntaxError) as exc:
        raise ParameterError(f"template {path} is not a readable notebook: {exc}") from None
    except (AttributeError, TypeError, KeyError) as exc:  # JSON, but not a notebook's shape
        raise ParameterError(f"template {path} is not a notebook ({type(exc).__name__}: {exc})") from None
    # a copy: callers may not mutate the cached template
    return Template(tpl.name, tpl.path, tpl.title, tpl.summary, list(tpl.parameters))


def _source(cell: Mapping[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _parameters_cell(nb: Mapping[str, Any]) -> str | None:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in (cell.get("metadata", {}).get("tags") or []):
            return _source(cell)
    return None


def _title(nb: Mapping[str, Any]) -> tuple[str, str]:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        lines = _source(cell).strip().splitlines()
        title = ""
        para: list[str] = []
        for line in lines:
            if not title and line.startswith("#"):
                title = line.lstrip("#").strip()
                continue
            if title:
                if not line.strip():
                    if para:
                        break
                    continue
                if line.startswith(("#", ">", "|", "-", "*", "```")) and not para:
                    continue
                para.append(line.strip())
        return title, " ".join(para)
    return "", ""


def parse_parameters(source: str) -> list[Parameter]:
    """Parse a ``parameters`` cell into :class:`Parameter` specs.

    Only top-level ``name = literal`` and ``name: type = literal`` lines count; the
    comment on the line is the help text.

    Example
    -------
    >>> [p.type for p in parse_parameters('a: "time" = None  # start\\nb = 3\\nc: list = []')]
    ['time', 'int', 'list']
    """
    tree = ast.parse(source)
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    params: list[Parameter] = []
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, annotation, value_node = node.target.id, node.annotation, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, annotation, value_node = node.targets[0].id, None, node.value
        else:
            continue
        try:
            default = ast.literal_eval(value_node) if value_node is not None else None
        except ValueError:
            raise SyntaxError(f"parameter {name} must default to a literal, not {ast.unparse(value_node)}") from None
        help_text = comments.get(node.end_lineno or node.lineno) or comments.get(node.lineno, "")
        required = help_text.lower().startswith("required")
        if required:
            help_text = help_text.split(":", 1)[1].strip() if ":" in help_text[:10] else help_text[8:].strip()
        params.append(Parameter(name, _type_of(annotation, default), default, help_text, required))
    return params


def _type_of(annotation: ast.expr | None, default: Any) -> str:
    if annotation is not None:
        text = annotation.value if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str) else ast.unparse(annotation)
        text = text.replace(" ", "").replace("|None", "").replace("Optional[", "").rstrip("]") if text else text
        base = text.split("[", 1)[0].lower()
        if base in ("time", "datetime", "timestamp"):
            return "time"
        if base in ("list", "tuple", "sequence"):
            return "list"
        if base in TYPES:
            return base
        raise SyntaxError(f"unsupported parameter annotation {text!r}; use one of {', '.join(TYPES)}")
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, (list, tuple)):
        return "list"
    return "str"
