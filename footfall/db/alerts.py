"""Alert rules, subscriptions, acknowledgements and mutes: the operations behind `/v1/alert-rules`,
`/v1/alert-subscriptions`, `/v1/alerts` and `footfall alerts apply`.

Scope (which stores a caller may name) is checked by the callers, who know the caller;
these functions validate, write in one transaction, and record who did it in the shared
audit log (`footfall.db.audit.record`, `alert_<action>`; `GET /v1/audit` and, scoped,
`GET /v1/alert-audit`). A rule is validated completely before anything is written: a bad rule
leaves nothing half-saved.
"""

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from footfall.core.alertrules import QUEUE_METRICS, RuleSpec
from footfall.core.storeconfig import StoreConfig
from footfall.core.topics import alerts_topic
from footfall.db.audit import record
from footfall.db.connect import DictConnection
from footfall.db.errors import (
    AlertConflict,
    InvalidAlertRule,
    UnknownAlert,
    UnknownAlertRule,
    UnknownStore,
    UnknownUser,
)
from footfall.db.queries import queries


def _q(name: str) -> str:
    return queries("alerts")[name]


def _spec_json(spec: RuleSpec) -> Jsonb:
    return Jsonb(spec.model_dump(mode="json", exclude_defaults=False))


def _returned(row: dict[str, Any] | None, what: str) -> dict[str, Any]:
    """The row a `RETURNING` statement gave back.

    Raises:
        UnknownAlertRule: none came back (the row was deleted meanwhile).
    """
    if row is None:
        raise UnknownAlertRule(f"{what} not found")
    return row


def audit(
    conn: DictConnection,
    *,
    user_id: int | None,
    username: str,
    action: str,
    via: str,
    store_id: str | None,
    rule_id: int | None = None,
    state_id: int | None = None,
    detail: dict[str, Any] | None = None,
    client: str | None = None,
) -> None:
    """Record who did what in the audit log, inside the caller's transaction.

    Args:
        action: `acknowledge`, `mute`, `unmute`, `rule_create`, `rule_update` or `rule_delete`
            (written as `alert_<action>`).
        via: `api`, `link` (a signed link from a message) or `file` (a store file).
        store_id: the rule's store (None: every store in its owner's scope), for scoped reading.
    """
    target = f"alert:{state_id}" if state_id is not None else f"alert_rule:{rule_id}"
    body = {**(detail or {}), "via": via, "rule_id": rule_id, "state_id": state_id, "store_id": store_id}
    record(conn, actor=username, actor_id=user_id, action=f"alert_{action}", target=target, detail=body, client=client)


@dataclass(frozen=True)
class ScopeProblem:
    """Why a rule's scope does not fit its store: the field (`store`, `zone`, `door`, `device`),
    the full message (which names the fix) and a short one."""

    field: str
    message: str
    short: str


def scope_problems(conn: DictConnection, spec: RuleSpec) -> list[ScopeProblem]:
    """Check a rule's scope against the stored store: the store exists, its zone, door or device
    exists there, and a queue metric's zone is a checkout queue (`kind: queue`) or the till of one.

    The one check behind `POST`/`PUT /v1/alert-rules` (`footfall.api.alerts.check_rule_scope`,
    which also checks the caller's scope) and `footfall alerts apply` (`apply_store_rules`).
    Returns nothing for a store-less rule (every store in its owner's scope).
    """
    s = spec.scope
    if s.store is None:
        return []
    row = conn.execute(
        _q("scope_exists"), {"store_id": s.store, "zone": s.zone, "door": s.door, "device": s.device}
    ).fetchone()
    if row is None or not row["store_ok"]:
        return [
            ScopeProblem(
                "store",
                f"store {s.store!r} not found; run `footfall stores apply` with its file first",
                f"no store {s.store}",
            )
        ]
    out = [
        ScopeProblem(
            name, f"store {s.store!r} has no {name} {getattr(s, name)!r}", f"no such {name} in store {s.store}"
        )
        for name in ("zone", "door", "device")
        if not row[f"{name}_ok"]
    ]
    if not out and spec.metric in QUEUE_METRICS and not row["queue_ok"]:
        out.append(
            ScopeProblem(
                "zone",
                f"zone {s.zone!r} of store {s.store!r} is neither a checkout queue nor the till of one; "
                "name a zone of `kind: queue` (or its `till`), or scope the whole store",
                f"no queue at zone {s.zone} in store {s.store}",
            )
        )
    return out


def create_rule(conn: DictConnection, *, spec: RuleSpec, owner_id: int, username: str) -> dict[str, Any]:
    """Store a validated rule owned by a user."""
    with conn.transaction():
        row = conn.execute(
            _q("insert_rule"),
            {
                "name": spec.name,
                "spec": _spec_json(spec),
                "store_id": spec.scope.store,
                "owner_id": owner_id,
                "source_key": None,
                "enabled": spec.enabled,
            },
        ).fetchone()
        row = _returned(row, "new alert rule")
        audit(
            conn,
            user_id=owner_id,
            username=username,
            action="rule_create",
            via="api",
            store_id=spec.scope.store,
            rule_id=row["rule_id"],
        )
    return row


def get_rule(conn: DictConnection, rule_id: int) -> dict[str, Any]:
    """One rule.

    Raises:
        UnknownAlertRule: no such rule.
    """
    row = conn.execute(_q("rule_by_id"), {"rule_id": rule_id}).fetchone()
    if row is None:
        raise UnknownAlertRule(f"alert rule {rule_id} not found")
    return row


def update_rule(conn: DictConnection, *, rule_id: int, spec: RuleSpec, user_id: int, username: str) -> dict[str, Any]:
    """Replace a rule's spec (its state history stays).

    Raises:
        UnknownAlertRule: no such rule.
        AlertConflict: the rule comes from a store YAML file (change the file instead).
    """
    with conn.transaction():
        current = get_rule(conn, rule_id)
        if current["source_key"]:
            raise AlertConflict(f"alert rule {rule_id} is managed by a store file; edit the file and apply it")
        row = conn.execute(
            _q("update_rule"),
            {
                "rule_id": rule_id,
                "name": spec.name,
                "spec": _spec_json(spec),
                "store_id": spec.scope.store,
                "enabled": spec.enabled,
            },
        ).fetchone()
        row = _returned(row, f"alert rule {rule_id}")
        audit(
            conn,
            user_id=user_id,
            username=username,
            action="rule_update",
            via="api",
            store_id=spec.scope.store,
            rule_id=rule_id,
        )
    return row


def delete_rule(conn: DictConnection, *, rule_id: int, user_id: int, username: str) -> None:
    """Delete a rule with its states and pending messages.

    Raises:
        UnknownAlertRule: no such rule.
    """
    with conn.transaction():
        gone = conn.execute(_q("delete_rule"), {"rule_id": rule_id}).fetchone()
        if gone is None:
            raise UnknownAlertRule(f"alert rule {rule_id} not found")
        audit(
            conn,
            user_id=user_id,
            username=username,
            action="rule_delete",
            via="api",
            store_id=gone["store_id"],
            rule_id=rule_id,
        )


@dataclass
class RulesApplied:
    """What `apply_store_rules` changed."""

    created: int = 0
    updated: int = 0
    removed: int = 0


def apply_store_rules(conn: DictConnection, cfg: StoreConfig, *, source: str = "store file") -> RulesApplied:
    """Upsert a store file's `alerts:` (keyed by store and rule id) and remove the file's rules that
    are gone; idempotent. Every rule is checked against the stored store first, as the API checks
    it (`scope_problems`); one bad rule refuses the whole file and nothing is written.

    Raises:
        UnknownStore: the store is not in the database yet (`footfall stores apply` it first).
        InvalidAlertRule: a rule's zone, door or device is not in the stored store, or a queue
            rule's zone is no checkout queue; the message names the file, the rule and the field.
    """
    store_id = cfg.store.id
    out = RulesApplied()
    prefix = f"store/{store_id}/"
    with conn.transaction():
        if conn.execute("SELECT 1 FROM stores WHERE store_id = %s", (store_id,)).fetchone() is None:
            raise UnknownStore(f"store {store_id!r} is not in the database; run `footfall stores apply` first")
        specs: list[tuple[str, RuleSpec]] = []
        problems: list[tuple[str, str, str]] = []
        for i, rule in enumerate(cfg.alerts):
            data = rule.model_dump(mode="json", exclude={"id"})
            data["scope"] = {**data["scope"], "store": store_id}
            spec = RuleSpec.model_validate(data)
            specs.append((rule.id, spec))
            for p in scope_problems(conn, spec):
                problems.append((rule.id, f"alerts.{i}.scope.{p.field}", p.message))
        if problems:
            lines = "\n".join(f"  rule {rid!r} ({where}): {msg}" for rid, where, msg in problems)
            raise InvalidAlertRule(
                f"{source}: {len(problems)} alert rule problem(s), nothing applied:\n{lines}", problems
            )
        keys = []
        for rule_id, spec in specs:
            key = prefix + rule_id
            keys.append(key)
            row = conn.execute(
                _q("upsert_store_rule"),
                {
                    "name": spec.name,
                    "spec": _spec_json(spec),
                    "store_id": store_id,
                    "source_key": key,
                    "enabled": spec.enabled,
                },
            ).fetchone()
            if row is not None:
                if row["created"]:
                    out.created += 1
                else:
                    out.updated += 1
        removed = conn.execute(
            _q("prune_store_rules"), {"store_id": store_id, "prefix": prefix + "%", "keep": keys}
        ).fetchall()
        out.removed = len(removed)
    return out


def set_mute(
    conn: DictConnection,
    *,
    rule_id: int,
    until: datetime | None,
    user_id: int,
    username: str,
    via: str,
    client: str | None = None,
) -> dict[str, Any]:
    """Mute a rule's personal notifications until an instant (None: unmute). States and the
    in-store MQTT screen keep following the rule.

    Raises:
        UnknownAlertRule: no such rule.
    """
    with conn.transaction():
        row = conn.execute(_q("set_mute"), {"rule_id": rule_id, "until": until}).fetchone()
        if row is None:
            raise UnknownAlertRule(f"alert rule {rule_id} not found")
        audit(
            conn,
            user_id=user_id,
            username=username,
            action="mute" if until else "unmute",
            via=via,
            store_id=row["store_id"],
            rule_id=rule_id,
            detail={"until": until.isoformat() if until else None},
            client=client,
        )
    return row


def get_state(conn: DictConnection, state_id: int) -> dict[str, Any]:
    """One alert state with its rule's name and metric.

    Raises:
        UnknownAlert: no such alert.
    """
    row = conn.execute(_q("state_by_id"), {"state_id": state_id}).fetchone()
    if row is None:
        raise UnknownAlert(f"alert {state_id} not found")
    return row


def acknowledge(
    conn: DictConnection,
    *,
    state_id: int,
    user_id: int,
    username: str,
    via: str,
    now: datetime,
    mqtt_prefix: str,
    client: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Acknowledge a firing alert: stops its escalation, writes an `acknowledged` event (SSE, MQTT)
    and the audit entry. Acknowledging twice changes nothing.

    Returns:
        The state row after, and whether this call acknowledged it.

    Raises:
        UnknownAlert: no such alert.
        AlertConflict: the alert is not firing.
    """
    with conn.transaction():
        row = conn.execute(_q("lock_state_by_id"), {"state_id": state_id}).fetchone()
        if row is None:
            raise UnknownAlert(f"alert {state_id} not found")
        if row["state"] != "firing":
            raise AlertConflict(f"alert {state_id} is {row['state']}, not firing; only a firing alert is acknowledged")
        if row["acked_at"] is not None:
            return get_state(conn, state_id), False
        seq = row["seq"] + 1
        conn.execute(
            "UPDATE alert_states SET acked_at = %s, acked_by = %s, seq = %s WHERE state_id = %s",
            (now, user_id, seq, state_id),
        )
        rule = get_rule(conn, row["rule_id"])
        payload = {
            "type": "alert.acknowledged",
            "kind": "acknowledged",
            "state_id": state_id,
            "seq": seq,
            "rule": {"id": rule["rule_id"], "name": rule["name"], "metric": rule["spec"]["metric"]},
            "store": {"id": row["store_id"]},
            "subject": row["subject"],
            "by": username,
            "at": now.isoformat(),
            "headline": f"{rule['name']}: acknowledged by {username}",
        }
        event = conn.execute(
            _q("insert_event"),
            {
                "state_id": state_id,
                "rule_id": row["rule_id"],
                "store_id": row["store_id"],
                "subject": row["subject"],
                "seq": seq,
                "kind": "acknowledged",
                "at": now,
                "payload": Jsonb(payload),
            },
        ).fetchone()
        if event is not None:
            conn.execute(
                _q("enqueue"),
                {
                    "event_id": event["event_id"],
                    "digest_key": None,
                    "subscription_id": None,
                    "channel": "mqtt",
                    "target": alerts_topic(mqtt_prefix, row["store_id"]),
                    "payload": Jsonb({"store_id": row["store_id"], "event_id": event["event_id"]}),
                    "not_before": None,
                },
            )
        audit(
            conn,
            user_id=user_id,
            username=username,
            action="acknowledge",
            via=via,
            store_id=row["store_id"],
            rule_id=row["rule_id"],
            state_id=state_id,
            client=client,
        )
    return get_state(conn, state_id), True


def create_subscription(
    conn: DictConnection,
    *,
    user_id: int,
    channel: str,
    target: str,
    rule_id: int | None = None,
    store_id: str | None = None,
    level: int = 1,
    digest: str = "none",
) -> dict[str, Any]:
    """Subscribe a user; a webhook subscription gets a fresh signing secret (`whsec_…`, shown once)."""
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode() if channel == "webhook" else None
    with conn.transaction():
        row = conn.execute(
            _q("insert_subscription"),
            {
                "user_id": user_id,
                "rule_id": rule_id,
                "store_id": store_id,
                "channel": channel,
                "target": target,
                "secret": secret,
                "level": level,
                "digest": digest,
            },
        ).fetchone()
    return _returned(row, "new subscription")


def user_scope(conn: DictConnection, user_id: int) -> dict[str, Any]:
    """A user's role and stores.

    Raises:
        UnknownUser: no such user.
    """
    row = conn.execute(_q("user_scope"), {"user_id": user_id}).fetchone()
    if row is None:
        raise UnknownUser(f"user {user_id} not found")
    return row
