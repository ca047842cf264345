"""Training, persistence and serving of a store's models (see the package docstring)."""

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from typing import Any

import numpy as np

from footfall.api.forecasts.errors import ForecastError, NothingToForecast
from footfall.api.forecasts.history import History, grid, load_history, slot_origin
from footfall.api.kpis import StoreInfo, check_period
from footfall.api.schemas.forecasts import (
    AnomaliesPublic,
    AnomalyPublic,
    BandPublic,
    ForecastPublic,
    ForecastRowPublic,
    ModelPublic,
    PowerHourPublic,
    StaffingPublic,
    StaffRowPublic,
)
from footfall.core.calendar import Interval
from footfall.db.connect import DictConnection
from footfall.db.queries import queries
from footfall.models import anomalies as an
from footfall.models.features import StoreCalendarSpec, calendar
from footfall.models.forecast import Forecast, ForecasterOptions, TrafficForecaster
from footfall.models.holidays import HolidayCalendar
from footfall.models.slots import local_seconds
from footfall.models.staffing import power_hours, staff_plan

logger = logging.getLogger(__name__)

METRICS = ("entries", "transactions", "revenue")
SLOT_S = 3600
MAX_AHEAD_DAYS = 14
MAX_FORECAST_DAYS = 31
MAX_ANOMALY_DAYS = 7
KEEP_VERSIONS = 5
HISTORY_DAYS = 365
SHARE_DAYS = 28
MIN_EXCESS = 10.0
"""People over or under the band a traffic anomaly needs before it is reported."""
SHARE_PRIOR = 60.0
"""People-worth of prior belief in an even split, when quarter and door shares are estimated."""
Q = 900  # quarter-hour slots for 15-minute forecasts and anomaly detection


# -- training and persistence ------------------------------------------------------------


def holiday_calendar(store: StoreInfo, preset: str | None = None, extra: tuple[date, ...] = ()) -> HolidayCalendar:
    """The store's holiday calendar: a preset code, or (None / "auto") the one its time zone suggests."""
    if preset is None or preset.lower() == "auto":
        base = HolidayCalendar.for_zone(store.timezone)
        return HolidayCalendar(base.name, base.rules, frozenset(extra))
    return HolidayCalendar.preset(preset, extra)


def store_spec(store: StoreInfo, holidays: HolidayCalendar | None = None) -> StoreCalendarSpec:
    """What the models know of a store's calendar."""
    return StoreCalendarSpec(
        opening_hours=store.opening_hours, holidays=holidays or holiday_calendar(store), closed_days=frozenset()
    )


@dataclass(frozen=True)
class TrainResult:
    """One trained and stored model."""

    store_id: str
    metric: str
    version: int
    method: str
    train_start: datetime
    train_end: datetime
    backtest: dict[str, float | int | None]
    flags: tuple[str, ...]
    seconds: float


def _now_slot(now: datetime | None = None) -> datetime:
    t = int((now or datetime.now(UTC)).timestamp())
    return datetime.fromtimestamp(t - t % Q, UTC)


def fit_store(
    history: History, spec: StoreCalendarSpec, options: ForecasterOptions | None = None
) -> dict[str, TrafficForecaster]:
    """Fit one forecaster per metric that has data (pure computation, no database)."""
    out = {}
    for metric in METRICS:
        s = history.series(metric)
        if s is not None:
            out[metric] = TrafficForecaster(options=options or ForecasterOptions()).fit(s, spec)
    return out


def train_store(
    conn: DictConnection,
    store: StoreInfo,
    *,
    end: datetime | None = None,
    holidays: HolidayCalendar | None = None,
    options: ForecasterOptions | None = None,
    days: int = HISTORY_DAYS,
) -> list[TrainResult]:
    """Fit a store's models on `days` of history before `end` and store them as new versions.

    Returns:
        One result per metric with data (none when the store has no history at all).
    """
    end = _now_slot(end)
    history = load_history(conn, store, end=end, days=days, slot_s=SLOT_S)
    spec = store_spec(store, holidays)
    results = []
    q = queries("models")
    fitted: list[tuple[str, TrafficForecaster, float]] = []
    for metric in METRICS:
        s = history.series(metric)
        if s is None:
            continue
        t = time.perf_counter()
        f = TrafficForecaster(options=options or ForecasterOptions()).fit(s, spec)
        fitted.append((metric, f, time.perf_counter() - t))
    with conn.transaction():
        for metric, f, seconds in fitted:
            row = conn.execute(q["next_model_version"], {"store_id": store.store_id, "metric": metric}).fetchone()
            version = int(row["version"]) if row else 1
            start, stop = datetime.fromtimestamp(f.trained_from, UTC), datetime.fromtimestamp(f.trained_to, UTC)
            conn.execute(
                q["insert_model"],
                {
                    "store_id": store.store_id,
                    "metric": metric,
                    "version": version,
                    "slot_minutes": f.slot_s // 60,
                    "method": f.method,
                    "train_start": start,
                    "train_end": stop,
                    "features": list(f.features),
                    "backtest": json.dumps(f.holdout),
                    "details": json.dumps(f.describe()),
                    "library": "scikit-learn " + metadata.version("scikit-learn"),
                    "model": f.to_bytes(),
                },
            )
            results.append(
                TrainResult(store.store_id, metric, version, f.method or "", start, stop, f.holdout, f.flags, seconds)
            )
        conn.execute(q["prune_models"], {"store_id": store.store_id, "keep": KEEP_VERSIONS})
    logger.debug("trained %d model(s)", len(results), extra={"store_id": store.store_id})
    return results


def stale_stores(conn: DictConnection, *, older_than: timedelta) -> list[str]:
    """Stores with no model, or whose newest model is older than `older_than` (for scheduled retraining)."""
    cutoff = datetime.now(UTC) - older_than
    return [r["store_id"] for r in conn.execute(queries("models")["stale_stores"], {"older_than": cutoff})]


def list_models(conn: DictConnection, store_ids: list[str]) -> list[dict]:
    """Stored model versions (without their bytes), newest first per store and metric."""
    return conn.execute(queries("models")["list_models"], {"store_ids": store_ids}).fetchall()


# -- loading ---------------------------------------------------------------------------


@dataclass
class Loaded:
    """A forecaster with where it came from."""

    metric: str
    forecaster: TrafficForecaster
    version: int | None
    trained_at: datetime | None
    backtest: dict = field(default_factory=dict)
    extra_flags: tuple[str, ...] = ()

    def public(self, store_id: str) -> ModelPublic:
        """The public description."""
        f = self.forecaster
        return ModelPublic(
            metric=self.metric,  # type: ignore[arg-type]
            version=self.version,
            model_version=self.label(store_id),
            method=f.method or "",
            trained_at=self.trained_at,
            train_start=datetime.fromtimestamp(f.trained_from, UTC),
            train_end=datetime.fromtimestamp(f.trained_to, UTC),
            features=list(f.features),
            backtest=self.backtest,
            flags=[*f.flags, *self.extra_flags],
        )

    def label(self, store_id: str) -> str:
        """`{store}/{metric}/v{n}` or `…/on-request`."""
        return f"{store_id}/{self.metric}/" + (f"v{self.version}" if self.version else "on-request")


CacheKey = tuple[str, str, int, datetime]
_CACHE: OrderedDict[CacheKey, TrafficForecaster] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 256


def _unpickle(key: CacheKey, data: bytes) -> TrafficForecaster:
    # keyed by store, metric, version and training time, not the row id: ids repeat across
    # databases (tests, a second app in one process), training times do not
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    f = TrafficForecaster.from_bytes(bytes(data))
    with _CACHE_LOCK:
        _CACHE[key] = f
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return f


def load_models(
    conn: DictConnection, store: StoreInfo, *, fit_missing: bool = True, now: datetime | None = None
) -> dict[str, Loaded]:
    """The newest stored model per metric; metrics with data but no stored model are fitted on
    request (not stored, on the history up to `now`, default the system clock's) and flagged,
    so a new store answers before its first training."""
    out: dict[str, Loaded] = {}
    broken: list[str] = []
    for r in conn.execute(queries("models")["latest_models"], {"store_id": store.store_id}):
        try:
            f = _unpickle((r["store_id"], r["metric"], r["version"], r["trained_at"]), r["model"])
        except Exception as exc:  # any unpickling failure (library upgrade, bad bytes) means: refit
            logger.warning(
                "stored model %s v%s cannot be loaded (%s; it needs %s): fitting on request",
                r["metric"], r["version"], exc, r["library"], extra={"store_id": store.store_id},
            )  # fmt: skip
            broken.append(f"{r['metric']} v{r['version']}")
            continue
        out[r["metric"]] = Loaded(r["metric"], f, r["version"], r["trained_at"], r["backtest"])
    if fit_missing and ("entries" not in out or broken):
        history = load_history(conn, store, end=_now_slot(now), slot_s=SLOT_S)
        why = f"stored {', '.join(broken)} could not be loaded" if broken else "not_trained"
        note = f"{why}: fitted on request, not stored; run `footfall models train --store {store.store_id}`"
        for metric, f in _fitted_on_request(store, history).items():
            if metric not in out:
                out[metric] = Loaded(metric, f, None, None, f.holdout, (note,))
    return out


_ON_REQUEST: OrderedDict[tuple[str, str], dict[str, TrafficForecaster]] = OrderedDict()
_ON_REQUEST_LOCKS: defaultdict[tuple[str, str], threading.Lock] = defaultdict(threading.Lock)


def _fitted_on_request(store: StoreInfo, history: History) -> dict[str, TrafficForecaster]:
    """`fit_store` on `history`, once per distinct history: a manager's page asks for the
    forecast, staffing and anomalies at the same moment, and each would otherwise fit the same
    models again (seconds of CPU each, holding a database connection meanwhile). Keyed by the
    history's own bytes, so new data, another database or another store means a new fit."""
    spec = store_spec(store)
    digest = hashlib.blake2b(repr(spec).encode(), digest_size=16)
    for part in (history.times, history.entries, history.transactions, history.revenue):
        if part is not None:
            digest.update(np.ascontiguousarray(part).tobytes())
    key = (store.store_id, digest.hexdigest())
    with _CACHE_LOCK:
        lock = _ON_REQUEST_LOCKS[key]
    with lock:  # concurrent requests for the same history wait for one fit
        with _CACHE_LOCK:
            if key in _ON_REQUEST:
                _ON_REQUEST.move_to_end(key)
                return _ON_REQUEST[key]
        fitted = fit_store(history, spec)
        with _CACHE_LOCK:
            _ON_REQUEST[key] = fitted
            while len(_ON_REQUEST) > _CACHE_SIZE // 8:
                old, _ = _ON_REQUEST.popitem(last=False)
                _ON_REQUEST_LOCKS.pop(old, None)
    return fitted


# -- forecasts -------------------------------------------------------------------------


@dataclass
class Shares:
    """How an hour splits into quarters, and the store into doors, from the last four weeks."""

    quarter: np.ndarray  # (672,) share of its hour per 15-minute slot of the week
    doors: dict[str, np.ndarray]  # door → (168,) share of the store per hour slot of the week


def _shares(conn: DictConnection, store: StoreInfo, end: datetime) -> Shares:
    h = load_history(conn, store, end=end, days=SHARE_DAYS, slot_s=Q)
    cal = calendar(h.local, Q, StoreCalendarSpec())
    sow_q = cal.slot_of_week
    hour_of_week = sow_q // 4
    quarter = np.full(672, 0.25)
    y = h.entries
    if y.size:
        # hour totals for each quarter's own hour (quarters of one hour are consecutive in the grid)
        key = (h.local // 3600).astype(np.int64)
        uniq, inv = np.unique(key, return_inverse=True)
        sums = np.bincount(inv, weights=np.nan_to_num(y), minlength=uniq.size)
        hour_total = sums[inv]
        ok = ~np.isnan(y) & (hour_total > 0)
        num = np.bincount(sow_q[ok], weights=y[ok], minlength=672)
        den = np.bincount(sow_q[ok], weights=hour_total[ok], minlength=672)
        # shrink toward an even split: four weeks of a quiet quarter hour is a handful of people
        quarter = (num + 0.25 * SHARE_PRIOR) / (den + SHARE_PRIOR)
    doors = {}
    for door, v in h.doors.items():
        ok = ~np.isnan(v) & ~np.isnan(y)
        num = np.bincount(hour_of_week[ok], weights=v[ok], minlength=168)
        den = np.bincount(hour_of_week[ok], weights=y[ok], minlength=168)
        overall = v[ok].sum() / y[ok].sum() if ok.any() and y[ok].sum() > 0 else 1 / max(len(h.doors), 1)
        doors[door] = (num + overall * SHARE_PRIOR) / (den + SHARE_PRIOR)
    return Shares(quarter, doors)


def _predict(
    loaded: dict[str, Loaded],
    *,
    times: np.ndarray,
    local: np.ndarray,
    slot_s: int,
    door: str | None,
    shares: Shares | None,
) -> dict[str, Forecast]:
    """Each metric's forecast on a grid of `slot_s` slots (hourly models split into quarters
    and doors by the recent shares; bands scale with the share, which keeps them conservative)."""
    out = {}
    hour_times = times - (local % 3600) if slot_s == Q else times
    hour_local = local - (local % 3600) if slot_s == Q else local
    cal = calendar(local, slot_s, StoreCalendarSpec())
    for metric, ld in loaded.items():
        fc = ld.forecaster.predict(hour_times, hour_local)
        factor = np.ones(times.size)
        if slot_s == Q and shares is not None:
            factor *= shares.quarter[cal.slot_of_week]
        if door is not None and metric == "entries" and shares is not None:
            factor *= shares.doors.get(door, np.zeros(168))[cal.slot_of_week // (4 if slot_s == Q else 1)]
        out[metric] = Forecast(
            times, slot_s, fc.mean * factor, fc.lower * factor, fc.upper * factor, fc.method, fc.flags
        )
    return out


def _check_ahead(store: StoreInfo, last: date, today: date | None) -> None:
    today = today or store.calendar.local_date(datetime.now(UTC))
    if last > today + timedelta(days=MAX_AHEAD_DAYS):
        raise ForecastError(
            f"forecasts reach {MAX_AHEAD_DAYS} days ahead (to {today + timedelta(days=MAX_AHEAD_DAYS)}); "
            f"ask for a `last` on or before it"
        )


def _band(fc: Forecast | None, i: int) -> BandPublic | None:
    if fc is None:
        return None
    return BandPublic(mean=round(float(fc.mean[i]), 3), lower=round(float(fc.lower[i]), 3),
                      upper=round(float(fc.upper[i]), 3))  # fmt: skip


def forecast(
    conn: DictConnection,
    *,
    store: StoreInfo,
    first: date,
    last: date,
    interval: Interval = Interval.HOUR,
    door: str | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> ForecastPublic:
    """A store's (or one customer door's) forecast per local bucket with 10–90 % bands.

    Raises:
        ForecastError: a reversed or too long period, beyond the horizon, an unsupported
            interval, an unknown door, or a store with no history at all.
    """
    check_period(first, last)
    if (last - first).days + 1 > MAX_FORECAST_DAYS:
        raise ForecastError(f"ask for at most {MAX_FORECAST_DAYS} days of forecast at a time")
    _check_ahead(store, last, today or (store.calendar.local_date(now) if now else None))
    interval = Interval(interval)
    if interval not in (Interval.MIN15, Interval.HOUR, Interval.DAY):
        raise ForecastError("forecasts come per 15min, hour or day; pick one of those for `interval`")
    if door is not None and door not in store.customer_doors:
        raise ForecastError(
            f"door {door!r} is not one of the store's customer doors ({', '.join(store.customer_doors)})"
        )
    loaded = load_models(conn, store, now=now)
    if "entries" not in loaded:
        raise NothingToForecast(f"store {store.store_id!r} has no door counts yet; there is nothing to forecast from")
    entries = loaded["entries"]
    slot_s = Q if interval is Interval.MIN15 else SLOT_S
    buckets = store.calendar.buckets(first, last, Interval.MIN15 if slot_s == Q else Interval.HOUR)
    times = np.array([int(b.start.timestamp()) for b in buckets], dtype=np.int64)
    local = local_seconds(times, store.calendar.tz)
    shares = None
    if slot_s == Q or door is not None:
        shares = _shares(conn, store, datetime.fromtimestamp(entries.forecaster.trained_to, UTC))
    fcs = _predict(loaded, times=times, local=local, slot_s=slot_s, door=door, shares=shares)
    if interval is Interval.DAY:
        days = store.calendar.buckets(first, last, Interval.DAY)
        idx = np.searchsorted(np.array([int(d.start.timestamp()) for d in days]), times, side="right") - 1
        fcs = {m: _sum_by(fc, idx, len(days)) for m, fc in fcs.items()}
        buckets = days
    rows = [
        ForecastRowPublic(
            start=b.start,
            end=b.end,
            local_start=b.local_start,
            entries=_band(fcs["entries"], i),  # type: ignore[arg-type]
            transactions=_band(fcs.get("transactions"), i),
            revenue=_band(fcs.get("revenue"), i),
        )
        for i, b in enumerate(buckets)
    ]
    return ForecastPublic(
        store_id=store.store_id,
        timezone=store.timezone,
        door_id=door,
        first=first,
        last=last,
        interval=interval,
        model_version=entries.label(store.store_id),
        models=[loaded[m].public(store.store_id) for m in METRICS if m in loaded],
        data=rows,
        count=len(rows),
    )


def _sum_by(fc: Forecast, idx: np.ndarray, n: int) -> Forecast:
    def s(a: np.ndarray) -> np.ndarray:
        return np.bincount(idx, weights=a, minlength=n)

    return Forecast(np.zeros(n, dtype=np.int64), 86_400, s(fc.mean), s(fc.lower), s(fc.upper), fc.method, fc.flags)


def forecast_band(
    conn: DictConnection,
    *,
    store: StoreInfo,
    start: datetime,
    end: datetime,
    metric: str = "entries",
    loaded: dict[str, Loaded] | None = None,
) -> Forecast | None:
    """A metric's forecast and band on the store's hourly grid over `[start, end)` (for the alerts engine).

    Returns:
        The forecast (epoch-second slot starts, mean, lower, upper), or None when the store
        has no data for the metric.
    """
    loaded = loaded if loaded is not None else load_models(conn, store)
    if metric not in loaded:
        return None
    times = grid(store, start, end, SLOT_S)
    return loaded[metric].forecaster.predict(times, local_seconds(times, store.calendar.tz))


def revenue_forecast(
    conn: DictConnection, *, store: StoreInfo, first: date, last: date
) -> tuple[BandPublic, str] | None:
    """Revenue forecast for the local dates `first..last` in total (for plan vs fact), from the
    stored revenue model only (never fitted on request: the wall chart asks for many stores).

    Returns:
        The total with its band (the slot bands summed, which is conservative) and the
        model version, or None without a stored revenue model.
    """
    loaded = load_models(conn, store, fit_missing=False)
    if "revenue" not in loaded or last < first:
        return None
    lo, hi = store.calendar.period_bounds(first, last)
    fc = forecast_band(conn, store=store, start=lo, end=hi, metric="revenue", loaded=loaded)
    if fc is None:
        return None
    band = BandPublic(mean=float(fc.mean.sum()), lower=float(fc.lower.sum()), upper=float(fc.upper.sum()))
    return band, loaded["revenue"].label(store.store_id)


# -- staffing --------------------------------------------------------------------------


def staffing(
    conn: DictConnection,
    *,
    store: StoreInfo,
    first: date,
    last: date,
    target_ratio: float,
    min_staff: int = 1,
    max_staff: int | None = None,
    power_top: int = 3,
    today: date | None = None,
    now: datetime | None = None,
) -> StaffingPublic:
    """Staff per local hour for a target shopper-to-staff ratio, and each day's power hours.

    Raises:
        ForecastError: as `forecast`, or a non-positive ratio.
    """
    check_period(first, last)
    if (last - first).days + 1 > MAX_AHEAD_DAYS:
        raise ForecastError(f"ask for at most {MAX_AHEAD_DAYS} days of staffing at a time")
    _check_ahead(store, last, today or (store.calendar.local_date(now) if now else None))
    if target_ratio <= 0:
        raise ForecastError("target_ratio must be > 0 shoppers per staff member per hour")
    if max_staff is not None and max_staff < min_staff:
        raise ForecastError("max_staff must be at least min_staff")
    loaded = load_models(conn, store, now=now)
    if "entries" not in loaded:
        raise NothingToForecast(f"store {store.store_id!r} has no door counts yet; there is nothing to forecast from")
    buckets = store.calendar.buckets(first, last, Interval.HOUR)
    times = np.array([int(b.start.timestamp()) for b in buckets], dtype=np.int64)
    local = local_seconds(times, store.calendar.tz)
    fcs = _predict(loaded, times=times, local=local, slot_s=SLOT_S, door=None, shares=None)
    spec = store_spec(store)
    open_share = calendar(local, SLOT_S, spec).open_share if store.opening_hours else None
    plan = staff_plan(
        fcs["entries"], target_ratio=target_ratio, min_staff=min_staff, max_staff=max_staff, open_share=open_share
    )
    scheduled: dict[int, float] = {}
    if store.has_shifts and buckets:
        rows = conn.execute(
            queries("kpis")["staff_hours"],
            {"store_id": store.store_id, "starts": [b.start for b in buckets], "ends": [b.end for b in buckets]},
        ).fetchall()
        scheduled = {r["i"] - 1: float(r["staff_hours"]) / buckets[r["i"] - 1].hours for r in rows}
    data = [
        StaffRowPublic(
            start=b.start,
            end=b.end,
            local_start=b.local_start,
            visitors=round(float(plan.visitors[i]), 2),
            visitors_upper=round(float(fcs["entries"].upper[i]), 2),
            staff=int(plan.staff[i]),
            staff_busy=int(plan.staff_busy[i]),
            scheduled_staff=round(scheduled.get(i, 0.0), 2) if store.has_shifts else None,
        )
        for i, b in enumerate(buckets)
    ]
    rev = fcs.get("revenue")
    tz = store.calendar.tz
    power = [
        PowerHourPublic(
            day=date.fromordinal(p.day + date(1970, 1, 1).toordinal()),
            start=datetime.fromtimestamp(p.start, UTC),
            local_start=datetime.fromtimestamp(p.start, tz),
            visitors=round(p.visitors, 2),
            revenue=None if p.revenue is None else round(p.revenue, 2),
            score=round(p.score, 4),
        )
        for p in power_hours(times, local, fcs["entries"].mean, None if rev is None else rev.mean, top=power_top)
    ]
    return StaffingPublic(
        store_id=store.store_id,
        timezone=store.timezone,
        first=first,
        last=last,
        target_ratio=target_ratio,
        min_staff=min_staff,
        model_version=loaded["entries"].label(store.store_id),
        data=data,
        power_hours=power,
        count=len(data),
    )


# -- anomalies -------------------------------------------------------------------------


def anomalies(
    conn: DictConnection, *, store: StoreInfo, first: date, last: date, now: datetime | None = None
) -> AnomaliesPublic:
    """Every detector over the local dates `first..last` (up to now), oldest first.

    Per device and door: flatline, stuck values, in/out imbalance and counts far outside
    the door's band; per door with two devices: disagreement; for the store: a counter
    silent while receipts keep coming. The week before `first` gives each pair its usual
    ratios (exits/entries, device/device, transactions/entries).

    Raises:
        ForecastError: a reversed period or longer than a week.
    """
    check_period(first, last)
    if (last - first).days + 1 > MAX_ANOMALY_DAYS:
        raise ForecastError(f"ask for at most {MAX_ANOMALY_DAYS} days of anomalies at a time")
    lo, hi = store.calendar.period_bounds(first, last)
    hi = min(hi, _now_slot(now))
    loaded = load_models(conn, store, now=now)
    label = loaded["entries"].label(store.store_id) if "entries" in loaded else f"{store.store_id}/entries/none"
    found: list[tuple[an.Anomaly, str | None, str | None]] = []
    if hi > lo and "entries" in loaded:
        found = _detect(conn, store, loaded, lo, hi)
    found.sort(key=lambda x: (x[0].start, x[0].kind.value, x[0].subject))
    data = [
        AnomalyPublic(
            kind=a.kind.value,
            subject=a.subject,
            device_id=device,
            door_id=door,
            start=datetime.fromtimestamp(a.start, UTC),
            end=datetime.fromtimestamp(a.end, UTC),
            detected_at=datetime.fromtimestamp(a.detected_at, UTC),
            score=round(a.score, 2),
            reason=a.reason,
        )
        for a, device, door in found
    ]
    return AnomaliesPublic(store_id=store.store_id, first=first, last=last, model_version=label, data=data,
                           count=len(data))  # fmt: skip


def _ratio(a: np.ndarray, b: np.ndarray, default: float) -> float:
    ok = ~np.isnan(a) & ~np.isnan(b)
    sa, sb = a[ok].sum(), b[ok].sum()
    return float(sa / sb) if sb >= 50 and sa > 0 else default


@dataclass
class _Watch:
    """The anomaly window's grid: a baseline week, then the watched period."""

    times: np.ndarray
    local: np.ndarray
    watch: np.ndarray
    index: dict[int, int]
    pairs: dict[tuple[str, str], dict[str, np.ndarray]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)


def _device_counts(conn: DictConnection, store: StoreInfo, lo: datetime, hi: datetime) -> _Watch:
    base_lo = lo - timedelta(days=7)
    times = grid(store, base_lo, hi, Q)
    w = _Watch(times, local_seconds(times, store.calendar.tz), times >= int(lo.timestamp()),
               {int(t): i for i, t in enumerate(times)})  # fmt: skip
    rows = conn.execute(queries("models")["device_counts"], {"store_id": store.store_id, "lo": base_lo, "hi": hi})
    for r in rows:
        key = (r["device_id"], r["door_id"])
        if key not in w.pairs:
            w.pairs[key] = {"entries": np.full(times.size, np.nan), "exits": np.full(times.size, np.nan)}
            w.kinds[r["device_id"]] = r["device_kind"] or ""
        i = w.index.get(int(r["slot"].timestamp()))
        if i is not None:
            for k in ("entries", "exits"):
                w.pairs[key][k][i] = np.nan if r[k] is None else r[k]
    return w


Found = list[tuple[an.Anomaly, str | None, str | None]]


def _per_device(w: _Watch, door_fc: dict[str, Forecast], open_share: np.ndarray) -> Found:
    out: Found = []
    t = w.times[w.watch]
    for (device, door), v in sorted(w.pairs.items()):
        fc = door_fc.get(door)
        e, x = v["entries"][w.watch], v["exits"][w.watch]
        kw: dict[str, Any] = {"slot_s": Q, "subject": f"device:{device} door:{door}"}
        found: list[an.Anomaly] = []
        if fc is not None:
            found += an.flatline(t, e, expected=fc.mean, open_share=open_share, **kw)
            found += an.stuck(t, e, expected=fc.mean, open_share=open_share, **kw)
            found += an.out_of_band(
                t, e, mean=fc.mean, lower=fc.lower, upper=fc.upper, threshold=4.0, min_excess=MIN_EXCESS, **kw
            )
        ratio = _ratio(v["exits"][~w.watch], v["entries"][~w.watch], 1.0)
        found += an.imbalance(t, e, x, baseline_ratio=ratio, **kw)
        out += [(a, device, door) for a in found]
    return out


def _disagreements(w: _Watch) -> Found:
    by_door: dict[str, list[str]] = defaultdict(list)
    for device, door in sorted(w.pairs):
        by_door[door].append(device)
    out: Found = []
    t = w.times[w.watch]
    for door, devices in by_door.items():
        # compare every other device with the door's counter (or its first device)
        ref = next((d for d in devices if w.kinds.get(d, "").startswith("counter")), devices[0])
        for other in devices:
            if other == ref:
                continue
            a, b = w.pairs[(ref, door)]["entries"], w.pairs[(other, door)]["entries"]
            ratio = _ratio(a[~w.watch], b[~w.watch], 1.0)
            subject = f"door:{door} devices:{ref},{other}"
            found = an.disagreement(t, a[w.watch], b[w.watch], slot_s=Q, subject=subject, baseline_ratio=ratio)
            out += [(x, None, door) for x in found]
    return out


def _silent(conn: DictConnection, store: StoreInfo, w: _Watch) -> Found:
    params = {"store_id": store.store_id, "width": timedelta(seconds=Q), "origin": slot_origin(store),
              "lo": datetime.fromtimestamp(int(w.times[0]), UTC),
              "hi": datetime.fromtimestamp(int(w.times[-1]) + Q, UTC)}  # fmt: skip
    trans = np.zeros(w.times.size)
    for r in conn.execute(queries("models")["receipt_history"], params):
        i = w.index.get(int(r["slot"].timestamp()))
        if i is not None:
            trans[i] = r["transactions"]
    customer = [v["entries"] for (_, door), v in w.pairs.items() if door in store.customer_doors]
    if not customer:
        return []
    stack = np.vstack(customer)
    entries = np.where(np.all(np.isnan(stack), axis=0), np.nan, np.nansum(stack, axis=0))
    # a cautious (high) conversion: 1.5 × the baseline week's, so busy tills alone do not alarm
    conv = min(1.0, 1.5 * _ratio(trans[~w.watch], entries[~w.watch], 0.5 / 1.5))
    found = an.silent_with_receipts(
        w.times[w.watch], entries[w.watch], trans[w.watch], slot_s=Q, subject="store", conversion=conv
    )
    return [(a, None, None) for a in found]


def _detect(conn: DictConnection, store: StoreInfo, loaded: dict[str, Loaded], lo: datetime, hi: datetime) -> Found:
    w = _device_counts(conn, store, lo, hi)
    t, lw = w.times[w.watch], w.local[w.watch]
    shares = _shares(conn, store, lo)
    open_share = calendar(lw, Q, store_spec(store)).open_share
    door_fc = {
        door: _predict(loaded, times=t, local=lw, slot_s=Q, door=door, shares=shares)["entries"]
        for door in {d for _, d in w.pairs}
        if door in store.customer_doors
    }
    out = _per_device(w, door_fc, open_share) + _disagreements(w)
    if "transactions" in loaded:
        out += _silent(conn, store, w)
    return out
