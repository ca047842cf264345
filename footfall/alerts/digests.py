"""Daily and weekly digests per subscriber: the period's KPIs against last week and the plan,
every red zone of the period, and device problems; by e-mail and Telegram.

The engine queues a store's daily digest at its closing time (and the weekly one at the
closing time of the week's last open day); `footfall alerts digest` queues them by hand.
Figures come from the KPI query layer (`kpi_summary`, `plan_vs_fact`), so they are the
numbers the API gives for the same days. A digest is an outbox message keyed
`daily/<store>/<date>` or `weekly/<store>/<first>` per subscription: queuing it twice
sends it once.
"""

import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from psycopg.types.json import Jsonb

from footfall.alerts.messages import fmt_value
from footfall.api.kpis import Comparison, Kpi, StoreInfo, kpi_summary, plan_vs_fact, stores_info
from footfall.api.kpis.numbers import Number, kpi_number
from footfall.core.alertrules import Metric
from footfall.core.settings import Settings
from footfall.core.storeconfig import WEEKDAYS
from footfall.db.connect import DictConnection, connect
from footfall.db.queries import queries

logger = logging.getLogger(__name__)

DIGEST_KPIS = (
    Kpi.VISITORS,
    Kpi.TRANSACTIONS,
    Kpi.CONVERSION,
    Kpi.REVENUE,
    Kpi.ATV,
    Kpi.UPT,
    Kpi.REVENUE_PER_M2,
    Kpi.LOYALTY_ACTIVATION,
)
DEVICE_METRICS = {Metric.DEVICE_SILENCE.value, Metric.CAMERA_HEALTH.value}


def _json(value: Number | None) -> str | float | None:
    """A figure as the API sends it in JSON: money as a decimal string, other numbers as they are."""
    return str(value) if isinstance(value, Decimal) else value


def _q(name: str) -> str:
    return queries("alerts")[name]


def digest_payload(
    conn: DictConnection, *, store: StoreInfo, first: date, last: date, kind: str, public_url: str
) -> dict[str, Any]:
    """The digest of a store for local dates `first`..`last` (kind `daily` or `weekly`)."""
    summary = kpi_summary(conn, store=store, first=first, last=last, compare=Comparison.SAME_WEEKDAY_LAST_WEEK)
    plan = plan_vs_fact(conn, store=store, month=last, as_of=last)
    lo, hi = store.calendar.period_bounds(first, last)
    events = conn.execute(_q("day_events"), {"store_id": store.store_id, "lo": lo, "hi": hi}).fetchall()
    cal = store.calendar
    kpis: dict[str, dict[str, str | float | None]] = {}
    lines = []
    for k in DIGEST_KPIS:
        v = summary.value(k)
        kpis[k.value] = {
            "value": _json(kpi_number(k, v.value, store.currency)),
            "last_week": _json(kpi_number(k, v.comparison, store.currency)),
        }
        m = Metric(k.value)
        lines.append(
            f"  {k.value}: {fmt_value(m, v.value, store.currency)} "
            f"(last week {fmt_value(m, v.comparison, store.currency)})"
        )
    if plan.revenue is not None:
        r = plan.revenue
        achieved = f"{r.achieved * 100:.1f} % achieved" if r.achieved is not None else "no plan"
        pace = f", pace {r.pace:.2f}" if r.pace is not None else ""
        lines.append(
            f"  plan: revenue {plan.revenue_fact:,.2f} of {r.plan:,.2f} {store.currency} this month ({achieved}{pace})"
        )
    reds: list[dict[str, Any]] = []
    devices: list[dict[str, Any]] = []
    for e in events:
        p = e["payload"]
        item = {
            "rule": e["name"],
            "metric": p["rule"]["metric"],
            "subject": e["subject"],
            "at_local": cal.local(e["at"]).isoformat(),
            "value": p.get("value"),
            "border": p.get("border"),
            "value_text": p.get("value_text"),
            "border_text": p.get("border_text"),
        }
        (devices if item["metric"] in DEVICE_METRICS else reds).append(item)
    period = f"{first}" if first == last else f"{first} – {last}"
    text = [f"{store.name} ({store.store_id}), {kind} digest for {period} ({store.timezone})", "", "KPIs:"]
    text += lines
    text += ["", f"Red zones: {len(reds)}"]
    text += [
        f"  {cal.local(datetime.fromisoformat(r['at_local'])):%a %H:%M} {r['rule']}: {r['metric']} "
        f"{r['value_text']} (border {r['border_text']})"
        for r in reds
    ]
    text += ["", f"Device problems: {len(devices)}"]
    text += [f"  {d['at_local'][:16].replace('T', ' ')} {d['rule']}: {d['subject']} {d['value_text']}" for d in devices]
    kpi_link = f"{public_url}/v1/stores/{store.store_id}/kpis/summary?" + urlencode(
        {"first": first.isoformat(), "last": last.isoformat(), "compare": "same_weekday_last_week"}
    )
    return {
        "type": f"digest.{kind}",
        "kind": "digest",
        "digest": kind,
        "store": {"id": store.store_id, "name": store.name, "timezone": store.timezone},
        "first": first.isoformat(),
        "last": last.isoformat(),
        "kpis": kpis,
        "red_zones": reds,
        "device_problems": devices,
        "headline": f"{store.name}: {kind} digest {period} — {len(reds)} red zone(s), {len(devices)} device problem(s)",
        "text": "\n".join(text),
        "links": {"alert": f"{public_url}/v1/alerts?state=firing", "kpis": kpi_link},
    }


def queue_digest(conn: DictConnection, *, store: StoreInfo, first: date, last: date, kind: str, public_url: str) -> int:
    """Queue one store's digest for every subscriber who wants it; returns messages queued."""
    wanted = ("daily", "both") if kind == "daily" else ("weekly", "both")
    recipients = [
        r for r in conn.execute(_q("digest_recipients"), {"store_id": store.store_id}) if r["digest"] in wanted
    ]
    if not recipients:
        return 0
    payload = digest_payload(conn, store=store, first=first, last=last, kind=kind, public_url=public_url)
    n = 0
    with conn.transaction():
        for r in recipients:
            row = conn.execute(
                _q("enqueue"),
                {
                    "event_id": None,
                    "digest_key": f"{kind}/{store.store_id}/{first}",
                    "subscription_id": r["subscription_id"],
                    "channel": r["channel"],
                    "target": r["target"],
                    "payload": Jsonb(payload),
                    "not_before": None,
                },
            ).fetchone()
            n += 1 if row else 0
    return n


def last_open_weekday(store: StoreInfo) -> int | None:
    """The week's last open weekday (0 = Monday), or None when no hours are configured."""
    open_days = [i for i, d in enumerate(WEEKDAYS) if store.opening_hours.get(d) is not None]
    return max(open_days) if open_days else None


def due_digests(store: StoreInfo, now: datetime) -> list[tuple[str, date, date]]:
    """The digests due at `now`: the day's once the store has closed, the week's after the
    closing of the week's last open day. A closed day gets no daily digest."""
    today = store.calendar.local_date(now)
    hours = store.opening_hours.get(WEEKDAYS[today.weekday()])
    if hours is None:
        return []
    opens = store.open_intervals(*store.calendar.day_bounds(today))
    if not opens or now < opens[-1][1]:
        return []
    out = [("daily", today, today)]
    if today.weekday() == last_open_weekday(store):
        out.append(("weekly", today - timedelta(days=today.weekday()), today))
    return out


def enqueue_digests(settings: Settings, *, day: date | None = None, weekly: bool = False) -> int:
    """Queue the digests of a local day (default yesterday in UTC) for every store (`footfall alerts digest`)."""
    day = day or (datetime.now(UTC).date() - timedelta(days=1))
    n = 0
    with connect(settings.db, autocommit=True) as conn:
        ids = [r["store_id"] for r in conn.execute(queries("kpis")["all_store_ids"])]
        for store in stores_info(conn, ids):
            first = day - timedelta(days=day.weekday()) if weekly else day
            n += queue_digest(
                conn,
                store=store,
                first=first,
                last=day,
                kind="weekly" if weekly else "daily",
                public_url=settings.alerts.public_url,
            )
    return n
