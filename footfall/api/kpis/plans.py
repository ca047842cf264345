"""Plan vs fact: a store's month against its targets."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from footfall.api.kpis.metrics import DEFAULT_OPTIONS, Kpi, KpiOptions, Quality, kpis, quality
from footfall.api.kpis.period import slot_floor
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
    """Local days counted as fact, today included when `as_of` is today."""
    days_left: int
    days_elapsed: float
    """`days_passed` with today counted by the share of its opening time that has passed;
    pace and projection use it."""
    as_of_time: datetime | None
    """Where fact stops when `as_of` is today: now, floored to the quarter hour."""
    quality: Quality


def _elapsed_share(store: StoreInfo, day: date, cut: datetime) -> float:
    """How much of a local day has passed at `cut`: its elapsed share of opening time, or of
    the clock when the store does not open that day."""
    start, end = store.calendar.day_bounds(day)
    cut = max(start, min(end, cut))
    whole = sum((b - a).total_seconds() for a, b in store.open_intervals(start, end))
    if whole <= 0:
        return (cut - start).total_seconds() / (end - start).total_seconds()
    return sum((b - a).total_seconds() for a, b in store.open_intervals(start, cut)) / whole


def plan_vs_fact(
    conn: DictConnection,
    *,
    store: StoreInfo,
    month: date,
    as_of: date | None = None,
    now: datetime | None = None,
    options: KpiOptions = DEFAULT_OPTIONS,
) -> PlanFact:
    """The wall chart for one store and month.

    "As of" a date means up to the end of that local date, or, when it is today, up to
    now: today's sales so far count, and today counts toward the pace by the share of its
    opening hours that has passed (at noon of a 09–21 day, a quarter of a day). So on the
    1st of a month at 15:00 the chart already shows the day's fact and a pace.

    Args:
        conn: a connection.
        store: the store.
        month: any date in the month.
        as_of: last local date counted as fact; by default today (so far) for the current
            month, the whole month for past months.
        now: the current instant (tests pin it); by default the system clock.
        options: KPI options.
    """
    first, last = month_bounds(month)
    dim = (last - first).days + 1
    now = now or datetime.now(UTC)
    today = store.calendar.local_date(now)
    if as_of is None:
        as_of = today
    as_of = min(as_of, last)
    days_passed = max(0, min(dim, (as_of - first).days + 1))
    plan = conn.execute(queries("plans")["get_plan"], {"store_id": store.store_id, "month": first}).fetchone()
    fact_last = first + timedelta(days=days_passed - 1)
    running = days_passed > 0 and fact_last >= today
    cut = slot_floor(now) if running else None
    if running:
        fact_last = min(fact_last, today)
        days_passed = (fact_last - first).days + 1
    elapsed = float(days_passed)
    if cut is not None:
        elapsed = days_passed - 1 + _elapsed_share(store, fact_last, cut)
    t = local_period_totals(conn, store, first, fact_last, until=cut) if days_passed else Totals()
    q = quality(t, store, options)
    k = kpis(t, store, options, q)
    revenue = (
        formulas.plan_vs_fact(plan=plan["revenue_target"], fact=t.revenue, days_passed=elapsed, days_in_month=dim)
        if plan
        else None
    )
    return PlanFact(
        store=store,
        month=first,
        as_of=fact_last if days_passed else None,
        revenue=revenue,
        revenue_fact=float(t.revenue),
        traffic_target=plan["traffic_target"] if plan else None,
        traffic_fact=k[Kpi.VISITORS],
        conversion_target=plan["conversion_target"] if plan else None,
        conversion_fact=k[Kpi.CONVERSION],
        days_passed=days_passed,
        days_left=dim - days_passed,
        days_elapsed=elapsed,
        as_of_time=cut,
        quality=q,
    )
