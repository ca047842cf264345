"""Heatmaps on the real TUD clips (MOTChallenge): the pipeline's floor cells against the ground-truth foot points.

The dataset ships no floor calibration, so each clip gets one chosen here: four image
points on the ground plane and the floor metres they stand for (a trapezoid: the far
street is wider than the near one). The same homography maps the ground-truth foot
points (bottom-centre of each box), so the comparison is of where the pipeline saw people
against where they stood. The clips live outside the repository; the tests skip without them.
"""

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from footfall.api.merch.heatmap import CellRow, merge_cells
from footfall.core.geometry import apply_homography, homography_from_pairs
from footfall.core.messages import HeatmapReading
from footfall.core.topics import Kind
from footfall.edge.vision.evaluate import read_mot
from footfall.edge.vision.pipeline import CameraPipeline, CameraSpec
from footfall.edge.vision.source import VideoSource
from tests.helpers import every_cell

ROOT = Path(__file__).resolve().parents[3]
# ../shared/data beside the checkout (or beside the folder of worktrees)
DATA = next((p / "shared" / "data" / "video" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared").exists()),
            ROOT.parent / "shared" / "data" / "video")  # fmt: skip
FLOOR = (16.0, 14.0)
CELL = 0.5
CALIBRATION = {  # image pixel → floor metre, chosen per clip (see the module doc)
    "tud-stadtmitte": [((0, 340), (4, 12)), ((640, 340), (12, 12)), ((640, 220), (16, 2)), ((0, 220), (0, 2))],
    "tud-campus": [((0, 480), (5, 12)), ((640, 480), (11, 12)), ((640, 330), (16, 2)), ((0, 330), (0, 2))],
}


class HeatmapSink:
    def __init__(self) -> None:
        self.readings: list[HeatmapReading] = []

    def put(self, kind: Kind, device_id: str, readings) -> None:
        if kind is Kind.HEATMAP:
            self.readings.extend(readings)


@pytest.mark.parametrize(
    ("clip", "video", "share"),
    [
        ("tud-campus", "TUD-Campus.mp4", 0.90),  # measured 0.95
        ("tud-stadtmitte", "TUD-Stadtmitte.mp4", 0.80),  # measured 0.84: a level camera, 1 px ≈ 8 cm of street
    ],
)
def test_heatmap_mass_lies_along_the_ground_truth_foot_points(clip: str, video: str, share: float) -> None:
    path = DATA / clip / video
    if not path.exists():
        pytest.skip(f"real evaluation clip {path} is absent (it lives in ../shared/data, outside the repository)")
    h = homography_from_pairs([a for a, _ in CALIBRATION[clip]], [b for _, b in CALIBRATION[clip]])
    spec = CameraSpec(device_id="tud", floor_id="street", floor_size_m=FLOOR, homography=h)
    sink = HeatmapSink()
    pipe = CameraPipeline(spec, every_cell(), sink)
    frames = 0
    with VideoSource(path, start=datetime(2026, 1, 1, tzinfo=UTC)) as src:
        for frame, at in src:
            pipe.process(frame, at)
            frames += 1
    pipe.flush()
    totals: dict[tuple[int, int], list[float]] = {}
    for r in sink.readings:
        for c in r.cells:
            acc = totals.setdefault((c.x, c.y), [0.0, 0])
            acc[0] += c.presence_s
            acc[1] += c.tracks
    grid = merge_cells([CellRow("tud", CELL, x, y, p, int(n)) for (x, y), (p, n) in totals.items()],
                       width_m=FLOOR[0], height_m=FLOOR[1])  # fmt: skip
    truth = np.zeros_like(grid.presence)
    for f, boxes in read_mot(DATA / clip / "gt.txt").items():
        if f > frames:
            continue
        feet = apply_homography(h, np.array([[x + w / 2, y + bh] for _, x, y, w, bh in boxes]))
        for fx, fy in feet:
            if 0 <= fx < FLOOR[0] and 0 <= fy < FLOOR[1]:
                truth[int(fy // CELL), int(fx // CELL)] += 1 / 25
    near = np.zeros_like(truth, bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near |= np.roll(np.roll(truth > 0, dy, axis=0), dx, axis=1)
    assert grid.presence.sum() > 0.3 * truth.sum()  # the pipeline saw a fair part of the people
    assert grid.presence[near].sum() / grid.presence.sum() >= share
