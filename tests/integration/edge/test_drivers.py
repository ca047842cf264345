"""Each simulated counter against its driver: per-minute counts equal the ground truth.

Real sockets, a real HTTP server, the real local Mosquitto; simulated time at 40×.
"""

import secrets
import time
from datetime import timedelta
from pathlib import Path

import pytest

from footfall.core.messages import Fault
from footfall.core.topics import Kind
from footfall.edge.config import HttpCounter, HttpListen, MqttCounter, TcpCounter
from footfall.edge.drivers.base import CounterCore
from footfall.edge.drivers.http import HttpPushServer
from footfall.edge.drivers.mqtt import MqttCounterDriver
from footfall.edge.drivers.tcp import TcpBeamDriver
from footfall.edge.outbox import Outbox
from footfall.firmware_stubs.beam import BeamCounterStub
from footfall.firmware_stubs.firmware import FaultPlan
from footfall.firmware_stubs.mqtt_counter import MqttCounterStub
from footfall.firmware_stubs.stereo import StereoSensorStub
from footfall.firmware_stubs.traffic import TrafficScript
from tests.integration.edge.conftest import SIM_START, wait_for

SPEED = 40.0
MINUTES = 4


@pytest.fixture
def outbox(tmp_path: Path):
    ob = Outbox.open(tmp_path / "outbox.db", synchronous="normal")
    yield ob
    ob.close()


def script(doors: dict[str, float], passersby: dict[str, float] | None = None) -> TrafficScript:
    return TrafficScript.generate(
        start=SIM_START, minutes=MINUTES, rates=doors, passersby_rates=passersby or {}, seed=7
    )


def play(clock, until_s: float) -> None:
    target = SIM_START + timedelta(seconds=until_s)
    while clock.now() < target:
        time.sleep(0.05)


def queued(outbox: Outbox, device_id: str) -> dict:
    return {
        (r.door_id, r.start): (r.entries, r.exits, r.passersby or 0)
        for r in outbox.readings(device_id, Kind.COUNTS)
        if r.entries or r.exits or r.passersby
    }


@pytest.mark.parametrize(
    "plan",
    [
        # 16-bit counters about to wrap, a reboot, two duplicate sends, a dropped connection, a clock
        # 37.5 s fast that drifts 3 s an hour
        FaultPlan(
            counter_bits=16,
            start_in=65_530,
            start_out=65_532,
            reboots_at=[100],
            drops_at=[150],
            duplicates_at=[60, 61],
            clock_offset_s=37.5,
            drift_ppm=3000,
        ),
        # 32-bit counters about to wrap, a clock 20 s slow
        FaultPlan(counter_bits=32, start_in=2**32 - 5, start_out=2**32 - 2, clock_offset_s=-20),
    ],
    ids=["wrap16-reboot-drift", "wrap32-slow-clock"],
)
def test_beam_counter_minutes_equal_ground_truth(outbox: Outbox, sim_clock, plan: FaultPlan) -> None:
    clock = sim_clock(SPEED)
    stub = BeamCounterStub(
        device_id="beam",
        door="side",
        script=script({"side": 8}),
        plan=plan,
        clock=clock,
        start=SIM_START,
        until=SIM_START + timedelta(minutes=MINUTES + 1),
    )
    core = CounterCore(device_id="beam", doors=["side"], outbox=outbox, clock=clock, bits=plan.counter_bits)
    cfg = TcpCounter(
        id="beam", driver="tcp", host="127.0.0.1", port=stub.port, door="side", counter_bits=plan.counter_bits, ping_s=5
    )
    driver = TcpBeamDriver(cfg, core, clock)
    stub.start()
    driver.start()
    try:
        play(clock, MINUTES * 60 + 15)
    finally:
        driver.stop()
        stub.stop()
    assert queued(outbox, "beam") == stub.fw.truth.per_minute()
    h = core.health
    assert h.wraps >= 1
    if plan.reboots_at:
        assert h.reboots == 1
        assert h.duplicates >= 2
    assert abs(core.sync.offset - (plan.clock_offset_s + MINUTES * 60 * plan.drift_ppm / 1e6)) < 1.0


def test_stereo_sensor_minutes_equal_ground_truth_with_lost_and_repeated_pushes(outbox: Outbox, sim_clock) -> None:
    clock = sim_clock(SPEED)
    cfg = HttpCounter(
        id="stereo",
        driver="http",
        token="s3cret-token",
        lines=[{"line": "entrance", "door": "main"}, {"line": "street", "door": "main", "passersby": True}],
    )
    core = CounterCore(
        device_id="stereo",
        doors=["main"],
        outbox=outbox,
        clock=clock,
        passersby_doors=["main"],
        line_doors={"entrance": ("main", False), "street": ("main", True)},
    )
    server = HttpPushServer(HttpListen(host="127.0.0.1", port=0), clock)
    server.add(cfg, core)
    server.start()
    stub = StereoSensorStub(
        device_id="stereo",
        door="main",
        script=script({"main": 8}, {"main": 20}),
        plan=FaultPlan(clock_offset_s=0.4, reboots_at=[70], drops_at=[130], duplicates_at=[150, 200]),
        clock=clock,
        start=SIM_START,
        until=SIM_START + timedelta(minutes=MINUTES + 2),
        url=f"http://127.0.0.1:{server.port}/v1/push/stereo",
        token="s3cret-token",
        street_line="street",
    )
    stub.start()
    try:
        play(clock, MINUTES * 60 + 75)
    finally:
        stub.stop()
        server.stop()
    assert queued(outbox, "stereo") == stub.fw.truth.per_minute()
    assert stub.failures >= 2  # the reboot and the dropped connection each lost a push
    assert core.health.duplicates >= 2


def test_mqtt_counter_minutes_equal_ground_truth_through_wrap_reboot_and_duplicates(
    outbox: Outbox, sim_clock, mqtt_settings, mqtt_prefix: str
) -> None:
    # Half speed: the driver maps device time to agent time from arrival times, so broker latency
    # under a loaded machine (×SPEED in simulated seconds) can move a reading across a minute.
    clock = sim_clock(SPEED / 2)
    topic = f"{mqtt_prefix}/sensors/staff"
    cfg = MqttCounter(
        id="staff",
        driver="mqtt",
        host=mqtt_settings.host,
        port=mqtt_settings.port,
        topic=topic,
        door="staff",
        counter_bits=16,
    )
    core = CounterCore(device_id="staff", doors=["staff"], outbox=outbox, clock=clock, bits=16)
    driver = MqttCounterDriver(cfg, core, clock, agent_id=f"edge-{secrets.token_hex(3)}")
    driver.start()
    assert wait_for(lambda: core.health.connected, 10)
    stub = MqttCounterStub(
        device_id="staff",
        door="staff",
        script=script({"staff": 4}),
        plan=FaultPlan(
            counter_bits=16,
            start_in=65_534,
            start_out=65_535,
            reboots_at=[100],
            duplicates_at=[50, 51],
            drops_at=[170],
            clock_offset_s=-12,
            drift_ppm=-2000,
        ),
        clock=clock,
        start=SIM_START,
        until=SIM_START + timedelta(minutes=MINUTES + 1),
        host=mqtt_settings.host,
        port=mqtt_settings.port,
        topic=topic,
        time_as_ms=True,
    )
    stub.start()
    try:
        play(clock, MINUTES * 60 + 15)
    finally:
        stub.stop()
        driver.stop()
    assert queued(outbox, "staff") == stub.fw.truth.per_minute()
    assert core.health.reboots == 1
    assert core.health.wraps >= 1
    assert core.health.duplicates >= 2


def test_mqtt_counter_that_sends_only_its_time_closes_quiet_minutes_as_zeros(
    outbox: Outbox, sim_clock, mqtt_settings, mqtt_prefix: str
) -> None:
    # No boot number, no uptime: an unchanged report at a later time is an observation
    # (nobody came), not a duplicate. People for two minutes, three quiet minutes, people
    # for one more, then quiet: every minute is emitted once, the quiet ones as zeros.
    clock = sim_clock(SPEED / 2)
    busy = [
        TrafficScript.generate(start=SIM_START + timedelta(minutes=m), minutes=n, rates={"staff": 5}, seed=m)
        for m, n in ((0, 2), (5, 1))
    ]
    traffic = TrafficScript(tuple(sorted(c for s in busy for c in s.crossings)))
    topic = f"{mqtt_prefix}/sensors/staff"
    cfg = MqttCounter(
        id="staff", driver="mqtt", host=mqtt_settings.host, port=mqtt_settings.port, topic=topic, door="staff"
    )
    core = CounterCore(device_id="staff", doors=["staff"], outbox=outbox, clock=clock)
    driver = MqttCounterDriver(cfg, core, clock, agent_id=f"edge-{secrets.token_hex(3)}")
    driver.start()
    assert wait_for(lambda: core.health.connected, 10)
    stub = MqttCounterStub(
        device_id="staff",
        door="staff",
        script=traffic,
        plan=FaultPlan(clock_offset_s=7),
        clock=clock,
        start=SIM_START,
        until=SIM_START + timedelta(minutes=6, seconds=40),
        host=mqtt_settings.host,
        port=mqtt_settings.port,
        topic=topic,
        time_only=True,
    )
    stub.start()
    try:
        play(clock, 6 * 60 + 45)
    finally:
        stub.stop()
        driver.stop()
    readings = outbox.readings("staff", Kind.COUNTS)
    minutes = [SIM_START + timedelta(minutes=m) for m in range(6)]
    assert [r.start for r in readings] == minutes, "a minute stalled, went missing or came twice"
    assert queued(outbox, "staff") == stub.fw.truth.per_minute()
    quiet = [(r.entries, r.exits, r.valid) for r in readings if r.start in minutes[2:5]]
    assert quiet == [(0, 0, True)] * 3
    assert stub.fw.truth.totals()["entries"] > 0


def test_blocked_sensor_counts_nothing_flags_its_minutes_and_the_heartbeat(outbox: Outbox, sim_clock) -> None:
    clock = sim_clock(SPEED)
    stub = BeamCounterStub(
        device_id="beam",
        door="side",
        script=script({"side": 10}),
        plan=FaultPlan(blocked=[(75, 140)]),
        clock=clock,
        start=SIM_START,
        until=SIM_START + timedelta(minutes=MINUTES + 1),
    )
    core = CounterCore(device_id="beam", doors=["side"], outbox=outbox, clock=clock)
    driver = TcpBeamDriver(
        TcpCounter(id="beam", driver="tcp", host="127.0.0.1", port=stub.port, door="side"), core, clock
    )
    stub.start()
    driver.start()
    try:
        play(clock, 110)
        health = core.sensor_health(silent_after_s=120, clock_tolerance_s=5)
        assert Fault.BLOCKED in health.faults
        play(clock, MINUTES * 60 + 15)
    finally:
        driver.stop()
        stub.stop()
    readings = outbox.readings("beam", Kind.COUNTS)
    invalid = {r.start.minute for r in readings if not r.valid}
    assert {1, 2} <= invalid  # 10:01:15–10:02:20 blocked
    assert 3 not in invalid
    assert stub.fw.missed.totals()["entries"] > 0, "nobody walked through while the sensor was blocked"
    assert queued(outbox, "beam") == stub.fw.truth.per_minute()  # what the sensor saw, no more
