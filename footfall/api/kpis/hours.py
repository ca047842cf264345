"""Traffic and sales by local hour of day."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from psycopg import sql

from footfall.api.kpis.period import check_period
from footfall.api.kpis.store import StoreInfo
from footfall.api.kpis.totals import Rollup, choose_rollup, door_params, door_query
from footfall.core import kpi as formulas
from footfall.db.connect import DictConnection
from footfall.db.queries import queries


@dataclass(frozen=True, slots=True)
class HourOfDay:
    """Traffic and sales in one local hour of the day, over a period."""

    hour: int
    entries: int
    exits: int
    days: int
    """Days of the period in which this hour is over (today's hours still to come are not counted)."""
    avg_entries_per_day: float | None
    """entries / days; None when the hour has not ended on any day yet."""
    transactions: int
    revenue: float
    conversion: float | None


def _hour_days(store: StoreInfo, first: date, last: date, end: datetime) -> list[int]:
    """For each local hour 0–23, the days of `first`..`last` on which that hour ended by `end`."""
    tz = store.calendar.tz
    days = [0] * 24
    d = first
    while d <= last:
        for h in range(24):
            if datetime.combine(d, time(h), tzinfo=tz).astimezone(UTC) + timedelta(hours=1) <= end:
                days[h] += 1
        d += timedelta(days=1)
    return days


def traffic_by_hour(
    conn: DictConnection, *, store: StoreInfo, first: date, last: date, now: datetime | None = None
) -> list[HourOfDay]:
    """Entries, exits, transactions and conversion by local hour of day (0–23) over a period.

    With `now` inside the period, only hours that have ended count: the running hour and
    the rest of today are left out of both the sums and the days each hour is averaged
    over (hour 20 of a week that ends today is averaged over the days it has happened).

    Raises:
        UnanswerableQuery: the period is out of bounds.
    """
    check_period(first, last)
    start, end = store.calendar.period_bounds(first, last)
    if now is not None and start <= now < end:
        local = store.calendar.local(now)
        end = max(start, local.replace(minute=0, second=0, microsecond=0).astimezone(UTC))
    offsets = {store.calendar.local(t).utcoffset() for t in (start, max(start, end - timedelta(seconds=1)))}
    whole = all(o is not None and o.total_seconds() % 3600 == 0 for o in offsets)
    rollup = choose_rollup([start, end]) if whole else Rollup.QUARTER
    params = {
        **door_params(rollup),
        "store_id": store.store_id,
        "doors": list(store.customer_doors),
        "lo": start,
        "hi": end,
        "tz": store.timezone,
    }
    q = queries("kpis")
    doors = {r["hour"]: r for r in conn.execute(door_query("traffic_by_local_hour", rollup), params)}
    sales = {
        r["hour"]: r
        for r in conn.execute(
            sql.SQL(q["receipts_by_local_hour"]).format(receipts=sql.Identifier(rollup.receipts)), params
        )
    }
    days = _hour_days(store, first, last, end)
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
                days=days[h],
                avg_entries_per_day=entries / days[h] if days[h] else None,
                transactions=tx,
                revenue=float(s["revenue"]) if s else 0.0,
                conversion=formulas.conversion(transactions=tx, visitors=entries),
            )
        )
    return out
