"""A store's forecast, staffing recommendation and anomalies, from its trained models."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from footfall.api import forecasts as fc
from footfall.api.deps import ConnDep, KpiReader, NowDep
from footfall.api.problems import responses
from footfall.api.routes.common import First, Last, StoreId, scoped_store
from footfall.api.schemas.forecasts import AnomaliesPublic, ForecastPublic, StaffingPublic
from footfall.api.tables import CSV_RESPONSE, table_response
from footfall.core.calendar import Interval
from footfall.core.ids import ID_PATTERN

router = APIRouter(prefix="/v1/stores/{store_id}", tags=["forecasts"], responses=responses(400, 401, 403, 404, 422))

DoorQ = Annotated[
    str | None,
    Query(pattern=ID_PATTERN, max_length=64, description="One customer door; default the whole store."),
]


@router.get("/forecast", summary="Traffic, transactions and revenue forecast", responses=CSV_RESPONSE)
def read_forecast(
    *,
    request: Request,
    conn: ConnDep,
    caller: KpiReader,
    now: NowDep,
    store_id: StoreId,
    first: First,
    last: Last,
    interval: Annotated[Interval, Query(description="15min, hour or day.")] = Interval.HOUR,
    door: DoorQ = None,
) -> ForecastPublic:
    """Forecast entries (and transactions and revenue, when the store has receipts) per store-local
    bucket, up to 14 days ahead, each with a 10–90 % band, and the model versions behind them."""
    store = scoped_store(conn, caller, store_id)
    body = fc.forecast(conn, store=store, first=first, last=last, interval=interval, door=door, now=now)
    return table_response(request, body, filename=f"forecast-{store_id}-{first}-{last}-{interval.value}")


@router.get("/staffing", summary="Recommended staff per hour and power hours", responses=CSV_RESPONSE)
def read_staffing(
    *,
    request: Request,
    conn: ConnDep,
    caller: KpiReader,
    now: NowDep,
    store_id: StoreId,
    first: First,
    last: Last,
    target_ratio: Annotated[
        float, Query(gt=0, le=10_000, description="Shoppers per staff member per hour to aim for.")
    ] = 15.0,
    min_staff: Annotated[int, Query(ge=0, le=1000, description="Staff whenever the store is open.")] = 1,
    max_staff: Annotated[int | None, Query(ge=0, le=1000, description="Most staff at once, if capped.")] = None,
) -> StaffingPublic:
    """Staff per local hour so forecast visitors per staff member stay at or under `target_ratio`
    (`staff_busy` holds it at the band's upper edge), with shifts already planned, and each
    day's three power hours (highest traffic and sales opportunity)."""
    store = scoped_store(conn, caller, store_id)
    body = fc.staffing(
        conn,
        store=store,
        first=first,
        last=last,
        target_ratio=target_ratio,
        min_staff=min_staff,
        max_staff=max_staff,
        now=now,
    )
    return table_response(request, body, filename=f"staffing-{store_id}-{first}-{last}")


@router.get("/anomalies", summary="Counter, camera and traffic anomalies", responses=CSV_RESPONSE)
def read_anomalies(
    *,
    request: Request,
    conn: ConnDep,
    caller: KpiReader,
    now: NowDep,
    store_id: StoreId,
    first: First,
    last: Annotated[date, Query(description="Last store-local date, included (at most 7 days after `first`).")],
) -> AnomaliesPublic:
    """Flatlines, stuck values, in/out drift and counts far outside the band per device; counter vs
    camera disagreement per door; a counter silent while receipts keep coming — each with a
    score, a time span, when it would have fired, and a reason."""
    store = scoped_store(conn, caller, store_id)
    body = fc.anomalies(conn, store=store, first=first, last=last, now=now)
    return table_response(request, body, filename=f"anomalies-{store_id}-{first}-{last}")
