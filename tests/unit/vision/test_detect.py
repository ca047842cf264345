"""Detectors on rendered frames: blobs, a person standing still, HOG on OpenCV 4.x."""

from contextlib import ExitStack as DoesNotRaise

import cv2
import numpy as np
import pytest

from footfall.edge.vision.config import DetectorOptions, PipelineOptions
from footfall.edge.vision.detect import (
    BackgroundSubtractionDetector,
    Detections,
    HogPeopleDetector,
    box_anchors,
    make_detector,
    nms,
)
from footfall.edge.vision.track import Tracks


@pytest.mark.parametrize(
    ("xyxy", "conf", "expectation"),
    [
        ([[0, 0, 10, 20]], [0.5], DoesNotRaise()),  # one box
        ([[0, 0, 10, 20]], [], DoesNotRaise()),  # confidence defaults to 1
        ([[10, 0, 0, 20]], [0.5], pytest.raises(ValueError, match="x2 >= x1")),  # flipped box
        ([[0, 0, 10, 20]], [0.5, 0.6], pytest.raises(ValueError, match="1 boxes but 2")),  # lengths differ
    ],
)
def test_detections_check_themselves(xyxy, conf, expectation) -> None:
    with expectation:
        Detections(np.array(xyxy, float), np.array(conf, float))


@pytest.mark.parametrize(
    ("xyxy", "point", "expected"),
    [
        ([[10, 20, 40, 60]], "foot", [[25.0, 60.0]]),  # bottom-centre
        ([[10, 20, 40, 60]], "centre", [[25.0, 40.0]]),  # box centre
        ([[0, 0, 0, 0]], "foot", [[0.0, 0.0]]),  # a degenerate box is its own anchor
        ([[0, 0, 10, 10], [100, 50, 120, 90]], "foot", [[5.0, 10.0], [110.0, 90.0]]),  # one row per box
        (np.zeros((0, 4)), "foot", []),  # no boxes, no anchors
    ],
)
def test_box_anchors(xyxy, point, expected) -> None:
    assert box_anchors(np.asarray(xyxy, float), point).tolist() == expected


def test_detections_and_tracks_share_the_box_anchors() -> None:
    boxes = np.array([[10, 20, 40, 60], [5, 5, 15, 25]], float)
    d = Detections(boxes)
    t = Tracks(ids=np.array([1, 2]), xyxy=boxes, new=np.zeros(2, bool), origin=boxes[::-1].copy())
    for point in ("foot", "centre"):
        assert d.anchors(point).tolist() == box_anchors(boxes, point).tolist()
        assert t.anchors(point).tolist() == box_anchors(boxes, point).tolist()
        assert t.origin_anchors(point).tolist() == box_anchors(boxes[::-1], point).tolist()


def scene_frame(rng: np.random.Generator, people: list[tuple[int, int]]) -> np.ndarray:
    img = np.full((240, 320, 3), 170, np.uint8)
    cv2.rectangle(img, (20, 20), (80, 60), (90, 110, 140), -1)
    for x, y in people:
        cv2.ellipse(img, (x, y), (12, 28), 0, 0, 360, (40, 40, 160), -1)
    noise = rng.normal(0, 2, img.shape[:2])[..., None]
    return np.clip(img + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("background", "still_seen_after_s"),
    [
        ("selective", True),  # the selective model never learns a shopper standing still
        ("mog2", False),  # MOG2 absorbs them: a known limit, why selective is the default
    ],
)
def test_person_standing_still_stays_detected(background, still_seen_after_s) -> None:
    rng = np.random.default_rng(1)
    det = BackgroundSubtractionDetector(DetectorOptions(background=background, history=100, min_area_px=200))
    for _ in range(20):
        det.detect(scene_frame(rng, []))
    found = [len(det.detect(scene_frame(rng, [(160, 120)]))) for _ in range(150)]  # 15 s at 10 fps
    assert found[0] == 1
    assert (found[-1] == 1) is still_seen_after_s


def test_moving_blob_is_one_box_around_the_person() -> None:
    rng = np.random.default_rng(2)
    det = BackgroundSubtractionDetector(DetectorOptions(min_area_px=200))
    for _ in range(5):
        det.detect(scene_frame(rng, []))
    d = det.detect(scene_frame(rng, [(200, 150)]))
    assert len(d) == 1
    x1, y1, x2, y2 = d.xyxy[0]
    assert np.abs(np.array([x1, y1, x2, y2]) - [188, 122, 212, 178]).max() <= 3


def test_light_change_is_not_a_giant_person() -> None:
    rng = np.random.default_rng(3)
    det = BackgroundSubtractionDetector(DetectorOptions(min_area_px=200))
    for _ in range(5):
        det.detect(scene_frame(rng, []))
    bright = [len(det.detect(np.clip(scene_frame(rng, []) + 60, 0, 255).astype(np.uint8))) for _ in range(15)]
    assert bright[0] == 0
    assert bright[-1] == 0


def test_processing_scale_returns_full_frame_boxes() -> None:
    rng = np.random.default_rng(4)
    det = BackgroundSubtractionDetector(DetectorOptions(scale=0.5, min_area_px=200))
    for _ in range(5):
        det.detect(scene_frame(rng, []))
    d = det.detect(scene_frame(rng, [(200, 150)]))
    assert len(d) == 1
    assert abs((d.xyxy[0, 0] + d.xyxy[0, 2]) / 2 - 200) <= 3


def test_opencv_is_4x_with_hog() -> None:
    # opencv-python-headless 5.0 dropped HOGDescriptor; the pin in pyproject keeps 4.x
    assert cv2.__version__.startswith("4.")
    assert isinstance(make_detector(PipelineOptions(detector={"kind": "hog"}).detector), HogPeopleDetector)


def test_hog_finds_nobody_in_an_empty_frame() -> None:
    frame = np.full((480, 640, 3), 128, np.uint8)
    assert len(HogPeopleDetector().detect(frame)) == 0


@pytest.mark.parametrize(
    ("boxes", "scores", "kept"),
    [
        ([[0, 0, 10, 10], [1, 1, 11, 11]], [0.9, 0.8], [0]),  # heavy overlap: best kept
        ([[0, 0, 10, 10], [50, 50, 60, 60]], [0.5, 0.9], [1, 0]),  # apart: both, best first
        ([[0, 0, 100, 200], [10, 10, 60, 110]], [0.9, 0.95], [1, 0]),  # small box inside (IoU < thr) but kept once
    ],
)
def test_nms(boxes, scores, kept) -> None:
    assert nms(np.array(boxes, float), np.array(scores, float), 0.4).tolist() == kept
