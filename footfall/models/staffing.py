"""Staffing from the forecast: staff per hour for a target shopper-to-staff ratio, and power hours.

Example:
    >>> plan = staff_plan(fc_entries, target_ratio=15, min_staff=1, open_share=share)  # doctest: +SKIP
    >>> plan.staff, plan.staff_busy                                                    # doctest: +SKIP
"""

from dataclasses import dataclass

import numpy as np

from footfall.models.errors import ModelError
from footfall.models.forecast import Forecast


@dataclass(frozen=True)
class StaffPlan:
    """Recommended staff per slot.

    Attributes:
        times: slot starts, epoch seconds UTC.
        visitors: forecast visitors per slot (the point forecast).
        staff: staff to reach the target ratio at the point forecast (≥ `min_staff` when open).
        staff_busy: staff to hold the ratio at the band's upper edge (a busy hour, 9 in 10 covered).
    """

    times: np.ndarray
    visitors: np.ndarray
    staff: np.ndarray
    staff_busy: np.ndarray


def staff_plan(
    entries: Forecast,
    *,
    target_ratio: float,
    min_staff: int = 1,
    max_staff: int | None = None,
    open_share: np.ndarray | None = None,
) -> StaffPlan:
    """Staff per slot so that visitors per staff member stay at or under `target_ratio`.

    The ratio is visitors per hour per staff member (the KPI's definition), so slot
    forecasts are turned into hourly rates first.

    Args:
        entries: the visitors forecast.
        target_ratio: shoppers per staff member per hour to aim for (> 0).
        min_staff: staff whenever the store is open.
        max_staff: cap (the floor's size, the payroll), if any.
        open_share: share of each slot inside opening hours; closed slots get 0 staff.
            None: open whenever visitors are forecast.

    Raises:
        ModelError: a non-positive ratio or negative minimum.
    """
    if target_ratio <= 0:
        raise ModelError("target_ratio must be > 0 shoppers per staff member per hour")
    if min_staff < 0 or (max_staff is not None and max_staff < min_staff):
        raise ModelError("min_staff must be ≥ 0 and max_staff ≥ min_staff")
    per_hour = 3600 / entries.slot_s
    is_open = (entries.mean > 0) if open_share is None else (np.asarray(open_share) > 0)

    def need(visitors: np.ndarray) -> np.ndarray:
        s = np.ceil(np.round(visitors * per_hour / target_ratio, 6)).astype(int)
        s = np.maximum(s, min_staff)
        if max_staff is not None:
            s = np.minimum(s, max_staff)
        return np.where(is_open, s, 0)

    return StaffPlan(entries.times, entries.mean, need(entries.mean), need(entries.upper))


@dataclass(frozen=True)
class PowerHour:
    """One of a day's strongest hours."""

    start: int
    day: int
    visitors: float
    revenue: float | None
    score: float


def power_hours(
    times: np.ndarray,
    local: np.ndarray,
    visitors: np.ndarray,
    revenue: np.ndarray | None = None,
    *,
    top: int = 3,
) -> list[PowerHour]:
    """Each local day's `top` hours of highest traffic and sales opportunity.

    An hour's score is the geometric mean of its share of the day's visitors and of the
    day's revenue (visitors alone when there is no revenue forecast), so an hour ranks
    high when both people and money are there.

    Args:
        times: hourly slot starts, epoch seconds UTC.
        local: their wall-clock seconds.
        visitors: forecast visitors per hour.
        revenue: forecast revenue per hour, if known.
        top: hours per day.
    """
    day = np.asarray(local) // 86_400
    out: list[PowerHour] = []
    for d in np.unique(day):
        idx = np.flatnonzero(day == d)
        v = np.maximum(visitors[idx], 0.0)
        if v.sum() <= 0:
            continue
        share = v / v.sum()
        if revenue is not None and np.nansum(np.maximum(revenue[idx], 0)) > 0:
            r = np.maximum(np.nan_to_num(revenue[idx]), 0.0)
            score = np.sqrt(share * r / r.sum())
        else:
            score = share
        best = idx[np.argsort(-score, kind="stable")[:top]]
        for i in sorted(best.tolist()):
            j = int(np.flatnonzero(idx == i)[0])
            out.append(
                PowerHour(
                    start=int(times[i]),
                    day=int(d),
                    visitors=float(visitors[i]),
                    revenue=None if revenue is None else float(revenue[i]),
                    score=float(score[j]),
                )
            )
    return out
