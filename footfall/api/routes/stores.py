"""Stores in the caller's scope."""

from fastapi import APIRouter, Request

from footfall.api.deps import CallerDep, ConnDep
from footfall.api.problems import responses
from footfall.api.routes.common import StoreId, scoped_store, stores_in_scope
from footfall.api.schemas.stores import StorePublic, StoresPublic
from footfall.api.tables import CSV_RESPONSE, table_response

router = APIRouter(prefix="/v1/stores", tags=["stores"], responses=responses(401, 404, 422))


@router.get("", summary="List my stores", responses=CSV_RESPONSE)
def read_stores(request: Request, conn: ConnDep, caller: CallerDep) -> StoresPublic:
    """The stores in the caller's scope."""
    stores = stores_in_scope(conn, caller)
    return table_response(
        request, StoresPublic.model_validate({"data": stores, "count": len(stores)}), filename="stores"
    )


@router.get("/{store_id}", summary="Read a store")
def read_store(conn: ConnDep, caller: CallerDep, store_id: StoreId) -> StorePublic:
    """One store in the caller's scope."""
    return StorePublic.model_validate(scoped_store(conn, caller, store_id))
