"""AXIS Object Analytics crossline counting → store broker → edge agent → Mosquitto → ingest → PostgreSQL.

A simulated Axis camera publishes its entry and exit scenarios' events (totals of humans
since the last reset) through the real Mosquitto the tests share, under a topic prefix of
this test's own; it sends one malformed event, one duplicate, loses its connection once
and has its accumulated counts reset once. The agent (`footfall edge run`) and ingest
(`footfall ingest run`) run as processes; the database's per-minute totals must equal
the camera's ground truth exactly, on both storage paths (the `db` fixture's legs).
"""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import yaml

from footfall.core.settings import DbSettings
from footfall.core.storeconfig import StoreConfig
from footfall.db.connect import connect
from footfall.db.stores import apply_store
from footfall.demo.stubs import stub_margin_s, stub_specs
from footfall.edge.config import EdgeConfig
from footfall.firmware_stubs.firmware import FaultPlan
from footfall.firmware_stubs.store import SimStore, TrafficRates
from tests.integration.edge.conftest import SecureBroker, wait_for
from tests.integration.edge.test_end_to_end import ROOT, STORE_FILE, Proc, db_minutes, ingest_env, procs  # noqa: F401

SPEED = 10.0
SERIAL = "B8A44F000001"


def write_store(tmp_path: Path) -> Path:
    data = yaml.safe_load(STORE_FILE.read_text())
    data["devices"] = [
        {"id": "riga-01-edge", "kind": "edge", "name": "Edge box"},
        {"id": "riga-01-aoa", "kind": "counter_mqtt", "name": "Axis camera, Object Analytics", "doors": ["main"]},
    ]
    data.pop("alerts", None)
    for floor in data.get("floors", []):
        if floor.get("plan"):
            floor["plan"]["image"] = str(STORE_FILE.parent / floor["plan"]["image"])
    path = tmp_path / "store.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def write_edge_yaml(tmp_path: Path, store_file: Path, broker: SecureBroker, mqtt_settings, prefix: str) -> Path:
    secret = tmp_path / "mqtt-password"
    secret.write_text(broker.passwords["riga-01-edge"] + "\n")
    secret.chmod(0o600)
    events = f"{prefix}/axis/{SERIAL}/event/CameraApplicationPlatform/ObjectAnalytics"
    cfg = {
        "store_id": "riga-01",
        "device_id": "riga-01-edge",
        "store_file": str(store_file),
        "data_dir": str(tmp_path / "edge-data"),
        "heartbeat_s": 30,
        "mqtt": {
            "host": "127.0.0.1",
            "port": broker.port,
            "prefix": broker.prefix,
            "username": "riga-01-edge",
            "password_file": str(secret),
            "keepalive_s": 5,
            "reconnect_max_s": 1,
        },
        "queue": {"synchronous": "normal", "replay_readings_per_s": 5000},
        "devices": [
            {
                "id": "riga-01-aoa",
                "driver": "axis_aoa",
                "host": mqtt_settings.host,
                "port": mqtt_settings.port,
                "client_id": f"edge-{prefix}-aoa",  # the shared broker keeps sessions across tests
                "door": "main",
                "entry_topic": f"{events}/Device1Scenario1",
                "exit_topic": f"{events}/Device1Scenario2",
                "serial": SERIAL,
            }
        ],
    }
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_axis_object_analytics_events_land_in_the_database_exactly(
    tmp_path: Path,
    db: DbSettings,
    secure_broker: SecureBroker,
    mqtt_settings,
    mqtt_prefix: str,
    sim_clock,
    procs: list[Proc],  # noqa: F811
) -> None:
    store_file = write_store(tmp_path)
    store = StoreConfig.from_yaml(store_file)
    with connect(db) as conn:
        apply_store(conn, store)
    env = ingest_env(db, secure_broker)
    edge_yaml = write_edge_yaml(tmp_path, store_file, secure_broker, mqtt_settings, mqtt_prefix)
    checked = subprocess.run(
        [sys.executable, "-m", "footfall.cli", "edge", "check", "--config", str(edge_yaml)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "riga-01-aoa (axis_aoa)" in " ".join(checked.stdout.split())  # the console wraps lines
    edge_cfg = EdgeConfig.from_yaml(edge_yaml)
    clock = sim_clock(SPEED)

    ingest = Proc("ingest", ["ingest", "run"], env)
    procs.append(ingest)
    agent = Proc(
        "agent", ["edge", "run", "--config", str(edge_yaml)], dict(os.environ, FOOTFALL_SIM_CLOCK=clock.spec())
    )
    procs.append(agent)
    assert wait_for(lambda: agent.logged("connected to"), 30), agent.tail()
    assert wait_for(lambda: agent.logged("riga-01-aoa: subscribed to"), 30), agent.tail()
    time.sleep(1.0)  # ingest subscribes
    assert ingest.proc.poll() is None, ingest.tail()
    # the first minute boundary at least 40 simulated seconds ahead: never in the past on a slow machine
    start = (clock.now() + timedelta(seconds=40)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    sim = SimStore(
        store=store,
        counters=stub_specs(edge_cfg),
        clock=clock,
        start=start,
        minutes=5,
        run_minutes=6,
        seed=2718,
        rates=TrafficRates(customer=8, staff=0, passersby=0),
        keep_hours=False,
        margin_s=stub_margin_s(edge_cfg),
        faults={
            "riga-01-aoa": FaultPlan(
                clock_offset_s=0.4, garbled_at=[70], duplicates_at=[130], drops_at=[170], reboots_at=[230]
            ),
        },
    )
    sim.build()
    sim.start_all()
    try:
        target = start + timedelta(minutes=6)
        while clock.now() < target:
            time.sleep(0.05)
    finally:
        sim.stop_all()

    truth = {dev: sim.truth(dev).per_minute() for dev in sim.stubs}
    assert all(truth.values()), "the camera saw no traffic"

    def matches() -> bool:
        return db_minutes(db) == truth

    if not wait_for(matches, 60, interval=0.5):
        got = db_minutes(db)
        diff = [
            f"{dev} {door} {t:%H:%M}: db {got.get(dev, {}).get((door, t))}, truth {truth[dev].get((door, t))}"
            for dev in truth
            for door, t in sorted(set(got.get(dev, {})) | set(truth[dev]))
            if got.get(dev, {}).get((door, t)) != truth[dev].get((door, t))
        ]
        pytest.fail("database ≠ ground truth:\n" + "\n".join(diff) + "\n" + "\n".join(p.tail() for p in procs))
    people = sum(e + x for e, x, _ in truth["riga-01-aoa"].values())
    assert people > 40
    assert agent.logged("malformed event dropped"), agent.tail()
    assert agent.logged("taken as cleared by hand"), agent.tail()  # the reset of the accumulated counts
    with psycopg.connect(db.conninfo()) as conn:
        dead = conn.execute("SELECT reason FROM dead_letters").fetchall()
        errors = conn.execute(
            "SELECT s->>'sensor_id', max((s->>'errors')::int)"
            " FROM heartbeats, jsonb_array_elements(payload->'sensors') s"
            " WHERE device_id = 'riga-01-edge' GROUP BY 1"
        ).fetchall()
    assert dead == [], f"ingest dead-lettered our messages: {dead}"
    assert dict(errors).get("riga-01-aoa") == 1  # the one malformed event, on record in the heartbeats
