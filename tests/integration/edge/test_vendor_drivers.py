"""Each simulated vendor counter against its driver: per-minute counts equal the ground truth.

Real sockets and HTTP servers on simulated time: a Xovis sensor pushing line count data
(JSON) and count data (XML) to the agent's listener, an AXIS People Counter and an AXIS
3D People Counter polled by the agent. Each sends one malformed payload (refused,
counted, nothing lost) and misses a push or answers 503 once.
"""

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from footfall.core.clock import ScaledClock
from footfall.core.messages import Fault
from footfall.core.topics import Kind
from footfall.edge.config import A3dpcCounter, AxisLiveCounter, HttpListen, XovisCounter
from footfall.edge.drivers.base import CounterCore
from footfall.edge.drivers.http import HttpPushServer
from footfall.edge.drivers.poll import A3dpcDriver, AxisLiveDriver
from footfall.edge.drivers.vendors import A3DPC_LINE
from footfall.edge.outbox import Outbox
from footfall.firmware_stubs.firmware import FaultPlan
from footfall.firmware_stubs.traffic import TrafficScript
from footfall.firmware_stubs.vendors import A3dpcStub, AxisLiveStub, XovisPushStub, XovisXmlPushStub
from tests.integration.edge.conftest import SIM_START

MINUTES = 4


@pytest.fixture
def outbox(tmp_path: Path):
    ob = Outbox.open(tmp_path / "outbox.db", synchronous="normal")
    yield ob
    ob.close()


def script(door: str, rate: float, *, start: datetime = SIM_START, passersby: float = 0.0) -> TrafficScript:
    return TrafficScript.generate(
        start=start,
        minutes=MINUTES,
        rates={door: rate},
        passersby_rates={door: passersby} if passersby else {},
        seed=11,
        margin_s=5.0,  # polled live counts are placed at the poll's time: keep crossings off the boundaries
    )


def play(clock: ScaledClock, until: datetime) -> None:
    while clock.now() < until:
        time.sleep(0.05)


def queued(outbox: Outbox, device_id: str) -> dict:
    return {
        (r.door_id, r.start): (r.entries, r.exits, r.passersby or 0)
        for r in outbox.readings(device_id, Kind.COUNTS)
        if r.entries or r.exits or r.passersby
    }


def push_server(clock: ScaledClock, cfg: XovisCounter, core: CounterCore) -> HttpPushServer:
    server = HttpPushServer(HttpListen(host="127.0.0.1", port=0), clock)
    server.add(cfg, core)
    server.start()
    return server


def test_xovis_json_push_minutes_equal_ground_truth_through_a_garbled_push_and_resends(
    outbox: Outbox, sim_clock
) -> None:
    clock = sim_clock(40.0)
    cfg = XovisCounter(
        id="xovis",
        driver="xovis",
        token="xovis-token-1",
        lines=[{"line": "Entrance", "door": "main"}, {"line": "Street", "door": "main", "passersby": True}],
    )
    core = CounterCore(
        device_id="xovis",
        doors=["main"],
        outbox=outbox,
        clock=clock,
        passersby_doors=["main"],
        line_doors={"Entrance": ("main", False), "Street": ("main", True)},
    )
    server = push_server(clock, cfg, core)
    stub = XovisPushStub(
        device_id="xovis",
        door="main",
        script=script("main", 8, passersby=15),
        plan=FaultPlan(clock_offset_s=0.5, drops_at=[100], duplicates_at=[150], garbled_at=[70]),
        clock=clock,
        start=SIM_START,
        until=SIM_START + timedelta(minutes=MINUTES + 2),
        url=f"http://127.0.0.1:{server.port}/v1/push/xovis",
        token="xovis-token-1",
        door_line="Entrance",
        street_line="Street",
        tz="America/New_York",
    )
    stub.start()
    try:
        play(clock, SIM_START + timedelta(seconds=MINUTES * 60 + 75))
    finally:
        stub.stop()
        server.stop()
    assert queued(outbox, "xovis") == stub.fw.truth.per_minute()
    assert core.health.errors == 1, "the garbled push was not refused exactly once"
    assert core.health.duplicates >= 1
    assert stub.failures >= 2  # the garbled push and the dropped one were re-sent later


def test_xovis_xml_count_data_minutes_equal_ground_truth(outbox: Outbox, sim_clock) -> None:
    clock = sim_clock(20.0)
    cfg = XovisCounter(id="xovis-xml", driver="xovis", lines=[{"line": "Line 0", "door": "side"}])
    core = CounterCore(
        device_id="xovis-xml", doors=["side"], outbox=outbox, clock=clock, line_doors={"Line 0": ("side", False)}
    )
    server = push_server(clock, cfg, core)
    stub = XovisXmlPushStub(
        device_id="xovis-xml",
        door="side",
        script=script("side", 8),
        plan=FaultPlan(clock_offset_s=-3, drops_at=[45], garbled_at=[130]),
        clock=clock,
        start=SIM_START,
        until=SIM_START + timedelta(minutes=MINUTES + 1),
        url=f"http://127.0.0.1:{server.port}/v1/push/xovis-xml",
        door_line="Line 0",
        tz="Asia/Kolkata",
        push_s=1.0,
    )
    stub.start()
    try:
        play(clock, SIM_START + timedelta(seconds=MINUTES * 60 + 15))
    finally:
        stub.stop()
        server.stop()
    assert queued(outbox, "xovis-xml") == stub.fw.truth.per_minute()
    assert core.health.errors == 1
    assert core.sync.offset == pytest.approx(-3, abs=1.0)


def test_axis_live_sum_minutes_equal_ground_truth_across_the_cameras_midnight(outbox: Outbox, sim_clock) -> None:
    # UTC+14: the camera's midnight is 10:00 UTC, two minutes into the traffic.
    clock = sim_clock(10.0, lead_s=130)
    start = SIM_START - timedelta(minutes=2)
    stub = AxisLiveStub(
        device_id="axis",
        door="side",
        script=script("side", 8, start=start),
        plan=FaultPlan(drops_at=[100], garbled_at=[170]),
        clock=clock,
        start=start,
        until=start + timedelta(minutes=MINUTES + 1),
        tz="Etc/GMT-14",
    )
    cfg = AxisLiveCounter(
        id="axis",
        driver="axis_live",
        url=f"http://127.0.0.1:{stub.port}",
        door="side",
        timezone="Etc/GMT-14",
        poll_s=1.0,
    )
    core = CounterCore(device_id="axis", doors=["side"], outbox=outbox, clock=clock)
    driver = AxisLiveDriver(cfg, core, clock)
    stub.start()
    driver.start()
    try:
        play(clock, start + timedelta(seconds=MINUTES * 60 + 15))
    finally:
        driver.stop()
        stub.stop()
    assert stub.day_resets == 1
    assert core.health.period_resets == 1
    assert queued(outbox, "axis") == stub.fw.truth.per_minute()
    assert driver.rejected == 1
    assert Fault.COUNTER_RESET not in core.sensor_health(silent_after_s=120, clock_tolerance_s=5).faults


def test_a3dpc_export_minutes_equal_ground_truth(outbox: Outbox, sim_clock) -> None:
    clock = sim_clock(40.0)
    stub = A3dpcStub(
        device_id="a3dpc",
        door="staff",
        script=script("staff", 6),
        plan=FaultPlan(drops_at=[90], garbled_at=[150]),
        clock=clock,
        start=SIM_START,
        until=SIM_START + timedelta(minutes=MINUTES + 2),
        tz="America/New_York",
    )
    cfg = A3dpcCounter(
        id="a3dpc",
        driver="axis_a3dpc",
        url=f"http://127.0.0.1:{stub.port}",
        door="staff",
        timezone="America/New_York",
        poll_s=20,
    )
    core = CounterCore(
        device_id="a3dpc", doors=["staff"], outbox=outbox, clock=clock, line_doors={A3DPC_LINE: ("staff", False)}
    )
    driver = A3dpcDriver(cfg, core, clock)
    stub.start()
    driver.start()
    try:
        play(clock, SIM_START + timedelta(seconds=MINUTES * 60 + 100))
    finally:
        driver.stop()
        stub.stop()
    assert queued(outbox, "a3dpc") == stub.fw.truth.per_minute()
    assert driver.rejected == 1
    assert core.health.duplicates == 0, "rows already stored were offered again"
