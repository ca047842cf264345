"""Alert rules, subscriptions, acknowledgements and mutes: the operations behind `/v1/alert-rules`,
`/v1/alert-subscriptions`, `/v1/alerts` and `footfall alerts apply`.

Scope (which stores a caller may name) is checked by the callers, who know the caller;
these functions validate, write in one transaction, and record who did it in
`alert_audit`. A rule is validated completely before anything is written: a bad rule
leaves nothing half-saved.
"""

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from footfall.core.alertrules import RuleSpec
from footfall.core.storeconfig import StoreConfig
from footfall.core.topics import alerts_topic
from footfall.db.connect import DictConnection
from footfall.db.errors import AlertConflict, UnknownAlert, UnknownAlertRule, UnknownStore, UnknownUser
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
    rule_id: int | None = None,
    state_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record who did what (inside the caller's transaction)."""
    conn.execute(
        _q("insert_audit"),
        {
            "user_id": user_id,
            "username": username,
            "action": action,
            "via": via,
            "rule_id": rule_id,
            "state_id": state_id,
            "detail": Jsonb(detail or {}),
        },
    )


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
        audit(conn, user_id=owner_id, username=username, action="rule_create", via="api", rule_id=row["rule_id"])
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
        audit(conn, user_id=user_id, username=username, action="rule_update", via="api", rule_id=rule_id)
    return row


def delete_rule(conn: DictConnection, *, rule_id: int, user_id: int, username: str) -> None:
    """Delete a rule with its states and pending messages.

    Raises:
        UnknownAlertRule: no such rule.
    """
    with conn.transaction():
        if conn.execute(_q("delete_rule"), {"rule_id": rule_id}).fetchone() is None:
            raise UnknownAlertRule(f"alert rule {rule_id} not found")
        audit(conn, user_id=user_id, username=username, action="rule_delete", via="api", rule_id=rule_id)


@dataclass
class RulesApplied:
    """What `apply_store_rules` changed."""

    created: int = 0
    updated: int = 0
    removed: int = 0


def apply_store_rules(conn: DictConnection, cfg: StoreConfig) -> RulesApplied:
    """Upsert a store file's `alerts:` (keyed by store and rule id) and remove the file's rules that
    are gone; idempotent.

    Raises:
        UnknownStore: the store is not in the database yet (`footfall stores apply` it first).
    """
    store_id = cfg.store.id
    out = RulesApplied()
    prefix = f"store/{store_id}/"
    with conn.transaction():
        if conn.execute("SELECT 1 FROM stores WHERE store_id = %s", (store_id,)).fetchone() is None:
            raise UnknownStore(f"store {store_id!r} is not in the database; run `footfall stores apply` first")
        keys = []
        for rule in cfg.alerts:
            data = rule.model_dump(mode="json", exclude={"id"})
            data["scope"] = {**data["scope"], "store": store_id}
            spec = RuleSpec.model_validate(data)
            key = prefix + rule.id
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
    conn: DictConnection, *, rule_id: int, until: datetime | None, user_id: int, username: str, via: str
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
            rule_id=rule_id,
            detail={"until": until.isoformat() if until else None},
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
            rule_id=row["rule_id"],
            state_id=state_id,
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
