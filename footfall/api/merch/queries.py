"""Merchandiser queries: read the vision and receipt tables, return the API's response models.

Each function takes a connection and a `StoreInfo` (already scope-checked by the route)
and answers in store-local periods: `first`/`last` are local dates, both included. The
named SQL lives in `footfall/db/sql/merch.sql`. The queue KPIs (`queue_report`) are what
an alerts rule judges: `wait_median_s`, `wait_p90_s`, `length_max`, `abandonment_rate`,
and per slot `length_mean`, `length_max`, `wait_s`.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from footfall.api.kpis.store import StoreInfo
from footfall.api.merch import heatmap as hm
from footfall.api.merch.errors import BadPlan, UnanswerablePeriod, UnknownChange, UnknownFloor, UnknownZone
from footfall.api.merch.paths import count_flows
from footfall.api.merch.queuefacts import queue_minutes
from footfall.api.merch.queues import queue_exits, queue_slots
from footfall.api.merch.sales import LOOKBACK_DAYS, ProductRow, category_zone_map, rank_slow_movers
from footfall.api.merch.zones import ZoneFigures, classify, owners
from footfall.api.schemas.merch import (
    CategoriesPublic,
    CategorySalesPublic,
    EffectPublic,
    FloorPublic,
    FloorsPublic,
    FlowPublic,
    HeatCellPublic,
    HeatmapPublic,
    LayoutChangeIn,
    LayoutChangePublic,
    LayoutChangesPublic,
    LayoutEffectPublic,
    PathsPublic,
    ProductSalesPublic,
    ProductsPublic,
    QueuePointPublic,
    QueuePublic,
    ZonesReportPublic,
    ZoneStatPublic,
)
from footfall.core.calendar import StoreCalendar
from footfall.core.storeconfig import JPEG_MAGIC, PNG_MAGIC
from footfall.db.connect import DictConnection
from footfall.db.queries import queries
from footfall.models.layout import DaySums, ratio_effect

logger = logging.getLogger(__name__)

MIN_K = 3
"""Fewest visits (heatmap cells) or polylines (flows) a figure needs to be shown."""
MAX_HEATMAP_DAYS = 92
MAX_PERIOD_DAYS = 366
MAX_PLAN_BYTES = 8 * 1024 * 1024
OVERLAP_RULE = (
    "each cell is owned by the camera with the most presence there over the period; "
    "its numbers are that camera's, so people seen by two cameras count once"
)


def _sql(name: str) -> str:
    return queries("merch")[name]


# ------------------------------------------------------------------------ periods


def check_days(first: date, last: date, *, most: int = MAX_PERIOD_DAYS) -> None:
    """Raise unless `first` ≤ `last` and the period is at most `most` days.

    Raises:
        UnanswerablePeriod: reversed or too long.
    """
    if last < first:
        raise UnanswerablePeriod(f"last ({last}) is before first ({first}); swap them")
    if (last - first).days + 1 > most:
        raise UnanswerablePeriod(f"the period is {(last - first).days + 1} days; ask for at most {most}")


def _bound(cal: StoreCalendar, text: str, *, end: bool) -> datetime:
    try:
        if "T" in text or " " in text:
            local = datetime.fromisoformat(text)
            if local.tzinfo is not None:
                raise ValueError("give a store-local time without a UTC offset")
            if local.minute or local.second or local.microsecond:
                raise ValueError("heatmaps are hourly: give a whole hour (minutes 00)")
            start = local.replace(tzinfo=cal.tz).astimezone(UTC)
            return start + timedelta(hours=1) if end else start
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise UnanswerablePeriod(f"{text!r} is neither YYYY-MM-DD nor YYYY-MM-DDTHH:00: {exc}") from None
    lo, hi = cal.day_bounds(day)
    return hi if end else lo


def hour_period(store: StoreInfo, first: str, last: str) -> tuple[datetime, datetime]:
    """UTC bounds of a period from local dates (whole days) or local hours, both included.

    Raises:
        UnanswerablePeriod: unparseable, reversed, shorter than an hour or longer than a quarter.
    """
    cal = store.calendar
    start, end = _bound(cal, first, end=False), _bound(cal, last, end=True)
    if end <= start:
        raise UnanswerablePeriod(f"last ({last}) is before first ({first}); swap them")
    if end - start > timedelta(days=MAX_HEATMAP_DAYS):
        raise UnanswerablePeriod(f"heatmaps cover at most {MAX_HEATMAP_DAYS} days (a quarter); shorten the period")
    return start, end


# ------------------------------------------------------------------------ floors and plans


def _floor_rows(conn: DictConnection, store_id: str) -> dict[str, dict]:
    return {r["floor_id"]: r for r in conn.execute(_sql("floors"), {"store_id": store_id})}


def _floor(conn: DictConnection, store_id: str, floor_id: str | None) -> dict:
    rows = _floor_rows(conn, store_id)
    if not rows:
        raise UnknownFloor(f"store {store_id} has no floors; add `floors` to its store YAML")
    if floor_id is None:
        if len(rows) > 1:
            raise UnknownFloor(f"store {store_id} has several floors; pick one with floor= ({', '.join(rows)})")
        return next(iter(rows.values()))
    if floor_id not in rows:
        raise UnknownFloor(f"store {store_id} has no floor {floor_id!r} (floors: {', '.join(rows)})")
    return rows[floor_id]


def floors(conn: DictConnection, *, store: StoreInfo) -> FloorsPublic:
    """The store's floors and their plan placement."""
    data = [
        FloorPublic(
            floor_id=r["floor_id"],
            name=r["name"],
            width_m=r["width_m"],
            height_m=r["height_m"],
            has_plan=r["has_plan"],
            plan_px_per_m=r["plan_px_per_m"],
            plan_origin_m=[r["plan_origin_x"], r["plan_origin_y"]],
        )
        for r in _floor_rows(conn, store.store_id).values()
    ]
    return FloorsPublic(store_id=store.store_id, data=data, count=len(data))


def set_floor_plan(
    conn: DictConnection,
    *,
    store: StoreInfo,
    floor_id: str,
    image: bytes,
    px_per_m: float,
    origin_m: tuple[float, float] = (0.0, 0.0),
) -> FloorPublic:
    """Store an uploaded plan picture for a floor.

    Raises:
        BadPlan: not a PNG/JPEG OpenCV can decode, too big, or a non-positive scale.
        UnknownFloor: no such floor.
    """
    if not px_per_m > 0:
        raise BadPlan("px_per_m must be positive: the picture's pixels per floor metre")
    if len(image) > MAX_PLAN_BYTES:
        raise BadPlan(f"the plan picture is {len(image):,} bytes; the limit is {MAX_PLAN_BYTES:,}")
    if not (image.startswith(PNG_MAGIC) or image.startswith(JPEG_MAGIC)):
        raise BadPlan("the plan picture must be a PNG or JPEG (send it as the request body)")
    hm.PlanPicture.from_bytes(image, px_per_m=px_per_m)  # decodes, or BadPlan
    _floor(conn, store.store_id, floor_id)
    conn.execute(
        _sql("set_floor_plan"),
        {
            "store_id": store.store_id,
            "floor_id": floor_id,
            "image": image,
            "mime": "image/png" if image.startswith(PNG_MAGIC) else "image/jpeg",
            "px_per_m": px_per_m,
            "origin_x": origin_m[0],
            "origin_y": origin_m[1],
        },
    )
    return next(f for f in floors(conn, store=store).data if f.floor_id == floor_id)


def _zone_outlines(conn: DictConnection, store_id: str, floor_id: str) -> list[hm.ZoneOutline]:
    return [
        hm.ZoneOutline(z["zone_id"], z["name"], [(p[0], p[1]) for p in z["polygon"]])
        for z in conn.execute(_sql("zones"), {"store_id": store_id})
        if z["floor_id"] == floor_id
    ]


def plan_picture(conn: DictConnection, *, store: StoreInfo, floor_id: str) -> hm.PlanPicture:
    """The floor's plan picture, or one drawn from its geometry when none is stored."""
    f = _floor(conn, store.store_id, floor_id)
    row = conn.execute(_sql("floor_plan_image"), {"store_id": store.store_id, "floor_id": floor_id}).fetchone()
    if row and row["plan_image"] is not None:
        return hm.PlanPicture.from_bytes(
            bytes(row["plan_image"]),
            px_per_m=row["plan_px_per_m"],
            origin_m=(row["plan_origin_x"], row["plan_origin_y"]),
        )
    return hm.draw_plan(
        width_m=f["width_m"], height_m=f["height_m"], zones=_zone_outlines(conn, store.store_id, floor_id)
    )


# ------------------------------------------------------------------------ heatmap


@dataclass
class Heatmap:
    """A merged, suppressed heatmap with what drawing it needs."""

    store: StoreInfo
    floor: dict
    start: datetime
    end: datetime
    metric: hm.HeatMetric
    grid: hm.FloorGrid
    k: int
    suppressed: int

    def public(self) -> HeatmapPublic:
        """The JSON form: every non-empty cell."""
        values = self.grid.values(self.metric)
        ys, xs = np.nonzero(~np.isnan(values))
        cells = [
            HeatCellPublic(
                x=int(x),
                y=int(y),
                value=round(float(values[y, x]), 3),
                presence_s=round(float(self.grid.presence[y, x]), 3),
                visits=int(self.grid.visits[y, x]),
                owner=self.grid.devices[int(self.grid.owner[y, x])],
            )
            for y, x in zip(ys.tolist(), xs.tolist(), strict=True)
        ]
        rows, cols = self.grid.shape
        return HeatmapPublic(
            store_id=self.store.store_id,
            floor_id=self.floor["floor_id"],
            start=self.start,
            end=self.end,
            metric=self.metric.value,
            unit=hm.UNITS[self.metric],
            cell_m=self.grid.cell_m,
            origin_m=[0.0, 0.0],
            cols=cols,
            rows=rows,
            k=self.k,
            suppressed_cells=self.suppressed,
            cameras=self.grid.devices,
            overlap_rule=OVERLAP_RULE,
            data=cells,
            count=len(cells),
        )


def _whole_days(start: datetime, end: datetime) -> dict[str, datetime]:
    """The whole UTC days inside [start, end) as `day_lo`, `day_hi` (empty when there are none)."""
    day = timedelta(days=1)
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    lo = epoch + -((epoch - start) // day) * day
    hi = epoch + ((end - epoch) // day) * day
    return {"day_lo": lo, "day_hi": hi} if lo < hi else {"day_lo": lo, "day_hi": lo}


def heatmap(
    conn: DictConnection,
    *,
    store: StoreInfo,
    first: str,
    last: str,
    floor_id: str | None = None,
    metric: hm.HeatMetric = hm.HeatMetric.PRESENCE,
    k: int = MIN_K,
    cell_m: float | None = None,
) -> Heatmap:
    """The merged floor heatmap of a period (an hour to a quarter).

    Raises:
        UnanswerablePeriod: the period is unusable.
        UnknownFloor: no such floor (or several and none named).
    """
    start, end = hour_period(store, first, last)
    floor = _floor(conn, store.store_id, floor_id)
    rows = [
        hm.CellRow(r["device_id"], r["cell_m"], r["x"], r["y"], r["presence_s"], int(r["tracks"]))
        for r in conn.execute(
            _sql("heatmap_totals"),
            {
                "store_id": store.store_id,
                "floor_id": floor["floor_id"],
                "lo": start,
                "hi": end,
                **_whole_days(start, end),
            },
        )
    ]
    grid = hm.merge_cells(rows, width_m=floor["width_m"], height_m=floor["height_m"], cell_m=cell_m)
    k = max(k, MIN_K)
    suppressed = grid.suppress(k)
    return Heatmap(store, floor, start, end, metric, grid, k, suppressed)


def heatmap_png(conn: DictConnection, h: Heatmap) -> bytes:
    """The heatmap drawn over the floor's plan, zones outlined, with legend and scale bar."""
    floor_id = h.floor["floor_id"]
    cal = h.store.calendar
    title = (
        f"{h.store.name} / {h.floor['name'] or floor_id}: {cal.local(h.start):%Y-%m-%d %H:%M} to "
        f"{cal.local(h.end):%Y-%m-%d %H:%M} ({h.store.timezone}), k={h.k}"
    )
    return hm.render_png(
        h.grid,
        h.metric,
        plan=plan_picture(conn, store=h.store, floor_id=floor_id),
        zones=_zone_outlines(conn, h.store.store_id, floor_id),
        title=title,
    )


# ------------------------------------------------------------------------ zones


@dataclass
class _ZoneData:
    zones: list[dict]
    visitors: int
    seen_visitors: dict[str, int]
    """Per camera: visitors in the slots the camera reported zone data for (reach's denominator)."""
    visits: dict[str, dict]
    peaks: dict[str, dict]
    revenue: dict[str, float]

    def reach(self, zone_id: str) -> float | None:
        """Zone visits per store visitor, over the slots its owning camera saw."""
        v = self.visits.get(zone_id)
        if v is None:
            return None
        seen = self.seen_visitors.get(v["device_id"], 0)
        return int(v["entries"]) / seen if seen else None


def _zone_data(conn: DictConnection, store: StoreInfo, lo: datetime, hi: datetime) -> _ZoneData:
    p = {"store_id": store.store_id, "lo": lo, "hi": hi}
    zones = conn.execute(_sql("zones"), {"store_id": store.store_id}).fetchall()
    total = conn.execute(_sql("store_visitors"), p).fetchone()
    visitors = int(total["visitors"]) if total else 0
    seen = {r["device_id"]: int(r["visitors"]) for r in conn.execute(_sql("visitors_seen_by_cameras"), p)}
    visits = owners(conn.execute(_sql("zone_visit_totals"), p).fetchall())
    peak_rows = conn.execute(_sql("zone_occupancy_peaks"), p).fetchall()
    peaks = {}
    for zone_id in {r["zone_id"] for r in peak_rows}:
        mine = [r for r in peak_rows if r["zone_id"] == zone_id]
        owner = visits.get(zone_id, {}).get("device_id")
        peaks[zone_id] = next((r for r in mine if r["device_id"] == owner), max(mine, key=lambda r: r["peak"]))
    cats = {r["category"]: r["revenue"] for r in conn.execute(_sql("category_sales"), p)}
    revenue = {z["zone_id"]: sum(cats.get(c, 0.0) for c in z["categories"]) for z in zones}
    return _ZoneData(zones, visitors, seen, visits, peaks, revenue)


def zone_report(conn: DictConnection, *, store: StoreInfo, first: date, last: date) -> ZonesReportPublic:
    """Per zone: visits, reach, dwell, crowding, revenue per m², sales per visit; dead zones and hot spots.

    Raises:
        UnanswerablePeriod: reversed or longer than a year.
    """
    check_days(first, last)
    lo, hi = store.calendar.period_bounds(first, last)
    d = _zone_data(conn, store, lo, hi)
    figures, rows = [], []
    for z in d.zones:
        v = d.visits.get(z["zone_id"])
        pk = d.peaks.get(z["zone_id"])
        visits = int(v["entries"]) if v else 0
        revenue = float(d.revenue[z["zone_id"]])
        sells = bool(z["categories"]) and z["kind"] == "area"
        fig = ZoneFigures(
            zone_id=z["zone_id"],
            visits=visits,
            reach=d.reach(z["zone_id"]),
            dwell_median_s=v["dwell_median_s"] if v else None,
            dwell_p90_s=v["dwell_p90_s"] if v else None,
            peak=pk["peak"] if pk else None,
            minutes_over=pk["minutes_over"] if pk and z["comfort_limit"] else None,
            revenue=revenue,
            revenue_per_m2=revenue / z["area_m2"] if sells else None,
            sells=sells,
        )
        figures.append(fig)
        rows.append((z, fig, pk))
    dead, hot = classify(figures)
    data = [
        ZoneStatPublic(
            zone_id=z["zone_id"],
            name=z["name"],
            kind=z["kind"],
            area_m2=z["area_m2"],
            categories=list(z["categories"]),
            visits=f.visits,
            reach=None if f.reach is None else round(f.reach, 4),
            dwell_median_s=None if f.dwell_median_s is None else round(f.dwell_median_s, 2),
            dwell_p90_s=None if f.dwell_p90_s is None else round(f.dwell_p90_s, 2),
            peak_occupancy=f.peak,
            peak_at=pk["peak_at"] if pk else None,
            comfort_limit=z["comfort_limit"],
            minutes_over_limit=f.minutes_over,
            revenue=round(f.revenue, 2),
            revenue_per_m2=None if f.revenue_per_m2 is None else round(f.revenue_per_m2, 2),
            sales_per_visit=round(f.revenue / f.visits, 2) if f.visits and f.sells else None,
            dead=f.zone_id in dead,
            hot_spot=f.zone_id in hot,
        )
        for z, f, pk in rows
    ]
    return ZonesReportPublic(
        store_id=store.store_id,
        first=first,
        last=last,
        visitors=d.visitors,
        data=data,
        count=len(data),
        dead_zones=sorted(dead),
        hot_spots=sorted(hot),
    )


# ------------------------------------------------------------------------ sales


def product_sales(conn: DictConnection, *, store: StoreInfo, first: date, last: date) -> ProductsPublic:
    """Products ranked slowest first, with their zone's reach and dwell beside them.

    Raises:
        UnanswerablePeriod: reversed or longer than a year.
    """
    check_days(first, last)
    cal = store.calendar
    lo, hi = cal.period_bounds(first, last)
    since = cal.day_start(last - timedelta(days=LOOKBACK_DAYS - 1))
    rows = [
        ProductRow(
            sku=r["sku"],
            description=r["description"],
            category=r["category"],
            units=r["units"],
            revenue=r["revenue"],
            sale_days=r["sale_days"],
            last_sale=cal.local_date(r["last_sale"]) if r["last_sale"] else None,
        )
        for r in conn.execute(
            _sql("product_sales"),
            {"store_id": store.store_id, "lo": lo, "since": min(lo, since), "hi": hi, "tz": store.timezone},
        )
    ]
    d = _zone_data(conn, store, lo, hi)
    cz = category_zone_map((z["zone_id"], list(z["categories"])) for z in d.zones)
    days = (last - first).days + 1
    ranked = rank_slow_movers(rows, days=days, last=last, category_zones=cz, zone_revenue=d.revenue)
    data = []
    for p in ranked:
        zone = p.zones[0] if p.zones else None
        v = d.visits.get(zone) if zone else None
        data.append(
            ProductSalesPublic(
                sku=p.row.sku,
                description=p.row.description,
                category=p.row.category,
                zones=p.zones,
                units=p.row.units,
                revenue=round(p.row.revenue, 2),
                velocity=round(p.velocity, 4),
                sale_days=p.row.sale_days,
                days_since_last_sale=p.days_since_last_sale,
                zone_revenue_share=None if p.zone_revenue_share is None else round(p.zone_revenue_share, 4),
                zone_reach=_r(d.reach(zone)) if zone else None,
                zone_dwell_median_s=round(v["dwell_median_s"], 2) if v and v["dwell_median_s"] is not None else None,
                rank=p.rank,
            )
        )
    return ProductsPublic(store_id=store.store_id, first=first, last=last, days=days, data=data, count=len(data))


def category_sales(conn: DictConnection, *, store: StoreInfo, first: date, last: date) -> CategoriesPublic:
    """Revenue, units and receipts per category, with the zones that sell it.

    Raises:
        UnanswerablePeriod: reversed or longer than a year.
    """
    check_days(first, last)
    lo, hi = store.calendar.period_bounds(first, last)
    zones = conn.execute(_sql("zones"), {"store_id": store.store_id}).fetchall()
    cz = category_zone_map((z["zone_id"], list(z["categories"])) for z in zones)
    data = [
        CategorySalesPublic(
            category=r["category"],
            zones=cz.get(r["category"], []),
            revenue=round(r["revenue"], 2),
            units=r["units"],
            receipts=r["receipts"],
        )
        for r in conn.execute(_sql("category_sales"), {"store_id": store.store_id, "lo": lo, "hi": hi})
    ]
    return CategoriesPublic(store_id=store.store_id, first=first, last=last, data=data, count=len(data))


# ------------------------------------------------------------------------ queues


def queue_report(
    conn: DictConnection, *, store: StoreInfo, zone_id: str, first: date, last: date, slot_minutes: int = 15
) -> QueuePublic:
    """A checkout queue's length, waiting time and abandonment over a period (KPIs for alert rules).

    Raises:
        UnknownZone: no such zone, or it is not a queue.
        UnanswerablePeriod: reversed or longer than a year.
    """
    check_days(first, last)
    lo, hi = store.calendar.period_bounds(first, last)
    return queue_between(conn, store=store, zone_id=zone_id, start=lo, end=hi, slot_minutes=slot_minutes)


def queue_now(
    conn: DictConnection, *, store: StoreInfo, zone_id: str, minutes: int = 15, now: datetime | None = None
) -> QueuePublic:
    """The queue over the last `minutes` whole minutes before `now`, as one slot: what an alert rule
    judges ("open another till" when `data[0].wait_s` or `length_max` is high).

    Raises:
        UnknownZone: no such zone, or it is not a queue.
    """
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    return queue_between(
        conn,
        store=store,
        zone_id=zone_id,
        start=now - timedelta(minutes=minutes),
        end=now,
        slot_minutes=minutes,
        aligned_to_start=True,
    )


def queue_between(
    conn: DictConnection,
    *,
    store: StoreInfo,
    zone_id: str,
    start: datetime,
    end: datetime,
    slot_minutes: int = 15,
    aligned_to_start: bool = False,
) -> QueuePublic:
    """The queue between two instants, in slots of `slot_minutes` aligned to the epoch (quarter hours)
    or, with `aligned_to_start`, to `start` (see `queue_report`).

    Raises:
        UnknownZone: no such zone, or it is not a queue.
    """
    lo, hi = start, end
    q = queue_minutes(conn, store_id=store.store_id, zone_id=zone_id, lo=lo, hi=hi)
    z, till, minutes = q.zone, q.till, q.minutes
    slots = queue_slots(minutes, slot=timedelta(minutes=slot_minutes), origin=start if aligned_to_start else None)
    dwell = [d for m in minutes for d in m.dwell_s]
    lines = [
        [(p["x"], p["y"]) for p in r["points"]]
        for r in conn.execute(
            _sql("track_polylines"), {"store_id": store.store_id, "floor_id": z["floor_id"], "lo": lo, "hi": hi}
        )
    ]
    served, abandoned = queue_exits(
        lines, queue=[(p[0], p[1]) for p in z["polygon"]], till=[(p[0], p[1]) for p in till["polygon"]]
    )
    return QueuePublic(
        store_id=store.store_id,
        zone_id=zone_id,
        till_zone=till["zone_id"],
        start=lo,
        end=hi,
        slot_minutes=slot_minutes,
        data=[
            QueuePointPublic(
                start=s.start,
                end=s.end,
                arrivals=s.arrivals,
                departures=s.departures,
                length_mean=s.length_mean,
                length_max=s.length_max,
                wait_s=s.wait_s,
                wait_method=s.wait_method,
            )
            for s in slots
        ],
        count=len(slots),
        wait_median_s=round(float(np.median(dwell)), 2) if dwell else None,
        wait_p90_s=round(float(np.quantile(dwell, 0.9)), 2) if dwell else None,
        length_max=max((s.length_max for s in slots), default=0),
        served=served,
        abandoned=abandoned,
        abandonment_rate=round(abandoned / (served + abandoned), 4) if served + abandoned else None,
    )


# ------------------------------------------------------------------------ paths


def paths(
    conn: DictConnection,
    *,
    store: StoreInfo,
    first: date,
    last: date,
    floor_id: str | None = None,
    k: int = MIN_K,
) -> PathsPublic:
    """Zone-to-zone transitions and entry→exit routes from the anonymous polylines (Sankey-ready).

    Raises:
        UnknownFloor: no such floor.
        UnanswerablePeriod: reversed or longer than a year.
    """
    check_days(first, last)
    floor = _floor(conn, store.store_id, floor_id)
    lo, hi = store.calendar.period_bounds(first, last)
    zones = [
        (z["zone_id"], [(p[0], p[1]) for p in z["polygon"]])
        for z in conn.execute(_sql("zones"), {"store_id": store.store_id})
        if z["floor_id"] == floor["floor_id"]
    ]
    lines = [
        [(p["x"], p["y"]) for p in r["points"]]
        for r in conn.execute(
            _sql("track_polylines"),
            {"store_id": store.store_id, "floor_id": floor["floor_id"], "lo": lo, "hi": hi},
        )
    ]
    k = max(k, MIN_K)
    f = count_flows(lines, zones, k=k)
    return PathsPublic(
        store_id=store.store_id,
        floor_id=floor["floor_id"],
        start=lo,
        end=hi,
        k=k,
        nodes=f.nodes,
        transitions=[FlowPublic(source=s, target=t, count=c) for s, t, c in f.transitions],
        routes=[FlowPublic(source=s, target=t, count=c) for s, t, c in f.routes],
        polylines=f.polylines,
        suppressed_flows=f.suppressed,
    )


# ------------------------------------------------------------------------ layout changes


def record_layout_change(
    conn: DictConnection, *, store: StoreInfo, change: LayoutChangeIn, created_by: str | None
) -> LayoutChangePublic:
    """Record a layout change.

    Raises:
        UnknownZone: a zone named is not one of the store's.
    """
    known = {z["zone_id"] for z in conn.execute(_sql("zones"), {"store_id": store.store_id})}
    missing = [z for z in change.zones if z not in known]
    if missing:
        raise UnknownZone(f"store {store.store_id} has no zone {missing[0]!r} (zones: {', '.join(sorted(known))})")
    row = conn.execute(
        _sql("insert_layout_change"),
        {
            "store_id": store.store_id,
            "changed_on": change.changed_on,
            "zones": change.zones,
            "note": change.note,
            "created_by": created_by,
        },
    ).fetchone()
    if row is None:  # pragma: no cover - INSERT … RETURNING returns its row
        raise UnknownChange("the layout change was not stored")
    return LayoutChangePublic(**row)


def layout_changes(conn: DictConnection, *, store: StoreInfo) -> LayoutChangesPublic:
    """A store's recorded layout changes."""
    data = [LayoutChangePublic(**r) for r in conn.execute(_sql("list_layout_changes"), {"store_id": store.store_id})]
    return LayoutChangesPublic(store_id=store.store_id, data=data, count=len(data))


def _r(v: float | None, digits: int = 4) -> float | None:
    return None if v is None else round(v, digits)


@dataclass
class _ZoneDaily:
    """One zone's per-day figures (from its owning camera) and the store's visitors per day."""

    by_day: dict[date, dict]
    revenue: dict[date, float]
    visitors: dict[date, int]

    def sums(self, days: list[date], metric: str) -> DaySums:
        """Per-day numerator and denominator of `metric` (see footfall.models.layout)."""
        num, den = [], []
        for d in days:
            z = self.by_day.get(d)
            visits = float(z["entries"]) if z else 0.0
            if metric == "reach":
                num.append(visits)
                den.append(float(self.visitors.get(d, 0)))
            elif metric == "dwell":
                dwell = list(z["dwell_s"]) if z else []
                num.append(float(sum(dwell)))
                den.append(float(len(dwell)))
            else:
                num.append(self.revenue.get(d, 0.0))
                den.append(visits)
        return DaySums(np.asarray(num), np.asarray(den))


def _zone_daily(
    zone_id: str, zone_rows: list[dict], cat_rows: list[dict], visitors: dict[date, int], cats: set[str]
) -> _ZoneDaily:
    mine = [r for r in zone_rows if r["zone_id"] == zone_id]
    totals: dict[str, int] = {}
    for r in mine:
        totals[r["device_id"]] = totals.get(r["device_id"], 0) + r["entries"]
    device = max(sorted(totals), key=lambda d: totals[d]) if totals else None
    revenue: dict[date, float] = {}
    for r in cat_rows:
        if r["category"] in cats:
            revenue[r["day"]] = revenue.get(r["day"], 0.0) + r["revenue"]
    return _ZoneDaily({r["day"]: r for r in mine if r["device_id"] == device}, revenue, visitors)


def _effect_summary(data: list[EffectPublic], *, confidence: float, young: bool, a_last: date) -> str:
    told = [e for e in data if e.verdict in ("increase", "decrease")]
    if young:
        return f"the change is less than a week old (the after window ends {a_last}); the data cannot tell yet"
    if not data or all(e.verdict == "cannot tell" for e in data):
        return "the data cannot tell: too few days with zone data on one side of the change"
    if told:
        return "; ".join(
            f"{e.zone_id} {e.metric} {e.verdict}d by {abs(e.change or 0):.0%} "
            f"({confidence:.0%} interval {e.ci_low or 0:+.0%} to {e.ci_high or 0:+.0%})"
            for e in told
        )
    return "no detectable change in reach, dwell or sales per visit at this confidence"


def layout_effect(
    conn: DictConnection,
    *,
    store: StoreInfo,
    change_id: int,
    weeks: int = 4,
    today: date | None = None,
    confidence: float = 0.95,
) -> LayoutEffectPublic:
    """Reach, dwell and sales per visit of the changed zones, before vs after, with bootstrap intervals.

    The windows are `weeks` whole weeks each side of the change day (the after window
    starts on it), shortened to the whole weeks that have passed, so weekdays match.

    Raises:
        UnknownChange: no such change in the store.
    """
    row = conn.execute(_sql("get_layout_change"), {"store_id": store.store_id, "change_id": change_id}).fetchone()
    if row is None:
        raise UnknownChange(f"store {store.store_id} has no layout change {change_id}")
    cal = store.calendar
    changed = row["changed_on"]
    today = today or cal.local_date(datetime.now(cal.tz))
    done_weeks = max(0, (today - changed).days // 7)
    n_weeks = max(min(weeks, done_weeks), 1)
    days = 7 * n_weeks
    b_first, b_last = changed - timedelta(days=days), changed - timedelta(days=1)
    a_first, a_last = changed, changed + timedelta(days=days - 1)
    lo, hi = cal.period_bounds(b_first, a_last)
    p = {"store_id": store.store_id, "lo": lo, "hi": hi, "tz": store.timezone}
    visitors = {r["day"]: r["visitors"] for r in conn.execute(_sql("visitor_days"), p)}
    zone_rows = conn.execute(_sql("zone_days"), p).fetchall()
    cat_rows = conn.execute(_sql("category_days"), p).fetchall()
    zones = {z["zone_id"]: z for z in conn.execute(_sql("zones"), {"store_id": store.store_id})}
    before_days = [b_first + timedelta(days=i) for i in range(days)]
    after_days = [a_first + timedelta(days=i) for i in range(days)]
    data: list[EffectPublic] = []
    for zone_id in row["zones"]:
        cats = set(zones[zone_id]["categories"]) if zone_id in zones else set()
        daily = _zone_daily(zone_id, zone_rows, cat_rows, visitors, cats)
        for metric in ("reach", "dwell", "sales_per_visit"):
            if metric == "sales_per_visit" and not cats:
                continue
            e = ratio_effect(
                daily.sums(before_days, metric), daily.sums(after_days, metric), confidence=confidence, seed=change_id
            )
            data.append(
                EffectPublic(
                    zone_id=zone_id,
                    metric=metric,
                    before=_r(e.before),
                    after=_r(e.after),
                    change=_r(e.change),
                    ci_low=_r(e.ci_low),
                    ci_high=_r(e.ci_high),
                    days_before=e.days_before,
                    days_after=e.days_after,
                    # a change not a week old has no whole after-week yet, whatever the table holds
                    verdict="cannot tell" if done_weeks < 1 else e.verdict,
                )
            )
    summary = _effect_summary(data, confidence=confidence, young=done_weeks < 1, a_last=a_last)
    return LayoutEffectPublic(
        store_id=store.store_id,
        change_id=change_id,
        changed_on=changed,
        before_first=b_first,
        before_last=b_last,
        after_first=a_first,
        after_last=a_last,
        confidence=confidence,
        method=f"day-level bootstrap over {n_weeks} matched week(s) each side, percentile interval",
        data=data,
        count=len(data),
        summary=summary,
    )
