"""The periods a report may cover, and what a period is compared with."""

from datetime import date
from enum import StrEnum

from footfall.api.kpis.errors import UnanswerableQuery
from footfall.core.calendar import Interval, previous_period, same_period_last_year, same_weekday_last_week

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
