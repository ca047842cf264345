"""Receipts in: the real BreadBasket file, a CSV with broken rows, a POSLog document, the JSON API."""

import csv
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from typer.testing import CliRunner

from footfall.api import kpis
from footfall.api.access import Role
from footfall.api.kpis import Kpi
from footfall.api.receipts import CsvMapping, import_csv
from footfall.core.storeconfig import StoreConfig
from footfall.db.stores import apply_store
from tests.integration.api.conftest import Api, add_store

ROOT = Path(__file__).resolve().parents[3]
BREADBASKET = ROOT.parent / "shared" / "data" / "receipts" / "breadbasket" / "BreadBasket_DMS.csv"
EXAMPLE = ROOT / "examples" / "breadbasket"
DATA = Path(__file__).parent / "data"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def breadbasket() -> Path:
    if not BREADBASKET.exists():
        pytest.skip(f"real receipts not here ({BREADBASKET}); they live in ../shared/data, not in the repository")
    return BREADBASKET


def test_breadbasket_imports_and_hourly_transactions_match_the_csv(
    aconn: psycopg.Connection, breadbasket: Path
) -> None:
    apply_store(aconn, StoreConfig.from_yaml(EXAMPLE / "store.yaml"))
    mapping = CsvMapping.from_yaml(EXAMPLE / "mapping.yaml")
    report = import_csv(aconn, breadbasket, mapping)
    assert report.issues == []
    with breadbasket.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    first_row = {}
    for r in rows:
        first_row.setdefault(r["Transaction"], r)
    assert report.receipts == len(first_row) == 9531

    # A direct count of the CSV: distinct transactions per local date and hour.
    expected = Counter((r["Date"], int(r["Time"].split(":")[0])) for r in first_row.values())
    first = min(date.fromisoformat(d) for d, _ in expected)
    last = max(date.fromisoformat(d) for d, _ in expected)
    store = kpis.store_info(aconn, "edinburgh-bakery")
    got = Counter()
    for part_first, part_last in ((first, date(2017, 1, 31)), (date(2017, 2, 1), last)):
        for r in kpis.kpi_series(aconn, store=store, first=part_first, last=part_last, interval="hour"):
            if r.kpis[Kpi.TRANSACTIONS]:
                got[(r.bucket.local_start.date().isoformat(), r.bucket.local_start.hour)] = int(
                    r.kpis[Kpi.TRANSACTIONS]
                )
    assert got == expected

    # Revenue is the stated price list applied to every named item.
    prices = mapping.price_list
    want = sum((prices[r["Item"]].price for r in rows if r["Item"] != "NONE"), Decimal(0))
    s = kpis.kpi_summary(aconn, store=store, first=first, last=last, compare=kpis.Comparison.NONE)
    assert s.value(Kpi.REVENUE).value == pytest.approx(float(want))
    assert s.value(Kpi.ITEMS).value == sum(1 for r in rows if r["Item"] != "NONE")

    again = import_csv(aconn, breadbasket, mapping)
    assert (again.saved.created, again.saved.updated, again.saved.unchanged) == (0, 0, 9531)


BROKEN = """receipt,when,till,total,refund,loyalty
r1,2026-06-01T10:00:00+03:00,1,10.00,no,yes
r2,2026-06-01T25:61:00+03:00,1,5.00,no,no
r3,2026-06-01T10:05:00+03:00,1,12.50,no,no
r4,2026-06-01T10:06:00+03:00,1,twelve,no,no
r5,2026-06-01T10:07:00+03:00,1
,2026-06-01T10:08:00+03:00,1,3.00,no,no
r7,2026-06-01T10:09:00+03:00,1,4.00,perhaps,no
r8,2026-06-01T10:10:00,1,4.00,yes,no
"""


def test_csv_with_broken_rows_reports_each_by_line_and_column_and_imports_the_rest(
    aconn: psycopg.Connection, tmp_path: Path
) -> None:
    add_store(aconn, "riga-01")
    f = tmp_path / "pos.csv"
    f.write_text(BROKEN, encoding="utf-8")
    mapping = CsvMapping(
        store_id="riga-01",
        columns={
            "receipt_id": "receipt",
            "timestamp": "when",
            "register_id": "till",
            "total": "total",
            "refund": "refund",
            "loyalty": "loyalty",
        },
    )
    report = import_csv(aconn, f, mapping)
    problems = {(i.line, i.column) for i in report.issues}
    assert problems == {
        (3, "when"),  # 25:61 is not a time
        (5, "total"),  # 'twelve' is not a number
        (6, "total"),  # too few fields
        (7, "receipt"),  # empty receipt id
        (8, "refund"),  # 'perhaps' is not yes/no
    }
    assert all(str(i).startswith(f"line {i.line}") for i in report.issues)
    assert report.receipts == 3  # r1, r3 and r8 (no offset: read in the store's zone)
    rows = aconn.execute("SELECT receipt_id, ts, kind, total FROM receipts ORDER BY receipt_id").fetchall()
    assert [r["receipt_id"] for r in rows] == ["r1", "r3", "r8"]
    r8 = rows[2]
    assert r8["ts"] == datetime(2026, 6, 1, 10, 10, tzinfo=ZoneInfo("Europe/Riga"))
    assert (r8["kind"], r8["total"]) == ("refund", Decimal("-4.00"))


def test_cli_import_with_column_flags_exits_2_and_names_the_bad_lines(
    aconn: psycopg.Connection, tmp_path: Path, db, monkeypatch: pytest.MonkeyPatch
) -> None:
    from footfall.cli import app
    from footfall.core.settings import get_settings

    add_store(aconn, "riga-01")
    f = tmp_path / "pos.csv"
    f.write_text(BROKEN, encoding="utf-8")
    monkeypatch.setenv("FOOTFALL_DB__URL", db.url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            [
                "receipts",
                "import",
                str(f),
                "--store",
                "riga-01",
                "--column",
                "receipt_id=receipt",
                "--column",
                "timestamp=when",
                "--column",
                "total=total",
                "--column",
                "refund=refund",
            ],
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert "line 3" in result.output
    assert "'when'" in result.output
    assert "3 receipts (3 new" in result.output.replace("\n", " ")


def test_poslog_sale_return_void_and_loyalty_through_the_api(api: Api) -> None:
    add_store(api.conn, "riga-01")
    headers = api.as_role(Role.MANAGER, ["riga-01"])
    body = (DATA / "poslog_sample.xml").read_bytes()
    r = api.client.post("/v1/receipts/poslog", content=body, headers={**headers, "Content-Type": "application/xml"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["created"], out["skipped_non_retail"]) == (3, 1)
    assert [(i["transaction"], "EndDateTime" in i["message"]) for i in out["issues"]] == [(5, True)]
    rows = {
        r["receipt_id"]: r
        for r in api.conn.execute("SELECT receipt_id, kind, voided, total, items, loyalty, register_id FROM receipts")
    }
    sale, ret, void = rows["3-1001-2026-06-01"], rows["3-1002-2026-06-01"], rows["W4-2026-06-01-77"]
    assert (sale["kind"], sale["total"], sale["items"], sale["loyalty"], sale["register_id"]) == (
        "sale",
        Decimal("10.50"),
        Decimal("3"),
        True,
        "3",
    )
    assert (ret["kind"], ret["total"], ret["items"]) == ("refund", Decimal("-3.00"), Decimal("-1"))
    assert void["voided"]
    lines = api.conn.execute(
        "SELECT description, category, quantity, amount, is_return FROM receipt_lines ORDER BY receipt_id, line_no"
    ).fetchall()
    assert [(ln["description"], ln["amount"], ln["is_return"]) for ln in lines[:3]] == [
        ("Rye loaf", Decimal("6.00"), False),
        ("Latte", Decimal("4.50"), False),  # quantity × price when no ExtendedAmount
        ("Rye loaf", Decimal("-3.00"), True),
    ]
    s = kpis.kpi_summary(
        api.conn, store=kpis.store_info(api.conn, "riga-01"), first=date(2026, 6, 1), last=date(2026, 6, 1)
    )
    v = {x.kpi: x.value for x in s.values}
    assert (v[Kpi.TRANSACTIONS], v[Kpi.REFUNDS], v[Kpi.VOIDS], v[Kpi.REVENUE]) == (1, 1, 1, pytest.approx(7.5))
    assert v[Kpi.LOYALTY_ACTIVATION] == 1.0
    again = api.client.post("/v1/receipts/poslog", content=body, headers={**headers, "Content-Type": "text/xml"})
    assert again.json()["unchanged"] == 3


@pytest.mark.parametrize(
    ("body", "ctype", "status"),
    [
        (b"<POSLog><Transaction>", "application/xml", 422),  # not well-formed
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><POSLog>&a;</POSLog>', "application/xml", 422),  # entities refused
        (b"{}", "application/json", 415),  # wrong media type
    ],
)
def test_bad_poslog_documents_are_refused_as_problems(api: Api, body: bytes, ctype: str, status: int) -> None:
    headers = api.as_role(Role.ADMIN)
    r = api.client.post("/v1/receipts/poslog", content=body, headers={**headers, "Content-Type": ctype})
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"


def test_json_receipts_are_idempotent_and_refuse_other_stores_whole(api: Api) -> None:
    add_store(api.conn, "a")
    add_store(api.conn, "b")
    headers = api.as_role(Role.MANAGER, ["a"])
    batch = {
        "receipts": [
            {"receipt_id": "1", "store_id": "a", "ts": "2026-06-01T10:00:00+03:00", "total": "9.99", "items": 1},
            {
                "receipt_id": "2",
                "store_id": "a",
                "ts": "2026-06-01T10:01:00+03:00",
                "lines": [{"description": "tea", "quantity": 2, "unit_price": "1.50"}],
            },
        ]
    }
    assert api.client.post("/v1/receipts", json=batch, headers=headers).json() == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 0,
        "conflicts": [],
    }
    assert api.client.post("/v1/receipts", json=batch, headers=headers).json()["unchanged"] == 2
    batch["receipts"][0]["voided"] = True
    assert api.client.post("/v1/receipts", json=batch, headers=headers).json() == {
        "created": 0,
        "updated": 1,  # a later resend replaces
        "unchanged": 1,
        "duplicates": 0,
        "conflicts": [],
    }
    other = {"receipts": [{**batch["receipts"][1], "receipt_id": "x"}, {**batch["receipts"][1], "store_id": "b"}]}
    r = api.client.post("/v1/receipts", json=other, headers=headers)
    assert r.status_code == 404
    assert api.conn.execute("SELECT count(*) AS n FROM receipts").fetchone()["n"] == 2  # nothing of it saved
    bad = {"receipts": [{"receipt_id": "z", "store_id": "a", "ts": "2026-06-01T10:00:00"}]}
    r = api.client.post("/v1/receipts", json=bad, headers=headers)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert {tuple(e["loc"][:3]) for e in r.json()["errors"]} == {("body", "receipts", 0)}
