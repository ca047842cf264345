"""The dashboard's page table: who sees what, where they land, where URLs point; safe `next`."""

import pytest

from footfall.api.access import Role
from footfall.api.dashboard.pages import PAGES, Page, home_page, page_url, pages_for
from footfall.api.dashboard.routes import _safe_next


@pytest.mark.parametrize(
    ("role", "pages"),
    [
        (Role.ADMIN, list(Page)),  # everything
        (Role.MANAGER, [Page.STORE, Page.CHAIN, Page.WALL, Page.ALERTS, Page.DEVICES]),  # no merchandising
        (Role.MERCHANDISER, [Page.MERCH, Page.ALERTS]),  # the floor and its alerts
        (Role.ALERT_SUBSCRIBER, [Page.ALERTS]),  # alerts only
    ],
)
def test_pages_for_role(role: Role, pages: list[Page]) -> None:
    assert pages_for(role) == pages
    assert home_page(role) in pages  # every role lands on a page it may open


@pytest.mark.parametrize(
    ("page", "store", "url"),
    [
        (Page.STORE, "riga-01", "/dashboard/stores/riga-01"),  # the manager page is the store's own URL
        (Page.DEVICES, "riga-01", "/dashboard/stores/riga-01/devices"),  # per-store pages below it
        (Page.MERCH, "riga-01", "/dashboard/stores/riga-01/merch"),
        (Page.WALL, "riga-01", "/dashboard/wall"),  # the wall starts with the chain
        (Page.CHAIN, None, "/dashboard/chain"),
        (Page.ALERTS, None, "/dashboard/alerts"),
    ],
)
def test_page_url(page: Page, store: str | None, url: str) -> None:
    assert page_url(page, store) == url


def test_every_page_has_a_role() -> None:
    assert all(spec.roles for spec in PAGES.values())


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        (None, "/dashboard"),  # nothing asked
        ("/dashboard/stores/a?period=week", "/dashboard/stores/a?period=week"),  # a page, with its query
        ("https://evil.example/dashboard", "/dashboard"),  # another site
        ("//evil.example/dashboard", "/dashboard"),  # scheme-relative
        ("/v1/users", "/dashboard"),  # outside the dashboard
        ("javascript:alert(1)", "/dashboard"),  # a script URL
    ],
)
def test_safe_next(value: str | None, safe: str) -> None:
    assert _safe_next(value) == safe
