"""Browser tests of the dashboard: a real uvicorn on a free port, a real database with a
seeded chain of three stores, and Debian's headless Chromium driven by Selenium.

Chromium comes from Debian's `chromium` and `chromium-driver` packages, which `./run test`
installs when they are missing; Selenium is given the driver's path explicitly, so Selenium
Manager never tries to download a browser.
"""

import os
import secrets
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from psycopg import sql

from footfall.api.access import Role
from footfall.api.app import create_app
from footfall.api.users import create_user
from footfall.bench.dashboard import CHROMEDRIVER, CHROMIUM, headless_chromium
from footfall.core.clock import ManualClock
from footfall.core.settings import DbSettings, Settings
from footfall.core.storeconfig import StoreConfig
from footfall.db.connect import connect, open_pool
from footfall.db.stores import apply_store
from footfall.demo.history import Incident, seed_chain
from tests.helpers import wait_until
from tests.integration.conftest import PgServer, clone_template

ROOT = Path(__file__).resolve().parents[3]
CHAIN = [ROOT / "examples" / "store.yaml", *sorted((ROOT / "examples" / "chain").glob("*.yaml"))]
ARTEFACTS = Path(os.environ.get("FOOTFALL_TEST_ARTEFACTS", ROOT / ".local" / "test-artefacts" / "dashboard"))
PASSWORD = "walk the floor"
DEAD_DEVICE = "nyc-01-side"
PINNED_NOW_ENV = "FOOTFALL_TEST_DASHBOARD_NOW"
PINNED_NOW = datetime(2026, 11, 18, 12, 37, tzinfo=UTC)
"""The one instant every dashboard test lives at, whatever the wall time: a Wednesday, 14:37 in
Riga, mid-month (so "today", last week and the month's plan all have data). The chain is seeded
up to it, the app answers "today so far" by it and the alerts engine evaluates at it. Set
FOOTFALL_TEST_DASHBOARD_NOW to an ISO instant with its offset to run the suite at another one
(e.g. 2026-12-07T03:00+02:00 for a night in Riga, when its store has not opened yet)."""

# Who logs in, with which role and stores.
USERS: dict[str, tuple[Role, list[str]]] = {
    "admin": (Role.ADMIN, []),
    "manager": (Role.MANAGER, ["riga-01"]),
    "merch": (Role.MERCHANDISER, ["riga-01", "lisbon-01"]),
    "watcher": (Role.ALERT_SUBSCRIBER, ["nyc-01"]),
}

pytestmark = pytest.mark.integration


@dataclass
class Chain:
    """The seeded database and the server on it."""

    db: DbSettings
    base_url: str
    now: datetime
    clock: ManualClock | None = None
    """The pinned clock of the seeding, the app and the alerts engine (None: a real demo's)."""
    tokens: dict[str, str] = field(default_factory=dict)
    settings: Settings | None = None

    def api(self, username: str, path: str) -> Any:
        """GET a JSON API path as a user (bearer token, not the cookie)."""
        r = httpx.get(self.base_url + path, headers={"Authorization": f"Bearer {self.tokens[username]}"}, timeout=30)
        assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"
        return r.json()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chain_db(pg_server: PgServer, pg_template: str) -> Iterator[DbSettings]:
    """A database of this module's own, on this leg's server: three stores with three weeks of history, users."""
    name = f"footfall_dash_{os.getpid()}_{secrets.token_hex(4)}"
    clone_template(pg_server.db, pg_template, name)
    try:
        yield pg_server.settings_for(name)
    finally:
        with connect(pg_server.db, dbname="postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def pinned_now() -> datetime:
    """`PINNED_NOW`, or the instant FOOTFALL_TEST_DASHBOARD_NOW names.

    Raises:
        pytest.UsageError: the variable is not an ISO 8601 instant with an offset.
    """
    text = os.environ.get(PINNED_NOW_ENV, "").strip()
    if not text:
        return PINNED_NOW
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise pytest.UsageError(
            f"{PINNED_NOW_ENV}={text!r} is not an ISO 8601 instant with an offset; "
            "write e.g. 2026-12-07T15:00+02:00, or unset it for the default"
        )
    return instant.astimezone(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def pinned_clock() -> ManualClock:
    """The one clock of this module's chain: its seeding, its app and the alerts engine the tests run."""
    return ManualClock(pinned_now())


@pytest.fixture(scope="module")
def chain(settings: Settings, chain_db: DbSettings, pinned_clock: ManualClock) -> Iterator[Chain]:
    """The chain seeded up to the pinned instant, and a real uvicorn serving the API and the dashboard
    on a free port with the same clock."""
    now = pinned_clock.now()
    with connect(chain_db, autocommit=True) as conn:
        configs = [StoreConfig.from_yaml(p) for p in CHAIN]
        for cfg in configs:
            apply_store(conn, cfg)
        seed_chain(
            conn,
            configs,
            # From the first of last month: a whole month of plan vs fact, and last week to compare with.
            days=now.day + 31,
            now=now,
            incident=Incident(dead_devices=frozenset({DEAD_DEVICE}), dead_since=now - timedelta(hours=2)),
        )
        for username, (role, stores) in USERS.items():
            create_user(
                conn, username=username, password=PASSWORD, role=role, stores=stores, all_stores=role is Role.ADMIN
            )
    pool = open_pool(chain_db.model_copy(update={"pool_min": 1, "pool_max": 10}), name="test-dashboard")
    app_settings = settings.model_copy(update={"db": chain_db})
    app = create_app(app_settings, pool=pool, clock=pinned_clock)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="dashboard-uvicorn", daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: server.started, timeout=20), "uvicorn did not start"
        c = Chain(db=chain_db, base_url=f"http://127.0.0.1:{port}", now=now, clock=pinned_clock, settings=app_settings)
        for username in USERS:
            r = httpx.post(c.base_url + "/v1/auth/token", data={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            c.tokens[username] = r.json()["access_token"]
        yield c
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        pool.close()


def csp_violations(driver: Any) -> list[str]:
    """The Content Security Policy violations the browser logged since the last call (it drains the log).

    Chromium reports each blocked inline style, inline script or foreign resource on its console
    ("Refused to apply inline style because it violates the following Content Security Policy
    directive …"); the driver keeps the console because `headless_chromium` asks for it.
    """
    return [
        str(entry.get("message", ""))
        for entry in driver.get_log("browser")
        if "Content Security Policy" in str(entry.get("message", ""))
    ]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium through chromedriver, with a fresh profile."""
    if not (Path(CHROMEDRIVER).exists() and Path(CHROMIUM).exists()):
        pytest.fail(
            "Debian's chromium and chromium-driver are not installed. Run the suite with `./run test`, which "
            "installs them (apt-get install -y chromium chromium-driver)."
        )
    profile = tempfile.mkdtemp(prefix="footfall-chromium-")
    driver = headless_chromium(profile, "--window-size=1280,1000")
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def artefacts() -> Path:
    """Where screenshots go (kept after the run: look at them)."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS
