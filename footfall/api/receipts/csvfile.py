"""CSV receipts with a column mapping: one row per receipt, or one row per line item.

The mapping names which CSV column holds which receipt field. When any line-level field
(sku, description, category, quantity, unit_price, amount, is_return) is mapped, each
row is one line and rows with the same receipt id (which must be next to each other, as
every POS export writes them) make one receipt; otherwise each row is a whole receipt.

A bad row is reported with its line number and column and skipped; the rest of the file
is imported. A line with a byte that is not valid in the file's encoding is reported and
skipped; a quote that is never closed is reported at its line and the lines it would have
swallowed are read on their own, so no row is ever lost silently. Timestamps without an
offset are read in the store's time zone (or the mapping's `timezone`). A price list gives
prices to exports without them. Money with more than two decimals (tax-inclusive totals
such as 548.9715) is rounded half-to-even to cents unless `money_rounding: refuse`.
`values` maps a column's values to Footfall's (a branch `A` → store `yangon-01`).

Example mapping (YAML):

    store_id: edinburgh-bakery
    columns: {receipt_id: Transaction, date: Date, time: Time, description: Item}
    price_list_file: prices.yaml
    skip_values: {description: [NONE]}

`parse_csv` only reads: it touches no database and hands out batches of receipts;
`footfall.api.receipts.load.import_csv` saves them.
"""

import csv
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from footfall.api.errors import ImportFailed
from footfall.api.receipts.model import Receipt, ReceiptLine
from footfall.api.receipts.save import SaveResult
from footfall.core.calendar import zone
from footfall.core.configfile import load_yaml, problem, validate
from footfall.core.errors import ConfigError
from footfall.core.ids import Id

logger = logging.getLogger(__name__)

RECEIPT_FIELDS = (
    "receipt_id",
    "store_id",
    "timestamp",
    "date",
    "time",
    "register_id",
    "total",
    "items",
    "refund",
    "voided",
    "loyalty",
    "currency",
)
LINE_FIELDS = ("sku", "description", "category", "quantity", "unit_price", "amount", "is_return")
MONEY_FIELDS = ("total", "amount")
CENT = Decimal("0.01")
TRUE = frozenset({"1", "true", "t", "yes", "y", "x"})
FALSE = frozenset({"", "0", "false", "f", "no", "n"})


class PriceEntry(BaseModel):
    """A price list entry: the unit price and, optionally, the category of an item."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    price: Annotated[Decimal, Field(ge=0)]
    category: str | None = None


class CsvMapping(BaseModel):
    """Which CSV column holds which receipt field, and how to read the values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    store_id: Id | None = Field(default=None, description="The store of every row, unless a column gives it.")
    timezone: str | None = Field(default=None, description="Zone of timestamps without offset; default the store's.")
    columns: dict[str, str] = Field(description="field → CSV column name.")
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"
    date_format: str | None = Field(default=None, description="strptime format; default ISO 8601 (YYYY-MM-DD).")
    time_format: str | None = Field(default=None, description="strptime format; default H:MM[:SS].")
    timestamp_format: str | None = Field(default=None, description="strptime format; default ISO 8601.")
    decimal_comma: bool = Field(default=False, description="Amounts use a decimal comma (1.234,56).")
    price_list: dict[str, PriceEntry] = Field(
        default_factory=dict, description="Item (description or sku) → price and category."
    )
    skip_values: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Line fields whose listed values mean 'no item' (the receipt is kept, the line is not).",
    )
    default_currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="field → {CSV value → value}: e.g. `store_id: {A: yangon-01, B: mandalay-01}`. "
        "A value not listed is kept as it is.",
    )
    money_rounding: Literal["half_even", "refuse"] = Field(
        default="half_even",
        description="Totals and line amounts with more than 2 decimals: rounded half-to-even to cents "
        "(`half_even`, 0.125 → 0.12, 0.135 → 0.14), or reported as bad rows (`refuse`).",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        known = set(RECEIPT_FIELDS) | set(LINE_FIELDS)
        unknown = sorted(set(self.columns) - known)
        if unknown:
            raise ValueError(f"unknown field(s) in columns: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        unmapped = sorted(set(self.values) - set(self.columns))
        if unmapped:
            raise ValueError(f"values: {', '.join(unmapped)} is not mapped to a column in columns")
        if "receipt_id" not in self.columns:
            raise ValueError("columns must map receipt_id")
        if "timestamp" not in self.columns and "date" not in self.columns:
            raise ValueError("columns must map timestamp, or date (and time)")
        if "store_id" not in self.columns and not self.store_id:
            raise ValueError("give store_id, or map a store_id column")
        if not self.line_mode and "total" not in self.columns:
            raise ValueError("one row per receipt needs a total column (or map line columns: description, amount…)")
        if self.timezone:
            zone(self.timezone)
        for name in self.skip_values:
            if name not in LINE_FIELDS:
                raise ValueError(f"skip_values: {name!r} is not a line field")
        return self

    @property
    def line_mode(self) -> bool:
        """Whether each row is one line item."""
        return any(f in self.columns for f in LINE_FIELDS)

    @classmethod
    def from_yaml(cls, path: Path, *, overrides: dict[str, Any] | None = None) -> "CsvMapping":
        """Load a mapping file; `price_list_file` (YAML or CSV `item,price[,category]`) is read too.

        Args:
            path: the YAML file.
            overrides: settings given on the command line (`store_id`, `timezone`, `date_format`…),
                which win over the file's before it is checked (so `--store` stands in for a
                store column the file does not map).

        Raises:
            ConfigError: the file or its price list is missing or invalid.
        """
        data = load_yaml(path) or {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a mapping file is a YAML mapping")
        data.update({k: v for k, v in (overrides or {}).items() if v is not None})
        prices = data.pop("price_list_file", None)
        if prices:
            data.setdefault("price_list", {}).update(load_price_list(path.parent / prices))
        return validate(cls, data, source=str(path))


def load_price_list(path: Path) -> dict[str, dict[str, Any]]:
    """A price list: YAML `item: price` or `item: {price, category}`, or CSV `item,price[,category]`.

    Raises:
        ConfigError: unreadable or a price is not a number.
    """
    out: dict[str, dict[str, Any]] = {}
    if path.suffix.lower() == ".csv":
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read price list: {exc.strerror}") from None
        for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            if n == 1 and row and row[0].lower() in ("item", "description", "sku"):
                continue
            if not row:
                continue
            try:
                out[row[0]] = {"price": Decimal(row[1]), "category": row[2] if len(row) > 2 and row[2] else None}
            except (IndexError, InvalidOperation):
                raise ConfigError(f"{path}: line {n}: expected item,price[,category]") from None
        return out
    data = load_yaml(path) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a price list is a mapping of item → price")
    for item, v in data.items():
        entry = v if isinstance(v, dict) else {"price": v}
        try:
            out[str(item)] = {"price": Decimal(str(entry["price"])), "category": entry.get("category")}
        except (KeyError, InvalidOperation):
            raise ConfigError(f"{path}: item {item!r}: price must be a number") from None
    return out


@dataclass(frozen=True, slots=True)
class RowIssue:
    """A problem with one row: its line number in the file, the column and what is wrong."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column!r}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    """The outcome of an import: every data row read is either imported or skipped, with a reason."""

    rows: int = 0
    """Data rows read (a line the file could not decode, or a broken quote, counts as one row)."""
    receipts: int = 0
    saved: SaveResult = field(default_factory=SaveResult)
    skipped_rows: int = 0
    """Rows not imported: bad rows, and every row of a receipt that failed as a whole."""
    issues: list[RowIssue] = field(default_factory=list)

    @property
    def imported_rows(self) -> int:
        """Rows that made it into a receipt."""
        return self.rows - self.skipped_rows


class _RowError(Exception):
    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


class _CountingLines:
    """Decoded lines of a binary file, counting the bytes read (for a progress bar).

    A line with bytes that are not valid in the encoding is decoded with replacement
    characters and its number kept in `undecodable`, so the reader reports that row and
    goes on (a decoding error must not end the file early). The lines since `mark()` are
    kept, so a row swallowed by an unterminated quote can be read again line by line.
    """

    def __init__(self, raw: BinaryIO, encoding: str) -> None:
        self.raw = raw
        self.encoding = encoding
        self.bytes_read = 0
        self.line_no = 0
        self.undecodable: dict[int, str] = {}
        self.recent: list[tuple[int, str]] = []

    def mark(self) -> None:
        """Forget the lines read so far (they made a good row)."""
        self.recent.clear()

    def __iter__(self) -> Iterator[str]:
        for chunk in self.raw:
            self.bytes_read += len(chunk)
            self.line_no += 1
            try:
                text = chunk.decode(self.encoding)
            except UnicodeDecodeError as exc:
                text = chunk.decode(self.encoding, errors="replace")
                self.undecodable[self.line_no] = (
                    f"byte {chunk[exc.start : exc.start + 1]!r} at position {exc.start + 1}"
                )
            self.encoding = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
            self.recent.append((self.line_no, text))
            yield text


class _Reader:
    def __init__(self, mapping: CsvMapping, default_tz: str | None) -> None:
        self.m = mapping
        tz_name = mapping.timezone or default_tz
        self.tz = zone(tz_name) if tz_name else None

    def cell(self, row: dict[str, str], name: str) -> str | None:
        col = self.m.columns.get(name)
        if col is None:
            return None
        v = row.get(col)
        if v is None:
            raise _RowError(col, "missing (the row has too few fields)")
        v = v.strip()
        if v and name in self.m.values:
            v = self.m.values[name].get(v, v)
        return v or None

    def decimal(self, row: dict[str, str], name: str) -> Decimal | None:
        v = self.cell(row, name)
        if v is None:
            return None
        text = v.replace(" ", "")
        # Thousands separators go; the decimal separator becomes a point.
        text = text.replace(".", "").replace(",", ".") if self.m.decimal_comma else text.replace(",", "")
        text = text.lstrip("€$£")
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise _RowError(self.m.columns[name], f"{v!r} is not a number") from None
        if not d.is_finite():
            raise _RowError(self.m.columns[name], f"{v!r} is not a number")
        if name in MONEY_FIELDS and d != d.quantize(CENT, rounding=ROUND_HALF_EVEN):
            if self.m.money_rounding == "refuse":
                raise _RowError(
                    self.m.columns[name], f"{v!r} has more than 2 decimals; set `money_rounding: half_even` to round"
                )
            d = d.quantize(CENT, rounding=ROUND_HALF_EVEN)
        return d

    def flag(self, row: dict[str, str], name: str) -> bool:
        v = self.cell(row, name)
        if v is None:
            return False
        lv = v.lower()
        if lv in TRUE:
            return True
        if lv in FALSE:
            return False
        raise _RowError(self.m.columns[name], f"{v!r} is not yes/no (use 1/0, true/false, yes/no)")

    def timestamp(self, row: dict[str, str]) -> datetime:
        if "timestamp" in self.m.columns:
            col = self.m.columns["timestamp"]
            v = self.cell(row, "timestamp")
            if v is None:
                raise _RowError(col, "empty timestamp")
            try:
                ts = (
                    datetime.strptime(v, self.m.timestamp_format)
                    if self.m.timestamp_format
                    else datetime.fromisoformat(v)
                )
            except ValueError:
                raise _RowError(col, f"{v!r} is not a timestamp ({self.m.timestamp_format or 'ISO 8601'})") from None
        else:
            dcol = self.m.columns["date"]
            dv = self.cell(row, "date")
            if dv is None:
                raise _RowError(dcol, "empty date")
            try:
                d = datetime.strptime(dv, self.m.date_format).date() if self.m.date_format else date.fromisoformat(dv)
            except ValueError:
                raise _RowError(dcol, f"{dv!r} is not a date ({self.m.date_format or 'YYYY-MM-DD'})") from None
            t = time(0)
            if "time" in self.m.columns:
                tcol = self.m.columns["time"]
                tv = self.cell(row, "time")
                if tv is None:
                    raise _RowError(tcol, "empty time")
                try:
                    t = (
                        datetime.strptime(tv, self.m.time_format).time()
                        if self.m.time_format
                        else time.fromisoformat(tv.zfill(len(tv) + 1) if tv.find(":") == 1 else tv)
                    )
                except ValueError:
                    raise _RowError(tcol, f"{tv!r} is not a time ({self.m.time_format or 'HH:MM[:SS]'})") from None
            ts = datetime.combine(d, t)
        if ts.tzinfo is None:
            if self.tz is None:
                raise _RowError(
                    self.m.columns.get("timestamp"), "timestamp has no UTC offset and no time zone is known"
                )
            ts = ts.replace(tzinfo=self.tz)
        return ts.astimezone(UTC)

    def line(self, row: dict[str, str]) -> ReceiptLine | None:
        values = {n: self.cell(row, n) for n in ("sku", "description", "category")}
        for name, skip in self.m.skip_values.items():
            v = self.cell(row, name)
            if v is not None and v in skip:
                return None
        if not any(values.values()) and "amount" not in self.m.columns and "unit_price" not in self.m.columns:
            return None
        quantity = self.decimal(row, "quantity")
        unit_price = self.decimal(row, "unit_price")
        amount = self.decimal(row, "amount")
        category = values["category"]
        if unit_price is None and amount is None:
            key = values["description"] or values["sku"]
            entry = self.m.price_list.get(key or "")
            if entry is None:
                col = self.m.columns.get("description") or self.m.columns.get("sku")
                raise _RowError(col, f"no price for item {key!r}: add it to the price list or map a price column")
            unit_price = entry.price
            category = category or entry.category
        is_return = self.flag(row, "is_return")
        if quantity is not None and quantity < 0:
            quantity, is_return = -quantity, True
        if amount is not None and amount < 0:
            amount, is_return = -amount, True
        try:
            return ReceiptLine(
                sku=values["sku"],
                description=values["description"],
                category=category,
                quantity=quantity if quantity is not None else Decimal(1),
                unit_price=unit_price,
                amount=amount,
                is_return=is_return,
            )
        except ValidationError as exc:
            raise _invalid(self.m, exc, unmapped_as_field=True) from None


def _build(mapping: CsvMapping, head: dict[str, Any], lines: list[ReceiptLine]) -> Receipt:
    if mapping.line_mode and not lines and head.get("total") is None:
        # Every row was a "no item" row (skip_values): a transaction with nothing on it.
        head = {**head, "total": Decimal(0)}
    try:
        return Receipt(**head, lines=lines)
    except ValidationError as exc:
        raise _invalid(mapping, exc) from None


def _invalid(mapping: CsvMapping, exc: ValidationError, *, unmapped_as_field: bool = False) -> _RowError:
    """The first problem of a receipt or line that failed validation, at the CSV column it came from.

    A field no column maps (a line's price from the price list) is named by the field itself
    when `unmapped_as_field`, else the issue has no column.
    """
    e = exc.errors(include_url=False)[0]
    name = str(e["loc"][0]) if e["loc"] else None
    if name == "ts":
        col = mapping.columns.get("timestamp") or mapping.columns.get("date")
    elif name is None:
        col = None
    else:
        col = mapping.columns.get(name, name if unmapped_as_field else None)
    return _RowError(col, problem(e, empty="receipt"))


class _Parse:
    """One parse run: reads rows, groups line rows into receipts, hands them out in batches."""

    def __init__(self, mapping: CsvMapping, reader: _Reader, report: ImportReport) -> None:
        self.m = mapping
        self.reader = reader
        self.report = report
        self.batch: list[Receipt] = []
        self.done: set[tuple[str, str]] = set()
        self.current: tuple[tuple[str, str], dict[str, Any], list[ReceiptLine], int] | None = None
        self.current_rows = 0

    def take(self) -> list[Receipt]:
        """The receipts built so far, counted in the report."""
        out, self.batch = self.batch, []
        self.report.receipts += len(out)
        return out

    def close_current(self) -> None:
        if self.current is None:
            return
        key, head, lines, first_line = self.current
        rows, self.current, self.current_rows = self.current_rows, None, 0
        self.done.add(key)
        try:
            self.batch.append(_build(self.m, head, lines))
        except _RowError as exc:
            what = f"receipt {key[1]!r}" + (f" ({rows} rows)" if rows > 1 else "")
            self.report.issues.append(RowIssue(first_line, exc.column, f"{what}: {exc.message}"))
            self.report.skipped_rows += rows

    def head(self, row: dict[str, str], receipt_id: str, store_id: str) -> dict[str, Any]:
        r = self.reader
        return {
            "receipt_id": receipt_id,
            "store_id": store_id,
            "ts": r.timestamp(row),
            "register_id": r.cell(row, "register_id"),
            "total": r.decimal(row, "total"),
            "items": r.decimal(row, "items"),
            "refund": r.flag(row, "refund"),
            "voided": r.flag(row, "voided"),
            "loyalty": r.flag(row, "loyalty"),
            "currency": r.cell(row, "currency") or self.m.default_currency,
        }

    def consume(
        self,
        rows: "csv.DictReader[str]",
        lines: _CountingLines,
        header: list[str],
        *,
        batch_size: int,
        progress: Callable[[], None],
    ) -> Iterator[list[Receipt]]:
        """Read every row, yielding batches of about `batch_size` receipts; bad rows become issues."""
        report = self.report
        lines.mark()
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                if not self.recover(lines, header, str(exc)):
                    report.rows += 1
                    report.issues.append(RowIssue(rows.line_num, None, f"unreadable: {exc}"))
                    report.skipped_rows += 1
                lines.mark()
                continue
            self.take_row(row, rows.line_num, lines, header)
            lines.mark()
            if report.rows % 500 == 0:
                progress()
            if len(self.batch) >= batch_size:
                yield self.take()
        self.close_current()
        if self.batch:
            yield self.take()

    def take_row(self, row: dict[str, Any], line_num: int, lines: _CountingLines, header: list[str]) -> None:
        """One row from the csv reader: checked for bad bytes and swallowed lines, then taken."""
        report = self.report
        span = [n for n, _ in lines.recent]
        bad = [n for n in span if n in lines.undecodable]
        if bad:
            report.rows += 1
            report.skipped_rows += 1
            n = bad[0]
            report.issues.append(
                RowIssue(
                    n, None, f"not {self.m.encoding} text ({lines.undecodable[n]}); fix the byte or set `encoding`"
                )
            )
            return
        if len(span) > 1:
            try:
                self.row(row, line_num, len(header))
            except _RowError:
                if self.recover(lines, header, "the row runs over several lines"):
                    return
            else:
                report.rows += 1
                return
        report.rows += 1
        try:
            self.row(row, line_num, len(header))
        except _RowError as exc:
            report.issues.append(RowIssue(line_num, exc.column, exc.message))
            report.skipped_rows += 1

    def recover(self, lines: _CountingLines, header: list[str], why: str) -> bool:
        """A row spread over several lines by a quote that is never closed: report its first
        line and read each line after it as a row of its own. False when there is nothing to redo."""
        recent = list(lines.recent)
        if len(recent) < 2 or '"' not in recent[0][1]:
            return False
        report = self.report
        first, _ = recent[0]
        report.rows += 1
        report.skipped_rows += 1
        report.issues.append(
            RowIssue(
                first,
                None,
                f"a quote opened on this line is never closed ({why}); this line is skipped, "
                "the lines after it are read on their own",
            )
        )
        for n, text in recent[1:]:
            lines.recent = [(n, text)]
            fields = next(csv.reader([text], delimiter=self.m.delimiter), [])
            if not fields:
                continue
            row: dict[str | None, Any] = dict(zip(header, fields, strict=False))
            if len(fields) > len(header):
                row[None] = fields[len(header) :]
            for name in header[len(fields) :]:
                row[name] = None
            self.take_row(row, n, lines, header)  # type: ignore[arg-type]
        return True

    def row(self, row: dict[str, Any], n: int, n_header: int) -> None:
        """Take one row; raises _RowError for a bad one."""
        extra = row.get(None)  # type: ignore[call-overload]  # csv.DictReader files surplus fields under None
        if extra is not None:
            raise _RowError(None, f"{n_header + len(extra)} fields, the header has {n_header}")
        receipt_id = self.reader.cell(row, "receipt_id")
        if receipt_id is None:
            raise _RowError(self.m.columns["receipt_id"], "empty receipt id")
        store_id = self.reader.cell(row, "store_id") or self.m.store_id
        if store_id is None:
            raise _RowError(self.m.columns.get("store_id"), "empty store id")
        key = (store_id, receipt_id)
        if self.m.line_mode and self.current is not None and self.current[0] == key:
            line = self.reader.line(row)
            if line is not None:
                self.current[2].append(line)
            self.current_rows += 1
            return
        if key in self.done:
            raise _RowError(
                self.m.columns["receipt_id"],
                f"receipt {receipt_id!r} continues here after other receipts; "
                "sort the file so each receipt's rows are together",
            )
        head = self.head(row, receipt_id, store_id)
        line = self.reader.line(row) if self.m.line_mode else None
        self.close_current()
        self.current = (key, head, [line] if line else [], n)
        self.current_rows = 1
        if not self.m.line_mode:
            self.close_current()


def parse_csv(
    source: Path | BinaryIO,
    mapping: CsvMapping,
    *,
    timezone: str | None = None,
    report: ImportReport | None = None,
    batch_size: int = 2000,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> Iterator[list[Receipt]]:
    """Read a CSV file of receipts into batches; bad rows are reported and skipped. Touches no database.

    Args:
        source: the file, or an open binary stream.
        mapping: the column mapping.
        timezone: zone of timestamps without an offset when the mapping names none (the store's).
        report: filled in as the file is read (rows, receipts, skipped rows, issues).
        batch_size: receipts per batch.
        on_progress: called with (bytes read, file size or None) as the file is read.

    Yields:
        Lists of receipts, in file order; the caller saves them.

    Raises:
        ImportFailed: the file cannot be read or its header lacks a mapped column.
    """
    report = report if report is not None else ImportReport()
    if isinstance(source, Path):
        try:
            raw: BinaryIO = source.open("rb")
        except OSError as exc:
            raise ImportFailed(f"{source}: cannot read: {exc.strerror}") from None
        size: int | None = source.stat().st_size
    else:
        raw, size = source, None
    job = _Parse(mapping, _Reader(mapping, timezone), report)
    lines_in = _CountingLines(raw, mapping.encoding)
    try:
        rows = csv.DictReader(iter(lines_in), delimiter=mapping.delimiter)
        try:
            header = rows.fieldnames or []
        except UnicodeDecodeError as exc:
            raise ImportFailed(f"the file is not {mapping.encoding} text ({exc.reason}); set `encoding`") from None
        missing = sorted({c for c in mapping.columns.values() if c not in header})
        if missing:
            raise ImportFailed(
                f"the header has no column(s) {', '.join(map(repr, missing))}; it has {', '.join(map(repr, header))}"
            )
        yield from job.consume(
            rows,
            lines_in,
            list(header),
            batch_size=batch_size,
            progress=lambda: on_progress(lines_in.bytes_read, size) if on_progress else None,
        )
    finally:
        if isinstance(source, Path):
            raw.close()
    if on_progress:
        on_progress(lines_in.bytes_read, size)
    if report.issues:
        logger.warning("receipts file: %d problem(s), first: %s", len(report.issues), report.issues[0])
