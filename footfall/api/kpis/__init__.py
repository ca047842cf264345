"""The KPI layer: store-local buckets from the calendar, numbers from the rollups.

One module per report family (`series`, `summary`, `revenue`, `plans`, `hours`,
`occupancy`, `zones`, `portfolio`); each function takes a connection and keyword
arguments and returns frozen dataclasses, every number with its data quality. The SQL
is in `footfall/db/sql/kpis.sql`; errors are `footfall.api.kpis.errors`, and the API's
response models are built from these results (`footfall.api.schemas.kpis`).

Example:
    >>> # with a psycopg connection `conn`:
    >>> # store = store_info(conn, "riga-01")
    >>> # rows = kpi_series(conn, store=store, first=date(2026, 6, 1), last=date(2026, 6, 30), interval="day")
    >>> # rows[0].kpis[Kpi.CONVERSION], rows[0].quality.door_coverage
"""

from footfall.api.kpis.errors import KpiError, UnanswerableQuery, UnknownStore
from footfall.api.kpis.hours import HourOfDay, traffic_by_hour
from footfall.api.kpis.metrics import DEFAULT_OPTIONS, Flag, Kpi, KpiOptions, Quality, kpis, quality
from footfall.api.kpis.occupancy import Occupancy, OccupancyPoint, occupancy
from footfall.api.kpis.period import MAX_BUCKETS, MAX_DAYS, Comparison, check_period
from footfall.api.kpis.plans import PlanFact, plan_vs_fact
from footfall.api.kpis.portfolio import Portfolio, portfolio, rank
from footfall.api.kpis.revenue import RevenueExplained, explain_revenue
from footfall.api.kpis.series import SeriesRow, TrafficRow, kpi_series, traffic_series
from footfall.api.kpis.store import StoreInfo, all_store_ids, store_info, stores_info
from footfall.api.kpis.summary import KpiValue, Summary, kpi_summary, kpi_values
from footfall.api.kpis.totals import Rollup, Totals, bucket_totals, choose_rollup, local_period_totals, period_totals
from footfall.api.kpis.zones import ZoneReport, ZoneRevenue, zone_revenue

__all__ = [
    "DEFAULT_OPTIONS",
    "MAX_BUCKETS",
    "MAX_DAYS",
    "Comparison",
    "Flag",
    "HourOfDay",
    "Kpi",
    "KpiError",
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
    "UnanswerableQuery",
    "UnknownStore",
    "ZoneReport",
    "ZoneRevenue",
    "all_store_ids",
    "bucket_totals",
    "check_period",
    "choose_rollup",
    "explain_revenue",
    "kpi_series",
    "kpi_summary",
    "kpi_values",
    "kpis",
    "local_period_totals",
    "occupancy",
    "period_totals",
    "plan_vs_fact",
    "portfolio",
    "quality",
    "rank",
    "store_info",
    "stores_info",
    "traffic_by_hour",
    "traffic_series",
    "zone_revenue",
]
