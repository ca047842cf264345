"""Fixtures for the alerts tests: local stand-ins for everything outside the system (a webhook
receiver that verifies Standard Webhooks signatures, an aiosmtpd SMTP server, a Telegram
Bot API stand-in), a store with opening hours and the people who subscribe to it."""

import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from pydantic import SecretStr
from standardwebhooks import Webhook, WebhookVerificationError

from footfall.api.access import Role
from footfall.api.app import create_app
from footfall.api.users import create_user
from footfall.core.alertrules import RuleSpec
from footfall.core.clock import ManualClock
from footfall.core.mqtt import BrokerTarget, MqttTransport
from footfall.core.settings import DbSettings, Settings
from footfall.db.alerts import create_rule, create_subscription
from footfall.db.connect import connect, open_pool
from footfall.devtools.services import free_port
from tests.integration.api.conftest import add_door_minutes, add_receipts, add_store, receipt

HOURS = {d: ["09:00", "21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")} | {"sun": None}
# Wednesday 3 June 2026, 10:00 in Riga (UTC+3): the store is open.
T0 = datetime(2026, 6, 3, 7, 0, tzinfo=UTC)
PASSWORD = "correct horse"
TOKEN = "123456:test-bot-token"


class _Collector(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", free_port()), handler)
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.fail_next = 0
        self.secrets: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _WebhookHandler(BaseHTTPRequestHandler):
    server: _Collector

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        with self.server.lock:
            if self.server.fail_next > 0:
                self.server.fail_next -= 1
                self.send_response(503)
                self.end_headers()
                return
            verified = False
            for secret in self.server.secrets:
                try:
                    Webhook(secret).verify(body, dict(self.headers))
                    verified = True
                except WebhookVerificationError:
                    continue
            self.server.received.append(
                {"path": self.path, "id": self.headers["webhook-id"], "verified": verified, "body": json.loads(body)}
            )
        self.send_response(204 if verified else 401)
        self.end_headers()


class _TelegramHandler(BaseHTTPRequestHandler):
    """The Bot API's sendMessage: `POST /bot<token>/sendMessage` with `chat_id` and `text`."""

    server: _Collector

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        ok = self.path == f"/bot{TOKEN}/sendMessage" and "chat_id" in body and body.get("text")
        with self.server.lock:
            if ok:
                self.server.received.append(body)
        answer = (
            {"ok": True, "result": {"message_id": len(self.server.received), "chat": {"id": body.get("chat_id")}}}
            if ok
            else {"ok": False, "error_code": 404, "description": "Not Found"}
        )
        data = json.dumps(answer).encode()
        self.send_response(200 if ok else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _serve(server: _Collector) -> Iterator[_Collector]:
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhooks() -> Iterator[_Collector]:
    yield from _serve(_Collector(_WebhookHandler))


@pytest.fixture
def telegram() -> Iterator[_Collector]:
    yield from _serve(_Collector(_TelegramHandler))


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(msg)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Mailbox, int]]:
    box = _Mailbox()
    port = free_port()
    c = Controller(box, hostname="127.0.0.1", port=port)
    c.start()
    try:
        yield box, port
    finally:
        c.stop()


@dataclass
class World:
    """A test's database, settings pointing at the local stand-ins, and helpers."""

    settings: Settings
    conn: psycopg.Connection
    clock: ManualClock
    webhooks: _Collector
    telegram: _Collector
    mailbox: _Mailbox
    users: dict[str, int] = field(default_factory=dict)

    def user(self, name: str, stores: list[str], role: Role = Role.ALERT_SUBSCRIBER) -> int:
        u = create_user(self.conn, username=name, password=PASSWORD, role=role, stores=stores)
        self.users[name] = u.user_id
        return u.user_id

    def subscribe_all_channels(self, name: str, *, store_id: str | None = None, rule_id: int | None = None) -> None:
        uid = self.users[name]
        sub = create_subscription(
            self.conn,
            user_id=uid,
            channel="webhook",
            target=f"{self.webhooks.url}/{name}",
            store_id=store_id,
            rule_id=rule_id,
        )
        self.webhooks.secrets.append(sub["secret"])
        create_subscription(
            self.conn, user_id=uid, channel="email", target=f"{name}@example.test", store_id=store_id, rule_id=rule_id
        )
        create_subscription(
            self.conn, user_id=uid, channel="telegram", target=f"chat-{name}", store_id=store_id, rule_id=rule_id
        )

    def rule(self, owner: str, **spec: Any) -> int:
        return create_rule(self.conn, spec=RuleSpec.model_validate(spec), owner_id=self.users[owner], username=owner)[
            "rule_id"
        ]

    def count(self, sql: str, *args: Any) -> int:
        return self.conn.execute(sql, args).fetchone()["n"]


@pytest.fixture
def world(
    settings: Settings, db: DbSettings, mqtt_prefix: str, webhooks: _Collector, telegram: _Collector, smtp
) -> Iterator[World]:
    box, port = smtp
    s = settings.model_copy(
        update={
            "db": db,
            "mqtt": settings.mqtt.model_copy(update={"prefix": mqtt_prefix}),
            "alerts": settings.alerts.model_copy(
                update={
                    "smtp_host": "127.0.0.1",
                    "smtp_port": port,
                    "telegram_api_url": telegram.url,
                    "webhook_allow": ["127.0.0.1/32"],
                    "backoff_s": 0.05,
                    "backoff_max_s": 0.2,
                    "timeout_s": 5.0,
                }
            ),
        }
    )
    s.alerts.telegram_bot_token = SecretStr(TOKEN)
    with connect(db, autocommit=True) as conn:
        yield World(settings=s, conn=conn, clock=ManualClock(T0), webhooks=webhooks, telegram=telegram, mailbox=box)
        topics = [r["target"] for r in conn.execute(_RETAINED)]
    if topics:
        _clear_retained(s, topics)


_RETAINED = "SELECT DISTINCT target FROM alert_outbox WHERE channel = 'mqtt' AND delivered_at IS NOT NULL"


def _clear_retained(settings: Settings, topics: list[str]) -> None:
    """Leave nothing retained on the shared broker: an empty retained message deletes one."""
    t = MqttTransport(BrokerTarget.from_settings(settings.mqtt, client_id=f"t-clear-{secrets.token_hex(3)}"))
    t.start()
    try:
        if t.wait_connected(5):
            for topic in topics:
                t.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
    finally:
        t.stop()


def riga_store(conn: psycopg.Connection, store_id: str) -> None:
    """A Riga store open 09:00–21:00 Monday to Saturday, closed on Sunday, one customer door
    with its counter device registered."""
    add_store(conn, store_id, "Europe/Riga", opening_hours=HOURS)
    conn.execute(
        "INSERT INTO devices (device_id, store_id, kind) VALUES (%s, %s, 'counter_tcp')", (f"{store_id}-main", store_id)
    )


def traffic(conn: psycopg.Connection, store_id: str, start: datetime, minutes: int, per_minute: int = 2) -> None:
    """Door counts of the store's main counter, one row per minute."""
    add_door_minutes(conn, store_id, start, minutes, entries=per_minute, exits=per_minute)


def sales(conn: psycopg.Connection, store_id: str, start: datetime, count: int, *, every_s: int = 60) -> None:
    """`count` receipts, one every `every_s` seconds from `start`."""
    add_receipts(
        conn,
        *[
            receipt(store_id, f"{store_id}-{start.timestamp():.0f}-{i}", start + timedelta(seconds=i * every_s))
            for i in range(count)
        ],
    )


__all__ = ["HOURS", "T0", "World", "riga_store", "sales", "traffic"]


def add_zone(conn: psycopg.Connection, store_id: str, zone_id: str = "tills") -> None:
    """A zone on a ground floor, watched by a camera device `<store>-cam`."""
    conn.execute(
        "INSERT INTO floors (store_id, floor_id, width_m, height_m) VALUES (%s, 'g', 30, 20) ON CONFLICT DO NOTHING",
        (store_id,),
    )
    conn.execute(
        "INSERT INTO zones (store_id, zone_id, floor_id, polygon, area_m2) VALUES (%s, %s, 'g', '[]', 10)",
        (store_id, zone_id),
    )


def occupancy(conn: psycopg.Connection, store_id: str, zone_id: str, at: datetime, people: int) -> None:
    """One minute's occupancy reading of a zone, ending at `at`."""
    conn.execute(
        "INSERT INTO occupancy (store_id, device_id, zone_id, start_ts, end_ts, occupancy, seq) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (store_id, f"{store_id}-cam", zone_id, at - timedelta(minutes=1), at, people, int(at.timestamp())),
    )


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    """The API on this test's database, with the alerts settings of `world`."""
    pool = open_pool(world.settings.db.model_copy(update={"pool_min": 1, "pool_max": 4}), name="test-alerts-api")
    try:
        with TestClient(create_app(world.settings, pool=pool)) as c:
            yield c
    finally:
        pool.close()


def login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
