"""The API surface a manager touches: CSV wherever the answer is a table (406 elsewhere),
unknown query parameters refused, and /docs that needs no internet."""

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from footfall.api.access import Role
from tests.integration.api.conftest import Api, add_door_minutes, add_receipts, add_store, receipt

RIGA = ZoneInfo("Europe/Riga")
DAY = date(2026, 6, 3)
PERIOD = {"first": DAY.isoformat(), "last": DAY.isoformat()}


def seed(api: Api) -> dict[str, str]:
    add_store(api.conn, "a")
    add_store(api.conn, "b", doors=())  # receipts only
    add_door_minutes(api.conn, "a", datetime(2026, 6, 3, 9, tzinfo=RIGA), 60, entries=2)
    add_receipts(api.conn, receipt("a", "1", datetime(2026, 6, 3, 10, tzinfo=RIGA), "12.50"))
    add_receipts(api.conn, receipt("b", "1", datetime(2026, 6, 3, 10, tzinfo=RIGA), "7.25"))
    api.conn.execute("INSERT INTO plans (store_id, month, revenue_target) VALUES ('a', '2026-06-01', 3000)")
    return api.as_role(Role.ADMIN)


@pytest.mark.parametrize(
    ("path", "params", "columns"),
    [
        ("/v1/stores/a/plan-vs-fact", {"month": "2026-06", "as_of": "2026-06-03"}, {"revenue_fact": "12.50"}),
        (
            "/v1/stores/a/kpis/revenue-change",
            {**PERIOD, "compare": "previous_period"},
            {"revenue": "12.50", "comparison_revenue": "0.00"},
        ),
        ("/v1/stores/a/kpis/summary", PERIOD, {"kpi": "visitors", "value": "120"}),
    ],
)
def test_per_store_tables_answer_csv(api: Api, path: str, params: dict[str, str], columns: dict[str, str]) -> None:
    headers = seed(api)
    r = api.client.get(path, params=params, headers={**headers, "Accept": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    row = next(csv.DictReader(io.StringIO(r.text)))
    assert {k: row[k] for k in columns} == columns


def test_portfolio_csv_has_one_column_per_number_and_a_roll_up_row(api: Api) -> None:
    headers = seed(api)
    r = api.client.get("/v1/kpis/stores", params=PERIOD, headers={**headers, "Accept": "text/csv"})
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text)))
    header = r.text.splitlines()[0].split(",")
    assert len(header) == len(set(header))
    assert not any(c.endswith(".kpi") for c in header)  # no `kpis.visitors.kpi,visitors` pairs
    assert [x["store_id"] for x in rows] == ["a", "b", "*"]
    assert (rows[0]["visitors"], rows[1]["visitors"]) == ("120", "")  # b has no counter: empty, not 0
    assert rows[2]["revenue"] == "19.75"  # the roll-up row
    assert rows[2]["transactions"] == "2"


@pytest.mark.parametrize(
    ("path", "accept", "status"),
    [
        ("/v1/stores/a/kpis/summary", "text/csv", 200),  # a table
        ("/v1/users/me", "text/csv", 406),  # not a table
        ("/v1/users/me", "application/json", 200),
        ("/v1/users/me", "text/csv, application/json;q=0.5", 200),  # JSON still acceptable
        ("/v1/users/me", "*/*", 200),
        ("/v1/stores/a/kpis/summary", "image/png", 406),
    ],
)
def test_formats_that_cannot_be_given_are_406(api: Api, path: str, accept: str, status: int) -> None:
    headers = seed(api)
    r = api.client.get(path, params=PERIOD if "kpis" in path else None, headers={**headers, "Accept": accept})
    assert r.status_code == status, r.text
    if status == 406:
        assert r.headers["content-type"] == "application/problem+json"


def test_unknown_query_parameters_are_refused_by_name(api: Api) -> None:
    headers = seed(api)
    r = api.client.get("/v1/stores/a/kpis/summary", params={**PERIOD, "zone": "bakery"}, headers=headers)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["errors"][0]["loc"] == ["query", "zone"]
    assert "zone" in body["detail"]
    assert "first" in body["detail"]  # names what the endpoint takes


def test_docs_load_without_a_cdn(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert "unpkg" not in page.text.lower()
    js = next(part.split('"')[0] for part in page.text.split('src="')[1:] if ".js" in part.split('"')[0])
    assert api.client.get(js).status_code == 200
