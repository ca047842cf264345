"""`/v1/alert-rules`, `/v1/alerts`, `/v1/alert-subscriptions`: scope, validation, acknowledge and
mute (through the API and through a signed link), the live stream."""

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from footfall.alerts.delivery import DeliveryWorker
from footfall.alerts.engine import Engine
from footfall.api.access import Role
from tests.integration.alerts.conftest import T0, World, add_zone, login, riga_store, sales, traffic
from tests.integration.alerts.test_engine import CONVERSION_RULE

pytestmark = pytest.mark.integration


def _setup(world: World) -> None:
    riga_store(world.conn, "a")
    riga_store(world.conn, "b")
    add_zone(world.conn, "a")
    world.user("mia", ["a"], role=Role.MANAGER)
    world.user("ann", ["a"])


@pytest.mark.parametrize(
    ("rule", "status", "where"),
    [
        ({**CONVERSION_RULE, "scope": {"store": "a"}}, 201, None),  # own store
        ({**CONVERSION_RULE, "scope": {"store": "b"}}, 404, None),  # outside scope: as if it did not exist
        ({**CONVERSION_RULE, "scope": {"store": "nope"}}, 404, None),  # no such store
        ({**CONVERSION_RULE}, 201, None),  # every store in scope
        ({**CONVERSION_RULE, "threshold": 15, "scope": {"store": "a"}}, 422, "body"),  # a ratio above 1
        ({**CONVERSION_RULE, "window": {"rolling_minutes": 50}}, 422, "body"),  # not whole quarters
        (
            {**CONVERSION_RULE, "metric": "queue_wait", "threshold": 120, "scope": {"store": "a", "zone": "tills"}},
            422,
            "scope",
        ),  # a queue rule on a zone that is no checkout queue
        ({**CONVERSION_RULE, "baseline": {"ratio": 0.8}}, 422, "body"),  # threshold and baseline
        (
            {
                "name": "z",
                "metric": "zone_occupancy",
                "comparator": ">",
                "threshold": 9,
                "scope": {"store": "a", "zone": "x"},
            },
            422,
            "scope",
        ),  # unknown zone
        ({**CONVERSION_RULE, "surprise": 1}, 422, "body"),  # unknown field
    ],
)
def test_rule_creation_is_validated_and_scoped(
    world: World, client: TestClient, rule: dict, status: int, where: str | None
) -> None:
    _setup(world)
    r = client.post("/v1/alert-rules", json=rule, headers=login(client, "mia"))
    assert r.status_code == status, r.text
    if status == 201:
        assert r.json()["spec"]["metric"] == rule["metric"]
    else:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert world.count("SELECT count(*) AS n FROM alert_rules") == 0  # nothing half-saved
    if where:
        assert where in json.dumps(r.json()["errors"])


def test_subscriber_may_not_write_rules_and_sees_only_their_stores(world: World, client: TestClient) -> None:
    _setup(world)
    world.user("boss", [], role=Role.ADMIN)
    world.rule("boss", **CONVERSION_RULE, scope={"store": "a"})
    world.rule("boss", **CONVERSION_RULE, scope={"store": "b"})
    h = login(client, "ann")
    assert client.post("/v1/alert-rules", json={**CONVERSION_RULE}, headers=h).status_code == 403
    listed = client.get("/v1/alert-rules", headers=h).json()
    assert [x["store_id"] for x in listed["data"]] == ["a"]
    b_rule = world.conn.execute("SELECT rule_id FROM alert_rules WHERE store_id = 'b'").fetchone()["rule_id"]
    assert client.get(f"/v1/alert-rules/{b_rule}", headers=h).status_code == 404
    sub = client.post(
        "/v1/alert-subscriptions", json={"channel": "email", "target": "x@y.z", "rule_id": b_rule}, headers=h
    )
    assert sub.status_code == 404


@pytest.mark.parametrize(
    ("target", "allow", "status"),
    [
        ("http://127.0.0.1:9/hook", [], 422),  # loopback
        ("http://10.1.2.3/hook", [], 422),  # private
        ("http://169.254.169.254/latest", [], 422),  # link-local (cloud metadata)
        ("ftp://example.com/hook", [], 422),  # not http(s)
        ("http://127.0.0.1:9/hook", ["127.0.0.1/32"], 201),  # allowed in settings
    ],
)
def test_webhook_targets_pass_the_ssrf_guard(
    world: World, client: TestClient, target: str, allow: list[str], status: int
) -> None:
    _setup(world)
    world.settings.alerts.webhook_allow = allow
    r = client.post(
        "/v1/alert-subscriptions", json={"channel": "webhook", "target": target}, headers=login(client, "ann")
    )
    assert r.status_code == status, r.text
    if status == 201:
        assert r.json()["secret"].startswith("whsec_")


def _fire(world: World) -> tuple[Engine, DeliveryWorker]:
    traffic(world.conn, "a", T0, 60)
    sales(world.conn, "a", T0, 5, every_s=600)
    world.clock.advance(3600)
    engine, worker = Engine(world.settings, clock=world.clock), DeliveryWorker(world.settings)
    engine.cycle()
    worker.drain()
    return engine, worker


def test_acknowledge_by_signed_link_stops_escalation_and_is_audited(world: World, client: TestClient) -> None:
    _setup(world)
    world.user("lead", ["a"])
    world.user("boss", [], role=Role.ADMIN)
    world.subscribe_all_channels("ann", store_id="a")
    lead = world.users["lead"]
    from footfall.db.alerts import create_subscription

    create_subscription(world.conn, user_id=lead, channel="email", target="lead@example.test", level=2)
    world.rule("mia", **CONVERSION_RULE, escalate_after_minutes=10, scope={"store": "a"})
    engine, worker = _fire(world)
    try:
        link = world.webhooks.received[0]["body"]["links"]["ack"]
        token = parse_qs(urlsplit(link).query)["token"][0]
        page = client.get("/v1/alerts/act", params={"token": token})
        assert page.status_code == 200
        assert "<form method='post'" in page.text  # a GET changes nothing
        assert world.count("SELECT count(*) AS n FROM alert_states WHERE acked_at IS NOT NULL") == 0
        done = client.post("/v1/alerts/act", params={"token": token})
        assert done.status_code == 200, done.text
        assert done.json()["action"] == "acknowledged"
        assert done.json()["by"] == "ann"
        assert client.post("/v1/alerts/act", params={"token": token[:-2] + "xx"}).status_code == 403  # forged
        world.clock.advance(15 * 60)  # past the escalation delay: acknowledged, so nobody is escalated to
        engine.cycle()
        worker.drain()
        assert [m["To"] for m in world.mailbox.messages] == ["ann@example.test"]
        audit = client.get("/v1/alert-audit", headers=login(client, "mia")).json()["data"]
        assert (audit[0]["action"], audit[0]["username"], audit[0]["via"]) == ("acknowledge", "ann", "link")
        # …and in the shared audit log, as the user the link was sent to, with where it came from
        state_id = audit[0]["state_id"]
        entries = client.get("/v1/audit", params={"action": "alert_acknowledge"}, headers=login(client, "boss"))
        assert entries.status_code == 200, entries.text
        [entry] = entries.json()["data"]
        assert (entry["actor"], entry["actor_id"], entry["target"]) == ("ann", world.users["ann"], f"alert:{state_id}")
        assert (entry["detail"]["via"], entry["detail"]["store_id"], entry["client"]) == ("link", "a", "testclient")
        kinds = [r["kind"] for r in world.conn.execute("SELECT kind FROM alert_events ORDER BY event_id")]
        assert kinds == ["firing", "acknowledged"]
    finally:
        engine.close()
        worker.close()


def test_unacknowledged_alert_escalates_once_to_the_second_group(world: World) -> None:
    _setup(world)
    world.user("lead", ["a"])
    from footfall.db.alerts import create_subscription

    create_subscription(world.conn, user_id=world.users["ann"], channel="email", target="ann@example.test")
    create_subscription(world.conn, user_id=world.users["lead"], channel="email", target="lead@example.test", level=2)
    world.rule("mia", **CONVERSION_RULE, escalate_after_minutes=10, scope={"store": "a"})
    engine, worker = _fire(world)
    try:
        for _ in range(4):
            world.clock.advance(5 * 60)
            traffic(world.conn, "a", world.clock.now() - timedelta(minutes=5), 5)
            engine.cycle()
            worker.drain()
        assert [m["To"] for m in world.mailbox.messages] == ["ann@example.test", "lead@example.test"]
        assert "unacknowledged" in world.mailbox.messages[1]["Subject"]
    finally:
        engine.close()
        worker.close()


def test_muted_rule_sends_nothing_personal_but_still_tracks_state(world: World, client: TestClient) -> None:
    _setup(world)
    world.subscribe_all_channels("ann", store_id="a")
    rule_id = world.rule("mia", **CONVERSION_RULE, scope={"store": "a"})
    h = login(client, "mia")
    assert client.post(f"/v1/alert-rules/{rule_id}/mute", json={"minutes": 600}, headers=h).status_code == 200
    assert (
        client.post(f"/v1/alert-rules/{rule_id}/mute", json={"minutes": 600}, headers=login(client, "ann")).status_code
        == 403
    )
    engine, worker = _fire(world)
    try:
        assert world.webhooks.received == []
        assert world.mailbox.messages == []
        firing = client.get("/v1/alerts", params={"state": "firing"}, headers=login(client, "ann")).json()
        assert firing["count"] == 1
        audit = client.get("/v1/alert-audit", headers=h).json()["data"]
        assert audit[0]["action"] == "mute"
        assert audit[0]["username"] == "mia"
    finally:
        engine.close()
        worker.close()


def test_live_stream_carries_events_of_stores_in_scope_only(world: World, client: TestClient) -> None:
    _setup(world)
    world.user("bob", ["b"])
    world.user("boss", [], role=Role.ADMIN)
    world.rule("boss", **CONVERSION_RULE)  # every store
    traffic(world.conn, "b", T0, 60)
    sales(world.conn, "b", T0, 5, every_s=600)
    engine, worker = _fire(world)
    try:
        for user, stores in (("ann", {"a"}), ("bob", {"b"}), ("boss", {"a", "b"})):
            with client.stream(
                "GET", "/v1/alerts/stream", params={"after": 0, "seconds": 1.0}, headers=login(client, user)
            ) as r:
                assert r.headers["content-type"].startswith("text/event-stream")
                text = "".join(r.iter_text())
            data = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
            assert {d["store"]["id"] for d in data} == stores
            assert "event: firing" in text
        # A client that reconnects with Last-Event-ID gets only what came after it.
        first = world.conn.execute("SELECT min(event_id) AS n FROM alert_events").fetchone()["n"]
        headers = {**login(client, "boss"), "Last-Event-ID": str(first)}
        with client.stream("GET", "/v1/alerts/stream", params={"seconds": 1.0}, headers=headers) as r:
            ids = [int(line[4:]) for line in "".join(r.iter_text()).splitlines() if line.startswith("id: ")]
        assert ids
        assert min(ids) > first
    finally:
        engine.close()
        worker.close()


def test_acknowledge_mute_and_rule_changes_land_in_the_shared_audit_log_scoped_by_store(
    world: World, client: TestClient
) -> None:
    _setup(world)
    world.user("bob", ["b"], role=Role.MANAGER)
    world.user("boss", [], role=Role.ADMIN)
    h = login(client, "mia")
    made = client.post("/v1/alert-rules", json={**CONVERSION_RULE, "scope": {"store": "a"}}, headers=h)
    rule_id = made.json()["rule_id"]
    engine, worker = _fire(world)
    try:
        state_id = world.conn.execute("SELECT state_id FROM alert_states").fetchone()["state_id"]
        assert client.post(f"/v1/alerts/{state_id}/ack", headers=login(client, "ann")).status_code == 200
        assert client.post(f"/v1/alert-rules/{rule_id}/mute", json={"minutes": 60}, headers=h).status_code == 200
        assert client.delete(f"/v1/alert-rules/{rule_id}/mute", headers=h).status_code == 200
        b_rule = client.post(
            "/v1/alert-rules", json={**CONVERSION_RULE, "scope": {"store": "b"}}, headers=login(client, "bob")
        )
        assert b_rule.status_code == 201
    finally:
        engine.close()
        worker.close()
    log = client.get("/v1/audit", params={"limit": 50}, headers=login(client, "boss")).json()["data"]
    alert_rows = [(e["action"], e["actor"], e["target"]) for e in log if e["action"].startswith("alert_")]
    assert alert_rows == [
        ("alert_rule_create", "bob", f"alert_rule:{b_rule.json()['rule_id']}"),
        ("alert_unmute", "mia", f"alert_rule:{rule_id}"),
        ("alert_mute", "mia", f"alert_rule:{rule_id}"),
        ("alert_acknowledge", "ann", f"alert:{state_id}"),
        ("alert_rule_create", "mia", f"alert_rule:{rule_id}"),
    ]
    # /v1/alert-audit keeps its shape and shows a subscriber only the stores in their scope
    mine = client.get("/v1/alert-audit", headers=login(client, "ann")).json()["data"]
    assert [(a["action"], a["username"], a["via"], a["rule_id"]) for a in mine] == [
        ("unmute", "mia", "api", rule_id),
        ("mute", "mia", "api", rule_id),
        ("acknowledge", "ann", "api", rule_id),
        ("rule_create", "mia", "api", rule_id),
    ]
    assert mine[1]["detail"]["until"] is not None
    assert world.conn.execute("SELECT to_regclass('alert_audit') AS t").fetchone()["t"] is None
