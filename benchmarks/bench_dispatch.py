"""How much the parser's dispatch costs: ``parse`` CPU time of this tree against another one.

Both trees parse the same events of :mod:`bench_ingest` (4 of 5 lines app JSON, every fifth a
Lambda ``REPORT`` line) in one thread (``INCIDENTKIT_PARSE_THREADS=1``), each in its own
subprocess, the two run alternately so that the load of a shared machine falls on both; each
run keeps its best of ``--rounds`` CPU times. The other tree is a directory (``--before``) or
a git revision exported to a temporary directory (``--before-rev main``). Used for the
registry row of benchmarks/README.md (note 1: the registry against the chain it replaced).

Example::

    python benchmarks/bench_dispatch.py --before-rev main --events 300000 --rounds 3 --alternations 4
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_CHILD = r"""
import gc, os, sys, time, warnings
tree, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.path[:0] = [tree, os.path.join(tree, "benchmarks")]
import bench_ingest as B
import incidentkit
assert incidentkit.__file__.startswith(tree), incidentkit.__file__
from incidentkit import parse as parsers
frame = B.events_frame(B.generate(n))
best = float("inf")
for _ in range(rounds):
    gc.collect()
    t = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = parsers.parse(frame)
    best = min(best, time.process_time() - t)
print(best, len(df), int(df["parse_error"].sum()))
"""


def cpu_seconds(tree: Path, events: int, rounds: int) -> tuple[float, int, int]:
    """Best CPU seconds of ``parse`` in ``tree`` (a fresh interpreter), rows and parse errors."""
    env = {**os.environ, "INCIDENTKIT_PARSE_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(tree), str(events), str(rounds)], check=True, capture_output=True,
                         text=True, env=env, cwd=tree).stdout.split()
    return float(out[0]), int(out[1]), int(out[2])


def export(rev: str, into: Path) -> Path:
    """The files of git revision ``rev`` of this repository, under ``into``."""
    archive = into / "tree.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), rev], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "tree", filter="data")
    return into / "tree"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path, help="the other tree (a checkout or export of the repository)")
    ap.add_argument("--before-rev", help="a git revision of this repository, exported to a temporary directory")
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--rounds", type=int, default=3, help="parses per run (the best is kept)")
    ap.add_argument("--alternations", type=int, default=4, help="runs of each tree, alternating")
    args = ap.parse_args(argv)
    if bool(args.before) == bool(args.before_rev):
        ap.error("give one of --before DIR or --before-rev REV")
    with tempfile.TemporaryDirectory(prefix="bench-dispatch-") as tmp:
        before = args.before.resolve() if args.before else export(args.before_rev, Path(tmp))
        label = str(args.before or args.before_rev)
        runs: dict[str, list[float]] = {"before": [], "after": []}
        for _ in range(args.alternations):
            for name, tree in (("before", before), ("after", ROOT)):
                sec, rows, errors = cpu_seconds(tree, args.events, args.rounds)
                runs[name].append(sec)
                print(f"  {name:6} {sec:.3f} CPU-s  ({rows:,} rows, {errors} parse errors)", flush=True)
    print(f"parse of {args.events:,} events, one thread, best of {args.rounds} CPU-s per run, {args.alternations} runs each, "
          f"alternating; load average {os.getloadavg()[0]:.1f}")
    for name in ("before", "after"):
        v = runs[name]
        print(f"{name} ({label if name == 'before' else 'this tree'}): min {min(v):.3f}  median {statistics.median(v):.3f}  "
              f"runs {' '.join(f'{x:.3f}' for x in v)}")
    print(f"ratio: after / before (min) = {min(runs['after']) / min(runs['before']):.2f}x")
    print(f"ratio: after / before (median) = {statistics.median(runs['after']) / statistics.median(runs['before']):.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
