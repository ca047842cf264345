"""Weeks of plausible history for a chain of stores: door counts, receipts, plans, device health.

The dashboard's tests and the demo both need stores that have a past (comparisons with
last week, a month's plan and pace, a ranking that means something). This writes it the
way the product would have: door counts COPYed like ingest writes them, receipts through
the API's own `save_receipts`, plans through the plans table, heartbeats like an edge
agent's. Numbers are random but seeded, so a run is reproducible.

Example:
    >>> p = profile_for(0)
    >>> 0 < p.conversion < 1
    True
"""

import json
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from footfall.api.receipts import Receipt, save_receipts
from footfall.core.storeconfig import DeviceKind, DoorKind, StoreConfig
from footfall.db.connect import DictConnection

logger = logging.getLogger(__name__)

SLOT = timedelta(minutes=5)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CATEGORY_PRICES = {"bread": 3.2, "pastry": 2.6, "coffee": 3.9, "tea": 3.1, "grocery": 6.5, "dairy": 2.4}


@dataclass(frozen=True, slots=True)
class StoreProfile:
    """How busy a store is and how its shoppers buy."""

    visitors_per_hour: float
    conversion: float
    items_per_receipt: float
    plan_factor: float
    """The month's revenue plan against what the store is expected to make (above 1: it falls behind)."""


PROFILES = (
    StoreProfile(visitors_per_hour=60, conversion=0.32, items_per_receipt=2.4, plan_factor=0.95),
    StoreProfile(visitors_per_hour=45, conversion=0.27, items_per_receipt=2.0, plan_factor=1.02),
    StoreProfile(visitors_per_hour=80, conversion=0.22, items_per_receipt=2.8, plan_factor=1.25),
)


def profile_for(index: int) -> StoreProfile:
    """The profile of the index-th store of the chain."""
    return PROFILES[index % len(PROFILES)]


def hour_shape(hour: float) -> float:
    """Relative traffic through the day: a late-morning and an early-evening peak."""
    return 0.35 + math.exp(-(((hour - 12.5) / 2.2) ** 2)) + 0.8 * math.exp(-(((hour - 18.0) / 1.8) ** 2))


WEEKDAY_FACTOR = (0.85, 0.9, 0.95, 1.0, 1.15, 1.35, 0.8)


@dataclass(frozen=True, slots=True)
class Seeded:
    """What was written."""

    door_rows: int
    receipts: int
    plans: int


def _slots(cfg: StoreConfig, day: date, *, since: datetime, until: datetime, slot: timedelta) -> Iterable[datetime]:
    hours = cfg.store.opening_hours.get(WEEKDAYS[day.weekday()])
    if not hours:
        return
    zone = ZoneInfo(cfg.store.timezone)
    start = datetime.combine(day, hours[0], zone).astimezone(UTC)
    end = min(datetime.combine(day, hours[1], zone).astimezone(UTC), until)
    t = start
    while t + slot <= end:
        if t >= since:
            yield t
        t += slot


def _door_device(cfg: StoreConfig) -> dict[str, str]:
    """Which device counts each door: a counter's doors, and a camera's counting lines."""
    out: dict[str, str] = {}
    for d in cfg.devices:
        for door in [*d.doors, *(ln.door for ln in d.lines)]:
            out.setdefault(door, d.id)
    return out


@dataclass(frozen=True, slots=True)
class Incident:
    """What goes wrong, planted: a counter that dies, a conversion dip."""

    dead_devices: frozenset[str] = frozenset()
    dead_since: datetime | None = None
    dip_stores: frozenset[str] = frozenset()
    dip_since: datetime | None = None
    dip_factor: float = 0.35
    """Conversion during the dip, as a share of the usual."""

    def dead(self, device_id: str, t: datetime) -> bool:
        """Whether a device has stopped counting at `t`."""
        return device_id in self.dead_devices and self.dead_since is not None and t >= self.dead_since

    def conversion(self, store_id: str, t: datetime, usual: float) -> float:
        """The conversion a store has at `t`."""
        dipping = store_id in self.dip_stores and self.dip_since is not None and t >= self.dip_since
        return usual * self.dip_factor if dipping else usual


NO_INCIDENT = Incident()

DoorRow = tuple[str, str, str, datetime, datetime, int, int, int | None, bool, int]
"""store_id, device_id, door_id, start, end, entries, exits, passers-by, valid, seq."""


def simulate(
    cfg: StoreConfig,
    profile: StoreProfile,
    *,
    since: datetime,
    until: datetime,
    rng: np.random.Generator,
    slot: timedelta = SLOT,
    incident: Incident = NO_INCIDENT,
) -> tuple[list[DoorRow], list[Receipt]]:
    """Door counts (one row per door and slot) and receipts of one store in `[since, until)`, opening hours only."""
    zone = ZoneInfo(cfg.store.timezone)
    devices = _door_device(cfg)
    customer = [d.id for d in cfg.doors if d.kind is DoorKind.CUSTOMER]
    staff = [d.id for d in cfg.doors if d.kind is not DoorKind.CUSTOMER]
    categories = [c for z in cfg.zones for c in z.categories if c in CATEGORY_PRICES] or ["grocery"]
    per_hour = timedelta(hours=1) / slot
    rows: list[DoorRow] = []
    receipts: list[Receipt] = []
    day = since.astimezone(zone).date() - timedelta(days=1)
    last = until.astimezone(zone).date()
    while day <= last:
        for t in _slots(cfg, day, since=since, until=until, slot=slot):
            local = t.astimezone(zone)
            lam = profile.visitors_per_hour * hour_shape(local.hour + local.minute / 60) * WEEKDAY_FACTOR[day.weekday()]
            lam /= per_hour
            slot_entries = 0
            for i, door in enumerate(customer):
                device = devices.get(door, f"{cfg.store.id}-{door}")
                if incident.dead(device, t):
                    continue
                share = 0.7 if i == 0 else 0.3 / max(len(customer) - 1, 1)
                entries = int(rng.poisson(lam * share))
                exits = int(rng.poisson(lam * share * 0.98))
                passersby = int(rng.poisson(lam * share * 6)) if i == 0 else None
                slot_entries += entries
                seq = int(t.timestamp())
                rows.append((cfg.store.id, device, door, t, t + slot, entries, exits, passersby, True, seq))
            for door in staff:
                device = devices.get(door, f"{cfg.store.id}-{door}")
                k = int(rng.poisson(0.5 / per_hour))
                rows.append((cfg.store.id, device, door, t, t + slot, k, k, None, True, int(t.timestamp())))
            conversion = incident.conversion(cfg.store.id, t, profile.conversion)
            for _ in range(int(rng.binomial(slot_entries, conversion))):
                receipts.append(_receipt(cfg, profile=profile, t=t, slot=slot, rng=rng, categories=categories))
        day += timedelta(days=1)
    return rows, receipts


def seed_store(
    conn: DictConnection,
    cfg: StoreConfig,
    profile: StoreProfile,
    *,
    first: date,
    now: datetime,
    rng: np.random.Generator,
    since: datetime | None = None,
    incident: Incident = NO_INCIDENT,
    receipts_from: "Callable[[datetime, datetime], list[Receipt]] | None" = None,
) -> Seeded:
    """Door counts and receipts of one store from `first` (local date), or from `since`, up to `now`.

    `receipts_from(start, end)` replaces the simulated receipts (the demo's POS simulator for the
    example store, so its catalogue and planted slow movers hold over the whole history).
    """
    zone = ZoneInfo(cfg.store.timezone)
    start = datetime.combine(first, time(0, 0), zone).astimezone(UTC)
    if since is not None:
        start = max(start, since)
    door_rows, receipts = simulate(cfg, profile, since=start, until=now, rng=rng, incident=incident)
    if receipts_from is not None:
        receipts = receipts_from(start, now)
    with (
        conn.transaction(),
        conn.cursor() as cur,
        cur.copy(
            "COPY door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, passersby, valid, "
            "seq) FROM STDIN"
        ) as copy,
    ):
        for row in door_rows:
            copy.write_row(row)
    for i in range(0, len(receipts), 5000):
        save_receipts(conn, receipts[i : i + 5000], source="demo-history")
    return Seeded(door_rows=len(door_rows), receipts=len(receipts), plans=0)


def _receipt(
    cfg: StoreConfig,
    *,
    profile: StoreProfile,
    t: datetime,
    slot: timedelta,
    rng: np.random.Generator,
    categories: list[str],
) -> Receipt:
    lines = []
    for _ in range(1 + int(rng.poisson(max(profile.items_per_receipt - 1, 0)))):
        category = categories[int(rng.integers(len(categories)))]
        price = Decimal(str(round(CATEGORY_PRICES[category] * float(rng.uniform(0.7, 1.6)), 2)))
        lines.append({"sku": f"{category[:3]}-{int(rng.integers(1, 40)):03d}", "category": category, "amount": price})
    ts = t + timedelta(seconds=int(rng.integers(0, int(slot.total_seconds()))))
    return Receipt.model_validate(
        {
            "receipt_id": f"S-{ts:%Y%m%d%H%M%S}-{int(rng.integers(1_000_000_000)):09d}",
            "store_id": cfg.store.id,
            "ts": ts,
            "register_id": "1",
            "loyalty": bool(rng.random() < 0.3),
            "lines": lines,
        }
    )


def expected_daily_revenue(profile: StoreProfile, cfg: StoreConfig, day: date) -> float:
    """What a day should bring in on average (the basis of the month's plan)."""
    hours = cfg.store.opening_hours.get(WEEKDAYS[day.weekday()])
    if not hours:
        return 0.0
    open_h = hours[0].hour + hours[0].minute / 60
    close_h = hours[1].hour + hours[1].minute / 60 if hours[1] != time(0, 0) else 24.0
    steps = int((close_h - open_h) * 12)
    visitors = sum(
        profile.visitors_per_hour * hour_shape(open_h + k / 12) * WEEKDAY_FACTOR[day.weekday()] / 12
        for k in range(steps)
    )
    categories = [c for z in cfg.zones for c in z.categories if c in CATEGORY_PRICES] or ["grocery"]
    mean_price = float(np.mean([CATEGORY_PRICES[c] for c in categories])) * 1.15
    return visitors * profile.conversion * profile.items_per_receipt * mean_price


def seed_plan(conn: DictConnection, cfg: StoreConfig, profile: StoreProfile, *, month: date) -> None:
    """The month's revenue, traffic and conversion plan."""
    days = [month + timedelta(days=k) for k in range(32) if (month + timedelta(days=k)).month == month.month]
    revenue = sum(expected_daily_revenue(profile, cfg, d) for d in days) * profile.plan_factor
    conn.execute(
        "INSERT INTO plans (store_id, month, revenue_target, traffic_target, conversion_target) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (store_id, month) DO UPDATE SET "
        "revenue_target = EXCLUDED.revenue_target, traffic_target = EXCLUDED.traffic_target, "
        "conversion_target = EXCLUDED.conversion_target",
        (cfg.store.id, month, Decimal(str(round(revenue, 2))), None, profile.conversion),
    )


def seed_heartbeats(conn: DictConnection, cfg: StoreConfig, *, now: datetime, incident: Incident = NO_INCIDENT) -> None:
    """The edge agent's latest heartbeat and online status, naming each sensor's last sign of life."""
    edge = next((d.id for d in cfg.devices if d.kind is DeviceKind.EDGE), None)
    if edge is None:
        return
    sensors = [
        {
            "sensor_id": d.id,
            "last_seen": (incident.dead_since if incident.dead(d.id, now) and incident.dead_since else now).isoformat(),
            "errors": 0,
            "faults": [],
        }
        for d in cfg.devices
        if d.kind is not DeviceKind.EDGE
    ]
    reading = {
        "start": (now - timedelta(seconds=30)).isoformat(),
        "end": now.isoformat(),
        "uptime_s": 86400.0,
        "queue_depth": 0,
        "sensors": sensors,
    }
    seq = int(now.timestamp())
    conn.execute(
        "INSERT INTO heartbeats (store_id, device_id, start_ts, end_ts, seq, sent_at, uptime_s, queue_depth, payload) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (cfg.store.id, edge, now - timedelta(seconds=30), now, seq, now, 86400.0, 0, json.dumps(reading)),
    )
    conn.execute(
        "INSERT INTO device_status (device_id, store_id, state, seq, sent_at) VALUES (%s, %s, 'online', %s, %s) "
        "ON CONFLICT (device_id) DO UPDATE SET state = 'online', seq = EXCLUDED.seq, sent_at = EXCLUDED.sent_at",
        (edge, cfg.store.id, seq, now),
    )


def seed_chain(
    conn: DictConnection,
    configs: list[StoreConfig],
    *,
    days: int,
    now: datetime,
    seed: int = 7,
    incident: Incident = NO_INCIDENT,
) -> Seeded:
    """History for every store (configured already): `days` local days back to `now`, a plan for every
    month it touches, and the edge agents' latest heartbeats."""
    rng = np.random.default_rng(seed)
    total = Seeded(0, 0, 0)
    for i, cfg in enumerate(configs):
        profile = profile_for(i)
        today = now.astimezone(ZoneInfo(cfg.store.timezone)).date()
        s = seed_store(conn, cfg, profile, first=today - timedelta(days=days), now=now, rng=rng, incident=incident)
        with conn.transaction():
            month = (today - timedelta(days=days)).replace(day=1)
            while month <= today:
                seed_plan(conn, cfg, profile, month=month)
                month = (month + timedelta(days=32)).replace(day=1)
            seed_heartbeats(conn, cfg, now=now, incident=incident)
        total = Seeded(total.door_rows + s.door_rows, total.receipts + s.receipts, total.plans + 1)
        logger.info("history for %s: %d door rows, %d receipts", cfg.store.id, s.door_rows, s.receipts)
    return total
