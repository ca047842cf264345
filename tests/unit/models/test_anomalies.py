"""Each detector against a clean synthetic door and the same door with one planted fault."""

import numpy as np
import pytest

from footfall.models import anomalies as an
from footfall.models import evaluate as ev
from footfall.models.anomalies import AnomalyKind


@pytest.fixture(scope="module")
def door() -> tuple[ev.SimStore, object]:
    """Four weeks watched after four weeks of training, and the forecast for them."""
    rng = np.random.default_rng(7)
    sim = ev.simulate(rng, weeks=8)
    split = 4 * 672
    hist = ev.SlotSeries(int(sim.times[0]), 900, sim.entries[:split], sim.local[:split])
    fc = ev.TrafficForecaster().fit(hist, ev.StoreCalendarSpec(opening_hours=ev._SIM_HOURS))
    return ev._tail(sim, split), fc.predict(sim.times[split:], sim.local[split:])


# Saturday of the second watched week, 12:00 local (slot index in the watched weeks)
NOON_SAT = (7 + 5) * 96 + 12 * 4


@pytest.mark.parametrize(
    ("fault", "kind", "max_delay_min"),
    [
        ("flatline", AnomalyKind.FLATLINE, 30),  # zeros while ~40/h are expected
        ("stuck", AnomalyKind.STUCK, 120),  # the same count slot after slot
        ("drift", AnomalyKind.IMBALANCE, 8 * 60),  # exits counted 40 % short
        ("silent_with_receipts", AnomalyKind.SILENT_WITH_RECEIPTS, 30),  # no reports, tills ringing
        ("disagreement", AnomalyKind.DISAGREEMENT, 5 * 60),  # the camera sees half the people
    ],
)
def test_a_planted_fault_is_found_with_its_kind_span_and_reason(door, fault, kind, max_delay_min) -> None:
    watch, fc = door
    faulted, a, b = ev.plant(watch, fault, NOON_SAT, 24)
    found = [f for f in ev.detect_all(faulted, fc.mean, fc.lower, fc.upper) if f.kind is kind]
    start = int(watch.times[a])
    hits = [f for f in found if f.start < int(watch.times[b - 1]) + 900 and f.end > start]
    assert hits, f"{fault} not detected"
    first = min(hits, key=lambda f: f.detected_at)
    assert 0 < first.detected_at - start <= max_delay_min * 60
    assert first.score >= 3
    assert first.reason
    assert first.as_dict()["kind"] == kind.value


def test_a_clean_door_raises_few_alarms(door) -> None:
    watch, fc = door
    found = ev.detect_all(watch, fc.mean, fc.lower, fc.upper)
    assert len(found) <= 4  # four weeks watched: at most about one a week


@pytest.mark.parametrize(
    ("actual", "kind"),
    [
        ([10, 10, 60, 70, 10], AnomalyKind.HIGH_TRAFFIC),  # an event doubles traffic for an hour
        ([10, 10, 1, 0, 10], AnomalyKind.LOW_TRAFFIC),  # far fewer than forecast
    ],
)
def test_out_of_band_flags_both_sides(actual, kind) -> None:
    t = np.arange(5) * 1800
    mean = np.full(5, 10.0)
    found = an.out_of_band(t, np.array(actual, float), mean=mean, lower=mean - 4, upper=mean + 4, slot_s=1800,
                           subject="door")  # fmt: skip
    assert [f.kind for f in found] == [kind]
    assert (found[0].start, found[0].end) == (3600, 7200)


@pytest.mark.parametrize(
    ("mask", "expected"),
    [
        ([0, 1, 1, 0, 1], [(1, 3), (4, 5)]),  # two runs, one at the end
        ([0, 0], []),  # none
        ([1, 1], [(0, 2)]),  # all
    ],
)
def test_runs(mask, expected) -> None:
    assert an.runs(np.array(mask, bool)) == expected
