"""A point-of-sale receipt as every import path builds it (JSON API, CSV, POSLog XML).

Semantics, shared with the rollups (migration 0003):
- a refund has a negative total; a receipt flagged `refund`, or whose total is negative,
  is stored as a refund with total −|total|;
- a voided receipt counts only as a void: no transaction, no revenue, no items;
- `items` is net units (sold minus returned); only sales' units count toward UPT.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from footfall.core.ids import Id

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_FUTURE = timedelta(days=1)
MAX_LINES = 1000
MAX_AMOUNT = Decimal("999999999.99")
LINE_TOLERANCE = Decimal("0.01")
"""How far a receipt's total may be from the sum of its lines, per line (rounding of each line)."""

PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
"""No control characters (PostgreSQL text cannot hold NUL; the others are never meant)."""
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True, pattern=PRINTABLE)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True, pattern=PRINTABLE)]
ReceiptId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$", strip_whitespace=True)
]
Money = Annotated[Decimal, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, decimal_places=2)]
Quantity = Annotated[Decimal, Field(gt=0, le=Decimal(1_000_000), decimal_places=3)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReceiptLine(_Strict):
    """One line of a receipt: an item sold or returned."""

    sku: Code | None = Field(default=None, title="SKU", description="Item id in the POS.")
    description: Text | None = Field(default=None, description="Item name.")
    category: Code | None = Field(
        default=None, description="Product category; zones map categories to floor areas (revenue per m²)."
    )
    quantity: Quantity = Field(default=Decimal(1), description="Units, positive (returns are flagged, not negative).")
    unit_price: Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, decimal_places=4)] | None = Field(
        default=None, title="Unit price", description="Price of one unit."
    )
    amount: Money | None = Field(
        default=None, description="Line total; defaults to quantity × unit price. Returns count negative."
    )
    is_return: bool = Field(default=False, title="Return", description="The customer brought this item back.")

    @model_validator(mode="after")
    def _priced(self) -> Self:
        if self.amount is None and self.unit_price is None:
            raise ValueError("a line needs an amount or a unit_price")
        return self

    @property
    def signed_amount(self) -> Decimal:
        """The line's contribution to the receipt total (negative for returns)."""
        amount = self.amount if self.amount is not None else (self.quantity * self.unit_price).quantize(Decimal("0.01"))  # type: ignore[operator]
        return -abs(amount) if self.is_return else amount


class Receipt(_Strict):
    """One receipt. `(store_id, receipt_id)` identifies it: sending it again changes nothing,
    sending it with other values (a later void, a corrected total) updates it."""

    receipt_id: ReceiptId = Field(title="Receipt id", description="Unique per store; a POS may resend it safely.")
    store_id: Id = Field(title="Store", description="The store the receipt belongs to.")
    ts: AwareDatetime = Field(title="Timestamp", description="When the sale closed, with UTC offset.")
    register_id: Code | None = Field(default=None, title="Register", description="Till or workstation id.")
    total: Money | None = Field(
        default=None, description="Net total paid (negative for refunds); defaults to the sum of the lines."
    )
    items: Annotated[Decimal, Field(ge=-1_000_000, le=1_000_000, decimal_places=3)] | None = Field(
        default=None, description="Net units; defaults to units sold minus units returned on the lines."
    )
    refund: bool = Field(default=False, description="The receipt is a refund (its total is stored negative).")
    voided: bool = Field(default=False, description="The receipt was voided: it counts as a void only.")
    loyalty: bool = Field(default=False, description="A loyalty card was presented.")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = Field(
        default=None, description="ISO 4217 code; defaults to the store's."
    )
    lines: list[ReceiptLine] = Field(default_factory=list, max_length=MAX_LINES)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.ts < EARLIEST:
            raise ValueError(f"ts {self.ts.isoformat()} is before {EARLIEST.date()}: POS clock unset?")
        if self.ts > datetime.now(UTC) + MAX_FUTURE:
            raise ValueError(f"ts {self.ts.isoformat()} is in the future")
        if self.total is None and not self.lines:
            raise ValueError("a receipt needs a total or lines")
        if self.total is not None and self.lines:
            lines = sum((ln.signed_amount for ln in self.lines), Decimal(0))
            tolerance = LINE_TOLERANCE * len(self.lines)
            if abs(abs(self.total) - abs(lines)) > tolerance:
                raise ValueError(
                    f"total {self.total} disagrees with the sum of its lines ({lines}) by more than {tolerance} "
                    f"({LINE_TOLERANCE} per line): send every line the customer paid for (discounts and tax not "
                    "in the line amounts as lines of their own), or leave `total` out to use the lines' sum"
                )
        return self

    @property
    def kind(self) -> str:
        """`sale` or `refund`."""
        return "refund" if self.refund or self.net_total < 0 else "sale"

    @property
    def net_total(self) -> Decimal:
        """The total as given, or the sum of the lines."""
        if self.total is not None:
            return self.total
        return sum((ln.signed_amount for ln in self.lines), Decimal(0))

    @property
    def stored_total(self) -> Decimal:
        """The total as stored: negative for refunds."""
        t = self.net_total
        return -abs(t) if self.refund else t

    @property
    def net_items(self) -> Decimal:
        """Units as stored: sold minus returned (negative for a refund)."""
        if self.items is not None:
            return -abs(self.items) if self.refund else self.items
        n = sum((-ln.quantity if ln.is_return else ln.quantity for ln in self.lines), Decimal(0))
        return -abs(n) if self.refund else n
