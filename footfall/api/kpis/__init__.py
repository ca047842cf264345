"""The KPI query layer: store-local buckets from the calendar, numbers from the rollups.

Routes, the alerts engine and the dashboard all call these functions; none of them
writes SQL of its own. Every number comes with its data quality.

Example:
    >>> # with a psycopg connection `conn`:
    >>> # store = store_info(conn, "riga-01")
    >>> # rows = kpi_series(conn, store=store, first=date(2026, 6, 1), last=date(2026, 6, 30), interval="day")
    >>> # rows[0].kpis[Kpi.CONVERSION], rows[0].quality.door_coverage
"""

from footfall.api.kpis.metrics import DEFAULT_OPTIONS, Flag, Kpi, KpiOptions, Quality, kpis, quality
from footfall.api.kpis.report import (
    MAX_BUCKETS,
    Comparison,
    HourOfDay,
    KpiValue,
    Occupancy,
    OccupancyPoint,
    PlanFact,
    Portfolio,
    RevenueExplained,
    SeriesRow,
    Summary,
    TrafficRow,
    ZoneReport,
    ZoneRevenue,
    check_period,
    explain_revenue,
    kpi_series,
    kpi_summary,
    local_period_totals,
    occupancy,
    plan_vs_fact,
    portfolio,
    rank,
    traffic_by_hour,
    traffic_series,
    zone_revenue,
)
from footfall.api.kpis.store import StoreInfo, all_store_ids, store_calendar, store_info, stores_info
from footfall.api.kpis.totals import Rollup, Totals, bucket_totals, choose_rollup, period_totals

__all__ = [
    "DEFAULT_OPTIONS",
    "MAX_BUCKETS",
    "Comparison",
    "Flag",
    "HourOfDay",
    "Kpi",
    "KpiOptions",
    "KpiValue",
    "Occupancy",
    "OccupancyPoint",
    "PlanFact",
    "Portfolio",
    "Quality",
    "RevenueExplained",
    "Rollup",
    "SeriesRow",
    "StoreInfo",
    "Summary",
    "Totals",
    "TrafficRow",
    "ZoneReport",
    "ZoneRevenue",
    "all_store_ids",
    "bucket_totals",
    "check_period",
    "choose_rollup",
    "explain_revenue",
    "kpi_series",
    "kpi_summary",
    "kpis",
    "local_period_totals",
    "occupancy",
    "period_totals",
    "plan_vs_fact",
    "portfolio",
    "quality",
    "rank",
    "store_calendar",
    "store_info",
    "stores_info",
    "traffic_by_hour",
    "traffic_series",
    "zone_revenue",
]
