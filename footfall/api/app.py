"""The FastAPI application: `create_app()` builds it, `footfall api run` serves it.

Example:
    >>> from footfall.core.clock import Clock, SystemClock
from footfall.core.settings import Settings
    >>> app = create_app(Settings(environment="test"), pool=None)  # doctest: +SKIP
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from fastapi import Depends, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel

from footfall import __version__
from footfall.api import dashboard, problems
from footfall.api.deps import PoolDep, check_request
from footfall.api.errors import NotFound, Unauthenticated
from footfall.api.metrics import CONTENT_TYPE, ApiMetrics, RequestMetrics, token_matches
from footfall.api.middleware import BodyLimit, SecurityHeaders
from footfall.api.replica import ReadSourceHeaders, close_replica_pool, open_replica_pool
from footfall.api.routes import (
    alerts,
    audit,
    auth,
    devices,
    forecasts,
    kpis,
    merch,
    plans,
    portfolio,
    receipts,
    shifts,
    stores,
    users,
)
from footfall.core.clock import Clock, SystemClock
from footfall.core.settings import Settings
from footfall.db.connect import DictPool, open_pool
from footfall.db.errors import DatabaseUnavailable

logger = logging.getLogger(__name__)

DESCRIPTION = """\
Store KPIs for managers, merchandisers and alert subscribers: traffic from door counters,
receipts from the POS, and what they make together (conversion, ATV, UPT, revenue per m²,
capture rate, loyalty activation, occupancy, shopper-to-staff ratio), in each store's
local calendar, with comparisons, plans and the data quality behind every number.

Log in at `POST /v1/auth/token` (OAuth2 password flow) and send `Authorization: Bearer <token>`,
or send an API key (`X-API-Key: ff_…`). Every error is an RFC 9457 problem document
(`application/problem+json`). Table-shaped answers are also CSV on `Accept: text/csv`.
"""

TAGS = [
    {"name": "auth", "description": "Log in."},
    {"name": "users", "description": "Users, roles, store scope and API keys."},
    {"name": "stores", "description": "Stores in your scope."},
    {"name": "receipts", "description": "Receipts in (JSON, POSLog XML) and out."},
    {"name": "kpis", "description": "One store's KPIs."},
    {"name": "multi-store", "description": "Roll-ups and rankings over the stores in your scope."},
    {"name": "plans", "description": "Monthly targets and plan vs fact."},
    {"name": "shifts", "description": "Staff shifts, for the shopper-to-staff ratio."},
    {"name": "devices", "description": "Device health: counters, cameras and edge agents."},
    {"name": "forecasts", "description": "Traffic forecasts with bands, staffing and anomalies from trained models."},
    {"name": "alerts", "description": "Red-zone alert rules, alerts, subscriptions, the live stream."},
    {"name": "audit", "description": "Who changed what, and failed log-ins (admins)."},
    {"name": "health", "description": "Liveness and readiness."},
]


UPLOAD_PATH = "/v1/receipts/poslog"
"""The one route that takes files; its body limit is `FOOTFALL_API__MAX_UPLOAD_BYTES`."""

ROUTERS = tuple(
    m.router
    for m in (auth, users, stores, receipts, kpis, merch, portfolio, plans, shifts, forecasts, alerts, audit, devices)
)
"""Every router of the API, in the order they are included (the access table reads them too)."""


class Health(BaseModel):
    """Whether the service and its database answer."""

    status: str
    database: str
    version: str


def create_app(settings: Settings, *, pool: DictPool | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the app.

    Args:
        settings: the process settings.
        pool: a pool to use (tests pass their own); by default one is opened at start-up
            from `settings.db` and closed at shutdown.
        clock: what "now" is for "today so far" answers (tests pass a `ManualClock`);
            by default the system clock.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = app.state.pool is None
        if own:
            app.state.pool = open_pool(settings.db, name="footfall-api")
        app.state.replica_pool = open_replica_pool(settings.db)
        if settings.api.secret_key is None:
            logger.info(
                "FOOTFALL_API__SECRET_KEY is not set: bearer tokens are signed with a random key made on first "
                "start and kept in the database (app_secrets)"
            )
        try:
            yield
        finally:
            close_replica_pool(app.state)
            if own:
                app.state.pool.close()
                app.state.pool = None

    # Swagger UI and ReDoc from the package's own copies, not a CDN: /docs works offline.
    app = FastAPIOffline(
        title="Footfall API",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        dependencies=[Depends(check_request)],
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
    )
    app.state.settings = settings
    app.state.pool = pool
    app.state.clock = clock or SystemClock()
    problems.install(app)
    if settings.api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key"],
        )
    # Added last, so outermost: they see every response the app makes, and refuse a body first.
    app.add_middleware(
        BodyLimit, limit=settings.api.max_body_bytes, limits={UPLOAD_PATH: settings.api.max_upload_bytes}
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ReadSourceHeaders)
    app.state.metrics = ApiMetrics()
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)  # outermost: times every answer
    for router in ROUTERS:
        app.include_router(router)
    dashboard.install(app)

    @app.get("/healthz", tags=["health"], summary="Health", responses=problems.responses(503))
    def health(pool: PoolDep) -> Health:
        """The service is up and its database answers."""
        try:
            with pool.connection(timeout=2) as conn:
                conn.execute("SELECT 1")
        except (psycopg.Error, TimeoutError, OSError) as exc:
            raise DatabaseUnavailable(str(exc)) from None
        return Health(status="ok", database="ok", version=__version__)

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    def metrics(request: Request) -> Response:
        """Prometheus metrics, for a scraper holding FOOTFALL_API__METRICS_TOKEN (footfall.api.metrics)."""
        token = settings.api.metrics_token
        if token is None:
            raise NotFound("metrics are off: set FOOTFALL_API__METRICS_TOKEN and scrape with that bearer token")
        if not token_matches(request.headers.get("authorization"), token.get_secret_value()):
            raise Unauthenticated("send Authorization: Bearer <FOOTFALL_API__METRICS_TOKEN> to read metrics")
        return Response(app.state.metrics.exposition(), media_type=CONTENT_TYPE)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                license_info=app.license_info,
            )
            app.openapi_schema = problems.fix_openapi(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
