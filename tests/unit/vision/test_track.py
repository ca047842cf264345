"""The ByteTrack-style tracker on scripted detections."""

import numpy as np
import pytest

from footfall.edge.vision.config import TrackerOptions
from footfall.edge.vision.detect import Detections
from footfall.edge.vision.track import ByteTracker, iou_matrix

FPS = 10.0


def box(x: float, y: float = 200.0, w: float = 30.0, h: float = 80.0) -> list[float]:
    return [x, y, x + w, y + h]


def run(tracker: ByteTracker, frames: list[list[list[float]]], conf: float = 0.9) -> list:
    out = []
    for i, boxes in enumerate(frames):
        det = Detections(np.array(boxes, float).reshape(-1, 4), np.full(len(boxes), conf))
        out.append(tracker.update(det, i / FPS))
    return out


def test_one_walker_gets_one_id_after_min_hits() -> None:
    out = run(ByteTracker(TrackerOptions(min_hits=3)), [[box(100 + 5 * i)] for i in range(20)])
    assert [len(o) for o in out[:3]] == [0, 0, 1]
    assert {int(i) for o in out for i in o.ids} == {1}
    assert out[2].new.tolist() == [True]
    assert out[2].origin[0].tolist() == box(100)  # it remembers where it was born
    assert out[3].new.tolist() == [False]


@pytest.mark.parametrize(
    ("gap_frames", "same_id"),
    [
        (3, True),  # 0.3 s occlusion: coasts on the Kalman prediction and picks the walker up again
        (8, True),  # 0.8 s, still within lost_s = 1 s
        (15, False),  # 1.5 s: the track ended, a new id starts
    ],
)
def test_short_occlusion_keeps_the_id(gap_frames, same_id) -> None:
    tracker = ByteTracker(TrackerOptions(lost_s=1.0))
    frames = [[box(100 + 6 * i)] for i in range(10)]
    frames += [[] for _ in range(gap_frames)]
    frames += [[box(100 + 6 * i)] for i in range(10 + gap_frames, 30 + gap_frames)]
    out = run(tracker, frames)
    ids = {int(i) for o in out for i in o.ids}
    assert (ids == {1}) is same_id


def test_noise_blobs_never_get_an_id() -> None:
    rng = np.random.default_rng(0)
    frames = [[box(float(rng.uniform(0, 600)), float(rng.uniform(0, 400)), 20, 20)] for _ in range(50)]
    out = run(ByteTracker(), frames)
    assert all(len(o) == 0 for o in out)
    # and the first real walker still gets id 1: tentative tracks burnt none
    out = run(ByteTracker(), frames[:5] + [[box(100 + 5 * i)] for i in range(10)])
    assert {int(i) for o in out for i in o.ids} == {1}


def test_two_walkers_passing_each_other_keep_distinct_ids() -> None:
    frames = [[box(100 + 10 * i, 100), box(400 - 10 * i, 260)] for i in range(30)]
    out = run(ByteTracker(), frames)
    first = {int(i): o.xyxy[k, 0] for o in out[5:6] for k, i in enumerate(o.ids)}
    last = {int(i): o.xyxy[k, 0] for o in out[-1:] for k, i in enumerate(o.ids)}
    assert set(first) == set(last) == {1, 2}
    # the one that started left is now right
    left_id = min(first, key=first.get)
    assert last[left_id] > 300


def test_weak_detections_only_extend_live_tracks() -> None:
    tracker = ByteTracker(TrackerOptions(high_score=0.5))
    run(tracker, [[box(100 + 5 * i)] for i in range(5)])
    # weak detections keep the confirmed track alive ...
    out = [tracker.update(Detections(np.array([box(125 + 5 * i)]), np.array([0.3])), (5 + i) / FPS) for i in range(20)]
    assert all(o.ids.tolist() == [1] for o in out)
    # ... but never start one
    out = run(ByteTracker(), [[box(400)]] * 10, conf=0.3)
    assert all(len(o) == 0 for o in out)


def test_track_walking_out_of_the_picture_ends_at_once() -> None:
    tracker = ByteTracker(TrackerOptions(lost_s=5.0), frame_size=(640, 480))
    out = run(tracker, [[box(500 + 20 * i)] for i in range(7)] + [[] for _ in range(6)])
    ended = [i for o in out for i in o.ended]
    assert ended == [1]


def test_flush_ends_every_track() -> None:
    tracker = ByteTracker()
    run(tracker, [[box(100), box(300)]] * 5)
    assert sorted(tracker.flush()) == [1, 2]
    assert tracker.active == 0


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([0, 0, 10, 10], [0, 0, 10, 10], 1.0),  # same box
        ([0, 0, 10, 10], [5, 0, 15, 10], 1 / 3),  # half overlap
        ([0, 0, 10, 10], [20, 20, 30, 30], 0.0),  # apart
    ],
)
def test_iou(a, b, expected) -> None:
    assert iou_matrix(np.array([a], float), np.array([b], float))[0, 0] == pytest.approx(expected)
