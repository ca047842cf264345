"""Several stores at once: the roll-up of every store in scope, and rankings."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from footfall.api import kpis as k
from footfall.api.deps import ConnDep, KpiReader
from footfall.api.problems import responses
from footfall.api.routes.common import First, Last, quality_public, value_public
from footfall.api.schemas.kpis import PortfolioPublic, RankingPublic, RankingRowPublic, StoreKpisPublic
from footfall.api.tables import CSV_RESPONSE, table_response
from footfall.core.ids import ID_PATTERN

router = APIRouter(prefix="/v1/kpis", tags=["multi-store"], responses=responses(400, 401, 403, 422))

MAX_STORES = 2000
CompareQ = Annotated[k.Comparison, Query(description="What to compare the period with.")]
StoresQ = Annotated[
    list[Annotated[str, Query(pattern=ID_PATTERN, max_length=64)]] | None,
    Query(max_length=MAX_STORES, description="Only these stores (default: every store in your scope)."),
]


def _stores(conn, caller, store_ids: list[str] | None) -> list[k.StoreInfo]:
    ids = caller.filter_stores(store_ids if store_ids else k.all_store_ids(conn))
    return k.stores_info(conn, ids)


def _portfolio(conn, caller, *, first, last, compare, store_ids) -> k.Portfolio:
    return k.portfolio(conn, stores=_stores(conn, caller, store_ids), first=first, last=last, compare=compare)


@router.get("/stores", summary="Every store in scope, and the roll-up", responses=CSV_RESPONSE)
def read_portfolio(
    *,
    request: Request,
    conn: ConnDep,
    caller: KpiReader,
    first: First,
    last: Last,
    compare: CompareQ = k.Comparison.NONE,
    store: StoresQ = None,
) -> PortfolioPublic:
    """Each store's KPIs over its own local dates, with comparison, and the roll-up of all of
    them (ratios of sums: conversion of all stores is Σ transactions / Σ visitors). Stores
    outside your scope are left out."""
    p = _portfolio(conn, caller, first=first, last=last, compare=compare, store_ids=store)
    body = PortfolioPublic(
        first=first,
        last=last,
        compare=compare,
        data=[
            StoreKpisPublic(
                store_id=s.store.store_id,
                name=s.store.name,
                currency=s.store.currency,
                kpis={v.kpi.value: value_public(v) for v in s.values},
                quality=quality_public(s.quality),
            )
            for s in p.stores
        ],
        count=len(p.stores),
        total={v.kpi.value: value_public(v) for v in p.total},
        total_quality=quality_public(p.total_quality),
        mixed_currencies=p.mixed_currencies,
    )
    return table_response(request, body, filename=f"stores-{first}-{last}")


@router.get("/ranking", summary="Stores ranked by a KPI or its change", responses=CSV_RESPONSE)
def read_ranking(
    *,
    request: Request,
    conn: ConnDep,
    caller: KpiReader,
    first: First,
    last: Last,
    kpi: Annotated[k.Kpi, Query(description="The KPI to rank by.")] = k.Kpi.CONVERSION,
    by: Annotated[Literal["value", "change", "change_ratio"], Query(description="Its value or its change.")] = "value",
    order: Annotated[Literal["desc", "asc"], Query(description="Best first (desc) or worst first (asc).")] = "desc",
    compare: CompareQ = k.Comparison.PREVIOUS_PERIOD,
    store: StoresQ = None,
) -> RankingPublic:
    """Stores in scope ordered by a KPI's value or its change against the comparison period
    (e.g. conversion change week on week). Stores whose number is unknown come last."""
    p = _portfolio(conn, caller, first=first, last=last, compare=compare, store_ids=store)
    field = {"value": "value", "change": "delta", "change_ratio": "ratio"}[by]
    ranked = k.rank(p, kpi=kpi, by=field, descending=order == "desc")
    rows = []
    for i, s in enumerate(ranked, start=1):
        v = s.value(kpi)
        rows.append(
            RankingRowPublic(
                rank=i,
                store_id=s.store.store_id,
                name=s.store.name,
                kpi=kpi,
                value=v.value,
                comparison=v.comparison,
                change=v.delta,
                change_ratio=v.ratio,
                door_complete=s.quality.door_complete,
            )
        )
    body = RankingPublic(first=first, last=last, compare=compare, kpi=kpi, by=by, data=rows, count=len(rows))
    return table_response(request, body, filename=f"ranking-{kpi.value}-{first}-{last}")
