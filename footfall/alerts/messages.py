"""What every alert message says: what crossed what, where, the value and the border, since
when (in the store's local time), and links to the API view that shows it.

`event_payload()` builds the JSON stored with the event (the webhook body, the SSE data,
the source of the e-mail and Telegram text); `render_text()` and `render_html()` turn it
into the human forms.
"""

import html
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from footfall.alerts.evaluate import Reading, Target
from footfall.alerts.state import EventKind, Snapshot
from footfall.core.alertrules import QUEUE_METRICS, RATIO_METRICS, UNITS, BaselineKind, Metric, ScopeKind
from footfall.core.signing import sign

MONEY = frozenset({Metric.REVENUE, Metric.ATV, Metric.REVENUE_PER_M2})
VERBS = {
    EventKind.FIRING: "entered the red zone",
    EventKind.RESOLVED: "is back out of the red zone",
    EventKind.ESCALATED: "is still in the red zone, unacknowledged",
    EventKind.ACKNOWLEDGED: "was acknowledged",
}


def fmt_value(metric: Metric, value: float | None, currency: str = "") -> str:
    """A value in the metric's unit (ratios as percent, money with the currency)."""
    if value is None:
        return "n/a"
    if metric in RATIO_METRICS or metric is Metric.COUNTER_IMBALANCE:
        return f"{value * 100:.1f} %"
    if metric in MONEY:
        return f"{value:,.2f} {currency}".strip()
    unit = UNITS.get(metric, "")
    return f"{value:,.0f} {unit}".strip() if float(value).is_integer() else f"{value:,.1f} {unit}".strip()


def subject_kind(target: Target) -> str:
    """What the subject is: the scope's zone, door or device, or what a store-wide rule expanded to."""
    kind = target.spec.scope.kind
    if kind in (ScopeKind.ZONE, ScopeKind.DOOR, ScopeKind.DEVICE):
        return kind.value
    return "zone" if target.spec.metric in QUEUE_METRICS else "device"


def border_origin(target: Target) -> str:
    """Where a relative border comes from ('' for a static one)."""
    b = target.spec.baseline
    if b is None:
        return ""
    ratio = "" if b.ratio == 1 else f"{b.ratio:g} × "
    if b.kind is BaselineKind.FORECAST_BAND:
        edge = "lower" if target.spec.comparator.below else "upper"
        return f" ({ratio}the forecast band's {edge} edge)"
    return f" ({ratio}the same weekday of the last four weeks)"


def describe_window(target: Target) -> str:
    """'the last 60 minutes' or 'today so far'."""
    w = target.spec.window
    return f"the last {w.rolling_minutes} minutes" if w.rolling_minutes else "today so far"


def event_payload(
    *,
    kind: EventKind,
    target: Target,
    state_id: int,
    snapshot: Snapshot,
    reading: Reading | None,
    at: datetime,
    public_url: str,
) -> dict[str, Any]:
    """The JSON body of one event (stored in `alert_events.payload`)."""
    spec, store = target.spec, target.store
    cal = store.calendar
    metric = spec.metric
    since = snapshot.fired_at or snapshot.since or at
    value = reading.value if reading else None
    border = reading.border if reading else None
    where = store.store_id + (f" / {subject_kind(target)} {target.subject}" if target.subject else "")
    local_day = cal.local_date(at)
    kpi_link = f"{public_url}/v1/stores/{store.store_id}/kpis/summary?" + urlencode(
        {"first": local_day.isoformat(), "last": local_day.isoformat()}
    )
    headline = f"[{spec.severity.value.upper()}] {spec.name}: {metric.value} at {where} {VERBS[kind]}"
    text = (
        f"{headline}.\n"
        f"Value {fmt_value(metric, value, store.currency)} over {describe_window(target)}, "
        f"border {spec.comparator.value} {fmt_value(metric, border, store.currency)}{border_origin(target)}"
        f"{' (hysteresis ' + fmt_value(metric, spec.hysteresis, store.currency) + ')' if spec.hysteresis else ''}.\n"
        f"In the red zone since {cal.local(since):%Y-%m-%d %H:%M} ({store.timezone})"
        + (f", back at {cal.local(at):%H:%M}." if kind is EventKind.RESOLVED else ".")
        + f"\nStore: {store.name} ({store.store_id})."
    )
    return {
        "type": f"alert.{kind.value}",
        "kind": kind.value,
        "state_id": state_id,
        "seq": snapshot.seq,
        "rule": {
            "id": target.rule_id,
            "name": spec.name,
            "metric": metric.value,
            "comparator": spec.comparator.value,
            "severity": spec.severity.value,
            "window": describe_window(target),
        },
        "store": {"id": store.store_id, "name": store.name, "timezone": store.timezone},
        "scope": spec.scope.kind.value,
        "subject": target.subject,
        "value": value,
        "border": border,
        "value_text": fmt_value(metric, value, store.currency),
        "border_text": f"{spec.comparator.value} {fmt_value(metric, border, store.currency)}",
        "since": since.isoformat(),
        "since_local": cal.local(since).isoformat(),
        "at": at.isoformat(),
        "at_local": cal.local(at).isoformat(),
        "window": {"start": reading.lo.isoformat(), "end": reading.hi.isoformat()} if reading else None,
        "links": {"alert": f"{public_url}/v1/alerts/{state_id}", "kpis": kpi_link},
        "headline": headline,
        "text": text,
    }


def with_action_links(
    payload: dict[str, Any], *, user_id: int, public_url: str, secret: str, days: int
) -> dict[str, Any]:
    """The payload plus signed acknowledge and mute links that act as `user_id`, valid for `days`
    of real time (the API checks them against its real clock, whatever clock the engine runs on)."""
    expires = int(time.time() + timedelta(days=days).total_seconds())
    links = dict(payload["links"])
    for action in ("ack", "mute"):
        token = sign(
            {"act": action, "state": payload["state_id"], "rule": payload["rule"]["id"], "user": user_id},
            secret=secret,
            expires=expires,
        )
        links[action] = f"{public_url}/v1/alerts/act?token={token}"
    return {**payload, "links": links}


def render_text(payload: dict[str, Any]) -> str:
    """The plain-text message (e-mail text part, Telegram)."""
    links = payload.get("links", {})
    lines = [payload["text"], "", f"Details: {links.get('alert', '')}", f"KPIs: {links.get('kpis', '')}"]
    if "ack" in links and payload["kind"] in ("firing", "escalated"):
        lines += [f"Acknowledge: {links['ack']}", f"Mute the rule for 24 h: {links['mute']}"]
    return "\n".join(lines)


def render_html(payload: dict[str, Any]) -> str:
    """The HTML e-mail part."""
    e = html.escape
    links = payload.get("links", {})
    body = "<br>".join(e(line) for line in payload["text"].splitlines())
    items = [f'<a href="{e(links["alert"])}">Details</a>', f'<a href="{e(links["kpis"])}">KPIs</a>']
    if "ack" in links and payload["kind"] in ("firing", "escalated"):
        items += [f'<a href="{e(links["ack"])}">Acknowledge</a>', f'<a href="{e(links["mute"])}">Mute 24 h</a>']
    return f"<html><body><p>{body}</p><p>{' · '.join(items)}</p></body></html>"
