"""A local debug snapshot with every person blurred beyond recognition.

For an installer checking a camera's lines and zones on the device itself: the picture
is written to a local file, never published. A detector misses people (a walker half
out of the picture, a crowd, a pose it was not trained on), so blurring only detection
boxes leaks exactly the faces it did not see. `SnapshotCamera` therefore keeps its own
motion model while frames are read and pixelates every region of motion (the
foreground mask, recent frames together, grown by a margin) as well as every detection;
until the motion model has seen enough frames, the whole picture is pixelated. Counting
lines are drawn with their `in` side marked.
"""

from collections import deque

import cv2
import numpy as np

from footfall.edge.vision.detect import Detections
from footfall.edge.vision.pipeline import LineSpec

Box = tuple[int, int, int, int]
"""x1, y1, x2, y2 in whole pixels, clipped to the frame (x2, y2 exclusive)."""


def grown_boxes(xyxy: np.ndarray, shape: tuple[int, ...], *, margin: float) -> list[Box]:
    """Boxes grown by `margin` of their size on each side and clipped to a frame of `shape`."""
    h, w = shape[:2]
    out: list[Box] = []
    for x1, y1, x2, y2 in np.asarray(xyxy, float).reshape(-1, 4):
        mx, my = (x2 - x1) * margin, (y2 - y1) * margin
        a, b = max(0, int(x1 - mx)), max(0, int(y1 - my))
        c, d = min(w, int(np.ceil(x2 + mx))), min(h, int(np.ceil(y2 + my)))
        if c > a and d > b:
            out.append((a, b, c, d))
    return out


def pixelate(frame: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """A copy of `frame` with each box pixelated and blurred (faces and clothing cannot be made out)."""
    out = frame.copy()
    for a, b, c, d in boxes:
        roi = out[b:d, a:c]
        small = cv2.resize(roi, (max(1, (c - a) // 12), max(1, (d - b) // 12)), interpolation=cv2.INTER_AREA)
        # Blurred at the coarse size (1/12 of the sigma), then smoothly enlarged: the same
        # loss of detail as blurring the enlarged picture, at 1/144 of the pixels.
        small = cv2.GaussianBlur(small, (0, 0), sigmaX=max(0.25, (c - a) / 96))
        out[b:d, a:c] = cv2.resize(small, (c - a, d - b), interpolation=cv2.INTER_LINEAR)
    return out


def blur_people(frame: np.ndarray, detections: Detections, *, margin: float = 0.15) -> np.ndarray:
    """A copy of `frame` with each detection box (plus `margin` of its size) pixelated and blurred."""
    return pixelate(frame, grown_boxes(detections.xyxy, frame.shape, margin=margin))


def box_mask(shape: tuple[int, ...], boxes: list[Box]) -> np.ndarray:
    """A boolean (h, w) mask of what `boxes` cover."""
    mask = np.zeros(shape[:2], bool)
    for a, b, c, d in boxes:
        mask[b:d, a:c] = True
    return mask


class SnapshotCamera:
    """Reads frames, learns what moves, and makes a snapshot with every person pixelated.

    Example:
        >>> # cam = SnapshotCamera()
        >>> # for frame in frames: cam.feed(frame, detector.detect(frame))
        >>> # picture, boxes = cam.picture()

    Args:
        warmup_frames: until this many frames were fed, the whole picture is pixelated
            (the motion model does not know the empty scene yet).
        recent_frames: motion in any of this many latest frames counts (a walker who
            pauses for a moment stays covered).
        grow_px: the motion mask is grown by this many pixels before it is boxed (a head
            above a moving body, an arm).
        margin: each box is grown by this share of its size on every side.
        min_area_px: motion blobs smaller than this (compression noise) are left sharp.
    """

    def __init__(
        self,
        *,
        warmup_frames: int = 10,
        recent_frames: int = 12,
        grow_px: int = 15,
        margin: float = 0.15,
        min_area_px: int = 80,
    ) -> None:
        self.warmup_frames = warmup_frames
        self.margin = margin
        self.min_area_px = min_area_px
        self._mog = cv2.createBackgroundSubtractorMOG2(history=200, varThreshold=16, detectShadows=True)
        self._recent: deque[np.ndarray] = deque(maxlen=recent_frames)
        self._grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow_px + 1, 2 * grow_px + 1))
        self._speck = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self._frames = 0
        self._last: tuple[np.ndarray, Detections] | None = None

    def feed(self, frame: np.ndarray, detections: Detections) -> None:
        """Learn from one frame; it and its detections become the snapshot's picture."""
        fg = self._mog.apply(frame)
        moving = cv2.morphologyEx((fg > 0).astype(np.uint8) * 255, cv2.MORPH_OPEN, self._speck)  # shadows count
        self._recent.append(moving)
        self._frames += 1
        self._last = (frame, detections)

    @property
    def frames(self) -> int:
        """Frames fed so far."""
        return self._frames

    def motion_boxes(self) -> list[Box]:
        """Boxes around every region that moved in the recent frames (grown)."""
        if self._last is None:
            return []
        frame = self._last[0]
        if self._frames < self.warmup_frames:
            return [(0, 0, frame.shape[1], frame.shape[0])]
        moved = np.bitwise_or.reduce(np.stack(self._recent), axis=0)
        moved = cv2.dilate(moved, self._grow)
        contours, _ = cv2.findContours(moved, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        rects = [cv2.boundingRect(c) for c in contours]
        xyxy = np.array([[x, y, x + w, y + h] for x, y, w, h in rects if w * h >= self.min_area_px], float)
        return grown_boxes(xyxy, frame.shape, margin=self.margin)

    def picture(self) -> tuple[np.ndarray, list[Box]]:
        """The last frame with every detection and every region of motion pixelated, and those boxes.

        Raises:
            ValueError: no frame was fed.
        """
        if self._last is None:
            raise ValueError("no frame was fed")
        frame, detections = self._last
        boxes = grown_boxes(detections.xyxy, frame.shape, margin=self.margin) + self.motion_boxes()
        return pixelate(frame, boxes), boxes


def annotate(frame: np.ndarray, lines: list[LineSpec]) -> np.ndarray:
    """Draw the counting lines, with an arrow toward each line's `in` side."""
    out = frame.copy()
    for ln in lines:
        a = np.asarray(ln.a, float)
        b = np.asarray(ln.b, float)
        cv2.line(out, tuple(a.astype(int)), tuple(b.astype(int)), (0, 220, 255), 2)
        mid = (a + b) / 2
        d = b - a
        # (−dy, dx) has cross product |d|² > 0 with A→B: it points to the `in` side
        towards_in = np.array([-d[1], d[0]]) / max(np.hypot(*d), 1e-9)
        tip = mid + towards_in * 30
        cv2.arrowedLine(out, tuple(mid.astype(int)), tuple(tip.astype(int)), (0, 220, 255), 2, tipLength=0.3)
        cv2.putText(out, f"{ln.door_id} in", tuple((tip + 4).astype(int)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 220, 255))
    return out
