"""KPI answers: series rows, summaries with comparisons, and the reports built on them.

Each answer is built from what the KPI layer returns (`footfall.api.kpis`) by a
`from_<result>` constructor here, reading attributes (`from_attributes`) where the
shapes match; routes return these and copy nothing themselves.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field

from footfall.api.kpis import (
    Comparison,
    Flag,
    HourOfDay,
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
from footfall.api.kpis.numbers import Number, count, kpi_number
from footfall.core.calendar import Interval
from footfall.core.money import optional_money

FROM_ATTRIBUTES = ConfigDict(from_attributes=True)

MONEY_FORMAT = (
    "Money is a decimal string in the store's currency, rounded half-to-even to the currency's "
    'minor unit ("283.40" EUR, "1234" JPY); counts are integers; ratios are numbers.'
)
Money = Annotated[Decimal, Field(description=MONEY_FORMAT)]
"""A money amount: JSON string with the currency's minor-unit digits."""
"""A KPI value: money as a decimal string, counts as integers, ratios as numbers."""


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
    """Every KPI of a bucket or period. Ratios are null when their denominator is 0 or unknown.

    Money (revenue, atv, revenue_per_m2) is a decimal string rounded half-to-even to the
    store currency's minor unit; counts are integers. A store without customer door
    counters (receipts only) has null visitors, entries, exits and conversion, never 0.
    """

    visitors: int | float | None = Field(
        description="Σ entries on customer doors (or (entries+exits)/2); null without door counters."
    )
    entries: int | None
    exits: int | None
    transactions: int = Field(description="Sale receipts, voids excluded.")
    refunds: int
    voids: int
    revenue: Money = Field(description="Net: sales minus refunds. " + MONEY_FORMAT)
    items: int | float = Field(description="Units sold, net of returns (an integer unless sold by weight).")
    conversion: float | None = Field(description="transactions / visitors; null when door data is incomplete.")
    atv: Money | None = Field(description="Average transaction value: revenue / transactions.")
    upt: float | None = Field(description="Units per transaction: items / transactions.")
    revenue_per_m2: Money | None = Field(description="revenue / sales area.")
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
    def from_row(cls, row: SeriesRow, *, currency: str) -> Self:
        """A series row of the KPI layer."""
        b = row.bucket
        return cls.model_validate(
            {
                "start": b.start,
                "end": b.end,
                "local_start": b.local_start,
                "hours": b.hours,
                "quality": row.quality,
                **{k.value: kpi_number(k, v, currency) for k, v in row.kpis.items()},
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

    def csv_rows(self) -> list[dict[str, object]]:
        """Flat rows; day, week and month buckets are named by their first local date (`date`),
        shorter ones by their local start time (`local_start`)."""
        out = []
        for r in self.data:
            d = r.model_dump(mode="json", exclude={"start", "end", "local_start", "quality"})
            key = (
                {"date": r.local_start.date().isoformat()}
                if self.interval in (Interval.DAY, Interval.WEEK, Interval.MONTH)
                else {"local_start": r.local_start.isoformat()}
            )
            q = r.quality
            out.append(
                {
                    **key,
                    **d,
                    "door_coverage": q.door_coverage,
                    "door_complete": q.door_complete,
                    "flags": ";".join(q.flags),
                }
            )
        return out

    @classmethod
    def from_rows(cls, rows: list[SeriesRow], *, store: StoreInfo, first: date, last: date, interval: Interval) -> Self:
        """A series of the KPI layer (`kpi_series`)."""
        return cls(
            store_id=store.store_id,
            timezone=store.timezone,
            first=first,
            last=last,
            interval=interval,
            data=[KpiRowPublic.from_row(r, currency=store.currency) for r in rows],
            count=len(rows),
        )


class KpiValuePublic(BaseModel):
    """One KPI: value, comparison value and change."""

    kpi: Kpi
    value: Number | None = Field(description=MONEY_FORMAT)
    comparison: Number | None
    change: Number | None = Field(description="value − comparison.")
    change_ratio: float | None = Field(description="value / comparison − 1; null when the comparison is 0 or null.")

    @classmethod
    def from_value(cls, v: KpiValue, *, currency: str = "EUR") -> Self:
        """A `KpiValue` of the KPI layer (its `delta` and `ratio` are `change` and `change_ratio` here)."""
        k = v.kpi
        return cls(
            kpi=k,
            value=kpi_number(k, v.value, currency),
            comparison=kpi_number(k, v.comparison, currency),
            change=kpi_number(k, v.delta, currency),
            change_ratio=v.ratio,
        )


class SummaryPublic(BaseModel):
    """Every KPI of a period against a comparison period."""

    store_id: str
    timezone: str
    first: date
    last: date
    compare: Comparison
    comparison_first: date | None
    comparison_last: date | None
    running: bool = Field(
        description="The period has not ended (it holds today): it is counted up to `as_of`, and its comparison "
        "only up to the same local time of the same day of the comparison period (`comparison_as_of`), "
        "so today so far is compared with that day so far, not with the whole day."
    )
    as_of: datetime | None = Field(description="Where a running period stops: now, floored to the quarter hour.")
    comparison_as_of: datetime | None = Field(description="The same elapsed point of the comparison period.")
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
                "running": s.cut is not None,
                "as_of": s.cut.as_of if s.cut else None,
                "comparison_as_of": s.cut.comparison_as_of if s.cut else None,
                "data": [KpiValuePublic.from_value(v, currency=s.store.currency) for v in s.values],
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
    days: int = Field(description="Days of the period on which this hour is over (today's later hours do not count).")
    avg_entries_per_day: float | None = Field(description="entries / days; null when the hour has not ended yet.")
    transactions: int
    revenue: Money
    conversion: float | None


class HoursOfDayPublic(BaseModel):
    """Traffic by hour of day."""

    store_id: str
    first: date
    last: date
    data: list[HourOfDayPublic]
    count: int

    @classmethod
    def from_hours(cls, hours: list[HourOfDay], *, store: StoreInfo, first: date, last: date) -> Self:
        """The `HourOfDay` rows of the KPI layer (`traffic_by_hour`)."""
        rows = [
            HourOfDayPublic.model_validate(
                {
                    "hour": h.hour,
                    "entries": h.entries,
                    "exits": h.exits,
                    "days": h.days,
                    "avg_entries_per_day": h.avg_entries_per_day,
                    "transactions": h.transactions,
                    "revenue": optional_money(h.revenue, store.currency),
                    "conversion": h.conversion,
                }
            )
            for h in hours
        ]
        return cls(store_id=store.store_id, first=first, last=last, data=rows, count=len(rows))


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
    revenue: Money
    items: int | float
    revenue_per_m2: Money | None


class ZonesPublic(BaseModel):
    """Revenue per zone."""

    store_id: str
    first: date
    last: date
    data: list[ZoneRevenuePublic]
    count: int
    unassigned_revenue: Money = Field(description="Revenue of categories no zone sells (or lines without one).")
    shared_categories: list[str] = Field(description="Categories in several zones: counted in each.")

    @classmethod
    def from_report(cls, z: ZoneReport, *, store: StoreInfo, first: date, last: date) -> Self:
        """A zone report of the KPI layer (`zone_revenue`)."""
        cur = store.currency
        zones = [
            {
                "zone_id": r.zone_id,
                "name": r.name,
                "area_m2": r.area_m2,
                "categories": r.categories,
                "revenue": optional_money(r.revenue, cur),
                "items": count(r.items),
                "revenue_per_m2": optional_money(r.revenue_per_m2, cur),
            }
            for r in z.zones
        ]
        return cls.model_validate(
            {
                "store_id": store.store_id,
                "first": first,
                "last": last,
                "data": zones,
                "count": len(z.zones),
                "unassigned_revenue": optional_money(z.unassigned_revenue, cur),
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
    revenue: Money
    comparison_revenue: Money
    total: Money | None = Field(description="revenue − comparison revenue.")
    traffic: Money | None = Field(description="The part of the change due to traffic (money).")
    conversion: Money | None = Field(description="The part of the change due to conversion (money).")
    atv: Money | None = Field(description="The part of the change due to ATV (money).")
    reason: str | None = Field(description="Why there is no split, when there is none.")
    quality: QualityPublic
    comparison_quality: QualityPublic | None

    @classmethod
    def from_explained(cls, e: RevenueExplained) -> Self:
        """A revenue change of the KPI layer (`explain_revenue`)."""
        s, c = e.summary, e.change
        cur = s.store.currency
        return cls.model_validate(
            {
                "store_id": s.store.store_id,
                "first": s.first,
                "last": s.last,
                "compare": s.compare,
                "comparison_first": s.comparison_first,
                "comparison_last": s.comparison_last,
                "revenue": optional_money(e.revenue, cur),
                "comparison_revenue": optional_money(e.comparison_revenue, cur),
                "total": optional_money(e.total, cur),
                "traffic": optional_money(c.traffic, cur) if c else None,
                "conversion": optional_money(c.conversion, cur) if c else None,
                "atv": optional_money(c.atv, cur) if c else None,
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
                "kpis": {v.kpi.value: KpiValuePublic.from_value(v, currency=s.store.currency) for v in s.values},
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

    def csv_rows(self) -> list[dict[str, object]]:
        """One flat row per store and a last roll-up row (`store_id` `*`): `<kpi>`,
        `<kpi>_comparison`, `<kpi>_change`, `<kpi>_change_ratio` per KPI, then data quality."""

        def row(store_id: str, name: str, currency: str, kpis: dict[str, KpiValuePublic], q: QualityPublic) -> dict:
            out: dict[str, object] = {"store_id": store_id, "name": name, "currency": currency}
            for k, v in kpis.items():
                out[k] = v.value
                out[f"{k}_comparison"] = v.comparison
                out[f"{k}_change"] = v.change
                out[f"{k}_change_ratio"] = v.change_ratio
            out["door_complete"] = q.door_complete
            out["flags"] = ";".join(q.flags)
            return out

        rows = [row(s.store_id, s.name, s.currency, s.kpis, s.quality) for s in self.data]
        currencies = {s.currency for s in self.data}
        total_currency = currencies.pop() if len(currencies) == 1 else ""
        rows.append(row("*", "all stores", total_currency, self.total, self.total_quality))
        return rows

    @classmethod
    def from_portfolio(cls, p: Portfolio) -> Self:
        """A portfolio of the KPI layer (`portfolio`)."""
        cur = p.stores[0].store.currency if p.stores else "EUR"
        return cls.model_validate(
            {
                "first": p.first,
                "last": p.last,
                "compare": p.compare,
                "data": [StoreKpisPublic.from_summary(s) for s in p.stores],
                "count": len(p.stores),
                "total": {v.kpi.value: KpiValuePublic.from_value(v, currency=cur) for v in p.total},
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
    value: Number | None
    comparison: Number | None
    change: Number | None
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
            v = KpiValuePublic.from_value(s.value(kpi), currency=s.store.currency)
            rows.append(
                {
                    "rank": i,
                    "store_id": s.store.store_id,
                    "name": s.store.name,
                    "kpi": kpi,
                    "value": v.value,
                    "comparison": v.comparison,
                    "change": v.change,
                    "change_ratio": v.change_ratio,
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
