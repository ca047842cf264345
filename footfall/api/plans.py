"""Monthly plans and plan vs fact: the operations behind `/v1/stores/{store_id}/plans` and `/v1/plan-vs-fact`.

Reusable operations are keyword-only functions on a connection that return the API's
response models; the SQL is in `footfall/db/sql/plans.sql`.
"""

from datetime import date

from footfall.api.errors import NotFound
from footfall.api.kpis import StoreInfo, plan_vs_fact
from footfall.api.schemas.plans import PlanFactPublic, PlanFactsPublic, PlanPublic, PlansPublic, PlanUpdate
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
    conn: DictConnection, *, store: StoreInfo, month: date, as_of: date | None = None
) -> PlanFactPublic:
    """One store's month: plan, fact, pace and projection (see `footfall.api.kpis.plan_vs_fact`)."""
    return PlanFactPublic.from_plan_fact(plan_vs_fact(conn, store=store, month=month, as_of=as_of))


def read_wall_chart(
    conn: DictConnection, *, stores: list[StoreInfo], month: date, as_of: date | None = None
) -> PlanFactsPublic:
    """Plan vs fact of each store for one month, in the order given."""
    rows = [read_plan_vs_fact(conn, store=s, month=month, as_of=as_of) for s in stores]
    return PlanFactsPublic(data=rows, count=len(rows))
