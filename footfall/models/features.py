"""Calendar features in store local time: slot of week, slot of day, weekday, day of year,
public holidays, opening hours and closed days.

Everything is computed from "local epoch seconds" (see `footfall.models.slots`), so a
slot's hour is the store's wall-clock hour on both sides of a DST change.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time

import numpy as np

from footfall.models.holidays import HolidayCalendar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
FEATURES = ("slot_of_week", "minute_of_day", "weekday", "holiday", "day_after_holiday", "open_share")
FEATURES_YEAR = (*FEATURES, "day_of_year")


@dataclass(frozen=True)
class StoreCalendarSpec:
    """What the models know of a store's calendar.

    Attributes:
        opening_hours: weekday (mon..sun) → (open, close) local time, None for closed; an
            empty mapping means always open. Hours that close at or before they open run
            past midnight.
        holidays: the public-holiday calendar.
        closed_days: local dates the store is shut (counts are expected to be zero).
    """

    opening_hours: Mapping[str, tuple[time, time] | None] = field(default_factory=dict)
    holidays: HolidayCalendar = field(default_factory=HolidayCalendar)
    closed_days: frozenset[date] = field(default_factory=frozenset)

    def describe(self) -> dict[str, object]:
        """A JSON-ready description (stored with a trained model)."""
        return {
            "opening_hours": {
                d: (None if h is None else [h[0].isoformat("minutes"), h[1].isoformat("minutes")])
                for d, h in self.opening_hours.items()
            },
            "holidays": self.holidays.describe(),
            "closed_days": sorted(d.isoformat() for d in self.closed_days),
        }


def _open_minutes(hours: Mapping[str, tuple[time, time] | None]) -> np.ndarray:
    """A (7, 1440) mask: is minute m of weekday d inside opening hours."""
    mask = np.zeros((7, 1440), dtype=bool)
    if not hours:
        mask[:] = True
        return mask
    for d, name in enumerate(WEEKDAYS):
        h = hours.get(name)
        if h is None:
            continue
        o = h[0].hour * 60 + h[0].minute
        c = h[1].hour * 60 + h[1].minute
        if c > o:
            mask[d, o:c] = True
        else:  # past midnight into the next weekday
            mask[d, o:] = True
            mask[(d + 1) % 7, :c] = True
    return mask


@dataclass(frozen=True)
class Calendar:
    """Per-slot calendar facts for an array of local slot starts."""

    days: np.ndarray  # local day number since 1970-01-01
    weekday: np.ndarray  # 0 = Monday
    minute_of_day: np.ndarray
    slot_of_week: np.ndarray
    day_of_year: np.ndarray
    holiday: np.ndarray  # bool
    day_after_holiday: np.ndarray  # bool
    open_share: np.ndarray  # 0..1 share of the slot inside opening hours (0 on closed days)

    def matrix(self, *, with_year: bool) -> np.ndarray:
        """The model's feature matrix (column order as `FEATURES` / `FEATURES_YEAR`)."""
        cols = [
            self.slot_of_week,
            self.minute_of_day,
            self.weekday,
            self.holiday,
            self.day_after_holiday,
            self.open_share,
        ]
        if with_year:
            cols.append(self.day_of_year)
        return np.column_stack(cols).astype(float)


def calendar(local_s: np.ndarray, slot_s: int, spec: StoreCalendarSpec) -> Calendar:
    """Calendar facts of slots starting at wall-clock seconds `local_s`.

    Args:
        local_s: wall-clock epoch seconds of each slot start.
        slot_s: slot width in seconds.
        spec: opening hours, holidays and closed days.
    """
    local_s = np.asarray(local_s, dtype=np.int64)
    days = local_s // 86_400
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    minute = (local_s % 86_400) // 60
    slot_min = slot_s // 60
    slot_of_week = weekday * (1440 // slot_min) + minute // slot_min
    if days.size:
        first = date.fromordinal(int(days.min()) + EPOCH_ORDINAL)
        last = date.fromordinal(int(days.max()) + EPOCH_ORDINAL)
        hol_days = np.array(
            [d.toordinal() - EPOCH_ORDINAL for d in spec.holidays.dates(first.year - 1, last.year + 1)],
            dtype=np.int64,
        )
        closed = np.array([d.toordinal() - EPOCH_ORDINAL for d in spec.closed_days], dtype=np.int64)
    else:
        hol_days = closed = np.zeros(0, dtype=np.int64)
    holiday = np.isin(days, hol_days)
    after = np.isin(days - 1, hol_days) & ~holiday
    mask = _open_minutes(spec.opening_hours)
    # share of open minutes in [minute, minute + slot_min) of that weekday
    csum = np.concatenate([np.zeros((7, 1), dtype=np.int64), np.cumsum(mask, axis=1)], axis=1)
    end = np.minimum(minute + slot_min, 1440)
    share = (csum[weekday, end] - csum[weekday, minute]) / slot_min
    share = np.where(np.isin(days, closed), 0.0, share)
    # day of year from the civil date (days since epoch → proleptic Gregorian)
    doy = _day_of_year(days)
    return Calendar(days, weekday, minute, slot_of_week, doy, holiday, after, share)


def _day_of_year(days: np.ndarray) -> np.ndarray:
    d = days.astype("datetime64[D]")
    years = d.astype("datetime64[Y]")
    return (d - years).astype(np.int64) + 1
