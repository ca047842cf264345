"""A day that is not over yet, money and counts as the API sends them, receipts-only stores.

The app runs on a `ManualClock` fixed mid-day, so "today" is the test's today.
"""

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool

from footfall.api.access import Role
from footfall.api.app import create_app
from footfall.core.clock import ManualClock
from footfall.core.settings import DbSettings, Settings
from footfall.core.storeconfig import StoreConfig
from footfall.db.stores import apply_store
from tests.integration.api.conftest import Api, add_door_minutes, add_receipts, add_store, receipt

RIGA = ZoneInfo("Europe/Riga")
OPEN_9_21 = {d: ["09:00", "21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
TODAY = date(2026, 6, 10)  # a Wednesday
LAST_WEEK = TODAY - timedelta(days=7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=RIGA)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at(TODAY, 14, 37))


@pytest.fixture
def mapi(
    settings: Settings, db: DbSettings, pool: ConnectionPool, aconn: psycopg.Connection, clock: ManualClock
) -> Iterator[Api]:
    s = settings.model_copy(update={"db": db})
    with TestClient(create_app(s, pool=pool, clock=clock)) as client:
        yield Api(client=client, conn=aconn, settings=s)


def open_day_counts(conn: psycopg.Connection, day: date, until: tuple[int, int] = (21, 0), entries: int = 2) -> None:
    minutes = (until[0] - 9) * 60 + until[1]
    add_door_minutes(conn, "m", at(day, 9), minutes, entries=entries)


def get(api: Api, path: str, **params: object) -> dict:
    r = api.client.get(path, params=params, headers=api.as_role(Role.ADMIN, name=f"admin{len(api.users)}"))
    assert r.status_code == 200, r.text
    return r.json()


def test_today_so_far_is_compared_with_the_same_elapsed_part_of_last_week(mapi: Api) -> None:
    add_store(mapi.conn, "m", opening_hours=OPEN_9_21)
    open_day_counts(mapi.conn, LAST_WEEK)  # the whole day: 1440 visitors
    open_day_counts(mapi.conn, TODAY, until=(14, 37))  # so far
    add_receipts(mapi.conn, *(receipt("m", f"w{i}", at(LAST_WEEK, 10 + i % 4, i)) for i in range(10)))
    add_receipts(mapi.conn, *(receipt("m", f"wl{i}", at(LAST_WEEK, 18, i)) for i in range(10)))  # later that day
    add_receipts(mapi.conn, *(receipt("m", f"t{i}", at(TODAY, 10 + i % 4, i)) for i in range(10)))
    body = get(mapi, "/v1/stores/m/kpis/summary", first=TODAY, last=TODAY, compare="same_weekday_last_week")
    v = {d["kpi"]: d for d in body["data"]}
    assert body["running"] is True
    assert datetime.fromisoformat(body["as_of"]) == at(TODAY, 14, 30)
    assert datetime.fromisoformat(body["comparison_as_of"]) == at(LAST_WEEK, 14, 30)
    # 09:00–14:30 on both days: flat, not −54 %
    assert (v["visitors"]["value"], v["visitors"]["comparison"], v["visitors"]["change"]) == (660, 660, 0)
    assert (v["transactions"]["value"], v["transactions"]["comparison"]) == (10, 10)
    # coverage is judged on elapsed opening time: today's conversion is known
    assert body["quality"]["door_coverage"] == 1.0
    assert "door_data_incomplete" not in body["quality"]["flags"]
    assert v["conversion"]["value"] == pytest.approx(10 / 660)
    # a past day is not running and is counted whole
    past = get(mapi, "/v1/stores/m/kpis/summary", first=LAST_WEEK, last=LAST_WEEK, compare="none")
    assert past["running"] is False
    assert past["as_of"] is None
    assert {d["kpi"]: d["value"] for d in past["data"]}["visitors"] == 1440


def test_todays_series_row_judges_coverage_on_elapsed_opening_time(mapi: Api) -> None:
    add_store(mapi.conn, "m", opening_hours=OPEN_9_21)
    open_day_counts(mapi.conn, TODAY, until=(14, 37))
    add_receipts(mapi.conn, receipt("m", "t1", at(TODAY, 11)))
    row = get(mapi, "/v1/stores/m/kpis/series", first=TODAY, last=TODAY, interval="day")["data"][0]
    assert row["quality"]["door_coverage"] == 1.0
    assert row["conversion"] is not None  # was always null: future hours counted as missing


def test_traffic_by_hour_averages_each_hour_over_the_days_it_has_happened(mapi: Api) -> None:
    add_store(mapi.conn, "m", opening_hours=OPEN_9_21)
    for d in range(7):
        open_day_counts(mapi.conn, LAST_WEEK + timedelta(days=d), entries=1)
    open_day_counts(mapi.conn, TODAY, until=(14, 37), entries=1)
    body = get(mapi, "/v1/stores/m/kpis/traffic-by-hour", first=LAST_WEEK, last=TODAY)
    h = {r["hour"]: r for r in body["data"]}
    assert (h[20]["days"], h[20]["avg_entries_per_day"]) == (7, 60.0)  # not 7 × 60 / 8
    assert (h[13]["days"], h[13]["avg_entries_per_day"]) == (8, 60.0)  # over today too
    assert (h[14]["days"], h[14]["entries"]) == (7, 7 * 60)  # the running hour waits until it ends
    assert isinstance(h[13]["entries"], int)
    assert h[13]["revenue"] == "0.00"


def test_plan_vs_fact_on_the_first_of_the_month_counts_today_so_far(mapi: Api, clock: ManualClock) -> None:
    first = date(2026, 7, 1)
    clock.set(at(first, 15))
    add_store(mapi.conn, "m", opening_hours=OPEN_9_21)
    mapi.conn.execute("INSERT INTO plans (store_id, month, revenue_target) VALUES ('m', '2026-07-01', 3100)")
    add_receipts(mapi.conn, receipt("m", "p1", at(first, 10), "100.00"))
    body = get(mapi, "/v1/stores/m/plan-vs-fact", month="2026-07")
    assert (body["as_of"], body["days_passed"], body["days_left"]) == ("2026-07-01", 1, 30)
    assert body["days_elapsed"] == pytest.approx(0.5)  # 15:00 is half of 09–21
    assert body["revenue_fact"] == "100.00"
    assert body["pace"] == pytest.approx(2.0)  # 100 against 3100 × 0.5 / 31 = 50
    assert body["projection"] == "6200.00"
    assert datetime.fromisoformat(body["as_of_time"]) == at(first, 15)


@pytest.mark.parametrize(
    ("currency", "now_total", "then_total", "value", "change"),
    [
        ("EUR", "1234.56", "951.16", "1234.56", "283.40"),  # float noise would be 283.39999999999986
        ("JPY", "1235", "951", "1235", "284"),  # no minor unit
        ("KWD", "10.12", "5.00", "10.120", "5.120"),  # three digits
    ],
)
def test_money_is_a_decimal_string_in_minor_units_and_counts_are_integers(
    mapi: Api, currency: str, now_total: str, then_total: str, value: str, change: str
) -> None:
    add_store(mapi.conn, "m", currency=currency)
    add_receipts(mapi.conn, receipt("m", "a", at(LAST_WEEK, 12), now_total, items="3"))
    add_receipts(mapi.conn, receipt("m", "b", at(LAST_WEEK - timedelta(days=1), 12), then_total, items="1"))
    add_door_minutes(mapi.conn, "m", at(LAST_WEEK, 9), 60, entries=3)
    body = get(mapi, "/v1/stores/m/kpis/summary", first=LAST_WEEK, last=LAST_WEEK, compare="previous_period")
    v = {d["kpi"]: d for d in body["data"]}
    assert v["revenue"]["change"] == change
    assert v["revenue"]["value"] == value
    for k in ("visitors", "entries", "transactions", "items"):
        assert isinstance(v[k]["value"], int), k
    headers = {**mapi.as_role(Role.ADMIN, name="csv"), "Accept": "text/csv"}
    r = mapi.client.get("/v1/stores/m/kpis/series", params={"first": LAST_WEEK, "last": LAST_WEEK}, headers=headers)
    row = next(csv.DictReader(io.StringIO(r.text)))
    assert (row["date"], row["visitors"], row["transactions"], row["revenue"]) == (
        LAST_WEEK.isoformat(),
        "180",
        "1",
        value,
    )


def test_a_receipts_only_store_applies_without_doors_and_has_null_visitors(mapi: Api) -> None:
    cfg = StoreConfig.from_data({"store": {"id": "pos-only", "name": "Franchise", "timezone": "Europe/Riga"}})
    apply_store(mapi.conn, cfg)
    add_receipts(mapi.conn, receipt("pos-only", "r1", at(LAST_WEEK, 12), "25.00"))
    body = get(mapi, "/v1/stores/pos-only/kpis/summary", first=LAST_WEEK, last=LAST_WEEK, compare="none")
    v = {d["kpi"]: d["value"] for d in body["data"]}
    assert (v["visitors"], v["conversion"], v["transactions"], v["revenue"]) == (None, None, 1, "25.00")
    assert body["quality"]["flags"] == ["no_customer_doors"]  # not door_data_incomplete
