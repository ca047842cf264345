"""Occupancy: people inside, from customer-door counts."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from footfall.api.kpis.period import check_period
from footfall.api.kpis.store import StoreInfo
from footfall.api.kpis.totals import bucket_totals
from footfall.core import kpi as formulas
from footfall.core.calendar import Interval
from footfall.db.connect import DictConnection
from footfall.db.queries import queries


@dataclass(frozen=True, slots=True)
class OccupancyPoint:
    """Estimated people inside at the end of a 15-minute bucket."""

    start: datetime
    end: datetime
    local_start: datetime
    entries: int
    exits: int
    occupancy: int


@dataclass(frozen=True, slots=True)
class Occupancy:
    """A day's occupancy: now (when the day is today) and the 15-minute history."""

    store: StoreInfo
    day: date
    now: int | None
    as_of: datetime | None
    measured: int | None
    """The newest whole-store occupancy a device reported that day, when any does."""
    measured_at: datetime | None
    history: list[OccupancyPoint]


def occupancy(
    conn: DictConnection, *, store: StoreInfo, day: date | None = None, now: datetime | None = None
) -> Occupancy:
    """Occupancy from customer-door counts: entries − exits since the start of the local day, ≥ 0."""
    now = now or datetime.now(UTC)
    day = day or store.calendar.local_date(now)
    check_period(day, day)
    buckets = store.calendar.buckets(day, day, Interval.MIN15)
    totals = bucket_totals(conn, store, buckets)
    levels = formulas.occupancy_series([t.entries for t in totals], [t.exits for t in totals])
    history = [
        OccupancyPoint(
            start=b.start, end=b.end, local_start=b.local_start, entries=t.entries, exits=t.exits, occupancy=lv
        )
        for b, t, lv in zip(buckets, totals, levels, strict=True)
        if b.start < now
    ]
    lo, hi = buckets[0].start, buckets[-1].end
    m = conn.execute(queries("kpis")["latest_occupancy"], {"store_id": store.store_id, "lo": lo, "hi": hi}).fetchone()
    today = lo <= now < hi
    return Occupancy(
        store=store,
        day=day,
        now=history[-1].occupancy if today and history else None,
        as_of=min(now, history[-1].end) if today and history else None,
        measured=m["occupancy"] if m else None,
        measured_at=m["end_ts"] if m else None,
        history=history,
    )
