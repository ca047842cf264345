"""Which pages exist and which roles see them: one table drives navigation and access.

Example:
    >>> [p.value for p in pages_for(Role.MERCHANDISER)]
    ['merch', 'alerts']
    >>> home_page(Role.MANAGER).value
    'store'
"""

from dataclasses import dataclass
from enum import StrEnum

from footfall.api.access import Role


class Page(StrEnum):
    """A dashboard page."""

    STORE = "store"
    CHAIN = "chain"
    WALL = "wall"
    MERCH = "merch"
    ALERTS = "alerts"
    DEVICES = "devices"


@dataclass(frozen=True, slots=True)
class PageSpec:
    """A page's title, whether it is about one store, and who may open it."""

    title: str
    per_store: bool
    roles: frozenset[Role]


_ALL = frozenset(Role)
PAGES: dict[Page, PageSpec] = {
    Page.STORE: PageSpec("Store", per_store=True, roles=frozenset({Role.ADMIN, Role.MANAGER})),
    Page.CHAIN: PageSpec("Chain", per_store=False, roles=frozenset({Role.ADMIN, Role.MANAGER})),
    Page.WALL: PageSpec("Wall screen", per_store=False, roles=frozenset({Role.ADMIN, Role.MANAGER})),
    Page.MERCH: PageSpec("Merchandising", per_store=True, roles=frozenset({Role.ADMIN, Role.MERCHANDISER})),
    Page.ALERTS: PageSpec("Alerts", per_store=False, roles=_ALL),
    Page.DEVICES: PageSpec("Devices", per_store=True, roles=frozenset({Role.ADMIN, Role.MANAGER})),
}

_HOME: dict[Role, Page] = {
    Role.ADMIN: Page.CHAIN,
    Role.MANAGER: Page.STORE,
    Role.MERCHANDISER: Page.MERCH,
    Role.ALERT_SUBSCRIBER: Page.ALERTS,
}


def pages_for(role: Role) -> list[Page]:
    """The pages a role may open, in navigation order."""
    return [p for p, spec in PAGES.items() if role in spec.roles]


def home_page(role: Role) -> Page:
    """Where a role lands after logging in."""
    return _HOME[role]


def page_url(page: Page, store_id: str | None) -> str:
    """The URL of a page (of a store, for per-store pages)."""
    if page is Page.WALL:
        return "/dashboard/wall"
    if PAGES[page].per_store:
        suffix = "" if page is Page.STORE else f"/{page.value}"
        return f"/dashboard/stores/{store_id}{suffix}"
    return f"/dashboard/{page.value}"
