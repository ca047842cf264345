"""Random bytes, random JSON, mutated messages and random topics through the real broker:
the consumer never crashes and every message ends up written or dead-lettered."""

import hashlib
import secrets

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from footfall.core import messages
from footfall.core.settings import DbSettings, MqttSettings
from footfall.db.connect import connect
from footfall.ingest.triage import Accepted, Rejected
from footfall.ingest.worker import IngestWorker
from footfall.ingest.writer import WriteResult
from tests.fuzz_ingest import inputs
from tests.ingest_support import Publisher, wait_until
from tests.integration.ingest.conftest import make_settings


def _written(conn: psycopg.Connection, msg: messages.AnyMessage) -> bool:
    """Whether every row the message stands for is in its table (natural keys)."""
    d = msg.device_id
    one = lambda q, *a: conn.execute(q, a).fetchone() is not None  # noqa: E731
    if isinstance(msg, messages.StatusMessage):
        return one("SELECT 1 FROM device_status WHERE device_id = %s AND seq >= %s", d, msg.seq)
    checks = []
    for r in msg.readings:
        if isinstance(r, messages.CountsReading):
            checks.append(
                one(
                    "SELECT 1 FROM door_counts WHERE device_id=%s AND door_id=%s AND start_ts=%s", d, r.door_id, r.start
                )
            )
        elif isinstance(r, messages.OccupancyReading):
            checks.append(
                one(
                    "SELECT 1 FROM occupancy WHERE device_id=%s AND zone_id=%s AND start_ts=%s",
                    d,
                    r.zone_id or "",
                    r.start,
                )
            )
        elif isinstance(r, messages.HeatmapReading):
            checks += [
                one(
                    "SELECT 1 FROM heatmap_cells WHERE device_id=%s AND floor_id=%s AND start_ts=%s AND x=%s AND y=%s",
                    d,
                    r.floor_id,
                    r.start,
                    c.x,
                    c.y,
                )
                for c in r.cells
            ]
        elif isinstance(r, messages.TracksReading):
            checks += [
                one(
                    "SELECT 1 FROM tracks WHERE device_id=%s AND floor_id=%s AND start_ts=%s AND track_no=%s",
                    d,
                    r.floor_id,
                    r.start,
                    i,
                )
                for i in range(len(r.tracks))
            ]
        elif isinstance(r, messages.ZonesReading):
            checks.append(
                one(
                    "SELECT 1 FROM zone_visits WHERE device_id=%s AND zone_id=%s AND start_ts=%s", d, r.zone_id, r.start
                )
            )
        elif isinstance(r, messages.HeartbeatReading):
            checks.append(one("SELECT 1 FROM heartbeats WHERE device_id=%s AND start_ts=%s", d, r.start))
    return all(checks)


def test_random_input_never_crashes_the_consumer_and_is_written_or_dead_lettered(
    stores_db: DbSettings, mqtt_settings: MqttSettings
) -> None:
    prefix = f"fz{secrets.token_hex(4)}"
    outcome: dict[tuple[str, bytes], str] = {}
    accepted_msgs: dict[tuple[str, bytes], messages.AnyMessage] = {}

    def on_commit(accepted: list[Accepted], rejected: list[Rejected], result: WriteResult) -> None:
        poisoned = {id(a) for a, _ in result.poison}
        for a in accepted:
            key = (a.inbound.topic, hashlib.sha256(a.inbound.payload).digest())
            outcome[key] = "dead" if id(a) in poisoned else "written"
            accepted_msgs[key] = a.message
        for r in rejected:
            outcome[(r.inbound.topic, hashlib.sha256(r.inbound.payload).digest())] = "dead"

    worker = IngestWorker(make_settings(stores_db, mqtt_settings, prefix, max_payload_bytes=2048), on_commit=on_commit)
    worker.start()
    pub = Publisher(mqtt_settings.host, mqtt_settings.port, client_id=f"{prefix}-pub")

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(items=st.lists(inputs(prefix), min_size=1, max_size=12))
    def check(items: list[tuple[str, bytes]]) -> None:
        for topic, payload in items:
            pub.publish(topic, payload)
        pub.wait(30)
        wait_until(lambda: worker.stats.acked >= pub.published, 30, "the batch to be acknowledged")
        # on_commit runs just after the acknowledgements: wait for it too (a race under load)
        keys = {(t, hashlib.sha256(p).digest()) for t, p in items}
        wait_until(lambda: keys <= outcome.keys(), 30, "on_commit for the batch")
        assert worker.alive
        assert worker.error is None
        with connect(stores_db) as conn:
            letters = {
                (r["topic"], bytes(r["payload_sha256"]))
                for r in conn.execute("SELECT topic, payload_sha256 FROM dead_letters")
            }
            for topic, payload in items:
                key = (topic, hashlib.sha256(payload).digest())
                assert key in outcome, f"never seen: {topic!r}"
                if outcome[key] == "dead":
                    assert key in letters, f"dead letter missing for {topic!r}"
                else:
                    assert _written(conn, accepted_msgs[key]), f"rows missing for {topic!r}"

    try:
        check()
    finally:
        pub.close()
        worker.stop()
    assert worker.error is None
    assert worker.stats.received == pub.published
