"""Errors of the forecast layer. They extend the KPI layer's, so `footfall.api.problems`
answers them (400) and other callers (the CLI, the alerts engine) catch them as `KpiError`."""

from footfall.api.kpis.errors import UnanswerableQuery


class ForecastError(UnanswerableQuery):
    """A forecast, staffing or anomaly question that cannot be answered as asked; fix the parameters."""


class NothingToForecast(ForecastError):
    """The store has no door counts yet: let its counters report (or import history) first."""
