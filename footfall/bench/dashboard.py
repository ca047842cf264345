"""`footfall bench dashboard`: how fast the store manager's page loads for a store-year.

Loads a year of history for one store (door counts every 5 minutes, receipts with lines,
plans), serves the API and dashboard with uvicorn on a free port, and times:

- **http**: the page's HTML plus the API calls its script makes (`static/js/store.js`),
  six at a time like a browser, for `period=year`, and for `period=day` as the baseline
  measured in the same run;
- **browser** (when Debian's chromium and chromium-driver are installed): navigation start
  to the page's script marking itself loaded, in headless Chromium, for the same two pages.

The last line is one JSON object; `ok` says whether the year page met the target (1 s).
"""

import shutil
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import uvicorn
from psycopg import sql

from footfall.api.access import Role
from footfall.api.app import create_app
from footfall.api.users import create_user
from footfall.core.settings import Settings
from footfall.core.storeconfig import StoreConfig
from footfall.db.connect import connect, open_pool
from footfall.db.migrate import migrate
from footfall.db.stores import apply_store
from footfall.demo.history import profile_for, seed_plan, seed_store

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

STORE_FILE = Path(__file__).resolve().parents[2] / "examples" / "store.yaml"
TARGET_MS = 1000.0
PASSWORD = "bench-password"  # noqa: S105 - a throw-away user in a throw-away database


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def page_calls(store_id: str, today: date, period: str) -> list[str]:
    """The API paths `store.js` fetches for a period (the comparison series after the summary)."""
    first, interval, compare = {
        "day": (today, "hour", "same_weekday_last_week"),
        "year": (today - timedelta(days=364), "week", "same_period_last_year"),
    }[period]
    base = f"/v1/stores/{store_id}"
    q = f"first={first}&last={today}"
    return [
        f"{base}/kpis/summary?{q}&compare={compare}",
        f"{base}/kpis/series?{q}&interval={interval}",
        f"{base}/plan-vs-fact?month={today:%Y-%m}",
        f"{base}/kpis/occupancy?day={today}",
        f"{base}/kpis/revenue-change?{q}&compare={compare}",
    ]


def _http_load(client: httpx.Client, store_id: str, today: date, period: str) -> float:
    """Seconds for the HTML, then the page's API calls in parallel, then the comparison series."""
    t0 = time.perf_counter()
    r = client.get(f"/dashboard/stores/{store_id}?period={period}")
    r.raise_for_status()
    calls = page_calls(store_id, today, period)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(client.get, calls))
    for a in answers:
        a.raise_for_status()
    s = answers[0].json()
    interval = "hour" if period == "day" else "week"
    client.get(
        f"/v1/stores/{store_id}/kpis/series?first={s['comparison_first']}&last={s['comparison_last']}"
        f"&interval={interval}"
    ).raise_for_status()
    return time.perf_counter() - t0


def _stats(xs: list[float]) -> dict[str, float]:
    ms = sorted(x * 1000 for x in xs)
    return {"p50_ms": round(statistics.median(ms), 1), "max_ms": round(ms[-1], 1), "runs": len(ms)}


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
"""Debian's chromium and chromium-driver (browser downloads do not work on these machines)."""


def headless_chromium(profile: str, *extra_flags: str) -> "WebDriver":
    """Debian's Chromium, headless, through its chromedriver, with a fresh profile folder.

    The flags keep Chromium off the network it cannot reach here (background networking,
    component updates, sync, QUIC); Selenium is given the driver so it never downloads one.
    The console is kept (`driver.get_log("browser")`), so a test can read what the page
    logged, Content Security Policy violations included.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        *extra_flags,
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def _browser_times(base_url: str, store_id: str, runs: int) -> dict[str, Any] | None:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        return None
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    profile = tempfile.mkdtemp(prefix="footfall-bench-chromium-")
    driver = headless_chromium(profile)
    try:
        driver.get(base_url + "/dashboard/login")
        driver.find_element(By.ID, "username").send_keys("bench")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "login").click()
        WebDriverWait(driver, 30).until(lambda d: "/login" not in d.current_url)
        out: dict[str, Any] = {}
        for period in ("day", "year"):
            times: list[float] = []
            for _ in range(runs + 1):  # the first load warms caches and is not counted
                driver.get(f"{base_url}/dashboard/stores/{store_id}?period={period}")
                WebDriverWait(driver, 60).until(
                    lambda d: d.execute_script("return document.body.dataset.loaded === 'true'")
                )
                ms = driver.execute_script("return performance.now()")
                times.append(float(ms) / 1000)
            out[period] = _stats(times[1:])
            weight = driver.execute_script(
                "return performance.getEntriesByType('resource').reduce((a, e) => a + (e.transferSize || 0), 0)"
                " + performance.getEntriesByType('navigation')[0].transferSize"
            )
            out[period]["bytes"] = int(weight)
        return out
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def run_bench(
    settings: Settings,
    *,
    days: int = 365,
    runs: int = 10,
    dbname: str = "footfall_bench_dashboard",
    keep: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Load a store-year, serve it, time the manager page (see the module docstring)."""
    with connect(settings.db, dbname="postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    db = settings.db.model_copy(update={"url": settings.db.url_for(dbname)})
    try:
        flavour, _ = migrate(settings.db, dbname=dbname)
        cfg = StoreConfig.from_yaml(STORE_FILE)
        now = datetime.now(UTC)
        today = now.astimezone(ZoneInfo(cfg.store.timezone)).date()
        t0 = time.perf_counter()
        with connect(db, autocommit=True) as conn:
            apply_store(conn, cfg)
            seeded = seed_store(
                conn, cfg, profile_for(0), first=today - timedelta(days=days), now=now, rng=np.random.default_rng(1)
            )
            seed_plan(conn, cfg, profile_for(0), month=today.replace(day=1))
            create_user(conn, username="bench", password=PASSWORD, role=Role.MANAGER, stores=[cfg.store.id])
            conn.execute("ANALYZE")
        load_s = time.perf_counter() - t0
        say(f"loaded {days} days: {seeded.door_rows} door rows, {seeded.receipts} receipts in {load_s:.1f} s")
        pool = open_pool(db.model_copy(update={"pool_min": 2, "pool_max": 8}), name="bench-dashboard")
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings.model_copy(update={"db": db}), pool=pool), port=port, log_level="warning"
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            while not server.started:
                time.sleep(0.05)
            base_url = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base_url, timeout=60) as client:
                token = client.post("/v1/auth/token", data={"username": "bench", "password": PASSWORD}).json()
                client.cookies.set("footfall_session", token["access_token"])
                http: dict[str, Any] = {}
                for period in ("day", "year"):
                    _http_load(client, cfg.store.id, today, period)  # warm-up
                    http[period] = _stats([_http_load(client, cfg.store.id, today, period) for _ in range(runs)])
            say("timing the page in headless Chromium …")
            browser = _browser_times(base_url, cfg.store.id, runs=max(3, runs // 2))
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            pool.close()
    finally:
        if not keep:
            with connect(settings.db, dbname="postgres", autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
    year_ms = browser["year"]["p50_ms"] if browser else http["year"]["p50_ms"]
    return {
        "bench": "dashboard",
        "storage": flavour.value if hasattr(flavour, "value") else str(flavour),
        "store_days": days,
        "door_rows": seeded.door_rows,
        "receipts": seeded.receipts,
        "http": http,
        "browser": browser,
        "ratio_year_to_day": round(year_ms / (browser["day"]["p50_ms"] if browser else http["day"]["p50_ms"]), 2),
        "year_page_ms": year_ms,
        "measured_in": "browser" if browser else "http",
        "target_ms": TARGET_MS,
        "ok": year_ms < TARGET_MS,
    }
