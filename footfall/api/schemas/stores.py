"""Stores."""

from pydantic import BaseModel, ConfigDict, Field


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


class StoresPublic(BaseModel):
    """Stores in the caller's scope."""

    data: list[StorePublic]
    count: int
