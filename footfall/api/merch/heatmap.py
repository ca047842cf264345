"""Floor heatmaps: merge the cameras' cells onto one plan grid, suppress thin cells, draw a PNG.

**Overlapping cameras.** Each camera reports presence per floor cell. Where two cameras
see the same part of the floor, both report the same people, so summing them would
count a person twice. Instead each cell is *owned* by one camera: the one that saw the
most presence there over the period (its best view), and the cell's presence and visits
are that camera's. In a shared cell both cameras see the same people, so the owner's
number is the truth, not twice it; where only one camera sees a cell it owns it. The
rule undercounts only people the better camera missed and the other one saw. Ownership
works on per-camera period totals, which is what makes the hourly rollup usable (a
per-minute maximum would need the raw minutes).

**Metrics.** `presence`: person-seconds spent in the cell. `visits`: the sum over the
minute buckets of distinct tracks seen in the cell (a shopper standing in a cell for
three minutes is three visit-minutes). `dwell`: presence / visits, the mean seconds a
visit spends in the cell per minute bucket.

**Privacy.** The edge already drops cells seen by fewer than k tracks in a minute. The
merged period grid drops cells with fewer than `k` visits in total as well, so a cell
that one shopper alone stood in never shows.

Example:
    >>> rows = [CellRow("cam1", 0.5, 0, 0, 30.0, 3), CellRow("cam2", 0.5, 0, 0, 28.0, 3)]
    >>> g = merge_cells(rows, width_m=1.0, height_m=1.0)
    >>> float(g.presence[0, 0])  # one camera's view, not 58
    30.0
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np

from footfall.api.merch.errors import BadPlan

Point = tuple[float, float]


class HeatMetric(StrEnum):
    """What a heatmap cell shows."""

    PRESENCE = "presence"
    VISITS = "visits"
    DWELL = "dwell"


UNITS = {HeatMetric.PRESENCE: "person-seconds", HeatMetric.VISITS: "visit-minutes", HeatMetric.DWELL: "s per visit"}


@dataclass(frozen=True, slots=True)
class CellRow:
    """One camera's total in one cell over the period (a row of the hourly rollup, summed)."""

    device_id: str
    cell_m: float
    x: int
    y: int
    presence_s: float
    tracks: int


@dataclass
class FloorGrid:
    """The merged grid of one floor: arrays are (rows, cols), row 0 at the plan's top."""

    cell_m: float
    presence: np.ndarray
    visits: np.ndarray
    owner: np.ndarray
    """Index into `devices` of the camera that owns each cell; -1 where no camera saw it."""
    devices: list[str]

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return self.presence.shape

    def values(self, metric: HeatMetric) -> np.ndarray:
        """The metric per cell; NaN where nobody was seen."""
        with np.errstate(divide="ignore", invalid="ignore"):
            if metric is HeatMetric.PRESENCE:
                out = self.presence.astype(float)
            elif metric is HeatMetric.VISITS:
                out = self.visits.astype(float)
            else:
                out = self.presence / self.visits
        return np.where(self.visits > 0, out, np.nan)

    def suppress(self, k: int) -> int:
        """Empty every cell with fewer than `k` visits; returns how many were emptied."""
        thin = (self.visits > 0) & (self.visits < k)
        n = int(thin.sum())
        self.presence[thin] = 0.0
        self.visits[thin] = 0
        self.owner[thin] = -1
        return n


def grid_shape(width_m: float, height_m: float, cell_m: float) -> tuple[int, int]:
    """(rows, cols) of a floor cut into `cell_m` squares."""
    return math.ceil(height_m / cell_m - 1e-9), math.ceil(width_m / cell_m - 1e-9)


def merge_cells(rows: Sequence[CellRow], *, width_m: float, height_m: float, cell_m: float | None = None) -> FloorGrid:
    """Merge per-camera cell totals onto one floor grid, each cell owned by one camera.

    Args:
        rows: each camera's totals per cell over the period.
        width_m: floor width.
        height_m: floor height.
        cell_m: output cell size; at least the coarsest camera cell (the default), since a
            coarse cell cannot be split.

    Returns:
        The merged grid (see the module doc for the ownership rule).
    """
    coarsest = max((r.cell_m for r in rows), default=0.5)
    out_cell = max(cell_m or coarsest, coarsest)
    n_rows, n_cols = grid_shape(width_m, height_m, out_cell)
    devices = sorted({r.device_id for r in rows})
    index = {d: i for i, d in enumerate(devices)}
    presence = np.zeros((len(devices), n_rows, n_cols))
    visits = np.zeros((len(devices), n_rows, n_cols), dtype=np.int64)
    if rows:
        dev = np.fromiter((index[r.device_id] for r in rows), dtype=np.int64, count=len(rows))
        src_cell = np.fromiter((r.cell_m for r in rows), dtype=float, count=len(rows))
        # a source cell lands in the output cell holding its centre
        cx = np.fromiter((r.x + 0.5 for r in rows), dtype=float, count=len(rows)) * src_cell
        cy = np.fromiter((r.y + 0.5 for r in rows), dtype=float, count=len(rows)) * src_cell
        col = np.floor(cx / out_cell).astype(np.int64)
        row = np.floor(cy / out_cell).astype(np.int64)
        ok = (col >= 0) & (col < n_cols) & (row >= 0) & (row < n_rows)
        p = np.fromiter((r.presence_s for r in rows), dtype=float, count=len(rows))
        v = np.fromiter((r.tracks for r in rows), dtype=np.int64, count=len(rows))
        np.add.at(presence, (dev[ok], row[ok], col[ok]), p[ok])
        np.add.at(visits, (dev[ok], row[ok], col[ok]), v[ok])
    if devices:
        owner = np.argmax(presence, axis=0)
        seen = presence.max(axis=0) > 0
        merged_p = np.take_along_axis(presence, owner[None], axis=0)[0]
        merged_v = np.take_along_axis(visits, owner[None], axis=0)[0]
        owner = np.where(seen, owner, -1)
        merged_p = np.where(seen, merged_p, 0.0)
        merged_v = np.where(seen, merged_v, 0)
    else:
        owner = np.full((n_rows, n_cols), -1)
        merged_p = np.zeros((n_rows, n_cols))
        merged_v = np.zeros((n_rows, n_cols), dtype=np.int64)
    return FloorGrid(cell_m=out_cell, presence=merged_p, visits=merged_v, owner=owner, devices=devices)


# ------------------------------------------------------------------------- drawing


@dataclass(frozen=True, slots=True)
class PlanPicture:
    """A floor plan picture and where it sits: pixel (u, v) shows floor point origin + (u, v) / px_per_m."""

    image: np.ndarray
    px_per_m: float
    origin_m: Point = (0.0, 0.0)

    @classmethod
    def from_bytes(cls, data: bytes, *, px_per_m: float, origin_m: Point = (0.0, 0.0)) -> "PlanPicture":
        """Decode a PNG or JPEG.

        Raises:
            BadPlan: the bytes are not a picture OpenCV can read.
        """
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise BadPlan("the floor plan is not a PNG or JPEG picture that can be decoded")
        return cls(image=img, px_per_m=px_per_m, origin_m=origin_m)


@dataclass(frozen=True, slots=True)
class ZoneOutline:
    """A zone to outline on the plan."""

    zone_id: str
    name: str
    polygon: list[Point]


MAX_DRAWN_PX = 1000
"""A drawn plan (no picture) is at most this wide or high."""


def draw_plan(
    *, width_m: float, height_m: float, zones: Sequence[ZoneOutline] = (), px: int = MAX_DRAWN_PX
) -> PlanPicture:
    """A plain floor plan drawn from the geometry: walls, a 1 m grid, zones shaded.

    Used when a floor has no picture, and to make the example store's plan.
    """
    ppm = max(2.0, math.floor(min(px / width_m, px / height_m)))
    margin = 0.0
    w, h = math.ceil(width_m * ppm), math.ceil(height_m * ppm)
    img = np.full((h, w, 3), 250, np.uint8)
    for i in range(int(width_m) + 1):
        x = round(i * ppm)
        cv2.line(img, (x, 0), (x, h - 1), (232, 232, 232), 1)
    for j in range(int(height_m) + 1):
        y = round(j * ppm)
        cv2.line(img, (0, y), (w - 1, y), (232, 232, 232), 1)
    for z in zones:
        pts = np.array([[round(x * ppm), round(y * ppm)] for x, y in z.polygon], np.int32)
        cv2.fillPoly(img, [pts], (236, 226, 214))
    cv2.rectangle(img, (0, 0), (w - 1, h - 1), (90, 90, 90), 3)
    return PlanPicture(image=img, px_per_m=ppm, origin_m=(margin, margin))


def _colourise(values: np.ndarray, vmax: float) -> np.ndarray:
    norm = np.clip(np.nan_to_num(values / vmax if vmax > 0 else values * 0, nan=0.0), 0, 1)
    # inferno from dark purple up (its black end would read as a shadow on the plan)
    return cv2.applyColorMap((40 + norm * 215).astype(np.uint8), cv2.COLORMAP_INFERNO)


def _wrap(text: str, *, width: int) -> list[str]:
    """Split text into lines of at most `width` characters at spaces."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _nice_length(target_m: float) -> float:
    """A round scale-bar length (1, 2, 5 × 10ⁿ metres) near `target_m`."""
    exp = 10 ** math.floor(math.log10(max(target_m, 1e-6)))
    for step in (1, 2, 5, 10):
        if step * exp >= target_m:
            return step * exp
    return 10 * exp


def render_png(
    grid: FloorGrid,
    metric: HeatMetric,
    *,
    plan: PlanPicture,
    zones: Sequence[ZoneOutline] = (),
    title: str = "",
    opacity: float = 0.65,
) -> bytes:
    """The heatmap drawn over the plan, zones outlined, with a legend and a scale bar, as PNG.

    Args:
        grid: the merged (and suppressed) grid.
        metric: which metric to colour.
        plan: the picture to draw on and its placement.
        zones: zones to outline and name.
        title: a line of text at the top (store, floor, period).
        opacity: how much the heat colour covers the plan.
    """
    base = plan.image
    if base.ndim == 2:
        base = cv2.cvtColor(base, cv2.COLOR_GRAY2BGR)
    ph, pw = base.shape[:2]
    values = grid.values(metric)
    seen = ~np.isnan(values)
    vmax = float(np.nanpercentile(values, 99)) if seen.any() else 0.0
    colour = _colourise(values, vmax)
    # grid cell (c, r) → plan pixel: u = (c·cell − ox)·ppm, v = (r·cell − oy)·ppm
    s = grid.cell_m * plan.px_per_m
    m = np.array(
        [[s, 0, -plan.origin_m[0] * plan.px_per_m], [0, s, -plan.origin_m[1] * plan.px_per_m]], dtype=np.float64
    )
    heat = cv2.warpAffine(colour, m, (pw, ph), flags=cv2.INTER_NEAREST, borderValue=(0, 0, 0))
    mask = cv2.warpAffine(seen.astype(np.uint8) * 255, m, (pw, ph), flags=cv2.INTER_NEAREST, borderValue=0)
    # faint cells are more transparent, so the plan shows through where little happened
    norm = np.clip(np.nan_to_num(values / vmax if vmax > 0 else values * 0, nan=0.0), 0, 1)
    strength = cv2.warpAffine(
        (0.35 + 0.65 * norm).astype(np.float32), m, (pw, ph), flags=cv2.INTER_NEAREST, borderValue=0.0
    )
    alpha = (mask.astype(np.float32) / 255.0 * opacity * strength)[..., None]
    canvas = (base.astype(np.float32) * (1 - alpha) + heat.astype(np.float32) * alpha).astype(np.uint8)

    def to_px(p: Point) -> tuple[int, int]:
        return (
            round((p[0] - plan.origin_m[0]) * plan.px_per_m),
            round((p[1] - plan.origin_m[1]) * plan.px_per_m),
        )

    for z in zones:
        pts = np.array([to_px(p) for p in z.polygon], np.int32)
        cv2.polylines(canvas, [pts], True, (255, 140, 0), 2, cv2.LINE_AA)
        x0, y0 = pts.min(axis=0)
        cv2.putText(
            canvas,
            z.name or z.zone_id,
            (int(x0) + 4, int(y0) + 16),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            (120, 60, 0),
            1,
            cv2.LINE_AA,
        )

    # the margin below the plan: title, then the legend (colour bar with its range) and a scale bar
    band = 84
    width = max(pw, 560)
    out = np.full((ph + band, width, 3), 255, np.uint8)
    out[:ph, :pw] = canvas
    y = ph + 6
    font = cv2.FONT_HERSHEY_SIMPLEX
    ink = (30, 30, 30)
    for i, line in enumerate(_wrap(title, width=int(width / 7.2))[:2]):
        cv2.putText(out, line, (8, y + 12 + 15 * i), font, 0.4, ink, 1, cv2.LINE_AA)
    y += 36
    bar_w, bar_h = 200, 12
    ramp = _colourise(np.linspace(0, 1, bar_w)[None, :].repeat(bar_h, axis=0), 1.0)
    out[y : y + bar_h, 8 : 8 + bar_w] = ramp
    cv2.rectangle(out, (8, y), (8 + bar_w, y + bar_h), (80, 80, 80), 1)
    cv2.putText(out, "0", (8, y + 28), font, 0.4, ink, 1, cv2.LINE_AA)
    top = f"{vmax:,.0f}" if vmax >= 10 else f"{vmax:.2g}"
    cv2.putText(out, f">= {top}", (8 + bar_w - 48, y + 28), font, 0.4, ink, 1, cv2.LINE_AA)
    cv2.putText(out, f"{metric.value} ({UNITS[metric]})", (8 + bar_w + 10, y + 11), font, 0.4, ink, 1, cv2.LINE_AA)
    length = _nice_length(pw / plan.px_per_m / 6)
    sx1 = width - 16
    sx0 = sx1 - round(length * plan.px_per_m)
    cv2.line(out, (sx0, y + 6), (sx1, y + 6), ink, 3)
    for sx in (sx0, sx1):
        cv2.line(out, (sx, y), (sx, y + 12), ink, 2)
    cv2.putText(out, f"{length:g} m", (sx0, y + 28), font, 0.4, ink, 1, cv2.LINE_AA)
    ok, png = cv2.imencode(".png", out)
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 BGR image
        raise RuntimeError("PNG encoding failed")
    return png.tobytes()
