"""Errors of the KPI layer, grouped by what the caller can do about them.

The KPI layer knows nothing of HTTP: `footfall.api.problems` maps these to problem
documents (400 and 404) in one place, and other callers (the CLI, a future alerts
engine) catch them as they are.
"""

from footfall.core.errors import FootfallError


class KpiError(FootfallError):
    """Base of every error the KPI layer raises on purpose."""


class UnanswerableQuery(KpiError):
    """The question cannot be answered as asked (a reversed or too long period, a missing comparison); fix it."""


class UnknownStore(KpiError):
    """No such store: create it first (`footfall stores apply`) or check the id."""
