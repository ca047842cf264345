"""The session cookie and CSRF, without a browser: what a cross-site page could and could not do."""

import re
from contextlib import closing

import httpx
import pytest

from footfall.api.security import CSRF_HEADER, SESSION_COOKIE
from tests.integration.dashboard.conftest import PASSWORD, Chain

pytestmark = pytest.mark.integration


def logged_in(chain: Chain, username: str) -> tuple[httpx.Client, str]:
    """A client holding a session cookie, and the CSRF token its pages carry."""
    client = httpx.Client(base_url=chain.base_url, timeout=30)
    form = client.get("/dashboard/login")
    nonce = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert nonce
    r = client.post("/dashboard/login", data={"username": username, "password": PASSWORD, "csrf": nonce.group(1)})
    assert r.status_code == 303, r.text
    page = client.get("/dashboard/stores/riga-01")
    token = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page.text)
    assert token
    return client, token.group(1)


def test_session_cookie_is_httponly_and_samesite_strict(chain: Chain) -> None:
    client, _ = logged_in(chain, "manager")
    with closing(client):
        cookie = next(c for c in client.cookies.jar if c.name == SESSION_COOKIE)
        assert cookie.has_nonstandard_attr("HttpOnly")
        assert cookie.get_nonstandard_attr("SameSite", "").lower() == "strict"
        assert cookie.path == "/"


def test_login_without_the_forms_token_is_refused(chain: Chain) -> None:
    with httpx.Client(base_url=chain.base_url) as client:
        r = client.post("/dashboard/login", data={"username": "manager", "password": PASSWORD, "csrf": "forged"})
        assert r.status_code == 403
        assert SESSION_COOKIE not in client.cookies


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 403),  # cookie alone: a cross-site form could send this, so it is refused
        ({CSRF_HEADER: "0" * 64}, 403),  # a made-up token
        (None, 200),  # the page's own token: accepted
    ],
)
def test_api_writes_with_the_cookie_need_the_pages_csrf_token(
    chain: Chain, headers: dict[str, str] | None, status: int
) -> None:
    client, token = logged_in(chain, "manager")
    with closing(client):
        send = {CSRF_HEADER: token} if headers is None else headers
        r = client.put("/v1/stores/riga-01/plans/2031-01", json={"revenue_target": "1000.00"}, headers=send)
        assert r.status_code == status, r.text


def test_api_reads_accept_the_cookie_and_csv_by_query(chain: Chain) -> None:
    client, _ = logged_in(chain, "manager")
    with closing(client):
        r = client.get("/v1/stores/riga-01/kpis/series?first=2026-01-01&last=2026-01-02&format=csv")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/csv")
        assert "visitors" in r.text.splitlines()[0].split(",")  # the series rows, as CSV


def test_logout_needs_the_token_and_forgets_the_cookie(chain: Chain) -> None:
    client, token = logged_in(chain, "manager")
    with closing(client):
        assert client.post("/dashboard/logout", data={"csrf": "nope"}).status_code == 403
        r = client.post("/dashboard/logout", data={"csrf": token})
        assert r.status_code == 303
        assert SESSION_COOKIE not in client.cookies
        assert client.get("/dashboard/stores/riga-01").headers["location"].startswith("/dashboard/login")


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",  # another site
        "//evil.example/x",  # scheme-relative
        "/v1/users",  # outside the dashboard
    ],
)
def test_login_never_redirects_off_the_dashboard(chain: Chain, next_url: str) -> None:
    with httpx.Client(base_url=chain.base_url) as client:
        form = client.get("/dashboard/login", params={"next": next_url})
        nonce = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert nonce
        r = client.post(
            "/dashboard/login",
            data={"username": "manager", "password": PASSWORD, "csrf": nonce.group(1), "next": next_url},
        )
        assert r.headers["location"] == "/dashboard"


def test_root_and_ui_lead_to_the_dashboard(chain: Chain) -> None:
    for path in ("/", "/ui"):
        r = httpx.get(chain.base_url + path)
        assert r.status_code == 307
        assert r.headers["location"] == "/dashboard"
