"""End to end with real services: firmware stubs → edge agent → Mosquitto → ingest → PostgreSQL,
receipts posted to the API, `footfall alerts run` as a real process (SIGKILLed between the
state change and the delivery), and local receivers for the webhook, e-mail and Telegram."""

import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from footfall.api.access import Role
from footfall.core.clock import ScaledClock
from footfall.core.storeconfig import StoreConfig
from footfall.db.stores import apply_store
from footfall.demo.run import demo_edge_config, example_store_path
from footfall.demo.stubs import stub_specs
from footfall.edge.agent import Agent
from footfall.firmware_stubs.store import SimStore, TrafficRates
from footfall.ingest.worker import IngestWorker
from tests.integration.alerts.conftest import World, login
from tests.integration.alerts.test_crash import _counts, _env, _kill, _start, _until

pytestmark = pytest.mark.integration

SPEED = 60.0  # one simulated minute per real second
OPEN = datetime(2026, 6, 3, 7, 14, 30, tzinfo=UTC)  # Wednesday 10:14:30 in Riga: open 09:00–21:00
STORE = "riga-01"


def test_stubs_and_posted_receipts_drive_conversion_below_its_border_and_back(
    world: World, client: TestClient, tmp_path: Path
) -> None:
    example = StoreConfig.from_yaml(example_store_path())
    # The stubs play the door counters, not the ceiling camera: leave out the door only the camera
    # counts, or its missing counts would (rightly) withhold conversion as door_data_incomplete.
    camera_doors = {ln.door for d in example.devices for ln in d.lines}
    cfg = example.model_copy(
        update={
            "doors": [d for d in example.doors if d.id not in camera_doors],
            "devices": [d for d in example.devices if not d.lines],
        }
    )
    with world.conn.transaction():
        apply_store(world.conn, cfg)
    world.user("mia", [STORE], role=Role.MANAGER)
    world.user("ann", [STORE])
    world.subscribe_all_channels("ann", store_id=STORE)
    world.rule(
        "mia",
        name="Conversion below 15 %",
        metric="conversion",
        comparator="<",
        threshold=0.15,
        hysteresis=0.02,
        window={"rolling_minutes": 15},
        scope={"store": STORE},
    )
    settings = world.settings.model_copy(
        update={
            "ingest": world.settings.ingest.model_copy(
                update={"metrics_port": 0, "share_group": f"al{secrets.token_hex(3)}", "batch_ms": 50}
            ),
            "edge": world.settings.edge.model_copy(update={"data_dir": tmp_path / "edge"}),
        }
    )
    clock = ScaledClock(OPEN, speed=SPEED)
    ingest = IngestWorker(settings)
    ingest.start()
    edge_cfg = demo_edge_config(settings, example_store_path())
    agent = Agent(edge_cfg, settings=settings, clock=clock)
    agent.start()
    start = datetime(2026, 6, 3, 7, 15, tzinfo=UTC)
    sim = SimStore(
        store=cfg,
        counters=stub_specs(edge_cfg),
        clock=clock,
        start=start,
        minutes=90,
        seed=12,
        rates=TrafficRates(customer=4.0),
    )
    sim.build()
    sim.start_all()
    env = _env(world, clock)
    procs = []
    pos = login(client, "mia")
    posted = 0

    def post_receipts(n: int) -> None:
        nonlocal posted
        now = clock.now()
        batch = [
            {
                "store_id": STORE,
                "receipt_id": f"r{posted + i}",
                "ts": (now - timedelta(seconds=i)).isoformat(),
                "total": "12.50",
                "items": "2",
            }
            for i in range(n)
        ]
        posted += n
        r = client.post("/v1/receipts", json={"receipts": batch}, headers=pos)
        assert r.status_code == 200, r.text

    try:
        # Quiet tills while people come in: one receipt every simulated five minutes.
        p = _start(env, "--no-deliver", "--name", "doomed")
        procs.append(p)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and world.count("SELECT count(*) AS n FROM alert_outbox") < 4:
            post_receipts(1)
            time.sleep(5 * 60 / SPEED)
        assert world.count("SELECT count(*) AS n FROM alert_events WHERE kind = 'firing'") == 1
        _kill(p)  # state change and outbox committed, nothing delivered
        assert _counts(world) == (0, 0, 0)
        p = _start(env, "--name", "restarted")
        procs.append(p)
        _until(lambda: _counts(world) == (1, 1, 1), "one message per channel", 60)
        body = world.webhooks.received[0]["body"]
        assert world.webhooks.received[0]["verified"]
        assert body["kind"] == "firing"
        assert body["value"] < 0.15
        # The tills get busy: a receipt for most visitors; conversion recovers.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _counts(world) != (2, 2, 2):
            post_receipts(3)
            time.sleep(60 / SPEED)
        assert _counts(world) == (2, 2, 2)
        for _ in range(4):  # the tills stay busy for several more cycles: nothing more is sent
            post_receipts(3)
            time.sleep(60 / SPEED)
        kinds = [(r["body"]["kind"], r["body"]["value"], r["body"]["at"]) for r in world.webhooks.received]
        assert _counts(world) == (2, 2, 2), kinds
        assert [r["body"]["kind"] for r in world.webhooks.received] == ["firing", "resolved"]
        assert all(r["verified"] for r in world.webhooks.received)
        devices = {r["device_id"] for r in world.conn.execute("SELECT DISTINCT device_id FROM door_counts")}
        assert devices >= {"riga-01-beam", "riga-01-stereo"}  # the numbers came from the stubs, through ingest
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=15)
        sim.stop_all()
        agent.stop()
        ingest.stop()
