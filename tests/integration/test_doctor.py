"""`footfall doctor` against real brokers: Footfall's private broker passes; a broker with
Mosquitto's default queue limit is caught by the probe, with the fix."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from footfall.cli import app
from footfall.core.settings import DbSettings, Settings
from footfall.db.migrate import Flavour
from footfall.devtools.services import PrivateMosquitto, free_port
from footfall.doctor.checks import CHECKS, Status, check_broker, run_checks

runner = CliRunner()


@pytest.fixture
def broker_factory(tmp_path: Path) -> Iterator:
    started: list[PrivateMosquitto] = []

    def start(**options: object) -> PrivateMosquitto:
        b = PrivateMosquitto(tmp_path / f"mosquitto-{len(started)}", port=free_port(), **options)  # type: ignore[arg-type]
        b.start()
        started.append(b)
        return b

    yield start
    for b in started:
        b.stop()


def _settings(db: DbSettings, port: int, prefix: str) -> Settings:
    s = Settings(environment="test", db=db)
    return s.model_copy(
        update={"mqtt": s.mqtt.model_copy(update={"host": "127.0.0.1", "port": port, "prefix": prefix})}
    )


@pytest.mark.parametrize(
    ("max_queued", "queue_status"),
    [
        (0, Status.OK),  # Footfall's private broker: docker/mosquitto's settings
        (1000, Status.FAIL),  # Mosquitto's default: 1,000 queued per offline session, the rest dropped
    ],
)
def test_the_queue_probe_tells_the_brokers_apart(
    broker_factory, db: DbSettings, mqtt_prefix: str, max_queued: int, queue_status: Status
) -> None:
    broker = broker_factory(max_queued=max_queued)
    findings = {f.check: f for f in check_broker(_settings(db, broker.port, mqtt_prefix))}
    assert findings["broker"].status is Status.OK
    queue = findings["broker queue limit"]
    assert queue.status is queue_status, queue.detail
    if queue_status is Status.FAIL:
        assert "kept only 1000 of 1100" in queue.detail
        assert "max_queued_messages 0" in queue.fix
    # loopback and development: anonymous access is reported, not failed
    assert findings["broker anonymous access"].status is Status.WARN


def test_anonymous_access_fails_outside_development(broker_factory, db: DbSettings, mqtt_prefix: str) -> None:
    broker = broker_factory()
    s = _settings(db, broker.port, mqtt_prefix).model_copy(update={"environment": "production"})
    findings = {f.check: f for f in check_broker(s)}
    assert findings["broker anonymous access"].status is Status.FAIL
    assert "allow_anonymous false" in findings["broker anonymous access"].fix


def test_doctor_passes_against_the_private_broker_and_a_migrated_database(
    broker_factory, db: DbSettings, flavour: Flavour, mqtt_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = broker_factory()
    monkeypatch.setenv("FOOTFALL_DB__URL", db.url)
    monkeypatch.setenv("FOOTFALL_MQTT__HOST", "127.0.0.1")
    monkeypatch.setenv("FOOTFALL_MQTT__PORT", str(broker.port))
    monkeypatch.setenv("FOOTFALL_MQTT__PREFIX", mqtt_prefix)
    result = runner.invoke(app, ["doctor"])
    assert "broker queue limit: an offline persistent session kept all 1100" in result.output
    if flavour is Flavour.PLAIN or "FAIL timescaledb jobs" not in result.output:
        assert result.exit_code == 0, result.output
        assert "no problems" in result.output
    else:
        # The one problem allowed on this leg is the server's own: TimescaleDB 2.28.3 on
        # PostgreSQL 15 records every scheduled job run as failed; doctor names it and the way around.
        assert result.exit_code == 1, result.output
        assert "1 problem(s)" in result.output
        assert "known incompatibility of TimescaleDB 2.28.3" in " ".join(result.output.split())


def test_doctor_names_the_fix_for_an_unreachable_broker_and_an_unmigrated_database(
    empty_db: DbSettings, mqtt_prefix: str
) -> None:
    s = _settings(empty_db, free_port(), mqtt_prefix)
    findings = run_checks(s)
    by = {f.check: f for f in findings}
    assert by["migrations"].status is Status.FAIL
    assert "footfall db migrate" in by["migrations"].fix
    assert by["broker"].status is Status.FAIL
    assert "FOOTFALL_MQTT__HOST/PORT" in by["broker"].fix
    assert check_broker in CHECKS  # a check is one function in the list
