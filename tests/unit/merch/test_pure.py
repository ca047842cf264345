"""The pure merchandising computations: queue slots and exits, zone flows, slow-mover ranking, dead/hot zones."""

from datetime import UTC, date, datetime, timedelta

import pytest

from footfall.api.merch.paths import count_flows, zone_sequence
from footfall.api.merch.queues import QueueMinute, queue_exits, queue_slots
from footfall.api.merch.sales import ProductRow, rank_slow_movers
from footfall.api.merch.zones import ZoneFigures, classify

T0 = datetime(2026, 6, 1, 10, tzinfo=UTC)
QUEUE = [(0.0, 0.0), (4.0, 0.0), (4.0, 2.0), (0.0, 2.0)]
TILL = [(5.0, 0.0), (7.0, 0.0), (7.0, 2.0), (5.0, 2.0)]
ZONES = [("a", [(0, 0), (2, 0), (2, 2), (0, 2)]), ("b", [(4, 0), (6, 0), (6, 2), (4, 2)])]


@pytest.mark.parametrize(
    ("minutes", "want"),
    [
        # every departure tracked: the median dwell
        ([QueueMinute(T0, 2, 2, [60.0, 120.0], 3, 4)], ("tracked", 90.0, 3.0, 4)),
        # tracks broke (no dwell): Little's law, 3 people / (2 per minute) = 90 s
        ([QueueMinute(T0, 2, 2, [], 3, None)], ("littles_law", 90.0, 3.0, 3)),
        # nobody came: no wait to estimate
        ([QueueMinute(T0, 0, 0, [], 0, 0)], ("none", None, 0.0, 0)),
    ],
)
def test_queue_slot_wait(minutes, want) -> None:
    (slot,) = queue_slots(minutes, slot=timedelta(minutes=15))
    assert (slot.wait_method, slot.wait_s, slot.length_mean, slot.length_max) == want


@pytest.mark.parametrize(
    ("line", "want"),
    [
        ([(1, 1), (3, 1), (6, 1)], (1, 0)),  # queue → till: served
        ([(1, 1), (3, 1), (3, 5)], (0, 1)),  # queue → away: abandoned
        ([(1, 1), (3, 1), (4.5, 1), (6, 1)], (1, 0)),  # a step between queue and till still reaches it
        ([(1, 1), (2, 1)], (0, 0)),  # ends in the queue: unknown
        ([(6, 1), (8, 1)], (0, 0)),  # never queued
    ],
)
def test_queue_exits(line, want) -> None:
    assert queue_exits([line], queue=QUEUE, till=TILL) == want


def test_flows_skip_aisles_and_drop_rare_ones() -> None:
    assert zone_sequence([(1, 1), (1.5, 1), (3, 1), (5, 1), (3, 1), (1, 1)], ZONES) == ["a", "b", "a"]
    lines = [[(1, 1), (3, 1), (5, 1)]] * 3 + [[(5, 1), (1, 1)]]
    f = count_flows(lines, ZONES, k=3)
    assert f.transitions == [("a", "b", 3)]
    assert f.routes == [("a", "b", 3)]
    assert f.suppressed == 2  # b → a, once, as a transition and as a route
    assert f.nodes == ["a", "b"]


def test_slow_movers_rank_dead_stock_first() -> None:
    rows = [
        ProductRow("fast", None, "bread", 70.0, 140.0, 7, date(2026, 6, 7)),
        ProductRow("slow", None, "bread", 1.0, 2.0, 1, date(2026, 6, 3)),
        ProductRow("dead", None, "bread", 0.0, 0.0, 0, date(2026, 4, 1)),
        ProductRow("dead-recent", None, "tea", 0.0, 0.0, 0, date(2026, 5, 30)),
    ]
    ranked = rank_slow_movers(
        rows, days=7, last=date(2026, 6, 7), category_zones={"bread": ["bakery"]}, zone_revenue={"bakery": 142.0}
    )
    assert [p.row.sku for p in ranked] == ["dead", "dead-recent", "slow", "fast"]
    assert ranked[0].days_since_last_sale == 67
    assert ranked[3].velocity == 10.0
    assert ranked[3].zone_revenue_share == pytest.approx(140 / 142)
    assert ranked[1].zones == []


def zone(zid: str, reach: float, rpm: float | None, *, over: int | None = None, sells: bool = True) -> ZoneFigures:
    return ZoneFigures(zid, 10, reach, None, None, None, over, 0.0, rpm, sells)


@pytest.mark.parametrize(
    ("zones", "dead", "hot"),
    [
        # low reach and low revenue per m² against the median: dead
        ([zone("a", 0.4, 10.0), zone("b", 0.3, 8.0), zone("c", 0.02, 1.0)], {"c"}, set()),
        # low reach but sells well: not dead (a destination shelf)
        ([zone("a", 0.4, 10.0), zone("b", 0.3, 8.0), zone("c", 0.02, 9.0)], set(), set()),
        # a till sells nothing by design: never judged dead; crowding makes a hot spot
        ([zone("a", 0.4, 10.0), zone("t", 0.01, None, over=3, sells=False)], set(), {"t"}),
    ],
)
def test_dead_zones_and_hot_spots(zones, dead: set[str], hot: set[str]) -> None:
    assert classify(zones) == (dead, hot)
