"""Camera readings over the real Mosquitto, in the wire contract."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from footfall.core.topics import Kind
from footfall.edge.vision.config import PipelineOptions
from footfall.edge.vision.pipeline import CameraPipeline, CameraSpec
from footfall.firmware_stubs.scenes import Fault, door_scene

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def run(scene, sink, options: PipelineOptions) -> CameraPipeline:
    pipe = CameraPipeline(CameraSpec.from_store(scene.store_config(), "cam1"), options, sink)
    for t, img in scene.frames():
        pipe.process(img, T0 + timedelta(seconds=t))
    pipe.flush()
    return pipe


def wait_for(collector, n: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while len(collector.messages) < n and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.slow  # a 700-frame scene over the broker
def test_scene_readings_cross_the_broker_and_add_up_to_the_truth(mqtt_pair) -> None:
    sink, collector = mqtt_pair
    scene = door_scene(seed=1, duration_s=70)
    run(scene, sink, PipelineOptions.model_validate({"privacy": {"tracks": True}}))
    sent = next(sink.seq) - 1
    wait_for(collector, sent)
    assert collector.errors == []
    assert len(collector.messages) == sent
    by_kind: dict[Kind, list] = {}
    for topic, msg in collector.messages:
        assert (topic.store_id, topic.device_id) == ("synth", "cam1")
        by_kind.setdefault(topic.kind, []).extend(msg.readings)
    assert set(by_kind) == {Kind.COUNTS, Kind.ZONES, Kind.OCCUPANCY, Kind.HEATMAP, Kind.TRACKS}
    truth = scene.truth()
    assert sum(r.entries for r in by_kind[Kind.COUNTS]) == truth.entries
    assert sum(r.exits for r in by_kind[Kind.COUNTS]) == truth.exits
    assert all(c.tracks >= 3 for r in by_kind[Kind.HEATMAP] for c in r.cells)
    seqs = [msg.seq for _, msg in collector.messages]
    assert sorted(seqs) == list(range(1, sent + 1))


@pytest.mark.slow  # a 600-frame scene over the broker
def test_blocked_camera_minutes_arrive_marked_invalid(mqtt_pair) -> None:
    sink, collector = mqtt_pair
    scene = door_scene(seed=1, duration_s=60)
    scene = type(scene)(**{**scene.__dict__, "faults": (Fault("blocked", 25.0, 33.0),)})
    run(scene, sink, PipelineOptions(bucket_s=20))
    wait_for(collector, next(sink.seq) - 1)
    counts = sorted(
        (r for topic, msg in collector.messages if topic.kind is Kind.COUNTS for r in msg.readings),
        key=lambda r: r.start,
    )
    assert [r.valid for r in counts] == [True, False, True]
    heat = [r for topic, msg in collector.messages if topic.kind is Kind.HEATMAP for r in msg.readings]
    assert all(r.cells == [] for r in heat if not r.valid)
