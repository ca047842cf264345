"""Counter and camera anomalies: flatlines, stuck values, in/out drift, counts far outside the
forecast band, counter-vs-camera disagreement, and a counter silent while receipts keep coming.

Every detector works on one subject's slots (epoch-second slot starts, NaN = nothing
reported) and returns `Anomaly` records: a kind, a time span, a score, the moment it
would have fired (`detected_at`, for alerting and for measuring detection delay) and a
reason a person can read. Scores are surprise in "−log10 probability" units under a
simple model of honest counts (Poisson around the forecast), so 3 means "one in a
thousand" whatever the detector; each detector fires at `threshold` (default 3).

Example:
    >>> found = flatline(times, entries, expected=fc.mean, open_share=cal.open_share,  # doctest: +SKIP
    ...                  slot_s=900, subject="door:main")
    >>> found[0].reason                                                                  # doctest: +SKIP
    'entries stayed at 0 for 1 h 30 min during opening hours while 57 were expected'
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import numpy as np
from scipy.special import log_ndtr, ndtri

LN10 = math.log(10)


class AnomalyKind(StrEnum):
    """What looks wrong."""

    FLATLINE = "flatline"
    STUCK = "stuck"
    IMBALANCE = "imbalance"
    HIGH_TRAFFIC = "high_traffic"
    LOW_TRAFFIC = "low_traffic"
    DISAGREEMENT = "disagreement"
    SILENT_WITH_RECEIPTS = "silent_with_receipts"


@dataclass(frozen=True)
class Anomaly:
    """One anomaly.

    Attributes:
        kind: what looks wrong.
        subject: what it is about ("store", "door:main", "device:cam-1", "door:main devices:a,b").
        start: first affected instant, epoch seconds UTC.
        end: end of the last affected slot (exclusive).
        detected_at: end of the slot at which the score first crossed the threshold.
        score: surprise, −log10 of the probability of seeing this from an honest counter.
        reason: one sentence for a person.
    """

    kind: AnomalyKind
    subject: str
    start: int
    end: int
    detected_at: int
    score: float
    reason: str

    def as_dict(self) -> dict[str, object]:
        """JSON-ready, with ISO timestamps."""
        return {
            "kind": self.kind.value,
            "subject": self.subject,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "detected_at": _iso(self.detected_at),
            "score": round(self.score, 2),
            "reason": self.reason,
        }


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _span(seconds: int) -> str:
    h, m = divmod(seconds // 60, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """`[start, stop)` index ranges where `mask` is True."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def _log_normal_sf(z: np.ndarray | float) -> np.ndarray:
    """log P(Z ≥ z) for a standard normal Z, accurate far into the tail."""
    return log_ndtr(-np.asarray(z, dtype=float))


def _first_crossing(cum_score: np.ndarray, threshold: float) -> int | None:
    hit = np.flatnonzero(cum_score >= threshold)
    return int(hit[0]) if hit.size else None


def flatline(
    times: np.ndarray,
    entries: np.ndarray,
    *,
    expected: np.ndarray,
    open_share: np.ndarray,
    slot_s: int,
    subject: str,
    threshold: float = 3.0,
) -> list[Anomaly]:
    """Zero counts reported during opening hours while the forecast expects people.

    The score of a run of zeros is −log10 P(0 | Poisson(Σ expected)) = Σ expected / ln 10.
    """
    y = np.asarray(entries, dtype=float)
    mu = np.where(open_share > 0, np.maximum(expected, 0.0), 0.0)
    out = []
    for a, b in runs((y == 0) & (open_share > 0)):
        cum = np.cumsum(mu[a:b]) / LN10
        first = _first_crossing(cum, threshold)
        if first is None:
            continue
        exp_total = float(mu[a:b].sum())
        out.append(
            Anomaly(
                AnomalyKind.FLATLINE,
                subject,
                int(times[a]),
                int(times[b - 1]) + slot_s,
                int(times[a + first]) + slot_s,
                float(cum[-1]),
                f"entries stayed at 0 for {_span((b - a) * slot_s)} during opening hours "
                f"while {exp_total:.0f} were expected",
            )
        )
    return out


def stuck(
    times: np.ndarray,
    entries: np.ndarray,
    *,
    expected: np.ndarray,
    open_share: np.ndarray,
    slot_s: int,
    subject: str,
    min_slots: int = 4,
    threshold: float = 4.0,
) -> list[Anomaly]:
    """The same non-zero count repeated slot after slot (a frozen register or a replayed report).

    The score is −log10 of the Poisson probability of each repeat given the forecast
    (the first slot of the run is free).
    """
    y = np.asarray(entries, dtype=float)
    same = np.zeros(y.size, dtype=bool)
    same[1:] = (y[1:] == y[:-1]) & (y[1:] > 0)
    out = []
    for after_first, b in runs(same):
        a = after_first - 1  # the run starts at the first of the equal values
        if b - a < min_slots:
            continue
        v = y[a]
        mu = np.maximum(expected[a + 1 : b], 0.1)
        # log P(X = v) for Poisson(mu)
        logp = v * np.log(mu) - mu - math.lgamma(v + 1)
        cum = -np.cumsum(logp) / LN10
        first = _first_crossing(cum, threshold)
        if first is None:
            continue
        out.append(
            Anomaly(
                AnomalyKind.STUCK,
                subject,
                int(times[a]),
                int(times[b - 1]) + slot_s,
                int(times[a + 1 + first]) + slot_s,
                float(cum[-1]),
                f"entries repeated the same value {v:.0f} in {b - a} consecutive slots ({_span((b - a) * slot_s)})",
            )
        )
    return out


def imbalance(
    times: np.ndarray,
    entries: np.ndarray,
    exits: np.ndarray,
    *,
    slot_s: int,
    subject: str,
    baseline_ratio: float = 1.0,
    tolerance: float = 0.08,
    windows_h: tuple[float, ...] = (2.0, 4.0, 8.0),
    threshold: float = 3.0,
) -> list[Anomaly]:
    """Entries and exits drifting apart (a lens, direction or half-blocked sensor fault).

    People who come in through a door leave through it within the hour, in the usual
    proportion `baseline_ratio` (exits / entries over past days; below 1 when some
    leave by another door). Over trailing windows of 2, 4 and 8 hours the gap between
    entries and scaled exits, beyond `tolerance` of the traffic and the last half
    hour's entries (people still inside), is scored as a normal deviate against Poisson
    noise; the best window counts.
    """
    e = np.nan_to_num(np.asarray(entries, dtype=float))
    x = np.nan_to_num(np.asarray(exits, dtype=float)) / max(baseline_ratio, 1e-3)
    ce, cx = np.concatenate([[0.0], np.cumsum(e)]), np.concatenate([[0.0], np.cumsum(x)])
    idx = np.arange(1, e.size + 1)
    inside = ce[idx] - ce[np.maximum(idx - max(1, 1800 // slot_s), 0)]
    score = np.zeros(e.size)
    for w_h in windows_h:
        w = max(1, int(w_h * 3600 // slot_s))
        lo = np.maximum(idx - w, 0)
        sa, sb = ce[idx] - ce[lo], cx[idx] - cx[lo]
        excess = np.maximum(np.abs(sa - sb) - tolerance * (sa + sb) / 2 - inside, 0.0)
        z = excess / np.sqrt(np.maximum(sa + sb, 1.0))
        score = np.maximum(score, -_log_normal_sf(z) / LN10)
    score[e + x == 0] = 0.0  # closed: nothing to say
    out = []
    for a, b in runs(score >= threshold):
        span_lo = max(0, a - int(max(windows_h) * 3600 // slot_s))
        tin, tout = e[span_lo:b].sum(), x[span_lo:b].sum() * baseline_ratio
        share = (tin - tout) / max(tin + tout, 1.0)
        out.append(
            Anomaly(
                AnomalyKind.IMBALANCE,
                subject,
                int(times[span_lo]),
                int(times[b - 1]) + slot_s,
                int(times[a]) + slot_s,
                float(score[a:b].max()),
                f"entries {tin:.0f} vs exits {tout:.0f} over {_span((b - span_lo) * slot_s)} "
                f"({share:+.0%} imbalance, usual exits/entries {baseline_ratio:.2f}); "
                "check the counter's direction and lens",
            )
        )
    return out


def out_of_band(
    times: np.ndarray,
    actual: np.ndarray,
    *,
    mean: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    slot_s: int,
    subject: str,
    z_run: float = 2.0,
    threshold: float = 3.0,
    coverage: float = 0.8,
    min_excess: float = 0.0,
) -> list[Anomaly]:
    """Counts far above or below the forecast band (unusual traffic, or a counter that under-counts).

    The band's half-widths give a per-slot spread (σ = (upper − mean) / z₀.₉ above,
    (mean − lower) / z₀.₉ below, at least √(mean + 1)); slots beyond `z_run` σ form runs,
    and a run's score is the tail probability of its Stouffer-combined deviate. Runs
    whose total gap to the forecast is under `min_excess` people are not reported (six
    visitors on a Sunday night are surprising, and nobody needs an alert for them).
    """
    z0 = float(ndtri(0.5 + coverage / 2))
    y = np.asarray(actual, dtype=float)
    floor = np.sqrt(np.maximum(mean, 0) + 1.0)
    sig_hi = np.maximum((upper - mean) / z0, floor)
    sig_lo = np.maximum((mean - lower) / z0, floor)
    z = np.where(y >= mean, (y - mean) / sig_hi, (y - mean) / sig_lo)
    z = np.where(np.isnan(y), 0.0, z)
    out = []
    for kind, mask, sign in (
        (AnomalyKind.HIGH_TRAFFIC, z > z_run, 1.0),
        (AnomalyKind.LOW_TRAFFIC, z < -z_run, -1.0),
    ):
        for a, b in runs(mask):
            zz = sign * z[a:b]
            stouffer = np.cumsum(zz) / np.sqrt(np.arange(1, b - a + 1))
            cum = -_log_normal_sf(stouffer) / LN10
            best = np.maximum.accumulate(cum)
            first = _first_crossing(best, threshold)
            if first is None:
                continue
            got, want = float(np.nansum(y[a:b])), float(mean[a:b].sum())
            if abs(got - want) < min_excess:
                continue
            word = "above" if sign > 0 else "below"
            out.append(
                Anomaly(
                    kind,
                    subject,
                    int(times[a]),
                    int(times[b - 1]) + slot_s,
                    int(times[a + first]) + slot_s,
                    float(best[-1]),
                    f"{got:.0f} entries in {_span((b - a) * slot_s)} against {want:.0f} forecast, "
                    f"far {word} the {coverage:.0%} band",
                )
            )
    return out


def disagreement(
    times: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    *,
    slot_s: int,
    subject: str,
    baseline_ratio: float = 1.0,
    window_slots: int = 16,
    tolerance: float = 0.1,
    threshold: float = 3.0,
) -> list[Anomaly]:
    """Two devices on the same door (a counter and a camera line) no longer agree.

    Over a trailing window, the counts' ratio is compared with the pair's usual ratio
    (`baseline_ratio`, e.g. the median of past days); a gap beyond `tolerance` is scored
    as a normal deviate of the difference against Poisson noise.
    """
    aa, bb = np.nan_to_num(np.asarray(a, dtype=float)), np.nan_to_num(np.asarray(b, dtype=float))
    k = np.ones(window_slots)
    sa = np.convolve(aa, k)[: aa.size]
    sb = np.convolve(bb, k)[: bb.size] * baseline_ratio
    excess = np.maximum(np.abs(sa - sb) - tolerance * np.maximum(sa, sb), 0.0)
    z = excess / np.sqrt(np.maximum(sa + sb, 1.0))
    score = -_log_normal_sf(z) / LN10
    out = []
    for s, e in runs(score >= threshold):
        lo = max(0, s - window_slots + 1)
        out.append(
            Anomaly(
                AnomalyKind.DISAGREEMENT,
                subject,
                int(times[lo]),
                int(times[e - 1]) + slot_s,
                int(times[s]) + slot_s,
                float(score[s:e].max()),
                f"devices on one door disagree: {aa[lo:e].sum():.0f} vs {bb[lo:e].sum():.0f} entries "
                f"over {_span((e - lo) * slot_s)} (usual ratio {baseline_ratio:.2f})",
            )
        )
    return out


def silent_with_receipts(
    times: np.ndarray,
    entries: np.ndarray,
    transactions: np.ndarray,
    *,
    slot_s: int,
    subject: str,
    conversion: float = 0.3,
    min_transactions: int = 3,
    threshold: float = 3.0,
) -> list[Anomaly]:
    """A counter reporting nothing (or zeros) while the tills keep selling.

    Every sale needs a visitor, so `transactions / conversion` entries are expected; the
    score is −log10 P(0 | Poisson(expected)). `conversion` should be the store's usual one
    (an upper figure is the cautious choice).
    """
    y = np.asarray(entries, dtype=float)
    t = np.nan_to_num(np.asarray(transactions, dtype=float))
    quiet = (np.isnan(y) | (y == 0)) & (t > 0)
    # bridge single quiet slots without sales inside a silent stretch
    silent = np.isnan(y) | (y == 0)
    out = []
    for a, b in runs(silent):
        tt = t[a:b]
        if not np.any(quiet[a:b]):
            continue
        cum_t = np.cumsum(tt)
        cum = cum_t / max(conversion, 1e-3) / LN10
        cum[cum_t < min_transactions] = 0.0
        first = _first_crossing(cum, threshold)
        if first is None:
            continue
        missing = "no reports" if np.all(np.isnan(y[a:b])) else "zero entries"
        out.append(
            Anomaly(
                AnomalyKind.SILENT_WITH_RECEIPTS,
                subject,
                int(times[a]),
                int(times[b - 1]) + slot_s,
                int(times[a + first]) + slot_s,
                float(cum[-1]),
                f"{missing} for {_span((b - a) * slot_s)} while {cum_t[-1]:.0f} receipts were rung up",
            )
        )
    return out
