"""The one way incidentkit makes boto3 clients — with retries and a read-only guard.

Every AWS client the kit uses comes from :func:`client`. It

* uses botocore's ``standard`` retry mode (exponential backoff with jitter) with an
  attempt budget (``max_attempts``, default 8, or ``INCIDENTKIT_MAX_ATTEMPTS``);
* honours ``endpoint_url`` (``--endpoint-url``) and botocore's own ``AWS_ENDPOINT_URL`` /
  ``AWS_ENDPOINT_URL_<SERVICE>`` variables (LocalStack, moto server, VPC endpoints);
* installs a **read-only guard**: before a request is even built, any operation that is
  not one of the read operations the kit needs (:data:`READ_OPERATIONS`) raises
  :class:`~incidentkit.errors.ReadOnlyViolation`. The only write that can ever pass is
  ``s3:PutObject`` (and its multipart calls) under an output prefix the caller named with
  ``allow_writes_to="s3://bucket/prefix"``, with only the parameters of
  :data:`S3_WRITE_PARAMETERS` (content, checksums, encryption): an ``ACL``, a ``Grant*``,
  tags, object lock or a website redirect is refused;
* lets ``logs:StopQuery`` through only for a query this process started (the query ids
  of every ``StartQuery`` a kit client made are remembered).

The IAM policy shipped in ``incidentkit/policy/readonly-iam.json`` lists exactly the IAM
actions behind :data:`READ_OPERATIONS` (a test keeps the two in step).

Example
-------
>>> from incidentkit.fetch import aws
>>> logs = aws.client("logs", region="us-east-1")          # doctest: +SKIP
>>> logs.delete_log_group(logGroupName="x")                 # doctest: +SKIP
Traceback (most recent call last):
ReadOnlyViolation: refused logs:DeleteLogGroup before sending it: incidentkit is read-only ...
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from importlib import resources
from typing import Any, Callable, Iterable, Mapping

import boto3
import botocore.config
import botocore.loaders
import botocore.session

from ..errors import CREDENTIALS_HINT, NoCredentialsError, ParameterError, ReadOnlyViolation
from . import pacing

__all__ = [
    "client",
    "profile_session",
    "retry_attempts",
    "READ_OPERATIONS",
    "S3_WRITE_OPERATIONS",
    "ATHENA_OPERATIONS",
    "AthenaScope",
    "S3_WRITE_PARAMETERS",
    "iam_action",
    "is_mutating",
    "add_call_listener",
    "remove_call_listener",
    "policy_document",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_REGION",
]

DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_REGION = "us-east-1"

#: The read operations the kit makes, by boto3 service name. Anything else is refused.
READ_OPERATIONS: dict[str, frozenset[str]] = {
    "logs": frozenset(
        {
            "FilterLogEvents",
            "GetLogEvents",
            "DescribeLogGroups",
            "DescribeLogStreams",
            "StartQuery",  # runs a read-only Logs Insights query
            "GetQueryResults",
            "StopQuery",  # stops the kit's own query when it gives up waiting
        }
    ),
    "cloudwatch": frozenset(
        {"GetMetricData", "ListMetrics", "DescribeAlarms", "DescribeAlarmHistory", "DescribeAlarmsForMetric"}
    ),
    "cloudtrail": frozenset({"LookupEvents"}),
    "codedeploy": frozenset(
        {"ListApplications", "ListDeploymentGroups", "ListDeployments", "BatchGetDeployments", "GetDeployment"}
    ),
    "lambda": frozenset(
        {
            "GetFunction",
            "GetFunctionConfiguration",
            "GetFunctionConcurrency",
            "ListVersionsByFunction",
            "ListAliases",
            "ListProvisionedConcurrencyConfigs",
            "GetProvisionedConcurrencyConfig",
            "GetAccountSettings",
        }
    ),
    "ecs": frozenset({"DescribeServices", "DescribeClusters", "ListServices"}),
    "elbv2": frozenset(
        {
            "DescribeLoadBalancers",
            "DescribeLoadBalancerAttributes",
            "DescribeTargetGroups",
            "DescribeTargetGroupAttributes",
            "DescribeTargetHealth",
            "DescribeListeners",
        }
    ),
    "dynamodb": frozenset({"DescribeTable", "ListTables"}),
    "application-autoscaling": frozenset({"DescribeScalableTargets", "DescribeScalingPolicies"}),
    "rds": frozenset(
        {"DescribeDBInstances", "DescribeDBParameters", "DescribeEvents", "DescribePendingMaintenanceActions"}
    ),
    "route53": frozenset(
        {"GetHealthCheck", "ListHealthChecks", "GetHealthCheckStatus", "GetHealthCheckLastFailureReason"}
    ),
    "ec2": frozenset({"DescribeSecurityGroups", "DescribeSecurityGroupRules", "DescribeInstances", "DescribeFlowLogs"}),
    "apigateway": frozenset({"GetStage", "GetStages", "GetRestApi", "GetRestApis"}),
    "apigatewayv2": frozenset({"GetStage", "GetStages", "GetApi", "GetApis"}),
    "sts": frozenset({"GetCallerIdentity"}),
    "s3": frozenset({"GetObject", "HeadObject", "ListObjectsV2"}),
    # where a distribution and a web ACL write their logs (incidentkit.fetch.s3logs.discover)
    "cloudfront": frozenset({"GetDistributionConfig"}),
    "wafv2": frozenset({"GetLoggingConfiguration"}),
    # no plain reads: Athena calls pass only through the narrow exception of ATHENA_OPERATIONS
    "athena": frozenset(),
}

#: Athena calls allowed only on a client made with ``athena=AthenaScope(...)``: queries that read
#: (``SELECT``/``WITH``; ``CREATE EXTERNAL TABLE`` in the named database only when the scope allows
#: DDL) with results going only to the named ``s3://`` location / workgroup, and the status and
#: results of the queries this process started.
ATHENA_OPERATIONS = frozenset({"StartQueryExecution", "GetQueryExecution", "GetQueryResults"})

#: What Athena itself reads in the Glue catalog when it runs a query on a table (IAM actions the
#: caller needs; the kit makes no Glue call of its own).
ATHENA_CATALOG_ACTIONS = ("glue:GetDatabase", "glue:GetTable")

#: S3 write operations allowed only under the configured output prefix.
S3_WRITE_OPERATIONS = frozenset(
    {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "AbortMultipartUpload"}
)
#: The only parameters those writes may carry (plus any ``Checksum*``): what to write, where,
#: and how it is encrypted. Everything that would change who can read the object (``ACL``,
#: ``GrantRead``, ``GrantFullControl``...), tag it, lock it or redirect it is refused.
S3_WRITE_PARAMETERS = frozenset(
    {
        "Bucket", "Key", "Body", "ContentType", "ContentLength", "ContentMD5", "ContentEncoding", "ContentLanguage",
        "ContentDisposition", "CacheControl", "Expires", "Metadata", "ServerSideEncryption", "SSEKMSKeyId",
        "SSEKMSEncryptionContext", "BucketKeyEnabled", "SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5",
        "ExpectedBucketOwner", "IfMatch", "IfNoneMatch", "UploadId", "PartNumber", "MultipartUpload", "MpuObjectSize",
        "IfMatchInitiatedTime",
    }
)  # fmt: skip

_MUTATING_PREFIXES = (
    "Put", "Create", "Delete", "Update", "Modify", "Authorize", "Revoke", "Start", "Stop", "Attach",
    "Detach", "Associate", "Disassociate", "Register", "Deregister", "Set", "Add", "Remove", "Tag",
    "Untag", "Enable", "Disable", "Reboot", "Terminate", "Run", "Invoke", "Publish", "Send", "Restore",
    "Reset", "Replace", "Import", "Copy", "Upload", "Complete", "Abort", "Cancel", "Accept", "Reject",
    "Apply", "Execute", "Increase", "Decrease", "Purchase", "Release", "Allocate", "Rotate", "Promote",
    "Failover", "Flush", "Test", "Batch", "Upgrade", "Change", "Allow", "Continue", "Subscribe",
    "Unsubscribe", "Retire", "Revert", "Rollback", "Undeploy", "Deploy", "Schedule",
)
# Read operations whose names look mutating.
_READ_DESPITE_NAME = frozenset({"StartQuery", "TestEventPattern", "BatchGetDeployments", "BatchGetItem"})

# IAM action names where they differ from "<prefix>:<Operation>".
_IAM_PREFIX = {
    "cloudwatch": "cloudwatch",
    "elbv2": "elasticloadbalancing",
    "apigatewayv2": "apigateway",
    "application-autoscaling": "application-autoscaling",
}
_IAM_SPECIAL = {
    ("apigateway", "GetStage"): "apigateway:GET",
    ("apigateway", "GetStages"): "apigateway:GET",
    ("apigateway", "GetRestApi"): "apigateway:GET",
    ("apigateway", "GetRestApis"): "apigateway:GET",
    ("apigatewayv2", "GetStage"): "apigateway:GET",
    ("apigatewayv2", "GetStages"): "apigateway:GET",
    ("apigatewayv2", "GetApi"): "apigateway:GET",
    ("apigatewayv2", "GetApis"): "apigateway:GET",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
    ("lambda", "GetProvisionedConcurrencyConfig"): "lambda:GetProvisionedConcurrencyConfig",
}


def iam_action(service: str, operation: str) -> str:
    """The IAM action that authorises ``service``'s ``operation``.

    Example
    -------
    >>> iam_action("elbv2", "DescribeTargetHealth")
    'elasticloadbalancing:DescribeTargetHealth'
    >>> iam_action("apigateway", "GetStage")
    'apigateway:GET'
    """
    special = _IAM_SPECIAL.get((service, operation))
    if special:
        return special
    return f"{_IAM_PREFIX.get(service, service)}:{operation}"


def is_mutating(operation: str) -> bool:
    """Whether an operation name has the shape of a write (``Put*``, ``Delete*``, ...).

    Example
    -------
    >>> is_mutating("PutMetricData"), is_mutating("StartQuery"), is_mutating("DescribeTable")
    (True, False, False)
    """
    if operation in _READ_DESPITE_NAME:
        return False
    return operation.startswith(_MUTATING_PREFIXES)


def policy_document() -> dict[str, Any]:
    """The shipped least-privilege IAM policy (``incidentkit/policy/readonly-iam.json``)."""
    text = resources.files("incidentkit").joinpath("policy/readonly-iam.json").read_text(encoding="utf-8")
    return json.loads(text)


# --- call listeners -------------------------------------------------------------------------------

CallListener = Callable[[str, str, dict], None]
_listeners: list[CallListener] = []
_listeners_lock = threading.Lock()


def add_call_listener(listener: CallListener) -> None:
    """Call ``listener(service, operation, params)`` before every allowed AWS call.

    Used to audit which operations the kit makes (the test suite checks each against
    the IAM policy). Listeners must be fast and must not raise.
    """
    with _listeners_lock:
        _listeners.append(listener)


def remove_call_listener(listener: CallListener) -> None:
    """Undo :func:`add_call_listener`."""
    with _listeners_lock:
        if listener in _listeners:
            _listeners.remove(listener)


# --- the guard ------------------------------------------------------------------------------------


def _parse_s3_prefix(url: str) -> tuple[str, str]:
    if not url.startswith("s3://"):
        raise ParameterError(f"allow_writes_to must be an s3://bucket/prefix URL, got {url!r}")
    rest = url[5:]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ParameterError(f"allow_writes_to must name a bucket: {url!r}")
    if prefix and not prefix.endswith("/"):
        prefix += "/"  # s3://b/reports allows reports/..., not reports-other/...
    return bucket, prefix


class _StartedQueries:
    """Ids of the Logs Insights queries this process started (bounded: the most recent)."""

    LIMIT = 100_000

    def __init__(self) -> None:
        self._ids: dict[str, None] = {}
        self._lock = threading.Lock()

    def add(self, query_id: str) -> None:
        with self._lock:
            self._ids[query_id] = None
            while len(self._ids) > self.LIMIT:
                del self._ids[next(iter(self._ids))]

    def __contains__(self, query_id: object) -> bool:
        with self._lock:
            return query_id in self._ids


_started_queries = _StartedQueries()


def _remember_query(parsed: Mapping[str, Any] | None = None, **_: Any) -> None:
    """``after-call.logs.StartQuery``: remember the id, so StopQuery may stop this query (and only ours)."""
    query_id = (parsed or {}).get("queryId")
    if isinstance(query_id, str) and query_id:
        _started_queries.add(query_id)


class AthenaScope:
    """Where the kit's Athena queries may run and write: ``output`` (``s3://bucket/prefix``, the
    result location), ``workgroup``, ``database``; ``allow_ddl`` lets ``CREATE EXTERNAL TABLE``
    through in that database (only when the user asked for it).

    Example
    -------
    >>> AthenaScope(output="s3://athena-results/incidentkit/", database="logs").check_query("SELECT 1")
    """

    _READ = re.compile(r"^\s*(?:--[^\n]*\n\s*)*(?:SELECT|WITH)\b", re.IGNORECASE)
    _DDL = re.compile(r"^\s*CREATE\s+EXTERNAL\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(?P<db>\w+)`?\.", re.IGNORECASE)

    def __init__(self, *, output: str | None = None, workgroup: str | None = None, database: str | None = None,
                 allow_ddl: bool = False) -> None:
        if not output and not workgroup:
            raise ParameterError("Athena needs a result location (athena_output=s3://bucket/prefix) or a workgroup that has one")
        self.output = _parse_s3_prefix(output) if output else None
        self.workgroup, self.database, self.allow_ddl = workgroup, database, allow_ddl
        self.started = _StartedQueries()

    def check_query(self, sql: str) -> None:
        body = sql.strip().rstrip(";")
        if ";" in body:
            raise ReadOnlyViolation("refused athena:StartQueryExecution: one statement per query", service="athena",
                                    operation="StartQueryExecution")
        ddl = self._DDL.match(body)
        if self._READ.match(body) or (ddl and self.allow_ddl and ddl["db"] == self.database):
            return
        why = "DDL only when asked for (athena_ddl=true), in the named database" if ddl else "the kit's queries only read"
        raise ReadOnlyViolation(f"refused athena:StartQueryExecution before sending it: {why}", service="athena",
                                operation="StartQueryExecution")

    def check(self, op: str, params: dict) -> None:
        if op != "StartQueryExecution":
            if params.get("QueryExecutionId") not in self.started:
                raise ReadOnlyViolation(f"refused athena:{op}: incidentkit reads only the queries it started", service="athena",
                                        operation=op)
            return
        self.check_query(str(params.get("QueryString", "")))
        where = str((params.get("ResultConfiguration") or {}).get("OutputLocation", ""))
        if self.output and not where.startswith(f"s3://{self.output[0]}/{self.output[1]}"):
            raise ReadOnlyViolation(f"refused athena:StartQueryExecution: results may go only under s3://{self.output[0]}/{self.output[1]}",
                                    service="athena", operation=op)
        if self.workgroup and params.get("WorkGroup") != self.workgroup:
            raise ReadOnlyViolation(f"refused athena:StartQueryExecution outside workgroup {self.workgroup}", service="athena", operation=op)

    def remember(self, parsed: Mapping[str, Any] | None = None, **_: Any) -> None:
        """``after-call.athena.StartQueryExecution``: remember the id (its status and results may be read)."""
        qid = (parsed or {}).get("QueryExecutionId")
        if isinstance(qid, str) and qid:
            self.started.add(qid)


class _Guard:
    """Refuses, before a request is built, every operation the kit must not make."""

    def __init__(self, service: str, allow_writes_to: str | None, athena: AthenaScope | None = None) -> None:
        self.service = service
        self.allowed = READ_OPERATIONS.get(service, frozenset())
        self.write_target = _parse_s3_prefix(allow_writes_to) if allow_writes_to else None
        self.athena = athena

    def __call__(self, params: dict, model: Any, **_: Any) -> None:
        op = model.name
        if op == "StopQuery" and self.service == "logs" and params.get("queryId") not in _started_queries:
            raise ReadOnlyViolation(
                f"refused logs:StopQuery of query {str(params.get('queryId'))[:80]!r} before sending it: "
                "incidentkit stops only the queries it started itself",
                service=self.service,
                operation=op,
            )
        if op in self.allowed:  # the curated allow-list is authoritative
            self._notify(op, params)
            return
        if self.service == "athena" and op in ATHENA_OPERATIONS and self.athena is not None:
            self.athena.check(op, params)
            self._notify(op, params)
            return
        if self.service == "s3" and op in S3_WRITE_OPERATIONS and self.write_target:
            self._check_write(op, params)
            self._notify(op, params)
            return
        why = "it would change AWS resources" if is_mutating(op) else "it is not one of the read calls the kit makes"
        raise ReadOnlyViolation(
            f"refused {iam_action(self.service, op)} before sending it: incidentkit is read-only and {why}",
            service=self.service,
            operation=op,
        )

    def _check_write(self, op: str, params: dict) -> None:
        """An S3 write passes only under the output prefix, with content and encryption parameters only."""
        bucket, prefix = self.write_target  # type: ignore[misc]
        key = str(params.get("Key", ""))
        if not (params.get("Bucket") == bucket and key.startswith(prefix) and ".." not in key.split("/")):
            raise ReadOnlyViolation(
                f"refused s3:{op} to s3://{params.get('Bucket')}/{key} before sending it: "
                f"the only writes allowed go under s3://{bucket}/{prefix}",
                service=self.service,
                operation=op,
            )
        extra = sorted(k for k, v in params.items() if v is not None and k not in S3_WRITE_PARAMETERS
                       and not k.startswith("Checksum"))  # fmt: skip
        if extra:
            raise ReadOnlyViolation(
                f"refused s3:{op} with {', '.join(extra)} before sending it: the kit writes reports with content and "
                "encryption parameters only (who may read them is the bucket policy's business, never an ACL)",
                service=self.service,
                operation=op,
            )

    def _notify(self, op: str, params: dict) -> None:
        with _listeners_lock:
            listeners = list(_listeners)
        for listener in listeners:
            listener(self.service, op, params)


# --- clients --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _shared_loader(data_path: str | None) -> Any:
    """botocore's data loader, shared by the sessions the kit makes (it caches the parsed service models).

    A new ``boto3.Session`` parses each service's JSON model again (~0.3 s a client);
    sharing the loader made ``run --from-event`` (6 clients) 1.4 s -> 0.26 s in process.
    """
    return botocore.loaders.create_loader(data_path)


def profile_session(profile: str | None = None) -> boto3.Session:
    """A boto3 session from the standard chain, or from a named ``profile``.

    Raises
    ------
    NoCredentialsError
        When the profile is not configured (one line naming it and the fix).

    Example
    -------
    >>> profile_session("no-such-profile-xyz")              # doctest: +SKIP
    Traceback (most recent call last):
    NoCredentialsError: AWS profile 'no-such-profile-xyz' is not configured: configure credentials ...
    """
    import botocore.exceptions as bx

    try:
        core = botocore.session.Session(profile=profile or None)
        core.register_component("data_loader", _shared_loader(core.get_config_variable("data_path")))  # reads the profile
        return boto3.Session(botocore_session=core)
    except bx.ProfileNotFound:
        raise NoCredentialsError(f"AWS profile {profile!r} is not configured: {CREDENTIALS_HINT}") from None


def _max_attempts(value: int | None) -> int:
    if value is None:
        env = os.environ.get("INCIDENTKIT_MAX_ATTEMPTS")
        if env:
            try:
                value = int(env)
            except ValueError as exc:
                raise ParameterError(f"INCIDENTKIT_MAX_ATTEMPTS={env!r} is not a whole number") from exc
        else:
            value = DEFAULT_MAX_ATTEMPTS
    if not 1 <= value <= 50:
        raise ParameterError(f"max_attempts={value} is out of range; use 1 to 50")
    return value


def client(
    service: str,
    *,
    session: boto3.Session | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int | None = None,
    allow_writes_to: str | None = None,
    profile: str | None = None,
    athena: AthenaScope | None = None,
) -> Any:
    """Make a guarded boto3 client.

    Parameters
    ----------
    service:
        boto3 service name (``logs``, ``cloudwatch``, ``elbv2``...).
    session:
        A ``boto3.Session`` to use (default: a new one from the standard chain, or
        ``profile``).
    region:
        Region; default the session's, else ``AWS_REGION``/``AWS_DEFAULT_REGION``, else
        ``us-east-1`` when an endpoint URL points at an emulator.
    endpoint_url:
        Override the endpoint (LocalStack, moto server, VPC endpoint). When ``None``,
        botocore reads ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` itself.
    max_attempts:
        Total attempts per call including retries (standard mode); default 8.
    allow_writes_to:
        ``s3://bucket/prefix`` under which ``PutObject`` may write (reports only).
    profile:
        A named profile, when no ``session`` is given.
    athena:
        For an ``athena`` client: where its queries may run and write (:class:`AthenaScope`).

    Returns
    -------
    botocore.client.BaseClient
        The client; mutating calls raise :class:`~incidentkit.errors.ReadOnlyViolation`.

    Example
    -------
    >>> c = client("logs", region="eu-west-1", endpoint_url="http://127.0.0.1:5000")
    >>> c.meta.region_name
    'eu-west-1'
    """
    if service not in READ_OPERATIONS:
        raise ParameterError(f"incidentkit does not read from AWS service {service!r}")
    if session is None:
        session = profile_session(profile)
    resolved_region = region or session.region_name
    if not resolved_region and (endpoint_url or os.environ.get("AWS_ENDPOINT_URL")):
        resolved_region = DEFAULT_REGION
    config = botocore.config.Config(
        retries={"mode": "standard", "total_max_attempts": _max_attempts(max_attempts)},
        user_agent_extra="incidentkit",
        connect_timeout=10,
        read_timeout=70,
        max_pool_connections=32,
    )
    made = session.client(service, region_name=resolved_region, endpoint_url=endpoint_url, config=config)
    made.meta.events.register("before-parameter-build", _Guard(service, allow_writes_to, athena))
    if service == "athena" and athena is not None:
        made.meta.events.register("after-call.athena.StartQueryExecution", athena.remember)
    if service == "logs":
        made.meta.events.register("after-call.logs.StartQuery", _remember_query)
    # every attempt of a metered action waits for the run's shared budget of its Region and account
    pacing.pace_client(made, credentials=_session_credentials(session))
    return made


def _session_credentials(session: Any) -> Any:
    """The botocore credentials a client of ``session`` signs with (the session's, cached), or None.

    The client just made resolved them already, so this is a cache read, never a call.
    """
    try:
        return session.get_credentials()
    except Exception:  # noqa: BLE001 - the credentials' own failure surfaces at the first call, as it would anyway
        return None


def retry_attempts(response: Mapping[str, Any] | None) -> int:
    """The retries botocore made for one call (``ResponseMetadata.RetryAttempts``; 0 when absent).

    Works on a response and on ``ClientError.response`` alike: the kit sums it into the
    ``retries`` provenance of every frame.

    Example
    -------
    >>> retry_attempts({"ResponseMetadata": {"RetryAttempts": 2}}), retry_attempts(None)
    (2, 0)
    """
    meta = (response or {}).get("ResponseMetadata") or {}
    try:
        return int(meta.get("RetryAttempts") or 0)
    except (TypeError, ValueError):
        return 0


def services() -> Iterable[str]:
    """The boto3 services the kit reads from."""
    return READ_OPERATIONS.keys()


def policy_from_operations() -> dict[str, Any]:
    """The least-privilege IAM policy implied by :data:`READ_OPERATIONS`.

    ``incidentkit/policy/readonly-iam.json`` must equal this (a test checks it); after
    adding an operation, regenerate the file with :func:`write_policy`.
    """
    actions = sorted({iam_action(s, o) for s, ops in READ_OPERATIONS.items() for o in ops})
    athena = sorted({iam_action("athena", o) for o in ATHENA_OPERATIONS} | set(ATHENA_CATALOG_ACTIONS))
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "IncidentKitReadOnly", "Effect": "Allow", "Action": actions, "Resource": "*"},
            # optional: only for -p athena=auto|always; Athena also needs s3:PutObject on the result location,
            # which this policy never grants (SECURITY.md, "Athena")
            {"Sid": "IncidentKitAthenaQueries", "Effect": "Allow", "Action": athena, "Resource": "*"},
        ],
    }


def write_policy(path: str | os.PathLike[str] | None = None) -> None:
    """Write :func:`policy_from_operations` to the shipped policy file (a maintainer's tool)."""
    target = path or os.path.join(os.path.dirname(__file__), "policy", "readonly-iam.json")
    with open(target, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(policy_from_operations(), indent=2) + "\n")
