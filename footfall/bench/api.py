"""`footfall bench api`: KPI query latency at one year × 50 stores, against the raw tables.

It creates a database of its own, loads per-minute door counts and receipts with a
realistic shape (opening hours, a midday and an after-work peak, busier Saturdays,
quieter Sundays, a December rush, stores of different sizes and time zones) through
COPY — so the rollup triggers run as they do under ingest; on TimescaleDB the continuous
aggregates are then refreshed over what was loaded, as every bulk loader must — then times:

(a) one store's daily KPIs (conversion…) over a year,
(b) one store's hourly traffic for a day,
(c) the monthly roll-up of all stores,

each through the KPI layer (rollups) and as the same sums straight from the raw tables,
in the same run. The last line printed is one JSON object.
"""

import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from psycopg import sql
from psycopg.types.json import Jsonb
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from footfall.api import kpis
from footfall.core.calendar import Interval, StoreCalendar, month_bounds
from footfall.core.settings import Settings
from footfall.db.connect import DictConnection, connect, scalar
from footfall.db.migrate import migrate
from footfall.db.timescale import refresh_door_rollups

logger = logging.getLogger(__name__)

ZONES = ["Europe/Riga", "Europe/London", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney"]
HOUR_SHAPE = {8: 0.3, 9: 0.6, 10: 0.8, 11: 1.0, 12: 1.4, 13: 1.3, 14: 1.0, 15: 0.9, 16: 1.0, 17: 1.3, 18: 1.4,
              19: 1.1, 20: 0.7, 21: 0.4}  # fmt: skip
WEEKDAY_SHAPE = [0.9, 0.85, 0.9, 1.0, 1.15, 1.4, 0.7]  # Mon..Sun
MONTH_SHAPE = [0.85, 0.8, 0.9, 0.95, 1.0, 1.0, 0.95, 0.95, 1.0, 1.0, 1.1, 1.45]
OPEN, CLOSE = 8, 22

RAW_BUCKETS = """
WITH d AS (
    SELECT width_bucket(c.start_ts, %(starts)s::timestamptz[]) AS i,
           sum(c.entries) FILTER (WHERE c.valid) AS entries, sum(c.exits) FILTER (WHERE c.valid) AS exits,
           sum(extract(epoch FROM c.end_ts - c.start_ts)) FILTER (WHERE c.valid) AS valid_s
    FROM door_counts AS c JOIN doors AS o ON o.store_id = c.store_id AND o.door_id = c.door_id AND o.kind = 'customer'
    WHERE c.store_id = %(store_id)s AND c.start_ts >= %(lo)s AND c.start_ts < %(hi)s
    GROUP BY 1
), r AS (
    SELECT width_bucket(ts, %(starts)s::timestamptz[]) AS i,
           count(*) FILTER (WHERE kind = 'sale' AND NOT voided) AS transactions,
           coalesce(sum(total) FILTER (WHERE NOT voided), 0) AS revenue,
           coalesce(sum(items) FILTER (WHERE kind = 'sale' AND NOT voided), 0) AS items
    FROM receipts WHERE store_id = %(store_id)s AND ts >= %(lo)s AND ts < %(hi)s
    GROUP BY 1
)
SELECT g.i, d.entries, d.exits, d.valid_s, r.transactions, r.revenue, r.items
FROM generate_series(1, %(n)s) AS g(i) LEFT JOIN d USING (i) LEFT JOIN r USING (i) ORDER BY g.i
"""


def _drop(settings: Settings, dbname: str) -> None:
    with connect(settings.db, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def _stores(n: int, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        out.append(
            {
                "store_id": f"bench-{i + 1:03d}",
                "timezone": ZONES[i % len(ZONES)] if i else "Europe/Riga",
                "size": rng.uniform(0.5, 2.0),
                "conversion": rng.uniform(0.15, 0.30),
                "atv": rng.uniform(15, 45),
                "area": round(rng.uniform(150, 900)),
            }
        )
    return out


def _minutes(tz: ZoneInfo, first: date, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Open minutes (UTC epoch seconds) over the period and each one's rate factor."""
    starts, factors = [], []
    for d in range(days):
        day = first + timedelta(days=d)
        o = datetime(day.year, day.month, day.day, OPEN, tzinfo=tz).astimezone(UTC)
        c = datetime(day.year, day.month, day.day, CLOSE, tzinfo=tz).astimezone(UTC)
        t = np.arange(int(o.timestamp()), int(c.timestamp()), 60, dtype=np.int64)
        hour = OPEN + (t - t[0]) // 3600
        shape = np.array([HOUR_SHAPE.get(int(h), 0.3) for h in range(24)])[np.clip(hour, 0, 23)]
        starts.append(t)
        factors.append(shape * WEEKDAY_SHAPE[day.weekday()] * MONTH_SHAPE[day.month - 1])
    return np.concatenate(starts), np.concatenate(factors)


def _iso(epoch: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(epoch.astype("datetime64[s]"), unit="s", timezone="UTC")


def _load_store(conn: DictConnection, store: dict[str, Any], first: date, days: int, seed: int) -> tuple[int, int]:
    sid = store["store_id"]
    rng = np.random.default_rng(seed)
    t, f = _minutes(ZoneInfo(store["timezone"]), first, days)
    lam = 1.2 * store["size"] * f  # people a minute through the main door
    entries = rng.poisson(lam)
    exits = rng.poisson(lam)
    side = rng.poisson(lam * 0.35)
    passersby = rng.poisson(lam * 9)
    start_s, end_s = _iso(t), _iso(t + 60)
    dev = f"{sid}-door"
    with conn.cursor() as cur:
        with cur.copy(
            "COPY door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, passersby, valid, seq) "
            "FROM STDIN"
        ) as copy:
            buf = []
            for i in range(len(t)):
                buf.append(
                    f"{sid}\t{dev}\tmain\t{start_s[i]}\t{end_s[i]}\t{entries[i]}\t{exits[i]}\t{passersby[i]}\tt\t{i}\n"
                )
                buf.append(f"{sid}\t{dev}\tside\t{start_s[i]}\t{end_s[i]}\t{side[i]}\t{side[i]}\t\\N\tt\t{i}\n")
                if len(buf) >= 20_000:
                    copy.write("".join(buf))
                    buf.clear()
            copy.write("".join(buf))
        buyers = rng.binomial(entries + side, store["conversion"])
        idx = np.repeat(np.arange(len(t)), buyers)
        n = len(idx)
        ts = _iso(t[idx] + rng.integers(0, 60, n))
        totals = np.round(rng.lognormal(np.log(store["atv"]), 0.6, n), 2)
        items = 1 + rng.poisson(1.4, n)
        u = rng.random(n)
        loyalty = rng.random(n) < 0.3
        with cur.copy(
            "COPY receipts (store_id, receipt_id, ts, register_id, kind, voided, total, items, loyalty, currency, "
            "source) FROM STDIN"
        ) as copy:
            buf = []
            for i in range(n):
                refund = u[i] < 0.01
                voided = 0.01 <= u[i] < 0.015
                total = -totals[i] if refund else totals[i]
                it = -items[i] if refund else items[i]
                buf.append(
                    f"{sid}\t{i}\t{ts[i]}\t{i % 4 + 1}\t{'refund' if refund else 'sale'}\t{'t' if voided else 'f'}\t"
                    f"{total:.2f}\t{it}\t{'t' if loyalty[i] else 'f'}\tEUR\tbench\n"
                )
                if len(buf) >= 20_000:
                    copy.write("".join(buf))
                    buf.clear()
            copy.write("".join(buf))
    return 2 * len(t), n


def _time(fn: Callable[[], Any], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(xs, q)), 2)


def _stats(fast: list[float], raw: list[float], target_ms: float) -> dict[str, Any]:
    p95, raw_p95 = _pct(fast, 95), _pct(raw, 95)
    return {
        "p50_ms": _pct(fast, 50),
        "p95_ms": p95,
        "raw_p50_ms": _pct(raw, 50),
        "raw_p95_ms": raw_p95,
        "speedup_p95": round(raw_p95 / p95, 1) if p95 else None,
        "target_p95_ms": target_ms,
        "runs": len(fast),
        "raw_runs": len(raw),
        "meets_target": p95 < target_ms and raw_p95 >= 10 * p95,
    }


def _raw(conn: DictConnection, store: kpis.StoreInfo, buckets: list) -> list[dict]:
    return conn.execute(
        RAW_BUCKETS,
        {
            "store_id": store.store_id,
            "starts": [b.start for b in buckets],
            "lo": buckets[0].start,
            "hi": buckets[-1].end,
            "n": len(buckets),
        },
    ).fetchall()


def run_bench(  # noqa: PLR0915 - one linear script: load, time, report
    settings: Settings,
    *,
    stores: int = 50,
    days: int = 365,
    runs: int = 50,
    keep: bool = False,
    dbname: str = "footfall_bench_api",
    console: Console | None = None,
    quiet: bool = False,
    seed: int = 7,
) -> dict[str, Any]:
    """Load the bench database, time the three queries and their raw baselines, return the results."""
    console = console or Console(stderr=True)
    rng = random.Random(seed)
    first = date(2025, 1, 1)
    _drop(settings, dbname)
    with connect(settings.db, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    try:
        flavour, _ = migrate(settings.db, dbname=dbname)
        specs = _stores(stores, rng)
        door_rows = receipt_rows = 0
        with connect(settings.db, dbname=dbname, autocommit=True) as conn:
            for s in specs:
                conn.execute(
                    "INSERT INTO stores (store_id, name, timezone, sales_area_m2, opening_hours) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    (
                        s["store_id"],
                        s["store_id"],
                        s["timezone"],
                        s["area"],
                        Jsonb(
                            {
                                d: [f"{OPEN:02d}:00", f"{CLOSE:02d}:00"]
                                for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                            }
                        ),
                    ),
                )
                conn.execute(
                    "INSERT INTO doors (store_id, door_id, kind, outward_counter) VALUES "
                    "(%s, 'main', 'customer', true), (%s, 'side', 'customer', false), (%s, 'staff', 'staff', false)",
                    (s["store_id"],) * 3,
                )
            t0 = time.perf_counter()
            with Progress(
                TextColumn("[bold]loading[/] {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=quiet,
                disable=quiet,
            ) as progress:
                task = progress.add_task(f"{stores} stores × {days} days", total=stores)
                for i, s in enumerate(specs):
                    with conn.transaction():
                        d, r = _load_store(conn, s, first, days, seed + i)
                    door_rows += d
                    receipt_rows += r
                    progress.advance(task)
            load_s = time.perf_counter() - t0
            # A bulk load lands below the continuous aggregates' refresh window: materialise
            # it, or the KPI layer reads it from raw rows (TimescaleDB; nothing on plain).
            t1 = time.perf_counter()
            refresh_door_rollups(
                conn,
                datetime.combine(first - timedelta(days=1), datetime.min.time(), UTC),
                datetime.combine(first + timedelta(days=days + 1), datetime.min.time(), UTC),
            )
            refresh_s = time.perf_counter() - t1
            conn.execute("ANALYZE")
            infos = kpis.stores_info(conn, [s["store_id"] for s in specs])
            one = infos[0]
            last = first + timedelta(days=days - 1)
            cal = StoreCalendar(one.timezone)
            year = cal.buckets(first, last, Interval.DAY)
            pick = random.Random(seed)

            def day_of() -> date:
                return first + timedelta(days=pick.randrange(days))

            raw_runs = max(5, runs // 5)
            results: dict[str, Any] = {}
            with Progress(
                TextColumn("[bold]timing[/] {task.description}"),
                BarColumn(),
                console=console,
                transient=True,
                disable=quiet,
            ) as progress:
                task = progress.add_task("queries", total=6)
                # (a) daily KPIs over a year
                fast = _time(lambda: kpis.kpi_series(conn, store=one, first=first, last=last, interval="day"), runs)
                progress.advance(task)
                raw = _time(lambda: _raw(conn, one, year), raw_runs)
                progress.advance(task)
                results["a_daily_conversion_year"] = _stats(fast, raw, 50)

                # (b) hourly traffic of one day
                def hourly() -> None:
                    d = day_of()
                    kpis.kpi_series(conn, store=one, first=d, last=d, interval="hour")

                def hourly_raw() -> None:
                    d = day_of()
                    _raw(conn, one, cal.buckets(d, d, Interval.HOUR))

                fast = _time(hourly, runs)
                progress.advance(task)
                raw = _time(hourly_raw, raw_runs)
                progress.advance(task)
                results["b_hourly_traffic_day"] = _stats(fast, raw, 50)

                # (c) monthly roll-up of every store
                months = sorted({(first + timedelta(days=x)).replace(day=1) for x in range(days)})

                def month_of() -> tuple[date, date]:
                    a, b = month_bounds(pick.choice(months))
                    return a, min(b, last)

                def rollup() -> None:
                    a, b = month_of()
                    kpis.portfolio(conn, stores=infos, first=a, last=b)

                def rollup_raw() -> None:
                    a, b = month_of()
                    for s in infos:
                        _raw(conn, s, s.calendar.buckets(a, b, Interval.MONTH))

                fast = _time(rollup, max(5, runs // 2))
                progress.advance(task)
                raw = _time(rollup_raw, max(3, raw_runs // 2))
                progress.advance(task)
                results["c_monthly_rollup_all_stores"] = _stats(fast, raw, 200)
            size = scalar(conn, "SELECT pg_database_size(current_database())")
    finally:
        if not keep:
            _drop(settings, dbname)
    out = {
        "bench": "api",
        "storage": str(flavour),
        "stores": stores,
        "days": days,
        "door_count_rows": door_rows,
        "receipt_rows": receipt_rows,
        "load_s": round(load_s, 1),
        "load_rows_per_s": round((door_rows + receipt_rows) / load_s),
        "rollup_refresh_s": round(refresh_s, 1),
        "database_mb": round(size / 1e6),
        **results,
        "all_targets_met": all(r["meets_target"] for r in results.values()),
        "kept": dbname if keep else None,
    }
    if not quiet:
        for name, r in results.items():
            console.print(
                f"{name}: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms (target < {r['target_p95_ms']}); "
                f"raw p95 {r['raw_p95_ms']} ms → {r['speedup_p95']}× faster"
            )
        console.print(
            f"loaded {door_rows:,} door rows + {receipt_rows:,} receipts in {load_s:.0f} s"
            f" (+ {refresh_s:.0f} s refreshing the door rollups)"
        )
    return out
