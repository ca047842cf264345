"""A queue that cannot be written for a while: the device sends again and nothing is lost.

Another process holds the write lock of the agent's `outbox.db` for 80 simulated seconds
(as a backup or a second agent on the same data_dir would); the queue's writes fail with
"database is locked" after its busy timeout. A pushing sensor gets 503 and re-sends its
intervals, a polled camera's rows are offered again at the next poll. Once the lock is
gone, the per-minute counts in the queue equal the ground truth: a report the agent could
not store is never taken for a duplicate of itself.

Real sockets, HTTP servers and SQLite; simulated time at 40×.
"""

import logging
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from footfall.core.clock import ScaledClock
from footfall.core.topics import Kind
from footfall.edge.config import A3dpcCounter, HttpCounter, HttpListen, XovisCounter
from footfall.edge.drivers.base import CounterCore
from footfall.edge.drivers.http import HttpPushServer
from footfall.edge.drivers.poll import A3dpcDriver
from footfall.edge.drivers.vendors import A3DPC_LINE
from footfall.edge.outbox import Outbox
from footfall.firmware_stubs.firmware import FaultPlan
from footfall.firmware_stubs.stereo import StereoSensorStub
from footfall.firmware_stubs.traffic import TrafficScript
from footfall.firmware_stubs.vendors import A3dpcStub, XovisPushStub
from tests.helpers import write_locked
from tests.integration.edge.conftest import SIM_START

SPEED = 40.0
MINUTES = 4
LOCKED = (70.0, 150.0)
"""Simulated seconds after SIM_START during which another process holds the queue's write lock."""


@pytest.fixture
def outbox(tmp_path: Path):
    ob = Outbox.open(tmp_path / "outbox.db", synchronous="normal", busy_timeout_s=0.05)
    yield ob
    ob.close()


def script(door: str, rate: float, *, passersby: float = 0.0) -> TrafficScript:
    return TrafficScript.generate(
        start=SIM_START,
        minutes=MINUTES,
        rates={door: rate},
        passersby_rates={door: passersby} if passersby else {},
        seed=5,
    )


def play(clock: ScaledClock, until: datetime) -> None:
    while clock.now() < until:
        time.sleep(0.05)


def play_with_a_locked_queue(clock: ScaledClock, outbox: Outbox, until: datetime) -> None:
    play(clock, SIM_START + timedelta(seconds=LOCKED[0]))
    with write_locked(outbox.path):
        play(clock, SIM_START + timedelta(seconds=LOCKED[1]))
    play(clock, until)


def queued(outbox: Outbox, device_id: str) -> dict:
    return {
        (r.door_id, r.start): (r.entries, r.exits, r.passersby or 0)
        for r in outbox.readings(device_id, Kind.COUNTS)
        if r.entries or r.exits or r.passersby
    }


def refused_writes(caplog: pytest.LogCaptureFixture, device_id: str) -> int:
    return sum(
        1
        for r in caplog.records
        if r.levelno == logging.ERROR and r.getMessage().startswith(f"{device_id}: could not store")
    )


def push_core(clock: ScaledClock, outbox: Outbox, cfg: HttpCounter | XovisCounter) -> CounterCore:
    return CounterCore(
        device_id=cfg.id,
        doors=["main"],
        outbox=outbox,
        clock=clock,
        passersby_doors=["main"],
        line_doors={ln.line: (ln.door, ln.passersby) for ln in cfg.lines},
    )


@pytest.mark.parametrize("vendor", ["http", "xovis"])
def test_pushes_refused_with_503_while_the_queue_is_locked_are_stored_when_resent(
    outbox: Outbox, sim_clock, caplog: pytest.LogCaptureFixture, vendor: str
) -> None:
    clock = sim_clock(SPEED)
    lines = [{"line": "entrance", "door": "main"}, {"line": "street", "door": "main", "passersby": True}]
    cfg = (
        HttpCounter(id="stereo", driver="http", lines=lines)
        if vendor == "http"
        else XovisCounter(id="stereo", driver="xovis", lines=lines)
    )
    core = push_core(clock, outbox, cfg)
    server = HttpPushServer(HttpListen(host="127.0.0.1", port=0), clock)
    server.add(cfg, core)
    server.start()
    kind = StereoSensorStub if vendor == "http" else XovisPushStub
    stub = kind(
        device_id="stereo",
        door="main",
        script=script("main", 8, passersby=15),
        plan=FaultPlan(clock_offset_s=0.5),
        clock=clock,
        start=SIM_START,
        until=SIM_START + timedelta(minutes=MINUTES + 2),
        url=f"http://127.0.0.1:{server.port}/v1/push/stereo",
        street_line="street",
    )
    stub.start()
    try:
        play_with_a_locked_queue(clock, outbox, SIM_START + timedelta(seconds=MINUTES * 60 + 75))
    finally:
        stub.stop()
        server.stop()
    assert refused_writes(caplog, "stereo") >= 1, "the queue was never refused: the test proves nothing"
    assert stub.failures >= 1
    assert queued(outbox, "stereo") == stub.fw.truth.per_minute()
    assert core.health.duplicates == 0, "a resend of what the agent never stored was taken for a duplicate"


def test_a3dpc_rows_a_locked_queue_refused_are_stored_at_the_next_poll(
    outbox: Outbox, sim_clock, caplog: pytest.LogCaptureFixture
) -> None:
    clock = sim_clock(SPEED)
    stub = A3dpcStub(
        device_id="a3dpc",
        door="staff",
        script=script("staff", 6),
        plan=FaultPlan(),
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
        play_with_a_locked_queue(clock, outbox, SIM_START + timedelta(seconds=MINUTES * 60 + 100))
    finally:
        driver.stop()
        stub.stop()
    assert refused_writes(caplog, "a3dpc") >= 1, "the queue was never refused: the test proves nothing"
    assert queued(outbox, "a3dpc") == stub.fw.truth.per_minute()
    assert core.health.duplicates == 0, "rows the agent never stored were taken for duplicates"
