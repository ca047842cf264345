"""Camera health: a blocked or covered lens, a camera moved off its calibrated view, a frozen stream.

The checks run on a small grey copy of the frame (160 px wide) every `check_every_s`:

- **blocked**: the view is blank — its grey levels barely spread (`blocked_std`) or it
  shows almost no edges (`blocked_edges`): a hand, tape, a bag over the lens, a dead
  sensor — for `blocked_after_s`.
- **moved**: compared with the *reference view* (the calibrated one: stored on the
  device, or averaged from the first frames), the view is shifted by more than
  `moved_shift_px` (phase correlation) or its edges no longer match the reference's
  (`moved_similarity`) for `moved_after_s`. People walking through change few of the
  scene's edges; a camera knocked aside changes most of them.
- **frozen**: the frames are bit-identical for `frozen_after_s` (a stream that repeats
  its last picture; real sensors always have some noise).
- **silent**: no frame at all for `frozen_after_s`, judged on the wall clock when the
  agent asks (`faults(now=...)`).

A fault is held while its condition lasts; the pipeline marks every bucket that saw a
fault invalid. The reference view never leaves the device.
"""

import logging
import time
from pathlib import Path

import cv2
import numpy as np

from footfall.core.messages import Fault
from footfall.edge.vision.config import HealthOptions

logger = logging.getLogger(__name__)

SMALL_WIDTH = 160


def small_grey(frame: np.ndarray) -> np.ndarray:
    """A 160-px-wide grey copy of a BGR (or grey) frame, as float32."""
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    size = (SMALL_WIDTH, max(1, round(h * SMALL_WIDTH / w)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA).astype(np.float32)


def _edges(grey: np.ndarray) -> np.ndarray:
    g = cv2.GaussianBlur(grey.astype(np.uint8), (3, 3), 0)
    return cv2.Canny(g, 40, 120) > 0


def edge_similarity(reference: np.ndarray, current: np.ndarray) -> float:
    """How well the edges of two small grey views line up (0 none … 1 all), tolerant to 1–2 px."""
    er, ec = _edges(reference), _edges(current)
    if er.sum() == 0 or ec.sum() == 0:
        return 0.0
    kernel = np.ones((5, 5), np.uint8)
    dr = cv2.dilate(er.astype(np.uint8), kernel) > 0
    dc = cv2.dilate(ec.astype(np.uint8), kernel) > 0
    return float(((ec & dr).sum() / ec.sum() + (er & dc).sum() / er.sum()) / 2)


class CameraHealth:
    """Watches one camera's frames and says which faults are active.

    Args:
        options: thresholds and timings.
        reference: the calibrated view as a small grey image (see `small_grey`); when
            None it is averaged from the first `reference_frames` checks.
        reference_path: where the reference view is kept on the device (PNG); read when
            it exists, written once learned. Delete it after re-calibrating the camera.
    """

    def __init__(
        self,
        options: HealthOptions | None = None,
        *,
        reference: np.ndarray | None = None,
        reference_path: Path | None = None,
    ) -> None:
        self.options = options or HealthOptions()
        self.reference_path = reference_path
        if reference is None and reference_path is not None and reference_path.exists():
            loaded = cv2.imread(str(reference_path), cv2.IMREAD_GRAYSCALE)
            if loaded is not None:
                reference = loaded.astype(np.float32)
                logger.info("loaded reference view %s", reference_path)
        self.reference = None if reference is None else np.asarray(reference, dtype=np.float32)
        self._learning: list[np.ndarray] = []
        self._last_check: float | None = None
        self._prev: np.ndarray | None = None
        self._same_since: float | None = None
        self._blank_since: float | None = None
        self._changed_since: float | None = None
        self.active: set[Fault] = set()
        self.episodes: list[list] = []  # [fault, onset t, cleared t or None]
        self.last_frame_wall: float | None = None
        self._started_wall = time.monotonic()
        self.errors = 0
        self.shift_px = 0.0
        self.similarity = 1.0

    def check(self, frame: np.ndarray, t: float) -> set[Fault]:
        """Look at a frame taken at `t` seconds; returns the active faults (checks run every `check_every_s`)."""
        self.last_frame_wall = time.monotonic()
        o = self.options
        if self._last_check is not None and t - self._last_check < o.check_every_s:
            return self.active
        self._last_check = t
        self._check_frozen(frame, t)
        grey = small_grey(frame)
        scale = frame.shape[1] / grey.shape[1]
        blank = float(grey.std()) < o.blocked_std or float(_edges(grey).mean()) < o.blocked_edges
        self._blank_since = (self._blank_since if self._blank_since is not None else t) if blank else None
        self._set(
            Fault.BLOCKED,
            self._blank_since is not None and t - self._blank_since >= o.blocked_after_s,
            self._blank_since,
            t,
        )
        if blank:
            return self.active
        if self.reference is None:
            self._learn(grey)
            return self.active
        if self.reference.shape != grey.shape:
            self._changed_since = self._changed_since if self._changed_since is not None else t
        else:
            # phaseCorrelate multiplies float32 inputs by the window in place: hand it copies
            window = cv2.createHanningWindow(grey.shape[::-1], cv2.CV_32F)
            (dx, dy), _ = cv2.phaseCorrelate(self.reference.copy(), grey.copy(), window)
            self.shift_px = float(np.hypot(dx, dy) * scale)
            self.similarity = edge_similarity(self.reference, grey)
            changed = self.shift_px > o.moved_shift_px or self.similarity < o.moved_similarity
            self._changed_since = (self._changed_since if self._changed_since is not None else t) if changed else None
        self._set(
            Fault.MOVED,
            self._changed_since is not None and t - self._changed_since >= o.moved_after_s,
            self._changed_since,
            t,
        )
        return self.active

    def _check_frozen(self, frame: np.ndarray, t: float) -> None:
        same = (
            self._prev is not None
            and self._prev.shape == frame.shape
            and cv2.norm(self._prev, frame, cv2.NORM_INF) == 0
        )
        self._same_since = (self._same_since if self._same_since is not None else t) if same else None
        self._prev = frame.copy()
        frozen = self._same_since is not None and t - self._same_since >= self.options.frozen_after_s
        self._set(Fault.FROZEN, frozen, self._same_since, t)

    def _learn(self, grey: np.ndarray) -> None:
        self._learning.append(grey)
        if len(self._learning) < self.options.reference_frames:
            return
        # the median drops people walking through while the reference is learned
        self.reference = np.median(np.stack(self._learning), axis=0).astype(np.float32)
        self._learning.clear()
        if self.reference_path is not None:
            self.reference_path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(self.reference_path), np.clip(self.reference, 0, 255).astype(np.uint8))
            logger.info("stored reference view %s", self.reference_path)

    @property
    def started_wall(self) -> float:
        """When this monitor started (`time.monotonic()`): a camera that never sends a frame is SILENT from here."""
        return self._started_wall

    @property
    def hold_s(self) -> float:
        """How long after a moment a fault that began then may still be declared."""
        o = self.options
        return max(o.blocked_after_s, o.moved_after_s, o.frozen_after_s) + 2 * o.check_every_s

    def _set(self, fault: Fault, on: bool, since: float | None, t: float) -> None:
        if on and fault not in self.active:
            logger.warning("camera fault: %s", fault.value)
            self.active.add(fault)
            # the fault began when its condition did, not when it had lasted long enough to be sure
            self.episodes.append([fault, since if since is not None else t, None])
        elif not on and fault in self.active:
            logger.info("camera fault cleared: %s", fault.value)
            self.active.discard(fault)
            for ep in self.episodes:
                if ep[0] is fault and ep[2] is None:
                    ep[2] = t

    def faulty_between(self, start: float, end: float) -> bool:
        """True when any fault was active at some time in [start, end)."""
        return any(onset < end and (stop is None or stop > start) for _, onset, stop in self.episodes)

    def forget_before(self, t: float) -> None:
        """Drop fault episodes that ended before `t`."""
        self.episodes = [ep for ep in self.episodes if ep[2] is None or ep[2] >= t]

    def faults(self, now: float | None = None) -> list[Fault]:
        """Active faults, sorted; with `now` (time.monotonic()), also SILENT when frames stopped coming."""
        out = set(self.active)
        if now is not None:
            last = self.last_frame_wall if self.last_frame_wall is not None else self._started_wall
            if now - last > self.options.frozen_after_s:
                out.add(Fault.SILENT)
        return sorted(out, key=lambda f: f.value)
