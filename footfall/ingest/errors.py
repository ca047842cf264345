"""Errors of the ingest consumer, grouped by what the caller can do about them."""

from footfall.core.errors import FootfallError


class IngestError(FootfallError):
    """Base of ingest errors."""


class SchemaNotReady(IngestError):
    """The database is reachable but not migrated far enough; run `footfall db migrate`."""
