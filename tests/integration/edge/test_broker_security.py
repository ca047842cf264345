"""The Mosquitto password file and per-store ACL written by `footfall edge credentials`, on a real broker."""

import secrets
import threading
import time
from datetime import timedelta

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import SecretStr

from footfall.core.alertstate import StoreAlerts
from footfall.core.messages import CountsMessage, CountsReading
from footfall.core.mqtt import BrokerTarget, MqttTransport
from footfall.core.topics import Kind, Topic, alerts_topic, shared_subscription
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

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> ReasonCode:
        info = self.transport.publish(topic, payload, qos=1, retain=retain)
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


def test_screen_reads_its_own_stores_alerts_only_and_publishes_nothing(secure_broker: SecureBroker) -> None:
    prefix = secure_broker.prefix
    a_alerts, b_alerts = alerts_topic(prefix, "store-a"), alerts_topic(prefix, "store-b")
    engine = Probe(secure_broker.port, "alerts", secure_broker.passwords["alerts"])
    edge = Probe(secure_broker.port, "store-a-edge", secure_broker.passwords["store-a-edge"])
    try:
        assert not engine.wait_connack().is_failure
        # the engine's retained state of both stores is there before the screen connects
        for store, topic in (("store-a", a_alerts), ("store-b", b_alerts)):
            assert not engine.publish(topic, StoreAlerts(store_id=store, rules=[]).to_json(), retain=True).is_failure
        # the engine writes nothing but alerts, and the edge agent cannot fake what its screen shows
        assert engine.publish(Topic("store-a", "door-a", Kind.COUNTS).render(prefix), b"x").value == 0x87
        assert not edge.wait_connack().is_failure
        assert edge.publish(a_alerts, StoreAlerts(store_id="store-a", rules=[]).to_json()).value == 0x87

        got: list[tuple[str, bool]] = []
        subacked = threading.Event()
        screen = transport(
            secure_broker.port,
            "store-a-screen",
            secure_broker.passwords["store-a-screen"],
            f"screen-{secrets.token_hex(3)}",
            on_message=lambda msg: got.append((msg.topic, bool(msg.retain))),
            on_subscribe=lambda codes: subacked.set(),
        )
        # it asks for everything, and for store B's alerts by name
        for filt in (f"{prefix}/v1/#", b_alerts):
            screen.subscribe(filt, qos=1)
        screen.start()
        try:
            assert subacked.wait(5)
            assert wait_for(lambda: (a_alerts, True) in got, 5), got
            # live updates: store A's arrive, store B's and device data never do
            assert not engine.publish(b_alerts, StoreAlerts(store_id="store-b", rules=[]).to_json()).is_failure
            assert not engine.publish(a_alerts, StoreAlerts(store_id="store-a", rules=[]).to_json()).is_failure
            assert not edge.publish(
                Topic("store-a", "door-a", Kind.COUNTS).render(prefix), counts_payload("door-a")
            ).is_failure
            assert wait_for(lambda: (a_alerts, False) in got, 5), got
            time.sleep(0.5)  # anything wrongly delivered would have arrived with the store A update
            assert {t for t, _ in got} == {a_alerts}, got
            # …and the screen cannot publish, not even on its own store's topic
            own = Probe(secure_broker.port, "store-a-screen", secure_broker.passwords["store-a-screen"])
            try:
                assert not own.wait_connack().is_failure
                assert own.publish(a_alerts, b"{}").value == 0x87
                assert own.publish(Topic("store-a", "door-a", Kind.COUNTS).render(prefix), b"x").value == 0x87
            finally:
                own.close()
        finally:
            screen.stop()
    finally:
        engine.close()
        edge.close()
