"""What an investigation is about: its resource parameters, the metric presets they name, and
the access check a run makes before it starts.

Example
-------
>>> [q.metric_name for q in metric_queries({"function_name": "api"})][:2]   # doctest: +SKIP
['Invocations', 'Errors']
"""

from __future__ import annotations

import difflib
from typing import Any, Mapping, Sequence

import botocore.exceptions as bx

from ..errors import CREDENTIALS_HINT, NoCredentialsError, NotFoundError, ParameterError, from_botocore
from ..fetch import aws
from ..fetch import metrics as _metrics

__all__ = ["RESOURCE_PARAMETERS", "check_access", "metric_queries"]

#: Resource parameters an investigation understands (template parameters of the same names).
RESOURCE_PARAMETERS = (
    "log_groups",
    "function_name",
    "api_id",
    "api_name",
    "stage",
    "load_balancer",
    "target_group_arn",
    "table_name",
    "db_instance",
    "health_check_id",
    "security_group_ids",
    "instance_ids",
    "ecs_cluster",
    "ecs_service",
    "codedeploy_application",
    # logs AWS writes to S3 (incidentkit.fetch.s3logs): where, and how big windows are read
    "access_logs",
    "distribution",
    "vpc_id",
    "web_acl",
    "athena",
    "athena_workgroup",
    "athena_output",
    "athena_database",
    "athena_ddl",
)



def _listify(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]



def _clean_resources(resources: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in dict(resources or {}).items():
        if v is None or v == "" or v == [] or v == ():
            continue
        if k in ("log_groups", "security_group_ids", "instance_ids", "access_logs"):
            out[k] = sorted(set(_listify(v))) if k != "log_groups" else _listify(v)
        else:
            out[k] = v if isinstance(v, (str, int, float, bool)) else _listify(v)
    return out



def metric_queries(resources: Mapping[str, Any], *, period: int | None = None) -> list[Any]:
    """The metric presets that apply to ``resources`` (one list, ready for ``metrics.get``).

    ``function_name`` → Lambda, ``api_name`` (REST) or ``api_id`` (HTTP) (+ ``stage``) → API Gateway,
    ``load_balancer`` → ALB, ``target_group_arn`` (+ ``load_balancer``) → target group,
    ``table_name`` → DynamoDB, ``db_instance`` → RDS, ``health_check_id`` → Route 53,
    ``instance_ids`` → EC2.

    Example
    -------
    >>> [q.metric_name for q in metric_queries({"function_name": "api"})][:2]   # doctest: +SKIP
    ['Invocations', 'Errors']
    """
    res = _clean_resources(resources)
    qs: list[Any] = []
    for name in _listify(res.get("function_name")):
        qs += _metrics.lambda_function(name, period=period)
    if res.get("api_name"):  # REST APIs publish per API name
        qs += _metrics.api_gateway(str(res["api_name"]), res.get("stage") or None, kind="rest", period=period)
    elif res.get("api_id"):  # HTTP APIs per API id
        qs += _metrics.api_gateway(str(res["api_id"]), res.get("stage") or None, period=period)
    if res.get("load_balancer"):
        qs += _metrics.alb(str(res["load_balancer"]), period=period)
    if res.get("target_group_arn"):
        if not res.get("load_balancer"):
            raise ParameterError("target_group_arn needs load_balancer too: ALB target-group metrics are per (target group, load balancer)")
        qs += _metrics.target_group(str(res["target_group_arn"]), str(res["load_balancer"]), period=period)
    for name in _listify(res.get("table_name")):
        qs += _metrics.dynamodb_table(name, period=period)
    for name in _listify(res.get("db_instance")):
        qs += _metrics.rds_instance(name, period=period)
    for name in _listify(res.get("health_check_id")):
        qs += _metrics.route53_health_check(name, period=period)
    for name in _listify(res.get("instance_ids")):
        qs += _metrics.ec2_instance(name, period=period)
    seen: dict[str, Any] = {}
    for q in qs:
        seen.setdefault(q.id, q)
    return list(seen.values())



def check_access(
    *,
    log_groups: Sequence[str] | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    session: Any = None,
) -> None:
    """Fail fast, before a run: credentials exist, and every named log group exists.

    Raises
    ------
    NoCredentialsError
        No credentials in the boto3 chain (or the profile does not exist).
    NotFoundError
        A log group does not exist (similar names are suggested).
    AwsError
        Any other AWS failure while checking (endpoint unreachable, access denied).
    """
    sess = session or aws.profile_session(profile)
    try:
        creds = sess.get_credentials()
    except bx.BotoCoreError as exc:
        raise from_botocore(exc, service="sts") from exc
    if creds is None:
        raise NoCredentialsError(f"no AWS credentials found: {CREDENTIALS_HINT}")
    groups = [g for g in _listify(log_groups) if not g.startswith("arn:")]
    if not groups:
        return
    client = aws.client("logs", session=sess, region=region, endpoint_url=endpoint_url)
    for group in groups:
        try:
            resp = client.describe_log_groups(logGroupNamePrefix=group, limit=50)
        except (bx.BotoCoreError, bx.ClientError) as exc:
            raise from_botocore(exc, service="logs", operation="DescribeLogGroups", log_group=group) from exc
        names = [g.get("logGroupName") for g in resp.get("logGroups", [])]
        if group in names:
            continue
        hint = ""
        try:
            parent = group.rsplit("/", 1)[0] + "/" if "/" in group.strip("/") else ""
            pool = client.describe_log_groups(logGroupNamePrefix=parent, limit=50) if parent else client.describe_log_groups(limit=50)
            close = difflib.get_close_matches(group, [g["logGroupName"] for g in pool.get("logGroups", [])], n=3)
            if close:
                hint = f"; similar: {', '.join(close)}"
        except Exception:  # the suggestion is a courtesy; the error stands without it
            pass
        raise NotFoundError(
            f"log group {group} does not exist in {client.meta.region_name}{hint}; check the name and --region",
            log_group=group,
        )
