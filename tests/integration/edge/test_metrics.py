"""The agent's Prometheus endpoint, scraped over HTTP while a beam counter stub counts through a
real Mosquitto: every acknowledged message and reading is counted once, unrouted publishes are
counted as failures and kept queued, and each device's health is a gauge."""

import secrets
import socket
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from footfall.core.errors import ConfigError
from footfall.core.messages import Fault
from footfall.core.settings import EdgeSettings, Settings
from footfall.core.topics import Kind, Topic
from footfall.devtools.services import PrivateMosquitto, free_port
from footfall.edge.agent import Agent
from footfall.edge.config import EdgeConfig
from footfall.firmware_stubs.beam import BeamCounterStub
from footfall.firmware_stubs.firmware import FaultPlan
from footfall.firmware_stubs.scenes import door_scene
from footfall.firmware_stubs.traffic import TrafficScript
from tests.integration.edge.conftest import SIM_START, Subscriber, wait_for
from tests.integration.edge.test_agent import clear_retained

pytestmark = pytest.mark.integration

SPEED = 60.0  # one simulated minute per real second
LABELS = {"kind", "reason", "device_id", "fault", "store_id", "version", "le"}
"""Every label the agent's metrics may carry: its own device ids and fixed vocabularies, nothing else."""

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int) -> Samples:
    r = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert r.status_code == 200, r.text
    out: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def total(samples: Samples, name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


def test_published_readings_failures_queue_and_device_health_are_scraped(tmp_path: Path, sim_clock) -> None:
    clock = sim_clock(SPEED, lead_s=30)
    prefix = f"t{secrets.token_hex(4)}"
    broker = PrivateMosquitto(tmp_path / "broker", port=free_port())
    broker.start()
    until = SIM_START + timedelta(minutes=6)
    script = TrafficScript.generate(start=SIM_START, minutes=5, rates={"main": 6}, seed=3)
    beam = BeamCounterStub(
        device_id="riga-01-beam",
        door="main",
        script=script,
        plan=FaultPlan(),
        clock=clock,
        start=SIM_START,
        until=until,
        keepalive_s=20,
    )
    metrics_port = free_port()
    cfg = EdgeConfig.from_data(
        {
            "store_id": "riga-01",
            "device_id": "riga-01-edge",
            "data_dir": str(tmp_path / "edge"),
            "heartbeat_s": 3600,  # counts only, so the subscriber's tally is the whole story
            "mqtt": {"host": "127.0.0.1", "port": broker.port, "prefix": prefix, "reconnect_max_s": 1},
            "queue": {"synchronous": "normal"},
            "metrics": {"host": "127.0.0.1", "port": metrics_port},
            "devices": [
                {"id": "riga-01-beam", "driver": "tcp", "host": "127.0.0.1", "port": beam.port, "door": "main"},
                # A counter that never answers: disconnected and silent.
                {"id": "riga-01-dead", "driver": "tcp", "host": "127.0.0.1", "port": free_port(), "door": "side"},
            ],
        }
    )
    agent = Agent(cfg, settings=Settings(), clock=clock)
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    sub = Subscriber("127.0.0.1", broker.port, prefix)
    try:
        beam.start()
        thread.start()
        assert wait_for(lambda: agent.metrics_port == metrics_port, 10)

        # 1. Nobody is subscribed yet: the broker answers "no matching subscribers", the readings stay queued.
        assert wait_for(
            lambda: (value(scrape(metrics_port), "footfall_edge_publish_failures_total", reason="unrouted") or 0) >= 1,
            30,
        )
        s = scrape(metrics_port)
        assert value(s, "footfall_edge_queue_readings", device_id="riga-01-beam")
        assert value(s, "footfall_edge_readings_published_total", kind="counts") == 0
        assert value(s, "footfall_edge_broker_connected") == 1

        # 2. A subscriber arrives: the queue drains and every counted message is one the subscriber got.
        sub.start()

        def settled() -> bool:
            s = scrape(metrics_port)
            got = sub.of_kind("counts")
            return (
                clock.now() > until
                and total(s, "footfall_edge_queue_readings") == 0
                and value(s, "footfall_edge_messages_published_total", kind="counts") == len(got)
                and value(s, "footfall_edge_readings_published_total", kind="counts") == len(sub.readings("counts"))
            )

        assert wait_for(settled, 60), (scrape(metrics_port), len(sub.of_kind("counts")))
        s = scrape(metrics_port)
        messages = len(sub.of_kind("counts"))
        readings = sub.readings("counts")
        assert messages >= 1  # the backlog went out batched
        assert len(readings) >= 4  # a reading per minute of traffic
        assert 0 < sum(r.entries for r in readings) <= beam.fw.truth.totals()["entries"]
        assert value(s, "footfall_edge_messages_published_total", kind="counts") == messages
        assert value(s, "footfall_edge_readings_published_total", kind="counts") == len(readings)
        # One round trip per PUBACK of a readings message, whatever it said (status messages are not timed).
        pubacks = (
            total(s, "footfall_edge_messages_published_total")
            + (value(s, "footfall_edge_publish_failures_total", reason="unrouted") or 0)
            + (value(s, "footfall_edge_publish_failures_total", reason="refused") or 0)
        )
        assert value(s, "footfall_edge_publish_seconds_count") == pubacks
        assert 0 < (value(s, "footfall_edge_publish_seconds_sum") or 0) < 5 * messages  # includes the unrouted waits
        assert value(s, "footfall_edge_publish_failures_total", reason="refused") == 0

        # 3. Device health: the beam reports and is healthy; the dead counter is disconnected and silent.
        assert value(s, "footfall_edge_device_up", device_id="riga-01-beam", kind="counter") == 1
        age = value(s, "footfall_edge_device_last_reading_age_seconds", device_id="riga-01-beam", kind="counter")
        assert age is not None
        assert 0 <= age < 120
        assert value(s, "footfall_edge_device_up", device_id="riga-01-dead", kind="counter") == 0
        dead = {
            f.value: value(s, "footfall_edge_device_fault", device_id="riga-01-dead", kind="counter", fault=f.value)
            for f in Fault
            if f is not Fault.QUEUE_FULL
        }
        assert dead["disconnected"] == 1
        assert dead["silent"] == 1
        assert dead["blocked"] == 0
        assert (
            value(s, "footfall_edge_device_last_reading_age_seconds", device_id="riga-01-dead", kind="counter") is None
        )
        assert (
            value(
                s, "footfall_edge_agent_info", store_id="riga-01", device_id="riga-01-edge", version="footfall-edge/0.1"
            )
            == 1
        )
        # Labels: the agent's own device ids and fixed vocabularies only.
        assert {k for _, labels in s for k, _ in labels} <= LABELS

        # 4. The scrape left the heartbeat's faults alone: the next heartbeat still reports them.
        beat = agent.heartbeat()
        faults = {h.sensor_id: set(h.faults) for h in beat.sensors}
        assert {Fault.DISCONNECTED, Fault.SILENT} <= faults["riga-01-dead"]

        # 5. The broker goes away: the agent says so.
        broker.stop()
        assert wait_for(lambda: value(scrape(metrics_port), "footfall_edge_broker_connected") == 0, 20)
        assert wait_for(lambda: (value(scrape(metrics_port), "footfall_edge_broker_unreachable_seconds") or 0) > 0, 10)
    finally:
        stop.set()
        thread.join(20)
        sub.stop()
        beam.stop()
        broker.stop()
    # Stopped: the port is closed.
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2)


def test_metrics_are_off_by_default_and_a_taken_port_is_refused_naming_the_setting(tmp_path: Path) -> None:
    cfg = EdgeConfig.from_data({"store_id": "riga-01", "device_id": "riga-01-edge", "data_dir": str(tmp_path / "a")})
    assert cfg.metrics_listen(EdgeSettings()) == ("0.0.0.0", 0)
    taken = free_port()
    holder = socket.socket()
    holder.bind(("127.0.0.1", taken))
    holder.listen()
    try:
        busy = EdgeConfig.from_data(
            {
                "store_id": "riga-01",
                "device_id": "riga-01-edge",
                "data_dir": str(tmp_path / "b"),
                "metrics": {"host": "127.0.0.1", "port": taken},
            }
        )
        agent = Agent(busy, settings=Settings())
        with pytest.raises(ConfigError, match=r"metrics\.port in edge\.yaml"):
            agent.start()
        agent.outbox.close()
    finally:
        holder.close()


def test_a_real_camera_pipeline_reports_its_health_as_gauges(tmp_path: Path, mqtt_settings, mqtt_prefix: str) -> None:
    scene = door_scene(seed=3, duration_s=30)
    video = scene.write(tmp_path / "door.mp4")
    store_file = tmp_path / "store.yaml"
    store_file.write_text(
        yaml.safe_dump(scene.store_config(store_id="synth", device_id="cam1").model_dump(mode="json"))
    )
    port = free_port()
    cfg = EdgeConfig.from_data(
        {
            "store_id": "synth",
            "device_id": "synth-edge",
            "store_file": str(store_file),
            "data_dir": str(tmp_path / "edge"),
            "mqtt": {
                "host": mqtt_settings.host,
                "port": mqtt_settings.port,
                "prefix": mqtt_prefix,
                "client_id": f"edge-synth-{mqtt_prefix}",
            },
            "queue": {"synchronous": "normal"},
            "metrics": {"host": "127.0.0.1", "port": port},
            "cameras": [{"id": "cam1", "source": str(video)}],
        }
    )
    sub = Subscriber(mqtt_settings.host, mqtt_settings.port, mqtt_prefix).start()
    agent = Agent(cfg, settings=Settings())
    agent.start()
    try:
        truth = scene.truth()
        assert wait_for(lambda: sum(r.entries for r in sub.readings("counts", "cam1")) == truth.entries, 60)
        assert wait_for(
            lambda: (
                value(scrape(port), "footfall_edge_readings_published_total", kind="counts")
                == len(sub.readings("counts"))
            ),
            10,
        )
        s = scrape(port)
        beat = agent.heartbeat()
        cam = next(h for h in beat.sensors if h.sensor_id == "cam1")
        scraped = {
            f.value
            for f in Fault
            if value(s, "footfall_edge_device_fault", device_id="cam1", kind="camera", fault=f.value) == 1
        }
        assert scraped == {f.value for f in cam.faults}  # the heartbeat's view, as gauges
        assert value(s, "footfall_edge_device_up", device_id="cam1", kind="camera") == (0 if cam.faults else 1)
        assert value(s, "footfall_edge_device_errors_total", device_id="cam1", kind="camera") == cam.errors
        assert value(s, "footfall_edge_device_last_reading_age_seconds", device_id="cam1", kind="camera") is not None
    finally:
        agent.stop()
        sub.stop()
        clear_retained(mqtt_settings.port, Topic("synth", "synth-edge", Kind.STATUS).render(mqtt_prefix))
