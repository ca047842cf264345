"""An edge backlog replayed through the broker and ingest counts in the KPIs at once.

What a new user saw with `footfall demo` on TimescaleDB: yesterday +80.9 % against the
same weekday last week right after the replay, −1.8 % a minute later, once the ingest
refresher had re-materialised the replayed days. Here the history is materialised first
(as the refresh policy would have), the backlog of a counter that was offline arrives
over MQTT, and the KPI layer is asked the moment ingest has acknowledged it.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg

from footfall.api import kpis as k
from footfall.api.kpis import Comparison, Kpi
from footfall.core import messages as m
from footfall.core.settings import DbSettings, MqttSettings
from footfall.db.connect import connect
from footfall.db.migrate import Flavour
from footfall.ingest.refresh import AGGREGATES, RollupRefresher
from footfall.ingest.worker import IngestWorker
from tests.ingest_support import COUNTERS, STORE, Publisher, Sent, topic_for, wait_until
from tests.integration.api.conftest import add_door_minutes
from tests.integration.conftest import TIMESCALE_ONLY
from tests.integration.ingest.conftest import make_settings

RIGA = ZoneInfo("Europe/Riga")
YESTERDAY = date(2026, 6, 9)
LAST_WEEK = YESTERDAY - timedelta(days=7)


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=RIGA).astimezone(UTC)


def backlog(device: str, door: str, start: datetime, minutes: int, *, per_message: int = 60) -> list[m.CountsMessage]:
    """What an edge box replays after an outage: per-minute readings, batched into messages."""
    out = []
    for seq, first in enumerate(range(0, minutes, per_message), start=1000):
        rs = [
            m.CountsReading(
                start=start + timedelta(minutes=i),
                end=start + timedelta(minutes=i + 1),
                door_id=door,
                entries=3,
                exits=2,
            )
            for i in range(first, min(first + per_message, minutes))
        ]
        out.append(m.CountsMessage(device_id=device, seq=seq, sent_at=rs[-1].end, readings=rs))
    return out


def visitors(conn: psycopg.Connection) -> tuple[float | None, float | None]:
    s = k.kpi_summary(
        conn,
        store=k.store_info(conn, STORE),
        first=YESTERDAY,
        last=YESTERDAY,
        compare=Comparison.SAME_WEEKDAY_LAST_WEEK,
    )
    v = s.value(Kpi.VISITORS)
    return v.value, v.ratio


def test_replayed_backlog_counts_in_the_kpis_as_soon_as_ingest_acknowledges_it(
    stores_db: DbSettings, mqtt_settings: MqttSettings, mqtt_prefix: str, flavour: Flavour
) -> None:
    with connect(stores_db, autocommit=True) as conn:
        # Both doors counted all of last week's day; the main door also yesterday morning.
        for door, device in (("main", COUNTERS[0]), ("side", COUNTERS[1])):
            add_door_minutes(conn, STORE, day_start(LAST_WEEK), 1440, door=door, device=device, entries=1)
        add_door_minutes(conn, STORE, day_start(YESTERDAY), 720, door="main", device=COUNTERS[0], entries=1)
        add_door_minutes(conn, STORE, day_start(YESTERDAY), 1440, door="side", device=COUNTERS[1], entries=1)
        if flavour is Flavour.TIMESCALE:
            for name, _ in AGGREGATES:  # what the refresh policy does every few minutes
                conn.execute("CALL refresh_continuous_aggregate(%s::regclass, NULL, NULL)", (name,))
        assert visitors(conn) == (2160, 2160 / 2880 - 1)

    # The main door's counter was offline from noon; its edge box replays the afternoon.
    msgs = backlog(COUNTERS[0], "main", day_start(YESTERDAY) + timedelta(hours=12), 720)
    worker = IngestWorker(make_settings(stores_db, mqtt_settings, mqtt_prefix))
    pub = Publisher(mqtt_settings.host, mqtt_settings.port, client_id=f"{mqtt_prefix}-pub")
    with connect(stores_db) as hold:
        if flavour is Flavour.TIMESCALE:
            # Ingest's refresher re-materialises late hours within a second of the commit;
            # hold every refresh back (it must update the invalidation threshold first;
            # writers and readers only share-lock it) to ask in the window between.
            hold.execute("LOCK TABLE _timescaledb_catalog.continuous_aggs_invalidation_threshold IN EXCLUSIVE MODE")
        worker.start()
        try:
            pub.publish_all(Sent(topic_for(x, mqtt_prefix), x.to_json()) for x in msgs)
            wait_until(lambda: worker.stats.acked >= len(msgs), 60, "ingest to acknowledge the backlog")
            with connect(stores_db, autocommit=True) as conn:
                if flavour is Flavour.TIMESCALE:
                    stale = conn.execute(
                        "SELECT count(*) AS n FROM footfall_stale_windows('door_counts_1h', '1 hour', %s, %s)",
                        (day_start(YESTERDAY), day_start(YESTERDAY + timedelta(days=1))),
                    ).fetchone()["n"]
                    assert stale > 0, "the replayed hours should still wait for their refresh"
                assert visitors(conn) == (4320, 0.5)  # 1440 side + 720 morning + 720 × 3 replayed
        finally:
            hold.rollback()  # the refresh goes ahead
            pub.close()
            worker.stop()
    assert worker.stats.rows_inserted == 720
    with connect(stores_db, autocommit=True) as conn:
        assert visitors(conn) == (4320, 0.5)
        if flavour is Flavour.TIMESCALE:
            assert worker.refresher is not None
            assert worker.refresher.refreshed > 0


@TIMESCALE_ONLY
def test_a_new_worker_refreshes_what_a_killed_one_left_pending(stores_db: DbSettings) -> None:
    with connect(stores_db, autocommit=True) as conn:
        add_door_minutes(conn, STORE, day_start(YESTERDAY), 1440, door="main", device=COUNTERS[0], entries=1)
        for name, _ in AGGREGATES:
            conn.execute("CALL refresh_continuous_aggregate(%s::regclass, NULL, NULL)", (name,))
        # Committed late by a worker that died before its refresher ran.
        add_door_minutes(conn, STORE, day_start(YESTERDAY), 600, door="side", device=COUNTERS[1], entries=2)
    refresher = RollupRefresher(stores_db)
    assert refresher.catch_up() >= 1
    refresher.flush()
    with connect(stores_db, autocommit=True) as conn:
        lo, hi = day_start(YESTERDAY), day_start(YESTERDAY + timedelta(days=1))
        stale = conn.execute(
            "SELECT count(*) AS n FROM footfall_stale_windows('door_counts_1h', '1 hour', %s, %s)", (lo, hi)
        ).fetchone()["n"]
        assert stale == 0
        raw = conn.execute(
            "SELECT sum(entries) AS n FROM door_counts_1h WHERE bucket >= %s AND bucket < %s", (lo, hi)
        ).fetchone()["n"]
        assert raw == 1440 + 1200  # the aggregate itself holds them now
