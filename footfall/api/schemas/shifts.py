"""Staff shifts (for the shopper-to-staff ratio)."""

from datetime import timedelta
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from footfall.api.receipts.model import PRINTABLE

ShiftId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]


class ShiftBase(BaseModel):
    """A member of staff on the sales floor from `starts_at` to `ends_at`."""

    model_config = ConfigDict(extra="forbid")

    shift_id: ShiftId = Field(description="Unique per store; sending it again updates it.")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    role: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=PRINTABLE)] = "sales"

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.ends_at - self.starts_at > timedelta(hours=24):
            raise ValueError("a shift is at most 24 hours long")
        return self


class ShiftCreate(ShiftBase):
    """A shift to create or update."""


class ShiftsCreate(BaseModel):
    """A batch of shifts."""

    model_config = ConfigDict(extra="forbid")

    shifts: list[ShiftCreate] = Field(min_length=1, max_length=5000)


class ShiftPublic(ShiftBase):
    """A stored shift."""

    store_id: str


class ShiftsPublic(BaseModel):
    """Shifts in a period."""

    data: list[ShiftPublic]
    count: int


class ShiftsSaved(BaseModel):
    """How many shifts a batch created or updated."""

    saved: int
