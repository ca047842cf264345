"""The whole pipeline on synthetic scenes with exact ground truth."""

from datetime import timedelta

import numpy as np
import pytest

from footfall.core.messages import MESSAGE_TYPES, Fault, parse_payload
from footfall.core.topics import Kind
from footfall.edge.vision.config import PipelineOptions
from footfall.edge.vision.errors import CameraConfigError
from footfall.edge.vision.pipeline import CameraSpec
from footfall.firmware_stubs.scenes import Fault as SceneFault
from footfall.firmware_stubs.scenes import door_scene

from .conftest import T0, every_cell, run_scene


def totals(sink) -> tuple[int, int]:
    counts = sink.by_kind[Kind.COUNTS]
    return sum(r.entries for r in counts), sum(r.exits for r in counts)


def test_door_scene_counts_are_exact(door_run) -> None:
    truth = door_run.scene.truth()
    assert (truth.entries, truth.exits) == (8, 8)  # incl. a hesitant walker: in, out, in, out
    assert totals(door_run.sink) == (truth.entries, truth.exits)
    assert all(r.valid for r in door_run.sink.by_kind[Kind.COUNTS])


@pytest.mark.slow  # 8 scenes × 700 frames, an accuracy bar
def test_counting_over_eight_scenes_is_at_least_98_percent_accurate() -> None:
    # other walkers, other timings: people meet at the door, pass each other, crowd a zone
    errors = crossings = exact = 0
    for seed in range(8):
        run = run_scene(door_scene(seed=seed, duration_s=70))
        truth = run.scene.truth()
        got_in, got_out = totals(run.sink)
        errors += abs(got_in - truth.entries) + abs(got_out - truth.exits)
        crossings += truth.entries + truth.exits
        exact += (got_in, got_out) == (truth.entries, truth.exits)
    assert 1 - errors / crossings >= 0.98
    assert exact >= 6


def test_zone_dwell_within_a_second_of_truth(door_run) -> None:
    truth = door_run.scene.truth()
    for zone in ("bakery", "coffee"):
        want = sorted(v.dwell_s for v in truth.visits if v.zone_id == zone)
        got = sorted(d for r in door_run.sink.by_kind[Kind.ZONES] if r.zone_id == zone for d in r.dwell_s)
        assert len(got) == len(want), f"{zone}: {got} vs {want}"
        assert max(abs(g - w) for g, w in zip(got, want, strict=True)) < 1.0
        entries = sum(r.entries for r in door_run.sink.by_kind[Kind.ZONES] if r.zone_id == zone)
        assert entries == len(want)


def test_heatmap_mass_lies_on_the_right_floor_cells(door_run) -> None:
    truth = door_run.scene.truth(cell_m=0.5).presence
    got = np.zeros_like(truth)
    for r in door_run.sink.by_kind[Kind.HEATMAP]:
        for c in r.cells:
            got[c.y, c.x] += c.presence_s
    # total presence within 10 %
    assert got.sum() == pytest.approx(truth.sum(), rel=0.10)
    # at least 90 % of the measured mass on cells the truth has mass on, or next to one
    near = np.zeros_like(truth, bool)
    occupied = truth > 0
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near |= np.roll(np.roll(occupied, dy, axis=0), dx, axis=1)
    assert got[near].sum() / got.sum() > 0.9
    # and the cells where people paused (the zones' centres) are the hottest
    hottest = np.unravel_index(np.argmax(got), got.shape)
    assert truth[hottest] > 0.5 * truth.max()


def test_every_reading_fits_the_wire_contract(door_run) -> None:
    for kind, readings in door_run.sink.by_kind.items():
        model = MESSAGE_TYPES[kind]
        msg = model(device_id="cam1", seq=1, sent_at=readings[-1].end, readings=readings)
        assert parse_payload(kind, msg.to_json()) == msg
    assert Kind.TRACKS not in door_run.sink.by_kind  # polylines are off unless enabled


def test_buckets_are_whole_minutes_then_a_partial_one(door_run) -> None:
    counts = door_run.sink.by_kind[Kind.COUNTS]
    assert [r.start for r in counts] == [T0, T0 + timedelta(minutes=1)]
    assert counts[0].end == T0 + timedelta(minutes=1)
    assert counts[1].end < T0 + timedelta(minutes=2)
    occ = door_run.sink.by_kind[Kind.OCCUPANCY]
    assert {r.zone_id for r in occ} == {"bakery", "coffee"}
    assert all(r.peak >= r.occupancy for r in occ)
    assert max(r.peak for r in occ) >= 1


@pytest.mark.slow  # two 300-frame scenes
def test_heatmap_k_suppression_in_published_readings() -> None:
    run = run_scene(door_scene(seed=1, duration_s=30), PipelineOptions())  # k = 3 by default
    for r in run.sink.by_kind[Kind.HEATMAP]:
        assert r.min_tracks == 3
        assert all(c.tracks >= 3 for c in r.cells)
    loose = run_scene(door_scene(seed=1, duration_s=30), every_cell())
    n = sum(len(r.cells) for r in run.sink.by_kind[Kind.HEATMAP])
    n1 = sum(len(r.cells) for r in loose.sink.by_kind[Kind.HEATMAP])
    assert n < n1


@pytest.mark.slow  # a 300-frame scene
def test_anonymous_polylines_when_enabled() -> None:
    opts = PipelineOptions.model_validate({"privacy": {"tracks": True, "track_step_s": 1.0}})
    run = run_scene(door_scene(seed=1, duration_s=30), opts)
    readings = run.sink.by_kind[Kind.TRACKS]
    assert readings
    assert all(r.floor_id == "ground" for r in readings)
    polylines = [t for r in readings for t in r.tracks]
    assert len(polylines) >= 4
    for tr in polylines:
        assert set(tr.model_dump()) == {"points"}
        assert all(0 <= p.x <= 12 and 0 <= p.y <= 9.6 for p in tr.points)


@pytest.mark.slow  # a 600-frame scene per fault
@pytest.mark.parametrize(
    ("fault", "health_fault"),
    [
        (SceneFault("blocked", 25.0, 33.0), Fault.BLOCKED),  # covered lens in the second bucket
        (SceneFault("moved", 25.0), Fault.MOVED),  # camera knocked aside in the second bucket, for good
        (SceneFault("frozen", 25.0, 33.0), Fault.FROZEN),  # stream stuck on one picture
    ],
)
def test_camera_fault_invalidates_its_buckets_only(fault, health_fault) -> None:
    scene = door_scene(seed=1, duration_s=60)
    scene = type(scene)(**{**scene.__dict__, "faults": (fault,)})
    run = run_scene(scene, PipelineOptions(bucket_s=20))  # 20-second buckets keep the test short
    counts = run.sink.by_kind[Kind.COUNTS]
    permanent = fault.t1 > 60
    assert [r.valid for r in counts] == [True, False, not permanent]
    heat = run.sink.by_kind[Kind.HEATMAP]
    assert heat[1].valid is False
    assert heat[1].cells == []
    for kind in (Kind.ZONES, Kind.OCCUPANCY):
        assert [r.valid for r in run.sink.by_kind[kind] if r.zone_id == "bakery"][1] is False
    health = run.pipeline.health(now=run.pipeline.camera_health.last_frame_wall)
    assert (health_fault in health.faults) is permanent


def test_health_for_the_heartbeat() -> None:
    run = run_scene(door_scene(seed=1, duration_s=10))
    h = run.pipeline.health(now=run.pipeline.camera_health.last_frame_wall)
    assert h.sensor_id == "cam1"
    assert h.faults == []
    assert h.last_seen is not None
    assert h.last_seen > T0


def test_camera_with_zones_needs_a_calibration() -> None:
    cfg = door_scene().store_config().model_dump(mode="json")
    cfg["devices"][0]["calibration"] = []
    from footfall.core.storeconfig import StoreConfig

    with pytest.raises(CameraConfigError, match="no calibration"):
        CameraSpec.from_store(StoreConfig.from_data(cfg), "cam1")
    with pytest.raises(CameraConfigError, match="no camera 'cam9'"):
        CameraSpec.from_store(door_scene().store_config(), "cam9")
