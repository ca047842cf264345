"""The engine and delivery worker against the real PostgreSQL, with local stand-ins for the
webhook receiver, the SMTP server and the Telegram Bot API."""

from datetime import timedelta

import psycopg
import pytest

from footfall.alerts.delivery import DeliveryWorker
from footfall.alerts.engine import Engine
from footfall.api.access import Role
from footfall.db.alerts import create_subscription
from tests.helpers import wait_until
from tests.integration.alerts.conftest import T0, World, riga_store, sales, traffic

pytestmark = pytest.mark.integration

CONVERSION_RULE = {
    "name": "Conversion below 15 %",
    "metric": "conversion",
    "comparator": "<",
    "threshold": 0.15,
    "hysteresis": 0.02,
    "window": {"rolling_minutes": 60},
}


def kinds(world: World) -> dict[str, list[str]]:
    """Notifications received per channel, as event kinds in order."""
    return {
        "webhook": [r["body"]["kind"] for r in world.webhooks.received],
        "email": [m["Subject"].split(" at ")[-1] for m in world.mailbox.messages],
        "telegram": [t["text"].splitlines()[0] for t in world.telegram.received],
    }


def test_conversion_below_border_notifies_each_channel_once_and_resolves_once(world: World) -> None:
    riga_store(world.conn, "a")
    world.user("ann", ["a"])
    world.subscribe_all_channels("ann", store_id="a")
    world.rule("ann", **CONVERSION_RULE, scope={"store": "a"})
    engine = Engine(world.settings, clock=world.clock, name="e1")
    worker = DeliveryWorker(world.settings)
    try:
        # 10:00–11:00 local: 2 visitors a minute, a receipt every 6 minutes: conversion ≈ 8 %.
        traffic(world.conn, "a", T0, 60)
        sales(world.conn, "a", T0, 10, every_s=360)
        world.clock.advance(3600)
        for _ in range(3):  # repeated cycles on the same data add nothing
            engine.cycle()
            worker.drain()
        assert world.webhooks.received
        assert all(r["verified"] for r in world.webhooks.received)
        assert [r["body"]["kind"] for r in world.webhooks.received] == ["firing"]
        assert len(world.mailbox.messages) == 1
        assert len(world.telegram.received) == 1
        body = world.webhooks.received[0]["body"]
        assert body["rule"]["metric"] == "conversion"
        assert body["store"]["id"] == "a"
        assert body["value"] < 0.15
        assert body["border"] == 0.15
        assert body["since_local"].startswith("2026-06-03T11:00")  # store-local time
        assert body["links"]["alert"].endswith(f"/v1/alerts/{body['state_id']}")
        mail = world.mailbox.messages[0]
        assert mail.get_body(("plain",)).get_content().count("border < 15.0 %") == 1
        assert "<html>" in mail.get_body(("html",)).get_content()
        assert "Acknowledge: " in world.telegram.received[0]["text"]

        # 11:00–11:30: the shop gets busy at the tills: conversion recovers well past 17 %.
        traffic(world.conn, "a", T0 + timedelta(hours=1), 30)
        sales(world.conn, "a", T0 + timedelta(hours=1), 40, every_s=45)
        world.clock.advance(1800)
        for _ in range(3):
            engine.cycle()
            worker.drain()
        assert [r["body"]["kind"] for r in world.webhooks.received] == ["firing", "resolved"]
        assert len(world.mailbox.messages) == 2
        assert len(world.telegram.received) == 2
        assert world.count("SELECT count(*) AS n FROM alert_outbox WHERE delivered_at IS NULL") == 0
        assert world.count("SELECT count(*) AS n FROM alert_outbox WHERE channel = 'mqtt'") == 2
    finally:
        engine.close()
        worker.close()


def test_failed_webhook_is_retried_with_backoff_and_delivered_once(world: World) -> None:
    riga_store(world.conn, "a")
    world.user("ann", ["a"])
    world.subscribe_all_channels("ann", store_id="a")
    world.rule("ann", **CONVERSION_RULE, scope={"store": "a"})
    world.webhooks.fail_next = 2
    engine = Engine(world.settings, clock=world.clock)
    worker = DeliveryWorker(world.settings)
    try:
        traffic(world.conn, "a", T0, 60)
        sales(world.conn, "a", T0, 5, every_s=600)
        world.clock.advance(3600)
        engine.cycle()
        import time

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(world.webhooks.received) < 1:
            worker.drain()
            time.sleep(0.05)
        row = world.conn.execute("SELECT attempts, last_error FROM alert_outbox WHERE channel = 'webhook'").fetchone()
        assert row["attempts"] == 3
        assert [r["body"]["kind"] for r in world.webhooks.received] == ["firing"]
    finally:
        engine.close()
        worker.close()


def test_subscriber_of_store_a_never_hears_about_store_b(world: World) -> None:
    riga_store(world.conn, "a")
    riga_store(world.conn, "b")
    world.user("ann", ["a"])
    world.user("boss", [], role=Role.ADMIN)
    # ann subscribes to everything she may see, and even names store b's rule directly.
    world.subscribe_all_channels("ann")
    rule_b = world.rule("boss", **CONVERSION_RULE, scope={"store": "b"})
    world.subscribe_all_channels("ann", rule_id=rule_b)
    world.rule("boss", **CONVERSION_RULE, scope={"store": "a"})
    engine = Engine(world.settings, clock=world.clock)
    worker = DeliveryWorker(world.settings)
    try:
        for s in ("a", "b"):
            traffic(world.conn, s, T0, 60)
            sales(world.conn, s, T0, 5, every_s=600)
        world.clock.advance(3600)
        engine.cycle()
        worker.drain()
        assert world.count("SELECT count(*) AS n FROM alert_events WHERE kind = 'firing'") == 2
        assert {r["body"]["store"]["id"] for r in world.webhooks.received} == {"a"}
        assert len(world.webhooks.received) == 1
        assert all("store b" not in m["Subject"].lower() and "(b)" not in str(m) for m in world.mailbox.messages)
        assert len(world.mailbox.messages) == 1
        assert len(world.telegram.received) == 1
        assert all("(a)" in t["text"] for t in world.telegram.received)
    finally:
        engine.close()
        worker.close()


def test_in_store_screen_gets_the_retained_current_state_over_mqtt(world: World, mqtt_settings) -> None:
    import json
    import queue
    import secrets

    import jsonschema_rs
    import paho.mqtt.client as mqtt

    from footfall.core.alertstate import StoreAlerts
    from footfall.core.asyncapi import asyncapi_document
    from footfall.core.topics import alerts_topic

    riga_store(world.conn, "a")
    world.user("ann", ["a"])
    world.rule("ann", **CONVERSION_RULE, scope={"store": "a"})
    engine, worker = Engine(world.settings, clock=world.clock), DeliveryWorker(world.settings)
    topic = alerts_topic(world.settings.mqtt.prefix, "a")
    got: queue.Queue = queue.Queue()
    try:
        traffic(world.conn, "a", T0, 60)
        sales(world.conn, "a", T0, 5, every_s=600)
        world.clock.advance(3600)
        engine.cycle()
        worker.drain()
        assert (
            world.count("SELECT count(*) AS n FROM alert_outbox WHERE channel = 'mqtt' AND delivered_at IS NOT NULL")
            == 1
        )
        # A screen that connects afterwards still gets the state: it is retained.
        screen = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"screen-{secrets.token_hex(3)}")
        screen.on_message = lambda c, u, m: got.put((m.retain, json.loads(m.payload)))
        screen.connect(mqtt_settings.host, mqtt_settings.port)
        screen.subscribe(topic, qos=1)
        screen.loop_start()
        retained, body = got.get(timeout=10)
        screen.loop_stop()
        screen.disconnect()
        assert retained
        assert body["store_id"] == "a"
        assert [(r["name"], r["state"]) for r in body["rules"]] == [("Conversion below 15 %", "firing")]
        # the body is the model the AsyncAPI document describes (docs/asyncapi.json, channel `alerts`)
        assert StoreAlerts.model_validate(body).rules[0].metric == "conversion"
        schema = {"$ref": "#/components/schemas/StoreAlerts", "components": asyncapi_document()["components"]}
        assert jsonschema_rs.validator_for(schema).is_valid(body)
    finally:
        engine.close()
        worker.close()


def test_webhook_target_no_longer_allowed_is_refused_at_delivery_and_given_up(world: World) -> None:
    riga_store(world.conn, "a")
    world.user("ann", ["a"])
    world.subscribe_all_channels("ann", store_id="a")
    world.rule("ann", **CONVERSION_RULE, scope={"store": "a"})
    world.settings.alerts.webhook_allow = []  # the receiver is on loopback: now refused (SSRF guard)
    engine, worker = Engine(world.settings, clock=world.clock), DeliveryWorker(world.settings)
    try:
        traffic(world.conn, "a", T0, 60)
        sales(world.conn, "a", T0, 5, every_s=600)
        world.clock.advance(3600)
        engine.cycle()
        worker.drain()
        row = world.conn.execute(
            "SELECT attempts, failed_at, last_error FROM alert_outbox WHERE channel = 'webhook'"
        ).fetchone()
        assert world.webhooks.received == []
        assert row["attempts"] == 1
        assert row["failed_at"] is not None  # given up at once: retrying cannot help
        assert "FOOTFALL_ALERTS__WEBHOOK_ALLOW" in row["last_error"]
        assert len(world.mailbox.messages) == 1  # the other channels are not held up
    finally:
        engine.close()
        worker.close()


def test_crash_after_sending_before_marking_resends_with_the_same_webhook_id(world: World) -> None:
    riga_store(world.conn, "a")
    world.user("ann", ["a"])
    sub = create_subscription(world.conn, user_id=world.users["ann"], channel="webhook", target=world.webhooks.url)
    world.webhooks.secrets.append(sub["secret"])
    world.rule("ann", **CONVERSION_RULE, scope={"store": "a"})
    engine = Engine(world.settings, clock=world.clock)
    traffic(world.conn, "a", T0, 60)
    sales(world.conn, "a", T0, 5, every_s=600)
    world.clock.advance(3600)
    engine.cycle()
    engine.close()

    class DiesAfterSending(DeliveryWorker):
        def send(self, conn, row) -> None:
            super().send(conn, row)
            if row["channel"] == "webhook":
                conn.close()  # the process "dies" with the webhook sent and not yet marked

    doomed = DiesAfterSending(world.settings)
    with pytest.raises(psycopg.OperationalError):
        doomed.drain()
    worker = DeliveryWorker(world.settings)
    resent = 0

    def resend() -> bool:
        nonlocal resent
        resent += worker.drain()
        return resent > 0

    try:
        # The dead connection's row lock goes only when its server backend has processed the
        # disconnect. On a loaded machine a claim right after close() can still find the row
        # locked, and SKIP LOCKED passes over it (drain() == 0; seen once under load with -n 2).
        # A restarted worker polls again (`DeliveryWorker.run`), so poll here too: what matters
        # is that the message comes back exactly once with the same id, not on the first poll.
        assert wait_until(resend, timeout=30), "the restarted worker never resent the message"
        assert worker.drain() == 0
    finally:
        worker.close()
    assert resent == 1
    ids = [r["id"] for r in world.webhooks.received]
    assert len(ids) == 2
    assert ids[0] == ids[1]  # the receiver drops the second by its webhook-id
    assert all(r["verified"] for r in world.webhooks.received)
    assert world.count("SELECT count(*) AS n FROM alert_outbox WHERE delivered_at IS NULL") == 0
