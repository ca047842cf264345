"""Alert rules, alerts, acknowledgements and mutes, subscriptions, the live stream and the audit trail.

Scope: a rule names a store in your scope (or none: then it covers every store in your
scope); alerts, events and the stream show only stores in your scope; a store outside it
answers 404 exactly like one that does not exist.
"""

import html
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, status
from fastapi.responses import HTMLResponse, StreamingResponse
from psycopg_pool import ConnectionPool

from footfall.api.access import Permission, Principal
from footfall.api.deps import AlertManager, AlertSubscriber, ConnDep, SettingsDep
from footfall.api.errors import Forbidden, Invalid, NotFound
from footfall.api.problems import responses
from footfall.api.routes.common import Limit, Offset
from footfall.api.schemas.alerts import (
    ActionDone,
    AlertPublic,
    AlertsPublic,
    AuditPublic,
    AuditsPublic,
    MuteRequest,
    RulePublic,
    RulesPublic,
    SubscriptionCreate,
    SubscriptionPublic,
    SubscriptionsPublic,
)
from footfall.core.alertrules import RuleSpec
from footfall.core.netguard import TargetNotAllowed, TargetUnresolved, refuse_private_target
from footfall.core.signing import BadSignature, verify
from footfall.db import alerts as ops
from footfall.db.queries import queries

router = APIRouter(tags=["alerts"], responses=responses(400, 401, 403, 404, 409, 422))

RuleId = Annotated[int, Path(ge=1, le=2**62, description="An alert rule.")]
StateId = Annotated[int, Path(ge=1, le=2**62, description="An alert (rule × store × subject).")]


def _q(name: str) -> str:
    return queries("alerts")[name]


def _scope_args(caller: Principal) -> dict[str, Any]:
    unlimited = caller.role.value == "admin" or caller.all_stores
    return {"all_stores": unlimited, "stores": sorted(caller.stores), "admin": caller.role.value == "admin"}


def _rule_public(row: dict[str, Any]) -> RulePublic:
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


def visible_rule(conn: ConnDep, caller: Principal, rule_id: int) -> dict[str, Any]:
    """A rule the caller may see.

    Raises:
        NotFound: no such rule, or out of scope (the same answer).
    """
    try:
        row = ops.get_rule(conn, rule_id)
    except Exception:
        raise NotFound(f"alert rule {rule_id} not found") from None
    store = row["store_id"]
    if (store is not None and not caller.sees(store)) or (
        store is None and row["owner_id"] != caller.user_id and caller.role.value != "admin"
    ):
        raise NotFound(f"alert rule {rule_id} not found")
    return row


def _check_scope(conn: ConnDep, caller: Principal, spec: RuleSpec) -> None:
    """The rule's store is in scope and its zone, door or device exists there."""
    s = spec.scope
    if s.store is None:
        return
    caller.require_store(s.store)
    row = conn.execute(
        _q("scope_exists"), {"store_id": s.store, "zone": s.zone, "door": s.door, "device": s.device}
    ).fetchone()
    if not row["store_ok"]:
        raise NotFound(f"store {s.store!r} not found")
    for name in ("zone", "door", "device"):
        if not row[f"{name}_ok"]:
            raise Invalid(
                f"store {s.store!r} has no {name} {getattr(s, name)!r}",
                errors=[{"loc": ["body", "scope", name], "msg": f"no such {name} in store {s.store}"}],
            )


# ---------------------------------------------------------------- rules


@router.post("/v1/alert-rules", status_code=status.HTTP_201_CREATED, summary="Create an alert rule")
def create_rule(conn: ConnDep, caller: AlertManager, body: RuleSpec) -> RulePublic:
    """A rule for a store in your scope (or, without `scope.store`, for every store in your scope).
    It is validated completely first: a bad rule is refused with every problem named, and nothing is saved."""
    _check_scope(conn, caller, body)
    return _rule_public(ops.create_rule(conn, spec=body, owner_id=caller.user_id, username=caller.username))


@router.get("/v1/alert-rules", summary="Alert rules in your scope")
def list_rules(conn: ConnDep, caller: AlertSubscriber, limit: Limit = 100, offset: Offset = 0) -> RulesPublic:
    """Rules of stores in your scope, and store-less rules you own."""
    rows = conn.execute(
        _q("list_rules"), {**_scope_args(caller), "user_id": caller.user_id, "limit": limit, "offset": offset}
    ).fetchall()
    return RulesPublic(data=[_rule_public(r) for r in rows], count=len(rows))


@router.get("/v1/alert-rules/{rule_id}", summary="One alert rule")
def read_rule(conn: ConnDep, caller: AlertSubscriber, rule_id: RuleId) -> RulePublic:
    """A rule in your scope."""
    return _rule_public(visible_rule(conn, caller, rule_id))


@router.put("/v1/alert-rules/{rule_id}", summary="Replace an alert rule")
def replace_rule(conn: ConnDep, caller: AlertManager, rule_id: RuleId, body: RuleSpec) -> RulePublic:
    """Replace a rule's definition (its alert history stays). Rules from a store file answer 409."""
    visible_rule(conn, caller, rule_id)
    _check_scope(conn, caller, body)
    return _rule_public(
        ops.update_rule(conn, rule_id=rule_id, spec=body, user_id=caller.user_id, username=caller.username)
    )


@router.delete("/v1/alert-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete an alert rule")
def delete_rule(conn: ConnDep, caller: AlertManager, rule_id: RuleId) -> None:
    """Delete a rule, its alerts and its undelivered messages."""
    visible_rule(conn, caller, rule_id)
    ops.delete_rule(conn, rule_id=rule_id, user_id=caller.user_id, username=caller.username)


@router.post("/v1/alert-rules/{rule_id}/mute", summary="Mute a rule")
def mute_rule(conn: ConnDep, caller: AlertManager, rule_id: RuleId, body: MuteRequest) -> RulePublic:
    """No e-mail, Telegram or webhook messages for this rule until the mute ends; its alerts, the
    in-store MQTT screens and the live stream keep following it."""
    visible_rule(conn, caller, rule_id)
    until = datetime.now(UTC) + timedelta(minutes=body.minutes)
    row = ops.set_mute(conn, rule_id=rule_id, until=until, user_id=caller.user_id, username=caller.username, via="api")
    return _rule_public(row)


@router.delete("/v1/alert-rules/{rule_id}/mute", summary="Unmute a rule")
def unmute_rule(conn: ConnDep, caller: AlertManager, rule_id: RuleId) -> RulePublic:
    """End a mute now."""
    visible_rule(conn, caller, rule_id)
    row = ops.set_mute(conn, rule_id=rule_id, until=None, user_id=caller.user_id, username=caller.username, via="api")
    return _rule_public(row)


# ---------------------------------------------------------------- alerts


@router.get("/v1/alerts", summary="Alerts in your scope")
def list_alerts(
    conn: ConnDep,
    caller: AlertSubscriber,
    state: Annotated[
        str | None, Query(pattern="^(ok|pending|firing|resolved)$", description="Only this state.")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> AlertsPublic:
    """The state of every rule × store × subject in your scope."""
    rows = conn.execute(
        _q("list_states"), {**_scope_args(caller), "state": state, "limit": limit, "offset": offset}
    ).fetchall()
    return AlertsPublic(data=[AlertPublic.model_validate(r, from_attributes=False) for r in rows], count=len(rows))


@router.get("/v1/alerts/stream", summary="Live alert events (Server-Sent Events)")
def stream(
    request: Request,
    caller: AlertSubscriber,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0)] = None,
    after: Annotated[int | None, Query(ge=0, description="Start after this event id (else: new events only).")] = None,
    seconds: Annotated[float | None, Query(gt=0, le=86400, description="Close the stream after this long.")] = None,
) -> StreamingResponse:
    """`text/event-stream` of firing, resolved, escalated and acknowledged events of stores in your
    scope; each has `id` (resume with `Last-Event-ID`), `event` (the kind) and JSON `data`."""
    pool: ConnectionPool = request.app.state.pool
    scope = _scope_args(caller)
    start = last_event_id if last_event_id is not None else after
    if start is None:
        with pool.connection() as conn:
            start = conn.execute("SELECT coalesce(max(event_id), 0) AS n FROM alert_events").fetchone()["n"]

    def events() -> Iterator[str]:
        cursor = start
        began = last_beat = time.monotonic()
        yield "retry: 2000\n\n"
        while seconds is None or time.monotonic() - began < seconds:
            with pool.connection() as conn:
                rows = conn.execute(_q("events_after"), {**scope, "after": cursor, "limit": 100}).fetchall()
            for r in rows:
                cursor = r["event_id"]
                yield f"id: {cursor}\nevent: {r['kind']}\ndata: {json.dumps(r['payload'], default=str)}\n\n"
            if time.monotonic() - last_beat > 15:
                last_beat = time.monotonic()
                yield ": keep-alive\n\n"
            if not rows:
                time.sleep(0.5)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def _act_claims(token: str, settings: SettingsDep) -> dict[str, Any]:
    try:
        return verify(token, secret=settings.alerts.link_secret.get_secret_value(), now=time.time())
    except BadSignature as exc:
        raise Forbidden(str(exc)) from None


@router.get("/v1/alerts/act", summary="Confirm a signed link's action", response_class=HTMLResponse)
def act_page(settings: SettingsDep, token: Annotated[str, Query(max_length=2000)]) -> HTMLResponse:
    """The page an acknowledge or mute link in an e-mail or Telegram message opens: a button that
    POSTs the action (a GET never changes anything, so link scanners cannot acknowledge)."""
    claims = _act_claims(token, settings)
    what = "Acknowledge this alert" if claims["act"] == "ack" else "Mute this rule for 24 hours"
    t = html.escape(token)
    return HTMLResponse(
        f"<html><body><form method='post' action='/v1/alerts/act?token={t}'>"
        f"<button type='submit'>{html.escape(what)}</button></form></body></html>"
    )


@router.post("/v1/alerts/act", summary="Do a signed link's action")
def act(conn: ConnDep, settings: SettingsDep, token: Annotated[str, Query(max_length=2000)]) -> ActionDone:
    """Acknowledge (or mute for 24 h) as the subscriber the message was sent to; recorded in the audit log."""
    claims = _act_claims(token, settings)
    user = ops.user_scope(conn, int(claims["user"]))
    if user["disabled"]:
        raise Forbidden("this user is disabled")
    state = ops.get_state(conn, int(claims["state"]))
    sees = user["role"] == "admin" or user["all_stores"] or state["store_id"] in user["stores"]
    if not sees:
        raise NotFound(f"alert {state['state_id']} not found")
    if claims["act"] == "ack":
        _, done = ops.acknowledge(
            conn,
            state_id=state["state_id"],
            user_id=user["user_id"],
            username=user["username"],
            via="link",
            now=datetime.now(UTC),
            mqtt_prefix=settings.mqtt.prefix,
        )
        return ActionDone(
            action="acknowledged" if done else "already acknowledged",
            state_id=state["state_id"],
            rule_id=state["rule_id"],
            by=user["username"],
        )
    if user["role"] not in ("admin", "manager"):
        raise Forbidden(f"role {user['role']!r} may not mute rules; ask a manager")
    until = datetime.now(UTC) + timedelta(hours=24)
    ops.set_mute(
        conn, rule_id=state["rule_id"], until=until, user_id=user["user_id"], username=user["username"], via="link"
    )
    return ActionDone(
        action="muted", state_id=state["state_id"], rule_id=state["rule_id"], by=user["username"], muted_until=until
    )


def _visible_state(conn: ConnDep, caller: Principal, state_id: int) -> dict[str, Any]:
    row = ops.get_state(conn, state_id)
    if not caller.sees(row["store_id"]):
        raise NotFound(f"alert {state_id} not found")
    return row


@router.get("/v1/alerts/{state_id}", summary="One alert")
def read_alert(conn: ConnDep, caller: AlertSubscriber, state_id: StateId) -> AlertPublic:
    """An alert in your scope: its state, value, border and times."""
    return AlertPublic.model_validate(_visible_state(conn, caller, state_id))


@router.post("/v1/alerts/{state_id}/ack", summary="Acknowledge an alert")
def acknowledge(conn: ConnDep, settings: SettingsDep, caller: AlertSubscriber, state_id: StateId) -> AlertPublic:
    """Acknowledge a firing alert: its escalation stops; who did it goes in the audit log."""
    _visible_state(conn, caller, state_id)
    row, _ = ops.acknowledge(
        conn,
        state_id=state_id,
        user_id=caller.user_id,
        username=caller.username,
        via="api",
        now=datetime.now(UTC),
        mqtt_prefix=settings.mqtt.prefix,
    )
    return AlertPublic.model_validate(row)


@router.get("/v1/alert-audit", summary="Who acknowledged, muted or changed what")
def read_audit(conn: ConnDep, caller: AlertSubscriber, limit: Limit = 100) -> AuditsPublic:
    """The alert audit trail of rules in your scope, newest first."""
    rows = conn.execute(_q("list_audit"), {**_scope_args(caller), "limit": limit}).fetchall()
    return AuditsPublic(data=[AuditPublic.model_validate(r) for r in rows], count=len(rows))


# ---------------------------------------------------------------- subscriptions


@router.post("/v1/alert-subscriptions", status_code=status.HTTP_201_CREATED, summary="Subscribe")
def subscribe(
    conn: ConnDep, settings: SettingsDep, caller: AlertSubscriber, body: SubscriptionCreate
) -> SubscriptionPublic:
    """Subscribe yourself to a rule, a store, or every alert in your scope. Messages are only ever
    sent about stores in your scope. A webhook's signing secret is in the answer, once."""
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


@router.get("/v1/alert-subscriptions", summary="Your subscriptions")
def list_subscriptions(conn: ConnDep, caller: AlertSubscriber) -> SubscriptionsPublic:
    """Your subscriptions (an admin sees everyone's); secrets are not shown again."""
    admin = caller.can(Permission.MANAGE_USERS)
    rows = conn.execute(_q("list_subscriptions"), {"admin": admin, "user_id": caller.user_id}).fetchall()
    return SubscriptionsPublic(
        data=[SubscriptionPublic.model_validate({**r, "secret": None}) for r in rows], count=len(rows)
    )


@router.delete(
    "/v1/alert-subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Unsubscribe"
)
def unsubscribe(conn: ConnDep, caller: AlertSubscriber, subscription_id: Annotated[int, Path(ge=1)]) -> None:
    """Remove one of your subscriptions."""
    admin = caller.can(Permission.MANAGE_USERS)
    with conn.transaction():
        row = conn.execute(
            _q("delete_subscription"), {"subscription_id": subscription_id, "admin": admin, "user_id": caller.user_id}
        ).fetchone()
    if row is None:
        raise NotFound(f"subscription {subscription_id} not found")
