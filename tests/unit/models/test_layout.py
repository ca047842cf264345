"""The layout-change test on simulated stores: a planted effect is found, no effect is (mostly) not claimed."""

import numpy as np
import pytest

from footfall.models.layout import DaySums, ratio_effect

WEEKDAY = np.array([0.8, 0.85, 0.9, 1.0, 1.2, 1.5, 0.7])  # Mon..Sun traffic shape


def simulate_dwell(rng: np.random.Generator, days: int, *, effect: float = 0.0) -> DaySums:
    """Per-day dwell sums of a zone: visits follow the weekday shape and a day factor
    (weather, promotions), dwell per visit is log-normal around a mean that varies by day."""
    shape = np.resize(WEEKDAY, days)
    day = rng.lognormal(0.0, 0.15, days)
    visits = rng.poisson(120 * shape * day)
    mean_dwell = 45.0 * rng.lognormal(0.0, 0.08, days) * (1 + effect)
    sums = np.array(
        [rng.lognormal(np.log(m) - 0.5 * 0.6**2, 0.6, n).sum() for m, n in zip(mean_dwell, visits, strict=True)]
    )
    return DaySums(num=sums, den=visits.astype(float))


def test_planted_twenty_percent_dwell_is_detected() -> None:
    found = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        before, after = simulate_dwell(rng, 28), simulate_dwell(rng, 28, effect=0.20)
        e = ratio_effect(before, after, n_boot=1000, seed=seed)
        found += e.verdict == "increase"
        assert e.ci_low is not None
        assert e.ci_high is not None
        assert e.ci_low < 0.2 < e.ci_high + 0.1
    assert found >= 19  # power ≥ 95 % at +20 % over four weeks


def test_no_effect_is_not_claimed_in_at_least_ninety_percent_of_runs() -> None:
    verdicts = []
    for seed in range(200):
        rng = np.random.default_rng(1000 + seed)
        before, after = simulate_dwell(rng, 28), simulate_dwell(rng, 28)
        verdicts.append(ratio_effect(before, after, n_boot=1000, seed=seed).verdict)
    share = verdicts.count("no detectable change") / len(verdicts)
    assert share >= 0.90, share


@pytest.mark.parametrize(
    ("before", "after", "verdict"),
    [
        # too few days with data on one side
        (DaySums(np.ones(28), np.ones(28)), DaySums(np.ones(5), np.ones(5)), "cannot tell"),
        # the metric is undefined before (no visits at all)
        (DaySums(np.zeros(14), np.zeros(14)), DaySums(np.ones(14), np.ones(14)), "cannot tell"),
        # a steady doubling with no noise
        (DaySums(np.full(14, 10.0), np.full(14, 10.0)), DaySums(np.full(14, 20.0), np.full(14, 10.0)), "increase"),
        (DaySums(np.full(14, 10.0), np.full(14, 10.0)), DaySums(np.full(14, 5.0), np.full(14, 10.0)), "decrease"),
    ],
)
def test_verdicts(before: DaySums, after: DaySums, verdict: str) -> None:
    assert ratio_effect(before, after).verdict == verdict


def test_mismatched_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="same length"):
        DaySums(np.ones(3), np.ones(4))
