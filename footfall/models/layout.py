"""Did a layout change move a zone's reach, dwell or sales per visit? A day-level bootstrap.

Pure: arrays of per-day sums in, an effect with a confidence interval out.

The windows before and after the change are the same length, a whole number of weeks,
so each weekday appears equally often on both sides and the weekly rhythm cancels. The
unit of resampling is the **day** (a cluster bootstrap): visits within one day share the
day's weather, staffing and promotions, so resampling single visits would claim far more
certainty than the data has. Each metric is a ratio of day sums —

| metric | numerator | denominator |
|---|---|---|
| reach | zone visits | store visitors |
| dwell | dwell seconds of ended visits | ended visits with a dwell |
| sales_per_visit | zone revenue | zone visits |

— computed on each side from `n_boot` resamples of its days (with replacement, sides
independent), and the effect is after / before − 1 with a percentile interval. The
verdict says `cannot tell` when a side has fewer than `MIN_DAYS` days with data or the
metric is undefined, `increase` / `decrease` when the interval excludes zero, and
`no detectable change` otherwise (which is not proof of no effect: the interval says how
large an effect could hide in it).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> before = DaySums(num=rng.normal(100, 10, 28), den=np.full(28, 10.0))
    >>> after = DaySums(num=rng.normal(120, 10, 28), den=np.full(28, 10.0))
    >>> ratio_effect(before, after, seed=1).verdict
    'increase'
"""

from dataclasses import dataclass

import numpy as np

MIN_DAYS = 7
"""Fewest days with data on each side for a verdict."""


@dataclass(frozen=True)
class DaySums:
    """Per-day numerator and denominator sums of a ratio metric (days without data: den 0)."""

    num: np.ndarray
    den: np.ndarray

    def __post_init__(self) -> None:
        if np.shape(self.num) != np.shape(self.den) or np.ndim(self.num) != 1:
            raise ValueError("num and den must be 1-d arrays of the same length (one value per day)")

    @property
    def days_with_data(self) -> int:
        """Days whose denominator is positive."""
        return int((np.asarray(self.den) > 0).sum())

    def value(self) -> float | None:
        """The ratio of the sums, or None when the denominator is zero."""
        den = float(np.sum(self.den))
        return float(np.sum(self.num)) / den if den > 0 else None


@dataclass(frozen=True)
class Effect:
    """A metric before and after, the relative change and its interval, and the plain verdict."""

    before: float | None
    after: float | None
    change: float | None
    ci_low: float | None
    ci_high: float | None
    days_before: int
    days_after: int
    verdict: str


def _boot_ratios(s: DaySums, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    num = np.asarray(s.num, dtype=float)
    den = np.asarray(s.den, dtype=float)
    idx = rng.integers(0, len(num), size=(n_boot, len(num)))
    d = den[idx].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > 0, num[idx].sum(axis=1) / d, np.nan)


def ratio_effect(
    before: DaySums, after: DaySums, *, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0
) -> Effect:
    """The relative change of a ratio metric with a day-level bootstrap interval.

    Args:
        before: per-day sums before the change.
        after: per-day sums after it (same number of days, same weekdays).
        n_boot: bootstrap resamples.
        confidence: interval coverage, e.g. 0.95.
        seed: the resampling seed (answers are reproducible).
    """
    b, a = before.value(), after.value()
    nb, na = before.days_with_data, after.days_with_data
    change = a / b - 1 if a is not None and b else None
    if change is None or nb < MIN_DAYS or na < MIN_DAYS:
        return Effect(b, a, change, None, None, nb, na, "cannot tell")
    rng = np.random.default_rng(seed)
    rb = _boot_ratios(before, n_boot, rng)
    ra = _boot_ratios(after, n_boot, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        eff = ra / rb - 1
    eff = eff[np.isfinite(eff)]
    if len(eff) < n_boot // 2:
        return Effect(b, a, change, None, None, nb, na, "cannot tell")
    alpha = (1 - confidence) / 2
    lo, hi = (float(v) for v in np.quantile(eff, [alpha, 1 - alpha]))
    if lo > 0:
        verdict = "increase"
    elif hi < 0:
        verdict = "decrease"
    else:
        verdict = "no detectable change"
    return Effect(b, a, change, lo, hi, nb, na, verdict)
