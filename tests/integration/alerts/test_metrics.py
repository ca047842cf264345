"""Each kind of metric judged on real rows: minimum sample, relative borders, devices, and rules
applied from a store file."""

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from footfall.alerts.engine import Engine
from footfall.core.storeconfig import StoreConfig
from footfall.db.alerts import apply_store_rules
from footfall.db.stores import apply_store
from tests.integration.alerts.conftest import T0, World, riga_store, sales
from tests.integration.api.conftest import add_door_minutes

pytestmark = pytest.mark.integration


def _faults(world: World, n: int) -> None:
    world.conn.execute("INSERT INTO devices (device_id, store_id, kind) VALUES ('a-cam', 'a', 'camera')")
    for i in range(n):
        t = T0 + timedelta(minutes=5 * i)
        payload = {"sensors": [{"sensor_id": "a-cam", "faults": ["lens_blocked"] if i % 2 == 0 else []}]}
        world.conn.execute(
            "INSERT INTO heartbeats (store_id, device_id, start_ts, end_ts, seq, sent_at, uptime_s, queue_depth, "
            "payload) VALUES ('a', 'a-edge', %s, %s, %s, %s, 1, 0, %s)",
            (t, t + timedelta(minutes=1), i, t, json.dumps(payload)),
        )


def _weeks(world: World, per_minute_then: int, per_minute_now: int) -> None:
    for k in range(1, 5):
        add_door_minutes(world.conn, "a", T0 - timedelta(weeks=k), 60, entries=per_minute_then)
    add_door_minutes(world.conn, "a", T0, 60, entries=per_minute_now)


CASES: list[tuple[dict, Callable[[World], None], bool]] = [
    # conversion with 60 visitors and no receipt: red
    (
        {"metric": "conversion", "comparator": "<", "threshold": 0.15},
        lambda w: add_door_minutes(w.conn, "a", T0, 60, entries=1),
        True,
    ),
    # … but with 20 visitors it is not judged: conversion only after 30 visitors
    (
        {"metric": "conversion", "comparator": "<", "threshold": 0.15},
        lambda w: add_door_minutes(w.conn, "a", T0, 60, entries=lambda i: int(i % 3 == 0)),
        False,
    ),
    # the tills ring, the counters count nothing: red
    (
        {"metric": "traffic_while_pos", "comparator": "<=", "threshold": 0},
        lambda w: (add_door_minutes(w.conn, "a", T0, 60, entries=0), sales(w.conn, "a", T0, 6, every_s=600)),
        True,
    ),
    # the tills ring and people are counted: fine
    (
        {"metric": "traffic_while_pos", "comparator": "<=", "threshold": 0},
        lambda w: (add_door_minutes(w.conn, "a", T0, 60, entries=2), sales(w.conn, "a", T0, 6, every_s=600)),
        False,
    ),
    # a counter that counts people in and never out
    (
        {"metric": "counter_imbalance", "comparator": ">", "threshold": 0.5},
        lambda w: add_door_minutes(w.conn, "a", T0, 60, entries=2, exits=0),
        True,
    ),
    (
        {"metric": "counter_imbalance", "comparator": ">", "threshold": 0.5},
        lambda w: add_door_minutes(w.conn, "a", T0, 60, entries=2, exits=2),
        False,
    ),
    # a camera whose heartbeats report a blocked lens, 6 times in the hour
    ({"metric": "camera_health", "comparator": ">", "threshold": 2}, lambda w: _faults(w, 12), True),
    ({"metric": "camera_health", "comparator": ">", "threshold": 2}, lambda w: _faults(w, 4), False),
    # traffic at a quarter of the same hour on the last four Wednesdays, border at half
    ({"metric": "visitors", "comparator": "<", "baseline": {"ratio": 0.5}}, lambda w: _weeks(w, 4, 1), True),
    ({"metric": "visitors", "comparator": "<", "baseline": {"ratio": 0.5}}, lambda w: _weeks(w, 4, 3), False),
]


@pytest.mark.parametrize(("rule", "data", "fires"), CASES)
def test_metric_judged_on_real_rows(world: World, rule: dict, data: Callable[[World], None], fires: bool) -> None:
    riga_store(world.conn, "a")
    world.user("ann", ["a"])
    world.rule("ann", name="r", window={"rolling_minutes": 60}, **rule, scope={"store": "a"})
    data(world)
    world.clock.advance(3600)
    engine = Engine(world.settings, clock=world.clock)
    try:
        engine.cycle()
        n = world.count("SELECT count(*) AS n FROM alert_events WHERE kind = 'firing'")
        assert n == (1 if fires else 0)
    finally:
        engine.close()


def test_store_file_rules_apply_idempotently_and_prune(world: World) -> None:
    cfg = StoreConfig.from_yaml(Path(__file__).parents[3] / "examples" / "store.yaml")
    with world.conn.transaction():
        apply_store(world.conn, cfg)
    first = apply_store_rules(world.conn, cfg)
    assert (first.created, first.updated, first.removed) == (4, 0, 0)
    again = apply_store_rules(world.conn, cfg)
    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    fewer = cfg.model_copy(update={"alerts": cfg.alerts[:2]})
    pruned = apply_store_rules(world.conn, fewer)
    assert (pruned.created, pruned.updated, pruned.removed) == (0, 0, 2)
    stores = {r["store_id"] for r in world.conn.execute("SELECT store_id FROM alert_rules")}
    assert stores == {"riga-01"}
