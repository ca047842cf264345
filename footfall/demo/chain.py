"""The demo's chain: two more stores beside the example store, weeks of history, live traffic,
a planted incident, and one login per role.

`examples/store.yaml` (Riga) runs end to end through firmware stubs and the edge agent
(`footfall.demo.run`). The two other stores (`examples/chain/*.yaml`: Lisbon and New York,
other time zones) are played here: their history is written like a bulk import, then every
minute their door counts and edge heartbeats go over MQTT to the real ingest worker, and
their receipts are posted to the API with a POS key. The planted incident: New York's side
door counter dies a quarter of an hour before the demo starts (its agent keeps reporting it
silent), and Lisbon's conversion has dipped for the last hour.
"""

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
from rich.console import Console

from footfall.alerts.engine import Engine
from footfall.api.access import Role
from footfall.api.errors import ConflictingChange
from footfall.api.security import verify_password
from footfall.api.users import create_api_key, create_user, get_user, update_user
from footfall.core.messages import CountsMessage, CountsReading, HeartbeatMessage, HeartbeatReading, SensorHealth
from footfall.core.mqtt import BrokerTarget, MqttTransport
from footfall.core.settings import Settings
from footfall.core.storeconfig import DeviceKind, StoreConfig
from footfall.core.topics import Kind, Topic
from footfall.db.connect import DictConnection, connect
from footfall.demo.history import Incident, profile_for, seed_heartbeats, seed_plan, seed_store, simulate
from footfall.demo.pos import PosClient

if TYPE_CHECKING:
    from footfall.api.receipts import Receipt

logger = logging.getLogger(__name__)

CHAIN_FILES = ("chain/lisbon-01.yaml", "chain/nyc-01.yaml")
HISTORY_DAYS = 35
"""Weeks of history: week-on-week comparisons, a month of plan vs fact, data for forecasts."""
EDGE_REPLAY_DAYS = 8
"""The example store's last days come through its edge agent's replay (footfall.demo.run)."""
DEAD_DEVICE = "nyc-01-side"
DIP_STORE = "lisbon-01"
LOGIN_PASSWORD = "footfall-demo"  # noqa: S105 - published demo logins on a local demo database
CHAIN_POS_USER = "demo-chain-pos"
CATCH_UP = timedelta(hours=3)
"""With --speed above 1, the other stores start this far back and play it fast."""


@dataclass(frozen=True, slots=True)
class Login:
    """One demo login."""

    username: str
    role: Role
    stores: tuple[str, ...]
    lands_on: str


@dataclass
class ChainSetup:
    """The stores of the demo and what was planted."""

    example: StoreConfig
    others: list[StoreConfig]
    incident: Incident
    seeded_until: datetime
    """Where the simulated clock starts."""
    covered: dict[str, datetime] = field(default_factory=dict)
    """Per other store: up to when its door counts and receipts exist (a previous run may have gone further)."""
    speed: float = 1.0
    logins: list[Login] = field(default_factory=list)

    @property
    def all(self) -> list[StoreConfig]:
        """Every store, the example first."""
        return [self.example, *self.others]


def ensure_login(conn: DictConnection, *, username: str, password: str, role: Role, stores: list[str]) -> int:
    """A demo login as printed: created, or left alone when a previous start made it so (its
    password still verifies, same role and stores: browser sessions of that start stay valid),
    else updated. Returns its user id."""
    all_stores = role is Role.ADMIN
    row = conn.execute("SELECT user_id, password_hash FROM users WHERE username = %s", (username,)).fetchone()
    if row is None:
        try:
            return create_user(
                conn, username=username, password=password, role=role, stores=stores, all_stores=all_stores
            ).user_id
        except ConflictingChange:  # made meanwhile by another start
            row = conn.execute("SELECT user_id, password_hash FROM users WHERE username = %s", (username,)).fetchone()
            assert row is not None
    user_id: int = row["user_id"]
    u = get_user(conn, user_id=user_id)
    if (
        u.role is role
        and u.all_stores == all_stores
        and not u.disabled
        and sorted(u.stores) == sorted(set(stores))
        and verify_password(password, row["password_hash"])
    ):
        return user_id
    update_user(
        conn, user_id=user_id, password=password, stores=stores, disabled=False, role=role, all_stores=all_stores
    )
    return user_id


def _login(conn: DictConnection, login: Login) -> None:
    ensure_login(conn, username=login.username, password=LOGIN_PASSWORD, role=login.role, stores=list(login.stores))


def _logins(settings: Settings, logins: list[Login]) -> None:
    """Every login at once, each on its own connection (each password hash takes a CPU core ~0.4 s)."""

    def one(login: Login) -> None:
        with connect(settings.db, autocommit=True) as conn:
            _login(conn, login)

    with ThreadPoolExecutor(max_workers=len(logins) or 1, thread_name_prefix="demo-login") as pool:
        list(pool.map(one, logins))


def _pos_receipts(cfg: StoreConfig) -> "Callable[[datetime, datetime], list[Receipt]]":
    """The example store's older receipts from its own POS simulator (same catalogue as live)."""
    from footfall.api.receipts import Receipt
    from footfall.demo.pos import PosSimulator

    sim = PosSimulator(
        store_id=cfg.store.id, timezone=cfg.store.timezone, opening_hours=cfg.store.opening_hours, seed=42
    )

    def between(start: datetime, end: datetime) -> list[Receipt]:
        return [Receipt.model_validate(r) for r in sim.receipts_between(start, end)]

    return between


def _last_count(conn: DictConnection, store_id: str) -> datetime | None:
    row = conn.execute("SELECT max(end_ts) AS last FROM door_counts WHERE store_id = %s", (store_id,)).fetchone()
    return row["last"] if row else None


def _first_count(conn: DictConnection, store_id: str) -> datetime | None:
    row = conn.execute("SELECT min(start_ts) AS first FROM door_counts WHERE store_id = %s", (store_id,)).fetchone()
    return row["first"] if row else None


def prepare_chain(settings: Settings, console: Console, example: StoreConfig, *, speed: float = 1.0) -> ChainSetup:
    """Apply the other stores, write the history each store lacks, plans, heartbeats and logins.

    With `speed` above 1 the other stores' history stops `CATCH_UP` before now; `ChainLive` plays
    the rest that many times faster than real time.
    """
    from footfall.db.alerts import apply_store_rules
    from footfall.db.stores import apply_store
    from footfall.demo.run import example_path

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    now -= timedelta(minutes=now.minute % 5)  # history in 5-minute slots; live minutes follow on
    incident = Incident(
        dead_devices=frozenset({DEAD_DEVICE}),
        dead_since=now - timedelta(minutes=15),
        dip_stores=frozenset({DIP_STORE}),
        dip_since=now - timedelta(hours=1),
    )
    others = [StoreConfig.from_yaml(example_path(name)) for name in CHAIN_FILES]
    rng = np.random.default_rng(int(now.timestamp()) // 3600)
    covered: dict[str, datetime] = {}
    t0 = time.monotonic()
    with connect(settings.db, autocommit=True) as conn:
        for cfg in others:
            apply_store(conn, cfg)
        rules = 0
        for cfg in [example, *others]:
            applied = apply_store_rules(conn, cfg)
            rules += applied.created + applied.updated
        for i, cfg in enumerate([example, *others]):
            zone = ZoneInfo(cfg.store.timezone)
            today = now.astimezone(zone).date()
            first = today - timedelta(days=HISTORY_DAYS)
            if cfg is example:
                # Older weeks only: the last days come through the edge agent and the POS simulator.
                floor = datetime.combine(today - timedelta(days=EDGE_REPLAY_DAYS), datetime.min.time(), zone)
                have = _first_count(conn, cfg.store.id)
                until = min(floor.astimezone(UTC), have) if have else floor.astimezone(UTC)
                start = None
            else:
                until = now - CATCH_UP if speed > 1 else now
                start = _last_count(conn, cfg.store.id)
            if start is None or start < until:
                s = seed_store(
                    conn,
                    cfg,
                    profile_for(i),
                    first=first,
                    now=until,
                    rng=rng,
                    since=start,
                    incident=incident,
                    receipts_from=_pos_receipts(cfg) if cfg is example else None,
                )
                if s.door_rows:
                    console.print(
                        f"history for [bold]{cfg.store.id}[/]: {s.door_rows:,} door counts, {s.receipts:,} receipts"
                    )
            month = first.replace(day=1)
            while month <= today:
                seed_plan(conn, cfg, profile_for(i), month=month)
                month = (month + timedelta(days=32)).replace(day=1)
            if cfg is not example:
                seed_heartbeats(conn, cfg, now=now, incident=incident)
                covered[cfg.store.id] = max(until, _last_count(conn, cfg.store.id) or until)
        ids = [c.store.id for c in [example, *others]]
        logins = [
            Login("demo-admin", Role.ADMIN, tuple(ids), "/dashboard/chain"),
            Login("demo", Role.MANAGER, (example.store.id,), f"/dashboard/stores/{example.store.id}"),
            Login("demo-merch", Role.MERCHANDISER, (example.store.id, DIP_STORE), "/dashboard/stores/…/merch"),
            Login("demo-alerts", Role.ALERT_SUBSCRIBER, tuple(ids), "/dashboard/alerts"),
        ]
    _logins(settings, [login for login in logins if login.username != "demo"])  # `demo` is footfall.demo.api's
    console.print(f"chain ready in {time.monotonic() - t0:.1f} s: {', '.join(ids)} (alert rules from the store files)")
    if speed > 1:
        console.print(
            f"simulated clock: {', '.join(c.store.id for c in others)} replay the last "
            f"{CATCH_UP.total_seconds() / 3600:g} hours at {speed:g}× real time"
        )
    until = now - CATCH_UP if speed > 1 else now  # every other store's history stops here
    return ChainSetup(
        example=example,
        others=others,
        incident=incident,
        seeded_until=min(covered.values(), default=until),
        covered=covered,
        speed=speed,
        logins=logins,
    )


class ChainLive:
    """Every minute: the other stores' door counts and heartbeats over MQTT, their receipts to the API."""

    def __init__(self, settings: Settings, setup: ChainSetup, *, api_url: str) -> None:
        self.settings = settings
        self.setup = setup
        self.stop_event = threading.Event()
        self.rng = np.random.default_rng(int(time.time()))
        self.started = datetime.now(UTC)
        self.covered = dict(setup.covered)
        with connect(settings.db, autocommit=True) as conn:
            _login(conn, Login(CHAIN_POS_USER, Role.MANAGER, tuple(c.store.id for c in setup.others), ""))
            row = conn.execute("SELECT user_id FROM users WHERE username = %s", (CHAIN_POS_USER,)).fetchone()
            assert row is not None
            conn.execute(
                "UPDATE api_keys SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL", (row["user_id"],)
            )
            _, key = create_api_key(conn, user_id=row["user_id"], name="demo chain POS")
        self.pos = PosClient(url=api_url, api_key=key)
        self.transport = MqttTransport(
            BrokerTarget.from_settings(settings.mqtt, client_id=f"footfall-demo-chain-{settings.mqtt.prefix}")
        )
        self.transport.start()
        self.thread = threading.Thread(target=self._run, name="demo-chain", daemon=True)
        # The alerts engine evaluates every store's rules (the planted incident fires them); its
        # events reach the dashboard over Server-Sent Events.
        self.engine = Engine(settings, name="demo-alerts")
        self.engine_thread = threading.Thread(
            target=self.engine.run, args=(self.stop_event,), name="demo-alerts", daemon=True
        )

    def start(self) -> "ChainLive":
        """Catch up to now, then one round a minute; the alerts engine beside it."""
        self.thread.start()
        self.engine_thread.start()
        return self

    def sim_now(self) -> datetime:
        """The simulated clock: `speed` times real time from where the history stops, never past now."""
        real = datetime.now(UTC)
        elapsed = (real - self.started) * self.setup.speed
        return min(self.setup.seeded_until + elapsed, real)

    def _run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.round(self.sim_now())
            except Exception:  # the demo goes on; the log says what failed
                logger.exception("demo chain round failed")
            behind = datetime.now(UTC) - min(self.covered.values(), default=self.setup.seeded_until) > timedelta(
                minutes=2
            )
            self.stop_event.wait(1.0 if behind else 60 - datetime.now(UTC).second + 1)

    def round(self, now: datetime | None = None) -> None:
        """Publish the minutes since the last round (opening hours only) and the edge heartbeats."""
        now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
        prefix = self.settings.mqtt.prefix
        for i, cfg in enumerate(self.setup.others, start=1):
            since = self.covered.get(cfg.store.id, self.setup.seeded_until)
            rows, receipts = (
                ([], [])
                if since >= now
                else simulate(
                    cfg,
                    profile_for(i),
                    since=since,
                    until=now,
                    rng=self.rng,
                    slot=timedelta(minutes=1),
                    incident=self.setup.incident,
                )
            )
            by_device: dict[str, list[CountsReading]] = {}
            for _store, device, door, start, end, entries, exits, passersby, valid, _seq in rows:
                by_device.setdefault(device, []).append(
                    CountsReading(
                        start=start,
                        end=end,
                        door_id=door,
                        entries=entries,
                        exits=exits,
                        passersby=passersby,
                        valid=valid,
                    )
                )
            sent = datetime.now(UTC)
            for device, readings in by_device.items():
                topic = Topic(cfg.store.id, device, Kind.COUNTS).render(prefix)
                for k in range(0, len(readings), 500):
                    msg = CountsMessage(
                        device_id=device, seq=time.time_ns() // 1000, sent_at=sent, readings=readings[k : k + 500]
                    )
                    self.transport.publish(topic, msg.to_json())
            edge = next((d.id for d in cfg.devices if d.kind is DeviceKind.EDGE), None)
            if edge is not None:
                sensors = [
                    SensorHealth(
                        sensor_id=d.id,
                        last_seen=self.setup.incident.dead_since if self.setup.incident.dead(d.id, sent) else sent,
                    )
                    for d in cfg.devices
                    if d.kind is not DeviceKind.EDGE
                ]
                hb = HeartbeatMessage(
                    device_id=edge,
                    seq=time.time_ns() // 1000,
                    sent_at=sent,
                    readings=[
                        HeartbeatReading(
                            start=sent - timedelta(seconds=60),
                            end=sent,
                            uptime_s=(sent - self.started).total_seconds(),
                            queue_depth=0,
                            sensors=sensors,
                        )
                    ],
                )
                self.transport.publish(Topic(cfg.store.id, edge, Kind.HEARTBEAT).render(prefix), hb.to_json())
            if receipts:
                self.pos.send([json.loads(r.model_dump_json()) for r in receipts])
            self.covered[cfg.store.id] = max(since, now)

    def stop(self) -> None:
        """Stop the rounds and disconnect."""
        self.stop_event.set()
        for t in (self.thread, self.engine_thread):
            if t.is_alive():
                t.join(timeout=15)
        self.engine.close()
        self.transport.stop()
        self.pos.close()


def print_logins(console: Console, setup: ChainSetup, base_url: str) -> None:
    """The dashboard URL and one login per role."""
    console.print(f"\n[bold]dashboard[/]: {base_url}/dashboard   (password for every login: {LOGIN_PASSWORD})")
    for login in setup.logins:
        console.print(
            f"  {login.role.value:<17} {login.username:<12} stores {', '.join(login.stores)}", highlight=False
        )
    console.print(
        f"  wall screen for the back-office TV: {base_url}/dashboard/wall   planted: {DEAD_DEVICE} died, "
        f"{DIP_STORE} conversion dips",
        highlight=False,
    )
