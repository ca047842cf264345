"""End to end: three simulated counters → edge agent → secured Mosquitto → ingest → PostgreSQL.

Ten simulated minutes (20× real time) of traffic through a beam counter (TCP line
protocol), a stereo sensor (HTTP push) and an MQTT-native counter, with a reboot, a
16-bit counter wrap, clock drift, duplicate sends and dropped device connections; the
upstream broker (password file + per-store ACL) is down for two of those minutes and
the agent is killed (SIGKILL) and restarted once. The database's per-minute totals must
equal the counters' ground truth exactly.

The agent and ingest run as real processes (`footfall edge run`, `footfall ingest run`);
the counters run in this process on the same simulated clock.
"""

import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import yaml

from footfall.core.settings import DbSettings
from footfall.core.storeconfig import StoreConfig
from footfall.db.connect import connect
from footfall.db.stores import apply_store
from footfall.demo.stubs import stub_specs
from footfall.devtools.services import free_port
from footfall.edge.config import EdgeConfig
from footfall.firmware_stubs.firmware import FaultPlan
from footfall.firmware_stubs.store import SimStore, TrafficRates
from tests.integration.edge.conftest import SecureBroker, wait_for

ROOT = Path(__file__).resolve().parents[3]
STORE_FILE = ROOT / "examples" / "store.yaml"
SPEED = 20.0


class Proc:
    """A footfall subprocess whose stderr is kept for assertions and failure messages."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]) -> None:
        # `python -m` puts the working folder first on the path: run from the checkout to import.
        cwd = ROOT
        self.name = name
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "footfall.cli", "--log-format", "json", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip())

    def logged(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def tail(self, n: int = 60) -> str:
        return f"--- {self.name} (exit {self.proc.poll()}) ---\n" + "\n".join(self.lines[-n:])

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def ingest_env(db: DbSettings, broker: SecureBroker) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "FOOTFALL_DB__URL": db.url,
            "FOOTFALL_MQTT__HOST": "127.0.0.1",
            "FOOTFALL_MQTT__PORT": str(broker.port),
            "FOOTFALL_MQTT__PREFIX": broker.prefix,
            "FOOTFALL_MQTT__USERNAME": "ingest",
            "FOOTFALL_MQTT__PASSWORD": broker.passwords["ingest"],
            "FOOTFALL_INGEST__SHARE_GROUP": f"e2e{secrets.token_hex(3)}",
            "FOOTFALL_INGEST__CLIENT_ID": f"e2e-ingest-{secrets.token_hex(3)}",
            "FOOTFALL_INGEST__METRICS_PORT": "0",
            "FOOTFALL_INGEST__BATCH_MS": "50",
        }
    )
    return env


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    running: list[Proc] = []
    yield running
    for p in running:
        p.stop()


def write_edge_yaml(tmp_path: Path, broker: SecureBroker, local_prefix: str, mqtt_settings) -> tuple[Path, int]:
    http_port = free_port()
    secret = tmp_path / "mqtt-password"
    secret.write_text(broker.passwords["riga-01-edge"] + "\n")
    secret.chmod(0o600)
    beam_port = free_port()
    cfg = {
        "store_id": "riga-01",
        "device_id": "riga-01-edge",
        "store_file": str(STORE_FILE),
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
        "queue": {"synchronous": "full", "replay_readings_per_s": 5000},
        "http": {"host": "127.0.0.1", "port": http_port},
        "devices": [
            {
                "id": "riga-01-beam",
                "driver": "tcp",
                "host": "127.0.0.1",
                "port": beam_port,
                "door": "side",
                "counter_bits": 16,
                "ping_s": 10,
                "timeout_s": 300,
            },
            {
                "id": "riga-01-stereo",
                "driver": "http",
                "token": "stereo-token-123",
                "lines": [
                    {"line": "entrance", "door": "main"},
                    {"line": "street", "door": "main", "passersby": True},
                ],
            },
            {
                "id": "riga-01-staff",
                "driver": "mqtt",
                "host": mqtt_settings.host,
                "port": mqtt_settings.port,
                "topic": f"{local_prefix}/sensors/staff-door",
                "client_id": f"edge-{local_prefix}-staff",  # the shared broker keeps sessions across tests
                "door": "staff",
                "counter_bits": 16,
            },
        ],
    }
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path, http_port


def db_minutes(db: DbSettings) -> dict[str, dict]:
    out: dict[str, dict] = {}
    with psycopg.connect(db.conninfo()) as conn:
        rows = conn.execute(
            "SELECT device_id, door_id, start_ts, end_ts, entries, exits, COALESCE(passersby, 0) FROM door_counts"
        ).fetchall()
    for dev, door, start, end, e, x, p in rows:
        assert end - start == timedelta(minutes=1), f"{dev} {door} {start}: not a one-minute reading"
        if e or x or p:
            out.setdefault(dev, {})[(door, start)] = (e, x, p)
    return out


def test_three_counters_through_outage_and_agent_kill_land_in_the_database_exactly(
    tmp_path: Path,
    db: DbSettings,
    secure_broker: SecureBroker,
    mqtt_settings,
    mqtt_prefix: str,
    sim_clock,
    procs: list[Proc],
) -> None:
    with connect(db) as conn:
        apply_store(conn, StoreConfig.from_yaml(STORE_FILE))
    env = ingest_env(db, secure_broker)
    migrated = subprocess.run(
        [sys.executable, "-m", "footfall.cli", "db", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )  # a no-op once every branch is merged; applies ingest's own migrations when it runs from elsewhere
    assert migrated.returncode == 0, migrated.stderr
    edge_yaml, _ = write_edge_yaml(tmp_path, secure_broker, mqtt_prefix, mqtt_settings)
    edge_cfg = EdgeConfig.from_yaml(edge_yaml)
    clock = sim_clock(SPEED)

    ingest = Proc("ingest", ["ingest", "run"], env)
    procs.append(ingest)
    agent_env = dict(os.environ, FOOTFALL_SIM_CLOCK=clock.spec())
    agent = Proc("agent", ["edge", "run", "--config", str(edge_yaml)], agent_env)
    procs.append(agent)
    assert wait_for(lambda: agent.logged("subscribed to") and agent.logged("connected to"), 30), agent.tail()
    time.sleep(1.0)  # ingest subscribes
    assert ingest.proc.poll() is None, ingest.tail()
    # Traffic starts at the first whole minute at least 20 simulated seconds from now.
    start = (clock.now() + timedelta(seconds=80)).replace(second=0, microsecond=0)
    sim = SimStore(
        store=StoreConfig.from_yaml(STORE_FILE),
        counters=stub_specs(edge_cfg),
        clock=clock,
        start=start,
        minutes=10,
        run_minutes=13,
        seed=2026,
        rates=TrafficRates(customer=7, staff=2, passersby=15),
        keep_hours=False,  # the test runs at any hour of the day and needs shoppers
        faults={
            # 40 s fast and drifting, reboots at 3:30, sends a record twice at 5:00, drops the connection at 7:00
            "riga-01-beam": FaultPlan(
                counter_bits=16,
                clock_offset_s=40,
                drift_ppm=2000,
                reboots_at=[210],
                duplicates_at=[300],
                drops_at=[420],
                boot=7,
            ),
            # NTP-synced; a push lost at 2:30, the last push sent again at 5:30
            "riga-01-stereo": FaultPlan(clock_offset_s=0.3, drops_at=[150], duplicates_at=[330]),
            # 16-bit counters about to wrap, a duplicate at 4:30, a reboot at 8:00
            "riga-01-staff": FaultPlan(
                counter_bits=16,
                start_in=65_530,
                start_out=65_533,
                clock_offset_s=-8,
                duplicates_at=[270],
                reboots_at=[480],
            ),
        },
    )
    sim.build()
    sim.start_all()

    def until(seconds: float) -> None:
        target = start + timedelta(seconds=seconds)
        while clock.now() < target:
            time.sleep(0.05)

    try:
        until(120)
        secure_broker.broker.stop()  # the broker is down from 2:00 to 4:00
        until(240)
        secure_broker.broker.start()
        until(360)
        agent.kill()  # SIGKILL at 6:00, back at 6:30
        until(390)
        agent = Proc("agent-2", ["edge", "run", "--config", str(edge_yaml)], agent_env)
        procs.append(agent)
        until(660)
    finally:
        sim.stop_all()

    truth = {dev: sim.truth(dev).per_minute() for dev in sim.stubs}
    assert all(truth.values()), "a counter saw no traffic"

    def matches() -> bool:
        return db_minutes(db) == truth

    settled = wait_for(matches, 60, interval=0.5)
    got = db_minutes(db)
    if not settled:
        mine = {dev: got.get(dev, {}) for dev in truth}
        diff = [
            f"{dev} {door} {start:%H:%M}: db {mine[dev].get((door, start))}, truth {truth[dev].get((door, start))}"
            for dev in truth
            for door, start in sorted(set(mine[dev]) | set(truth[dev]))
            if mine[dev].get((door, start)) != truth[dev].get((door, start))
        ]
        with psycopg.connect(db.conninfo()) as conn:
            dead = conn.execute("SELECT topic, reason FROM dead_letters LIMIT 10").fetchall()
        logs = "\n".join(p.tail() for p in procs)
        pytest.fail("database ≠ ground truth:\n" + "\n".join(diff) + f"\ndead letters: {dead}\n{logs}")
    totals = {dev: sim.truth(dev).totals() for dev in sim.stubs}
    assert sum(t["entries"] for t in totals.values()) > 100

    # The faults really happened.
    beam = sim.stubs["riga-01-beam"]
    staff = sim.stubs["riga-01-staff"]
    assert beam.fw.boot == 8  # one reboot each
    assert staff.fw.boot == 2
    assert staff.fw.truth.totals()["entries"] > 6  # enough entries to pass 65535 from 65530
    with psycopg.connect(db.conninfo()) as conn:
        beats = conn.execute("SELECT count(*) FROM heartbeats WHERE device_id = 'riga-01-edge'").fetchone()[0]
        dead = conn.execute("SELECT reason FROM dead_letters").fetchall()
        seqs = conn.execute("SELECT seq FROM door_counts WHERE device_id = 'riga-01-beam' ORDER BY start_ts").fetchall()
    assert beats >= 15, f"only {beats} heartbeats in 11 simulated minutes"
    assert dead == [], f"ingest dead-lettered our messages: {dead}"
    values = [s for (s,) in seqs]
    assert values == sorted(values), "seq went backwards across the agent restart"
