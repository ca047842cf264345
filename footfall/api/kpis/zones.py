"""Revenue per zone through the category → zone map."""

from dataclasses import dataclass, field
from datetime import date

from footfall.api.kpis.period import check_period
from footfall.api.kpis.store import StoreInfo
from footfall.core import kpi as formulas
from footfall.db.connect import DictConnection
from footfall.db.queries import queries


@dataclass(frozen=True, slots=True)
class ZoneRevenue:
    """Revenue of the categories a zone sells, per m² of the zone."""

    zone_id: str
    name: str
    area_m2: float
    categories: list[str]
    revenue: float
    items: float
    revenue_per_m2: float | None


@dataclass(frozen=True, slots=True)
class ZoneReport:
    """Revenue per zone; what no zone sells is `unassigned`."""

    zones: list[ZoneRevenue]
    unassigned_revenue: float
    shared_categories: list[str] = field(default_factory=list)
    """Categories sold in more than one zone: their revenue counts in each."""


def zone_revenue(conn: DictConnection, *, store: StoreInfo, first: date, last: date) -> ZoneReport:
    """Revenue per zone through the category → zone map (zones' `categories`).

    Raises:
        UnanswerableQuery: the period is out of bounds.
    """
    check_period(first, last)
    start, end = store.calendar.period_bounds(first, last)
    cats = {
        r["category"]: r
        for r in conn.execute(queries("kpis")["category_revenue"], {"store_id": store.store_id, "lo": start, "hi": end})
    }
    zones = conn.execute(queries("kpis")["store_zones"], {"store_id": store.store_id}).fetchall()
    seen: dict[str, int] = {}
    out = []
    for z in zones:
        revenue = sum(float(cats[c]["revenue"]) for c in z["categories"] if c in cats)
        items = sum(float(cats[c]["items"]) for c in z["categories"] if c in cats)
        for c in z["categories"]:
            seen[c] = seen.get(c, 0) + 1
        out.append(
            ZoneRevenue(
                zone_id=z["zone_id"],
                name=z["name"],
                area_m2=z["area_m2"],
                categories=list(z["categories"]),
                revenue=revenue,
                items=items,
                revenue_per_m2=formulas.revenue_per_m2(net_revenue=revenue, area_m2=z["area_m2"]),
            )
        )
    unassigned = sum(float(r["revenue"]) for c, r in cats.items() if c not in seen)
    return ZoneReport(
        zones=out, unassigned_revenue=unassigned, shared_categories=sorted(c for c, n in seen.items() if n > 1)
    )
