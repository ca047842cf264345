"""A POS export the project had never seen, imported with a short mapping file and read back
through the API: other column names, M/D/YYYY dates, tax-inclusive totals with 4 decimals,
a branch column, one undecodable byte and one quote that is never closed."""

import csv
import io
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from footfall.api.access import Role
from footfall.api.receipts import CsvMapping, import_csv
from footfall.core.settings import DbSettings
from tests.integration.api.conftest import Api, add_store

DATA = Path(__file__).parent / "data"
FILE = DATA / "supermarket_foreign.csv"
MAPPING = DATA / "supermarket_mapping.yaml"
BRANCHES = {"A": "yangon-01", "B": "mandalay-01", "C": "naypyitaw-01"}


def direct_count() -> tuple[dict[tuple[str, date], tuple[int, Decimal]], list[int]]:
    """Per (store, local date): invoices and revenue, counted straight from the file's bytes;
    and the line numbers that cannot be read (a bad byte, a quote never closed)."""
    per_day: dict[tuple[str, date], list] = defaultdict(lambda: [0, Decimal(0)])
    bad = []
    raw_lines = FILE.read_bytes().split(b"\r\n")
    for n, raw in enumerate(raw_lines[1:], start=2):
        if not raw:
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(n)
            continue
        if text.count('"') % 2:
            bad.append(n)
            continue
        cells = text.split(",")
        m, d, y = (int(x) for x in cells[9].split("/"))
        key = (BRANCHES[cells[1]], date(y, m, d))
        per_day[key][0] += 1
        per_day[key][1] += Decimal(cells[8]).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return {k: (v[0], v[1]) for k, v in per_day.items()}, bad


def test_a_foreign_pos_export_imports_with_a_short_mapping_and_reads_back_exactly(api: Api) -> None:
    assert len(MAPPING.read_text().splitlines()) < 15
    for store in BRANCHES.values():
        add_store(api.conn, store, tz="Asia/Yangon", doors=())  # receipts only
    expected, bad_lines = direct_count()
    assert bad_lines == [8, 32]

    report = import_csv(api.conn, FILE, CsvMapping.from_yaml(MAPPING))

    # true counts: every row read is imported or skipped, and each skip is reported by line
    assert report.rows == 60
    assert (report.imported_rows, report.skipped_rows) == (58, 2)
    assert sorted(i.line for i in report.issues) == bad_lines
    assert report.saved.created == 58
    issues = {i.line: i.message for i in report.issues}
    assert "not utf-8-sig text" in issues[8]
    assert "never closed" in issues[32]

    headers = api.as_role(Role.ADMIN)
    for store in BRANCHES.values():
        r = api.client.get(
            f"/v1/stores/{store}/kpis/series",
            params={"first": "2026-03-03", "last": "2026-03-05", "interval": "day"},
            headers={**headers, "Accept": "text/csv"},
        )
        assert r.status_code == 200, r.text
        for row in csv.DictReader(io.StringIO(r.text)):
            day = date.fromisoformat(row["date"])
            n, revenue = expected.get((store, day), (0, Decimal(0)))
            assert (int(row["transactions"]), Decimal(row["revenue"])) == (n, revenue), (store, day)
            assert row["visitors"] == ""  # no counters: unknown, not 0

    again = import_csv(api.conn, FILE, CsvMapping.from_yaml(MAPPING))
    assert (again.saved.created, again.saved.unchanged) == (0, 58)


def test_money_rounding_can_be_refused_and_store_can_come_from_the_command_line(api: Api, tmp_path: Path) -> None:
    add_store(api.conn, "one", tz="Asia/Yangon", doors=())
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {receipt_id: Invoice ID, date: Date, time: Time, total: Total}\n"
        'date_format: "%m/%d/%Y"\nmoney_rounding: refuse\n'
    )
    m = CsvMapping.from_yaml(mapping, overrides={"store_id": "one"})  # --store stands in for the column
    report = import_csv(api.conn, FILE, m)
    refused = [i for i in report.issues if "more than 2 decimals" in i.message]
    assert refused  # totals like 724.8360 are whole cents and import; 155.0115 is refused
    assert report.imported_rows == report.saved.created == 60 - 2 - len(refused)


def test_cli_takes_date_format_and_store_flags_and_prints_true_counts(
    aconn: psycopg.Connection, tmp_path: Path, db: DbSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from footfall.cli import app
    from footfall.core.settings import get_settings

    add_store(aconn, "one", tz="Asia/Yangon", doors=())
    mapping = tmp_path / "m.yaml"  # no store column, no date format: both come as flags
    mapping.write_text(
        "timezone: Asia/Yangon\ncolumns: {receipt_id: Invoice ID, date: Date, time: Time, total: Total}\n"
    )
    monkeypatch.setenv("FOOTFALL_DB__URL", db.url)
    get_settings.cache_clear()
    try:
        args = [
            "receipts",
            "import",
            str(FILE),
            "--mapping",
            str(mapping),
            "--store",
            "one",
            "--date-format",
            "%m/%d/%Y",
        ]
        result = CliRunner().invoke(app, args)
    finally:
        get_settings.cache_clear()
    out = " ".join(result.output.split())
    assert result.exit_code == 2, result.output  # two rows were skipped
    assert "60 rows read, 58 imported, 2 skipped → 58 receipts (58 new" in out
    assert "line 8" in out
    assert "line 32" in out
