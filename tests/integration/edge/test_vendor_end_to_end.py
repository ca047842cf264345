"""End to end with the hardware retailers already own: vendor counters → edge agent → Mosquitto → ingest → PostgreSQL.

A Xovis sensor pushing line count data (JSON, times in its own zone), an AXIS People
Counter polled for its live sum (camera clock in Tokyo time) and an AXIS 3D People
Counter polled for its per-minute export (New York time), each sending one malformed
payload and missing one push or answering 503 once; the secured upstream broker is down
for ninety simulated seconds. The agent (`footfall edge run`) and ingest (`footfall
ingest run`) run as processes; the database's per-minute totals must equal the
counters' ground truth exactly, on both storage paths (the `db` fixture's legs).
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
from footfall.devtools.services import free_port
from footfall.edge.config import EdgeConfig
from footfall.firmware_stubs.firmware import FaultPlan
from footfall.firmware_stubs.store import SimStore, TrafficRates
from footfall.firmware_stubs.vendors import AxisLiveStub
from tests.integration.edge.conftest import SecureBroker, wait_for
from tests.integration.edge.test_end_to_end import ROOT, STORE_FILE, Proc, db_minutes, ingest_env, procs  # noqa: F401

SPEED = 10.0


def write_store(tmp_path: Path) -> Path:
    """examples/store.yaml with the vendor counters instead of the demo's own."""
    data = yaml.safe_load(STORE_FILE.read_text())
    data["devices"] = [
        {"id": "riga-01-edge", "kind": "edge", "name": "Edge box"},
        {"id": "riga-01-xovis", "kind": "counter_http", "name": "Xovis PC2S over the main entrance", "doors": ["main"]},
        {"id": "riga-01-axis", "kind": "counter_http", "name": "AXIS People Counter, side door", "doors": ["side"]},
        {"id": "riga-01-a3dpc", "kind": "counter_http", "name": "AXIS P8815-2, staff door", "doors": ["staff"]},
    ]
    data.pop("alerts", None)
    for floor in data.get("floors", []):  # the copy lives elsewhere: keep the floor plans it names
        if floor.get("plan"):
            floor["plan"]["image"] = str(STORE_FILE.parent / floor["plan"]["image"])
    path = tmp_path / "store.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def write_edge_yaml(tmp_path: Path, store_file: Path, broker: SecureBroker) -> Path:
    secret = tmp_path / "mqtt-password"
    secret.write_text(broker.passwords["riga-01-edge"] + "\n")
    secret.chmod(0o600)
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
        "http": {"host": "127.0.0.1", "port": free_port()},
        "devices": [
            {
                "id": "riga-01-xovis",
                "driver": "xovis",
                "token": "xovis-push-token",
                "lines": [
                    {"line": "Entrance", "door": "main"},
                    {"line": "Street", "door": "main", "passersby": True},
                ],
            },
            {
                "id": "riga-01-axis",
                "driver": "axis_live",
                "url": f"http://127.0.0.1:{free_port()}",
                "door": "side",
                "timezone": "Asia/Tokyo",
                "poll_s": 1,
            },
            {
                "id": "riga-01-a3dpc",
                "driver": "axis_a3dpc",
                "url": f"http://127.0.0.1:{free_port()}",
                "door": "staff",
                "timezone": "America/New_York",
                "poll_s": 15,
            },
        ],
    }
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_vendor_counters_land_in_the_database_exactly(
    tmp_path: Path,
    db: DbSettings,
    secure_broker: SecureBroker,
    sim_clock,
    procs: list[Proc],  # noqa: F811
) -> None:
    store_file = write_store(tmp_path)
    store = StoreConfig.from_yaml(store_file)
    with connect(db) as conn:
        apply_store(conn, store)
    env = ingest_env(db, secure_broker)
    edge_yaml = write_edge_yaml(tmp_path, store_file, secure_broker)
    checked = subprocess.run(
        [sys.executable, "-m", "footfall.cli", "edge", "check", "--config", str(edge_yaml)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "riga-01-axis (axis_live)" in checked.stdout
    edge_cfg = EdgeConfig.from_yaml(edge_yaml)
    clock = sim_clock(SPEED)

    ingest = Proc("ingest", ["ingest", "run"], env)
    procs.append(ingest)
    agent = Proc(
        "agent", ["edge", "run", "--config", str(edge_yaml)], dict(os.environ, FOOTFALL_SIM_CLOCK=clock.spec())
    )
    procs.append(agent)
    assert wait_for(lambda: agent.logged("connected to"), 30), agent.tail()
    time.sleep(1.0)  # ingest subscribes
    assert ingest.proc.poll() is None, ingest.tail()
    # The first minute boundary at least 40 simulated seconds ahead: never in the past,
    # however long the agent took to start on a loaded machine.
    start = (clock.now() + timedelta(seconds=40)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    sim = SimStore(
        store=store,
        counters=stub_specs(edge_cfg),
        clock=clock,
        start=start,
        minutes=7,
        run_minutes=9,
        seed=1616,
        rates=TrafficRates(customer=6, staff=3, passersby=12),
        keep_hours=False,
        margin_s=stub_margin_s(edge_cfg),  # the live sum is polled every simulated second
        faults={
            "riga-01-xovis": FaultPlan(clock_offset_s=0.4, garbled_at=[95], drops_at=[200], duplicates_at=[270]),
            "riga-01-axis": FaultPlan(garbled_at=[130], drops_at=[250]),
            "riga-01-a3dpc": FaultPlan(garbled_at=[140], drops_at=[320]),
        },
    )
    sim.build()
    sim.start_all()

    def until(seconds: float) -> None:
        target = start + timedelta(seconds=seconds)
        while clock.now() < target:
            time.sleep(0.05)

    try:
        until(150)
        secure_broker.broker.stop()  # down from 2:30 to 4:00: the agent keeps reading, the queue holds
        until(240)
        secure_broker.broker.start()
        until(9 * 60)
    finally:
        sim.stop_all()

    # The live sum is cumulative: what the camera had counted when the agent first read it
    # is the agent's baseline, not counted (docs/edge.md). Normally that first reading comes
    # before any traffic; on a slow machine it may come after the first crossings.
    axis = sim.stubs["riga-01-axis"]
    assert isinstance(axis, AxisLiveStub)
    assert axis.first_read is not None, "the agent never read the live sum"
    truth = {dev: sim.truth(dev).per_minute() for dev in sim.stubs}
    truth["riga-01-axis"] = sim.truth("riga-01-axis").minus(axis.first_read).per_minute()
    assert all(truth.values()), "a counter saw no traffic"

    def matches() -> bool:
        return db_minutes(db) == truth

    settled = wait_for(matches, 60, interval=0.5)
    if not settled:
        got = db_minutes(db)
        diff = [
            f"{dev} {door} {t:%H:%M}: db {got.get(dev, {}).get((door, t))}, truth {truth[dev].get((door, t))}"
            for dev in truth
            for door, t in sorted(set(got.get(dev, {})) | set(truth[dev]))
            if got.get(dev, {}).get((door, t)) != truth[dev].get((door, t))
        ]
        pytest.fail("database ≠ ground truth:\n" + "\n".join(diff) + "\n" + "\n".join(p.tail() for p in procs))
    assert sum(sum(e for e, _, _ in m.values()) for m in truth.values()) > 60
    assert agent.logged("malformed push refused"), agent.tail()
    assert agent.logged("malformed answer ignored"), agent.tail()
    with psycopg.connect(db.conninfo()) as conn:
        dead = conn.execute("SELECT reason FROM dead_letters").fetchall()
        errors = conn.execute(
            "SELECT s->>'sensor_id', max((s->>'errors')::int)"
            " FROM heartbeats, jsonb_array_elements(payload->'sensors') s"
            " WHERE device_id = 'riga-01-edge' GROUP BY 1"
        ).fetchall()
    assert dead == [], f"ingest dead-lettered our messages: {dead}"
    refused = dict(errors)
    # Each counter's one malformed payload is on record in the heartbeats, nothing else went wrong.
    assert {k: refused.get(k) for k in ("riga-01-xovis", "riga-01-axis", "riga-01-a3dpc")} == {
        "riga-01-xovis": 1,
        "riga-01-axis": 1,
        "riga-01-a3dpc": 1,
    }
