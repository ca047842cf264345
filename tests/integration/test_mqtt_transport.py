"""The MQTT transport against the real Mosquitto: round trip, will, persistent session, a closed port."""

import logging
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from footfall.core.mqtt import BrokerTarget as Target
from footfall.core.mqtt import MQTTMessage, MqttTransport, TlsOptions, Will
from footfall.core.settings import MqttSettings
from footfall.devtools.services import PrivateMosquitto, free_port
from tests.integration.edge.test_agent import make_certs


def wait_until(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


class Inbox:
    """What one transport received."""

    def __init__(self) -> None:
        self.messages: list[MQTTMessage] = []
        self.subscribed = threading.Event()
        self._lock = threading.Lock()

    def on_message(self, msg: MQTTMessage) -> None:
        with self._lock:
            self.messages.append(msg)

    def payloads(self) -> list[bytes]:
        with self._lock:
            return [m.payload for m in self.messages]


def target(m: MqttSettings, name: str, **update: object) -> Target:
    return Target.from_settings(m, client_id=f"test-{name}-{secrets.token_hex(4)}").model_copy(update=update)


@pytest.fixture
def transports() -> Iterator[list[MqttTransport]]:
    made: list[MqttTransport] = []
    yield made
    for t in made:
        t.stop()


def subscriber(m: MqttSettings, topic: str, made: list[MqttTransport], **options: object) -> Inbox:
    inbox = Inbox()
    t = MqttTransport(
        target(m, "sub"),
        name="test sub",
        on_message=inbox.on_message,
        on_subscribe=lambda codes: inbox.subscribed.set(),
        **options,  # type: ignore[arg-type]
    )
    t.subscribe(topic, qos=1)
    t.start()
    made.append(t)
    assert inbox.subscribed.wait(10), "no SUBACK"
    return inbox


def test_publish_and_subscribe_round_trip(mqtt_settings, mqtt_prefix: str, transports) -> None:
    inbox = subscriber(mqtt_settings, f"{mqtt_prefix}/v1/#", transports)
    pub = MqttTransport(target(mqtt_settings, "pub"), name="test pub")
    transports.append(pub)
    pub.start()
    assert pub.wait_connected(10)
    assert pub.state.connected
    assert pub.state.unreachable_s == 0.0
    assert pub.state.connects == 1
    for i in range(3):
        info = pub.publish(f"{mqtt_prefix}/v1/s/d/counts", f"m{i}".encode(), qos=1)
        assert info.wait_for_publish(10) is None
        assert info.is_published()
    wait_until(lambda: len(inbox.payloads()) == 3, 10, "the three messages to arrive")
    assert inbox.payloads() == [b"m0", b"m1", b"m2"]


def test_the_will_is_published_on_an_abrupt_disconnect_and_not_on_a_clean_stop(
    mqtt_settings, mqtt_prefix: str, transports
) -> None:
    topic = f"{mqtt_prefix}/v1/s/edge/status"
    inbox = subscriber(mqtt_settings, topic, transports)
    edge = MqttTransport(target(mqtt_settings, "edge", keepalive_s=5), name="test edge")
    transports.append(edge)
    edge.set_will(Will(topic, b"offline", qos=1, retain=False))
    edge.start()
    assert edge.wait_connected(10)
    edge.drop()  # a crash: no DISCONNECT
    wait_until(lambda: inbox.payloads() == [b"offline"], 10, "the will")
    # paho reconnects on its own; a clean stop then sends no will
    wait_until(lambda: edge.connected, 10, "the reconnection")
    edge.stop()
    transports.remove(edge)
    probe = MqttTransport(target(mqtt_settings, "probe"), name="test probe")
    transports.append(probe)
    probe.start()
    assert probe.wait_connected(10)
    probe.publish(topic, b"marker", qos=1).wait_for_publish(10)
    wait_until(lambda: inbox.payloads()[-1:] == [b"marker"], 10, "the marker")
    assert inbox.payloads() == [b"offline", b"marker"]


def test_a_persistent_session_redelivers_what_was_not_acknowledged(mqtt_settings, mqtt_prefix: str, transports) -> None:
    topic = f"{mqtt_prefix}/v1/s/d/counts"
    session = target(mqtt_settings, "session")
    got: list[tuple[bytes, bool]] = []
    ack = threading.Event()

    def on_message(msg: MQTTMessage) -> None:
        got.append((msg.payload, bool(msg.dup)))
        if ack.is_set():
            consumer.ack(msg.mid, msg.qos)

    def make() -> MqttTransport:
        t = MqttTransport(
            session,
            clean_start=False,
            session_expiry_s=60,
            manual_ack=True,
            name="test consumer",
            on_message=on_message,
        )
        t.subscribe(topic, qos=1)
        return t

    consumer = make()
    consumer.start()
    assert consumer.wait_connected(10)
    pub = MqttTransport(target(mqtt_settings, "pub"), name="test pub")
    transports.append(pub)
    pub.start()
    assert pub.wait_connected(10)
    wait_until(lambda: pub.publish(topic, b"first", qos=1).rc == 0, 5, "a publish")
    wait_until(lambda: len(got) >= 1, 10, "the first delivery")
    consumer.stop()  # not acknowledged: the session keeps it
    ack.set()
    consumer = make()
    transports.append(consumer)
    consumer.start()
    wait_until(lambda: len(got) >= 2, 10, "the redelivery")
    assert got[0][0] == got[1][0] == b"first"
    # Acknowledged this time: a third connection gets nothing more.
    consumer.stop()
    transports.remove(consumer)
    consumer = make()
    transports.append(consumer)
    consumer.start()
    assert consumer.wait_connected(10)
    pub.publish(topic, b"second", qos=1).wait_for_publish(10)
    wait_until(lambda: got[-1][0] == b"second", 10, "the next message")
    assert [p for p, _ in got] == [b"first", b"first", b"second"]


def test_a_closed_port_gives_a_warning_naming_the_broker_and_the_fix(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="footfall.core.mqtt")
    port = free_port()  # nothing listens there
    t = MqttTransport(
        Target(host="127.0.0.1", port=port, prefix="p", username=None, password=None, client_id="x", keepalive_s=10),
        warn_after_s=0.5,
        warn_every_s=3600,
        hint="start Mosquitto or fix FOOTFALL_MQTT__PORT",
        name="test",
    )
    t.start()
    try:
        wait_until(lambda: "unreachable" in caplog.text, 15, "the warning")
        warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
        assert warnings[0].levelno == logging.WARNING
        text = warnings[0].getMessage()
        assert f"127.0.0.1:{port}" in text
        assert "start Mosquitto or fix FOOTFALL_MQTT__PORT" in text
        assert not t.connected
        assert t.unreachable_s > 0
        assert t.state.last_error == f"cannot reach 127.0.0.1:{port}"
        # bounded: one warning per warn_every_s, however many attempts fail meanwhile
        wait_until(lambda: t.unreachable_s > 3, 10, "more failed attempts")
        assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1
    finally:
        t.stop()
    assert t.unreachable_s == 0.0  # stopped on purpose


def test_the_warning_repeats_while_the_broker_stays_away(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="footfall.core.mqtt")
    port = free_port()
    t = MqttTransport(
        Target(host="127.0.0.1", port=port, prefix="p", username=None, password=None, client_id="x", keepalive_s=10),
        warn_after_s=0.2,
        warn_every_s=0.5,
        name="test",
    )
    t.start()
    try:
        wait_until(lambda: caplog.text.count("unreachable") >= 2, 15, "a repeated warning")
    finally:
        t.stop()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make test certificates")
def test_tls_from_the_one_model_connects_with_the_right_ca_and_not_with_another(tmp_path: Path) -> None:
    good = make_certs(tmp_path / "certs", "good")
    other = make_certs(tmp_path / "certs", "other")
    tls_port = free_port()
    broker = PrivateMosquitto(
        tmp_path / "tls-mq",
        port=free_port(),
        extra=(
            f"listener {tls_port} 127.0.0.1\ncafile {good['ca']}\ncertfile {good['cert']}\n"
            f"keyfile {good['key']}\ntls_version tlsv1.2\n"
        ),
    )
    broker.start()
    made: list[MqttTransport] = []
    try:
        for name, ca in (("trusting", good["ca"]), ("suspicious", other["ca"])):
            t = MqttTransport(
                Target(
                    host="127.0.0.1",
                    port=tls_port,
                    prefix="p",
                    username=None,
                    password=None,
                    client_id=f"tls-{name}",
                    keepalive_s=10,
                    tls=TlsOptions(enabled=True, ca_file=ca),
                ),
                name=name,
            )
            t.start()
            made.append(t)
        trusting, suspicious = made
        assert trusting.wait_connected(10)
        trusting.publish("p/x", b"over tls", qos=1).wait_for_publish(10)
        wait_until(lambda: suspicious.state.last_error is not None, 10, "the refused handshake")
        assert not suspicious.connected
    finally:
        for t in made:
            t.stop()
        broker.stop()
