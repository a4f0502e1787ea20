"""Time slices of a log group's window, fetched concurrently as separate FilterLogEvents chains.

One FilterLogEvents chain is sequential: each page's ``nextToken`` is needed for the next
call, so a large group is read at one call per round trip however large the account's
quota. Slices of the window are independent chains; fetched at once they fill the quota
(the shared :mod:`incidentkit.fetch.pacing` budget keeps them at it, not above it).

Bounds are epoch milliseconds, both inclusive (FilterLogEvents' ``startTime`` / ``endTime``):
the slices of ``[start, end]`` cover it exactly, each millisecond in exactly one slice.

*Auto* slicing needs no guess about the volume: a group starts as one chain; when the chain
is still going after :data:`SPLIT_AFTER_PAGES` pages with events, the pages read so far
tell how far into the window it got and how long a call takes. Slicing pays only when one chain
cannot fill the budget: a chain makes ``1 / latency`` calls a second, so
``ceil(budget x latency)`` chains fill it (:func:`chains_to_fill`, Little's law); when the
chains already running (or waiting to start) reach that, the chain reads on. Otherwise the
rest of the window is cut into twice as many slices as chains are missing (so the last ones
end close together), never more than the pages still expected at the density so far, and
not at all when fewer than two are (one chain reads one page in one call).

How many chains run at once follows from the budget, not from a fixed pool: a paced fetch
runs up to :func:`chains_wanted` chains, ``ceil(budget x call time x HEADROOM)``, at most
:data:`MAX_CHAINS`, and never fewer than the caller's ``max_workers``. At AWS's default
FilterLogEvents quota (5 requests a second per account and Region, cited in
:mod:`incidentkit.fetch.pacing`) and a 120 ms call that is one chain (no split, no extra
call); at a raised quota of 25/s, 4 (6 when a busy process makes the call take 170 ms); at
25/s and 600 ms, 19. The call time is measured on the chain itself (token waits, the wait
for other callers of the bucket, and retried calls excluded), and again on each slice,
which splits in turn when it proves long and the chains running fall short.

The chain returns events sorted by time (AWS documents the order), so the rest starts at
the first timestamp of the last page read: events of that page come again in the first
slice and are dropped by event id where the slices touch (counted as ``slice_overlap``),
and no event of the window is skipped.

Example
-------
>>> even_slices(0, 99, 4)
[(0, 24), (25, 49), (50, 74), (75, 99)]
>>> rest_slices(0, 999, resume_ms=100, pages_done=2, max_slices=8)
[(100, 211), (212, 324), (325, 436), (437, 549), (550, 661), (662, 774), (775, 886), (887, 999)]
"""

from __future__ import annotations

import math

__all__ = [
    "HEADROOM", "MAX_CHAINS", "MAX_SLICES", "SPLIT_AFTER_PAGES", "chains_to_fill", "chains_wanted", "even_slices",
    "rest_slices",
]  # fmt: skip

#: Slice chains a group may be read as, in all. Each costs at least one call (an empty slice
#: answers at once), so the bound keeps a sparse window from costing more calls than it saves.
MAX_SLICES = 64

#: Pages with events a chain reads before auto slicing looks at how far it got: when a
#: token remains after two, the group is large; a fetch of one or two pages stays one chain
#: (no extra call). Empty pages (the service's scan budget ran out) say nothing of the volume.
SPLIT_AFTER_PAGES = 2

#: Chains one fetch runs at once at most (threads): 32 fill a budget of 50 calls a second at
#: 600 ms a call; a quota above that is read at the budget only when calls are faster.
MAX_CHAINS = 32

#: Chains are sized for the measured call time times this. The time was measured while fewer
#: chains ran, and each added chain makes every call slower in one busy process (botocore
#: parses each page, the frame is built: ~10-20 ms of CPU a 1,000-event page). The costs are
#: not symmetric: a chain too many waits for tokens (at most one extra call, its slice's last
#: page), a chain too few leaves budget unused for the whole fetch.
HEADROOM = 1.25


def even_slices(start_ms: int, end_ms: int, parts: int) -> list[tuple[int, int]]:
    """``[start_ms, end_ms]`` (both inclusive) cut into ``parts`` contiguous slices of equal length.

    Fewer slices when the window has fewer milliseconds than ``parts``; never an empty one.
    """
    span = end_ms - start_ms + 1
    parts = max(1, min(int(parts), span))
    edges = [start_ms + span * i // parts for i in range(parts + 1)]
    return [(a, b - 1) for a, b in zip(edges, edges[1:]) if b > a]


def chains_to_fill(rps: float | None, latency_s: float, max_chains: int) -> int:
    """How many chains keep ``rps`` calls a second in flight when a call takes ``latency_s`` (Little's law).

    A chain makes one call at a time, so it makes at most ``1 / latency_s`` calls a second;
    ``ceil(rps * latency_s)`` chains fill the budget, and more only queue for its tokens (and
    cost an extra call each). Without a budget (``rps`` None or 0) every worker is used.

    Example
    -------
    >>> chains_to_fill(5.0, 0.12, 4), chains_to_fill(5.0, 0.6, 4), chains_to_fill(50.0, 0.3, 8), chains_to_fill(None, 0.1, 4)
    (1, 3, 8, 4)
    """
    if not rps:
        return max_chains
    return max(1, min(max_chains, math.ceil(rps * max(0.0, latency_s) - 1e-9)))


def chains_wanted(rps: float | None, latency_s: float, max_workers: int) -> int:
    """Chains a fetch runs at once to fill ``rps`` when a call takes ``latency_s``: with :data:`HEADROOM`, at most :data:`MAX_CHAINS`.

    Not paced (``rps`` None or 0): the caller's ``max_workers``, as nothing says more are
    useful. The caller never runs fewer chains than ``max_workers`` (groups and stream
    batches start that many at once); this says when a group is worth splitting, and how
    far the fetch may grow past ``max_workers`` to fill the budget.

    Example
    -------
    >>> chains_wanted(5.0, 0.12, 4), chains_wanted(25.0, 0.12, 4), chains_wanted(25.0, 0.6, 4), chains_wanted(500.0, 1.0, 4)
    (1, 4, 19, 32)
    >>> chains_wanted(None, 0.6, 4)
    4
    """
    if not rps:
        return max_workers
    return chains_to_fill(rps, max(0.0, latency_s) * HEADROOM, MAX_CHAINS)


def rest_slices(start_ms: int, end_ms: int, *, resume_ms: int, pages_done: int, max_slices: int) -> list[tuple[int, int]]:
    """Slices of ``[resume_ms, end_ms]`` for a chain that read ``pages_done`` pages up to ``resume_ms``.

    As many slices as the pages still expected at the rate so far (window share per page),
    between 2 and ``max_slices``; ``[]`` when fewer than two pages are expected (one chain
    reads one page in one call; slices would add calls and save no round trip) or nothing
    is left to split.
    """
    if resume_ms >= end_ms or max_slices < 2:
        return []
    done = max(1, resume_ms - start_ms)
    expected_left = pages_done * (end_ms - resume_ms) / done
    if expected_left < 2:
        return []  # one chain reads one more page in one call; slices would cost more calls for no shorter wait
    parts = min(max_slices, max(2, math.ceil(expected_left)))
    return even_slices(resume_ms, end_ms, parts)
