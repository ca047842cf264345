"""Plan vs fact: a store's month against its targets."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from footfall.api.kpis.metrics import DEFAULT_OPTIONS, Kpi, KpiOptions, Quality, kpis, quality
from footfall.api.kpis.store import StoreInfo
from footfall.api.kpis.totals import Totals, local_period_totals
from footfall.core import kpi as formulas
from footfall.core.calendar import month_bounds
from footfall.db.connect import DictConnection
from footfall.db.queries import queries


@dataclass(frozen=True, slots=True)
class PlanFact:
    """One store's month: plan, fact, pace, days passed and left, projection."""

    store: StoreInfo
    month: date
    as_of: date | None
    revenue: formulas.PlanVsFact | None
    """None when the store has no plan for the month."""
    revenue_fact: float
    traffic_target: int | None
    traffic_fact: float | None
    conversion_target: float | None
    conversion_fact: float | None
    days_passed: int
    days_left: int
    quality: Quality


def plan_vs_fact(
    conn: DictConnection,
    *,
    store: StoreInfo,
    month: date,
    as_of: date | None = None,
    today: date | None = None,
    options: KpiOptions = DEFAULT_OPTIONS,
) -> PlanFact:
    """The wall chart for one store and month.

    Args:
        conn: a connection.
        store: the store.
        month: any date in the month.
        as_of: last local date counted as fact; by default yesterday (the last complete day)
            for the current month, the whole month for past months.
        today: the store's local today (tests pin it); by default now.
        options: KPI options.
    """
    first, last = month_bounds(month)
    dim = (last - first).days + 1
    today = today or store.calendar.local_date(datetime.now(UTC))
    if as_of is None:
        as_of = today - timedelta(days=1)
    as_of = min(as_of, last)
    days_passed = max(0, min(dim, (as_of - first).days + 1))
    plan = conn.execute(queries("plans")["get_plan"], {"store_id": store.store_id, "month": first}).fetchone()
    fact_last = first + timedelta(days=days_passed - 1)
    t = local_period_totals(conn, store, first, fact_last) if days_passed else Totals()
    q = quality(t, store, options)
    k = kpis(t, store, options, q)
    revenue = (
        formulas.plan_vs_fact(plan=plan["revenue_target"], fact=t.revenue, days_passed=days_passed, days_in_month=dim)
        if plan
        else None
    )
    return PlanFact(
        store=store,
        month=first,
        as_of=as_of if days_passed else None,
        revenue=revenue,
        revenue_fact=float(t.revenue),
        traffic_target=plan["traffic_target"] if plan else None,
        traffic_fact=k[Kpi.VISITORS],
        conversion_target=plan["conversion_target"] if plan else None,
        conversion_fact=k[Kpi.CONVERSION],
        days_passed=days_passed,
        days_left=dim - days_passed,
        quality=q,
    )
