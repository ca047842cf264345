"""Alert rules, alerts, acknowledgements and mutes, subscriptions, the live stream and the audit trail.

Scope: a rule names a store in your scope (or none: then it covers every store in your
scope); alerts, events and the stream show only stores in your scope; a store outside it
answers 404 exactly like one that does not exist. The operations are `footfall.api.alerts`.
"""

import html
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, status
from fastapi.responses import HTMLResponse, StreamingResponse

from footfall.api import alerts
from footfall.api.deps import AlertManager, AlertSubscriber, ClientDep, ConnDep, SettingsDep
from footfall.api.problems import responses
from footfall.api.routes.common import Limit, Offset
from footfall.api.schemas.alerts import (
    ActionDone,
    AlertPublic,
    AlertsPublic,
    AuditsPublic,
    MuteRequest,
    RulePublic,
    RulesPublic,
    SubscriptionCreate,
    SubscriptionPublic,
    SubscriptionsPublic,
)
from footfall.core.alertrules import RuleSpec

router = APIRouter(tags=["alerts"], responses=responses(400, 401, 403, 404, 409, 422))

RuleId = Annotated[int, Path(ge=1, le=2**62, description="An alert rule.")]
StateId = Annotated[int, Path(ge=1, le=2**62, description="An alert (rule × store × subject).")]
Token = Annotated[str, Query(max_length=2000, description="The token of a link from an alert message.")]


@router.post("/v1/alert-rules", status_code=status.HTTP_201_CREATED, summary="Create an alert rule")
def create_rule(conn: ConnDep, caller: AlertManager, body: RuleSpec) -> RulePublic:
    """A rule for a store in your scope (or, without `scope.store`, for every store in your scope).
    It is validated completely first: a bad rule is refused with every problem named, and nothing is saved."""
    return alerts.create_rule(conn, caller=caller, spec=body)


@router.get("/v1/alert-rules", summary="Alert rules in your scope")
def list_rules(conn: ConnDep, caller: AlertSubscriber, limit: Limit = 100, offset: Offset = 0) -> RulesPublic:
    """Rules of stores in your scope, and store-less rules you own."""
    return alerts.list_rules(conn, caller=caller, limit=limit, offset=offset)


@router.get("/v1/alert-rules/{rule_id}", summary="One alert rule")
def read_rule(conn: ConnDep, caller: AlertSubscriber, rule_id: RuleId) -> RulePublic:
    """A rule in your scope."""
    return alerts.read_rule(conn, caller=caller, rule_id=rule_id)


@router.put("/v1/alert-rules/{rule_id}", summary="Replace an alert rule")
def replace_rule(conn: ConnDep, caller: AlertManager, rule_id: RuleId, body: RuleSpec) -> RulePublic:
    """Replace a rule's definition (its alert history stays). Rules from a store file answer 409."""
    return alerts.replace_rule(conn, caller=caller, rule_id=rule_id, spec=body)


@router.delete("/v1/alert-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete an alert rule")
def delete_rule(conn: ConnDep, caller: AlertManager, rule_id: RuleId) -> None:
    """Delete a rule, its alerts and its undelivered messages."""
    alerts.delete_rule(conn, caller=caller, rule_id=rule_id)


@router.post("/v1/alert-rules/{rule_id}/mute", summary="Mute a rule")
def mute_rule(conn: ConnDep, caller: AlertManager, client: ClientDep, rule_id: RuleId, body: MuteRequest) -> RulePublic:
    """No e-mail, Telegram or webhook messages for this rule until the mute ends; its alerts, the
    in-store MQTT screens and the live stream keep following it."""
    return alerts.mute_rule(conn, caller=caller, rule_id=rule_id, minutes=body.minutes, client=client)


@router.delete("/v1/alert-rules/{rule_id}/mute", summary="Unmute a rule")
def unmute_rule(conn: ConnDep, caller: AlertManager, client: ClientDep, rule_id: RuleId) -> RulePublic:
    """End a mute now."""
    return alerts.mute_rule(conn, caller=caller, rule_id=rule_id, minutes=None, client=client)


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
    return alerts.list_alerts(conn, caller=caller, state=state, limit=limit, offset=offset)


@router.get(
    "/v1/alerts/stream",
    summary="Live alert events (Server-Sent Events)",
    # Declared so that check_request lets `Accept: text/event-stream` (every EventSource sends it) through.
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}, "description": "The events."}},
)
def stream(
    request: Request,
    caller: AlertSubscriber,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0)] = None,
    after: Annotated[int | None, Query(ge=0, description="Start after this event id (else: new events only).")] = None,
    seconds: Annotated[float | None, Query(gt=0, le=86400, description="Close the stream after this long.")] = None,
) -> StreamingResponse:
    """`text/event-stream` of firing, resolved, escalated and acknowledged events of stores in your
    scope; each has `id` (resume with `Last-Event-ID`), `event` (the kind) and JSON `data`."""
    events = alerts.event_stream(
        request.app.state.pool,
        caller=caller,
        after=last_event_id if last_event_id is not None else after,
        seconds=seconds,
    )
    return StreamingResponse(events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.get("/v1/alerts/act", summary="Confirm a signed link's action", response_class=HTMLResponse)
def act_page(conn: ConnDep, settings: SettingsDep, token: Token) -> HTMLResponse:
    """The page an acknowledge or mute link in an e-mail or Telegram message opens: a button that
    POSTs the action (a GET never changes anything, so link scanners cannot acknowledge)."""
    claims = alerts.link_claims(conn, token, settings)
    what = "Acknowledge this alert" if claims["act"] == "ack" else "Mute this rule for 24 hours"
    t = html.escape(token)
    return HTMLResponse(
        f"<html><body><form method='post' action='/v1/alerts/act?token={t}'>"
        f"<button type='submit'>{html.escape(what)}</button></form></body></html>"
    )


@router.post("/v1/alerts/act", summary="Do a signed link's action")
def act(conn: ConnDep, settings: SettingsDep, client: ClientDep, token: Token) -> ActionDone:
    """Acknowledge (or mute for 24 h) as the subscriber the message was sent to; recorded in the audit
    log as that user, `via: link`, with the address the button was pressed from."""
    return alerts.act(conn, token=token, settings=settings, client=client)


@router.get("/v1/alerts/{state_id}", summary="One alert")
def read_alert(conn: ConnDep, caller: AlertSubscriber, state_id: StateId) -> AlertPublic:
    """An alert in your scope: its state, value, border and times."""
    return alerts.read_alert(conn, caller=caller, state_id=state_id)


@router.post("/v1/alerts/{state_id}/ack", summary="Acknowledge an alert")
def acknowledge(
    conn: ConnDep, settings: SettingsDep, caller: AlertSubscriber, client: ClientDep, state_id: StateId
) -> AlertPublic:
    """Acknowledge a firing alert: its escalation stops; who did it goes in the audit log."""
    return alerts.acknowledge(conn, caller=caller, state_id=state_id, settings=settings, client=client)[0]


@router.get("/v1/alert-audit", summary="Who acknowledged, muted or changed what")
def read_audit(conn: ConnDep, caller: AlertSubscriber, limit: Limit = 100) -> AuditsPublic:
    """The alert entries of the audit log (`GET /v1/audit`, admins) for rules in your scope, newest first."""
    return alerts.read_audit(conn, caller=caller, limit=limit)


@router.post("/v1/alert-subscriptions", status_code=status.HTTP_201_CREATED, summary="Subscribe")
def subscribe(
    conn: ConnDep, settings: SettingsDep, caller: AlertSubscriber, body: SubscriptionCreate
) -> SubscriptionPublic:
    """Subscribe yourself to a rule, a store, or every alert in your scope. Messages are only ever
    sent about stores in your scope. A webhook's signing secret is in the answer, once."""
    return alerts.subscribe(conn, caller=caller, body=body, settings=settings)


@router.get("/v1/alert-subscriptions", summary="Your subscriptions")
def list_subscriptions(conn: ConnDep, caller: AlertSubscriber) -> SubscriptionsPublic:
    """Your subscriptions (an admin sees everyone's); secrets are not shown again."""
    return alerts.list_subscriptions(conn, caller=caller)


@router.delete(
    "/v1/alert-subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Unsubscribe"
)
def unsubscribe(conn: ConnDep, caller: AlertSubscriber, subscription_id: Annotated[int, Path(ge=1)]) -> None:
    """Remove one of your subscriptions."""
    alerts.unsubscribe(conn, caller=caller, subscription_id=subscription_id)
