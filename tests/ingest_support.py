"""Shared helpers for the ingest tests: a store to authorise against, message factories,
a paced QoS 1 publisher, and database read-backs."""

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from footfall.core import messages
from footfall.core.mqtt import Backoff, BrokerTarget, MqttTransport
from footfall.core.storeconfig import StoreConfig
from footfall.core.topics import Topic
from tests import helpers

STORE = "s1"
OTHER_STORE = "s2"
EDGE = "s1-edge"
COUNTERS = ("s1-door-a", "s1-door-b")
CAMERA = "s1-cam"
OTHER_COUNTER = "s2-door"
T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)


def store_config(store_id: str = STORE) -> StoreConfig:
    """Two doors with one counter each, a camera over two zones, an edge box."""
    if store_id == OTHER_STORE:
        return StoreConfig.from_data(
            {
                "store": {"id": OTHER_STORE, "name": "Other", "timezone": "Europe/Riga"},
                "doors": [{"id": "main"}],
                "devices": [{"id": OTHER_COUNTER, "kind": "counter_tcp", "doors": ["main"]}],
            }
        )
    return StoreConfig.from_data(
        {
            "store": {"id": STORE, "name": "Test store", "timezone": "Europe/Riga"},
            "floors": [{"id": "ground", "width_m": 30, "height_m": 20}],
            "doors": [{"id": "main"}, {"id": "side"}],
            "zones": [
                {"id": "bakery", "floor": "ground", "polygon": [[1, 1], [5, 1], [5, 5], [1, 5]]},
                {"id": "coffee", "floor": "ground", "polygon": [[6, 1], [9, 1], [9, 5], [6, 5]]},
            ],
            "devices": [
                {"id": EDGE, "kind": "edge"},
                {"id": COUNTERS[0], "kind": "counter_tcp", "doors": ["main"]},
                {"id": COUNTERS[1], "kind": "counter_http", "doors": ["side"]},
                {"id": CAMERA, "kind": "camera", "floor": "ground", "zones": ["bakery", "coffee"]},
            ],
        }
    )


def apply_stores(conn: psycopg.Connection) -> None:
    """Register both test stores."""
    from footfall.db.stores import apply_store

    apply_store(conn, store_config(STORE))
    apply_store(conn, store_config(OTHER_STORE))
    conn.commit()


def counts(
    device: str, seq: int, *, door: str | None = None, readings: int = 3, minute0: int | None = None
) -> messages.CountsMessage:
    """A counts message: `readings` consecutive minutes starting at minute `seq * readings`."""
    door = door or ("main" if device != COUNTERS[1] else "side")
    first = seq * readings if minute0 is None else minute0
    rs = [
        messages.CountsReading(
            start=T0 + timedelta(minutes=first + i),
            end=T0 + timedelta(minutes=first + i + 1),
            door_id=door,
            entries=(seq + i) % 7,
            exits=(seq * 3 + i) % 5,
        )
        for i in range(readings)
    ]
    return messages.CountsMessage(device_id=device, seq=seq, sent_at=rs[-1].end, readings=rs)


def occupancy(seq: int) -> messages.OccupancyMessage:
    start = T0 + timedelta(minutes=seq)
    return messages.OccupancyMessage(
        device_id=CAMERA,
        seq=seq,
        sent_at=start + timedelta(minutes=1),
        readings=[
            messages.OccupancyReading(start=start, end=start + timedelta(minutes=1), occupancy=seq % 9),
            messages.OccupancyReading(
                start=start, end=start + timedelta(minutes=1), zone_id="bakery", occupancy=seq % 3
            ),
        ],
    )


def heatmap(seq: int) -> messages.HeatmapMessage:
    start = T0 + timedelta(minutes=seq)
    cells = [messages.HeatmapCell(x=x, y=seq % 4, presence_s=10.0 + x, tracks=3 + x) for x in range(3)]
    reading = messages.HeatmapReading(
        start=start, end=start + timedelta(minutes=1), floor_id="ground", cell_m=0.5, cells=cells
    )
    return messages.HeatmapMessage(device_id=CAMERA, seq=seq, sent_at=reading.end, readings=[reading])


def tracks(seq: int) -> messages.TracksMessage:
    start = T0 + timedelta(minutes=seq)
    pts = [messages.TrackPoint(t=float(i), x=1.0 + i, y=2.0) for i in range(3)]
    reading = messages.TracksReading(
        start=start, end=start + timedelta(minutes=1), floor_id="ground", tracks=[messages.Track(points=pts)] * 2
    )
    return messages.TracksMessage(device_id=CAMERA, seq=seq, sent_at=reading.end, readings=[reading])


def zones(seq: int) -> messages.ZonesMessage:
    start = T0 + timedelta(minutes=seq)
    reading = messages.ZonesReading(
        start=start, end=start + timedelta(minutes=1), zone_id="coffee", entries=2, exits=1, dwell_s=[12.5, 40.0]
    )
    return messages.ZonesMessage(device_id=CAMERA, seq=seq, sent_at=reading.end, readings=[reading])


def heartbeat(seq: int) -> messages.HeartbeatMessage:
    start = T0 + timedelta(minutes=seq)
    reading = messages.HeartbeatReading(
        start=start,
        end=start + timedelta(minutes=1),
        uptime_s=60.0 * seq,
        queue_depth=seq % 10,
        sensors=[messages.SensorHealth(sensor_id=COUNTERS[0], errors=0)],
    )
    return messages.HeartbeatMessage(device_id=EDGE, seq=seq, sent_at=reading.end, readings=[reading])


def status(seq: int, state: str = "online") -> messages.StatusMessage:
    return messages.StatusMessage(device_id=EDGE, seq=seq, sent_at=T0 + timedelta(minutes=seq), state=state)


def topic_for(msg: messages.AnyMessage, prefix: str, store: str = STORE) -> str:
    return Topic(store, msg.device_id, msg.kind).render(prefix)


@dataclass
class Sent:
    topic: str
    payload: bytes


class Publisher:
    """A QoS 1 publisher that waits for every PUBACK (the broker has the message)."""

    def __init__(self, host: str, port: int, *, client_id: str, persistent: bool = False, reconnect_s: int = 1) -> None:
        self.published = 0
        self.acked = 0
        self._lock = threading.Lock()
        target = BrokerTarget(
            host=host, port=port, prefix="test", username=None, password=None, client_id=client_id, keepalive_s=10
        )
        self.transport = MqttTransport(
            target,
            clean_start=not persistent,
            session_expiry_s=300 if persistent else 0,
            backoff=Backoff(reconnect_s, max(reconnect_s, 2)),
            max_inflight=200,
            max_queued=0,
            name=f"test publisher {client_id}",
            on_publish=self._on_publish,
        )
        self.transport.start()
        assert self.transport.wait_connected(10), f"test publisher cannot reach {host}:{port}"

    def _on_publish(self, mid, reason_code) -> None:
        with self._lock:
            self.acked += 1

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        # While disconnected paho keeps the message and sends it after reconnecting.
        self.transport.publish(topic, payload, qos=qos)
        self.published += 1

    def publish_all(
        self, items: Iterable[Sent], *, chunk: int = 500, between: Callable[[int], None] | None = None
    ) -> int:
        """Publish in chunks, waiting for the broker's acks of each chunk; `between(n)` after each."""
        n = 0
        for item in items:
            self.publish(item.topic, item.payload)
            n += 1
            if n % chunk == 0:
                self.wait()
                if between is not None:
                    between(n)
        self.wait()
        return n

    def wait(self, timeout: float = 120) -> None:
        wait_until(lambda: self.acked >= self.published, timeout, "the broker to acknowledge every publish", 0.005)

    def close(self) -> None:
        self.transport.stop()


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, every: float = 0.1) -> None:
    """`tests.helpers.wait_until` that fails the test, naming `what` it waited for."""
    if not helpers.wait_until(predicate, timeout, every):
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def count_rows(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


def door_count_keys(conn: psycopg.Connection) -> dict[tuple, tuple]:
    rows = conn.execute("SELECT device_id, door_id, start_ts, entries, exits, seq FROM door_counts").fetchall()
    return {(r["device_id"], r["door_id"], r["start_ts"]): (r["entries"], r["exits"], r["seq"]) for r in rows}


def expected_door_counts(msgs: Iterable[messages.CountsMessage]) -> dict[tuple, tuple]:
    return {(msg.device_id, r.door_id, r.start): (r.entries, r.exits, msg.seq) for msg in msgs for r in msg.readings}


class ThreadedPublisher(threading.Thread):
    """Publishes a list at a steady rate in the background; records what the broker acknowledged."""

    def __init__(self, pub: Publisher, items: list[Sent], rate: float) -> None:
        super().__init__(daemon=True)
        self.pub, self.items, self.rate = pub, items, rate
        self.error: BaseException | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            start = time.monotonic()
            for i, item in enumerate(self.items):
                due = start + i / self.rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self.pub.publish(item.topic, item.payload)
            self.pub.wait(timeout=300)
        except BaseException as exc:
            self.error = exc
        finally:
            self.done.set()


def payload_json(obj: object) -> bytes:
    return json.dumps(obj).encode()


def registry_entries():
    """The test stores as registry entries (for tests without a database)."""
    from footfall.ingest.registry import DeviceEntry, StorePlaces

    devices = [
        DeviceEntry(EDGE, STORE, "edge", True, frozenset()),
        DeviceEntry(COUNTERS[0], STORE, "counter_tcp", True, frozenset({"main"})),
        DeviceEntry(COUNTERS[1], STORE, "counter_http", True, frozenset({"side"})),
        DeviceEntry(CAMERA, STORE, "camera", True, frozenset()),
        DeviceEntry(OTHER_COUNTER, OTHER_STORE, "counter_tcp", True, frozenset({"main"})),
        DeviceEntry("s1-retired", STORE, "counter_tcp", False, frozenset({"main"})),
    ]
    places = {STORE: StorePlaces(frozenset({"bakery", "coffee"}), frozenset({"ground"})), OTHER_STORE: StorePlaces()}
    return devices, places
