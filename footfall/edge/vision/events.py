"""From tracks to events: counting lines, zone visits and dwell, floor heatmaps, polylines.

Each tool is stateful with one verb, like supervision's: `CountingLine.trigger(tracks)`,
`ZoneDwell.trigger(ids, points, t)`, `FloorHeatmap.accumulate(ids, points, dt)`.
Drawing lives elsewhere (`snapshot.py`), and only on the device.

**Line direction convention.** A line goes from A to B in image pixels (x right, y
down). A point P is on the *in* side when the 2-D cross product
(B−A)×(P−A) = (Bx−Ax)(Py−Ay) − (By−Ay)(Px−Ax) is positive. A crossing is `in` when it
ends on the positive side and `out` when it ends on the negative side. For the line
(320, 0) → (320, 480) the in side is x < 320: walking right→left is `in`.

Example:
    >>> import numpy as np
    >>> from footfall.edge.vision.detect import AnchorPoint
from footfall.edge.vision.track import Tracks
    >>> line = CountingLine((320, 0), (320, 480), door_id="main", dead_band_px=0)
    >>> _ = line.trigger(Tracks.from_arrays([1], [[400, 100, 440, 200]]))
    >>> line.trigger(Tracks.from_arrays([1], [[280, 100, 320, 200]]))
    ([1], [])
"""

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from footfall.core.messages import HeatmapCell, Track, TrackPoint
from footfall.edge.vision.detect import AnchorPoint
from footfall.edge.vision.track import Tracks

Point = tuple[float, float]


@dataclass
class _LineState:
    side: int  # settled side: +1 in, -1 out, 0 not yet known
    prev: np.ndarray  # last anchor
    cross_u: float | None = None  # where along A→B the anchor last crossed the line (0..1 inside the segment)


class CountingLine:
    """A directed counting line in image pixels; counts each real crossing once, in its direction.

    Anti-flicker: a track's side changes only once its anchor is more than
    `dead_band_px` past the line, so a box jittering on the line counts at most once,
    and a person stepping back and forth counts once per real crossing in each
    direction. A crossing counts only where the anchor passed between A and B (not
    around the end of the line).

    Args:
        a: start of the line (pixels).
        b: end of the line (pixels).
        door_id: the door the counts belong to.
        dead_band_px: half-width of the band around the line where the side is not decided.
        dead_band_frac: the band's half-width as a share of the box height, when larger.
        anchor: `foot` (bottom-centre) or `centre` of the box.
    """

    def __init__(
        self,
        a: Sequence[float],
        b: Sequence[float],
        *,
        door_id: str = "door",
        dead_band_px: float = 6.0,
        dead_band_frac: float = 0.0,
        anchor: AnchorPoint = "foot",
    ) -> None:
        self.a = np.asarray(a, dtype=float)
        self.b = np.asarray(b, dtype=float)
        d = self.b - self.a
        self.length = float(np.hypot(*d))
        if self.length == 0:
            raise ValueError(f"counting line for door {door_id!r} has zero length (A == B)")
        self.door_id = door_id
        self.dead_band_px = dead_band_px
        self.dead_band_frac = dead_band_frac
        self.anchor = anchor
        self.in_count = 0
        self.out_count = 0
        self._state: dict[int, _LineState] = {}

    @property
    def watched(self) -> frozenset[int]:
        """Ids of the tracks the line keeps state for; a track is forgotten once it ends."""
        return frozenset(self._state)

    def signed_distance(self, p: np.ndarray) -> np.ndarray:
        """Signed pixel distance of points from the line: positive on the `in` side."""
        d = self.b - self.a
        p = np.asarray(p, dtype=float).reshape(-1, 2)
        return (d[0] * (p[:, 1] - self.a[1]) - d[1] * (p[:, 0] - self.a[0])) / self.length

    def _side(self, s: float, height: float = 0.0) -> int:
        band = max(self.dead_band_px, self.dead_band_frac * height)
        if s > band:
            return 1
        if s < -band:
            return -1
        return 0

    def _crossing_u(self, p0: np.ndarray, p1: np.ndarray) -> float | None:
        s0, s1 = self.signed_distance(np.vstack([p0, p1]))
        if (s0 > 0) == (s1 > 0) or s0 == s1:
            return None
        k = s0 / (s0 - s1)
        hit = p0 + k * (p1 - p0)
        d = self.b - self.a
        return float(np.dot(hit - self.a, d) / (self.length**2))

    def trigger(self, tracks: Tracks) -> tuple[list[int], list[int]]:
        """Feed one frame's tracks; returns the ids that crossed in and out in this frame."""
        entered: list[int] = []
        exited: list[int] = []
        for tid in tracks.ended:
            self._state.pop(tid, None)
        if len(tracks) == 0:
            return entered, exited
        points = tracks.anchors(self.anchor)
        origins = tracks.origin_anchors(self.anchor)
        dist = self.signed_distance(points)
        heights = tracks.xyxy[:, 3] - tracks.xyxy[:, 1]
        for i, tid in enumerate(tracks.ids.tolist()):
            p = points[i]
            st = self._state.get(tid)
            if st is None:
                start = origins[i] if tracks.new[i] else p
                st = _LineState(side=self._side(float(self.signed_distance(start)[0]), heights[i]), prev=start)
                self._state[tid] = st
            u = self._crossing_u(st.prev, p)
            if u is not None:
                st.cross_u = u
            st.prev = p
            side = self._side(float(dist[i]), heights[i])
            if side == 0:
                continue
            if side == st.side:
                st.cross_u = None  # back where it was: an earlier wobble over the line is no crossing
                continue
            if st.side != 0 and st.cross_u is not None and -1e-9 <= st.cross_u <= 1 + 1e-9:
                if side > 0:
                    self.in_count += 1
                    entered.append(tid)
                else:
                    self.out_count += 1
                    exited.append(tid)
            st.side = side
            st.cross_u = None
        return entered, exited

    def take(self) -> tuple[int, int]:
        """The (in, out) counts since the last `take`, and reset them."""
        out = (self.in_count, self.out_count)
        self.in_count = self.out_count = 0
        return out


def points_in_polygon(points: np.ndarray, polygon: Sequence[Point]) -> np.ndarray:
    """(n,) bool: even-odd rule for many points against one polygon."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    poly = np.asarray(polygon, dtype=float)
    x, y = pts[:, 0][:, None], pts[:, 1][:, None]
    xi, yi = poly[:, 0][None, :], poly[:, 1][None, :]
    xj, yj = np.roll(poly[:, 0], 1)[None, :], np.roll(poly[:, 1], 1)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        crosses = ((yi > y) != (yj > y)) & (x < (xj - xi) * (y - yi) / (yj - yi) + xi)
    return (crosses.sum(axis=1) % 2) == 1


@dataclass
class _Visit:
    enter_t: float
    last_inside_t: float
    outside_since: float | None = None


@dataclass
class ZoneEvents:
    """What happened in a zone in one frame."""

    entered: list[int] = field(default_factory=list)
    ended: list[tuple[int, float]] = field(default_factory=list)  # (track id, dwell seconds)


class ZoneDwell:
    """Visits to one floor polygon: entries, exits, dwell time and occupancy.

    A visit starts on the first frame a track's floor point is inside and ends on the
    first frame it is outside, once it has stayed outside for `exit_grace_s` (a point
    wobbling on the border is one visit). Dwell is exit time − entry time, both taken
    at the first frame of the new state, so the frame quantisation does not bias it. A
    track that ends inside (lost, left the view) ends its visit where it was last seen.
    """

    def __init__(
        self, zone_id: str, polygon: Sequence[Point], *, exit_grace_s: float = 0.5, min_dwell_s: float = 0.0
    ) -> None:
        self.zone_id = zone_id
        self.polygon = [(float(x), float(y)) for x, y in polygon]
        self.exit_grace_s = exit_grace_s
        self.min_dwell_s = min_dwell_s
        self._visits: dict[int, _Visit] = {}

    @property
    def occupancy(self) -> int:
        """Tracks in the zone now."""
        return len(self._visits)

    def trigger(self, ids: Sequence[int], points: np.ndarray, t: float, ended: Sequence[int] = ()) -> ZoneEvents:
        """Feed one frame's tracks as floor points (metres) at time `t` (seconds)."""
        ev = ZoneEvents()
        inside = points_in_polygon(points, self.polygon) if len(ids) else np.zeros(0, bool)
        for tid, ins in zip(ids, inside.tolist(), strict=True):
            v = self._visits.get(tid)
            if ins:
                if v is None:
                    self._visits[tid] = _Visit(enter_t=t, last_inside_t=t)
                    ev.entered.append(tid)
                else:
                    v.last_inside_t = t
                    v.outside_since = None
            elif v is not None:
                if v.outside_since is None:
                    v.outside_since = t
                if t - v.outside_since >= self.exit_grace_s:
                    self._end(tid, v.outside_since, ev)
        for tid in ended:
            v = self._visits.get(tid)
            if v is not None:
                self._end(tid, v.outside_since if v.outside_since is not None else v.last_inside_t, ev)
        return ev

    def _end(self, tid: int, exit_t: float, ev: ZoneEvents) -> None:
        v = self._visits.pop(tid)
        dwell = max(0.0, exit_t - v.enter_t)
        if dwell >= self.min_dwell_s:
            ev.ended.append((tid, dwell))

    def close(self, t: float) -> ZoneEvents:
        """End every visit (end of stream, camera fault) at time `t`."""
        ev = ZoneEvents()
        for tid in list(self._visits):
            v = self._visits[tid]
            self._end(tid, v.outside_since if v.outside_since is not None else min(t, v.last_inside_t), ev)
        return ev


class FloorHeatmap:
    """Presence-seconds per floor cell, with the distinct tracks seen in each cell.

    Cells are `cell_m` squares from the floor plan's origin (x right, y down); points
    outside the floor are ignored. `cells(k)` applies k-anonymity: a cell seen by fewer
    than k distinct tracks in the bucket is left out.
    """

    def __init__(self, *, cell_m: float, width_m: float, height_m: float) -> None:
        self.cell_m = cell_m
        self.width_m = width_m
        self.height_m = height_m
        self._presence: dict[tuple[int, int], float] = {}
        self._tracks: dict[tuple[int, int], set[int]] = {}

    def accumulate(self, ids: Sequence[int], points: np.ndarray, dt: float) -> None:
        """Add `dt` seconds of presence for each track at its floor point (metres)."""
        if len(ids) == 0 or dt <= 0:
            return
        pts = np.asarray(points, dtype=float).reshape(-1, 2)
        ok = (pts[:, 0] >= 0) & (pts[:, 1] >= 0) & (pts[:, 0] < self.width_m) & (pts[:, 1] < self.height_m)
        cells = np.floor(pts / self.cell_m).astype(int)
        for tid, (cx, cy), good in zip(ids, cells.tolist(), ok.tolist(), strict=True):
            if not good:
                continue
            key = (cx, cy)
            self._presence[key] = self._presence.get(key, 0.0) + dt
            self._tracks.setdefault(key, set()).add(int(tid))

    def cells(self, *, k: int, seconds: float) -> list[HeatmapCell]:
        """The cells seen by at least `k` tracks, presence capped at what those tracks could spend."""
        out = []
        for (cx, cy), presence in sorted(self._presence.items()):
            n = len(self._tracks[(cx, cy)])
            if n < k:
                continue
            out.append(HeatmapCell(x=cx, y=cy, presence_s=round(min(presence, n * seconds), 3), tracks=n))
        return out

    def dense(self) -> np.ndarray:
        """All presence (no suppression) as a (rows, cols) array, for tests and local views."""
        cols = math.ceil(self.width_m / self.cell_m)
        rows = math.ceil(self.height_m / self.cell_m)
        grid = np.zeros((rows, cols))
        for (cx, cy), p in self._presence.items():
            if cy < rows and cx < cols:
                grid[cy, cx] += p
        return grid

    def clear(self) -> None:
        """Start a new bucket."""
        self._presence.clear()
        self._tracks.clear()


class PolylineRecorder:
    """Anonymous floor-plan polylines: a point every `step_s` per track, no ids kept in the output."""

    def __init__(self, *, step_s: float) -> None:
        self.step_s = step_s
        self._points: dict[int, list[tuple[float, float, float]]] = {}

    def accumulate(self, ids: Sequence[int], points: np.ndarray, t: float) -> None:
        """Record floor points at time `t` (seconds) for the tracks that are due a point."""
        for tid, (x, y) in zip(ids, np.asarray(points, dtype=float).reshape(-1, 2).tolist(), strict=True):
            pts = self._points.setdefault(int(tid), [])
            if not pts or t - pts[-1][0] >= self.step_s - 1e-9:
                pts.append((t, x, y))

    def tracks(self, start: float, seconds: float) -> list[Track]:
        """This bucket's polylines (offsets from `start`), in random order so nothing hints at ids."""
        out = []
        for pts in self._points.values():
            tp = [
                TrackPoint(t=round(min(max(t - start, 0.0), seconds), 3), x=round(x, 2), y=round(y, 2))
                for t, x, y in pts
                if -1000 <= x <= 1000 and -1000 <= y <= 1000
            ]
            if tp:
                out.append(Track(points=tp))
        random.shuffle(out)
        return out

    def clear(self) -> None:
        """Start a new bucket; no point links one bucket's polylines to the next's."""
        self._points.clear()
