"""Receipts."""

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from footfall.api.receipts.model import Receipt, ReceiptLine

MAX_BATCH = 5000

ReceiptLineCreate = ReceiptLine
ReceiptCreate = Receipt


class ReceiptsCreate(BaseModel):
    """A batch of receipts (a POS may resend any of them safely)."""

    model_config = ConfigDict(extra="forbid")

    receipts: list[ReceiptCreate] = Field(min_length=1, max_length=MAX_BATCH)


class BatchConflictPublic(BaseModel):
    """A receipt id sent several times in one batch with different content (not saved)."""

    model_config = ConfigDict(from_attributes=True)

    store_id: str
    receipt_id: str
    positions: list[int] = Field(description="1-based positions of the copies in the batch.")
    message: str


class ReceiptsSaved(BaseModel):
    """What a batch did."""

    # Built from the `SaveResult` of `save_receipts`.
    model_config = ConfigDict(from_attributes=True)

    created: int = Field(description="New receipts.")
    updated: int = Field(
        description="Receipts already stored whose facts changed (a later resend replaces: a void, a corrected total)."
    )
    unchanged: int = Field(description="Resent receipts identical to the stored ones.")
    duplicates: int = Field(
        default=0, description="Extra identical copies of a receipt within this batch (saved once)."
    )
    conflicts: list[BatchConflictPublic] = Field(
        default_factory=list,
        description="Receipt ids sent more than once in this batch with different content: none of their copies "
        "was saved. Send one copy.",
    )


class PosLogIssuePublic(BaseModel):
    """A POSLog transaction that was skipped."""

    # Built from a `PosLogIssue` of `parse_poslog`.
    model_config = ConfigDict(from_attributes=True)

    transaction: int = Field(description="1-based position of the Transaction element.")
    receipt_id: str | None
    message: str


class PosLogSaved(ReceiptsSaved):
    """What a POSLog upload did."""

    skipped_non_retail: int = Field(description="Control and other non-retail transactions, ignored.")
    issues: list[PosLogIssuePublic]


class ReceiptLinePublic(BaseModel):
    """A stored receipt line (returns have negative amounts)."""

    line_no: int
    sku: str | None
    description: str | None
    category: str | None
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal
    is_return: bool


class ReceiptPublic(BaseModel):
    """A stored receipt with its lines."""

    store_id: str
    receipt_id: str
    ts: datetime
    register_id: str | None
    kind: str = Field(description="sale or refund.")
    voided: bool
    total: Decimal
    items: Decimal
    loyalty: bool
    currency: str | None
    source: str
    received_at: datetime
    lines: list[ReceiptLinePublic] = Field(default_factory=list, description="Its lines; JSON text in CSV.")


class ReceiptsPublic(BaseModel):
    """A page of receipts."""

    data: list[ReceiptPublic]
    count: int
