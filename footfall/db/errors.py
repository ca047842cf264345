"""Database errors, grouped by what the caller can do about them."""

from footfall.core.errors import FootfallError


class DatabaseError(FootfallError):
    """Base of database-layer errors."""


class DatabaseUnavailable(DatabaseError):
    """PostgreSQL cannot be reached; retry later or fix the connection settings."""


class MigrationError(DatabaseError):
    """The schema cannot be brought up to date; the message says which migration and why."""


class Conflict(DatabaseError):
    """The change conflicts with data already stored."""


class UnknownDevice(DatabaseError):
    """The device is not in the database; apply the store file that declares it first."""
