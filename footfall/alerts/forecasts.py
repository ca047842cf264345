"""Forecast bands for alert rules: the store's stored models (`trained_models`), read here.

The API's forecast service (`footfall.api.forecasts`) answers with the API's response
models, which the alerts engine does not import (see the import contract in
pyproject.toml). What a band needs is small and lives below both: the stored bytes (the
named queries `models.latest_model_keys` and `models.model_bytes`), the forecaster (`footfall.models.forecast`, pure)
and the store's hourly slot grid (`footfall.models.slots.slot_grid`, the one the
service's `forecast_band` uses), so a rule's band is the band the API shows.

Only stored models are used: a store nobody trained has no band, and its rules say so
(`no trained … model`) instead of fitting one in the engine's cycle.
"""

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from footfall.api.kpis import StoreInfo
from footfall.db.connect import DictConnection
from footfall.db.queries import queries
from footfall.models.forecast import TrafficForecaster
from footfall.models.slots import ORIGIN_DAY, local_seconds, slot_grid

logger = logging.getLogger(__name__)

SLOT_S = 3600
"""The stored models are hourly (`trained_models.slot_minutes` = 60)."""
_CACHE_SIZE = 256
_cache: OrderedDict[tuple, TrafficForecaster] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class StoredModels:
    """A store's newest stored forecaster per model metric, and why others are missing."""

    forecasters: dict[str, TrafficForecaster]
    broken: dict[str, str]
    """Model metric → why its stored bytes could not be used."""

    def missing(self, store_id: str, metric: str) -> str:
        """Why there is no band for a model metric, naming the fix."""
        fix = f"run `footfall models train --store {store_id}`"
        if metric in self.broken:
            return f"stored {metric} model of store {store_id} cannot be loaded ({self.broken[metric]}): {fix}"
        return f"no trained {metric} model for store {store_id}: {fix}"


def _load(conn: DictConnection, key: tuple, model_id: int) -> TrafficForecaster:
    # keyed by store, metric, version and training time (row ids repeat across databases); the
    # bytes are fetched only on a miss, so a cycle costs one small query per store
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    row = conn.execute(queries("models")["model_bytes"], {"model_id": model_id}).fetchone()
    if row is None:
        raise LookupError(f"model {model_id} was deleted meanwhile")
    f = TrafficForecaster.from_bytes(bytes(row["model"]))
    with _lock:
        _cache[key] = f
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return f


def stored_models(conn: DictConnection, store_id: str) -> StoredModels:
    """The newest stored model per metric of a store (none fitted here)."""
    out: dict[str, TrafficForecaster] = {}
    broken: dict[str, str] = {}
    for r in conn.execute(queries("models")["latest_model_keys"], {"store_id": store_id}).fetchall():
        key = (r["store_id"], r["metric"], r["version"], r["trained_at"])
        try:
            out[r["metric"]] = _load(conn, key, r["model_id"])
        except Exception as exc:  # any unpickling failure (library upgrade, bad bytes) means: retrain
            logger.warning(
                "stored %s model v%s cannot be loaded: %s", r["metric"], r["version"], exc, extra={"store_id": store_id}
            )
            broken[r["metric"]] = f"v{r['version']}: {type(exc).__name__}"
    return StoredModels(out, broken)


def band_sum(
    forecaster: TrafficForecaster, store: StoreInfo, *, lo: datetime, hi: datetime, upper: bool
) -> float | None:
    """The band's lower (or upper) edge summed over `[lo, hi)`: each forecast hour weighted by the
    share of it inside the interval (a quarter past ten to eleven counts ¾ of the ten o'clock hour).

    Returns:
        The sum, or None when the interval is empty.
    """
    lo_s, hi_s = lo.timestamp(), hi.timestamp()
    if hi_s <= lo_s:
        return None
    origin = int(store.calendar.day_start(ORIGIN_DAY).timestamp())
    times = slot_grid(origin, int(lo_s), int(np.ceil(hi_s)), SLOT_S)
    fc = forecaster.predict(times, local_seconds(times, store.calendar.tz))
    overlap = np.clip(np.minimum(times + SLOT_S, hi_s) - np.maximum(times, lo_s), 0, SLOT_S) / SLOT_S
    edge = fc.upper if upper else fc.lower
    return float(np.sum(edge * overlap))
