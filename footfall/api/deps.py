"""Request dependencies as reusable aliases: routes take `conn: ConnDep, caller: CallerDep`.

Authentication accepts, in this order:
- `Authorization: Bearer <jwt>` from `POST /v1/auth/token` (OAuth2 password flow);
- `Authorization: Bearer ff_…` or `X-API-Key: ff_…` (an API key);
- the dashboard's session cookie (`footfall_session`, holding the same bearer token), so
  the dashboard's pages can read the API they show. Cookies ride along with cross-site
  requests, so an unsafe method (POST, PUT, PATCH, DELETE) authenticated by the cookie
  must also carry the session's CSRF token in `X-CSRF-Token`.
"""

from collections.abc import Callable, Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from footfall.api.access import Permission, Principal
from footfall.api.errors import Forbidden, Unauthenticated
from footfall.api.security import CSRF_HEADER, KEY_PREFIX, SESSION_COOKIE, check_csrf, read_token
from footfall.api.users import principal, principal_from_api_key
from footfall.core.settings import Settings
from footfall.db.connect import DictConnection, DictPool
from footfall.db.errors import DatabaseUnavailable

oauth2 = OAuth2PasswordBearer(
    tokenUrl="/v1/auth/token", auto_error=False, description="A bearer token from POST /v1/auth/token."
)
api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key (ff_…) from POST /v1/users/me/api-keys."
)


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.settings


def get_pool(request: Request) -> DictPool:
    """The app's connection pool."""
    return request.app.state.pool


SettingsDep = Annotated[Settings, Depends(get_settings)]
PoolDep = Annotated[DictPool, Depends(get_pool)]


def get_conn(pool: PoolDep, settings: SettingsDep) -> Iterator[DictConnection]:
    """One pooled connection (autocommit; write operations open their own transactions).

    Raises:
        DatabaseUnavailable: no connection within the connect timeout (answered as 503).
    """
    try:
        cm = pool.connection(timeout=settings.db.connect_timeout_s)
        conn = cm.__enter__()
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"no database connection: {exc}") from None
    try:
        yield conn
    except BaseException as exc:
        cm.__exit__(type(exc), exc, exc.__traceback__)
        raise
    else:
        cm.__exit__(None, None, None)


ConnDep = Annotated[DictConnection, Depends(get_conn)]


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_caller(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    bearer: Annotated[str | None, Depends(oauth2)],
    api_key: Annotated[str | None, Depends(api_key_header)],
) -> Principal:
    """The authenticated caller.

    Raises:
        Unauthenticated: no credentials, or bad ones.
    """
    if api_key:
        return principal_from_api_key(conn, api_key)
    if bearer:
        if bearer.startswith(KEY_PREFIX):
            return principal_from_api_key(conn, bearer)
        user_id = read_token(bearer, secret=settings.api.secret_key.get_secret_value())
        return principal(conn, user_id=user_id)
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        secret = settings.api.secret_key.get_secret_value()
        user_id = read_token(session, secret=secret)
        if request.method not in SAFE_METHODS and not check_csrf(
            request.headers.get(CSRF_HEADER), token=session, secret=secret
        ):
            raise Forbidden(f"a request authenticated by the session cookie must send the page's {CSRF_HEADER}")
        return principal(conn, user_id=user_id)
    raise Unauthenticated("log in at POST /v1/auth/token and send `Authorization: Bearer <token>`, or send an API key")


CallerDep = Annotated[Principal, Depends(get_caller)]


def requires(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency that lets only callers whose role grants `permission` through."""

    def _check(caller: CallerDep) -> Principal:
        caller.require(permission)
        return caller

    return _check


KpiReader = Annotated[Principal, Depends(requires(Permission.READ_KPIS))]
ReceiptReader = Annotated[Principal, Depends(requires(Permission.READ_RECEIPTS))]
ReceiptWriter = Annotated[Principal, Depends(requires(Permission.WRITE_RECEIPTS))]
PlanManager = Annotated[Principal, Depends(requires(Permission.MANAGE_PLANS))]
ShiftManager = Annotated[Principal, Depends(requires(Permission.MANAGE_SHIFTS))]
UserManager = Annotated[Principal, Depends(requires(Permission.MANAGE_USERS))]
AlertManager = Annotated[Principal, Depends(requires(Permission.MANAGE_ALERTS))]
AlertSubscriber = Annotated[Principal, Depends(requires(Permission.SUBSCRIBE_ALERTS))]
