"""Forecast, staffing and anomaly answers (footfall.api.forecasts)."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from footfall.core.calendar import Interval

Metric = Literal["entries", "transactions", "revenue"]


class ModelPublic(BaseModel):
    """A trained model a number came from."""

    metric: Metric
    version: int | None = Field(
        description="Version of the store's model for this metric; null when fitted on request."
    )
    model_version: str = Field(description="`{store}/{metric}/v{version}`, or `{store}/{metric}/on-request`.")
    method: str = Field(description="`gbm+profile`, or `seasonal_baseline` when history was too short.")
    trained_at: datetime | None
    train_start: datetime
    train_end: datetime
    features: list[str]
    backtest: dict[str, float | int | None] = Field(description="Held-out last week: mase, mae, coverage_80, slots.")
    flags: list[str] = Field(description="Why a reader should weigh the forecast (short history, band…).")


class BandPublic(BaseModel):
    """A point forecast and its 10–90 % band."""

    mean: float
    lower: float
    upper: float


class ForecastRowPublic(BaseModel):
    """The forecast of one store-local bucket."""

    start: datetime = Field(description="Bucket start (UTC), inclusive.")
    end: datetime = Field(description="Bucket end (UTC), exclusive.")
    local_start: datetime = Field(description="Bucket start in the store's time zone.")
    entries: BandPublic
    transactions: BandPublic | None = Field(description="Null when the store has no receipts.")
    revenue: BandPublic | None


class ForecastPublic(BaseModel):
    """Traffic (and transactions, revenue) forecast per bucket with 10–90 % bands."""

    store_id: str
    timezone: str
    door_id: str | None = Field(description="The door forecast, or null for the whole store (customer doors).")
    first: date
    last: date
    interval: Interval
    model_version: str = Field(description="The entries model's version (see `models` for all).")
    models: list[ModelPublic]
    data: list[ForecastRowPublic]
    count: int


class StaffRowPublic(BaseModel):
    """Recommended staff for one local hour."""

    start: datetime
    end: datetime
    local_start: datetime
    visitors: float = Field(description="Forecast visitors in the hour.")
    visitors_upper: float = Field(description="The band's upper edge (a busy hour, 9 in 10 covered).")
    staff: int = Field(description="Staff to keep visitors per staff member at or under the target.")
    staff_busy: int = Field(description="Staff to hold the target at the upper edge.")
    scheduled_staff: float | None = Field(description="Staff-hours already on shift, when shifts are known.")


class PowerHourPublic(BaseModel):
    """One of a day's strongest hours (traffic and sales opportunity)."""

    day: date
    start: datetime
    local_start: datetime
    visitors: float
    revenue: float | None
    score: float = Field(description="Geometric mean of the hour's share of the day's visitors and revenue.")


class StaffingPublic(BaseModel):
    """Staff per hour for a target shopper-to-staff ratio, and each day's power hours."""

    store_id: str
    timezone: str
    first: date
    last: date
    target_ratio: float
    min_staff: int
    model_version: str
    data: list[StaffRowPublic]
    power_hours: list[PowerHourPublic]
    count: int


class AnomalyPublic(BaseModel):
    """Something about a counter, camera or the store's traffic that looks wrong."""

    kind: str = Field(
        description="flatline, stuck, imbalance, high_traffic, low_traffic, disagreement or silent_with_receipts."
    )
    subject: str = Field(description="What it is about: `device:{id} door:{id}`, `door:{id}` or `store`.")
    device_id: str | None
    door_id: str | None
    start: datetime
    end: datetime
    detected_at: datetime = Field(description="When the evidence first crossed the threshold (alerts fire here).")
    score: float = Field(description="Surprise: −log10 of the chance an honest counter shows this; ≥ 3 reported.")
    reason: str


class AnomaliesPublic(BaseModel):
    """Anomalies over a period, oldest first."""

    store_id: str
    first: date
    last: date
    model_version: str
    data: list[AnomalyPublic]
    count: int
