"""From a CloudWatch alarm to an investigation: window, baseline and template parameters.

A postmortem is auto-generated only when nobody has to type the window and the
resources: the alarm that paged the on-call already names them. This module reads an
alarm (by name/ARN with ``DescribeAlarms`` + ``DescribeAlarmHistory``, or from the
EventBridge "CloudWatch Alarm State Change" event AWS delivers) and derives:

* the **window**: from the ALARM transition back over the alarm's evaluation span (and to
  the last OK state when the history shows it), forward to recovery (the next OK) or now,
  with a margin on both sides;
* a **baseline** of the same length just before it;
* the **parameters**: each metric's namespace and dimensions map to the template
  parameters (``function_name``, ``load_balancer``, ``target_group_arn``, ``table_name``,
  ``db_instance``, ``api_id``, ``health_check_id``, ...). Metric-math alarms use every
  metric of the expression; composite alarms use their children that fired. Log groups
  follow where AWS's naming makes that certain (``/aws/lambda/<function>``).

What was derived, and from what, is kept in :attr:`Derivation.sources` so the runner can
print it and record it in the run's manifest.

Example
-------
>>> event = {"detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
...   "account": "123456789012", "region": "us-east-1", "time": "2026-03-01T03:10:00Z",
...   "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-errors"],
...   "detail": {"alarmName": "api-errors",
...     "state": {"value": "ALARM", "timestamp": "2026-03-01T03:10:00.000+0000"},
...     "previousState": {"value": "OK", "timestamp": "2026-02-28T09:00:00.000+0000"},
...     "configuration": {"metrics": [{"id": "m1", "returnData": True, "metricStat": {
...       "metric": {"namespace": "AWS/Lambda", "name": "Errors",
...                  "dimensions": {"FunctionName": "api-handler"}},
...       "period": 60, "stat": "Sum"}}]}}}
>>> d = derive(trigger_from_event(event), now=pd.Timestamp("2026-03-01T04:00:00Z"))
>>> d.parameters["function_name"], d.parameters["log_groups"]
('api-handler', ['/aws/lambda/api-handler'])
"""

from __future__ import annotations

import pandas as pd  # noqa: F401 - the example above uses pd

from .cloudwatch_api import describe, history, resolve_children
from .derivation import DEFAULT_MARGIN, MAX_WINDOW, MIN_LOOKBACK, derive, from_alarm  # noqa: F401 - the old module's names
from .event import trigger_from_event
from .model import Alarm, AlarmMetric, AlarmTrigger, Derivation, idempotency_key
from .parameters import parameters_for_metric

__all__ = [
    "AlarmMetric",
    "Alarm",
    "AlarmTrigger",
    "Derivation",
    "trigger_from_event",
    "describe",
    "history",
    "derive",
    "from_alarm",
    "parameters_for_metric",
    "idempotency_key",
    "resolve_children",
    "DEFAULT_MARGIN",
]
