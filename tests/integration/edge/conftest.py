"""Fixtures for the edge agent's integration tests: brokers, simulated time, a subscriber."""

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from footfall.core.clock import ScaledClock
from footfall.core.messages import PayloadError, parse_payload
from footfall.core.mqtt import BrokerTarget, MqttTransport
from footfall.core.topics import Topic
from footfall.devtools.services import PrivateMosquitto, free_port
from footfall.edge.credentials import BrokerRole, add_credentials
from tests.helpers import wait_until

SIM_START = datetime(2026, 3, 29, 10, 0, tzinfo=UTC)


@pytest.fixture
def sim_clock():
    """A factory of simulated clocks: `sim_clock(speed)` starts a few simulated seconds before SIM_START."""

    def make(speed: float = 30.0, lead_s: float = 5.0) -> ScaledClock:
        return ScaledClock(SIM_START - timedelta(seconds=lead_s), speed=speed)

    return make


@dataclass
class SecureBroker:
    """A private Mosquitto with a password file and the per-store ACL."""

    broker: PrivateMosquitto
    prefix: str
    passwords: dict[str, str]
    password_file: Path
    acl_file: Path

    @property
    def port(self) -> int:
        return self.broker.port


@pytest.fixture
def secure_broker(tmp_path: Path) -> Iterator[SecureBroker]:
    """Users: edge agents `store-a-edge`, `store-b-edge`, `riga-01-edge` (of those stores), `ingest`,
    the alerts engine `alerts`, and the in-store screen `store-a-screen`."""
    folder = tmp_path / "secure-mq"
    folder.mkdir()
    passwd, acl = folder / "passwd", folder / "acl"
    prefix = f"t{secrets.token_hex(4)}"
    passwords = {}
    users = (
        ("store-a-edge", "store-a", BrokerRole.EDGE),
        ("store-b-edge", "store-b", BrokerRole.EDGE),
        ("riga-01-edge", "riga-01", BrokerRole.EDGE),
        ("ingest", None, BrokerRole.INGEST),
        ("alerts", None, BrokerRole.ALERTS),
        ("store-a-screen", "store-a", BrokerRole.SCREEN),
    )
    for user, store, role in users:
        passwords[user] = secrets.token_urlsafe(18)
        add_credentials(
            user=user,
            password=passwords[user],
            store_id=store,
            role=role,
            password_file=passwd,
            acl_file=acl,
            prefix=prefix,
        )
    broker = PrivateMosquitto(
        folder / "broker",
        port=free_port(),
        anonymous=False,
        extra=f"password_file {passwd}\nacl_file {acl}\n",
    )
    broker.start()
    try:
        yield SecureBroker(broker, prefix, passwords, passwd, acl)
    finally:
        broker.stop()


@dataclass
class Received:
    topic: Topic
    message: object
    retained: bool


@dataclass
class Subscriber:
    """Collects every valid message under a prefix (the test's eyes on the broker)."""

    host: str
    port: int
    prefix: str
    username: str | None = None
    password: str | None = None
    session: str | None = None
    """A client id for a persistent session: messages published while it is away are kept for it."""
    messages: list[Received] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = threading.Event()
        target = BrokerTarget(
            host=self.host,
            port=self.port,
            prefix=self.prefix,
            username=self.username,
            password=None if self.password is None else SecretStr(self.password),
            client_id=self.session or f"test-sub-{secrets.token_hex(4)}",
            keepalive_s=30,
        )
        self.transport = MqttTransport(
            target,
            clean_start=not self.session,
            session_expiry_s=3600 if self.session else None,
            name="test subscriber",
            on_message=self._on_message,
            on_subscribe=lambda codes: self._ready.set(),
        )
        self.transport.subscribe(f"{self.prefix}/v1/#", qos=1)

    def _on_message(self, msg) -> None:
        try:
            topic = Topic.parse(msg.topic, self.prefix)
            parsed = parse_payload(topic.kind, msg.payload)
        except (PayloadError, ValueError) as exc:
            with self._lock:
                self.invalid.append(f"{msg.topic}: {exc}")
            return
        with self._lock:
            self.messages.append(Received(topic, parsed, bool(msg.retain)))

    def start(self) -> "Subscriber":
        self._ready.clear()
        self.transport.start()
        assert self._ready.wait(10), "subscriber did not get its SUBACK"
        return self

    def stop(self) -> None:
        self.transport.stop()

    def of_kind(self, kind: str) -> list[Received]:
        with self._lock:
            return [r for r in self.messages if r.topic.kind.value == kind]

    def readings(self, kind: str, device_id: str | None = None) -> list:
        return [
            rd
            for r in self.of_kind(kind)
            if device_id is None or r.topic.device_id == device_id
            for rd in r.message.readings  # type: ignore[attr-defined]
        ]


wait_for = wait_until
"""Poll a predicate for up to `timeout` real seconds (`tests.helpers.wait_until`)."""
