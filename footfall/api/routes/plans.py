"""Monthly plans and plan vs fact (the wall chart)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from footfall.api import kpis as k
from footfall.api.deps import ConnDep, KpiReader, PlanManager
from footfall.api.errors import NotFound
from footfall.api.problems import responses
from footfall.api.routes.common import MONTH_PATTERN, StoreId, parse_month, quality_public, scoped_store
from footfall.api.schemas.plans import PlanFactPublic, PlanFactsPublic, PlanPublic, PlansPublic, PlanUpdate
from footfall.api.tables import CSV_RESPONSE, table_response
from footfall.db.queries import queries

router = APIRouter(tags=["plans"], responses=responses(400, 401, 403, 404, 422))

MonthPath = Annotated[str, Path(pattern=MONTH_PATTERN, description="The month, YYYY-MM.")]
MonthQ = Annotated[str, Query(pattern=MONTH_PATTERN, description="The month, YYYY-MM.")]
AsOfQ = Annotated[
    date | None,
    Query(description="Last local date counted as fact; default yesterday (the last complete day)."),
]


def _plan(row: dict) -> PlanPublic:
    return PlanPublic(**row)


@router.get("/v1/stores/{store_id}/plans", summary="A store's plans", responses=CSV_RESPONSE)
def read_plans(*, request: Request, conn: ConnDep, caller: KpiReader, store_id: StoreId) -> PlansPublic:
    """Every month's targets of a store."""
    scoped_store(conn, caller, store_id)
    rows = conn.execute(queries("plans")["list_plans"], {"store_id": store_id}).fetchall()
    body = PlansPublic(data=[_plan(r) for r in rows], count=len(rows))
    return table_response(request, body, filename=f"plans-{store_id}")


@router.put("/v1/stores/{store_id}/plans/{month}", summary="Set a month's plan")
def put_plan(conn: ConnDep, caller: PlanManager, store_id: StoreId, month: MonthPath, body: PlanUpdate) -> PlanPublic:
    """Create or replace the revenue (and optionally traffic and conversion) target of a month."""
    scoped_store(conn, caller, store_id)
    with conn.transaction():
        row = conn.execute(
            queries("plans")["upsert_plan"],
            {"store_id": store_id, "month": parse_month(month), **body.model_dump()},
        ).fetchone()
    return _plan(row)


@router.delete("/v1/stores/{store_id}/plans/{month}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a plan")
def delete_plan(conn: ConnDep, caller: PlanManager, store_id: StoreId, month: MonthPath) -> None:
    """Remove a month's plan."""
    scoped_store(conn, caller, store_id)
    with conn.transaction():
        row = conn.execute(
            queries("plans")["delete_plan"], {"store_id": store_id, "month": parse_month(month)}
        ).fetchone()
    if row is None:
        raise NotFound(f"store {store_id!r} has no plan for {month}")


def plan_fact_public(p: k.PlanFact) -> PlanFactPublic:
    """A plan-vs-fact row in its public form."""
    r = p.revenue
    return PlanFactPublic(
        store_id=p.store.store_id,
        month=p.month,
        as_of=p.as_of,
        revenue_plan=r.plan if r else None,
        revenue_fact=p.revenue_fact,
        achieved=r.achieved if r else None,
        pace=r.pace if r else None,
        projection=r.projection if r else None,
        days_passed=p.days_passed,
        days_left=p.days_left,
        traffic_target=p.traffic_target,
        traffic_fact=p.traffic_fact,
        conversion_target=p.conversion_target,
        conversion_fact=p.conversion_fact,
        quality=quality_public(p.quality),
    )


@router.get("/v1/stores/{store_id}/plan-vs-fact", summary="Plan vs fact of a store")
def read_plan_vs_fact(
    *, conn: ConnDep, caller: KpiReader, store_id: StoreId, month: MonthQ, as_of: AsOfQ = None
) -> PlanFactPublic:
    """Plan, fact, % achieved, pace (fact against the plan's share of the days passed) and the
    month-end projection at that pace."""
    store = scoped_store(conn, caller, store_id)
    return plan_fact_public(k.plan_vs_fact(conn, store=store, month=parse_month(month), as_of=as_of))


@router.get("/v1/plan-vs-fact", summary="Plan vs fact of every store in scope", responses=CSV_RESPONSE)
def read_plans_vs_fact(
    *, request: Request, conn: ConnDep, caller: KpiReader, month: MonthQ, as_of: AsOfQ = None
) -> PlanFactsPublic:
    """The wall chart: one row per store in your scope."""
    stores = k.stores_info(conn, caller.filter_stores(k.all_store_ids(conn)))
    rows = [plan_fact_public(k.plan_vs_fact(conn, store=s, month=parse_month(month), as_of=as_of)) for s in stores]
    return table_response(request, PlanFactsPublic(data=rows, count=len(rows)), filename=f"plan-vs-fact-{month}")
