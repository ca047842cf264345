"""Regular slot series: counts on a fixed grid of 15-, 30- or 60-minute slots, gaps as NaN.

Times are integer epoch seconds (UTC). Calendar features need the store's wall clock, so
every series also carries the local time of each slot as "local epoch seconds" (UTC
seconds plus the UTC offset in force), which `local_seconds` computes from an IANA zone
in a DST-safe way.

Example:
    >>> s = SlotSeries.from_points([0, 3600, 10800], [5, 7, 1], slot_s=3600)
    >>> s.values.tolist()
    [5.0, 7.0, nan, 1.0]
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np

from footfall.models.errors import SeriesError

SLOT_CHOICES_S = (900, 1800, 3600)
WEEK_S = 7 * 86_400
DAY_S = 86_400
ORIGIN_DAY = date(2000, 1, 3)
"""A Monday: slots are binned from the store's local midnight of this day, so hours follow the wall clock."""


def local_seconds(utc_s: np.ndarray, tz: ZoneInfo | None) -> np.ndarray:
    """Wall-clock epoch seconds of each UTC instant in zone `tz` (UTC when None).

    The offset changes only a few times a year, so it is looked up once per distinct
    hour and broadcast.
    """
    utc_s = np.asarray(utc_s, dtype=np.int64)
    if tz is None or utc_s.size == 0:
        return utc_s.copy()
    hours = utc_s // 3600
    uniq, inverse = np.unique(hours, return_inverse=True)
    offsets = np.fromiter(
        (_offset_s(datetime.fromtimestamp(int(h) * 3600, UTC).astimezone(tz)) for h in uniq),
        dtype=np.int64,
        count=uniq.size,
    )
    return utc_s + offsets[inverse]


def _offset_s(moment: datetime) -> int:
    off = moment.utcoffset()
    return 0 if off is None else int(off.total_seconds())


@dataclass(frozen=True)
class SlotSeries:
    """A regular series: `values[i]` counts slot `[t0 + i·slot_s, t0 + (i+1)·slot_s)`.

    Attributes:
        t0: start of the first slot, epoch seconds UTC.
        slot_s: slot width in seconds (900, 1800 or 3600).
        values: one float per slot; NaN where nothing was reported.
        local: wall-clock epoch seconds of each slot start (same length as `values`).
    """

    t0: int
    slot_s: int
    values: np.ndarray
    local: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        if self.slot_s not in SLOT_CHOICES_S:
            raise SeriesError(f"slot width {self.slot_s}s is not supported; use 15, 30 or 60 minutes")
        if self.values.ndim != 1 or self.local.shape != self.values.shape:
            raise SeriesError("values and local times must be 1-d arrays of the same length")

    @classmethod
    def from_points(
        cls,
        times_s: np.ndarray | list[int],
        values: np.ndarray | list[float],
        *,
        slot_s: int,
        tz: ZoneInfo | None = None,
        local_s: np.ndarray | list[int] | None = None,
    ) -> "SlotSeries":
        """Place observations on the grid; missing slots become NaN.

        Args:
            times_s: slot starts, epoch seconds UTC, each a multiple of `slot_s` apart.
            values: the count of each slot.
            slot_s: slot width in seconds.
            tz: the store's zone for local times (ignored when `local_s` is given).
            local_s: wall-clock seconds of each observation (e.g. from the offsets a CSV
                carried); gaps take the offset of the observation before them.

        Raises:
            SeriesError: times off the grid, duplicated, or lengths differ.
        """
        t = np.asarray(times_s, dtype=np.int64)
        v = np.asarray(values, dtype=float)
        if t.shape != v.shape or t.ndim != 1:
            raise SeriesError("times and values must be 1-d and of the same length")
        if t.size == 0:
            raise SeriesError("the series is empty")
        order = np.argsort(t, kind="stable")
        t, v = t[order], v[order]
        if np.any(np.diff(t) == 0):
            raise SeriesError(f"slot {datetime.fromtimestamp(int(t[np.diff(t) == 0][0]), UTC)} appears twice")
        t0 = int(t[0])
        if np.any((t - t0) % slot_s):
            raise SeriesError(f"timestamps are not on a {slot_s // 60}-minute grid")
        idx = (t - t0) // slot_s
        n = int(idx[-1]) + 1
        out = np.full(n, np.nan)
        out[idx] = v
        grid = t0 + np.arange(n, dtype=np.int64) * slot_s
        if local_s is not None:
            off = np.asarray(local_s, dtype=np.int64)[order] - t
            offsets = np.zeros(n, dtype=np.int64)
            offsets[idx] = off
            have = np.zeros(n, dtype=bool)
            have[idx] = True
            # carry the last known offset into gaps
            last = np.maximum.accumulate(np.where(have, np.arange(n), 0))
            local = grid + offsets[last]
        else:
            local = local_seconds(grid, tz)
        return cls(t0=t0, slot_s=slot_s, values=out, local=local)

    @property
    def times(self) -> np.ndarray:
        """Slot starts, epoch seconds UTC."""
        return self.t0 + np.arange(self.values.size, dtype=np.int64) * self.slot_s

    @property
    def end(self) -> int:
        """End of the last slot, epoch seconds UTC."""
        return self.t0 + self.values.size * self.slot_s

    @property
    def per_week(self) -> int:
        """Slots in a week."""
        return WEEK_S // self.slot_s

    @property
    def observed_days(self) -> float:
        """Days with data (non-NaN slots × slot width)."""
        return float(np.count_nonzero(~np.isnan(self.values)) * self.slot_s / DAY_S)

    def head(self, n: int) -> "SlotSeries":
        """The first `n` slots."""
        return SlotSeries(self.t0, self.slot_s, self.values[:n], self.local[:n])

    def window(self, start: int, stop: int) -> "SlotSeries":
        """Slots `start..stop-1` (indices)."""
        return SlotSeries(self.t0 + start * self.slot_s, self.slot_s, self.values[start:stop], self.local[start:stop])


def slot_grid(origin_s: int, lo_s: int, hi_s: int, slot_s: int) -> np.ndarray:
    """Slot starts (epoch seconds) covering `[lo_s, hi_s)` on the grid of `slot_s` slots through `origin_s`.

    Example:
        >>> slot_grid(0, 5400, 9000, 3600).tolist()
        [3600, 7200]
    """
    first = origin_s + (lo_s - origin_s) // slot_s * slot_s
    n = max(0, -(-(hi_s - first) // slot_s))
    return first + np.arange(n, dtype=np.int64) * slot_s
