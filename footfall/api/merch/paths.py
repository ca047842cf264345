"""Paths: zone-to-zone transitions and entry→exit routes from anonymous floor polylines.

Each polyline's points are labelled with the zone they lie in (points in no zone are
skipped, so walking down an aisle between two zones is one transition), consecutive
repeats collapse, and then each step is a transition and (first zone, last zone) the
route. Flows seen fewer than `k` times are dropped, as heatmap cells are. The edge cuts
polylines at each minute bucket and never links one bucket's to the next's (so nothing
follows a person), which makes these minute-long paths: enough for neighbouring zones,
not for a whole store visit.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from footfall.core.geometry import Point, points_in_polygon


@dataclass(frozen=True, slots=True)
class Flows:
    """Counted flows, k-suppressed."""

    transitions: list[tuple[str, str, int]]
    routes: list[tuple[str, str, int]]
    polylines: int
    suppressed: int

    @property
    def nodes(self) -> list[str]:
        """Every zone in a flow, sorted."""
        return sorted({n for s, t, _ in self.transitions + self.routes for n in (s, t)})


def zone_sequence(points: Sequence[Point], zones: Sequence[tuple[str, Sequence[Point]]]) -> list[str]:
    """The zones a polyline passes through, in order, repeats collapsed."""
    if not points:
        return []
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    labels: list[str | None] = [None] * len(pts)
    for zone_id, poly in zones:
        inside = points_in_polygon(pts, poly)
        for i in np.flatnonzero(inside):
            if labels[i] is None:
                labels[i] = zone_id
    out: list[str] = []
    for lab in labels:
        if lab is not None and (not out or out[-1] != lab):
            out.append(lab)
    return out


def count_flows(polylines: Iterable[Sequence[Point]], zones: Sequence[tuple[str, Sequence[Point]]], *, k: int) -> Flows:
    """Transitions and routes over many polylines, flows under `k` dropped."""
    trans: Counter[tuple[str, str]] = Counter()
    routes: Counter[tuple[str, str]] = Counter()
    n = 0
    for line in polylines:
        n += 1
        seq = zone_sequence(line, zones)
        if not seq:
            continue
        trans.update(pairwise(seq))
        routes[(seq[0], seq[-1])] += 1
    kept_t = [(s, t, c) for (s, t), c in trans.most_common() if c >= k]
    kept_r = [(s, t, c) for (s, t), c in routes.most_common() if c >= k]
    suppressed = sum(1 for c in trans.values() if c < k) + sum(1 for c in routes.values() if c < k)
    return Flows(transitions=kept_t, routes=kept_r, polylines=n, suppressed=suppressed)
