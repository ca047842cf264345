"""`footfall bench alerts`: from the commit of the reading that crosses a border to the webhook
received, with 500 rules over 50 stores, and the evaluation cost of one cycle.

It creates a database of its own (always open stores, an hour of per-minute door counts
and receipts each), 10 rules per store (conversion, visitors, ATV, UPT, revenue, loyalty,
capture, imbalance, device silence and a "crowd" rule on visitors in the last 15
minutes), an admin subscribed to everything by webhook, and a local webhook receiver.
The engine (LISTEN/NOTIFY, real clock) and the delivery worker run in this process.

Then, `crossings` times, one store's counter commits a minute with a burst of entries
that crosses its crowd rule's border; the latency is from that commit to the signed
webhook arriving. The cycle cost is measured with the engine idle: the engine as built
(one totals query per store and window, shared by its rules) against a naive baseline
(one query per rule), in the same run. The last line printed is one JSON object.
"""

import logging
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from psycopg import sql
from psycopg.types.json import Jsonb

from footfall.core.settings import Settings

if TYPE_CHECKING:
    from footfall.alerts.engine import Engine
from footfall.db.connect import DictConnection, connect
from footfall.db.migrate import Flavour, migrate

logger = logging.getLogger(__name__)

RULES_PER_STORE = [
    {"name": "Conversion low", "metric": "conversion", "comparator": "<", "threshold": 0.01},
    {"name": "Traffic low", "metric": "visitors", "comparator": "<", "threshold": 1},
    {"name": "ATV low", "metric": "atv", "comparator": "<", "threshold": 1},
    {"name": "UPT low", "metric": "upt", "comparator": "<", "threshold": 0.1},
    {"name": "Revenue low", "metric": "revenue", "comparator": "<", "threshold": 1, "window": {"to_date": "day"}},
    {"name": "Loyalty low", "metric": "loyalty_activation", "comparator": "<", "threshold": 0.0},
    {"name": "Revenue/m² low", "metric": "revenue_per_m2", "comparator": "<", "threshold": 0.0},
    {"name": "Imbalance", "metric": "counter_imbalance", "comparator": ">", "threshold": 0.99},
    {"name": "Counter silent", "metric": "device_silence", "comparator": ">", "threshold": 120},
    {
        "name": "Crowd",
        "metric": "visitors",
        "comparator": ">",
        "threshold": 400,
        "window": {"rolling_minutes": 15},
    },
]


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.arrivals: dict[str, float] = {}
        self.count = 0
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        import json

        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        now = time.time()
        with self.server.lock:
            self.server.count += 1
            if body.get("kind") == "firing" and body["rule"]["name"] == "Crowd":
                self.server.arrivals.setdefault(body["store"]["id"], now)
        self.send_response(204)
        self.end_headers()


def _drop(settings: Settings, dbname: str) -> None:
    with connect(settings.db, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def _load(conn: DictConnection, *, stores: int, rules: int, now: datetime, hook: str) -> None:
    from footfall.api.access import Role
    from footfall.api.users import create_user
    from footfall.core.alertrules import RuleSpec
    from footfall.db.alerts import create_subscription

    ids = [f"bench-{i + 1:03d}" for i in range(stores)]
    start = now.replace(second=0, microsecond=0) - timedelta(hours=1)
    with conn.transaction():
        for s in ids:
            conn.execute(
                "INSERT INTO stores (store_id, name, timezone, sales_area_m2) VALUES (%s, %s, 'Europe/Riga', 200)",
                (s, s),
            )
            conn.execute("INSERT INTO doors (store_id, door_id) VALUES (%s, 'main')", (s,))
            conn.execute(
                "INSERT INTO devices (device_id, store_id, kind) VALUES (%s, %s, 'counter_tcp')", (f"{s}-c", s)
            )
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, seq) FROM STDIN"
            ) as copy,
        ):
            for s in ids:
                for m in range(60):
                    t = start + timedelta(minutes=m)
                    copy.write_row((s, f"{s}-c", "main", t, t + timedelta(minutes=1), 3, 3, m))
        with (
            conn.cursor() as cur,
            cur.copy("COPY receipts (store_id, receipt_id, ts, total, items, loyalty) FROM STDIN") as copy,
        ):
            for s in ids:
                for m in range(0, 60, 2):
                    copy.write_row((s, f"{s}-{m}", start + timedelta(minutes=m), 20, 2, m % 4 == 0))
    admin = create_user(conn, username="bench-admin", password=None, role=Role.ADMIN, all_stores=True)
    create_subscription(conn, user_id=admin.user_id, channel="webhook", target=hook)
    with conn.transaction():
        for i in range(rules):
            store = ids[i % stores]
            base = RULES_PER_STORE[(i // stores) % len(RULES_PER_STORE)]
            spec = RuleSpec.model_validate({**base, "scope": {"store": store}})
            conn.execute(
                "INSERT INTO alert_rules (name, spec, store_id, owner_id) VALUES (%s, %s, %s, %s)",
                (spec.name, Jsonb(spec.model_dump(mode="json")), store, admin.user_id),
            )


def _p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def _cycle_cost(engine: "Engine") -> tuple[list, list[float], list[float]]:
    """Idle cycles (no data changes), and evaluation alone: as built and naive, same database."""
    from footfall.alerts.evaluate import Context, evaluate

    cycles = [engine.cycle() for _ in range(5)]
    conn = engine._db()
    targets = engine.targets(conn)
    naive_s, ours_s = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        for t in targets:
            evaluate(Context(conn=conn, now=datetime.now(UTC)), t)
        naive_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ctx = Context(conn=conn, now=datetime.now(UTC))
        for t in targets:
            evaluate(ctx, t)
        ours_s.append(time.perf_counter() - t0)
    return cycles, ours_s, naive_s


def _latencies(
    engine: "Engine",
    s: Settings,
    receiver: _Receiver,
    stop: threading.Event,
    *,
    stores: int,
    crossings: int,
    log: bool,
) -> list[float]:
    """Engine (LISTEN/NOTIFY) and delivery running; one crossing reading at a time, timed from its commit."""
    from footfall.alerts.delivery import DeliveryWorker

    wake = threading.Event()
    engine.wake_delivery = wake
    worker = DeliveryWorker(s, wake=wake, poll_s=0.05)
    threads = [
        threading.Thread(target=engine.run, args=(stop,), daemon=True),
        threading.Thread(target=worker.run, args=(stop,), daemon=True),
    ]
    for t in threads:
        t.start()
    time.sleep(1.0)
    latencies: list[float] = []
    ids = [f"bench-{i + 1:03d}" for i in range(stores)]
    with connect(s.db, autocommit=True) as w:
        for n, store in enumerate(ids[:crossings]):
            at = datetime.now(UTC).replace(second=0, microsecond=0)
            with w.transaction():
                w.execute(
                    "INSERT INTO door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, seq) "
                    "VALUES (%s, %s, 'main', %s, %s, 500, 500, %s)",
                    (store, f"{store}-c", at, at + timedelta(minutes=1), 10_000 + n),
                )
            committed = time.time()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and store not in receiver.arrivals:
                time.sleep(0.005)
            if store in receiver.arrivals:
                latencies.append(receiver.arrivals[store] - committed)
            if log:
                logger.info("crossing %s/%s: %s", n + 1, crossings, latencies[-1] if latencies else None)
            time.sleep(0.2)  # crossings one at a time, not in a burst
    stop.set()
    for t in threads:
        t.join(timeout=10)
    return latencies


def run_bench(settings: Settings, *, stores: int = 50, rules: int = 500, crossings: int = 30, log: bool = True) -> dict:
    """Run the benchmark and return its result (see the module docstring)."""
    from footfall.alerts.engine import Engine

    dbname = "footfall_bench_alerts"
    crossings = min(crossings, stores)
    receiver = _Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/bench"
    _drop(settings, dbname)
    with connect(settings.db, dbname="postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    db = settings.db.model_copy(update={"url": settings.db.url_for(dbname)})
    s = settings.model_copy(
        update={
            "db": db,
            "alerts": settings.alerts.model_copy(
                update={"webhook_allow": ["127.0.0.1/32"], "debounce_s": 0.05, "cycle_s": 30.0}
            ),
        }
    )
    stop = threading.Event()
    try:
        migrate(db, flavour=Flavour.PLAIN)
        now = datetime.now(UTC)
        with connect(db, autocommit=True) as conn:
            _load(conn, stores=stores, rules=rules, now=now, hook=hook)
        engine = Engine(s, name="bench")
        first = engine.cycle()  # creates the state rows
        cycles, ours_eval, naive_s = _cycle_cost(engine)
        latencies = _latencies(engine, s, receiver, stop, stores=stores, crossings=crossings, log=log)
        cycle_s = [c.seconds for c in cycles]
        result = {
            "bench": "alerts",
            "stores": stores,
            "rules": rules,
            "targets": first.targets,
            "crossings": crossings,
            "delivered": len(latencies),
            "latency_p50_s": round(_p(latencies, 0.5), 3),
            "latency_p95_s": round(_p(latencies, 0.95), 3),
            "latency_max_s": round(max(latencies), 3) if latencies else None,
            "target_p95_s": 5.0,
            "cycle_s_mean": round(statistics.mean(cycle_s), 3),
            "cycle_s_p95": round(_p(cycle_s, 0.95), 3),
            "cycle_ms_per_target": round(1000 * statistics.mean(cycle_s) / max(1, first.targets), 3),
            "cycle_queries": cycles[-1].queries,
            "evaluate_s": round(statistics.median(ours_eval), 3),
            "evaluate_naive_s": round(statistics.median(naive_s), 3),
            "naive_over_ours": round(statistics.median(naive_s) / max(1e-9, statistics.median(ours_eval)), 2),
            "webhooks_received": receiver.count,
        }
        return result
    finally:
        stop.set()
        receiver.shutdown()
        receiver.server_close()
        _drop(settings, dbname)
