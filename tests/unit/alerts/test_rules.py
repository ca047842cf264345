"""Rule validation: every bad rule is refused with a message that names the fix."""

from contextlib import nullcontext as does_not_raise
from datetime import time

import pytest

from footfall.core.alertrules import RuleSpec, ScheduleWindow, rule_from_data
from footfall.core.errors import ConfigError
from footfall.core.signing import BadSignature, sign, verify
from footfall.core.storeconfig import StoreConfig

BASE = {"name": "r", "metric": "conversion", "comparator": "<", "threshold": 0.15}


@pytest.mark.parametrize(
    ("patch", "expectation"),
    [
        ({}, does_not_raise()),  # the plain rule
        ({"threshold": None, "baseline": {"ratio": 0.8}}, does_not_raise()),  # relative border
        ({"baseline": {"ratio": 0.8}}, pytest.raises(ConfigError, match="exactly one of `threshold`")),  # both
        ({"threshold": None}, pytest.raises(ConfigError, match="exactly one of `threshold`")),  # neither
        ({"threshold": 1.5}, pytest.raises(ConfigError, match="between 0 and 1")),  # a ratio above 1
        ({"window": {"rolling_minutes": 50}}, pytest.raises(ConfigError, match="use 45 or 60")),  # not quarters
        ({"window": {"rolling_minutes": 60, "to_date": "day"}}, pytest.raises(ConfigError, match="exactly one")),
        # checkout queues: a store's queues, or one queue (or its till); the wait in seconds
        ({"metric": "queue_length", "threshold": 5, "scope": {"store": "a", "zone": "tills"}}, does_not_raise()),
        ({"metric": "queue_wait", "threshold": 120}, does_not_raise()),
        (
            {"metric": "queue_wait", "threshold": 120, "scope": {"store": "a", "door": "d"}},
            pytest.raises(ConfigError, match="not per door"),
        ),
        # a conversion has no forecast band: the models forecast visitors, transactions and revenue
        (
            {"threshold": None, "baseline": {"kind": "forecast_band", "ratio": 1}},
            pytest.raises(ConfigError, match="no forecast band"),
        ),
        # visitors against the band's edge
        (
            {"metric": "visitors", "threshold": None, "baseline": {"kind": "forecast_band", "ratio": 0.9}},
            does_not_raise(),
        ),
        # forecast_band alone: the band itself is the border
        ({"metric": "forecast_band", "threshold": None}, does_not_raise()),
        # … a static threshold makes no sense for it
        ({"metric": "forecast_band", "threshold": 10}, pytest.raises(ConfigError, match="leave out `threshold`")),
        (
            {"metric": "forecast_band", "threshold": None, "baseline": {"ratio": 0.8}},
            pytest.raises(ConfigError, match="leave out `threshold`"),
        ),
        # bands are per store
        (
            {
                "metric": "visitors",
                "threshold": None,
                "baseline": {"kind": "forecast_band", "ratio": 1},
                "scope": {"store": "a", "door": "d"},
            },
            pytest.raises(ConfigError, match="per store"),
        ),
        ({"metric": "zone_occupancy", "threshold": 9}, pytest.raises(ConfigError, match="needs a zone")),
        ({"scope": {"zone": "z"}}, pytest.raises(ConfigError, match="no store")),  # zone without store
        ({"scope": {"store": "a", "zone": "z", "door": "d"}}, pytest.raises(ConfigError, match="at most one")),
        (
            {"metric": "device_silence", "threshold": 10, "scope": {"store": "a", "door": "d"}},
            pytest.raises(ConfigError, match="watches devices"),
        ),
        (
            {"metric": "atv", "threshold": 10, "scope": {"store": "a", "door": "d"}},
            pytest.raises(ConfigError, match="not per door"),
        ),
        ({"comparator": "=="}, pytest.raises(ConfigError, match="comparator")),
        ({"colour": "red"}, pytest.raises(ConfigError, match="colour")),  # unknown field
    ],
)
def test_rule_validation(patch: dict, expectation) -> None:
    with expectation:
        rule_from_data({**BASE, **patch})


def test_minimum_sample_defaults_per_metric() -> None:
    assert RuleSpec(**BASE).effective_min_sample == 30  # conversion only after 30 visitors
    assert RuleSpec(**{**BASE, "min_sample": 100}).effective_min_sample == 100
    assert RuleSpec(**{**BASE, "metric": "visitors", "threshold": 5}).effective_min_sample == 0


@pytest.mark.parametrize(
    ("days", "start", "end", "weekday", "at", "inside"),
    [
        (["mon"], time(9), time(12), 0, time(10), True),  # Monday morning
        (["mon"], time(9), time(12), 1, time(10), False),  # Tuesday
        (["mon"], time(9), time(12), 0, time(12), False),  # end excluded
        (["fri"], time(22), time(2), 5, time(1), True),  # past midnight: Saturday 01:00 belongs to Friday
        (["fri"], time(22), time(2), 4, time(1), False),  # Friday 01:00 belongs to Thursday
    ],
)
def test_schedule_windows(days, start, end, weekday, at, inside) -> None:
    assert ScheduleWindow(days=days, start=start, end=end).contains(weekday, at) is inside


def test_store_file_rules_must_reference_the_files_store_and_things() -> None:
    store = {"store": {"id": "a", "name": "A", "timezone": "Europe/Riga"}, "doors": [{"id": "main"}]}
    ok = {**BASE, "id": "conv"}
    StoreConfig.from_data({**store, "alerts": [ok]})
    with pytest.raises(ConfigError, match="this file is store 'a'"):
        StoreConfig.from_data({**store, "alerts": [{**ok, "scope": {"store": "b"}}]})
    with pytest.raises(ConfigError, match="unknown door 'side'"):
        StoreConfig.from_data(
            {**store, "alerts": [{**ok, "metric": "visitors", "threshold": 3, "scope": {"store": "a", "door": "side"}}]}
        )
    with pytest.raises(ConfigError, match="alert ids appear twice"):
        StoreConfig.from_data({**store, "alerts": [ok, ok]})


@pytest.mark.parametrize(
    ("mangle", "now", "match"),
    [
        (lambda t: t, 1_000, None),  # valid
        (lambda t: t, 3_000, "expired"),  # too late
        (lambda t: t[:-3] + "abc", 1_000, "signature"),  # forged
        (lambda t: "garbage", 1_000, "malformed"),  # not a token
    ],
)
def test_signed_links(mangle, now: int, match: str | None) -> None:
    token = mangle(sign({"act": "ack", "state": 1, "user": 2}, secret="k", expires=2_000))
    if match is None:
        assert verify(token, secret="k", now=now)["user"] == 2
    else:
        with pytest.raises(BadSignature, match=match):
            verify(token, secret="k", now=now)
