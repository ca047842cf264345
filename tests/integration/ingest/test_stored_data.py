"""What ingest refuses to store although it is valid by the contract (issue 10, points 11,
12 and 15): readings from the future or past retention, a second opinion about a stored
reading, heatmap cells below the server's minimum k."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from footfall.core import messages as m
from footfall.core.settings import DbSettings, MqttSettings
from footfall.db.connect import connect
from footfall.ingest.worker import IngestWorker
from tests.ingest_support import CAMERA, COUNTERS, T0, Publisher, topic_for, wait_until
from tests.integration.ingest.conftest import make_settings

FUTURE = datetime(2030, 6, 1, 12, tzinfo=UTC)


def _publish(mqtt: MqttSettings, prefix: str, msgs: list[m.AnyMessage], worker: IngestWorker) -> None:
    pub = Publisher(mqtt.host, mqtt.port, client_id=f"{prefix}-pub")
    try:
        for x in msgs:
            pub.publish(topic_for(x, prefix), x.to_json())
        pub.wait()
        wait_until(lambda: worker.stats.acked >= worker.stats.received >= pub.published, 30, "acknowledged")
    finally:
        pub.close()


def _reading(start: datetime, entries: int = 3, exits: int = 1) -> m.CountsReading:
    return m.CountsReading(start=start, end=start + timedelta(minutes=1), door_id="main", entries=entries, exits=exits)


def _door_counts(db: DbSettings) -> dict[datetime, tuple[int, int]]:
    with connect(db) as conn:
        rows = conn.execute("SELECT start_ts, entries, exits FROM door_counts WHERE device_id = %s", (COUNTERS[0],))
        return {r["start_ts"]: (r["entries"], r["exits"]) for r in rows}


def _letters(db: DbSettings) -> list[dict]:
    with connect(db) as conn:
        return conn.execute("SELECT reason_code, reason, device_id FROM dead_letters ORDER BY id").fetchall()


@pytest.fixture
def started(
    stores_db: DbSettings, mqtt_settings: MqttSettings, mqtt_prefix: str
) -> Iterator[Callable[..., IngestWorker]]:
    """A factory: a running worker with extra ingest settings."""
    workers: list[IngestWorker] = []

    def start(**ingest: object) -> IngestWorker:
        w = IngestWorker(make_settings(stores_db, mqtt_settings, mqtt_prefix, **ingest))
        w.start()
        workers.append(w)
        return w

    yield start
    for w in workers:
        w.stop()
        assert w._error is None, f"worker crashed: {w._error!r}"


def test_a_reading_from_the_future_is_dead_lettered_and_the_rest_of_its_message_stored(
    started, stores_db: DbSettings, mqtt_settings: MqttSettings, mqtt_prefix: str
) -> None:
    worker = started()
    # The device's clock says 2030 for one reading, and its sent_at agrees: only the
    # receiver's clock can tell.
    future = m.CountsMessage(device_id=COUNTERS[0], seq=1, sent_at=FUTURE, readings=[_reading(FUTURE)])
    mixed = m.CountsMessage(
        device_id=COUNTERS[0], seq=2, sent_at=FUTURE, readings=[_reading(T0), _reading(FUTURE + timedelta(minutes=1))]
    )
    _publish(mqtt_settings, mqtt_prefix, [future, mixed], worker)
    assert _door_counts(stores_db) == {T0: (3, 1)}
    letters = _letters(stores_db)
    assert [(r["reason_code"], r["device_id"]) for r in letters] == [("future_reading", COUNTERS[0])] * 2
    assert "receiver's clock" in letters[0]["reason"]
    assert "ingest.max_future_s" in letters[0]["reason"]
    assert "the other 1 reading(s) were stored" in letters[1]["reason"]
    reg = worker.metrics.registry
    assert reg.get_sample_value("footfall_ingest_dead_letters_total", {"reason": "future_reading"}) == 2


def test_a_reading_older_than_the_retention_horizon_is_dead_lettered(
    started, stores_db: DbSettings, mqtt_settings: MqttSettings, mqtt_prefix: str
) -> None:
    worker = started(max_age_days=30)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    recent = now - timedelta(days=1)
    msg = m.CountsMessage(device_id=COUNTERS[0], seq=1, sent_at=now, readings=[_reading(T0), _reading(recent)])
    _publish(mqtt_settings, mqtt_prefix, [msg], worker)
    assert _door_counts(stores_db) == {recent: (3, 1)}
    [letter] = _letters(stores_db)
    assert letter["reason_code"] == "expired_reading"
    assert "retention of 30 days" in letter["reason"]


@pytest.mark.parametrize(
    ("entries", "conflict"),
    [
        (99, True),  # the same door and minute again with other counts
        (3, False),  # an exact resend under a new seq (an edge replay): a silent duplicate
    ],
)
def test_a_conflicting_duplicate_is_dead_lettered_with_both_values_and_an_exact_one_is_not(
    started, stores_db: DbSettings, mqtt_settings: MqttSettings, mqtt_prefix: str, entries: int, conflict: bool
) -> None:
    worker = started()
    first = m.CountsMessage(device_id=COUNTERS[0], seq=1, sent_at=T0, readings=[_reading(T0)])
    again = m.CountsMessage(
        device_id=COUNTERS[0],
        seq=2,
        sent_at=T0,
        readings=[_reading(T0, entries=entries), _reading(T0 + timedelta(minutes=1), entries=5)],
    )
    _publish(mqtt_settings, mqtt_prefix, [first], worker)
    _publish(mqtt_settings, mqtt_prefix, [again, again], worker)  # a broker redelivery of it, too
    assert _door_counts(stores_db) == {T0: (3, 1), T0 + timedelta(minutes=1): (5, 1)}
    letters = _letters(stores_db)
    reg = worker.metrics.registry
    conflicts = reg.get_sample_value("footfall_ingest_conflicting_rows_total", {"table": "door_counts"})
    if not conflict:
        assert letters == []
        assert not conflicts
        return
    [letter] = letters  # the redelivery is the same dead letter
    assert letter["reason_code"] == "conflicting_duplicate"
    assert "stored end=" in letter["reason"]
    assert "entries=3" in letter["reason"]
    assert "received" in letter["reason"]
    assert "entries=99" in letter["reason"]
    assert conflicts == 2


def test_heatmap_cells_below_the_server_minimum_k_are_dropped(
    started, stores_db: DbSettings, mqtt_settings: MqttSettings, mqtt_prefix: str
) -> None:
    worker = started(min_heatmap_k=3)
    cells = [m.HeatmapCell(x=x, y=0, presence_s=5.0, tracks=x + 1) for x in range(4)]  # tracks 1, 2, 3, 4
    reading = m.HeatmapReading(
        start=T0, end=T0 + timedelta(minutes=1), floor_id="ground", cell_m=0.5, min_tracks=1, cells=cells
    )
    msg = m.HeatmapMessage(device_id=CAMERA, seq=1, sent_at=reading.end, readings=[reading])
    _publish(mqtt_settings, mqtt_prefix, [msg], worker)
    with connect(stores_db) as conn:
        stored = sorted(r["tracks"] for r in conn.execute("SELECT tracks FROM heatmap_cells"))
    assert stored == [3, 4]
    assert worker.metrics.registry.get_sample_value("footfall_ingest_heatmap_cells_suppressed_total") == 2
