"""The KPI reports: series, summaries with comparisons, plan vs fact, revenue drivers,
traffic by hour of day, occupancy, zones, and multi-store roll-ups and rankings.

Every function takes a connection and keyword arguments and returns plain dataclasses;
routes, the alerts engine and the dashboard all call these, none writes SQL.
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import psycopg
from psycopg import sql

from footfall.api.errors import BadRequest
from footfall.api.kpis.metrics import DEFAULT_OPTIONS, Flag, Kpi, KpiOptions, Quality, kpis, quality
from footfall.api.kpis.store import StoreInfo
from footfall.api.kpis.totals import (
    Rollup,
    Totals,
    bucket_totals,
    choose_rollup,
    door_params,
    door_query,
    period_totals,
)
from footfall.core import kpi as f
from footfall.core.calendar import (
    Bucket,
    Interval,
    month_bounds,
    previous_period,
    same_period_last_year,
    same_weekday_last_week,
)
from footfall.db.queries import queries

MAX_BUCKETS = 5000
"""Most buckets one series may have (a year of hours is 8,760: ask for days instead)."""
MAX_DAYS = 3 * 366 + 1
"""Longest period one request may cover."""

_PER_DAY = {Interval.MIN15: 96, Interval.HOUR: 24, Interval.DAY: 1, Interval.WEEK: 1 / 7, Interval.MONTH: 1 / 28}


class Comparison(StrEnum):
    """What a period is compared with."""

    NONE = "none"
    PREVIOUS_PERIOD = "previous_period"
    SAME_WEEKDAY_LAST_WEEK = "same_weekday_last_week"
    SAME_PERIOD_LAST_YEAR = "same_period_last_year"

    def period(self, first: date, last: date) -> tuple[date, date] | None:
        """The comparison period of `first`..`last`, or None for no comparison."""
        match self:
            case Comparison.PREVIOUS_PERIOD:
                return previous_period(first, last)
            case Comparison.SAME_WEEKDAY_LAST_WEEK:
                return same_weekday_last_week(first, last)
            case Comparison.SAME_PERIOD_LAST_YEAR:
                return same_period_last_year(first, last)
        return None


def check_period(first: date, last: date, interval: Interval | None = None) -> None:
    """Refuse periods that are reversed, too long, or would make too many buckets.

    Raises:
        BadRequest: with the fix.
    """
    if last < first:
        raise BadRequest(f"the period ends ({last}) before it starts ({first}); swap `first` and `last`")
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise BadRequest(f"the period is {days} days long; ask for at most {MAX_DAYS} days at a time")
    if first.year < 2000 or last.year > 2999:
        raise BadRequest("dates must be between 2000-01-01 and 2999-12-31")
    if interval is not None and days * _PER_DAY[Interval(interval)] > MAX_BUCKETS:
        raise BadRequest(
            f"{days} days at interval {Interval(interval).value} is more than {MAX_BUCKETS} buckets; "
            "use a coarser interval or a shorter period"
        )


# ---------------------------------------------------------------- series


@dataclass(frozen=True, slots=True)
class SeriesRow:
    """KPIs of one bucket."""

    bucket: Bucket
    totals: Totals
    kpis: dict[Kpi, float | None]
    quality: Quality


def kpi_series(
    conn: psycopg.Connection,
    *,
    store: StoreInfo,
    first: date,
    last: date,
    interval: Interval | str,
    options: KpiOptions = DEFAULT_OPTIONS,
) -> list[SeriesRow]:
    """Every KPI per store-local bucket over local dates `first`..`last` (empty buckets included).

    Raises:
        BadRequest: the period or the number of buckets is out of bounds.
    """
    check_period(first, last, Interval(interval))
    buckets = store.calendar.buckets(first, last, interval)
    out = []
    for b, t in zip(buckets, bucket_totals(conn, store, buckets), strict=True):
        q = quality(t, store, options)
        out.append(SeriesRow(bucket=b, totals=t, kpis=kpis(t, store, options, q), quality=q))
    return out


@dataclass(frozen=True, slots=True)
class TrafficRow:
    """Customer-door traffic in one store-local bucket."""

    start: datetime
    end: datetime
    local_start: datetime
    entries: int
    exits: int
    passersby: int | None
    valid_s: float
    invalid_s: float


def traffic_series(
    conn: psycopg.Connection, *, store_id: str, first: date, last: date, interval: Interval | str
) -> list[TrafficRow]:
    """Customer-door traffic for local dates `first`..`last`, one row per bucket (empty buckets too).

    Raises:
        NotFound: no such store.
    """
    from footfall.api.kpis.store import store_info

    store = store_info(conn, store_id)
    buckets = store.calendar.buckets(first, last, interval)
    return [
        TrafficRow(
            start=b.start,
            end=b.end,
            local_start=b.local_start,
            entries=t.entries,
            exits=t.exits,
            passersby=t.passersby,
            valid_s=t.valid_s,
            invalid_s=t.invalid_s,
        )
        for b, t in zip(buckets, bucket_totals(conn, store, buckets), strict=True)
    ]


# ---------------------------------------------------------------- summary and comparisons


@dataclass(frozen=True, slots=True)
class KpiValue:
    """One KPI with its comparison."""

    kpi: Kpi
    value: float | None
    comparison: float | None
    delta: float | None
    ratio: float | None


@dataclass(frozen=True, slots=True)
class Summary:
    """Every KPI of a period, against a comparison period."""

    store: StoreInfo
    first: date
    last: date
    compare: Comparison
    comparison_first: date | None
    comparison_last: date | None
    totals: Totals
    comparison_totals: Totals | None
    values: list[KpiValue]
    quality: Quality
    comparison_quality: Quality | None

    def value(self, k: Kpi) -> KpiValue:
        """One KPI's value."""
        return next(v for v in self.values if v.kpi is k)


def _values(now: dict[Kpi, float | None], then: dict[Kpi, float | None] | None) -> list[KpiValue]:
    out = []
    for k in Kpi:
        c = f.change(now[k], then[k] if then else None)
        out.append(KpiValue(kpi=k, value=c.value, comparison=c.comparison, delta=c.delta, ratio=c.ratio))
    return out


def local_period_totals(conn: psycopg.Connection, store: StoreInfo, first: date, last: date) -> Totals:
    """Totals over the store-local dates `first`..`last`."""
    start, end = store.calendar.period_bounds(first, last)
    return period_totals(conn, store, start, end)


def kpi_summary(
    conn: psycopg.Connection,
    *,
    store: StoreInfo,
    first: date,
    last: date,
    compare: Comparison = Comparison.PREVIOUS_PERIOD,
    options: KpiOptions = DEFAULT_OPTIONS,
) -> Summary:
    """Every KPI over local dates `first`..`last`, with value, comparison value and change.

    Raises:
        BadRequest: the period is out of bounds.
    """
    check_period(first, last)
    now_t = local_period_totals(conn, store, first, last)
    now_q = quality(now_t, store, options)
    cmp_period = compare.period(first, last)
    then_t = then_q = then_k = None
    if cmp_period:
        then_t = local_period_totals(conn, store, *cmp_period)
        then_q = quality(then_t, store, options)
        then_k = kpis(then_t, store, options, then_q)
    return Summary(
        store=store,
        first=first,
        last=last,
        compare=compare,
        comparison_first=cmp_period[0] if cmp_period else None,
        comparison_last=cmp_period[1] if cmp_period else None,
        totals=now_t,
        comparison_totals=then_t,
        values=_values(kpis(now_t, store, options, now_q), then_k),
        quality=now_q,
        comparison_quality=then_q,
    )


# ---------------------------------------------------------------- revenue drivers


@dataclass(frozen=True, slots=True)
class RevenueExplained:
    """A revenue change split into traffic, conversion and ATV (LMDI: the parts add up)."""

    summary: Summary
    change: f.RevenueChange | None
    reason: str | None
    """Why there is no split, when there is none."""


def explain_revenue(
    conn: psycopg.Connection,
    *,
    store: StoreInfo,
    first: date,
    last: date,
    compare: Comparison = Comparison.PREVIOUS_PERIOD,
    options: KpiOptions = DEFAULT_OPTIONS,
) -> RevenueExplained:
    """Split the revenue change between a period and its comparison into traffic, conversion and ATV.

    Raises:
        BadRequest: no comparison asked for, or the period is out of bounds.
    """
    if compare is Comparison.NONE:
        raise BadRequest("a revenue change needs a comparison period; set `compare`")
    s = kpi_summary(conn, store=store, first=first, last=last, compare=compare, options=options)

    def drivers(values: dict[Kpi, float | None]) -> f.RevenueDrivers | None:
        t, c, a = values[Kpi.VISITORS], values[Kpi.CONVERSION], values[Kpi.ATV]
        if t is None or c is None or a is None:
            return None
        return f.RevenueDrivers(traffic=t, conversion=c, atv=a)

    now = drivers({v.kpi: v.value for v in s.values})
    then = drivers({v.kpi: v.comparison for v in s.values})
    reason = None
    change = None
    if now is None or then is None:
        incomplete = Flag.DOOR_DATA_INCOMPLETE in s.quality.flags or (
            s.comparison_quality is not None and Flag.DOOR_DATA_INCOMPLETE in s.comparison_quality.flags
        )
        reason = (
            "door data is incomplete in one of the periods, so conversion is unknown"
            if incomplete
            else "one of the periods has no traffic or no sales"
        )
    else:
        change = f.explain_revenue_change(then, now)
        if change is None:
            reason = "a driver is zero in one of the periods (the log split is undefined)"
    return RevenueExplained(summary=s, change=change, reason=reason)


# ---------------------------------------------------------------- plan vs fact


@dataclass(frozen=True, slots=True)
class PlanFact:
    """One store's month: plan, fact, pace, days passed and left, projection."""

    store: StoreInfo
    month: date
    as_of: date | None
    revenue: f.PlanVsFact | None
    """None when the store has no plan for the month."""
    revenue_fact: float
    traffic_target: int | None
    traffic_fact: float | None
    conversion_target: float | None
    conversion_fact: float | None
    days_passed: int
    days_left: int
    quality: Quality


def plan_vs_fact(
    conn: psycopg.Connection,
    *,
    store: StoreInfo,
    month: date,
    as_of: date | None = None,
    today: date | None = None,
    options: KpiOptions = DEFAULT_OPTIONS,
) -> PlanFact:
    """The wall chart for one store and month.

    Args:
        conn: a connection.
        store: the store.
        month: any date in the month.
        as_of: last local date counted as fact; by default yesterday (the last complete day)
            for the current month, the whole month for past months.
        today: the store's local today (tests pin it); by default now.
        options: KPI options.
    """
    first, last = month_bounds(month)
    dim = (last - first).days + 1
    today = today or store.calendar.local_date(datetime.now(UTC))
    if as_of is None:
        as_of = today - timedelta(days=1)
    as_of = min(as_of, last)
    days_passed = max(0, min(dim, (as_of - first).days + 1))
    plan = conn.execute(
        "SELECT revenue_target, traffic_target, conversion_target FROM plans WHERE store_id = %s AND month = %s",
        (store.store_id, first),
    ).fetchone()
    fact_last = first + timedelta(days=days_passed - 1)
    t = local_period_totals(conn, store, first, fact_last) if days_passed else Totals()
    q = quality(t, store, options)
    k = kpis(t, store, options, q)
    revenue = (
        f.plan_vs_fact(plan=plan["revenue_target"], fact=t.revenue, days_passed=days_passed, days_in_month=dim)
        if plan
        else None
    )
    return PlanFact(
        store=store,
        month=first,
        as_of=as_of if days_passed else None,
        revenue=revenue,
        revenue_fact=float(t.revenue),
        traffic_target=plan["traffic_target"] if plan else None,
        traffic_fact=k[Kpi.VISITORS],
        conversion_target=plan["conversion_target"] if plan else None,
        conversion_fact=k[Kpi.CONVERSION],
        days_passed=days_passed,
        days_left=dim - days_passed,
        quality=q,
    )


# ---------------------------------------------------------------- traffic by hour of day


@dataclass(frozen=True, slots=True)
class HourOfDay:
    """Traffic and sales in one local hour of the day, over a period."""

    hour: int
    entries: int
    exits: int
    avg_entries_per_day: float
    transactions: int
    revenue: float
    conversion: float | None


def traffic_by_hour(conn: psycopg.Connection, *, store: StoreInfo, first: date, last: date) -> list[HourOfDay]:
    """Entries, exits, transactions and conversion by local hour of day (0–23) over a period.

    Raises:
        BadRequest: the period is out of bounds.
    """
    check_period(first, last)
    start, end = store.calendar.period_bounds(first, last)
    offsets = {store.calendar.local(t).utcoffset() for t in (start, end - timedelta(seconds=1))}
    whole = all(o is not None and o.total_seconds() % 3600 == 0 for o in offsets)
    rollup = choose_rollup([start, end]) if whole else Rollup.QUARTER
    params = {
        **door_params(rollup),
        "store_id": store.store_id,
        "doors": list(store.customer_doors),
        "lo": start,
        "hi": end,
        "tz": store.timezone,
    }
    q = queries("kpis")
    doors = {r["hour"]: r for r in conn.execute(door_query("traffic_by_local_hour", rollup), params)}
    sales = {
        r["hour"]: r
        for r in conn.execute(
            sql.SQL(q["receipts_by_local_hour"]).format(receipts=sql.Identifier(rollup.receipts)), params
        )
    }
    days = (last - first).days + 1
    out = []
    for h in range(24):
        d, s = doors.get(h), sales.get(h)
        entries = d["entries"] if d else 0
        tx = s["transactions"] if s else 0
        out.append(
            HourOfDay(
                hour=h,
                entries=entries,
                exits=d["exits"] if d else 0,
                avg_entries_per_day=entries / days,
                transactions=tx,
                revenue=float(s["revenue"]) if s else 0.0,
                conversion=f.conversion(transactions=tx, visitors=entries),
            )
        )
    return out


# ---------------------------------------------------------------- occupancy


@dataclass(frozen=True, slots=True)
class OccupancyPoint:
    """Estimated people inside at the end of a 15-minute bucket."""

    start: datetime
    end: datetime
    local_start: datetime
    entries: int
    exits: int
    occupancy: int


@dataclass(frozen=True, slots=True)
class Occupancy:
    """A day's occupancy: now (when the day is today) and the 15-minute history."""

    store: StoreInfo
    day: date
    now: int | None
    as_of: datetime | None
    measured: int | None
    """The newest whole-store occupancy a device reported that day, when any does."""
    measured_at: datetime | None
    history: list[OccupancyPoint]


def occupancy(
    conn: psycopg.Connection, *, store: StoreInfo, day: date | None = None, now: datetime | None = None
) -> Occupancy:
    """Occupancy from customer-door counts: entries − exits since the start of the local day, ≥ 0."""
    now = now or datetime.now(UTC)
    day = day or store.calendar.local_date(now)
    check_period(day, day)
    buckets = store.calendar.buckets(day, day, Interval.MIN15)
    totals = bucket_totals(conn, store, buckets)
    levels = f.occupancy_series([t.entries for t in totals], [t.exits for t in totals])
    history = [
        OccupancyPoint(
            start=b.start, end=b.end, local_start=b.local_start, entries=t.entries, exits=t.exits, occupancy=lv
        )
        for b, t, lv in zip(buckets, totals, levels, strict=True)
        if b.start < now
    ]
    lo, hi = buckets[0].start, buckets[-1].end
    m = conn.execute(queries("kpis")["latest_occupancy"], {"store_id": store.store_id, "lo": lo, "hi": hi}).fetchone()
    today = lo <= now < hi
    return Occupancy(
        store=store,
        day=day,
        now=history[-1].occupancy if today and history else None,
        as_of=min(now, history[-1].end) if today and history else None,
        measured=m["occupancy"] if m else None,
        measured_at=m["end_ts"] if m else None,
        history=history,
    )


# ---------------------------------------------------------------- zones


@dataclass(frozen=True, slots=True)
class ZoneRevenue:
    """Revenue of the categories a zone sells, per m² of the zone."""

    zone_id: str
    name: str
    area_m2: float
    categories: list[str]
    revenue: float
    items: float
    revenue_per_m2: float | None


@dataclass(frozen=True, slots=True)
class ZoneReport:
    """Revenue per zone; what no zone sells is `unassigned`."""

    zones: list[ZoneRevenue]
    unassigned_revenue: float
    shared_categories: list[str] = field(default_factory=list)
    """Categories sold in more than one zone: their revenue counts in each."""


def zone_revenue(conn: psycopg.Connection, *, store: StoreInfo, first: date, last: date) -> ZoneReport:
    """Revenue per zone through the category → zone map (zones' `categories`).

    Raises:
        BadRequest: the period is out of bounds.
    """
    check_period(first, last)
    start, end = store.calendar.period_bounds(first, last)
    cats = {
        r["category"]: r
        for r in conn.execute(queries("kpis")["category_revenue"], {"store_id": store.store_id, "lo": start, "hi": end})
    }
    zones = conn.execute(queries("kpis")["store_zones"], {"store_id": store.store_id}).fetchall()
    seen: dict[str, int] = {}
    out = []
    for z in zones:
        revenue = sum(float(cats[c]["revenue"]) for c in z["categories"] if c in cats)
        items = sum(float(cats[c]["items"]) for c in z["categories"] if c in cats)
        for c in z["categories"]:
            seen[c] = seen.get(c, 0) + 1
        out.append(
            ZoneRevenue(
                zone_id=z["zone_id"],
                name=z["name"],
                area_m2=z["area_m2"],
                categories=list(z["categories"]),
                revenue=revenue,
                items=items,
                revenue_per_m2=f.revenue_per_m2(net_revenue=revenue, area_m2=z["area_m2"]),
            )
        )
    unassigned = sum(float(r["revenue"]) for c, r in cats.items() if c not in seen)
    return ZoneReport(
        zones=out, unassigned_revenue=unassigned, shared_categories=sorted(c for c, n in seen.items() if n > 1)
    )


# ---------------------------------------------------------------- several stores


@dataclass(frozen=True, slots=True)
class Portfolio:
    """Every store in scope over one period, and their roll-up."""

    first: date
    last: date
    compare: Comparison
    stores: list[Summary]
    total: list[KpiValue]
    total_quality: Quality
    mixed_currencies: bool


def _combined_store(stores: list[StoreInfo]) -> StoreInfo:
    areas = [s.sales_area_m2 for s in stores]
    return StoreInfo(
        store_id="*",
        name="all stores",
        timezone="UTC",
        sales_area_m2=sum(a for a in areas if a) if areas and all(areas) else None,
        customer_doors=tuple(d for s in stores for d in s.customer_doors),
        outward_doors=tuple(d for s in stores for d in s.outward_doors),
    )


def portfolio(
    conn: psycopg.Connection,
    *,
    stores: list[StoreInfo],
    first: date,
    last: date,
    compare: Comparison = Comparison.NONE,
    options: KpiOptions = DEFAULT_OPTIONS,
) -> Portfolio:
    """Each store's KPIs over its own local dates `first`..`last`, and the roll-up of all.

    The roll-up adds the stores' totals and computes ratios from the sums (conversion of
    all stores is Σ transactions / Σ visitors, not a mean of conversions). Money KPIs of
    the roll-up are None when the stores do not share one currency.

    Raises:
        BadRequest: the period is out of bounds.
    """
    check_period(first, last)
    rows = [kpi_summary(conn, store=s, first=first, last=last, compare=compare, options=options) for s in stores]
    combined = _combined_store(stores)
    now_t = Totals.sum([r.totals for r in rows])
    then_t = (
        Totals.sum([r.comparison_totals for r in rows if r.comparison_totals]) if compare.period(first, last) else None
    )
    # A store missing door data makes the roll-up's conversion unknown, not skewed.
    complete = all(r.quality.door_complete for r in rows)
    q = quality(now_t, combined, options)
    if not complete and q.door_complete:
        q = replace(q, door_complete=False, flags=(*q.flags, Flag.DOOR_DATA_INCOMPLETE))
    now_k = kpis(now_t, combined, options, q)
    then_k = None
    if then_t is not None:
        then_q = quality(then_t, combined, options)
        if not all(r.comparison_quality and r.comparison_quality.door_complete for r in rows):
            then_q = replace(then_q, door_complete=False)
        then_k = kpis(then_t, combined, options, then_q)
    mixed = len({s.currency for s in stores}) > 1
    total = _values(now_k, then_k)
    if mixed:
        money = {Kpi.REVENUE, Kpi.ATV, Kpi.REVENUE_PER_M2}
        total = [KpiValue(v.kpi, None, None, None, None) if v.kpi in money else v for v in total]
    return Portfolio(
        first=first, last=last, compare=compare, stores=rows, total=total, total_quality=q, mixed_currencies=mixed
    )


def rank(p: Portfolio, *, kpi: Kpi, by: str = "value", descending: bool = True) -> list[Summary]:
    """The portfolio's stores ordered by a KPI's value, its change (`delta`) or relative change (`ratio`).

    Stores whose number is unknown go last.
    """
    if by not in ("value", "delta", "ratio"):
        raise BadRequest(f"rank by value, delta or ratio, not {by!r}")

    def key(s: Summary) -> tuple[bool, float]:
        v = getattr(s.value(kpi), by)
        if v is None:
            return (True, 0.0)
        return (False, -v if descending else v)

    return sorted(p.stores, key=key)
