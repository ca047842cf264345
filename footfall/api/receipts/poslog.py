"""ARTS POSLog XML (the NRF standard transaction log): RetailTransactions into receipts.

What is read, namespace-agnostic (POSLog files use the ARTS namespace, or a vendor's, or none):

- `Transaction` → one receipt: `RetailStoreID`, `WorkstationID` (register),
  `TransactionID` (else `WorkstationID-SequenceNumber-BusinessDayDate`), `EndDateTime`
  (else `BeginDateTime`), `CurrencyCode`; `CancelFlag="true"` or a `TransactionStatus`
  of Voided/Cancelled marks it voided. Transactions without a `RetailTransaction`
  (control, tender-control…) are counted and skipped.
- `RetailTransaction/LineItem/Sale` and `…/Return`: `ItemID`, `Description`,
  `MerchandiseHierarchy` (category), `Quantity`, `ActualSalesUnitPrice` (else
  `RegularSalesUnitPrice`/`UnitListPrice`), `ExtendedAmount`; line items with
  `VoidFlag="true"` are left out.
- `Total` with `TotalType="TransactionNetAmount"` (else `TransactionGrandAmount`) is the
  total; without one the lines are summed.
- `LoyaltyAccount` (or `Customer/LoyaltyAccount`) marks the loyalty card.

Everything else (tenders, taxes, discounts, vendor extensions) is ignored. Parsing uses
`defusedxml`, so entity-expansion bombs and external entities are refused.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from pydantic import ValidationError

from footfall.api.errors import ImportFailed
from footfall.api.receipts.model import Receipt, ReceiptLine
from footfall.core.configfile import problem

_VOID_STATUS = {"voided", "void", "cancelled", "canceled", "aborted"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el: Element, name: str) -> Element | None:
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _children(el: Element, name: str) -> Iterator[Element]:
    for c in el:
        if _local(c.tag) == name:
            yield c


def _text(el: Element | None, name: str | None = None) -> str | None:
    if el is not None and name is not None:
        el = _child(el, name)
    if el is None or el.text is None:
        return None
    t = el.text.strip()
    return t or None


def _flag(el: Element, attr: str) -> bool:
    for k, v in el.attrib.items():
        if _local(k) == attr:
            return v.strip().lower() in ("true", "1")
    return False


def _attr(el: Element, attr: str) -> str | None:
    for k, v in el.attrib.items():
        if _local(k) == attr:
            return v
    return None


def _decimal(text: str | None, what: str) -> Decimal | None:
    if text is None:
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not d.is_finite():
        raise ValueError(f"{what} {text!r} is not a number")
    return d


@dataclass(frozen=True, slots=True)
class PosLogIssue:
    """A transaction that could not be read: its position in the file and why."""

    transaction: int
    """1-based position of the Transaction element in the file."""
    receipt_id: str | None
    message: str

    def __str__(self) -> str:
        rid = f" ({self.receipt_id})" if self.receipt_id else ""
        return f"transaction {self.transaction}{rid}: {self.message}"


@dataclass
class PosLogResult:
    """Receipts read from a POSLog file, and what was skipped."""

    receipts: list[Receipt] = field(default_factory=list)
    issues: list[PosLogIssue] = field(default_factory=list)
    skipped_non_retail: int = 0


def _line(item: Element, kind: str) -> ReceiptLine:
    qty = _decimal(_text(item, "Quantity"), "Quantity") or Decimal(1)
    price = None
    for name in ("ActualSalesUnitPrice", "RegularSalesUnitPrice", "UnitListPrice"):
        price = _decimal(_text(item, name), name)
        if price is not None:
            break
    amount = _decimal(_text(item, "ExtendedAmount"), "ExtendedAmount")
    if amount is None:
        amount = _decimal(_text(item, "ExtendedDiscountAmount"), "ExtendedDiscountAmount")
    return ReceiptLine(
        sku=(_text(item, "ItemID") or _text(item, "POSIdentity") or None),
        description=_text(item, "Description"),
        category=_text(item, "MerchandiseHierarchy"),
        quantity=abs(qty),
        unit_price=abs(price) if price is not None else None,
        amount=abs(amount) if amount is not None else None,
        is_return=kind == "Return",
    )


def _receipt_id(tx: Element, register: str | None) -> str:
    rid = _text(tx, "TransactionID")
    if rid is None:
        seq = _text(tx, "SequenceNumber")
        if seq is None:
            raise ValueError("neither TransactionID nor SequenceNumber")
        rid = "-".join(p for p in (register, seq, _text(tx, "BusinessDayDate")) if p)
    return rid


def _timestamp(tx: Element) -> datetime:
    when = _text(tx, "EndDateTime") or _text(tx, "BeginDateTime")
    if when is None:
        raise ValueError("no EndDateTime or BeginDateTime")
    try:
        ts = datetime.fromisoformat(when)
    except ValueError:
        raise ValueError(f"EndDateTime {when!r} is not an ISO 8601 timestamp") from None
    if ts.tzinfo is None:
        raise ValueError(f"EndDateTime {when!r} has no UTC offset")
    return ts


def _total(retail: Element) -> Decimal | None:
    for wanted in ("TransactionNetAmount", "TransactionGrandAmount"):
        for t in _children(retail, "Total"):
            if (_attr(t, "TotalType") or "") == wanted:
                total = _decimal(t.text.strip() if t.text else None, f"Total {wanted}")
                if total is not None:
                    return total
    return None


def _receipt(tx: Element, *, default_store: str | None) -> Receipt | None:
    retail = _child(tx, "RetailTransaction")
    if retail is None:
        return None
    store = _text(tx, "RetailStoreID") or default_store
    if not store:
        raise ValueError("no RetailStoreID (pass a store to import a single-store file)")
    register = _text(tx, "WorkstationID")
    rid = _receipt_id(tx, register)
    ts = _timestamp(tx)
    status = (_attr(retail, "TransactionStatus") or _text(retail, "TransactionStatus") or "").lower()
    voided = _flag(tx, "CancelFlag") or _flag(tx, "VoidFlag") or status in _VOID_STATUS
    lines: list[ReceiptLine] = []
    for li in _children(retail, "LineItem"):
        if _flag(li, "VoidFlag"):
            continue
        for kind in ("Sale", "Return"):
            item = _child(li, kind)
            if item is not None:
                lines.append(_line(item, kind))
    total = _total(retail)
    loyalty = _child(retail, "LoyaltyAccount") is not None or (
        (c := _child(retail, "Customer")) is not None and _child(c, "LoyaltyAccount") is not None
    )
    returns_only = bool(lines) and all(ln.is_return for ln in lines)
    if total is not None and returns_only and total > 0:
        total = -total  # some POS write a refund's total unsigned
    refund = returns_only or (total is not None and total < 0)
    return Receipt(
        receipt_id=rid,
        store_id=store,
        ts=ts,
        register_id=register,
        total=total,
        refund=refund,
        voided=voided,
        loyalty=loyalty,
        currency=_text(tx, "CurrencyCode"),
        lines=lines,
    )


def parse_poslog(source: Path | BinaryIO, *, store_id: str | None = None) -> PosLogResult:
    """Read every RetailTransaction in a POSLog file.

    A transaction that breaks a rule is reported (with its position) and skipped; the rest
    are returned.

    Args:
        source: the file, or an open binary stream.
        store_id: the store for transactions without `RetailStoreID`.

    Raises:
        ImportFailed: the file is not well-formed XML, or is unsafe.
    """
    out = PosLogResult()
    n = 0
    try:
        for _event, el in iterparse(source, events=("end",), forbid_dtd=True):
            if _local(el.tag) != "Transaction":
                continue
            n += 1
            rid: str | None = _text(el, "TransactionID") or _text(el, "SequenceNumber")
            try:
                r = _receipt(el, default_store=store_id)
            except ValueError as exc:
                msg = str(exc)
                if isinstance(exc, ValidationError):
                    msg = problem(exc.errors(include_url=False)[0], empty="transaction")
                out.issues.append(PosLogIssue(n, rid, msg))
            else:
                if r is None:
                    out.skipped_non_retail += 1
                else:
                    out.receipts.append(r)
            el.clear()
    except ParseError as exc:
        raise ImportFailed(f"not well-formed XML: {exc}") from None
    except DefusedXmlException as exc:
        raise ImportFailed(f"refused unsafe XML: {exc}") from None
    except OSError as exc:
        raise ImportFailed(f"cannot read: {exc.strerror or exc}") from None
    return out
