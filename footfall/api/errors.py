"""Errors of the API package, grouped by what the caller can do about them.

Each maps to one HTTP status and an RFC 9457 problem type in `footfall.api.problems`;
route code raises these (or lets `footfall.api.kpis.errors` and `footfall.db.errors` through) and never builds error
responses itself.
"""

from footfall.core.errors import FootfallError


class ApiError(FootfallError):
    """Base of every error the API turns into an `application/problem+json` response."""

    status = 500
    type_slug = "internal"
    title = "Internal error"

    def __init__(self, detail: str, *, errors: list[dict] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class BadRequest(ApiError):
    """The request is well-formed but asks for something that cannot be answered (fix the parameters)."""

    status = 400
    type_slug = "bad-request"
    title = "Bad request"


class Unauthenticated(ApiError):
    """No valid credentials: log in again or send a valid API key."""

    status = 401
    type_slug = "unauthenticated"
    title = "Not authenticated"


class Forbidden(ApiError):
    """The caller's role may not do this; ask an admin for another role."""

    status = 403
    type_slug = "forbidden"
    title = "Forbidden"


class NotFound(ApiError):
    """No such resource in the caller's scope (other stores' data is never revealed)."""

    status = 404
    type_slug = "not-found"
    title = "Not found"


class ConflictingChange(ApiError):
    """The change conflicts with what is stored (e.g. a user name that exists)."""

    status = 409
    type_slug = "conflict"
    title = "Conflict"


class NotAcceptable(ApiError):
    """The endpoint cannot answer in any format the `Accept` header allows (only tables come as CSV)."""

    status = 406
    type_slug = "not-acceptable"
    title = "Not acceptable"


class UnsupportedMediaType(ApiError):
    """The body is in a format this endpoint does not read; the detail names the right one."""

    status = 415
    type_slug = "unsupported-media-type"
    title = "Unsupported media type"


class Invalid(ApiError):
    """The input failed validation; `errors` lists each problem with where it is."""

    status = 422
    type_slug = "validation"
    title = "Invalid input"


class ImportFailed(FootfallError):
    """A receipts file cannot be imported at all (unreadable, wrong format, bad mapping)."""
