"""Evaluations of the models against ground truth (pure: the caller reads the files).

- `calit2_series` / `calit2_events` read the UCI CalIt2 building door counts and its
  labelled events (`../shared/data/doors/calit2`, not in the repository);
- `event_detection` scores "unusual traffic" (`high_traffic` anomalies from the rolling
  forecast) against the labelled events: precision and recall of events;
- `fault_injection` plants faults in simulated counters (flatline, stuck, in/out drift,
  silent with receipts, counter-vs-camera disagreement) and measures detection delay and
  false alarms per week.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from footfall.models import anomalies as an
from footfall.models.backtest import utc_seconds
from footfall.models.errors import SeriesError
from footfall.models.features import StoreCalendarSpec, calendar
from footfall.models.forecast import ForecasterOptions, TrafficForecaster
from footfall.models.slots import DAY_S, WEEK_S, SlotSeries, local_seconds

CALIT2_TZ = ZoneInfo("America/Los_Angeles")
IN_FLOW, OUT_FLOW = "9", "7"


def calit2_rows(text: str, flow: str = IN_FLOW) -> list[tuple[datetime, int]]:
    """`(local start of the half hour, count)` of one flow of `CalIt2.data` (9 = in, 7 = out).

    The file stamps each count with the end of its half hour ("counts reported for the
    previous half hour"), so the slot starts 30 minutes earlier.

    Raises:
        SeriesError: a line is not `flow,MM/DD/YY,HH:MM:SS,count`.
    """
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.strip().split(",")
        if len(parts) != 4:
            raise SeriesError(f"CalIt2.data line {n}: expected flow,date,time,count")
        if parts[0] != flow:
            continue
        end = datetime.strptime(f"{parts[1]} {parts[2]}", "%m/%d/%y %H:%M:%S")
        out.append((end - timedelta(minutes=30), int(parts[3])))
    return out


def calit2_csv(text: str) -> str:
    """The in-flow as a `timestamp,site,entries` CSV (America/Los_Angeles offsets)."""
    lines = ["timestamp,site,entries"]
    lines += [f"{t.replace(tzinfo=CALIT2_TZ).isoformat()},calit2,{c}" for t, c in calit2_rows(text)]
    return "\n".join(lines) + "\n"


def calit2_series(text: str, flow: str = IN_FLOW) -> SlotSeries:
    """One flow of CalIt2 as a 30-minute series in America/Los_Angeles."""
    rows = calit2_rows(text, flow)
    seen: dict[int, int] = {}
    for t, c in rows:  # the repeated DST hour is logged once; keep the first instant
        seen.setdefault(int(t.replace(tzinfo=CALIT2_TZ).timestamp()), c)
    times = np.array(sorted(seen), dtype=np.int64)
    return SlotSeries.from_points(times, [seen[t] for t in times], slot_s=1800, tz=CALIT2_TZ)


def calit2_events(text: str) -> list[tuple[int, int]]:
    """`[start, end)` epoch seconds of each labelled event in `CalIt2.events`."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(",")
        if len(parts) < 3:
            raise SeriesError(f"CalIt2.events line {n}: expected date,begin,end,…")
        a = datetime.strptime(f"{parts[0]} {parts[1]}", "%m/%d/%y %H:%M:%S").replace(tzinfo=CALIT2_TZ)
        b = datetime.strptime(f"{parts[0]} {parts[2]}", "%m/%d/%y %H:%M:%S").replace(tzinfo=CALIT2_TZ)
        out.append((utc_seconds(a), utc_seconds(b)))
    return out


@dataclass
class EventScore:
    """How `high_traffic` anomalies line up with labelled events."""

    events: int
    events_found: int
    alarms: int
    alarms_on_events: int
    threshold: float
    min_excess: float = 0.0
    lead_min: int = 0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready, with precision and recall."""
        return {
            "threshold": self.threshold,
            "min_excess": self.min_excess,
            "lead_min": self.lead_min,
            "events": self.events,
            "events_found": self.events_found,
            "recall": round(self.events_found / self.events, 3) if self.events else None,
            "alarms": self.alarms,
            "alarms_on_events": self.alarms_on_events,
            "precision": round(self.alarms_on_events / self.alarms, 3) if self.alarms else None,
        }


def rolling_anomalies(
    series: SlotSeries,
    *,
    min_train_days: float = 28,
    step_days: int = 7,
    threshold: float = 3.0,
    min_excess: float = 0.0,
) -> tuple[list[an.Anomaly], int]:
    """Out-of-band anomalies of a series, each week forecast from the weeks before it.

    Returns:
        The anomalies and the first scored slot's start (epoch seconds).
    """
    first = int(min_train_days * DAY_S // series.slot_s)
    step = step_days * DAY_S // series.slot_s
    found: list[an.Anomaly] = []
    for o in range(first, series.values.size, step):
        stop = min(o + step, series.values.size)
        fc = TrafficForecaster().fit(series.head(o)).predict(series.times[o:stop], series.local[o:stop])
        found += an.out_of_band(
            fc.times,
            series.values[o:stop],
            mean=fc.mean,
            lower=fc.lower,
            upper=fc.upper,
            slot_s=series.slot_s,
            subject="door",
            threshold=threshold,
            min_excess=min_excess,
        )
    return found, int(series.times[first])


def event_detection(
    series: SlotSeries,
    events: list[tuple[int, int]],
    *,
    thresholds: tuple[float, ...] = (3.0, 4.0, 5.0),
    min_excess: float = 0.0,
    lead_s: int = 0,
) -> list[EventScore]:
    """Precision and recall of `high_traffic` anomalies against labelled event spans.

    An event counts as found when an alarm overlaps it (or the `lead_s` before it, when
    people arrive for it); an alarm is correct when it overlaps an event. Only events
    after the first forecast origin are scored.
    """
    found, scored_from = rolling_anomalies(series, threshold=min(thresholds), min_excess=min_excess)
    high = [a for a in found if a.kind is an.AnomalyKind.HIGH_TRAFFIC]
    evs = [(e[0] - lead_s, e[1]) for e in events if e[0] >= scored_from]
    out = []
    for th in thresholds:
        alarms = [a for a in high if a.score >= th]
        hit = [any(a.start < e[1] and a.end > e[0] for a in alarms) for e in evs]
        ok = [any(a.start < e[1] and a.end > e[0] for e in evs) for a in alarms]
        out.append(EventScore(len(evs), sum(hit), len(alarms), sum(ok), th, min_excess, lead_s // 60))
    return out


# -- simulated counters with planted faults -------------------------------------------------

SIM_TZ = ZoneInfo("Europe/Riga")
HOUR_SHAPE = np.array(
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, 0.7, 0.9, 1.3, 1.2, 1.0, 0.9, 1.0, 1.3, 1.4, 1.1, 0.7, 0.4, 0, 0]
)
WEEKDAY_SHAPE = np.array([0.9, 0.85, 0.9, 1.0, 1.15, 1.4, 0.7])
FAULTS = ("flatline", "stuck", "drift", "silent_with_receipts", "disagreement")
EXPECTED_KIND = {
    "flatline": an.AnomalyKind.FLATLINE,
    "stuck": an.AnomalyKind.STUCK,
    "drift": an.AnomalyKind.IMBALANCE,
    "silent_with_receipts": an.AnomalyKind.SILENT_WITH_RECEIPTS,
    "disagreement": an.AnomalyKind.DISAGREEMENT,
}


@dataclass
class SimStore:
    """Eight weeks of a simulated door: counter, camera and till, per 15 minutes."""

    times: np.ndarray
    local: np.ndarray
    open_share: np.ndarray
    entries: np.ndarray
    exits: np.ndarray
    camera: np.ndarray
    transactions: np.ndarray


def simulate(rng: np.random.Generator, *, weeks: int = 8, peak_per_slot: float = 12.0) -> SimStore:
    """A door with a daily and weekly shape, people leaving 0–30 minutes after entering,
    a camera line seeing 95 % of them and a till converting 25 %."""
    slot = 900
    start = utc_seconds(datetime(2026, 3, 2, tzinfo=SIM_TZ))  # a Monday, local midnight
    n = weeks * WEEK_S // slot
    times = start + np.arange(n, dtype=np.int64) * slot
    local = local_seconds(times, SIM_TZ)
    cal = calendar(local, slot, StoreCalendarSpec(opening_hours=_SIM_HOURS))
    hour = cal.minute_of_day // 60
    rate = peak_per_slot * HOUR_SHAPE[hour] * WEEKDAY_SHAPE[cal.weekday] * cal.open_share
    entries = rng.poisson(rate).astype(float)
    stay = rng.multinomial(entries.astype(int), [0.45, 0.4, 0.15]) if n else np.zeros((0, 3))
    exits = np.zeros(n)
    for k in range(3):
        exits[k:] += stay[: n - k, k]
    camera = rng.binomial(entries.astype(int), 0.95).astype(float)
    transactions = rng.binomial(entries.astype(int), 0.25).astype(float)
    return SimStore(times, local, cal.open_share, entries, exits, camera, transactions)


_SIM_HOURS = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), (time(9), time(21)))


def plant(sim: SimStore, fault: str, at: int, slots: int) -> tuple[SimStore, int, int]:
    """A copy of `sim` with `fault` from slot `at` for `slots` slots (drift: to the day's end).

    Returns:
        The faulted store and the fault's `[start, end)` slot indices.
    """
    e, x, c, t = sim.entries.copy(), sim.exits.copy(), sim.camera.copy(), sim.transactions
    end = min(at + slots, e.size)
    if fault == "flatline":
        e[at:end] = 0
        x[at:end] = 0
    elif fault == "stuck":
        v = max(e[at], 1.0)
        e[at:end] = v
        x[at:end] = v
    elif fault == "drift":
        # a lens or direction fault does not heal at midnight: it lasts until someone fixes it
        end = min(at + 2 * 96, e.size)
        x[at:end] = np.floor(x[at:end] * 0.6)
    elif fault == "silent_with_receipts":
        e[at:end] = np.nan
        x[at:end] = np.nan
    elif fault == "disagreement":
        c[at:end] = np.floor(c[at:end] * 0.5)
    else:
        raise ValueError(f"unknown fault {fault!r}")
    return SimStore(sim.times, sim.local, sim.open_share, e, x, c, t), at, end


def detect_all(sim: SimStore, fc_mean: np.ndarray, fc_lo: np.ndarray, fc_hi: np.ndarray) -> list[an.Anomaly]:
    """Every detector on a simulated door (what the API's anomaly service runs per door)."""
    slot = 900
    kw: dict[str, Any] = {"slot_s": slot}
    return [
        *an.flatline(sim.times, sim.entries, expected=fc_mean, open_share=sim.open_share, subject="counter", **kw),
        *an.stuck(sim.times, sim.entries, expected=fc_mean, open_share=sim.open_share, subject="counter", **kw),
        *an.imbalance(sim.times, sim.entries, sim.exits, subject="counter", **kw),
        *an.out_of_band(
            sim.times, sim.entries, mean=fc_mean, lower=fc_lo, upper=fc_hi, subject="counter", threshold=4.0, **kw
        ),
        *an.disagreement(sim.times, sim.entries, sim.camera, baseline_ratio=1 / 0.95, subject="door", **kw),
        *an.silent_with_receipts(sim.times, sim.entries, sim.transactions, subject="counter", **kw),
    ]


def fault_injection(*, runs: int = 10, seed: int = 0, fault_hours: float = 6.0) -> dict[str, object]:
    """Plant each fault in `runs` simulated stores and measure detection delay and false alarms.

    Each store has 8 weeks; the forecaster trains on the first 4 and the detectors watch
    the last 4, where one fault starts at a random opening-hours slot. A fault is detected
    when an anomaly of its kind overlaps it; false alarms are anomalies that overlap no
    fault, counted in the same 4 weeks of every run (faulted or clean).
    """
    rng = np.random.default_rng(seed)
    slot = 900
    train_weeks, watch_weeks = 4, 4
    delays: dict[str, list[float]] = defaultdict(list)
    missed: dict[str, int] = defaultdict(int)
    false_alarms: dict[str, int] = defaultdict(int)
    watched_weeks = 0.0
    for _ in range(runs):
        sim = simulate(rng, weeks=train_weeks + watch_weeks)
        split = train_weeks * WEEK_S // slot
        spec = StoreCalendarSpec(opening_hours=_SIM_HOURS)
        hist = SlotSeries(int(sim.times[0]), slot, sim.entries[:split], sim.local[:split])
        fc = TrafficForecaster(options=ForecasterOptions()).fit(hist, spec)
        pred = fc.predict(sim.times[split:], sim.local[split:])
        watch = _tail(sim, split)
        for fault in ("", *FAULTS):
            span: tuple[int, int] | None = None
            if not fault:
                faulted = watch
            else:
                opens = np.flatnonzero((watch.open_share > 0) & (np.arange(watch.times.size) < watch.times.size - 96))
                at = int(rng.choice(opens))
                faulted, a, b = plant(watch, fault, at, int(fault_hours * 3600 // slot))
                span = (int(watch.times[a]), int(watch.times[b - 1]) + slot)
            found = detect_all(faulted, pred.mean, pred.lower, pred.upper)
            watched_weeks += watch_weeks
            if span is not None and fault:
                mine = [f for f in found if f.kind is EXPECTED_KIND[fault] and f.start < span[1] and f.end > span[0]]
                if mine:
                    delays[fault].append((min(f.detected_at for f in mine) - span[0]) / 60)
                else:
                    missed[fault] += 1
            for f in found:
                if span is None or not (f.start < span[1] and f.end > span[0]):
                    false_alarms[f.kind.value] += 1
    per_fault = {
        fault: {
            "planted": runs,
            "detected": len(delays[fault]),
            "recall": round(len(delays[fault]) / runs, 3),
            "median_delay_min": round(float(np.median(delays[fault])), 1) if delays[fault] else None,
            "max_delay_min": round(float(np.max(delays[fault])), 1) if delays[fault] else None,
        }
        for fault in FAULTS
    }
    total_fa = sum(false_alarms.values())
    return {
        "runs": runs,
        "fault_hours": fault_hours,
        "watched_weeks": watched_weeks,
        "faults": per_fault,
        "false_alarms": dict(false_alarms),
        "false_alarms_per_week": round(total_fa / watched_weeks, 3) if watched_weeks else None,
    }


def _tail(sim: SimStore, split: int) -> SimStore:
    return SimStore(
        sim.times[split:],
        sim.local[split:],
        sim.open_share[split:],
        sim.entries[split:],
        sim.exits[split:],
        sim.camera[split:],
        sim.transactions[split:],
    )
