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


class UnknownAlertRule(DatabaseError):
    """No such alert rule (it may have been deleted); list the rules to find its id."""


class UnknownAlert(DatabaseError):
    """No such alert (rule × store × subject); list the alerts to find its id."""


class UnknownUser(DatabaseError):
    """No such user (a signed link may name a user deleted since)."""


class UnknownStore(DatabaseError):
    """The store is not in the database; apply its store file first (`footfall stores apply`)."""


class AlertConflict(Conflict):
    """The alert or rule is not in a state that allows the change (the message says which)."""


class InvalidAlertRule(DatabaseError):
    """A rule names a zone, door or device its store does not have (or a zone that is no queue
    for a queue metric); `problems` lists each as (rule, field, message)."""

    def __init__(self, message: str, problems: list[tuple[str, str, str]]) -> None:
        super().__init__(message)
        self.problems = problems
