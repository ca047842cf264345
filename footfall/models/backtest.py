"""Rolling-origin backtest of the forecaster on any `timestamp,site,entries` CSV.

For each site, origins start once `min_train_days` of history exist and move forward by
`step_h`; at each origin the forecaster is fitted on everything before it (no peeking)
and forecasts `horizon_h` hours. Scores, over every forecast slot that has an actual:

- `mase`: the model's mean absolute error divided by that of the seasonal-naive forecast
  ("same slot last week": the last observed week repeated) on the same slots and
  origins. Below 1 the model beats the baseline.
- `mase_insample`: Hyndman & Koehler's scaling (the in-sample MAE of the one-week
  seasonal-naive forecast on each origin's training data), for comparison with papers.
- `coverage_80`: the share of actuals inside the 10–90 % band.

Reading the CSV is done by the caller (the CLI); `parse_counts_csv` takes its text.
"""

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from footfall.models.errors import SeriesError
from footfall.models.features import StoreCalendarSpec
from footfall.models.forecast import ForecasterOptions, TrafficForecaster, seasonal_naive
from footfall.models.slots import DAY_S, SLOT_CHOICES_S, SlotSeries

REQUIRED = ("timestamp", "site", "entries")


def _parse_ts(text: str, line: int) -> datetime:
    t = text.strip()
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    try:
        ts = datetime.fromisoformat(t)
    except ValueError:
        raise SeriesError(
            f"line {line}: timestamp {text!r} is not ISO 8601; write e.g. 2005-07-24T00:30:00-07:00 or …Z"
        ) from None
    if ts.tzinfo is None:
        raise SeriesError(f"line {line}: timestamp {text!r} has no offset; add one (+02:00) or Z for UTC")
    return ts


def parse_counts_csv(text: str, *, tz: ZoneInfo | None = None) -> dict[str, SlotSeries]:
    """Parse a `timestamp,site,entries` CSV into one series per site.

    Timestamps carry an offset or `Z`. The slot width (15, 30 or 60 minutes) is the
    smallest step between a site's timestamps; missing slots are gaps. The wall clock for
    calendar features is each row's own offset, or `tz` when given.

    Raises:
        SeriesError: a missing column, a bad value or timestamp, a duplicate slot, or an
            unsupported slot width; the message names the line.
    """
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise SeriesError("the CSV is empty; expected a header `timestamp,site,entries`")
    names = [f.strip().lower() for f in reader.fieldnames]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise SeriesError(f"the CSV has no column {', '.join(missing)}; expected a header `timestamp,site,entries`")
    reader.fieldnames = names
    rows: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    seen: dict[tuple[str, int], int] = {}
    for line, row in enumerate(reader, start=2):
        site = (row.get("site") or "").strip()
        if not site:
            raise SeriesError(f"line {line}: empty site")
        ts = _parse_ts(row.get("timestamp") or "", line)
        try:
            value = float(row.get("entries") or "")
        except ValueError:
            raise SeriesError(f"line {line}: entries {row.get('entries')!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise SeriesError(f"line {line}: entries must be a finite number ≥ 0, not {value}")
        utc = int(ts.timestamp())
        if (site, utc) in seen:
            first = seen[site, utc]
            raise SeriesError(f"line {line}: site {site!r} has {ts.isoformat()} twice (first on line {first})")
        seen[site, utc] = line
        off = ts.utcoffset()
        offset = int(off.total_seconds()) if tz is None and off is not None else None
        rows[site].append((utc, offset if offset is not None else 0, value))
    if not rows:
        raise SeriesError("the CSV has a header but no rows")
    out: dict[str, SlotSeries] = {}
    for site, items in rows.items():
        items.sort()
        t = np.array([i[0] for i in items], dtype=np.int64)
        if t.size < 2:
            raise SeriesError(f"site {site!r} has a single row; a backtest needs weeks of slots")
        step = int(np.diff(t).min())
        slot = next((s for s in SLOT_CHOICES_S if step == s), None)
        if slot is None:
            raise SeriesError(
                f"site {site!r}: the smallest step between timestamps is {step // 60} min; "
                "use 15, 30 or 60-minute slots"
            )
        v = np.array([i[2] for i in items])
        local = None if tz is not None else t + np.array([i[1] for i in items], dtype=np.int64)
        out[site] = SlotSeries.from_points(t, v, slot_s=slot, tz=tz, local_s=local)
    return out


def parse_spans_csv(text: str) -> list[tuple[int, int]]:
    """`start,end` rows (ISO 8601 with offset; a header line is skipped) as `[start, end)` epoch seconds.

    Raises:
        SeriesError: a row is not two timestamps or ends before it starts; names the line.
    """
    out = []
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or (line == 1 and row[0].strip().lower() == "start"):
            continue
        if len(row) < 2:
            raise SeriesError(f"line {line}: expected start,end")
        a, b = utc_seconds(_parse_ts(row[0], line)), utc_seconds(_parse_ts(row[1], line))
        if b <= a:
            raise SeriesError(f"line {line}: the span ends before it starts")
        out.append((a, b))
    return out


def _num(x: float) -> float | None:
    """Rounded, or None where there was nothing to score (JSON has no NaN)."""
    return None if math.isnan(x) else round(x, 4)


@dataclass
class SiteScore:
    """Backtest figures of one site."""

    site: str
    slot_minutes: int
    origins: int
    slots: int
    mae: float
    mae_naive: float
    mase: float
    mase_insample: float
    coverage_80: float
    excluded_slots: int = 0
    methods: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            "site": self.site,
            "slot_minutes": self.slot_minutes,
            "origins": self.origins,
            "slots": self.slots,
            "mae": _num(self.mae),
            "mae_naive": _num(self.mae_naive),
            "mase": _num(self.mase),
            "mase_insample": _num(self.mase_insample),
            "coverage_80": _num(self.coverage_80),
            "excluded_slots": self.excluded_slots,
            "methods": self.methods,
        }


@dataclass
class Backtest:
    """A whole backtest: per-site scores and pooled figures."""

    horizon_h: float
    step_h: float
    sites: list[SiteScore]

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: `mase` (mean over sites), `coverage_80` (pooled over slots), `sites`, `horizon_h`."""
        scored = [s for s in self.sites if s.slots and not math.isnan(s.mase)]
        slots = sum(s.slots for s in scored)
        return {
            "mase": round(float(np.mean([s.mase for s in scored])), 4) if scored else None,
            "mase_insample": round(float(np.mean([s.mase_insample for s in scored])), 4) if scored else None,
            "coverage_80": round(sum(s.coverage_80 * s.slots for s in scored) / slots, 4) if slots else None,
            "sites": len(self.sites),
            "horizon_h": self.horizon_h,
            "step_h": self.step_h,
            "slots": slots,
            "per_site": [s.as_dict() for s in self.sites],
        }


def _mask(series: SlotSeries, spans: Iterable[tuple[int, int]]) -> np.ndarray:
    """True for slots that overlap any `[start, end)` span (epoch seconds UTC)."""
    t = series.times
    out = np.zeros(t.size, dtype=bool)
    for a, b in spans:
        out |= (t < b) & (t + series.slot_s > a)
    return out


def backtest_site(
    site: str,
    series: SlotSeries,
    *,
    horizon_h: float = 168,
    step_h: float = 168,
    min_train_days: float = 28,
    exclude: Iterable[tuple[int, int]] = (),
    spec: StoreCalendarSpec | None = None,
    options: ForecasterOptions | None = None,
) -> SiteScore:
    """Rolling-origin backtest of one series (see the module docstring).

    Args:
        site: its name.
        series: the whole history.
        horizon_h: hours forecast from each origin.
        step_h: hours between origins.
        min_train_days: history before the first origin.
        exclude: `[start, end)` spans (UTC seconds) left out of the scores (e.g. known events).
        spec: store calendar (none for an anonymous CSV).
        options: forecaster options.
    """
    slot = series.slot_s
    horizon = int(horizon_h * 3600 // slot)
    step = int(step_h * 3600 // slot)
    first = int(min_train_days * DAY_S // slot)
    excluded = _mask(series, exclude)
    y = series.values
    abs_m, abs_n, inside, scale_ratio = [], [], [], []
    methods: dict[str, int] = defaultdict(int)
    origins = 0
    for o in range(first, y.size - horizon + 1, step):
        f = TrafficForecaster(options=options or ForecasterOptions()).fit(series.head(o), spec)
        fc = f.predict(series.times[o : o + horizon], series.local[o : o + horizon])
        naive = seasonal_naive(series, o, horizon)
        actual = y[o : o + horizon]
        ok = ~np.isnan(actual) & ~np.isnan(naive) & ~excluded[o : o + horizon]
        if not np.any(ok):
            continue
        origins += 1
        methods[f.method or "none"] += 1
        err = np.abs(actual[ok] - fc.mean[ok])
        abs_m.append(err)
        abs_n.append(np.abs(actual[ok] - naive[ok]))
        inside.append((actual[ok] >= fc.lower[ok]) & (actual[ok] <= fc.upper[ok]))
        hist = y[:o]
        pw = series.per_week
        d = np.abs(hist[pw:] - hist[:-pw]) if hist.size > pw else np.array([])
        d = d[~np.isnan(d)]
        if d.size and d.mean() > 0:
            scale_ratio.append(err.mean() / d.mean())
    if not abs_m:
        return SiteScore(site, slot // 60, 0, 0, math.nan, math.nan, math.nan, math.nan, math.nan, int(excluded.sum()))
    em, en, ins = np.concatenate(abs_m), np.concatenate(abs_n), np.concatenate(inside)
    mae, mae_n = float(em.mean()), float(en.mean())
    return SiteScore(
        site=site,
        slot_minutes=slot // 60,
        origins=origins,
        slots=int(em.size),
        mae=mae,
        mae_naive=mae_n,
        mase=mae / mae_n if mae_n > 0 else math.nan,
        mase_insample=float(np.mean(scale_ratio)) if scale_ratio else math.nan,
        coverage_80=float(ins.mean()),
        excluded_slots=int(excluded.sum()),
        methods=dict(methods),
    )


def backtest(
    series: dict[str, SlotSeries],
    *,
    horizon_h: float = 168,
    step_h: float = 168,
    min_train_days: float = 28,
    exclude: Iterable[tuple[int, int]] = (),
    options: ForecasterOptions | None = None,
) -> Backtest:
    """Backtest every site (see `backtest_site`)."""
    spans = list(exclude)
    return Backtest(
        horizon_h=horizon_h,
        step_h=step_h,
        sites=[
            backtest_site(
                site,
                s,
                horizon_h=horizon_h,
                step_h=step_h,
                min_train_days=min_train_days,
                exclude=spans,
                options=options,
            )
            for site, s in sorted(series.items())
        ],
    )


def utc_seconds(ts: datetime) -> int:
    """Epoch seconds of an aware datetime."""
    return int(ts.astimezone(UTC).timestamp())
