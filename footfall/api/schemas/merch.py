"""Response models of the merchandiser routes (heatmaps, zones, sales, queues, paths, layout changes)."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class _Public(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- floors


class FloorPublic(_Public):
    """A floor and its plan picture's placement."""

    floor_id: str
    name: str
    width_m: float
    height_m: float
    has_plan: bool = Field(description="A plan picture is stored; otherwise plans are drawn from the zones.")
    plan_px_per_m: float | None = None
    plan_origin_m: list[float] = Field(description="Floor metres (x, y) of the picture's top-left pixel.")


class FloorsPublic(_Public):
    """A store's floors."""

    store_id: str
    data: list[FloorPublic]
    count: int


# ---------------------------------------------------------------- heatmap


class HeatCellPublic(_Public):
    """One non-empty cell of the merged grid."""

    x: int = Field(description="Column from the floor origin.")
    y: int = Field(description="Row from the floor origin.")
    value: float = Field(description="The metric's value.")
    presence_s: float
    visits: int
    owner: str = Field(description="The camera whose view the cell is taken from.")


class HeatmapPublic(_Public):
    """The merged floor heatmap of a period."""

    store_id: str
    floor_id: str
    start: datetime
    end: datetime
    metric: str
    unit: str
    cell_m: float
    origin_m: list[float] = Field(description="Floor metres of cell (0, 0)'s top-left corner.")
    cols: int
    rows: int
    k: int = Field(description="Cells with fewer visits in the period are left out.")
    suppressed_cells: int
    cameras: list[str]
    overlap_rule: str
    data: list[HeatCellPublic]
    count: int


# ---------------------------------------------------------------- zones


class ZoneStatPublic(_Public):
    """A zone's performance over a period."""

    zone_id: str
    name: str
    kind: str
    area_m2: float
    categories: list[str]
    visits: int = Field(description="Zone entries counted by the camera that owns the zone.")
    reach: float | None = Field(description="Visits as a share of store visitors (door entries).")
    dwell_median_s: float | None
    dwell_p90_s: float | None
    peak_occupancy: int | None
    peak_at: datetime | None
    comfort_limit: int | None
    minutes_over_limit: int | None
    revenue: float
    revenue_per_m2: float | None
    sales_per_visit: float | None
    dead: bool = Field(description="Low reach and low revenue per m² (see docs/merchandising.md).")
    hot_spot: bool = Field(description="Crowded: occupancy went above the comfort limit.")


class ZonesReportPublic(_Public):
    """Every zone's performance, with dead zones and hot spots listed."""

    store_id: str
    first: date
    last: date
    visitors: int
    data: list[ZoneStatPublic]
    count: int
    dead_zones: list[str]
    hot_spots: list[str]


# ---------------------------------------------------------------- sales


class ProductSalesPublic(_Public):
    """One product's sales over a period."""

    sku: str
    description: str | None
    category: str
    zones: list[str]
    units: float
    revenue: float
    velocity: float = Field(description="Units sold per day of the period.")
    sale_days: int
    days_since_last_sale: int | None = Field(description="Up to the period's last day; null if never sold.")
    zone_revenue_share: float | None = Field(description="Share of its zone's revenue (first zone).")
    zone_reach: float | None = None
    zone_dwell_median_s: float | None = None
    rank: int = Field(description="1 = slowest.")


class ProductsPublic(_Public):
    """Products ranked by sales velocity."""

    store_id: str
    first: date
    last: date
    days: int
    data: list[ProductSalesPublic]
    count: int


class CategorySalesPublic(_Public):
    """One category's sales over a period."""

    category: str
    zones: list[str]
    revenue: float
    units: float
    receipts: int


class CategoriesPublic(_Public):
    """Sales per category."""

    store_id: str
    first: date
    last: date
    data: list[CategorySalesPublic]
    count: int


# ---------------------------------------------------------------- queues


class QueuePointPublic(_Public):
    """A queue over one time slot."""

    start: datetime
    end: datetime
    arrivals: int
    departures: int
    length_mean: float = Field(description="People in the queue, averaged over the slot's minutes.")
    length_max: int
    wait_s: float | None = Field(description="Estimated waiting time (seconds).")
    wait_method: str = Field(description="`tracked` (dwell of tracked visits) or `littles_law`.")


class QueuePublic(_Public):
    """A checkout queue over a period: length, waiting time, abandonment."""

    store_id: str
    zone_id: str
    till_zone: str
    start: datetime
    end: datetime
    slot_minutes: int
    data: list[QueuePointPublic]
    count: int
    wait_median_s: float | None
    wait_p90_s: float | None
    length_max: int
    served: int = Field(description="Tracked queue exits into the till zone.")
    abandoned: int = Field(description="Tracked queue exits that did not reach the till.")
    abandonment_rate: float | None


# ---------------------------------------------------------------- paths


class FlowPublic(_Public):
    """A zone-to-zone transition (or an entry→exit route)."""

    source: str
    target: str
    count: int


class PathsPublic(_Public):
    """Flows between zones: Sankey-ready (nodes, links)."""

    store_id: str
    floor_id: str
    start: datetime
    end: datetime
    k: int
    nodes: list[str]
    transitions: list[FlowPublic]
    routes: list[FlowPublic] = Field(description="First zone → last zone of each polyline.")
    polylines: int
    suppressed_flows: int


# ---------------------------------------------------------------- layout changes


class LayoutChangeIn(_Public):
    """A layout change to record."""

    changed_on: date = Field(description="Local date the change took effect (first day of the new layout).")
    zones: list[str] = Field(min_length=1, max_length=200, description="Zones the change affected.")
    note: str = Field(default="", max_length=2000)


class LayoutChangePublic(_Public):
    """A recorded layout change."""

    change_id: int
    store_id: str
    changed_on: date
    zones: list[str]
    note: str
    created_by: str | None
    created_at: datetime


class LayoutChangesPublic(_Public):
    """A store's layout changes."""

    store_id: str
    data: list[LayoutChangePublic]
    count: int


class EffectPublic(_Public):
    """The change of one metric in one zone, before → after, with a confidence interval."""

    zone_id: str
    metric: str
    before: float | None
    after: float | None
    change: float | None = Field(description="Relative change, after / before − 1.")
    ci_low: float | None
    ci_high: float | None
    days_before: int
    days_after: int
    verdict: str = Field(description="`increase`, `decrease`, `no detectable change` or `cannot tell`.")


class LayoutEffectPublic(_Public):
    """What a layout change did to its zones."""

    store_id: str
    change_id: int
    changed_on: date
    before_first: date
    before_last: date
    after_first: date
    after_last: date
    confidence: float
    method: str
    data: list[EffectPublic]
    count: int
    summary: str
