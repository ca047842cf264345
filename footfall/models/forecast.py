"""Traffic (and transactions, revenue) forecasts with a calibrated 10–90 % band.

The point forecast blends two models that fail differently:

- a gradient-boosted tree model (scikit-learn `HistGradientBoostingRegressor`, squared
  error on `log1p(count)`, recent weeks weighted more) on calendar features in store
  local time (slot of week, minute of day, weekday, public holiday, the day after one,
  share of the slot inside opening hours, day of year once there is more than a year of
  history);
- a robust seasonal profile: the median of the same slot of the week over the last four
  weeks (holidays left out), which follows the store's recent level.

The band is split-conformal: the model is fitted once more without its last week, that
week is forecast, and the 10 % and 90 % quantiles of the residuals (scaled by
`sqrt(forecast + 1)`, as counts spread like a Poisson variable) widen the final
forecast. With under `min_history_days` of history the forecaster falls back to the
seasonal profile alone and says so in `method` and `flags`.

Example:
    >>> f = TrafficForecaster().fit(series, spec)              # doctest: +SKIP
    >>> fc = f.predict_range(start_s, slots=14 * 24, tz=tz)    # doctest: +SKIP
    >>> fc.mean, fc.lower, fc.upper, fc.method                 # doctest: +SKIP
"""

import logging
import pickle
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
from threadpoolctl import threadpool_limits

from footfall.models.errors import ModelError, NotFitted
from footfall.models.features import FEATURES, FEATURES_YEAR, StoreCalendarSpec, calendar
from footfall.models.slots import DAY_S, WEEK_S, SlotSeries, local_seconds

if TYPE_CHECKING:  # scikit-learn takes a second or more to import: only fitting needs it
    from sklearn.ensemble import HistGradientBoostingRegressor

logger = logging.getLogger(__name__)

GBM = "gbm+profile"
BASELINE = "seasonal_baseline"
Z80 = 1.2816  # standard normal 90 % quantile, for a band nobody could calibrate yet


@dataclass(frozen=True)
class ForecasterOptions:
    """Knobs of the forecaster; the defaults are what the backtests in docs/models.md used."""

    min_history_days: float = 21.0
    """Below this many observed days the forecaster is the seasonal profile alone."""
    profile_weeks: int = 4
    blend: float = 0.5
    """Weight of the tree model in the point forecast (the rest is the seasonal profile)."""
    calibration_days: int = 7
    coverage: float = 0.8
    max_iter: int = 40
    learning_rate: float = 0.2
    min_samples_leaf: int = 20
    half_life_weeks: float = 12.0
    max_history_days: int = 730
    year_features_after_days: int = 400
    """Day of year is a feature only with more history than this (a tree cannot extrapolate it)."""


@dataclass(frozen=True)
class Forecast:
    """A forecast for consecutive slots.

    Attributes:
        times: slot starts, epoch seconds UTC.
        slot_s: slot width in seconds.
        mean: point forecast per slot.
        lower: lower band edge (the `(1 - coverage) / 2` quantile).
        upper: upper band edge.
        method: "gbm+profile" or "seasonal_baseline".
        flags: reasons a reader should weigh the forecast (short history, uncalibrated band…).
    """

    times: np.ndarray
    slot_s: int
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    method: str
    flags: tuple[str, ...] = ()

    def resample(self, factor: int) -> "Forecast":
        """Sum `factor` consecutive slots (e.g. four 15-minute slots into an hour).

        Band edges are summed too, which is conservative (slot errors are not independent
        enough to shrink it honestly).
        """
        n = self.mean.size // factor * factor

        def s(a: np.ndarray) -> np.ndarray:
            return a[:n].reshape(-1, factor).sum(axis=1)

        return replace(
            self,
            times=self.times[:n:factor],
            slot_s=self.slot_s * factor,
            mean=s(self.mean),
            lower=s(self.lower),
            upper=s(self.upper),
        )


@dataclass
class TrafficForecaster:
    """One series' forecaster: `fit` on history, then `predict` any future slots.

    Example:
        >>> s = SlotSeries.from_points(times, counts, slot_s=3600, tz=tz)   # doctest: +SKIP
        >>> f = TrafficForecaster().fit(s, StoreCalendarSpec())            # doctest: +SKIP
    """

    options: ForecasterOptions = field(default_factory=ForecasterOptions)
    method: str | None = None
    flags: tuple[str, ...] = ()
    slot_s: int = 3600
    spec: StoreCalendarSpec = field(default_factory=StoreCalendarSpec)
    trained_from: int = 0
    trained_to: int = 0
    observed_days: float = 0.0
    features: tuple[str, ...] = ()
    q_lo: float = -Z80
    q_hi: float = Z80
    calibration_slots: int = 0
    band_edges: list[float] = field(default_factory=list)
    band_q: list[tuple[float, float]] = field(default_factory=list)
    holdout: dict[str, float | int | None] = field(default_factory=dict)
    """The last week held out for calibration: `mase`, `mae`, `mae_naive`, `coverage_80`, `slots`."""
    _model: "HistGradientBoostingRegressor | None" = field(default=None, repr=False)
    _profile: np.ndarray | None = field(default=None, repr=False)
    _day_profile: np.ndarray | None = field(default=None, repr=False)
    _saw_holiday: bool = False

    # -- fitting ---------------------------------------------------------------------

    def fit(self, series: SlotSeries, spec: StoreCalendarSpec | None = None) -> "TrafficForecaster":
        """Fit on a history series and calibrate the band.

        Args:
            series: the history (NaN gaps allowed).
            spec: opening hours, holidays and closed days of the store.

        Raises:
            ModelError: the series has no observation at all.
        """
        spec = spec or StoreCalendarSpec()
        keep = self.options.max_history_days * DAY_S // series.slot_s
        if series.values.size > keep:
            series = series.window(series.values.size - keep, series.values.size)
        if not np.any(~np.isnan(series.values)):
            raise ModelError("the history has no observations; nothing to learn from")
        self._fit_point(series, spec)
        self._calibrate(series, spec)
        return self

    def _fit_point(self, series: SlotSeries, spec: StoreCalendarSpec) -> None:
        o = self.options
        self.slot_s, self.spec = series.slot_s, spec
        self.trained_from, self.trained_to = series.t0, series.end
        self.observed_days = series.observed_days
        cal = calendar(series.local, series.slot_s, spec)
        y = series.values
        have = ~np.isnan(y)
        self._profile, self._day_profile = _profiles(
            y, slot_of_week=cal.slot_of_week, minute_of_day=cal.minute_of_day, holiday=cal.holiday, series=series, o=o
        )
        if self.observed_days < o.min_history_days:
            self.method = BASELINE
            self.flags = (
                f"short_history: {self.observed_days:.1f} days observed, the model needs {o.min_history_days:g}",
            )
            self._model = None
            self.features = ("slot_of_week profile",)
            return
        with_year = (series.end - series.t0) / DAY_S > o.year_features_after_days
        self.features = FEATURES_YEAR if with_year else FEATURES
        x = cal.matrix(with_year=with_year)[have]
        age_weeks = (series.values.size - 1 - np.flatnonzero(have)) * series.slot_s / WEEK_S
        weight = 0.5 ** (age_weeks / o.half_life_weeks)
        from sklearn.ensemble import HistGradientBoostingRegressor

        model = HistGradientBoostingRegressor(
            loss="squared_error",
            max_iter=o.max_iter,
            learning_rate=o.learning_rate,
            min_samples_leaf=o.min_samples_leaf,
            early_stopping=False,
            random_state=0,
        )
        # One thread: the machines that train are shared, and OpenMP threads fighting over
        # busy cores make a fit ten times slower, not faster.
        with threadpool_limits(limits=1):
            model.fit(x, np.log1p(np.maximum(y[have], 0)), sample_weight=weight)
        self._model = model
        self._saw_holiday = bool(np.any(cal.holiday[have]))
        self.method = GBM
        self.flags = ()

    def _calibrate(self, series: SlotSeries, spec: StoreCalendarSpec) -> None:
        o = self.options
        cal_slots = o.calibration_days * DAY_S // series.slot_s
        head = series.head(series.values.size - cal_slots)
        tail_y = series.values[-cal_slots:]
        usable = head.values.size > 0 and np.any(~np.isnan(head.values))
        # the held-out fit must stay on the same path as the final one, or the band
        # would describe a different model
        enough = usable and (
            (self.method == BASELINE and head.observed_days >= 7) or head.observed_days >= o.min_history_days
        )
        if not enough or np.count_nonzero(~np.isnan(tail_y)) < 24:
            self.q_lo, self.q_hi = -Z80, Z80
            self.flags = (*self.flags, "band_uncalibrated: too little history to hold a week out; Poisson-like band")
            return
        probe = TrafficForecaster(options=o)
        probe._fit_point(head, spec)
        if probe.method != self.method:
            self.q_lo, self.q_hi = -Z80, Z80
            self.flags = (*self.flags, "band_uncalibrated: too little history to hold a week out; Poisson-like band")
            return
        times = series.times[-cal_slots:]
        p = probe._point(times, series.local[-cal_slots:])
        # slots forced to zero (closed) say nothing about the band's width
        ok = ~np.isnan(tail_y) & ((p > 0) | (tail_y > 0))
        scores = (tail_y[ok] - p[ok]) / np.sqrt(p[ok] + 1.0)
        self._set_bands(p[ok], scores)
        self.holdout = _holdout(series, cal_slots=cal_slots, p=p, p_ok=p[ok], scores=scores, coverage=o.coverage)

    def _set_bands(self, p: np.ndarray, scores: np.ndarray) -> None:
        """Split-conformal quantiles per forecast level (Mondrian bins by tercile of the
        forecast), so quiet hours do not make the band of busy hours too narrow."""
        edges, q = _mondrian(p, scores, self.options.coverage)
        self.band_edges = [float(e) for e in edges]
        self.band_q = q
        self.q_lo, self.q_hi = min(x[0] for x in q), max(x[1] for x in q)
        self.calibration_slots = int(scores.size)

    # -- predicting ------------------------------------------------------------------

    def _point(self, times: np.ndarray, local: np.ndarray) -> np.ndarray:
        if self.method is None or self._profile is None or self._day_profile is None:
            raise NotFitted("call fit() before predict()")
        cal = calendar(local, self.slot_s, self.spec)
        prof = self._profile[cal.slot_of_week]
        missing = np.isnan(prof)
        if np.any(missing):
            prof = np.where(missing, self._day_profile[cal.minute_of_day // (self.slot_s // 60)], prof)
        prof = np.nan_to_num(prof, nan=0.0)
        if self._model is None:
            point = prof
        else:
            x = cal.matrix(with_year=self.features == FEATURES_YEAR)
            with threadpool_limits(limits=1):
                tree = np.expm1(self._model.predict(x))
            tree = np.maximum(tree, 0.0)
            w = np.full(tree.size, self.options.blend)
            if self._saw_holiday:
                w[cal.holiday] = 1.0  # the profile has no holidays in it; the trees learnt them
            point = w * tree + (1 - w) * prof
        if self.spec.opening_hours or self.spec.closed_days:
            point = point * (cal.open_share > 0)
        return np.maximum(point, 0.0)

    def predict(self, times: np.ndarray, local: np.ndarray) -> Forecast:
        """Forecast the slots starting at `times` (UTC) whose wall-clock starts are `local`.

        Raises:
            NotFitted: `fit` was not called.
        """
        times = np.asarray(times, dtype=np.int64)
        p = self._point(times, np.asarray(local, dtype=np.int64))
        scale = np.sqrt(p + 1.0)
        if self.band_q:
            q = np.array(self.band_q)[np.searchsorted(np.array(self.band_edges), p, side="right")]
            q_lo, q_hi = q[:, 0], q[:, 1]
        else:
            q_lo, q_hi = np.full(p.size, self.q_lo), np.full(p.size, self.q_hi)
        # the band always holds the point forecast, even where quiet slots calibrated one-sided
        lower = np.clip(p + q_lo * scale, 0.0, p)
        upper = np.maximum(p + q_hi * scale, p)
        closed = p == 0
        if self.spec.opening_hours or self.spec.closed_days:
            lower, upper = np.where(closed, 0.0, lower), np.where(closed, 0.0, upper)
        return Forecast(times, self.slot_s, p, lower, upper, self.method or BASELINE, self.flags)

    def predict_range(self, start_s: int, slots: int, *, tz: ZoneInfo | None) -> Forecast:
        """Forecast `slots` consecutive slots from `start_s` (UTC, on the slot grid)."""
        times = start_s + np.arange(slots, dtype=np.int64) * self.slot_s
        return self.predict(times, local_seconds(times, tz))

    # -- persistence -----------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The fitted forecaster as bytes (pickle; load only bytes you stored yourself)."""
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> "TrafficForecaster":
        """Load what `to_bytes` made.

        Raises:
            ModelError: the bytes are not a forecaster.
        """
        obj = pickle.loads(data)  # noqa: S301 - our own model table, written by `to_bytes`
        if not isinstance(obj, cls):
            raise ModelError("stored bytes are not a TrafficForecaster; retrain with `footfall models train`")
        return obj

    def describe(self) -> dict[str, object]:
        """What was trained, JSON-ready (stored beside the bytes)."""
        return {
            "method": self.method,
            "flags": list(self.flags),
            "slot_minutes": self.slot_s // 60,
            "observed_days": round(self.observed_days, 2),
            "features": list(self.features),
            "band": {"coverage": self.options.coverage, "level_edges": self.band_edges,
                     "quantiles": [list(q) for q in self.band_q], "calibration_slots": self.calibration_slots},
            "calendar": self.spec.describe(),
        }  # fmt: skip


def _mondrian(p: np.ndarray, scores: np.ndarray, coverage: float) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Bin edges (terciles of the forecast) and finite-sample conformal quantiles per bin."""
    alpha = (1 - coverage) / 2
    edges = np.quantile(p, [1 / 3, 2 / 3]) if p.size >= 90 else np.array([])
    bins = np.searchsorted(edges, p, side="right")
    out = []
    for b in range(edges.size + 1):
        sc = scores[bins == b]
        if sc.size < 10:
            sc = scores
        n = sc.size
        lo_q = max(0.0, np.floor(alpha * (n + 1)) / n)
        hi_q = min(1.0, np.ceil((1 - alpha) * (n + 1)) / n)
        out.append((float(np.quantile(sc, lo_q)), float(np.quantile(sc, hi_q))))
    return edges, out


def _holdout(
    series: SlotSeries, *, cal_slots: int, p: np.ndarray, p_ok: np.ndarray, scores: np.ndarray, coverage: float
) -> dict[str, float | int | None]:
    """Scores of the held-out week: the point forecast against seasonal naive, and the
    band's coverage estimated by calibrating on every other slot and counting on the rest
    (both ways), so no slot is scored by quantiles it helped set."""
    y = series.values[-cal_slots:]
    naive = seasonal_naive(series, series.values.size - cal_slots, cal_slots)
    good = ~np.isnan(y) & ~np.isnan(naive)
    mae = float(np.abs(y[good] - p[good]).mean()) if good.any() else None
    mae_n = float(np.abs(y[good] - naive[good]).mean()) if good.any() else None
    cover = None
    if scores.size >= 40:
        hits = []
        for cal, test in ((0, 1), (1, 0)):
            edges, q = _mondrian(p_ok[cal::2], scores[cal::2], coverage)
            qq = np.array(q)[np.searchsorted(edges, p_ok[test::2], side="right")]
            t = scores[test::2]
            hits.append(np.mean((t >= qq[:, 0]) & (t <= qq[:, 1])))
        cover = float(np.mean(hits))
    return {
        "mase": round(mae / mae_n, 4) if mae is not None and mae_n else None,
        "mae": None if mae is None else round(mae, 4),
        "mae_naive": None if mae_n is None else round(mae_n, 4),
        "coverage_80": None if cover is None else round(cover, 4),
        "slots": int(good.sum()),
    }


def _profiles(
    y: np.ndarray,
    *,
    slot_of_week: np.ndarray,
    minute_of_day: np.ndarray,
    holiday: np.ndarray,
    series: SlotSeries,
    o: ForecasterOptions,
) -> tuple[np.ndarray, np.ndarray]:
    """Median of each slot of the week over the last `profile_weeks` weeks, and of each slot
    of the day (for slots of the week never seen), holidays left out."""
    per_week = series.per_week
    per_day = DAY_S // series.slot_s
    start = max(0, y.size - o.profile_weeks * per_week)
    yy, sow, mod, hol = y[start:], slot_of_week[start:], minute_of_day[start:], holiday[start:]
    ok = ~np.isnan(yy) & ~hol
    if not np.any(ok):  # only holidays lately: better than nothing
        ok = ~np.isnan(yy)
    prof = _group_median(sow[ok], yy[ok], per_week)
    day = _group_median(mod[ok] // (series.slot_s // 60), yy[ok], per_day)
    return prof, day


def _group_median(keys: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    out = np.full(size, np.nan)
    if keys.size == 0:
        return out
    order = np.lexsort((values, keys))
    k, v = keys[order], values[order]
    bounds = np.flatnonzero(np.diff(k)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [k.size]])
    lo = v[starts + (ends - starts - 1) // 2]
    hi = v[starts + (ends - starts) // 2]
    out[k[starts]] = (lo + hi) / 2
    return out


def seasonal_naive(series: SlotSeries, origin: int, slots: int) -> np.ndarray:
    """The seasonal-naive forecast from index `origin`: the last observed week, repeated.

    Slot `origin + h` gets the value one, two, … weeks before it, whichever is the most
    recent one before the origin (NaN where that slot was not observed).
    """
    per_week = series.per_week
    h = np.arange(slots)
    back = (h // per_week + 1) * per_week
    idx = origin + h - back
    out = np.full(slots, np.nan)
    ok = idx >= 0
    out[ok] = series.values[idx[ok]]
    return out
