"""The change timeline: what changed, when, by whom — as one tidy DataFrame.

Every incident in the catalogue had a change behind it (a deploy, a security-group edit, a
configuration edit). :func:`timeline` puts all of them on one time axis, with the columns of
:data:`incidentkit.schema.CHANGE_COLUMNS`:

``timestamp``   UTC time of the change
``source``      ``cloudtrail``, ``codedeploy``, ``lambda`` or ``ecs``
``event_name``  the raw name (CloudTrail's ``UpdateFunctionCode20150331v2`` is kept as is)
``class``       ``DEPLOYMENT``, ``SECURITY_CHANGE``, ``CONFIG_CHANGE``, ``SCALING``, ``IAM``, ``OTHER``
``actor``       who: the principal's ARN (or the AWS service that acted)
``resource``    what: security group id, function name, target group ARN, ...
``error_code``  set when the call failed — a half-applied change is evidence, so it stays
``detail``      compact JSON: the API without its version suffix, the event source, how the
                change was made (``changed_by``: iac / pipeline / aws-service / console / cli /
                sdk / other), ``non_iac`` (true for a person's or a script's direct call),
                the key request parameters, error message, ids

Sources
-------
* **CloudTrail** ``LookupEvents`` with ``ReadOnly=false``: management write events of the last
  90 days, 50 a page, 2 requests a second per account and region (paced here, and retried
  with backoff when throttled).
* **CodeDeploy** ``ListDeployments`` (``createTimeRange``) + ``BatchGetDeployments``: one row
  when a deployment was created and one when it completed (succeeded, failed, stopped).
* **Lambda** ``ListVersionsByFunction``: published versions and the last modification of
  ``$LATEST`` (with the aliases pointing at each version) for the functions named.
* **ECS** ``DescribeServices``: the service deployments still listed (created, completed or
  failed roll-outs) for the services named.

:func:`parse_cloudtrail_records` classifies CloudTrail records read elsewhere (a trail's S3
objects, a CloudWatch Logs group) the same way, for windows older than 90 days.

Example
-------
>>> from incidentkit.fetch import changes
>>> rec = {"eventTime": "2026-03-01T03:00:00Z", "eventSource": "ec2.amazonaws.com",
...        "eventName": "RevokeSecurityGroupIngress", "userAgent": "aws-cli/2.15.0",
...        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/ops"},
...        "requestParameters": {"groupId": "sg-0abc"}}
>>> df = changes.parse_cloudtrail_records([rec])
>>> df.loc[0, ["class", "actor", "resource"]].tolist()
['SECURITY_CHANGE', 'arn:aws:iam::1:user/ops', 'sg-0abc']
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import warnings
from typing import Any, Callable, Iterable, Mapping, Sequence

import boto3
import pandas as pd

from . import aws
from .._util import resource_ids
from .._util.fmt import iso as _iso
from .. import schema
from .change_detail import rule_ports
from ..errors import (
    AccessDeniedError,
    AwsError,
    BadWindowError,
    IncompleteDataWarning,
    NotFoundError,
    ParameterError,
    ThrottledError,
    from_botocore,
)
from ..masking import mask_obj
from ..window import Window, now_utc
from ..window import as_window as _as_window

__all__ = [
    "timeline",
    "parse_cloudtrail_records",
    "classify",
    "normalize_event_name",
    "changed_by",
    "SOURCES",
    "CLOUDTRAIL_RETENTION",
    "LOOKUP_MIN_INTERVAL_S",
]

logger = logging.getLogger(__name__)

#: The sources :func:`timeline` can read.
SOURCES = ("cloudtrail", "codedeploy", "lambda", "ecs")
#: How far back CloudTrail LookupEvents can see.
CLOUDTRAIL_RETENTION = pd.Timedelta(days=90)
#: LookupEvents allows 2 requests per second per account and region: keep calls this far apart.
LOOKUP_MIN_INTERVAL_S = 0.5
#: Events a LookupEvents page holds at most.
LOOKUP_PAGE_SIZE = 50

# --------------------------------------------------------------------------------------------
# classification
# --------------------------------------------------------------------------------------------

_VERSION_SUFFIX = re.compile(r"(\d{8})(v\d+)?$")

_IAM_SOURCES = frozenset(
    {
        "iam.amazonaws.com",
        "sts.amazonaws.com",
        "signin.amazonaws.com",
        "sso.amazonaws.com",
        "identitystore.amazonaws.com",
        "organizations.amazonaws.com",
    }
)

# (event source, API) -> class. The API is the event name without its version suffix.
_BY_SOURCE: dict[str, dict[str, str]] = {
    "lambda.amazonaws.com": {
        "UpdateFunctionCode": "DEPLOYMENT",
        "PublishVersion": "DEPLOYMENT",
        "UpdateAlias": "DEPLOYMENT",
        "CreateAlias": "DEPLOYMENT",
        "DeleteAlias": "DEPLOYMENT",
        "CreateFunction": "DEPLOYMENT",
        "PublishLayerVersion": "DEPLOYMENT",
        "UpdateFunctionConfiguration": "CONFIG_CHANGE",
        "PutFunctionConcurrency": "CONFIG_CHANGE",
        "DeleteFunctionConcurrency": "CONFIG_CHANGE",
        "PutFunctionEventInvokeConfig": "CONFIG_CHANGE",
        "UpdateFunctionEventInvokeConfig": "CONFIG_CHANGE",
        "UpdateEventSourceMapping": "CONFIG_CHANGE",
        "CreateEventSourceMapping": "CONFIG_CHANGE",
        "DeleteEventSourceMapping": "CONFIG_CHANGE",
        "UpdateFunctionUrlConfig": "CONFIG_CHANGE",
        "PutRuntimeManagementConfig": "CONFIG_CHANGE",
        "PutProvisionedConcurrencyConfig": "SCALING",
        "DeleteProvisionedConcurrencyConfig": "SCALING",
        "AddPermission": "SECURITY_CHANGE",
        "RemovePermission": "SECURITY_CHANGE",
        "DeleteFunction": "CONFIG_CHANGE",
    },
    "codedeploy.amazonaws.com": {
        "CreateDeployment": "DEPLOYMENT",
        "StopDeployment": "DEPLOYMENT",
        "ContinueDeployment": "DEPLOYMENT",
        "CreateDeploymentGroup": "CONFIG_CHANGE",
        "UpdateDeploymentGroup": "CONFIG_CHANGE",
        "DeleteDeploymentGroup": "CONFIG_CHANGE",
    },
    "ecs.amazonaws.com": {
        "UpdateService": "DEPLOYMENT",  # a desiredCount-only update is SCALING (see classify)
        "CreateService": "DEPLOYMENT",
        "RegisterTaskDefinition": "DEPLOYMENT",
        "CreateTaskSet": "DEPLOYMENT",
        "UpdateTaskSet": "DEPLOYMENT",
        "DeleteTaskSet": "DEPLOYMENT",
        "UpdateServicePrimaryTaskSet": "DEPLOYMENT",
        "DeleteService": "CONFIG_CHANGE",
        "UpdateCluster": "CONFIG_CHANGE",
        "UpdateClusterSettings": "CONFIG_CHANGE",
        "PutClusterCapacityProviders": "SCALING",
        "UpdateCapacityProvider": "SCALING",
    },
    "apigateway.amazonaws.com": {
        "CreateDeployment": "DEPLOYMENT",
        "UpdateStage": "CONFIG_CHANGE",
        "UpdateMethod": "CONFIG_CHANGE",
        "UpdateIntegration": "CONFIG_CHANGE",
        "UpdateRestApi": "CONFIG_CHANGE",
        "PutRestApi": "DEPLOYMENT",
        "ImportRestApi": "DEPLOYMENT",
        "UpdateRoute": "CONFIG_CHANGE",
        "UpdateApi": "CONFIG_CHANGE",
        "UpdateUsagePlan": "CONFIG_CHANGE",
        "CreateAuthorizer": "SECURITY_CHANGE",
        "UpdateAuthorizer": "SECURITY_CHANGE",
        "DeleteAuthorizer": "SECURITY_CHANGE",
    },
    "elasticloadbalancing.amazonaws.com": {
        "ModifyTargetGroup": "CONFIG_CHANGE",
        "ModifyTargetGroupAttributes": "CONFIG_CHANGE",
        "ModifyListener": "CONFIG_CHANGE",
        "ModifyListenerAttributes": "CONFIG_CHANGE",
        "ModifyLoadBalancerAttributes": "CONFIG_CHANGE",
        "ModifyRule": "CONFIG_CHANGE",
        "CreateRule": "CONFIG_CHANGE",
        "DeleteRule": "CONFIG_CHANGE",
        "SetRulePriorities": "CONFIG_CHANGE",
        "CreateListener": "CONFIG_CHANGE",
        "DeleteListener": "CONFIG_CHANGE",
        "RegisterTargets": "DEPLOYMENT",
        "DeregisterTargets": "DEPLOYMENT",
        "SetSecurityGroups": "SECURITY_CHANGE",
        "SetSubnets": "CONFIG_CHANGE",
    },
    "ec2.amazonaws.com": {
        "AuthorizeSecurityGroupIngress": "SECURITY_CHANGE",
        "AuthorizeSecurityGroupEgress": "SECURITY_CHANGE",
        "RevokeSecurityGroupIngress": "SECURITY_CHANGE",
        "RevokeSecurityGroupEgress": "SECURITY_CHANGE",
        "ModifySecurityGroupRules": "SECURITY_CHANGE",
        "UpdateSecurityGroupRuleDescriptionsIngress": "SECURITY_CHANGE",
        "UpdateSecurityGroupRuleDescriptionsEgress": "SECURITY_CHANGE",
        "CreateSecurityGroup": "SECURITY_CHANGE",
        "DeleteSecurityGroup": "SECURITY_CHANGE",
        "CreateNetworkAclEntry": "SECURITY_CHANGE",
        "ReplaceNetworkAclEntry": "SECURITY_CHANGE",
        "DeleteNetworkAclEntry": "SECURITY_CHANGE",
        "ReplaceNetworkAclAssociation": "SECURITY_CHANGE",
        "CreateNetworkAcl": "SECURITY_CHANGE",
        "DeleteNetworkAcl": "SECURITY_CHANGE",
        "ModifyVpcEndpoint": "CONFIG_CHANGE",
        "CreateRoute": "CONFIG_CHANGE",
        "ReplaceRoute": "CONFIG_CHANGE",
        "DeleteRoute": "CONFIG_CHANGE",
        "CreateLaunchTemplateVersion": "CONFIG_CHANGE",
        "ModifyLaunchTemplate": "CONFIG_CHANGE",
    },
    "autoscaling.amazonaws.com": {
        "SetDesiredCapacity": "SCALING",
        "UpdateAutoScalingGroup": "SCALING",
        "PutScalingPolicy": "SCALING",
        "DeletePolicy": "SCALING",
        "ExecutePolicy": "SCALING",
        "PutScheduledUpdateGroupAction": "SCALING",
        "SuspendProcesses": "SCALING",
        "ResumeProcesses": "SCALING",
        "StartInstanceRefresh": "DEPLOYMENT",
        "CancelInstanceRefresh": "DEPLOYMENT",
    },
    "application-autoscaling.amazonaws.com": {
        "RegisterScalableTarget": "SCALING",
        "DeregisterScalableTarget": "SCALING",
        "PutScalingPolicy": "SCALING",
        "DeleteScalingPolicy": "SCALING",
        "PutScheduledAction": "SCALING",
        "DeleteScheduledAction": "SCALING",
    },
    "dynamodb.amazonaws.com": {
        "UpdateTable": "CONFIG_CHANGE",
        "UpdateTimeToLive": "CONFIG_CHANGE",
        "UpdateContinuousBackups": "CONFIG_CHANGE",
        "UpdateGlobalTable": "CONFIG_CHANGE",
        "UpdateTableReplicaAutoScaling": "SCALING",
        "DeleteTable": "CONFIG_CHANGE",
    },
    "rds.amazonaws.com": {
        "ModifyDBInstance": "CONFIG_CHANGE",
        "ModifyDBCluster": "CONFIG_CHANGE",
        "ModifyDBParameterGroup": "CONFIG_CHANGE",
        "ModifyDBClusterParameterGroup": "CONFIG_CHANGE",
        "ResetDBParameterGroup": "CONFIG_CHANGE",
        "RebootDBInstance": "CONFIG_CHANGE",
        "FailoverDBCluster": "CONFIG_CHANGE",
        "ApplyPendingMaintenanceAction": "CONFIG_CHANGE",
        "AuthorizeDBSecurityGroupIngress": "SECURITY_CHANGE",
        "RevokeDBSecurityGroupIngress": "SECURITY_CHANGE",
    },
    "route53.amazonaws.com": {
        "ChangeResourceRecordSets": "CONFIG_CHANGE",
        "UpdateHealthCheck": "CONFIG_CHANGE",
        "CreateHealthCheck": "CONFIG_CHANGE",
        "DeleteHealthCheck": "CONFIG_CHANGE",
    },
    "cloudformation.amazonaws.com": {
        "UpdateStack": "DEPLOYMENT",
        "CreateStack": "DEPLOYMENT",
        "ExecuteChangeSet": "DEPLOYMENT",
        "DeleteStack": "DEPLOYMENT",
        "RollbackStack": "DEPLOYMENT",
    },
    "elasticbeanstalk.amazonaws.com": {"UpdateEnvironment": "DEPLOYMENT", "SwapEnvironmentCNAMEs": "DEPLOYMENT"},
    "amplify.amazonaws.com": {"StartDeployment": "DEPLOYMENT", "StartJob": "DEPLOYMENT"},
    "wafv2.amazonaws.com": {"UpdateWebACL": "SECURITY_CHANGE", "UpdateIPSet": "SECURITY_CHANGE", "UpdateRuleGroup": "SECURITY_CHANGE"},
    "kms.amazonaws.com": {"PutKeyPolicy": "SECURITY_CHANGE", "DisableKey": "SECURITY_CHANGE", "ScheduleKeyDeletion": "SECURITY_CHANGE"},
    "s3.amazonaws.com": {
        "PutBucketPolicy": "SECURITY_CHANGE",
        "DeleteBucketPolicy": "SECURITY_CHANGE",
        "PutBucketAcl": "SECURITY_CHANGE",
        "PutBucketPublicAccessBlock": "SECURITY_CHANGE",
    },
    "monitoring.amazonaws.com": {"PutMetricAlarm": "CONFIG_CHANGE", "DeleteAlarms": "CONFIG_CHANGE", "DisableAlarmActions": "CONFIG_CHANGE"},
    "ssm.amazonaws.com": {"PutParameter": "CONFIG_CHANGE", "DeleteParameter": "CONFIG_CHANGE"},
    "appconfig.amazonaws.com": {"StartDeployment": "DEPLOYMENT"},
}

_READ_PREFIXES = ("Get", "List", "Describe", "Lookup", "Head", "BatchGet", "Search", "Scan", "Query", "Select", "Check")
_GENERIC_CONFIG_PREFIXES = ("Update", "Modify", "Put", "Set", "Change", "Replace", "Reset", "Enable", "Disable")

# principal recognition for "how was this change made"
_IAC_AGENTS = (
    ("cloudformation", "iac", "cloudformation"),
    ("terraform", "iac", "terraform"),
    ("pulumi", "iac", "pulumi"),
    ("aws-cdk", "iac", "cdk"),
    ("ansible", "iac", "ansible"),
    ("crossplane", "iac", "crossplane"),
    ("serverless/", "iac", "serverless-framework"),
    ("aws-sam-cli", "iac", "sam"),
    ("codepipeline", "pipeline", "codepipeline"),
    ("codebuild", "pipeline", "codebuild"),
    ("codedeploy", "pipeline", "codedeploy"),
    ("github-actions", "pipeline", "github-actions"),
    ("gitlab", "pipeline", "gitlab"),
    ("jenkins", "pipeline", "jenkins"),
    ("spinnaker", "pipeline", "spinnaker"),
    ("argocd", "pipeline", "argocd"),
)
_NON_IAC = frozenset({"console", "cli", "sdk", "other"})


def normalize_event_name(name: str | None) -> str:
    """The API name without CloudTrail's version suffix.

    Lambda (and a few other services) log ``eventName`` with the API version appended:
    ``UpdateFunctionCode20150331v2``, ``GetFunction20150331``. Classification uses the
    bare API; the timeline keeps the raw name in ``event_name``.

    Example
    -------
    >>> normalize_event_name("UpdateFunctionCode20150331v2")
    'UpdateFunctionCode'
    >>> normalize_event_name("PutFunctionConcurrency20171031")
    'PutFunctionConcurrency'
    >>> normalize_event_name("AuthorizeSecurityGroupIngress")
    'AuthorizeSecurityGroupIngress'
    """
    if not name:
        return ""
    return _VERSION_SUFFIX.sub("", str(name))


def classify(event_source: str | None, event_name: str | None, request: Mapping[str, Any] | None = None) -> str:
    """Class of one change: ``DEPLOYMENT``, ``SECURITY_CHANGE``, ``CONFIG_CHANGE``, ``SCALING``, ``IAM`` or ``OTHER``.

    Parameters
    ----------
    event_source:
        CloudTrail ``eventSource`` (``lambda.amazonaws.com``); may be empty.
    event_name:
        CloudTrail ``eventName``, with or without its version suffix.
    request:
        ``requestParameters``; used where the same API means different things (an ECS
        ``UpdateService`` that only changes ``desiredCount`` is SCALING, not a deployment;
        ``ModifyInstanceAttribute`` with ``groupSet`` is a SECURITY_CHANGE).

    Example
    -------
    >>> classify("ecs.amazonaws.com", "UpdateService", {"service": "web", "desiredCount": 8})
    'SCALING'
    >>> classify("ecs.amazonaws.com", "UpdateService", {"service": "web", "taskDefinition": "web:42"})
    'DEPLOYMENT'
    >>> classify("iam.amazonaws.com", "AttachRolePolicy")
    'IAM'
    """
    source = (event_source or "").lower()
    api = normalize_event_name(event_name)
    req = request if isinstance(request, Mapping) else {}
    if source in _IAM_SOURCES:
        return "IAM"
    if source == "ecs.amazonaws.com" and api == "UpdateService":
        deploy_keys = {"taskDefinition", "forceNewDeployment", "capacityProviderStrategy", "platformVersion",
                       "loadBalancers", "serviceConnectConfiguration", "volumeConfigurations"}
        if "desiredCount" in req and not any(req.get(k) for k in deploy_keys):
            return "SCALING"
        return "DEPLOYMENT"
    if source == "ec2.amazonaws.com" and api in ("ModifyInstanceAttribute", "ModifyNetworkInterfaceAttribute"):
        return "SECURITY_CHANGE" if "groupSet" in req or "groups" in req else "CONFIG_CHANGE"
    by_api = _BY_SOURCE.get(source)
    if by_api is not None and api in by_api:
        return by_api[api]
    if not source:
        # No event source (e.g. a bare name): look the API up in every service.
        hits = {m[api] for m in _BY_SOURCE.values() if api in m}
        if len(hits) == 1:
            return hits.pop()
    if api.startswith(_READ_PREFIXES):
        return "OTHER"
    if api.startswith(_GENERIC_CONFIG_PREFIXES):
        return "CONFIG_CHANGE"
    return "OTHER"


def changed_by(user_identity: Mapping[str, Any] | None, user_agent: str | None = None) -> tuple[str, str | None]:
    """How a change was made: ``(kind, tool)``.

    ``kind`` is ``iac`` (CloudFormation, Terraform, Pulumi, CDK, ...), ``pipeline``
    (CodePipeline, CodeBuild, CodeDeploy, CI systems), ``aws-service`` (an AWS service acting
    on its own, e.g. Auto Scaling), ``console``, ``cli``, ``sdk`` or ``other``. The last four
    are *non-IaC*: a person or a script calling AWS directly.

    Recognised from ``userIdentity.invokedBy``, the session issuer's and session's names, and
    the ``userAgent`` (Terraform's provider sends ``APN/1.0 HashiCorp/1.0 Terraform/...``).

    Example
    -------
    >>> changed_by({"type": "AssumedRole", "invokedBy": "cloudformation.amazonaws.com"})
    ('iac', 'cloudformation')
    >>> changed_by({"type": "IAMUser"}, "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 terraform-provider-aws/5.40.0")
    ('iac', 'terraform')
    >>> changed_by({"type": "IAMUser"}, "aws-cli/2.15.30 Python/3.11.8 Linux/6.1")
    ('cli', 'aws-cli')
    """
    ui = user_identity if isinstance(user_identity, Mapping) else {}
    agent = str(user_agent or "")
    invoked_by = str(ui.get("invokedBy") or "")
    issuer = ((ui.get("sessionContext") or {}).get("sessionIssuer") or {}) if isinstance(ui.get("sessionContext"), Mapping) else {}
    issuer_text = f"{issuer.get('userName', '')} {issuer.get('arn', '')} {ui.get('arn', '')}"
    haystack = f"{invoked_by} {agent} {issuer_text}".lower()
    for needle, kind, tool in _IAC_AGENTS:
        if needle in haystack:
            return kind, tool
    if str(ui.get("type")) == "AWSService" or (invoked_by.endswith(".amazonaws.com") and invoked_by != "signin.amazonaws.com"):
        if invoked_by and invoked_by not in ("AWS Internal",):
            return "aws-service", invoked_by
        return "aws-service", None
    low = agent.lower()
    if (
        "console.amazonaws.com" in low
        or low.startswith("signin.amazonaws.com")
        or low == "aws internal"
        or low.startswith("mozilla/")
        or "consolebackend" in low
        or "aws-internal/3 aws-sdk-java" in low and "console" in low
    ):
        return "console", None
    if low.startswith(("aws-cli/", "ec2-api-tools")) or " aws-cli/" in low:
        return "cli", "aws-cli"
    if low.startswith("aws-powershell") or "aws-tools-for-powershell" in low:
        return "cli", "aws-powershell"
    for needle, tool in (("boto3/", "boto3"), ("botocore/", "botocore"), ("aws-sdk-", "aws-sdk"), ("aws-sdk/", "aws-sdk")):
        if needle in low:
            return "sdk", tool
    return "other", None


# --------------------------------------------------------------------------------------------
# CloudTrail records -> rows
# --------------------------------------------------------------------------------------------

# requestParameters keys naming the resource a call changed, in order of preference.
_RESOURCE_KEYS = (
    "functionName",
    "groupId",
    "targetGroupArn",
    "loadBalancerArn",
    "listenerArn",
    "ruleArn",
    "tableName",
    "dBInstanceIdentifier",
    "dBClusterIdentifier",
    "dBParameterGroupName",
    "restApiId",
    "apiId",
    "service",
    "cluster",
    "taskDefinition",
    "family",
    "deploymentGroupName",
    "applicationName",
    "healthCheckId",
    "hostedZoneId",
    "autoScalingGroupName",
    "resourceId",
    "networkAclId",
    "instanceId",
    "roleName",
    "userName",
    "policyArn",
    "bucketName",
    "stackName",
    "keyId",
    "alarmName",
    "name",
    "groupName",
)
_ERROR_MESSAGE_LIMIT = 300
_PARAMS_LIMIT = 600


def _resource_of(record: Mapping[str, Any], resources: Sequence[Mapping[str, Any]] | None = None) -> str | None:
    req = record.get("requestParameters")
    if isinstance(req, Mapping):
        for key in _RESOURCE_KEYS:
            value = req.get(key)
            if isinstance(value, str) and value:
                if key == "functionName" and value.startswith("arn:") and ":function:" in value:
                    return value.split(":function:", 1)[1].split(":", 1)[0]
                if key == "restApiId" and isinstance(req.get("stageName"), str):
                    return f"{value}/{req['stageName']}"
                if key == "service" and isinstance(req.get("cluster"), str):
                    cluster = req["cluster"].rsplit(":cluster/", 1)[-1]  # a cluster ARN or its name
                    return value if value.startswith("arn:") else f"{cluster}/{value}"
                if key == "deploymentGroupName" and isinstance(req.get("applicationName"), str):
                    return f"{req['applicationName']}/{value}"
                return value
        items = ((req.get("instancesSet") or {}).get("items") if isinstance(req.get("instancesSet"), Mapping) else None) or []
        ids = [i.get("instanceId") for i in items if isinstance(i, Mapping) and i.get("instanceId")]
        if ids:
            return ",".join(ids)
    # LookupEvents' own Resources list (ResourceType, ResourceName)
    for res in resources or ():
        name = res.get("ResourceName") if isinstance(res, Mapping) else None
        if name:
            return str(name)
    for block in ("requestParameters", "responseElements"):
        data = record.get(block)
        if isinstance(data, Mapping):
            for key, value in data.items():
                if isinstance(value, str) and value and key.lower().endswith(("arn", "id", "name")):
                    return value
    return None


def _actor_of(ui: Mapping[str, Any]) -> str | None:
    if not isinstance(ui, Mapping):
        return None
    if ui.get("arn"):
        return str(ui["arn"])
    issuer = (ui.get("sessionContext") or {}).get("sessionIssuer") if isinstance(ui.get("sessionContext"), Mapping) else None
    if isinstance(issuer, Mapping) and issuer.get("arn"):
        return str(issuer["arn"])
    if ui.get("invokedBy"):
        return str(ui["invokedBy"])
    if ui.get("principalId"):
        return str(ui["principalId"])
    if ui.get("userName"):
        return str(ui["userName"])
    return str(ui.get("type")) if ui.get("type") else None


def _is_read_only(record: Mapping[str, Any], lookup_read_only: Any = None) -> bool:
    value = record.get("readOnly", lookup_read_only)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return normalize_event_name(record.get("eventName")).startswith(_READ_PREFIXES)


def _compact(value: Any, limit: int) -> Any:
    text = json.dumps(value, default=str, separators=(",", ":"), sort_keys=True)
    if len(text) <= limit:
        return value
    return text[: limit - 1] + "…"


def _dumps(detail: Mapping[str, Any]) -> str:
    clean = {k: v for k, v in detail.items() if v is not None and v != "" and v != [] and v != {}}
    return json.dumps(clean, default=str, separators=(",", ":"), sort_keys=True)


def _row_from_record(record: Mapping[str, Any], *, event_time: Any = None, lookup: Mapping[str, Any] | None = None) -> dict[str, Any]:
    lookup = lookup or {}
    ui = record.get("userIdentity") if isinstance(record.get("userIdentity"), Mapping) else {}
    raw_name = record.get("eventName") or lookup.get("EventName") or ""
    source = record.get("eventSource") or lookup.get("EventSource") or ""
    req = record.get("requestParameters") if isinstance(record.get("requestParameters"), Mapping) else None
    api = normalize_event_name(raw_name)
    kind, tool = changed_by(ui, record.get("userAgent"))
    issuer = (ui.get("sessionContext") or {}).get("sessionIssuer") if isinstance(ui.get("sessionContext"), Mapping) else None
    error_message = record.get("errorMessage")
    detail = {
        "api": api,
        "event_source": source,
        "region": record.get("awsRegion"),
        "event_id": record.get("eventID") or lookup.get("EventId"),
        "request_id": record.get("requestID"),
        "identity_type": ui.get("type"),
        "session_issuer": issuer.get("arn") if isinstance(issuer, Mapping) else None,
        "invoked_by": ui.get("invokedBy"),
        "user_agent": record.get("userAgent"),
        "source_ip": record.get("sourceIPAddress"),
        "changed_by": kind,
        "tool": tool,
        "non_iac": kind in _NON_IAC,
        "read_only": _is_read_only(record, lookup.get("ReadOnly")),
        "error_message": (str(error_message)[:_ERROR_MESSAGE_LIMIT] if error_message else None),
        # masked before it is cut to size: configuration holds secrets (Lambda environment variables, ECS task
        # environments, database passwords), and a cut could leave part of one past the masking's reach
        "params": _compact(mask_obj(req), _PARAMS_LIMIT) if req else None,
        # kept whole even when params are cut short: what matching a change to a finding reads
        "targets": _response_targets(record.get("responseElements")),
        "rules": [list(r) for r in rule_ports(req) or []] if req and ("SecurityGroup" in api or "NetworkAcl" in api) else None,
    }
    when = record.get("eventTime") or event_time or lookup.get("EventTime")
    # data events (S3 objects, DynamoDB items, Lambda invokes) are traffic, not changes
    data_event = record.get("eventCategory") == "Data" or record.get("managementEvent") is False
    return {
        "timestamp": when,
        "source": "cloudtrail",
        "event_name": raw_name,
        "class": "OTHER" if data_event else classify(source, raw_name, req),
        "actor": _actor_of(ui) or lookup.get("Username"),
        "resource": _resource_of(record, lookup.get("Resources")),
        "error_code": record.get("errorCode") or None,
        "detail": _dumps(detail),
    }


# ARNs a response names that the request may not (an event-source mapping's function, a table's ARN)
_RESPONSE_ARN_KEYS = frozenset({"functionArn", "FunctionArn", "targetGroupArn", "TargetGroupArn", "loadBalancerArn",
                                "LoadBalancerArn", "tableArn", "TableArn", "serviceArn", "stackId", "StackId"})


def _response_targets(response: Any, depth: int = 0) -> list[str] | None:
    """Resource ARNs named in ``responseElements`` (at most 5, three levels deep)."""
    found: list[str] = []
    if isinstance(response, Mapping) and depth <= 3:
        for key, value in response.items():
            if key in _RESPONSE_ARN_KEYS and isinstance(value, str) and value.startswith("arn:"):
                found.append(value)
            elif isinstance(value, (Mapping, list)):
                found.extend(_response_targets(value, depth + 1) or [])
    elif isinstance(response, list) and depth <= 3:
        for item in response[:10]:
            found.extend(_response_targets(item, depth + 1) or [])
    return list(dict.fromkeys(found))[:5] or None


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    if not rows:
        return schema.empty_frame("changes")
    df = pd.DataFrame(rows, columns=list(schema.CHANGE_COLUMNS))
    df["timestamp"] = schema.utc(df["timestamp"].astype(object).map(_to_utc))
    df = schema.conform(df, "changes", extra=False)
    return df.sort_values(["timestamp", "source", "event_name"], kind="stable", ignore_index=True)


def _to_utc(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return pd.NaT
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        return pd.NaT
    if ts is pd.NaT:
        return pd.NaT
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def parse_cloudtrail_records(
    records: Iterable[Mapping[str, Any] | str | bytes],
    *,
    write_only: bool = True,
    window: Window | None = None,
) -> pd.DataFrame:
    """Classify CloudTrail records read from a trail's S3 objects or a CloudWatch Logs group.

    Parameters
    ----------
    records:
        CloudTrail records as dicts, or as JSON text (one record, or a ``{"Records": [...]}``
        document as a trail writes to S3). A logs frame's ``message`` column works as is.
    write_only:
        Keep only write events (``readOnly`` false; for old records without ``readOnly``,
        APIs not named ``Get*``/``List*``/``Describe*``...). Skipped read events are counted
        in ``df.attrs["parse_stats"]["read_only_skipped"]``.
    window:
        Keep only records inside the window (others counted as ``outside_window``).

    Returns
    -------
    pandas.DataFrame
        :data:`~incidentkit.schema.CHANGE_COLUMNS`, sorted by time. Failed calls keep their
        ``error_code``. Unparseable input is counted in ``parse_stats["errors"]`` and named in
        ``issues``, never dropped silently.

    Example
    -------
    >>> df = parse_cloudtrail_records(['{"eventTime":"2024-08-01T13:52:02Z",'
    ...     '"eventSource":"lambda.amazonaws.com","eventName":"UpdateFunctionCode20150331v2",'
    ...     '"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/dev"},'
    ...     '"requestParameters":{"functionName":"api"}}'])
    >>> df.loc[0, ["event_name", "class", "resource"]].tolist()
    ['UpdateFunctionCode20150331v2', 'DEPLOYMENT', 'api']
    """
    rows: list[dict[str, Any]] = []
    stats = {"records": 0, "kept": 0, "read_only_skipped": 0, "outside_window": 0, "errors": 0}
    issues: list[str] = []
    for item in _iter_records(records, stats, issues):
        stats["records"] += 1
        if write_only and _is_read_only(item):
            stats["read_only_skipped"] += 1
            continue
        row = _row_from_record(item)
        if window is not None:
            ts = _to_utc(row["timestamp"])
            if ts is pd.NaT or not (window.start <= ts < window.end):
                stats["outside_window"] += 1
                continue
        rows.append(row)
    df = _frame(rows)
    stats["kept"] = len(df)
    if stats["errors"]:
        issues.insert(0, f"{stats['errors']} CloudTrail record(s) could not be parsed and are not in the timeline")
        warnings.warn(issues[0], IncompleteDataWarning, stacklevel=2)
    df.attrs.update(
        schema.provenance(
            "changes.parse_cloudtrail_records",
            query={"write_only": write_only},
            window=window,
            complete=not stats["errors"],
            issues=issues,
            parse_stats=stats,
        )
    )
    return df


def _iter_records(records: Iterable[Any], stats: dict[str, int], issues: list[str]) -> Iterable[Mapping[str, Any]]:
    if isinstance(records, (str, bytes, Mapping)):
        records = [records]
    for i, item in enumerate(records):
        obj: Any = item
        if isinstance(item, (bytes, bytearray)):
            item = item.decode("utf-8", "replace")
        if isinstance(item, str):
            try:
                obj = json.loads(item)
            except ValueError as exc:
                stats["errors"] += 1
                if len(issues) < 5:
                    issues.append(f"record {i}: not JSON ({exc.msg} at char {exc.pos})")
                continue
        if isinstance(obj, Mapping) and isinstance(obj.get("Records"), list):
            for sub in obj["Records"]:
                if isinstance(sub, Mapping):
                    yield sub
                else:
                    stats["errors"] += 1
            continue
        if isinstance(obj, Mapping) and "CloudTrailEvent" in obj:  # a LookupEvents event
            inner = obj.get("CloudTrailEvent")
            try:
                rec = json.loads(inner) if isinstance(inner, str) else dict(inner or {})
            except ValueError:
                stats["errors"] += 1
                continue
            yield rec
            continue
        if isinstance(obj, Mapping) and ("eventName" in obj or "eventSource" in obj):
            yield obj
            continue
        stats["errors"] += 1
        if len(issues) < 5:
            issues.append(f"record {i}: not a CloudTrail record (no eventName/eventSource)")


# --------------------------------------------------------------------------------------------
# fetching
# --------------------------------------------------------------------------------------------


class _Pacer:
    """Keeps calls at least ``interval`` seconds apart (CloudTrail LookupEvents: 2 per second)."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._last: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            if self._last is not None and self.interval > 0:
                gap = self.clock() - self._last
                if gap < self.interval:
                    self.sleep(self.interval - gap)
            self._last = self.clock()


class _Stats:
    def __init__(self) -> None:
        self.api_calls = 0
        self.retries = 0
        self.issues: list[str] = []
        self.truncated = False
        self.complete = True
        self.by_source: dict[str, dict[str, Any]] = {}

    def record(self, source: str, response: Mapping[str, Any]) -> None:
        self.api_calls += 1
        self.retries += aws.retry_attempts(response)
        s = self.by_source.setdefault(source, {"api_calls": 0, "rows": 0})
        s["api_calls"] += 1


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, Iterable):
        out: list[str] = []
        for v in value:
            out.extend(_names(v))
        return out
    return [str(value)]


def _call(client: Any, op: str, stats: _Stats, source: str, context: Mapping[str, Any], **params: Any) -> dict[str, Any]:
    try:
        response = getattr(client, op)(**params)
    except Exception as exc:  # botocore errors, mapped to the kit's tree
        if isinstance(exc, (ParameterError, BadWindowError)):
            raise
        stats.record(source, getattr(exc, "response", None) or {})  # a call that failed after its retries is a call
        raise from_botocore(exc, service=source, **context) from exc
    stats.record(source, response)
    return response


def timeline(
    window: Window | tuple[Any, Any],
    *,
    resources: Mapping[str, Any] | None = None,
    sources: Sequence[str] = SOURCES,
    max_events: int | None = 10_000,
    lookup_attributes: Sequence[Mapping[str, str]] | None = None,
    session: boto3.Session | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> pd.DataFrame:
    """What changed in ``window``: CloudTrail writes, deployments, function and service updates.

    Parameters
    ----------
    window:
        The window (a :class:`~incidentkit.window.Window` or a ``(start, end)`` pair).
    resources:
        The template parameters naming resources (see :mod:`incidentkit.fetch.health`):
        ``function_name`` (Lambda versions), ``ecs_cluster`` + ``ecs_service`` (ECS
        deployments), ``codedeploy_application`` (+ ``codedeploy_deployment_group``) to narrow
        CodeDeploy. Values may be a string, a comma-separated string or a list. CloudTrail
        is not narrowed: a security-group edit that broke a service rarely names it.
    sources:
        Any of :data:`SOURCES`. ``lambda`` and ``ecs`` need the matching ``resources``.
    max_events:
        Stop reading CloudTrail after this many events (at 50 a page and 2 pages a second,
        10,000 events take ~100 s). When the cap is hit the frame says so
        (``truncated``, ``issues``) and a warning is emitted; narrow the window or raise it.
    lookup_attributes:
        CloudTrail lookup attribute to use instead of ``ReadOnly=false`` (LookupEvents takes
        one), e.g. ``[{"AttributeKey": "EventSource", "AttributeValue": "ec2.amazonaws.com"}]``;
        read events it returns are dropped and counted.
    session, region, endpoint_url:
        AWS access (see :func:`incidentkit.fetch.aws.client`).

    Returns
    -------
    pandas.DataFrame
        :data:`~incidentkit.schema.CHANGE_COLUMNS`, sorted by time, with provenance in
        ``df.attrs`` (``api_calls``, ``retries``, ``complete``, ``truncated``, ``issues``,
        ``by_source``).

    Raises
    ------
    BadWindowError
        The window ends more than 90 days ago and only CloudTrail was asked for (read the
        trail's S3 records with :func:`parse_cloudtrail_records` instead). A window that starts
        more than 90 days ago is clipped for CloudTrail, and the frame says so.
    NoCredentialsError, EndpointError
        Nothing can be read. A source the caller may not read (AccessDenied), or a named
        resource that does not exist, is reported in ``issues`` and the others still come.

    Example
    -------
    >>> from incidentkit.fetch import changes
    >>> from incidentkit import Window
    >>> w = Window.parse("-2h", "now")                                  # doctest: +SKIP
    >>> df = changes.timeline(w, resources={"function_name": "api"})   # doctest: +SKIP
    >>> df[df["class"] == "SECURITY_CHANGE"]                            # doctest: +SKIP
    """
    win = _as_window(window)
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ParameterError(f"unknown change source(s) {unknown}; use any of {list(SOURCES)}")
    if max_events is not None and max_events < 1:
        raise ParameterError(f"max_events must be at least 1 (or None for no cap), got {max_events}")
    res = dict(resources or {})
    stats = _Stats()
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    client_kw = {"session": session, "region": region, "endpoint_url": endpoint_url}
    errors: list[AwsError] = []
    opts = {"max_events": max_events, "lookup_attributes": list(lookup_attributes) if lookup_attributes else None}

    used_region = region or (session.region_name if session is not None else None)

    def assemble() -> pd.DataFrame:
        df = _frame(rows)
        if not df.empty:
            df = df.drop_duplicates(ignore_index=True)
        df.attrs.update(
            schema.provenance(
                "changes.timeline",
                query={"sources": list(sources), "resources": {k: _names(v) for k, v in res.items()},
                       "lookup_attributes": list(lookup_attributes or [{"AttributeKey": "ReadOnly", "AttributeValue": "false"}]),
                       "max_events": max_events},
                window=win,
                region=used_region,
                api_calls=stats.api_calls,
                retries=stats.retries,
                elapsed_s=time.monotonic() - started,
                complete=stats.complete,
                truncated=stats.truncated,
                issues=stats.issues,
                by_source=stats.by_source,
            )
        )
        return df

    for source in sources:
        fetch = _FETCHERS[source]
        try:
            got = fetch(win, res, stats, client_kw, opts)
        except (AccessDeniedError, NotFoundError, ThrottledError) as exc:
            errors.append(exc)
            stats.complete = False
            stats.issues.append(f"{source}: not collected: {exc}")
            rows.extend(getattr(exc, "rows_so_far", []))  # pages read before the failure are kept
            continue
        except AwsError as exc:  # nothing more can be read (no credentials, no endpoint): the error carries what was
            stats.complete = False
            stats.issues.append(f"{source}: fetch failed: {exc}")
            rows.extend(getattr(exc, "rows_so_far", []))
            exc.partial = assemble()  # type: ignore[attr-defined]
            raise
        stats.by_source.setdefault(source, {"api_calls": 0, "rows": 0})["rows"] = len(got)
        rows.extend(got)

    if errors and len(errors) == len(sources):
        errors[0].partial = assemble()  # type: ignore[attr-defined]
        raise errors[0]
    df = assemble()
    if stats.issues:
        warnings.warn("change timeline incomplete: " + "; ".join(stats.issues), IncompleteDataWarning, stacklevel=2)
    return df


# the pacer is module-level: the 2-TPS limit is per account and region, not per call
_lookup_pacer = _Pacer(LOOKUP_MIN_INTERVAL_S)


def _fetch_cloudtrail(win: Window, res: Mapping[str, Any], stats: _Stats, kw: Mapping[str, Any], opts: Mapping[str, Any]) -> list[dict[str, Any]]:
    max_events = opts.get("max_events")
    now = now_utc()
    oldest = now - CLOUDTRAIL_RETENTION
    start, end = win.start, win.end
    if end <= oldest:
        raise BadWindowError(
            f"CloudTrail LookupEvents keeps 90 days and the window ends {end.isoformat()}, before {oldest.isoformat()}; "
            "read the trail's records from S3 or CloudWatch Logs and use changes.parse_cloudtrail_records",
            window=str(win),
        )
    if start < oldest:
        stats.complete = False
        stats.issues.append(
            f"cloudtrail: window clipped to the last 90 days: events before {oldest.floor('s').isoformat()} are not included "
            "(LookupEvents keeps 90 days; use parse_cloudtrail_records on the trail's S3 records)"
        )
        start = oldest
    client = aws.client("cloudtrail", **kw)
    attrs = list(opts.get("lookup_attributes") or [{"AttributeKey": "ReadOnly", "AttributeValue": "false"}])
    params: dict[str, Any] = {
        "LookupAttributes": attrs,
        "StartTime": start.to_pydatetime(),
        "EndTime": end.to_pydatetime(),
        "MaxResults": LOOKUP_PAGE_SIZE,
    }
    rows: list[dict[str, Any]] = []
    seen_ids: set[str] = set()
    seen_tokens: set[str] = set()
    read_skipped = 0
    bad = 0
    while True:
        _lookup_pacer.wait()
        try:
            resp = _call(client, "lookup_events", stats, "cloudtrail", {"window": str(win)}, **params)
        except AwsError as exc:
            exc.rows_so_far = rows  # type: ignore[attr-defined]  # the pages already read stay evidence
            raise
        events = resp.get("Events") or []
        consumed = 0
        for ev in events:
            consumed += 1
            eid = ev.get("EventId")
            if eid and eid in seen_ids:
                continue
            if eid:
                seen_ids.add(eid)
            raw = ev.get("CloudTrailEvent")
            try:
                record = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
            except ValueError:
                bad += 1
                record = {}
            if _is_read_only(record, ev.get("ReadOnly")) and record:
                read_skipped += 1
                continue
            row = _row_from_record(record, event_time=ev.get("EventTime"), lookup=ev)
            rows.append(row)
            if max_events is not None and len(rows) >= max_events:
                break
        token = resp.get("NextToken")
        if max_events is not None and len(rows) >= max_events:
            if token or consumed < len(events):
                stats.truncated = True
                stats.complete = False
                stats.issues.append(
                    f"cloudtrail: stopped after max_events={max_events} events; later events in the window are not included "
                    "(narrow the window or raise max_events)"
                )
            break
        if not token:
            break
        if token in seen_tokens:
            stats.complete = False
            stats.issues.append("cloudtrail: LookupEvents returned a NextToken it had already returned; stopped paging")
            break
        seen_tokens.add(token)
        params["NextToken"] = token
    if bad:
        stats.complete = False
        stats.issues.append(f"cloudtrail: {bad} event(s) had an unreadable CloudTrailEvent; kept with the lookup fields only")
    if read_skipped:
        stats.by_source.setdefault("cloudtrail", {"api_calls": 0, "rows": 0})["read_only_skipped"] = read_skipped
    return rows


def _fetch_codedeploy(win: Window, res: Mapping[str, Any], stats: _Stats, kw: Mapping[str, Any], opts: Mapping[str, Any]) -> list[dict[str, Any]]:
    client = aws.client("codedeploy", **kw)
    apps = _names(res.get("codedeploy_application"))
    groups = _names(res.get("codedeploy_deployment_group"))
    if groups and len(apps) != 1:
        raise ParameterError("codedeploy_deployment_group needs exactly one codedeploy_application")
    scopes: list[dict[str, Any]] = []
    if not apps:
        scopes.append({})  # every deployment of the account and region
    for app in apps:
        # ListDeployments takes an application only together with a deployment group
        app_groups = groups or _deployment_groups(client, app, stats)
        scopes.extend({"applicationName": app, "deploymentGroupName": g} for g in app_groups)
    ids: list[str] = []
    for scope in scopes:
        params: dict[str, Any] = dict(scope)
        params["createTimeRange"] = {"start": win.start.to_pydatetime(), "end": win.end.to_pydatetime()}
        seen: set[str] = set()
        while True:
            resp = _call(client, "list_deployments", stats, "codedeploy", {"scope": scope or "account"}, **params)
            ids.extend(resp.get("deployments") or [])
            token = resp.get("nextToken")
            if not token or token in seen:
                break
            seen.add(token)
            params["nextToken"] = token
    ids = list(dict.fromkeys(ids))
    rows: list[dict[str, Any]] = []
    for i in range(0, len(ids), 25):
        resp = _call(client, "batch_get_deployments", stats, "codedeploy", {}, deploymentIds=ids[i : i + 25])
        for d in resp.get("deploymentsInfo") or []:
            rows.extend(_codedeploy_rows(d))
    return rows


def _deployment_groups(client: Any, app: str, stats: _Stats) -> list[str]:
    names: list[str] = []
    params: dict[str, Any] = {"applicationName": app}
    seen: set[str] = set()
    while True:
        resp = _call(client, "list_deployment_groups", stats, "codedeploy", {"application": app}, **params)
        names.extend(resp.get("deploymentGroups") or [])
        token = resp.get("nextToken")
        if not token or token in seen:
            return names
        seen.add(token)
        params["nextToken"] = token


_CODEDEPLOY_END = {"Succeeded": "DeploymentSucceeded", "Failed": "DeploymentFailed", "Stopped": "DeploymentStopped"}


def _codedeploy_rows(d: Mapping[str, Any]) -> list[dict[str, Any]]:
    app, group = d.get("applicationName"), d.get("deploymentGroupName")
    resource = f"{app}/{group}" if group else app
    err = d.get("errorInformation") or {}
    rollback = d.get("rollbackInfo") or {}
    detail = {
        "deployment_id": d.get("deploymentId"),
        "status": d.get("status"),
        "compute_platform": d.get("computePlatform"),
        "deployment_config": d.get("deploymentConfigName"),
        "creator": d.get("creator"),
        "description": d.get("description"),
        "create_time": _iso(d.get("createTime")),
        "start_time": _iso(d.get("startTime")),
        "complete_time": _iso(d.get("completeTime")),
        "error_message": (str(err.get("message"))[:_ERROR_MESSAGE_LIMIT] if err.get("message") else None),
        "rollback_deployment_id": rollback.get("rollbackDeploymentId"),
        "rollback_triggering_deployment_id": rollback.get("rollbackTriggeringDeploymentId"),
        "overview": d.get("deploymentOverview"),
    }
    actor = {"user": "user", "autoscaling": "autoscaling", "codeDeployRollback": "codedeploy-rollback"}.get(
        str(d.get("creator")), d.get("creator")
    )
    out = [
        {
            "timestamp": d.get("createTime"),
            "source": "codedeploy",
            "event_name": "DeploymentCreated",
            "class": "DEPLOYMENT",
            "actor": actor,
            "resource": resource,
            "error_code": None,
            "detail": _dumps(detail),
        }
    ]
    end_name = _CODEDEPLOY_END.get(str(d.get("status")))
    if end_name and d.get("completeTime") is not None:
        out.append(
            {
                "timestamp": d.get("completeTime"),
                "source": "codedeploy",
                "event_name": end_name,
                "class": "DEPLOYMENT",
                "actor": actor,
                "resource": resource,
                "error_code": err.get("code") or ("DeploymentStopped" if end_name == "DeploymentStopped" else None),
                "detail": _dumps(detail),
            }
        )
    return out


def _fetch_lambda(win: Window, res: Mapping[str, Any], stats: _Stats, kw: Mapping[str, Any], opts: Mapping[str, Any]) -> list[dict[str, Any]]:
    functions = _names(res.get("function_name"))
    if not functions:
        return []
    client = aws.client("lambda", **kw)
    rows: list[dict[str, Any]] = []
    for named in functions:
        fn = _unqualified_function(named)  # versions and aliases are listed per function, not per alias
        versions: list[Mapping[str, Any]] = []
        params: dict[str, Any] = {"FunctionName": fn}
        seen: set[str] = set()
        while True:
            resp = _call(client, "list_versions_by_function", stats, "lambda", {"function_name": fn}, **params)
            versions.extend(resp.get("Versions") or [])
            marker = resp.get("NextMarker")
            if not marker or marker in seen:
                break
            seen.add(marker)
            params["Marker"] = marker
        aliases: list[Mapping[str, Any]] = []
        params = {"FunctionName": fn}
        seen = set()
        while True:
            resp = _call(client, "list_aliases", stats, "lambda", {"function_name": fn}, **params)
            aliases.extend(resp.get("Aliases") or [])
            marker = resp.get("NextMarker")
            if not marker or marker in seen:
                break
            seen.add(marker)
            params["Marker"] = marker
        rows.extend(_lambda_rows(fn, versions, aliases, win))
    return rows


def _unqualified_function(value: str) -> str:
    """The function's name, from any documented form (``api:live``, an ARN, a partial ARN): versions and aliases
    are listed per function, and the name is what the timeline's rows and the findings name it by.

    Example
    -------
    >>> _unqualified_function("api:live"), _unqualified_function("arn:aws:lambda:eu-west-1:123456789012:function:api:7")
    ('api', 'api')
    """
    ref = resource_ids.parse(value, "function")
    return ref.name if ref is not None and ref.kind == "function" else value


def _lambda_rows(fn: str, versions: Sequence[Mapping[str, Any]], aliases: Sequence[Mapping[str, Any]], win: Window) -> list[dict[str, Any]]:
    by_version: dict[str, list[str]] = {}
    for a in aliases:
        by_version.setdefault(str(a.get("FunctionVersion")), []).append(str(a.get("Name")))
        for extra, weight in ((a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}).items():
            by_version.setdefault(str(extra), []).append(f"{a.get('Name')} ({weight:.0%} weighted)")
    published = [v for v in versions if v.get("Version") != "$LATEST"]
    rows: list[dict[str, Any]] = []
    for v in versions:
        ts = _to_utc(v.get("LastModified"))
        if ts is pd.NaT or not (win.start <= ts < win.end):
            continue
        version = str(v.get("Version"))
        detail = {
            "function": v.get("FunctionName") or fn,
            "version": version,
            "code_sha256": v.get("CodeSha256"),
            "description": v.get("Description"),
            "aliases": by_version.get(version),
            "runtime": v.get("Runtime"),
            "memory_size": v.get("MemorySize"),
            "timeout": v.get("Timeout"),
            "state": v.get("State"),
            "last_update_status": v.get("LastUpdateStatus"),
        }
        if version == "$LATEST":
            sha = v.get("CodeSha256")
            earlier_same_code = any(p.get("CodeSha256") == sha and _to_utc(p.get("LastModified")) < ts for p in published)
            name, cls = "FunctionModified", ("CONFIG_CHANGE" if earlier_same_code else "DEPLOYMENT")
            detail["note"] = (
                "code unchanged since an earlier published version: a configuration change"
                if earlier_same_code
                else "code or configuration of $LATEST changed"
            )
        else:
            name, cls = "VersionPublished", "DEPLOYMENT"
        failed = str(v.get("LastUpdateStatus")) == "Failed"
        rows.append(
            {
                "timestamp": ts,
                "source": "lambda",
                "event_name": name,
                "class": cls,
                "actor": None,
                "resource": fn,
                "error_code": (v.get("LastUpdateStatusReasonCode") or "UpdateFailed") if failed else None,
                "detail": _dumps(detail),
            }
        )
    return rows


def _fetch_ecs(win: Window, res: Mapping[str, Any], stats: _Stats, kw: Mapping[str, Any], opts: Mapping[str, Any]) -> list[dict[str, Any]]:
    services = _names(res.get("ecs_service"))
    clusters = _names(res.get("ecs_cluster"))
    if not services:
        return []
    if len(clusters) != 1:
        raise ParameterError("ecs_service needs exactly one ecs_cluster", ecs_cluster=clusters or None)
    client = aws.client("ecs", **kw)
    rows: list[dict[str, Any]] = []
    for i in range(0, len(services), 10):
        chunk = services[i : i + 10]
        resp = _call(client, "describe_services", stats, "ecs", {"cluster": clusters[0]}, cluster=clusters[0], services=chunk)
        for f in resp.get("failures") or []:
            stats.complete = False
            stats.issues.append(f"ecs: {f.get('arn')}: {f.get('reason')} {f.get('detail') or ''}".strip())
        for svc in resp.get("services") or []:
            rows.extend(_ecs_rows(clusters[0], svc, win))
    return rows


def _ecs_rows(cluster: str, svc: Mapping[str, Any], win: Window) -> list[dict[str, Any]]:
    name = svc.get("serviceName")
    resource = f"{cluster}/{name}"
    rows: list[dict[str, Any]] = []
    for d in svc.get("deployments") or []:
        detail = {
            "deployment_id": d.get("id"),
            "status": d.get("status"),
            "rollout_state": d.get("rolloutState"),
            "rollout_state_reason": d.get("rolloutStateReason"),
            "task_definition": d.get("taskDefinition"),
            "desired": d.get("desiredCount"),
            "running": d.get("runningCount"),
            "pending": d.get("pendingCount"),
            "failed_tasks": d.get("failedTasks"),
            "created_at": _iso(d.get("createdAt")),
            "updated_at": _iso(d.get("updatedAt")),
        }
        created, updated = _to_utc(d.get("createdAt")), _to_utc(d.get("updatedAt"))
        if created is not pd.NaT and win.start <= created < win.end:
            rows.append(
                {"timestamp": created, "source": "ecs", "event_name": "ServiceDeploymentStarted", "class": "DEPLOYMENT",
                 "actor": None, "resource": resource, "error_code": None, "detail": _dumps(detail)}
            )
        state = str(d.get("rolloutState") or "")
        if state in ("COMPLETED", "FAILED") and updated is not pd.NaT and win.start <= updated < win.end:
            rows.append(
                {"timestamp": updated, "source": "ecs",
                 "event_name": "ServiceDeploymentCompleted" if state == "COMPLETED" else "ServiceDeploymentFailed",
                 "class": "DEPLOYMENT", "actor": None, "resource": resource,
                 "error_code": "RolloutFailed" if state == "FAILED" else None, "detail": _dumps(detail)}
            )
    return rows


_FETCHERS: dict[str, Callable[..., list[dict[str, Any]]]] = {
    "cloudtrail": _fetch_cloudtrail,
    "codedeploy": _fetch_codedeploy,
    "lambda": _fetch_lambda,
    "ecs": _fetch_ecs,
}
