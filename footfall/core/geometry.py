"""Floor-plan geometry: polygons in metres and image↔floor homographies."""

from collections.abc import Sequence

import numpy as np

Point = tuple[float, float]


def polygon_area(points: Sequence[Point]) -> float:
    """Area of a simple polygon (shoelace formula), in the square of its units."""
    if len(points) < 3:
        return 0.0
    xs = np.asarray([p[0] for p in points], dtype=float)
    ys = np.asarray([p[1] for p in points], dtype=float)
    return float(abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))) / 2)


def _segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    def orient(a: Point, b: Point, c: Point) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


def is_simple_polygon(points: Sequence[Point]) -> bool:
    """True when no two non-adjacent edges cross."""
    n = len(points)
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue
            if _segments_cross(*edges[i], *edges[j]):
                return False
    return True


def point_in_polygon(x: float, y: float, points: Sequence[Point]) -> bool:
    """Even-odd rule point-in-polygon test."""
    inside = False
    n = len(points)
    j = n - 1
    for i in range(n):
        xi, yi = points[i]
        xj, yj = points[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _normaliser(pts: np.ndarray) -> np.ndarray:
    centre = pts.mean(axis=0)
    spread = np.sqrt(((pts - centre) ** 2).sum(axis=1)).mean()
    s = np.sqrt(2) / spread if spread > 0 else 1.0
    return np.array([[s, 0, -s * centre[0]], [0, s, -s * centre[1]], [0, 0, 1]])


def homography_from_pairs(image: Sequence[Point], floor: Sequence[Point]) -> np.ndarray:
    """The 3×3 homography mapping image pixels to floor metres (normalised DLT, least squares).

    Args:
        image: ≥ 4 image points (pixels).
        floor: the matching floor points (metres), in the same order.

    Returns:
        H with H[2, 2] == 1.

    Raises:
        ValueError: fewer than 4 pairs, mismatched lengths, or a degenerate (collinear) layout.
    """
    if len(image) != len(floor):
        raise ValueError(f"{len(image)} image points but {len(floor)} floor points")
    if len(image) < 4:
        raise ValueError(f"a homography needs at least 4 point pairs, got {len(image)}")
    src = np.asarray(image, dtype=float)
    dst = np.asarray(floor, dtype=float)
    for name, pts in (("image", src), ("floor", dst)):
        centred = pts - pts.mean(axis=0)
        if np.linalg.matrix_rank(centred, tol=1e-9 * max(1.0, float(np.abs(pts).max()))) < 2:
            raise ValueError(f"the {name} points are collinear; pick points spread over the floor")
    ts, td = _normaliser(src), _normaliser(dst)
    s = (ts @ np.c_[src, np.ones(len(src))].T).T
    d = (td @ np.c_[dst, np.ones(len(dst))].T).T
    rows = []
    for (x, y, _), (u, v, _) in zip(s, d, strict=True):
        rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
        rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
    _, _, vt = np.linalg.svd(np.asarray(rows))
    h = vt[-1].reshape(3, 3)
    h = np.linalg.inv(td) @ h @ ts
    if abs(h[2, 2]) < 1e-12:
        raise ValueError("the point pairs do not determine a homography")
    h = h / h[2, 2]
    if np.linalg.matrix_rank(h) < 3:
        raise ValueError("the point pairs give a singular homography")
    return h


def apply_homography(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map an (n, 2) array of points through a homography."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    hom = np.c_[pts, np.ones(len(pts))] @ np.asarray(h, dtype=float).T
    return hom[:, :2] / hom[:, 2:3]


def points_in_polygon(points: np.ndarray, polygon: Sequence[Point]) -> np.ndarray:
    """(n,) bool: the even-odd rule for many points against one polygon."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    poly = np.asarray(polygon, dtype=float)
    x, y = pts[:, 0][:, None], pts[:, 1][:, None]
    xi, yi = poly[:, 0][None, :], poly[:, 1][None, :]
    xj, yj = np.roll(poly[:, 0], 1)[None, :], np.roll(poly[:, 1], 1)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        crosses = ((yi > y) != (yj > y)) & (x < (xj - xi) * (y - yi) / (yj - yi) + xi)
    return (crosses.sum(axis=1) % 2) == 1
