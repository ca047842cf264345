"""Parameters and dependencies the routers share."""

from datetime import date
from typing import Annotated

from fastapi import Path, Query

from footfall.api.access import Principal
from footfall.api.kpis import Comparison, StoreInfo, all_store_ids, store_info, stores_info
from footfall.core.ids import ID_PATTERN
from footfall.db.connect import DictConnection

MAX_STORES = 2000
"""Most stores one multi-store request may name."""
MONTH_PATTERN = r"^(2\d{3})-(0[1-9]|1[0-2])$"

StoreId = Annotated[str, Path(pattern=ID_PATTERN, min_length=1, max_length=64, description="A store in your scope.")]
First = Annotated[date, Query(description="First store-local date of the period, included (YYYY-MM-DD).")]
Last = Annotated[date, Query(description="Last store-local date of the period, included (YYYY-MM-DD).")]
Limit = Annotated[int, Query(ge=1, le=10_000, description="Rows per page.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")]
CompareQ = Annotated[Comparison, Query(description="What to compare the period with.")]
StoresQ = Annotated[
    list[Annotated[str, Query(pattern=ID_PATTERN, max_length=64)]] | None,
    Query(max_length=MAX_STORES, description="Only these stores (default: every store in your scope)."),
]


def parse_month(value: str) -> date:
    """`YYYY-MM` to the first day of the month (the pattern has been checked)."""
    year, month = value.split("-")
    return date(int(year), int(month), 1)


def scoped_store(conn: DictConnection, caller: Principal, store_id: str) -> StoreInfo:
    """A store the caller may see.

    Raises:
        NotFound: out of scope.
        UnknownStore: no such store (answered as the same 404).
    """
    caller.require_store(store_id)
    return store_info(conn, store_id)


def stores_in_scope(conn: DictConnection, caller: Principal, store_ids: list[str] | None = None) -> list[StoreInfo]:
    """The stores the caller may see, ordered by id: all of them, or those among `store_ids`."""
    return stores_info(conn, caller.filter_stores(store_ids if store_ids else all_store_ids(conn)))
