"""Time slices of a log group's window, fetched concurrently as separate FilterLogEvents chains.

One FilterLogEvents chain is sequential: each page's ``nextToken`` is needed for the next
call, so a large group is read at one call per round trip however large the account's
quota. Slices of the window are independent chains; fetched at once they fill the quota
(the shared :mod:`incidentkit.fetch.pacing` budget keeps them at it, not above it).

Bounds are epoch milliseconds, both inclusive (FilterLogEvents' ``startTime`` / ``endTime``):
the slices of ``[start, end]`` cover it exactly, each millisecond in exactly one slice.

*Auto* slicing needs no guess about the volume: a group starts as one chain; when the chain
is still going after :data:`SPLIT_AFTER_PAGES` pages with events, the pages read so far tell how far into
the window it got, so the rest of the window is cut into about as many slices as pages remain
(at most ``max_slices``). The chain returns events sorted by time (AWS documents the order),
so the rest starts at the first timestamp of the last page read: events of that page come
again in the first slice and are dropped by event id where the slices touch (counted as
``slice_overlap``), and no event of the window is skipped.

Example
-------
>>> even_slices(0, 99, 4)
[(0, 24), (25, 49), (50, 74), (75, 99)]
>>> rest_slices(0, 999, resume_ms=100, pages_done=2, max_slices=8)
[(100, 211), (212, 324), (325, 436), (437, 549), (550, 661), (662, 774), (775, 886), (887, 999)]
"""

from __future__ import annotations

import math

__all__ = ["MAX_SLICES", "SPLIT_AFTER_PAGES", "even_slices", "rest_slices"]

#: Slice chains a group may be read as, in all. Each costs at least one call (an empty slice
#: answers at once), so the bound keeps a sparse window from costing more calls than it saves.
MAX_SLICES = 64

#: Pages with events a chain reads before auto slicing looks at how far it got: when a
#: token remains after two, the group is large; a fetch of one or two pages stays one chain
#: (no extra call). Empty pages (the service's scan budget ran out) say nothing of the volume.
SPLIT_AFTER_PAGES = 2


def even_slices(start_ms: int, end_ms: int, parts: int) -> list[tuple[int, int]]:
    """``[start_ms, end_ms]`` (both inclusive) cut into ``parts`` contiguous slices of equal length.

    Fewer slices when the window has fewer milliseconds than ``parts``; never an empty one.
    """
    span = end_ms - start_ms + 1
    parts = max(1, min(int(parts), span))
    edges = [start_ms + span * i // parts for i in range(parts + 1)]
    return [(a, b - 1) for a, b in zip(edges, edges[1:]) if b > a]


def rest_slices(start_ms: int, end_ms: int, *, resume_ms: int, pages_done: int, max_slices: int) -> list[tuple[int, int]]:
    """Slices of ``[resume_ms, end_ms]`` for a chain that read ``pages_done`` pages up to ``resume_ms``.

    As many slices as the pages still expected at the rate so far (window share per page),
    between 2 and ``max_slices``; ``[]`` when nothing is left to split.
    """
    if resume_ms >= end_ms or max_slices < 2:
        return []
    done = max(1, resume_ms - start_ms)
    expected_left = pages_done * (end_ms - resume_ms) / done
    parts = min(max_slices, max(2, math.ceil(expected_left)))
    return even_slices(resume_ms, end_ms, parts)
