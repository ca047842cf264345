"""Staff shifts, for the shopper-to-staff ratio."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from footfall.api import shifts
from footfall.api.deps import ConnDep, KpiReader, ShiftManager
from footfall.api.problems import responses
from footfall.api.routes.common import First, Last, StoreId, scoped_store
from footfall.api.schemas.shifts import ShiftId, ShiftsCreate, ShiftsPublic, ShiftsSaved
from footfall.api.tables import CSV_RESPONSE, table_response

router = APIRouter(prefix="/v1/stores/{store_id}/shifts", tags=["shifts"], responses=responses(400, 401, 403, 404, 422))


@router.put("", summary="Send staff shifts")
def put_shifts(conn: ConnDep, caller: ShiftManager, store_id: StoreId, body: ShiftsCreate) -> ShiftsSaved:
    """Create or update shifts by shift id (idempotent)."""
    scoped_store(conn, caller, store_id)
    return shifts.save_shifts(conn, store_id=store_id, shifts=body.shifts)


@router.get("", summary="A store's shifts", responses=CSV_RESPONSE)
def read_shifts(
    *, request: Request, conn: ConnDep, caller: KpiReader, store_id: StoreId, first: First, last: Last
) -> ShiftsPublic:
    """Shifts overlapping the local dates `first`..`last`."""
    store = scoped_store(conn, caller, store_id)
    body = shifts.list_shifts(conn, store=store, first=first, last=last)
    return table_response(request, body, filename=f"shifts-{store_id}-{first}-{last}")


@router.delete("/{shift_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a shift")
def delete_shift(conn: ConnDep, caller: ShiftManager, store_id: StoreId, shift_id: Annotated[ShiftId, Path()]) -> None:
    """Remove a shift."""
    scoped_store(conn, caller, store_id)
    shifts.delete_shift(conn, store_id=store_id, shift_id=shift_id)
