"""Public holidays from a configurable calendar: fixed dates, Easter-relative days, nth weekdays.

A `HolidayCalendar` is built from rules (a few country presets ship here) plus extra
dates, and says which dates are holidays. Stores may be closed on some of them; that is
the store's `closed_days`, not the holiday calendar's business.

Example:
    >>> cal = HolidayCalendar.preset("LV")
    >>> date(2026, 6, 24) in cal.dates(2026, 2026)
    True
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from footfall.models.errors import ModelError


def easter(year: int) -> date:
    """Western (Gregorian) Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month = (h + ell - 7 * m + 114) // 31
    day = (h + ell - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` (0 = Monday) of a month; n = -1 is the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


# Rules: ("fixed", month, day) | ("easter", offset_days) | ("nth", month, weekday, n)
PRESETS: dict[str, tuple[tuple[int | str, ...], ...]] = {
    "LV": (("fixed", 1, 1), ("easter", -2), ("easter", 0), ("easter", 1), ("fixed", 5, 1), ("fixed", 5, 4),
           ("fixed", 6, 23), ("fixed", 6, 24), ("fixed", 11, 18), ("fixed", 12, 24), ("fixed", 12, 25),
           ("fixed", 12, 26), ("fixed", 12, 31)),
    "EE": (("fixed", 1, 1), ("fixed", 2, 24), ("easter", -2), ("easter", 0), ("fixed", 5, 1), ("easter", 49),
           ("fixed", 6, 23), ("fixed", 6, 24), ("fixed", 8, 20), ("fixed", 12, 24), ("fixed", 12, 25),
           ("fixed", 12, 26)),
    "LT": (("fixed", 1, 1), ("fixed", 2, 16), ("fixed", 3, 11), ("easter", 0), ("easter", 1), ("fixed", 5, 1),
           ("fixed", 6, 24), ("fixed", 7, 6), ("fixed", 8, 15), ("fixed", 11, 1), ("fixed", 11, 2),
           ("fixed", 12, 24), ("fixed", 12, 25), ("fixed", 12, 26)),
    "DE": (("fixed", 1, 1), ("easter", -2), ("easter", 1), ("fixed", 5, 1), ("easter", 39), ("easter", 50),
           ("fixed", 10, 3), ("fixed", 12, 25), ("fixed", 12, 26)),
    "GB": (("fixed", 1, 1), ("easter", -2), ("easter", 1), ("nth", 5, 0, 1), ("nth", 5, 0, -1), ("nth", 8, 0, -1),
           ("fixed", 12, 25), ("fixed", 12, 26)),
    "US": (("fixed", 1, 1), ("nth", 1, 0, 3), ("nth", 2, 0, 3), ("nth", 5, 0, -1), ("fixed", 6, 19),
           ("fixed", 7, 4), ("nth", 9, 0, 1), ("nth", 10, 0, 2), ("fixed", 11, 11), ("nth", 11, 3, 4),
           ("fixed", 12, 25)),
}  # fmt: skip
ZONE_PRESETS = {
    "Europe/Riga": "LV",
    "Europe/Tallinn": "EE",
    "Europe/Vilnius": "LT",
    "Europe/Berlin": "DE",
    "Europe/London": "GB",
    "America/New_York": "US",
    "America/Chicago": "US",
    "America/Denver": "US",
    "America/Los_Angeles": "US",
}
"""The preset a store gets by default from its time zone (a guess the store can override)."""


@dataclass(frozen=True)
class HolidayCalendar:
    """Holiday rules and extra dates.

    Attributes:
        name: preset code or a label ("none" for no holidays).
        rules: ("fixed", month, day), ("easter", offset days) or ("nth", month, weekday, n).
        extra: dates added by hand (one-off holidays, local festivals).
    """

    name: str = "none"
    rules: tuple[tuple[int | str, ...], ...] = ()
    extra: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def preset(cls, code: str, extra: Iterable[date] = ()) -> "HolidayCalendar":
        """A country preset (LV, EE, LT, DE, GB, US) or "none".

        Raises:
            ModelError: unknown code.
        """
        code = code.upper()
        if code == "NONE":
            return cls(name="none", extra=frozenset(extra))
        if code not in PRESETS:
            raise ModelError(f"unknown holiday preset {code!r}; use one of {', '.join(PRESETS)} or none")
        return cls(name=code, rules=PRESETS[code], extra=frozenset(extra))

    @classmethod
    def for_zone(cls, timezone: str) -> "HolidayCalendar":
        """The preset matching a time zone, or no holidays."""
        return cls.preset(ZONE_PRESETS.get(timezone, "none"))

    def dates(self, first_year: int, last_year: int) -> frozenset[date]:
        """Every holiday in the years `first_year..last_year`."""
        out: set[date] = {d for d in self.extra if first_year <= d.year <= last_year}
        for year in range(first_year, last_year + 1):
            for rule in self.rules:
                kind = rule[0]
                if kind == "fixed":
                    out.add(date(year, int(rule[1]), int(rule[2])))
                elif kind == "easter":
                    out.add(easter(year) + timedelta(days=int(rule[1])))
                elif kind == "nth":
                    out.add(nth_weekday(year, int(rule[1]), int(rule[2]), int(rule[3])))
                else:
                    raise ModelError(f"unknown holiday rule {rule!r}")
        return frozenset(out)

    def describe(self) -> dict[str, object]:
        """A JSON-ready description (stored with a trained model)."""
        return {"name": self.name, "extra": sorted(d.isoformat() for d in self.extra)}
