"""The KPI layer's pure parts: opening hours, data quality, KPIs from totals."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from footfall.api.kpis import Flag, Kpi, StoreInfo, Totals, kpis, quality
from footfall.core.calendar import StoreCalendar

EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def store(hours: dict | None = None, **kw) -> StoreInfo:
    return StoreInfo(
        store_id="a", name="A", timezone="Europe/Riga", opening_hours=hours or {}, customer_doors=("main",), **kw
    )


def day(d: date, tz: str = "Europe/Riga") -> tuple[datetime, datetime]:
    return StoreCalendar(tz).day_bounds(d)


@pytest.mark.parametrize(
    ("hours", "d", "expected_hours"),
    [
        ({}, date(2026, 6, 1), [24.0]),  # no hours configured: always open
        ({k: (time(9), time(21)) for k in EVERY_DAY}, date(2026, 6, 1), [12.0]),
        ({"mon": None}, date(2026, 6, 1), []),  # closed on Mondays
        ({"mon": (time(9), time(21))}, date(2026, 6, 2), []),  # a Tuesday: not listed, closed
        ({"mon": (time(20), time(2)), "sun": (time(22), time(3))}, date(2026, 6, 1), [3.0, 4.0]),  # past midnight
        ({k: (time(0), time(23, 59)) for k in EVERY_DAY}, date(2026, 3, 29), [22.0 + 59 / 60]),  # 23-h DST day
    ],
)
def test_open_intervals(hours: dict, d: date, expected_hours: list[float]) -> None:
    start, end = day(d)
    got = store(hours).open_intervals(start, end)
    assert [round((b - a).total_seconds() / 3600, 4) for a, b in got] == [round(h, 4) for h in expected_hours]
    assert all(start <= a < b <= end for a, b in got)


@pytest.mark.parametrize(
    ("totals", "coverage", "complete", "flags"),
    [
        (Totals(valid_s=3600, expected_s=3600), 1.0, True, ()),
        (Totals(valid_s=1800, expected_s=3600), 0.5, False, (Flag.DOOR_DATA_INCOMPLETE,)),
        (Totals(valid_s=3500, invalid_s=100, expected_s=3600), 3500 / 3600, True, (Flag.DOOR_DATA_INVALIDATED,)),
        (Totals(expected_s=0), None, True, ()),  # closed: nothing expected, nothing missing
        (Totals(valid_s=3600, expected_s=3600, pos_gap_s=900), 1.0, True, (Flag.POS_FEED_GAP,)),
    ],
)
def test_quality(totals: Totals, coverage: float | None, complete: bool, flags: tuple) -> None:
    q = quality(totals, store())
    assert q.door_coverage == (pytest.approx(coverage) if coverage is not None else None)
    assert q.door_complete is complete
    assert q.flags == flags


def test_kpis_from_totals_follow_the_core_formulas() -> None:
    t = Totals(
        entries=200, exits=190, passersby=2000, outward_entries=150, transactions=40, refunds=2,
        revenue=Decimal("1000.00"), items=Decimal(100), loyalty_transactions=10, valid_s=3600, expected_s=3600,
        staff_hours=4.0, hours=1.0,
    )  # fmt: skip
    k = kpis(t, store(sales_area_m2=250.0, outward_doors=("main",)))
    assert k[Kpi.CONVERSION] == pytest.approx(0.2)
    assert k[Kpi.ATV] == pytest.approx(25.0)
    assert k[Kpi.UPT] == pytest.approx(2.5)
    assert k[Kpi.REVENUE_PER_M2] == pytest.approx(4.0)
    assert k[Kpi.CAPTURE_RATE] == pytest.approx(0.075)
    assert k[Kpi.LOYALTY_ACTIVATION] == pytest.approx(0.25)
    assert k[Kpi.SHOPPER_TO_STAFF] == pytest.approx(50.0)
    incomplete = kpis(Totals(entries=200, transactions=40, valid_s=100, expected_s=3600), store())
    assert incomplete[Kpi.CONVERSION] is None  # not 0.2 from partial traffic
    no_doors = StoreInfo(store_id="b", name="B", timezone="UTC")
    assert kpis(Totals(transactions=3), no_doors)[Kpi.VISITORS] is None


def test_totals_add_up_exactly_and_keep_unknowns_unknown() -> None:
    a = Totals(entries=1, revenue=Decimal("0.10"), passersby=None, staff_hours=None)
    b = Totals(entries=2, revenue=Decimal("0.20"), passersby=5, staff_hours=1.5)
    s = Totals.sum([a, b, Totals()])
    assert (s.entries, s.revenue, s.passersby, s.staff_hours) == (3, Decimal("0.30"), 5, 1.5)
    assert Totals.sum([]).passersby is None
    assert datetime(2026, 1, 1, tzinfo=UTC).year == 2026
