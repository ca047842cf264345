"""Every KPI of a period, with its comparison period's value and the change."""

from dataclasses import dataclass
from datetime import date, datetime

from footfall.api.kpis.metrics import DEFAULT_OPTIONS, Kpi, KpiOptions, Quality, kpis, quality
from footfall.api.kpis.period import Comparison, Cut, check_period, running_cut
from footfall.api.kpis.store import StoreInfo
from footfall.api.kpis.totals import Totals, local_period_totals
from footfall.core import kpi as formulas
from footfall.db.connect import DictConnection


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
    cut: Cut | None = None
    """Set when the period is still running: both periods were counted only up to the same
    local elapsed time (`cut.as_of`, `cut.comparison_as_of`)."""

    def value(self, k: Kpi) -> KpiValue:
        """One KPI's value."""
        return next(v for v in self.values if v.kpi is k)


def kpi_values(now: dict[Kpi, float | None], then: dict[Kpi, float | None] | None) -> list[KpiValue]:
    out = []
    for k in Kpi:
        c = formulas.change(now[k], then[k] if then else None)
        out.append(KpiValue(kpi=k, value=c.value, comparison=c.comparison, delta=c.delta, ratio=c.ratio))
    return out


def kpi_summary(
    conn: DictConnection,
    *,
    store: StoreInfo,
    first: date,
    last: date,
    compare: Comparison = Comparison.PREVIOUS_PERIOD,
    options: KpiOptions = DEFAULT_OPTIONS,
    now: datetime | None = None,
) -> Summary:
    """Every KPI over local dates `first`..`last`, with value, comparison value and change.

    When `now` falls inside the period (today, this week…), the period has not ended:
    it is counted up to `now` floored to the quarter hour, and its comparison only up to
    the same local time of the same day of the comparison period ("today so far" against
    "that day up to the same time"); `Summary.cut` says where.

    Raises:
        UnanswerableQuery: the period is out of bounds.
    """
    check_period(first, last)
    cmp_period = compare.period(first, last)
    cut = running_cut(store.calendar, first, last, now, cmp_period)
    now_t = local_period_totals(conn, store, first, last, until=cut.as_of if cut else None)
    now_q = quality(now_t, store, options)
    then_t = then_q = then_k = None
    if cmp_period:
        then_t = local_period_totals(conn, store, *cmp_period, until=cut.comparison_as_of if cut else None)
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
        values=kpi_values(kpis(now_t, store, options, now_q), then_k),
        quality=now_q,
        comparison_quality=then_q,
        cut=cut,
    )
