"""Staff per hour from the forecast, and each day's power hours."""

import numpy as np
import pytest

from footfall.models.errors import ModelError
from footfall.models.forecast import Forecast
from footfall.models.staffing import power_hours, staff_plan


def _fc(mean, upper=None, slot_s=3600) -> Forecast:
    m = np.array(mean, float)
    return Forecast(np.arange(m.size) * slot_s, slot_s, m, m * 0.8, np.array(upper or mean, float), "gbm+profile")


@pytest.mark.parametrize(
    ("mean", "ratio", "min_staff", "max_staff", "expected"),
    [
        ([0, 10, 30, 31], 15, 1, None, [0, 1, 2, 3]),  # closed hour gets nobody; 31/15 rounds up
        ([45, 45], 15, 1, None, [3, 3]),  # exactly on the ratio: no extra person
        ([100, 5], 10, 2, 6, [6, 2]),  # capped, and at least the minimum when open
    ],
)
def test_staff_reaches_the_target_ratio(mean, ratio, min_staff, max_staff, expected) -> None:
    plan = staff_plan(_fc(mean), target_ratio=ratio, min_staff=min_staff, max_staff=max_staff)
    assert plan.staff.tolist() == expected


def test_quarter_hour_forecasts_are_rates_per_hour() -> None:
    # 10 visitors per 15 minutes is 40 per hour: 3 staff at 15 per staff member
    plan = staff_plan(_fc([10, 10], slot_s=900), target_ratio=15)
    assert plan.staff.tolist() == [3, 3]


def test_busy_staffing_follows_the_upper_band() -> None:
    plan = staff_plan(_fc([20, 20], upper=[40, 20]), target_ratio=10)
    assert plan.staff.tolist() == [2, 2]
    assert plan.staff_busy.tolist() == [4, 2]


@pytest.mark.parametrize(("ratio", "min_staff"), [(0, 1), (-3, 1), (10, -1)])
def test_bad_targets_are_refused(ratio, min_staff) -> None:
    with pytest.raises(ModelError):
        staff_plan(_fc([1]), target_ratio=ratio, min_staff=min_staff)


def test_power_hours_want_people_and_money() -> None:
    hours = np.arange(24)
    times = hours * 3600
    visitors = np.where((hours >= 9) & (hours < 21), 10.0, 0.0)
    visitors[12] = visitors[18] = 40  # lunch and after work are busy
    revenue = visitors * 5
    revenue[18] = 50  # after work people look but buy little
    revenue[15] = 300  # mid-afternoon baskets are big
    got = [p.start // 3600 for p in power_hours(times, times, visitors, revenue, top=2)]
    assert got == [12, 15]
    assert [p.start // 3600 for p in power_hours(times, times, visitors, top=2)] == [12, 18]
