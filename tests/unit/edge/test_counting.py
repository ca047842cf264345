"""Cumulative counters → deltas, clock sync, and the per-minute book."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from footfall.edge.counting import (
    Change,
    ClockSync,
    CounterSample,
    CumulativeCounter,
    MinuteBook,
    minute_floor,
)

T0 = datetime(2026, 3, 29, 10, 0, tzinfo=UTC)


def s(values: dict[str, int], boot: int | None = 1, uptime: int | None = None) -> CounterSample:
    return CounterSample(values, boot=boot, uptime_ms=uptime)


@pytest.mark.parametrize(
    ("bits", "first", "second", "change", "delta"),
    [
        # plain increase
        (
            32,
            s({"in": 10, "out": 3}, uptime=1000),
            s({"in": 14, "out": 5}, uptime=2000),
            Change.NORMAL,
            {"in": 4, "out": 2},
        ),
        # the same report again (same boot and uptime) is a duplicate
        (32, s({"in": 10}, uptime=1000), s({"in": 10}, uptime=1000), Change.DUPLICATE, {}),
        # an older report after a newer one is stale, even though its counters are lower
        (32, s({"in": 10}, uptime=2000), s({"in": 7}, uptime=1000), Change.DUPLICATE, {}),
        # a report of a previous boot arriving late is stale
        (32, s({"in": 3}, boot=5, uptime=1000), s({"in": 900}, boot=4, uptime=99_000), Change.DUPLICATE, {}),
        # reboot: new boot number, counters restart at zero; the new values are the delta
        (
            32,
            s({"in": 500, "out": 480}, boot=4, uptime=99_000),
            s({"in": 2, "out": 1}, boot=5, uptime=3000),
            Change.REBOOT,
            {"in": 2, "out": 1},
        ),
        # reboot without a boot number: uptime went backwards
        (32, s({"in": 500}, boot=None, uptime=99_000), s({"in": 2}, boot=None, uptime=3000), Change.REBOOT, {"in": 2}),
        # 16-bit wrap-around
        (16, s({"in": 65_530}, uptime=1000), s({"in": 4}, uptime=2000), Change.WRAP, {"in": 10}),
        # 32-bit wrap-around
        (32, s({"in": 2**32 - 3}, uptime=1000), s({"in": 2}, uptime=2000), Change.WRAP, {"in": 5}),
        # a counter cleared by hand (no reboot, drop too large for a wrap) restarts from its new value
        (32, s({"in": 5000}, uptime=1000), s({"in": 3}, uptime=2000), Change.RESET, {"in": 3}),
        # no boot or uptime at all: equal counters are a duplicate
        (32, s({"in": 7}, boot=None), s({"in": 7}, boot=None), Change.DUPLICATE, {}),
        # a counter the device starts reporting later begins as a baseline
        (32, s({"in": 7}, uptime=1), s({"in": 8, "out": 40}, uptime=2), Change.NORMAL, {"in": 1, "out": 0}),
    ],
)
def test_cumulative_counter_turns_reports_into_deltas(bits, first, second, change, delta) -> None:
    c = CumulativeCounter(bits=bits, max_step=1000)
    assert c.update(first).change is Change.FIRST
    d = c.update(second)
    assert d.change is change
    assert d.values == delta


def test_cumulative_counter_refuses_a_value_wider_than_its_counters() -> None:
    c = CumulativeCounter(bits=16)
    with pytest.raises(ValueError, match="does not fit in 16 bits"):
        c.update(s({"in": 70_000}))


@given(st.lists(st.integers(0, 300), min_size=1, max_size=60), st.integers(0, 2**16 - 1), st.data())
def test_cumulative_counter_sum_of_deltas_equals_people_counted_through_wraps_and_duplicates(steps, start, data):
    """Whatever the wraps, re-sent and stale reports, the deltas add up to what was counted."""
    c = CumulativeCounter(bits=16, max_step=1000)
    value, uptime = start, 1000
    reports = [s({"in": value}, uptime=uptime)]
    for step in steps:
        value = (value + step) % 2**16
        uptime += 1000
        reports.append(s({"in": value}, uptime=uptime))
    # Duplicate some reports and deliver some late (after their successor).
    sent = []
    for r in reports:
        sent.append(r)
        if data.draw(st.booleans()):
            sent.append(r)
    total = 0
    for r in sent:
        total += c.update(r).values.get("in", 0)
    assert total == sum(steps)


def test_counter_state_round_trips() -> None:
    c = CumulativeCounter(bits=16)
    c.update(s({"in": 5, "out": 1}, boot=3, uptime=10))
    d = CumulativeCounter(bits=16)
    d.restore(c.state())
    assert d.update(s({"in": 6, "out": 1}, boot=3, uptime=20)).values == {"in": 1, "out": 0}


def test_clock_sync_one_way_takes_the_sample_with_the_least_transit() -> None:
    sync = ClockSync()
    # device clock is 42 s ahead; transit 0.5 s, 0.05 s and 2 s
    for transit in (0.5, 0.05, 2.0):
        sync.observe(device_ts=T0 + timedelta(seconds=42), received=T0 + timedelta(seconds=transit))
    assert sync.offset == pytest.approx(42 - 0.05)


def test_clock_sync_round_trip_takes_the_shortest_round_trip() -> None:
    sync = ClockSync()
    sync.observe_round_trip(sent=T0, device_ts=T0 + timedelta(seconds=10.4), received=T0 + timedelta(seconds=0.8))
    sync.observe_round_trip(sent=T0, device_ts=T0 + timedelta(seconds=10.01), received=T0 + timedelta(seconds=0.02))
    assert sync.offset == pytest.approx(10.0)


def test_clock_sync_follows_linear_drift_for_reports_buffered_during_an_outage() -> None:
    """Anchors before and after an outage: a buffered report is corrected with its own time's offset."""
    sync = ClockSync()
    drift = 0.001  # 1000 ppm: 3.6 s per hour

    def offset(t: datetime) -> float:
        return 30 + (t - T0).total_seconds() * drift

    before = T0
    after = T0 + timedelta(hours=2)
    for t in (before, after):
        sync.observe_round_trip(sent=t, device_ts=t + timedelta(seconds=offset(t)), received=t)
    middle = T0 + timedelta(hours=1, minutes=3, seconds=17)
    device_ts = middle + timedelta(seconds=offset(middle))
    assert abs((sync.to_agent(device_ts) - middle).total_seconds()) < 0.01


def test_clock_sync_state_round_trips() -> None:
    sync = ClockSync()
    sync.observe(device_ts=T0 + timedelta(seconds=5), received=T0)
    other = ClockSync()
    other.restore(sync.state())
    assert other.offset == sync.offset


def ts(minutes: float) -> float:
    return (T0 + timedelta(minutes=minutes)).timestamp()


def test_minute_book_emits_each_minute_once_the_device_reported_past_it() -> None:
    book = MinuteBook(["main"])
    book.observe(ts(0.1))
    book.add("main", ts(0.5), entries=2, exits=1)
    book.observe(ts(0.5))
    assert book.close() == []  # the device has not reported past 10:01 yet
    book.add("main", ts(1.5), entries=1)
    book.observe(ts(1.5))
    out = book.close()
    assert [(r.start, r.entries, r.exits) for r in out] == [(T0, 2, 1)]
    book.observe(ts(3.2))
    out = book.close()
    assert [(r.start.minute, r.entries) for r in out] == [(1, 1), (2, 0)]  # a quiet minute is a zero, not a gap


def test_minute_book_first_minute_is_partial_and_invalid() -> None:
    book = MinuteBook(["main"])
    book.observe(ts(0.5))
    book.observe(ts(2.1))
    out = book.close()
    assert [(r.start.minute, r.valid) for r in out] == [(0, False), (1, True)]


def test_minute_book_folds_a_late_report_into_the_earliest_open_minute() -> None:
    book = MinuteBook(["main"])
    for minutes in (0.0, 1.0, 2.1):
        book.observe(ts(minutes))
    assert len(book.close()) == 2  # 10:00 and 10:01 emitted
    assert book.add("main", ts(0.5), entries=3) is False  # for 10:00, already emitted
    book.observe(ts(3.1))
    out = book.close()
    assert [(r.start.minute, r.entries) for r in out] == [(2, 3)]
    assert book.late == 1


def test_minute_book_skips_minutes_the_device_never_observed_and_flags_the_edges() -> None:
    book = MinuteBook(["main"], gap_s=120)
    book.observe(ts(0.0))
    book.observe(ts(1.5))
    book.observe(ts(10.5))  # silent from 10:01:30 to 10:10:30
    book.add("main", ts(10.6), entries=1)
    book.observe(ts(11.5))
    book.observe(ts(12.1))
    out = book.close()
    starts = [(r.start.minute, r.valid) for r in out]
    assert starts == [(0, True), (1, False), (10, False), (11, True)]


def test_minute_book_blocked_minutes_are_invalid() -> None:
    book = MinuteBook(["main"])
    book.mark_invalid(ts(1.2), ts(2.4))
    for minutes in (0.0, 1.0, 2.0, 3.0, 4.1):
        book.observe(ts(minutes))
    assert [r.valid for r in book.close()] == [True, False, False, True]


def test_minute_book_passersby_only_on_doors_that_count_them() -> None:
    book = MinuteBook(["main", "side"], passersby_doors=["main"])
    book.observe(ts(0.0))
    book.add("main", ts(0.5), passersby=4)
    book.observe(ts(1.1))
    out = {r.door_id: r.passersby for r in book.close()}
    assert out == {"main": 4, "side": None}


def test_minute_book_refuses_an_unknown_door() -> None:
    book = MinuteBook(["main"])
    with pytest.raises(ValueError, match="not counted by this device"):
        book.add("side", ts(0), entries=1)


def test_minute_book_state_round_trips_with_open_minutes() -> None:
    book = MinuteBook(["main"])
    book.observe(ts(0.0))
    book.add("main", ts(0.5), entries=4)
    book.observe(ts(0.6))
    other = MinuteBook(["main"])
    other.restore(book.state())
    other.observe(ts(1.5))
    assert [(r.start, r.entries) for r in other.close()] == [(T0, 4)]


def test_minute_floor() -> None:
    assert minute_floor(ts(3.99)) == ts(3)


def test_clock_sync_ignores_reports_delivered_late_after_an_agent_restart() -> None:
    """A broker hands over 30 s of queued reports at once: they say nothing about the device clock."""
    sync = ClockSync()
    sync.observe(device_ts=T0 + timedelta(seconds=5), received=T0)  # live: offset 5 s
    back = T0 + timedelta(seconds=90)
    for age in range(30, 0, -3):  # queued reports stamped 30 s … 3 s ago, all received now
        sync.observe(device_ts=back - timedelta(seconds=age - 5), received=back)
    assert sync.offset == pytest.approx(5)


def test_clock_sync_believes_a_clock_that_stepped_back_for_two_buckets() -> None:
    sync = ClockSync(bucket_s=60)
    sync.observe(device_ts=T0 + timedelta(seconds=5), received=T0)
    for s in range(10, 200, 10):  # from now on the device clock is 20 s behind
        t = T0 + timedelta(seconds=s)
        sync.observe(device_ts=t - timedelta(seconds=20), received=t)
    assert sync.offset == pytest.approx(-20)
