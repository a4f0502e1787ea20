"""What kind of change an AWS API call is, and how it was made.

:func:`classify` maps a CloudTrail (event source, event name) to one of ``DEPLOYMENT``,
``SECURITY_CHANGE``, ``CONFIG_CHANGE``, ``SCALING``, ``IAM`` or ``OTHER``;
:func:`normalize_event_name` drops the API version suffix CloudTrail adds; :func:`changed_by`
tells infrastructure as code, a pipeline or an AWS service from a person's console, CLI or SDK
call. Re-exported by :mod:`incidentkit.fetch.changes`.

Example
-------
>>> classify("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"), normalize_event_name("UpdateFunctionCode20150331v2")
('SECURITY_CHANGE', 'UpdateFunctionCode')
"""

from __future__ import annotations

import re
from typing import Any, Mapping

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
