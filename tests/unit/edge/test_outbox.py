"""The durable queue: order, durability, seq, leases, and the queue-full merge rule."""

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from footfall.core import messages
from footfall.core.topics import Kind
from footfall.edge.errors import OutboxError
from footfall.edge.merging import merge
from footfall.edge.outbox import ROW_OVERHEAD, Outbox
from tests.strategies import READINGS

T0 = datetime(2026, 3, 29, 8, 0, tzinfo=UTC)


def minute(i: int, *, door: str = "main", entries: int = 1, exits: int = 0, passersby=None) -> messages.CountsReading:
    start = T0 + timedelta(minutes=i)
    return messages.CountsReading(
        start=start, end=start + timedelta(minutes=1), door_id=door, entries=entries, exits=exits, passersby=passersby
    )


@pytest.fixture
def outbox(tmp_path: Path):
    ob = Outbox.open(tmp_path / "q" / "outbox.db", max_bytes=64 * 1024 * 1024, synchronous="normal")
    yield ob
    ob.close()


def test_readings_come_out_in_order_per_device_and_go_only_when_acknowledged(outbox: Outbox) -> None:
    outbox.put(Kind.COUNTS, "door-a", [minute(i) for i in range(5)])
    outbox.put(Kind.COUNTS, "door-b", [minute(i, door="side") for i in range(3)])
    batch = outbox.claim(max_readings=3)
    assert batch is not None
    assert (batch.device_id, [r.start for r in batch.readings]) == ("door-a", [minute(i).start for i in range(3)])
    assert outbox.depth == 8  # claimed, not acknowledged: still queued
    outbox.ack(batch.ids)
    assert outbox.depth == 5
    nxt = outbox.claim(max_readings=100)
    assert nxt is not None
    assert nxt.device_id == "door-a"
    assert [r.start for r in nxt.readings] == [minute(3).start, minute(4).start]


def test_claimed_readings_are_not_claimed_twice_until_released(outbox: Outbox) -> None:
    outbox.put(Kind.COUNTS, "door-a", [minute(i) for i in range(2)])
    first = outbox.claim()
    assert first is not None
    assert outbox.claim() is None
    outbox.release(first.ids)
    again = outbox.claim()
    assert again is not None
    assert again.ids == first.ids


def test_queue_survives_a_restart_and_a_new_process_sees_unacknowledged_claims(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    ob = Outbox.open(path)
    ob.put(Kind.COUNTS, "door-a", [minute(i) for i in range(4)])
    claimed = ob.claim(max_readings=2)
    assert claimed is not None
    ob.commit("door-a", {}, state={"cursor": 42})
    ob.close()  # the process dies before the broker acknowledged anything
    ob2 = Outbox.open(path)
    try:
        assert ob2.depth == 4
        assert ob2.load_state("door-a") == {"cursor": 42}
        again = ob2.claim(max_readings=10)
        assert again is not None
        assert again.size == 4
    finally:
        ob2.close()


def test_seq_increases_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    ob = Outbox.open(path)
    got = [ob.allocate_seq("door-a"), ob.allocate_seq("door-a", 2), ob.allocate_seq("door-b")]
    ob.close()
    ob = Outbox.open(path)
    got.append(ob.allocate_seq("door-a"))
    ob.close()
    assert got == [1, 2, 1, 4]


@pytest.mark.parametrize("kind", [k for k in Kind if k is not Kind.STATUS])
@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_kind_is_queued_and_comes_back_unchanged(outbox: Outbox, kind: Kind, data) -> None:
    reading = data.draw(READINGS[kind])
    outbox.put(kind, "cam-1", [reading])
    batch = outbox.claim()
    assert batch is not None
    assert (batch.kind, batch.readings) == (kind, [reading])
    outbox.ack(batch.ids)


@pytest.mark.parametrize(
    ("kind", "reading", "message"),
    [
        # a counts reading put as occupancy
        (Kind.OCCUPANCY, minute(0), "cannot be queued as occupancy"),
        # status carries no readings
        (Kind.STATUS, minute(0), "carries no readings"),
    ],
)
def test_put_refuses_a_reading_of_the_wrong_kind(outbox: Outbox, kind, reading, message) -> None:
    with pytest.raises(OutboxError, match=message):
        outbox.put(kind, "door-a", [reading])


def totals(readings) -> Counter:
    out: Counter = Counter()
    for r in readings:
        out[(r.door_id, "entries")] += r.entries
        out[(r.door_id, "exits")] += r.exits
        out[(r.door_id, "passersby")] += r.passersby or 0
    return out


def test_full_queue_merges_old_minutes_into_coarser_intervals_without_changing_totals(tmp_path: Path) -> None:
    one = len(minute(0).model_dump_json()) + ROW_OVERHEAD
    ob = Outbox.open(tmp_path / "outbox.db", max_bytes=1024 * 1024, synchronous="normal")
    ob.max_bytes = 300 * one  # a budget of ~300 minute readings (the minimum of the config is 1 MiB)
    try:
        written = [
            minute(i, door=door, entries=i % 7, exits=i % 5, passersby=i % 3 if door == "main" else None)
            for i in range(600)
            for door in ("main", "side")
        ]
        for i in range(0, len(written), 20):  # a minute's worth at a time, as the agent writes them
            ob.put(Kind.COUNTS, "door-a", written[i : i + 20])
        queued = ob.readings("door-a", Kind.COUNTS)
        assert ob.bytes <= ob.max_bytes
        assert len(queued) < len(written)
        assert ob.merged > 0
        assert totals(queued) == totals(written)
        keys = [(r.door_id, r.start) for r in queued]
        assert len(keys) == len(set(keys)), "two readings share a natural key"
        for door in ("main", "side"):  # intervals of one door do not overlap and cover the same span
            rs = sorted((r for r in queued if r.door_id == door), key=lambda r: r.start)
            assert all(a.end <= b.start for a, b in itertools.pairwise(rs))
            assert (rs[0].start, rs[-1].end) == (T0, T0 + timedelta(minutes=600))
    finally:
        ob.close()


def test_full_queue_never_merges_readings_already_handed_to_the_broker(tmp_path: Path) -> None:
    one = len(minute(0).model_dump_json()) + ROW_OVERHEAD
    ob = Outbox.open(tmp_path / "outbox.db", synchronous="normal")
    ob.max_bytes = 10**9
    try:
        ob.put(Kind.COUNTS, "door-a", [minute(i) for i in range(30)])
        sent = ob.claim(max_readings=7)  # handed to the broker, no PUBACK yet
        assert sent is not None
        ob.release(sent.ids)  # e.g. the connection dropped: they will be re-sent as they are
        ob.max_bytes = 12 * one
        ob.enforce_budget()
        queued = ob.readings("door-a")
        for r in sent.readings:
            assert r in queued, "a reading the broker may hold was changed"
        assert sum(r.entries for r in queued) == 30
    finally:
        ob.close()


def test_full_queue_drops_tracks_before_merging_anything(tmp_path: Path) -> None:
    ob = Outbox.open(tmp_path / "outbox.db", synchronous="normal")
    try:
        track = messages.TracksReading(
            start=T0,
            end=T0 + timedelta(minutes=1),
            floor_id="ground",
            tracks=[messages.Track(points=[messages.TrackPoint(t=float(i), x=1.0, y=2.0) for i in range(50)])],
        )
        ob.put(Kind.TRACKS, "cam-1", [track] * 20)
        ob.put(Kind.COUNTS, "door-a", [minute(i) for i in range(10)])
        ob.max_bytes = ob.bytes - 1000
        ob.enforce_budget()
        assert len(ob.readings("door-a")) == 10, "counts were merged although dropping tracks was enough"
        assert ob.dropped > 0
        assert len(ob.readings("cam-1", Kind.TRACKS)) < 20
    finally:
        ob.close()


T = datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
M = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("kind", "parts", "expected"),
    [
        # counts: summed; passers-by summed where known; valid only if all were
        (
            Kind.COUNTS,
            [
                messages.CountsReading(start=T, end=T + M, door_id="d", entries=2, exits=1, passersby=None),
                messages.CountsReading(
                    start=T + M, end=T + 2 * M, door_id="d", entries=3, exits=0, passersby=4, valid=False
                ),
            ],
            messages.CountsReading(start=T, end=T + 2 * M, door_id="d", entries=5, exits=1, passersby=4, valid=False),
        ),
        # zones: visits summed, dwell lists joined, occupancy of the last part
        (
            Kind.ZONES,
            [
                messages.ZonesReading(start=T, end=T + M, zone_id="z", entries=1, exits=1, dwell_s=[10.0], occupancy=3),
                messages.ZonesReading(
                    start=T + M, end=T + 2 * M, zone_id="z", entries=2, exits=0, dwell_s=[5.0], occupancy=5
                ),
            ],
            messages.ZonesReading(
                start=T, end=T + 2 * M, zone_id="z", entries=3, exits=1, dwell_s=[10.0, 5.0], occupancy=5
            ),
        ),
        # occupancy: the last state, the largest peak
        (
            Kind.OCCUPANCY,
            [
                messages.OccupancyReading(start=T, end=T + M, occupancy=7, peak=9),
                messages.OccupancyReading(start=T + M, end=T + 2 * M, occupancy=4, peak=None),
            ],
            messages.OccupancyReading(start=T, end=T + 2 * M, occupancy=4, peak=9),
        ),
        # heatmap: per-cell sums over the union of cells
        (
            Kind.HEATMAP,
            [
                messages.HeatmapReading(
                    start=T,
                    end=T + M,
                    floor_id="g",
                    cell_m=0.5,
                    cells=[messages.HeatmapCell(x=1, y=1, presence_s=30, tracks=3)],
                ),
                messages.HeatmapReading(
                    start=T + M,
                    end=T + 2 * M,
                    floor_id="g",
                    cell_m=0.5,
                    cells=[
                        messages.HeatmapCell(x=1, y=1, presence_s=12, tracks=4),
                        messages.HeatmapCell(x=2, y=1, presence_s=9, tracks=3),
                    ],
                ),
            ],
            messages.HeatmapReading(
                start=T,
                end=T + 2 * M,
                floor_id="g",
                cell_m=0.5,
                cells=[
                    messages.HeatmapCell(x=1, y=1, presence_s=42, tracks=7),
                    messages.HeatmapCell(x=2, y=1, presence_s=9, tracks=3),
                ],
            ),
        ),
        # heartbeat: the newest, stretched
        (
            Kind.HEARTBEAT,
            [
                messages.HeartbeatReading(start=T, end=T + M, uptime_s=60, queue_depth=10),
                messages.HeartbeatReading(start=T + M, end=T + 2 * M, uptime_s=120, queue_depth=20),
            ],
            messages.HeartbeatReading(start=T, end=T + 2 * M, uptime_s=120, queue_depth=20),
        ),
    ],
)
def test_merge_rule_per_kind(kind, parts, expected) -> None:
    assert merge(kind, parts) == expected


def test_merge_leaves_a_group_that_would_break_the_contract_alone() -> None:
    parts = [
        messages.ZonesReading(start=T, end=T + M, zone_id="z", entries=1, exits=1, dwell_s=[1.0] * messages.MAX_DWELLS),
        messages.ZonesReading(start=T + M, end=T + 2 * M, zone_id="z", entries=1, exits=1, dwell_s=[1.0]),
    ]
    assert merge(Kind.ZONES, parts) is None


@settings(max_examples=25, deadline=None)
@given(
    counts=st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=10, max_size=400),
    claimed=st.integers(0, 50),
    budget_rows=st.integers(5, 200),
)
def test_merging_never_changes_totals_whatever_the_budget(tmp_path_factory, counts, claimed, budget_rows) -> None:
    one = len(minute(0).model_dump_json()) + ROW_OVERHEAD
    ob = Outbox.open(tmp_path_factory.mktemp("q") / "outbox.db", synchronous="normal")
    try:
        written = [minute(i, entries=e, exits=x) for i, (e, x) in enumerate(counts)]
        ob.put(Kind.COUNTS, "door-a", written)
        sent = ob.claim(max_readings=max(1, claimed)) if claimed else None
        ob.max_bytes = budget_rows * one
        ob.enforce_budget()
        queued = ob.readings("door-a")
        assert totals(queued) == totals(written)
        if sent is not None:
            assert all(r in queued for r in sent.readings)
        assert all(r.end - r.start <= messages.MAX_INTERVAL for r in queued)
    finally:
        ob.close()
