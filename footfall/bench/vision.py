"""The pipeline's speed against its own baselines, measured in one run on one clip.

Three modes over the same file, interleaved pass by pass so that load from other
processes hits them alike:

- `decode`: read and decode every frame;
- `bgsub`: decode + OpenCV's MOG2 background subtraction with its defaults (the
  baseline the issue names);
- `pipeline`: decode + the full `CameraPipeline` (detection, tracking, a counting line,
  two zones, a floor heatmap, camera health, per-minute readings into an in-memory sink).

Frames per second are total frames over total seconds of each mode.
"""

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from footfall.edge.vision.config import PipelineOptions
from footfall.edge.vision.errors import SourceError
from footfall.edge.vision.pipeline import CameraPipeline, CameraSpec, LineSpec, ZoneSpec


def bench_spec(width: int, height: int, *, px_per_m: float = 100.0) -> CameraSpec:
    """A camera over any clip: a line across the middle, two zones, a heatmap at `px_per_m`."""
    w_m, h_m = width / px_per_m, height / px_per_m
    h = np.diag([1 / px_per_m, 1 / px_per_m, 1.0])
    return CameraSpec(
        device_id="bench",
        floor_id="bench",
        floor_size_m=(w_m, h_m),
        homography=h,
        lines=[LineSpec("door", (width / 2, 0.0), (width / 2, float(height)))],
        zones=[
            ZoneSpec("left", [(0.0, 0.0), (w_m / 2, 0.0), (w_m / 2, h_m), (0.0, h_m)]),
            ZoneSpec("right", [(w_m / 2, 0.0), (w_m, 0.0), (w_m, h_m), (w_m / 2, h_m)]),
        ],
    )


def _run(path: Path, per_frame: Callable[[np.ndarray, int], None] | None) -> tuple[int, float]:
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise SourceError(f"cannot open video {path}: check the path and that it is a video FFmpeg decodes")
    n = 0
    started = time.perf_counter()
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if per_frame is not None:
            per_frame(frame, n)
        n += 1
    elapsed = time.perf_counter() - started
    cap.release()
    if n == 0:
        raise SourceError(f"{path}: no frame could be decoded")
    return n, elapsed


def bench_video(
    path: Path,
    *,
    options: PipelineOptions | None = None,
    passes: int = 5,
    on_pass: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Measure decode, decode+MOG2 and full-pipeline frames per second on one clip.

    Returns:
        `fps`, `decode_fps`, `bgsub_fps`, `ratio_to_bgsub` (fps / bgsub_fps), `frames` per
        pass, `passes`, and the frame size.
    """
    options = options or PipelineOptions()
    totals = {"decode": [0, 0.0], "bgsub": [0, 0.0], "pipeline": [0, 0.0]}
    cap = cv2.VideoCapture(str(path))
    width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0) or 25.0
    cap.release()
    if width == 0 or height == 0:
        raise SourceError(f"cannot open video {path}: check the path and that it is a video FFmpeg decodes")
    spec = bench_spec(width, height)
    clock = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(passes):
        n, s = _run(path, None)
        totals["decode"][0] += n
        totals["decode"][1] += s

        mog = cv2.createBackgroundSubtractorMOG2()

        def subtract(frame: np.ndarray, _k: int, mog: cv2.BackgroundSubtractorMOG2 = mog) -> None:
            mog.apply(frame)

        n, s = _run(path, subtract)
        totals["bgsub"][0] += n
        totals["bgsub"][1] += s

        pipe = CameraPipeline(spec, options)
        base = clock + timedelta(hours=i)

        def process(frame: np.ndarray, k: int, pipe: CameraPipeline = pipe, base: datetime = base) -> None:
            pipe.process(frame, base + timedelta(seconds=k / fps))

        n, s = _run(path, process)
        started = time.perf_counter()
        pipe.flush()
        totals["pipeline"][0] += n
        totals["pipeline"][1] += s + time.perf_counter() - started
        if on_pass is not None:
            on_pass(i + 1)
    rate = {k: v[0] / v[1] for k, v in totals.items()}
    return {
        "fps": round(rate["pipeline"], 1),
        "decode_fps": round(rate["decode"], 1),
        "bgsub_fps": round(rate["bgsub"], 1),
        "ratio_to_bgsub": round(rate["pipeline"] / rate["bgsub"], 3),
        "frames": totals["decode"][0] // passes,
        "passes": passes,
        "width": width,
        "height": height,
        "detector": options.detector.kind,
        "background": options.detector.background,
    }
