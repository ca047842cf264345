"""Parameters and converters the routers share."""

from datetime import date
from typing import Annotated

import psycopg
from fastapi import Path, Query

from footfall.api.access import Principal
from footfall.api.kpis import KpiValue, Quality, StoreInfo, store_info
from footfall.api.schemas.kpis import KpiValuePublic, QualityPublic
from footfall.core.ids import ID_PATTERN

StoreId = Annotated[str, Path(pattern=ID_PATTERN, min_length=1, max_length=64, description="A store in your scope.")]
First = Annotated[date, Query(description="First store-local date of the period, included (YYYY-MM-DD).")]
Last = Annotated[date, Query(description="Last store-local date of the period, included (YYYY-MM-DD).")]
MONTH_PATTERN = r"^(2\d{3})-(0[1-9]|1[0-2])$"
Limit = Annotated[int, Query(ge=1, le=10_000, description="Rows per page.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")]


def parse_month(value: str) -> date:
    """`YYYY-MM` to the first day of the month (the pattern has been checked)."""
    year, month = value.split("-")
    return date(int(year), int(month), 1)


def scoped_store(conn: psycopg.Connection, caller: Principal, store_id: str) -> StoreInfo:
    """A store the caller may see.

    Raises:
        NotFound: out of scope, or no such store (the same answer for both).
    """
    caller.require_store(store_id)
    return store_info(conn, store_id)


def quality_public(q: Quality) -> QualityPublic:
    """The public form of a Quality."""
    return QualityPublic(
        door_coverage=q.door_coverage,
        invalid_minutes=q.invalid_minutes,
        pos_gap_minutes=q.pos_gap_minutes,
        door_complete=q.door_complete,
        flags=list(q.flags),
    )


def value_public(v: KpiValue) -> KpiValuePublic:
    """The public form of a KpiValue."""
    return KpiValuePublic(kpi=v.kpi, value=v.value, comparison=v.comparison, change=v.delta, change_ratio=v.ratio)
