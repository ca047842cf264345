"""Monthly plans (targets) and plan vs fact."""

from datetime import date, datetime
from decimal import Decimal
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from footfall.api.kpis import PlanFact
from footfall.api.schemas.forecasts import BandPublic
from footfall.api.schemas.kpis import Money, QualityPublic, count
from footfall.core.money import optional_money


class PlanBase(BaseModel):
    """A store's targets for one month."""

    model_config = ConfigDict(extra="forbid")

    revenue_target: Decimal = Field(ge=0, le=Decimal("999999999999.99"), decimal_places=2)
    traffic_target: int | None = Field(default=None, ge=0, le=2_000_000_000)
    conversion_target: float | None = Field(default=None, ge=0, le=1)


class PlanUpdate(PlanBase):
    """Set (create or replace) a month's plan."""


class PlanPublic(PlanBase):
    """A stored plan."""

    store_id: str
    month: date = Field(description="The first day of the month.")
    updated_at: datetime


class PlansPublic(BaseModel):
    """A store's plans."""

    data: list[PlanPublic]
    count: int


class PlanFactPublic(BaseModel):
    """One row of the wall chart: plan, fact, pace, days passed and left, projection."""

    store_id: str
    month: date
    as_of: date | None = Field(description="Last local date counted as fact (today, so far, by default).")
    as_of_time: datetime | None = Field(
        description="When `as_of` is today: fact is counted up to this instant (now, floored to the quarter hour)."
    )
    revenue_plan: Money | None
    revenue_fact: Money
    achieved: float | None = Field(description="fact / plan.")
    pace: float | None = Field(
        description="fact / (plan × days elapsed / days in month); above 1 is ahead. Today counts by the share "
        "of its opening hours that has passed."
    )
    projection: Money | None = Field(description="Month-end revenue at the pace so far.")
    forecast_projection: BandPublic | None = Field(
        default=None,
        description="Month-end revenue: the fact so far plus the revenue forecast for the days left, with the "
        "forecast's 10–90 % band; null without a trained revenue model (`footfall models train`).",
    )
    forecast_model_version: str | None = Field(default=None, description="The revenue model behind it.")
    days_passed: int = Field(description="Local days counted as fact, today included when `as_of` is today.")
    days_left: int
    days_elapsed: float = Field(description="days_passed with today counted by its elapsed share of opening time.")
    traffic_target: int | None
    traffic_fact: int | float | None = Field(description="Visitors; null for a store without door counters.")
    conversion_target: float | None
    conversion_fact: float | None
    quality: QualityPublic

    @classmethod
    def from_plan_fact(cls, p: PlanFact) -> Self:
        """One store's month from the KPI layer (`plan_vs_fact`)."""
        r = p.revenue
        cur = p.store.currency
        return cls.model_validate(
            {
                "store_id": p.store.store_id,
                "month": p.month,
                "as_of": p.as_of,
                "as_of_time": p.as_of_time,
                "revenue_plan": optional_money(r.plan, cur) if r else None,
                "revenue_fact": optional_money(p.revenue_fact, cur),
                "achieved": r.achieved if r else None,
                "pace": r.pace if r else None,
                "projection": optional_money(r.projection, cur) if r else None,
                "days_passed": p.days_passed,
                "days_left": p.days_left,
                "days_elapsed": p.days_elapsed,
                "traffic_target": p.traffic_target,
                "traffic_fact": count(p.traffic_fact),
                "conversion_target": p.conversion_target,
                "conversion_fact": p.conversion_fact,
                "quality": p.quality,
            }
        )


class PlanFactsPublic(BaseModel):
    """The wall chart for every store in scope."""

    data: list[PlanFactPublic]
    count: int
