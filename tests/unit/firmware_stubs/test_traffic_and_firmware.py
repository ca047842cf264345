"""Scripted traffic, ground truth and the simulated counter core."""

from datetime import UTC, datetime, timedelta

import pytest

from footfall.core.clock import ManualClock, ScaledClock
from footfall.firmware_stubs.firmware import CounterFirmware, FaultPlan, Timeline
from footfall.firmware_stubs.traffic import Crossing, Direction, GroundTruth, TrafficScript

T0 = datetime(2026, 3, 29, 10, 0, tzinfo=UTC)


def test_traffic_is_reproducible_sorted_and_keeps_off_minute_boundaries() -> None:
    a = TrafficScript.generate(start=T0, minutes=30, rates={"main": 10}, passersby_rates={"main": 5}, seed=4)
    b = TrafficScript.generate(start=T0, minutes=30, rates={"main": 10}, passersby_rates={"main": 5}, seed=4)
    assert a == b
    assert list(a.crossings) == sorted(a.crossings)
    assert all(2.0 <= c.at.second + c.at.microsecond / 1e6 <= 58.0 for c in a.crossings)
    truth = a.truth().totals()
    assert truth["entries"] > 200
    assert truth["exits"] <= truth["entries"]
    assert truth["passersby"] > 100


@pytest.mark.parametrize(
    ("plan", "crossings", "expected"),
    [
        # a 16-bit counter wraps
        (FaultPlan(counter_bits=16, start_in=65_535), 3, (2, 3)),
        # a blocked sensor counts nothing and the truth says so
        (FaultPlan(blocked=[(0, 3600)]), 3, (0, 0)),
    ],
)
def test_counter_firmware_counts_wraps_and_misses_while_blocked(plan, crossings, expected) -> None:
    fw = CounterFirmware(plan=plan, start=T0)
    for i in range(crossings):
        fw.register(Crossing(T0 + timedelta(seconds=10 + i), "main", Direction.IN))
    assert (fw.entries, fw.truth.totals()["entries"]) == expected
    assert fw.missed.totals()["entries"] == crossings - expected[1]


def test_counter_firmware_clock_is_off_and_drifts_and_reboot_restarts_counters() -> None:
    fw = CounterFirmware(plan=FaultPlan(clock_offset_s=40, drift_ppm=1000), start=T0)
    assert fw.device_time(T0 + timedelta(hours=1)) == T0 + timedelta(hours=1, seconds=43.6)
    fw.register(Crossing(T0, "main", Direction.IN))
    fw.reboot(T0 + timedelta(seconds=5))
    assert (fw.entries, fw.boot, fw.uptime_ms(T0 + timedelta(seconds=6))) == (0, 2, 1000)


def test_clocks() -> None:
    manual = ManualClock(T0)
    manual.advance(90)
    assert manual.now() == T0 + timedelta(seconds=90)
    scaled = ScaledClock(T0, speed=100)
    again = ScaledClock.from_spec(scaled.spec())
    assert abs((again.now() - scaled.now()).total_seconds()) < 1
    assert scaled.real_seconds(100) == 1


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        # no faults: nothing is scheduled
        (FaultPlan(), []),
        # each kind of fault at its second, run in time order
        (FaultPlan(reboots_at=[30], drops_at=[10], duplicates_at=[20]), ["drop", "duplicate", "reboot at 30s"]),
        # two reboots, each told its instant
        (FaultPlan(reboots_at=[50, 5]), ["reboot at 5s", "reboot at 50s"]),
    ],
)
def test_timeline_schedules_a_fault_plan(plan: FaultPlan, expected: list[str]) -> None:
    t0 = datetime(2026, 3, 29, 10, 0, tzinfo=UTC)
    timeline = Timeline(ManualClock(t0 + timedelta(hours=1)), name="test")  # every event is due at once
    seen: list[str] = []

    timeline.faults(
        plan,
        t0,
        reboot=lambda at: seen.append(f"reboot at {(at - t0).total_seconds():g}s"),
        drop=lambda: seen.append("drop"),
        duplicate=lambda: seen.append("duplicate"),
    )
    timeline.start()

    assert timeline.done.wait(5)
    assert seen == expected


def test_ground_truth_minus_takes_away_a_part_and_refuses_more() -> None:
    whole, part = GroundTruth(), GroundTruth()
    for s, direction in ((5, Direction.IN), (20, Direction.IN), (70, Direction.OUT)):
        whole.add(Crossing(T0 + timedelta(seconds=s), "side", direction))
    part.add(Crossing(T0 + timedelta(seconds=5), "side", Direction.IN))
    assert whole.minus(part).per_minute() == {
        ("side", T0): (1, 0, 0),
        ("side", T0 + timedelta(minutes=1)): (0, 1, 0),
    }
    assert whole.per_minute()[("side", T0)] == (2, 0, 0)  # left as it was
    with pytest.raises(ValueError, match="more than there is"):
        part.minus(whole)
