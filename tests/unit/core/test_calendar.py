from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from footfall.core.calendar import (
    Interval,
    StoreCalendar,
    month_bounds,
    previous_period,
    same_period_last_year,
    same_weekday_last_week,
)
from footfall.core.errors import ConfigError


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        ("Europe/Riga", date(2026, 3, 29), 23),  # spring forward
        ("Europe/Riga", date(2026, 10, 25), 25),  # fall back
        ("Europe/Riga", date(2026, 6, 1), 24),  # ordinary day
        ("Pacific/Tongatapu", date(2026, 3, 29), 24),  # UTC+13, no DST
        ("UTC", date(2026, 3, 29), 24),
        ("America/New_York", date(2026, 3, 8), 23),
        ("Australia/Lord_Howe", date(2026, 4, 5), 24.5),  # half-hour DST
    ],
)
def test_day_length(tz: str, day: date, hours: float) -> None:
    assert StoreCalendar(tz).hours_in_day(day) == hours


@pytest.mark.parametrize(
    ("day", "rows", "first_hours"),
    [
        (date(2026, 3, 29), 23, [0, 1, 2, 4, 5]),  # 03:00 does not exist in Riga that day
        (date(2026, 10, 25), 25, [0, 1, 2, 3, 3, 4]),  # 03:00-04:00 happens twice
    ],
)
def test_hourly_buckets_on_dst_days(day: date, rows: int, first_hours: list[int]) -> None:
    buckets = StoreCalendar("Europe/Riga").buckets(day, day, Interval.HOUR)
    assert len(buckets) == rows
    assert [b.local_start.hour for b in buckets[: len(first_hours)]] == first_hours
    assert all(b.hours == 1 for b in buckets)


def test_buckets_are_contiguous_and_cover_the_period() -> None:
    cal = StoreCalendar("Europe/Riga")
    for interval in Interval:
        buckets = cal.buckets(date(2026, 3, 1), date(2026, 4, 30), interval)
        start, end = cal.period_bounds(date(2026, 3, 1), date(2026, 4, 30))
        assert buckets[0].start == start
        assert buckets[-1].end == end
        assert all(a.end == b.start for a, b in pairwise(buckets))


def test_week_and_month_buckets() -> None:
    cal = StoreCalendar("Europe/Riga")
    weeks = cal.buckets(date(2026, 3, 25), date(2026, 4, 7), Interval.WEEK)  # Wed .. Tue
    assert [b.local_start.date() for b in weeks] == [date(2026, 3, 25), date(2026, 3, 30), date(2026, 4, 6)]
    months = cal.buckets(date(2026, 1, 15), date(2026, 3, 31), Interval.MONTH)
    assert [b.local_start.date() for b in months] == [date(2026, 1, 15), date(2026, 2, 1), date(2026, 3, 1)]


def test_utc_plus_13_day_starts_the_previous_utc_day() -> None:
    start, end = StoreCalendar("Pacific/Tongatapu").day_bounds(date(2026, 3, 29))
    assert start == datetime(2026, 3, 28, 11, tzinfo=UTC)
    assert end - start == timedelta(hours=24)


def test_day_starting_in_a_midnight_gap_starts_at_the_first_real_instant() -> None:
    # Cuba moves clocks from 00:00 to 01:00 on the second Sunday of March.
    cal = StoreCalendar("America/Havana")
    start = cal.day_start(date(2026, 3, 8))
    assert cal.local(start).hour == 1
    assert cal.local_date(start) == date(2026, 3, 8)
    assert cal.local_date(start - timedelta(seconds=1)) == date(2026, 3, 7)


def test_nepal_quarter_hour_offset_gets_local_hours() -> None:
    buckets = StoreCalendar("Asia/Kathmandu").buckets(date(2026, 5, 1), date(2026, 5, 1), Interval.HOUR)
    assert len(buckets) == 24
    assert all(b.local_start.minute == 0 for b in buckets)
    assert len(StoreCalendar("Asia/Kathmandu").buckets(date(2026, 5, 1), date(2026, 5, 1), "15min")) == 96


@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2037, 12, 31)),
    tz=st.sampled_from(["Europe/Riga", "America/Santiago", "Australia/Lord_Howe", "Pacific/Apia", "UTC"]),
)
def test_hour_buckets_partition_every_day(day: date, tz: str) -> None:
    cal = StoreCalendar(tz)
    buckets = cal.buckets(day, day, Interval.HOUR)
    total = sum(b.hours for b in buckets)
    assert total == pytest.approx(cal.hours_in_day(day))
    assert all(cal.local_date(b.start) == day for b in buckets)


def test_unknown_zone_names_the_fix() -> None:
    with pytest.raises(ConfigError, match="IANA"):
        StoreCalendar("Mars/Olympus")


def test_period_helpers() -> None:
    assert previous_period(date(2026, 3, 9), date(2026, 3, 15)) == (date(2026, 3, 2), date(2026, 3, 8))
    assert same_weekday_last_week(date(2026, 3, 9), date(2026, 3, 9)) == (date(2026, 3, 2), date(2026, 3, 2))
    ly = same_period_last_year(date(2026, 3, 9), date(2026, 3, 15))
    assert ly[0].weekday() == date(2026, 3, 9).weekday()
    assert month_bounds(date(2024, 2, 10)) == (date(2024, 2, 1), date(2024, 2, 29))
    with pytest.raises(ValueError, match="before it starts"):
        StoreCalendar("UTC").period_bounds(date(2026, 1, 2), date(2026, 1, 1))
