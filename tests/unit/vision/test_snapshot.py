"""The local debug snapshot: every person unrecognisable (detected or only moving), the rest untouched."""

import cv2
import numpy as np
import pytest

from footfall.edge.vision.config import DetectorOptions
from footfall.edge.vision.detect import Detections, make_detector
from footfall.edge.vision.evaluate import read_mot
from footfall.edge.vision.pipeline import LineSpec
from footfall.edge.vision.snapshot import SnapshotCamera, annotate, blur_people, box_mask
from footfall.edge.vision.source import VideoSource

from .conftest import need_data


def sharpness(img: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def test_people_are_blurred_beyond_recognition_and_nothing_else_changes() -> None:
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)  # fine detail everywhere, like a face
    det = Detections(np.array([[100.0, 60.0, 160.0, 200.0]]))
    out = blur_people(frame, det, margin=0.1)
    inside = (slice(60, 200), slice(100, 160))
    assert sharpness(out[inside]) < 0.02 * sharpness(frame[inside])
    # away from the box (beyond the margin) the picture is unchanged
    assert np.array_equal(out[:, :80], frame[:, :80])
    assert np.array_equal(out[:40], frame[:40])


def test_boxes_at_the_frame_edge_are_handled() -> None:
    frame = np.full((100, 100, 3), 128, np.uint8)
    out = blur_people(frame, Detections(np.array([[-20.0, 90.0, 30.0, 130.0], [99.5, 0.0, 99.9, 5.0]])))
    assert out.shape == frame.shape


def test_lines_are_drawn_with_their_in_side() -> None:
    frame = np.zeros((480, 640, 3), np.uint8)
    out = annotate(frame, [LineSpec("main", (320, 0), (320, 480))])
    # the arrow points to x < 320, the in side of 320,0 → 320,480
    left = out[230:250, 280:318].sum()
    right = out[230:250, 323:360].sum()
    assert left > right


def test_a_person_the_detector_missed_is_pixelated_because_they_move() -> None:
    rng = np.random.default_rng(1)
    background = np.full((240, 320, 3), 90, np.uint8)
    person = rng.integers(0, 255, (80, 30, 3), dtype=np.uint8)  # textured, like a face and clothes
    cam = SnapshotCamera()
    for i in range(30):
        frame = background.copy()
        x = 20 + 6 * i
        frame[100:180, x : x + 30] = person
        cam.feed(frame, Detections.empty())  # the detector sees nobody
    picture, boxes = cam.picture()
    assert box_mask(frame.shape, boxes)[100:180, x : x + 30].all()
    assert sharpness(picture[100:180, x : x + 30]) < 0.05 * sharpness(frame[100:180, x : x + 30])
    # the still background far from the walker's path stays as it was
    assert np.array_equal(picture[:40], frame[:40])


def test_before_the_motion_model_has_learned_the_whole_picture_is_pixelated() -> None:
    cam = SnapshotCamera(warmup_frames=10)
    frame = np.random.default_rng(2).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    cam.feed(frame, Detections.empty())
    _, boxes = cam.picture()
    assert boxes == [(0, 0, 160, 120)]


@pytest.mark.parametrize(
    ("clip", "video", "detector"),
    [
        ("tud-campus", "TUD-Campus.mp4", "bgsub"),  # the walker on the right and the person at the left edge
        ("tud-stadtmitte", "TUD-Stadtmitte.mp4", "bgsub"),  # a street with occlusions
        pytest.param("tud-campus", "TUD-Campus.mp4", "hog", marks=pytest.mark.slow),  # misses other people
    ],
)
def test_every_ground_truth_person_is_covered_in_every_snapshot(clip: str, video: str, detector: str) -> None:
    # A snapshot can be taken after any frame (`--seconds`): take one after each and check
    # that every ground-truth box of that frame lies wholly inside the pixelated boxes.
    gt = read_mot(need_data(clip, "gt.txt"))
    det = make_detector(DetectorOptions(kind=detector))  # type: ignore[arg-type]
    cam = SnapshotCamera()
    checked = 0
    with VideoSource(need_data(clip, video)) as src:
        for n, (frame, _at) in enumerate(src, start=1):
            cam.feed(frame, det.detect(frame))
            _picture, boxes = cam.picture()
            covered = box_mask(frame.shape, boxes)
            h, w = frame.shape[:2]
            for tid, x, y, bw, bh in gt.get(n, []):
                x1, y1 = max(0, int(x)), max(0, int(y))
                x2, y2 = min(w, int(np.ceil(x + bw))), min(h, int(np.ceil(y + bh)))
                if x2 <= x1 or y2 <= y1:
                    continue
                share = covered[y1:y2, x1:x2].mean()
                assert share == 1.0, f"frame {n}: person {tid} only {share:.0%} covered"
                checked += 1
    assert checked == sum(len(v) for v in gt.values())
