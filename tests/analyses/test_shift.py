"""shift(): the onset of a rise in the share of bad requests, judged against the baseline's own variation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from incidentkit.analyses.shift import ALPHA, bin_width, shift

T0 = pd.Timestamp("2026-05-04T13:00Z")
WINDOW, BASELINE = (T0 + pd.Timedelta("1h"), T0 + pd.Timedelta("2h")), (T0, T0 + pd.Timedelta("1h"))


def _traffic(seed: int, rate: float, share: np.ndarray | float) -> tuple[pd.Series, np.ndarray]:
    """Poisson arrivals over the two hours; each bad with ``share`` (a number, or one per second)."""
    rng = np.random.default_rng(seed)
    secs = np.sort(rng.uniform(0, 7200, rng.poisson(rate * 7200)))
    p = share if np.isscalar(share) else np.asarray(share)[secs.astype(int)]
    return pd.Series(T0 + pd.to_timedelta(secs, unit="s")), rng.random(len(secs)) < p


@pytest.mark.parametrize("seed", range(8))
def test_a_steady_share_is_not_a_shift(seed: int) -> None:
    times, bad = _traffic(seed, 4.0, 0.02)
    assert not shift(times, bad, window=WINDOW, baseline=BASELINE).significant


def test_a_rise_is_found_with_its_onset_and_excess() -> None:
    share = np.full(7200, 0.01)
    share[3600 + 1800:] = 0.06  # from 14:30
    times, bad = _traffic(1, 3.0, share)
    s = shift(times, bad, window=WINDOW, baseline=BASELINE)
    assert s.significant and s.p_value < ALPHA
    assert abs(s.onset - (T0 + pd.Timedelta("90min"))) <= pd.Timedelta(minutes=3)
    assert 0.03 < s.excess_share < 0.07 and s.after_bad > 0 and s.last_bad >= s.onset


def test_a_baseline_that_wanders_needs_a_bigger_rise() -> None:
    """The same rise counts against a calm baseline, not against one whose share swings minute to minute."""
    rng = np.random.default_rng(7)
    calm = np.full(7200, 0.02)
    wild = np.repeat(rng.choice([0.0, 0.01, 0.06], 120), 60)  # the share jumps every minute
    for base in (calm, wild):
        base[3600:] = base[:3600]
    rise = np.zeros(7200)
    rise[3600 + 2400:] = 0.02
    calm_s = shift(*_traffic(3, 3.0, calm + rise), window=WINDOW, baseline=BASELINE)
    wild_s = shift(*_traffic(3, 3.0, wild + rise), window=WINDOW, baseline=BASELINE)
    assert wild_s.dispersion > 2 * calm_s.dispersion
    assert wild_s.p_value > calm_s.p_value


def test_without_a_baseline_the_window_before_the_onset_is_the_before() -> None:
    share = np.full(7200, 0.01)
    share[3600 + 2000:] = 0.2
    times, bad = _traffic(2, 2.0, share)
    inside = (times >= WINDOW[0]).to_numpy()
    s = shift(times[inside], bad[inside], window=WINDOW)
    assert s.significant and abs(s.onset - (T0 + pd.Timedelta(seconds=5600))) <= pd.Timedelta(minutes=3)


def test_nothing_to_split() -> None:
    s = shift(pd.Series([], dtype="datetime64[ns, UTC]"), np.array([], dtype=bool), window=WINDOW, baseline=BASELINE)
    assert s.onset is None and not s.significant
    assert bin_width(60, pd.Timedelta("1h")) == pd.Timedelta("30min")  # ~20 requests a bin, rounded up to a nice width
