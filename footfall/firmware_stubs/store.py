"""A store's worth of simulated door counters, wired to where an edge agent expects them.

`SimStore` reads the store file (doors) and the specs of the counters to play (where
each one listens, pushes or publishes: `footfall.firmware_stubs.spec`), generates a
traffic script with known ground truth, and runs one firmware stub per counter:

- `TcpStub` → `BeamCounterStub`, listening where the agent connects;
- `HttpStub` → `StereoSensorStub`, pushing to the agent's HTTP listener;
- `MqttStub` → `MqttCounterStub`, publishing to the counter's local broker; `AxisAoaSpec`
  → `AxisAoaStub`, an Axis camera publishing Object Analytics counting events there;
- vendor counters (`footfall.firmware_stubs.vendors`): `XovisSpec` → `XovisPushStub` or
  `XovisXmlPushStub`, pushing; `AxisLiveSpec` → `AxisLiveStub` and `A3dpcSpec` →
  `A3dpcStub`, serving what the agent polls.

`footfall sim store --config store.yaml --edge edge.yaml` runs it from the command line,
with the specs built from the agent's `edge.yaml` (`footfall.demo.stubs.stub_specs`).
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from footfall.core.calendar import zone
from footfall.core.clock import Clock
from footfall.core.storeconfig import DoorKind, StoreConfig, is_open
from footfall.firmware_stubs.axis_aoa import AxisAoaStub
from footfall.firmware_stubs.beam import BeamCounterStub
from footfall.firmware_stubs.firmware import FaultPlan
from footfall.firmware_stubs.mqtt_counter import MqttCounterStub
from footfall.firmware_stubs.spec import (
    A3dpcSpec,
    AxisAoaSpec,
    AxisLiveSpec,
    HttpStub,
    MqttStub,
    StubSpec,
    TcpStub,
    XovisSpec,
)
from footfall.firmware_stubs.stereo import StereoSensorStub
from footfall.firmware_stubs.traffic import GroundTruth, TrafficScript
from footfall.firmware_stubs.vendors import A3dpcStub, AxisLiveStub, XovisPushStub, XovisXmlPushStub

logger = logging.getLogger(__name__)

Stub = BeamCounterStub | StereoSensorStub | MqttCounterStub | AxisAoaStub | XovisXmlPushStub | AxisLiveStub | A3dpcStub


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
        counters: the counters to play, with their ports, URLs and topics.
        clock: simulated time shared with the agent.
        start: first instant of traffic.
        minutes: how long people come.
        run_minutes: how long the counters keep reporting (at least `minutes`; a little
            longer lets the agent close the last minutes).
        faults: device id → what goes wrong with it.
        seed: traffic seed.
    """

    store: StoreConfig
    counters: list[StubSpec]
    clock: Clock
    start: datetime
    minutes: float = 10.0
    run_minutes: float | None = None
    faults: dict[str, FaultPlan] = field(default_factory=dict)
    seed: int = 0
    rates: TrafficRates = field(default_factory=TrafficRates)
    margin_s: float = 2.0
    """No crossing this close to a minute boundary (polled counters need more than their poll period)."""
    keep_hours: bool = True
    """Shoppers come only in the store's opening hours (staff doors any time); False: at any hour
    (tests that need traffic whenever they run)."""
    stubs: dict[str, Stub] = field(default_factory=dict)

    def __post_init__(self) -> None:
        doors = {d.id: d for d in self.store.doors}
        rates = {d.id: self.rates.staff if d.kind is DoorKind.STAFF else self.rates.customer for d in doors.values()}
        past = {d.id: self.rates.passersby for d in doors.values() if d.outward_counter}
        hours, tz = self.store.store.opening_hours, zone(self.store.store.timezone)

        def open_now(t: datetime) -> bool:
            return is_open(hours, t.astimezone(tz))

        # Shoppers come only while the store is open; staff come and go before and after.
        gates = {d.id: open_now for d in doors.values() if d.kind is not DoorKind.STAFF} if self.keep_hours else {}
        self.script = TrafficScript.generate(
            start=self.start,
            minutes=self.minutes,
            rates=rates,
            passersby_rates=past,
            seed=self.seed,
            open_at=gates,
            margin_s=self.margin_s,
        )

    def build(self) -> None:
        """Create the stubs (TCP stubs start listening at once)."""
        until = self.start + timedelta(minutes=max(self.minutes, self.run_minutes or self.minutes + 2))
        for spec in self.counters:
            plan = self.faults.get(spec.device_id, FaultPlan(counter_bits=spec.counter_bits))
            common: dict[str, Any] = {
                "device_id": spec.device_id,
                "script": self.script,
                "plan": plan,
                "clock": self.clock,
                "door": spec.door,
                "start": self.start,
                "until": until,
            }
            if isinstance(spec, TcpStub):
                self.stubs[spec.device_id] = BeamCounterStub(**common, host=spec.host, port=spec.port)
            elif isinstance(spec, HttpStub):
                self.stubs[spec.device_id] = StereoSensorStub(
                    **common,
                    url=spec.url,
                    token=spec.token,
                    door_line=spec.door_line,
                    street_line=spec.street_line,
                )
            elif isinstance(spec, MqttStub):
                self.stubs[spec.device_id] = MqttCounterStub(
                    **common,
                    host=spec.host,
                    port=spec.port,
                    topic=spec.topic,
                    username=spec.username,
                    password=spec.password,
                )
            elif isinstance(spec, AxisAoaSpec):
                self.stubs[spec.device_id] = AxisAoaStub(
                    **common,
                    host=spec.host,
                    port=spec.port,
                    entry_topic=spec.entry_topic,
                    exit_topic=spec.exit_topic,
                    serial=spec.serial,
                    username=spec.username,
                    password=spec.password,
                )
            elif isinstance(spec, XovisSpec) and spec.xml:
                self.stubs[spec.device_id] = XovisXmlPushStub(
                    **common,
                    url=spec.url,
                    token=spec.token,
                    door_line=spec.door_line,
                    tz=spec.tz,
                )
            elif isinstance(spec, XovisSpec):
                self.stubs[spec.device_id] = XovisPushStub(
                    **common,
                    url=spec.url,
                    token=spec.token,
                    door_line=spec.door_line,
                    street_line=spec.street_line,
                    tz=spec.tz,
                )
            elif isinstance(spec, AxisLiveSpec):
                self.stubs[spec.device_id] = AxisLiveStub(**common, host=spec.host, port=spec.port, tz=spec.tz)
            elif isinstance(spec, A3dpcSpec):
                self.stubs[spec.device_id] = A3dpcStub(**common, host=spec.host, port=spec.port, tz=spec.tz)

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
