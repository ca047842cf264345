"""How rules behave over simulated time: flapping values, silent devices, closed hours, and two
engine replicas judging the same rules at once."""

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from footfall.alerts.delivery import DeliveryWorker
from footfall.alerts.engine import Engine
from footfall.core.clock import ManualClock
from footfall.db.alerts import create_subscription
from tests.integration.alerts.conftest import T0, World, add_zone, occupancy, riga_store, sales, traffic

pytestmark = pytest.mark.integration


def events(world: World) -> Counter:
    return Counter(r["kind"] for r in world.conn.execute("SELECT kind FROM alert_events"))


CROWD = {
    "name": "Crowd at the tills",
    "metric": "zone_occupancy",
    "comparator": ">",
    "threshold": 10,
    "window": {"rolling_minutes": 15},
}


@pytest.mark.parametrize(
    ("damping", "expected"),
    [
        ({}, {"firing": 10, "resolved": 10}),  # no damping: every crossing notifies (the storm)
        ({"hysteresis": 3}, {"firing": 1, "resolved": 1}),  # 9 is not 3 below 10: one alert, resolved at 5
        ({"for_minutes": 2}, {}),  # never above for 2 minutes running: nothing
        ({"cooldown_minutes": 30}, {"firing": 1, "resolved": 1}),  # fires once, then stays quiet 30 minutes
    ],
)
def test_value_oscillating_around_the_border_does_not_storm(world: World, damping: dict, expected: dict) -> None:
    riga_store(world.conn, "a")
    add_zone(world.conn, "a")
    world.user("ann", ["a"])
    world.rule("ann", **CROWD, **damping, scope={"store": "a", "zone": "tills"})
    engine = Engine(world.settings, clock=world.clock)
    try:
        for i in range(20):  # 11, 9, 11, 9, … one reading a minute
            world.clock.advance(60)
            occupancy(world.conn, "a", "tills", world.clock.now(), 11 if i % 2 == 0 else 9)
            engine.cycle()
        world.clock.advance(60)
        occupancy(world.conn, "a", "tills", world.clock.now(), 5)  # the crowd is gone
        engine.cycle()
        assert dict(events(world)) == expected
    finally:
        engine.close()


SILENCE = {
    "name": "Counter silent",
    "metric": "device_silence",
    "comparator": ">",
    "threshold": 10,
}


def test_counter_that_stops_while_receipts_come_raises_a_device_alert_in_time(world: World) -> None:
    riga_store(world.conn, "a")
    world.user("ann", ["a"])
    world.rule("ann", **SILENCE, scope={"store": "a"})
    engine = Engine(world.settings, clock=world.clock)
    try:
        traffic(world.conn, "a", T0, 60)  # 10:00–11:00 the counter reports every minute, then stops
        world.clock.advance(3600)
        for _ in range(20):  # the tills keep ringing, one receipt a minute
            sales(world.conn, "a", world.clock.now(), 1)
            engine.cycle()
            world.clock.advance(60)
        row = world.conn.execute("SELECT subject, at, payload FROM alert_events WHERE kind = 'firing'").fetchone()
        assert row is not None
        assert row["subject"] == "a-main"
        assert row["at"] - (T0 + timedelta(hours=1)) <= timedelta(minutes=11)  # threshold 10 min + one cycle
        assert dict(events(world)) == {"firing": 1}
    finally:
        engine.close()


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 6, 3, 19, 0, tzinfo=UTC),  # Wednesday 22:00 in Riga: closed since 21:00
        datetime(2026, 6, 7, 9, 0, tzinfo=UTC),  # Sunday 12:00 in Riga: closed all day
        datetime(2026, 6, 3, 5, 0, tzinfo=UTC),  # Wednesday 08:00 in Riga: not open until 09:00
    ],
)
def test_nothing_fires_outside_opening_hours_or_on_a_closed_day(world: World, at: datetime) -> None:
    riga_store(world.conn, "a")
    world.user("ann", ["a"])
    world.rule("ann", **SILENCE, scope={"store": "a"})
    world.rule(
        "ann",
        name="No traffic",
        metric="visitors",
        comparator="<",
        threshold=1,
        window={"rolling_minutes": 60},
        scope={"store": "a"},
    )
    clock = ManualClock(at)
    engine = Engine(world.settings, clock=clock)
    try:
        for _ in range(10):  # 50 minutes, one cycle every 5
            engine.cycle()
            clock.advance(300)
        assert dict(events(world)) == {}
        assert world.count("SELECT count(*) AS n FROM alert_states WHERE state <> 'ok'") == 0
    finally:
        engine.close()


def test_two_replicas_for_ten_simulated_minutes_never_notify_twice(world: World) -> None:
    stores = [f"s{i}" for i in range(8)]
    for s in stores:
        riga_store(world.conn, s)
        add_zone(world.conn, s)
    world.user("ann", stores)
    sub = create_subscription(
        world.conn, user_id=world.users["ann"], channel="webhook", target=f"{world.webhooks.url}/ann"
    )
    world.webhooks.secrets.append(sub["secret"])
    for s in stores:
        world.rule("ann", **CROWD, scope={"store": s, "zone": "tills"})
    replicas = [Engine(world.settings, clock=world.clock, name=f"r{i}") for i in range(2)]
    worker = DeliveryWorker(world.settings)
    stop = threading.Event()
    applied = Counter()

    def spin(e: Engine) -> None:
        while not stop.is_set():
            applied[e.name] += e.cycle().evaluated

    threads = [threading.Thread(target=spin, args=(e,)) for e in replicas]
    for t in threads:
        t.start()
    try:
        for minute in range(10):
            for half in range(2):
                world.clock.advance(30)
                for k, s in enumerate(stores):  # each store flips at its own pace
                    people = 12 if (minute * 2 + half + k) % (2 + k % 3) == 0 else 4
                    occupancy(world.conn, s, "tills", world.clock.now(), people)
                threading.Event().wait(0.15)
    finally:
        stop.set()
        for t in threads:
            t.join()
        for e in replicas:
            e.close()
    worker.drain()
    worker.close()
    notified = Counter(r["kind"] for r in world.conn.execute("SELECT kind FROM alert_events"))
    assert notified["firing"] > 5  # the run really had transitions to race over
    assert applied["r0"] > 0
    assert applied["r1"] > 0  # and both replicas did work
    ids = [r["id"] for r in world.webhooks.received]
    assert len(ids) == len(set(ids))
    keys = [(r["body"]["state_id"], r["body"]["seq"]) for r in world.webhooks.received]
    assert len(keys) == len(set(keys))
    assert len(world.webhooks.received) == notified["firing"] + notified["resolved"]
