"""Alert rules, alerts, subscriptions and the audit trail: the operations behind `/v1/alert-rules`,
`/v1/alerts`, `/v1/alert-subscriptions` and `/v1/alert-audit`.

Reusable operations are keyword-only functions on a connection that check the caller's
scope and return the API's response models; the writes (and their audit entries) are
`footfall.db.alerts`, the SQL `footfall/db/sql/alerts.sql`. A rule, alert or event of a
store outside the caller's scope is answered exactly like one that does not exist.
"""

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg_pool import PoolClosed

from footfall.api.access import Permission, Principal, Role
from footfall.api.errors import Forbidden, Invalid, NotFound
from footfall.api.schemas.alerts import (
    ActionDone,
    AlertPublic,
    AlertsPublic,
    AuditPublic,
    AuditsPublic,
    RulePublic,
    RulesPublic,
    SubscriptionCreate,
    SubscriptionPublic,
    SubscriptionsPublic,
)
from footfall.core.alertrules import RuleSpec
from footfall.core.netguard import TargetNotAllowed, TargetUnresolved, refuse_private_target
from footfall.core.settings import Settings
from footfall.core.signing import BadSignature, verify
from footfall.db import alerts as ops
from footfall.db import secrets as stored_secrets
from footfall.db.connect import DictConnection, DictPool
from footfall.db.errors import UnknownAlert, UnknownAlertRule
from footfall.db.queries import queries


def _q(name: str) -> str:
    return queries("alerts")[name]


def scope_args(caller: Principal) -> dict[str, Any]:
    """The caller's scope as SQL parameters (`all_stores`, `stores`, `admin`)."""
    admin = caller.role is Role.ADMIN
    return {"all_stores": admin or caller.all_stores, "stores": sorted(caller.stores), "admin": admin}


def rule_public(row: dict[str, Any]) -> RulePublic:
    """A rule row in its public form."""
    return RulePublic(
        rule_id=row["rule_id"],
        name=row["name"],
        store_id=row["store_id"],
        owner_id=row["owner_id"],
        source="store_file" if row["source_key"] else "api",
        enabled=row["enabled"],
        muted_until=row["muted_until"],
        spec=RuleSpec.model_validate(row["spec"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def visible_rule(conn: DictConnection, caller: Principal, rule_id: int) -> dict[str, Any]:
    """A rule the caller may see: of a store in scope, or store-less and their own (admins: any).

    Raises:
        NotFound: no such rule, or out of scope (the same answer).
    """
    try:
        row = ops.get_rule(conn, rule_id)
    except UnknownAlertRule:
        raise NotFound(f"alert rule {rule_id} not found") from None
    store = row["store_id"]
    mine = caller.role is Role.ADMIN or row["owner_id"] == caller.user_id
    if (store is not None and not caller.sees(store)) or (store is None and not mine):
        raise NotFound(f"alert rule {rule_id} not found")
    return row


def check_rule_scope(conn: DictConnection, caller: Principal, spec: RuleSpec) -> None:
    """The rule's store is in the caller's scope, and its scope fits the store
    (`footfall.db.alerts.scope_problems`, the check `footfall alerts apply` makes too).

    Raises:
        NotFound: the store is out of scope or does not exist.
        Invalid: the zone, door or device does not exist in the store, or a queue rule's zone is
            no checkout queue.
    """
    if spec.scope.store is None:
        return
    caller.require_store(spec.scope.store)
    problems = ops.scope_problems(conn, spec)
    if any(p.field == "store" for p in problems):
        raise NotFound(f"store {spec.scope.store!r} not found")
    if problems:
        raise Invalid(
            "; ".join(p.message for p in problems),
            errors=[{"loc": ["body", "scope", p.field], "msg": p.short} for p in problems],
        )


def create_rule(conn: DictConnection, *, caller: Principal, spec: RuleSpec) -> RulePublic:
    """Store a rule for a store in scope (or for every store in scope)."""
    check_rule_scope(conn, caller, spec)
    return rule_public(ops.create_rule(conn, spec=spec, owner_id=caller.user_id, username=caller.username))


def list_rules(conn: DictConnection, *, caller: Principal, limit: int, offset: int) -> RulesPublic:
    """Rules of stores in scope, and store-less rules the caller owns."""
    rows = conn.execute(
        _q("list_rules"), {**scope_args(caller), "user_id": caller.user_id, "limit": limit, "offset": offset}
    ).fetchall()
    return RulesPublic(data=[rule_public(r) for r in rows], count=len(rows))


def read_rule(conn: DictConnection, *, caller: Principal, rule_id: int) -> RulePublic:
    """One rule in scope."""
    return rule_public(visible_rule(conn, caller, rule_id))


def replace_rule(conn: DictConnection, *, caller: Principal, rule_id: int, spec: RuleSpec) -> RulePublic:
    """Replace a rule's definition (rules from a store file answer 409)."""
    visible_rule(conn, caller, rule_id)
    check_rule_scope(conn, caller, spec)
    return rule_public(
        ops.update_rule(conn, rule_id=rule_id, spec=spec, user_id=caller.user_id, username=caller.username)
    )


def delete_rule(conn: DictConnection, *, caller: Principal, rule_id: int) -> None:
    """Delete a rule in scope with its alerts and undelivered messages."""
    visible_rule(conn, caller, rule_id)
    ops.delete_rule(conn, rule_id=rule_id, user_id=caller.user_id, username=caller.username)


def mute_rule(
    conn: DictConnection,
    *,
    caller: Principal,
    rule_id: int,
    minutes: int | None,
    via: str = "api",
    client: str | None = None,
) -> RulePublic:
    """Mute a rule for `minutes` from now (None: unmute)."""
    visible_rule(conn, caller, rule_id)
    until = datetime.now(UTC) + timedelta(minutes=minutes) if minutes else None
    row = ops.set_mute(
        conn, rule_id=rule_id, until=until, user_id=caller.user_id, username=caller.username, via=via, client=client
    )
    return rule_public(row)


def visible_alert(conn: DictConnection, caller: Principal, state_id: int) -> dict[str, Any]:
    """An alert of a store in scope.

    Raises:
        NotFound: no such alert, or out of scope (the same answer).
    """
    try:
        row = ops.get_state(conn, state_id)
    except UnknownAlert:
        raise NotFound(f"alert {state_id} not found") from None
    if not caller.sees(row["store_id"]):
        raise NotFound(f"alert {state_id} not found")
    return row


def list_alerts(conn: DictConnection, *, caller: Principal, state: str | None, limit: int, offset: int) -> AlertsPublic:
    """Alerts of stores in scope, optionally in one state."""
    rows = conn.execute(
        _q("list_states"), {**scope_args(caller), "state": state, "limit": limit, "offset": offset}
    ).fetchall()
    return AlertsPublic(data=[AlertPublic.model_validate(r) for r in rows], count=len(rows))


def read_alert(conn: DictConnection, *, caller: Principal, state_id: int) -> AlertPublic:
    """One alert in scope."""
    return AlertPublic.model_validate(visible_alert(conn, caller, state_id))


def acknowledge(
    conn: DictConnection,
    *,
    caller: Principal,
    state_id: int,
    settings: Settings,
    via: str = "api",
    client: str | None = None,
) -> tuple[AlertPublic, bool]:
    """Acknowledge a firing alert in scope; returns the alert and whether this call acknowledged it."""
    visible_alert(conn, caller, state_id)
    row, done = ops.acknowledge(
        conn,
        state_id=state_id,
        user_id=caller.user_id,
        username=caller.username,
        via=via,
        now=datetime.now(UTC),
        mqtt_prefix=settings.mqtt.prefix,
        client=client,
    )
    return AlertPublic.model_validate(row), done


def link_principal(conn: DictConnection, user_id: int) -> Principal:
    """The user a signed link was sent to, as a caller.

    Raises:
        Forbidden: the user is gone or disabled.
    """
    try:
        u = ops.user_scope(conn, user_id)
    except Exception:
        raise Forbidden("the user this link was sent to no longer exists") from None
    if u["disabled"]:
        raise Forbidden("the user this link was sent to is disabled")
    return Principal(
        user_id=u["user_id"],
        username=u["username"],
        role=Role(u["role"]),
        all_stores=u["all_stores"],
        stores=frozenset(u["stores"]),
        via="link",
    )


def link_secret(conn: DictConnection, settings: Settings) -> str:
    """The key action links are signed with: the configured one, or the one made on first start."""
    return stored_secrets.configured_or_stored(
        conn, name=stored_secrets.ALERTS_LINK_KEY, configured=settings.alerts.link_secret
    )


def link_claims(conn: DictConnection, token: str, settings: Settings) -> dict[str, Any]:
    """The claims of a signed action link.

    Raises:
        Forbidden: forged, malformed or expired.
    """
    try:
        return verify(token, secret=link_secret(conn, settings), now=time.time())
    except BadSignature as exc:
        raise Forbidden(str(exc)) from None


def act(conn: DictConnection, *, token: str, settings: Settings, client: str | None = None) -> ActionDone:
    """Do what a signed link says, as the user it was sent to (acknowledge, or mute for 24 h); the
    audit entry names that user, `via: link`, and the address the action came from."""
    claims = link_claims(conn, token, settings)
    caller = link_principal(conn, int(claims["user"]))
    state_id = int(claims["state"])
    if claims["act"] == "ack":
        alert, done = acknowledge(conn, caller=caller, state_id=state_id, settings=settings, via="link", client=client)
        return ActionDone(
            action="acknowledged" if done else "already acknowledged",
            state_id=state_id,
            rule_id=alert.rule_id,
            by=caller.username,
        )
    caller.require(Permission.MANAGE_ALERTS)
    alert = read_alert(conn, caller=caller, state_id=state_id)
    rule = mute_rule(conn, caller=caller, rule_id=alert.rule_id, minutes=24 * 60, via="link", client=client)
    return ActionDone(
        action="muted", state_id=state_id, rule_id=alert.rule_id, by=caller.username, muted_until=rule.muted_until
    )


def read_audit(conn: DictConnection, *, caller: Principal, limit: int) -> AuditsPublic:
    """The alert entries of the shared audit log for rules in scope, newest first."""
    rows = conn.execute(_q("list_audit"), {**scope_args(caller), "limit": limit}).fetchall()
    return AuditsPublic(data=[AuditPublic.model_validate(r) for r in rows], count=len(rows))


def subscribe(
    conn: DictConnection, *, caller: Principal, body: SubscriptionCreate, settings: Settings
) -> SubscriptionPublic:
    """Subscribe the caller; the webhook target passes the SSRF guard first."""
    if body.store_id is not None:
        caller.require_store(body.store_id)
    if body.rule_id is not None:
        visible_rule(conn, caller, body.rule_id)
    if body.channel == "webhook":
        try:
            refuse_private_target(body.target, settings.alerts.webhook_allow)
        except TargetNotAllowed as exc:
            raise Invalid(str(exc), errors=[{"loc": ["body", "target"], "msg": str(exc)}]) from None
        except TargetUnresolved:
            pass  # may resolve later; every delivery checks again
    elif body.channel == "email" and "@" not in body.target:
        raise Invalid("an e-mail target needs an address", errors=[{"loc": ["body", "target"], "msg": "not an e-mail"}])
    if body.digest != "none" and body.channel == "webhook":
        raise Invalid(
            "digests go by e-mail or Telegram", errors=[{"loc": ["body", "digest"], "msg": "use none for webhooks"}]
        )
    row = ops.create_subscription(conn, user_id=caller.user_id, **body.model_dump())
    return SubscriptionPublic.model_validate(row)


def list_subscriptions(conn: DictConnection, *, caller: Principal) -> SubscriptionsPublic:
    """The caller's subscriptions (an admin sees everyone's); secrets are not shown again."""
    admin = caller.can(Permission.MANAGE_USERS)
    rows = conn.execute(_q("list_subscriptions"), {"admin": admin, "user_id": caller.user_id}).fetchall()
    return SubscriptionsPublic(
        data=[SubscriptionPublic.model_validate({**r, "secret": None}) for r in rows], count=len(rows)
    )


def unsubscribe(conn: DictConnection, *, caller: Principal, subscription_id: int) -> None:
    """Remove one of the caller's subscriptions.

    Raises:
        NotFound: no such subscription of theirs.
    """
    admin = caller.can(Permission.MANAGE_USERS)
    with conn.transaction():
        row = conn.execute(
            _q("delete_subscription"), {"subscription_id": subscription_id, "admin": admin, "user_id": caller.user_id}
        ).fetchone()
    if row is None:
        raise NotFound(f"subscription {subscription_id} not found")


def event_stream(
    pool: DictPool, *, caller: Principal, after: int | None, seconds: float | None, poll_s: float = 0.5
) -> Iterator[str]:
    """Server-Sent Events of stores in scope after event id `after` (None: from now on)."""
    scope = scope_args(caller)
    if after is None:
        with pool.connection() as conn:
            row = conn.execute("SELECT coalesce(max(event_id), 0) AS n FROM alert_events").fetchone()
            after = int(row["n"]) if row else 0
    return _events(pool, scope=scope, after=after, seconds=seconds, poll_s=poll_s)


def _events(
    pool: DictPool, *, scope: dict[str, Any], after: int, seconds: float | None, poll_s: float
) -> Iterator[str]:

    cursor = after
    began = last_beat = time.monotonic()
    yield "retry: 2000\n\n"
    while seconds is None or time.monotonic() - began < seconds:
        try:
            with pool.connection() as conn:
                rows = conn.execute(_q("events_after"), {**scope, "after": cursor, "limit": 100}).fetchall()
        except PoolClosed:
            return  # the server is shutting down: end the stream; the browser reconnects after `retry`
        for r in rows:
            cursor = r["event_id"]
            yield f"id: {cursor}\nevent: {r['kind']}\ndata: {json.dumps(r['payload'], default=str)}\n\n"
        if time.monotonic() - last_beat > 15:
            last_beat = time.monotonic()
            yield ": keep-alive\n\n"
        if not rows:
            time.sleep(poll_s)
