"""Stores in the caller's scope."""

from fastapi import APIRouter, Request

from footfall.api.deps import CallerDep, ConnDep
from footfall.api.kpis import StoreInfo, all_store_ids, stores_info
from footfall.api.problems import responses
from footfall.api.routes.common import StoreId, scoped_store
from footfall.api.schemas.stores import StorePublic, StoresPublic
from footfall.api.tables import CSV_RESPONSE, table_response

router = APIRouter(prefix="/v1/stores", tags=["stores"], responses=responses(401, 404, 422))


def _public(s: StoreInfo) -> StorePublic:
    return StorePublic(
        store_id=s.store_id,
        name=s.name,
        timezone=s.timezone,
        sales_area_m2=s.sales_area_m2,
        currency=s.currency,
        customer_doors=list(s.customer_doors),
        outward_doors=list(s.outward_doors),
    )


@router.get("", summary="List my stores", responses=CSV_RESPONSE)
def read_stores(request: Request, conn: ConnDep, caller: CallerDep) -> StoresPublic:
    """The stores in the caller's scope."""
    stores = stores_info(conn, caller.filter_stores(all_store_ids(conn)))
    return table_response(
        request, StoresPublic(data=[_public(s) for s in stores], count=len(stores)), filename="stores"
    )


@router.get("/{store_id}", summary="Read a store")
def read_store(conn: ConnDep, caller: CallerDep, store_id: StoreId) -> StorePublic:
    """One store in the caller's scope."""
    return _public(scoped_store(conn, caller, store_id))
