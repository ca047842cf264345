"""Camera health on scripted faults: blocked lens, moved camera, frozen stream, silence."""

import numpy as np
import pytest

from footfall.core.messages import Fault
from footfall.edge.vision.config import HealthOptions
from footfall.edge.vision.health import CameraHealth, edge_similarity, small_grey
from footfall.firmware_stubs.scenes import Fault as SceneFault
from footfall.firmware_stubs.scenes import door_scene, empty_scene


def faults_over(scene, health: CameraHealth) -> list[tuple[float, set[Fault]]]:
    return [(t, set(health.check(img, t))) for t, img in scene.frames()]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (SceneFault("blocked", 12.0, 20.0), Fault.BLOCKED),  # a hand over the lens
        (SceneFault("moved", 12.0), Fault.MOVED),  # knocked: shifted and turned
        (SceneFault("moved", 12.0, shift_px=(0.0, 30.0), angle_deg=0.0), Fault.MOVED),  # slid down 30 px
        (SceneFault("frozen", 12.0, 24.0), Fault.FROZEN),  # the stream repeats one picture
    ],
)
def test_scripted_fault_is_flagged_after_its_delay_and_only_then(fault, expected) -> None:
    health = CameraHealth(HealthOptions())
    seen = faults_over(empty_scene(duration_s=24.0, faults=[fault]), health)
    before = [f for t, f in seen if t < fault.t0]
    assert all(not f for f in before), "no fault before the scripted one"
    flagged = [t for t, f in seen if expected in f]
    assert flagged, f"{expected} never flagged"
    assert fault.t0 < flagged[0] <= fault.t0 + 7.0
    # the fault is dated from when its condition began, for invalidating buckets
    assert health.faulty_between(fault.t0 - 0.1, fault.t0 + 0.6)
    assert not health.faulty_between(0.0, fault.t0 - 1.0)


def test_blocked_fault_clears_when_the_lens_is_free_again() -> None:
    health = CameraHealth(HealthOptions())
    seen = faults_over(empty_scene(duration_s=24.0, faults=[SceneFault("blocked", 5.0, 12.0)]), health)
    assert Fault.BLOCKED in seen[110][1]  # t = 11 s
    assert not seen[-1][1]


def test_people_walking_through_raise_no_fault() -> None:
    health = CameraHealth(HealthOptions())
    seen = faults_over(door_scene(seed=2, duration_s=60.0), health)
    assert all(not f for _, f in seen)
    assert health.similarity > 0.5


def test_silent_camera_is_reported_on_the_wall_clock() -> None:
    health = CameraHealth(HealthOptions(frozen_after_s=5.0))
    now = health.started_wall
    assert health.faults(now=now + 1.0) == []
    assert health.faults(now=now + 6.0) == [Fault.SILENT]
    health.check(np.full((48, 64, 3), 120, np.uint8), 0.0)
    assert Fault.SILENT not in health.faults(now=health.last_frame_wall + 1.0)


def test_reference_view_is_kept_on_the_device_and_reused(tmp_path) -> None:
    path = tmp_path / "cam1.reference.png"
    scene = empty_scene(duration_s=15.0)
    health = CameraHealth(HealthOptions(reference_frames=5), reference_path=path)
    faults_over(scene, health)
    assert path.exists()
    # after a restart with the camera knocked aside, the stored reference still catches it
    moved = empty_scene(duration_s=10.0, faults=[SceneFault("moved", 0.0)])
    again = CameraHealth(HealthOptions(), reference_path=path)
    assert again.reference is not None
    seen = faults_over(moved, again)
    assert Fault.MOVED in seen[-1][1]


def test_edge_similarity_of_a_view_with_itself_is_high_and_with_a_blank_is_zero() -> None:
    _, img = next(iter(empty_scene(duration_s=1.0).frames()))
    g = small_grey(img)
    assert edge_similarity(g, g) == pytest.approx(1.0)
    assert edge_similarity(g, np.full_like(g, 100)) == 0.0
