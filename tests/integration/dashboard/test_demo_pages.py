"""`footfall demo` as a person sees it: every page of every login shows data, and the planted
incident is visible, within two minutes of starting; screenshots for the README."""

import os
import re
import secrets
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from psycopg import sql
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from footfall.core.settings import Settings
from footfall.db.connect import connect
from footfall.demo.chain import DEAD_DEVICE, LOGIN_PASSWORD
from footfall.devtools.services import free_port
from tests.helpers import wait_until
from tests.integration.dashboard.conftest import ROOT, Chain
from tests.integration.dashboard.test_pages import login, open_page, screenshot

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PAGES = {
    "demo-admin": ["/dashboard/chain", "/dashboard/wall", "/dashboard/stores/nyc-01/devices", "/dashboard/alerts"],
    "demo": [
        "/dashboard/stores/riga-01",
        "/dashboard/stores/riga-01?period=month",
        "/dashboard/stores/riga-01/devices",
    ],
    "demo-merch": ["/dashboard/stores/riga-01/merch"],
    "demo-alerts": ["/dashboard/alerts"],
}


def test_demo_shows_every_page_with_data_within_two_minutes(
    settings: Settings, mqtt_settings: object, browser: WebDriver, artefacts: Path
) -> None:
    dbname = f"footfall_demo_dash_{os.getpid()}_{secrets.token_hex(3)}"
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "FOOTFALL_DB__URL": settings.db.url_for(dbname),
            "FOOTFALL_MQTT__PREFIX": f"t{secrets.token_hex(5)}",
            "FOOTFALL_INGEST__SHARE_GROUP": f"demo{secrets.token_hex(3)}",
            "FOOTFALL_INGEST__CLIENT_ID": f"demo-ingest-{secrets.token_hex(3)}",
            "FOOTFALL_API__PORT": str(port),
            "FOOTFALL_EDGE__DATA_DIR": str(ROOT / ".local" / f"test-demo-{secrets.token_hex(3)}"),
            "COLUMNS": "200",
        }
    )
    out: list[str] = []
    demo = subprocess.Popen(
        [sys.executable, "-m", "footfall.cli", "demo", "--minutes", "4"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    reader = threading.Thread(target=lambda: out.extend(iter(demo.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        # Two minutes from start: the dashboard's URL and the logins are printed, pages have data.
        assert wait_until(lambda: any("dashboard:" in line for line in out) or demo.poll() is not None, 120), "".join(
            out
        )[-3000:]
        text = "".join(out)
        assert demo.poll() is None, text[-3000:]
        base = f"http://127.0.0.1:{port}"
        assert f"{base}/dashboard" in text
        for username in PAGES:
            assert re.search(rf"\b{re.escape(username)}\b", text), f"login {username} not printed"
        chain = Chain(db=settings.db, base_url=base, now=None)  # type: ignore[arg-type]
        for username, paths in PAGES.items():
            login(browser, chain, username, password=LOGIN_PASSWORD)
            for path in paths:
                open_page(browser, chain, path)
                assert not browser.find_elements(By.CSS_SELECTOR, ".page-error, .error"), (username, path)
                values = [e.get_attribute("data-value") for e in browser.find_elements(By.CSS_SELECTOR, ".num")]
                if path == "/dashboard/alerts":  # the planted incident's alert is there
                    WebDriverWait(browser, 90).until(
                        lambda d: d.find_elements(By.CSS_SELECTOR, '#alerts-table [data-state="firing"]')
                    )
                    assert DEAD_DEVICE in browser.find_element(By.ID, "alerts-table").text
                if "devices" in path:
                    assert browser.find_elements(By.CSS_SELECTOR, "#devices-table tbody tr"), path
                elif "alerts" not in path:
                    assert any(v not in ("", "0", "0.0") for v in values), f"{path} shows no data for {username}"
                if path == "/dashboard/stores/nyc-01/devices":
                    row = browser.find_element(By.CSS_SELECTOR, f'#devices-table tr[data-row="{DEAD_DEVICE}"]')
                    assert row.find_element(By.CSS_SELECTOR, "[data-health]").get_attribute("data-health") == "stale"
        # README screenshots, from the demo itself.
        login(browser, chain, "demo", password=LOGIN_PASSWORD)
        open_page(browser, chain, "/dashboard/stores/riga-01")
        screenshot(browser, artefacts / "demo-manager.png")
        login(browser, chain, "demo-merch", password=LOGIN_PASSWORD)
        open_page(browser, chain, "/dashboard/stores/riga-01/merch")
        screenshot(browser, artefacts / "demo-merch.png")
        login(browser, chain, "demo-admin", password=LOGIN_PASSWORD)
        browser.set_window_size(1920, 1080)
        open_page(browser, chain, "/dashboard/wall")
        browser.save_screenshot(str(artefacts / "demo-wall.png"))
        browser.set_window_size(1280, 1000)
        open_page(browser, chain, "/dashboard/alerts")
        screenshot(browser, artefacts / "demo-alerts.png")
        browser.set_window_size(1280, 1000)
    finally:
        demo.terminate()  # Ctrl-C's cousin: the demo stops everything and exits
        try:
            demo.wait(timeout=60)
        finally:
            if demo.poll() is None:
                demo.kill()
            with connect(settings.db, dbname="postgres", autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
