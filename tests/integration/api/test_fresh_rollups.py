"""KPIs are right as soon as late rows are committed, on both storage paths.

On TimescaleDB the door rollups are continuous aggregates: a reading written below an
aggregate's watermark (an edge backlog replayed after an outage) is invisible in the
materialised bucket until a refresh. The KPI layer reads such buckets from the raw rows
(`footfall_stale_windows`, migration 0016), so the numbers do not wait for the refresh.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from footfall.api import kpis as k
from footfall.api.kpis import Comparison, Kpi
from footfall.db.migrate import Flavour
from footfall.ingest.refresh import AGGREGATES
from tests.integration.api.conftest import add_door_minutes, add_store

RIGA = ZoneInfo("Europe/Riga")
YESTERDAY = date(2026, 6, 9)
LAST_WEEK = YESTERDAY - timedelta(days=7)


def refresh_everything(conn: psycopg.Connection, flavour: Flavour) -> None:
    """Materialise every bucket (the TimescaleDB policy's job); nothing to do on the plain path."""
    if flavour is Flavour.TIMESCALE:
        for name, _ in AGGREGATES:
            conn.execute("CALL refresh_continuous_aggregate(%s::regclass, NULL, NULL)", (name,))


def stale_hours(conn: psycopg.Connection, day: date) -> int:
    """Hours of `day` the hourly door rollup does not hold right now."""
    lo = datetime(day.year, day.month, day.day, tzinfo=RIGA)
    row = conn.execute(
        "SELECT coalesce(sum(extract(epoch FROM upper(w) - lower(w))), 0) / 3600 AS h "
        "FROM footfall_stale_windows('door_counts_1h', INTERVAL '1 hour', %s, %s) AS w",
        (lo, lo + timedelta(days=1)),
    ).fetchone()
    return int(row["h"])


def visitors_vs_last_week(conn: psycopg.Connection) -> tuple[float | None, float | None]:
    s = k.kpi_summary(
        conn,
        store=k.store_info(conn, "a"),
        first=YESTERDAY,
        last=YESTERDAY,
        compare=Comparison.SAME_WEEKDAY_LAST_WEEK,
    )
    v = s.value(Kpi.VISITORS)
    return v.value, v.ratio


def hourly_entries(conn: psycopg.Connection) -> dict[int, int]:
    rows = k.traffic_by_hour(conn, store=k.store_info(conn, "a"), first=YESTERDAY, last=YESTERDAY)
    return {r.hour: r.entries for r in rows if r.entries}


@pytest.mark.parametrize(
    ("late_start_hour", "late_minutes", "late_entries"),
    [
        (12, 360, 2),  # the afternoon's backlog of a second counter, in whole hours
        (9, 7, 5),  # a few minutes inside one hour: the bucket is partly materialised already
        (0, 1440, 1),  # a whole day replayed on top: every bucket of the day goes stale
    ],
)
def test_late_rows_in_materialised_buckets_count_at_once(
    aconn: psycopg.Connection, flavour: Flavour, late_start_hour: int, late_minutes: int, late_entries: int
) -> None:
    add_store(aconn, "a")
    for day in (LAST_WEEK, YESTERDAY):
        add_door_minutes(aconn, "a", datetime(day.year, day.month, day.day, tzinfo=RIGA), 1440, entries=1)
    refresh_everything(aconn, flavour)
    assert stale_hours(aconn, YESTERDAY) == 0
    assert visitors_vs_last_week(aconn) == (1440, 0.0)

    # The backlog of a counter that was offline arrives: rows below the watermark.
    start = datetime(YESTERDAY.year, YESTERDAY.month, YESTERDAY.day, late_start_hour, tzinfo=RIGA)
    add_door_minutes(aconn, "a", start, late_minutes, entries=late_entries, device="a-late")
    late = late_minutes * late_entries
    expected_hours = {h: 60 for h in range(24)}
    for i in range(late_minutes):
        t = start + timedelta(minutes=i)
        expected_hours[t.hour] += late_entries
    if flavour is Flavour.TIMESCALE:
        assert stale_hours(aconn, YESTERDAY) > 0, "the late rows should wait for a refresh in the aggregate"

    # Asked at once: right, before any refresh.
    assert visitors_vs_last_week(aconn) == (1440 + late, pytest.approx(late / 1440))
    assert hourly_entries(aconn) == expected_hours

    # And the same after the refresh, when the aggregate holds them itself.
    refresh_everything(aconn, flavour)
    assert stale_hours(aconn, YESTERDAY) == 0
    assert visitors_vs_last_week(aconn) == (1440 + late, pytest.approx(late / 1440))
    assert hourly_entries(aconn) == expected_hours


def test_invalid_late_rows_count_as_faulty_coverage_not_visitors(aconn: psycopg.Connection, flavour: Flavour) -> None:
    add_store(aconn, "a")
    day_start = datetime(YESTERDAY.year, YESTERDAY.month, YESTERDAY.day, tzinfo=RIGA)
    add_door_minutes(aconn, "a", day_start, 1440, entries=1)
    refresh_everything(aconn, flavour)
    # A second counter's backlog for the afternoon arrives late, flagged invalid (sensor fault).
    add_door_minutes(aconn, "a", day_start + timedelta(hours=12), 720, entries=3, valid=False, device="a-late")
    if flavour is Flavour.TIMESCALE:
        assert stale_hours(aconn, YESTERDAY) == 12
    s = k.kpi_summary(aconn, store=k.store_info(aconn, "a"), first=YESTERDAY, last=YESTERDAY)
    assert s.value(Kpi.VISITORS).value == 1440
    assert s.totals.valid_s == pytest.approx(1440 * 60)
    assert s.totals.invalid_s == pytest.approx(720 * 60)
