"""Heatmaps: two overlapping cameras through the real pipeline, merged without double counting; PNG drawing."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache

import cv2
import numpy as np
import pytest

from footfall.api.merch.heatmap import (
    CellRow,
    HeatMetric,
    PlanPicture,
    ZoneOutline,
    draw_plan,
    merge_cells,
    render_png,
)
from footfall.core.geometry import homography_from_pairs
from footfall.core.messages import HeatmapReading
from footfall.core.topics import Kind
from footfall.edge.vision.pipeline import CameraPipeline, CameraSpec
from footfall.firmware_stubs.scenes import Scene, Walker
from tests.helpers import every_cell

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FLOOR = (20.0, 9.0)
CELL = 0.5
# camera A sees x from -0.4 to 12.4 m, camera B from 7.6 to 20.4 m: they share 7.6–12.4 m
ORIGINS = {"camA": (20.0, 15.0), "camB": (20.0 - 8.0 * 50.0, 15.0)}


def walkers() -> tuple[Walker, ...]:
    """People crossing the whole floor, pausing in the shared strip and on either side."""
    out = []
    for i in range(6):
        y = 2.0 + i * 1.0
        pauses = {1: 6.0 + i} if i % 2 == 0 else {2: 5.0}
        out.append(Walker.route(1.0 + 5.0 * i, [(1.0, y), (10.0, y), (18.0, y + 0.5)], speed=1.2, pauses=pauses))
    return tuple(out)


def scene(origin: tuple[float, float]) -> Scene:
    return Scene(walkers=walkers(), duration_s=58.0, fps=10.0, floor_m=FLOOR, origin_px=origin, noise=1.0)


class HeatmapSink:
    """Keeps the heatmap readings a pipeline hands over."""

    def __init__(self) -> None:
        self.got: list[HeatmapReading] = []

    def put(self, kind: Kind, device_id: str, readings) -> None:
        if kind is Kind.HEATMAP:
            self.got.extend(readings)


@cache
def camera_rows() -> tuple[list[CellRow], np.ndarray]:
    """Each camera's heatmap cells (k=1, so the geometry shows) and the scene's true presence."""
    rows: list[CellRow] = []
    truth = None
    for dev, origin in ORIGINS.items():
        sc = scene(origin)
        truth = sc.truth(cell_m=CELL).presence
        cal = sc.calibration()
        h = homography_from_pairs([tuple(p["image"]) for p in cal], [tuple(p["floor"]) for p in cal])
        spec = CameraSpec(device_id=dev, floor_id="ground", floor_size_m=FLOOR, homography=h)
        sink = HeatmapSink()
        pipe = CameraPipeline(spec, every_cell(), sink)
        for t, img in sc.frames():
            pipe.process(img, T0 + timedelta(seconds=t))
        pipe.flush()
        totals: dict[tuple[int, int], list[float]] = {}
        for r in sink.got:
            for c in r.cells:
                acc = totals.setdefault((c.x, c.y), [0.0, 0])
                acc[0] += c.presence_s
                acc[1] += c.tracks
        rows += [CellRow(dev, CELL, x, y, p, int(n)) for (x, y), (p, n) in totals.items()]
    assert truth is not None
    return rows, truth


def near(mask: np.ndarray) -> np.ndarray:
    out = np.zeros_like(mask)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            out |= np.roll(np.roll(mask, dy, axis=0), dx, axis=1)
    return out


def test_two_overlapping_cameras_do_not_double_presence() -> None:
    rows, truth = camera_rows()
    merged = merge_cells(rows, width_m=FLOOR[0], height_m=FLOOR[1])
    summed = merge_cells([replace(r, device_id="all") for r in rows], width_m=FLOOR[0], height_m=FLOOR[1])
    shared = np.zeros_like(truth, bool)
    shared[:, round(8.0 / CELL) : round(12.0 / CELL)] = True  # well inside both views
    # in the shared strip, the merge keeps one camera's view: the truth, not twice it
    assert merged.presence[shared].sum() == pytest.approx(truth[shared].sum(), rel=0.15)
    assert summed.presence[shared].sum() > 1.7 * truth[shared].sum()  # what summing would report
    # over the whole floor: total within 15 %, and ≥ 90 % of the mass on or next to true cells
    assert merged.presence.sum() == pytest.approx(truth.sum(), rel=0.15)
    assert merged.presence[near(truth > 0)].sum() / merged.presence.sum() > 0.9
    # each side of the floor is owned by the camera that sees it
    assert set(merged.owner[:, :10][merged.owner[:, :10] >= 0].tolist()) == {merged.devices.index("camA")}
    assert set(merged.owner[:, -10:][merged.owner[:, -10:] >= 0].tolist()) == {merged.devices.index("camB")}


@pytest.mark.parametrize(
    ("rows", "want_presence", "want_owner"),
    [
        # one camera alone owns its cell
        ([CellRow("a", 0.5, 1, 0, 10.0, 2)], 10.0, "a"),
        # two cameras on one cell: the better view (more presence) owns it, nothing is added
        ([CellRow("a", 0.5, 1, 0, 10.0, 2), CellRow("b", 0.5, 1, 0, 12.0, 3)], 12.0, "b"),
        # a finer camera (0.25 m) is folded into the coarser grid before the comparison
        (
            [CellRow("a", 0.5, 1, 0, 10.0, 2), *(CellRow("b", 0.25, x, y, 3.0, 1) for x in (2, 3) for y in (0, 1))],
            12.0,
            "b",
        ),
    ],
)
def test_cell_ownership(rows, want_presence: float, want_owner: str) -> None:
    g = merge_cells(rows, width_m=2.0, height_m=1.0)
    assert g.cell_m == 0.5
    assert g.presence[0, 1] == pytest.approx(want_presence)
    assert g.devices[g.owner[0, 1]] == want_owner
    assert g.presence.sum() == pytest.approx(want_presence)


def test_cells_below_k_visits_stay_empty() -> None:
    g = merge_cells([CellRow("a", 0.5, 0, 0, 40.0, 2), CellRow("a", 0.5, 1, 0, 90.0, 5)], width_m=1.0, height_m=0.5)
    assert g.suppress(3) == 1
    values = g.values(HeatMetric.DWELL)
    assert np.isnan(values[0, 0])
    assert values[0, 1] == pytest.approx(18.0)


def test_png_overlay_has_the_plan_heat_and_legend() -> None:
    rows, _ = camera_rows()
    g = merge_cells(rows, width_m=FLOOR[0], height_m=FLOOR[1])
    zones = [ZoneOutline("mid", "Middle", [(8.0, 1.0), (12.0, 1.0), (12.0, 8.0), (8.0, 8.0)])]
    plan = draw_plan(width_m=FLOOR[0], height_m=FLOOR[1], zones=zones, px=600)
    png = render_png(g, HeatMetric.PRESENCE, plan=plan, zones=zones, title="test")
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape[0] > plan.image.shape[0]  # the legend band below the plan
    ppm = plan.px_per_m
    r, c = np.unravel_index(np.argmax(g.presence), g.presence.shape)
    hot = img[int((r + 0.5) * CELL * ppm), int((c + 0.5) * CELL * ppm)]
    empty = img[int(0.3 * ppm), int(19.7 * ppm)]  # a corner nobody walked
    assert not np.array_equal(hot, empty)
    assert tuple(empty) == tuple(plan.image[int(0.3 * ppm), int(19.7 * ppm)])  # plan untouched where empty


def test_plan_picture_refuses_garbage() -> None:
    from footfall.api.merch.errors import BadPlan

    with pytest.raises(BadPlan, match="PNG or JPEG"):
        PlanPicture.from_bytes(b"not a picture", px_per_m=10)
