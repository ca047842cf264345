"""Monthly plans and plan vs fact (the wall chart)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from footfall.api import plans
from footfall.api.deps import ConnDep, KpiReader, NowDep, PlanManager
from footfall.api.problems import responses
from footfall.api.routes.common import MONTH_PATTERN, StoreId, parse_month, scoped_store, stores_in_scope
from footfall.api.schemas.plans import PlanFactPublic, PlanFactsPublic, PlanPublic, PlansPublic, PlanUpdate
from footfall.api.tables import CSV_RESPONSE, table_response

router = APIRouter(tags=["plans"], responses=responses(400, 401, 403, 404, 422))

MonthPath = Annotated[str, Path(pattern=MONTH_PATTERN, description="The month, YYYY-MM.")]
MonthQ = Annotated[str, Query(pattern=MONTH_PATTERN, description="The month, YYYY-MM.")]
AsOfQ = Annotated[
    date | None,
    Query(
        description="Last local date counted as fact; default today: up to now (floored to the quarter hour), "
        "with today counted toward the pace by the share of its opening hours that has passed."
    ),
]


@router.get("/v1/stores/{store_id}/plans", summary="A store's plans", responses=CSV_RESPONSE)
def read_plans(*, request: Request, conn: ConnDep, caller: KpiReader, store_id: StoreId) -> PlansPublic:
    """Every month's targets of a store."""
    scoped_store(conn, caller, store_id)
    return table_response(request, plans.list_plans(conn, store_id=store_id), filename=f"plans-{store_id}")


@router.put("/v1/stores/{store_id}/plans/{month}", summary="Set a month's plan")
def put_plan(conn: ConnDep, caller: PlanManager, store_id: StoreId, month: MonthPath, body: PlanUpdate) -> PlanPublic:
    """Create or replace the revenue (and optionally traffic and conversion) target of a month."""
    scoped_store(conn, caller, store_id)
    return plans.set_plan(conn, store_id=store_id, month=parse_month(month), plan=body)


@router.delete("/v1/stores/{store_id}/plans/{month}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a plan")
def delete_plan(conn: ConnDep, caller: PlanManager, store_id: StoreId, month: MonthPath) -> None:
    """Remove a month's plan."""
    scoped_store(conn, caller, store_id)
    plans.delete_plan(conn, store_id=store_id, month=parse_month(month))


@router.get("/v1/stores/{store_id}/plan-vs-fact", summary="Plan vs fact of a store", responses=CSV_RESPONSE)
def read_plan_vs_fact(
    *,
    request: Request,
    conn: ConnDep,
    caller: KpiReader,
    now: NowDep,
    store_id: StoreId,
    month: MonthQ,
    as_of: AsOfQ = None,
) -> PlanFactPublic:
    """Plan, fact, % achieved, pace (fact against the plan's share of the days passed) and the
    month-end projection at that pace. CSV: one row."""
    store = scoped_store(conn, caller, store_id)
    body = plans.read_plan_vs_fact(conn, store=store, month=parse_month(month), as_of=as_of, now=now)
    return table_response(request, body, filename=f"plan-vs-fact-{store_id}-{month}", rows=[body])


@router.get("/v1/plan-vs-fact", summary="Plan vs fact of every store in scope", responses=CSV_RESPONSE)
def read_plans_vs_fact(
    *, request: Request, conn: ConnDep, caller: KpiReader, now: NowDep, month: MonthQ, as_of: AsOfQ = None
) -> PlanFactsPublic:
    """The wall chart: one row per store in your scope."""
    stores = stores_in_scope(conn, caller)
    body = plans.read_wall_chart(conn, stores=stores, month=parse_month(month), as_of=as_of, now=now)
    return table_response(request, body, filename=f"plan-vs-fact-{month}")
