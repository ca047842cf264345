"""Values and borders of rules, from the KPI query layer and the fact tables.

Only this module reads KPIs: everything the engine judges comes from `evaluate()`, which
uses the query layer's totals (`bucket_totals`) and formulas (`kpis`), so an alert's
value is the number the API shows for the same window.

Windows: for KPIs, a rolling window of N minutes is the rollup quarters from the one
holding `now − N` up to and including the current, partial one (so a reading counts the
moment it is committed); other metrics use exactly the last N minutes; `to_date: day`
runs from the store's local midnight. Door coverage is measured against
the open time that has passed, not the whole window.

Checkout queues (`queue_length`, `queue_wait`) are read through the merchandiser layer's
`queue_over` over whole minutes, as `queue_now` answers them. Forecast bands come from
the store's stored models (`footfall.alerts.forecasts`); a store without one is not
judged, and its state says why.

Extension point: a metric is a function `(ctx, target, lo, hi) -> Reading` in
`METRIC_READERS`; a baseline kind is a branch of `border()`.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from footfall.alerts.forecasts import StoredModels, band_sum, stored_models
from footfall.api.kpis import Kpi, KpiOptions, StoreInfo, Totals, bucket_totals, kpis, quality
from footfall.api.merch.errors import UnknownZone
from footfall.api.merch.queuefacts import queue_over
from footfall.api.merch.queues import QueueSlot
from footfall.core.alertrules import FORECAST_METRICS, KPI_METRICS, QUEUE_METRICS, BaselineKind, Metric, RuleSpec
from footfall.core.calendar import Bucket
from footfall.db.connect import DictConnection
from footfall.db.queries import queries

logger = logging.getLogger(__name__)

QUARTER = timedelta(minutes=15)
ALERT_OPTIONS = KpiOptions(min_door_coverage=0.9)
"""Alerts judge conversion when counters covered 90 % of the open time that has passed (a
reading lags by up to a minute, which is a tenth of a 15-minute window)."""
SILENCE_LOOKBACK = timedelta(days=1)
ROLLUP_METRICS = KPI_METRICS | {Metric.COUNTER_IMBALANCE, Metric.TRAFFIC_WHILE_POS, Metric.FORECAST_BAND}
"""Metrics read from the rollups (whole quarters)."""
PER_RECEIPT = frozenset({Metric.ATV, Metric.UPT, Metric.LOYALTY_ACTIVATION, Metric.TRAFFIC_WHILE_POS})


def _q(name: str) -> str:
    return queries("alerts")[name]


@dataclass(frozen=True, slots=True)
class Target:
    """One rule × store × subject the engine judges."""

    rule_id: int
    spec: RuleSpec
    store: StoreInfo
    subject: str = ""
    muted_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """What one evaluation found: the value, its border, the sample behind it, and the window."""

    value: float | None
    border: float | None
    sample: float | None
    lo: datetime
    hi: datetime
    note: str = ""
    """Why the value is not judged (outside the schedule, too small a sample, no data)."""


@dataclass
class Context:
    """Per-cycle caches: one totals query per store, door set and window, shared by all rules."""

    conn: DictConnection
    now: datetime
    totals: dict[tuple, Totals] = field(default_factory=dict)
    last_seen: dict[str, datetime | None] = field(default_factory=dict)
    faults: dict[tuple, dict[str, int]] = field(default_factory=dict)
    models: dict[str, StoredModels] = field(default_factory=dict)
    queues: dict[tuple, QueueSlot | None] = field(default_factory=dict)
    queries: int = 0


def floor_quarter(t: datetime) -> datetime:
    """The start of the UTC quarter hour holding `t`."""
    t = t.astimezone(UTC)
    return t.replace(minute=t.minute - t.minute % 15, second=0, microsecond=0)


def window(spec: RuleSpec, store: StoreInfo, now: datetime) -> tuple[datetime, datetime]:
    """UTC `[lo, hi)` of a rule's window at `now`.

    KPI metrics read the 15-minute rollups, so their window is whole quarters: from the
    quarter holding `now − N` to the end of the current one (at least N minutes of data,
    at most N + 15). Other metrics read the facts themselves: exactly `[now − N, now]`.
    `to_date: day` starts at the store's local midnight. Queue metrics use whole minutes, up
    to the current one (excluded), as `queue_now` does.
    """
    if spec.metric in QUEUE_METRICS:
        hi = now.replace(second=0, microsecond=0)
        if spec.window.rolling_minutes is not None:
            return hi - timedelta(minutes=spec.window.rolling_minutes), hi
        return store.calendar.day_start(store.calendar.local_date(now)), hi
    if spec.metric not in ROLLUP_METRICS:
        hi = now + timedelta(microseconds=1)
        if spec.window.rolling_minutes is not None:
            return now - timedelta(minutes=spec.window.rolling_minutes), hi
        return store.calendar.day_start(store.calendar.local_date(now)), hi
    hi = floor_quarter(now) + QUARTER
    if spec.window.rolling_minutes is not None:
        return floor_quarter(now - timedelta(minutes=spec.window.rolling_minutes)), hi
    return store.calendar.day_start(store.calendar.local_date(now)), hi


def in_schedule(spec: RuleSpec, store: StoreInfo, now: datetime) -> bool:
    """Whether the rule is judged at `now`: inside one of its schedule windows, or, without a
    schedule, inside the store's opening hours (a closed day has none)."""
    if spec.schedule:
        local = store.calendar.local(now)
        return any(w.contains(local.weekday(), local.time().replace(tzinfo=None)) for w in spec.schedule)
    return bool(store.open_intervals(now, now + timedelta(seconds=1)))


def totals(ctx: Context, store: StoreInfo, lo: datetime, hi: datetime, *, upto: datetime | None = None) -> Totals:
    """Totals of `[lo, hi)` from the rollups; door coverage is measured against open time up to `upto`."""
    key = (store.store_id, store.customer_doors, lo, hi, upto)
    if key not in ctx.totals:
        ctx.queries += 1
        t = bucket_totals(ctx.conn, store, [Bucket(lo, hi, lo.astimezone(store.calendar.tz))])[0]
        if upto is not None and upto < hi:
            passed = sum((b - a).total_seconds() for a, b in store.open_intervals(lo, upto))
            t = replace(t, expected_s=len(store.customer_doors) * passed)
        ctx.totals[key] = t
    return ctx.totals[key]


def _kpi_value(t: Totals, store: StoreInfo, metric: Metric) -> tuple[float | None, float]:
    """A KPI metric's value and its sample (visitors, or receipts for per-receipt metrics)."""
    q = quality(t, store, ALERT_OPTIONS)
    values = kpis(t, store, ALERT_OPTIONS, q)
    sample = float(t.transactions) if metric in PER_RECEIPT else float(values[Kpi.VISITORS] or 0)
    kpi = Kpi.VISITORS if metric is Metric.FORECAST_BAND else Kpi(metric.value)
    return values[kpi], sample


def _store_for(target: Target) -> StoreInfo:
    """The store, narrowed to one door when the rule watches a door."""
    if target.spec.scope.door:
        return replace(target.store, customer_doors=(target.spec.scope.door,))
    return target.store


def read_kpi(ctx: Context, target: Target, lo: datetime, hi: datetime) -> Reading:
    """A KPI of the query layer over the window."""
    store = _store_for(target)
    t = totals(ctx, store, lo, hi, upto=ctx.now)
    value, sample = _kpi_value(t, store, target.spec.metric)
    return Reading(value=value, border=None, sample=sample, lo=lo, hi=hi)


def read_imbalance(ctx: Context, target: Target, lo: datetime, hi: datetime) -> Reading:
    """|entries − exits| / entries on the customer doors (a counter that counts one way only)."""
    t = totals(ctx, _store_for(target), lo, hi, upto=ctx.now)
    value = abs(t.entries - t.exits) / t.entries if t.entries else None
    return Reading(value=value, border=None, sample=float(t.entries), lo=lo, hi=hi)


def read_traffic_while_pos(ctx: Context, target: Target, lo: datetime, hi: datetime) -> Reading:
    """Visitors counted in a window in which the POS rang receipts (0 while receipts come: counters down)."""
    t = totals(ctx, _store_for(target), lo, hi, upto=ctx.now)
    return Reading(value=float(t.entries), border=None, sample=float(t.transactions), lo=lo, hi=hi)


def read_silence(ctx: Context, target: Target, lo: datetime, hi: datetime) -> Reading:
    """Minutes since the device's newest reading (counts, occupancy or heartbeat), at most a day."""
    if target.subject not in ctx.last_seen:
        ctx.queries += 1
        since = ctx.now - SILENCE_LOOKBACK
        rows = ctx.conn.execute(_q("device_last_seen"), {"device_ids": [target.subject], "lo": since}).fetchall()
        ctx.last_seen[target.subject] = rows[0]["last_end"] if rows else None
    last = ctx.last_seen[target.subject]
    ref = last if last is not None else ctx.now - SILENCE_LOOKBACK
    value = max(0.0, (ctx.now - ref).total_seconds() / 60)
    return Reading(value=value, border=None, sample=None, lo=lo, hi=hi)


def read_camera_health(ctx: Context, target: Target, lo: datetime, hi: datetime) -> Reading:
    """Heartbeats in the window in which the device reported a sensor fault."""
    key = (target.store.store_id, lo, hi)
    if key not in ctx.faults:
        ctx.queries += 1
        rows = ctx.conn.execute(_q("device_faults"), {"store_id": target.store.store_id, "lo": lo, "hi": hi})
        ctx.faults[key] = {r["device_id"]: r["faulty"] for r in rows}
    return Reading(value=float(ctx.faults[key].get(target.subject, 0)), border=None, sample=None, lo=lo, hi=hi)


def read_zone_occupancy(ctx: Context, target: Target, lo: datetime, hi: datetime) -> Reading:
    """The newest occupancy measured in the zone within the window."""
    ctx.queries += 1
    row = ctx.conn.execute(
        _q("zone_occupancy"), {"store_id": target.store.store_id, "zone_id": target.subject, "lo": lo, "hi": hi}
    ).fetchone()
    value = float(row["occupancy"]) if row else None
    return Reading(value=value, border=None, sample=None, lo=lo, hi=hi, note="" if row else "no occupancy reading")


def no_queue_zone(store_id: str) -> str:
    """The note of a store-wide queue rule on a store without a queue zone (it judges nothing)."""
    return (
        f"store {store_id} has no queue zone, so this rule watches nothing: add a zone with `kind: queue` "
        f"and its `till` to the store file and run `footfall stores apply`"
    )


def read_queue(ctx: Context, target: Target, lo: datetime, hi: datetime) -> Reading:
    """A checkout queue zone over the window: its peak length (people), or its waiting time
    (seconds: the median tracked dwell, else Little's law) with the arrivals as the sample."""
    key = (target.store.store_id, target.subject, lo, hi)
    if key not in ctx.queues:
        ctx.queries += 1
        try:
            ctx.queues[key] = queue_over(ctx.conn, store_id=target.store.store_id, zone_id=target.subject, lo=lo, hi=hi)
        except UnknownZone as exc:
            return Reading(value=None, border=None, sample=None, lo=lo, hi=hi, note=str(exc))
    slot = ctx.queues[key]
    if slot is None:
        return Reading(value=None, border=None, sample=None, lo=lo, hi=hi, note="no queue reading in the window")
    if target.spec.metric is Metric.QUEUE_LENGTH:
        return Reading(value=float(slot.length_max), border=None, sample=None, lo=lo, hi=hi)
    note = "" if slot.wait_s is not None else "no queue arrivals in the window"
    return Reading(value=slot.wait_s, border=None, sample=float(slot.arrivals), lo=lo, hi=hi, note=note)


MetricReader = Callable[[Context, Target, datetime, datetime], Reading]
METRIC_READERS: dict[Metric, MetricReader] = {
    **dict.fromkeys(KPI_METRICS, read_kpi),
    Metric.FORECAST_BAND: read_kpi,
    Metric.QUEUE_LENGTH: read_queue,
    Metric.QUEUE_WAIT: read_queue,
    Metric.COUNTER_IMBALANCE: read_imbalance,
    Metric.TRAFFIC_WHILE_POS: read_traffic_while_pos,
    Metric.DEVICE_SILENCE: read_silence,
    Metric.CAMERA_HEALTH: read_camera_health,
    Metric.ZONE_OCCUPANCY: read_zone_occupancy,
}


def _weeks_back(store: StoreInfo, t: datetime, weeks: int) -> datetime:
    """The same local wall-clock time `weeks` weeks earlier (DST-safe)."""
    local = store.calendar.local(t)
    return (local.replace(tzinfo=None) - timedelta(weeks=weeks)).replace(tzinfo=store.calendar.tz).astimezone(UTC)


def border(ctx: Context, target: Target, lo: datetime, hi: datetime) -> tuple[float | None, str]:
    """The rule's border and, when there is none, why: its static threshold; or `ratio ×` the mean
    of the same window on the same weekday of the last four weeks; or `ratio ×` the edge of the
    store's forecast band over the part of the window that has passed."""
    spec = target.spec
    if spec.threshold is not None:
        return spec.threshold, ""
    assert spec.baseline is not None
    if spec.baseline.kind is BaselineKind.FORECAST_BAND:
        return forecast_border(ctx, target, lo, hi)
    store = _store_for(target)
    past: list[float] = []
    for k in range(1, 5):
        a, b = _weeks_back(store, lo, k), _weeks_back(store, hi, k)
        end = _weeks_back(store, ctx.now, k)
        v, _ = _kpi_value(totals(ctx, store, a, b, upto=end), store, spec.metric)
        if v is not None:
            past.append(v)
    if not past:
        return None, "no baseline yet (no value on the same weekday of the last four weeks)"
    return spec.baseline.ratio * sum(past) / len(past), ""


def forecast_border(ctx: Context, target: Target, lo: datetime, hi: datetime) -> tuple[float | None, str]:
    """`ratio ×` the forecast band's lower edge (for `<`, `<=`) or upper edge (for `>`, `>=`) summed
    over `[lo, min(hi, now))`, from the store's newest stored model of the metric."""
    spec = target.spec
    assert spec.baseline is not None
    store = target.store
    if store.store_id not in ctx.models:
        ctx.queries += 1
        ctx.models[store.store_id] = stored_models(ctx.conn, store.store_id)
    models = ctx.models[store.store_id]
    metric = FORECAST_METRICS[spec.metric]
    forecaster = models.forecasters.get(metric)
    if forecaster is None:
        return None, models.missing(store.store_id, metric)
    edge = band_sum(forecaster, store, lo=lo, hi=min(hi, ctx.now), upper=not spec.comparator.below)
    if edge is None:
        return None, "the window has not started"
    return spec.baseline.ratio * edge, ""


def evaluate(ctx: Context, target: Target) -> Reading:
    """The value, border and sample of a target at `ctx.now` (value None: not judged, `note` says why)."""
    spec = target.spec
    lo, hi = window(spec, target.store, ctx.now)
    if spec.metric in QUEUE_METRICS and not target.subject:
        return Reading(value=None, border=None, sample=None, lo=lo, hi=hi, note=no_queue_zone(target.store.store_id))
    if not in_schedule(spec, target.store, ctx.now):
        return Reading(value=None, border=None, sample=None, lo=lo, hi=hi, note="outside the schedule")
    r = METRIC_READERS[spec.metric](ctx, target, lo, hi)
    if r.sample is not None and r.sample < spec.effective_min_sample:
        return replace(r, value=None, note=f"sample {r.sample:g} below the minimum {spec.effective_min_sample}")
    if r.value is None:
        return replace(r, note=r.note or "no value (data incomplete)")
    b, why = border(ctx, target, lo, hi)
    if b is None:
        return replace(r, value=None, note=why)
    return replace(r, border=b)
