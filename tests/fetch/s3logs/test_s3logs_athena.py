"""The Athena path: its SQL parses as Trino, runs on DuckDB over the same gzip files and agrees
with the direct path; the boto3 calls (Stubber) and the guard around them.

Tolerance: counts equal; each approximate percentile lies between the exact percentiles at
q - e and q + e of its minute, e = max(0.02, 1/n) (a rank error of 2 %, or one observation in
a minute of n requests; Athena's approx_percentile and DuckDB's t-digest both interpolate).
"""

from __future__ import annotations

import gzip

import boto3
import numpy as np
import pandas as pd
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from incidentkit.fetch import aws
from incidentkit.errors import ReadOnlyViolation
from incidentkit.fetch.s3logs import Source, athena, read
from incidentkit.parse import batches
from incidentkit.window import Window

from _helpers.s3logs import ACCOUNT, REGION, local_frames, put_alb_logs

duckdb = pytest.importorskip("duckdb")
sqlglot = pytest.importorskip("sqlglot")

WIN = Window(pd.Timestamp("2026-03-01T03:00Z"), pd.Timestamp("2026-03-01T03:20Z"))
SRC = Source("s3://lb-logs/alb/", "alb_access", {"account": ACCOUNT, "region": REGION, "lb": "app.web.50dc6c495c0c9188"})
RANK = 0.02


@pytest.fixture(scope="module")
def same_files(tmp_path_factory):
    """The objects in moto's S3, the same bytes on disk for DuckDB, and the direct path's rows."""
    folder = tmp_path_factory.mktemp("alb")
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="lb-logs", CreateBucketConfiguration={"LocationConstraint": REGION})
        put_alb_logs(s3, "lb-logs", pd.Timestamp("2026-03-01T02:50Z"), pd.Timestamp("2026-03-01T03:30Z"), per_minute=60,
                     fail_from=pd.Timestamp("2026-03-01T03:08Z"))
        for i, o in enumerate(s3.list_objects_v2(Bucket="lb-logs")["Contents"]):
            (folder / f"{i}.log.gz").write_bytes(s3.get_object(Bucket="lb-logs", Key=o["Key"])["Body"].read())
        direct = read([SRC], WIN, parser=batches, region=REGION).frame
    return folder, direct


def _duckdb(folder) -> "duckdb.DuckDBPyConnection":
    """A DuckDB view shaped like the Athena table: the same regex over the same gzip lines."""
    con = duckdb.connect()
    names = [c for c, _ in athena.COLUMNS]
    casts = {"double": "DOUBLE", "bigint": "BIGINT"}
    cols = ", ".join(f"TRY_CAST(nullif(s.{c}, '') AS {casts[t]}) AS {c}" if t in casts else f"nullif(s.{c}, '') AS {c}"
                     for c, t in athena.COLUMNS)
    con.execute("CREATE SCHEMA logs")
    con.execute(f"CREATE TABLE raw AS SELECT line FROM read_csv('{folder}/*.log.gz', columns={{'line': 'VARCHAR'}}, "
                "delim='\\x01', quote='', escape='', header=false)")
    con.execute(f"CREATE TABLE parsed AS SELECT regexp_extract(line, {_sql_str('^' + athena.INPUT_REGEX + '$')}, {names!r}) AS s FROM raw")
    con.execute(f"CREATE VIEW logs.alb_access_logs AS SELECT {cols}, replace(substr(s.time, 1, 10), '-', '/') AS day FROM parsed")
    return con


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def test_the_ddl_and_every_query_parse_as_athena_and_trino():
    ddl = athena.ddl(SRC, database="logs")
    assert "projection.day.format' = 'yyyy/MM/dd'" in ddl and "LOCATION 's3://lb-logs/alb/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/'" in ddl
    sqlglot.parse_one(ddl, read="athena")
    for dim in (None, *athena.DIMENSIONS):
        tree = sqlglot.parse_one(athena.aggregate_sql("logs.alb_access_logs", WIN, dim), read="trino")
        assert tree.find(sqlglot.exp.Group) is not None


def test_the_regex_reads_every_field_as_the_direct_parser_does(same_files):
    folder, direct = same_files
    con = _duckdb(folder)
    rows = con.execute("SELECT count(*), count(time), count(elb_status_code), count(conn_trace_id) FROM logs.alb_access_logs").fetchone()
    assert rows[0] == rows[1] == rows[2] == rows[3] > 0  # every line matched, the last field too


@pytest.mark.parametrize("dim", [None, *athena.DIMENSIONS])
def test_athena_sql_on_duckdb_agrees_with_the_direct_path(same_files, dim):
    folder, direct = same_files
    con = _duckdb(folder)
    sql = sqlglot.transpile(athena.aggregate_sql("logs.alb_access_logs", WIN, dim), read="trino", write="duckdb")[0]
    res = con.execute(sql)
    names = [d[0] for d in res.description]
    rows = [dict(zip(names, (None if v is None else str(v) for v in r))) for r in res.fetchall()]
    remote = athena.frames(rows, WIN, dim)
    local = local_frames(direct, WIN, dim)
    keys = ["timestamp", *([dim] if dim else [])]
    for what in ("errors", "latency"):
        assert list(remote[what].columns) == list(local[what].columns)
    r, lo = remote["errors"].set_index(keys), local["errors"].set_index(keys)
    assert r.index.equals(lo.index) if dim != "status" else len(r) == len(lo)
    cnt = ["requests", "n_2xx", "n_3xx", "n_4xx", "n_5xx"]
    assert np.array_equal(r[cnt].to_numpy(float), lo.loc[r.index, cnt].to_numpy(float)) if dim != "status" else r[cnt].sum().equals(lo[cnt].sum())
    rl, ll = remote["latency"], local["latency"]
    assert rl["count"].sum() == ll["count"].sum()
    if dim is None:  # percentiles: within the rank tolerance of the exact ones, minute by minute
        lat = direct.dropna(subset=["latency_ms"])
        for t, got in rl.dropna(subset=["p50"]).set_index("timestamp")[["p50", "p90", "p99"]].iterrows():
            v = lat.loc[lat["timestamp"].dt.floor("1min") == t, "latency_ms"].to_numpy()
            e = max(RANK, 1 / len(v))
            for q, x in zip((0.5, 0.9, 0.99), got):
                assert np.quantile(v, max(0, q - e)) - 1e-9 <= x <= np.quantile(v, min(1, q + e)) + 1e-9


def _scoped(**kw) -> tuple:
    scope = aws.AthenaScope(output="s3://athena-results/ik/", database="logs", **kw)
    return aws.client("athena", region=REGION, athena=scope), scope


def test_the_call_path_reads_every_result_page():
    c, scope = _scoped()
    sql = athena.aggregate_sql("logs.alb_access_logs", WIN)
    header = {"Data": [{"VarCharValue": n} for n in ("minute", "dim", "requests", "n_2xx", "n_3xx", "n_4xx", "n_5xx", "latency_count", "p50", "p90", "p99", "max")]}
    row = lambda m, n: {"Data": [{"VarCharValue": f"2026-03-01 03:{m:02d}:00.000 UTC"}, {}, *({"VarCharValue": str(v)} for v in (n, n - 1, 0, 0, 1, n, 40.0, 80.0, 95.0, 120.0))]}  # noqa: E731
    meta = {"ColumnInfo": [{"Name": d["VarCharValue"], "Type": "varchar"} for d in header["Data"]]}
    with Stubber(c) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"},
                          {"QueryString": sql, "ResultConfiguration": {"OutputLocation": "s3://athena-results/ik/"}, "QueryExecutionContext": {"Database": "logs"}})
        stub.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": "q-1", "Status": {"State": "RUNNING"}}})
        stub.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": "q-1", "Status": {"State": "SUCCEEDED"}, "Statistics": {"DataScannedInBytes": 4096}}})
        stub.add_response("get_query_results", {"ResultSet": {"Rows": [header, row(0, 10)], "ResultSetMetadata": meta}, "NextToken": "t"})
        stub.add_response("get_query_results", {"ResultSet": {"Rows": [row(1, 20)], "ResultSetMetadata": meta}})
        scope.started.add("q-1")  # the after-call hook does this for a real StartQueryExecution
        rows, stats = athena.run(sql, scope, database="logs", client=c)
    assert [r["requests"] for r in rows] == ["10", "20"] and stats == {"query_id": "q-1", "bytes_scanned": 4096}
    f = athena.frames(rows, WIN)
    assert f["errors"]["requests"].sum() == 30 and len(f["errors"]) == 20 and f["latency"]["p99"].dropna().tolist() == [95.0, 95.0]


@pytest.mark.parametrize("case, kw, params", [
    ("a write", {}, {"QueryString": "INSERT INTO logs.t SELECT 1", "ResultConfiguration": {"OutputLocation": "s3://athena-results/ik/"}}),
    ("ddl not asked for", {}, {"QueryString": "CREATE EXTERNAL TABLE logs.t (a string) LOCATION 's3://x/'", "ResultConfiguration": {"OutputLocation": "s3://athena-results/ik/"}}),
    ("ddl in another database", {"allow_ddl": True}, {"QueryString": "CREATE EXTERNAL TABLE other.t (a string) LOCATION 's3://x/'", "ResultConfiguration": {"OutputLocation": "s3://athena-results/ik/"}}),
    ("two statements", {}, {"QueryString": "SELECT 1; DROP TABLE logs.t", "ResultConfiguration": {"OutputLocation": "s3://athena-results/ik/"}}),
    ("results elsewhere", {}, {"QueryString": "SELECT 1", "ResultConfiguration": {"OutputLocation": "s3://athena-results/other/"}}),
])  # fmt: skip
def test_the_guard_keeps_athena_to_reads_and_the_named_result_location(case, kw, params):
    c, _ = _scoped(**kw)
    with pytest.raises(ReadOnlyViolation):
        c.start_query_execution(**params)


def test_results_of_a_query_the_kit_did_not_start_are_refused_and_unscoped_clients_refuse_everything():
    c, _ = _scoped()
    with pytest.raises(ReadOnlyViolation):
        c.get_query_results(QueryExecutionId="someone-elses")
    with pytest.raises(ReadOnlyViolation):
        aws.client("athena", region=REGION).start_query_execution(QueryString="SELECT 1")
