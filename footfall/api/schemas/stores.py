"""Stores."""

from datetime import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class StorePublic(BaseModel):
    """A store in the caller's scope."""

    # Built from the KPI layer's `StoreInfo`.
    model_config = ConfigDict(from_attributes=True)

    store_id: str
    name: str
    timezone: str = Field(description="IANA zone; every KPI is in this local calendar.")
    sales_area_m2: float | None
    currency: str
    customer_doors: list[str]
    outward_doors: list[str] = Field(description="Customer doors whose counter also counts passers-by.")
    opening_hours: dict[str, list[str] | None] = Field(
        default_factory=dict,
        description='Weekday (mon..sun) → ["HH:MM", "HH:MM"] local opening and closing time; null: closed; '
        "none given: always open.",
    )

    @field_validator("opening_hours", mode="before")
    @classmethod
    def _hhmm(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {
            day: None if h is None else [t.strftime("%H:%M") if isinstance(t, time) else t for t in h]
            for day, h in value.items()
        }


class StoresPublic(BaseModel):
    """Stores in the caller's scope."""

    data: list[StorePublic]
    count: int
