"""A revenue change split into traffic, conversion and ATV."""

from dataclasses import dataclass
from datetime import date, datetime

from footfall.api.kpis.errors import UnanswerableQuery
from footfall.api.kpis.metrics import DEFAULT_OPTIONS, Flag, Kpi, KpiOptions
from footfall.api.kpis.period import Comparison
from footfall.api.kpis.store import StoreInfo
from footfall.api.kpis.summary import Summary, kpi_summary
from footfall.core import kpi as formulas
from footfall.db.connect import DictConnection


@dataclass(frozen=True, slots=True)
class RevenueExplained:
    """A revenue change split into traffic, conversion and ATV (LMDI: the parts add up)."""

    summary: Summary
    change: formulas.RevenueChange | None
    reason: str | None
    """Why there is no split, when there is none."""
    revenue: float
    comparison_revenue: float
    """0 when there is no comparison period."""
    total: float | None
    """revenue − comparison revenue (the sum of the split when there is one); None without a comparison."""


def explain_revenue(
    conn: DictConnection,
    *,
    store: StoreInfo,
    first: date,
    last: date,
    compare: Comparison = Comparison.PREVIOUS_PERIOD,
    options: KpiOptions = DEFAULT_OPTIONS,
    now: datetime | None = None,
) -> RevenueExplained:
    """Split the revenue change between a period and its comparison into traffic, conversion and ATV.

    Raises:
        UnanswerableQuery: no comparison asked for, or the period is out of bounds.
    """
    if compare is Comparison.NONE:
        raise UnanswerableQuery("a revenue change needs a comparison period; set `compare`")
    s = kpi_summary(conn, store=store, first=first, last=last, compare=compare, options=options, now=now)

    def drivers(values: dict[Kpi, float | None]) -> formulas.RevenueDrivers | None:
        t, c, a = values[Kpi.VISITORS], values[Kpi.CONVERSION], values[Kpi.ATV]
        if t is None or c is None or a is None:
            return None
        return formulas.RevenueDrivers(traffic=t, conversion=c, atv=a)

    current = drivers({v.kpi: v.value for v in s.values})
    then = drivers({v.kpi: v.comparison for v in s.values})
    reason = None
    change = None
    if current is None or then is None:
        incomplete = Flag.DOOR_DATA_INCOMPLETE in s.quality.flags or (
            s.comparison_quality is not None and Flag.DOOR_DATA_INCOMPLETE in s.comparison_quality.flags
        )
        reason = (
            "door data is incomplete in one of the periods, so conversion is unknown"
            if incomplete
            else "one of the periods has no traffic or no sales"
        )
    else:
        change = formulas.explain_revenue_change(then, current)
        if change is None:
            reason = "a driver is zero in one of the periods (the log split is undefined)"
    revenue = float(s.totals.revenue)
    comparison_revenue = float(s.comparison_totals.revenue) if s.comparison_totals else 0.0
    # Without a split the change is still known whenever there is a comparison period.
    difference = revenue - comparison_revenue if s.comparison_totals else None
    total = change.total if change is not None else difference
    return RevenueExplained(
        summary=s,
        change=change,
        reason=reason,
        revenue=revenue,
        comparison_revenue=comparison_revenue,
        total=total,
    )
