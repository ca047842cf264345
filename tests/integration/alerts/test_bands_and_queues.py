"""Forecast-band rules against stored models, and checkout queue rules against the merchandiser
queue figures, judged on real rows; a store with no trained model says so instead of firing."""

from datetime import datetime, timedelta

import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient

from footfall.alerts.engine import CHANNEL, Engine
from footfall.api.access import Role
from footfall.api.forecasts import forecast_band, train_store
from footfall.api.kpis import store_info
from footfall.api.merch.queries import queue_now
from footfall.db.connect import connect
from tests.integration.alerts.conftest import T0, World, login, riga_store
from tests.integration.api.conftest import add_door_minutes

pytestmark = pytest.mark.integration

PER_HOUR = 40
"""Visitors per open hour in the history the models learn from."""


def history(conn: psycopg.Connection, store_id: str, *, weeks: int = 5) -> None:
    """`weeks` of quarter-hour counts up to T0 on the store's main door: about PER_HOUR an open hour."""
    rng = np.random.default_rng(7)
    tz = store_info(conn, store_id).calendar.tz
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, valid, seq) FROM STDIN"
        ) as copy,
    ):
        t, n = T0 - timedelta(weeks=weeks), 0
        while t < T0:
            local = t.astimezone(tz)
            open_ = local.weekday() < 6 and 9 <= local.hour < 21
            e = int(rng.poisson(PER_HOUR / 4)) if open_ else 0
            copy.write_row((store_id, f"{store_id}-main", "main", t, t + timedelta(minutes=15), e, e, True, n))
            t += timedelta(minutes=15)
            n += 1


def state(world: World) -> dict:
    return world.conn.execute("SELECT * FROM alert_states").fetchone()


def run_once(world: World) -> None:
    engine = Engine(world.settings, clock=world.clock)
    try:
        engine.cycle()
    finally:
        engine.close()


BAND_CASES = [
    # 5 visitors in an hour the model expects about 40 of: under the band's lower edge
    ({"comparator": "<"}, lambda i: int(i % 12 == 0), True),
    # about 40: inside the band, either side
    ({"comparator": "<"}, lambda i: int(i % 3 != 0), False),
    ({"comparator": ">"}, lambda i: int(i % 3 != 0), False),
    # 120: over the upper edge
    ({"comparator": ">"}, lambda i: 2, True),
    # 5 visitors, but the border is a tenth of the lower edge: inside
    ({"comparator": "<", "baseline": {"kind": "forecast_band", "ratio": 0.1}}, lambda i: int(i % 12 == 0), False),
    # the same through a KPI rule: visitors against the forecast band
    (
        {"metric": "visitors", "comparator": "<", "baseline": {"kind": "forecast_band", "ratio": 1}},
        lambda i: int(i % 12 == 0),
        True,
    ),
]


@pytest.mark.parametrize(("rule", "entries", "fires"), BAND_CASES)
def test_forecast_band_rule_fires_when_traffic_leaves_the_trained_band(
    world: World, rule: dict, entries, fires: bool
) -> None:
    riga_store(world.conn, "a")
    history(world.conn, "a")
    train_store(world.conn, store_info(world.conn, "a"), end=T0)
    world.user("ann", ["a"])
    spec = {"name": "band", "metric": "forecast_band", "window": {"rolling_minutes": 60}, "scope": {"store": "a"}}
    world.rule("ann", **(spec | rule))
    add_door_minutes(world.conn, "a", T0, 60, entries=entries, exits=0)
    world.clock.advance(3600)
    run_once(world)
    s = state(world)
    assert world.count("SELECT count(*) AS n FROM alert_events WHERE kind = 'firing'") == (1 if fires else 0)
    assert s["note"] == ""
    # the border is the API's own band for that hour (10:00–11:00 in Riga), lower or upper edge
    band = forecast_band(world.conn, store=store_info(world.conn, "a"), start=T0, end=T0 + timedelta(hours=1))
    assert band is not None
    edge = float(band.lower.sum() if rule["comparator"] == "<" else band.upper.sum())
    ratio = rule.get("baseline", {}).get("ratio", 1.0)
    assert s["border"] == pytest.approx(ratio * edge, rel=1e-6)
    assert 0 < float(band.lower.sum()) < PER_HOUR < float(band.upper.sum())


def test_forecast_band_weights_the_hours_by_the_part_of_the_window_that_has_passed(world: World) -> None:
    riga_store(world.conn, "a")
    history(world.conn, "a")
    train_store(world.conn, store_info(world.conn, "a"), end=T0)
    world.user("ann", ["a"])
    world.rule("ann", name="band", metric="forecast_band", comparator="<", window={"to_date": "day"},
               scope={"store": "a"})  # fmt: skip
    add_door_minutes(world.conn, "a", T0, 90, entries=1, exits=0)
    world.clock.advance(90 * 60)  # 11:30 in Riga: the day so far is midnight to 11:30
    run_once(world)
    store = store_info(world.conn, "a")
    midnight = store.calendar.day_start(store.calendar.local_date(T0))
    band = forecast_band(world.conn, store=store, start=midnight, end=T0 + timedelta(hours=2))
    assert band is not None
    assert band.times[-1] == (T0 + timedelta(hours=1)).timestamp()  # the hour from 11:00, half passed
    want = float(band.lower[:-1].sum() + 0.5 * band.lower[-1])
    assert want > 0
    assert state(world)["border"] == pytest.approx(want, rel=1e-6)


def test_without_a_trained_model_a_band_rule_says_so_and_never_fires(world: World, client: TestClient) -> None:
    riga_store(world.conn, "a")
    history(world.conn, "a")  # history, but nobody trained
    world.user("ann", ["a"])
    rule_id = world.rule("ann", name="band", metric="forecast_band", comparator="<", scope={"store": "a"})
    add_door_minutes(world.conn, "a", T0, 60, entries=0, exits=0)
    for _ in range(3):
        world.clock.advance(1200)
        run_once(world)
    assert world.count("SELECT count(*) AS n FROM alert_events") == 0
    alert = client.get("/v1/alerts", headers=login(client, "ann")).json()["data"]
    assert [(a["rule_id"], a["state"]) for a in alert] == [(rule_id, "ok")]
    assert alert[0]["note"] == "no trained entries model for store a: run `footfall models train --store a`"
    # once trained, the note goes and the rule judges: nobody came in, under the band
    train_store(world.conn, store_info(world.conn, "a"), end=T0)
    world.clock.advance(60)
    run_once(world)
    s = state(world)
    assert (s["note"], s["state"], s["value"]) == ("", "firing", 0)
    assert s["border"] > 0


def test_a_stored_model_that_cannot_be_loaded_is_named_with_the_fix(world: World) -> None:
    riga_store(world.conn, "a")
    history(world.conn, "a")
    train_store(world.conn, store_info(world.conn, "a"), end=T0)
    world.conn.execute("UPDATE trained_models SET model = 'not a pickle'::bytea WHERE metric = 'entries'")
    world.user("ann", ["a"])
    world.rule("ann", name="band", metric="forecast_band", comparator="<", scope={"store": "a"})
    add_door_minutes(world.conn, "a", T0, 60, entries=0, exits=0)
    world.clock.advance(3600)
    run_once(world)
    s = state(world)
    assert s["note"].startswith("stored entries model of store a cannot be loaded (v1: ")
    assert s["note"].endswith("run `footfall models train --store a`")
    assert world.count("SELECT count(*) AS n FROM alert_events") == 0


# ---------------------------------------------------------------------- checkout queues


def queue_store(conn: psycopg.Connection, store_id: str) -> None:
    """The Riga store with a checkout queue zone `queue` served at the zone `till`, both watched by `<store>-cam`."""
    riga_store(conn, store_id)
    conn.execute("INSERT INTO floors (store_id, floor_id, width_m, height_m) VALUES (%s, 'g', 30, 20)", (store_id,))
    for zone, kind, till in (("till", "area", None), ("queue", "queue", "till"), ("bakery", "area", None)):
        conn.execute(
            "INSERT INTO zones (store_id, zone_id, floor_id, polygon, area_m2, kind, till_zone) "
            "VALUES (%s, %s, 'g', '[]', 10, %s, %s)",
            (store_id, zone, kind, till),
        )
    conn.execute(
        "INSERT INTO devices (device_id, store_id, kind) VALUES (%s, %s, 'camera')", (f"{store_id}-cam", store_id)
    )


def queue_minutes(
    conn: psycopg.Connection, store_id: str, start: datetime, minutes: int, *, people: int, dwell: list[float]
) -> None:
    """Minutes of the queue zone: two arrivals and departures a minute, `people` waiting, `dwell` of
    the visits that ended."""
    for i in range(minutes):
        t = start + timedelta(minutes=i)
        conn.execute(
            "INSERT INTO zone_visits (store_id, device_id, zone_id, start_ts, end_ts, entries, exits, dwell_s,"
            " occupancy, seq) VALUES (%s, %s, 'queue', %s, %s, 2, 2, %s, %s, %s)",
            (store_id, f"{store_id}-cam", t, t + timedelta(minutes=1), dwell, people, i),
        )
        conn.execute(
            "INSERT INTO occupancy (store_id, device_id, zone_id, start_ts, end_ts, occupancy, peak, seq)"
            " VALUES (%s, %s, 'queue', %s, %s, %s, %s, %s)",
            (store_id, f"{store_id}-cam", t, t + timedelta(minutes=1), people, people + 1, i),
        )


QUEUE_CASES = [
    # six waiting (peak seven) over the last 15 minutes, the store's queues watched: red
    ({"metric": "queue_length", "comparator": ">", "threshold": 4, "scope": {"store": "a"}}, 6, [60.0], True),
    # one waiting: fine
    ({"metric": "queue_length", "comparator": ">", "threshold": 4, "scope": {"store": "a"}}, 1, [60.0], False),
    # the till named: its queue's waiting time, median tracked dwell 160 s over 120 s: red
    (
        {"metric": "queue_wait", "comparator": ">", "threshold": 120, "scope": {"store": "a", "zone": "till"}},
        3,
        [150.0, 170.0],
        True,
    ),
    # the queue zone named, 60 s waits: fine
    (
        {"metric": "queue_wait", "comparator": ">", "threshold": 120, "scope": {"store": "a", "zone": "queue"}},
        3,
        [50.0, 70.0],
        False,
    ),
]


@pytest.mark.parametrize(("rule", "people", "dwell", "fires"), QUEUE_CASES)
def test_queue_rule_judges_the_figures_the_merchandiser_api_shows(
    world: World, rule: dict, people: int, dwell: list[float], fires: bool
) -> None:
    queue_store(world.conn, "a")
    world.user("ann", ["a"])
    world.rule("ann", name="queue", window={"rolling_minutes": 15}, **rule)
    queue_minutes(world.conn, "a", T0, 15, people=people, dwell=dwell)
    world.clock.advance(15 * 60 + 20)
    run_once(world)
    assert world.count("SELECT count(*) AS n FROM alert_events WHERE kind = 'firing'") == (1 if fires else 0)
    s = state(world)
    assert s["subject"] == "queue"  # a store's queues, or a till, are judged per queue zone
    api = queue_now(world.conn, store=store_info(world.conn, "a"), zone_id="queue", minutes=15, now=world.clock.now())
    want = api.data[0].length_max if rule["metric"] == "queue_length" else api.data[0].wait_s
    assert s["value"] == pytest.approx(want)
    if fires:
        payload = world.conn.execute("SELECT payload FROM alert_events").fetchone()["payload"]
        assert "a / zone queue" in payload["text"]


def test_a_queue_rule_with_no_queue_minutes_is_not_judged(world: World) -> None:
    queue_store(world.conn, "a")
    world.user("ann", ["a"])
    world.rule("ann", name="q", metric="queue_wait", comparator=">", threshold=1, scope={"store": "a"})
    world.clock.advance(600)
    run_once(world)
    s = state(world)
    assert (s["state"], s["note"]) == ("ok", "no queue reading in the window")


@pytest.mark.parametrize(
    ("scope", "status"),
    [
        ({"store": "a", "zone": "queue"}, 201),  # the queue zone
        ({"store": "a", "zone": "till"}, 201),  # its till
        ({"store": "a"}, 201),  # every queue of the store
        ({"store": "a", "zone": "bakery"}, 422),  # a sales area: no queue there
        ({"store": "a", "zone": "nowhere"}, 422),  # no such zone
    ],
)
def test_queue_rules_name_a_queue_or_its_till(world: World, client: TestClient, scope: dict, status: int) -> None:
    queue_store(world.conn, "a")
    world.user("mia", ["a"], role=Role.MANAGER)
    rule = {"name": "q", "metric": "queue_length", "comparator": ">", "threshold": 5, "scope": scope}
    r = client.post("/v1/alert-rules", json=rule, headers=login(client, "mia"))
    assert r.status_code == status, r.text
    if status == 422:
        assert r.json()["errors"][0]["loc"][-1] == "zone"


def test_band_rules_are_created_through_the_api(world: World, client: TestClient) -> None:
    riga_store(world.conn, "a")
    world.user("mia", ["a"], role=Role.MANAGER)
    h = login(client, "mia")
    band = {"name": "b", "metric": "forecast_band", "comparator": "<", "scope": {"store": "a"}}
    ok = client.post("/v1/alert-rules", json=band, headers=h)
    assert ok.status_code == 201, ok.text
    assert ok.json()["spec"]["baseline"] == {"kind": "forecast_band", "ratio": 1.0}
    conversion = {
        "name": "b",
        "metric": "conversion",
        "comparator": "<",
        "baseline": {"kind": "forecast_band", "ratio": 1},
    }
    bad = client.post("/v1/alert-rules", json=conversion, headers=h)
    assert bad.status_code == 422
    assert "no forecast band" in bad.text


def test_committed_queue_minutes_wake_the_engine(world: World) -> None:
    queue_store(world.conn, "a")
    with connect(world.settings.db, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        queue_minutes(world.conn, "a", T0, 3, people=2, dwell=[30.0])
        tables = [n.payload for n in listener.notifies(timeout=5, stop_after=6)]
    assert "zone_visits" in tables


def test_a_store_wide_queue_rule_on_a_store_without_queues_says_why_it_is_silent(
    world: World, client: TestClient
) -> None:
    riga_store(world.conn, "a")  # no queue zone
    world.user("ann", ["a"])
    rule_id = world.rule("ann", name="q", metric="queue_length", comparator=">", threshold=4, scope={"store": "a"})
    for _ in range(2):
        world.clock.advance(600)
        run_once(world)
    alerts = client.get("/v1/alerts", headers=login(client, "ann")).json()["data"]
    assert [(a["rule_id"], a["subject"], a["state"]) for a in alerts] == [(rule_id, "", "ok")]
    assert alerts[0]["note"] == (
        "store a has no queue zone, so this rule watches nothing: add a zone with `kind: queue` and its "
        "`till` to the store file and run `footfall stores apply`"
    )
    assert world.count("SELECT count(*) AS n FROM alert_events") == 0
    # The store gains a queue zone: the placeholder goes, the queue zone is judged.
    world.conn.execute("INSERT INTO floors (store_id, floor_id, width_m, height_m) VALUES ('a', 'g', 30, 20)")
    for zone, kind, till in (("till", "area", None), ("queue", "queue", "till")):
        world.conn.execute(
            "INSERT INTO zones (store_id, zone_id, floor_id, polygon, area_m2, kind, till_zone) "
            "VALUES ('a', %s, 'g', '[]', 10, %s, %s)",
            (zone, kind, till),
        )
    world.conn.execute("INSERT INTO devices (device_id, store_id, kind) VALUES ('a-cam', 'a', 'camera')")
    queue_minutes(world.conn, "a", world.clock.now() - timedelta(minutes=15), 15, people=6, dwell=[60.0])
    world.clock.advance(60)
    run_once(world)
    alerts = client.get("/v1/alerts", headers=login(client, "ann")).json()["data"]
    assert [(a["subject"], a["state"], a["note"]) for a in alerts] == [("queue", "firing", "")]
