"""A broker that cannot be reached: a warning naming it and the fix, and a gauge for how long."""

import logging

import pytest

from footfall.core.settings import DbSettings, MqttSettings
from footfall.devtools.services import free_port
from footfall.ingest.worker import IngestWorker
from tests.ingest_support import wait_until
from tests.integration.ingest.conftest import make_settings

GAUGE = "footfall_ingest_broker_unreachable_seconds"


def test_a_closed_broker_port_is_warned_about_and_measured(
    stores_db: DbSettings, mqtt_settings: MqttSettings, mqtt_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="footfall.core.mqtt")
    port = free_port()  # nothing listens there
    closed = mqtt_settings.model_copy(update={"host": "127.0.0.1", "port": port})
    worker = IngestWorker(make_settings(stores_db, closed, mqtt_prefix))
    worker.start(wait_ready_s=None)
    try:
        wait_until(lambda: "unreachable" in caplog.text, 30, "the unreachable warning")
        text = next(r.getMessage() for r in caplog.records if "unreachable" in r.getMessage())
        assert f"127.0.0.1:{port}" in text
        assert "FOOTFALL_MQTT__HOST/PORT" in text
        assert not worker.connected
        assert worker.alive
        assert worker.broker_unreachable_s > 0
        wait_until(lambda: (worker.metrics.registry.get_sample_value(GAUGE) or 0) > 0, 10, "the gauge")
        assert worker.metrics.registry.get_sample_value("footfall_ingest_broker_connected") == 0
    finally:
        worker.stop()
    assert worker.error is None
