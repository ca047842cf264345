"""Synthetic camera scenes with exact ground truth, for tests and the demo.

A `Scene` is a rendered shop floor seen by a camera tilted over the entrance: floor
tiles, shelves, a door threshold at the bottom of the picture. People (`Walker`) follow
scripted routes in floor metres — in through the door, to a zone, a pause, on, and out
again — drawn as upright ellipses whose bottom-centre is their foot point. Because
the script is known, so is the truth: every door crossing with its direction, every
zone visit with its dwell, and the presence-seconds of every floor cell
(`Scene.truth()`). Camera faults can be scripted too: a covered lens, a knocked camera
(the view shifts and turns), a frozen stream.

The camera maps floor metres to pixels with a scale and an offset (`px_per_m`,
`origin_px`), so `Scene.calibration()` gives exact image↔floor pairs and
`Scene.store_config()` a complete store YAML model for the pipeline.

Example:
    >>> scene = door_scene(seed=1)
    >>> truth = scene.truth()
    >>> truth.entries == truth.exits
    True
"""

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np

from footfall.core.storeconfig import StoreConfig

Point = tuple[float, float]


@dataclass(frozen=True)
class Walker:
    """One person: timed waypoints `(t, x, y)` in seconds and floor metres, straight lines between.

    Before the first and after the last waypoint the person is not in the picture.
    """

    waypoints: tuple[tuple[float, float, float], ...]
    colour: tuple[int, int, int] = (40, 40, 160)
    width_m: float = 0.5
    height_m: float = 1.1

    @classmethod
    def route(
        cls,
        start_t: float,
        points: Sequence[Point],
        *,
        speed: float = 1.2,
        pauses: dict[int, float] | None = None,
        colour: tuple[int, int, int] = (40, 40, 160),
    ) -> "Walker":
        """Walk through `points` at `speed` m/s from `start_t`, pausing `pauses[i]` seconds at point i."""
        pauses = pauses or {}
        t = start_t
        wps = [(t, *points[0])]
        if pauses.get(0):
            t += pauses[0]
            wps.append((t, *points[0]))
        for i in range(1, len(points)):
            (x0, y0), (x1, y1) = points[i - 1], points[i]
            t += math.hypot(x1 - x0, y1 - y0) / speed
            wps.append((t, x1, y1))
            if pauses.get(i):
                t += pauses[i]
                wps.append((t, x1, y1))
        return cls(tuple(wps), colour=colour)

    @property
    def start(self) -> float:
        return self.waypoints[0][0]

    @property
    def end(self) -> float:
        return self.waypoints[-1][0]

    def position(self, t: float) -> Point | None:
        """Floor position at time `t`, or None when the person is not in the scene."""
        wps = self.waypoints
        if t < wps[0][0] or t > wps[-1][0]:
            return None
        for (t0, x0, y0), (t1, x1, y1) in pairwise(wps):
            if t0 <= t <= t1:
                k = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
                return (x0 + k * (x1 - x0), y0 + k * (y1 - y0))
        return (wps[-1][1], wps[-1][2])


@dataclass(frozen=True)
class ZoneBox:
    """A rectangular zone on the floor (metres)."""

    id: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def polygon(self) -> list[Point]:
        return [(self.x0, self.y0), (self.x1, self.y0), (self.x1, self.y1), (self.x0, self.y1)]

    def contains(self, p: Point) -> bool:
        return self.x0 <= p[0] < self.x1 and self.y0 <= p[1] < self.y1


@dataclass(frozen=True)
class Visit:
    """A ground-truth zone visit."""

    zone_id: str
    walker: int
    enter_t: float
    exit_t: float

    @property
    def dwell_s(self) -> float:
        return self.exit_t - self.enter_t


@dataclass
class SceneTruth:
    """What really happened in a scene."""

    entries: int = 0
    exits: int = 0
    crossings: list[tuple[float, int, str]] = field(default_factory=list)  # (t, walker, "in"|"out")
    visits: list[Visit] = field(default_factory=list)
    presence: np.ndarray | None = None  # (rows, cols) seconds per floor cell, sampled at frame times


@dataclass(frozen=True)
class Fault:
    """A scripted camera fault from `t0` to `t1` seconds."""

    kind: str  # "blocked", "moved" or "frozen"
    t0: float
    t1: float = math.inf
    shift_px: tuple[float, float] = (60.0, 25.0)
    angle_deg: float = 6.0


@dataclass(frozen=True)
class Scene:
    """A scripted, rendered camera scene with exact ground truth (see the module doc)."""

    walkers: tuple[Walker, ...]
    duration_s: float
    fps: float = 10.0
    size: tuple[int, int] = (640, 480)
    floor_m: tuple[float, float] = (12.0, 9.0)
    px_per_m: float = 50.0
    origin_px: tuple[float, float] = (20.0, 15.0)
    door_y_m: float = 8.0
    door_x_m: tuple[float, float] = (4.0, 8.0)
    zones: tuple[ZoneBox, ...] = ()
    faults: tuple[Fault, ...] = ()
    noise: float = 2.0
    seed: int = 0

    # -- geometry --------------------------------------------------------------------

    def to_image(self, p: Point) -> Point:
        """Floor metres → image pixels."""
        return (self.origin_px[0] + p[0] * self.px_per_m, self.origin_px[1] + p[1] * self.px_per_m)

    def calibration(self) -> list[dict[str, list[float]]]:
        """Four exact image↔floor pairs (the floor's corners), as in a store YAML."""
        w, h = self.floor_m
        pairs = []
        for fp in ((0.0, 0.0), (w, 0.0), (w, h), (0.0, h)):
            ip = self.to_image(fp)
            pairs.append({"image": [ip[0], ip[1]], "floor": [fp[0], fp[1]]})
        return pairs

    @property
    def line_px(self) -> tuple[Point, Point]:
        """The door's counting line in pixels, directed so that walking into the store (up) is `in`."""
        a = self.to_image((self.door_x_m[1], self.door_y_m))
        b = self.to_image((self.door_x_m[0], self.door_y_m))
        return a, b

    def store_config(self, *, store_id: str = "synth", device_id: str = "cam1") -> StoreConfig:
        """A store with this scene's floor, door, zones and camera."""
        a, b = self.line_px
        return StoreConfig.from_data(
            {
                "store": {"id": store_id, "name": "Synthetic store", "timezone": "UTC"},
                "floors": [{"id": "ground", "width_m": self.floor_m[0], "height_m": self.floor_m[1]}],
                "doors": [{"id": "main"}],
                "zones": [{"id": z.id, "floor": "ground", "polygon": [list(p) for p in z.polygon]} for z in self.zones],
                "devices": [
                    {
                        "id": device_id,
                        "kind": "camera",
                        "floor": "ground",
                        "calibration": self.calibration(),
                        "lines": [{"door": "main", "a": list(a), "b": list(b)}],
                        "zones": [z.id for z in self.zones],
                    }
                ],
            },
            source="synthetic scene",
        )

    # -- rendering -------------------------------------------------------------------

    @property
    def frame_count(self) -> int:
        return math.floor(self.duration_s * self.fps)

    def _background(self) -> np.ndarray:
        w, h = self.size
        img = np.full((h, w, 3), (150, 160, 165), np.uint8)
        fw, fh = self.floor_m
        x0, y0 = self.to_image((0, 0))
        x1, y1 = self.to_image((fw, fh))
        cv2.rectangle(img, (int(x0), int(y0)), (int(x1), int(y1)), (185, 190, 195), -1)
        for i in range(int(fw) + 1):  # floor tiles, 1 m
            x = int(self.to_image((i, 0))[0])
            cv2.line(img, (x, int(y0)), (x, int(y1)), (160, 165, 170), 1)
        for j in range(int(fh) + 1):
            y = int(self.to_image((0, j))[1])
            cv2.line(img, (int(x0), y), (int(x1), y), (160, 165, 170), 1)
        for sx, sy, sw, sh, c in (  # shelves and a counter along the walls
            (0.2, 0.2, 3.0, 0.6, (90, 110, 140)),
            (8.8, 0.2, 3.0, 0.6, (100, 90, 80)),
            (0.2, 3.0, 0.6, 3.0, (80, 120, 90)),
            (11.2, 3.0, 0.6, 3.5, (120, 100, 130)),
        ):
            p0, p1 = self.to_image((sx, sy)), self.to_image((sx + sw, sy + sh))
            cv2.rectangle(img, (int(p0[0]), int(p0[1])), (int(p1[0]), int(p1[1])), c, -1)
        # the door threshold mat
        d0 = self.to_image((self.door_x_m[0], self.door_y_m))
        d1 = self.to_image((self.door_x_m[1], self.door_y_m + 0.15))
        cv2.rectangle(img, (int(d0[0]), int(d0[1])), (int(d1[0]), int(d1[1])), (110, 110, 110), -1)
        return img

    def _draw_people(self, img: np.ndarray, t: float) -> None:
        people = []
        for w in self.walkers:
            p = w.position(t)
            if p is not None:
                people.append((p[1], w, p))
        people.sort(key=lambda item: item[0])  # farther (smaller y) first: nearer people occlude them
        for _, w, p in people:
            fx, fy = self.to_image(p)
            half_w = w.width_m * self.px_per_m / 2
            half_h = w.height_m * self.px_per_m / 2
            centre = (round(fx), round(fy - half_h))
            cv2.ellipse(img, centre, (round(half_w), round(half_h)), 0, 0, 360, w.colour, -1, cv2.LINE_AA)
            cv2.circle(img, (centre[0], round(fy - 1.6 * half_h)), round(half_w * 0.6), (60, 80, 110), -1)

    def _fault_at(self, t: float, kind: str) -> Fault | None:
        return next((f for f in self.faults if f.kind == kind and f.t0 <= t < f.t1), None)

    def frames(self) -> Iterator[tuple[float, np.ndarray]]:
        """Every frame with its time in seconds from the scene's start."""
        rng = np.random.default_rng(self.seed)
        bg = self._background()
        w, h = self.size
        # a bank of sensor-noise patterns, drawn at random per frame: as good as fresh noise for a
        # detector, and five times cheaper to render
        bank = (
            [np.repeat(rng.normal(0.0, self.noise, size=(h, w, 1)), 3, axis=2).astype(np.int16) for _ in range(8)]
            if self.noise
            else []
        )
        last = -1
        frozen_frame: np.ndarray | None = None
        for i in range(self.frame_count):
            t = i / self.fps
            fr = self._fault_at(t, "frozen")
            if fr is not None and frozen_frame is not None:
                yield t, frozen_frame.copy()
                continue
            img = bg.copy()
            self._draw_people(img, t)
            mv = self._fault_at(t, "moved")
            if mv is not None:
                m = np.asarray(cv2.getRotationMatrix2D((w / 2, h / 2), mv.angle_deg, 1.0), dtype=float)
                m[:, 2] += mv.shift_px
                img = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)
            if self._fault_at(t, "blocked") is not None:
                img = np.full_like(img, 22)
            if bank:
                pick = int(rng.integers(len(bank) - 1))
                last = pick if pick < last else pick + 1  # never the same pattern twice in a row
                img = cv2.add(img, bank[last], dtype=cv2.CV_8U)
            frozen_frame = img
            yield t, img

    def write(self, path: Path, *, codec: str = "mp4v") -> Path:
        """Render the scene into a video file (MP4 by default)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*codec), self.fps, self.size)
        if not writer.isOpened():
            raise OSError(f"cannot write video {path} with codec {codec}")
        try:
            for _, img in self.frames():
                writer.write(img)
        finally:
            writer.release()
        return path

    # -- ground truth ----------------------------------------------------------------

    def mot_ground_truth(self) -> str:
        """Every person's box in every frame, in MOTChallenge `gt.txt` form (frames from 1, foot = bottom-centre)."""
        rows = []
        for i in range(self.frame_count):
            t = i / self.fps
            for wi, w in enumerate(self.walkers):
                p = w.position(t)
                if p is None:
                    continue
                fx, fy = self.to_image(p)
                bw, bh = w.width_m * self.px_per_m, w.height_m * self.px_per_m
                rows.append(f"{i + 1},{wi + 1},{fx - bw / 2:.2f},{fy - bh:.2f},{bw:.2f},{bh:.2f},1,-1,-1,-1")
        return "\n".join(rows) + "\n"

    def truth(self, *, cell_m: float = 0.5, step_s: float = 0.005) -> SceneTruth:  # noqa: PLR0912
        """Exact crossings and visits from the scripts; presence per cell at the frame times."""
        truth = SceneTruth()
        ax, bx = self.door_x_m
        dy = self.door_y_m
        for wi, w in enumerate(self.walkers):
            wps = w.waypoints
            for (t0, x0, y0), (t1, x1, y1) in pairwise(wps):
                if (y0 - dy) * (y1 - dy) < 0:
                    k = (dy - y0) / (y1 - y0)
                    x = x0 + k * (x1 - x0)
                    if ax <= x <= bx:
                        t = t0 + k * (t1 - t0)
                        direction = "in" if y1 < dy else "out"
                        truth.crossings.append((t, wi, direction))
            for z in self.zones:
                inside_since: float | None = None
                ts = np.arange(w.start, w.end + step_s, step_s)
                for t in ts:
                    p = w.position(float(t))
                    ins = p is not None and z.contains(p)
                    if ins and inside_since is None:
                        inside_since = float(t)
                    elif not ins and inside_since is not None:
                        truth.visits.append(Visit(z.id, wi, inside_since, float(t)))
                        inside_since = None
                if inside_since is not None:
                    truth.visits.append(Visit(z.id, wi, inside_since, w.end))
        # only what the rendered frames show
        end = self.frame_count / self.fps
        truth.crossings = sorted(c for c in truth.crossings if c[0] < end)
        truth.visits = [
            Visit(v.zone_id, v.walker, v.enter_t, min(v.exit_t, end)) for v in truth.visits if v.enter_t < end
        ]
        truth.entries = sum(1 for c in truth.crossings if c[2] == "in")
        truth.exits = sum(1 for c in truth.crossings if c[2] == "out")
        cols, rows = math.ceil(self.floor_m[0] / cell_m), math.ceil(self.floor_m[1] / cell_m)
        presence = np.zeros((rows, cols))
        for i in range(self.frame_count):
            t = i / self.fps
            if any(self._fault_at(t, k) for k in ("blocked", "moved", "frozen")):
                continue
            for w in self.walkers:
                p = w.position(t)
                if p is None or not (0 <= p[0] < self.floor_m[0] and 0 <= p[1] < self.floor_m[1]):
                    continue
                presence[int(p[1] // cell_m), int(p[0] // cell_m)] += 1.0 / self.fps
        truth.presence = presence
        return truth


# -- ready-made scenes ----------------------------------------------------------------

_COLOURS = [(40, 40, 160), (150, 50, 40), (30, 120, 30), (120, 30, 120), (20, 90, 150), (100, 100, 20)]

ZONES = (ZoneBox("bakery", 1.5, 1.5, 4.5, 4.5), ZoneBox("coffee", 7.5, 1.5, 10.5, 4.5))


def door_scene(*, seed: int = 0, people: int = 6, duration_s: float = 80.0, fps: float = 10.0) -> Scene:
    """People come in through the door, browse a zone for a while, and leave again.

    One of them hesitates at the door (in, back out, in again); two cross each other's
    path in the middle of the floor (an occlusion). Pauses in zones are 4–12 s.
    """
    rng = np.random.default_rng(seed)
    walkers = []
    door = (6.0, 9.5)
    for i in range(people):
        zone = ZONES[i % 2]
        cx = (zone.x0 + zone.x1) / 2 + float(rng.uniform(-0.6, 0.6))
        cy = (zone.y0 + zone.y1) / 2 + float(rng.uniform(-0.6, 0.6))
        start = 1.0 + i * 6.0 + float(rng.uniform(0, 2))
        entry = (door[0] + float(rng.uniform(-1.2, 1.2)), door[1])
        pause = float(rng.uniform(4, 12))
        route = [entry, (entry[0], 6.5), (cx, 5.6), (cx, cy), (cx, 5.6), (6.0 + float(rng.uniform(-1, 1)), 6.5)]
        route.append((route[-1][0], door[1]))
        walkers.append(Walker.route(start, route, pauses={3: pause}, colour=_COLOURS[i % len(_COLOURS)]))
    # the hesitant one: in, back out, in again, and much later out
    walkers.append(
        Walker.route(
            40.0,
            [(5.0, 9.5), (5.0, 7.2), (5.0, 8.6), (5.0, 7.0), (9.0, 6.0), (7.0, 9.5)],
            speed=1.0,
            pauses={2: 1.0},
            colour=(0, 0, 0),
        )
    )
    # an occlusion: two people cross paths mid-floor, one from each side
    walkers.append(Walker.route(52.0, [(1.0, 6.0), (11.0, 6.0)], speed=1.3, colour=(30, 30, 200)))
    walkers.append(Walker.route(52.0, [(11.0, 5.6), (1.0, 5.6)], speed=1.3, colour=(200, 60, 30)))
    return Scene(walkers=tuple(walkers), duration_s=duration_s, fps=fps, zones=ZONES, seed=seed)


def empty_scene(*, duration_s: float = 20.0, fps: float = 10.0, faults: Sequence[Fault] = (), seed: int = 0) -> Scene:
    """Nobody there, optionally with scripted camera faults; for camera-health tests."""
    return Scene(walkers=(), duration_s=duration_s, fps=fps, zones=ZONES, faults=tuple(faults), seed=seed)


# -- a whole shop floor ---------------------------------------------------------------


@dataclass(frozen=True)
class ShopperMix:
    """How shoppers use a store's zones in `store_scene`: visit probability and pause range per zone."""

    visit: dict[str, float]
    pause_s: dict[str, tuple[float, float]]
    queue_share: float = 0.7
    """Shoppers who go to the checkout queue before leaving."""
    abandon_share: float = 0.1
    """Queuers who give up and leave without reaching the till."""


def _inside(rng: np.random.Generator, box: ZoneBox, margin: float = 0.6) -> Point:
    return (
        float(rng.uniform(box.x0 + margin, box.x1 - margin)),
        float(rng.uniform(box.y0 + margin, box.y1 - margin)),
    )


def store_scene(
    cfg: StoreConfig,
    *,
    mix: ShopperMix,
    door_x_m: tuple[float, float],
    seed: int = 0,
    duration_s: float = 120.0,
    fps: float = 5.0,
    shoppers_per_min: float = 8.0,
    px_per_m: float = 21.0,
    origin_px: tuple[float, float] = (5.0, 15.0),
) -> Scene:
    """A camera over a store's whole first floor with shoppers who enter by a door at the bottom
    edge, visit zones (pausing in them), may queue for the till, and leave.

    Zones are the store's (as bounding boxes); the queue zone and its till come from the
    store's `kind: queue` zone. Arrivals are Poisson; shoppers keep to the aisle below the
    zones between visits, so paths between zones are plausible.
    """
    rng = np.random.default_rng(seed)
    floor = cfg.floors[0]
    boxes = {}
    for z in cfg.zones:
        xs = [p[0] for p in z.polygon]
        ys = [p[1] for p in z.polygon]
        boxes[z.id] = ZoneBox(z.id, min(xs), min(ys), max(xs), max(ys))
    queue = next((z for z in cfg.zones if z.kind.value == "queue"), None)
    door_y = floor.height_m - 0.5
    aisle_y = floor.height_m * 0.5
    walkers = []
    t = float(rng.exponential(60.0 / shoppers_per_min))
    while t < duration_s - 5:
        entry = (float(rng.uniform(*door_x_m)), floor.height_m + 0.8)
        route: list[Point] = [entry, (entry[0], aisle_y)]
        pauses: dict[int, float] = {}
        order = [zid for zid, p in mix.visit.items() if zid in boxes and rng.random() < p]
        rng.shuffle(order)
        for zid in order:
            spot = _inside(rng, boxes[zid])
            route += [(spot[0], aisle_y), spot]
            pauses[len(route) - 1] = float(rng.uniform(*mix.pause_s.get(zid, (5.0, 15.0))))
            route.append((spot[0], aisle_y))
        if queue is not None and queue.till in boxes and rng.random() < mix.queue_share:
            q = _inside(rng, boxes[queue.id], 0.4)
            route += [(q[0], aisle_y), q]
            pauses[len(route) - 1] = float(rng.uniform(*mix.pause_s.get(queue.id, (10.0, 40.0))))
            if rng.random() >= mix.abandon_share:
                till = _inside(rng, boxes[queue.till], 0.8)
                route.append(till)
                pauses[len(route) - 1] = float(rng.uniform(*mix.pause_s.get(queue.till, (5.0, 15.0))))
                route.append((till[0], aisle_y))  # back up to the aisle, not through the queue
        exit_x = float(rng.uniform(*door_x_m))
        route += [(exit_x, aisle_y), (exit_x, floor.height_m + 0.8)]
        colour = _COLOURS[int(rng.integers(len(_COLOURS)))]
        walkers.append(Walker.route(t, route, speed=float(rng.uniform(0.9, 1.4)), pauses=pauses, colour=colour))
        t += float(rng.exponential(60.0 / shoppers_per_min))
    return Scene(
        walkers=tuple(walkers),
        duration_s=duration_s,
        fps=fps,
        floor_m=(floor.width_m, floor.height_m),
        px_per_m=px_per_m,
        origin_px=origin_px,
        door_y_m=door_y,
        door_x_m=door_x_m,
        zones=tuple(boxes.values()),
        seed=seed,
    )
