"""The periods a report may cover, and what a period is compared with."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from footfall.api.kpis.errors import UnanswerableQuery
from footfall.core.calendar import (
    Interval,
    StoreCalendar,
    previous_period,
    same_period_last_year,
    same_weekday_last_week,
)

MAX_BUCKETS = 5000
"""Most buckets one series may have (a year of hours is 8,760: ask for days instead)."""
MAX_DAYS = 3 * 366 + 1
"""Longest period one request may cover."""

_PER_DAY = {Interval.MIN15: 96, Interval.HOUR: 24, Interval.DAY: 1, Interval.WEEK: 1 / 7, Interval.MONTH: 1 / 28}


class Comparison(StrEnum):
    """What a period is compared with."""

    NONE = "none"
    PREVIOUS_PERIOD = "previous_period"
    SAME_WEEKDAY_LAST_WEEK = "same_weekday_last_week"
    SAME_PERIOD_LAST_YEAR = "same_period_last_year"

    def period(self, first: date, last: date) -> tuple[date, date] | None:
        """The comparison period of `first`..`last`, or None for no comparison."""
        match self:
            case Comparison.PREVIOUS_PERIOD:
                return previous_period(first, last)
            case Comparison.SAME_WEEKDAY_LAST_WEEK:
                return same_weekday_last_week(first, last)
            case Comparison.SAME_PERIOD_LAST_YEAR:
                return same_period_last_year(first, last)
        return None


def check_period(first: date, last: date, interval: Interval | None = None) -> None:
    """Refuse periods that are reversed, too long, or would make too many buckets.

    Raises:
        UnanswerableQuery: with the fix.
    """
    if last < first:
        raise UnanswerableQuery(f"the period ends ({last}) before it starts ({first}); swap `first` and `last`")
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise UnanswerableQuery(f"the period is {days} days long; ask for at most {MAX_DAYS} days at a time")
    if first.year < 2000 or last.year > 2999:
        raise UnanswerableQuery("dates must be between 2000-01-01 and 2999-12-31")
    if interval is not None and days * _PER_DAY[Interval(interval)] > MAX_BUCKETS:
        raise UnanswerableQuery(
            f"{days} days at interval {Interval(interval).value} is more than {MAX_BUCKETS} buckets; "
            "use a coarser interval or a shorter period"
        )


SLOT = timedelta(minutes=15)
"""The finest rollup slot: a running period is cut at a slot edge so both periods of a
comparison cover the same whole slots."""


def slot_floor(instant: datetime) -> datetime:
    """The start of the 15-minute UTC slot holding `instant` (also a local quarter-hour edge
    in every time zone whose offset is a multiple of 15 minutes)."""
    t = instant.astimezone(UTC)
    return t.replace(minute=t.minute - t.minute % 15, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class Cut:
    """Where a period that is still running stops counting, and the same point of its comparison.

    `as_of` is `now` floored to the quarter hour; `comparison_as_of` is the same local
    wall-clock time on the same day of the comparison period (so "today until 14:30" is
    compared with "that day until 14:30", not with the whole day).
    """

    as_of: datetime
    comparison_as_of: datetime | None


def running_cut(
    calendar: StoreCalendar,
    first: date,
    last: date,
    now: datetime | None,
    comparison: tuple[date, date] | None = None,
) -> Cut | None:
    """The cut of local dates `first`..`last` at `now`, or None when the period is not running.

    A period is running when `now` falls inside it; periods wholly past (or wholly in
    the future) are not cut.
    """
    if now is None:
        return None
    start, end = calendar.period_bounds(first, last)
    if not start <= now < end:
        return None
    cut = max(start, slot_floor(now))
    if comparison is None:
        return Cut(as_of=cut, comparison_as_of=None)
    local = calendar.local(cut)
    day = comparison[0] + (local.date() - first)
    then = datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=calendar.tz).astimezone(UTC)
    c_start, c_end = calendar.period_bounds(*comparison)
    return Cut(as_of=cut, comparison_as_of=min(max(then, c_start), c_end))
