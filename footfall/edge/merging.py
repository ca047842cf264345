"""The queue-full rule: how queued readings of each kind become fewer, coarser readings.

When the outbox is over its disk budget, the oldest *unpublished* readings of one device,
one kind and one merge key (door, zone, floor …) that fall in the same coarse UTC bucket
(5 min, then 15 min, 1 h, 6 h, 1 day) are merged into one reading spanning them. Readings
that were ever handed to the broker are never merged: ingest may already hold them, and
a new reading with the same start would be dropped as a duplicate.

- counts (key: door): entries, exits and passers-by summed; valid only if every part
  was. Never lose a count.
- zones (key: zone): entries and exits summed, dwell lists joined, occupancy of the
  last part. Visits stay exact.
- occupancy (key: zone): occupancy of the last part, peak the largest seen. It is a
  state: the latest value is the state.
- heatmap (key: floor, cell size, k): presence and tracks summed per cell. Presence
  stays exact; `tracks` becomes track-intervals, an upper bound of distinct tracks.
- heartbeat: the newest, stretched over the merged period. Health is a state.
- tracks: never merged; dropped, oldest first, before anything else is merged. They
  are optional and bulky, and heatmaps and zones already summarise them.

A group that cannot be merged within the contract's limits (more than `MAX_DWELLS`
dwell times, a count above `MAX_COUNT`, cells above `MAX_CELLS`) stays as it is.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from footfall.core import messages
from footfall.core.topics import Kind

LADDER_S = (300, 900, 3600, 6 * 3600, 24 * 3600)
"""Bucket sizes tried in turn, finest first; the last is the contract's `MAX_INTERVAL`."""

READING_TYPES: dict[Kind, type[messages.Reading]] = {
    Kind.COUNTS: messages.CountsReading,
    Kind.OCCUPANCY: messages.OccupancyReading,
    Kind.HEATMAP: messages.HeatmapReading,
    Kind.TRACKS: messages.TracksReading,
    Kind.ZONES: messages.ZonesReading,
    Kind.HEARTBEAT: messages.HeartbeatReading,
}
"""The reading model of every kind that carries readings (all but `status`)."""

DROP_ORDER = (Kind.TRACKS,)
"""Kinds dropped (oldest first) before anything is merged."""

LAST_RESORT_DROP = (Kind.HEATMAP, Kind.HEARTBEAT, Kind.OCCUPANCY)
"""Kinds dropped (oldest first) when merging at every level did not bring the queue under budget.
Counts and zone visits are never dropped: the queue goes over budget instead, loudly."""


def merge_key(kind: Kind, reading: messages.Reading) -> str:
    """What must be equal for two readings of one device and kind to merge."""
    if isinstance(reading, messages.CountsReading):
        return reading.door_id
    if isinstance(reading, messages.ZonesReading):
        return reading.zone_id
    if isinstance(reading, messages.OccupancyReading):
        return reading.zone_id or ""
    if isinstance(reading, messages.HeatmapReading):
        return f"{reading.floor_id}|{reading.cell_m!r}|{reading.min_tracks}"
    if isinstance(reading, messages.TracksReading):
        return reading.floor_id
    return ""


def _sum(values: Sequence[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def merge(kind: Kind, readings: Sequence[messages.Reading]) -> messages.Reading | None:
    """Merge readings of one device, kind and merge key into one spanning them all.

    Args:
        kind: their kind.
        readings: at least two readings, in time order, with the same `merge_key`.

    Returns:
        The merged reading, or None when the kind is not merged or the result would break
        the contract's limits.
    """
    if len(readings) < 2 or kind in DROP_ORDER:
        return None
    rs = sorted(readings, key=lambda r: r.start)
    start, end = rs[0].start, max(r.end for r in rs)
    if end - start > messages.MAX_INTERVAL:
        return None
    merger = _MERGERS.get(kind)
    return None if merger is None else merger(rs, start, end)


def _merge_counts(
    rs: Sequence[messages.CountsReading], start: datetime, end: datetime
) -> messages.CountsReading | None:
    entries, exits = sum(r.entries for r in rs), sum(r.exits for r in rs)
    passersby = _sum([r.passersby for r in rs])
    if max(entries, exits, passersby or 0) > messages.MAX_COUNT:
        return None
    return messages.CountsReading(
        start=start,
        end=end,
        door_id=rs[0].door_id,
        entries=entries,
        exits=exits,
        passersby=passersby,
        valid=all(r.valid for r in rs),
    )


def _merge_zones(rs: Sequence[messages.ZonesReading], start: datetime, end: datetime) -> messages.ZonesReading | None:
    entries, exits = sum(r.entries for r in rs), sum(r.exits for r in rs)
    dwell = [d for r in rs for d in r.dwell_s]
    if max(entries, exits) > messages.MAX_COUNT or len(dwell) > messages.MAX_DWELLS:
        return None
    last = max(rs, key=lambda r: r.end)
    return messages.ZonesReading(
        start=start,
        end=end,
        zone_id=rs[0].zone_id,
        entries=entries,
        exits=exits,
        dwell_s=dwell,
        occupancy=last.occupancy,
        valid=all(r.valid for r in rs),
    )


def _merge_occupancy(
    rs: Sequence[messages.OccupancyReading], start: datetime, end: datetime
) -> messages.OccupancyReading:
    last = max(rs, key=lambda r: r.end)
    peak = max(max(r.occupancy, r.peak or 0) for r in rs)
    return messages.OccupancyReading(
        start=start,
        end=end,
        zone_id=rs[0].zone_id,
        occupancy=last.occupancy,
        peak=peak,
        valid=all(r.valid for r in rs),
    )


def _merge_heatmap(
    rs: Sequence[messages.HeatmapReading], start: datetime, end: datetime
) -> messages.HeatmapReading | None:
    cells: dict[tuple[int, int], list[float]] = {}
    for r in rs:
        for c in r.cells:
            acc = cells.setdefault((c.x, c.y), [0.0, 0])
            acc[0] += c.presence_s
            acc[1] += c.tracks
    if len(cells) > messages.MAX_CELLS or any(v[1] > messages.MAX_COUNT for v in cells.values()):
        return None
    first = rs[0]
    return messages.HeatmapReading(
        start=start,
        end=end,
        floor_id=first.floor_id,
        cell_m=first.cell_m,
        min_tracks=first.min_tracks,
        cells=[messages.HeatmapCell(x=x, y=y, presence_s=p, tracks=int(t)) for (x, y), (p, t) in sorted(cells.items())],
        valid=all(r.valid for r in rs),
    )


def _merge_heartbeat(
    rs: Sequence[messages.HeartbeatReading], start: datetime, end: datetime
) -> messages.HeartbeatReading:
    newest = max(rs, key=lambda r: r.end)
    return newest.model_copy(update={"start": start, "end": end})


# Each merger takes readings of its own kind; `merge` dispatches on the kind.
_MERGERS: dict[Kind, Callable[[Any, datetime, datetime], messages.Reading | None]] = {
    Kind.COUNTS: _merge_counts,
    Kind.ZONES: _merge_zones,
    Kind.OCCUPANCY: _merge_occupancy,
    Kind.HEATMAP: _merge_heatmap,
    Kind.HEARTBEAT: _merge_heartbeat,
}
