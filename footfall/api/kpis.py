"""The KPI query layer: store-local buckets from the calendar, numbers from the rollups.

Routes, the alerts engine and the dashboard all call these functions; none of them
writes SQL of its own.
"""

from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from footfall.core.calendar import Interval, StoreCalendar
from footfall.db.errors import NotFound
from footfall.db.queries import queries


@dataclass(frozen=True, slots=True)
class TrafficRow:
    """Customer-door traffic in one store-local bucket."""

    start: datetime
    end: datetime
    local_start: datetime
    entries: int
    exits: int
    passersby: int | None
    valid_s: float
    invalid_s: float


def store_calendar(conn: psycopg.Connection, store_id: str) -> StoreCalendar:
    """The calendar of a store.

    Raises:
        NotFound: no such store.
    """
    row = conn.execute(queries("kpis")["store_timezone"], {"store_id": store_id}).fetchone()
    if row is None:
        raise NotFound(f"store {store_id!r} does not exist")
    return StoreCalendar(row["timezone"])


def traffic_series(
    conn: psycopg.Connection, *, store_id: str, first: date, last: date, interval: Interval | str
) -> list[TrafficRow]:
    """Customer-door traffic for local dates `first`..`last`, one row per bucket (empty buckets too).

    Raises:
        NotFound: no such store.
    """
    cal = store_calendar(conn, store_id)
    buckets = cal.buckets(first, last, interval)
    rows = conn.execute(
        queries("kpis")["door_traffic_buckets"],
        {"store_id": store_id, "starts": [b.start for b in buckets], "ends": [b.end for b in buckets]},
    ).fetchall()
    return [
        TrafficRow(
            start=b.start,
            end=b.end,
            local_start=b.local_start,
            entries=r["entries"],
            exits=r["exits"],
            passersby=r["passersby"],
            valid_s=r["valid_s"],
            invalid_s=r["invalid_s"],
        )
        for b, r in zip(buckets, rows, strict=True)
    ]
