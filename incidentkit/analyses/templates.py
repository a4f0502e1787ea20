"""Log message templates: the variable parts of a text masked, then Drain3's templates of the masked texts.

:func:`mask_variables` replaces what varies between lines of one kind (URLs, ARNs, e-mail
addresses, UUIDs, IPs, quoted values, paths, hex, long identifiers, numbers) with a
placeholder, vectorised with RE2 through pyarrow; :func:`mine` groups the masked texts into
templates with Drain3 (He et al., ICWS 2017; IBM/logpai), ``<*>`` where members differ. The
error signatures (:mod:`incidentkit.analyses.signatures`) are built on both.

Example
-------
>>> ids, templates = mine(mask_variables(["order 41 failed after 3000 ms", "order 7 failed after 12 ms"]))
>>> sorted(set(templates[i] for i in ids))
['order <NUM> failed after <NUM> ms']
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig

__all__ = ["MASKS", "DRAIN_SIM_TH", "DRAIN_DEPTH", "DRAIN_MAX_CHILDREN", "mask_variables", "mine"]

#: Variable parts, in the order they are replaced: ``(name, pattern, replacement, min_length)``.
#: Patterns are written so RE2 (pyarrow, vectorised) and Python's ``re`` read them alike; a
#: replacement keeps the character a pattern consumed before the value (``\\1``). A mask with a
#: ``min_length`` replaces only values at least that long (RE2 has no look-around to say it), so
#: ``ec2``, ``v2`` or ``utf8`` stay text while ``9f86d081884c`` and ``req-7Hk29pQ`` go.
MASKS: tuple[tuple[str, str, str, int], ...] = (
    ("url", r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>]+", "<URL>", 0),
    ("arn", r"\barn:aws[a-zA-Z\-]*:[^\s'\",]+", "<ARN>", 0),
    ("email", r"\b[\w.+\-]+@[\w\-]+\.[\w.\-]+\b", "<EMAIL>", 0),
    ("uuid", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "<UUID>", 0),
    ("ip", r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?::\d{1,5})?\b", "<IP>", 0),
    ("quoted", r"(^|[\s=:(\[{,])(?:'[^'\n]{0,200}'|\"[^\"\n]{0,200}\")", r"\1<*>", 0),
    ("path", r"(^|[\s=:(\[{,])(?:[A-Za-z]:)?(?:/[\w.\-@~%+]+){2,}/?", r"\1<PATH>", 0),
    ("hex", r"\b0[xX][0-9a-fA-F]+\b|\b[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b|\b[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*[0-9][0-9a-fA-F]*\b", "<HEX>", 6),
    ("id", r"\b[A-Za-z_\-]*[0-9][A-Za-z0-9_\-]*[A-Za-z][A-Za-z0-9_\-]*={0,2}|\b[A-Za-z_\-]*[A-Za-z][A-Za-z_\-]*[0-9][A-Za-z0-9_\-]*={0,2}", "<ID>", 6),
    ("number", r"\b\d+(?:\.\d+)?\b", "<NUM>", 0),
)
#: Digits an identifier holds at least (``python3``, ``Base64Decoder`` and ``http2`` are words).
_MIN_DIGITS = 2
#: Drain3's settings: similarity threshold (share of equal tokens for a text to join a
#: template), tree depth, children per node. Drain3's defaults, which its authors measured on
#: the 16 LogHub data sets; the masks above already removed what those settings must absorb.
DRAIN_SIM_TH = 0.4
DRAIN_DEPTH = 4
DRAIN_MAX_CHILDREN = 100


def mask_variables(texts: Sequence[str] | pd.Series | pa.Array) -> pd.Series:
    """Replace the variable parts of each text with a placeholder (:data:`MASKS`), vectorised.

    The masks without a length condition run over every text with RE2 (pyarrow); the others
    run with Python's ``re`` over the distinct texts left by then (few: the ids and addresses
    that make each line unique are gone).

    Example
    -------
    >>> mask_variables(["connect ETIMEDOUT 10.0.3.41:443 after 3000 ms",
    ...                 "Missing required configuration key 'billing.tax.endpoint' in /etc/app/conf.yml",
    ...                 "order 9f86d081884c7d65 of user 42 not found on ec2 (v2)"]).tolist()
    ['connect ETIMEDOUT <IP> after <NUM> ms', 'Missing required configuration key <*> in <PATH>', 'order <HEX> of user <NUM> not found on ec2 (v2)']
    """
    values = texts if isinstance(texts, pa.Array) else pa.array(
        pd.Series(texts, dtype="object").where(pd.notna(pd.Series(texts, dtype="object")), "").astype(str).tolist(), pa.string())
    if len(values) == 0:
        return pd.Series([], dtype="string")
    encoded = pc.dictionary_encode(values)
    distinct, codes = encoded.dictionary, encoded.indices
    for _name, pattern, repl, min_length in MASKS:
        if min_length:
            distinct = pa.array(_mask_long(distinct.to_pylist(), pattern, repl, min_length), pa.string())
        else:
            distinct = pc.replace_substring_regex(distinct, pattern=pattern, replacement=repl)
    return pd.Series(distinct.take(codes).to_pylist(), dtype="string")


def _mask_long(values: list[str], pattern: str, repl: str, min_length: int) -> list[str]:
    """``pattern`` replaced by ``repl`` where the match is at least ``min_length`` characters long."""
    rx = re.compile(pattern)

    def sub(m: re.Match[str]) -> str:
        text = m.group(0)
        long_enough = len(text) >= min_length and sum(c.isdigit() for c in text) >= _MIN_DIGITS
        return repl if long_enough else text

    return [rx.sub(sub, v) for v in values]


def mine(texts: Sequence[str] | pd.Series) -> tuple[np.ndarray, dict[int, str]]:
    """Drain3 templates of ``texts`` (already masked): a template id per text, and the templates.

    The distinct texts are fed most frequent first (ties in text order), so the result does not
    depend on the order of the lines; each text keeps the cluster Drain3 put it in, and a
    cluster's template is read once every text has been seen (a template only generalises as
    texts arrive: ``<*>`` where its members differ).

    Example
    -------
    >>> ids, templates = mine(["user <NUM> logged in from web", "user <NUM> logged in from ios", "disk full"])
    >>> [templates[i] for i in ids]
    ['user <NUM> logged in from <*>', 'user <NUM> logged in from <*>', 'disk full']
    """
    series = pd.Series(texts, dtype="string").fillna("")
    if series.empty:
        return np.array([], dtype=np.int64), {}
    counts = series.value_counts(sort=False)
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    config = TemplateMinerConfig()  # built in code: never read from a drain3.ini of the working directory
    config.drain_sim_th, config.drain_depth, config.drain_max_children = DRAIN_SIM_TH, DRAIN_DEPTH, DRAIN_MAX_CHILDREN
    config.masking_instructions = []  # masked already, vectorised (mask_variables)
    miner = TemplateMiner(config=config)
    cluster_of = {text: int(miner.add_log_message(text)["cluster_id"]) for text, _ in order}
    templates = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    ids = series.map(cluster_of).to_numpy(dtype=np.int64)
    return ids, templates
