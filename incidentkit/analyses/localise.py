"""Localisation: which route, version, host, function, error type or client a change concentrates in.

Once a shift is found (:mod:`.shift`), the next question of an investigation is *where*:
"it's only ``POST /v1/export``", "only the tasks of the new revision", "only version 42".
:func:`concentration` answers it for any good/bad split of requests, on top of the
incident-vs-rest comparison of :func:`incidentkit.analyses.compare.compare`:

* for every value of every dimension present (:data:`DIMENSIONS`), its share of the bad
  requests after the onset (``share_of_errors``) against its share of the good ones, with
  Cohen's h (``effect``) and a two-proportion z-test, Benjamini-Hochberg over every value of
  every dimension (``q_value``);
* and whether the value's own bad share **rose** from before the onset (one-sided
  two-proportion test, also corrected): a route that always collects scanners' 404s is where
  4xx concentrate, but not where the change is.

Ranked: values that are significant and rose first, by effect size. :func:`request_dimensions`
prepares the frame: the requests counted once (one tier), routes as templates
(``/orders/{id}``), and what only the log lines know joined by request id — the log stream
(host, task, Lambda environment), the Lambda version serving it, the error signature.

Example
-------
>>> import pandas as pd
>>> rows = pd.DataFrame({"route": ["POST /v1/export"] * 40 + ["GET /v1/items"] * 160,
...                      "status": [500] * 12 + [200] * 28 + [200] * 158 + [500] * 2})
>>> bad = rows["status"] >= 500
>>> c = concentration(rows, bad, dimensions=WHERE)
>>> r = c.iloc[0]
>>> r["dimension"], r["value"], float(r["share_of_errors"]), float(r["share_of_traffic"]), float(r["bad_share"])
('route', 'POST /v1/export', 0.8571, 0.2, 0.3)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..parse.registry import format_names
from ._common import benjamini_hochberg, codes_as_is, positions_in, select_rows, text_codes, text_test, two_proportion_z
from .compare import column_counts, joint_codes, score_counts, text_labels
from .impact import counted

__all__ = ["DIMENSIONS", "WHERE", "CONCENTRATION_COLUMNS", "route_template", "request_dimensions", "Coded", "coded", "concentration"]

#: The dimensions looked at, in the order ties are shown: where (route, method), what
#: (status, error type, signature), which code (app, function and version), which machine
#: (log stream: host, task, Lambda environment; log group), who (client family).
DIMENSIONS: tuple[str, ...] = (
    "route", "method", "status", "error_type", "signature", "app_version", "function_name", "function_version",
    "log_stream", "log_group", "user_agent_family", "client",
)

#: The dimensions that say *where* (not *what* failed: a status, an error type or a signature is
#: only present on failed requests, so the failed requests always "concentrate" in them).
WHERE: tuple[str, ...] = tuple(d for d in DIMENSIONS if d not in ("status", "error_type", "signature"))

CONCENTRATION_COLUMNS = (
    "dimension", "value", "share_of_errors", "share_of_traffic", "bad", "requests", "bad_share", "rest_bad_share",
    "bad_share_before", "rose", "effect", "p_value", "q_value", "significant",
)
#: Values beyond the most frequent ones of a dimension are pooled (as compare() does).
MAX_VALUES = 20
#: False-discovery rate of "concentrated here" and of "rose here".
ALPHA = 0.01

_ID_SEGMENT = re.compile(
    r"^(?:\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|"
    r"(?=[^/]*\d)[A-Za-z0-9_\-.:~%+=]{2,}|[0-9a-fA-F]{16,})$"
)
_LAMBDA_STREAM_VERSION = re.compile(r"\[([^\]]+)\]")
#: Rows an entry point wrote (its access log, API Gateway's execution log): their request id is the entry point's.
_ACCESS = format_names("request") + format_names("access") + format_names("entry")


def route_template(route: Any) -> Any:
    """A request path as a route template: query dropped, id-like segments ``{id}``.

    Routes already templated (``GET /accounts/{id}``, ``routeKey`` values) are kept.

    Example
    -------
    >>> route_template("/api/stock/SKU-66781?x=1"), route_template("GET /accounts/{id}"), route_template("/v2/quotes")
    ('/api/stock/{id}', 'GET /accounts/{id}', '/v2/quotes')
    """
    if route is None or route is pd.NA or (isinstance(route, float) and route != route):
        return route
    text = str(route).split("?", 1)[0]
    head, sep, path = text.rpartition(" ") if " " in text else ("", "", text)
    parts = [("{id}" if seg and not seg.startswith("{") and _ID_SEGMENT.match(seg) and not re.fullmatch(r"v\d+", seg) else seg)
             for seg in path.split("/")]
    return f"{head}{sep}{'/'.join(parts)}"


def _first_at(groups: np.ndarray, valid: np.ndarray, n: int) -> np.ndarray:
    """Per group (codes 0..n-1), the position of its first row where ``valid``; -1 for none."""
    at = np.flatnonzero(valid)
    found, first = np.unique(groups[at], return_index=True)
    out = np.full(n, -1, dtype="int64")
    out[found] = at[first]
    return out


def _by_request(logs: pd.DataFrame, templates: pd.Series | None, keys: pd.Series) -> dict[str, pd.Series]:
    """Per key (a request id; not an access-log row's): its log stream when every line of it names the same one,
    the Lambda version of a ``/aws/lambda/`` group's stream, the signature (the first template of its error lines).

    The lines', the keys' and the templates' request ids are factorised together once: a key's lines are the
    lines of its code, no lookup of a million ids in another million.
    """
    access = text_test(logs["format"], lambda s: s.isin(_ACCESS)) if "format" in logs.columns else np.zeros(len(logs), dtype=bool)
    rows = select_rows(logs, logs["request_id"].notna().to_numpy(dtype=bool) & ~access, ["request_id", "log_stream", "log_group"])
    tmpl = templates if templates is not None and len(templates) else pd.Series([], dtype=object)
    ids = [rows["request_id"].astype("string"), keys.astype("string"), pd.Series(tmpl.index, dtype="string")]
    codes, distinct = pd.factorize(pd.concat(ids, ignore_index=True))
    codes = np.asarray(codes, dtype="int64")
    n, (lines, at_key, at_tmpl) = len(distinct), np.split(codes, np.cumsum([len(x) for x in ids])[:2])
    # the stream when every line of the request names the same one (first() and nunique() of a groupby, by codes)
    stream, names = pd.factorize(rows["log_stream"].astype("string"))
    stream = np.asarray(stream, dtype="int64")
    low, high = np.full(n, len(names), dtype="int64"), np.full(n, -1, dtype="int64")
    np.minimum.at(low, lines[stream >= 0], stream[stream >= 0])
    np.maximum.at(high, lines[stream >= 0], stream[stream >= 0])
    own = np.where((high >= 0) & (low == high), high, -1)
    # the version when the request's first line with a log group is in a Lambda group
    group, group_names = pd.factorize(rows["log_group"].astype("string"))
    group = np.asarray(group, dtype="int64")
    is_lambda = np.append(pd.Series(np.asarray(group_names, dtype=object), dtype="string").str.startswith("/aws/lambda/")
                          .fillna(False).to_numpy(dtype=bool), False)
    first_group = _first_at(lines, group >= 0, n)
    lambda_request = is_lambda[np.where(first_group >= 0, group[first_group], -1)]
    found = pd.Series(np.asarray(names, dtype=object), dtype="string").str.extract(_LAMBDA_STREAM_VERSION, expand=False)
    # the signature: the first template of the request's error lines
    first_sig = np.full(n + 1, -1, dtype="int64")
    if len(tmpl):
        first_sig[:n] = _first_at(at_tmpl, pd.notna(tmpl.to_numpy(dtype=object)), n)
    has_line = np.zeros(n + 1, dtype=bool)
    has_line[lines] = True
    k = np.where((at_key >= 0) & has_line[at_key], at_key, n)  # a key without a line: the last, missing
    stream_of_key = np.append(own, -1)[k]
    version_of_key = np.where(np.append(lambda_request, False)[k], stream_of_key, -1)
    # Arrow takes (-1: missing), not a Python string a request
    return {
        "log_stream": pd.Series(pd.array(names, dtype="string").take(stream_of_key, allow_fill=True), index=keys.index),
        "function_version": pd.Series(pd.array(found, dtype="string").take(version_of_key, allow_fill=True), index=keys.index),
        "signature": pd.Series(pd.array(tmpl.to_numpy(dtype=object), dtype="string").take(first_sig[k], allow_fill=True),
                               index=keys.index),
    }


def request_dimensions(requests: pd.DataFrame | None, logs: pd.DataFrame | None = None, *,
                       templates: pd.Series | None = None) -> pd.DataFrame:
    """The requests counted once (:func:`~incidentkit.analyses.impact.counted`), with the dimensions of :data:`DIMENSIONS`.

    Parameters
    ----------
    requests:
        ``parsers.requests`` rows (every tier).
    logs:
        The parsed lines they came from: the log stream, the Lambda version (from the stream
        name) and the error signature of each request are joined by request id — through the
        access log's integration request id for an entry request (API Gateway → Lambda).
    templates:
        Signature template per request id (index: request id), e.g. from the error lines.

    Example
    -------
    >>> req = pd.DataFrame({"tier": ["invocation"], "request_id": ["r1"], "route": ["/orders/812"], "status": [500]})
    >>> logs = pd.DataFrame({"request_id": ["r1"], "log_stream": ["2026/05/04/[42]9f0e"], "log_group": ["/aws/lambda/orders"],
    ...                      "format": ["lambda_platform"]})
    >>> request_dimensions(req, logs)[["route", "log_stream", "function_version"]].values.tolist()
    [['/orders/{id}', '2026/05/04/[42]9f0e', '42']]
    """
    if requests is None or len(requests) == 0:
        return pd.DataFrame(columns=list(DIMENSIONS) + ["timestamp"])
    rows = counted(requests).copy()
    if "route" in rows.columns:
        distinct = rows["route"].dropna().unique()
        mapping = {r: route_template(r) for r in distinct}
        rows["route"] = rows["route"].map(mapping).astype("string")
    if "client_ip" in rows.columns and "client" not in rows.columns:
        rows["client"] = rows["client_ip"]
    if logs is None or logs.empty or "request_id" not in logs.columns or "request_id" not in rows.columns:
        return rows
    key = rows["request_id"].astype("string")
    if "integration_request_id" in logs.columns:
        link = logs.loc[logs["integration_request_id"].notna().to_numpy(dtype=bool), ["request_id", "integration_request_id"]]
        link = link.dropna().drop_duplicates("request_id").set_index("request_id")["integration_request_id"]
        key = key.map(link).fillna(key).astype("string") if len(link) else key
    for c, joined in _by_request(logs, templates, key).items():  # missing (no line of that request id): kept
        rows[c] = joined.where(joined.notna(), rows[c] if c in rows.columns else pd.NA).astype("string")
    return rows


@dataclass
class Coded:
    """The text codes (:func:`~._common.text_codes`) of the dimension columns of a frame of requests, made once
    (:func:`coded`) for every :func:`concentration` call on parts of it: the part after an onset and the part
    before, for each detector that asks. A text column of a value per request (the client address, at a million
    requests) is then factorised once rather than three times a call."""

    index: pd.Index
    codes: dict[str, np.ndarray] = field(default_factory=dict)
    texts: dict[str, np.ndarray] = field(default_factory=dict)

    def part(self, rows: pd.DataFrame | None) -> dict[str, np.ndarray]:
        """The codes of ``rows`` (found by index label), per coded dimension it holds; empty when it is no part."""
        if rows is None or not self.codes:
            return {}
        at = self.index.get_indexer(rows.index)
        if len(at) and at.min() < 0:
            return {}
        return {c: codes[at] for c, codes in self.codes.items() if c in rows.columns}


def _codable(column: pd.Series) -> bool:
    """Whether :func:`concentration` reads the column as its text codes (text, integer, text categories)."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return dtype.categories.inferred_type == "string"
    return codes_as_is(dtype)


def coded(rows: pd.DataFrame, dimensions: Sequence[str] = DIMENSIONS) -> Coded:
    """:class:`Coded` of ``rows`` (a unique index; else nothing is coded and each call reads the columns).

    Example
    -------
    >>> rows = pd.DataFrame({"route": pd.array(["/a", "/b", None, "/a"], dtype="string"), "latency_ms": [1.0] * 4})
    >>> c = coded(rows)
    >>> list(c.codes), c.part(rows.iloc[[3, 1]])["route"].tolist(), c.texts["route"].tolist()
    (['route'], [0, 1], ['/a', '/b'])
    """
    out = Coded(index=rows.index)
    if not rows.index.is_unique:
        return out
    for c in dimensions:
        if c in rows.columns and _codable(rows[c]):
            out.codes[c], out.texts[c] = text_codes(rows[c])
    return out


def _counts_by_text(rows: pd.DataFrame, dim: str, bad: np.ndarray, values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Requests and bad requests of each of ``values`` in ``rows[dim]``, the column read as text (as
    :func:`concentration` names values): one pass over the column, not one comparison per value.

    Example
    -------
    >>> n, x = _counts_by_text(pd.DataFrame({"status": [500, 200, 500]}), "status", np.array([True, False, True]), ["500", "404"])
    >>> n.tolist(), x.tolist()
    ([2, 0], [2, 0])
    """
    if dim not in rows.columns or rows.empty:
        return np.zeros(len(values), dtype="int64"), np.zeros(len(values), dtype="int64")
    elif (rows[dim].dtype != object and not isinstance(rows[dim].dtype, pd.CategoricalDtype)
          and pd.api.types.is_string_dtype(rows[dim].dtype)):
        codes, texts = pd.factorize(rows[dim])  # a text column is its own text: its distinct values stay Arrow text
    else:
        codes, texts = text_codes(rows[dim])
    codes = np.asarray(codes, dtype="int64")
    seen = codes >= 0
    n = np.bincount(codes[seen], minlength=len(texts))
    x = np.bincount(codes[seen], weights=bad[seen].astype("float64"), minlength=len(texts)).round().astype("int64")
    wanted = pd.Index(pd.unique(pd.Series(list(values), dtype=object)), dtype=object)
    # each distinct text's place among the wanted values: an Arrow lookup of Arrow texts, else one of the few wanted
    slot = wanted.get_indexer(texts) if isinstance(texts, np.ndarray) else positions_in(pd.Series(texts), wanted)
    return _tally(slot, n, x, wanted, values)


def _counts_by_code(codes: np.ndarray, bad: np.ndarray, wanted: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Requests and bad requests of each of the ``wanted`` codes (-1: none) among ``codes`` (:class:`Coded`)."""
    seen = codes >= 0
    top = max(int(codes.max()) + 1 if len(codes) else 0, max(wanted) + 1)
    n = np.append(np.bincount(codes[seen], minlength=top), 0)  # -1 (not a text of the column): the last, 0
    x = np.append(np.bincount(codes[seen], weights=bad[seen].astype("float64"), minlength=top).round().astype("int64"), 0)
    return n[np.asarray(wanted, dtype="int64")], x[np.asarray(wanted, dtype="int64")]


def _tally(slot: np.ndarray, n: np.ndarray, x: np.ndarray, wanted: pd.Index, values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The counts ``n``, ``x`` of distinct texts (``slot``: each one's place in ``wanted``), for each of ``values``."""
    hit = slot >= 0
    n_w, x_w = np.zeros(len(wanted) + 1, dtype="int64"), np.zeros(len(wanted) + 1, dtype="int64")  # absent: the last, 0
    n_w[slot[hit]], x_w[slot[hit]] = n[hit], x[hit]
    at = wanted.get_indexer(pd.Index(list(values), dtype=object))
    return n_w[at], x_w[at]


def _rose(after: pd.DataFrame, before: pd.DataFrame | None, bad_after: pd.Series, bad_before: pd.Series | None,
          pairs: pd.DataFrame, known: Coded | None = None, codes_of: dict[tuple[str, str], int] | None = None,
          ) -> tuple[np.ndarray, np.ndarray]:
    """Per (dimension, value): the bad share before the onset, and whether it rose (BH-corrected, one-sided); a
    dimension ``known`` counted by the codes of its values (``codes_of``, from :func:`_lift`)."""
    if before is None or before.empty or bad_before is None:
        return np.full(len(pairs), np.nan), np.zeros(len(pairs), dtype=bool)
    bad_a, bad_b = np.asarray(bad_after, dtype=bool), np.asarray(bad_before, dtype=bool)
    dims, values = pairs["dimension"].to_numpy(), [str(v) for v in pairs["value"]]
    n1, x1, n2, x2 = (np.zeros(len(pairs), dtype="int64") for _ in range(4))
    part_a, part_b = (known.part(after), known.part(before)) if known is not None else ({}, {})
    for dim in pd.unique(dims):
        at = np.flatnonzero(dims == dim)
        wanted = [values[i] for i in at]
        if dim in part_a and dim in part_b and codes_of is not None:
            codes = [codes_of.get((dim, v), -1) for v in wanted]
            n1[at], x1[at] = _counts_by_code(part_a[dim], bad_a, codes)
            n2[at], x2[at] = _counts_by_code(part_b[dim], bad_b, codes)
        else:
            n1[at], x1[at] = _counts_by_text(after, dim, bad_a, wanted)
            n2[at], x2[at] = _counts_by_text(before, dim, bad_b, wanted)
    shares, pvals = [], []
    for a, m, b, k in zip(x1.tolist(), n1.tolist(), x2.tolist(), n2.tolist()):
        shares.append(b / k if k else np.nan)
        pvals.append(two_proportion_z(a, m, b, k, alternative="greater")[1] if m and k else (0.0 if m and a else 1.0))
    q = benjamini_hochberg(pvals)
    return np.asarray(shares, dtype=float), np.asarray(q < ALPHA, dtype=bool)


def concentration(
    rows: pd.DataFrame,
    bad: pd.Series | np.ndarray | Sequence[bool],
    *,
    before: pd.DataFrame | None = None,
    bad_before: pd.Series | np.ndarray | Sequence[bool] | None = None,
    dimensions: Sequence[str] = DIMENSIONS,
    known: Coded | None = None,
) -> pd.DataFrame:
    """Where the bad requests concentrate, and whether the bad share rose there.

    Parameters
    ----------
    rows, bad:
        The requests after the onset (:func:`request_dimensions`) and which of them are bad.
    before, bad_before:
        The requests before the onset and which were bad (for ``rose``); None: ``rose`` is
        False everywhere and ``bad_share_before`` NaN.
    dimensions:
        The columns to look at (those present and not constant are used).
    known:
        The :func:`coded` frame ``rows`` and ``before`` are parts of (by index label), when several calls read
        parts of the same requests: the same result, each text column factorised once for all of them.

    Returns
    -------
    DataFrame
        :data:`CONCENTRATION_COLUMNS`: ``share_of_errors`` (share of the bad requests with this
        value), ``share_of_traffic`` (of all requests), ``bad``, ``requests``, ``bad_share`` (of
        this value's requests), ``rest_bad_share``, ``bad_share_before``, ``rose``, ``effect``
        (Cohen's h of bad vs good shares), ``p_value``, ``q_value``, ``significant``; ranked:
        significant and rose first, then significant, by effect.
    """
    mask = pd.Series(np.asarray(bad, dtype=bool), index=rows.index)
    part = known.part(rows) if known is not None else {}
    cols = [c for c in dimensions if c in rows.columns and _varies(rows[c], part.get(c))]
    empty = pd.DataFrame({c: pd.Series([], dtype="object") for c in CONCENTRATION_COLUMNS})
    if rows.empty or not mask.any() or mask.all() or not cols:
        return empty
    lift, codes_of = _lift(rows, mask.to_numpy(), cols, part, known)  # not the other columns
    lift = lift[(lift["value"] != "(missing)") & (lift["value"] != "(other)") & (lift["incident_count"] > 0)]
    if lift.empty:
        return empty
    n_bad, n_good = int(mask.sum()), int((~mask).sum())
    out = pd.DataFrame({
        "dimension": lift["column"].to_numpy(), "value": lift["value"].astype(str).to_numpy(),
        "share_of_errors": lift["incident_share"].round(4).to_numpy(),
        "share_of_traffic": ((lift["incident_count"] + lift["baseline_count"]) / (n_bad + n_good)).round(4).to_numpy(),
        "bad": lift["incident_count"].to_numpy(), "requests": (lift["incident_count"] + lift["baseline_count"]).to_numpy(),
        "effect": lift["effect"].to_numpy(), "p_value": lift["p_value"].to_numpy(), "q_value": lift["q_value"].to_numpy(),
        "significant": lift["significant"].to_numpy(dtype=bool),
    })
    out["bad_share"] = (out["bad"] / out["requests"]).round(4)
    out["rest_bad_share"] = ((n_bad - out["bad"]) / (len(rows) - out["requests"]).where(len(rows) - out["requests"] > 0)).round(4)
    bb = pd.Series(np.asarray(bad_before, dtype=bool), index=before.index) if before is not None and bad_before is not None else None
    out["bad_share_before"], out["rose"] = _rose(rows, before, mask, bb, out, known, codes_of)
    out["_rank"] = np.where(out["significant"] & out["rose"], 0, np.where(out["significant"], 1, 2))
    out = out.sort_values(["_rank", "effect"], ascending=[True, False], kind="stable")
    return out[list(CONCENTRATION_COLUMNS)].reset_index(drop=True)


def _varies(column: pd.Series, codes: np.ndarray | None) -> bool:
    """The column holds at least two distinct values (its text codes when known: distinct texts, distinct values)."""
    if codes is None:
        return bool(column.notna().any() and column.nunique(dropna=True) > 1)
    seen = codes[codes >= 0]
    return len(seen) > 0 and np.count_nonzero(np.bincount(seen)) > 1


def _lift(rows: pd.DataFrame, bad: np.ndarray, cols: Sequence[str], part: dict[str, np.ndarray],
          known: Coded | None) -> tuple[pd.DataFrame, dict[tuple[str, str], int]]:
    """:func:`~.compare.compare` of the bad rows against the others over ``cols``, a known column through its codes;
    and the code of each (known column, value) counted (the value as text: :func:`concentration` names it so)."""
    n1, n2 = int(bad.sum()), int((~bad).sum())
    tallies: list[dict[str, Any]] = []
    codes_of: dict[tuple[str, str], int] = {}
    for c in cols:
        if c in part and known is not None:
            codes, labels = text_labels(part[c], known.texts[c])
            counts = column_counts(c, codes[bad], codes[~bad], labels, MAX_VALUES)
            codes_of.update({(c, str(r["value"])): int(r["code"]) for r in counts})
        else:
            counts = column_counts(c, *joint_codes(rows[c][bad], rows[c][~bad], n1, n2), MAX_VALUES)
        tallies += counts
    return score_counts(tallies, n1, n2, alpha=ALPHA), codes_of
