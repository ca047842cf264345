"""`footfall bench merch`: a month of one store's heatmap, as JSON and as a PNG, against the raw minutes.

It creates a database of its own, applies the migrations, and loads per-minute heatmap
cells of two overlapping cameras over a month of opening hours with COPY (so the hourly
rollup trigger runs as it does under ingest). Then it times, in the same run:

- `heatmap` (rollup → merge → k suppression → JSON model) and `heatmap_png` (plus drawing);
- the baseline: the same per-camera totals summed from the raw minute rows.

The target (issue 13) is a month of one store rendered in under a second.
"""

import math
import random
import secrets
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from psycopg import sql

from footfall.api.kpis.store import store_info
from footfall.api.merch import queries as q
from footfall.api.merch.heatmap import HeatMetric
from footfall.core.settings import Settings
from footfall.core.storeconfig import StoreConfig
from footfall.db.connect import DictConnection, connect, ensure_database
from footfall.db.migrate import migrate
from footfall.db.stores import apply_store

STORE = {
    "store": {"id": "bench", "name": "Bench store", "timezone": "Europe/Riga"},
    "floors": [{"id": "ground", "width_m": 30, "height_m": 20}],
    "doors": [{"id": "main"}],
    "zones": [
        {"id": "a", "floor": "ground", "polygon": [[2, 2], [10, 2], [10, 8], [2, 8]]},
        {"id": "b", "floor": "ground", "polygon": [[12, 2], [18, 2], [18, 7], [12, 7]]},
    ],
    "devices": [
        {"id": "bench-cam1", "kind": "camera", "floor": "ground"},
        {"id": "bench-cam2", "kind": "camera", "floor": "ground"},
    ],
}
RAW_TOTALS = """
SELECT device_id, cell_m, x, y, sum(presence_s) AS presence_s, sum(tracks) AS tracks
FROM heatmap_cells
WHERE store_id = %(store_id)s AND floor_id = 'ground' AND valid AND start_ts >= %(lo)s AND start_ts < %(hi)s
GROUP BY device_id, cell_m, x, y
"""


def _load(conn: DictConnection, *, first: date, days: int, cells: int, seed: int) -> int:
    """Per-minute cells of two cameras (cam1 sees x < 17 m, cam2 x ≥ 13 m) over 09:00–21:00 local."""
    rng = random.Random(seed)
    cols, rows_ = 60, 40  # 0.5 m cells on 30 × 20 m
    n = 0
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY heatmap_cells (store_id, device_id, floor_id, start_ts, end_ts, cell_m, x, y, presence_s, tracks,"
            " seq) FROM STDIN"
        ) as copy,
    ):
        for d in range(days):
            day = first + timedelta(days=d)
            for minute in range(9 * 60, 21 * 60):
                t = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minute - 120)
                for dev, (lo, hi) in (("bench-cam1", (0, 34)), ("bench-cam2", (26, cols))):
                    for x, y in {(rng.randrange(lo, hi), rng.randrange(rows_)) for _ in range(cells)}:
                        k = rng.randint(3, 6)
                        copy.write_row(
                            ("bench", dev, "ground", t, t + timedelta(minutes=1), 0.5, x, y,
                             round(rng.uniform(1, 20 * k), 2), k, n)
                        )  # fmt: skip
                        n += 1
    conn.commit()
    return n


def _time(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def run_bench(settings: Settings, *, days: int = 30, cells: int = 60, runs: int = 5, seed: int = 13) -> dict[str, Any]:
    """Load, time, report (see the module doc); drops its database at the end."""
    dbname = f"footfall_bench_merch_{secrets.token_hex(4)}"
    ensure_database(settings.db, dbname)
    try:
        migrate(settings.db, dbname=dbname)
        first = date(2026, 6, 1)
        with connect(settings.db, dbname=dbname) as conn:
            apply_store(conn, StoreConfig.from_data(STORE))
            t0 = time.perf_counter()
            rows = _load(conn, first=first, days=days, cells=cells, seed=seed)
            load_s = time.perf_counter() - t0
        with connect(settings.db, dbname=dbname, autocommit=True) as conn:
            store = store_info(conn, "bench")
            last = first + timedelta(days=days - 1)
            lo, hi = store.calendar.period_bounds(first, last)

            def json_answer() -> None:
                q.heatmap(conn, store=store, first=str(first), last=str(last), metric=HeatMetric.PRESENCE).public()

            def png_answer() -> None:
                h = q.heatmap(conn, store=store, first=str(first), last=str(last))
                q.heatmap_png(conn, h)

            def raw_totals() -> None:
                conn.execute(RAW_TOTALS, {"store_id": "bench", "lo": lo, "hi": hi}).fetchall()

            json_answer()  # warm caches once
            js, png, raw = _time(json_answer, runs), _time(png_answer, runs), _time(raw_totals, runs)
        return {
            "bench": "merch",
            "days": days,
            "raw_rows": rows,
            "load_s": round(load_s, 1),
            "json_ms_median": round(statistics.median(js), 1),
            "png_ms_median": round(statistics.median(png), 1),
            "png_ms_max": round(max(png), 1),
            "raw_totals_ms_median": round(statistics.median(raw), 1),
            "speedup_vs_raw": round(statistics.median(raw) / statistics.median(png), 1) if png else math.nan,
            "target_png_ms": 1000,
            "meets_target": max(png) < 1000,
        }
    finally:
        with connect(settings.db, dbname="postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
