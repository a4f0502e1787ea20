"""Error signatures: masks, Drain3 templates, new/grown against the baseline or the part before an onset."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from incidentkit import parse as parsers
from incidentkit.analyses import signatures as sig

T0 = pd.Timestamp("2026-05-04T14:00:00Z")


def parse(lines: list[str], times: list[pd.Timestamp], group: str = "/ecs/api") -> pd.DataFrame:
    raw = pd.DataFrame({"timestamp": pd.Series(times, dtype="datetime64[ns, UTC]"), "ingestion_time": pd.NaT,
                        "log_group": group, "log_stream": "s", "event_id": [str(i) for i in range(len(lines))],
                        "message": lines})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parsers.parse(raw)


@pytest.mark.parametrize("text, masked", [
    ("connect ETIMEDOUT 10.0.3.41:443", "connect ETIMEDOUT <IP>"),
    ("GET https://tax.internal/v1/rates?x=1 failed", "GET <URL> failed"),
    ("no item 6f1c2a4e-9b7d-4c1e-8f2a-1b3c4d5e6f70 in table", "no item <UUID> in table"),
    ("AccessDenied on arn:aws:s3:::bucket/key for alice@example.com", "AccessDenied on <ARN> for <EMAIL>"),
    ("KeyError: 'tax_endpoint'", "KeyError: <*>"),
    ('missing "billing.tax.endpoint" in /etc/app/conf.yml', "missing <*> in <PATH>"),
    ("checksum 0x7f3a mismatch for blob 9f86d081884c7d65", "checksum <HEX> mismatch for blob <HEX>"),
    ("session req-7Hk29pQzT expired after 3600.5 s", "session <ID> expired after <NUM> s"),
    ("ec2 v2 utf8 python3 http2 stay words", "ec2 v2 utf8 python3 http2 stay words"),
    ("can't read it, don't retry", "can't read it, don't retry"),
])
def test_masks_replace_what_varies_and_keep_words(text, masked):
    assert sig.mask_variables([text]).tolist() == [masked]


def test_error_lines_read_every_runtime_and_count_a_platform_error_once():
    lines = [
        '{"level":50,"time":1778076000000,"msg":"quote failed","err":{"type":"TimeoutError","message":"connect ETIMEDOUT 10.0.3.41:443"}}',
        '{"instant":{"epochSecond":1778076000,"nanoOfSecond":0},"level":"ERROR","loggerName":"c.a.Billing","message":"finalise failed",'
        '"thrown":{"name":"java.lang.IllegalStateException","message":"Missing required configuration key \'tax.url\'"}}',
        '{"level":"error","ts":1778076000.5,"caller":"db/query.go:88","msg":"query failed","error":"context deadline exceeded"}',
        "RequestId: 6bc28136-aaaa-4365-b021-0ce6b2e64ab0 Error: Runtime exited with error: signal: killed\nRuntime.ExitError",
        "2026-05-04T14:00:01.000Z 1c8e0f1e-aaaa-4365-b021-0ce6b2e64ab0 Task timed out after 3.00 seconds",
        "REPORT RequestId: 1c8e0f1e-aaaa-4365-b021-0ce6b2e64ab0\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 60 MB\tStatus: timeout",
        '{"level":"INFO","message":"fine"}',
    ]
    df = parse(lines, [T0 + pd.Timedelta(seconds=i) for i in range(len(lines))])
    texts = sig.error_lines(df)["text"].tolist()
    assert texts == [
        "quote failed: TimeoutError: connect ETIMEDOUT 10.0.3.41:443",
        "finalise failed: java.lang.IllegalStateException: Missing required configuration key 'tax.url'",
        "query failed: context deadline exceeded",
        "Runtime.ExitError: Runtime exited with error: signal: killed",
        "Task timed out after 3.00 seconds",
    ]


def _lines(n: int, text: str, start: pd.Timestamp, every: str = "10s") -> tuple[list[str], list[pd.Timestamp]]:
    rng = np.random.default_rng(n)
    msgs = [text.format(id=f"{rng.integers(1e15):x}", n=int(rng.integers(1, 5000))) for _ in range(n)]
    return msgs, [start + i * pd.Timedelta(every) for i in range(n)]


def test_new_and_grown_templates_against_the_baseline():
    base_msgs, base_t = _lines(30, '{{"level":"error","msg":"cache miss for key {id}"}}', T0 - pd.Timedelta("1h"), "60s")
    b2, t2 = _lines(5, '{{"level":"error","msg":"payment declined code {n}"}}', T0 - pd.Timedelta("1h"), "600s")
    inc_msgs, inc_t = _lines(30, '{{"level":"error","msg":"cache miss for key {id}"}}', T0, "60s")
    i2, it2 = _lines(60, '{{"level":"error","msg":"payment declined code {n}"}}', T0, "30s")
    i3, it3 = _lines(25, '{{"level":"error","msg":"Runtime exited with error: signal: killed (pid {n})"}}', T0, "60s")
    base = parse(base_msgs + b2, base_t + t2)
    inc = parse(inc_msgs + i2 + i3, inc_t + it2 + it3)
    out = sig.signatures(inc, base, window=(T0, T0 + pd.Timedelta("1h")), baseline_window=(T0 - pd.Timedelta("1h"), T0))
    by = out.set_index("template")
    assert list(out.columns) == list(sig.SIGNATURE_COLUMNS)
    assert out.iloc[0]["template"] == "Runtime exited with error: signal: killed (pid <NUM>)"
    assert bool(by.loc["Runtime exited with error: signal: killed (pid <NUM>)", "new"])
    assert bool(by.loc["payment declined code <NUM>", "grown"]) and by.loc["payment declined code <NUM>", "growth"] == 12.0
    steady = by.loc["cache miss for key <*>"]  # <HEX> and <NUM> keys: Drain3 makes the token a <*>
    assert not bool(steady["new"]) and not bool(steady["grown"]) and steady["p_value"] > 0.3
    assert out["share_of_errors"].sum() == pytest.approx(1.0)
    assert out.attrs["exposure_unit"] == "seconds" and out.attrs["error_lines"] == 115


def test_the_part_before_the_onset_is_the_baseline_when_there_is_no_other():
    a, ta = _lines(40, '{{"level":"error","msg":"upstream 503 from {id}"}}', T0, "90s")
    b, tb = _lines(40, '{{"level":"error","msg":"Missing required configuration key \'tax.url\' for {id}"}}',
                   T0 + pd.Timedelta("30min"), "30s")
    df = parse(a + b, ta + tb)
    out = sig.signatures(df, onset=T0 + pd.Timedelta("30min"), window=(T0, T0 + pd.Timedelta("1h")))
    top = out.iloc[0]
    assert top["template"] == "Missing required configuration key <*> for <HEX>" and bool(top["new"]) and top["count"] == 40
    assert top["first_seen"] == T0 + pd.Timedelta("30min")
    without = sig.signatures(df)
    assert without["new"].isna().all() and without["grown"].isna().all()  # nothing to compare with: unknown, not False


def test_examples_are_real_lines_with_secrets_masked():
    line = '{"level":"error","msg":"auth failed","password":"hunter2hunter2","token":"ghp_16C7e42F292c6912E7710c838347Ae178B4a"}'
    out = sig.signatures(parse([line], [T0]))
    assert "auth failed" in out.loc[0, "example"]
    assert "hunter2hunter2" not in out.loc[0, "example"] and "ghp_16C7e42F" not in out.loc[0, "example"]


def test_the_miner_generalises_what_still_varies_and_ignores_line_order():
    texts = ["user <NUM> logged in from web", "user <NUM> logged in from ios", "disk full on <PATH>"] * 3
    ids, templates = sig.mine(texts)
    ids2, templates2 = sig.mine(list(reversed(texts)))
    assert [templates[i] for i in ids] == list(reversed([templates2[i] for i in ids2]))
    assert templates[ids[0]] == "user <NUM> logged in from <*>"


def test_insights_patterns_give_the_same_frame():
    p = pd.DataFrame({"side": ["incident", "incident", "baseline", "baseline"],
                      "pattern": ["Task timed out after <Token-1> seconds", "disk full", "disk full", "old <*>"],
                      "count": [120, 10, 9, 4], "example": ["Task timed out after 3.00 seconds", None, None, None],
                      "log_groups": "/aws/lambda/x"})
    out = sig.from_patterns(p, exposure=3600, baseline_exposure=3600)
    assert list(out.columns) == list(sig.SIGNATURE_COLUMNS)
    assert out["template"].tolist() == ["Task timed out after <*> seconds", "disk full"]
    assert out["new"].tolist() == [True, False] and out["source"].eq("insights-pattern").all()
    assert sig.from_patterns(p.iloc[0:0], exposure=1, baseline_exposure=1).empty


def test_error_lines_of_two_frames_read_once_are_those_of_the_frames_concatenated():
    """A report whose request's error line is in the other frame counts in that frame alone, not in both."""
    lines = [
        '{"level":"ERROR","message":"boom","error":"KeyError"}',
        "2026-05-04T14:00:01.000Z 1c8e0f1e-aaaa-4365-b021-0ce6b2e64ab0 Task timed out after 3.00 seconds",
        "REPORT RequestId: 1c8e0f1e-aaaa-4365-b021-0ce6b2e64ab0\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 60 MB\tStatus: timeout",
        '{"level":"INFO","message":"fine"}',
    ]
    df = parse(lines, [T0 + pd.Timedelta(seconds=i) for i in range(len(lines))])
    a, b = df.iloc[:2].reset_index(drop=True), df.iloc[2:].reset_index(drop=True)
    assert len(sig.error_lines(b)) == 1  # alone, the report is the request's error line
    both = sig.error_lines_of(sig.error_line_candidates(a), sig.error_line_candidates(b))
    pd.testing.assert_frame_equal(both, sig.error_lines(pd.concat([a, b], ignore_index=True)))
    assert len(both) == 2
    pd.testing.assert_frame_equal(sig.error_lines_of(sig.error_line_candidates(b)), sig.error_lines(b))
    assert sig.error_lines_of(sig.error_line_candidates(None)).empty


def test_no_error_lines_no_signatures():
    out = sig.signatures(parse(['{"level":"info","msg":"ok"}'], [T0]))
    assert out.empty and list(out.columns) == list(sig.SIGNATURE_COLUMNS) and out.attrs["error_lines"] == 0
