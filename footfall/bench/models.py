"""`footfall bench models`: training time for a year of hourly data × 50 stores, and what it buys.

It creates a database of its own and loads, per store, a year of hourly door counts
(through COPY into `door_counts`, so the rollup triggers run as under ingest) and hourly
receipt totals straight into the 15-minute receipt rollup (training reads only the
rollups; a year of single receipts for 50 stores would take longer to load than to
train). The stores have opening hours, a midday and an after-work peak, busier
Saturdays, quieter Sundays, a December rush, public holidays and different time zones.

Then it times `train_store` for every store (loading the history, fitting entries,
transactions and revenue, storing the models) and, in the same run, the seasonal
baseline the forecaster falls back to, as the cost baseline. The held-out last week of
each model gives the accuracy both buy (MASE against seasonal naive). The last line is
one JSON object.
"""

import logging
import os
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from psycopg import sql
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from footfall.api.forecasts.service import train_store
from footfall.api.kpis import store_info
from footfall.core.settings import Settings
from footfall.db.connect import DictConnection, connect
from footfall.db.migrate import migrate
from footfall.models.forecast import ForecasterOptions
from footfall.models.holidays import HolidayCalendar

logger = logging.getLogger(__name__)

ZONES = ["Europe/Riga", "Europe/London", "Europe/Berlin", "America/New_York", "Europe/Tallinn", "Europe/Vilnius"]
HOUR_SHAPE = np.array([0] * 8 + [0.3, 0.6, 0.8, 1.0, 1.4, 1.3, 1.0, 0.9, 1.0, 1.3, 1.4, 1.1, 0.7, 0.4, 0, 0])
WEEKDAY_SHAPE = np.array([0.9, 0.85, 0.9, 1.0, 1.15, 1.4, 0.7])
MONTH_SHAPE = np.array([0.85, 0.8, 0.9, 0.95, 1.0, 1.0, 0.95, 0.95, 1.0, 1.0, 1.1, 1.45])
TARGET_S = 120.0


def _drop(settings: Settings, dbname: str) -> None:
    with connect(settings.db, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def _iso(epoch: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(epoch.astype("datetime64[s]"), unit="s", timezone="UTC")


def _load_store(conn: DictConnection, sid: str, *, tz: str, first: date, days: int, rng: np.random.Generator) -> int:
    zone = ZoneInfo(tz)
    start = datetime(first.year, first.month, first.day, tzinfo=zone).astimezone(UTC)
    t = int(start.timestamp()) + 3600 * np.arange(days * 24, dtype=np.int64)
    local = [datetime.fromtimestamp(int(x), zone) for x in t]
    hour = np.array([d.hour for d in local])
    wd = np.array([d.weekday() for d in local])
    month = np.array([d.month for d in local])
    hol = HolidayCalendar.for_zone(tz).dates(first.year, first.year + 2)
    is_hol = np.array([d.date() in hol for d in local])
    size = rng.uniform(10, 60)
    lam = size * HOUR_SHAPE[hour] * WEEKDAY_SHAPE[wd] * MONTH_SHAPE[month - 1] * np.where(is_hol, 0.4, 1.0)
    entries = rng.poisson(lam)
    exits = rng.poisson(lam)
    s, e = _iso(t), _iso(t + 3600)
    with conn.cursor() as cur:
        with cur.copy(
            "COPY door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, valid, seq) FROM STDIN"
        ) as copy:
            copy.write("".join(f"{sid}\t{sid}-door\tmain\t{s[i]}\t{e[i]}\t{entries[i]}\t{exits[i]}\tt\t{i}\n"
                               for i in range(t.size)))  # fmt: skip
        buyers = rng.binomial(entries, rng.uniform(0.15, 0.3))
        revenue = np.round(buyers * rng.uniform(15, 45) * rng.lognormal(0, 0.2, t.size), 2)
        with cur.copy(
            "COPY receipts_15m (store_id, bucket, transactions, refunds, voids, revenue, items, loyalty_transactions) "
            "FROM STDIN"
        ) as copy:
            copy.write("".join(f"{sid}\t{s[i]}\t{buyers[i]}\t0\t0\t{revenue[i]}\t{buyers[i]}\t0\n"
                               for i in range(t.size) if buyers[i]))  # fmt: skip
    return int(t.size)


def _median(xs: list[float]) -> float | None:
    xs = [x for x in xs if x is not None]
    return round(float(np.median(xs)), 4) if xs else None


def run_bench(
    settings: Settings,
    *,
    stores: int = 50,
    days: int = 365,
    keep: bool = False,
    dbname: str = "footfall_bench_models",
    console: Console | None = None,
    quiet: bool = False,
    seed: int = 11,
    first: date = date(2025, 1, 6),
) -> dict[str, Any]:
    """Load the bench database, time training of every store and of the seasonal baseline, return the results."""
    console = console or Console(stderr=True)
    rng = np.random.default_rng(seed)
    end = datetime(first.year, first.month, first.day, tzinfo=UTC) + timedelta(days=days)
    _drop(settings, dbname)
    with connect(settings.db, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    try:
        migrate(settings.db, dbname=dbname)
        hours = '{"mon": ["08:00", "22:00"], "tue": ["08:00", "22:00"], "wed": ["08:00", "22:00"], ' \
                '"thu": ["08:00", "22:00"], "fri": ["08:00", "22:00"], "sat": ["08:00", "22:00"], ' \
                '"sun": ["08:00", "22:00"]}'  # fmt: skip
        ids = [f"bench-{i + 1:03d}" for i in range(stores)]
        with connect(settings.db, dbname=dbname, autocommit=True) as conn:
            slots = 0
            with _bar(console, quiet) as bar:
                task = bar.add_task("loading a year of hourly history", total=stores)
                for i, sid in enumerate(ids):
                    tz = ZONES[i % len(ZONES)]
                    conn.execute(
                        "INSERT INTO stores (store_id, name, timezone, opening_hours) VALUES (%s, %s, %s, %s)",
                        (sid, sid, tz, hours),
                    )
                    conn.execute("INSERT INTO doors (store_id, door_id, kind) VALUES (%s, 'main', 'customer')", (sid,))
                    with conn.transaction():
                        slots += _load_store(conn, sid, tz=tz, first=first, days=days, rng=rng)
                    bar.advance(task)
            infos = [store_info(conn, sid) for sid in ids]

            def train_all(options: ForecasterOptions, label: str) -> tuple[float, list]:
                results = []
                with _bar(console, quiet) as bar:
                    task = bar.add_task(label, total=stores)
                    t0 = time.perf_counter()
                    for store in infos:
                        results += train_store(conn, store, end=end, options=options, days=days)
                        bar.advance(task)
                    return time.perf_counter() - t0, results

            base_s, base = train_all(ForecasterOptions(min_history_days=10_000), "training the seasonal baseline")
            gbm_s, gbm = train_all(ForecasterOptions(), "training the models")
            size = conn.execute(
                "SELECT avg(octet_length(model))::float AS b FROM trained_models WHERE method = 'gbm+profile'"
            ).fetchone()
    finally:
        if not keep:
            _drop(settings, dbname)
    entries = [r for r in gbm if r.metric == "entries"]
    base_entries = [r for r in base if r.metric == "entries"]
    out = {
        "bench": "models",
        "stores": stores,
        "days": days,
        "hourly_slots": slots,
        "models": len(gbm),
        "train_s": round(gbm_s, 2),
        "train_s_per_store": round(gbm_s / stores, 3),
        "fit_s": round(sum(r.seconds for r in gbm), 2),
        "target_s": TARGET_S,
        "meets_target": gbm_s < TARGET_S,
        "baseline_train_s": round(base_s, 2),
        "cost_vs_baseline": round(gbm_s / base_s, 2) if base_s else None,
        "holdout_mase_median": _median([r.backtest.get("mase") for r in entries]),
        "baseline_holdout_mase_median": _median([r.backtest.get("mase") for r in base_entries]),
        "holdout_coverage_80_median": _median([r.backtest.get("coverage_80") for r in entries]),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "model_kb_mean": round(size["b"] / 1024, 1) if size and size["b"] else None,
    }
    return out


def _bar(console: Console, quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=quiet,
    )
