"""The rolling-origin backtest: CSV parsing (errors name the line), scores on synthetic data, and
the real CalIt2 door counter when ../shared/data is present."""

import numpy as np
import pytest

from footfall.models import evaluate as ev
from footfall.models.backtest import backtest, parse_counts_csv
from footfall.models.errors import SeriesError

from .conftest import make_series, need_data


def _csv(series, site="s1") -> str:
    from datetime import UTC, datetime

    lines = ["timestamp,site,entries"]
    for i, (t, v) in enumerate(zip(series.times, series.values, strict=True)):
        if i % 97 != 5:  # drop some slots: gaps are allowed
            lines.append(f"{datetime.fromtimestamp(int(t), UTC).isoformat()},{site},{int(v)}")
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("time,site,entries\n", "no column timestamp"),
        ("timestamp,site,entries\n", "no rows"),
        ("timestamp,site,entries\n2026-01-01T00:00:00,a,1\n", "line 2: timestamp '2026-01-01T00:00:00' has no offset"),
        ("timestamp,site,entries\nyesterday,a,1\n", "line 2: timestamp 'yesterday' is not ISO 8601"),
        ("timestamp,site,entries\n2026-01-01T00:00Z,a,-1\n", "line 2: entries must be"),
        ("timestamp,site,entries\n2026-01-01T00:00Z,a,x\n", "line 2: entries 'x' is not a number"),
        ("timestamp,site,entries\n2026-01-01T00:00Z,a,1\n2026-01-01T02:00+02:00,a,1\n", "line 3: site 'a' has"),
        ("timestamp,site,entries\n2026-01-01T00:00Z,a,1\n2026-01-01T00:20Z,a,1\n", "use 15, 30 or 60-minute"),
    ],
)
def test_bad_csv_names_the_line_and_the_fix(text, message) -> None:
    with pytest.raises(SeriesError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_counts_csv(text)


def test_backtest_scores_synthetic_sites_with_gaps() -> None:
    text = _csv(make_series(8, seed=1), "a") + "\n" + _csv(make_series(8, seed=2, level=5), "b").split("\n", 1)[1]
    series = parse_counts_csv(text)
    assert set(series) == {"a", "b"}
    assert np.isnan(series["a"].values).any()  # the dropped slots are gaps
    result = backtest(series, horizon_h=168, step_h=168).as_dict()
    assert result["sites"] == 2
    assert result["horizon_h"] == 168
    assert result["mase"] < 0.9  # Poisson noise around a fixed shape: far better than last week
    assert 0.7 <= result["coverage_80"] <= 0.92
    assert {s["site"] for s in result["per_site"]} == {"a", "b"}


def test_calit2_backtest_meets_the_targets_and_events_explain_misses() -> None:
    data = need_data("doors", "calit2", "CalIt2.data").read_text()
    events = ev.calit2_events(need_data("doors", "calit2", "CalIt2.events").read_text())
    series = parse_counts_csv(ev.calit2_csv(data))
    full = backtest(series).as_dict()
    assert full["mase"] <= 0.8
    assert 0.75 <= full["coverage_80"] <= 0.85
    quiet = backtest(series, exclude=events).as_dict()
    assert quiet["per_site"][0]["excluded_slots"] > 0
    assert quiet["mase"] < full["mase"]  # events are what the seasonal pattern cannot know
