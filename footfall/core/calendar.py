"""The store's local calendar: days, hours and periods in the store's time zone, DST-safe.

Every KPI is reported in store-local time. A local day is not always 24 hours: in
`Europe/Riga` 2026-03-29 has 23 hours and 2026-10-25 has 25. Buckets are therefore
found by walking real instants (UTC) and keeping those where the local wall clock is on
the grid, never by adding wall-clock hours to a local midnight.

Example:
    >>> cal = StoreCalendar("Europe/Riga")
    >>> len(cal.buckets(date(2026, 3, 29), date(2026, 3, 29), Interval.HOUR))
    23
    >>> len(cal.buckets(date(2026, 10, 25), date(2026, 10, 25), Interval.HOUR))
    25
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from footfall.core.errors import ConfigError

QUARTER = timedelta(minutes=15)


class Interval(StrEnum):
    """Bucket sizes for KPI series."""

    MIN15 = "15min"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bucket: the UTC half-open interval `[start, end)` and its local start for display."""

    start: datetime
    end: datetime
    local_start: datetime

    @property
    def hours(self) -> float:
        """Length in hours (23 or 25 for a local day with a DST change)."""
        return (self.end - self.start).total_seconds() / 3600


def zone(name: str) -> ZoneInfo:
    """Look up an IANA time zone.

    Raises:
        ConfigError: the name is not a known IANA zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r}; use an IANA name such as 'Europe/Riga'") from None


class StoreCalendar:
    """Local days, hours and periods of one store.

    Args:
        tz: IANA time zone name or ZoneInfo of the store.
    """

    def __init__(self, tz: str | ZoneInfo) -> None:
        self.tz = tz if isinstance(tz, ZoneInfo) else zone(tz)

    def __repr__(self) -> str:
        return f"StoreCalendar({self.tz.key!r})"

    def local(self, instant: datetime) -> datetime:
        """The store's wall-clock time at an aware instant."""
        return instant.astimezone(self.tz)

    def local_date(self, instant: datetime) -> date:
        """The store's calendar date at an aware instant."""
        return instant.astimezone(self.tz).date()

    def day_start(self, day: date) -> datetime:
        """The first instant (UTC) of a local day.

        Where midnight does not exist (a DST gap at 00:00), the day starts at the first
        wall-clock time that does.
        """
        # fold=0 maps a non-existent wall time to the offset before the gap, which lands
        # on the first existing instant after it.
        return datetime.combine(day, time(0), tzinfo=self.tz).astimezone(UTC)

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """UTC `[start, end)` of a local day."""
        return self.day_start(day), self.day_start(day + timedelta(days=1))

    def period_bounds(self, first: date, last: date) -> tuple[datetime, datetime]:
        """UTC `[start, end)` of the local dates `first`..`last`, both included.

        Raises:
            ValueError: `last` is before `first`.
        """
        if last < first:
            raise ValueError(f"period ends ({last}) before it starts ({first})")
        return self.day_start(first), self.day_start(last + timedelta(days=1))

    def hours_in_day(self, day: date) -> float:
        """Length of a local day in hours: 24, or 23/25 on DST days."""
        start, end = self.day_bounds(day)
        return (end - start).total_seconds() / 3600

    def buckets(self, first: date, last: date, interval: Interval | str) -> list[Bucket]:
        """The buckets covering local dates `first`..`last` (both included).

        Sub-day buckets start where the local clock shows a multiple of the interval;
        week buckets start on Mondays and month buckets on the 1st, clipped to the period.

        Args:
            first: first local date.
            last: last local date, included.
            interval: bucket size.

        Returns:
            Buckets in time order, contiguous, covering exactly the period.
        """
        interval = Interval(interval)
        start, end = self.period_bounds(first, last)
        if end <= start:
            return []  # a local date the zone skipped (Pacific/Apia, 2011-12-30) has no time in it
        if interval in (Interval.MIN15, Interval.HOUR):
            step_min = 15 if interval is Interval.MIN15 else 60
            edges = [start]
            t = start + QUARTER
            while t < end:
                lt = t.astimezone(self.tz)
                if (lt.hour * 60 + lt.minute) % step_min == 0 and lt.second == 0:
                    edges.append(t)
                t += QUARTER
        else:
            edges = [start]
            d = first + timedelta(days=1)
            while d <= last:
                if (
                    interval is Interval.DAY
                    or (interval is Interval.WEEK and d.weekday() == 0)
                    or (interval is Interval.MONTH and d.day == 1)
                ):
                    edges.append(self.day_start(d))
                d += timedelta(days=1)
        edges.append(end)
        return [Bucket(a, b, a.astimezone(self.tz)) for a, b in pairwise(edges)]


def previous_period(first: date, last: date) -> tuple[date, date]:
    """The period of the same length that ends the day before `first`."""
    days = (last - first).days + 1
    return first - timedelta(days=days), first - timedelta(days=1)


def same_weekday_last_week(first: date, last: date) -> tuple[date, date]:
    """The same dates one week earlier (so Mondays compare with Mondays)."""
    return first - timedelta(days=7), last - timedelta(days=7)


def same_period_last_year(first: date, last: date) -> tuple[date, date]:
    """The same period 52 weeks (364 days) earlier: last year, aligned by weekday."""
    return first - timedelta(days=364), last - timedelta(days=364)


def month_bounds(day: date) -> tuple[date, date]:
    """First and last date of the month that holds `day`."""
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt - timedelta(days=1)
