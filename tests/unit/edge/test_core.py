"""CounterCore: reports in, committed minutes and health out (no network)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from footfall.core.clock import ManualClock
from footfall.core.messages import Fault
from footfall.core.topics import Kind
from footfall.edge.drivers.base import CounterCore, CumulativeReport
from footfall.edge.outbox import Outbox

T0 = datetime(2026, 3, 29, 10, 0, tzinfo=UTC)


@pytest.fixture
def rig(tmp_path: Path):
    clock = ManualClock(T0)
    outbox = Outbox.open(tmp_path / "outbox.db", synchronous="normal")
    core = CounterCore(device_id="beam", doors=["side"], outbox=outbox, clock=clock, bits=16)
    yield core, outbox, clock
    outbox.close()


def report(seconds: float, entries: int, exits: int = 0, *, boot: int = 1, offset: float = 0.0, blocked=False):
    at = T0 + timedelta(seconds=seconds + offset)
    return CumulativeReport(
        device_ts=at, entries=entries, exits=exits, boot=boot, uptime_ms=int(seconds * 1000) + 10_000, blocked=blocked
    )


def health(core: CounterCore):
    return core.sensor_health(silent_after_s=120, clock_tolerance_s=5)


def test_a_device_that_goes_silent_is_flagged_and_its_minutes_wait(rig) -> None:
    core, outbox, clock = rig
    core.health.connected = True
    core.observe_clock(device_ts=T0, received=T0)
    core.ingest([report(1, 10), report(30, 12), report(65, 15)])
    assert [r.entries for r in outbox.readings("beam", Kind.COUNTS)] == [2]
    assert health(core).faults == []
    clock.advance(300)  # nothing from the device for five minutes
    assert Fault.SILENT in health(core).faults
    assert len(outbox.readings("beam", Kind.COUNTS)) == 1, "minutes were emitted for a silent device"


def test_clock_drift_and_counter_reset_faults_and_reset_is_cleared_by_the_heartbeat(rig) -> None:
    core, _, _ = rig
    core.health.connected = True
    core.observe_clock(device_ts=T0 + timedelta(seconds=40), received=T0)  # 40 s fast
    core.ingest([report(1, 100, offset=40), report(20, 3, boot=2, offset=40)])  # a reboot
    first = health(core)
    assert Fault.CLOCK_DRIFT in first.faults
    assert Fault.COUNTER_RESET in first.faults
    assert first.clock_offset_s == pytest.approx(40)
    assert Fault.COUNTER_RESET not in health(core).faults
    assert core.book.pending["entries"] == 3


def test_state_survives_a_new_core_on_the_same_queue(rig) -> None:
    core, outbox, clock = rig
    core.observe_clock(device_ts=T0, received=T0)
    core.ingest([report(1, 10), report(30, 14)])
    again = CounterCore(device_id="beam", doors=["side"], outbox=outbox, clock=clock, bits=16)
    again.ingest([report(30, 14), report(61, 15)])  # the device re-sends one it sent before
    assert [(r.start, r.entries) for r in outbox.readings("beam", Kind.COUNTS)] == [(T0, 4)]
    assert again.health.duplicates == 1
