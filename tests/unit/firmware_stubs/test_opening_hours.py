"""Simulated stores keep their opening hours: no shoppers and no sales while closed."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from footfall.core.storeconfig import StoreConfig
from footfall.demo.pos import PosSimulator
from footfall.firmware_stubs.store import SimStore

RIGA = ZoneInfo("Europe/Riga")
HOURS = {d: (time(9), time(21)) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def test_the_pos_simulator_sells_only_while_the_store_is_open() -> None:
    sim = PosSimulator(store_id="s", timezone="Europe/Riga", opening_hours=HOURS, seed=1)
    day = datetime(2026, 6, 3, tzinfo=RIGA)
    receipts = sim.receipts_between(day.astimezone(UTC), (day + timedelta(days=1)).astimezone(UTC))
    hours = {datetime.fromisoformat(r["ts"]).astimezone(RIGA).hour for r in receipts}
    assert receipts
    assert min(hours) >= 9  # the shape alone would sell from 07:00
    assert max(hours) < 21


def test_simulated_counters_see_shoppers_only_while_open_and_staff_before() -> None:
    cfg = StoreConfig.from_data(
        {
            "store": {
                "id": "s",
                "name": "S",
                "timezone": "Europe/Riga",
                "opening_hours": {d: ["09:00", "21:00"] for d in HOURS},
            },
            "doors": [{"id": "main", "kind": "customer"}, {"id": "back", "kind": "staff"}],
        }
    )
    start = datetime(2026, 6, 3, 7, tzinfo=RIGA).astimezone(UTC)
    sim = SimStore(store=cfg, counters=[], clock=None, start=start, minutes=4 * 60)  # type: ignore[arg-type]
    arrivals = [c for c in sim.script.crossings if c.direction.value == "in"]
    main = [c.at.astimezone(RIGA).hour for c in arrivals if c.door == "main"]
    back = [c.at.astimezone(RIGA).hour for c in arrivals if c.door == "back"]
    assert main
    assert min(main) >= 9
    assert min(back) < 9  # staff come in before opening
