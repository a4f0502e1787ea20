"""Reading and parsing gzip ALB access logs from a local S3 stand-in: the kit against plain gzip + split.

Objects are ALB access logs in their key layout (five-minute files, ~2 MB of gzip each, lines
with varied clients, targets, latencies, trace ids, 1 in 20 a 502 from no target), put in moto's
S3 server on 127.0.0.1. Both sides read every object over HTTP in the same run:

* baseline: boto3 ``get_object`` of each object (4 threads), ``gzip.decompress``, split into lines
  and each line into its space-separated fields (no types, no quotes, no time) - the floor of
  any reader;
* kit: ``incidentkit.fetch.s3logs.read`` of the window holding every object (listing the
  layout's hour prefixes, 4 workers, streamed gunzip, the ALB parser's typed columns, clipping),
  rows handed to a sink that counts them (nothing kept, as for a window streamed to disk).

    python benchmarks/bench_s3logs.py --gb 1 --distinct 40
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _common import environment_line, quiet_aws_env, ratio_line  # noqa: E402
from _helpers.s3logs import ACCOUNT, REGION, alb_key, alb_line  # noqa: E402

from incidentkit.fetch.s3logs import Source, read  # noqa: E402
from incidentkit.parse import batches  # noqa: E402
from incidentkit.window import Window  # noqa: E402

T0 = pd.Timestamp("2026-03-01T00:00Z")


def _object(rng: random.Random, end: pd.Timestamp, target_bytes: int) -> tuple[bytes, int]:
    lines, size = [], 0
    while size < target_bytes:
        t = end - pd.Timedelta(seconds=rng.uniform(0, 299.999))
        fail = rng.random() < 0.05
        ln = alb_line(t, status=502 if fail else rng.choice((200, 200, 200, 201, 304, 404)),
                      target="-" if fail else f"10.0.{rng.randint(0, 9)}.{rng.randint(1, 250)}:8080",
                      latency_s=rng.lognormvariate(-3, 0.8), path=f"/api/{rng.choice(('orders', 'cart', 'items', 'users'))}/{rng.randint(1, 99999)}",
                      client=f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                      reason="TargetConnectionError" if fail else "-")
        ln = ln.replace("Root=1-58337262-36d228ad5d99923122bbe354", f"Root=1-{int(t.timestamp()):08x}-{rng.getrandbits(96):024x}")
        lines.append(ln)
        size += len(ln) + 1
    lines.sort(key=lambda s: s.split(" ", 2)[1])
    return gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=6), len(lines)


def _baseline(s3, keys: list[str]) -> tuple[int, int]:
    def one(key: str) -> tuple[int, int]:
        data = gzip.decompress(s3.get_object(Bucket="bench-logs", Key=key)["Body"].read())
        rows = fields = 0
        for line in data.split(b"\n"):
            if line:
                fields += len(line.split(b" "))
                rows += 1
        return rows, fields

    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(one, keys))
    return sum(r for r, _ in got), sum(f for _, f in got)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gb", type=float, default=1.0, help="gzip bytes to read, in GB (10^9)")
    ap.add_argument("--object-mb", type=float, default=2.0, help="gzip size of one object")
    ap.add_argument("--distinct", type=int, default=0,
                    help="make only this many distinct objects and put them again under the later keys (0: every object "
                         "distinct). Saves the generation time of a large run (1 GB is ~500 objects, ~1.3 s each to make); "
                         "every key is still fetched, gunzipped and parsed in full, and its rows fall inside the window")
    args = ap.parse_args()
    quiet_aws_env()
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        s3 = boto3.client("s3", region_name=REGION, endpoint_url=url)
        s3.create_bucket(Bucket="bench-logs", CreateBucketConfiguration={"LocationConstraint": REGION})
        rng = random.Random(7)
        want, keys, lines, end = int(args.gb * 1e9), [], 0, T0
        body, n = _object(rng, T0 + pd.Timedelta(minutes=5), int(args.object_mb * 1e6 * 8))  # ~8x compression
        ratio_text = len(gzip.decompress(body)) / len(body)
        made: list[tuple[bytes, int]] = []
        while sum(1 for _ in keys) * len(body) < want:
            end += pd.Timedelta(minutes=5)
            if args.distinct and len(made) >= args.distinct:
                body, n = made[len(keys) % args.distinct]
            else:
                body, n = _object(rng, end, int(args.object_mb * 1e6 * ratio_text))
                made.append((body, n))
            key = alb_key(end, base="alb/")
            s3.put_object(Bucket="bench-logs", Key=key, Body=body)
            keys.append(key)
            lines += n
        gz_bytes = sum(o["Size"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket="bench-logs") for o in p.get("Contents", []))
        print(environment_line())
        print(f"objects: {len(keys)} ({gz_bytes / 1e9:.2f} GB gzip, {lines:,} lines, compression {ratio_text:.1f}x)")
        win = Window(T0, end + pd.Timedelta(minutes=1))
        src = Source("s3://bench-logs/alb/", "alb_access", {"account": ACCOUNT, "region": REGION, "lb": "app.web.50dc6c495c0c9188"})
        t = time.perf_counter()
        base_rows, base_fields = _baseline(s3, keys)
        t_base = time.perf_counter() - t
        counted = [0]
        t = time.perf_counter()
        got = read([src], win, parser=batches, region=REGION, endpoint_url=url, workers=4, sink=lambda f: counted.__setitem__(0, counted[0] + len(f)))
        t_kit = time.perf_counter() - t
        assert counted[0] == base_rows == lines, (counted[0], base_rows, lines)
        assert (got.objects["status"] == "read").all() and len(got.objects) == len(keys)
        print(f"baseline (get + gzip.decompress + split lines and fields): {t_base:.1f} s, {base_rows:,} rows, {base_fields:,} fields, "
              f"{gz_bytes / 1e6 / t_base:.1f} MB/s gzip")
        print(f"kit (list hours + stream gunzip + typed ALB columns + clip): {t_kit:.1f} s, {counted[0]:,} rows, "
              f"{gz_bytes / 1e6 / t_kit:.1f} MB/s gzip")
        print(ratio_line("kit time / gzip + split time", t_kit / t_base, target="<= 2x", ok=t_kit / t_base <= 2.0,
                         note="(same objects, same run)"))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
