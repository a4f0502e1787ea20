"""Tables for reading: a frame shown with formatted numbers, a unit per column and a row limit.

Example
-------
>>> import pandas as pd
>>> t = table(pd.DataFrame({"latency_ms": [830.4, 8230.0]}), limit=1)
>>> t.frame.shape[0] <= 2
True
"""

from __future__ import annotations

import json
import numbers
from typing import Any, Mapping

from .._util.fmt import value as _fmt
from ..masking import mask_text
from .markup import html_text as _e

__all__ = ["Table", "table", "TABLE_ROWS"]

# -- tables for reading -----------------------------------------------------------------------

#: Rows a :class:`Table` shows (the caption says how many more there are).
TABLE_ROWS = 50


class Table:
    """A DataFrame shown for reading: numbers formatted by column name, wide tables scroll.

    ``_repr_html_`` formats each value with :func:`incidentkit._util.fmt.value` under its column's
    name (``share``/``rate`` columns as %, ``p_value``/``q_value`` as ``< 0.001``, ``*_ms``
    with the unit, thousands separators), escapes every cell, hides a plain 0..n-1 index and
    wraps the table in a horizontally scrolling box. The frame itself is unchanged
    (:attr:`frame`), and a terminal shows pandas' own text.

    Parameters
    ----------
    frame:
        The DataFrame (a Series is shown as one column; a dict of results as one row per key,
        each value formatted by its key).
    units:
        Column -> unit (``"ms"``, ``"s"``) for columns whose name does not say it (``p99``).
    limit:
        Rows shown.

    Example
    -------
    >>> import pandas as pd
    >>> html = Table(pd.DataFrame({"value": ["<b>"], "share": [0.25], "p_value": [1.4e-14], "p99": [7830.1]}),
    ...              units={"p99": "ms"})._repr_html_()
    >>> "25%" in html and "&lt; 0.001" in html and "7,830 ms" in html and "&lt;b&gt;" in html
    True
    """

    def __init__(self, frame: Any, *, units: Mapping[str, str] | None = None, limit: int = TABLE_ROWS) -> None:
        import pandas as pd

        self.by_key = isinstance(frame, Mapping)  # a dict of results: one row per key, valued by its name
        if self.by_key:
            df = pd.DataFrame({"measure": [str(k) for k in frame], "value": [_plain(v) for v in frame.values()]})
        else:
            df = frame.to_frame() if isinstance(frame, pd.Series) else frame
        self.frame = df
        self.units = dict(units or {})
        self.limit = limit

    def _shown(self) -> Any:
        import pandas as pd

        df = self.frame
        if not isinstance(df.index, pd.RangeIndex) or df.index.name is not None:
            df = df.reset_index()
        return df

    def _cell(self, value: Any, column: str) -> tuple[str, bool]:
        """(formatted text, is_number) of one value."""
        import pandas as pd

        if isinstance(value, pd.Timestamp):
            return (value.tz_convert("UTC") if value.tzinfo else value).strftime("%Y-%m-%d %H:%M:%S"), False
        if value is None or (not isinstance(value, (str, bytes, list, dict, tuple)) and pd.isna(value)):
            return "—", False
        unit = self.units.get(column)
        name = f"{column}_{unit}" if unit else column
        is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        return _fmt(value, name), is_number

    def _repr_html_(self) -> str:
        df = self._shown()
        shown = df.head(self.limit)
        columns = [str(c) for c in shown.columns]
        head = "".join(f'<th class="ik-text" style="padding:3px 10px;border-bottom:1px solid #cbd5e1">{_e(c)}</th>'
                       for c in columns)
        rows = []
        for record in shown.itertuples(index=False, name=None):
            cells = []
            for value, column in zip(record, columns):
                name = str(record[0]) if self.by_key and column == "value" else column
                text, is_number = self._cell(value, name)
                align = "right" if is_number else "left"
                cells.append(f'<td class="{"ik-num" if is_number else "ik-text"}" style="padding:2px 10px;text-align:{align}">'
                             f"{_e(text)}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        more = (f'<div style="color:#64748b;font-size:12px">showing {len(shown):,} of {len(df):,} rows</div>'
                if len(df) > len(shown) else "")
        return (f'<div class="ik-table-wrap" style="overflow-x:auto;max-width:100%"><table class="ik-table" '
                f'style="border-collapse:collapse;font-size:12.5px"><thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(rows)}</tbody></table>{more}</div>')

    def __repr__(self) -> str:
        return mask_text(self._shown().head(self.limit).to_string(index=False))


def _plain(value: Any) -> Any:
    """A dict value as one cell: lists and dicts as compact JSON text."""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return value


def table(frame: Any, *, units: Mapping[str, str] | None = None, limit: int = TABLE_ROWS) -> Table:
    """``frame`` shown for reading in a report (see :class:`Table`)."""
    return Table(frame, units=units, limit=limit)
