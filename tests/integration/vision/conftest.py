"""An MQTT-publishing `ReadingSink` for the vision integration tests.

The agent's durable outbox (edge branch) is the production sink; this one publishes
straight away with QoS 1, which is all these tests need to show that the pipeline's
readings cross a real broker in the wire contract.
"""

import itertools
import secrets
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest

from footfall.core.messages import MESSAGE_TYPES, AnyMessage, Reading, parse_payload
from footfall.core.mqtt import BrokerTarget, MqttTransport
from footfall.core.topics import Kind, Topic, subscription


def _transport(settings, name: str, **hooks) -> MqttTransport:
    target = BrokerTarget.from_settings(settings, client_id=f"{name}-{secrets.token_hex(4)}")
    return MqttTransport(target, name=f"test {name}", **hooks)


class MqttSink:
    """Publishes each `put` as one message on `{prefix}/v1/{store}/{device}/{kind}` (QoS 1)."""

    def __init__(self, settings, prefix: str, store_id: str) -> None:
        self.prefix = prefix
        self.store_id = store_id
        self.transport = _transport(settings, "vision-pub")
        self.transport.start()
        assert self.transport.wait_connected(10), "no broker"
        self.seq = itertools.count(1)

    def put(self, kind: Kind, device_id: str, readings: Sequence[Reading]) -> None:
        msg = MESSAGE_TYPES[kind](
            device_id=device_id, seq=next(self.seq), sent_at=datetime.now(UTC), readings=list(readings)
        )
        topic = Topic(self.store_id, device_id, kind).render(self.prefix)
        info = self.transport.publish(topic, msg.to_json(), qos=1)
        info.wait_for_publish(timeout=10)

    def close(self) -> None:
        self.transport.stop()


class Collector:
    """Subscribes to every topic under a prefix and parses what arrives."""

    def __init__(self, settings, prefix: str) -> None:
        self.prefix = prefix
        self.messages: list[tuple[Topic, AnyMessage]] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.transport = _transport(
            settings, "vision-sub", on_message=self._on_message, on_subscribe=lambda codes: subscribed.set()
        )
        self.transport.subscribe(subscription(prefix), qos=1)
        self.transport.start()
        assert subscribed.wait(10), "broker never acknowledged the subscription"

    def _on_message(self, message) -> None:
        try:
            topic = Topic.parse(message.topic, self.prefix)
            parsed = parse_payload(topic.kind, message.payload)
        except Exception as exc:  # recorded, the test fails on it
            with self._lock:
                self.errors.append(f"{message.topic}: {exc}")
            return
        with self._lock:
            self.messages.append((topic, parsed))

    def close(self) -> None:
        self.transport.stop()


@pytest.fixture
def mqtt_pair(mqtt_settings, mqtt_prefix) -> Iterator[tuple[MqttSink, Collector]]:
    collector = Collector(mqtt_settings, mqtt_prefix)
    sink = MqttSink(mqtt_settings, mqtt_prefix, "synth")
    try:
        yield sink, collector
    finally:
        sink.close()
        collector.close()
