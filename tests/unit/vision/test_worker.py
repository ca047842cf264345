"""The per-camera thread the agent runs: readings to the sink, health, stop."""

import time

import pytest

from footfall.core.messages import Fault
from footfall.core.topics import Kind
from footfall.edge.vision.config import PipelineOptions
from footfall.edge.vision.pipeline import CameraSpec
from footfall.edge.vision.worker import CameraWorker
from footfall.firmware_stubs.scenes import door_scene

from .conftest import MemorySink


@pytest.mark.slow  # renders and decodes a 300-frame clip
def test_worker_runs_a_clip_to_the_end_and_sends_its_readings(tmp_path) -> None:
    scene = door_scene(seed=1, duration_s=30)
    video = scene.write(tmp_path / "door.mp4")
    sink = MemorySink()
    worker = CameraWorker(
        CameraSpec.from_store(scene.store_config(), "cam1"), PipelineOptions(), sink, source=video, state_dir=tmp_path
    )
    worker.start()
    deadline = time.monotonic() + 60
    while worker.running and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not worker.running
    truth = scene.truth()
    assert sum(r.entries for r in sink.by_kind[Kind.COUNTS]) == truth.entries
    assert worker.health().sensor_id == "cam1"
    assert (tmp_path / "cam1.reference.png").exists()  # the calibrated view, kept on the device


@pytest.mark.slow  # renders and decodes a 300-frame clip
def test_worker_stops_promptly_in_the_middle_of_a_realtime_clip(tmp_path) -> None:
    scene = door_scene(seed=1, duration_s=30)
    video = scene.write(tmp_path / "door.mp4")
    sink = MemorySink()
    worker = CameraWorker(
        CameraSpec.from_store(scene.store_config(), "cam1"), PipelineOptions(), sink, source=video, realtime=True
    )
    worker.start()
    time.sleep(1.0)
    started = time.monotonic()
    worker.stop()
    assert time.monotonic() - started < 2.0
    assert not worker.running
    assert sink.by_kind[Kind.COUNTS]  # the open bucket was sent on stop
    assert 5 <= worker.pipeline.frames <= 15  # about a second of a 10 fps clip


def test_worker_with_an_unreachable_camera_reports_it_and_keeps_trying(tmp_path) -> None:
    scene = door_scene(seed=1, duration_s=5)
    worker = CameraWorker(
        CameraSpec.from_store(scene.store_config(), "cam1"),
        PipelineOptions.model_validate({"health": {"frozen_after_s": 0.5}}),
        MemorySink(),
        source=tmp_path / "missing.mp4",
    )
    worker.start()
    time.sleep(1.2)
    health = worker.health()
    worker.stop()
    assert "does not exist" in (worker.error or "")
    assert health.errors >= 1
    assert Fault.SILENT in health.faults
