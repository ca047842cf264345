"""The one formatter of pydantic errors: `where: what`, the whole input named when there is no where."""

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from footfall.core.configfile import format_errors


class _Door(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    width_m: float

    @field_validator("width_m")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be more than 0")
        return v


class _Store(BaseModel):
    model_config = ConfigDict(extra="forbid")
    doors: list[_Door]


@pytest.mark.parametrize(
    ("data", "empty", "expected"),
    [
        # a nested field: a dotted path with the list index
        ({"doors": [{"id": "a", "width_m": 1}, {"id": "b"}]}, "(top level)", ["doors.1.width_m: Field required"]),
        # a validator's message without pydantic's "Value error, " prefix
        ({"doors": [{"id": "a", "width_m": -1}]}, "(top level)", ["doors.0.width_m: must be more than 0"]),
        # every error, one line each
        (
            {"doors": [{"id": "a", "width_m": 1, "colour": "red"}], "name": "x"},
            "(top level)",
            ["doors.0.colour: Extra inputs are not permitted", "name: Extra inputs are not permitted"],
        ),
        # no location: the caller names the whole input
        ("not a mapping", "payload", ["payload: Input should be a valid dictionary or instance of _Store"]),
    ],
)
def test_format_errors(data: object, empty: str, expected: list[str]) -> None:
    with pytest.raises(ValidationError) as info:
        _Store.model_validate(data)
    assert format_errors(info.value, empty=empty) == expected
