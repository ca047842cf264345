"""The harness can start its own PostgreSQL and Mosquitto (what `./run test` does on a
machine without them). Uses free ports, so it never touches the shared servers."""

import os
import secrets
import shutil
import signal
from pathlib import Path

import psycopg
import pytest

from footfall.core.settings import Settings
from footfall.devtools.services import LOCAL, PrivateMosquitto, PrivatePostgres, _mqtt_answers, free_port


def test_private_postgres_starts_stops_and_restarts() -> None:
    # Under the checkout's .local/ like ./run's own instance: pytest's tmp folders are
    # private to root, and PostgreSQL runs as the postgres user.
    folder = LOCAL / f"test-pg-{secrets.token_hex(4)}"
    pg = PrivatePostgres(folder, port=free_port())
    try:
        pg.start()
        with psycopg.connect(pg.url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        pg.stop()
        assert not pg.running()
        pg.start()
        assert pg.running()
    finally:
        pg.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


def test_private_mosquitto_speaks_mqtt5(tmp_path: Path) -> None:
    broker = PrivateMosquitto(tmp_path / "mq", port=free_port())
    broker.start()
    try:
        assert _mqtt_answers("127.0.0.1", broker.port)
    finally:
        broker.stop()
    assert not broker.running()


def test_without_a_broker_in_settings_footfalls_own_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from footfall.devtools import services
    from footfall.doctor.checks import Status, check_broker

    port = services.free_port()
    made: list[PrivateMosquitto] = []

    def private(directory: Path) -> PrivateMosquitto:
        b = PrivateMosquitto(tmp_path / "mosquitto", port=port)
        made.append(b)
        return b

    monkeypatch.setattr(services, "PrivateMosquitto", private)
    for name in services.BROKER_GIVEN:
        monkeypatch.delenv(name, raising=False)
    try:
        # the machine's broker answers at 127.0.0.1:1883, but it was not given: not used
        env = services.ensure_broker("127.0.0.1", 1883)
        assert env == {"FOOTFALL_MQTT__HOST": "127.0.0.1", "FOOTFALL_MQTT__PORT": str(port)}
        conf = (tmp_path / "mosquitto" / "mosquitto.conf").read_text()
        assert "max_queued_messages 0" in conf
        assert f"listener {port} 127.0.0.1" in conf  # loopback only
        s = Settings(environment="test")
        s = s.model_copy(update={"mqtt": s.mqtt.model_copy(update={"host": "127.0.0.1", "port": port})})
        queue = next(f for f in check_broker(s) if f.check == "broker queue limit")
        assert queue.status is Status.OK, queue.detail
        # a broker given in settings (and answering) is used as it is
        monkeypatch.setenv("FOOTFALL_MQTT__PORT", str(port))
        assert services.ensure_broker("127.0.0.1", port) == {}
    finally:
        pid = tmp_path / "mosquitto" / "mosquitto.pid"
        if pid.exists():
            os.kill(int(pid.read_text()), signal.SIGTERM)
