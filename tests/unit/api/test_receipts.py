"""Receipt semantics, CSV mappings and POSLog parsing without a database."""

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from footfall.api.errors import ImportFailed
from footfall.api.receipts import CsvMapping, Receipt, ReceiptLine, parse_poslog

TS = datetime(2026, 6, 1, 10, tzinfo=UTC)
DATA = Path(__file__).resolve().parents[2] / "integration" / "api" / "data"


@pytest.mark.parametrize(
    ("kwargs", "kind", "total", "items"),
    [
        ({"total": Decimal("10.00"), "items": Decimal(2)}, "sale", Decimal("10.00"), Decimal(2)),
        ({"total": Decimal("5.00"), "items": Decimal(1), "refund": True}, "refund", Decimal("-5.00"), Decimal(-1)),
        ({"total": Decimal("-5.00")}, "refund", Decimal("-5.00"), Decimal(0)),  # negative total: a refund
        (  # total and units from the lines, returns subtracted
            {"lines": [ReceiptLine(quantity=Decimal(2), unit_price=Decimal("1.25")),
                       ReceiptLine(quantity=Decimal(1), amount=Decimal("1.00"), is_return=True)]},
            "sale", Decimal("1.50"), Decimal(1),
        ),
    ],
)  # fmt: skip
def test_receipt_semantics(kwargs: dict, kind: str, total: Decimal, items: Decimal) -> None:
    r = Receipt(receipt_id="r", store_id="s", ts=TS, **kwargs)
    assert (r.kind, r.stored_total, r.net_items) == (kind, total, items)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ts": datetime(2026, 6, 1, 10)}, "timezone"),  # naive timestamp
        ({"ts": datetime(1999, 1, 1, tzinfo=UTC), "total": Decimal(1)}, "POS clock unset"),
        ({}, "a total or lines"),
        ({"total": Decimal("1.001")}, "decimal places"),
        ({"total": Decimal(1), "receipt_id": "a\x00b"}, "pattern"),  # NUL never reaches PostgreSQL
        ({"lines": [{"quantity": 1}]}, "amount or a unit_price"),
    ],
)
def test_bad_receipts_are_refused(kwargs: dict, message: str) -> None:
    args = {"receipt_id": "r", "store_id": "s", "ts": TS, **kwargs}
    with pytest.raises(ValidationError, match=message):
        Receipt(**args)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"store_id": "s", "columns": {"timestamp": "t", "total": "x"}}, "receipt_id"),
        ({"store_id": "s", "columns": {"receipt_id": "r", "total": "x"}}, "timestamp, or date"),
        ({"columns": {"receipt_id": "r", "timestamp": "t", "total": "x"}}, "store_id"),
        ({"store_id": "s", "columns": {"receipt_id": "r", "timestamp": "t"}}, "total column"),
        ({"store_id": "s", "columns": {"receipt_id": "r", "timestamp": "t", "colour": "c"}}, "unknown field"),
        ({"store_id": "s", "timezone": "Mars/Base", "columns": {"receipt_id": "r", "timestamp": "t", "total": "x"}},
         "unknown time zone"),
    ],
)  # fmt: skip
def test_mapping_mistakes_name_the_fix(data: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CsvMapping.model_validate(data)


def test_poslog_sample_parses_sale_return_void_and_loyalty() -> None:
    result = parse_poslog(DATA / "poslog_sample.xml")
    by_id = {r.receipt_id: r for r in result.receipts}
    assert set(by_id) == {"3-1001-2026-06-01", "3-1002-2026-06-01", "W4-2026-06-01-77"}
    sale = by_id["3-1001-2026-06-01"]
    assert (sale.kind, sale.stored_total, sale.loyalty, len(sale.lines)) == ("sale", Decimal("10.50"), True, 2)
    assert by_id["3-1002-2026-06-01"].kind == "refund"
    assert by_id["W4-2026-06-01-77"].voided
    assert result.skipped_non_retail == 1
    assert [i.transaction for i in result.issues] == [5]


@pytest.mark.parametrize(
    "doc",
    [
        b"<POSLog><Transaction>",  # truncated
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "x"><!ENTITY b "&a;&a;">]><POSLog>&b;</POSLog>',  # entities
        b"not xml at all",
    ],
)
def test_unreadable_or_unsafe_poslog_fails_whole(doc: bytes) -> None:
    with pytest.raises(ImportFailed):
        parse_poslog(io.BytesIO(doc))
