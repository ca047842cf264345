"""The dashboard's pages, log-in and log-out.

Log-in checks the user name and password exactly like `POST /v1/auth/token` and puts the
same bearer token in an HttpOnly, SameSite=Strict cookie; the API's dependencies accept
that cookie, so the page scripts read the JSON API with it. POSTs carry a CSRF token: the
log-in form a random one also set as a cookie (double submit), every later form or script
the HMAC of the session token (`footfall.api.security.csrf_token`).

Access is the API's: a page of a store outside the caller's scope answers 404 exactly like
a store that does not exist; a page the role may not open answers 403.
"""

import logging
import re
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from footfall import __version__
from footfall.api.access import Principal
from footfall.api.dashboard.pages import PAGES, Page, home_page, page_url, pages_for
from footfall.api.deps import ClientDep, ConnDep, SettingsDep, TokenSecretDep
from footfall.api.errors import TooManyRequests, Unauthenticated
from footfall.api.kpis import StoreInfo, all_store_ids, stores_info
from footfall.api.routes.common import MONTH_PATTERN
from footfall.api.security import SESSION_COOKIE, check_csrf, csrf_token
from footfall.api.users import log_in, principal_from_token
from footfall.core.settings import Settings
from footfall.db.connect import DictConnection

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(prefix="/dashboard", include_in_schema=False)
LOGIN_CSRF_COOKIE = "footfall_login_csrf"
PERIODS = ("day", "week", "month", "year")


class LoginRequired(Exception):
    """No valid session: send the browser to the log-in page, then back to `next_url`."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageError(Exception):
    """A page that cannot be shown to this caller (answered as an HTML page with the status)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _secret(request: Request) -> str:
    """The token signing key, read once per app by `deps.get_token_secret` (every page's caller needs it)."""
    secret: str | None = getattr(request.app.state, "token_secret", None)
    if secret is None:
        raise RuntimeError("the token secret is read by the page's caller dependency first")
    return secret


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def page_caller(request: Request, conn: ConnDep, secret: TokenSecretDep) -> Principal:
    """The logged-in caller of a page.

    Raises:
        LoginRequired: no session cookie, or an expired or revoked one.
    """
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired(_here(request))
    try:
        return principal_from_token(conn, token, secret=secret)
    except Unauthenticated:
        raise LoginRequired(_here(request)) from None


PageCaller = Annotated[Principal, Depends(page_caller)]


def _stores(conn: DictConnection, caller: Principal) -> list[StoreInfo]:
    return stores_info(conn, caller.filter_stores(all_store_ids(conn)))


def _allow(caller: Principal, page: Page) -> None:
    if caller.role not in PAGES[page].roles:
        raise PageError(403, f"The {PAGES[page].title.lower()} page is not part of the {caller.role.value} role.")


def _store(stores: list[StoreInfo], store_id: str) -> StoreInfo:
    for s in stores:
        if s.store_id == store_id:
            return s
    # Out of scope reads exactly like a store that does not exist (as in the API).
    raise PageError(404, f"Store {store_id!r} not found.")


def local_today(timezone: str, now: datetime | None = None) -> date:
    """Today's date in a time zone."""
    return (now or datetime.now(ZoneInfo(timezone))).astimezone(ZoneInfo(timezone)).date()


def _now(request: Request) -> datetime:
    """The app's "now" (the API answers "today so far" by the same clock)."""
    clock = getattr(request.app.state, "clock", None)
    return clock.now() if clock is not None else datetime.now(ZoneInfo("UTC"))


def _render(
    request: Request,
    template: str,
    *,
    caller: Principal,
    settings: Settings,
    stores: list[StoreInfo],
    page: Page,
    store: StoreInfo | None = None,
    data: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page inside the common layout: navigation by role, store picker, CSRF token, page data."""
    token = request.cookies.get(SESSION_COOKIE, "")
    nav_store = store.store_id if store else (stores[0].store_id if stores else None)
    nav = [
        {"title": PAGES[p].title, "url": page_url(p, nav_store), "active": p is page, "page": p.value}
        for p in pages_for(caller.role)
        if not PAGES[p].per_store or nav_store
    ]
    now = _now(request)
    # The app clock's now: the page's clock runs from it, so it shows the instant the numbers are for.
    page_data: dict[str, Any] = {"page": page.value, "now": now.isoformat()}
    if store is not None:
        today = local_today(store.timezone, now)
        page_data |= {
            "store": store.store_id,
            "timezone": store.timezone,
            "currency": store.currency,
            "today": today.isoformat(),
            "month": today.strftime("%Y-%m"),
        }
    page_data |= data or {}
    context = {
        "caller": caller,
        "nav": nav,
        "page": page.value,
        "title": PAGES[page].title,
        "stores": stores,
        "store": store,
        "store_page": page.value if PAGES[page].per_store else None,
        "csrf": csrf_token(token, secret=_secret(request)) if token else "",
        "data": page_data,
        "version": __version__,
    }
    return templates.TemplateResponse(request, template, context, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def home(conn: ConnDep, caller: PageCaller) -> Response:
    """The caller's home page, by role."""
    page = home_page(caller.role)
    stores = _stores(conn, caller)
    if PAGES[page].per_store and not stores:
        return RedirectResponse("/dashboard/alerts", status_code=303)
    return RedirectResponse(page_url(page, stores[0].store_id if stores else None), status_code=303)


def _safe_next(value: str | None) -> str:
    """Only same-site paths under /dashboard: never an open redirect."""
    if not value:
        return "/dashboard"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/dashboard") or value.startswith("//"):
        return "/dashboard"
    return value


def _login_page(request: Request, *, next_url: str, error: str | None, status_code: int = 200) -> HTMLResponse:
    nonce = secrets.token_urlsafe(24)
    response = templates.TemplateResponse(
        request,
        "login.html",
        {"csrf": nonce, "next": next_url, "error": error, "version": __version__, "title": "Log in"},
        status_code=status_code,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, nonce, httponly=True, samesite="strict", path="/dashboard")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    """The log-in form."""
    return _login_page(request, next_url=_safe_next(next), error=None)


@router.post("/login", response_class=HTMLResponse)
def login(
    *,
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    secret: TokenSecretDep,
    client: ClientDep,
    username: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/dashboard",
) -> Response:
    """Check the password, set the session cookie, go to the page asked for (or home)."""
    target = _safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not secrets.compare_digest(csrf, expected):
        return _login_page(request, next_url=target, error="The form expired; please log in again.", status_code=403)
    try:
        token = log_in(
            conn, username=username, password=password, client=client, secret=secret, settings=settings.api
        ).access_token
    except TooManyRequests as exc:
        logger.info("dashboard log-in throttled for %r", username)
        return _login_page(request, next_url=target, error=f"Too many attempts: {exc}", status_code=429)
    except Unauthenticated:
        logger.info("dashboard log-in refused for %r", username)
        return _login_page(request, next_url=target, error="Wrong user name or password.", status_code=401)
    minutes = settings.api.token_minutes
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=minutes * 60,
        httponly=True,
        samesite="strict",
        secure=settings.environment in ("staging", "production"),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/dashboard")
    return response


@router.post("/logout")
def logout(request: Request, secret: TokenSecretDep, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    """Forget the session cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if token and not check_csrf(csrf, token=token, secret=secret):
        raise PageError(403, "The log-out form did not carry this page's CSRF token; reload the page.")
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _store_page(
    request: Request,
    conn: DictConnection,
    caller: Principal,
    settings: Settings,
    *,
    page: Page,
    store_id: str,
    template: str,
    data: dict[str, Any] | None = None,
) -> HTMLResponse:
    _allow(caller, page)
    stores = _stores(conn, caller)
    store = _store(stores, store_id)
    return _render(
        request, template, caller=caller, settings=settings, stores=stores, page=page, store=store, data=data
    )


@router.get("/stores/{store_id}", response_class=HTMLResponse)
def store_page(
    *, request: Request, conn: ConnDep, settings: SettingsDep, caller: PageCaller, store_id: str, period: str = "day"
) -> HTMLResponse:
    """The store manager's page: today by hour against last week, KPIs, plan vs fact, quality."""
    if period not in PERIODS:
        raise PageError(400, f"period must be one of {', '.join(PERIODS)}.")
    return _store_page(
        request,
        conn,
        caller,
        settings,
        page=Page.STORE,
        store_id=store_id,
        template="store.html",
        data={"period": period},
    )


@router.get("/stores/{store_id}/devices", response_class=HTMLResponse)
def devices_page(
    *, request: Request, conn: ConnDep, settings: SettingsDep, caller: PageCaller, store_id: str
) -> HTMLResponse:
    """Every counter and camera of a store: last seen, health, queue depth, faults."""
    return _store_page(request, conn, caller, settings, page=Page.DEVICES, store_id=store_id, template="devices.html")


@router.get("/stores/{store_id}/merch", response_class=HTMLResponse)
def merch_page(
    *, request: Request, conn: ConnDep, settings: SettingsDep, caller: PageCaller, store_id: str
) -> HTMLResponse:
    """The merchandiser's page: zones, revenue per m², the floor plan."""
    return _store_page(request, conn, caller, settings, page=Page.MERCH, store_id=store_id, template="merch.html")


@router.get("/chain", response_class=HTMLResponse)
def chain_page(*, request: Request, conn: ConnDep, settings: SettingsDep, caller: PageCaller) -> HTMLResponse:
    """Every store in scope, ranked."""
    _allow(caller, Page.CHAIN)
    stores = _stores(conn, caller)
    now = _now(request)
    today = max((local_today(s.timezone, now) for s in stores), default=now.date())
    return _render(
        request,
        "chain.html",
        caller=caller,
        settings=settings,
        stores=stores,
        page=Page.CHAIN,
        data={"today": today.isoformat(), "month": today.strftime("%Y-%m")},
    )


@router.get("/wall", response_class=HTMLResponse)
@router.get("/wall/{store_id}", response_class=HTMLResponse)
def wall_page(
    *,
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    caller: PageCaller,
    store_id: str | None = None,
    month: str | None = None,
) -> HTMLResponse:
    """The back-office TV: plan / fact / pace / days left for a store or the chain, refreshing itself."""
    _allow(caller, Page.WALL)
    stores = _stores(conn, caller)
    store = _store(stores, store_id) if store_id else None
    zone = store.timezone if store else (stores[0].timezone if stores else "UTC")
    today = local_today(zone, _now(request))
    if month is not None and not re.fullmatch(MONTH_PATTERN, month):
        raise PageError(400, "month must be YYYY-MM, e.g. 2026-06.")
    note = None
    if month is None and today.day == 1:
        # Fact counts whole days: on the 1st nothing of the new month is complete, so the TV shows
        # how last month ended instead of a board of zeros.
        month = (today - timedelta(days=1)).strftime("%Y-%m")
        note = "No day of this month is complete yet: last month's final result."
    return _render(
        request,
        "wall.html",
        caller=caller,
        settings=settings,
        stores=stores,
        page=Page.WALL,
        store=store,
        data={"month": month or today.strftime("%Y-%m"), "today": today.isoformat(), "refresh_s": 60, "note": note},
    )


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(*, request: Request, conn: ConnDep, settings: SettingsDep, caller: PageCaller) -> HTMLResponse:
    """The live alert feed, rules and their state, acknowledge and mute, subscriptions."""
    _allow(caller, Page.ALERTS)
    stores = _stores(conn, caller)
    return _render(request, "alerts.html", caller=caller, settings=settings, stores=stores, page=Page.ALERTS)


def _error_page(request: Request, exc: PageError) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": exc.status, "message": exc.message, "title": "Not available", "version": __version__},
        status_code=exc.status,
    )


def install(app: FastAPI) -> None:
    """Add the dashboard to an app: pages, static files, the root redirects, its error pages."""
    app.include_router(router)
    app.mount("/dashboard/static", StaticFiles(directory=HERE / "static"), name="dashboard-static")

    async def _login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(f"/dashboard/login?next={quote(exc.next_url, safe='/')}", status_code=303)

    async def _page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        return _error_page(request, exc)

    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PageError, _page_error)

    @app.get("/", include_in_schema=False)
    @app.get("/ui", include_in_schema=False)
    def _to_dashboard() -> RedirectResponse:
        return RedirectResponse("/dashboard", status_code=307)
