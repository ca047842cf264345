"""Monthly plans and plan vs fact: the operations behind `/v1/stores/{store_id}/plans` and `/v1/plan-vs-fact`.

Reusable operations are keyword-only functions on a connection that return the API's
response models; the SQL is in `footfall/db/sql/plans.sql`.
"""

from datetime import date, datetime, timedelta

from footfall.api.errors import NotFound
from footfall.api.forecasts import revenue_forecast
from footfall.api.kpis import StoreInfo, plan_vs_fact
from footfall.api.schemas.forecasts import BandPublic
from footfall.api.schemas.plans import PlanFactPublic, PlanFactsPublic, PlanPublic, PlansPublic, PlanUpdate
from footfall.core.calendar import month_bounds
from footfall.db.connect import DictConnection
from footfall.db.queries import queries


def list_plans(conn: DictConnection, *, store_id: str) -> PlansPublic:
    """Every month's targets of a store, oldest first."""
    rows = conn.execute(queries("plans")["list_plans"], {"store_id": store_id}).fetchall()
    return PlansPublic(data=[PlanPublic.model_validate(r) for r in rows], count=len(rows))


def set_plan(conn: DictConnection, *, store_id: str, month: date, plan: PlanUpdate) -> PlanPublic:
    """Create or replace a month's targets.

    Args:
        conn: a connection.
        store_id: an existing store.
        month: the first day of the month.
        plan: the targets.
    """
    with conn.transaction():
        row = conn.execute(
            queries("plans")["upsert_plan"], {"store_id": store_id, "month": month, **plan.model_dump()}
        ).fetchone()
    return PlanPublic.model_validate(row)


def delete_plan(conn: DictConnection, *, store_id: str, month: date) -> None:
    """Remove a month's plan.

    Raises:
        NotFound: the store has no plan for that month.
    """
    with conn.transaction():
        row = conn.execute(queries("plans")["delete_plan"], {"store_id": store_id, "month": month}).fetchone()
    if row is None:
        raise NotFound(f"store {store_id!r} has no plan for {month:%Y-%m}")


def read_plan_vs_fact(
    conn: DictConnection, *, store: StoreInfo, month: date, as_of: date | None = None, now: datetime | None = None
) -> PlanFactPublic:
    """One store's month: plan, fact, pace and projection (see `footfall.api.kpis.plan_vs_fact`),
    and the month-end projected from the revenue forecast when the store has a trained model."""
    fact = PlanFactPublic.from_plan_fact(plan_vs_fact(conn, store=store, month=month, as_of=as_of, now=now))
    if fact.days_left > 0:
        last = month_bounds(month)[1]
        rest = revenue_forecast(conn, store=store, first=last - timedelta(days=fact.days_left - 1), last=last)
        if rest is not None:
            band, label = rest
            fact.forecast_projection = BandPublic(
                mean=round(float(fact.revenue_fact) + band.mean, 2),
                lower=round(float(fact.revenue_fact) + band.lower, 2),
                upper=round(float(fact.revenue_fact) + band.upper, 2),
            )
            fact.forecast_model_version = label
    return fact


def read_wall_chart(
    conn: DictConnection,
    *,
    stores: list[StoreInfo],
    month: date,
    as_of: date | None = None,
    now: datetime | None = None,
) -> PlanFactsPublic:
    """Plan vs fact of each store for one month, in the order given."""
    rows = [read_plan_vs_fact(conn, store=s, month=month, as_of=as_of, now=now) for s in stores]
    return PlanFactsPublic(data=rows, count=len(rows))
