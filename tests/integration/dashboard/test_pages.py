"""The dashboard in a real browser: log in by role, numbers equal the API's, scope, phone width.

Every page fills itself from the JSON API; each number it shows carries the raw API value
(`data-value`), so a test compares both the value and the text shown with the API's answer
to the same query, asked here with a bearer token instead of the page's cookie.
"""

import math
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from footfall.api.access import Role
from footfall.api.dashboard.pages import Page, pages_for
from tests.helpers import wait_until
from tests.integration.dashboard.conftest import DEAD_DEVICE, PASSWORD, USERS, Chain, csp_violations

pytestmark = pytest.mark.integration

TILES = ["visitors", "transactions", "conversion", "atv", "upt", "revenue", "revenue_per_m2"]
KIND = {
    "visitors": "count",
    "transactions": "count",
    "conversion": "pct",
    "atv": "money",
    "upt": "dec",
    "revenue": "money",
    "revenue_per_m2": "money",
}


def login(driver: WebDriver, chain: Chain, username: str, *, password: str = PASSWORD) -> None:
    """Log in through the form, as a person would."""
    # Leave the previous page first: its script, finding the cookie gone, would send the browser to
    # the login page a second time while the form is being filled in (a stale form).
    driver.get("about:blank")
    driver.delete_all_cookies()
    driver.get(chain.base_url + "/dashboard/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, 20).until(lambda d: "/dashboard/login" not in d.current_url)


def open_page(driver: WebDriver, chain: Chain, path: str) -> None:
    """Open a page and wait until its script has filled it from the API."""
    driver.get(chain.base_url + path)
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            "return document.body.dataset.loaded === 'true' || !!document.querySelector('.page-error')"
        )
    )


def screenshot(driver: WebDriver, path: Path, *, width: int = 1280) -> None:
    """The whole page, not only the viewport."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, max(int(height) + 120, 700))
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)


def shown(value: float | None, kind: str) -> str:
    """How the page formats a value (static/js/common.js `fmt`), for values away from a rounding tie."""
    if value is None:
        return "—"
    match kind:
        case "count":
            return f"{round(value):,}"
        case "pct":
            return f"{value * 100:.1f} %"
        case "money":
            return f"{value:,.2f}"
        case "dec":
            return f"{value:.2f}"
        case "signed_pct":
            return ("+" if value >= 0 else "−") + f"{abs(value) * 100:.1f} %"
    raise ValueError(kind)


def assert_number(element: WebElement, expected: float | str | None, kind: str) -> None:
    """The element carries the API's value and shows it formatted (to the last digit shown).

    Money may come from the API as a decimal string ("12.30"): the page shows the number it is.
    """
    raw = element.get_attribute("data-value")
    if isinstance(expected, str):
        assert raw == expected  # the page keeps the API's own text of the number
        expected = float(expected)
    text = element.get_attribute("textContent")
    if expected is None:
        assert raw == ""
        assert text == "—"
        return
    assert raw not in (None, "")
    assert float(raw) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    want = shown(expected, kind)
    if text != want:  # a value on a rounding tie may round either way in the last digit
        digits = {"count": 0, "pct": 3, "money": 2, "dec": 2, "signed_pct": 3}[kind]
        got = float(text.replace(",", "").replace(" %", "").replace("−", "-").replace("+", ""))
        scale = 100 if kind.endswith("pct") else 1
        assert math.isclose(got / scale, expected, abs_tol=10**-digits / 2 + 1e-9), (text, want)


def numbers(driver: WebDriver, css: str) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, css)


def store_today(chain: Chain, store_id: str) -> date:
    import zoneinfo

    tz = chain.api("admin", f"/v1/stores/{store_id}")["timezone"]
    return chain.now.astimezone(zoneinfo.ZoneInfo(tz)).date()


def open_for(chain: Chain, store_id: str) -> timedelta:
    """How long the store has been open today at the chain's pinned instant (zero before opening)."""
    import zoneinfo

    from footfall.core.storeconfig import WEEKDAYS, StoreConfig
    from tests.integration.dashboard.conftest import CHAIN

    cfg = next(c for c in (StoreConfig.from_yaml(p) for p in CHAIN) if c.store.id == store_id)
    local = chain.now.astimezone(zoneinfo.ZoneInfo(cfg.store.timezone))
    day = cfg.store.opening_hours.get(WEEKDAYS[local.weekday()])
    if day is None:
        return timedelta(0)
    opens = datetime.combine(local.date(), day[0], local.tzinfo)
    return max(timedelta(0), min(local, datetime.combine(local.date(), day[1], local.tzinfo)) - opens)


@pytest.mark.parametrize(
    ("username", "landing"),
    [
        ("admin", "/dashboard/chain"),  # admin lands on the chain view
        ("manager", "/dashboard/stores/riga-01"),  # a manager on their store
        ("merch", "/dashboard/stores/lisbon-01/merch"),  # a merchandiser on the merch page of their first store
        ("watcher", "/dashboard/alerts"),  # an alert subscriber on the alerts
    ],
)
def test_each_role_logs_in_and_sees_only_its_pages(
    browser: WebDriver, chain: Chain, username: str, landing: str
) -> None:
    login(browser, chain, username)
    assert browser.current_url == chain.base_url + landing
    role, _ = USERS[username]
    nav = [a.get_attribute("data-page") for a in browser.find_elements(By.CSS_SELECTOR, "nav.nav a")]
    assert nav == [p.value for p in pages_for(role)]
    assert browser.find_element(By.CSS_SELECTOR, ".user").get_attribute("data-role") == role.value


def test_wrong_password_stays_on_the_login_page(browser: WebDriver, chain: Chain) -> None:
    browser.delete_all_cookies()
    browser.get(chain.base_url + "/dashboard/login")
    browser.find_element(By.ID, "username").send_keys("manager")
    browser.find_element(By.ID, "password").send_keys("not it")
    browser.find_element(By.ID, "login").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".error"))
    assert "Wrong user name or password" in browser.find_element(By.CSS_SELECTOR, ".error").text
    assert not [c for c in browser.get_cookies() if c["name"] == "footfall_session"]


def test_manager_page_numbers_equal_the_api(browser: WebDriver, chain: Chain, artefacts: Path) -> None:
    login(browser, chain, "manager")
    open_page(browser, chain, "/dashboard/stores/riga-01")
    today = store_today(chain, "riga-01")
    q = f"first={today}&last={today}"
    summary = chain.api("manager", f"/v1/stores/riga-01/kpis/summary?{q}&compare=same_weekday_last_week")
    values = {v["kpi"]: v for v in summary["data"]}
    for kpi in TILES:
        (el,) = numbers(browser, f'[data-source="summary"][data-kpi="{kpi}"]')
        assert_number(el, values[kpi]["value"], KIND[kpi])
    if open_for(chain, "riga-01") >= timedelta(hours=1):
        assert values["visitors"]["value"] > 0  # the seeded store had visitors today
    else:  # a pinned instant before opening (FOOTFALL_TEST_DASHBOARD_NOW at night): an empty day, shown as such
        assert not values["visitors"]["value"]

    series = chain.api("manager", f"/v1/stores/riga-01/kpis/series?{q}&interval=hour")
    rows = browser.find_elements(By.CSS_SELECTOR, "#traffic-table tbody tr")
    assert len(rows) == len(series["data"])
    for row, api_row in zip(rows, series["data"], strict=True):
        assert row.get_attribute("data-row") == api_row["local_start"]
        assert_number(row.find_element(By.CSS_SELECTOR, '[data-kpi="visitors"]'), api_row["visitors"], "count")
        assert_number(row.find_element(By.CSS_SELECTOR, '[data-kpi="revenue"]'), api_row["revenue"], "money")

    plan = chain.api("manager", f"/v1/stores/riga-01/plan-vs-fact?month={today:%Y-%m}")
    for key, kind in [
        ("revenue_plan", "money"),
        ("revenue_fact", "money"),
        ("pace", "pct"),
        ("days_left", "count"),
        ("days_passed", "count"),
        ("projection", "money"),
        ("achieved", "pct"),
    ]:
        (el,) = numbers(browser, f'#plan [data-kpi="{key}"]')
        assert_number(el, plan[key], kind)

    occupancy = chain.api("manager", f"/v1/stores/riga-01/kpis/occupancy?day={today}")
    assert_number(numbers(browser, '[data-kpi="occupancy_now"]')[0], occupancy["now"], "count")

    change = chain.api("manager", f"/v1/stores/riga-01/kpis/revenue-change?{q}&compare=same_weekday_last_week")
    assert_number(numbers(browser, '#revenue-change [data-kpi="revenue"]')[0], change["revenue"], "money")
    if change["traffic"] is not None:
        for part in ("traffic", "conversion", "atv"):
            assert_number(numbers(browser, f'#revenue-change [data-kpi="{part}"]')[0], change[part], "money")

    forecast = httpx.get(
        f"{chain.base_url}/v1/stores/riga-01/forecast?{q}&interval=hour",
        headers={"Authorization": f"Bearer {chain.tokens['manager']}"},
        timeout=60,
    )
    if forecast.status_code != 404:  # the models are installed: the band equals the API's
        assert forecast.status_code == 200, forecast.text
        rows = browser.find_elements(By.CSS_SELECTOR, "#forecast-table tbody tr")
        assert len(rows) == forecast.json()["count"] > 0
        for row, f in zip(rows, forecast.json()["data"], strict=True):
            assert_number(row.find_element(By.CSS_SELECTOR, '[data-kpi="forecast"]'), f["entries"]["mean"], "count")
            assert_number(
                row.find_element(By.CSS_SELECTOR, '[data-kpi="forecast_high"]'), f["entries"]["upper"], "count"
            )

    csv = browser.find_element(By.CSS_SELECTOR, "#traffic a.csv").get_attribute("href")
    assert csv.endswith("format=csv")
    screenshot(browser, artefacts / "manager.png")


def test_manager_year_page_numbers_equal_the_api(browser: WebDriver, chain: Chain) -> None:
    login(browser, chain, "manager")
    open_page(browser, chain, "/dashboard/stores/riga-01?period=year")
    today = store_today(chain, "riga-01")
    first = today - timedelta(days=364)
    summary = chain.api(
        "manager", f"/v1/stores/riga-01/kpis/summary?first={first}&last={today}&compare=same_period_last_year"
    )
    values = {v["kpi"]: v for v in summary["data"]}
    for kpi in TILES:
        (el,) = numbers(browser, f'[data-source="summary"][data-kpi="{kpi}"]')
        assert_number(el, values[kpi]["value"], KIND[kpi])
    series = chain.api("manager", f"/v1/stores/riga-01/kpis/series?first={first}&last={today}&interval=week")
    rows = browser.find_elements(By.CSS_SELECTOR, "#traffic-table tbody tr")
    assert len(rows) == len(series["data"]) > 50


def test_chain_page_ranks_stores_like_the_api(browser: WebDriver, chain: Chain) -> None:
    login(browser, chain, "admin")
    open_page(browser, chain, "/dashboard/chain")
    today = max(store_today(chain, s) for s in ("riga-01", "lisbon-01", "nyc-01"))
    q = f"first={today - timedelta(days=6)}&last={today}"
    ranking = chain.api("admin", f"/v1/kpis/ranking?{q}&kpi=conversion&by=value&compare=previous_period")
    rows = browser.find_elements(By.CSS_SELECTOR, "#ranking-table tbody tr")
    assert [r.get_attribute("data-row") for r in rows] == [x["store_id"] for x in ranking["data"]]
    for row, x in zip(rows, ranking["data"], strict=True):
        assert_number(row.find_element(By.CSS_SELECTOR, '[data-kpi="conversion"]'), x["value"], "pct")
    stores = chain.api("admin", f"/v1/kpis/stores?{q}&compare=previous_period")
    for s in stores["data"]:
        row = browser.find_element(By.CSS_SELECTOR, f'#stores-table tr[data-row="{s["store_id"]}"]')
        assert_number(row.find_element(By.CSS_SELECTOR, '[data-kpi="revenue"]'), s["kpis"]["revenue"]["value"], "money")
        assert_number(
            row.find_element(By.CSS_SELECTOR, '[data-kpi="visitors"]'), s["kpis"]["visitors"]["value"], "count"
        )


def test_wall_screen_shows_plan_fact_pace_days_left_and_red_zones(
    browser: WebDriver, chain: Chain, artefacts: Path
) -> None:
    login(browser, chain, "admin")
    browser.set_window_size(1920, 1080)
    today = store_today(chain, "riga-01")
    # On the 1st no day of the month is complete yet (the API counts fact up to yesterday): show last month.
    month = (today if today.day > 1 else today - timedelta(days=1)).strftime("%Y-%m")
    open_page(browser, chain, f"/dashboard/wall?month={month}")
    plans = chain.api("admin", f"/v1/plan-vs-fact?month={month}")["data"]
    boards = browser.find_elements(By.CSS_SELECTOR, "#boards .board")
    assert [b.get_attribute("data-store") for b in boards] == [p["store_id"] for p in plans]
    for board, p in zip(boards, plans, strict=True):
        for key, kind in [
            ("revenue_plan", "count"),
            ("revenue_fact", "count"),
            ("pace", "pct"),
            ("days_left", "count"),
        ]:
            assert_number(board.find_element(By.CSS_SELECTOR, f'[data-kpi="{key}"]'), p[key], kind)
        behind = p["pace"] is not None and p["pace"] < 1
        assert ("red" in board.get_attribute("class").split()) is behind
    assert any("red" in b.get_attribute("class").split() for b in boards)  # nyc-01 is planned to fall behind
    browser.save_screenshot(str(artefacts / "wall.png"))
    browser.set_window_size(1280, 1000)


def test_devices_page_shows_the_dead_counter(browser: WebDriver, chain: Chain) -> None:
    login(browser, chain, "admin")
    open_page(browser, chain, "/dashboard/stores/nyc-01/devices")
    devices = chain.api("admin", "/v1/stores/nyc-01/devices")["data"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#devices-table tbody tr")
    assert [r.get_attribute("data-row") for r in rows] == [d["device_id"] for d in devices]
    health = {
        r.get_attribute("data-row"): r.find_element(By.CSS_SELECTOR, "[data-health]").get_attribute("data-health")
        for r in rows
    }
    assert health == {d["device_id"]: d["health"] for d in devices}
    assert health[DEAD_DEVICE] == "stale"
    assert health["nyc-01-main"] == "ok"


def test_merch_page_zone_numbers_equal_the_api(browser: WebDriver, chain: Chain, artefacts: Path) -> None:
    login(browser, chain, "merch")
    open_page(browser, chain, "/dashboard/stores/riga-01/merch")
    today = store_today(chain, "riga-01")
    q = f"first={today - timedelta(days=6)}&last={today}"
    try:  # the merchandising zone report when the camera analytics are installed, else revenue per zone
        zones = chain.api("merch", f"/v1/stores/riga-01/zones?{q}")
    except AssertionError:
        zones = chain.api("merch", f"/v1/stores/riga-01/kpis/zones?{q}")
    rows = browser.find_elements(By.CSS_SELECTOR, "#zones-table tbody tr")
    assert [r.get_attribute("data-row") for r in rows] == [z["zone_id"] for z in zones["data"]]
    for row, z in zip(rows, zones["data"], strict=True):
        assert_number(row.find_element(By.CSS_SELECTOR, '[data-kpi="revenue_per_m2"]'), z["revenue_per_m2"], "money")
    screenshot(browser, artefacts / "merch.png")


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/stores/nyc-01",  # another store's manager page
        "/dashboard/stores/nyc-01/devices",  # another store's devices
        "/dashboard/wall/nyc-01",  # another store's wall screen
        "/dashboard/stores/no-such-store",  # a store that does not exist reads the same
    ],
)
def test_manager_cannot_open_another_stores_pages(browser: WebDriver, chain: Chain, path: str) -> None:
    login(browser, chain, "manager")
    open_page(browser, chain, path)
    assert browser.find_element(By.CSS_SELECTOR, "h1").text == "404"
    assert "not found" in browser.find_element(By.ID, "error-message").text


def test_manager_sees_only_their_store_in_the_picker_and_the_api(browser: WebDriver, chain: Chain) -> None:
    login(browser, chain, "manager")
    open_page(browser, chain, "/dashboard/stores/riga-01")
    options = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#store-picker option")]
    assert options == ["riga-01"]
    # The page's own cookie does not open another store's API either.
    status = browser.execute_async_script(
        "const done = arguments[0]; fetch('/v1/stores/nyc-01/kpis/occupancy').then(r => done(r.status));"
    )
    assert status == 404


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("merch", "/dashboard/stores/riga-01"),  # a merchandiser has no manager page
        ("watcher", "/dashboard/chain"),  # an alert subscriber has no chain view
        ("manager", "/dashboard/stores/riga-01/merch"),  # a manager has no merch page
    ],
)
def test_role_cannot_open_pages_outside_its_role(browser: WebDriver, chain: Chain, username: str, path: str) -> None:
    login(browser, chain, username)
    open_page(browser, chain, path)
    assert browser.find_element(By.CSS_SELECTOR, "h1").text == "403"


def test_pages_need_a_login(browser: WebDriver, chain: Chain) -> None:
    browser.delete_all_cookies()
    browser.get(chain.base_url + "/dashboard/stores/riga-01?period=week")
    assert browser.current_url.startswith(chain.base_url + "/dashboard/login?next=")
    login_then = browser.current_url
    browser.find_element(By.ID, "username").send_keys("manager")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login").click()
    WebDriverWait(browser, 20).until(lambda d: d.current_url != login_then)
    assert browser.current_url == chain.base_url + "/dashboard/stores/riga-01?period=week"


PHONE_PAGES: list[tuple[str, str]] = [
    ("manager", "/dashboard/stores/riga-01"),
    ("manager", "/dashboard/stores/riga-01?period=year"),
    ("manager", "/dashboard/chain"),
    ("manager", "/dashboard/wall"),
    ("manager", "/dashboard/stores/riga-01/devices"),
    ("manager", "/dashboard/alerts"),
    ("merch", "/dashboard/stores/riga-01/merch"),
]


def test_phone_viewport_has_no_horizontal_scroll(browser: WebDriver, chain: Chain, artefacts: Path) -> None:
    browser.set_window_size(390, 844)
    try:
        current = None
        for username, path in PHONE_PAGES:
            if username != current:
                login(browser, chain, username)
                current = username
            open_page(browser, chain, path)
            widths: Any = browser.execute_script(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert widths[0] <= widths[1], f"{path} scrolls sideways on a phone: {widths}"
            if path == "/dashboard/stores/riga-01":
                browser.save_screenshot(str(artefacts / "manager-phone.png"))
    finally:
        browser.set_window_size(1280, 1000)


# Every page each role can open (the store pages of a store in its scope), the login and an error page.
CSP_PAGES: list[tuple[str | None, str]] = [
    (None, "/dashboard/login"),
    ("admin", "/dashboard/chain"),
    ("admin", "/dashboard/wall"),
    ("admin", "/dashboard/wall/riga-01"),
    ("admin", "/dashboard/stores/nyc-01"),
    ("admin", "/dashboard/stores/nyc-01/devices"),
    ("admin", "/dashboard/stores/riga-01/merch"),
    ("admin", "/dashboard/alerts"),
    ("manager", "/dashboard/stores/riga-01"),
    ("manager", "/dashboard/stores/riga-01?period=week"),
    ("manager", "/dashboard/stores/riga-01?period=month"),
    ("manager", "/dashboard/stores/riga-01?period=year"),
    ("manager", "/dashboard/stores/riga-01/devices"),
    ("manager", "/dashboard/stores/nyc-01"),  # the 404 page
    ("merch", "/dashboard/stores/lisbon-01/merch"),
    ("merch", "/dashboard/stores/riga-01/merch"),
    ("merch", "/dashboard/chain"),  # the 403 page
    ("watcher", "/dashboard/alerts"),
]


def test_no_page_breaks_the_content_security_policy(browser: WebDriver, chain: Chain) -> None:
    """The API sends a CSP without 'unsafe-inline': any inline style attribute, <style>, inline script or
    foreign resource on a page is blocked, and the page looks or works wrong. None may be there."""
    assert "'unsafe-inline'" not in httpx.get(chain.base_url + "/dashboard/login").headers["content-security-policy"]
    csp_violations(browser)  # drain what earlier tests logged
    found: dict[str, list[str]] = {}
    current: str | None = "-"
    for username, path in CSP_PAGES:
        if username != current:
            if username is None:
                browser.delete_all_cookies()
            else:
                login(browser, chain, username)
            current = username
        if username is None:
            browser.get(chain.base_url + path)
            WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "login"))
        else:
            open_page(browser, chain, path)
        if v := csp_violations(browser):
            found[f"{username} {path}"] = v
    assert not found, found

    # The check itself sees a violation: an inline style attribute set on a page is reported.
    open_page(browser, chain, "/dashboard/alerts")
    browser.execute_script("document.body.setAttribute('style', 'outline: 1px solid red')")
    assert wait_until(lambda: bool(csp_violations(browser)), timeout=10)


def test_roles_table_covers_every_role() -> None:
    # Every role lands on a page it may open.
    from footfall.api.dashboard.pages import PAGES, home_page

    for role in Role:
        assert role in PAGES[home_page(role)].roles
    assert Page.WALL in pages_for(Role.MANAGER)
