"""ASGI middleware every response goes through: security headers and the request body limit.

Both are plain ASGI callables (no `BaseHTTPMiddleware`), so a streaming response is not
buffered and a refused body is never read.

- `SecurityHeaders` adds, unless the response set them itself: a Content Security Policy
  that allows same-origin scripts, styles, images and fetches only, with no framing
  (`frame-ancestors 'none'`, and `X-Frame-Options: DENY` for old browsers);
  `X-Content-Type-Options: nosniff`; `Referrer-Policy: no-referrer`;
  `Cross-Origin-Opener-Policy: same-origin`; `Cache-Control: no-store` (answers hold one
  caller's data; static assets under `static_prefixes` are left to their own caching);
  and `Strict-Transport-Security` on requests that arrived over HTTPS. The interactive
  docs (`/docs`, `/redoc`) load their scripts from a CDN and get a policy that allows that.
- `BodyLimit` answers 413 before reading a body whose `Content-Length` is over the limit,
  and stops reading a body without one (chunked) as soon as it passes the limit.

Example:
    >>> app.add_middleware(BodyLimit, limit=8 << 20, limits={"/v1/receipts/poslog": 20 << 20})  # doctest: +SKIP
    >>> app.add_middleware(SecurityHeaders)  # doctest: +SKIP
"""

import json
from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from footfall.api.problems import MEDIA_TYPE, PROBLEM_BASE

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
"""The policy of every response: same-origin scripts and styles only (no inline ones), no framing."""

DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src 'self' https://fonts.gstatic.com; "
    "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
"""The interactive docs' policy: FastAPI's Swagger UI and ReDoc pages load from jsDelivr and start inline."""

DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Adds the security headers of an API (and its dashboard pages) to every response."""

    def __init__(self, app: ASGIApp, *, static_prefixes: tuple[str, ...] = ("/dashboard/static/",)) -> None:
        self.app = app
        self.static_prefixes = static_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        csp = DOCS_CSP if path in DOCS_PATHS else CSP
        static = path.startswith(self.static_prefixes)
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", csp)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _too_large(limit: int) -> str:
    return f"the request body is over {limit} bytes; send less per request (limit FOOTFALL_API__MAX_BODY_BYTES)"


class BodyLimit:
    """Refuses request bodies over a limit with 413, before reading them.

    Args:
        app: the application.
        limit: most bytes a request body may have.
        limits: other limits for some paths (exact path → bytes), e.g. file uploads.
    """

    def __init__(self, app: ASGIApp, *, limit: int, limits: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.limits = dict(limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.limit)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, send, limit)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Raised into whatever is reading the body; the problem handler answers 413.
                    raise HTTPException(status_code=413, detail=_too_large(limit))
            return message

        await self.app(scope, counting_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": PROBLEM_BASE + "too-large",
            "title": "Request too large",
            "status": 413,
            "detail": _too_large(limit),
            "instance": scope["path"],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
