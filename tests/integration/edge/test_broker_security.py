"""The Mosquitto password file and per-store ACL written by `footfall edge credentials`, on a real broker."""

import secrets
import threading
from datetime import timedelta

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import SecretStr

from footfall.core.messages import CountsMessage, CountsReading
from footfall.core.mqtt import BrokerTarget, MqttTransport
from footfall.core.topics import Kind, Topic, shared_subscription
from footfall.edge.credentials import add_credentials, remove_credentials
from tests.integration.edge.conftest import SIM_START, SecureBroker, Subscriber, wait_for


def transport(port: int, user: str, password: str, client_id: str, **hooks) -> MqttTransport:
    """A client of the secure broker as `user`."""
    target = BrokerTarget(
        host="127.0.0.1",
        port=port,
        prefix="test",
        username=user,
        password=SecretStr(password),
        client_id=client_id,
        keepalive_s=10,
    )
    return MqttTransport(target, name=f"test {user}", **hooks)


class Probe:
    """A client that records its first CONNACK and its PUBACK reason codes."""

    def __init__(self, port: int, user: str, password: str) -> None:
        self.connack: ReasonCode | None = None
        self.pubacks: dict[int, ReasonCode] = {}
        self._connected = threading.Event()
        self._acked = threading.Condition()
        self.transport = transport(
            port,
            user,
            password,
            f"probe-{secrets.token_hex(4)}",
            on_connect=lambda session_present: self._connack(ReasonCode(PacketTypes.CONNACK, "Success")),
            on_refused=self._connack,
            on_publish=self._on_publish,
        )
        self.transport.start()

    def _connack(self, rc: ReasonCode) -> None:
        if self.connack is None:
            self.connack = rc
        self._connected.set()

    def _on_publish(self, mid, rc) -> None:
        with self._acked:
            self.pubacks[mid] = rc
            self._acked.notify_all()

    def wait_connack(self) -> ReasonCode:
        assert self._connected.wait(10), "no CONNACK"
        assert self.connack is not None
        return self.connack

    def publish(self, topic: str, payload: bytes) -> ReasonCode:
        info = self.transport.publish(topic, payload, qos=1)
        with self._acked:
            assert self._acked.wait_for(lambda: info.mid in self.pubacks, 10), "no PUBACK"
            return self.pubacks[info.mid]

    def close(self) -> None:
        self.transport.stop()


def counts_payload(device_id: str) -> bytes:
    r = CountsReading(start=SIM_START, end=SIM_START + timedelta(minutes=1), door_id="main", entries=3, exits=1)
    return CountsMessage(device_id=device_id, seq=1, sent_at=r.end, readings=[r]).to_json()


@pytest.mark.parametrize(
    ("user", "password", "refused"),
    [
        # the right password connects
        ("store-a-edge", None, False),
        # a wrong password is refused
        ("store-a-edge", "wrong-password-123", True),
        # an unknown user is refused
        ("nobody", "whatever-password", True),
    ],
)
def test_broker_refuses_a_wrong_password(secure_broker: SecureBroker, user, password, refused) -> None:
    probe = Probe(secure_broker.port, user, password or secure_broker.passwords[user])
    try:
        rc = probe.wait_connack()
        assert rc.is_failure is refused
        if refused:
            assert rc.value in (0x86, 0x87), rc  # bad user name or password / not authorised
    finally:
        probe.close()


def test_agent_of_store_a_cannot_publish_into_store_b(secure_broker: SecureBroker) -> None:
    prefix = secure_broker.prefix
    watcher = Subscriber(
        "127.0.0.1", secure_broker.port, prefix, username="ingest", password=secure_broker.passwords["ingest"]
    ).start()
    probe = Probe(secure_broker.port, "store-a-edge", secure_broker.passwords["store-a-edge"])
    try:
        assert not probe.wait_connack().is_failure
        own = probe.publish(Topic("store-a", "door-a", Kind.COUNTS).render(prefix), counts_payload("door-a"))
        other = probe.publish(Topic("store-b", "door-b", Kind.COUNTS).render(prefix), counts_payload("door-b"))
        outside = probe.publish("elsewhere/topic", b"x")
        assert not own.is_failure
        assert other.value == 0x87, f"publish into store B answered {other}"  # Not authorized
        assert outside.value == 0x87
        assert wait_for(lambda: len(watcher.of_kind("counts")) >= 1, 5)
        assert {r.topic.store_id for r in watcher.of_kind("counts")} == {"store-a"}
    finally:
        probe.close()
        watcher.stop()


def test_agent_reads_nothing_and_ingest_reads_everything_through_a_shared_subscription(
    secure_broker: SecureBroker,
) -> None:
    prefix = secure_broker.prefix
    got: dict[str, list[str]] = {"store-a-edge": [], "ingest": []}
    clients = []
    for user, filt in (
        ("store-a-edge", f"{prefix}/v1/#"),
        ("ingest", shared_subscription("ingest", prefix)),
    ):
        subacked = threading.Event()
        c = transport(
            secure_broker.port,
            user,
            secure_broker.passwords[user],
            f"r-{user}",
            on_message=lambda msg, user=user: got[user].append(msg.topic),
            on_subscribe=lambda codes, ev=subacked: ev.set(),
        )
        c.subscribe(filt, qos=1)
        c.start()
        assert subacked.wait(5)
        clients.append(c)
    probe = Probe(secure_broker.port, "store-b-edge", secure_broker.passwords["store-b-edge"])
    try:
        assert not probe.wait_connack().is_failure
        topic = Topic("store-b", "door-b", Kind.COUNTS).render(prefix)
        assert not probe.publish(topic, counts_payload("door-b")).is_failure
        assert wait_for(lambda: got["ingest"] == [topic], 5)
        assert got["store-a-edge"] == [], "an edge agent read another store's data"
    finally:
        probe.close()
        for c in clients:
            c.stop()


def test_credentials_added_while_the_broker_runs_apply_on_sighup(secure_broker: SecureBroker) -> None:
    password = secrets.token_urlsafe(18)
    add_credentials(
        user="store-c-edge",
        password=password,
        store_id="store-c",
        password_file=secure_broker.password_file,
        acl_file=secure_broker.acl_file,
        prefix=secure_broker.prefix,
    )
    assert secure_broker.broker.pid is not None
    secure_broker.broker.reload()

    def accepted() -> bool:
        probe = Probe(secure_broker.port, "store-c-edge", password)
        try:
            return not probe.wait_connack().is_failure
        finally:
            probe.close()

    assert wait_for(accepted, 5, interval=0.2)
    assert remove_credentials(
        user="store-c-edge", password_file=secure_broker.password_file, acl_file=secure_broker.acl_file
    )
    secure_broker.broker.reload()
    assert wait_for(lambda: not accepted(), 5, interval=0.2)
