"""A real stream through the real broker into the real database: each valid message
written once, duplicates dropped, every malformed message dead-lettered with its reason."""

import hashlib
import random
from collections import Counter

import pytest

from footfall.core import messages
from footfall.core.settings import DbSettings, MqttSettings
from footfall.db.connect import connect
from footfall.ingest.worker import IngestWorker
from tests.ingest_support import (
    COUNTERS,
    EDGE,
    OTHER_STORE,
    STORE,
    Publisher,
    Sent,
    count_rows,
    counts,
    door_count_keys,
    expected_door_counts,
    heartbeat,
    heatmap,
    occupancy,
    payload_json,
    status,
    topic_for,
    tracks,
    wait_until,
    zones,
)
from tests.integration.ingest.conftest import make_settings


def _malformed(prefix: str, i: int) -> list[tuple[str, Sent]]:
    """Ten kinds of bad input, one message each, distinct bytes."""
    good = counts(COUNTERS[0], 100_000 + i)
    body = good.model_dump(mode="json", by_alias=True)
    t = topic_for(good, prefix)
    return [
        ("malformed_json", Sent(t, b'{"schema": 1, "device_id": ' + str(i).encode())),
        ("schema_version", Sent(t, payload_json({**body, "schema": 2}))),
        (
            "invalid_payload",
            Sent(t, payload_json({**body, "readings": [{**body["readings"][0], "end": body["readings"][0]["start"]}]})),
        ),
        (
            "unknown_device",
            Sent(f"{prefix}/v1/{STORE}/ghost-{i}/counts", payload_json({**body, "device_id": f"ghost-{i}"})),
        ),
        ("wrong_store", Sent(f"{prefix}/v1/{OTHER_STORE}/{COUNTERS[0]}/counts", good.to_json())),
        ("kind_not_allowed", Sent(f"{prefix}/v1/{STORE}/{COUNTERS[0]}/heatmap", heatmap(i).to_json())),
        ("device_mismatch", Sent(t, payload_json({**body, "device_id": COUNTERS[1]}))),
        ("unknown_door", Sent(t, counts(COUNTERS[0], 100_000 + i, door="side").to_json())),
        ("too_large", Sent(t, payload_json({**body, "pad": "x" * 5000}))),
        ("bad_topic", Sent(f"{prefix}/v1/{STORE}/{COUNTERS[0]}/weather", good.to_json())),
    ]


def test_ten_thousand_messages_with_duplicates_and_malformed_are_written_exactly_once(
    stores_db: DbSettings, mqtt_settings: MqttSettings, mqtt_prefix: str
) -> None:
    rng = random.Random(7)
    valid: list[messages.AnyMessage] = [counts(d, s) for d in COUNTERS for s in range(4000)]
    valid += [occupancy(s) for s in range(300)] + [heatmap(s) for s in range(300)] + [tracks(s) for s in range(200)]
    valid += [zones(s) for s in range(300)] + [heartbeat(s) for s in range(250)] + [status(s) for s in range(50)]
    stream = [Sent(topic_for(x, mqtt_prefix), x.to_json()) for x in valid]
    rng.shuffle(stream)
    bad = [pair for i in range(10) for pair in _malformed(mqtt_prefix, i)]
    for _, sent in bad:
        stream.insert(rng.randrange(len(stream) + 1), sent)
    duplicated = rng.sample(range(len(valid)), 500)
    for k in duplicated:
        original = next(i for i, s in enumerate(stream) if s.payload == valid[k].to_json())
        stream.insert(rng.randrange(original + 1, len(stream) + 1), stream[original])
    assert len(stream) == 10_000

    settings = make_settings(stores_db, mqtt_settings, mqtt_prefix, max_payload_bytes=4096)
    worker = IngestWorker(settings)
    worker.start()
    pub = Publisher(mqtt_settings.host, mqtt_settings.port, client_id=f"{mqtt_prefix}-pub")
    try:
        # Keep the backlog well under what a default Mosquitto queues per client (1,000 + in flight).
        pub.publish_all(
            stream,
            chunk=500,
            between=lambda n: wait_until(lambda: worker.stats.acked >= n - 2000, 60, "the worker to keep up"),
        )
        wait_until(lambda: worker.stats.acked == 10_000, 60, "every message acknowledged")
    finally:
        pub.close()
        worker.stop()
    assert worker.error is None

    with connect(stores_db) as conn:
        assert door_count_keys(conn) == expected_door_counts(x for x in valid if isinstance(x, messages.CountsMessage))
        assert count_rows(conn, "occupancy") == 600  # store + one zone per message
        assert count_rows(conn, "heatmap_cells") == 900
        assert count_rows(conn, "tracks") == 400
        assert count_rows(conn, "zone_visits") == 300
        assert count_rows(conn, "heartbeats") == 250
        st = conn.execute("SELECT device_id, state, seq FROM device_status").fetchall()
        assert [(r["device_id"], r["seq"]) for r in st] == [(EDGE, 49)]
        # The rollup saw every reading exactly once: duplicates never reached it.
        total = conn.execute("SELECT sum(entries) AS e, sum(readings) AS n FROM door_counts_15m").fetchone()
        want = [r for x in valid if isinstance(x, messages.CountsMessage) for r in x.readings]
        assert (total["e"], total["n"]) == (sum(r.entries for r in want), len(want))
        letters = conn.execute(
            "SELECT topic, reason_code, reason, payload, payload_size, payload_sha256 FROM dead_letters"
        ).fetchall()
    assert Counter(r["reason_code"] for r in letters) == Counter({code: 10 for code, _ in _malformed(mqtt_prefix, 0)})
    by_digest = {(s.topic, hashlib.sha256(s.payload).digest()): code for code, s in bad}
    assert {(r["topic"], bytes(r["payload_sha256"])): r["reason_code"] for r in letters} == by_digest
    assert all(r["reason"] for r in letters)
    big = next(r for r in letters if r["reason_code"] == "too_large")
    assert big["payload_size"] > 4096
    assert len(big["payload"]) <= settings.ingest.dead_letter_keep_bytes

    dup_rows = sum(
        len(valid[k].readings)
        if not isinstance(valid[k], messages.HeatmapMessage | messages.TracksMessage | messages.StatusMessage)
        else 0
        for k in duplicated
    )
    dup_rows += sum(
        len(valid[k].readings[0].cells) for k in duplicated if isinstance(valid[k], messages.HeatmapMessage)
    )
    dup_rows += sum(
        len(valid[k].readings[0].tracks) for k in duplicated if isinstance(valid[k], messages.TracksMessage)
    )
    dup_rows += sum(1 for k in duplicated if isinstance(valid[k], messages.StatusMessage))
    assert worker.stats.duplicate_rows >= dup_rows  # status rows older than the newest also count as duplicates
    assert worker.stats.dead_letters == 100
    assert worker.stats.received == 10_000


@pytest.mark.parametrize(
    "state_sequence",
    [
        [(1, "online"), (2, "offline")],  # in order: the newest wins
        [(2, "offline"), (1, "online")],  # an older status arriving late changes nothing
    ],
)
def test_device_status_keeps_the_newest_by_seq(
    worker: IngestWorker,
    mqtt_settings: MqttSettings,
    mqtt_prefix: str,
    stores_db: DbSettings,
    state_sequence: list[tuple[int, str]],
) -> None:
    pub = Publisher(mqtt_settings.host, mqtt_settings.port, client_id=f"{mqtt_prefix}-pub")
    try:
        for seq, state in state_sequence:
            msg = status(seq, state)
            pub.publish(topic_for(msg, mqtt_prefix), msg.to_json())
            pub.wait()
            wait_until(lambda: worker.stats.acked >= pub.published, 20, "status committed")
    finally:
        pub.close()
    with connect(stores_db) as conn:
        row = conn.execute("SELECT state, seq FROM device_status WHERE device_id = %s", (EDGE,)).fetchone()
    assert (row["state"], row["seq"]) == ("offline", 2)
