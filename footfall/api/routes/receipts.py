"""Receipts in (JSON batches and POSLog XML) and out (a store's receipts, JSON or CSV)."""

import io
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from footfall.api.deps import ConnDep, ReceiptReader, ReceiptWriter
from footfall.api.errors import BadRequest, UnsupportedMediaType
from footfall.api.problems import responses
from footfall.api.receipts import operations
from footfall.api.routes.common import First, Last, Limit, Offset, StoreId, scoped_store
from footfall.api.schemas.receipts import PosLogSaved, ReceiptsCreate, ReceiptsPublic, ReceiptsSaved
from footfall.api.tables import CSV_RESPONSE, table_response
from footfall.core.ids import ID_PATTERN

router = APIRouter(tags=["receipts"], responses=responses(400, 401, 403, 404, 413, 415, 422))

MAX_POSLOG_BYTES = 20 * 1024 * 1024


@router.post("/v1/receipts", summary="Send receipts")
def create_receipts(conn: ConnDep, caller: ReceiptWriter, body: ReceiptsCreate) -> ReceiptsSaved:
    """Create or update a batch of receipts, idempotently by (store, receipt id).

    Sending a receipt again changes nothing; sending it with other facts (a later void, a
    corrected total) updates it and the KPIs. Every store in the batch must be in your
    scope, or nothing is saved.
    """
    return operations.create_receipts(conn, caller=caller, receipts=body.receipts)


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
    return await run_in_threadpool(
        lambda: operations.import_poslog(conn, caller=caller, source=io.BytesIO(body), store_id=store_id)
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
    body = operations.list_receipts(conn, store=store, first=first, last=last, limit=limit, offset=offset)
    return table_response(request, body, filename=f"receipts-{store_id}")
