"""The alerts engine: evaluates every rule × scope on a schedule and on fresh data, persists
each one's state, and writes one event and its outbox messages per transition, in the
same transaction as the state change.

Fresh data: migration 0030 puts statement-level triggers on `door_counts`, `receipts`,
`occupancy` and `heartbeats` that `pg_notify('footfall_alerts_fresh', table)` when a
transaction that wrote them commits (ingest's batches, receipts posted to the API). The
engine `LISTEN`s, waits `debounce_s` for more, and runs a cycle; without notices it runs
every `cycle_s` (schedules, device silence and escalation need time to pass, not data).

Replicas: each rule × scope is evaluated under `SELECT … FOR UPDATE SKIP LOCKED` on its
state row, and an evaluation older than the one already applied (`evaluated_at`) is
dropped. A transition is therefore applied once, and its event's key (`state_id, seq`)
is unique, so no replica can notify it twice.

Example:
    >>> # engine = Engine(settings, clock=ManualClock(t0)); engine.cycle()
"""

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from footfall.alerts.digests import due_digests, queue_digest
from footfall.alerts.evaluate import Context, Reading, Target, evaluate
from footfall.alerts.messages import event_payload, with_action_links
from footfall.alerts.metrics import AlertsMetrics
from footfall.alerts.state import EventKind, Judgement, Snapshot, State, Transition, judge, step
from footfall.api.kpis import StoreInfo, all_store_ids, stores_info
from footfall.core.alertrules import QUEUE_METRICS, Metric, RuleSpec, ScopeKind
from footfall.core.clock import Clock, SystemClock
from footfall.core.settings import Settings
from footfall.core.topics import alerts_topic
from footfall.db.connect import DictConnection, connect
from footfall.db.queries import queries
from footfall.db.secrets import ALERTS_LINK_KEY, configured_or_stored

logger = logging.getLogger(__name__)

CHANNEL = "footfall_alerts_fresh"
DEVICE_KINDS = {
    Metric.DEVICE_SILENCE: ("counter_tcp", "counter_http", "counter_mqtt", "camera"),
    Metric.CAMERA_HEALTH: ("camera",),
}


def _q(name: str) -> str:
    return queries("alerts")[name]


@dataclass
class CycleStats:
    """What one cycle did."""

    targets: int = 0
    evaluated: int = 0
    skipped: int = 0
    transitions: int = 0
    messages: int = 0
    queries: int = 0
    seconds: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)


def queue_subjects(spec: RuleSpec, queue_zones: list[dict]) -> list[str]:
    """The queue zones a queue rule watches: every queue zone of the store (none: the store
    itself, `""`), or the named zone, or (a till named) the queue zones served at that till."""
    zone = spec.scope.zone
    if zone is None:
        # A store with no queue zone keeps one store-wide state, whose note says why it is silent
        # (`evaluate.no_queue_zone`); it is dropped once the store has queue zones.
        return [z["zone_id"] for z in queue_zones] or [""]
    return [z["zone_id"] for z in queue_zones if zone in (z["zone_id"], z["till_zone"])] or [zone]


def snapshot_from_row(row: dict[str, Any]) -> Snapshot:
    """A state row as a `Snapshot`."""
    return Snapshot(
        state=State(row["state"]),
        since=row["since"],
        breach_since=row["breach_since"],
        fired_at=row["fired_at"],
        resolved_at=row["resolved_at"],
        acked_at=row["acked_at"],
        escalated_at=row["escalated_at"],
        seq=row["seq"],
    )


class Engine:
    """Evaluate rules, persist states, write events and outbox messages.

    Args:
        settings: the process settings (database, MQTT prefix, alerts section).
        clock: where "now" comes from (tests pass a ManualClock or ScaledClock).
        name: a label for logs (several replicas may run).
        metrics: where to count cycles, lag and transitions (a registry of its own by default).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        name: str = "engine",
        metrics: AlertsMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics or AlertsMetrics()
        self.clock = clock or SystemClock()
        self.name = name
        self.wake_delivery = threading.Event()
        self._conn: DictConnection | None = None
        self._known: set[tuple[int, str, str]] = set()
        self._digested: set[tuple[str, str, date]] = set()
        self._noticed: float | None = None

    # ------------------------------------------------------------ connection

    def _db(self) -> DictConnection:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.settings.db, autocommit=True)
        return self._conn

    def close(self) -> None:
        """Close the engine's connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------ targets

    def targets(self, conn: DictConnection) -> list[Target]:
        """Every enabled rule × store × subject to judge now."""
        rows = conn.execute(_q("rule_targets")).fetchall()
        store_ids = sorted({r["store_id"] for r in rows})
        stores: dict[str, StoreInfo] = {s.store_id: s for s in stores_info(conn, store_ids)}
        devices: dict[str, list[dict]] = {}
        for d in conn.execute(_q("store_devices"), {"store_ids": store_ids}):
            devices.setdefault(d["store_id"], []).append(d)
        queues: dict[str, list[dict]] = {}
        for z in conn.execute(_q("store_queue_zones"), {"store_ids": store_ids}):
            queues.setdefault(z["store_id"], []).append(z)
        specs: dict[int, RuleSpec | None] = {}
        out: list[Target] = []
        for r in rows:
            if r["rule_id"] not in specs:
                try:
                    specs[r["rule_id"]] = RuleSpec.model_validate(r["spec"])
                except ValidationError as exc:
                    logger.error("rule %s: stored spec no longer valid, skipped: %s", r["rule_id"], exc)
                    specs[r["rule_id"]] = None
            spec = specs[r["rule_id"]]
            store = stores.get(r["store_id"])
            if spec is None or store is None:
                continue
            subjects = [spec.scope.subject]
            if spec.metric in DEVICE_KINDS and spec.scope.kind is not ScopeKind.DEVICE:
                kinds = DEVICE_KINDS[spec.metric]
                subjects = [d["device_id"] for d in devices.get(store.store_id, []) if d["kind"] in kinds]
            if spec.metric in QUEUE_METRICS:
                subjects = queue_subjects(spec, queues.get(store.store_id, []))
            for subject in subjects:
                out.append(Target(r["rule_id"], spec, store, subject, r["muted_until"]))
        return out

    # ------------------------------------------------------------ cycle

    def cycle(self) -> CycleStats:
        """Evaluate every target once at the clock's now."""
        started = time.perf_counter()
        stats = CycleStats()
        now = self.clock.now()
        conn = self._db()
        targets = self.targets(conn)
        stats.targets = len(targets)
        ctx = Context(conn=conn, now=now)
        known = {(r["rule_id"], r["store_id"], r["subject"]): r for r in conn.execute(_q("read_states"))}
        unchanged: list[tuple[int, float | None, float | None, str]] = []
        self._drop_placeholders(conn, targets, known)
        for target in targets:
            try:
                reading = evaluate(ctx, target)
                row = known.get((target.rule_id, target.store.store_id, target.subject))
                if row is not None and self._steady(row, target, reading, now):
                    # Fast path: this evaluation changes no state, so nothing is locked; only the
                    # value is refreshed, in one statement for all such states below.
                    if reading.value is not None or reading.note != (row["note"] or ""):
                        unchanged.append((row["state_id"], reading.value, reading.border, reading.note))
                    stats.evaluated += 1
                    continue
                applied = self.apply(conn, target, reading, now, stats)
            except psycopg.OperationalError:
                raise  # the connection is gone: the run loop reconnects
            except psycopg.Error:
                logger.exception("rule %s store %s: evaluation failed", target.rule_id, target.store.store_id)
                self.metrics.evaluation_failures.inc()
                continue
            if applied:
                stats.evaluated += 1
            else:
                stats.skipped += 1
        if unchanged:
            with conn.transaction():
                conn.execute(
                    _q("save_readings"),
                    {
                        "now": now,
                        "state_ids": [u[0] for u in unchanged],
                        "values": [u[1] for u in unchanged],
                        "borders": [u[2] for u in unchanged],
                        "notes": [u[3] for u in unchanged],
                    },
                )
        stats.messages += self.digests(conn, now)
        stats.queries = ctx.queries
        stats.seconds = time.perf_counter() - started
        m = self.metrics
        m.cycles.inc()
        m.cycle_seconds.observe(stats.seconds)
        m.evaluations.inc(stats.evaluated)
        m.queued.inc(stats.messages)
        for kind, n in stats.by_kind.items():
            m.transitions.labels(kind=kind).inc(n)
        if stats.messages:
            self.wake_delivery.set()
        return stats

    def _drop_placeholders(
        self, conn: DictConnection, targets: list[Target], known: dict[tuple[int, str, str], dict[str, Any]]
    ) -> None:
        """Delete the store-wide state of a queue rule whose store had no queue zone and now has
        one (its note would be stale; the zones have states of their own now). Such a state was
        never judged, so it has no events and no messages."""
        for t in targets:
            if t.spec.metric not in QUEUE_METRICS or t.spec.scope.zone is not None or not t.subject:
                continue
            row = known.pop((t.rule_id, t.store.store_id, ""), None)
            if row is not None:
                conn.execute(_q("drop_unjudged_state"), {"state_id": row["state_id"]})
                self._known.discard((t.rule_id, t.store.store_id, ""))

    @staticmethod
    def _steady(row: dict[str, Any], target: Target, reading: Reading, now: datetime) -> bool:
        """Whether a reading leaves a state (as last read) exactly as it is."""
        if row["evaluated_at"] is not None and row["evaluated_at"] >= now:
            return True  # a replica already applied this instant
        before = snapshot_from_row(row)
        after, transitions = step(before, judge(target.spec, reading.value, reading.border), now, target.spec)
        return after == before and not transitions

    def apply(self, conn: DictConnection, target: Target, reading: Reading, now: datetime, stats: CycleStats) -> bool:
        """Step one target's state with a reading; returns False when another replica holds it
        or has already applied a newer evaluation."""
        key = {"rule_id": target.rule_id, "store_id": target.store.store_id, "subject": target.subject}
        k = (target.rule_id, target.store.store_id, target.subject)
        with conn.transaction():
            if k not in self._known:
                conn.execute(_q("ensure_state"), key)
                self._known.add(k)
            row = conn.execute(_q("lock_state"), key).fetchone()
            if row is None:
                return False
            if row["evaluated_at"] is not None and row["evaluated_at"] >= now:
                return False
            before = snapshot_from_row(row)
            judgement = judge(target.spec, reading.value, reading.border)
            after, transitions = step(before, judgement, now, target.spec)
            conn.execute(
                _q("save_state"),
                {
                    "state_id": row["state_id"],
                    "state": after.state.value,
                    "since": after.since,
                    "breach_since": after.breach_since,
                    "fired_at": after.fired_at,
                    "resolved_at": after.resolved_at,
                    "acked_at": after.acked_at,
                    "acked_by": None,
                    "escalated_at": after.escalated_at,
                    "seq": after.seq,
                    "value": reading.value if judgement is not Judgement.UNKNOWN else row["value"],
                    "border": reading.border if judgement is not Judgement.UNKNOWN else row["border"],
                    "evaluated_at": now,
                    "note": reading.note,
                },
            )
            for t in transitions:
                stats.transitions += 1
                stats.by_kind[t.kind.value] = stats.by_kind.get(t.kind.value, 0) + 1
                stats.messages += self.publish(
                    conn, target=target, state_id=row["state_id"], snap=after, reading=reading, t=t, now=now
                )
        return True

    def publish(
        self,
        conn: DictConnection,
        *,
        target: Target,
        state_id: int,
        snap: Snapshot,
        reading: Reading,
        t: Transition,
        now: datetime,
    ) -> int:
        """Write the event of a transition and its outbox messages (inside the caller's transaction)."""
        a = self.settings.alerts
        payload = event_payload(
            kind=t.kind,
            target=target,
            state_id=state_id,
            snapshot=snap,
            reading=reading,
            at=t.at,
            public_url=a.public_url,
        )
        row = conn.execute(
            _q("insert_event"),
            {
                "state_id": state_id,
                "rule_id": target.rule_id,
                "store_id": target.store.store_id,
                "subject": target.subject,
                "seq": t.seq,
                "kind": t.kind.value,
                "at": t.at,
                "payload": Jsonb(payload),
            },
        ).fetchone()
        if row is None:  # already written: never enqueue twice
            return 0
        event_id = row["event_id"]
        payload["event_id"] = event_id
        conn.execute("UPDATE alert_events SET payload = %s WHERE event_id = %s", (Jsonb(payload), event_id))
        logger.info(
            "%s: rule %s store %s %s: %s (value %s, border %s)",
            self.name,
            target.rule_id,
            target.store.store_id,
            target.subject or "-",
            t.kind.value,
            reading.value,
            reading.border,
        )
        n = self._enqueue(
            conn,
            event_id=event_id,
            subscription_id=None,
            channel="mqtt",
            target=alerts_topic(self.settings.mqtt.prefix, target.store.store_id),
            payload={"store_id": target.store.store_id, "event_id": event_id},
        )
        muted = target.muted_until is not None and target.muted_until > now
        if muted:
            logger.info("rule %s is muted until %s: no personal notifications", target.rule_id, target.muted_until)
            return n
        levels = {
            EventKind.FIRING: [1],
            EventKind.ESCALATED: [2],
            EventKind.RESOLVED: [1, 2] if snap.escalated_at else [1],
        }.get(t.kind, [])
        if not levels:
            return n
        recipients = conn.execute(
            _q("recipients"), {"rule_id": target.rule_id, "store_id": target.store.store_id, "levels": levels}
        ).fetchall()
        for r in recipients:
            body = with_action_links(
                payload,
                user_id=r["user_id"],
                public_url=a.public_url,
                secret=configured_or_stored(conn, name=ALERTS_LINK_KEY, configured=a.link_secret),
                days=a.link_days,
            )
            n += self._enqueue(
                conn,
                event_id=event_id,
                subscription_id=r["subscription_id"],
                channel=r["channel"],
                target=r["target"],
                payload=body,
            )
        return n

    @staticmethod
    def _enqueue(
        conn: DictConnection,
        *,
        event_id: int,
        subscription_id: int | None,
        channel: str,
        target: str,
        payload: dict[str, Any],
    ) -> int:
        row = conn.execute(
            _q("enqueue"),
            {
                "event_id": event_id,
                "digest_key": None,
                "subscription_id": subscription_id,
                "channel": channel,
                "target": target,
                "payload": Jsonb(payload),
                "not_before": None,
            },
        ).fetchone()
        return 1 if row else 0

    def digests(self, conn: DictConnection, now: datetime) -> int:
        """Queue the digests that fell due (a store's daily one at its closing time)."""
        n = 0
        for store in stores_info(conn, all_store_ids(conn)):
            for kind, first, last in due_digests(store, now):
                key = (kind, store.store_id, first)
                if key in self._digested:
                    continue
                n += queue_digest(
                    conn, store=store, first=first, last=last, kind=kind, public_url=self.settings.alerts.public_url
                )
                self._digested.add(key)
        return n

    # ------------------------------------------------------------ loop

    def _listen(self, listener: DictConnection, timeout_s: float) -> bool:
        """Wait up to `timeout_s` (real) for a fresh-data notice; remember when the first one not yet
        evaluated was read (the start of the evaluation lag)."""
        fresh = False
        for _ in listener.notifies(timeout=timeout_s, stop_after=1):
            fresh = True
        if fresh and self._noticed is None:
            self._noticed = time.monotonic()
        return fresh

    def _evaluate(self, listener: DictConnection) -> CycleStats:
        """One cycle, then the evaluation lag of the notices it answered. Notices that arrived while
        it ran may be about data it did not see: they start the next lag at this cycle's start (an
        upper bound; a lag is never understated)."""
        started = time.monotonic()
        stats = self.cycle()
        if self._noticed is not None:
            self.metrics.lag_seconds.observe(time.monotonic() - self._noticed)
            self._noticed = None
        if self._listen(listener, 0.0):
            self._noticed = started
        return stats

    def run(self, stop: threading.Event) -> None:
        """Evaluate on fresh-data notices and every `cycle_s` (clock time) until `stop` is set."""
        a = self.settings.alerts
        listener: DictConnection | None = None
        next_cycle = self.clock.monotonic()
        while not stop.is_set():
            try:
                if listener is None or listener.closed:
                    listener = connect(self.settings.db, autocommit=True)
                    listener.execute(f"LISTEN {CHANNEL}")
                    next_cycle = self.clock.monotonic()
                wait = max(0.0, next_cycle - self.clock.monotonic())
                pending = self._noticed is not None  # notices read after the last cycle: no waiting
                fresh = self._listen(listener, 0.0 if pending else min(self.clock.real_seconds(wait), 1.0)) or pending
                if stop.is_set():
                    break
                if fresh:
                    time.sleep(a.debounce_s)
                    for _ in listener.notifies(timeout=0.0):
                        pass
                if fresh or self.clock.monotonic() >= next_cycle:
                    stats = self._evaluate(listener)
                    logger.debug("%s: cycle %s", self.name, stats)
                    next_cycle = self.clock.monotonic() + a.cycle_s
            except psycopg.OperationalError as exc:
                logger.warning("%s: database connection lost (%s); retrying", self.name, exc)
                self.metrics.connection_losses.labels(part="engine").inc()
                for c in (listener, self._conn):
                    if c is not None:
                        c.close()
                listener, self._conn = None, None
                stop.wait(1.0)
        if listener is not None:
            listener.close()
        self.close()
