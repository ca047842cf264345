"""Staff shifts: the operations behind `/v1/stores/{store_id}/shifts`.

Reusable operations are keyword-only functions on a connection that return the API's
response models; the SQL is in `footfall/db/sql/plans.sql`.
"""

from datetime import date

from footfall.api.errors import NotFound
from footfall.api.kpis import StoreInfo, check_period
from footfall.api.schemas.shifts import ShiftCreate, ShiftPublic, ShiftsPublic, ShiftsSaved
from footfall.db.connect import DictConnection
from footfall.db.queries import queries


def save_shifts(conn: DictConnection, *, store_id: str, shifts: list[ShiftCreate]) -> ShiftsSaved:
    """Create or update shifts by shift id, in one transaction (idempotent)."""
    rows = [{"store_id": store_id, **s.model_dump()} for s in shifts]
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(queries("plans")["upsert_shift"], rows)
    return ShiftsSaved(saved=len(rows))


def list_shifts(conn: DictConnection, *, store: StoreInfo, first: date, last: date) -> ShiftsPublic:
    """Shifts overlapping the store-local dates `first`..`last`.

    Raises:
        UnanswerableQuery: the period is out of bounds.
    """
    check_period(first, last)
    lo, hi = store.calendar.period_bounds(first, last)
    rows = conn.execute(queries("plans")["list_shifts"], {"store_id": store.store_id, "lo": lo, "hi": hi}).fetchall()
    return ShiftsPublic(data=[ShiftPublic.model_validate(r) for r in rows], count=len(rows))


def delete_shift(conn: DictConnection, *, store_id: str, shift_id: str) -> None:
    """Remove a shift.

    Raises:
        NotFound: the store has no such shift.
    """
    with conn.transaction():
        row = conn.execute(queries("plans")["delete_shift"], {"store_id": store_id, "shift_id": shift_id}).fetchone()
    if row is None:
        raise NotFound(f"shift {shift_id!r} not found")
