"""The two staging legs of the batch writer — typed binary COPY and JSON — store the same
rows and find the same duplicates, conflicts and poison, on both storage paths."""

import psycopg
import pytest

from footfall.core import messages
from footfall.core.topics import Topic
from footfall.db.connect import connect
from footfall.ingest.triage import Accepted, Inbound, Reason
from footfall.ingest.writer import BatchWriter, Staging
from tests.ingest_support import CAMERA, COUNTERS, STORE, apply_stores, counts, heatmap, occupancy, topic_for
from tests.integration.conftest import clone_template

PREFIX = "writer-test"
LEGS = pytest.mark.parametrize("staging", ["typed", "json"])


def accepted(*msgs: messages.AnyMessage) -> list[Accepted]:
    out = []
    for i, m in enumerate(msgs):
        topic = topic_for(m, PREFIX)
        out.append(Accepted(Inbound(topic, m.model_dump_json().encode(), i, 1, 0, 0.0), Topic.parse(topic, PREFIX), m))
    return out


def stored(conn: psycopg.Connection) -> tuple[list, list]:
    doors = conn.execute(
        "SELECT store_id, device_id, door_id, start_ts, end_ts, entries, exits, passersby, valid, seq "
        "FROM door_counts ORDER BY device_id, door_id, start_ts"
    ).fetchall()
    occ = conn.execute(
        "SELECT store_id, device_id, zone_id, start_ts, end_ts, occupancy, peak, valid, seq "
        "FROM occupancy ORDER BY device_id, zone_id, start_ts"
    ).fetchall()
    return doors, occ


def _with(m: messages.CountsMessage, i: int, **values: object) -> messages.CountsMessage:
    """`m` with reading `i` changed (unvalidated: poison too)."""
    readings = list(m.readings)
    readings[i] = readings[i].model_copy(update=values)
    return m.model_copy(update={"readings": readings})


def write_story(conn: psycopg.Connection, staging: Staging) -> list:
    """New rows, a redelivery, a conflicting resend and a mixed batch; what each write reported."""
    writer = BatchWriter(conn, dead_letter_keep_bytes=1024, staging=staging)
    writer.prepare()
    first = counts(COUNTERS[0], 1)
    odd = _with(counts(COUNTERS[1], 1), 0, passersby=40)
    odd = _with(odd, 1, valid=False)
    conflicting = _with(first.model_copy(update={"seq": 2}), 0, entries=first.readings[0].entries + 5)
    results = [
        writer.write(accepted(first, odd, occupancy(1), heatmap(1)), []),
        writer.write(accepted(first, occupancy(1)), []),  # redelivered: duplicates only
        writer.write(accepted(conflicting, occupancy(2)), []),
    ]
    return [
        (dict(r.inserted), dict(r.duplicates), dict(r.conflicting_rows), dict(r.dead_letters), len(r.conflicts))
        for r in results
    ]


@LEGS
def test_both_legs_store_the_same_rows_duplicates_and_conflicts(db, staging: Staging) -> None:
    with connect(db) as conn:
        apply_stores(conn)
        report = write_story(conn, staging)
        doors, occ = stored(conn)
        heat = conn.execute("SELECT count(*) AS n FROM heatmap_cells").fetchone()["n"]
        conflicts = conn.execute("SELECT reason_code, reason FROM dead_letters").fetchall()
    assert report == [
        (
            {"door_counts": 6, "occupancy": 2, "heatmap_cells": 3},
            {"door_counts": 0, "occupancy": 0, "heatmap_cells": 0},
            {},
            {},
            0,
        ),
        ({"door_counts": 0, "occupancy": 0}, {"door_counts": 3, "occupancy": 2}, {}, {}, 0),
        (
            {"door_counts": 0, "occupancy": 2},
            {"door_counts": 3, "occupancy": 0},
            {"door_counts": 1},
            {Reason.CONFLICTING_DUPLICATE.value: 1},
            1,
        ),
    ]
    assert heat == 3
    assert len(doors) == 6
    assert len(occ) == 4
    by_key = {(d["device_id"], d["start_ts"]): d for d in doors}
    side = counts(COUNTERS[1], 1)
    head = counts(COUNTERS[0], 1).readings[0]
    assert by_key[(COUNTERS[0], head.start)]["entries"] == head.entries  # the stored row stays
    assert by_key[(COUNTERS[1], side.readings[0].start)]["passersby"] == 40
    assert by_key[(COUNTERS[1], side.readings[1].start)]["valid"] is False
    assert all(d["store_id"] == STORE for d in doors)
    assert {o["zone_id"] for o in occ} == {"", "bakery"}
    assert all(o["device_id"] == CAMERA for o in occ)
    (dead,) = conflicts
    assert dead["reason_code"] == Reason.CONFLICTING_DUPLICATE.value
    assert "already stored with other values" in dead["reason"]
    assert "entries=" in dead["reason"]


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
                seen[leg] = stored(conn)
        assert seen["typed"] == seen["json"]
    finally:
        with connect(pg_server.db, dbname="postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {second.dbname} WITH (FORCE)")


@LEGS
@pytest.mark.parametrize(
    "poison",
    [
        {"door_id": "ma\x00in"},  # a NUL character, which a text column cannot store
        {"entries": 2**40},  # out of range for the integer column
        {"exits": 2**70},  # out of range for any integer PostgreSQL has
    ],
    ids=["nul", "int-range", "bigint-range"],
)
def test_a_value_the_database_refuses_is_isolated_on_both_legs(db, staging: Staging, poison: dict) -> None:
    """Values the contract would refuse, forced past it: that message alone is dead-lettered."""
    bad = _with(counts(COUNTERS[0], 5), 0, **poison)
    good = counts(COUNTERS[1], 5)
    with connect(db) as conn:
        apply_stores(conn)
        writer = BatchWriter(conn, dead_letter_keep_bytes=1024, staging=staging)
        writer.prepare()
        r = writer.write(accepted(good, bad, counts(COUNTERS[1], 6)), [])
        assert r.inserted == {"door_counts": 6}
        assert r.dead_letters == {Reason.DB_REJECTED.value: 1}
        assert [a.message for a, _ in r.poison] == [bad]
        assert conn.execute("SELECT count(*) AS n FROM door_counts").fetchone()["n"] == 6
