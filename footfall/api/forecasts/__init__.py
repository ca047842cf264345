"""Forecasts, staffing and anomalies served from trained models (footfall.models) and the rollups.

The public functions here are what routes, the alerts engine and the CLI call:

- `train_store` / `train_stores` fit and persist a store's models (entries, transactions,
  revenue) with version, training window, features and held-out metrics;
- `forecast` returns a store's (or door's) forecast with 10–90 % bands as `ForecastPublic`;
- `staffing` turns it into staff per hour and power hours (`StaffingPublic`);
- `anomalies` runs every detector over a period (`AnomaliesPublic`);
- `forecast_band` gives the alerts engine a metric's band for a UTC window;
- `revenue_forecast` projects a month's revenue for plan vs fact.
"""

from footfall.api.forecasts.service import (
    MAX_AHEAD_DAYS,
    METRICS,
    TrainResult,
    anomalies,
    forecast,
    forecast_band,
    holiday_calendar,
    list_models,
    revenue_forecast,
    staffing,
    stale_stores,
    train_store,
)

__all__ = [
    "MAX_AHEAD_DAYS",
    "METRICS",
    "TrainResult",
    "anomalies",
    "forecast",
    "forecast_band",
    "holiday_calendar",
    "list_models",
    "revenue_forecast",
    "staffing",
    "stale_stores",
    "train_store",
]
