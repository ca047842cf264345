from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from footfall.core import kpi


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (kpi.conversion(transactions=30, visitors=120), 0.25),
        (kpi.conversion(transactions=3, visitors=0), None),  # nobody came: no conversion, not 0 or ∞
        (kpi.conversion(transactions=3, visitors=None), None),  # no door data
        (kpi.conversion(transactions=0, visitors=10), 0.0),
        (kpi.atv(net_revenue=Decimal("100.50"), transactions=3), 33.5),
        (kpi.atv(net_revenue=Decimal("0"), transactions=0), None),
        (kpi.upt(items=7, transactions=2), 3.5),
        (kpi.revenue_per_m2(net_revenue=4200, area_m2=420), 10.0),
        (kpi.revenue_per_m2(net_revenue=4200, area_m2=None), None),  # no area configured
        (kpi.capture_rate(entries=50, passersby=1000), 0.05),
        (kpi.capture_rate(entries=50, passersby=None), None),  # no outward counter
        (kpi.loyalty_activation(loyalty_transactions=1, transactions=4), 0.25),
        (kpi.shopper_to_staff(visitors_per_hour=60, staff_on_duty=0), None),  # nobody scheduled
        (kpi.visitors(10, 8, kpi.VisitorMode.AVERAGE), 9.0),
        (kpi.visitors(10, None, kpi.VisitorMode.AVERAGE), None),
        (kpi.visitors(None), None),
    ],
)
def test_formulas(value: float | None, expected: float | None) -> None:
    assert value == expected


def test_occupancy_never_goes_negative_and_recovers() -> None:
    assert kpi.occupancy_series([5, 0, 2, 0], [1, 10, 0, 1]) == [4, 0, 2, 1]
    with pytest.raises(ValueError, match="differ in length"):
        kpi.occupancy_series([1], [])


def test_dwell_median_and_p90() -> None:
    d = kpi.dwell([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0])
    assert (d.visits, d.median_s, d.p90_s) == (10, 55.0, 91.0)
    assert kpi.dwell([]).median_s is None


def test_change() -> None:
    c = kpi.change(120, 100)
    assert (c.delta, c.ratio) == (20.0, 0.2)
    assert kpi.change(5, 0).ratio is None
    assert kpi.change(None, 3).delta is None


def test_plan_vs_fact_wall_chart() -> None:
    p = kpi.plan_vs_fact(plan=31_000, fact=12_000, days_passed=10, days_in_month=31)
    assert p.achieved == pytest.approx(12_000 / 31_000)
    assert p.pace == pytest.approx(1.2)  # 10 days should make 10 000; 12 000 is 20 % ahead
    assert p.projection == pytest.approx(37_200)
    assert (p.days_passed, p.days_left) == (10, 21)
    assert kpi.plan_vs_fact(plan=100, fact=0, days_passed=0, days_in_month=30).projection is None
    with pytest.raises(ValueError, match="outside"):
        kpi.plan_vs_fact(plan=100, fact=0, days_passed=31, days_in_month=30)


positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


@example(t0=5299, c0=1, a0=443098, t1=443098, c1=1, a1=5299)  # equal revenue, huge parts: found by hypothesis
@given(t0=positive, c0=st.floats(0.01, 1), a0=positive, t1=positive, c1=st.floats(0.01, 1), a1=positive)
def test_revenue_change_parts_add_up_exactly(t0, c0, a0, t1, c1, a1) -> None:
    before, after = kpi.RevenueDrivers(t0, c0, a0), kpi.RevenueDrivers(t1, c1, a1)
    split = kpi.explain_revenue_change(before, after)
    assert split is not None
    # Floating-point error scales with the revenues, not with their difference (which may be 0).
    scale = max(before.revenue, after.revenue)
    assert split.traffic + split.conversion + split.atv == pytest.approx(split.total, abs=1e-9 * scale)


def test_revenue_change_attributes_a_pure_traffic_change_to_traffic() -> None:
    split = kpi.explain_revenue_change(kpi.RevenueDrivers(100, 0.2, 50), kpi.RevenueDrivers(150, 0.2, 50))
    assert split is not None
    assert split.traffic == pytest.approx(500)
    assert split.conversion == pytest.approx(0)
    assert split.atv == pytest.approx(0)
    assert kpi.explain_revenue_change(kpi.RevenueDrivers(0, 0.2, 50), kpi.RevenueDrivers(1, 0.2, 50)) is None
