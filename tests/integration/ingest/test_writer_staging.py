"""The two staging legs of the batch writer — typed binary COPY and JSON — store the same
rows and find the same duplicates, conflicts and poison, for every kind it stores, on both
storage paths."""

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from footfall.core import messages
from footfall.core.topics import Kind, Topic
from footfall.db.connect import connect
from footfall.ingest.registry import DeviceRegistry
from footfall.ingest.triage import Accepted, Inbound, Reason, Triage
from footfall.ingest.writer import TYPED, BatchWriter, Staged, Staging
from tests.ingest_support import (
    CAMERA,
    COUNTERS,
    STORE,
    apply_stores,
    counts,
    heartbeat,
    heatmap,
    occupancy,
    registry_entries,
    status,
    topic_for,
    tracks,
    zones,
)
from tests.integration.conftest import clone_template

PREFIX = "writer-test"
LEGS = pytest.mark.parametrize("staging", ["typed", "json"])
SERVER_K = 4
"""The server's k in the story: heatmap() cells have 3, 4 and 5 tracks, so one of three is dropped."""

COLUMNS = {
    "door_counts": "store_id, device_id, door_id, start_ts, end_ts, entries, exits, passersby, valid, seq",
    "occupancy": "store_id, device_id, zone_id, start_ts, end_ts, occupancy, peak, valid, seq",
    "heatmap_cells": "store_id, device_id, floor_id, start_ts, end_ts, cell_m, x, y, presence_s, tracks, valid, seq",
    "zone_visits": "store_id, device_id, zone_id, start_ts, end_ts, entries, exits, dwell_s, occupancy, valid, seq",
    "tracks": "store_id, device_id, floor_id, start_ts, end_ts, track_no, points, seq",
    "heartbeats": "store_id, device_id, start_ts, end_ts, seq, sent_at, uptime_s, queue_depth, payload",
    "device_status": "device_id, store_id, state, seq, sent_at",
}
"""Every fact table's columns but the server's own `received_at`/`updated_at` stamps."""


def accepted(*msgs: messages.AnyMessage) -> list[Accepted]:
    """Messages as the writer gets them, without triage (so poison the contract refuses gets through)."""
    out = []
    for i, m in enumerate(msgs):
        topic = topic_for(m, PREFIX)
        out.append(Accepted(Inbound(topic, m.model_dump_json().encode(), i, 1, 0, 0.0), Topic.parse(topic, PREFIX), m))
    return out


def triaged(*msgs: messages.AnyMessage) -> list[Accepted]:
    """Messages through the real triage with the server's k at `SERVER_K`: all accepted."""
    devices, places = registry_entries()
    triage = Triage(
        prefix=PREFIX,
        registry=DeviceRegistry.from_entries(devices, places),
        max_payload_bytes=1 << 20,
        min_k=SERVER_K,
    )
    inbound = [Inbound(topic_for(m, PREFIX), m.model_dump_json().encode(), i, 1, 0, 0.0) for i, m in enumerate(msgs)]
    good, bad = triage.sort(inbound)
    assert not bad, [r.detail for r in bad]
    return good


def stored(conn: psycopg.Connection) -> dict[str, list]:
    """Every fact table's rows, in key order."""
    return {
        table: conn.execute(f"SELECT {cols} FROM {table} ORDER BY {cols}").fetchall() for table, cols in COLUMNS.items()
    }


def _with(m: Any, i: int, **values: object) -> Any:
    """`m` with reading `i` changed (unvalidated: poison too)."""
    readings = list(m.readings)
    readings[i] = readings[i].model_copy(update=values)
    return m.model_copy(update={"readings": readings})


def _with_cell(m: messages.HeatmapMessage, **values: object) -> messages.HeatmapMessage:
    """`m` with the last cell of its first reading changed (unvalidated)."""
    reading = m.readings[0]
    cells = list(reading.cells)
    cells[-1] = cells[-1].model_copy(update=values)
    return _with(m, 0, cells=cells)


def write_story(conn: psycopg.Connection, staging: Staging) -> list:
    """New rows of every kind, a redelivery, conflicting resends and a mixed batch; what each write reported."""
    writer = BatchWriter(conn, dead_letter_keep_bytes=1024, staging=staging)
    writer.prepare()
    first = counts(COUNTERS[0], 1)
    odd = _with(counts(COUNTERS[1], 1), 0, passersby=40)
    odd = _with(odd, 1, valid=False)
    conflicting = _with(first.model_copy(update={"seq": 2}), 0, entries=first.readings[0].entries + 5)
    zone = _with(zones(1), 0, occupancy=4)
    zone_conflict = _with(zone.model_copy(update={"seq": 2}), 0, exits=zone.readings[0].exits + 1)
    heat_again = _with_cell(heatmap(1).model_copy(update={"seq": 2}), presence_s=11.5)  # plain duplicate
    empty_zone = _with(zones(3), 0, dwell_s=[])
    results = [
        writer.write(
            triaged(first, odd, occupancy(1), heatmap(1), zone, empty_zone, tracks(1), heartbeat(1), status(1)), []
        ),
        writer.write(triaged(first, occupancy(1), heatmap(1), zone, tracks(1), heartbeat(1), status(1)), []),
        writer.write(
            triaged(conflicting, occupancy(2), zone_conflict, heat_again, heatmap(2), tracks(2), heartbeat(2)), []
        ),
    ]
    return [
        (dict(r.inserted), dict(r.duplicates), dict(r.conflicting_rows), dict(r.dead_letters), len(r.conflicts))
        for r in results
    ]


STORY = [
    (
        {
            "door_counts": 6,
            "occupancy": 2,
            "heatmap_cells": 2,  # of 3: the 3-track cell is under the server's k
            "zone_visits": 2,
            "tracks": 2,
            "heartbeats": 1,
            "device_status": 1,
        },
        {
            "door_counts": 0,
            "occupancy": 0,
            "heatmap_cells": 0,
            "zone_visits": 0,
            "tracks": 0,
            "heartbeats": 0,
            "device_status": 0,
        },
        {},
        {},
        0,
    ),
    (
        {
            "door_counts": 0,
            "occupancy": 0,
            "heatmap_cells": 0,
            "zone_visits": 0,
            "tracks": 0,
            "heartbeats": 0,
            "device_status": 0,
        },
        {
            "door_counts": 3,
            "occupancy": 2,
            "heatmap_cells": 2,
            "zone_visits": 1,
            "tracks": 2,
            "heartbeats": 1,
            "device_status": 1,
        },
        {},
        {},
        0,
    ),
    (
        {"door_counts": 0, "occupancy": 2, "zone_visits": 0, "heatmap_cells": 2, "tracks": 2, "heartbeats": 1},
        {"door_counts": 3, "occupancy": 0, "zone_visits": 1, "heatmap_cells": 2, "tracks": 0, "heartbeats": 0},
        {"door_counts": 1, "zone_visits": 1},
        {Reason.CONFLICTING_DUPLICATE.value: 2},
        2,
    ),
]
"""What each write of the story reports, on either leg."""


@LEGS
def test_both_legs_store_the_same_rows_duplicates_and_conflicts(db, staging: Staging) -> None:
    with connect(db) as conn:
        apply_stores(conn)
        report = write_story(conn, staging)
        rows = stored(conn)
        dead = conn.execute("SELECT reason_code, reason FROM dead_letters ORDER BY reason").fetchall()
    assert report == STORY
    assert {t: len(r) for t, r in rows.items()} == {
        "door_counts": 6,
        "occupancy": 4,
        "heatmap_cells": 4,
        "zone_visits": 2,
        "tracks": 4,
        "heartbeats": 2,
        "device_status": 1,
    }
    by_key = {(d["device_id"], d["start_ts"]): d for d in rows["door_counts"]}
    side = counts(COUNTERS[1], 1)
    head = counts(COUNTERS[0], 1).readings[0]
    assert by_key[(COUNTERS[0], head.start)]["entries"] == head.entries  # the stored row stays
    assert by_key[(COUNTERS[1], side.readings[0].start)]["passersby"] == 40
    assert by_key[(COUNTERS[1], side.readings[1].start)]["valid"] is False
    assert all(d["store_id"] == STORE for d in rows["door_counts"])
    assert {o["zone_id"] for o in rows["occupancy"]} == {"", "bakery"}
    assert all(o["device_id"] == CAMERA for o in rows["occupancy"])
    assert min(c["tracks"] for c in rows["heatmap_cells"]) >= SERVER_K  # the k floor held
    assert {c["presence_s"] for c in rows["heatmap_cells"]} == {11.0, 12.0}  # not the duplicate's 11.5
    assert [(v["dwell_s"], v["occupancy"]) for v in rows["zone_visits"]] == [([12.5, 40.0], 4), ([], None)]
    assert [t["track_no"] for t in rows["tracks"]] == [0, 1, 0, 1]
    assert rows["tracks"][0]["points"] == [
        {"t": 0.0, "x": 1.0, "y": 2.0},
        {"t": 1.0, "x": 2.0, "y": 2.0},
        {
            "t": 2.0,
            "x": 3.0,
            "y": 2.0,
        },
    ]
    beat = rows["heartbeats"][0]
    assert (beat["uptime_s"], beat["queue_depth"]) == (60.0, 1)
    assert beat["payload"]["sensors"][0]["sensor_id"] == COUNTERS[0]
    assert [d["reason_code"] for d in dead] == [Reason.CONFLICTING_DUPLICATE.value] * 2
    assert "entries=" in dead[0]["reason"]
    assert "already stored with other values" in dead[1]["reason"]
    assert any("zone coffee" in d["reason"] for d in dead)


def test_the_legs_agree_row_for_row(pg_server, pg_template: str, db) -> None:
    """The same story through each leg, on two databases cloned from the same template: identical tables."""
    second = pg_server.settings_for(f"{db.dbname}_json")
    clone_template(pg_server.db, pg_template, second.dbname)
    try:
        seen = {}
        for leg, target in (("typed", db), ("json", second)):
            with connect(target) as conn:
                apply_stores(conn)
                write_story(conn, leg)  # type: ignore[arg-type]
                dead = conn.execute("SELECT topic, reason_code, reason, payload FROM dead_letters ORDER BY 1, 2, 3")
                seen[leg] = (stored(conn), dead.fetchall())
        assert seen["typed"] == seen["json"]
    finally:
        with connect(pg_server.db, dbname="postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {second.dbname} WITH (FORCE)")


def test_typed_staging_covers_every_reading_kind() -> None:
    """Only device status (a retained state, not readings) is staged as JSON on the typed leg."""
    assert set(TYPED) == set(Kind) - {Kind.STATUS}
    staged = Staged.from_accepted(accepted(heatmap(1), tracks(1), zones(1), heartbeat(1), status(1)))
    assert staged.kinds == [Kind.STATUS]
    assert {k: len(rows) for k, rows in staged.typed.items()} == {
        Kind.HEATMAP: 3,
        Kind.TRACKS: 2,
        Kind.ZONES: 1,
        Kind.HEARTBEAT: 1,
    }


Maker = Callable[[int], Any]
POISON: list[tuple[str, Maker, Callable[[Any], Any]]] = [
    ("counts-nul", lambda s: counts(COUNTERS[0], s), lambda m: _with(m, 0, door_id="ma\x00in")),
    ("counts-int-range", lambda s: counts(COUNTERS[0], s), lambda m: _with(m, 0, entries=2**40)),
    ("counts-bigint-range", lambda s: counts(COUNTERS[0], s), lambda m: _with(m, 0, exits=2**70)),
    ("occupancy-int-range", occupancy, lambda m: _with(m, 1, occupancy=2**40)),
    ("heatmap-nul", heatmap, lambda m: _with(m, 0, floor_id="gro\x00und")),
    ("heatmap-int-range", heatmap, lambda m: _with_cell(m, x=2**40)),
    ("heatmap-bigint-range", heatmap, lambda m: _with_cell(m, tracks=2**70)),
    ("heatmap-real-range", heatmap, lambda m: _with_cell(m, presence_s=1e300)),
    ("zones-int-range", zones, lambda m: _with(m, 0, entries=2**40)),
    ("zones-dwell-real-range", zones, lambda m: _with(m, 0, dwell_s=[1.0, 1e300])),
    ("tracks-nul", tracks, lambda m: _with(m, 0, floor_id="gro\x00und")),
    ("heartbeat-int-range", heartbeat, lambda m: _with(m, 0, queue_depth=2**40)),
]


@LEGS
@pytest.mark.parametrize(("make", "poison"), [(make, poison) for _, make, poison in POISON], ids=[p[0] for p in POISON])
def test_a_value_the_database_refuses_is_isolated_on_both_legs(
    db, staging: Staging, make: Maker, poison: Callable[[Any], Any]
) -> None:
    """Values the contract would refuse, forced past it: that message alone is dead-lettered."""
    good, bad, later = make(1), poison(make(5)), make(6)
    with connect(db) as conn:
        apply_stores(conn)
        writer = BatchWriter(conn, dead_letter_keep_bytes=1024, staging=staging)
        writer.prepare()
        r = writer.write(accepted(good, bad, later), [])
        table = next(iter(r.inserted))
        want = sum(len(rows) for rows in Staged.from_accepted(accepted(good, later)).typed.values())
        assert r.inserted == {table: want}
        assert r.dead_letters == {Reason.DB_REJECTED.value: 1}
        assert [a.message for a, _ in r.poison] == [bad]
        assert conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"] == want
