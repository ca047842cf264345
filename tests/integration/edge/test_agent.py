"""The agent against real brokers: status and Last Will, seq across restarts, refusals, TLS."""

import logging
import secrets
import shutil
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from footfall.core.messages import Fault, SensorHealth, StatusMessage, ZonesReading
from footfall.core.mqtt import BrokerTarget, MqttTransport
from footfall.core.settings import Settings
from footfall.core.topics import Kind, Topic
from footfall.devtools.services import PrivateMosquitto, free_port
from footfall.edge.agent import Agent
from footfall.edge.config import EdgeConfig
from footfall.firmware_stubs.scenes import door_scene
from tests.integration.edge.conftest import SecureBroker, Subscriber, wait_for


def agent_config(tmp_path: Path, *, port: int, prefix: str, store: str = "riga-01", **mqtt_extra) -> EdgeConfig:
    return EdgeConfig.from_data(
        {
            "store_id": store,
            "device_id": f"{store}-edge",
            "data_dir": str(tmp_path / "edge"),
            "heartbeat_s": 30,
            # A client id of this test's own: the shared broker hands a taken id to the newcomer.
            "mqtt": {
                "host": "127.0.0.1",
                "port": port,
                "prefix": prefix,
                "reconnect_max_s": 1,
                "client_id": f"edge-{store}-{prefix}",
                **mqtt_extra,
            },
            "queue": {"synchronous": "normal"},
        }
    )


class Running:
    """An in-process agent on its own thread."""

    def __init__(self, cfg: EdgeConfig, clock) -> None:
        self.agent = Agent(cfg, settings=Settings(), clock=clock)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.agent.run, args=(self.stop_event,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(20)


def clear_retained(port: int, topic: str) -> None:
    c = MqttTransport(
        BrokerTarget(
            host="127.0.0.1",
            port=port,
            prefix="test",
            username=None,
            password=None,
            client_id=f"test-clear-{secrets.token_hex(4)}",
            keepalive_s=10,
        )
    )
    c.start()
    assert c.wait_connected(10)
    c.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
    c.stop()


def statuses(sub: Subscriber) -> list[tuple[str, int]]:
    return [(r.message.state, r.message.seq) for r in sub.of_kind("status")]  # type: ignore[attr-defined]


def test_status_is_online_the_last_will_says_offline_on_a_crash_and_a_clean_stop_says_offline(
    tmp_path: Path, mqtt_settings, mqtt_prefix: str, sim_clock
) -> None:
    sub = Subscriber(mqtt_settings.host, mqtt_settings.port, mqtt_prefix).start()
    cfg = agent_config(tmp_path, port=mqtt_settings.port, prefix=mqtt_prefix)
    run = Running(cfg, sim_clock(10))
    topic = Topic("riga-01", "riga-01-edge", Kind.STATUS).render(mqtt_prefix)
    try:
        assert wait_for(lambda: statuses(sub) == [("online", 1)], 10), statuses(sub)
        # A crash: the connection breaks without DISCONNECT, so the broker publishes the will.
        run.agent.publisher.transport.drop()
        assert wait_for(lambda: len(statuses(sub)) >= 3, 15), statuses(sub)
        assert statuses(sub)[:3] == [("online", 1), ("offline", 2), ("online", 3)]
        run.stop()
        assert wait_for(lambda: statuses(sub)[-1][0] == "offline", 10)
        seqs = [seq for _, seq in statuses(sub)]
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == len(seqs)
        # The newest status stays retained for whoever subscribes later.
        late = Subscriber(mqtt_settings.host, mqtt_settings.port, mqtt_prefix).start()
        assert wait_for(lambda: bool(late.of_kind("status")), 5)
        last = late.of_kind("status")[-1]
        assert last.retained
        assert isinstance(last.message, StatusMessage)
        assert last.message.state == "offline"
        late.stop()
    finally:
        run.stop()
        sub.stop()
        clear_retained(mqtt_settings.port, topic)


def test_seq_increases_across_agent_restarts(tmp_path: Path, mqtt_settings, mqtt_prefix: str, sim_clock) -> None:
    sub = Subscriber(mqtt_settings.host, mqtt_settings.port, mqtt_prefix).start()
    cfg = agent_config(tmp_path, port=mqtt_settings.port, prefix=mqtt_prefix)
    topic = Topic("riga-01", "riga-01-edge", Kind.STATUS).render(mqtt_prefix)
    try:
        for run_no in (1, 2):
            run = Running(cfg, sim_clock(120))
            try:
                assert wait_for(lambda n=run_no: len(sub.of_kind("heartbeat")) >= 2 * n, 15)
            finally:
                run.stop()
        seqs = [(r.topic.kind.value, r.message.seq) for r in sub.messages]  # type: ignore[attr-defined]
        numbers = [s for _, s in seqs]
        assert numbers == sorted(numbers), f"seq went backwards: {seqs}"
        assert len(set(numbers)) == len(numbers)
    finally:
        sub.stop()
        clear_retained(mqtt_settings.port, topic)


def test_publish_refused_by_the_acl_keeps_the_readings_and_names_the_fix(
    tmp_path: Path, secure_broker: SecureBroker, sim_clock, caplog: pytest.LogCaptureFixture
) -> None:
    secret = tmp_path / "password"
    secret.write_text(secure_broker.passwords["store-a-edge"])
    # Misconfigured: this agent says it is in store-b but has store-a's credentials.
    cfg = agent_config(
        tmp_path,
        port=secure_broker.port,
        prefix=secure_broker.prefix,
        store="store-b",
        username="store-a-edge",
        password_file=str(secret),
    )
    agent = Agent(cfg, settings=Settings(), clock=sim_clock(10))
    caplog.set_level(logging.ERROR, logger="footfall.edge.publisher")
    agent.start()
    try:
        assert agent.publisher.wait_connected(10)
        agent.heartbeat()
        assert wait_for(lambda: agent.publisher.stats.refused >= 1, 10)
        assert agent.outbox.depth == 1, "a refused reading left the queue"
        assert "may publish under" in caplog.text
        assert "0x87" in caplog.text
    finally:
        agent.stop()


def test_wrong_password_never_connects_and_readings_wait(
    tmp_path: Path, secure_broker: SecureBroker, sim_clock, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = agent_config(
        tmp_path,
        port=secure_broker.port,
        prefix=secure_broker.prefix,
        store="store-a",
        username="store-a-edge",
        password="not-the-password",
    )
    caplog.set_level(logging.ERROR, logger="footfall.edge.publisher")
    agent = Agent(cfg, settings=Settings(), clock=sim_clock(10))
    agent.start()
    try:
        assert wait_for(lambda: agent.publisher.stats.connect_failures >= 1, 10)
        assert not agent.publisher.connected
        agent.heartbeat()
        time.sleep(0.5)
        assert agent.outbox.depth == 1
        assert "refused the connection" in caplog.text
        beat = agent.heartbeat()
        own = next(s for s in beat.sensors if s.sensor_id == "store-a-edge")
        assert Fault.DISCONNECTED in own.faults
        assert beat.broker_unreachable_s > 0  # the outage so far, in the agent's health report
    finally:
        agent.stop()


def make_certs(folder: Path, name: str) -> dict[str, Path]:
    """A CA and a broker certificate for 127.0.0.1 signed by it (openssl)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (folder / f"{name}-{x}" for x in ("ca.key", "ca.pem", "b.key", "b.csr", "b.pem"))
    ext = folder / f"{name}-ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca),
        "-days",
        "2",
        "-subj",
        f"/CN={name} test CA",
    )
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    run(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-out",
        str(cert),
        "-days",
        "2",
        "-extfile",
        str(ext),
    )
    return {"ca": ca, "cert": cert, "key": key}


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make test certificates")
def test_agent_publishes_over_tls_and_refuses_a_broker_its_ca_did_not_sign(
    tmp_path: Path, sim_clock, caplog: pytest.LogCaptureFixture
) -> None:
    good = make_certs(tmp_path / "certs", "good")
    other = make_certs(tmp_path / "certs", "other")
    tls_port = free_port()
    broker = PrivateMosquitto(
        tmp_path / "tls-mq",
        port=free_port(),
        extra=(
            f"listener {tls_port} 127.0.0.1\ncafile {good['ca']}\ncertfile {good['cert']}\n"
            f"keyfile {good['key']}\ntls_version tlsv1.2\n"
        ),
    )
    broker.start()
    prefix = "tlstest"
    sub = Subscriber("127.0.0.1", broker.port, prefix).start()  # plain listener, to watch
    agents = []
    try:
        for name, ca in (("trusting", good["ca"]), ("suspicious", other["ca"])):
            cfg = agent_config(
                tmp_path / name, port=tls_port, prefix=prefix, store=name, tls={"enabled": True, "ca_file": str(ca)}
            )
            agent = Agent(cfg, settings=Settings(), clock=sim_clock(10))
            agent.start()
            agents.append(agent)
            agent.heartbeat()
        assert wait_for(lambda: bool(sub.readings("heartbeat", "trusting-edge")), 10)
        time.sleep(1.0)
        assert sub.readings("heartbeat", "suspicious-edge") == []
        assert not agents[1].publisher.connected
        assert agents[1].outbox.depth == 1
    finally:
        for agent in agents:
            agent.stop()
        sub.stop()
        broker.stop()


class FakeCameraPipeline:
    """Stands in for the camera pipeline: puts zone readings into the agent's sink."""

    def __init__(self, sink, clock) -> None:
        self.sink = sink
        self.clock = clock
        self.started = False

    def start(self) -> None:
        self.started = True
        end = self.clock.now()
        self.sink.put(
            Kind.ZONES,
            "riga-01-cam1",
            [
                ZonesReading(
                    start=end - timedelta(minutes=1), end=end, zone_id="bakery", entries=4, exits=2, dwell_s=[30.0]
                )
            ],
        )

    def stop(self) -> None:
        self.started = False

    def sensor_health(self) -> list[SensorHealth]:
        return [SensorHealth(sensor_id="riga-01-cam1", errors=0, faults=[Fault.FROZEN])]


def test_an_attached_producer_publishes_through_the_same_queue_and_reports_its_health(
    tmp_path: Path, mqtt_settings, mqtt_prefix: str, sim_clock
) -> None:
    sub = Subscriber(mqtt_settings.host, mqtt_settings.port, mqtt_prefix).start()
    clock = sim_clock(10)
    agent = Agent(agent_config(tmp_path, port=mqtt_settings.port, prefix=mqtt_prefix), settings=Settings(), clock=clock)
    camera = FakeCameraPipeline(agent.sink, clock)
    agent.attach(camera)
    agent.start()
    try:
        assert camera.started
        assert wait_for(lambda: bool(sub.readings("zones", "riga-01-cam1")), 10)
        beat = agent.heartbeat()
        assert any(s.sensor_id == "riga-01-cam1" and Fault.FROZEN in s.faults for s in beat.sensors)
    finally:
        agent.stop()
        sub.stop()
        clear_retained(mqtt_settings.port, Topic("riga-01", "riga-01-edge", Kind.STATUS).render(mqtt_prefix))
    assert not camera.started


def test_a_camera_in_edge_yaml_runs_in_the_agent_and_its_counts_reach_the_broker(
    tmp_path: Path, mqtt_settings, mqtt_prefix: str
) -> None:
    scene = door_scene(seed=3, duration_s=30)
    video = scene.write(tmp_path / "door.mp4")
    store_file = tmp_path / "store.yaml"
    store_file.write_text(
        yaml.safe_dump(scene.store_config(store_id="synth", device_id="cam1").model_dump(mode="json"))
    )
    cfg = EdgeConfig.from_data(
        {
            "store_id": "synth",
            "device_id": "synth-edge",
            "store_file": str(store_file),
            "data_dir": str(tmp_path / "edge"),
            "mqtt": {"host": mqtt_settings.host, "port": mqtt_settings.port, "prefix": mqtt_prefix},
            "queue": {"synchronous": "normal"},
            "cameras": [{"id": "cam1", "source": str(video)}],
        }
    )
    sub = Subscriber(mqtt_settings.host, mqtt_settings.port, mqtt_prefix).start()
    agent = Agent(cfg, settings=Settings())
    agent.start()
    try:
        truth = scene.truth()
        assert wait_for(lambda: sum(r.entries for r in sub.readings("counts", "cam1")) == truth.entries, 60)
        beat = agent.heartbeat()
        assert any(s.sensor_id == "cam1" for s in beat.sensors)
    finally:
        agent.stop()
        sub.stop()
        clear_retained(mqtt_settings.port, Topic("synth", "synth-edge", Kind.STATUS).render(mqtt_prefix))
