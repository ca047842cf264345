"""People detectors: one frame in, `Detections` out.

Two classical detectors, both from OpenCV 4.x (the 5.0 wheels dropped `HOGDescriptor`):

- `BackgroundSubtractionDetector`: MOG2 foreground mask → morphology → connected
  components. Fits a ceiling camera looking down at a door, where people do not overlap
  much and the background is static. Fast.
- `HogPeopleDetector`: Dalal–Triggs HOG + linear SVM people detector that ships inside
  OpenCV. Fits angled views where people stand upright; about 10× slower.

Example:
    >>> import numpy as np
    >>> d = Detections(np.array([[10, 20, 30, 80]], float), np.array([0.9]))
    >>> d.anchors("foot").tolist()
    [[20.0, 80.0]]
"""

from dataclasses import dataclass, field
from typing import Literal, Protocol

import cv2
import numpy as np

from footfall.edge.vision.config import DetectorOptions

AnchorPoint = Literal["foot", "centre"]
"""Which point of a box stands for the person: `foot` (bottom-centre) or `centre`."""


def box_anchors(xyxy: np.ndarray, point: AnchorPoint = "foot") -> np.ndarray:
    """The point standing for each box's person, the one place this is computed.

    Args:
        xyxy: (n, 4) boxes as x1, y1, x2, y2.
        point: `foot`, the bottom-centre (where the person stands: angled views, the MOT
            convention), or `centre`, the box centre (a camera looking straight down).

    Returns:
        (n, 2) array of x, y.

    Example:
        >>> box_anchors(np.array([[10.0, 20.0, 30.0, 80.0]]), "centre").tolist()
        [[20.0, 50.0]]
    """
    b = np.asarray(xyxy, dtype=float).reshape(-1, 4)
    x = (b[:, 0] + b[:, 2]) / 2
    y = b[:, 3] if point == "foot" else (b[:, 1] + b[:, 3]) / 2
    return np.c_[x, y]


@dataclass(frozen=True)
class Detections:
    """Boxes found in one frame, in full-frame pixels.

    Attributes:
        xyxy: (n, 4) float array of x1, y1, x2, y2.
        confidence: (n,) float array in [0, 1].
    """

    xyxy: np.ndarray
    confidence: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=float).reshape(-1, 4)
        conf = np.asarray(self.confidence, dtype=float).reshape(-1)
        if len(conf) == 0 and len(xyxy):
            conf = np.ones(len(xyxy))
        if len(conf) != len(xyxy):
            raise ValueError(f"{len(xyxy)} boxes but {len(conf)} confidences")
        if len(xyxy) and np.any(xyxy[:, 2:] < xyxy[:, :2]):
            raise ValueError("every box needs x2 >= x1 and y2 >= y1")
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "confidence", conf)

    def __len__(self) -> int:
        return len(self.xyxy)

    @classmethod
    def empty(cls) -> "Detections":
        """No detections."""
        return cls(np.zeros((0, 4)), np.zeros(0))

    @classmethod
    def from_xywh(cls, xywh: np.ndarray, confidence: np.ndarray | None = None) -> "Detections":
        """From top-left corner and size (the MOT and OpenCV convention)."""
        b = np.asarray(xywh, dtype=float).reshape(-1, 4)
        xyxy = np.c_[b[:, :2], b[:, :2] + b[:, 2:]]
        return cls(xyxy, np.ones(len(b)) if confidence is None else confidence)

    def anchors(self, point: AnchorPoint = "foot") -> np.ndarray:
        """(n, 2) points standing for each person (see `box_anchors`)."""
        return box_anchors(self.xyxy, point)


class Detector(Protocol):
    """Finds people in a BGR frame."""

    def detect(self, frame: np.ndarray) -> Detections:
        """Boxes of the people in `frame`."""
        ...


def _odd_kernel(px: int) -> np.ndarray | None:
    if px <= 1:
        return None
    px |= 1  # an even kernel has no centre and shifts every blob by half a pixel per pass
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (px, px))


class BackgroundSubtractionDetector:
    """Foreground blobs of a background model; each big enough blob is one person.

    Two models: `selective` (default) keeps a running average of the empty scene and
    updates it only where no foreground is, so a shopper standing at a shelf stays
    foreground (dwell needs that); `mog2` is OpenCV's Gaussian mixture, whose shadow
    marks (127) are dropped. Confidence is the blob's fill of its box,
    so ragged, noise-made blobs rank below solid ones. `background()` exposes the model's
    current background image for the camera-health checks.
    """

    def __init__(self, options: DetectorOptions | None = None) -> None:
        self.options = options or DetectorOptions()
        o = self.options
        self._mog = None
        if o.background == "mog2":
            self._mog = cv2.createBackgroundSubtractorMOG2(history=o.history, varThreshold=o.var_threshold)
            self._mog.setDetectShadows(True)
        self._bg: np.ndarray | None = None  # selective model, float32 BGR
        s = o.scale
        self._open = _odd_kernel(round(o.open_px * s))
        self._close = _odd_kernel(round(o.close_px * s))
        self._grow = _odd_kernel(round(o.close_px * s))
        self._min_area = o.min_area_px * s * s
        self.mask: np.ndarray | None = None

    def prime(self, background: np.ndarray) -> None:
        """Start the model from a known empty-scene image instead of learning it from the first frames."""
        small = self._shrink(background)
        if self._mog is not None:
            self._mog.apply(small, learningRate=1.0)
        else:
            self._bg = small.astype(np.float32)

    def _selective(self, small: np.ndarray) -> np.ndarray:
        o = self.options
        if self._bg is None:
            self._bg = small.astype(np.float32)
        diff = cv2.cvtColor(cv2.absdiff(small, cv2.convertScaleAbs(self._bg)), cv2.COLOR_BGR2GRAY)
        _, mask = cv2.threshold(diff, o.fg_threshold, 255, cv2.THRESH_BINARY)
        if cv2.countNonZero(mask) > o.max_area_frac * mask.size:
            # the light changed, or the view: catch up fast instead of seeing one huge blob for minutes
            cv2.accumulateWeighted(small, self._bg, 0.3)
            return mask
        grown = cv2.dilate(mask, self._grow) if self._grow is not None else mask
        cv2.accumulateWeighted(small, self._bg, o.bg_alpha, mask=cv2.bitwise_not(grown))
        if o.fg_alpha > 0:
            cv2.accumulateWeighted(small, self._bg, o.fg_alpha, mask=grown)
        return mask

    def _shrink(self, frame: np.ndarray) -> np.ndarray:
        s = self.options.scale
        if s == 1.0:
            return frame
        return cv2.resize(frame, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)

    def detect(self, frame: np.ndarray) -> Detections:
        """Blobs of the foreground mask as boxes in full-frame pixels."""
        o = self.options
        small = self._shrink(frame)
        if self._mog is not None:
            fg = self._mog.apply(small, learningRate=o.learning_rate)
            _, mask = cv2.threshold(fg, 200, 255, cv2.THRESH_BINARY)
        else:
            mask = self._selective(small)
        if self._open is not None:
            mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._open)
        if self._close is not None:
            mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._close)
        self.mask = mask
        # outer contours, not connectedComponentsWithStats: same blobs, ~40× faster on a sparse mask
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if not contours:
            return Detections.empty()
        max_area = o.max_area_frac * mask.shape[0] * mask.shape[1]
        rects, fills = [], []
        for c in contours:
            x, y, w, h = cv2.boundingRect(c)
            if w * h < self._min_area:
                continue
            area = cv2.contourArea(c) + cv2.arcLength(c, True) / 2  # ≈ the blob's pixel count
            if not self._min_area <= area <= max_area:
                continue
            rects.append((x, y, w, h))
            fills.append(area / (w * h))
        if not rects:
            return Detections.empty()
        xywh = np.asarray(rects, dtype=float) / o.scale
        return Detections.from_xywh(xywh, np.clip(np.asarray(fills) * 1.25, 0.0, 1.0))

    def background(self) -> np.ndarray | None:
        """The model's background image (at processing scale), once it has one."""
        if self._mog is not None:
            return self._mog.getBackgroundImage()
        return None if self._bg is None else cv2.convertScaleAbs(self._bg)


def nms(xyxy: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression (best score first)."""
    order = np.argsort(-np.asarray(scores, dtype=float))
    boxes = np.asarray(xyxy, dtype=float)
    area = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    keep: list[int] = []
    while len(order):
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        tl = np.maximum(boxes[i, :2], boxes[rest, :2])
        br = np.minimum(boxes[i, 2:], boxes[rest, 2:])
        inter = np.prod(np.clip(br - tl, 0, None), axis=1)
        overlap = inter / np.maximum(area[i] + area[rest] - inter, 1e-9)
        # a box mostly inside a better one is the same person at another scale
        inside = inter / np.maximum(area[rest], 1e-9)
        order = rest[(overlap <= iou) & (inside <= 0.8)]
    return np.asarray(keep, dtype=int)


class HogPeopleDetector:
    """OpenCV's HOG + linear SVM people detector (64×128 window, upright people).

    Confidence is the SVM score squashed to [0, 1] with a logistic, so the tracker's
    high/low split works the same as for blob detections.
    """

    def __init__(self, options: DetectorOptions | None = None) -> None:
        self.options = options or DetectorOptions(kind="hog")
        if not hasattr(cv2, "HOGDescriptor"):  # OpenCV 5 wheels
            from footfall.edge.vision.errors import CameraConfigError

            raise CameraConfigError(
                f"OpenCV {cv2.__version__} has no HOGDescriptor; install opencv-python-headless<5 or use detector bgsub"
            )
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), dtype=np.float32))

    def detect(self, frame: np.ndarray) -> Detections:
        """Upright people as boxes in full-frame pixels."""
        o = self.options
        small = frame if o.scale == 1.0 else cv2.resize(frame, None, fx=o.scale, fy=o.scale)
        rects, weights = self._hog.detectMultiScale(
            small, winStride=(o.hog_stride, o.hog_stride), padding=(8, 8), scale=o.hog_scale
        )
        if len(rects) == 0:
            return Detections.empty()
        w = np.asarray(weights, dtype=float).reshape(-1)
        ok = w >= o.hog_threshold
        boxes = np.asarray(rects, dtype=float)[ok] / o.scale
        w = w[ok]
        if len(boxes) == 0:
            return Detections.empty()
        # The default people window has a margin around the body: trim it so the foot
        # point is on the floor, not 10% below the feet.
        x, y, bw, bh = boxes.T
        trimmed = np.c_[x + 0.15 * bw, y + 0.05 * bh, 0.7 * bw, 0.88 * bh]
        det = Detections.from_xywh(trimmed, 1.0 / (1.0 + np.exp(-2.0 * w)))
        keep = nms(det.xyxy, det.confidence, o.nms_iou)
        return Detections(det.xyxy[keep], det.confidence[keep])


def make_detector(options: DetectorOptions) -> BackgroundSubtractionDetector | HogPeopleDetector:
    """The detector the options name."""
    if options.kind == "hog":
        return HogPeopleDetector(options)
    return BackgroundSubtractionDetector(options)
