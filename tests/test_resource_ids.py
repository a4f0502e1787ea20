"""Resource identifiers: every documented spelling of a resource reduces to one comparable identity."""

from __future__ import annotations

import doctest

import pytest

from incidentkit._util import resource_ids as rid

ACCOUNT = "123456789012"


@pytest.mark.parametrize("text, kind", [
    ("orders-writer", "function"),
    ("orders-writer:live", "function"),
    ("orders-writer:17", "function"),
    (f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders-writer", None),
    (f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders-writer:live", None),
    (f"{ACCOUNT}:function:orders-writer", "function"),
    (f"{ACCOUNT}:function:orders-writer:live", None),
    (f"arn:aws-cn:lambda:cn-north-1:{ACCOUNT}:function:orders-writer", None),
])
def test_every_lambda_form_names_the_same_function(text, kind):
    ref = rid.parse(text, kind)
    assert ref is not None and ref.kind == "function" and ref.name == "orders-writer"
    assert ref.matches(rid.parse("orders-writer", "function"))


def test_function_qualifiers_and_regions_must_agree_where_both_are_known():
    live, blue = rid.parse("api:live", "function"), rid.parse("api:blue", "function")
    assert not live.matches(blue) and live.matches(blue, qualifier=False)
    east = rid.parse(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:api")
    west = rid.parse(f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:api")
    assert not east.matches(west) and east.matches(rid.parse("api", "function"))
    assert live.label == "api:live" and live.without_qualifier().label == "api"


@pytest.mark.parametrize("text, kind", [
    ("reports-prod", "load_balancer"),
    ("app/reports-prod/1f2e3d4c5b6a7980", None),
    ("loadbalancer/app/reports-prod/1f2e3d4c5b6a7980", None),
    (f"arn:aws:elasticloadbalancing:us-east-2:{ACCOUNT}:loadbalancer/app/reports-prod/1f2e3d4c5b6a7980", None),
    ("REPORTS-PROD", "load_balancer"),
])
def test_every_load_balancer_form(text, kind):
    ref = rid.parse(text, kind)
    assert ref.kind == "load_balancer" and ref.name.lower() == "reports-prod"
    full = rid.parse(f"arn:aws:elasticloadbalancing:us-east-2:{ACCOUNT}:loadbalancer/app/reports-prod/1f2e3d4c5b6a7980")
    assert ref.matches(full)
    assert full.dimension == "app/reports-prod/1f2e3d4c5b6a7980"
    assert not rid.parse("app/reports-prod/0000000000000000").matches(full), "same name, another load balancer"


@pytest.mark.parametrize("text, kind", [
    ("reports-api", "target_group"),
    ("targetgroup/reports-api/4a5b6c7d8e9f0a1b", None),
    (f"arn:aws:elasticloadbalancing:us-east-2:{ACCOUNT}:targetgroup/reports-api/4a5b6c7d8e9f0a1b", None),
])
def test_every_target_group_form(text, kind):
    ref = rid.parse(text, kind)
    assert ref.kind == "target_group" and ref.name == "reports-api"
    assert ref.matches(rid.parse("targetgroup/reports-api/4a5b6c7d8e9f0a1b"))


def test_tables_services_and_ec2_ids():
    arn = rid.parse(f"arn:aws:dynamodb:eu-central-1:{ACCOUNT}:table/orders/index/by-day")
    assert (arn.kind, arn.name, arn.qualifier) == ("table", "orders", "by-day")
    assert arn.matches(rid.parse("orders", "table"))
    stream = rid.parse(f"arn:aws:dynamodb:eu-central-1:{ACCOUNT}:table/orders/stream/2026-01-01T00:00:00.000")
    assert stream.label == "orders"
    new = rid.parse(f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/prod/billing-api")
    old = rid.parse(f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/billing-api")
    assert new.label == "prod/billing-api" and new.matches(old) and new.matches(rid.parse("billing-api", "ecs_service"))
    assert not new.matches(rid.parse("staging/billing-api", "ecs_service"))
    assert rid.parse("sg-0a1b2c3d4e5f60718").kind == "security_group"
    assert rid.parse("acl-0123456789abcdef0").kind == "network_acl"
    assert rid.parse(f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/sg-0a1b2c3d4e5f60718").matches(rid.parse("sg-0a1b2c3d4e5f60718"))
    assert rid.parse("arn:aws:route53:::healthcheck/4f7b2c1e").kind == "health_check"
    assert rid.parse(f"arn:aws:rds:eu-west-1:{ACCOUNT}:db:billing-db").matches(rid.parse("billing-db", "db_instance"))


def test_unknown_and_empty_input():
    assert rid.parse(None) is None and rid.parse("") is None and rid.parse("(all)") is None
    assert rid.parse("orders") is None, "a bare name says nothing without a kind"
    other = rid.from_arn(f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs")
    assert other.kind == "sqs:jobs"
    assert rid.from_arn("not-an-arn") is None
    assert [r.label for r in rid.parse_many(["sg-0a1b2c3d", None, "sg-0a1b2c3d"])] == ["sg-0a1b2c3d"]
    assert rid.same_resource("orders-writer:live", f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders-writer", "function")


def test_doctests():
    result = doctest.testmod(rid, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
