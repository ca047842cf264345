"""Rollups are exact (duplicates skipped, late rows counted) and hourly KPIs follow the
store's local calendar through DST changes."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from footfall.api.kpis import traffic_series
from footfall.core.calendar import Interval, StoreCalendar

RIGA = ZoneInfo("Europe/Riga")


def add_store(conn: psycopg.Connection, store_id: str, tz: str) -> None:
    conn.execute("INSERT INTO stores (store_id, name, timezone) VALUES (%s, %s, %s)", (store_id, store_id, tz))
    conn.execute(
        "INSERT INTO doors (store_id, door_id, kind) VALUES (%s, 'main', 'customer'), (%s, 'staff', 'staff')",
        (store_id, store_id),
    )


def insert_minutes(
    conn: psycopg.Connection, store_id: str, start: datetime, minutes: int, *, door: str = "main", entries: int = 1
) -> int:
    rows = [
        (store_id, "dev", door, start + timedelta(minutes=i), start + timedelta(minutes=i + 1), entries, 0, i)
        for i in range(minutes)
    ]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, seq) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            rows,
        )
    return len(rows)


@pytest.mark.parametrize(("day", "rows"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)])
def test_hourly_traffic_on_dst_days_in_riga(conn: psycopg.Connection, day: date, rows: int) -> None:
    add_store(conn, "riga", "Europe/Riga")
    start, end = StoreCalendar("Europe/Riga").day_bounds(day)
    minutes = int((end - start).total_seconds() // 60)
    insert_minutes(conn, "riga", start, minutes)
    insert_minutes(conn, "riga", start, 30, door="staff", entries=5)  # staff never count
    series = traffic_series(conn, store_id="riga", first=day, last=day, interval=Interval.HOUR)
    assert len(series) == rows
    assert all(r.entries == 60 for r in series)
    assert sum(r.entries for r in series) == minutes


def test_duplicates_do_not_count_twice_and_late_rows_land_in_their_hour(conn: psycopg.Connection) -> None:
    add_store(conn, "riga", "Europe/Riga")
    t0 = datetime(2026, 6, 1, 9, tzinfo=RIGA).astimezone(UTC)
    insert_minutes(conn, "riga", t0, 60)
    insert_minutes(conn, "riga", t0, 60)  # an edge replay: every row a duplicate
    insert_minutes(conn, "riga", t0 - timedelta(hours=5), 10)  # late data for 04:00
    series = traffic_series(conn, store_id="riga", first=date(2026, 6, 1), last=date(2026, 6, 1), interval="hour")
    by_hour = {r.local_start.hour: r.entries for r in series}
    assert by_hour[9] == 60
    assert by_hour[4] == 10
    raw = conn.execute("SELECT sum(entries) AS n FROM door_counts").fetchone()["n"]
    rolled = conn.execute("SELECT sum(entries) AS n FROM door_counts_15m").fetchone()["n"]
    assert raw == rolled == 70


def test_store_in_utc_plus_13_gets_its_own_day(conn: psycopg.Connection) -> None:
    add_store(conn, "nuku", "Pacific/Tongatapu")
    day_start = datetime(2026, 3, 29, tzinfo=ZoneInfo("Pacific/Tongatapu"))
    insert_minutes(conn, "nuku", day_start - timedelta(minutes=5), 10)  # 5 min on the 28th, 5 on the 29th
    series = traffic_series(conn, store_id="nuku", first=date(2026, 3, 28), last=date(2026, 3, 29), interval="day")
    assert [r.entries for r in series] == [5, 5]


def test_receipt_rollups_follow_voids_refunds_and_updates(conn: psycopg.Connection) -> None:
    add_store(conn, "riga", "Europe/Riga")
    ts = datetime(2026, 6, 1, 10, tzinfo=UTC)
    conn.execute(
        "INSERT INTO receipts (store_id, receipt_id, ts, kind, voided, total, items, loyalty) VALUES "
        "('riga', 'a', %(ts)s, 'sale', false, 10.00, 2, true),"
        "('riga', 'b', %(ts)s, 'refund', false, -4.00, -1, false),"
        "('riga', 'c', %(ts)s, 'sale', true, 99.00, 9, false)",
        {"ts": ts},
    )
    row = conn.execute("SELECT * FROM receipts_1h").fetchone()
    assert (row["transactions"], row["refunds"], row["voids"]) == (1, 1, 1)
    assert (float(row["revenue"]), float(row["items"]), row["loyalty_transactions"]) == (6.0, 2.0, 1)
    conn.execute("UPDATE receipts SET voided = true WHERE receipt_id = 'a'")
    conn.execute("DELETE FROM receipts WHERE receipt_id = 'b'")
    row = conn.execute("SELECT * FROM receipts_15m").fetchone()
    assert (row["transactions"], row["refunds"], row["voids"], float(row["revenue"])) == (0, 0, 2, 0.0)
