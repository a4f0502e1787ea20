"""Error signatures against parsing: mining the error lines of a window must cost less than parsing it.

What is timed, on the same parsed frame of the shared synthetic events (:class:`_common.Synthetic`:
1M events by default, four of five application JSON lines, ~11 % of them at ERROR; the last
quarter of the window is its incident):

* **parse**: ``parsers.parse`` of the events frame (as ``bench_ingest.py`` times it);
* **mine**: ``analyses.signatures.signatures`` of the incident quarter against the rest of the
  window as its baseline — picking the error lines, their one-line texts, masking the variable
  parts (RE2 through pyarrow), Drain3 over the distinct masked texts, the counts and the rate
  tests. Exactly what ``Investigation.signatures()`` and the ``error-spike`` finding run.

Both are the best of ``--repeat`` rounds in the same process. The ratio printed is mine / parse
(target < 1: mining must not dominate a run).

Run: ``python benchmarks/bench_signatures.py --events 1000000 --repeat 3``
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
from bench_ingest import events_frame, generate, kit  # noqa: E402


def _best(fn: Any, repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=20260301)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args(argv)

    import pandas as pd

    from incidentkit.analyses import signatures as sig

    print(C.environment_line())
    frame = events_frame(generate(args.events, seed=args.seed))
    parse_s, parsed = _best(lambda: kit(frame), args.repeat)
    t = parsed["timestamp"]
    start, end = t.min(), t.max() + pd.Timedelta("1ms")
    cut = start + (end - start) * 0.75
    inc, base = parsed[(t >= cut).to_numpy(dtype=bool)], parsed[(t < cut).to_numpy(dtype=bool)]

    def mine() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sig.signatures(inc, base, window=(cut, end), baseline_window=(start, cut))

    mine_s, found = _best(mine, args.repeat)
    lines = int(found.attrs.get("error_lines", 0)) + int(found.attrs.get("baseline_error_lines", 0))
    print(f"events {args.events:,}: parse {parse_s:.2f} s; mine {mine_s:.2f} s over {lines:,} error lines "
          f"-> {len(found)} signatures ({int(found['new'].fillna(False).astype(bool).sum())} new, "
          f"{int(found['grown'].fillna(False).astype(bool).sum())} grown)")
    ratio = mine_s / parse_s if parse_s else float("nan")
    print(C.ratio_line("mining the error lines / parsing the window", ratio, target="< 1x", ok=ratio < 1.0))
    if args.json:
        Path(args.json).write_text(json.dumps({"events": args.events, "parse_s": parse_s, "mine_s": mine_s,
                                               "error_lines": lines, "signatures": len(found), "ratio": ratio}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
