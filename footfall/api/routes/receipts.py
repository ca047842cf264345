"""Receipts in (JSON batches and POSLog XML) and out (a store's receipts, JSON or CSV)."""

import io
from typing import Annotated

import psycopg
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from footfall.api.access import Principal
from footfall.api.deps import ConnDep, ReceiptReader, ReceiptWriter
from footfall.api.errors import BadRequest, ImportFailed, Invalid, NotFound, UnsupportedMediaType
from footfall.api.kpis import check_period
from footfall.api.problems import responses
from footfall.api.receipts import parse_poslog, save_receipts
from footfall.api.receipts.save import missing_stores
from footfall.api.routes.common import First, Last, Limit, Offset, StoreId, scoped_store
from footfall.api.schemas.receipts import (
    PosLogIssuePublic,
    PosLogSaved,
    ReceiptPublic,
    ReceiptsCreate,
    ReceiptsPublic,
    ReceiptsSaved,
)
from footfall.api.tables import CSV_RESPONSE, table_response
from footfall.core.ids import ID_PATTERN
from footfall.db.queries import queries

router = APIRouter(tags=["receipts"], responses=responses(400, 401, 403, 404, 413, 415, 422))

MAX_POSLOG_BYTES = 20 * 1024 * 1024


@router.post("/v1/receipts", summary="Send receipts")
def create_receipts(conn: ConnDep, caller: ReceiptWriter, body: ReceiptsCreate) -> ReceiptsSaved:
    """Create or update a batch of receipts, idempotently by (store, receipt id).

    Sending a receipt again changes nothing; sending it with other facts (a later void, a
    corrected total) updates it and the KPIs. Every store in the batch must be in your
    scope, or nothing is saved.
    """
    stores = {r.store_id for r in body.receipts}
    out_of_scope = sorted(s for s in stores if not caller.sees(s))
    unknown = sorted(set(missing_stores(conn, stores)) | set(out_of_scope))
    if unknown:
        raise NotFound(f"store(s) not found: {', '.join(unknown)}; nothing was saved")
    r = save_receipts(conn, body.receipts, source="api")
    return ReceiptsSaved(created=r.created, updated=r.updated, unchanged=r.unchanged)


@router.post(
    "/v1/receipts/poslog",
    summary="Send an ARTS POSLog file",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/xml": {"schema": {"type": "string"}}, "text/xml": {"schema": {"type": "string"}}},
        }
    },
)
async def create_receipts_poslog(
    request: Request,
    conn: ConnDep,
    caller: ReceiptWriter,
    store_id: Annotated[
        str | None,
        Query(pattern=ID_PATTERN, max_length=64, description="Store for transactions without RetailStoreID."),
    ] = None,
) -> PosLogSaved:
    """Import the RetailTransactions of a POSLog XML document (sales, returns, voids, loyalty).

    Transactions that break a rule are reported and skipped; the rest are saved.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/xml", "text/xml"):
        raise UnsupportedMediaType("send the POSLog document with Content-Type: application/xml")
    body = await request.body()
    if len(body) > MAX_POSLOG_BYTES:
        raise BadRequest(f"the document is {len(body)} bytes; send at most {MAX_POSLOG_BYTES} per request")
    # Parsing and saving block: run them off the event loop.
    return await run_in_threadpool(_import_poslog, conn, caller, body, store_id)


def _import_poslog(conn: psycopg.Connection, caller: Principal, body: bytes, store_id: str | None) -> PosLogSaved:
    try:
        result = parse_poslog(io.BytesIO(body), store_id=store_id)
    except ImportFailed as exc:
        raise Invalid(f"POSLog: {exc}") from None
    stores = {r.store_id for r in result.receipts}
    unknown = sorted(set(missing_stores(conn, stores)) | {s for s in stores if not caller.sees(s)})
    if unknown:
        raise NotFound(f"store(s) not found: {', '.join(unknown)}; nothing was saved")
    saved = save_receipts(conn, result.receipts, source="poslog")
    return PosLogSaved(
        created=saved.created,
        updated=saved.updated,
        unchanged=saved.unchanged,
        skipped_non_retail=result.skipped_non_retail,
        issues=[
            PosLogIssuePublic(transaction=i.transaction, receipt_id=i.receipt_id, message=i.message)
            for i in result.issues
        ],
    )


@router.get("/v1/stores/{store_id}/receipts", summary="List a store's receipts", responses=CSV_RESPONSE)
def read_receipts(
    *,
    request: Request,
    conn: ConnDep,
    caller: ReceiptReader,
    store_id: StoreId,
    first: First,
    last: Last,
    limit: Limit = 1000,
    offset: Offset = 0,
) -> ReceiptsPublic:
    """Receipts of the local dates `first`..`last`, oldest first."""
    store = scoped_store(conn, caller, store_id)
    check_period(first, last)
    lo, hi = store.calendar.period_bounds(first, last)
    q = queries("receipts")
    params = {"store_id": store_id, "lo": lo, "hi": hi, "limit": limit, "offset": offset}
    rows = conn.execute(q["list_receipts"], params).fetchall()
    total = conn.execute(q["count_receipts"], params).fetchone()["n"]
    for r in rows:
        r["currency"] = r["currency"].strip() if r["currency"] else None
    return table_response(
        request, ReceiptsPublic(data=[ReceiptPublic(**r) for r in rows], count=total), filename=f"receipts-{store_id}"
    )
