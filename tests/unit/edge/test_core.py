"""CounterCore: reports in, committed minutes and health out (no network)."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from footfall.core.clock import ManualClock
from footfall.core.messages import Fault
from footfall.core.topics import Kind
from footfall.edge.drivers.base import CounterCore, CumulativeReport, IntervalCount
from footfall.edge.errors import OutboxError
from footfall.edge.outbox import Outbox
from tests.helpers import write_locked

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


# Four reports, one a minute; per minute the door sees 3, 2 and 4 people (interval devices),
# or 3 and 2 after a baseline (cumulative devices, whose first report only sets the baseline).
def _intervals(core: CounterCore, k: int) -> None:
    start = T0 + timedelta(minutes=k)
    forward = [3, 2, 4, 0][k]
    assert core.ingest_intervals([IntervalCount("entrance", start, start + timedelta(minutes=1), forward, 1)]) == (
        1,
        0,
    ), "a report the agent never stored was taken for a duplicate"


def _cumulative(core: CounterCore, k: int) -> None:
    core.ingest([report(60 * k + 30, [10, 13, 15, 19][k], 5)])


def _line_totals(core: CounterCore, k: int) -> None:
    core.ingest_line_totals(T0 + timedelta(seconds=60 * k + 30), {"entrance": ([10, 13, 15, 19][k], 5)})


def _cumulative_time_only(core: CounterCore, k: int) -> None:
    at = T0 + timedelta(seconds=60 * k + 30)
    core.ingest([CumulativeReport(device_ts=at, entries=[10, 13, 15, 19][k], exits=5, ordered_by_time=True)])


M = [T0 + timedelta(minutes=i) for i in range(4)]
AFTER_BASELINE = [(M[0], 0, 0, False), (M[1], 3, 0, True), (M[2], 2, 0, True)]


@pytest.mark.parametrize(
    ("feed", "expected"),
    [
        # interval pushes (http, xovis JSON, axis_a3dpc): deduplicated by line and start
        # (first contact in the middle of the first interval: that minute is only partly observed)
        (_intervals, [(M[0], 3, 1, False), (M[1], 2, 1, True), (M[2], 4, 1, True)]),
        # cumulative reports with boot and uptime (tcp, mqtt): a redelivered one
        (_cumulative, AFTER_BASELINE),
        # cumulative reports ordered by their time only (mqtt without boot/uptime, axis_live)
        (_cumulative_time_only, AFTER_BASELINE),
        # cumulative snapshots per line (xovis count-data XML), ordered by sensor time
        (_line_totals, AFTER_BASELINE),
    ],
    ids=["intervals", "cumulative", "cumulative-time-only", "line-totals"],
)
def test_a_report_the_locked_queue_refused_is_stored_when_the_device_resends_it(
    tmp_path: Path, feed: Callable[[CounterCore, int], None], expected: list
) -> None:
    # The third report arrives while another process holds the queue's write lock: the
    # write fails (the device gets a 503, or no PUBACK/ACK) and the device sends it again.
    path = tmp_path / "outbox.db"
    outbox = Outbox.open(path, synchronous="normal", busy_timeout_s=0.05)
    core = CounterCore(
        device_id="door", doors=["main"], outbox=outbox, clock=ManualClock(T0), line_doors={"entrance": ("main", False)}
    )
    core.observe_clock(device_ts=T0, received=T0)
    feed(core, 0)
    feed(core, 1)
    with write_locked(path), pytest.raises(OutboxError, match="locked"):
        feed(core, 2)
    feed(core, 2)  # the resend
    feed(core, 3)
    got = [(r.start, r.entries, r.exits, r.valid) for r in outbox.readings("door", Kind.COUNTS)]
    outbox.close()
    assert got == expected
    assert core.health.duplicates == 0


def test_a_refused_write_leaves_the_core_as_a_restart_from_the_queue_would(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    outbox = Outbox.open(path, synchronous="normal", busy_timeout_s=0.05)
    core = CounterCore(device_id="beam", doors=["side"], outbox=outbox, clock=ManualClock(T0), bits=16)
    core.observe_clock(device_ts=T0, received=T0)
    core.ingest([report(1, 10), report(30, 14), report(65, 15)])
    with write_locked(path), pytest.raises(OutboxError):
        core.ingest([report(125, 2, boot=2), report(130, 4, boot=2)])  # a reboot, refused
    restarted = CounterCore(device_id="beam", doors=["side"], outbox=outbox, clock=ManualClock(T0), bits=16)
    assert core._state() == restarted._state()
    assert (core.health.reboots, core.health.recent) == (0, set()), "a reboot that was not stored was counted"
    outbox.close()
