"""Several stores at once: the roll-up of a portfolio, and rankings."""

from dataclasses import dataclass, replace
from datetime import date, datetime

from footfall.api.kpis.errors import UnanswerableQuery
from footfall.api.kpis.metrics import DEFAULT_OPTIONS, Flag, Kpi, KpiOptions, Quality, kpis, quality
from footfall.api.kpis.period import Comparison, check_period
from footfall.api.kpis.store import StoreInfo
from footfall.api.kpis.summary import KpiValue, Summary, kpi_summary, kpi_values
from footfall.api.kpis.totals import Totals
from footfall.db.connect import DictConnection


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
    conn: DictConnection,
    *,
    stores: list[StoreInfo],
    first: date,
    last: date,
    compare: Comparison = Comparison.NONE,
    options: KpiOptions = DEFAULT_OPTIONS,
    now: datetime | None = None,
) -> Portfolio:
    """Each store's KPIs over its own local dates `first`..`last`, and the roll-up of all.

    The roll-up adds the stores' totals and computes ratios from the sums (conversion of
    all stores is Σ transactions / Σ visitors, not a mean of conversions). Money KPIs of
    the roll-up are None when the stores do not share one currency.

    Raises:
        UnanswerableQuery: the period is out of bounds.
    """
    check_period(first, last)
    rows = [
        kpi_summary(conn, store=s, first=first, last=last, compare=compare, options=options, now=now) for s in stores
    ]
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
    total = kpi_values(now_k, then_k)
    if mixed:
        money = {Kpi.REVENUE, Kpi.ATV, Kpi.REVENUE_PER_M2}
        total = [KpiValue(v.kpi, None, None, None, None) if v.kpi in money else v for v in total]
    return Portfolio(
        first=first, last=last, compare=compare, stores=rows, total=total, total_quality=q, mixed_currencies=mixed
    )


RANK_BY = {"value": "value", "change": "delta", "change_ratio": "ratio"}
"""What a ranking can order by → the `KpiValue` field it reads."""


def rank(p: Portfolio, *, kpi: Kpi, by: str = "value", descending: bool = True) -> list[Summary]:
    """The portfolio's stores ordered by a KPI's value, its change or its relative change (`change_ratio`).

    Stores whose number is unknown go last.

    Raises:
        UnanswerableQuery: `by` is not one of `RANK_BY`.
    """
    if by not in RANK_BY:
        raise UnanswerableQuery(f"rank by {', '.join(RANK_BY)}, not {by!r}")
    attribute = RANK_BY[by]

    def key(s: Summary) -> tuple[bool, float]:
        v = getattr(s.value(kpi), attribute)
        if v is None:
            return (True, 0.0)
        return (False, -v if descending else v)

    return sorted(p.stores, key=key)
