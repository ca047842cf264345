"""Several stores at once: the roll-up of every store in scope, and rankings."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from footfall.api import kpis
from footfall.api.deps import KpiReader, NowDep
from footfall.api.problems import responses
from footfall.api.replica import ReadConnDep
from footfall.api.routes.common import CompareQ, First, Last, StoresQ, stores_in_scope
from footfall.api.schemas.kpis import PortfolioPublic, RankingPublic
from footfall.api.tables import CSV_RESPONSE, table_response

router = APIRouter(prefix="/v1/kpis", tags=["multi-store"], responses=responses(400, 401, 403, 422))


@router.get("/stores", summary="Every store in scope, and the roll-up", responses=CSV_RESPONSE)
def read_portfolio(
    *,
    request: Request,
    conn: ReadConnDep,
    caller: KpiReader,
    now: NowDep,
    first: First,
    last: Last,
    compare: CompareQ = kpis.Comparison.NONE,
    store: StoresQ = None,
) -> PortfolioPublic:
    """Each store's KPIs over its own local dates, with comparison, and the roll-up of all of
    them (ratios of sums: conversion of all stores is Σ transactions / Σ visitors). Stores
    outside your scope are left out."""
    stores = stores_in_scope(conn, caller, store)
    p = kpis.portfolio(conn, stores=stores, first=first, last=last, compare=compare, now=now)
    return table_response(request, PortfolioPublic.from_portfolio(p), filename=f"stores-{first}-{last}")


@router.get("/ranking", summary="Stores ranked by a KPI or its change", responses=CSV_RESPONSE)
def read_ranking(
    *,
    request: Request,
    conn: ReadConnDep,
    caller: KpiReader,
    now: NowDep,
    first: First,
    last: Last,
    kpi: Annotated[kpis.Kpi, Query(description="The KPI to rank by.")] = kpis.Kpi.CONVERSION,
    by: Annotated[Literal["value", "change", "change_ratio"], Query(description="Its value or its change.")] = "value",
    order: Annotated[Literal["desc", "asc"], Query(description="Best first (desc) or worst first (asc).")] = "desc",
    compare: CompareQ = kpis.Comparison.PREVIOUS_PERIOD,
    store: StoresQ = None,
) -> RankingPublic:
    """Stores in scope ordered by a KPI's value or its change against the comparison period
    (e.g. conversion change week on week). Stores whose number is unknown come last."""
    stores = stores_in_scope(conn, caller, store)
    p = kpis.portfolio(conn, stores=stores, first=first, last=last, compare=compare, now=now)
    ranked = kpis.rank(p, kpi=kpi, by=by, descending=order == "desc")
    body = RankingPublic.from_ranking(ranked, p=p, kpi=kpi, by=by)
    return table_response(request, body, filename=f"ranking-{kpi.value}-{first}-{last}")
