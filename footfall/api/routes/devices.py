"""Device health of a store: every counter, camera and edge agent."""

from fastapi import APIRouter, Request

from footfall.api.deps import ConnDep, KpiReader, NowDep
from footfall.api.devices import store_devices
from footfall.api.problems import responses
from footfall.api.routes.common import StoreId, scoped_store
from footfall.api.schemas.devices import DevicesPublic
from footfall.api.tables import CSV_RESPONSE, table_response

router = APIRouter(prefix="/v1/stores/{store_id}/devices", tags=["devices"], responses=responses(401, 403, 404, 422))


@router.get("", summary="Device health", responses=CSV_RESPONSE)
def read_devices(
    *, request: Request, conn: ConnDep, caller: KpiReader, now: NowDep, store_id: StoreId
) -> DevicesPublic:
    """Every device of the store: last seen, health and why (judged at the app clock's now), its
    agent's queue depth, faults."""
    scoped_store(conn, caller, store_id)
    body = store_devices(conn, store_id=store_id, now=now)
    return table_response(request, body, filename=f"devices-{store_id}")
