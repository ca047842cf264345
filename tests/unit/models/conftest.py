"""Synthetic series of known shape for the model tests."""

import os
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from footfall.models.backtest import utc_seconds
from footfall.models.slots import SlotSeries, local_seconds

TZ = ZoneInfo("Europe/Riga")
START = datetime(2026, 1, 5, tzinfo=TZ)  # a Monday
ROOT = Path(__file__).resolve().parents[3]
# ../shared/data beside the checkout; a git worktree one level deeper looks one level up too
DATA_DIRS = [Path(p) for p in os.environ.get("FOOTFALL_DATA_DIR", "").split(os.pathsep) if p] + [
    ROOT.parent / "shared" / "data",
    ROOT.parent.parent / "shared" / "data",
]
ALL_WEEK = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), (time(9), time(21)))


def weekly_rate(local_s: np.ndarray, *, level: float = 20.0) -> np.ndarray:
    """A store shape: open 9–21, busy at 12 and 18, Saturdays busiest, Sundays quiet."""
    hour = (local_s % 86_400) // 3600
    weekday = ((local_s // 86_400) + 3) % 7
    day_shape = np.where((hour >= 9) & (hour < 21), 0.6 + 0.4 * np.cos((hour - 12) / 3) ** 2 + (hour == 18), 0.0)
    week = np.array([0.9, 0.85, 0.9, 1.0, 1.15, 1.5, 0.6])[weekday]
    return level * day_shape * week


def make_series(
    weeks: float,
    *,
    slot_s: int = 3600,
    seed: int = 0,
    level: float = 20.0,
    holidays: tuple[date, ...] = (),
    noise: bool = True,
) -> SlotSeries:
    """`weeks` of Poisson counts with the weekly shape; holidays as quiet as 30 % of a day."""
    n = int(weeks * 7 * 86_400 // slot_s)
    times = utc_seconds(START) + np.arange(n, dtype=np.int64) * slot_s
    local = local_seconds(times, TZ)
    rate = weekly_rate(local, level=level) * slot_s / 3600
    days = local // 86_400
    for d in holidays:
        rate = np.where(days == (d - date(1970, 1, 1)).days, rate * 0.3, rate)
    rng = np.random.default_rng(seed)
    y = rng.poisson(rate).astype(float) if noise else rate
    return SlotSeries(int(times[0]), slot_s, y, local)


def need_data(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test saying where it should be."""
    for d in DATA_DIRS:
        if d.joinpath(*parts).exists():
            return d.joinpath(*parts)
    pytest.skip(
        f"real data not available: {'/'.join(parts)} under ../shared/data (not part of the repository; "
        "set FOOTFALL_DATA_DIR to its folder)"
    )
