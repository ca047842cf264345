"""Every error response, in one place, as RFC 9457 `application/problem+json`.

A problem has `type` (a URI naming the kind of problem), `title` (the same for every
problem of that type), `status`, `detail` (what went wrong this time and how to fix it)
and `instance` (the request path). Validation problems add `errors`: one entry per bad
field with `loc` (where) and `msg` (why).
"""

import logging
from collections.abc import Mapping
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from footfall.api.errors import ApiError
from footfall.api.kpis.errors import KpiError, UnanswerableQuery, UnknownStore
from footfall.api.merch import errors as merch_errors
from footfall.core.configfile import problem
from footfall.db import errors as db_errors

logger = logging.getLogger(__name__)

PROBLEM_BASE = "https://footfall.dev/problems/"
MEDIA_TYPE = "application/problem+json"


class ProblemError(BaseModel):
    """One problem with the input."""

    loc: list[str | int] = Field(description="Where: e.g. ['body', 'receipts', 3, 'total'] or ['line', 17, 'Total'].")
    msg: str = Field(description="What is wrong.")
    type: str | None = Field(default=None, description="A machine-readable code.")


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong this time, and how to fix it.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[ProblemError] | None = Field(default=None, description="Each problem with the input, for 422.")


def problem_response(
    request: Request,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Build a problem response."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


_STATUS_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Not authenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("too-large", "Request too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation", "Invalid input"),
}


KPI_STATUS: dict[type[KpiError], int] = {
    UnanswerableQuery: 400,
    UnknownStore: 404,
    merch_errors.BadPlan: 400,
    merch_errors.UnknownFloor: 404,
    merch_errors.UnknownZone: 404,
    merch_errors.UnknownChange: 404,
}
"""The HTTP status of each KPI-layer (and merchandising) error; the most specific class listed wins."""


def kpi_status(exc: KpiError) -> tuple[int, str, str]:
    """The status, problem slug and title a KPI-layer error is answered with (500 if unlisted)."""
    for cls in type(exc).__mro__:
        if cls in KPI_STATUS:
            status = KPI_STATUS[cls]
            slug, title = _STATUS_SLUGS[status]
            return status, slug, title
    return 500, "internal", "Internal error"


DB_STATUS: dict[type[db_errors.DatabaseError], int] = {
    db_errors.UnknownAlertRule: 404,
    db_errors.UnknownAlert: 404,
    db_errors.UnknownUser: 404,
    db_errors.UnknownStore: 404,
    db_errors.Conflict: 409,
}
"""The HTTP status of database-layer errors a request can cause; the most specific class listed wins."""


def db_status(exc: db_errors.DatabaseError) -> tuple[int, str, str]:
    """The status, problem slug and title a database-layer error is answered with (500 if unlisted)."""
    for cls in type(exc).__mro__:
        if cls in DB_STATUS:
            status = DB_STATUS[cls]
            slug, title = _STATUS_SLUGS.get(status, ("conflict", "Conflict"))
            return status, slug, title
    return 500, "internal", "Internal error"


def _clean_loc(loc: tuple | list) -> list[str | int]:
    return [p if isinstance(p, int) else str(p) for p in loc]


def install(app: FastAPI) -> None:
    """Register the problem handlers on an app."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem_response(
            request,
            status=exc.status,
            slug=exc.type_slug,
            title=exc.title,
            detail=exc.detail,
            errors=exc.errors or None,
            headers=headers,
        )

    @app.exception_handler(KpiError)
    async def _kpi_error(request: Request, exc: KpiError) -> JSONResponse:
        status, slug, title = kpi_status(exc)
        if status >= 500:
            logger.error("KPI error without an HTTP status on %s %s: %r", request.method, request.url.path, exc)
        return problem_response(request, status=status, slug=slug, title=title, detail=str(exc))

    @app.exception_handler(db_errors.DatabaseError)
    async def _db_error(request: Request, exc: db_errors.DatabaseError) -> JSONResponse:
        status, slug, title = db_status(exc)
        if status >= 500:
            logger.error("database error without an HTTP status on %s %s: %r", request.method, request.url.path, exc)
            return problem_response(request, status=status, slug=slug, title=title, detail="internal error")
        return problem_response(request, status=status, slug=slug, title=title, detail=str(exc))

    @app.exception_handler(db_errors.DatabaseUnavailable)
    async def _db_down(request: Request, exc: db_errors.DatabaseUnavailable) -> JSONResponse:
        logger.error("database unavailable: %s", exc)
        return problem_response(
            request,
            status=503,
            slug="unavailable",
            title="Service unavailable",
            detail="the database is unavailable; retry shortly",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(psycopg.DataError)
    async def _bad_value(request: Request, exc: psycopg.DataError) -> JSONResponse:
        # A value the models let through but PostgreSQL refuses (out of range, bad encoding):
        # the caller's input, so 422, never a 500.
        logger.warning("database refused a value on %s %s: %s", request.method, request.url.path, exc)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid value"
        return problem_response(request, status=422, slug="validation", title="Invalid input", detail=first)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        raw = list(exc.errors())
        errors = [
            {"loc": _clean_loc(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")} for e in raw
        ]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return problem_response(
            request,
            status=422,
            slug="validation",
            title="Invalid input",
            detail=(problem(raw[0]) if raw else "request: invalid") + more,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug, title = _STATUS_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint: {request.method} {request.url.path}; see /docs"
        return problem_response(
            request, status=exc.status_code, slug=slug, title=title, detail=detail, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            request,
            status=500,
            slug="internal",
            title="Internal error",
            detail="an unexpected error occurred; it was logged",
        )


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problem codes a route can return."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        _, title = _STATUS_SLUGS.get(code, ("", "Error"))
        out[code] = {"description": title, "content": {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}}
    return out


PROBLEM_REF = "#/components/schemas/Problem"


def fix_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Make every documented error response a problem document.

    FastAPI documents its own 422 as `HTTPValidationError` in `application/json`; this
    API answers every error as `application/problem+json`, so the document says so.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = components["Problem"].pop("$defs", {})
    components.update(defs)
    for path in schema.get("paths", {}).values():
        for op in path.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for code, resp in op["responses"].items():
                if code.isdigit() and int(code) >= 400:
                    _, title = _STATUS_SLUGS.get(int(code), ("", "Error"))
                    resp["content"] = {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}
                    resp.setdefault("description", title)
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema
