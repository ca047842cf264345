"""The forecaster on synthetic series of known shape: weekly seasonality, holidays, closed hours,
short history, gaps; and its band's coverage."""

from datetime import date, time

import numpy as np
import pytest

from footfall.models.errors import ModelError, NotFitted
from footfall.models.features import StoreCalendarSpec, calendar
from footfall.models.forecast import BASELINE, GBM, TrafficForecaster, seasonal_naive
from footfall.models.holidays import HolidayCalendar, easter, nth_weekday
from footfall.models.slots import SlotSeries

from .conftest import ALL_WEEK, TZ, make_series, weekly_rate


def _split(s: SlotSeries, weeks: int) -> tuple[SlotSeries, np.ndarray, np.ndarray, np.ndarray]:
    cut = s.values.size - weeks * s.per_week
    return s.head(cut), s.times[cut:], s.local[cut:], s.values[cut:]


@pytest.mark.parametrize(
    ("weeks", "slot_s", "method"),
    [
        (8, 3600, GBM),  # two months hourly: the tree model
        (8, 900, GBM),  # 15-minute slots
        (2, 3600, BASELINE),  # two weeks: too short, seasonal profile with a flag
        (0.5, 3600, BASELINE),  # half a week: slot-of-day profile
    ],
)
def test_forecast_follows_the_weekly_shape_and_beats_seasonal_naive(weeks, slot_s, method) -> None:
    s = make_series(weeks + 1, slot_s=slot_s)
    hist, times, local, actual = _split(s, 1)
    f = TrafficForecaster().fit(hist)
    fc = f.predict(times, local)
    assert fc.method == method
    assert (method == BASELINE) == any(flag.startswith("short_history") for flag in fc.flags)
    truth = weekly_rate(local) * slot_s / 3600
    # the point forecast is close to the true rate (noise-free) on average
    assert np.abs(fc.mean - truth).mean() < 0.35 * truth.mean()
    if weeks >= 1:
        naive = seasonal_naive(s, hist.values.size, times.size)
        assert np.abs(fc.mean - actual).mean() < np.abs(naive - actual).mean()
    assert np.all(fc.lower <= fc.mean + 1e-9)
    assert np.all(fc.mean <= fc.upper + 1e-9)
    assert np.all(fc.lower >= 0)


def test_band_covers_about_80_percent_of_new_data() -> None:
    s = make_series(12, seed=3)
    hist, times, local, actual = _split(s, 2)
    fc = TrafficForecaster().fit(hist, StoreCalendarSpec(opening_hours=ALL_WEEK)).predict(times, local)
    open_ = calendar(local, 3600, StoreCalendarSpec(opening_hours=ALL_WEEK)).open_share > 0
    inside = (actual >= fc.lower) & (actual <= fc.upper)
    assert 0.7 <= inside[open_].mean() <= 0.92


def test_closed_hours_and_closed_days_forecast_zero() -> None:
    closed = date(2026, 3, 4)
    spec = StoreCalendarSpec(opening_hours=ALL_WEEK, closed_days=frozenset({closed}))
    s = make_series(9)
    hist, times, local, _ = _split(s, 1)
    fc = TrafficForecaster().fit(hist, spec).predict(times, local)
    cal = calendar(local, 3600, spec)
    shut = cal.open_share == 0
    assert np.all(fc.mean[shut] == 0)
    assert np.all(fc.upper[shut] == 0)
    assert np.all(fc.mean[~shut] > 0)
    assert np.any(cal.days == (closed - date(1970, 1, 1)).days)


def test_a_learnt_holiday_is_forecast_quieter_than_the_same_weekday() -> None:
    # LV: 1 May and 4 May 2026 are public holidays in the history; 23/24 June in the future
    holidays = (date(2026, 1, 6), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 4))
    s = make_series(26, holidays=(*holidays, date(2026, 6, 23), date(2026, 6, 24)), seed=1)
    spec = StoreCalendarSpec(holidays=HolidayCalendar.preset("LV"))
    hist, times, local, _ = _split(s, 2)
    f = TrafficForecaster().fit(hist, spec)
    fc = f.predict(times, local)
    days = local // 86_400
    hol = days == (date(2026, 6, 23) - date(1970, 1, 1)).days
    same_weekday = days == (date(2026, 6, 30) - date(1970, 1, 1)).days
    assert hol.any()
    assert same_weekday.any()
    assert fc.mean[hol].sum() < 0.7 * fc.mean[same_weekday].sum()


def test_gaps_are_allowed_and_a_model_round_trips_through_bytes() -> None:
    s = make_series(6)
    v = s.values.copy()
    v[200:260] = np.nan  # two and a half days without data
    hist = SlotSeries(s.t0, s.slot_s, v, s.local)
    f = TrafficForecaster().fit(hist)
    g = TrafficForecaster.from_bytes(f.to_bytes())
    a = f.predict_range(hist.end, 48, tz=TZ)
    b = g.predict_range(hist.end, 48, tz=TZ)
    assert np.array_equal(a.mean, b.mean)
    assert g.describe()["method"] == GBM


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: TrafficForecaster().predict(np.array([0]), np.array([0])), NotFitted),  # not fitted
        (lambda: TrafficForecaster().fit(SlotSeries(0, 3600, np.full(5, np.nan), np.zeros(5, int))), ModelError),
        (lambda: TrafficForecaster.from_bytes(__import__("pickle").dumps({"not": "a model"})), ModelError),
        (lambda: HolidayCalendar.preset("XX"), ModelError),  # unknown preset names the choices
    ],
)
def test_misuse_raises_a_clear_error(call, error) -> None:
    with pytest.raises(error):
        call()


@pytest.mark.parametrize(
    ("got", "expected"),
    [
        (easter(2026), date(2026, 4, 5)),
        (easter(2005), date(2005, 3, 27)),
        (nth_weekday(2005, 9, 0, 1), date(2005, 9, 5)),  # US Labor Day
        (nth_weekday(2026, 5, 0, -1), date(2026, 5, 25)),  # last Monday of May
    ],
)
def test_holiday_rules(got, expected) -> None:
    assert got == expected


def test_features_use_local_wall_clock_across_dst() -> None:
    # 2026-03-29 in Riga has 23 hours: the slot after 02:00 local is 04:00 local
    from footfall.models.backtest import utc_seconds
    from footfall.models.slots import local_seconds

    t0 = utc_seconds(__import__("datetime").datetime(2026, 3, 29, 0, 0, tzinfo=TZ))
    times = t0 + np.arange(24) * 3600
    cal = calendar(local_seconds(times, TZ), 3600, StoreCalendarSpec(opening_hours={"sun": (time(9), time(18))}))
    hours = (cal.minute_of_day // 60).tolist()
    assert hours[:4] == [0, 1, 2, 4]
    assert cal.open_share[hours.index(9)] == 1.0
    assert cal.open_share[hours.index(8)] == 0.0
