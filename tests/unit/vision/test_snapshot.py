"""The local debug snapshot: every detected person unrecognisable, the rest untouched."""

import cv2
import numpy as np

from footfall.edge.vision.detect import Detections
from footfall.edge.vision.pipeline import LineSpec
from footfall.edge.vision.snapshot import annotate, blur_people


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
