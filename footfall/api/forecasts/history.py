"""History from the rollups as model-ready slot series (entries, transactions, revenue, per door)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from footfall.api.kpis import StoreInfo
from footfall.api.kpis.totals import Rollup, door_params, door_query
from footfall.db.connect import DictConnection
from footfall.db.queries import queries
from footfall.models.slots import ORIGIN_DAY, SlotSeries, local_seconds, slot_grid


def slot_origin(store: StoreInfo) -> datetime:
    """A local midnight (UTC instant) that slots are binned from, so hours follow the wall clock."""
    return store.calendar.day_start(ORIGIN_DAY)


def grid(store: StoreInfo, lo: datetime, hi: datetime, slot_s: int) -> np.ndarray:
    """Slot starts (epoch seconds) covering `[lo, hi)` on the store's local slot grid."""
    return slot_grid(int(slot_origin(store).timestamp()), int(lo.timestamp()), int(hi.timestamp()), slot_s)


@dataclass
class History:
    """A store's history on one slot grid.

    Attributes:
        times: slot starts, epoch seconds UTC.
        local: their wall-clock seconds.
        entries: customer-door entries per slot (NaN: no valid reading).
        doors: the same per customer door.
        transactions: sales per slot (NaN before the first and after the last receipt).
        revenue: net revenue per slot.
    """

    slot_s: int
    times: np.ndarray
    local: np.ndarray
    entries: np.ndarray
    doors: dict[str, np.ndarray] = field(default_factory=dict)
    transactions: np.ndarray | None = None
    revenue: np.ndarray | None = None

    def series(self, metric: str) -> SlotSeries | None:
        """One metric as a `SlotSeries`, or None when it has no observation."""
        values = {"entries": self.entries, "transactions": self.transactions, "revenue": self.revenue}[metric]
        if values is None or self.times.size == 0 or not np.any(~np.isnan(values)):
            return None
        first = int(np.flatnonzero(~np.isnan(values))[0])  # the training window starts with the data
        return SlotSeries(int(self.times[first]), self.slot_s, values[first:], self.local[first:])


def _place(times: np.ndarray, rows: list[dict], key: str) -> np.ndarray:
    out = np.full(times.size, np.nan)
    if not rows or times.size == 0:
        return out
    t = np.array([int(r["slot"].timestamp()) for r in rows], dtype=np.int64)
    idx = np.searchsorted(times, t)
    ok = (idx < times.size) & (times[np.minimum(idx, times.size - 1)] == t)
    out[idx[ok]] = np.array([r[key] for r in rows], dtype=float)[ok]
    return out


def load_history(
    conn: DictConnection, store: StoreInfo, *, end: datetime, days: int = 365, slot_s: int = 3600
) -> History:
    """`days` of history before `end` on the store's slot grid.

    Entries count customer doors only; a slot without a valid reading is a gap. Receipt
    slots between the store's first and last receipt with no sale are zero.
    """
    lo = end - timedelta(days=days)
    times = grid(store, lo, end, slot_s)
    times = times[times + slot_s <= int(end.timestamp())]
    local = local_seconds(times, store.calendar.tz)
    params = {
        "store_id": store.store_id,
        "width": timedelta(seconds=slot_s),
        "origin": slot_origin(store),
        "lo": lo,
        "hi": end,
    }
    q = queries("models")
    doors = list(store.customer_doors)
    door_history = door_query("door_history", Rollup.QUARTER, "models")
    door_args = {**params, **door_params(Rollup.QUARTER)}
    rows = conn.execute(door_history, {**door_args, "doors": doors}).fetchall()
    history = History(slot_s, times, local, _place(times, rows, "entries"))
    for door in doors:
        door_rows = conn.execute(door_history, {**door_args, "doors": [door]}).fetchall()
        history.doors[door] = _place(times, door_rows, "entries")
    span = conn.execute(q["receipt_span"], {"store_id": store.store_id}).fetchone()
    if span and span["first"] is not None:
        rrows = conn.execute(q["receipt_history"], params).fetchall()
        inside = (times + slot_s > int(span["first"].timestamp())) & (times <= int(span["last"].timestamp()))
        for key in ("transactions", "revenue"):
            v = _place(times, rrows, key)
            v = np.where(inside & np.isnan(v), 0.0, v)
            setattr(history, key, v)
    return history
