"""The alerts page: a planted alert appears live (Server-Sent Events), without a reload; acknowledge
from the page (a cookie-authenticated POST with the page's CSRF token)."""

from pathlib import Path

import httpx
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from footfall.alerts.engine import Engine
from tests.integration.dashboard.conftest import DEAD_DEVICE, Chain
from tests.integration.dashboard.test_pages import login, open_page

pytestmark = pytest.mark.integration

SILENCE_RULE = {
    "name": "Counter silent",
    "metric": "device_silence",
    "comparator": ">",
    "threshold": 10,
    # The dead counter, watched around the clock: the rule fires whether or not New York is open at
    # the pinned instant (a rule without a schedule is judged in opening hours only).
    "scope": {"store": "nyc-01", "device": DEAD_DEVICE},
    "schedule": [{"start": "00:00", "end": "12:00"}, {"start": "12:00", "end": "00:00"}],
}


def test_planted_alert_appears_live_and_can_be_acknowledged(browser: WebDriver, chain: Chain, artefacts: Path) -> None:
    r = httpx.post(
        chain.base_url + "/v1/alert-rules",
        json=SILENCE_RULE,
        headers={"Authorization": f"Bearer {chain.tokens['admin']}"},
    )
    assert r.status_code == 201, r.text
    login(browser, chain, "admin")
    open_page(browser, chain, "/dashboard/alerts")
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "live-state").text == "live")
    browser.execute_script("window.__notReloaded = true")
    assert not browser.find_elements(By.CSS_SELECTOR, "#feed-list li")

    engine = Engine(chain.settings, clock=chain.clock)  # the chain's pinned clock
    try:
        engine.cycle()
    finally:
        engine.close()

    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#feed-list li[data-kind="firing"]'))
    assert browser.execute_script("return window.__notReloaded === true")  # live, not a reload
    item = browser.find_element(By.CSS_SELECTOR, '#feed-list li[data-kind="firing"]')
    assert DEAD_DEVICE in item.text
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#alerts-table [data-ack]"))
    browser.find_element(By.CSS_SELECTOR, "#alerts-table [data-ack]").click()
    # The table is redrawn when the acknowledgement's event arrives: an element found just before may go stale.
    WebDriverWait(browser, 20, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: "acknowledged" in d.find_element(By.ID, "alerts-table").text
    )
    browser.save_screenshot(str(artefacts / "alerts.png"))
