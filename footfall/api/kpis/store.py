"""What the KPI layer needs to know about a store: time zone, area, doors, opening hours."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from footfall.api.kpis.errors import UnknownStore
from footfall.core.calendar import StoreCalendar
from footfall.core.storeconfig import WEEKDAYS
from footfall.db.connect import DictConnection
from footfall.db.queries import queries


def _parse_hours(raw: dict[str, Any] | None) -> dict[str, tuple[time, time] | None]:
    out: dict[str, tuple[time, time] | None] = {}
    for day, value in (raw or {}).items():
        if value is None:
            out[day] = None
        else:
            out[day] = (time.fromisoformat(value[0]), time.fromisoformat(value[1]))
    return out


@dataclass(frozen=True)
class StoreInfo:
    """A store as the KPI layer sees it.

    Example:
        >>> s = StoreInfo(store_id="a", name="A", timezone="Europe/Riga", customer_doors=("main",))
        >>> s.calendar
        StoreCalendar('Europe/Riga')
    """

    store_id: str
    name: str
    timezone: str
    sales_area_m2: float | None = None
    currency: str = "EUR"
    opening_hours: dict[str, tuple[time, time] | None] = field(default_factory=dict)
    customer_doors: tuple[str, ...] = ()
    outward_doors: tuple[str, ...] = ()
    has_shifts: bool = False
    has_zone_categories: bool = False

    @property
    def calendar(self) -> StoreCalendar:
        """The store's local calendar."""
        return StoreCalendar(self.timezone)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "StoreInfo":
        """Build from a `store_info` row."""
        return cls(
            store_id=row["store_id"],
            name=row["name"],
            timezone=row["timezone"],
            sales_area_m2=row["sales_area_m2"],
            currency=row["currency"].strip(),
            opening_hours=_parse_hours(row["opening_hours"]),
            customer_doors=tuple(row["customer_doors"]),
            outward_doors=tuple(row["outward_doors"]),
            has_shifts=row["has_shifts"],
            has_zone_categories=row["has_zone_categories"],
        )

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The UTC intervals within `[start, end)` when the store is open.

        A store with no opening hours configured counts as always open. A weekday that is
        missing or null is closed. Hours that close at or before they open run past
        midnight into the next day.
        """
        if not self.opening_hours:
            return [(start, end)] if end > start else []
        cal = self.calendar
        out: list[tuple[datetime, datetime]] = []
        day = cal.local_date(start) - timedelta(days=1)
        last = cal.local_date(end)
        while day <= last:
            hours = self.opening_hours.get(WEEKDAYS[day.weekday()])
            if hours is not None:
                o = _local(cal, day, hours[0])
                c = _local(cal, day if hours[1] > hours[0] else day + timedelta(days=1), hours[1])
                o, c = max(o, start), min(c, end)
                if c > o:
                    if out and o <= out[-1][1]:
                        out[-1] = (out[-1][0], max(out[-1][1], c))
                    else:
                        out.append((o, c))
            day += timedelta(days=1)
        return out


def _local(cal: StoreCalendar, day: date, t: time) -> datetime:
    # fold=0: a wall time inside a DST gap maps to the instant just after it.
    return datetime.combine(day, t, tzinfo=cal.tz).astimezone(UTC)


def stores_info(conn: DictConnection, store_ids: list[str]) -> list[StoreInfo]:
    """The stores that exist among `store_ids`, ordered by id."""
    rows = conn.execute(queries("kpis")["store_info"], {"store_ids": store_ids}).fetchall()
    return [StoreInfo.from_row(r) for r in rows]


def store_info(conn: DictConnection, store_id: str) -> StoreInfo:
    """One store.

    Raises:
        UnknownStore: no such store.
    """
    found = stores_info(conn, [store_id])
    if not found:
        raise UnknownStore(f"store {store_id!r} not found")
    return found[0]


def all_store_ids(conn: DictConnection) -> list[str]:
    """Every store id, sorted."""
    return [r["store_id"] for r in conn.execute(queries("kpis")["all_store_ids"])]
