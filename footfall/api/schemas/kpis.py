"""KPI answers: series rows, summaries with comparisons, and the reports built on them.

Each answer is built from what the KPI layer returns (`footfall.api.kpis`) by a
`from_<result>` constructor here, reading attributes (`from_attributes`) where the
shapes match; routes return these and copy nothing themselves.
"""

from datetime import date, datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from footfall.api.kpis import (
    Comparison,
    Flag,
    Kpi,
    KpiValue,
    Occupancy,
    Portfolio,
    RevenueExplained,
    SeriesRow,
    StoreInfo,
    Summary,
    ZoneReport,
)
from footfall.core.calendar import Interval

FROM_ATTRIBUTES = ConfigDict(from_attributes=True)


class QualityPublic(BaseModel):
    """How complete the inputs of a number were."""

    model_config = FROM_ATTRIBUTES

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

    @classmethod
    def from_row(cls, row: SeriesRow) -> Self:
        """A series row of the KPI layer."""
        b = row.bucket
        return cls.model_validate(
            {
                "start": b.start,
                "end": b.end,
                "local_start": b.local_start,
                "hours": b.hours,
                "quality": row.quality,
                **{k.value: v for k, v in row.kpis.items()},
            }
        )


class KpiSeriesPublic(BaseModel):
    """KPIs per bucket over a period."""

    store_id: str
    timezone: str
    first: date
    last: date
    interval: Interval
    data: list[KpiRowPublic]
    count: int

    @classmethod
    def from_rows(cls, rows: list[SeriesRow], *, store: StoreInfo, first: date, last: date, interval: Interval) -> Self:
        """A series of the KPI layer (`kpi_series`)."""
        return cls(
            store_id=store.store_id,
            timezone=store.timezone,
            first=first,
            last=last,
            interval=interval,
            data=[KpiRowPublic.from_row(r) for r in rows],
            count=len(rows),
        )


class KpiValuePublic(BaseModel):
    """One KPI: value, comparison value and change."""

    kpi: Kpi
    value: float | None
    comparison: float | None
    change: float | None = Field(description="value − comparison.")
    change_ratio: float | None = Field(description="value / comparison − 1; null when the comparison is 0 or null.")

    @classmethod
    def from_value(cls, v: KpiValue) -> Self:
        """A `KpiValue` of the KPI layer (its `delta` and `ratio` are `change` and `change_ratio` here)."""
        return cls(kpi=v.kpi, value=v.value, comparison=v.comparison, change=v.delta, change_ratio=v.ratio)


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

    @classmethod
    def from_summary(cls, s: Summary) -> Self:
        """A summary of the KPI layer (`kpi_summary`)."""
        return cls.model_validate(
            {
                "store_id": s.store.store_id,
                "timezone": s.store.timezone,
                "first": s.first,
                "last": s.last,
                "compare": s.compare,
                "comparison_first": s.comparison_first,
                "comparison_last": s.comparison_last,
                "data": [KpiValuePublic.from_value(v) for v in s.values],
                "count": len(s.values),
                "quality": s.quality,
                "comparison_quality": s.comparison_quality,
            }
        )


class HourOfDayPublic(BaseModel):
    """Traffic and sales in one local hour of the day, over a period."""

    model_config = FROM_ATTRIBUTES

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

    @classmethod
    def from_hours(cls, hours: list, *, store_id: str, first: date, last: date) -> Self:
        """The `HourOfDay` rows of the KPI layer (`traffic_by_hour`)."""
        return cls.model_validate(
            {"store_id": store_id, "first": first, "last": last, "data": hours, "count": len(hours)}
        )


class OccupancyPointPublic(BaseModel):
    """People inside at the end of a 15-minute bucket (entries − exits since the day began, ≥ 0)."""

    model_config = FROM_ATTRIBUTES

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

    @classmethod
    def from_occupancy(cls, o: Occupancy) -> Self:
        """A day's occupancy from the KPI layer (`occupancy`)."""
        return cls.model_validate(
            {
                "store_id": o.store.store_id,
                "day": o.day,
                "now": o.now,
                "as_of": o.as_of,
                "measured": o.measured,
                "measured_at": o.measured_at,
                "data": o.history,
                "count": len(o.history),
            }
        )


class ZoneRevenuePublic(BaseModel):
    """A zone's revenue through its product categories."""

    model_config = FROM_ATTRIBUTES

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

    @classmethod
    def from_report(cls, z: ZoneReport, *, store_id: str, first: date, last: date) -> Self:
        """A zone report of the KPI layer (`zone_revenue`)."""
        return cls.model_validate(
            {
                "store_id": store_id,
                "first": first,
                "last": last,
                "data": z.zones,
                "count": len(z.zones),
                "unassigned_revenue": z.unassigned_revenue,
                "shared_categories": z.shared_categories,
            }
        )


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

    @classmethod
    def from_explained(cls, e: RevenueExplained) -> Self:
        """A revenue change of the KPI layer (`explain_revenue`)."""
        s, c = e.summary, e.change
        return cls.model_validate(
            {
                "store_id": s.store.store_id,
                "first": s.first,
                "last": s.last,
                "compare": s.compare,
                "comparison_first": s.comparison_first,
                "comparison_last": s.comparison_last,
                "revenue": e.revenue,
                "comparison_revenue": e.comparison_revenue,
                "total": e.total,
                "traffic": c.traffic if c else None,
                "conversion": c.conversion if c else None,
                "atv": c.atv if c else None,
                "reason": e.reason,
                "quality": s.quality,
                "comparison_quality": s.comparison_quality,
            }
        )


class StoreKpisPublic(BaseModel):
    """One store's row in a multi-store table: every KPI's value, comparison and change."""

    store_id: str
    name: str
    currency: str
    kpis: dict[str, KpiValuePublic]
    quality: QualityPublic

    @classmethod
    def from_summary(cls, s: Summary) -> Self:
        """One store's summary in a portfolio."""
        return cls.model_validate(
            {
                "store_id": s.store.store_id,
                "name": s.store.name,
                "currency": s.store.currency,
                "kpis": {v.kpi.value: KpiValuePublic.from_value(v) for v in s.values},
                "quality": s.quality,
            }
        )


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

    @classmethod
    def from_portfolio(cls, p: Portfolio) -> Self:
        """A portfolio of the KPI layer (`portfolio`)."""
        return cls.model_validate(
            {
                "first": p.first,
                "last": p.last,
                "compare": p.compare,
                "data": [StoreKpisPublic.from_summary(s) for s in p.stores],
                "count": len(p.stores),
                "total": {v.kpi.value: KpiValuePublic.from_value(v) for v in p.total},
                "total_quality": p.total_quality,
                "mixed_currencies": p.mixed_currencies,
            }
        )


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

    @classmethod
    def from_ranking(cls, ranked: list[Summary], *, p: Portfolio, kpi: Kpi, by: str) -> Self:
        """Stores in the order `rank` gave them."""
        rows = []
        for i, s in enumerate(ranked, start=1):
            v = s.value(kpi)
            rows.append(
                {
                    "rank": i,
                    "store_id": s.store.store_id,
                    "name": s.store.name,
                    "kpi": kpi,
                    "value": v.value,
                    "comparison": v.comparison,
                    "change": v.delta,
                    "change_ratio": v.ratio,
                    "door_complete": s.quality.door_complete,
                }
            )
        return cls.model_validate(
            {
                "first": p.first,
                "last": p.last,
                "compare": p.compare,
                "kpi": kpi,
                "by": by,
                "data": rows,
                "count": len(rows),
            }
        )
