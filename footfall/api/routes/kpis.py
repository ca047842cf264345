"""One store's KPIs: series, summary with comparison, hour of day, occupancy, zones, revenue change.

Every table-shaped answer is also CSV on `Accept: text/csv`.
"""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from footfall.api import kpis
from footfall.api.deps import KpiReader, NowDep
from footfall.api.problems import responses
from footfall.api.replica import ReadConnDep
from footfall.api.routes.common import CompareQ, First, Last, StoreId, scoped_store
from footfall.api.schemas.kpis import (
    HoursOfDayPublic,
    KpiSeriesPublic,
    OccupancyPublic,
    RevenueChangePublic,
    SummaryPublic,
    ZonesPublic,
)
from footfall.api.tables import CSV_RESPONSE, table_response
from footfall.core.calendar import Interval

router = APIRouter(prefix="/v1/stores/{store_id}/kpis", tags=["kpis"], responses=responses(400, 401, 403, 404, 422))

IntervalQ = Annotated[Interval, Query(description="Bucket size: 15min, hour, day, week or month.")]


@router.get("/series", summary="KPIs per bucket", responses=CSV_RESPONSE)
def read_series(
    *,
    request: Request,
    conn: ReadConnDep,
    caller: KpiReader,
    now: NowDep,
    store_id: StoreId,
    first: First,
    last: Last,
    interval: IntervalQ = Interval.DAY,
) -> KpiSeriesPublic:
    """Every KPI per store-local bucket (15 min, hour, day, week, month), DST-safe, with data quality.
    Coverage of a bucket that is still running is judged on its elapsed opening time only."""
    store = scoped_store(conn, caller, store_id)
    rows = kpis.kpi_series(conn, store=store, first=first, last=last, interval=interval, now=now)
    body = KpiSeriesPublic.from_rows(rows, store=store, first=first, last=last, interval=interval)
    return table_response(request, body, filename=f"kpis-{store_id}-{first}-{last}-{interval.value}")


@router.get("/summary", summary="KPIs of a period with comparison", responses=CSV_RESPONSE)
def read_summary(
    *,
    request: Request,
    conn: ReadConnDep,
    caller: KpiReader,
    now: NowDep,
    store_id: StoreId,
    first: First,
    last: Last,
    compare: CompareQ = kpis.Comparison.PREVIOUS_PERIOD,
) -> SummaryPublic:
    """Each KPI's value, comparison value and change: against the previous period, the same
    weekdays last week, or the same period last year aligned by weekday (364 days back).
    A period that holds today is counted up to now and compared with the same elapsed part
    of the comparison period (`running`, `as_of`, `comparison_as_of`)."""
    store = scoped_store(conn, caller, store_id)
    summary = kpis.kpi_summary(conn, store=store, first=first, last=last, compare=compare, now=now)
    return table_response(request, SummaryPublic.from_summary(summary), filename=f"summary-{store_id}-{first}-{last}")


@router.get("/traffic-by-hour", summary="Traffic by hour of day", responses=CSV_RESPONSE)
def read_traffic_by_hour(
    *, request: Request, conn: ReadConnDep, caller: KpiReader, now: NowDep, store_id: StoreId, first: First, last: Last
) -> HoursOfDayPublic:
    """Entries, transactions and conversion for each local hour of the day (0–23) over a period.
    Only hours that are over count: each hour is averaged over the days on which it has ended."""
    store = scoped_store(conn, caller, store_id)
    hours = kpis.traffic_by_hour(conn, store=store, first=first, last=last, now=now)
    body = HoursOfDayPublic.from_hours(hours, store=store, first=first, last=last)
    return table_response(request, body, filename=f"traffic-by-hour-{store_id}-{first}-{last}")


@router.get("/occupancy", summary="Occupancy now and through a day", responses=CSV_RESPONSE)
def read_occupancy(
    *,
    request: Request,
    conn: ReadConnDep,
    caller: KpiReader,
    now: NowDep,
    store_id: StoreId,
    day: Annotated[date | None, Query(description="Local date; default today.")] = None,
) -> OccupancyPublic:
    """People inside, estimated from customer doors (entries − exits since the day began, never below 0),
    every 15 minutes; `now` when the day is today, and the newest device-measured occupancy if any."""
    store = scoped_store(conn, caller, store_id)
    occupancy = kpis.occupancy(conn, store=store, day=day, now=now)
    body = OccupancyPublic.from_occupancy(occupancy)
    return table_response(request, body, filename=f"occupancy-{store_id}-{occupancy.day}")


@router.get("/zones", summary="Revenue per zone and per m²", responses=CSV_RESPONSE)
def read_zones(
    *, request: Request, conn: ReadConnDep, caller: KpiReader, store_id: StoreId, first: First, last: Last
) -> ZonesPublic:
    """Revenue of each zone through its product categories, and per m² of the zone."""
    store = scoped_store(conn, caller, store_id)
    report = kpis.zone_revenue(conn, store=store, first=first, last=last)
    body = ZonesPublic.from_report(report, store=store, first=first, last=last)
    return table_response(request, body, filename=f"zones-{store_id}-{first}-{last}")


@router.get("/revenue-change", summary="Revenue change explained", responses=CSV_RESPONSE)
def read_revenue_change(
    *,
    request: Request,
    conn: ReadConnDep,
    caller: KpiReader,
    now: NowDep,
    store_id: StoreId,
    first: First,
    last: Last,
    compare: CompareQ = kpis.Comparison.PREVIOUS_PERIOD,
) -> RevenueChangePublic:
    """Split the revenue change against the comparison period into traffic, conversion and ATV
    contributions (log-mean Divisia: the three parts add up to the change exactly). CSV: one row."""
    store = scoped_store(conn, caller, store_id)
    explained = kpis.explain_revenue(conn, store=store, first=first, last=last, compare=compare, now=now)
    body = RevenueChangePublic.from_explained(explained)
    return table_response(request, body, filename=f"revenue-change-{store_id}-{first}-{last}", rows=[body])
