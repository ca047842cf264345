"""KPI answers: series rows, summaries with comparisons, and the reports built on them."""

from datetime import date, datetime

from pydantic import BaseModel, Field

from footfall.api.kpis import Comparison, Flag, Kpi
from footfall.core.calendar import Interval


class QualityPublic(BaseModel):
    """How complete the inputs of a number were."""

    door_coverage: float | None = Field(
        description="Share of open counter-time (customer doors × opening hours) with valid data; null when closed."
    )
    invalid_minutes: float = Field(description="Counter-minutes in opening hours that devices flagged invalid.")
    pos_gap_minutes: float = Field(description="Open minutes with door traffic and not a single receipt.")
    door_complete: bool = Field(description="Door data is complete enough for conversion.")
    flags: list[Flag]


class KpisPublic(BaseModel):
    """Every KPI of a bucket or period. Ratios are null when their denominator is 0 or unknown."""

    visitors: float | None = Field(description="Σ entries on customer doors (or (entries+exits)/2).")
    entries: float | None
    exits: float | None
    transactions: float = Field(description="Sale receipts, voids excluded.")
    refunds: float
    voids: float
    revenue: float = Field(description="Net: sales minus refunds.")
    items: float = Field(description="Units sold, net of returns.")
    conversion: float | None = Field(description="transactions / visitors; null when door data is incomplete.")
    atv: float | None = Field(description="Average transaction value: revenue / transactions.")
    upt: float | None = Field(description="Units per transaction: items / transactions.")
    revenue_per_m2: float | None = Field(description="revenue / sales area.")
    capture_rate: float | None = Field(description="Entries / passers-by on doors with an outward counter.")
    loyalty_activation: float | None = Field(description="Share of transactions with a loyalty card.")
    shopper_to_staff: float | None = Field(description="Visitors per staff-hour on duty; null without shifts.")


class KpiRowPublic(KpisPublic):
    """KPIs of one store-local bucket."""

    start: datetime = Field(description="Bucket start (UTC), inclusive.")
    end: datetime = Field(description="Bucket end (UTC), exclusive.")
    local_start: datetime = Field(description="Bucket start in the store's time zone.")
    hours: float = Field(description="Bucket length in hours (23 or 25 on DST days).")
    quality: QualityPublic


class KpiSeriesPublic(BaseModel):
    """KPIs per bucket over a period."""

    store_id: str
    timezone: str
    first: date
    last: date
    interval: Interval
    data: list[KpiRowPublic]
    count: int


class KpiValuePublic(BaseModel):
    """One KPI: value, comparison value and change."""

    kpi: Kpi
    value: float | None
    comparison: float | None
    change: float | None = Field(description="value − comparison.")
    change_ratio: float | None = Field(description="value / comparison − 1; null when the comparison is 0 or null.")


class SummaryPublic(BaseModel):
    """Every KPI of a period against a comparison period."""

    store_id: str
    timezone: str
    first: date
    last: date
    compare: Comparison
    comparison_first: date | None
    comparison_last: date | None
    data: list[KpiValuePublic]
    count: int
    quality: QualityPublic
    comparison_quality: QualityPublic | None


class HourOfDayPublic(BaseModel):
    """Traffic and sales in one local hour of the day, over a period."""

    hour: int = Field(ge=0, le=23)
    entries: int
    exits: int
    avg_entries_per_day: float
    transactions: int
    revenue: float
    conversion: float | None


class HoursOfDayPublic(BaseModel):
    """Traffic by hour of day."""

    store_id: str
    first: date
    last: date
    data: list[HourOfDayPublic]
    count: int


class OccupancyPointPublic(BaseModel):
    """People inside at the end of a 15-minute bucket (entries − exits since the day began, ≥ 0)."""

    start: datetime
    end: datetime
    local_start: datetime
    entries: int
    exits: int
    occupancy: int


class OccupancyPublic(BaseModel):
    """A day's occupancy."""

    store_id: str
    day: date
    now: int | None = Field(description="Estimated people inside now (only when `day` is today).")
    as_of: datetime | None
    measured: int | None = Field(description="The newest whole-store occupancy a device measured that day.")
    measured_at: datetime | None
    data: list[OccupancyPointPublic]
    count: int


class ZoneRevenuePublic(BaseModel):
    """A zone's revenue through its product categories."""

    zone_id: str
    name: str
    area_m2: float
    categories: list[str]
    revenue: float
    items: float
    revenue_per_m2: float | None


class ZonesPublic(BaseModel):
    """Revenue per zone."""

    store_id: str
    first: date
    last: date
    data: list[ZoneRevenuePublic]
    count: int
    unassigned_revenue: float = Field(description="Revenue of categories no zone sells (or lines without one).")
    shared_categories: list[str] = Field(description="Categories in several zones: counted in each.")


class RevenueChangePublic(BaseModel):
    """A revenue change split into traffic, conversion and ATV contributions (they add up to `total`)."""

    store_id: str
    first: date
    last: date
    compare: Comparison
    comparison_first: date | None
    comparison_last: date | None
    revenue: float
    comparison_revenue: float
    total: float | None = Field(description="revenue − comparison revenue.")
    traffic: float | None
    conversion: float | None
    atv: float | None
    reason: str | None = Field(description="Why there is no split, when there is none.")
    quality: QualityPublic
    comparison_quality: QualityPublic | None


class StoreKpisPublic(BaseModel):
    """One store's row in a multi-store table: every KPI's value, comparison and change."""

    store_id: str
    name: str
    currency: str
    kpis: dict[str, KpiValuePublic]
    quality: QualityPublic


class PortfolioPublic(BaseModel):
    """Every store in scope, and their roll-up."""

    first: date
    last: date
    compare: Comparison
    data: list[StoreKpisPublic]
    count: int
    total: dict[str, KpiValuePublic] = Field(description="Ratios of the sums, not means of ratios.")
    total_quality: QualityPublic
    mixed_currencies: bool = Field(description="Stores use several currencies: money totals are null.")


class RankingRowPublic(BaseModel):
    """A store's place in a ranking."""

    rank: int
    store_id: str
    name: str
    kpi: Kpi
    value: float | None
    comparison: float | None
    change: float | None
    change_ratio: float | None
    door_complete: bool


class RankingPublic(BaseModel):
    """Stores ordered by a KPI or its change."""

    first: date
    last: date
    compare: Comparison
    kpi: Kpi
    by: str
    data: list[RankingRowPublic]
    count: int
