"""Prometheus metrics of the API: requests and their latency by route template and status class.

`RequestMetrics` is an ASGI middleware, outermost, so it times every answer the app makes
(refusals of the body limit and problem documents included). It labels a request with
the *template* of the route that answered it (`/v1/stores/{store_id}/kpis`, never
`/v1/stores/riga-01/kpis`), `unmatched` when no route did, its method (the standard
ones, else `other`) and the status class (`2xx` … `5xx`): the number of series is bounded
by the routes the code defines, whatever callers send, and a store id, a user name or a
query string never becomes a label.

`GET /metrics` serves them to a scraper that sends `Authorization: Bearer
<FOOTFALL_API__METRICS_TOKEN>`. Without that setting the route answers 404 (off); with a
missing or wrong token, 401. The API is the one part that faces the internet, so its
metrics sit behind a credential Prometheus sends natively (`authorization:
credentials_file`) rather than on a second open port; even then they hold only counts
and durations per route template, nothing of any store.

With several worker processes (`footfall api run --workers N`) each scrape reaches one
worker; the command then points `PROMETHEUS_MULTIPROC_DIR` at a fresh folder before the
workers start, and `/metrics` adds up every worker's files (prometheus_client's
multiprocess mode), so any worker answers for all.
"""

import hmac
import os
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from footfall.core.metrics import LATENCY_BUCKETS, status_class

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
"""The route label of requests no route answered (404 for an unknown path, whatever it was)."""


class ApiMetrics:
    """The API's metrics in a registry of its own (one per app).

    Example:
        >>> m = ApiMetrics()
        >>> m.observe(method="GET", route="/healthz", status=200, seconds=0.01)
        >>> m.registry.get_sample_value(
        ...     "footfall_api_requests_total", {"method": "GET", "route": "/healthz", "status": "2xx"})
        1.0
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "footfall_api_requests",
            "Requests answered, by method, route template and status class.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.seconds = Histogram(
            "footfall_api_request_seconds",
            "Time from a request's arrival to the end of its answer, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def observe(self, *, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        m = method if method in METHODS else "other"
        self.requests.labels(method=m, route=route, status=status_class(status)).inc()
        self.seconds.labels(method=m, route=route).observe(seconds)

    def exposition(self) -> bytes:
        """The text format of every metric (of every worker, in multiprocess mode)."""
        folder = os.environ.get(MULTIPROC_ENV)
        if folder:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=folder)
            return generate_latest(registry)
        return generate_latest(self.registry)


CONTENT_TYPE = CONTENT_TYPE_LATEST


def route_template(scope: Scope) -> str:
    """The path template of the route that answered, `unmatched` when none did."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestMetrics:
    """ASGI middleware counting and timing every HTTP request into an `ApiMetrics`."""

    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception that escapes the app is answered 500 by Starlette's outermost handler

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.observe(
                method=scope.get("method", ""),
                route=route_template(scope),
                status=status,
                seconds=time.perf_counter() - started,
            )


def token_matches(header: str | None, token: str) -> bool:
    """Whether an `Authorization` header carries `Bearer <token>` (compared in constant time)."""
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())
