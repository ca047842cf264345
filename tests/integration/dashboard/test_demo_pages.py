"""`footfall demo` as a person sees it: every page of every login shows data, and the planted
incident is visible, within two minutes of starting, on either storage path; no page breaks the
Content Security Policy; Ctrl-C stops it all; screenshots for the README."""

import os
import re
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from psycopg import sql
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from footfall.db.connect import connect
from footfall.demo.chain import DEAD_DEVICE, LOGIN_PASSWORD
from footfall.devtools.services import free_port
from tests.helpers import wait_until
from tests.integration.conftest import PgServer
from tests.integration.dashboard.conftest import ROOT, Chain, csp_violations
from tests.integration.dashboard.test_pages import login, open_page, screenshot

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RUN_WITH_CTRL_C = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv = sys.argv[1:]; runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)"
)

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


def _session_processes(sid: int) -> list[str]:
    """Processes still in the session the demo started (it and whatever it started)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone while we looked
            continue
        fields = text.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid and fields[0] != "Z":  # fields: state, ppid, pgrp, session
            out.append(f"{stat.parent.name} {text.split(')')[0].split('(', 1)[1]}")
    return out


def test_demo_shows_every_page_with_data_within_two_minutes(
    pg_server: PgServer, mqtt_settings: object, browser: WebDriver, artefacts: Path
) -> None:
    dbname = f"footfall_demo_dash_{os.getpid()}_{secrets.token_hex(3)}"
    db = pg_server.settings_for(dbname)
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "FOOTFALL_DB__URL": db.url,
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
        # `python -m footfall.cli demo --minutes 4` with Ctrl-C handled as from a terminal (run from a
        # shell's background job it would inherit SIGINT ignored).
        [sys.executable, "-c", RUN_WITH_CTRL_C, "footfall.cli", "demo", "--minutes", "4"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own session: whatever it starts can be found after it stops
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
        assert f"storage path {pg_server.flavour}" in text, text[-3000:]
        base = f"http://127.0.0.1:{port}"
        assert f"{base}/dashboard" in text
        for username in PAGES:
            assert re.search(rf"\b{re.escape(username)}\b", text), f"login {username} not printed"
        chain = Chain(db=db, base_url=base, now=None)  # type: ignore[arg-type]
        for username, paths in PAGES.items():
            login(browser, chain, username, password=LOGIN_PASSWORD)
            for path in paths:
                open_page(browser, chain, path)
                assert not browser.find_elements(By.CSS_SELECTOR, ".page-error, .error"), (username, path)
                assert not csp_violations(browser), (username, path)
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
        shots = artefacts / f"demo-{pg_server.flavour}"
        shots.mkdir(exist_ok=True)
        login(browser, chain, "demo", password=LOGIN_PASSWORD)
        open_page(browser, chain, "/dashboard/stores/riga-01")
        screenshot(browser, shots / "manager.png")
        login(browser, chain, "demo-merch", password=LOGIN_PASSWORD)
        open_page(browser, chain, "/dashboard/stores/riga-01/merch")
        screenshot(browser, shots / "merch.png")
        login(browser, chain, "demo-admin", password=LOGIN_PASSWORD)
        browser.set_window_size(1920, 1080)
        open_page(browser, chain, "/dashboard/wall")
        browser.save_screenshot(str(shots / "wall.png"))
        browser.set_window_size(1280, 1000)
        open_page(browser, chain, "/dashboard/alerts")
        screenshot(browser, shots / "alerts.png")
        browser.set_window_size(1280, 1000)
        assert not csp_violations(browser)

        # Ctrl-C: the demo stops its simulators, agent, ingest, API and alerts engine, says so, and
        # leaves no process behind.
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 0, "".join(out)[-3000:]
        reader.join(timeout=10)
        text = "".join(out)
        assert "stopping" in text, text[-3000:]
        assert "ingest:" in text.rsplit("stopping", 1)[1], text[-3000:]  # it said what each part did
        assert wait_until(lambda: not _session_processes(demo.pid), timeout=10), _session_processes(demo.pid)
    finally:
        if demo.poll() is None:
            demo.terminate()  # SIGTERM stops it the same way as Ctrl-C
            try:
                demo.wait(timeout=60)
            finally:
                if demo.poll() is None:
                    os.killpg(demo.pid, signal.SIGKILL)
        with connect(pg_server.db, dbname="postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
