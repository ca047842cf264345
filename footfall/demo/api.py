"""The API's part of `footfall demo`: a demo login, the API on a real port, a POS posting
receipts, a plan for the month, and KPI URLs that return real numbers.

`footfall.demo` calls `start_api_demo` after it has set up the database and the example
store, and `ApiDemo.stop()` when the demo ends.
"""

import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import uvicorn
from rich.console import Console

from footfall.api.access import Role
from footfall.api.app import create_app
from footfall.api.errors import ConflictingChange
from footfall.api.users import create_api_key, create_user, update_user
from footfall.core.calendar import StoreCalendar
from footfall.core.settings import Settings
from footfall.core.storeconfig import StoreConfig
from footfall.db.connect import DictConnection, connect, open_pool, scalar
from footfall.demo.pos import PosClient, PosSimulator, run_pos

logger = logging.getLogger(__name__)

DEMO_USER = "demo"
DEMO_PASSWORD = "footfall-demo"  # noqa: S105 - a published demo login on a local demo database
POS_USER = "demo-pos"
BACKFILL = timedelta(days=8)
"""The POS catches up on the last 8 whole days first, so week-on-week comparisons have data."""


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        # As uvicorn binds: a previous run's connections in TIME_WAIT do not make the port taken.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _user(conn: DictConnection, username: str, password: str | None, store_id: str) -> int:
    if password is not None:  # a login: left as it is when a previous start made it so
        from footfall.demo.chain import ensure_login

        return ensure_login(conn, username=username, password=password, role=Role.MANAGER, stores=[store_id])
    try:
        return create_user(conn, username=username, password=password, role=Role.MANAGER, stores=[store_id]).user_id
    except ConflictingChange:
        user_id: int = scalar(conn, "SELECT user_id FROM users WHERE username = %s", (username,))
        update_user(conn, user_id=user_id, password=password, stores=[store_id], disabled=False, role=Role.MANAGER)
        return user_id


@dataclass
class ApiDemo:
    """The running API part of the demo."""

    base_url: str
    store_id: str
    urls: dict[str, str]
    server: uvicorn.Server
    threads: list[threading.Thread] = field(default_factory=list)
    stop_event: threading.Event = field(default_factory=threading.Event)
    pos: PosClient | None = None
    pool: object = None

    def stop(self) -> None:
        """Stop the POS and the server."""
        self.stop_event.set()
        self.server.should_exit = True
        for t in self.threads:
            t.join(timeout=15)
        if self.pos:
            self.pos.close()
        if self.pool is not None:
            self.pool.close()  # type: ignore[attr-defined]


def start_api_demo(settings: Settings, cfg: StoreConfig, console: Console, *, monthly_plan: str = "150000") -> ApiDemo:
    """Start the API and the POS simulator for the example store and print where to look."""
    store_id = cfg.store.id
    with connect(settings.db, autocommit=True) as conn:
        _user(conn, DEMO_USER, DEMO_PASSWORD, store_id)
        pos_user = _user(conn, POS_USER, None, store_id)
        conn.execute("UPDATE api_keys SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL", (pos_user,))
        _, key = create_api_key(conn, user_id=pos_user, name="demo POS")
        cal = StoreCalendar(cfg.store.timezone)
        today = cal.local_date(datetime.now(UTC))
        conn.execute(
            "INSERT INTO plans (store_id, month, revenue_target) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (store_id, today.replace(day=1), Decimal(monthly_plan)),
        )
        # A layout change a merchandiser recorded yesterday: its effect says plainly that a
        # day of data cannot tell yet.
        conn.execute(
            "INSERT INTO layout_changes (store_id, changed_on, zones, note, created_by) "
            "SELECT %s, %s, %s, %s, %s WHERE NOT EXISTS (SELECT 1 FROM layout_changes WHERE store_id = %s)",
            (store_id, today - timedelta(days=1), ["coffee"], "coffee bar moved to the window", DEMO_USER, store_id),
        )
        change = conn.execute(
            "SELECT min(change_id) AS id FROM layout_changes WHERE store_id = %s", (store_id,)
        ).fetchone()
    host = settings.api.host
    port = settings.api.port
    if not _port_free(host, port):
        from footfall.devtools.services import free_port

        new = free_port()
        console.print(f"port {port} is taken; the API uses {new} (set FOOTFALL_API__PORT to choose)")
        port = new
    pool = open_pool(settings.db)
    app = create_app(settings, pool=pool)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", log_config=None))
    base = f"http://{host}:{port}"
    demo = ApiDemo(base_url=base, store_id=store_id, urls={}, server=server, pool=pool)
    t = threading.Thread(target=server.run, name="api", daemon=True)
    t.start()
    demo.threads.append(t)
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not t.is_alive():
            demo.stop()
            raise RuntimeError(f"the API did not start on {base}")
        time.sleep(0.05)

    sim = PosSimulator(store_id=store_id, timezone=cfg.store.timezone, opening_hours=cfg.store.opening_hours, seed=42)
    demo.pos = PosClient(url=base, api_key=key)
    backfill_from = cal.day_start(today - BACKFILL)
    console.print(f"POS simulator: posting {store_id}'s receipts of the last {BACKFILL.days} days, then live …")
    demo.pos.send(sim.receipts_between(backfill_from, datetime.now(UTC)))
    p = threading.Thread(
        target=run_pos,
        args=(sim, demo.pos),
        kwargs={"stop": demo.stop_event, "backfill_from": datetime.now(UTC), "flush_s": 5.0},
        name="pos",
        daemon=True,
    )
    p.start()
    demo.threads.append(p)

    yesterday = today - timedelta(days=1)
    s = f"{base}/v1/stores/{store_id}"
    demo.urls = {
        "docs": f"{base}/docs",
        "yesterday vs the same weekday last week": (
            f"{s}/kpis/summary?first={yesterday}&last={yesterday}&compare=same_weekday_last_week"
        ),
        "today by hour": f"{s}/kpis/series?first={today}&last={today}&interval=hour",
        "last 7 days by day (CSV)": f"{s}/kpis/series?first={today - timedelta(days=7)}&last={today}&interval=day",
        "traffic and sales by hour of day": f"{s}/kpis/traffic-by-hour?first={today - timedelta(days=7)}&last={today}",
        "revenue per zone": f"{s}/kpis/zones?first={today - timedelta(days=7)}&last={today}",
        "plan vs fact this month": f"{s}/plan-vs-fact?month={today:%Y-%m}&as_of={today}",
        "revenue change explained": f"{s}/kpis/revenue-change?first={yesterday}&last={yesterday}"
        "&compare=same_weekday_last_week",
        "heatmap on the floor plan (add -H 'Accept: image/png' for the picture)": f"{s}/heatmap?first={yesterday}"
        f"&last={today}",
        "zones: reach, dwell, revenue per m², dead zones, hot spots": f"{s}/zones?first={yesterday}&last={today}",
        "slow movers (products, slowest first; CSV too)": f"{s}/sales/products?first={today - timedelta(days=7)}"
        f"&last={today}",
        "checkout queue": f"{s}/queues/queue?first={yesterday}&last={today}",
        "paths between zones": f"{s}/paths?first={yesterday}&last={today}",
        "a layout change's effect": f"{s}/layout-changes/{change['id'] if change else 1}/effect",
        "traffic forecast, next 7 days by hour": f"{s}/forecast?first={today}&last={today + timedelta(days=6)}",
        "staff per hour tomorrow (15 shoppers each)": (
            f"{s}/staffing?first={today + timedelta(days=1)}&last={today + timedelta(days=1)}&target_ratio=15"
        ),
        "counter and camera anomalies, last 2 days": f"{s}/anomalies?first={yesterday}&last={today}",
    }
    console.print(f"\n[bold]API[/] {base}  —  log in as [bold]{DEMO_USER}[/] / [bold]{DEMO_PASSWORD}[/]")
    console.print(f"  token:  curl -s -d username={DEMO_USER} -d password={DEMO_PASSWORD} {base}/v1/auth/token")
    console.print('  then:   curl -H "Authorization: Bearer $TOKEN" URL   (add -H "Accept: text/csv" for CSV)\n')
    for label, url in demo.urls.items():
        console.print(f"  {label}:\n    {url}", soft_wrap=True, highlight=False)
    return demo
