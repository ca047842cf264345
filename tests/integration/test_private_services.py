"""The harness can start its own PostgreSQL and Mosquitto (what `./run test` does on a
machine without them). Uses free ports, so it never touches the shared servers."""

import secrets
import shutil
from pathlib import Path

import psycopg

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
