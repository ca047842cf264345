"""The daily digest: queued at the store's closing time, listing every red zone of the day with
the figures the API gives for that day."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from footfall.alerts.delivery import DeliveryWorker
from footfall.alerts.engine import Engine
from footfall.db.alerts import create_subscription
from tests.integration.alerts.conftest import T0, World, login, riga_store, sales, traffic
from tests.integration.alerts.test_engine import CONVERSION_RULE

pytestmark = pytest.mark.integration


def test_daily_digest_lists_both_red_zones_with_the_apis_figures(world: World, client: TestClient) -> None:
    riga_store(world.conn, "a")
    world.user("ann", ["a"])
    for channel, target in (("email", "ann@example.test"), ("telegram", "chat-ann")):
        create_subscription(world.conn, user_id=world.users["ann"], channel=channel, target=target, digest="daily")
    world.rule("ann", **CONVERSION_RULE, scope={"store": "a"})
    # Wednesday 10:00–21:00 local: two quiet hours at the tills (10–11 and 14–15), busy otherwise.
    traffic(world.conn, "a", T0, 11 * 60)
    for hour in range(11):
        start = T0 + timedelta(hours=hour)
        sales(world.conn, "a", start, 6 if hour in (0, 4) else 40, every_s=600 if hour in (0, 4) else 90)
    engine, worker = Engine(world.settings, clock=world.clock), DeliveryWorker(world.settings)
    try:
        for _ in range(11 * 4 + 2):  # every 15 minutes until 21:30
            world.clock.advance(15 * 60)
            engine.cycle()
        worker.drain()
        firings = world.count("SELECT count(*) AS n FROM alert_events WHERE kind = 'firing'")
        assert firings == 2
        digests = [m for m in world.mailbox.messages if "digest" in m["Subject"]]
        assert len(digests) == 1
        assert "2 red zone(s)" in digests[0]["Subject"]
        text = digests[0].get_body(("plain",)).get_content()
        assert "Red zones: 2" in text
        telegram = [t for t in world.telegram.received if "daily digest" in t["text"]]
        assert len(telegram) == 1
        payload = world.conn.execute(
            "SELECT payload FROM alert_outbox WHERE digest_key = 'daily/a/2026-06-03' AND channel = 'email'"
        ).fetchone()["payload"]
        # each fires three quarters into its quiet hour, once 30+ visitors were counted against few receipts
        assert [r["at_local"][11:16] for r in payload["red_zones"]] == ["10:45", "14:45"]
        api = client.get(
            "/v1/stores/a/kpis/summary",
            params={"first": "2026-06-03", "last": "2026-06-03", "compare": "same_weekday_last_week"},
            headers=login(client, "ann"),
        ).json()
        by_kpi = {v["kpi"]: v["value"] for v in api["data"]}
        for kpi, figures in payload["kpis"].items():
            assert figures["value"] == pytest.approx(by_kpi[kpi]), kpi
        assert by_kpi["visitors"] == 11 * 60 * 2
        # Queued once: later cycles the same evening add nothing.
        engine.cycle()
        assert world.count("SELECT count(*) AS n FROM alert_outbox WHERE digest_key IS NOT NULL") == 2
    finally:
        engine.close()
        worker.close()
