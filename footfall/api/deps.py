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
from datetime import datetime
from typing import Annotated

import psycopg
from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from footfall.api.access import Actor, Permission, Principal
from footfall.api.errors import Forbidden, NotAcceptable, Unauthenticated
from footfall.api.security import CSRF_HEADER, KEY_PREFIX, SESSION_COOKIE, check_csrf, signing_secret
from footfall.api.users import principal_from_api_key, principal_from_token
from footfall.core.settings import Settings
from footfall.db.connect import DictConnection, DictPool
from footfall.db.errors import DatabaseUnavailable

oauth2 = OAuth2PasswordBearer(
    tokenUrl="/v1/auth/token", auto_error=False, description="A bearer token from POST /v1/auth/token."
)
api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key (ff_…) from POST /v1/users/me/api-keys."
)


def _query_names(dependant: Dependant) -> frozenset[str]:
    names: set[str] = set()
    stack = [dependant]
    while stack:
        d = stack.pop()
        names.update(f.alias for f in d.query_params)
        stack.extend(d.dependencies)
    return frozenset(names)


_KNOWN_QUERY: dict[int, frozenset[str]] = {}


def _accepts(accept: str, media: set[str]) -> bool:
    """Whether an `Accept` header allows one of `media` (types like `text/csv`)."""
    for part in accept.split(","):
        bits = [b.strip().lower() for b in part.split(";")]
        if any(b.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for b in bits[1:]):
            continue
        want = bits[0]
        if want in ("", "*/*", "*"):
            return True
        kind = want.split("/")[0]
        if want in media or any(want == f"{kind}/*" and m.startswith(f"{kind}/") for m in media):
            return True
    return False


def check_request(request: Request) -> None:
    """Refuse what an endpoint would otherwise quietly get wrong: query parameters it does not
    take (`zone=bakery` would be ignored and answer another question), and an `Accept` header
    that allows none of its formats (only table-shaped answers come as CSV).

    Raises:
        RequestValidationError: an unknown query parameter (a 422 problem naming it).
        NotAcceptable: no acceptable format (406).
    """
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not getattr(route, "include_in_schema", True):
        return  # the docs pages (and Swagger's OAuth2 redirect with its own parameters) are not API answers
    accept = request.headers.get("accept")
    if accept:
        ok = getattr(route, "responses", {}).get(200, {}).get("content", {})
        media = {"application/json", "application/problem+json", *ok}
        if not _accepts(accept, media):
            raise NotAcceptable(
                f"this endpoint answers in {', '.join(sorted(media - {'application/problem+json'}))}, "
                f"not {accept}; CSV is offered only by table-shaped answers"
            )
    known = _KNOWN_QUERY.get(id(route))
    if known is None:
        names = _query_names(dependant)
        if "text/csv" in getattr(route, "responses", {}).get(200, {}).get("content", {}):
            names = names | {"format"}  # `format=csv`: what a plain link (the dashboard's CSV links) can ask
        known = _KNOWN_QUERY[id(route)] = names
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": f"unknown query parameter; this endpoint takes: {takes}",
                    "type": "extra_forbidden",
                }
                for name in unknown
            ]
        )


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.settings


def get_pool(request: Request) -> DictPool:
    """The app's connection pool."""
    return request.app.state.pool


def get_now(request: Request) -> datetime:
    """The app clock's "now" (aware, UTC): where a running day is cut."""
    return request.app.state.clock.now()


SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]
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


def get_token_secret(request: Request, conn: ConnDep, settings: SettingsDep) -> str:
    """The key bearer tokens are signed with, read once per app (see `security.signing_secret`)."""
    secret: str | None = getattr(request.app.state, "token_secret", None)
    if secret is None:
        secret = request.app.state.token_secret = signing_secret(conn, settings.api)
    return secret


TokenSecretDep = Annotated[str, Depends(get_token_secret)]


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_caller(
    request: Request,
    conn: ConnDep,
    secret: TokenSecretDep,
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
        return principal_from_token(conn, bearer, secret=secret)
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        if request.method not in SAFE_METHODS and not check_csrf(
            request.headers.get(CSRF_HEADER), token=session, secret=secret
        ):
            raise Forbidden(f"a request authenticated by the session cookie must send the page's {CSRF_HEADER}")
        return principal_from_token(conn, session, secret=secret)
    raise Unauthenticated("log in at POST /v1/auth/token and send `Authorization: Bearer <token>`, or send an API key")


CallerDep = Annotated[Principal, Depends(get_caller)]


def get_client(request: Request) -> str | None:
    """The caller's network address (behind a proxy, as uvicorn's `--forwarded-allow-ips` lets it through)."""
    return request.client.host if request.client else None


ClientDep = Annotated[str | None, Depends(get_client)]


def get_actor(caller: CallerDep, client: ClientDep) -> Actor:
    """The caller as audit entries name them."""
    return Actor.from_principal(caller, client)


ActorDep = Annotated[Actor, Depends(get_actor)]


def requires(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency that lets only callers whose role grants `permission` through."""

    def _check(caller: CallerDep) -> Principal:
        caller.require(permission)
        return caller

    _check.permission = permission  # type: ignore[attr-defined]  # read by footfall.api.accessdoc
    return _check


KpiReader = Annotated[Principal, Depends(requires(Permission.READ_KPIS))]
ReceiptReader = Annotated[Principal, Depends(requires(Permission.READ_RECEIPTS))]
ReceiptWriter = Annotated[Principal, Depends(requires(Permission.WRITE_RECEIPTS))]
PlanManager = Annotated[Principal, Depends(requires(Permission.MANAGE_PLANS))]
ShiftManager = Annotated[Principal, Depends(requires(Permission.MANAGE_SHIFTS))]
LayoutManager = Annotated[Principal, Depends(requires(Permission.MANAGE_LAYOUT))]
UserManager = Annotated[Principal, Depends(requires(Permission.MANAGE_USERS))]
AuditReader = Annotated[Principal, Depends(requires(Permission.READ_AUDIT))]
AlertManager = Annotated[Principal, Depends(requires(Permission.MANAGE_ALERTS))]
AlertSubscriber = Annotated[Principal, Depends(requires(Permission.SUBSCRIBE_ALERTS))]
