"""Receipts: the operations behind `/v1/receipts` and `/v1/stores/{store_id}/receipts`.

Reusable operations are keyword-only functions on a connection that return the API's
response models; the SQL is in `footfall/db/sql/receipts.sql`.
"""

from datetime import date
from typing import BinaryIO

from footfall.api.access import Principal
from footfall.api.errors import ImportFailed, Invalid, NotFound
from footfall.api.kpis import StoreInfo, check_period
from footfall.api.receipts.model import Receipt
from footfall.api.receipts.poslog import parse_poslog
from footfall.api.receipts.save import SaveResult, missing_stores, save_receipts
from footfall.api.schemas.receipts import PosLogSaved, ReceiptPublic, ReceiptsPublic, ReceiptsSaved
from footfall.db.connect import DictConnection
from footfall.db.queries import queries


def save_in_scope(conn: DictConnection, *, caller: Principal, receipts: list[Receipt], source: str) -> SaveResult:
    """Save a batch whose stores all exist and are in the caller's scope, or nothing.

    Raises:
        NotFound: a store is unknown or out of scope (the same answer for both).
    """
    stores = {r.store_id for r in receipts}
    unknown = sorted(set(missing_stores(conn, stores)) | {s for s in stores if not caller.sees(s)})
    if unknown:
        raise NotFound(f"store(s) not found: {', '.join(unknown)}; nothing was saved")
    return save_receipts(conn, receipts, source=source)


def create_receipts(conn: DictConnection, *, caller: Principal, receipts: list[Receipt]) -> ReceiptsSaved:
    """Create or update a batch of receipts sent as JSON, idempotently by (store, receipt id).

    Raises:
        NotFound: a store is unknown or out of scope; nothing was saved.
    """
    return ReceiptsSaved.model_validate(save_in_scope(conn, caller=caller, receipts=receipts, source="api"))


def import_poslog(
    conn: DictConnection, *, caller: Principal, source: BinaryIO, store_id: str | None = None
) -> PosLogSaved:
    """Save the retail transactions of a POSLog document; those that break a rule are reported and skipped.

    Raises:
        Invalid: the document cannot be read at all.
        NotFound: a store is unknown or out of scope; nothing was saved.
    """
    try:
        result = parse_poslog(source, store_id=store_id)
    except ImportFailed as exc:
        raise Invalid(f"POSLog: {exc}") from None
    saved = save_in_scope(conn, caller=caller, receipts=result.receipts, source="poslog")
    return PosLogSaved.model_validate(
        {
            "created": saved.created,
            "updated": saved.updated,
            "unchanged": saved.unchanged,
            "duplicates": saved.duplicates,
            "conflicts": saved.conflicts,
            "skipped_non_retail": result.skipped_non_retail,
            "issues": result.issues,
        }
    )


def list_receipts(
    conn: DictConnection, *, store: StoreInfo, first: date, last: date, limit: int = 1000, offset: int = 0
) -> ReceiptsPublic:
    """A page of a store's receipts of the local dates `first`..`last`, oldest first, and how many there are.

    Raises:
        UnanswerableQuery: the period is out of bounds.
    """
    check_period(first, last)
    lo, hi = store.calendar.period_bounds(first, last)
    q = queries("receipts")
    params = {"store_id": store.store_id, "lo": lo, "hi": hi, "limit": limit, "offset": offset}
    rows = conn.execute(q["list_receipts"], params).fetchall()
    counted = conn.execute(q["count_receipts"], params).fetchone()
    total = counted["n"] if counted else 0
    return ReceiptsPublic(data=[ReceiptPublic.model_validate(r) for r in rows], count=total)
