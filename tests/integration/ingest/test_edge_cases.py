"""What a real deployment throws at ingest besides bad bytes: values PostgreSQL refuses,
devices registered or retired while it runs, late data on the TimescaleDB path."""

from datetime import timedelta

import pytest

from footfall.core import messages
from footfall.core.settings import DbSettings, MqttSettings, Settings
from footfall.core.storeconfig import StoreConfig
from footfall.db.connect import connect
from footfall.db.stores import apply_store
from footfall.ingest.refresh import RollupRefresher
from footfall.ingest.worker import IngestWorker
from tests.ingest_support import (
    COUNTERS,
    EDGE,
    T0,
    Publisher,
    count_rows,
    counts,
    heartbeat,
    store_config,
    topic_for,
    wait_until,
)
from tests.integration.conftest import PLAIN_ONLY


def _publish(mqtt: MqttSettings, prefix: str, items: list[tuple[str, bytes]], worker: IngestWorker) -> None:
    pub = Publisher(mqtt.host, mqtt.port, client_id=f"{prefix}-pub")
    try:
        for topic, payload in items:
            pub.publish(topic, payload)
        pub.wait()
        wait_until(lambda: worker.stats.acked >= worker.stats.received >= pub.published, 30, "acknowledged")
    finally:
        pub.close()


def _huge_queue(seq: int) -> messages.HeartbeatMessage:
    hb = heartbeat(seq)
    return hb.model_copy(update={"readings": [hb.readings[0].model_copy(update={"queue_depth": 2**40})]})


def _nul_version(seq: int) -> messages.HeartbeatMessage:
    hb = heartbeat(seq)
    return hb.model_copy(update={"readings": [hb.readings[0].model_copy(update={"agent_version": "v1\x00"})]})


@pytest.mark.parametrize(
    "poison",
    [
        _huge_queue,  # valid by the contract, out of range for the integer column
        _nul_version,  # a NUL character, which jsonb cannot store
    ],
)
def test_a_message_the_database_refuses_is_dead_lettered_and_the_rest_of_its_batch_written(
    worker: IngestWorker, mqtt_settings: MqttSettings, mqtt_prefix: str, stores_db: DbSettings, poison
) -> None:
    good = [heartbeat(s) for s in range(1, 40)]
    bad = poison(100)
    items = [(topic_for(x, mqtt_prefix), x.to_json()) for x in good]
    items.insert(17, (topic_for(bad, mqtt_prefix), bad.to_json()))
    _publish(mqtt_settings, mqtt_prefix, items, worker)
    with connect(stores_db) as conn:
        assert count_rows(conn, "heartbeats") == 39
        letters = conn.execute("SELECT reason_code, reason, device_id FROM dead_letters").fetchall()
    assert [(r["reason_code"], r["device_id"]) for r in letters] == [("db_rejected", EDGE)]
    assert "database refused" in letters[0]["reason"]


def test_a_device_registered_while_running_is_accepted_and_a_retired_one_refused(
    stores_db: DbSettings, mqtt_settings: MqttSettings, mqtt_prefix: str, ingest_settings: Settings
) -> None:
    worker = IngestWorker(ingest_settings)
    worker.start()
    try:
        cfg = store_config().model_dump(mode="json")
        cfg["doors"].append({"id": "back"})
        cfg["devices"].append({"id": "s1-new", "kind": "counter_mqtt", "doors": ["back"]})
        cfg["devices"] = [d for d in cfg["devices"] if d["id"] != COUNTERS[1]]
        with connect(stores_db) as conn:
            apply_store(conn, StoreConfig.from_data(cfg))
            conn.commit()
        worker.registry.ttl_s = 0  # a deactivation is seen at the next reload
        new = counts("s1-new", 1, door="back")
        retired = counts(COUNTERS[1], 1)
        _publish(
            mqtt_settings,
            mqtt_prefix,
            [(topic_for(new, mqtt_prefix), new.to_json()), (topic_for(retired, mqtt_prefix), retired.to_json())],
            worker,
        )
    finally:
        worker.stop()
    with connect(stores_db) as conn:
        assert {r["device_id"] for r in conn.execute("SELECT DISTINCT device_id FROM door_counts")} == {"s1-new"}
        codes = [r["reason_code"] for r in conn.execute("SELECT reason_code FROM dead_letters")]
    assert codes == ["inactive_device"]


_STUB = """
CREATE TABLE refresh_calls (n serial, name text, lo timestamptz, hi timestamptz);
CREATE PROCEDURE refresh_continuous_aggregate(agg regclass, lo timestamptz, hi timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO refresh_calls (name, lo, hi) VALUES (agg::text, lo, hi);
    COMMIT;  -- fails inside a transaction block, as TimescaleDB's procedure does
END $$;
UPDATE footfall_meta SET value = 'timescale' WHERE key = 'flavour';
"""


@PLAIN_ONLY  # a stand-in procedure on a plain database; the TimescaleDB leg runs the real one elsewhere
def test_late_counts_on_the_timescale_path_refresh_the_aggregates_outside_a_transaction(
    stores_db: DbSettings, mqtt_settings: MqttSettings, mqtt_prefix: str, ingest_settings: Settings
) -> None:
    # This server has no TimescaleDB: a stand-in procedure with the same signature records
    # the calls and, like the real one, refuses to run inside a transaction block.
    with connect(stores_db, autocommit=True) as conn:
        conn.execute(_STUB)
    worker = IngestWorker(ingest_settings)
    worker.start()
    try:
        assert worker.flavour == "timescale"
        assert worker.refresher is not None
        late = [counts(COUNTERS[0], s, minute0=s * 3, readings=3) for s in range(10)]  # 08:00-08:30 in 2026-03
        _publish(mqtt_settings, mqtt_prefix, [(topic_for(x, mqtt_prefix), x.to_json()) for x in late], worker)
        worker.refresher.stop()  # flushes what is pending
    finally:
        worker.stop()
    with connect(stores_db) as conn:
        calls = [(r["name"], r["lo"], r["hi"]) for r in conn.execute("SELECT * FROM refresh_calls ORDER BY n")]
    assert calls == [
        ("door_counts_15m", T0, T0 + timedelta(minutes=30)),
        ("door_counts_1h", T0, T0 + timedelta(hours=1)),
    ]


@PLAIN_ONLY
def test_the_refresher_is_off_on_the_plain_path(worker: IngestWorker) -> None:
    assert worker.flavour == "plain"
    assert worker.refresher is None


@PLAIN_ONLY
def test_a_failed_refresh_keeps_its_windows_for_the_next_round(stores_db: DbSettings) -> None:
    # Plain database: the procedure does not exist, so the refresh fails.
    r = RollupRefresher(stores_db)
    r.note([(T0, T0 + timedelta(minutes=1))])
    with pytest.raises(Exception, match="refresh_continuous_aggregate"):
        r.flush()
    assert r.pending == [(T0, T0 + timedelta(minutes=1))]
