"""`footfall alerts run` as a real process with its Prometheus endpoint: an alert fires and is
delivered on every channel (the local webhook receiver refusing the first attempt), then
resolves on data committed while the process runs; the scraped counters move by exactly
those deliveries, retries and transitions, and the evaluation lag is measured."""

import signal
import subprocess
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from footfall.core.clock import ScaledClock
from footfall.devtools.services import free_port
from tests.helpers import wait_until
from tests.integration.alerts.conftest import T0, World, riga_store, sales, traffic
from tests.integration.alerts.test_crash import _counts, _env, _start
from tests.integration.alerts.test_engine import CONVERSION_RULE

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int) -> Samples:
    r = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert r.status_code == 200, r.text
    out: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def test_deliveries_retries_transitions_and_evaluation_lag_are_counted(world: World) -> None:
    riga_store(world.conn, "a")
    world.user("ann", ["a"])
    world.subscribe_all_channels("ann", store_id="a")
    world.rule("ann", **CONVERSION_RULE, scope={"store": "a"})
    traffic(world.conn, "a", T0, 60)
    sales(world.conn, "a", T0, 10, every_s=360)
    world.webhooks.fail_next = 1  # the receiver refuses the first attempt (503): one retry
    port = free_port()
    env = _env(world, ScaledClock(T0 + timedelta(hours=1), speed=1.0)) | {"FOOTFALL_ALERTS__METRICS_PORT": str(port)}
    p = _start(env, "--name", "metrics")

    def up() -> bool:
        try:
            scrape(port)
        except httpx.TransportError:
            return p.poll() is not None
        return True

    try:
        assert wait_until(up, 30), "no metrics endpoint"
        assert p.poll() is None, p.stderr.read() if p.stderr else ""

        # 1. Firing: one message per channel (webhook, e-mail, Telegram) plus the store's MQTT topic.
        assert wait_until(lambda: _counts(world) == (1, 1, 1), 30), _counts(world)

        def delivered(s: Samples) -> dict[str, float | None]:
            return {
                c: value(s, "footfall_alerts_deliveries_total", channel=c, outcome="delivered")
                for c in ("webhook", "email", "telegram", "mqtt")
            }

        assert wait_until(lambda: set(delivered(scrape(port)).values()) == {1.0}, 10), delivered(scrape(port))
        s = scrape(port)
        assert value(s, "footfall_alerts_deliveries_total", channel="webhook", outcome="retry") == 1
        for c in ("email", "telegram", "mqtt"):
            assert value(s, "footfall_alerts_deliveries_total", channel=c, outcome="retry") == 0
        assert value(s, "footfall_alerts_deliveries_total", channel="webhook", outcome="failed") == 0
        assert value(s, "footfall_alerts_delivery_seconds_count", channel="webhook") == 2  # both attempts timed
        assert value(s, "footfall_alerts_transitions_total", kind="firing") == 1
        assert value(s, "footfall_alerts_transitions_total", kind="resolved") == 0
        assert value(s, "footfall_alerts_messages_queued_total") == 4
        assert world.count("SELECT count(*) AS n FROM alert_outbox") == 4
        cycles = value(s, "footfall_alerts_cycles_total") or 0
        assert cycles >= 1
        assert value(s, "footfall_alerts_cycle_seconds_count") == cycles
        assert (value(s, "footfall_alerts_evaluations_total") or 0) >= cycles  # one target, every cycle
        assert value(s, "footfall_alerts_evaluation_failures_total") == 0
        assert wait_until(
            lambda: all(
                value(scrape(port), "footfall_alerts_outbox_messages", channel=c) == 0
                for c in ("webhook", "email", "telegram", "mqtt")
            ),
            10,
        )
        assert value(scrape(port), "footfall_alerts_outbox_oldest_seconds") == 0
        lag_before = value(s, "footfall_alerts_evaluation_lag_seconds_count") or 0

        # 2. Recovery committed while the process runs: NOTIFY wakes the engine; the lag is measured.
        now = ScaledClock.from_spec(env["FOOTFALL_SIM_CLOCK"]).now()
        traffic(world.conn, "a", T0 + timedelta(hours=1), int((now - T0).total_seconds() // 60) - 60 + 1)
        sales(world.conn, "a", T0 + timedelta(hours=1) - timedelta(minutes=30), 60, every_s=30)
        assert wait_until(lambda: _counts(world) == (2, 2, 2), 30), _counts(world)
        assert wait_until(
            lambda: value(scrape(port), "footfall_alerts_deliveries_total", channel="mqtt", outcome="delivered") == 2,
            10,
        )
        s = scrape(port)
        assert value(s, "footfall_alerts_transitions_total", kind="resolved") == 1
        assert value(s, "footfall_alerts_messages_queued_total") == 8
        for c in ("webhook", "email", "telegram", "mqtt"):
            assert value(s, "footfall_alerts_deliveries_total", channel=c, outcome="delivered") == 2
        lags = (value(s, "footfall_alerts_evaluation_lag_seconds_count") or 0) - lag_before
        lag_sum = value(s, "footfall_alerts_evaluation_lag_seconds_sum") or 0
        assert lags >= 1  # the two commits above (one or two notices, debounced)
        # Each lag includes the debounce (0.5 s by default) and is well under the 1 s cycle plus slack.
        count = value(s, "footfall_alerts_evaluation_lag_seconds_count") or 0
        assert 0.5 * count <= lag_sum < 10 * count
        assert {k for (_, labels) in s for k, _ in labels} <= {"channel", "outcome", "kind", "part", "le"}
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
