"""Traffic and sales by local hour of day."""

from dataclasses import dataclass
from datetime import date, timedelta

from psycopg import sql

from footfall.api.kpis.period import check_period
from footfall.api.kpis.store import StoreInfo
from footfall.api.kpis.totals import Rollup, choose_rollup
from footfall.core import kpi as formulas
from footfall.db.connect import DictConnection
from footfall.db.queries import queries


@dataclass(frozen=True, slots=True)
class HourOfDay:
    """Traffic and sales in one local hour of the day, over a period."""

    hour: int
    entries: int
    exits: int
    avg_entries_per_day: float
    transactions: int
    revenue: float
    conversion: float | None


def traffic_by_hour(conn: DictConnection, *, store: StoreInfo, first: date, last: date) -> list[HourOfDay]:
    """Entries, exits, transactions and conversion by local hour of day (0–23) over a period.

    Raises:
        UnanswerableQuery: the period is out of bounds.
    """
    check_period(first, last)
    start, end = store.calendar.period_bounds(first, last)
    offsets = {store.calendar.local(t).utcoffset() for t in (start, end - timedelta(seconds=1))}
    whole = all(o is not None and o.total_seconds() % 3600 == 0 for o in offsets)
    rollup = choose_rollup([start, end]) if whole else Rollup.QUARTER
    params = {
        "store_id": store.store_id,
        "doors": list(store.customer_doors),
        "lo": start,
        "hi": end,
        "tz": store.timezone,
    }
    q = queries("kpis")
    doors = {
        r["hour"]: r
        for r in conn.execute(sql.SQL(q["traffic_by_local_hour"]).format(doors=sql.Identifier(rollup.doors)), params)
    }
    sales = {
        r["hour"]: r
        for r in conn.execute(
            sql.SQL(q["receipts_by_local_hour"]).format(receipts=sql.Identifier(rollup.receipts)), params
        )
    }
    days = (last - first).days + 1
    out = []
    for h in range(24):
        d, s = doors.get(h), sales.get(h)
        entries = d["entries"] if d else 0
        tx = s["transactions"] if s else 0
        out.append(
            HourOfDay(
                hour=h,
                entries=entries,
                exits=d["exits"] if d else 0,
                avg_entries_per_day=entries / days,
                transactions=tx,
                revenue=float(s["revenue"]) if s else 0.0,
                conversion=formulas.conversion(transactions=tx, visitors=entries),
            )
        )
    return out
