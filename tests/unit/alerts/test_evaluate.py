"""Windows, schedules and the metric registry of the evaluator (no database)."""

from datetime import UTC, datetime, time

import pytest

from footfall.alerts.evaluate import METRIC_READERS, in_schedule, window
from footfall.api.kpis import Kpi, StoreInfo
from footfall.core.alertrules import KPI_METRICS, RESERVED_METRICS, Metric, RuleSpec

STORE = StoreInfo(
    store_id="a",
    name="A",
    timezone="Europe/Riga",
    customer_doors=("main",),
    opening_hours={d: (time(9), time(21)) for d in ("mon", "tue", "wed", "thu", "fri", "sat")} | {"sun": None},
)


def test_every_kpi_metric_is_a_kpi_of_the_query_layer_and_every_metric_has_a_reader() -> None:
    assert {Kpi(m.value) for m in KPI_METRICS}
    assert set(METRIC_READERS) | set(RESERVED_METRICS) == set(Metric)


@pytest.mark.parametrize(
    ("metric", "spec_window", "now", "lo", "hi"),
    [
        # KPIs: whole quarters from the one holding now − 60 min to the end of the current one
        ("conversion", {"rolling_minutes": 60}, "08:07", "07:00", "08:15"),
        ("conversion", {"rolling_minutes": 60}, "08:15", "07:15", "08:30"),
        # the local day so far (Riga is UTC+3 in June)
        ("visitors", {"to_date": "day"}, "08:07", "2026-06-02T21:00", "08:15"),
        # facts: exactly the last N minutes
        ("zone_occupancy", {"rolling_minutes": 15}, "08:07", "07:52", "08:07"),
        # checkout queues: whole minutes up to the current one, as queue_now answers
        ("queue_wait", {"rolling_minutes": 15}, "08:07:40", "07:52", "08:07"),
        ("queue_length", {"to_date": "day"}, "08:07:40", "2026-06-02T21:00", "08:07"),
        # forecast bands read the rollups like KPIs
        ("forecast_band", {"rolling_minutes": 60}, "08:07", "07:00", "08:15"),
    ],
)
def test_windows(metric: str, spec_window: dict, now: str, lo: str, hi: str) -> None:
    def at(s: str) -> datetime:
        return datetime.fromisoformat(s if "T" in s else f"2026-06-03T{s}").replace(tzinfo=UTC)

    scope = {"store": "a", "zone": "z"} if metric == "zone_occupancy" else {}
    border = {"baseline": {"kind": "forecast_band", "ratio": 1}} if metric == "forecast_band" else {"threshold": 0.5}
    spec = RuleSpec.model_validate(
        {"name": "r", "metric": metric, "comparator": "<", "window": spec_window, "scope": scope, **border}
    )
    a, b = window(spec, STORE, at(now))
    assert a == at(lo)
    assert b.replace(microsecond=0) == at(hi)


@pytest.mark.parametrize(
    ("now", "schedule", "inside"),
    [
        ("2026-06-03T07:00", None, True),  # Wednesday 10:00 local: open
        ("2026-06-03T19:00", None, False),  # Wednesday 22:00 local: closed
        ("2026-06-07T09:00", None, False),  # Sunday: closed all day
        ("2026-06-03T19:00", [{"start": "21:30", "end": "23:00"}], True),  # an explicit evening window
        ("2026-06-03T07:00", [{"days": ["sat"], "start": "09:00", "end": "12:00"}], False),  # not Saturday
    ],
)
def test_schedule_defaults_to_opening_hours(now: str, schedule: list | None, inside: bool) -> None:
    spec = RuleSpec(name="r", metric="visitors", comparator="<", threshold=1, schedule=schedule)
    assert in_schedule(spec, STORE, datetime.fromisoformat(now).replace(tzinfo=UTC)) is inside
