"""A simulated Axis camera running AXIS Object Analytics crossline counting, publishing over MQTT.

Two crossline counting scenarios watch one door, one per direction (a scenario counts
one direction). On every counted object the camera's MQTT event publisher sends the
scenario's stateless event to its topic, QoS 1:

    {"topic": "axis:CameraApplicationPlatform/ObjectAnalytics/Device1Scenario1",
     "timestamp": 1765108800123, "serial": "B8A44F000001",
     "message": {"source": {}, "key": {}, "data": {"scenario": "Entrance in",
       "reason": "human", "total": "42", "totalHuman": "40", "totalCar": "2"}}}

Counts are strings, totals since the scenario's last reset; `timestamp` is the camera's
clock in milliseconds since the epoch. At start each scenario counts one car (an event
whose `totalHuman` does not move: the agent's baseline, nobody lost). Faults from the
`FaultPlan`: reboots (totals restart at zero, as after a reset of the accumulated
counts), dropped connections, duplicate sends (the last event again, same timestamp)
and `garbled_at` (the next event has `totalHuman` missing, then the real one follows).
The format is written from Axis's and reelyActive's public material (docs/edge.md),
not from the agent's parser: this package does not import the agent.
"""

import json
import threading
from datetime import datetime, timedelta
from functools import partial

from footfall.core.clock import Clock
from footfall.core.mqtt import MQTTMessageInfo
from footfall.firmware_stubs.firmware import CounterFirmware, FaultPlan, Timeline
from footfall.firmware_stubs.mqtt_counter import stub_transport
from footfall.firmware_stubs.traffic import Crossing, Direction, TrafficScript

EVENT_TOPIC = "axis:CameraApplicationPlatform/ObjectAnalytics/Device1Scenario{}"


class AxisAoaStub:
    """One simulated camera with an entry and an exit crossline counting scenario (see the module docstring)."""

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
        entry_topic: str,
        exit_topic: str,
        serial: str = "B8A44F000001",
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.device_id = device_id
        self.door = door
        self.clock = clock
        self.serial = serial
        self.topics = {Direction.IN: entry_topic, Direction.OUT: exit_topic}
        self.fw = CounterFirmware(plan=plan, start=start)
        self.cars = {Direction.IN: 0, Direction.OUT: 0}
        self.published = 0
        self._garble = 0
        self._last: tuple[str, bytes] | None = None
        self._last_info: MQTTMessageInfo | None = None
        self._lock = threading.Lock()
        self.transport = stub_transport(device_id, host, port, username, password)
        self.timeline = Timeline(clock, name=f"aoa-{device_id}")
        self.timeline.at(start, self._cars_at_start)
        for c in script.for_doors([door]).crossings:
            if c.direction in self.topics:
                self.timeline.at(c.at, partial(self._crossing_at, c))
        for s in plan.garbled_at:
            self.timeline.at(start + timedelta(seconds=s), self._garble_next)
        self.timeline.faults(plan, start, reboot=self._reboot, drop=self.transport.drop, duplicate=self._duplicate)

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

    def event(self, direction: Direction, at: datetime, reason: str) -> bytes:
        """The event scenario `direction` publishes at true instant `at`."""
        humans = self.fw.entries if direction is Direction.IN else self.fw.exits
        cars = self.cars[direction]
        data = {
            "scenario": f"{self.door} {'in' if direction is Direction.IN else 'out'}",
            "reason": reason,
            "total": str(humans + cars),
            "totalHuman": str(humans),
            "totalCar": str(cars),
        }
        if self._garble:
            self._garble -= 1
            del data["totalHuman"]
        body = {
            "topic": EVENT_TOPIC.format(1 if direction is Direction.IN else 2),
            "timestamp": self.fw.device_ms(at),
            "serial": self.serial,
            "message": {"source": {}, "key": {}, "data": data},
        }
        return json.dumps(body).encode()

    def _publish(self, topic: str, payload: bytes) -> None:
        info = self.transport.publish(topic, payload, qos=1)
        with self._lock:
            self._last = (topic, payload)
            self._last_info = info
        self.published += 1

    def _send(self, direction: Direction, at: datetime, reason: str) -> None:
        garbled = self._garble > 0
        self._publish(self.topics[direction], self.event(direction, at, reason))
        if garbled:  # the camera's next event carries the totals again
            self._publish(self.topics[direction], self.event(direction, at + timedelta(milliseconds=1), reason))

    def _cars_at_start(self, at: datetime) -> None:
        for direction in self.topics:
            self.cars[direction] += 1
            self._send(direction, at, "car")

    def _crossing_at(self, c: Crossing, at: datetime) -> None:
        if self.fw.register(c):
            self._send(c.direction, c.at, "human")

    def _garble_next(self, _at: datetime) -> None:
        self._garble += 1

    def _reboot(self, at: datetime) -> None:
        # The accumulated counts restart at zero; the next event carries the new totals.
        self.flush(2.0)
        self.fw.reboot(at)
        self.cars = {Direction.IN: 0, Direction.OUT: 0}

    def _duplicate(self) -> None:
        with self._lock:
            last = self._last
        if last is not None:
            self._publish(*last)
