"""KPI formulas of ARCHITECTURE.md as pure functions.

Null semantics are explicit: a ratio whose denominator is zero or unknown is `None`
(shown as "no data"), never 0 and never an exception. Money is `Decimal` on the way in;
ratios come out as `float`.

Example:
    >>> conversion(transactions=30, visitors=120)
    0.25
    >>> conversion(transactions=3, visitors=0) is None
    True
"""

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

Number = int | float | Decimal


class VisitorMode(StrEnum):
    """How visitors are derived from door counts."""

    ENTRIES = "entries"
    """Σ entries on customer doors (the default)."""
    AVERAGE = "average"
    """(Σ entries + Σ exits) / 2: evens out doors whose entry beam misses people."""


def _ratio(num: Number | None, den: Number | None) -> float | None:
    if num is None or den is None or den == 0:
        return None
    return float(num) / float(den)


def visitors(entries: int | None, exits: int | None = None, mode: VisitorMode = VisitorMode.ENTRIES) -> float | None:
    """Footfall from customer-door counts (staff doors are excluded before this).

    Args:
        entries: Σ entries on customer doors, or None when there is no door data.
        exits: Σ exits on customer doors (needed for the average mode).
        mode: entries only, or the average of entries and exits.

    Returns:
        Visitors, or None without door data.
    """
    if entries is None:
        return None
    if mode is VisitorMode.AVERAGE:
        if exits is None:
            return None
        return (entries + exits) / 2
    return float(entries)


def conversion(*, transactions: int | None, visitors: Number | None) -> float | None:
    """Transactions / visitors; None when there were no visitors."""
    return _ratio(transactions, visitors)


def atv(*, net_revenue: Number | None, transactions: int | None) -> float | None:
    """Average transaction value (basket): net revenue / transactions."""
    return _ratio(net_revenue, transactions)


def upt(*, items: Number | None, transactions: int | None) -> float | None:
    """Units per transaction: items sold / transactions."""
    return _ratio(items, transactions)


def revenue_per_m2(*, net_revenue: Number | None, area_m2: Number | None) -> float | None:
    """Net revenue / sales area in m²; None without an area."""
    return _ratio(net_revenue, area_m2)


def capture_rate(*, entries: int | None, passersby: int | None) -> float | None:
    """Entries / passers-by, for doors with an outward-facing counter."""
    return _ratio(entries, passersby)


def loyalty_activation(*, loyalty_transactions: int | None, transactions: int | None) -> float | None:
    """Share of transactions with a loyalty card."""
    return _ratio(loyalty_transactions, transactions)


def shopper_to_staff(*, visitors_per_hour: Number | None, staff_on_duty: Number | None) -> float | None:
    """Visitors per hour per member of staff on duty; None when nobody was scheduled."""
    return _ratio(visitors_per_hour, staff_on_duty)


def occupancy_series(entries: list[int], exits: list[int]) -> list[int]:
    """Occupancy after each interval since opening: running entries − exits, floored at 0.

    Flooring at zero stops one missed entry from making the count negative for the rest
    of the day; the series restarts from 0 every local day.
    """
    if len(entries) != len(exits):
        raise ValueError(f"entries ({len(entries)}) and exits ({len(exits)}) differ in length")
    out: list[int] = []
    level = 0
    for e, x in zip(entries, exits, strict=True):
        level = max(0, level + e - x)
        out.append(level)
    return out


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation; None for no values."""
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


@dataclass(frozen=True, slots=True)
class Dwell:
    """Dwell statistics of one zone."""

    visits: int
    median_s: float | None
    p90_s: float | None


def dwell(seconds: list[float]) -> Dwell:
    """Median and p90 dwell of a list of visit durations."""
    return Dwell(len(seconds), percentile(seconds, 50), percentile(seconds, 90))


@dataclass(frozen=True, slots=True)
class Change:
    """A value against a comparison value."""

    value: float | None
    comparison: float | None
    delta: float | None
    ratio: float | None
    """value / comparison − 1, None when the comparison is 0 or missing."""


def change(value: Number | None, comparison: Number | None) -> Change:
    """Absolute and relative change of a KPI against its comparison."""
    v = None if value is None else float(value)
    c = None if comparison is None else float(comparison)
    delta = None if v is None or c is None else v - c
    ratio = None if delta is None or not c else delta / c
    return Change(v, c, delta, ratio)


@dataclass(frozen=True, slots=True)
class PlanVsFact:
    """The wall chart: plan, fact, pace, days passed and left, month-end projection."""

    plan: float
    fact: float
    achieved: float | None
    """fact / plan."""
    pace: float | None
    """fact / (plan × days passed / days in month): above 1 is ahead of plan."""
    projection: float | None
    """fact extrapolated to month end at the pace so far."""
    days_passed: float
    days_left: float


def plan_vs_fact(*, plan: Number, fact: Number, days_passed: float, days_in_month: int) -> PlanVsFact:
    """Compare revenue so far with the month's target.

    Args:
        plan: the month's target.
        fact: revenue so far this month.
        days_passed: days so far (0..days_in_month); a day under way counts with the
            share of it that has passed (its elapsed opening time), so pace is fair at noon.
        days_in_month: days in the month.

    Raises:
        ValueError: days are out of range.
    """
    if not 0 <= days_passed <= days_in_month or days_in_month <= 0:
        raise ValueError(f"days_passed {days_passed} is outside 0..{days_in_month}")
    p, f = float(plan), float(fact)
    expected = p * days_passed / days_in_month
    return PlanVsFact(
        plan=p,
        fact=f,
        achieved=_ratio(f, p),
        pace=_ratio(f, expected),
        projection=None if days_passed == 0 else f * days_in_month / days_passed,
        days_passed=days_passed,
        days_left=days_in_month - days_passed,
    )


@dataclass(frozen=True, slots=True)
class RevenueDrivers:
    """Revenue = traffic × conversion × ATV, for one period."""

    traffic: float
    conversion: float
    atv: float

    @property
    def revenue(self) -> float:
        """The product of the three drivers."""
        return self.traffic * self.conversion * self.atv


@dataclass(frozen=True, slots=True)
class RevenueChange:
    """How much of a revenue change each driver explains; the parts add up to `total`."""

    total: float
    traffic: float
    conversion: float
    atv: float


def explain_revenue_change(before: RevenueDrivers, after: RevenueDrivers) -> RevenueChange | None:
    """Split a revenue change into traffic, conversion and ATV contributions.

    Log-mean Divisia (LMDI) decomposition: with L = (R₁ − R₀) / (ln R₁ − ln R₀) each
    driver x contributes L · ln(x₁ / x₀), and the three parts sum exactly to R₁ − R₀.

    Returns:
        The split, or None when a driver is zero in either period (the log is undefined).
    """
    for d in (before, after):
        if min(d.traffic, d.conversion, d.atv) <= 0:
            return None
    r0, r1 = before.revenue, after.revenue
    weight = r0 if math.isclose(r0, r1, rel_tol=1e-12) else (r1 - r0) / (math.log(r1) - math.log(r0))
    parts = [
        weight * math.log(a / b)
        for a, b in (
            (after.traffic, before.traffic),
            (after.conversion, before.conversion),
            (after.atv, before.atv),
        )
    ]
    return RevenueChange(total=r1 - r0, traffic=parts[0], conversion=parts[1], atv=parts[2])
