"""Counting accuracy against ground truth, and the pipeline's speed.

`count_video` runs detection, tracking and one counting line over a video;
`gt_counts` counts the same line on MOTChallenge ground truth (`frame,id,x,y,w,h,…`)
by following each id's foot point (bottom-centre of its box) from observation to
observation, with no dead band; `accuracy` is
1 − (|in − gt_in| + |out − gt_out|) / (gt_in + gt_out).
"""

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from footfall.edge.vision.config import PipelineOptions
from footfall.edge.vision.detect import BackgroundSubtractionDetector, make_detector
from footfall.edge.vision.errors import GroundTruthError, SourceError
from footfall.edge.vision.events import CountingLine
from footfall.edge.vision.track import ByteTracker, Tracks


@dataclass(frozen=True)
class Line:
    """A counting line A→B in pixels."""

    a: tuple[float, float]
    b: tuple[float, float]

    @classmethod
    def parse(cls, text: str) -> "Line":
        """From `X1,Y1,X2,Y2`.

        Raises:
            ValueError: not four numbers, or A == B.
        """
        parts = [p.strip() for p in text.split(",")]
        try:
            x1, y1, x2, y2 = (float(p) for p in parts)
        except ValueError:
            raise ValueError(f"--line wants X1,Y1,X2,Y2 (four numbers), not {text!r}") from None
        if (x1, y1) == (x2, y2):
            raise ValueError(f"--line {text}: the two end points are the same")
        return cls((x1, y1), (x2, y2))

    def __str__(self) -> str:
        return f"{self.a[0]:g},{self.a[1]:g},{self.b[0]:g},{self.b[1]:g}"


def read_mot(path: Path) -> dict[int, list[tuple[int, float, float, float, float]]]:
    """MOT ground truth: frame → [(id, x, y, w, h)]; rows with conf 0 (ignore regions) are skipped.

    Raises:
        GroundTruthError: unreadable file or a malformed line (named by its number).
    """
    out: dict[int, list[tuple[int, float, float, float, float]]] = defaultdict(list)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise GroundTruthError(f"{path}: cannot read: {exc.strerror}") from None
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        parts = raw.split(",")
        try:
            frame, tid = int(float(parts[0])), int(float(parts[1]))
            x, y, w, h = (float(v) for v in parts[2:6])
            conf = float(parts[6]) if len(parts) > 6 else 1.0
        except (ValueError, IndexError):
            raise GroundTruthError(
                f"{path}:{n}: expected `frame,id,x,y,w,h,conf,…` (MOT format), got {raw[:80]!r}"
            ) from None
        if conf == 0:
            continue
        out[frame].append((tid, x, y, w, h))
    if not out:
        raise GroundTruthError(f"{path}: no ground-truth boxes")
    return dict(out)


def gt_counts(gt: dict[int, list[tuple[int, float, float, float, float]]], line: Line) -> tuple[int, int]:
    """(in, out) crossings of the ground-truth foot points."""
    counter = CountingLine(line.a, line.b, door_id="gt", dead_band_px=0.0, anchor="foot")
    for frame in sorted(gt):
        rows = gt[frame]
        ids = np.array([r[0] for r in rows])
        xyxy = np.array([[x, y, x + w, y + h] for _, x, y, w, h in rows])
        counter.trigger(Tracks.from_arrays(ids, xyxy))
    return counter.in_count, counter.out_count


def median_background(path: Path, *, samples: int = 25) -> np.ndarray:
    """The per-pixel median of frames spread over a clip: its empty scene, when people keep moving."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise SourceError(f"cannot open video {path}")
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    picks = set(np.linspace(0, max(n - 1, 0), num=min(samples, max(n, 1))).astype(int).tolist())
    frames, i = [], 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if i in picks:
            frames.append(frame)
        i += 1
    cap.release()
    if not frames:
        raise SourceError(f"{path}: no frames")
    return np.median(np.stack(frames), axis=0).astype(np.uint8)


def count_video(
    path: Path,
    line: Line,
    options: PipelineOptions,
    *,
    prime: bool = False,
    on_frame: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run detector, tracker and one counting line over a video file.

    Args:
        path: the video.
        line: the counting line.
        options: detector, tracker and line options.
        prime: start a background-subtraction detector from the clip's median frame.
        on_frame: progress callback `(frames done, frames total)`.

    Returns:
        `in`, `out`, `frames`, `fps` (of this run) and `crossings` (frame, track id, direction).
    """
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise SourceError(f"cannot open video {path}: check the path and that it is a video FFmpeg decodes")
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0) or 25.0
    detector = make_detector(options.detector)
    if prime and isinstance(detector, BackgroundSubtractionDetector):
        detector.prime(median_background(path))
    tracker = ByteTracker(options.tracker)
    counter = CountingLine(
        line.a,
        line.b,
        dead_band_px=options.line.dead_band_px,
        dead_band_frac=options.line.dead_band_frac,
        anchor=options.anchor.point,
    )
    crossings: list[tuple[int, int, str]] = []
    frame_no = 0
    started = time.perf_counter()
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if tracker.frame_size is None:
                tracker.frame_size = (frame.shape[1], frame.shape[0])
            tracks = tracker.update(detector.detect(frame), frame_no / fps)
            entered, exited = counter.trigger(tracks)
            crossings += [(frame_no + 1, tid, "in") for tid in entered] + [(frame_no + 1, tid, "out") for tid in exited]
            frame_no += 1
            if on_frame is not None:
                on_frame(frame_no, total)
    finally:
        cap.release()
    if frame_no == 0:
        raise SourceError(f"{path}: no frame could be decoded")
    elapsed = time.perf_counter() - started
    return {
        "in": counter.in_count,
        "out": counter.out_count,
        "frames": frame_no,
        "fps": round(frame_no / elapsed, 1) if elapsed > 0 else None,
        "crossings": crossings,
    }


def accuracy(measured_in: int, measured_out: int, gt_in: int, gt_out: int) -> float | None:
    """1 − (|in − gt_in| + |out − gt_out|) / (gt_in + gt_out); None without ground-truth crossings."""
    total = gt_in + gt_out
    if total == 0:
        return None
    return round(1.0 - (abs(measured_in - gt_in) + abs(measured_out - gt_out)) / total, 4)
