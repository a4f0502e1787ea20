"""One helper per concept: numbers, times and the severity scale read the same in every view.

A finding's title, its card, the postmortem and the report's notes all format through
:mod:`incidentkit._util.fmt`; every severity comparison goes through :mod:`incidentkit._util.severity`.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from incidentkit._util import fmt
from incidentkit._util.severity import SEVERITIES, downgrade, severity_rank


@pytest.mark.parametrize("missing", [None, math.nan, pd.NA, pd.NaT])
def test_a_missing_value_reads_the_same_in_every_helper(missing) -> None:
    assert fmt.percent(missing) == fmt.ms(missing) == fmt.value(missing) == "—"
    assert fmt.p_value(missing) == "p = —"


def test_one_form_for_shares_latencies_and_p_values() -> None:
    # the share a title shows is the one a card shows for an evidence value named a share
    assert fmt.percent(0.289) == fmt.value(0.289, "failed_share") == "28.9%"
    assert fmt.percent(0.38, 0) == "38%" and fmt.percent(0.0004) == "< 0.1%" and fmt.percent(0.9996) == "> 99.9%"
    assert fmt.percent(0.004, 0) == "< 1%" and fmt.percent(0.0) == "0%" and fmt.percent(1.0) == "100%"
    assert fmt.ms(7830.13) == "7.8 s" and fmt.ms(999.4) == "999 ms" and fmt.ms(125_000) == "125.0 s"
    assert fmt.p_value(0.0) == "p < 0.001" and fmt.p_value(0.004) == "p = 0.004" and fmt.p_value(0.03) == "p = 0.03"
    assert fmt.clock(pd.Timestamp("2026-03-10T03:47:12+01:00")) == "2026-03-10 02:47:12 UTC"


def test_the_severity_scale_is_one_tuple_everywhere() -> None:
    from incidentkit import cli, findings
    from incidentkit.findings import audit
    from incidentkit.render.theme import SEVERITY_COLORS

    assert findings.SEVERITIES is audit.SEVERITIES is SEVERITIES
    assert set(SEVERITY_COLORS) == set(SEVERITIES)
    fail_on = next(p for p in cli.cli.commands["audit"].params if p.name == "fail_on")
    assert tuple(fail_on.type.choices) == SEVERITIES
    assert [severity_rank(s) for s in SEVERITIES] == list(range(len(SEVERITIES)))
    assert downgrade("critical") == "high" and downgrade("low") == "low" and downgrade("info") == "info"
    with pytest.raises(ValueError):
        severity_rank("urgent")
