"""Merchandising queries on planted data: slow movers, checkout queues, the layout-change effect."""

from datetime import UTC, date, datetime, timedelta

import numpy as np
import psycopg
import pytest
from psycopg.types.json import Jsonb

from footfall.api.kpis.store import store_info
from footfall.api.merch import queries as q
from footfall.api.merch.errors import UnanswerablePeriod, UnknownChange, UnknownZone
from footfall.api.receipts import Receipt
from footfall.api.schemas.merch import LayoutChangeIn
from footfall.core.storeconfig import StoreConfig
from footfall.db.stores import apply_store
from footfall.demo.pos import SLOW_MOVERS, PosSimulator
from tests.integration.api.conftest import add_door_minutes, add_receipts

pytestmark = pytest.mark.integration

STORE = {
    "store": {"id": "shop", "name": "Shop", "timezone": "UTC"},
    "floors": [{"id": "ground", "width_m": 20, "height_m": 10}],
    "doors": [{"id": "main"}],
    "zones": [
        {
            "id": "bakery",
            "floor": "ground",
            "polygon": [[1, 1], [6, 1], [6, 5], [1, 5]],
            "categories": ["bread", "pastry", "cake"],
        },
        {
            "id": "coffee",
            "floor": "ground",
            "polygon": [[7, 1], [12, 1], [12, 5], [7, 5]],
            "categories": ["coffee", "tea", "hot drinks"],
        },
        {
            "id": "grocery",
            "floor": "ground",
            "polygon": [[13, 1], [19, 1], [19, 5], [13, 5]],
            "categories": ["grocery"],
            "comfort_limit": 4,
        },
        {
            "id": "queue",
            "floor": "ground",
            "kind": "queue",
            "till": "till",
            "polygon": [[10, 6], [16, 6], [16, 9], [10, 9]],
        },
        {"id": "till", "floor": "ground", "polygon": [[17, 6], [19, 6], [19, 9], [17, 9]]},
    ],
    "devices": [
        {"id": "cam1", "kind": "camera", "floor": "ground", "zones": ["bakery", "coffee", "grocery", "queue", "till"]}
    ],
}


@pytest.fixture
def shop(aconn: psycopg.Connection):
    apply_store(aconn, StoreConfig.from_data(STORE))
    return store_info(aconn, "shop")


def zone_minute(
    conn,
    zone: str,
    start: datetime,
    *,
    entries: int,
    exits: int,
    dwell: list[float],
    occupancy: int,
    device: str = "cam1",
    peak: int | None = None,
) -> None:
    conn.execute(
        "INSERT INTO zone_visits (store_id, device_id, zone_id, start_ts, end_ts, entries, exits, dwell_s,"
        " occupancy, seq) VALUES ('shop', %s, %s, %s, %s, %s, %s, %s, %s, 1)",
        (device, zone, start, start + timedelta(minutes=1), entries, exits, dwell, occupancy),
    )
    conn.execute(
        "INSERT INTO occupancy (store_id, device_id, zone_id, start_ts, end_ts, occupancy, peak, seq)"
        " VALUES ('shop', %s, %s, %s, %s, %s, %s, 1)",
        (device, zone, start, start + timedelta(minutes=1), occupancy, peak if peak is not None else occupancy),
    )


def test_planted_slow_movers_rank_at_the_bottom(aconn: psycopg.Connection, shop) -> None:
    sim = PosSimulator(store_id="shop", timezone="UTC", receipts_per_hour=12, seed=3)
    start = datetime(2026, 5, 1, tzinfo=UTC)
    receipts = [Receipt.model_validate(r) for r in sim.receipts_between(start, start + timedelta(days=56))]
    # planted dead stock: sold in the first fortnight, never since
    dead = [
        Receipt.model_validate(
            {
                "receipt_id": f"old-{i}",
                "store_id": "shop",
                "ts": (start + timedelta(days=i, hours=12)).isoformat(),
                "lines": [{"sku": "GR-OLD", "category": "grocery", "unit_price": "9.90"}],
            }
        )
        for i in range(0, 14, 3)
    ]
    add_receipts(aconn, *receipts, *dead)
    first, last = date(2026, 5, 29), date(2026, 6, 25)  # the last four weeks
    p = q.product_sales(aconn, store=shop, first=first, last=last)
    ranks = {r.sku: r for r in p.data}
    assert ranks["GR-OLD"].rank == 1  # nothing sold in the period, the longest since its last sale
    assert ranks["GR-OLD"].units == 0
    assert ranks["GR-OLD"].days_since_last_sale == (last - date(2026, 5, 13)).days
    planted = [s for s in SLOW_MOVERS if s in ranks] + ["GR-OLD"]
    assert len(planted) >= 3
    # every planted product ranks below every regular one
    assert {r.sku for r in p.data[: len(planted)]} == set(planted)
    assert ranks["GR-OLD"].zones == ["grocery"]
    cats = q.category_sales(aconn, store=shop, first=first, last=last)
    assert {c.category for c in cats.data} >= {"bread", "coffee"}
    assert sum(c.revenue for c in cats.data) == pytest.approx(sum(r.revenue for r in p.data), abs=0.05)


def test_queue_wait_from_tracks_then_littles_law_and_abandonment(aconn: psycopg.Connection, shop) -> None:
    t0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    # 10:00–10:15: tracks hold, every departure has a dwell (median 90 s)
    for i in range(15):
        zone_minute(aconn, "queue", t0 + timedelta(minutes=i), entries=2, exits=2, dwell=[80.0, 100.0], occupancy=3)
    # 10:15–10:30: tracks break in the crowd: no dwell, 4 waiting, 2 arrivals a minute → W = 4 / (2/60) = 120 s
    for i in range(15, 30):
        zone_minute(aconn, "queue", t0 + timedelta(minutes=i), entries=2, exits=2, dwell=[], occupancy=4, peak=6)
    lines = (
        [[[11, 7], [15, 7], [17.5, 7.5]]] * 3  # served: queue → till
        + [[[11, 7], [13, 8], [13, 9.5], [13, 11]]] * 2  # abandoned: queue → out of the store
        + [[[11, 7], [12, 7]]]  # still queueing when the minute ended: unknown
    )
    for n, pts in enumerate(lines):
        aconn.execute(
            "INSERT INTO tracks (store_id, device_id, floor_id, start_ts, end_ts, track_no, points, seq)"
            " VALUES ('shop', 'cam1', 'ground', %s, %s, %s, %s, 1)",
            (t0, t0 + timedelta(minutes=1), n, Jsonb([{"t": i, "x": x, "y": y} for i, (x, y) in enumerate(pts)])),
        )
    r = q.queue_report(aconn, store=shop, zone_id="queue", first=t0.date(), last=t0.date())
    assert [(s.wait_method, s.wait_s) for s in r.data] == [("tracked", 90.0), ("littles_law", 120.0)]
    assert [s.length_max for s in r.data] == [3, 6]
    assert (r.served, r.abandoned, r.abandonment_rate) == (3, 2, 0.4)
    assert r.wait_median_s == 90.0
    # what an alert rule asks at 10:30: the last quarter hour as one slot
    now = q.queue_now(aconn, store=shop, zone_id="queue", minutes=15, now=t0 + timedelta(minutes=30, seconds=20))
    assert [(s.wait_method, s.wait_s, s.length_max) for s in now.data] == [("littles_law", 120.0, 6)]
    # a window across the quarter-hour boundary is still one slot: 10:07–10:22, tracked minutes prevail
    mixed = q.queue_now(aconn, store=shop, zone_id="queue", minutes=15, now=t0 + timedelta(minutes=22))
    assert [(s.start, s.arrivals) for s in mixed.data] == [(t0 + timedelta(minutes=7), 30)]
    with pytest.raises(UnknownZone, match="not a queue"):
        q.queue_report(aconn, store=shop, zone_id="bakery", first=t0.date(), last=t0.date())


def test_zone_report_lists_dead_zones_and_hot_spots(aconn: psycopg.Connection, shop) -> None:
    t0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    add_door_minutes(aconn, "shop", t0, 60, entries=5)  # 300 visitors
    for i in range(60):
        t = t0 + timedelta(minutes=i)
        zone_minute(aconn, "bakery", t, entries=2, exits=2, dwell=[30.0, 50.0], occupancy=2)
        zone_minute(aconn, "coffee", t, entries=1, exits=1, dwell=[60.0], occupancy=1)
        zone_minute(
            aconn,
            "grocery",
            t,
            entries=1 if i % 20 == 0 else 0,
            exits=0,
            dwell=[],
            occupancy=0,
            peak=6 if i in (5, 6) else 0,
        )
        # a second camera also sees the bakery, and counts fewer: it must not add to it
        zone_minute(aconn, "bakery", t, entries=1, exits=1, dwell=[10.0], occupancy=1, device="cam2")
    sale = {
        "receipt_id": "r1",
        "store_id": "shop",
        "ts": (t0 + timedelta(minutes=5)).isoformat(),
        "lines": [
            {"sku": "BR-RYE", "category": "bread", "unit_price": "240.00"},
            {"sku": "CO-LAT", "category": "coffee", "unit_price": "100.00"},
            {"sku": "GR-JAM", "category": "grocery", "unit_price": "1.00"},
        ],
    }
    add_receipts(aconn, Receipt.model_validate(sale))
    r = q.zone_report(aconn, store=shop, first=t0.date(), last=t0.date())
    z = {row.zone_id: row for row in r.data}
    assert r.visitors == 300
    assert z["bakery"].visits == 120  # the owning camera's count, not 180
    assert z["bakery"].reach == pytest.approx(0.4)
    assert z["bakery"].dwell_median_s == pytest.approx(40.0)
    assert z["bakery"].revenue_per_m2 == pytest.approx(240 / 20)
    assert z["bakery"].sales_per_visit == pytest.approx(2.0)
    assert r.dead_zones == ["grocery"]  # 3 visits of 300 and 1 € on 24 m²
    assert r.hot_spots == ["grocery"]  # 6 people against a comfort limit of 4, two minutes
    assert z["grocery"].minutes_over_limit == 2
    with pytest.raises(UnanswerablePeriod, match="swap"):
        q.zone_report(aconn, store=shop, first=t0.date(), last=t0.date() - timedelta(days=1))


def test_layout_change_effect_finds_a_planted_dwell_increase(aconn: psycopg.Connection, shop) -> None:
    changed = date(2026, 6, 1)
    rng = np.random.default_rng(7)
    for d in range(-28, 28):
        day = changed + timedelta(days=d)
        t = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        visits = int(rng.poisson(60))
        scale = 1.2 if d >= 0 else 1.0  # the planted +20 % dwell after the change
        dwell = (rng.lognormal(np.log(40.0), 0.5, visits) * scale).round(2).tolist()
        zone_minute(aconn, "coffee", t, entries=visits, exits=visits, dwell=dwell, occupancy=0)
        add_door_minutes(aconn, "shop", t, 1, entries=int(rng.poisson(300)))
    change = q.record_layout_change(
        aconn,
        store=shop,
        change=LayoutChangeIn(changed_on=changed, zones=["coffee"], note="new coffee bar"),
        created_by="ann",
    )
    assert q.layout_changes(aconn, store=shop).count == 1
    e = q.layout_effect(aconn, store=shop, change_id=change.change_id, today=date(2026, 7, 15))
    by = {x.metric: x for x in e.data}
    assert by["dwell"].verdict == "increase"
    assert by["dwell"].ci_low < 0.2 < by["dwell"].ci_high
    assert by["reach"].verdict == "no detectable change"
    assert (e.before_first, e.after_last) == (date(2026, 5, 4), date(2026, 6, 28))
    assert "coffee dwell increased" in e.summary
    # a change two days old: the data cannot tell yet
    young = q.layout_effect(aconn, store=shop, change_id=change.change_id, today=date(2026, 6, 3))
    assert all(x.verdict == "cannot tell" for x in young.data)
    assert "cannot tell" in young.summary
    with pytest.raises(UnknownChange):
        q.layout_effect(aconn, store=shop, change_id=999)
    with pytest.raises(UnknownZone, match="no zone 'roof'"):
        q.record_layout_change(
            aconn, store=shop, change=LayoutChangeIn(changed_on=changed, zones=["roof"]), created_by=None
        )
