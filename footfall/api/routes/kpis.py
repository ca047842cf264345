"""One store's KPIs: series, summary with comparison, hour of day, occupancy, zones, revenue change.

Every table-shaped answer is also CSV on `Accept: text/csv`.
"""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from footfall.api import kpis as k
from footfall.api.deps import ConnDep, KpiReader
from footfall.api.problems import responses
from footfall.api.routes.common import First, Last, StoreId, quality_public, scoped_store, value_public
from footfall.api.schemas.kpis import (
    HourOfDayPublic,
    HoursOfDayPublic,
    KpiRowPublic,
    KpiSeriesPublic,
    OccupancyPointPublic,
    OccupancyPublic,
    RevenueChangePublic,
    SummaryPublic,
    ZoneRevenuePublic,
    ZonesPublic,
)
from footfall.api.tables import CSV_RESPONSE, table_response
from footfall.core.calendar import Interval

router = APIRouter(prefix="/v1/stores/{store_id}/kpis", tags=["kpis"], responses=responses(400, 401, 403, 404, 422))

IntervalQ = Annotated[Interval, Query(description="Bucket size: 15min, hour, day, week or month.")]
CompareQ = Annotated[k.Comparison, Query(description="What to compare the period with.")]


def row_public(r: k.SeriesRow) -> KpiRowPublic:
    """A series row in its public form."""
    return KpiRowPublic(
        start=r.bucket.start,
        end=r.bucket.end,
        local_start=r.bucket.local_start,
        hours=r.bucket.hours,
        quality=quality_public(r.quality),
        **{key.value: v for key, v in r.kpis.items()},
    )


@router.get("/series", summary="KPIs per bucket", responses=CSV_RESPONSE)
def read_series(
    *,
    request: Request,
    conn: ConnDep,
    caller: KpiReader,
    store_id: StoreId,
    first: First,
    last: Last,
    interval: IntervalQ = Interval.DAY,
) -> KpiSeriesPublic:
    """Every KPI per store-local bucket (15 min, hour, day, week, month), DST-safe, with data quality."""
    store = scoped_store(conn, caller, store_id)
    rows = k.kpi_series(conn, store=store, first=first, last=last, interval=interval)
    body = KpiSeriesPublic(
        store_id=store_id,
        timezone=store.timezone,
        first=first,
        last=last,
        interval=interval,
        data=[row_public(r) for r in rows],
        count=len(rows),
    )
    return table_response(request, body, filename=f"kpis-{store_id}-{first}-{last}-{interval.value}")


def summary_public(s: k.Summary) -> SummaryPublic:
    """A summary in its public form."""
    return SummaryPublic(
        store_id=s.store.store_id,
        timezone=s.store.timezone,
        first=s.first,
        last=s.last,
        compare=s.compare,
        comparison_first=s.comparison_first,
        comparison_last=s.comparison_last,
        data=[value_public(v) for v in s.values],
        count=len(s.values),
        quality=quality_public(s.quality),
        comparison_quality=quality_public(s.comparison_quality) if s.comparison_quality else None,
    )


@router.get("/summary", summary="KPIs of a period with comparison", responses=CSV_RESPONSE)
def read_summary(
    *,
    request: Request,
    conn: ConnDep,
    caller: KpiReader,
    store_id: StoreId,
    first: First,
    last: Last,
    compare: CompareQ = k.Comparison.PREVIOUS_PERIOD,
) -> SummaryPublic:
    """Each KPI's value, comparison value and change: against the previous period, the same
    weekdays last week, or the same period last year aligned by weekday (364 days back)."""
    store = scoped_store(conn, caller, store_id)
    s = k.kpi_summary(conn, store=store, first=first, last=last, compare=compare)
    return table_response(request, summary_public(s), filename=f"summary-{store_id}-{first}-{last}")


@router.get("/traffic-by-hour", summary="Traffic by hour of day", responses=CSV_RESPONSE)
def read_traffic_by_hour(
    *, request: Request, conn: ConnDep, caller: KpiReader, store_id: StoreId, first: First, last: Last
) -> HoursOfDayPublic:
    """Entries, transactions and conversion for each local hour of the day (0–23) over a period."""
    store = scoped_store(conn, caller, store_id)
    rows = k.traffic_by_hour(conn, store=store, first=first, last=last)
    body = HoursOfDayPublic(
        store_id=store_id,
        first=first,
        last=last,
        data=[
            HourOfDayPublic(
                hour=r.hour,
                entries=r.entries,
                exits=r.exits,
                avg_entries_per_day=r.avg_entries_per_day,
                transactions=r.transactions,
                revenue=r.revenue,
                conversion=r.conversion,
            )
            for r in rows
        ],
        count=len(rows),
    )
    return table_response(request, body, filename=f"traffic-by-hour-{store_id}-{first}-{last}")


@router.get("/occupancy", summary="Occupancy now and through a day", responses=CSV_RESPONSE)
def read_occupancy(
    *,
    request: Request,
    conn: ConnDep,
    caller: KpiReader,
    store_id: StoreId,
    day: Annotated[date | None, Query(description="Local date; default today.")] = None,
) -> OccupancyPublic:
    """People inside, estimated from customer doors (entries − exits since the day began, never below 0),
    every 15 minutes; `now` when the day is today, and the newest device-measured occupancy if any."""
    store = scoped_store(conn, caller, store_id)
    o = k.occupancy(conn, store=store, day=day)
    body = OccupancyPublic(
        store_id=store_id,
        day=o.day,
        now=o.now,
        as_of=o.as_of,
        measured=o.measured,
        measured_at=o.measured_at,
        data=[
            OccupancyPointPublic(
                start=p.start,
                end=p.end,
                local_start=p.local_start,
                entries=p.entries,
                exits=p.exits,
                occupancy=p.occupancy,
            )
            for p in o.history
        ],
        count=len(o.history),
    )
    return table_response(request, body, filename=f"occupancy-{store_id}-{o.day}")


@router.get("/zones", summary="Revenue per zone and per m²", responses=CSV_RESPONSE)
def read_zones(
    *, request: Request, conn: ConnDep, caller: KpiReader, store_id: StoreId, first: First, last: Last
) -> ZonesPublic:
    """Revenue of each zone through its product categories, and per m² of the zone."""
    store = scoped_store(conn, caller, store_id)
    z = k.zone_revenue(conn, store=store, first=first, last=last)
    body = ZonesPublic(
        store_id=store_id,
        first=first,
        last=last,
        data=[
            ZoneRevenuePublic(
                zone_id=r.zone_id,
                name=r.name,
                area_m2=r.area_m2,
                categories=r.categories,
                revenue=r.revenue,
                items=r.items,
                revenue_per_m2=r.revenue_per_m2,
            )
            for r in z.zones
        ],
        count=len(z.zones),
        unassigned_revenue=z.unassigned_revenue,
        shared_categories=z.shared_categories,
    )
    return table_response(request, body, filename=f"zones-{store_id}-{first}-{last}")


@router.get("/revenue-change", summary="Revenue change explained")
def read_revenue_change(
    *,
    conn: ConnDep,
    caller: KpiReader,
    store_id: StoreId,
    first: First,
    last: Last,
    compare: CompareQ = k.Comparison.PREVIOUS_PERIOD,
) -> RevenueChangePublic:
    """Split the revenue change against the comparison period into traffic, conversion and ATV
    contributions (log-mean Divisia: the three parts add up to the change exactly)."""
    store = scoped_store(conn, caller, store_id)
    e = k.explain_revenue(conn, store=store, first=first, last=last, compare=compare)
    s = e.summary
    c = e.change
    return RevenueChangePublic(
        store_id=store_id,
        first=first,
        last=last,
        compare=compare,
        comparison_first=s.comparison_first,
        comparison_last=s.comparison_last,
        revenue=float(s.totals.revenue),
        comparison_revenue=float(s.comparison_totals.revenue) if s.comparison_totals else 0.0,
        total=c.total
        if c
        else float(s.totals.revenue) - float(s.comparison_totals.revenue)
        if s.comparison_totals
        else None,
        traffic=c.traffic if c else None,
        conversion=c.conversion if c else None,
        atv=c.atv if c else None,
        reason=e.reason,
        quality=quality_public(s.quality),
        comparison_quality=quality_public(s.comparison_quality) if s.comparison_quality else None,
    )
