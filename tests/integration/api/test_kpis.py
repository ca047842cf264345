"""KPIs against hand-computed fixtures, through the query layer the routes and alerts use."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg
import pytest

from footfall.api import kpis
from footfall.api.kpis import Comparison, Flag, Kpi
from footfall.core.calendar import StoreCalendar
from tests.integration.api.conftest import add_door_minutes, add_receipts, add_store, receipt

RIGA = ZoneInfo("Europe/Riga")
OPEN_9_21 = {d: ["09:00", "21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = RIGA) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def whole_day_counts(conn: psycopg.Connection, store_id: str, day: date, tz: str = "Europe/Riga", **kw) -> int:
    """Valid counts for every minute of a local day; returns the minutes written."""
    start, end = StoreCalendar(tz).day_bounds(day)
    minutes = int((end - start).total_seconds() // 60)
    add_door_minutes(conn, store_id, start, minutes, **kw)
    return minutes


def summary(conn: psycopg.Connection, store_id: str, first: date, last: date | None = None, **kw) -> kpis.Summary:
    return kpis.kpi_summary(conn, store=kpis.store_info(conn, store_id), first=first, last=last or first, **kw)


def values(s: kpis.Summary) -> dict[Kpi, float | None]:
    return {v.kpi: v.value for v in s.values}


def test_day_with_zero_visitors_has_null_conversion_not_zero(aconn: psycopg.Connection) -> None:
    day = date(2026, 6, 1)
    add_store(aconn, "a")
    whole_day_counts(aconn, "a", day, entries=0)  # counters reported all day: nobody came in
    add_receipts(aconn, *(receipt("a", f"r{i}", at(day, 12, i)) for i in range(3)))
    s = summary(aconn, "a", day)
    v = values(s)
    assert v[Kpi.VISITORS] == 0
    assert v[Kpi.TRANSACTIONS] == 3
    assert v[Kpi.CONVERSION] is None
    assert s.quality.door_coverage == 1.0
    assert s.quality.door_complete


def test_refunds_and_voids_follow_the_receipt_semantics(aconn: psycopg.Connection) -> None:
    day = date(2026, 6, 2)
    add_store(aconn, "a", area=100.0, opening_hours=OPEN_9_21)
    # 40 visitors: 4 in each of the first 10 open minutes, zeros for the rest of the 12 h.
    add_door_minutes(aconn, "a", at(day, 9), 720, entries=lambda i: 4 if i < 10 else 0)
    add_receipts(
        aconn,
        receipt("a", "s1", at(day, 10), "10.00", items="2", loyalty=True),
        receipt("a", "s2", at(day, 11), "30.00", items="3"),
        receipt("a", "rf", at(day, 12), "5.00", items="1", refund=True),  # stored as −5.00
        receipt("a", "vd", at(day, 13), "99.00", items="9", voided=True),
    )
    v = values(summary(aconn, "a", day))
    assert (v[Kpi.TRANSACTIONS], v[Kpi.REFUNDS], v[Kpi.VOIDS]) == (2, 1, 1)
    assert v[Kpi.REVENUE] == pytest.approx(35.0)  # 10 + 30 − 5; the void counts for nothing
    assert v[Kpi.ITEMS] == 5  # units on sales only
    assert v[Kpi.VISITORS] == 40
    assert v[Kpi.CONVERSION] == pytest.approx(2 / 40)
    assert v[Kpi.ATV] == pytest.approx(17.5)
    assert v[Kpi.UPT] == pytest.approx(2.5)
    assert v[Kpi.LOYALTY_ACTIVATION] == pytest.approx(0.5)
    assert v[Kpi.REVENUE_PER_M2] == pytest.approx(0.35)


@pytest.mark.parametrize(
    ("ts", "hour"),
    [
        (at(date(2026, 6, 3), 10, 0), 10),  # exactly on the hour: the hour it starts
        (at(date(2026, 6, 3), 10, 0) - timedelta(microseconds=1), 9),  # a moment before: the hour before
        (at(date(2026, 6, 3), 10, 59) + timedelta(seconds=59, microseconds=999_999), 10),  # last instant of 10:00
    ],
)
def test_receipt_on_an_hour_boundary_lands_in_the_hour_it_starts(
    aconn: psycopg.Connection, ts: datetime, hour: int
) -> None:
    add_store(aconn, "a")
    add_receipts(aconn, receipt("a", "r", ts))
    rows = kpis.kpi_series(aconn, store=kpis.store_info(aconn, "a"), first=ts.date(), last=ts.date(), interval="hour")
    by_hour = {r.bucket.local_start.hour: r.kpis[Kpi.TRANSACTIONS] for r in rows}
    assert by_hour[hour] == 1
    assert sum(by_hour.values()) == 1


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2026, 3, 29), 23),  # Riga springs forward: 03:00 does not exist
        (date(2026, 10, 25), 25),  # Riga falls back: 03:00 happens twice
    ],
)
def test_dst_days_have_23_or_25_hourly_buckets_with_every_receipt_and_visitor(
    aconn: psycopg.Connection, day: date, hours: int
) -> None:
    add_store(aconn, "a")
    minutes = whole_day_counts(aconn, "a", day)  # one entry a minute
    start, _ = StoreCalendar("Europe/Riga").day_bounds(day)
    add_receipts(aconn, *(receipt("a", f"r{h}", start + timedelta(hours=h, minutes=30)) for h in range(hours)))
    store = kpis.store_info(aconn, "a")
    rows = kpis.kpi_series(aconn, store=store, first=day, last=day, interval="hour")
    assert len(rows) == hours
    assert [r.kpis[Kpi.TRANSACTIONS] for r in rows] == [1] * hours
    assert [r.kpis[Kpi.VISITORS] for r in rows] == [60] * hours
    assert all(r.kpis[Kpi.CONVERSION] == pytest.approx(1 / 60) for r in rows)
    (daily,) = kpis.kpi_series(aconn, store=store, first=day, last=day, interval="day")
    assert daily.bucket.hours == hours
    assert daily.kpis[Kpi.TRANSACTIONS] == hours
    assert daily.kpis[Kpi.VISITORS] == minutes == hours * 60


def test_store_in_utc_plus_13_gets_its_own_local_days(aconn: psycopg.Connection) -> None:
    tonga = ZoneInfo("Pacific/Tongatapu")
    add_store(aconn, "nuku", "Pacific/Tongatapu")
    add_receipts(
        aconn,
        receipt("nuku", "late-28th", datetime(2026, 3, 28, 23, 30, tzinfo=tonga)),  # 10:30 UTC on the 28th
        receipt("nuku", "early-29th", datetime(2026, 3, 29, 0, 10, tzinfo=tonga)),  # 11:10 UTC on the 28th
    )
    store = kpis.store_info(aconn, "nuku")
    rows = kpis.kpi_series(aconn, store=store, first=date(2026, 3, 28), last=date(2026, 3, 29), interval="day")
    assert [r.kpis[Kpi.TRANSACTIONS] for r in rows] == [1, 1]
    hourly = kpis.kpi_series(aconn, store=store, first=date(2026, 3, 29), last=date(2026, 3, 29), interval="hour")
    assert hourly[0].bucket.local_start.hour == 0
    assert hourly[0].kpis[Kpi.TRANSACTIONS] == 1


def test_late_receipt_after_the_rollup_and_a_later_void_change_the_numbers(aconn: psycopg.Connection) -> None:
    day = date(2026, 6, 4)
    add_store(aconn, "a")
    add_receipts(aconn, receipt("a", "r1", at(day, 15), "20.00"))
    assert values(summary(aconn, "a", day))[Kpi.TRANSACTIONS] == 1
    add_receipts(aconn, receipt("a", "late", at(day, 9), "5.00"))  # arrives after the 15:00 one was rolled up
    add_receipts(aconn, receipt("a", "r1", at(day, 15), "20.00"))  # the POS resends: nothing changes
    v = values(summary(aconn, "a", day))
    assert (v[Kpi.TRANSACTIONS], v[Kpi.REVENUE]) == (2, pytest.approx(25.0))
    rows = kpis.kpi_series(aconn, store=kpis.store_info(aconn, "a"), first=day, last=day, interval="hour")
    assert {r.bucket.local_start.hour: r.kpis[Kpi.TRANSACTIONS] for r in rows if r.kpis[Kpi.TRANSACTIONS]} == {
        9: 1,
        15: 1,
    }
    add_receipts(aconn, receipt("a", "r1", at(day, 15), "20.00", voided=True))  # voided later
    v = values(summary(aconn, "a", day))
    assert (v[Kpi.TRANSACTIONS], v[Kpi.VOIDS], v[Kpi.REVENUE]) == (1, 1, pytest.approx(5.0))


def test_incomplete_door_data_withholds_conversion_and_says_why(aconn: psycopg.Connection) -> None:
    day = date(2026, 6, 5)
    add_store(aconn, "a", opening_hours=OPEN_9_21)
    add_door_minutes(aconn, "a", at(day, 9), 360, entries=1)  # counters silent from 15:00
    add_door_minutes(aconn, "a", at(day, 15), 30, entries=1, valid=False)  # 30 min flagged invalid by the device
    add_receipts(aconn, receipt("a", "r", at(day, 10)))
    s = summary(aconn, "a", day)
    v = values(s)
    assert v[Kpi.VISITORS] == 360  # invalid minutes never count
    assert v[Kpi.CONVERSION] is None
    assert s.quality.door_coverage == pytest.approx(0.5)
    assert s.quality.invalid_minutes == pytest.approx(30)
    assert Flag.DOOR_DATA_INCOMPLETE in s.quality.flags
    assert Flag.DOOR_DATA_INVALIDATED in s.quality.flags
    # The morning alone is complete: conversion is computed there.
    rows = kpis.kpi_series(aconn, store=kpis.store_info(aconn, "a"), first=day, last=day, interval="hour")
    ten = next(r for r in rows if r.bucket.local_start.hour == 10)
    assert ten.quality.door_complete
    assert ten.kpis[Kpi.CONVERSION] == pytest.approx(1 / 60)


def test_traffic_without_receipts_is_reported_as_a_pos_feed_gap(aconn: psycopg.Connection) -> None:
    day = date(2026, 6, 6)
    add_store(aconn, "a", opening_hours=OPEN_9_21)
    add_door_minutes(aconn, "a", at(day, 9), 720, entries=1)  # 60 people an hour, all day
    add_receipts(aconn, *(receipt("a", f"r{h}", at(day, h, 5)) for h in range(9, 21) if h not in (13, 14)))
    s = summary(aconn, "a", day)
    assert s.quality.pos_gap_minutes == pytest.approx(120)
    assert Flag.POS_FEED_GAP in s.quality.flags


@pytest.mark.parametrize(
    ("compare", "then", "expected"),
    [
        (Comparison.PREVIOUS_PERIOD, date(2026, 6, 9), 2),  # the day before
        (Comparison.SAME_WEEKDAY_LAST_WEEK, date(2026, 6, 3), 1),  # Wednesday a week earlier
        (Comparison.SAME_PERIOD_LAST_YEAR, date(2025, 6, 11), 5),  # 364 days back: also a Wednesday
    ],
)
def test_comparisons_return_value_comparison_and_change(
    aconn: psycopg.Connection, compare: Comparison, then: date, expected: int
) -> None:
    day = date(2026, 6, 10)
    add_store(aconn, "a")
    add_receipts(aconn, *(receipt("a", f"now{i}", at(day, 12, i)) for i in range(4)))
    for d, n in ((date(2026, 6, 9), 2), (date(2026, 6, 3), 1), (date(2025, 6, 11), 5)):
        add_receipts(aconn, *(receipt("a", f"{d}-{i}", at(d, 12, i)) for i in range(n)))
    s = summary(aconn, "a", day, compare=compare)
    assert (s.comparison_first, s.comparison_last) == (then, then)
    assert then.weekday() == day.weekday() or compare is Comparison.PREVIOUS_PERIOD
    tx = s.value(Kpi.TRANSACTIONS)
    assert (tx.value, tx.comparison, tx.delta) == (4, expected, 4 - expected)
    assert tx.ratio == pytest.approx(4 / expected - 1)


def test_plan_vs_fact_gives_pace_and_projection(aconn: psycopg.Connection) -> None:
    add_store(aconn, "a")
    aconn.execute("INSERT INTO plans (store_id, month, revenue_target) VALUES ('a', '2026-06-01', 3000)")
    add_receipts(aconn, *(receipt("a", f"d{d}", at(date(2026, 6, d), 12), "100.00") for d in range(1, 16)))
    p = kpis.plan_vs_fact(aconn, store=kpis.store_info(aconn, "a"), month=date(2026, 6, 1), as_of=date(2026, 6, 10))
    assert (p.days_passed, p.days_left, p.revenue_fact) == (10, 20, 1000.0)
    assert p.revenue is not None
    assert p.revenue.achieved == pytest.approx(1 / 3)
    assert p.revenue.pace == pytest.approx(1.0)  # 1000 against 3000 × 10/30
    assert p.revenue.projection == pytest.approx(3000.0)
    # by default "as of" is now: today's receipt (12:00) counts, and today by its elapsed share
    default = kpis.plan_vs_fact(
        aconn, store=kpis.store_info(aconn, "a"), month=date(2026, 6, 1), now=at(date(2026, 6, 8), 15)
    )
    assert (default.as_of, default.days_passed, default.revenue_fact) == (date(2026, 6, 8), 8, 800.0)
    assert default.days_elapsed == pytest.approx(7 + 15 / 24)  # no opening hours: open all day


def test_revenue_change_splits_into_parts_that_add_up(aconn: psycopg.Connection) -> None:
    before, after = date(2026, 6, 11), date(2026, 6, 12)
    add_store(aconn, "a")
    whole_day_counts(aconn, "a", before, entries=lambda i: 1 if i % 2 == 0 else 0)  # 720 visitors
    whole_day_counts(aconn, "a", after, entries=1)  # 1440 visitors
    add_receipts(aconn, *(receipt("a", f"b{i}", at(before, 12, i), "20.00") for i in range(36)))  # 5 %, ATV 20
    add_receipts(
        aconn, *(receipt("a", f"a{i}", at(after, 12, i % 60) + timedelta(seconds=i), "25.00") for i in range(57))
    )
    e = kpis.explain_revenue(aconn, store=kpis.store_info(aconn, "a"), first=after, last=after)
    assert e.change is not None
    assert e.change.total == pytest.approx(57 * 25 - 36 * 20)
    assert e.change.traffic + e.change.conversion + e.change.atv == pytest.approx(e.change.total)
    assert e.change.traffic > 0  # traffic doubled
    assert e.change.conversion < 0  # 5 % → 3.96 %
    assert e.change.atv > 0  # 20 → 25


def test_shopper_to_staff_capture_rate_and_occupancy(aconn: psycopg.Connection) -> None:
    day = date(2026, 6, 13)
    add_store(aconn, "a", doors=(("main", "customer", True),))
    add_door_minutes(aconn, "a", at(day, 10), 120, entries=2, exits=1, passersby=20)  # 10–12: 240 in, 120 out
    for i, (a, b) in enumerate([(10, 12), (10, 12)]):
        aconn.execute(
            "INSERT INTO staff_shifts (store_id, shift_id, starts_at, ends_at) VALUES ('a', %s, %s, %s)",
            (f"s{i}", at(day, a), at(day, b)),
        )
    store = kpis.store_info(aconn, "a")
    rows = kpis.kpi_series(aconn, store=store, first=day, last=day, interval="hour")
    ten = next(r for r in rows if r.bucket.local_start.hour == 10)
    assert ten.totals.staff_hours == pytest.approx(2.0)
    assert ten.kpis[Kpi.SHOPPER_TO_STAFF] == pytest.approx(120 / 2)  # 120 visitors an hour, 2 on duty
    assert ten.kpis[Kpi.CAPTURE_RATE] == pytest.approx(0.1)
    nine = next(r for r in rows if r.bucket.local_start.hour == 9)
    assert nine.kpis[Kpi.SHOPPER_TO_STAFF] is None  # nobody on duty
    o = kpis.occupancy(aconn, store=store, day=day, now=at(day, 11, 30))
    assert o.now == 90  # 1 more in than out each minute, for 90 minutes
    assert [p.occupancy for p in o.history][-1] == 90


def test_portfolio_rolls_up_ratios_of_sums_and_ranks_stores(aconn: psycopg.Connection) -> None:
    day = date(2026, 6, 14)
    add_store(aconn, "a")
    add_store(aconn, "b", "Europe/London")
    whole_day_counts(aconn, "a", day, entries=lambda i: 1 if i < 100 else 0)  # 100 visitors
    whole_day_counts(aconn, "b", day, "Europe/London", entries=lambda i: 1 if i < 300 else 0)  # 300 visitors
    add_receipts(aconn, *(receipt("a", f"a{i}", at(day, 12, i)) for i in range(10)))  # 10 %
    add_receipts(aconn, *(receipt("b", f"b{i}", at(day, 12, i, ZoneInfo("Europe/London"))) for i in range(15)))  # 5 %
    stores = kpis.stores_info(aconn, ["a", "b"])
    p = kpis.portfolio(aconn, stores=stores, first=day, last=day)
    total = {v.kpi: v.value for v in p.total}
    assert total[Kpi.CONVERSION] == pytest.approx(25 / 400)  # not the mean of 10 % and 5 %
    assert [s.store.store_id for s in kpis.rank(p, kpi=Kpi.CONVERSION)] == ["a", "b"]
    assert [s.store.store_id for s in kpis.rank(p, kpi=Kpi.CONVERSION, descending=False)] == ["b", "a"]


def test_zone_revenue_per_m2_through_categories(aconn: psycopg.Connection) -> None:
    day = date(2026, 6, 15)
    add_store(aconn, "a")
    aconn.execute("INSERT INTO floors (store_id, floor_id, width_m, height_m) VALUES ('a', 'g', 10, 10)")
    aconn.execute(
        "INSERT INTO zones (store_id, zone_id, floor_id, polygon, area_m2, categories) VALUES "
        "('a', 'bakery', 'g', '[]', 20, '{bread,cake}'), ('a', 'drinks', 'g', '[]', 10, '{coffee}')"
    )
    lines = [
        {"description": "loaf", "category": "bread", "quantity": 2, "unit_price": Decimal("3.00")},
        {"description": "latte", "category": "coffee", "quantity": 1, "unit_price": Decimal("4.00")},
        {"description": "mug", "category": "gifts", "quantity": 1, "unit_price": Decimal("9.00")},
    ]
    add_receipts(
        aconn,
        receipt("a", "r1", at(day, 10), None, items=None, lines=lines),
        receipt("a", "r2", at(day, 11), None, items=None, lines=[{**lines[0], "quantity": 1, "is_return": True}]),
    )
    z = kpis.zone_revenue(aconn, store=kpis.store_info(aconn, "a"), first=day, last=day)
    by = {r.zone_id: r for r in z.zones}
    assert by["bakery"].revenue == pytest.approx(3.0)  # 6.00 sold − 3.00 returned
    assert by["bakery"].revenue_per_m2 == pytest.approx(0.15)
    assert by["drinks"].revenue_per_m2 == pytest.approx(0.4)
    assert z.unassigned_revenue == pytest.approx(9.0)


@pytest.mark.parametrize(
    ("first", "last", "interval", "message"),
    [
        (date(2026, 6, 2), date(2026, 6, 1), "day", "before it starts"),  # reversed
        (date(2020, 1, 1), date(2026, 1, 1), "day", "at most"),  # six years
        (date(2026, 1, 1), date(2026, 12, 31), "15min", "buckets"),  # 35,040 quarter-hours
    ],
)
def test_periods_out_of_bounds_are_refused_with_the_fix(
    aconn: psycopg.Connection, first: date, last: date, interval: str, message: str
) -> None:
    from footfall.api.kpis import UnanswerableQuery

    add_store(aconn, "a")
    with pytest.raises(UnanswerableQuery, match=message):
        kpis.kpi_series(aconn, store=kpis.store_info(aconn, "a"), first=first, last=last, interval=interval)


def test_rollup_choice_follows_the_time_zone(aconn: psycopg.Connection) -> None:
    # India is UTC+5:30: its local hours are not whole UTC hours, so the 15-minute rollup answers.
    kolkata = StoreCalendar("Asia/Kolkata").buckets(date(2026, 6, 1), date(2026, 6, 1), "hour")
    riga = StoreCalendar("Europe/Riga").buckets(date(2026, 6, 1), date(2026, 6, 1), "hour")
    assert kpis.choose_rollup([b.start for b in kolkata]) is kpis.Rollup.QUARTER
    assert kpis.choose_rollup([b.start for b in riga]) is kpis.Rollup.HOUR
    add_store(aconn, "in", "Asia/Kolkata")
    add_receipts(aconn, receipt("in", "r", datetime(2026, 6, 1, 9, 45, tzinfo=ZoneInfo("Asia/Kolkata"))))
    rows = kpis.kpi_series(
        aconn, store=kpis.store_info(aconn, "in"), first=date(2026, 6, 1), last=date(2026, 6, 1), interval="hour"
    )
    assert next(r for r in rows if r.kpis[Kpi.TRANSACTIONS]).bucket.local_start.hour == 9
    assert datetime(2026, 6, 1, 9, 45, tzinfo=ZoneInfo("Asia/Kolkata")).astimezone(UTC).minute == 15
