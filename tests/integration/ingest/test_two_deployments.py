"""Two deployments on one broker, both with default settings (issue 10, point 8).

Default client ids used to be `footfall-ingest-<host>`: two setups on one machine and
broker took over each other's persistent session, acknowledged (and dead-lettered as
`bad_topic`) each other's messages and kicked each other off. Now they carry the topic
prefix and the deployment's install id; a takeover, when ids are shared by hand, is
reported.
"""

import logging
import time

import pytest

from footfall.core.settings import DbSettings, MqttSettings, Settings
from footfall.db.connect import connect, scalar
from footfall.db.migrate import Flavour, migrate
from footfall.ingest.worker import IngestWorker
from tests.ingest_support import COUNTERS, Publisher, apply_stores, counts, topic_for, wait_until
from tests.integration.ingest.conftest import make_settings

SECONDS = 60.0
"""Real time both deployments publish side by side: a minute, as the issue asks (one restarts half way)."""


def _deployment(db: DbSettings, mqtt: MqttSettings, prefix: str) -> Settings:
    s = make_settings(db, mqtt, prefix)
    return s.model_copy(update={"ingest": s.ingest.model_copy(update={"client_id": None})})  # the default id


def _dead_letters(db: DbSettings) -> int:
    with connect(db) as conn:
        return int(scalar(conn, "SELECT count(*) FROM dead_letters"))


def _rows(db: DbSettings) -> int:
    with connect(db) as conn:
        return int(scalar(conn, "SELECT count(*) FROM door_counts"))


@pytest.fixture
def second_db(empty_db: DbSettings) -> DbSettings:
    migrate(empty_db, flavour=Flavour.PLAIN)
    return empty_db


def test_two_deployments_with_default_ids_on_one_broker_each_write_exactly_their_own(
    stores_db: DbSettings, second_db: DbSettings, mqtt_settings: MqttSettings, mqtt_prefix: str
) -> None:
    with connect(second_db) as conn:
        apply_stores(conn)
    dbs = {f"{mqtt_prefix}a": stores_db, f"{mqtt_prefix}b": second_db}
    workers = {p: IngestWorker(_deployment(db, mqtt_settings, p)) for p, db in dbs.items()}
    for w in workers.values():
        w.start()
    ids = {p: w.client_id for p, w in workers.items()}
    assert len(set(ids.values())) == 2, ids
    for p, cid in ids.items():
        assert cid.startswith(f"footfall-ingest-{p}-")
    pubs = {p: Publisher(mqtt_settings.host, mqtt_settings.port, client_id=f"{p}-pub") for p in dbs}
    sent = dict.fromkeys(dbs, 0)
    restarted = False
    try:
        # Both publish every 50 ms for SECONDS; deployment a's worker restarts half way, as
        # in the field (a deploy, a crash): its session resumes, nobody else's is touched.
        started = time.monotonic()
        seq = 0
        while time.monotonic() - started < SECONDS:
            seq += 1
            for p, pub in pubs.items():
                msg = counts(COUNTERS[0], seq, readings=1)
                pub.publish(topic_for(msg, p), msg.to_json())
                sent[p] += 1
            if not restarted and time.monotonic() - started > SECONDS / 2:
                a = next(iter(workers))
                workers[a].stop()
                workers[a] = IngestWorker(_deployment(dbs[a], mqtt_settings, a))
                workers[a].start()
                assert workers[a].client_id == ids[a]  # stable across restarts: the session resumes
                restarted = True
            time.sleep(0.05)
        for pub in pubs.values():
            pub.wait()
        for p, db in dbs.items():
            wait_until(lambda db=db, p=p: _rows(db) >= sent[p], 60, f"{p}'s rows")
        time.sleep(1.0)  # anything stray would arrive now
    finally:
        for pub in pubs.values():
            pub.close()
        for w in workers.values():
            w.stop()
    for p, db in dbs.items():
        assert _rows(db) == sent[p], p  # exactly its own: none lost, none of the other's
        assert _dead_letters(db) == 0, p  # no bad_topic dead letters of the other's messages
        reg = workers[p].metrics.registry
        assert not reg.get_sample_value("footfall_ingest_session_takeovers_total"), p
        assert not reg.get_sample_value("footfall_ingest_foreign_messages_total"), p
        assert workers[p].error is None


def test_a_client_id_shared_by_hand_is_reported_as_a_takeover_and_nothing_foreign_is_acknowledged(
    stores_db: DbSettings,
    second_db: DbSettings,
    mqtt_settings: MqttSettings,
    mqtt_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)
    with connect(second_db) as conn:
        apply_stores(conn)
    shared = f"{mqtt_prefix}-same-id"
    a = IngestWorker(make_settings(stores_db, mqtt_settings, f"{mqtt_prefix}a"), client_id=shared)
    b = IngestWorker(make_settings(second_db, mqtt_settings, f"{mqtt_prefix}b"), client_id=shared)
    a.start()
    b.start(wait_ready_s=None)
    try:
        wait_until(lambda: "give each its own" in caplog.text, 60, "the takeover error")
        takeovers = sum(
            w.metrics.registry.get_sample_value("footfall_ingest_session_takeovers_total") or 0 for w in (a, b)
        )
        assert takeovers >= 1
        assert shared in caplog.text
        assert "give each its own" in caplog.text
    finally:
        b.stop()
        a.stop()
    assert _dead_letters(stores_db) == _dead_letters(second_db) == 0
