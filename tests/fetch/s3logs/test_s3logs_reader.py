"""The S3 reader against moto's S3: real gzip objects in the AWS key layouts."""

from __future__ import annotations

import gzip

import boto3
import pandas as pd
import pytest
from moto import mock_aws

from incidentkit.fetch import aws
from incidentkit.fetch.s3logs import LAYOUTS, Source, list_objects, read
from incidentkit.parse import batches
from incidentkit.window import Window

from _helpers.s3logs import ACCOUNT, REGION, alb_key, alb_line, put_alb_logs

T0 = pd.Timestamp("2026-03-01T02:00Z")
WIN = Window(pd.Timestamp("2026-03-01T03:00Z"), pd.Timestamp("2026-03-01T03:30Z"))
SRC = Source("s3://lb-logs/alb/", "alb_access", {"account": ACCOUNT, "region": REGION, "lb": "app.web.50dc6c495c0c9188"})


@pytest.fixture
def bucket():
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="lb-logs", CreateBucketConfiguration={"LocationConstraint": REGION})
        lines = put_alb_logs(s3, "lb-logs", T0, pd.Timestamp("2026-03-01T05:00Z"), fail_from=pd.Timestamp("2026-03-01T03:10Z"))
        yield s3, lines


def _in_window(lines: list[str]) -> list[str]:
    return [ln for ln in lines if WIN.start <= pd.Timestamp(ln.split(" ")[1]) < WIN.end]


def test_reads_exactly_the_window_and_records_every_object(bucket):
    s3, lines = bucket
    got = read([SRC], WIN, parser=batches, region=REGION, workers=4, batch_bytes=4096)
    want = _in_window(lines)
    assert len(got.frame) == len(want) and sorted(got.frame["message"]) == sorted(want)
    assert got.frame["timestamp"].between(WIN.start, WIN.end, inclusive="left").all()
    assert (got.frame["format"] == "alb_access").all() and not got.frame["parse_error"].any()
    # only the files that can hold the window were read: the layout's slack on both sides
    lay = LAYOUTS["alb_access"]
    assert set(got.objects["status"]) == {"read"} and got.attrs["complete"]
    assert got.objects["key_time"].min() == WIN.start - lay.after and got.objects["key_time"].max() == WIN.end + lay.before
    assert got.objects["etag"].str.len().gt(0).all() and got.objects["size"].gt(0).all()
    assert got.objects["lines_in_window"].sum() == len(want)
    failed = got.frame[got.frame["status"] == 502]
    assert failed["target"].isna().all() and (failed["error_reason"] == "TargetConnectionError").all()


def test_lists_only_the_hours_of_the_window(bucket):
    s3, _ = bucket
    seen = []
    listener = lambda service, op, params: seen.append((op, params.get("Prefix")))  # noqa: E731
    aws.add_call_listener(listener)
    try:
        client = aws.client("s3", region=REGION)
        objs, _ = list_objects(client, SRC, WIN)
    finally:
        aws.remove_call_listener(listener)
    prefixes = {p for op, p in seen if op == "ListObjectsV2"}
    assert prefixes == {SRC.base + f"AWSLogs/{ACCOUNT}/elasticloadbalancing/{REGION}/2026/03/01/"
                        f"{ACCOUNT}_elasticloadbalancing_{REGION}_app.web.50dc6c495c0c9188_20260301T{h}" for h in ("02", "03")}
    assert len(objs) == 10  # files ending 02:55 .. 03:40 (the layout's slack around 03:00-03:30)


def test_unknown_account_and_region_are_found_by_listing(bucket):
    got = read([Source("s3://lb-logs/alb/", "alb_access")], WIN, parser=batches, region=REGION)
    assert len(got.frame) == len(_in_window(bucket[1]))


def test_missing_damaged_and_changed_objects_are_counted_and_said(bucket):
    s3, lines = bucket
    key = alb_key(pd.Timestamp("2026-03-01T03:15Z"))
    s3.put_object(Bucket="lb-logs", Key=key, Body=gzip.compress(b"http 2026-03-01T03:12:00Z")[:20])  # truncated gzip
    got = read([SRC], WIN, parser=batches, region=REGION)
    row = got.objects.set_index("key").loc[key]
    assert row["status"] == "unreadable" and "gzip" in row["error"] or "truncated" in row["error"]
    assert not got.attrs["complete"] and "1 of" in got.attrs["issues"][0] and "unreadable: 1" in got.attrs["issues"][0]


def test_multi_member_gzip_and_plain_text_objects(bucket):
    s3, _ = bucket
    t = pd.Timestamp("2026-03-01T03:20:30Z")
    a, b = alb_line(t, path="/a"), alb_line(t, path="/b")
    s3.put_object(Bucket="lb-logs", Key=alb_key(pd.Timestamp("2026-03-01T03:25Z"), suffix="aaaa"), Body=gzip.compress(a.encode() + b"\n") + gzip.compress(b.encode() + b"\n"))
    s3.put_object(Bucket="lb-logs", Key=alb_key(pd.Timestamp("2026-03-01T03:25Z"), suffix="bbbb").replace(".gz", ""), Body=(a + "\n").encode())
    got = read([SRC], WIN, parser=batches, region=REGION)
    assert (got.frame["route"] == "/b").sum() == 1 and (got.frame["route"] == "/a").sum() == 2


def test_vpc_flow_custom_fields_from_the_file_header():
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="flow", CreateBucketConfiguration={"LocationConstraint": REGION})
        start = int(pd.Timestamp("2026-03-01T03:01Z").timestamp())
        body = "version srcaddr dstaddr dstport protocol start end action log-status flow-direction\n" + "".join(
            f"5 10.0.1.{i} 10.0.2.9 5432 6 {start + i} {start + i + 60} REJECT OK egress\n" for i in range(5))
        key = f"AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/2026/03/01/{ACCOUNT}_vpcflowlogs_{REGION}_fl-0abc123_20260301T0305Z_ab12cd34.log.gz"
        s3.put_object(Bucket="flow", Key=key, Body=gzip.compress(body.encode()))
        got = read([Source("s3://flow/", "vpc_flow", {"region": REGION})], WIN, parser=batches, region=REGION, batch_bytes=64)
    assert len(got.frame) == 5 and set(got.frame["record_type"]) == {"reject"}
    assert got.frame["dst_port"].tolist() == [5432] * 5 and set(got.frame["flow_direction"]) == {"egress"}
    assert got.objects["lines"].tolist() == [5]
