"""`footfall bench edge`: queue writes, replay to the real broker, and merging, against baselines.

Each figure is measured next to a baseline in the same run (the machine may be shared):

- write: readings committed one at a time through `Outbox.commit` (as drivers do) vs plain
  SQLite inserts of the same JSON with the same durability settings;
- replay: a queued backlog drained by `Publisher` (claim, seq, QoS 1, delete on PUBACK)
  vs the bare transport (paho) publishing the same messages with QoS 1 and waiting for every PUBACK;
- merge: time to bring a full queue of minute counts under budget.
"""

import secrets
import sqlite3
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from footfall.core.messages import CountsMessage, CountsReading
from footfall.core.mqtt import BrokerTarget, MQTTMessage, MqttTransport
from footfall.core.settings import Settings
from footfall.core.topics import Kind, Topic
from footfall.edge.outbox import ROW_OVERHEAD, Outbox
from footfall.edge.publisher import Publisher

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _readings(n: int, doors: int = 4) -> list[CountsReading]:
    return [
        CountsReading(
            start=T0 + timedelta(minutes=i // doors),
            end=T0 + timedelta(minutes=i // doors + 1),
            door_id=f"door-{i % doors}",
            entries=i % 11,
            exits=i % 7,
        )
        for i in range(n)
    ]


def _write(folder: Path, readings: list[CountsReading], synchronous: str) -> dict[str, float]:
    ob = Outbox.open(folder / f"w-{synchronous}.db", synchronous=synchronous)  # type: ignore[arg-type]
    began = time.perf_counter()
    for r in readings:
        ob.commit("bench-door", {Kind.COUNTS: [r]}, state={"cursor": 1})
    ours = time.perf_counter() - began
    ob.close()
    raw = sqlite3.connect(folder / f"raw-{synchronous}.db", isolation_level=None)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    raw.execute("CREATE TABLE q (id INTEGER PRIMARY KEY, body TEXT)")
    began = time.perf_counter()
    for r in readings:
        raw.execute("BEGIN")
        raw.execute("INSERT INTO q (body) VALUES (?)", (r.model_dump_json(),))
        raw.execute("COMMIT")
    base = time.perf_counter() - began
    raw.close()
    n = len(readings)
    return {"outbox_per_s": round(n / ours), "sqlite_per_s": round(n / base), "ratio": round(base / ours, 3)}


class _Counter:
    def __init__(self, settings: Settings, prefix: str) -> None:
        self.readings = 0
        self.lock = threading.Lock()
        ready = threading.Event()
        self.transport = MqttTransport(
            BrokerTarget.from_settings(settings.mqtt, client_id=f"bench-count-{secrets.token_hex(3)}"),
            name="bench counter",
            on_message=self._on_message,
            on_subscribe=lambda codes: ready.set(),
        )
        self.transport.subscribe(f"{prefix}/v1/#", qos=1)
        self.transport.start()
        ready.wait(10)

    def _on_message(self, msg: MQTTMessage) -> None:
        n = msg.payload.count(b'"door_id"')
        with self.lock:
            self.readings += n

    def wait(self, total: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.readings >= total:
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self.transport.stop()


def _replay(folder: Path, settings: Settings, readings: list[CountsReading], batch: int) -> dict[str, float]:
    m = settings.mqtt
    prefix = f"bench{secrets.token_hex(4)}"
    target = BrokerTarget.from_settings(m, client_id=f"bench-edge-{secrets.token_hex(3)}").model_copy(
        update={"prefix": prefix, "keepalive_s": 30}
    )
    counter = _Counter(settings, prefix)
    ob = Outbox.open(folder / "replay.db", synchronous="normal")
    for i in range(0, len(readings), 1000):
        ob.put(Kind.COUNTS, "bench-door", readings[i : i + 1000])
    pub = Publisher(
        outbox=ob,
        target=target,
        store_id="bench",
        agent_id="bench-edge",
        batch_readings=batch,
        max_inflight=8,
        replay_readings_per_s=1e9,
    )
    pub.start()
    if not pub.wait_connected(30):
        raise RuntimeError(f"no MQTT broker at {m.host}:{m.port}")
    began = time.perf_counter()  # like the baseline, from an open connection
    ok = counter.wait(len(readings), 120) and pub.flush(60)
    ours = time.perf_counter() - began
    pub.stop()
    ob.close()
    counter.close()
    if not ok:
        raise RuntimeError("the replay did not finish in 2 minutes; is the broker reachable?")

    # Baseline: the same messages from the bare transport (paho), QoS 1, every PUBACK awaited.
    counter = _Counter(settings, prefix + "b")
    topic = Topic("bench", "bench-door", Kind.COUNTS).render(prefix + "b")
    payloads = [
        CountsMessage(
            device_id="bench-door", seq=i + 1, sent_at=T0 + timedelta(days=30), readings=readings[i : i + batch]
        ).to_json()
        for i in range(0, len(readings), batch)
    ]
    client = MqttTransport(
        BrokerTarget.from_settings(m, client_id=f"bench-paho-{secrets.token_hex(3)}"), max_inflight=8, name="bench"
    )
    client.start()
    if not client.wait_connected(30):
        raise RuntimeError(f"no MQTT broker at {m.host}:{m.port}")
    began = time.perf_counter()
    infos = [client.publish(topic, p, qos=1) for p in payloads]
    for info in infos:
        info.wait_for_publish(60)
    counter.wait(len(readings), 60)
    base = time.perf_counter() - began
    client.stop()
    counter.close()
    n = len(readings)
    return {
        "publisher_readings_per_s": round(n / ours),
        "paho_readings_per_s": round(n / base),
        "ratio": round(base / ours, 3),
        "messages": len(payloads),
    }


def _merge(folder: Path, readings: list[CountsReading]) -> dict[str, float]:
    ob = Outbox.open(folder / "merge.db", synchronous="normal")
    for i in range(0, len(readings), 1000):
        ob.put(Kind.COUNTS, "bench-door", readings[i : i + 1000])
    before = ob.depth
    per_row = ob.bytes / before
    ob.max_bytes = int(before * per_row / 5)  # a fifth of what is queued
    began = time.perf_counter()
    ob.enforce_budget()
    took = time.perf_counter() - began
    after = ob.depth
    ob.close()
    return {
        "readings": before,
        "after": after,
        "seconds": round(took, 3),
        "merged_per_s": round(before / took),
        "row_overhead_bytes": ROW_OVERHEAD,
    }


def run_bench(settings: Settings, *, readings: int, batch: int, console: Console | None = None) -> dict[str, Any]:
    """Run the three measurements; returns one JSON-ready object."""
    data = _readings(readings)
    with tempfile.TemporaryDirectory(prefix="footfall-bench-edge-") as tmp:
        folder = Path(tmp)
        if console is not None:
            console.print(f"queue writes: {min(readings, 2000)} single-reading commits, full and normal durability …")
        write_full = _write(folder, data[:2000], "full")
        write_normal = _write(folder, data[:2000], "normal")
        if console is not None:
            console.print(f"replay: {readings} readings to {settings.mqtt.host}:{settings.mqtt.port} …")
        replay = _replay(folder, settings, data, batch)
        if console is not None:
            console.print(f"merge: {readings} readings to a fifth of their size …")
        merged = _merge(folder, data)
    return {
        "bench": "edge",
        "write_full": write_full,
        "write_normal": write_normal,
        "replay": replay,
        "merge": merged,
    }
