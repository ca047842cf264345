"""A store's worth of simulated door counters, wired to where an edge agent expects them.

`SimStore` reads the store file (doors, which counter covers which door) and the
agent's `edge.yaml` (where each counter listens, pushes or publishes), generates a
traffic script with known ground truth, and runs one firmware stub per counter:

- `counter_tcp` → `BeamCounterStub`, listening where the agent connects;
- `counter_http` → `StereoSensorStub`, pushing to the agent's HTTP listener;
- `counter_mqtt` → `MqttCounterStub`, publishing to the counter's local broker.

`footfall sim store --config store.yaml --edge edge.yaml` runs it from the command line.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from footfall.core.clock import Clock
from footfall.core.storeconfig import DoorKind, StoreConfig
from footfall.firmware_stubs.beam import BeamCounterStub
from footfall.firmware_stubs.firmware import FaultPlan
from footfall.firmware_stubs.mqtt_counter import MqttCounterStub
from footfall.firmware_stubs.stereo import StereoSensorStub
from footfall.firmware_stubs.traffic import GroundTruth, TrafficScript

logger = logging.getLogger(__name__)

Stub = BeamCounterStub | StereoSensorStub | MqttCounterStub


@dataclass
class TrafficRates:
    """People per minute by door kind."""

    customer: float = 6.0
    staff: float = 1.0
    passersby: float = 20.0


@dataclass
class SimStore:
    """Every counter of one store, simulated (see the module docstring).

    Args:
        store: the store file.
        edge: the agent's config (an `EdgeConfig`), for ports, URLs and topics.
        clock: simulated time shared with the agent.
        start: first instant of traffic.
        minutes: how long people come.
        run_minutes: how long the counters keep reporting (at least `minutes`; a little
            longer lets the agent close the last minutes).
        faults: device id → what goes wrong with it.
        seed: traffic seed.
    """

    store: StoreConfig
    edge: object
    clock: Clock
    start: datetime
    minutes: float = 10.0
    run_minutes: float | None = None
    faults: dict[str, FaultPlan] = field(default_factory=dict)
    seed: int = 0
    rates: TrafficRates = field(default_factory=TrafficRates)
    stubs: dict[str, Stub] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from footfall.edge.config import EdgeConfig

        if not isinstance(self.edge, EdgeConfig):
            raise TypeError("edge must be an EdgeConfig")
        doors = {d.id: d for d in self.store.doors}
        rates = {d.id: self.rates.staff if d.kind is DoorKind.STAFF else self.rates.customer for d in doors.values()}
        past = {d.id: self.rates.passersby for d in doors.values() if d.outward_counter}
        self.script = TrafficScript.generate(
            start=self.start, minutes=self.minutes, rates=rates, passersby_rates=past, seed=self.seed
        )

    def build(self) -> None:
        """Create the stubs (TCP stubs start listening at once)."""
        from footfall.edge.config import EdgeConfig, HttpCounter, MqttCounter, TcpCounter

        edge: EdgeConfig = self.edge  # type: ignore[assignment]
        until = self.start + timedelta(minutes=max(self.minutes, self.run_minutes or self.minutes + 2))
        http_host = "127.0.0.1" if edge.http.host in ("0.0.0.0", "") else edge.http.host  # noqa: S104
        for dev in edge.devices:
            plan = self.faults.get(dev.id, FaultPlan(counter_bits=min(dev.counter_bits, 32)))
            common = {"device_id": dev.id, "script": self.script, "plan": plan, "clock": self.clock}
            if isinstance(dev, TcpCounter):
                self.stubs[dev.id] = BeamCounterStub(
                    **common, door=dev.door, start=self.start, until=until, host=dev.host, port=dev.port
                )
            elif isinstance(dev, HttpCounter):
                door_lines = [ln for ln in dev.lines if not ln.passersby]
                street = next((ln.line for ln in dev.lines if ln.passersby), None)
                self.stubs[dev.id] = StereoSensorStub(
                    **common,
                    door=door_lines[0].door,
                    start=self.start,
                    until=until,
                    url=f"http://{http_host}:{edge.http.port}/v1/push/{dev.id}",
                    token=dev.bearer(),
                    door_line=door_lines[0].line,
                    street_line=street,
                )
            elif isinstance(dev, MqttCounter):
                self.stubs[dev.id] = MqttCounterStub(
                    **common,
                    door=dev.door,
                    start=self.start,
                    until=until,
                    host=dev.host,
                    port=dev.port,
                    topic=dev.topic,
                    username=dev.username,
                    password=None if dev.password is None else dev.password.get_secret_value(),
                )

    def start_all(self) -> None:
        """Start every stub (builds them first when needed)."""
        if not self.stubs:
            self.build()
        for stub in self.stubs.values():
            stub.start()

    def stop_all(self) -> None:
        """Stop every stub."""
        for stub in self.stubs.values():
            stub.stop()

    def truth(self, device_id: str | None = None) -> GroundTruth:
        """What the counters' sensors really saw (all of them, or one)."""
        out = GroundTruth()
        for dev, stub in self.stubs.items():
            if device_id is None or dev == device_id:
                out = out.merge(stub.fw.truth)
        return out

    def done(self) -> bool:
        """Whether every stub has played its whole timeline."""
        return all(stub.timeline.done.is_set() for stub in self.stubs.values())
