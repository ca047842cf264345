"""A local debug snapshot with every detected person blurred beyond recognition.

For an installer checking a camera's lines and zones on the device itself: the picture
is written to a local file, never published. Every detection box (grown by a margin) is
pixelated and blurred, so faces and clothing cannot be made out; counting lines are
drawn with their `in` side marked.
"""

import cv2
import numpy as np

from footfall.edge.vision.detect import Detections
from footfall.edge.vision.pipeline import LineSpec


def blur_people(frame: np.ndarray, detections: Detections, *, margin: float = 0.15) -> np.ndarray:
    """A copy of `frame` with each detection box (plus `margin` of its size) pixelated and blurred."""
    out = frame.copy()
    h, w = out.shape[:2]
    for x1, y1, x2, y2 in detections.xyxy:
        mx, my = (x2 - x1) * margin, (y2 - y1) * margin
        a, b = max(0, int(x1 - mx)), max(0, int(y1 - my))
        c, d = min(w, int(np.ceil(x2 + mx))), min(h, int(np.ceil(y2 + my)))
        if c <= a or d <= b:
            continue
        roi = out[b:d, a:c]
        small = cv2.resize(roi, (max(1, (c - a) // 12), max(1, (d - b) // 12)), interpolation=cv2.INTER_AREA)
        coarse = cv2.resize(small, (c - a, d - b), interpolation=cv2.INTER_NEAREST)
        out[b:d, a:c] = cv2.GaussianBlur(coarse, (0, 0), sigmaX=max(3.0, (c - a) / 8))
    return out


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
