"""A simulated MQTT-native counter: publishes its cumulative counters to a local broker.

The payload is in `footfall.edge.drivers.mqtt`. Like the firmware, it publishes with
QoS 1 on every change and every `keepalive_s`; paho keeps what it could not deliver
while disconnected and sends it after reconnecting. Faults from its `FaultPlan`:
reboots (disconnect, counters restart at zero, boot + 1), dropped connections,
duplicate sends (the last message again), wrap-around (start near 2^bits) and a
blocked sensor (`status: blocked`, nothing counted). With `time_only` it sends neither
`boot` nor `uptime_ms`, like counters that report only their clock and their counters.
"""

import json
import secrets
import threading
from datetime import datetime
from functools import partial
from typing import Any

from pydantic import SecretStr

from footfall.core.clock import Clock
from footfall.core.mqtt import Backoff, BrokerTarget, MQTTMessageInfo, MqttTransport
from footfall.firmware_stubs.firmware import CounterFirmware, FaultPlan, Timeline
from footfall.firmware_stubs.traffic import Crossing, TrafficScript


def stub_transport(device_id: str, host: str, port: int, username: str | None, password: str | None) -> MqttTransport:
    """The MQTT connection of a simulated device to its store broker (a fresh client id each run)."""
    return MqttTransport(
        BrokerTarget(
            host=host,
            port=port,
            prefix="local",
            username=username or None,
            password=SecretStr(password) if username and password is not None else None,
            client_id=f"stub-{device_id}-{secrets.token_hex(3)}",
            keepalive_s=30,
        ),
        backoff=Backoff(1.0, 2.0),
        name=f"stub {device_id}",
    )


class MqttCounterStub:
    """One simulated MQTT-native counter (see the module docstring)."""

    def __init__(
        self,
        *,
        device_id: str,
        door: str,
        script: TrafficScript,
        plan: FaultPlan,
        clock: Clock,
        start: datetime,
        until: datetime,
        host: str,
        port: int,
        topic: str,
        username: str | None = None,
        password: str | None = None,
        keepalive_s: float = 10.0,
        time_as_ms: bool = False,
        time_only: bool = False,
    ) -> None:
        self.device_id = device_id
        self.door = door
        self.clock = clock
        self.topic = topic
        self.host, self.port = host, port
        self.time_as_ms = time_as_ms
        self.time_only = time_only
        self.fw = CounterFirmware(plan=plan, start=start)
        self.published = 0
        self._last: bytes | None = None
        self._last_info: MQTTMessageInfo | None = None
        self._lock = threading.Lock()
        self.transport = stub_transport(device_id, host, port, username, password)
        self.timeline = Timeline(clock, name=f"mqttc-{device_id}")
        for c in script.for_doors([door]).crossings:
            self.timeline.at(c.at, partial(self._crossing_at, c))
        self.timeline.every(start, keepalive_s, until, self._report)
        self.timeline.faults(plan, start, reboot=self._reboot, drop=self._drop, duplicate=self._duplicate)

    @property
    def connected(self) -> bool:
        """Whether the stub is connected to its broker."""
        return self.transport.connected

    def start(self) -> None:
        """Connect to the local broker and start counting."""
        self.transport.start()
        self.timeline.start()

    def stop(self) -> None:
        """Stop counting and disconnect."""
        self.timeline.stop()
        self.transport.stop()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until paho delivered everything published so far."""
        with self._lock:
            last = self._last_info
        if last is not None:
            last.wait_for_publish(timeout)

    def _payload(self, at: datetime) -> bytes:
        fw = self.fw
        body: dict[str, Any] = {
            "time": fw.device_ms(at) if self.time_as_ms else fw.device_time(at).isoformat(),
            "in": fw.entries,
            "out": fw.exits,
            "status": "blocked" if fw.blocked(at) else "ok",
        }
        if not self.time_only:
            body |= {"boot": fw.boot, "uptime_ms": fw.uptime_ms(at)}
        return json.dumps(body).encode()

    def _publish(self, payload: bytes) -> None:
        info = self.transport.publish(self.topic, payload, qos=1)
        with self._lock:
            self._last = payload
            self._last_info = info
        self.published += 1

    def _report(self, at: datetime) -> None:
        self._publish(self._payload(at))

    def _crossing_at(self, c: Crossing, at: datetime) -> None:
        self._crossing(c)

    def _crossing(self, c: Crossing) -> None:
        self.fw.register(c)
        self._publish(self._payload(c.at))

    def _reboot(self, at: datetime) -> None:
        # A reboot: whatever paho still holds in memory is flushed first, as a device that
        # writes its outgoing queue to flash would; then the counters restart at zero.
        self.flush(2.0)
        self.transport.stop()
        self.fw.reboot(at)
        self.transport.start()
        self._report(at)

    def _drop(self) -> None:
        self.transport.drop()

    def _duplicate(self) -> None:
        with self._lock:
            last = self._last
        if last is not None:
            self._publish(last)
