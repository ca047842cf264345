"""Store-and-forward through a long broker outage, with real counters, a real agent and a real broker.

Simulated time runs 720× (two hours in 10 s); the upstream broker is a private Mosquitto
that is down for the whole two hours and started afterwards.
"""

import itertools
import secrets
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from footfall.core.messages import CountsReading, Fault
from footfall.core.settings import Settings
from footfall.devtools.services import PrivateMosquitto, free_port
from footfall.edge.agent import Agent
from footfall.edge.config import EdgeConfig
from footfall.firmware_stubs.beam import BeamCounterStub
from footfall.firmware_stubs.firmware import FaultPlan
from footfall.firmware_stubs.mqtt_counter import MqttCounterStub
from footfall.firmware_stubs.traffic import TrafficScript
from tests.integration.edge.conftest import SIM_START, Subscriber, wait_for

OUTAGE_MIN = 120
SPEED = 720.0


class Rig:
    """Two counters (beam, MQTT-native) → agent → a private broker that starts out down."""

    def __init__(self, tmp_path: Path, sim_clock, mqtt_settings, *, replay_rate: float) -> None:
        # Everything connects during the simulated 10 minutes before traffic starts.
        self.clock = sim_clock(SPEED, lead_s=600)
        self.prefix = f"t{secrets.token_hex(4)}"
        self.broker = PrivateMosquitto(tmp_path / "upstream", port=free_port())
        until = SIM_START + timedelta(minutes=OUTAGE_MIN + 10)
        self.script = TrafficScript.generate(
            start=SIM_START, minutes=OUTAGE_MIN + 5, rates={"side": 4, "staff": 1}, seed=11
        )
        self.beam = BeamCounterStub(
            device_id="riga-01-beam",
            door="side",
            script=self.script,
            plan=FaultPlan(counter_bits=16, start_in=65_000, clock_offset_s=20, drift_ppm=500),
            clock=self.clock,
            start=SIM_START,
            until=until,
            keepalive_s=20,
        )
        self.local_topic = f"{self.prefix}/sensors/staff"
        self.mqtt = MqttCounterStub(
            device_id="riga-01-staff",
            door="staff",
            script=self.script,
            plan=FaultPlan(),
            clock=self.clock,
            start=SIM_START,
            until=until,
            host=mqtt_settings.host,
            port=mqtt_settings.port,
            topic=self.local_topic,
            keepalive_s=20,
        )
        self.cfg = EdgeConfig.from_data(
            {
                "store_id": "riga-01",
                "device_id": "riga-01-edge",
                "data_dir": str(tmp_path / "edge"),
                "heartbeat_s": 60,
                "minutes": {"gap_s": 900},  # 900 simulated seconds: a scheduling hiccup is not a silent device
                "mqtt": {"host": "127.0.0.1", "port": self.broker.port, "prefix": self.prefix, "reconnect_max_s": 1},
                "queue": {"synchronous": "normal", "batch_readings": 100, "replay_readings_per_s": replay_rate},
                "devices": [
                    {
                        "id": "riga-01-beam",
                        "driver": "tcp",
                        "host": "127.0.0.1",
                        "port": self.beam.port,
                        "door": "side",
                        "counter_bits": 16,
                        "ping_s": 30,
                        "timeout_s": 600,  # 600 simulated seconds: under 2 s of real time at this speed
                    },
                    {
                        "id": "riga-01-staff",
                        "driver": "mqtt",
                        "host": mqtt_settings.host,
                        "port": mqtt_settings.port,
                        "topic": self.local_topic,
                        "client_id": f"edge-{self.prefix}-staff",  # the shared broker keeps sessions across tests
                        "door": "staff",
                    },
                ],
            }
        )
        self.agent = Agent(self.cfg, settings=Settings(), clock=self.clock)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.agent.run, args=(self.stop,), daemon=True)

    def subscriber(self) -> Subscriber:
        """A subscriber whose persistent session exists before the agent first reaches the broker."""
        sub = Subscriber("127.0.0.1", self.broker.port, self.prefix, session=f"test-{self.prefix}")
        self.broker.start()
        sub.start()
        sub.stop()
        self.broker.stop()
        return sub

    def start(self) -> None:
        self.beam.start()
        self.thread.start()
        assert wait_for(lambda: self.agent.cores["riga-01-staff"].health.connected, 10)
        self.mqtt.start()
        assert wait_for(lambda: self.mqtt.connected, 10)
        assert self.clock.now() < SIM_START, "connecting took longer than the simulated lead time"

    def run_until(self, minutes: float) -> None:
        target = SIM_START + timedelta(minutes=minutes)
        while self.clock.now() < target:
            time.sleep(0.1)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(20)
        self.beam.stop()
        self.mqtt.stop()
        self.broker.stop()

    def truth(self) -> dict[tuple[str, str], tuple[int, int]]:
        out = {}
        for dev, stub in (("riga-01-beam", self.beam), ("riga-01-staff", self.mqtt)):
            t = stub.fw.truth.totals()
            out[(dev, stub.door)] = (t["entries"], t["exits"])
        return out


def sums(readings: list[tuple[str, CountsReading]], until) -> dict[tuple[str, str], tuple[int, int]]:
    out: dict[tuple[str, str], list[int]] = {}
    for dev, r in readings:
        if r.start < until:
            row = out.setdefault((dev, r.door_id), [0, 0])
            row[0] += r.entries
            row[1] += r.exits
    return {k: (v[0], v[1]) for k, v in out.items()}


@pytest.fixture
def rig_factory(tmp_path, sim_clock, mqtt_settings):
    rigs = []

    def make(**kw) -> Rig:
        rig = Rig(tmp_path / f"rig{len(rigs)}", sim_clock, mqtt_settings, **kw)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


def counts_of(sub: Subscriber) -> list[tuple[str, CountsReading]]:
    return [(r.topic.device_id, rd) for r in sub.of_kind("counts") for rd in r.message.readings]  # type: ignore[attr-defined]


def test_two_hour_outage_backlog_replays_completely_in_order_at_a_bounded_rate(rig_factory) -> None:
    rig = rig_factory(replay_rate=100.0)
    sub = rig.subscriber()
    rig.start()
    rig.run_until(OUTAGE_MIN + 6)  # the broker has been down all along
    queued = rig.agent.outbox.depth
    assert queued >= 2 * OUTAGE_MIN, f"only {queued} readings queued during a {OUTAGE_MIN}-minute outage"
    assert rig.agent.outbox.merged == 0

    rig.broker.start()
    sub.start()
    began = time.monotonic()
    assert wait_for(lambda: rig.agent.outbox.depth == 0 and rig.agent.publisher.inflight == 0, 60)
    took = time.monotonic() - began
    assert took >= (queued - 100) / 100.0 * 0.9, f"{queued} readings replayed in {took:.1f} s: faster than 100/s"

    end = SIM_START + timedelta(minutes=OUTAGE_MIN + 5)
    wait_for(lambda: sums(counts_of(sub), end) == rig.truth(), 10)
    got = counts_of(sub)
    keys = Counter((dev, r.door_id, r.start) for dev, r in got)
    assert max(keys.values()) == 1, "a minute was published twice"
    # Every minute from the first report to the end of traffic, for both counters, in order per device.
    for dev in ("riga-01-beam", "riga-01-staff"):
        starts = [r.start for d, r in got if d == dev]
        assert starts == sorted(starts), f"{dev}: backlog replayed out of order"
        minutes = {s for s in starts if s < SIM_START + timedelta(minutes=OUTAGE_MIN)}
        assert len(minutes) >= OUTAGE_MIN - 1, f"{dev}: {OUTAGE_MIN - len(minutes)} minutes missing"
    assert sums(got, end) == rig.truth()
    assert sub.invalid == []
    messages = len(sub.of_kind("counts"))
    assert messages < len(got) / 10, f"{len(got)} readings in {messages} messages: the backlog was not batched"
    sub.stop()


def test_full_queue_during_an_outage_merges_intervals_without_changing_totals(rig_factory) -> None:
    rig = rig_factory(replay_rate=5000.0)
    # A budget far below two hours of minutes and heartbeats (~100 kB), so the queue must merge.
    rig.agent.outbox.max_bytes = 24_000
    sub = rig.subscriber()
    rig.start()
    rig.run_until(OUTAGE_MIN + 6)
    assert rig.agent.outbox.merged > 0
    # The budget is enforced right after each commit; a reader on another thread may catch
    # the queue between a commit and its merge, so look again rather than once.
    assert wait_for(lambda: rig.agent.outbox.bytes <= rig.agent.outbox.max_bytes, 5)

    rig.broker.start()
    sub.start()
    assert wait_for(lambda: rig.agent.outbox.depth == 0 and rig.agent.publisher.inflight == 0, 60)
    end = SIM_START + timedelta(minutes=OUTAGE_MIN + 5)
    wait_for(lambda: sums(counts_of(sub), end) == rig.truth(), 10)
    got = counts_of(sub)
    assert sums(got, end) == rig.truth(), "merging changed the totals"
    assert any(r.end - r.start > timedelta(minutes=1) for _, r in got), "no coarser interval was published"
    keys = Counter((dev, r.door_id, r.start) for dev, r in got)
    assert max(keys.values()) == 1
    for dev in ("riga-01-beam", "riga-01-staff"):
        rs = sorted((r for d, r in got if d == dev), key=lambda r: r.start)
        assert all(a.end <= b.start for a, b in itertools.pairwise(rs)), f"{dev}: merged intervals overlap"
    beats = sub.readings("heartbeat", "riga-01-edge")
    assert any(b.merged_intervals > 0 for b in beats)
    own = [s for b in beats for s in b.sensors if s.sensor_id == "riga-01-edge"]
    assert any(Fault.QUEUE_FULL in s.faults for s in own), "the heartbeat did not report the full queue"
    sub.stop()
