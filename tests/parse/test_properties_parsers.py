"""Property tests (hypothesis): whatever a log group holds, the parsers never raise and lose no line.

For any list of lines — arbitrary text, arbitrary bytes decoded with ``errors="replace"``
(as the fetcher does), and lines shaped like the formats the kit reads (JSON with the
aliased field names and random values, Lambda platform lines, ALB and CLF entries, EMF),
then cut at a random point — :func:`incidentkit.parse.parse` returns one row per line, in
order, raw text kept, and ``parsed + errors == events``. The helpers the parser relies on
(User-Agent versions, EMF) take the same inputs without raising.

Bounded: 20 to 100 examples a test, no deadline (the machine is shared); the file runs in
well under 20 s.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidentkit.parse import emf, useragent
from incidentkit import parse as parsers, schema
from incidentkit.parse._json import ALIASES

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=_QUIET)
FEWER = settings(max_examples=30, deadline=None, suppress_health_check=_QUIET)

# --- line strategies -------------------------------------------------------------------------

FIELD_NAMES = sorted({str(k) for names in ALIASES.values() for k in names if isinstance(k, str)}
                     | {"message", "msg", "_aws", "type", "record", "time", "cold_start", "xray_trace_id"})

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["200", "503", " 404 ", "12.5", "1e3", "NaN", "Infinity", "-1", "", "2026-03-01T03:00:00Z",
                     "1772334000", "1772334000000", "MyApp/2.9.0 (iOS 17)", "ERROR", "warn", "50"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELD_NAMES), inner, max_size=4)),
    max_leaves=8,
)
json_records = st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8)), json_values, max_size=8)


@st.composite
def json_lines(draw: Any) -> str:
    record = draw(json_records)
    if draw(st.booleans()):  # an EMF directive, well-formed or not
        record["_aws"] = draw(st.one_of(
            st.just({"Timestamp": 1772334000000, "CloudWatchMetrics": [{"Namespace": "App", "Dimensions": [["Service"]],
                                                                          "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}]}]}),
            json_values,
        ))  # fmt: skip
        record.setdefault("Latency", draw(json_values))
    return json.dumps(record, allow_nan=True, default=str)


def _num(draw: Any) -> str:
    return draw(st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers().map(str), st.text(max_size=6)))


@st.composite
def platform_lines(draw: Any) -> str:
    rid = draw(st.one_of(st.uuids().map(str), st.text(max_size=12)))
    kind = draw(st.sampled_from(["START", "END", "REPORT", "INIT_START", "Task timed out"]))
    if kind == "REPORT":
        sep = draw(st.sampled_from(["\t", " ", "\t\t"]))
        parts = [f"REPORT RequestId: {rid}", f"Duration: {_num(draw)} ms", f"Billed Duration: {_num(draw)} ms",
                 f"Memory Size: {_num(draw)} MB", f"Max Memory Used: {_num(draw)} MB"]  # fmt: skip
        if draw(st.booleans()):
            parts.append(f"Init Duration: {_num(draw)} ms")
        return sep.join(draw(st.permutations(parts)) if draw(st.booleans()) else parts)
    if kind == "Task timed out":
        return f"{draw(st.text(max_size=30))} {rid} Task timed out after {_num(draw)} seconds"
    return f"{kind} RequestId: {rid} Version: {draw(st.text(max_size=8))}"


@st.composite
def access_lines(draw: Any) -> str:
    status = draw(st.one_of(st.integers(-1, 1000).map(str), st.just("-"), st.text(max_size=4)))
    ua = draw(st.one_of(st.just("MyApp/2.9.0 (iOS 17)"), st.text(max_size=40)))
    if draw(st.booleans()):  # ALB
        fields = ["h2", "2018-07-02T22:23:00.186641Z", "app/lb/50dc6c495c0c9188", "10.0.1.252:48160", "10.0.0.66:9000",
                  _num(draw), _num(draw), _num(draw), status, status, "5", "257",
                  f'"GET https://x{draw(st.text(max_size=10))} HTTP/2.0"', json.dumps(ua)]  # fmt: skip
        return " ".join(fields[: draw(st.integers(1, len(fields)))])
    return f'10.0.0.1 - - [27/Oct/2023:13:40:57 +0000] "GET /{draw(st.text(max_size=12))} HTTP/1.1" {status} {_num(draw)} "-" {json.dumps(ua)}'


def _cut(line: str, draw: Any) -> str:
    """Lines arrive truncated (the 256 KB event limit, a crashed writer): cut some at a random point."""
    if line and draw(st.integers(0, 3)) == 0:
        return line[: draw(st.integers(0, len(line)))]
    return line


@st.composite
def shaped_lines(draw: Any) -> list[Any]:
    out = []
    for _ in range(draw(st.integers(0, 25))):
        line = draw(st.one_of(json_lines(), platform_lines(), access_lines(), st.text(max_size=80), st.none()))
        out.append(_cut(line, draw) if isinstance(line, str) else line)
    return out


arbitrary_text = st.lists(st.one_of(st.none(), st.text(max_size=300)), max_size=30)
arbitrary_bytes = st.lists(st.binary(max_size=300).map(lambda b: b.decode("utf-8", errors="replace")), max_size=30)

# --- the invariant -----------------------------------------------------------------------------


def _parse(lines: Any, **kw: Any) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parsers.parse(lines, **kw)


def _check(df: pd.DataFrame, lines: list[Any]) -> None:
    n = len(lines)
    assert len(df) == n and tuple(df.columns) == schema.PARSED_COLUMNS
    st_ = df.attrs["parse_stats"]
    assert st_["events"] == n and st_["parsed"] + st_["errors"] == n
    assert int(df["parse_error"].sum()) == st_["errors"] and sum(st_["by_format"].values()) == n
    assert df.loc[df["parse_error"], "parse_error_reason"].notna().all()
    assert df["format"].notna().all() and set(df["format"]) <= set(parsers.FORMATS)
    assert list(df.index) == list(range(n))
    for i, line in enumerate(lines):
        if isinstance(line, str):
            assert df.at[i, "message"] == line
        else:
            assert pd.isna(df.at[i, "message"])
    lat = df["latency_ms"].dropna()
    assert not any(math.isinf(v) for v in lat.tolist()), "an infinite latency would poison every percentile"


@SETTINGS
@given(arbitrary_text)
def test_arbitrary_text(lines: list[Any]) -> None:
    _check(_parse(lines), lines)


@SETTINGS
@given(arbitrary_bytes)
def test_arbitrary_bytes_decoded_like_the_fetcher(lines: list[str]) -> None:
    _check(_parse(lines), lines)


@settings(max_examples=40, deadline=None, suppress_health_check=_QUIET)
@given(shaped_lines())
def test_lines_shaped_like_the_formats_then_damaged(lines: list[Any]) -> None:
    _check(_parse(lines), lines)


@settings(max_examples=20, deadline=None, suppress_health_check=_QUIET)
@given(shaped_lines())
def test_requests_take_whatever_parsed(lines: list[Any]) -> None:
    df = _parse(lines)
    req = parsers.requests(df)
    assert tuple(req.columns) == schema.REQUEST_COLUMNS
    assert len(req) <= len(df)


@FEWER
@given(shaped_lines(), st.sampled_from(["text", "json", "lambda_platform", "alb_access", "app_json"]))
def test_a_forced_format_still_counts_every_line(lines: list[Any], fmt: str) -> None:
    _check(_parse(lines, format=fmt), lines)


@FEWER
@given(shaped_lines(), st.lists(st.one_of(st.none(), st.integers(-(2**40), 2**42)), min_size=25, max_size=25))
def test_a_logs_frame_keeps_its_event_columns(lines: list[Any], stamps: list[Any]) -> None:
    n = len(lines)
    ts = pd.to_datetime(pd.Series(stamps[:n], dtype="Int64"), unit="ms", utc=True, errors="coerce")
    frame = pd.DataFrame({
        "timestamp": ts.astype(schema.UTC_NS), "ingestion_time": ts.astype(schema.UTC_NS),
        "log_group": pd.Series(["/aws/lambda/checkout"] * n, dtype="string"),
        "log_stream": pd.Series([None] * n, dtype="string"),
        "event_id": pd.Series([f"{i:08d}" for i in range(n)], dtype="string"),
        "message": pd.Series(lines, dtype="string"),
    })  # fmt: skip
    df = _parse(frame)
    _check(df, lines)
    assert df["event_id"].tolist() == frame["event_id"].tolist()
    given_ts = frame["timestamp"].notna()
    assert (df.loc[given_ts, "timestamp"] == frame.loc[given_ts, "timestamp"]).all(), "the event's own time wins"


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=200), st.integers(), st.floats(allow_nan=True)))
def test_user_agent_helpers_never_raise(value: Any) -> None:
    family, version = useragent.parse_user_agent(value)
    assert family is None or isinstance(family, str)
    assert version is None or isinstance(version, str)
    useragent.version_from_user_agent(value, include_libraries=True)
    useragent.family(value)


@FEWER
@given(st.lists(json_lines(), max_size=15))
def test_emf_never_raises_and_accounts_for_bad_records(lines: list[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows, issues = emf.records(lines)
        frame = emf.metrics(lines)
    assert all(isinstance(i, str) and "\n" not in i for i in issues)
    assert len(frame) <= len(rows) or not rows
