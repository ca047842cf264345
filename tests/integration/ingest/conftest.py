"""Fixtures for the ingest integration tests: a registered store, settings for a worker on
this test's database and topic prefix, and a running worker."""

import secrets
from collections.abc import Iterator

import pytest

from footfall.core.settings import DbSettings, IngestSettings, MqttSettings, Settings
from footfall.db.connect import connect
from footfall.ingest.worker import IngestWorker
from tests.ingest_support import apply_stores


@pytest.fixture
def stores_db(db: DbSettings) -> DbSettings:
    """This test's database with the two test stores registered."""
    with connect(db) as conn:
        apply_stores(conn)
    return db


def make_settings(db: DbSettings, mqtt: MqttSettings, prefix: str, **ingest: object) -> Settings:
    """Settings for a worker of this test (short session expiry: the shared broker forgets it soon)."""
    return Settings(
        environment="test",
        db=db,
        mqtt=mqtt.model_copy(update={"prefix": prefix, "session_expiry_s": 300}),
        ingest=IngestSettings(client_id=f"test-ingest-{secrets.token_hex(4)}", metrics_port=0, batch_ms=50, **ingest),
    )


@pytest.fixture
def ingest_settings(stores_db: DbSettings, mqtt_settings: MqttSettings, mqtt_prefix: str) -> Settings:
    return make_settings(stores_db, mqtt_settings, mqtt_prefix)


@pytest.fixture
def worker(ingest_settings: Settings) -> Iterator[IngestWorker]:
    """A worker running in a background thread, subscribed."""
    w = IngestWorker(ingest_settings)
    w.start()
    try:
        yield w
    finally:
        w.stop()
        assert w.error is None, f"worker crashed: {w.error!r}"
