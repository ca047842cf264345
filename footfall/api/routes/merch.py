"""Merchandiser routes: floor plans, heatmaps, zone performance, product sales, queues, paths, layout changes.

Thin: each route checks the caller's scope and calls one query function of
`footfall.api.merch.queries`, which returns the response model. Table-shaped answers are
also CSV on `Accept: text/csv`; the heatmap is a PNG on `Accept: image/png`.
"""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import Response

from footfall.api.deps import ConnDep, KpiReader, LayoutManager, ReceiptReader
from footfall.api.merch import queries as q
from footfall.api.merch.heatmap import HeatMetric
from footfall.api.problems import responses
from footfall.api.routes.common import First, Last, StoreId, scoped_store
from footfall.api.schemas.merch import (
    CategoriesPublic,
    FloorPublic,
    FloorsPublic,
    HeatmapPublic,
    LayoutChangeIn,
    LayoutChangePublic,
    LayoutChangesPublic,
    LayoutEffectPublic,
    PathsPublic,
    ProductsPublic,
    QueuePublic,
    ZonesReportPublic,
)
from footfall.api.tables import CSV_RESPONSE, table_response
from footfall.core.ids import ID_PATTERN

router = APIRouter(prefix="/v1/stores/{store_id}", tags=["merchandising"], responses=responses(400, 401, 403, 404, 422))

PNG = "image/png"
PNG_RESPONSE: dict[int | str, dict] = {
    200: {"content": {PNG: {"schema": {"type": "string", "format": "binary"}}}, "description": "JSON, or PNG."}
}
FloorId = Annotated[str, Path(pattern=ID_PATTERN, min_length=1, max_length=64, description="A floor of the store.")]
ZoneId = Annotated[str, Path(pattern=ID_PATTERN, min_length=1, max_length=64, description="A zone of the store.")]
FloorQ = Annotated[
    str | None,
    Query(pattern=ID_PATTERN, max_length=64, description="The floor; may be left out when the store has one."),
]
Bound = Annotated[
    str,
    Query(
        min_length=10,
        max_length=19,
        description="Store-local date (YYYY-MM-DD, the whole day) or hour (YYYY-MM-DDTHH:00); both ends included.",
    ),
]
KQ = Annotated[int, Query(ge=q.MIN_K, le=1000, description="Fewest visits a cell (or a flow) needs to be shown.")]


def _wants_png(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return PNG in accept and "application/json" not in accept.split(PNG)[0]


@router.get("/floors", summary="Floors and their plan pictures")
def read_floors(*, conn: ConnDep, caller: KpiReader, store_id: StoreId) -> FloorsPublic:
    """The store's floors, their size in metres and where their plan picture sits."""
    return q.floors(conn, store=scoped_store(conn, caller, store_id))


@router.get("/floors/{floor_id}/plan", summary="A floor's plan picture", responses=PNG_RESPONSE)
def read_floor_plan(*, conn: ConnDep, caller: KpiReader, store_id: StoreId, floor_id: FloorId) -> Response:
    """The uploaded plan picture, or a plan drawn from the floor and zone geometry when none was uploaded."""
    import cv2

    plan = q.plan_picture(conn, store=scoped_store(conn, caller, store_id), floor_id=floor_id)
    _, png = cv2.imencode(".png", plan.image)
    return Response(png.tobytes(), media_type=PNG)


@router.put("/floors/{floor_id}/plan", summary="Upload a floor's plan picture")
def update_floor_plan(
    *,
    conn: ConnDep,
    caller: LayoutManager,
    store_id: StoreId,
    floor_id: FloorId,
    image: Annotated[bytes, Body(media_type=PNG, description="The picture: PNG or JPEG bytes.")],
    px_per_m: Annotated[float, Query(gt=0, le=1000, description="Picture pixels per floor metre.")],
    origin_x: Annotated[float, Query(ge=-10_000, le=10_000, description="Floor x (m) of the top-left pixel.")] = 0.0,
    origin_y: Annotated[float, Query(ge=-10_000, le=10_000, description="Floor y (m) of the top-left pixel.")] = 0.0,
) -> FloorPublic:
    """Store a plan picture for the floor: pixel (u, v) shows floor point origin + (u, v) / px_per_m."""
    store = scoped_store(conn, caller, store_id)
    return q.set_floor_plan(
        conn, store=store, floor_id=floor_id, image=image, px_per_m=px_per_m, origin_m=(origin_x, origin_y)
    )


@router.get("/heatmap", summary="Floor heatmap (JSON grid or PNG overlay)", response_model=HeatmapPublic,
            responses=PNG_RESPONSE)  # fmt: skip
def read_heatmap(
    *,
    request: Request,
    conn: ConnDep,
    caller: KpiReader,
    store_id: StoreId,
    first: Bound,
    last: Bound,
    floor: FloorQ = None,
    metric: Annotated[HeatMetric, Query(description="presence (person-seconds), visits or dwell (s per visit).")] = (
        HeatMetric.PRESENCE
    ),
    k: KQ = q.MIN_K,
    cell_m: Annotated[float | None, Query(ge=0.05, le=10, description="Output cell size (m).")] = None,
) -> HeatmapPublic | Response:
    """The cameras' cells merged on the floor plan (an hour to a quarter; overlapping cameras counted once,
    see `overlap_rule`), cells with fewer than `k` visits left empty. `Accept: image/png` draws it over the
    floor plan with the zones outlined, a legend and a scale bar."""
    store = scoped_store(conn, caller, store_id)
    h = q.heatmap(conn, store=store, first=first, last=last, floor_id=floor, metric=metric, k=k, cell_m=cell_m)
    if _wants_png(request):
        return Response(q.heatmap_png(conn, h), media_type=PNG)
    return h.public()


@router.get("/zones", summary="Zone performance, dead zones and hot spots", responses=CSV_RESPONSE)
def read_zones(
    *, request: Request, conn: ConnDep, caller: KpiReader, store_id: StoreId, first: First, last: Last
) -> ZonesReportPublic:
    """Per zone: visits, reach, median and p90 dwell, occupancy peak against the comfort limit, revenue,
    revenue per m² and sales per visit; dead zones (low reach and low sales) and hot spots (crowding)."""
    body = q.zone_report(conn, store=scoped_store(conn, caller, store_id), first=first, last=last)
    return table_response(request, body, filename=f"zones-{store_id}-{first}-{last}")


@router.get("/sales/products", summary="Product sales, slowest first (slow movers)", responses=CSV_RESPONSE)
def read_product_sales(
    *,
    request: Request,
    conn: ConnDep,
    caller: ReceiptReader,
    store_id: StoreId,
    first: First,
    last: Last,
) -> ProductsPublic:
    """Every product sold in the last 180 days, ranked by sales velocity in the period (slowest first),
    with days since its last sale, its share of its zone's revenue and that zone's reach and dwell."""
    body = q.product_sales(conn, store=scoped_store(conn, caller, store_id), first=first, last=last)
    return table_response(request, body, filename=f"products-{store_id}-{first}-{last}")


@router.get("/sales/categories", summary="Sales per category", responses=CSV_RESPONSE)
def read_category_sales(
    *, request: Request, conn: ConnDep, caller: ReceiptReader, store_id: StoreId, first: First, last: Last
) -> CategoriesPublic:
    """Revenue, units and receipts per product category, with the zones that sell it."""
    body = q.category_sales(conn, store=scoped_store(conn, caller, store_id), first=first, last=last)
    return table_response(request, body, filename=f"categories-{store_id}-{first}-{last}")


@router.get("/queues/{zone_id}", summary="Checkout queue: length, wait, abandonment", responses=CSV_RESPONSE)
def read_queue(
    *,
    request: Request,
    conn: ConnDep,
    caller: KpiReader,
    store_id: StoreId,
    zone_id: ZoneId,
    first: First,
    last: Last,
    slot_minutes: Annotated[int, Query(ge=1, le=240, description="Slot length in minutes.")] = 15,
) -> QueuePublic:
    """Queue length per slot, waiting time (tracked dwell, or Little's law when tracks break) and
    abandonment (left the queue without reaching the till)."""
    store = scoped_store(conn, caller, store_id)
    body = q.queue_report(conn, store=store, zone_id=zone_id, first=first, last=last, slot_minutes=slot_minutes)
    return table_response(request, body, filename=f"queue-{store_id}-{zone_id}-{first}-{last}")


@router.get("/paths", summary="Zone-to-zone flows (Sankey-ready)")
def read_paths(
    *,
    conn: ConnDep,
    caller: KpiReader,
    store_id: StoreId,
    first: First,
    last: Last,
    floor: FloorQ = None,
    k: KQ = q.MIN_K,
) -> PathsPublic:
    """The most common zone-to-zone transitions and first→last zone routes of the anonymous polylines;
    flows seen fewer than `k` times are left out."""
    return q.paths(conn, store=scoped_store(conn, caller, store_id), first=first, last=last, floor_id=floor, k=k)


@router.get("/layout-changes", summary="Recorded layout changes")
def read_layout_changes(*, conn: ConnDep, caller: KpiReader, store_id: StoreId) -> LayoutChangesPublic:
    """The store's layout changes, oldest first."""
    return q.layout_changes(conn, store=scoped_store(conn, caller, store_id))


@router.post("/layout-changes", summary="Record a layout change", status_code=201)
def create_layout_change(
    *, conn: ConnDep, caller: LayoutManager, store_id: StoreId, body: LayoutChangeIn
) -> LayoutChangePublic:
    """Record that the layout of some zones changed on a date (the first day of the new layout)."""
    store = scoped_store(conn, caller, store_id)
    return q.record_layout_change(conn, store=store, change=body, created_by=caller.username)


@router.get("/layout-changes/{change_id}/effect", summary="What a layout change did")
def read_layout_effect(
    *,
    conn: ConnDep,
    caller: KpiReader,
    store_id: StoreId,
    change_id: Annotated[int, Path(ge=1, le=2**62)],
    weeks: Annotated[int, Query(ge=1, le=13, description="Whole weeks compared on each side.")] = 4,
    as_of: Annotated[date | None, Query(description="Local date to judge as of (default today).")] = None,
) -> LayoutEffectPublic:
    """Reach, dwell and sales per visit of the changed zones over equal windows before and after the change
    (matching weekdays), with bootstrap confidence intervals and a plain verdict."""
    store = scoped_store(conn, caller, store_id)
    return q.layout_effect(conn, store=store, change_id=change_id, weeks=weeks, today=as_of)
