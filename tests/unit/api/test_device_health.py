"""Device health rules: the first that holds decides."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from footfall.api.devices import health_of
from footfall.api.schemas.devices import Health

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def row(**kw: Any) -> dict[str, Any]:
    return {"active": True, "state": None, "faults": [], "all_valid": True} | kw


@pytest.mark.parametrize(
    ("r", "last_seen", "health", "reason"),
    [
        (row(), NOW - timedelta(seconds=30), Health.OK, "reporting"),  # heard from recently
        (row(active=False), NOW, Health.INACTIVE, "switched off"),  # switched off wins over everything
        (row(state="offline"), NOW, Health.OFFLINE, "Last Will"),  # the agent's Last Will
        (row(), None, Health.NEVER_SEEN, "nothing heard"),  # never reported
        (row(), NOW - timedelta(minutes=45), Health.STALE, "silent for 45 min"),  # a counter that died
        (row(), NOW - timedelta(hours=5), Health.STALE, "silent for 5 h"),  # long silence in hours
        (row(faults=["stuck"]), NOW, Health.FAULT, "reports stuck"),  # the agent reports a fault
        (row(all_valid=False), NOW, Health.FAULT, "flagged invalid"),  # counts flagged invalid
        (row(faults=["stuck"]), NOW - timedelta(hours=1), Health.STALE, "silent"),  # silence outranks a fault
    ],
)
def test_health_of(r: dict[str, Any], last_seen: datetime | None, health: Health, reason: str) -> None:
    got, why = health_of(r, last_seen=last_seen, now=NOW, silence_limit_s=600)
    assert got is health
    assert reason in why
