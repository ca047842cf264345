"""When digests fall due: the day's at closing time, the week's after the week's last open day."""

from datetime import UTC, date, datetime, time

import pytest

from footfall.alerts.digests import due_digests
from footfall.api.kpis import StoreInfo

STORE = StoreInfo(
    store_id="a",
    name="A",
    timezone="Europe/Riga",
    customer_doors=("main",),
    opening_hours={d: (time(9), time(21)) for d in ("mon", "tue", "wed", "thu", "fri", "sat")} | {"sun": None},
)


@pytest.mark.parametrize(
    ("now", "due"),
    [
        ("2026-06-03T17:59", []),  # Wednesday 20:59 in Riga: still open
        ("2026-06-03T18:00", [("daily", date(2026, 6, 3), date(2026, 6, 3))]),  # 21:00: closed
        (
            "2026-06-06T18:30",  # Saturday after closing: the week's last open day
            [("daily", date(2026, 6, 6), date(2026, 6, 6)), ("weekly", date(2026, 6, 1), date(2026, 6, 6))],
        ),
        ("2026-06-07T12:00", []),  # Sunday: closed all day, no digest
    ],
)
def test_due_digests(now: str, due: list) -> None:
    assert due_digests(STORE, datetime.fromisoformat(now).replace(tzinfo=UTC)) == due
