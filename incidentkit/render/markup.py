"""Nothing from the data is ever markup: escaping for Markdown and HTML, and the HTML sanitiser.

Every string the kit renders may come from a log line, a CloudTrail record, an AWS error
body or a parameter, so any of them may carry ``<script>``, an ``onerror=`` attribute, a
``javascript:`` link or Markdown that turns into one. Two walls keep them text:

1. **Escaping where a string is rendered.** HTML is built with :func:`html.escape`
   (:func:`html_text`: masked, then escaped); Markdown (the postmortem, notes) with :func:`md_text` (backslash
   escapes for every character that can start markup, math or a table cell) and
   :func:`md_code` (a code span whose fence no backtick run in the data can close).
   :func:`md_prose` keeps the ``code`` spans a finding's own wording uses and escapes
   the rest.
2. **Sanitising the exported HTML** (:func:`sanitize_notebook`, used by
   :func:`incidentkit.render.report.to_html`): every HTML or Markdown output of a code cell is
   rendered and passed through `nh3 <https://nh3.readthedocs.io>`_ (the Python binding of
   the Rust *ammonia* allow-list sanitiser) with the tags, attributes and CSS properties
   the report's own views use, and nothing else: no ``<script>``/``<style>``/``<iframe>``,
   no event-handler attribute, no URL scheme but ``http``/``https``/``mailto`` and
   relative links. JavaScript and widget outputs are dropped.

Why nh3 and not nbconvert's ``sanitize_html``: nbconvert's switch runs *bleach* (deprecated
by its maintainers) with a fixed allow-list without ``style``, ``th``, ``thead``,
``details`` or headings, which would strip the report's severity colours, tables and
collapsible evidence; ``SanitizeHTML``'s lists are configurable but still bleach, an order
of magnitude slower than ammonia.

Example
-------
>>> md_text('<img src=x onerror="alert(1)"> | *bold*')
'\\\\<img src=x onerror="alert(1)"\\\\> \\\\| \\\\*bold\\\\*'
>>> md_code("a`b")
'``a`b``'
>>> sanitize_html('<b onclick="x()">hi</b><script>alert(1)</script>')
'<b>hi</b>'
"""

from __future__ import annotations

import copy
import html as _html
import re
from typing import Any, Mapping

import nh3

from ..masking import mask_text

__all__ = [
    "html_text",
    "md_text",
    "md_code",
    "md_prose",
    "sanitize_html",
    "sanitize_notebook",
    "ALLOWED_TAGS",
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_STYLE_PROPERTIES",
    "URL_SCHEMES",
]

# -- HTML text ---------------------------------------------------------------------------------


def html_text(value: Any) -> str:
    """A value from the data as HTML text: masked, then escaped (quotes too); ``None`` is empty.

    Example
    -------
    >>> html_text('<b onclick="x">AKIAIOSFODNN7EXAMPLE</b>'), html_text(None)
    ('&lt;b onclick=&quot;x&quot;&gt;[masked:aws-access-key-id]&lt;/b&gt;', '')
    """
    return _html.escape(mask_text("" if value is None else str(value)), quote=True)


# -- Markdown ----------------------------------------------------------------------------------

#: Characters that can start inline markup in CommonMark/GFM or in nbconvert's and JupyterLab's
#: renderers: emphasis, code, links and images, raw HTML and autolinks, entities, table cells,
#: strikethrough and math (``$``). Each is backslash-escaped (CommonMark escapes any ASCII
#: punctuation). ``(`` and ``)`` only follow a backslash in the data (``\\(`` starts math).
_MD_SPECIAL = frozenset("\\`*_[]<>&|~$")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def md_text(value: Any) -> str:
    """``value`` as inline Markdown text that renders exactly as the characters it holds.

    Line breaks become spaces (a value is one inline run: it can start no heading, list or
    block of raw HTML), and every character that could start markup is backslash-escaped.

    Parameters
    ----------
    value:
        Anything; ``None`` gives an empty string.

    Returns
    -------
    str
        Markdown that, rendered, shows ``str(value)`` as text.

    Example
    -------
    >>> md_text("2.9.0 <b>")
    '2.9.0 \\\\<b\\\\>'
    >>> md_text(r"\\(x\\)")
    '\\\\\\\\\\\\(x\\\\\\\\\\\\)'
    """
    if value is None:
        return ""
    text = _LINE_BREAKS.sub(" ", str(value))
    out: list[str] = []
    previous = ""
    for ch in text:
        if ch in _MD_SPECIAL or (ch in "()" and previous == "\\"):
            out.append("\\" + ch)
        else:
            out.append(ch)
        previous = ch
    return "".join(out)


def md_code(value: Any) -> str:
    """``value`` as a Markdown code span: shown verbatim, never markup.

    The fence is one backtick longer than the longest backtick run in the value, and a
    value that starts or ends with a backtick is padded with a space (CommonMark strips
    one), so no data can close the span early.

    Example
    -------
    >>> md_code("catalog-search")
    '`catalog-search`'
    >>> md_code("``x")
    '``` ``x ```'
    """
    text = _LINE_BREAKS.sub(" ", "" if value is None else str(value))
    if not text:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def md_prose(value: Any) -> str:
    """A finding's wording (title, summary, remediation step) as safe inline Markdown.

    The kit writes identifiers in backticks (``enable provisioned concurrency on
    `catalog-search```): those stay code spans (through :func:`md_code`); everything else
    is escaped with :func:`md_text`, so data quoted inside the wording stays text.

    Example
    -------
    >>> md_prose("restore `catalog-search:live` for <img onerror=x>")
    'restore `catalog-search:live` for \\\\<img onerror=x\\\\>'
    """
    text = "" if value is None else str(value)
    parts: list[str] = []
    last = 0
    for m in _CODE_SPAN.finditer(text):
        parts.append(md_text(text[last : m.start()]))
        parts.append(md_code(m.group(1)))
        last = m.end()
    parts.append(md_text(text[last:]))
    return "".join(parts)


# -- HTML sanitising ----------------------------------------------------------------------------

#: Tags the report's views, pandas tables and rendered Markdown use.
ALLOWED_TAGS: frozenset[str] = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details", "div",
    "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p",
    "pre", "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "u", "ul", "var", "wbr",
})  # fmt: skip

#: Attributes kept, per tag (``*``: any allowed tag). No event handler, no ``srcset``, no ``formaction``.
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"class", "id", "style", "title", "lang", "dir"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type"},
    "details": {"open"},
}

#: CSS properties kept in ``style`` attributes: layout, colours, fonts and borders. No property
#: that takes a URL (``background``, ``background-image``, ``list-style``, ``content``, ``cursor``
#: with an image, ``behavior``), so a style can load nothing.
ALLOWED_STYLE_PROPERTIES: frozenset[str] = frozenset({
    "align-items", "background-color", "border", "border-bottom", "border-collapse", "border-color",
    "border-left", "border-radius", "border-right", "border-spacing", "border-style", "border-top",
    "border-width", "color", "display", "flex", "flex-direction", "flex-wrap", "float", "font-family",
    "font-size", "font-style", "font-variant-numeric", "font-weight", "gap", "height", "justify-content",
    "letter-spacing", "line-height", "list-style-type", "margin", "margin-bottom", "margin-left",
    "margin-right", "margin-top", "max-height", "max-width", "min-width", "opacity", "overflow", "overflow-x",
    "overflow-y", "padding", "padding-bottom", "padding-left", "padding-right", "padding-top", "table-layout",
    "text-align", "text-decoration", "text-overflow", "vertical-align", "white-space", "width", "word-break",
})  # fmt: skip

#: URL schemes allowed in ``href``/``src`` (relative links and ``#anchors`` are kept as they are).
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

_CLEANER: nh3.Cleaner | None = None


def _cleaner() -> nh3.Cleaner:
    global _CLEANER
    if _CLEANER is None:  # built once, on first use (not at import)
        _CLEANER = nh3.Cleaner(
            tags=set(ALLOWED_TAGS),
            clean_content_tags={"script", "style", "iframe", "object", "embed", "noscript", "template", "textarea",
                                "select", "svg", "math"},
            attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
            url_schemes=set(URL_SCHEMES),
            filter_style_properties=set(ALLOWED_STYLE_PROPERTIES),
            link_rel="noopener noreferrer",
            strip_comments=True,
        )  # fmt: skip
    return _CLEANER


def sanitize_html(html: str) -> str:
    """``html`` with everything outside the report's allow-list removed (nh3/ammonia).

    Scripts, styles, frames, forms and SVG are dropped with their content; event-handler
    attributes, ``javascript:``/``data:`` URLs and CSS properties outside
    :data:`ALLOWED_STYLE_PROPERTIES` are removed; the rest is re-serialised well-formed.

    Example
    -------
    >>> sanitize_html('<a href="javascript:alert(1)">x</a><div style="color:red;background:url(//e)">y</div>')
    '<a rel="noopener noreferrer">x</a><div style="color:red">y</div>'
    """
    return _cleaner().clean(str(html))


#: Output MIME types the HTML export shows; everything else a code cell produced is dropped from
#: the export (``application/javascript``, widget views, ``text/latex`` for MathJax ...).
_SHOWN_MIME = frozenset({"text/plain", "image/png", "image/jpeg", "text/html"})


def _markdown_to_html(text: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune  # optional heavy import

    return markdown2html_mistune(text)


def sanitize_notebook(nb: Mapping[str, Any]) -> Any:
    """A copy of ``nb`` whose code-cell outputs can carry no live markup into an HTML export.

    ``text/markdown`` outputs are rendered to HTML here (the same renderer nbconvert uses)
    and sanitised, ``text/html`` outputs are sanitised, and outputs of any other rich type
    but plain text and PNG/JPEG images are dropped. Markdown and raw cells are the
    template's own text and are left alone; stream, error and plain-text outputs are
    escaped by nbconvert.

    Example
    -------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
    ...     "display_data", data={"text/markdown": "v <img src=x onerror=alert(1)>"})])])
    >>> sanitize_notebook(nb).cells[0].outputs[0].data["text/html"]
    '<div class="ik-markdown"><p>v <img src="x"></p>\\n</div>'
    """
    out = copy.deepcopy(nb)
    for cell in out.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []) or []:
            data = output.get("data")
            if not data:
                continue
            if "text/html" in data:
                data["text/html"] = sanitize_html(_joined(data["text/html"]))
            elif "text/markdown" in data:
                rendered = _markdown_to_html(_joined(data["text/markdown"]))
                data["text/html"] = sanitize_html(f'<div class="ik-markdown">{rendered}</div>')
            for key in [k for k in data if k not in _SHOWN_MIME]:
                del data[key]
    return out


def _joined(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)
