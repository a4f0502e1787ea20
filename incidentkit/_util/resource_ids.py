"""AWS resource identifiers in every form AWS documents, reduced to one comparable identity.

The same resource reaches the kit in several spellings: a user passes a Lambda function as
``api``, ``api:live`` or its ARN; CloudTrail names it by ARN in one call and by name in the
next; CloudWatch names a load balancer ``app/web/50dc6c495c0c9188`` while DescribeLoadBalancers
wants ``web`` or the ARN. :func:`parse` turns any of these into a :class:`ResourceRef`, and
:meth:`ResourceRef.matches` says whether two spellings name the same resource.

Forms understood (kind: forms)

* ``function``: ``name``, ``name:qualifier`` (alias or version), the function ARN (with or
  without a qualifier), the partial ARN ``123456789012:function:name[:qualifier]``;
* ``table``: ``name``, the table ARN (``.../table/name``, with ``/index/<gsi>`` or
  ``/stream/<label>``);
* ``load_balancer``: ``name``, ``app/<name>/<id>`` (also ``net/``, ``gwy/``; the CloudWatch
  ``LoadBalancer`` dimension), ``loadbalancer/app/<name>/<id>``, the ARN;
* ``target_group``: ``name``, ``targetgroup/<name>/<id>`` (the ``TargetGroup`` dimension), the ARN;
* ``security_group`` (``sg-...``), ``network_acl`` (``acl-...``), ``instance`` (``i-...``) and
  their EC2 ARNs;
* ``ecs_service``: ``name``, ``cluster/name``, the ARN (``service/cluster/name`` and the old
  ``service/name``);
* ``db_instance``: identifier or ``arn:...:rds:...:db:<id>``; ``health_check``: id or
  ``arn:aws:route53:::healthcheck/<id>``; ``stack``: name or CloudFormation stack ARN;
* any other ARN keeps its service and resource path (``kind`` = ``<service>:<type>``).

Example
-------
>>> a = parse("arn:aws:lambda:eu-west-1:123456789012:function:catalog-search:live")
>>> a.kind, a.name, a.qualifier, a.label
('function', 'catalog-search', 'live', 'catalog-search:live')
>>> a.matches(parse("catalog-search", "function"))
True
>>> parse("app/web/50dc6c495c0c9188", "load_balancer").matches(
...     parse("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"))
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Iterable

__all__ = ["ResourceRef", "KINDS", "parse", "parse_many", "from_arn", "same_resource", "names"]

#: The kinds :func:`parse` knows by name (other ARNs get ``<service>:<type>``).
KINDS = (
    "function",
    "table",
    "load_balancer",
    "target_group",
    "security_group",
    "network_acl",
    "instance",
    "ecs_service",
    "ecs_cluster",
    "task_definition",
    "db_instance",
    "db_cluster",
    "db_parameter_group",
    "health_check",
    "api",
    "stack",
    "deployment_group",
    "event_source_mapping",
    "alarm",
)


@dataclass(frozen=True)
class ResourceRef:
    """One resource, whatever spelling named it.

    Attributes
    ----------
    kind:
        One of :data:`KINDS`, or ``<service>:<type>`` for an ARN of another kind.
    name:
        The resource's own name or id (function name, table name, load-balancer name,
        ``sg-...``, service name...).
    qualifier:
        A part of the resource, when named: a function's alias or version, a table's index,
        an API's stage.
    scope:
        What the name is unique within, when known and needed: an ECS service's cluster.
    unique_id:
        The id AWS appends to a load balancer's or target group's name.
    region, account:
        From an ARN, when given.
    """

    kind: str
    name: str
    qualifier: str | None = None
    scope: str | None = None
    unique_id: str | None = None
    region: str | None = None
    account: str | None = None

    @property
    def label(self) -> str:
        """How a report names it: ``catalog-search:live``, ``orders``, ``prod/billing-api``, ``sg-0abc``."""
        if self.kind == "ecs_service" and self.scope:
            return f"{self.scope}/{self.name}"
        if self.kind == "table" and self.qualifier:
            return f"{self.name}/index/{self.qualifier}"
        if self.kind == "api" and self.qualifier:
            return f"{self.name}/{self.qualifier}"
        if self.kind == "deployment_group" and self.scope:
            return f"{self.scope}/{self.name}"
        if self.qualifier and self.kind == "function":
            return f"{self.name}:{self.qualifier}"
        return self.name

    @property
    def dimension(self) -> str | None:
        """The CloudWatch dimension value of a load balancer (``app/name/id``) or target group
        (``targetgroup/name/id``); None when the id is not known."""
        if self.kind == "load_balancer" and self.unique_id:
            return f"{self.qualifier or 'app'}/{self.name}/{self.unique_id}"
        if self.kind == "target_group" and self.unique_id:
            return f"targetgroup/{self.name}/{self.unique_id}"
        return None

    def matches(self, other: "ResourceRef | None", *, qualifier: bool = True) -> bool:
        """Whether ``other`` names the same resource.

        Kinds and names must agree; every other part (qualifier, scope, id, region, account)
        must agree where both sides know it. With ``qualifier=False`` a function's alias or a
        table's index is ignored (a change to one alias of a function concerns the function).

        Example
        -------
        >>> parse("api:live", "function").matches(parse("api:blue", "function"))
        False
        >>> parse("api:live", "function").matches(parse("api", "function"))
        True
        """
        if other is None or self.kind != other.kind:
            return False
        fold = self.kind in ("load_balancer", "target_group")  # ELB names are case-insensitive
        if (self.name.lower() != other.name.lower()) if fold else (self.name != other.name):
            return False
        parts = ["scope", "unique_id", "region", "account"] + (["qualifier"] if qualifier else [])
        for part in parts:
            a, b = getattr(self, part), getattr(other, part)
            if a and b and (a.lower() != b.lower() if fold or part == "unique_id" else a != b):
                return False
        return True

    def without_qualifier(self) -> "ResourceRef":
        """The same resource without its alias, version, index or stage."""
        return replace(self, qualifier=None) if self.kind != "load_balancer" else self


# --------------------------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------------------------

_ARN = re.compile(r"^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:(.+)$")
_LAMBDA_PARTIAL = re.compile(r"^(?:(\d{12}):)?function:([A-Za-z0-9_-]{1,64})(?::([A-Za-z0-9_$-]+))?$")
_LAMBDA_NAME = re.compile(r"^([A-Za-z0-9_-]{1,64})(?::([A-Za-z0-9_$-]+))?$")
_LB_PATH = re.compile(r"^(?:loadbalancer/)?(app|net|gwy)/([^/\s]+)/([0-9a-fA-F]+)$")
_TG_PATH = re.compile(r"^(?:targetgroup/)([^/\s]+)/([0-9a-fA-F]+)$")
_BY_PREFIX = (("sg-", "security_group"), ("acl-", "network_acl"), ("i-", "instance"))


def _arn_resource(service: str, path: str) -> tuple[str, str, str | None, str | None, str | None] | None:
    """``(kind, name, qualifier, scope, unique_id)`` of an ARN's resource part, for the kinds known by name."""
    if service == "lambda":
        m = re.match(r"^function:([^:]+)(?::(.+))?$", path)
        if m:
            return "function", m.group(1), m.group(2), None, None
        m = re.match(r"^event-source-mapping:(.+)$", path)
        return ("event_source_mapping", m.group(1), None, None, None) if m else None
    if service == "dynamodb":
        m = re.match(r"^table/([^/]+)(?:/index/([^/]+)|/stream/[^/]+)?$", path)
        return ("table", m.group(1), m.group(2), None, None) if m else None
    if service == "elasticloadbalancing":
        m = _LB_PATH.match(path)
        if m:
            return "load_balancer", m.group(2), m.group(1), None, m.group(3)
        m = _TG_PATH.match(path)
        return ("target_group", m.group(1), None, None, m.group(2)) if m else None
    if service == "ec2":
        for prefix, kind in (("security-group/", "security_group"), ("network-acl/", "network_acl"), ("instance/", "instance")):
            if path.startswith(prefix):
                return kind, path[len(prefix):], None, None, None
        return None
    if service == "ecs":
        parts = path.split("/")
        if parts[0] == "service" and len(parts) == 3:
            return "ecs_service", parts[2], None, parts[1], None
        if parts[0] == "service" and len(parts) == 2:
            return "ecs_service", parts[1], None, None, None
        if parts[0] == "cluster" and len(parts) == 2:
            return "ecs_cluster", parts[1], None, None, None
        if parts[0] == "task-definition" and len(parts) == 2:
            return "task_definition", parts[1].split(":")[0], parts[1].partition(":")[2] or None, None, None
        return None
    if service == "rds":
        kind = {"db": "db_instance", "cluster": "db_cluster", "pg": "db_parameter_group", "cluster-pg": "db_parameter_group"}
        head, _, rest = path.partition(":")
        return (kind[head], rest, None, None, None) if head in kind and rest else None
    if service == "route53" and path.startswith("healthcheck/"):
        return "health_check", path.split("/", 1)[1], None, None, None
    if service == "cloudformation" and path.startswith("stack/"):
        return "stack", path.split("/")[1], None, None, None
    if service == "cloudwatch" and path.startswith("alarm:"):
        return "alarm", path.split(":", 1)[1], None, None, None
    if service == "codedeploy" and path.startswith("deploymentgroup:"):
        app, _, group = path.split(":", 1)[1].partition("/")
        return "deployment_group", group or app, None, app if group else None, None
    return None


def from_arn(arn: str) -> ResourceRef | None:
    """A :class:`ResourceRef` from any ARN; None when ``arn`` is not one.

    Example
    -------
    >>> from_arn("arn:aws:dynamodb:eu-central-1:123456789012:table/orders/index/by-day").label
    'orders/index/by-day'
    >>> from_arn("arn:aws:sqs:us-east-1:123456789012:jobs").kind
    'sqs:jobs'
    """
    m = _ARN.match(str(arn).strip())
    if not m:
        return None
    _, service, region, account, path = m.groups()
    known = _arn_resource(service, path)
    if known is None:
        kind = f"{service}:{re.split(r'[/:]', path, maxsplit=1)[0]}"
        return ResourceRef(kind, path, region=region or None, account=account or None)
    kind, name, qualifier, scope, uid = known
    return ResourceRef(kind, name, qualifier, scope, uid, region or None, account or None)


def _by_kind(text: str, kind: str) -> ResourceRef | None:
    if kind == "function":
        m = _LAMBDA_PARTIAL.match(text)
        if m:
            return ResourceRef("function", m.group(2), m.group(3), account=m.group(1))
        m = _LAMBDA_NAME.match(text)
        return ResourceRef("function", m.group(1), m.group(2)) if m else None
    if kind == "load_balancer":
        m = _LB_PATH.match(text)
        if m:
            return ResourceRef("load_balancer", m.group(2), m.group(1), unique_id=m.group(3))
        return ResourceRef("load_balancer", text) if "/" not in text else None
    if kind == "target_group":
        m = _TG_PATH.match(text)
        if m:
            return ResourceRef("target_group", m.group(1), unique_id=m.group(2))
        return ResourceRef("target_group", text) if "/" not in text else None
    if kind == "table":
        name, _, index = text.partition("/index/")
        return ResourceRef("table", name, index or None) if name and "/" not in name else None
    if kind == "ecs_service":
        cluster, _, service = text.rpartition("/")
        return ResourceRef("ecs_service", service, scope=cluster or None)
    if kind == "api":
        api, _, stage = text.partition("/")
        return ResourceRef("api", api, stage or None)
    if kind == "deployment_group":
        app, _, group = text.partition("/")
        return ResourceRef("deployment_group", group or app, scope=app if group else None)
    return ResourceRef(kind, text)


def parse(value: Any, kind: str | None = None) -> ResourceRef | None:
    """The identity of ``value``, read as a ``kind`` (or guessed from its form).

    Parameters
    ----------
    value:
        An ARN, a name, or one of the documented short forms (see the module docstring).
    kind:
        What ``value`` names when its form does not say (a bare ``orders`` could be a table
        or a function). Without it, only ARNs and self-describing forms (``sg-``, ``acl-``,
        ``i-``, ``app/<name>/<id>``, ``targetgroup/<name>/<id>``) are understood.

    Returns
    -------
    ResourceRef or None
        None for empty input or a form that names nothing of ``kind``. An ARN of another kind
        than ``kind`` is returned as what it is (its ``kind`` says so).

    Example
    -------
    >>> parse("123456789012:function:api:7").label, parse("targetgroup/web-tg/73e2d6bc24d8a067").name
    ('api:7', 'web-tg')
    >>> parse("prod/billing-api", "ecs_service").scope
    'prod'
    """
    if value is None or not isinstance(value, str):
        return None
    text = value.strip()
    if not text or text in ("(all)", "<NA>", "nan", "None"):
        return None
    if text.startswith("arn:"):
        return from_arn(text)
    if kind is not None:
        return _by_kind(text, kind)
    for prefix, guessed in _BY_PREFIX:
        if text.startswith(prefix) and re.fullmatch(r"[a-z]+-[0-9a-f]{8,17}", text):
            return ResourceRef(guessed, text)
    if _LB_PATH.match(text):
        return _by_kind(text, "load_balancer")
    if _TG_PATH.match(text):
        return _by_kind(text, "target_group")
    if _LAMBDA_PARTIAL.match(text) and ":function:" in f":{text}":
        return _by_kind(text, "function")
    return None


def parse_many(values: Any, kind: str | None = None) -> list[ResourceRef]:
    """:func:`parse` over a value, a comma-separated string or a list; what names nothing is left out.

    Example
    -------
    >>> [r.label for r in parse_many("sg-0a1b2c3d, sg-0e5f6a7b")]
    ['sg-0a1b2c3d', 'sg-0e5f6a7b']
    """
    if values is None:
        return []
    items: Iterable[Any] = values.split(",") if isinstance(values, str) else values
    out = []
    for item in items:
        ref = parse(item.strip() if isinstance(item, str) else item, kind)
        if ref is not None and ref not in out:
            out.append(ref)
    return out


def same_resource(a: Any, b: Any, kind: str | None = None) -> bool:
    """Whether two spellings (text or :class:`ResourceRef`) name the same resource.

    Example
    -------
    >>> same_resource("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/3c9e", "targetgroup/web/3c9e")
    True
    >>> same_resource("targetgroup/web/3c9e", "targetgroup/web/77aa")     # same name, another group
    False
    """
    ra = a if isinstance(a, ResourceRef) else parse(a, kind)
    rb = b if isinstance(b, ResourceRef) else parse(b, kind)
    return ra is not None and ra.matches(rb)


def names(value: Any) -> list[str]:
    """A resource parameter as a list of names: one name, a comma-separated string or a (nested) list.

    Blanks are dropped and each name kept once, in the order given, so a resource named twice is
    read (and its changes counted) once.

    Example
    -------
    >>> names("api, worker"), names(["a", "b,c", "a"]), names(None)
    (['api', 'worker'], ['a', 'b', 'c'], [])
    """
    if value is None:
        return []
    if isinstance(value, str):
        out = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, Iterable):
        out = [name for v in value for name in names(v)]
    else:
        out = [str(value)]
    return list(dict.fromkeys(out))
