"""Receipts in: the receipt model, idempotent batch saving, CSV and ARTS POSLog import."""

from footfall.api.receipts.csvfile import CsvMapping, ImportReport, RowIssue, load_price_list, parse_csv
from footfall.api.receipts.load import import_csv
from footfall.api.receipts.model import Receipt, ReceiptLine
from footfall.api.receipts.poslog import PosLogIssue, PosLogResult, parse_poslog
from footfall.api.receipts.save import SaveResult, save_receipts

__all__ = [
    "CsvMapping",
    "ImportReport",
    "PosLogIssue",
    "PosLogResult",
    "Receipt",
    "ReceiptLine",
    "RowIssue",
    "SaveResult",
    "import_csv",
    "load_price_list",
    "parse_csv",
    "parse_poslog",
    "save_receipts",
]
