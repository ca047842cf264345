"""The camera pipeline: frame → detections → tracks → events → per-minute readings.

One `CameraPipeline` per camera. Feed it frames with their capture time (`process`), or
let it read a `VideoSource` (`run`). At the end of each bucket (a minute by default) it
hands its readings to a `ReadingSink` (the agent's durable outbox):

| kind | reading | one per |
|---|---|---|
| counts | `CountsReading` (entries = `in`, exits = `out`) | door with a counting line |
| zones | `ZonesReading` (entries, exits, dwell of visits that ended, occupancy) | zone |
| occupancy | `OccupancyReading` (people in the zone at the bucket's end, peak) | zone |
| heatmap | `HeatmapReading` (sparse floor cells, k-suppressed) | camera with calibration |
| tracks | `TracksReading` (anonymous floor polylines) | camera, only when enabled |

A bucket in which any camera fault was active (blocked, moved, frozen) is sent with
`valid=False` and an empty heatmap: the numbers of a camera that could not see are
not mixed into the store's. A fault is dated from when its condition began, not from
when it had lasted long enough to be declared, so a closed bucket is held back for
`CameraHealth.hold_s` (≈ 6 s by default) before it is sent. `health()` is what the
agent's heartbeat reports.

Example:
    >>> spec = CameraSpec(device_id="cam1", lines=[LineSpec("main", (320, 0), (320, 480))])  # doctest: +SKIP
    >>> pipe = CameraPipeline(spec, PipelineOptions(), sink)  # doctest: +SKIP
    >>> pipe.run(VideoSource("clip.mp4"))  # doctest: +SKIP
"""

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from footfall.core.geometry import apply_homography
from footfall.core.messages import (
    CountsReading,
    Fault,
    HeatmapReading,
    OccupancyReading,
    Reading,
    SensorHealth,
    TracksReading,
    ZonesReading,
)
from footfall.core.storeconfig import DeviceKind, StoreConfig
from footfall.core.topics import Kind
from footfall.edge.sink import ReadingSink
from footfall.edge.vision.config import PipelineOptions
from footfall.edge.vision.detect import Detections, make_detector
from footfall.edge.vision.errors import CameraConfigError
from footfall.edge.vision.events import CountingLine, FloorHeatmap, PolylineRecorder, ZoneDwell, ZoneEvents
from footfall.edge.vision.health import CameraHealth
from footfall.edge.vision.track import ByteTracker, Tracks

logger = logging.getLogger(__name__)

_MAX_DT = 1.0  # a frame never stands for more than a second of presence (stream gaps)


@dataclass(frozen=True)
class LineSpec:
    """A counting line: door id and its end points A, B in image pixels."""

    door_id: str
    a: tuple[float, float]
    b: tuple[float, float]


@dataclass(frozen=True)
class ZoneSpec:
    """A zone and its floor polygon in metres."""

    zone_id: str
    polygon: list[tuple[float, float]]


@dataclass(frozen=True)
class CameraSpec:
    """What one camera looks at, taken from the store config (or given directly for tools)."""

    device_id: str
    floor_id: str | None = None
    floor_size_m: tuple[float, float] | None = None
    homography: np.ndarray | None = None
    lines: list[LineSpec] = field(default_factory=list)
    zones: list[ZoneSpec] = field(default_factory=list)

    @classmethod
    def from_store(cls, store: StoreConfig, device_id: str) -> "CameraSpec":
        """The spec of camera `device_id` in a store config.

        Raises:
            CameraConfigError: no such camera, or zones without a calibration.
        """
        device = next((d for d in store.devices if d.id == device_id), None)
        if device is None or device.kind is not DeviceKind.CAMERA:
            cams = ", ".join(d.id for d in store.devices if d.kind is DeviceKind.CAMERA) or "none"
            raise CameraConfigError(f"store {store.store.id} has no camera {device_id!r} (cameras: {cams})")
        floor = next((f for f in store.floors if f.id == device.floor), None)
        h = np.asarray(device.homography()) if device.calibration else None
        if device.zones and h is None:
            raise CameraConfigError(
                f"camera {device_id} watches zones {', '.join(device.zones)} but has no calibration: "
                "add at least 4 `calibration` pairs (image pixel ↔ floor metre) to the store YAML"
            )
        zones = {z.id: z for z in store.zones}
        return cls(
            device_id=device.id,
            floor_id=device.floor,
            floor_size_m=(floor.width_m, floor.height_m) if floor else None,
            homography=h,
            lines=[LineSpec(ln.door, (ln.a[0], ln.a[1]), (ln.b[0], ln.b[1])) for ln in device.lines],
            zones=[ZoneSpec(z, [(p[0], p[1]) for p in zones[z].polygon]) for z in device.zones],
        )


@dataclass
class _ZoneStats:
    """One zone's aggregates within the open bucket."""

    entries: int = 0
    exits: int = 0
    dwell: list[float] = field(default_factory=list)
    peak: int = 0


@dataclass
class _Pending:
    """A closed bucket's aggregates, waiting until no late fault can invalidate it."""

    start_t: float
    end_t: float
    counts: dict[str, tuple[int, int]]
    zones: list[tuple[str, int, int, list[float], int, int]]
    cells: list | None
    polylines: list | None


@dataclass
class FrameResult:
    """What one frame produced (for tools and tests; the readings go to the sink)."""

    detections: Detections
    tracks: Tracks
    crossings: dict[str, tuple[list[int], list[int]]]
    faults: set[Fault]


class _ListSink:
    """Keeps readings in memory: for evaluation tools that need no outbox."""

    def __init__(self) -> None:
        self.items: list[tuple[Kind, str, list[Reading]]] = []

    def put(self, kind: Kind, device_id: str, readings: Iterable[Reading]) -> None:
        self.items.append((kind, device_id, list(readings)))


class CameraPipeline:
    """Detection, tracking, events, health and per-bucket aggregation for one camera.

    Args:
        spec: what the camera looks at.
        options: how to process it.
        sink: where bucket readings go (`put(kind, device_id, readings)`).
        state_dir: a folder on the device for the camera's reference view.
    """

    def __init__(
        self,
        spec: CameraSpec,
        options: PipelineOptions | None = None,
        sink: ReadingSink | None = None,
        *,
        state_dir: Path | None = None,
    ) -> None:
        self.spec = spec
        self.options = options = options or PipelineOptions()
        self.sink: ReadingSink = sink if sink is not None else _ListSink()
        self.detector = make_detector(options.detector)
        self.tracker = ByteTracker(options.tracker)
        anchor = options.anchor.point
        self.lines = [
            CountingLine(
                ln.a,
                ln.b,
                door_id=ln.door_id,
                dead_band_px=options.line.dead_band_px,
                dead_band_frac=options.line.dead_band_frac,
                anchor=anchor,
            )
            for ln in spec.lines
        ]
        self.zones = [
            ZoneDwell(
                z.zone_id, z.polygon, exit_grace_s=options.zone.exit_grace_s, min_dwell_s=options.zone.min_dwell_s
            )
            for z in spec.zones
        ]
        self.heatmap: FloorHeatmap | None = None
        if spec.homography is not None and spec.floor_size_m is not None:
            w, h = spec.floor_size_m
            self.heatmap = FloorHeatmap(cell_m=options.heatmap.cell_m, width_m=w, height_m=h)
        self.polylines = (
            PolylineRecorder(step_s=options.privacy.track_step_s)
            if options.privacy.tracks and spec.homography is not None
            else None
        )
        ref_path = state_dir / f"{spec.device_id}.reference.png" if state_dir is not None else None
        self.camera_health = CameraHealth(options.health, reference_path=ref_path)
        self._bucket: int | None = None
        self._t_prev: float | None = None
        self._last_at: datetime | None = None
        self._pending: list[_Pending] = []
        self._counts: dict[str, list[int]] = {ln.door_id: [0, 0] for ln in spec.lines}
        self._zone_stats = {z.zone_id: _ZoneStats() for z in spec.zones}
        self.frames = 0
        self.buckets_sent = 0

    # -- per frame -------------------------------------------------------------------

    def process(self, frame: np.ndarray, at: datetime) -> FrameResult:
        """Run one frame taken at `at` (timezone-aware) through every stage."""
        t = at.timestamp()
        bucket = math.floor(t / self.options.bucket_s)
        if self._bucket is None:
            self._bucket = bucket
        elif bucket != self._bucket:
            self._close_bucket(self._bucket, end=None)
            self._bucket = bucket
        dt = 0.0 if self._t_prev is None else min(max(t - self._t_prev, 0.0), _MAX_DT)
        if self._t_prev is None:
            dt = 1.0 / max(self.options.fps_hint, 25.0)
        self._t_prev = t
        self._last_at = at
        self.frames += 1

        faults = self.camera_health.check(frame, t)
        self._release(t)
        detections = self.detector.detect(frame)
        if self.tracker.frame_size is None:
            self.tracker.frame_size = (frame.shape[1], frame.shape[0])
        tracks = self.tracker.update(detections, t)
        crossings: dict[str, tuple[list[int], list[int]]] = {}
        for line in self.lines:
            entered, exited = line.trigger(tracks)
            if entered or exited:
                c = self._counts[line.door_id]
                c[0] += len(entered)
                c[1] += len(exited)
                crossings[line.door_id] = (entered, exited)
        if self.spec.homography is not None:
            ids = tracks.ids.tolist()
            floor_pts = (
                apply_homography(self.spec.homography, tracks.anchors(self.options.anchor.point))
                if ids
                else np.zeros((0, 2))
            )
            for zone in self.zones:
                ev = zone.trigger(ids, floor_pts, t, tracks.ended)
                self._account_zone(zone, ev)
            if self.heatmap is not None:
                self.heatmap.accumulate(ids, floor_pts, dt)
            if self.polylines is not None:
                self.polylines.accumulate(ids, floor_pts, t)
        return FrameResult(detections, tracks, crossings, set(faults))

    def _account_zone(self, zone: ZoneDwell, ev: ZoneEvents) -> None:
        st = self._zone_stats[zone.zone_id]
        st.entries += len(ev.entered)
        st.exits += len(ev.ended)
        st.dwell.extend(round(d, 3) for _, d in ev.ended)
        st.peak = max(st.peak, zone.occupancy)

    # -- per bucket ------------------------------------------------------------------

    def _close_bucket(self, bucket: int, end: float | None) -> None:
        """Freeze the bucket's aggregates; they are sent once no fault can still be declared for it."""
        bs = self.options.bucket_s
        start_t = bucket * bs
        end_t = (bucket + 1) * bs if end is None else min(end, (bucket + 1) * bs)
        end_t = max(end_t, start_t + 0.001)
        seconds = end_t - start_t
        zones = [
            (
                z.zone_id,
                self._zone_stats[z.zone_id].entries,
                self._zone_stats[z.zone_id].exits,
                list(self._zone_stats[z.zone_id].dwell),
                z.occupancy,
                max(self._zone_stats[z.zone_id].peak, z.occupancy),
            )
            for z in self.zones
        ]
        self._pending.append(
            _Pending(
                start_t=start_t,
                end_t=end_t,
                counts={door: (c[0], c[1]) for door, c in self._counts.items()},
                zones=zones,
                cells=self.heatmap.cells(k=self.options.privacy.k, seconds=seconds) if self.heatmap else None,
                polylines=self.polylines.tracks(start_t, seconds) if self.polylines is not None else None,
            )
        )
        for c in self._counts.values():
            c[0] = c[1] = 0
        for zone in self.zones:
            self._zone_stats[zone.zone_id] = _ZoneStats(peak=zone.occupancy)
        if self.heatmap is not None:
            self.heatmap.clear()
        if self.polylines is not None:
            self.polylines.clear()

    def _release(self, t: float | None) -> None:
        """Send the closed buckets no late fault can touch any more (all of them when `t` is None)."""
        hold = self.camera_health.hold_s
        while self._pending and (t is None or t >= self._pending[0].end_t + hold):
            p = self._pending.pop(0)
            valid = not self.camera_health.faulty_between(p.start_t, p.end_t)
            self._send(p, valid)
            self.camera_health.forget_before(p.start_t)

    def _send(self, p: "_Pending", valid: bool) -> None:
        start = datetime.fromtimestamp(p.start_t, UTC)
        stop = datetime.fromtimestamp(p.end_t, UTC)
        dev = self.spec.device_id
        if p.counts:
            self.sink.put(
                Kind.COUNTS,
                dev,
                [
                    CountsReading(start=start, end=stop, door_id=door, entries=i, exits=o, valid=valid)
                    for door, (i, o) in p.counts.items()
                ],
            )
        if p.zones:
            self.sink.put(
                Kind.ZONES,
                dev,
                [
                    ZonesReading(
                        start=start,
                        end=stop,
                        zone_id=zid,
                        entries=entries,
                        exits=exits,
                        dwell_s=dwell,
                        occupancy=occ,
                        valid=valid,
                    )
                    for zid, entries, exits, dwell, occ, _ in p.zones
                ],
            )
            self.sink.put(
                Kind.OCCUPANCY,
                dev,
                [
                    OccupancyReading(start=start, end=stop, zone_id=zid, occupancy=occ, peak=peak, valid=valid)
                    for zid, _, _, _, occ, peak in p.zones
                ],
            )
        if p.cells is not None and self.spec.floor_id is not None:
            reading = HeatmapReading(
                start=start,
                end=stop,
                floor_id=self.spec.floor_id,
                cell_m=self.options.heatmap.cell_m,
                min_tracks=self.options.privacy.k,
                cells=p.cells if valid else [],
                valid=valid,
            )
            self.sink.put(Kind.HEATMAP, dev, [reading])
        if p.polylines is not None and self.spec.floor_id is not None:
            tracks = p.polylines if valid else []
            self.sink.put(
                Kind.TRACKS, dev, [TracksReading(start=start, end=stop, floor_id=self.spec.floor_id, tracks=tracks)]
            )
        self.buckets_sent += 1
        logger.debug("bucket %s sent (valid=%s)", start.isoformat(), valid, extra={"device_id": dev})

    def flush(self) -> None:
        """End of stream: close every track and visit and send the open (partial) bucket."""
        if self._bucket is None or self._t_prev is None:
            return
        t = self._t_prev
        ended = self.tracker.flush()
        for line in self.lines:
            line.trigger(Tracks.empty(ended))
        for zone in self.zones:
            self._account_zone(zone, zone.close(t))
        self._close_bucket(self._bucket, end=t + 1.0 / max(self.options.fps_hint, 25.0))
        self._release(None)
        self._bucket = None

    # -- running and health ----------------------------------------------------------

    def run(
        self,
        frames: Iterable[tuple[np.ndarray, datetime]],
        *,
        on_frame: Callable[[int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        """Process every frame of a source (e.g. a `VideoSource`), then flush."""
        try:
            for frame, at in frames:
                self.process(frame, at)
                if on_frame is not None:
                    on_frame(self.frames)
                if should_stop is not None and should_stop():
                    break
        finally:
            self.flush()

    def health(self, now: float | None = None) -> SensorHealth:
        """The camera's health for the agent's heartbeat (faults: blocked, moved, frozen, silent)."""
        now = time.monotonic() if now is None else now
        return SensorHealth(
            sensor_id=self.spec.device_id,
            last_seen=self._last_at,
            errors=self.camera_health.errors,
            faults=self.camera_health.faults(now=now),
        )
