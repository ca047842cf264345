"""Errors of the edge agent: one base, grouped by what the caller can do."""

from footfall.core.errors import FootfallError


class EdgeError(FootfallError):
    """Base of every error the edge agent raises on purpose."""


class DeviceReportError(EdgeError, ValueError):
    """A device sent something that is not a valid report; the message says what and where."""


class OutboxError(EdgeError):
    """The durable queue cannot be opened or written (disk full, corrupt file, permissions)."""


class CredentialsError(EdgeError, ValueError):
    """A password file, ACL file or credential request is invalid."""
