"""Additive inputs of every KPI, per bucket, read from the rollups in one query.

`Totals` holds only sums (entries, transactions, revenue, seconds of valid door data…),
so totals of several buckets, periods or stores add up exactly; ratios (conversion,
ATV…) are computed from them afterwards, never averaged.
"""

from bisect import bisect_right
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cache

from psycopg import sql

from footfall.api.kpis.store import StoreInfo
from footfall.core.calendar import Bucket
from footfall.db.connect import DictConnection
from footfall.db.queries import queries

GAP_ENTRIES_PER_HOUR = 8
"""An open slot with at least this many entries per hour and no receipt at all is a POS feed gap."""


class Rollup(StrEnum):
    """Which rollup tables answer a query."""

    HOUR = "1h"
    QUARTER = "15m"

    @property
    def width(self) -> timedelta:
        """Slot width."""
        return timedelta(hours=1) if self is Rollup.HOUR else timedelta(minutes=15)

    @property
    def doors(self) -> str:
        """The door rollup's table name."""
        return f"door_counts_{self.value}"

    @property
    def receipts(self) -> str:
        """The receipt rollup's table name."""
        return f"receipts_{self.value}"


def choose_rollup(edges: list[datetime]) -> Rollup:
    """The hourly rollup when every edge is on a whole UTC hour, else the 15-minute one."""
    if all(e.minute == 0 and e.second == 0 and e.microsecond == 0 for e in edges):
        return Rollup.HOUR
    return Rollup.QUARTER


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums over one bucket (or several added together)."""

    entries: int = 0
    exits: int = 0
    passersby: int | None = None
    outward_entries: int = 0
    transactions: int = 0
    refunds: int = 0
    voids: int = 0
    revenue: Decimal = Decimal(0)
    items: Decimal = Decimal(0)
    loyalty_transactions: int = 0
    valid_s: float = 0.0
    """Seconds × doors of valid door data inside opening hours."""
    invalid_s: float = 0.0
    """Seconds × doors the devices flagged invalid (camera or sensor faults) inside opening hours."""
    expected_s: float = 0.0
    """Seconds × customer doors the store was open: what full coverage would be."""
    pos_gap_s: float = 0.0
    """Open seconds with door traffic but not a single receipt."""
    staff_hours: float | None = None
    hours: float = 0.0
    """Length of the bucket(s) in hours."""

    def __add__(self, other: "Totals") -> "Totals":
        out = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            out[f.name] = a if b is None else b if a is None else a + b
        return Totals(**out)

    @classmethod
    def sum(cls, items: list["Totals"]) -> "Totals":
        """The sum of many totals (an empty list sums to zero)."""
        total = cls()
        for t in items:
            total = total + t
        return total


def _overlap(intervals: list[tuple[datetime, datetime]], ends: list[datetime], start: datetime, end: datetime) -> float:
    """Seconds of sorted, disjoint `intervals` inside `[start, end)`; `ends` are their ends, for bisect."""
    s = 0.0
    i = bisect_right(ends, start)
    while i < len(intervals) and intervals[i][0] < end:
        a, b = intervals[i]
        s += (min(b, end) - max(a, start)).total_seconds()
        i += 1
    return s


@cache
def door_query(name: str, rollup: Rollup, module: str = "kpis") -> str:
    """A named query reading door counts through `fresh_doors` on `rollup`, rendered once.

    Its parameters include `rollup` and `width_iv` (see `door_params`). A plain string lets
    psycopg reuse its parsed and prepared form.

    Args:
        name: the block's name in `footfall/db/sql/<module>.sql`.
        rollup: which door (and receipt) rollup it reads.
        module: the `.sql` file holding the block.
    """
    fresh = sql.SQL(queries("kpis")["fresh_doors"]).format(doors=sql.Identifier(rollup.doors))
    text = queries(module)[name]
    return sql.SQL(text).format(fresh_doors=fresh, receipts=sql.Identifier(rollup.receipts)).as_string(None)


def door_params(rollup: Rollup) -> dict[str, object]:
    """The parameters `fresh_doors` needs besides the store and period."""
    return {"rollup": rollup.doors, "width_iv": rollup.width}


def bucket_totals(
    conn: DictConnection, store: StoreInfo, buckets: list[Bucket], *, as_of: datetime | None = None
) -> list[Totals]:
    """The totals of each bucket (empty buckets give zeros), from the rollups.

    Args:
        conn: a connection.
        store: the store.
        buckets: contiguous buckets in time order (from `StoreCalendar.buckets`).
        as_of: where elapsed time ends (a quarter-hour edge): opening time after it has not
            happened yet, so it is neither expected of the counters (coverage is judged on
            elapsed opening time only) nor checked for POS gaps. None: all of it happened.

    Returns:
        One `Totals` per bucket, in the same order.
    """
    if not buckets:
        return []
    lo, hi = buckets[0].start, buckets[-1].end
    opens = store.open_intervals(lo, hi if as_of is None else max(lo, min(hi, as_of)))
    open_edges = [t for pair in opens for t in pair] or [hi, hi]
    open_ends = [b for _, b in opens]
    rollup = choose_rollup([b.start for b in buckets] + [hi] + open_edges)
    width = rollup.width.total_seconds()
    query = door_query("bucket_totals", rollup)
    rows = conn.execute(
        query,
        {
            **door_params(rollup),
            "store_id": store.store_id,
            "doors": list(store.customer_doors),
            "outward": list(store.outward_doors),
            "lo": lo,
            "hi": hi,
            "width": width,
            "starts": [b.start for b in buckets],
            "open_edges": open_edges,
            "gap_entries": max(1, round(GAP_ENTRIES_PER_HOUR * width / 3600)),
        },
    ).fetchall()
    by_i = {r["i"]: r for r in rows}
    staff: dict[int, float] = {}
    if store.has_shifts:
        staff = {
            r["i"]: float(r["staff_hours"])
            for r in conn.execute(
                queries("kpis")["staff_hours"],
                {"store_id": store.store_id, "starts": [b.start for b in buckets], "ends": [b.end for b in buckets]},
            )
        }
    n_doors = len(store.customer_doors)
    out: list[Totals] = []
    for i, b in enumerate(buckets, start=1):
        r = by_i.get(i)
        expected = n_doors * _overlap(opens, open_ends, b.start, b.end)
        staff_hours = staff.get(i, 0.0) if store.has_shifts else None
        if r is None:
            out.append(Totals(expected_s=expected, staff_hours=staff_hours, hours=b.hours))
            continue
        out.append(
            Totals(
                entries=r["entries"],
                exits=r["exits"],
                passersby=r["passersby"],
                outward_entries=r["outward_entries"],
                transactions=r["transactions"],
                refunds=r["refunds"],
                voids=r["voids"],
                revenue=Decimal(r["revenue"]),
                items=Decimal(r["items"]),
                loyalty_transactions=r["loyalty_transactions"],
                valid_s=r["valid_s"],
                invalid_s=r["invalid_s"],
                expected_s=expected,
                pos_gap_s=r["pos_gap_slots"] * width,
                staff_hours=staff_hours,
                hours=b.hours,
            )
        )
    return out


def period_totals(conn: DictConnection, store: StoreInfo, start: datetime, end: datetime) -> Totals:
    """The totals of one UTC period `[start, end)` (usually local-day aligned)."""
    return bucket_totals(conn, store, [Bucket(start, end, start.astimezone(store.calendar.tz))])[0]


def local_period_totals(
    conn: DictConnection, store: StoreInfo, first: date, last: date, *, until: datetime | None = None
) -> Totals:
    """Totals over the store-local dates `first`..`last`, or over their part before `until`."""
    start, end = store.calendar.period_bounds(first, last)
    if until is not None:
        end = max(start, min(end, until))
    if end <= start:
        return Totals()
    return period_totals(conn, store, start, end)
