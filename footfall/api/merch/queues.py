"""Checkout queues: length over time, waiting time, abandonment.

A zone of kind `queue` names its `till` zone. From the queue zone's per-minute readings:

- **length**: people in the queue zone, the minute's end occupancy averaged over a slot,
  and the slot's peak;
- **waiting time**: the median dwell of the queue visits that ended in the slot when the
  tracks held (at least half the departures have a tracked dwell — `tracked`); otherwise
  Little's law, W = L / λ, with L the mean length and λ the arrival rate (`littles_law`),
  which needs no unbroken track;
- **abandonment**, from the anonymous polylines (when the store publishes them): a
  polyline that leaves the queue and reaches the till within `TILL_GRACE_POINTS` points
  is served, one that leaves the queue for anywhere else abandoned it; a polyline that
  ends inside the queue tells nothing. Polylines are cut at the minute, so only exits
  seen within one minute bucket count.

These are the KPIs an alerts rule can judge ("open another till" when the wait or the
length stays high): see `footfall.api.merch.queries.queue_report`.
"""

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from footfall.core.geometry import Point, points_in_polygon

TILL_GRACE_POINTS = 3
"""Points after leaving the queue within which reaching the till still counts as served."""
TRACKED_SHARE = 0.5
"""Share of departures with a tracked dwell above which the tracked dwell is the waiting time."""


@dataclass(frozen=True, slots=True)
class QueueMinute:
    """One minute of the queue zone (from its owning camera)."""

    start: datetime
    entries: int
    exits: int
    dwell_s: Sequence[float]
    occupancy: int | None
    peak: int | None


@dataclass(frozen=True, slots=True)
class QueueSlot:
    """The queue over one slot."""

    start: datetime
    end: datetime
    arrivals: int
    departures: int
    length_mean: float
    length_max: int
    wait_s: float | None
    wait_method: str


def queue_slots(minutes: Iterable[QueueMinute], *, slot: timedelta, origin: datetime | None = None) -> list[QueueSlot]:
    """Aggregate queue minutes into slots aligned to `origin` (default the epoch: quarter hours)."""
    groups: dict[datetime, list[QueueMinute]] = {}
    epoch = origin or datetime(2000, 1, 1, tzinfo=UTC)
    for m in minutes:
        key = epoch + ((m.start - epoch) // slot) * slot
        groups.setdefault(key, []).append(m)
    out = []
    for start in sorted(groups):
        ms = groups[start]
        arrivals = sum(m.entries for m in ms)
        departures = sum(m.exits for m in ms)
        lengths = [m.occupancy for m in ms if m.occupancy is not None]
        peaks = [m.peak if m.peak is not None else (m.occupancy or 0) for m in ms]
        length_mean = float(np.mean(lengths)) if lengths else 0.0
        dwell = [d for m in ms for d in m.dwell_s]
        if dwell and len(dwell) >= TRACKED_SHARE * max(departures, 1):
            wait, method = float(statistics.median(dwell)), "tracked"
        elif arrivals > 0:
            # Little's law: L = λ W, with λ in arrivals per second over the minutes observed
            rate = arrivals / (len(ms) * 60.0)
            wait, method = length_mean / rate, "littles_law"
        else:
            wait, method = None, "none"
        out.append(
            QueueSlot(
                start=start,
                end=start + slot,
                arrivals=arrivals,
                departures=departures,
                length_mean=round(length_mean, 3),
                length_max=max(peaks, default=0),
                wait_s=None if wait is None else round(wait, 2),
                wait_method=method,
            )
        )
    return out


def queue_exits(
    polylines: Iterable[Sequence[Point]], *, queue: Sequence[Point], till: Sequence[Point]
) -> tuple[int, int]:
    """(served, abandoned) queue exits seen in the polylines (see the module doc)."""
    served = abandoned = 0
    for line in polylines:
        if len(line) < 2:
            continue
        pts = np.asarray(line, dtype=float)
        in_q = points_in_polygon(pts, queue)
        in_t = points_in_polygon(pts, till)
        i = 0
        n = len(pts)
        while i < n:
            if not in_q[i]:
                i += 1
                continue
            j = i
            while j < n and in_q[j]:
                j += 1
            if j >= n:
                break  # ends in the queue: unknown
            if in_t[j : j + TILL_GRACE_POINTS].any():
                served += 1
            else:
                abandoned += 1
            i = j
    return served, abandoned
