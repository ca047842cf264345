"""Multi-object tracking: ByteTrack-style association on Kalman-predicted boxes.

Why our own and not a library: Roboflow's `trackers` (ByteTrack, SORT) needs
`supervision` and depends on the non-headless `opencv-python`, which would install a
second `cv2` over the pinned `opencv-python-headless<5`; norfair pins `numpy<2`. This
tracker is ~200 lines on numpy and scipy (already here through scikit-learn), follows
ByteTrack's two-stage association (confident detections first, weak ones only for
tracks already alive) and fixes the failure modes the issue names:

- ids are handed out only when a track is *confirmed* (`min_hits` matches, none more
  than `tentative_lost_s` apart), so tentative tracks never share, burn or recycle an id;
- a confirmed track that loses its detections coasts on its Kalman prediction for
  `lost_s` seconds and picks up the person again after a short occlusion;
- a new track reports the box it was born with, so a person first seen just before a
  line is counted when the track confirms after the line;
- when people walk close together a background-subtraction detector sees one blob for
  them all: a detection that holds the predicted boxes of two or more tracks is taken
  as a group, and its members follow their own Kalman predictions until they split up,
  rather than one of them jumping onto the group's box (whose foot point is the
  front-most person's) and another being lost.

Example:
    >>> import numpy as np
    >>> from footfall.edge.vision.detect import AnchorPoint, Detections, box_anchors
    >>> t = ByteTracker()
    >>> for i in range(3):
    ...     out = t.update(Detections(np.array([[10.0 + i, 10, 40 + i, 90]])), i / 10)
    >>> out.ids.tolist()
    [1]
"""

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from footfall.edge.vision.config import TrackerOptions
from footfall.edge.vision.detect import AnchorPoint, Detections, box_anchors

_INF = 1e6


@dataclass(frozen=True)
class Tracks:
    """Confirmed tracks seen in one frame.

    Attributes:
        ids: (n,) track ids, unique for the pipeline's lifetime.
        xyxy: (n, 4) boxes in full-frame pixels (Kalman-filtered).
        new: (n,) True for tracks confirmed in this frame.
        origin: (n, 4) the first box of each track (where it was born).
        ended: ids of tracks that ended in this frame (lost for longer than `lost_s`).
    """

    ids: np.ndarray
    xyxy: np.ndarray
    new: np.ndarray
    origin: np.ndarray
    ended: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def empty(cls, ended: list[int] | None = None) -> "Tracks":
        """No tracks in this frame."""
        return cls(np.zeros(0, int), np.zeros((0, 4)), np.zeros(0, bool), np.zeros((0, 4)), ended or [])

    @classmethod
    def from_arrays(cls, ids: np.ndarray, xyxy: np.ndarray, ended: list[int] | None = None) -> "Tracks":
        """Tracks given directly (ground truth, tests): none new, each born where it is."""
        xyxy = np.asarray(xyxy, dtype=float).reshape(-1, 4)
        return cls(np.asarray(ids, dtype=int).reshape(-1), xyxy, np.zeros(len(xyxy), bool), xyxy.copy(), ended or [])

    def anchors(self, point: AnchorPoint = "foot") -> np.ndarray:
        """(n, 2) anchors of each track's current box (see `box_anchors`)."""
        return box_anchors(self.xyxy, point)

    def origin_anchors(self, point: AnchorPoint = "foot") -> np.ndarray:
        """(n, 2) anchors of each track's first box."""
        return box_anchors(self.origin, point)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) intersection over union of two box arrays."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def _xyxy_to_z(b: np.ndarray) -> np.ndarray:
    return np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]])


def _x_to_xyxy(x: np.ndarray) -> np.ndarray:
    w, h = max(x[2], 1.0), max(x[3], 1.0)
    return np.array([x[0] - w / 2, x[1] - h / 2, x[0] + w / 2, x[1] + h / 2])


def _fit_inside(box: np.ndarray, outer: np.ndarray) -> np.ndarray:
    """`box` shifted (not resized) by the least amount that puts it inside `outer` where it fits."""
    out = box.copy()
    for lo, hi in ((0, 2), (1, 3)):
        if out[hi] - out[lo] >= outer[hi] - outer[lo]:
            continue
        if out[lo] < outer[lo]:
            out[[lo, hi]] += outer[lo] - out[lo]
        elif out[hi] > outer[hi]:
            out[[lo, hi]] -= out[hi] - outer[hi]
    return out


_F = np.eye(8)
_F[:4, 4:] = np.eye(4)
_H = np.eye(4, 8)


class _Track:
    """Constant-velocity Kalman filter on (cx, cy, w, h), noise scaled by box height as in ByteTrack."""

    __slots__ = ("first_box", "grouped", "hits", "id", "last_seen", "p", "x")

    def __init__(self, box: np.ndarray, t: float) -> None:
        z = _xyxy_to_z(box)
        self.x = np.r_[z, np.zeros(4)]
        h = max(z[3], 1.0)
        std = np.array([h / 10, h / 10, h / 10, h / 10, h / 16, h / 16, h / 16, h / 16])
        self.p = np.diag(std**2)
        self.first_box = box.copy()
        self.hits = 1
        self.id = 0
        self.last_seen = t
        self.grouped = False

    def predict(self) -> None:
        h = max(self.x[3], 1.0)
        q = np.diag(np.r_[np.full(4, (h / 20) ** 2), np.full(4, (h / 160) ** 2)])
        self.x = _F @ self.x
        self.p = _F @ self.p @ _F.T + q

    def correct(self, box: np.ndarray, t: float, *, weak: bool = False) -> None:
        z = _xyxy_to_z(box)
        h = max(self.x[3], 1.0)
        # a box guessed inside a group blob is a weak measurement: it steers, it does not dictate
        r = np.diag(np.full(4, (h / (5 if weak else 20)) ** 2))
        s = _H @ self.p @ _H.T + r
        k = self.p @ _H.T @ np.linalg.inv(s)
        self.x = self.x + k @ (z - _H @ self.x)
        self.p = (np.eye(8) - k @ _H) @ self.p
        self.hits += 1
        self.last_seen = t

    @property
    def box(self) -> np.ndarray:
        return _x_to_xyxy(self.x)


class ByteTracker:
    """Tracks detections over frames; `update` once per frame with the frame's time in seconds."""

    def __init__(self, options: TrackerOptions | None = None, *, frame_size: tuple[int, int] | None = None) -> None:
        self.options = options or TrackerOptions()
        self.frame_size = frame_size
        self._confirmed: list[_Track] = []
        self._tentative: list[_Track] = []
        self._next_id = 1

    @property
    def active(self) -> int:
        """Confirmed tracks alive (seen or coasting)."""
        return len(self._confirmed)

    def reset(self) -> None:
        """Forget every track (after a camera fault: nothing before it can be trusted to continue)."""
        self._confirmed.clear()
        self._tentative.clear()

    def _groups(self, boxes: np.ndarray, high: np.ndarray, t: float) -> tuple[list[_Track], np.ndarray]:
        """Tracks inside merged blobs (kept on their predictions), and the detections left to match."""
        c = self.options.group_containment
        if c <= 0 or len(self._confirmed) < 2 or len(high) == 0:
            return [], high
        pred = np.array([tr.box for tr in self._confirmed])
        det = boxes[high]
        tl = np.maximum(pred[:, None, :2], det[None, :, :2])
        br = np.minimum(pred[:, None, 2:], det[None, :, 2:])
        inter = np.prod(np.clip(br - tl, 0, None), axis=2)
        area = np.maximum(np.prod(pred[:, 2:] - pred[:, :2], axis=1), 1e-9)
        share = inter / area[:, None]  # (tracks, detections)
        # once in a group a track stays in it while the blob still holds a fair part of it
        need = np.array([c / 2 if tr.grouped else c for tr in self._confirmed])
        held = share >= need[:, None]
        grouped: list[_Track] = []
        used = np.zeros(len(high), bool)
        for j in range(len(high)):
            members = np.flatnonzero(held[:, j])
            if len(members) < 2:
                continue
            det_area = float(np.prod(det[j, 2:] - det[j, :2]))
            if det_area < 1.3 * float(area[members].max()):
                continue  # as small as one person: not a group, let association decide
            used[j] = True
            for i in members.tolist():
                tr = self._confirmed[i]
                if tr not in grouped:
                    # present, hidden in the group: move it with the blob, not off on its old velocity
                    tr.correct(_fit_inside(tr.box, det[j]), t, weak=True)
                    grouped.append(tr)
        for tr in self._confirmed:
            tr.grouped = tr in grouped
        return grouped, high[~used]

    def _outside(self, tr: _Track) -> bool:
        """A coasting track whose prediction left the picture has walked out of view."""
        if self.frame_size is None:
            return False
        w, h = self.frame_size
        cx, cy = tr.x[0], tr.x[1]
        return not (0 <= cx < w and 0 <= cy < h)

    def _cost(self, tracks: list[_Track], boxes: np.ndarray) -> np.ndarray:
        if not tracks or len(boxes) == 0:
            return np.full((len(tracks), len(boxes)), _INF)
        tb = np.array([tr.box for tr in tracks])
        iou = iou_matrix(tb, boxes)
        cost = np.where(iou >= self.options.match_iou, 1.0 - iou, _INF)
        if self.options.match_distance > 0:
            tc = (tb[:, :2] + tb[:, 2:]) / 2
            bc = (boxes[:, :2] + boxes[:, 2:]) / 2
            scale = np.maximum((tb[:, 3] - tb[:, 1])[:, None], 1.0)
            d = np.linalg.norm(tc[:, None, :] - bc[None, :, :], axis=2) / scale
            fallback = np.where(d <= self.options.match_distance, 1.0 + d, _INF)
            cost = np.minimum(cost, fallback)
        return cost

    def _match(self, tracks: list[_Track], boxes: np.ndarray) -> tuple[list[tuple[int, int]], list[int], list[int]]:
        cost = self._cost(tracks, boxes)
        if cost.size == 0:
            return [], list(range(len(tracks))), list(range(len(boxes)))
        rows, cols = linear_sum_assignment(cost)
        pairs = [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if cost[r, c] < _INF]
        used_t = {r for r, _ in pairs}
        used_d = {c for _, c in pairs}
        return (
            pairs,
            [i for i in range(len(tracks)) if i not in used_t],
            [j for j in range(len(boxes)) if j not in used_d],
        )

    def update(self, detections: Detections, t: float) -> Tracks:  # noqa: PLR0912, PLR0915 - ByteTrack's stages, in order
        """Associate this frame's detections with the tracks and return the confirmed ones seen now.

        Args:
            detections: this frame's boxes.
            t: the frame's time in seconds (monotonic; any origin).

        Returns:
            Confirmed tracks matched in this frame, and the ids that ended.
        """
        o = self.options
        for tr in self._confirmed + self._tentative:
            tr.predict()
        boxes, conf = detections.xyxy, detections.confidence
        high = np.flatnonzero(conf >= o.high_score)
        low = np.flatnonzero(conf < o.high_score)

        seen: list[_Track] = []
        newly: set[int] = set()
        # 0. a blob holding several tracks is a group: they follow their own predictions through it
        grouped, high = self._groups(boxes, high, t)
        seen += grouped
        free = [tr for tr in self._confirmed if tr not in grouped]
        # 1. confident detections against every confirmed track (seen or coasting)
        pairs, rest_t, rest_d = self._match(free, boxes[high])
        for r, c in pairs:
            free[r].correct(boxes[high[c]], t)
            seen.append(free[r])
        unmatched_conf = [free[i] for i in rest_t]
        high_left = high[rest_d]
        # 2. weak detections only keep alive tracks that were seen last frame (ByteTrack's second stage)
        if len(low):
            pairs, _, _ = self._match(unmatched_conf, boxes[low])
            for r, c in pairs:
                unmatched_conf[r].correct(boxes[low[c]], t)
                seen.append(unmatched_conf[r])
        # 3. leftover confident detections against tentative tracks
        pairs, rest_t, rest_d = self._match(self._tentative, boxes[high_left])
        still_tentative: list[_Track] = []
        for r, c in pairs:
            tr = self._tentative[r]
            tr.correct(boxes[high_left[c]], t)
            if tr.hits >= o.min_hits:
                tr.id = self._next_id
                self._next_id += 1
                self._confirmed.append(tr)
                seen.append(tr)
                newly.add(tr.id)
            else:
                still_tentative.append(tr)
        # a tentative track waits `tentative_lost_s` for its next match, then is dropped as noise
        # (it never had an id, so none is burnt)
        for r in rest_t:
            tr = self._tentative[r]
            if t - tr.last_seen <= o.tentative_lost_s:
                still_tentative.append(tr)
        for c in rest_d:
            tr = _Track(boxes[high_left[c]], t)
            if o.min_hits <= 1:
                tr.id = self._next_id
                self._next_id += 1
                self._confirmed.append(tr)
                seen.append(tr)
                newly.add(tr.id)
            else:
                still_tentative.append(tr)
        self._tentative = still_tentative

        ended = [tr.id for tr in self._confirmed if t - tr.last_seen > o.lost_s or self._outside(tr)]
        if ended:
            gone = set(ended)
            self._confirmed = [tr for tr in self._confirmed if tr.id not in gone]
        if not seen:
            return Tracks.empty(ended)
        seen.sort(key=lambda tr: tr.id)
        return Tracks(
            ids=np.array([tr.id for tr in seen], dtype=int),
            xyxy=np.array([tr.box for tr in seen]),
            new=np.array([tr.id in newly for tr in seen], dtype=bool),
            origin=np.array([tr.first_box for tr in seen]),
            ended=ended,
        )

    def flush(self) -> list[int]:
        """End every confirmed track (end of stream); returns their ids."""
        ids = [tr.id for tr in self._confirmed]
        self.reset()
        return ids
