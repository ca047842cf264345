"""Two workers on one shared subscription split the stream and together write it once."""

import secrets

from footfall.core.settings import DbSettings, MqttSettings
from footfall.db.connect import connect
from footfall.ingest.worker import IngestWorker
from tests.ingest_support import (
    COUNTERS,
    Publisher,
    Sent,
    counts,
    door_count_keys,
    expected_door_counts,
    topic_for,
    wait_until,
)
from tests.integration.ingest.conftest import make_settings


def test_two_workers_split_the_stream_and_write_it_exactly_once(
    stores_db: DbSettings, mqtt_settings: MqttSettings, mqtt_prefix: str
) -> None:
    settings = make_settings(stores_db, mqtt_settings, mqtt_prefix)
    workers = [IngestWorker(settings, client_id=f"test-pair-{secrets.token_hex(3)}-{i}") for i in range(2)]
    for w in workers:
        w.start()
    msgs = [counts(COUNTERS[i % 2], i // 2, readings=5) for i in range(4000)]
    pub = Publisher(mqtt_settings.host, mqtt_settings.port, client_id=f"{mqtt_prefix}-pub")
    try:
        pub.publish_all(
            (Sent(topic_for(x, mqtt_prefix), x.to_json()) for x in msgs),
            between=lambda n: wait_until(lambda: sum(w.stats.acked for w in workers) >= n - 2000, 60, "catch-up"),
        )
        wait_until(lambda: sum(w.stats.acked for w in workers) == 4000, 60, "every message acknowledged")
    finally:
        pub.close()
        for w in workers:
            w.stop()
    received = [w.stats.received for w in workers]
    assert all(n > 500 for n in received), f"the broker did not share the stream: {received}"
    assert sum(received) == 4000
    assert sum(w.stats.rows_inserted for w in workers) == 20_000
    assert sum(w.stats.duplicate_rows for w in workers) == 0
    with connect(stores_db) as conn:
        assert door_count_keys(conn) == expected_door_counts(msgs)
