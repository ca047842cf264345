"""`footfall alerts run` as a real process, SIGKILLed between the state change and the delivery,
and again while it runs: every notification still arrives exactly once per channel."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from footfall.core.clock import ScaledClock
from tests.integration.alerts.conftest import T0, TOKEN, World, riga_store, sales, traffic
from tests.integration.alerts.test_engine import CONVERSION_RULE

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def _env(world: World, clock: ScaledClock) -> dict[str, str]:
    a = world.settings.alerts
    env = dict(os.environ)
    env.update(
        {
            "FOOTFALL_DB__URL": world.settings.db.url,
            "FOOTFALL_MQTT__PREFIX": world.settings.mqtt.prefix,
            "FOOTFALL_ALERTS__SMTP_PORT": str(a.smtp_port),
            "FOOTFALL_ALERTS__TELEGRAM_API_URL": a.telegram_api_url,
            "FOOTFALL_ALERTS__TELEGRAM_BOT_TOKEN": TOKEN,
            "FOOTFALL_ALERTS__WEBHOOK_ALLOW": json.dumps(["127.0.0.1/32"]),
            "FOOTFALL_ALERTS__CYCLE_S": "1",
            "FOOTFALL_ALERTS__METRICS_PORT": "0",
            "FOOTFALL_ALERTS__BACKOFF_S": "0.1",
            "FOOTFALL_SIM_CLOCK": clock.spec(),
        }
    )
    return env


def _start(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "footfall.cli", "alerts", "run", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _until(check: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _kill(p: subprocess.Popen) -> None:
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)


def _counts(world: World) -> tuple[int, int, int]:
    return len(world.webhooks.received), len(world.mailbox.messages), len(world.telegram.received)


def test_sigkill_between_state_change_and_delivery_loses_and_doubles_nothing(world: World) -> None:
    riga_store(world.conn, "a")
    world.user("ann", ["a"])
    world.subscribe_all_channels("ann", store_id="a")
    world.rule("ann", **CONVERSION_RULE, scope={"store": "a"})
    traffic(world.conn, "a", T0, 60)
    sales(world.conn, "a", T0, 10, every_s=360)
    env = _env(world, ScaledClock(T0 + timedelta(hours=1), speed=1.0))
    procs: list[subprocess.Popen] = []
    try:
        # 1. The engine commits the state change and its outbox rows, then dies before any delivery.
        p = _start(env, "--no-deliver", "--name", "doomed")
        procs.append(p)
        _until(lambda: world.count("SELECT count(*) AS n FROM alert_outbox") >= 4, "the outbox rows")
        _kill(p)
        assert world.count("SELECT count(*) AS n FROM alert_states WHERE state = 'firing'") == 1
        assert _counts(world) == (0, 0, 0)

        # 2. Restarted (engine and delivery): each channel gets the message once.
        p = _start(env, "--name", "second")
        procs.append(p)
        _until(lambda: _counts(world) == (1, 1, 1), "one message per channel")
        time.sleep(3)  # several more cycles on the same data
        assert _counts(world) == (1, 1, 1)
        _kill(p)  # 3. killed again mid-run

        # 4. Recovery arrives while a third process runs: one "resolved" per channel, woken by NOTIFY.
        p = _start(env, "--name", "third")
        procs.append(p)
        time.sleep(1)
        now = ScaledClock.from_spec(env["FOOTFALL_SIM_CLOCK"]).now()
        traffic(world.conn, "a", T0 + timedelta(hours=1), int((now - T0).total_seconds() // 60) - 60 + 1)
        sales(world.conn, "a", T0 + timedelta(hours=1) - timedelta(minutes=30), 60, every_s=30)
        _until(lambda: _counts(world) == (2, 2, 2), "one resolved message per channel")
        time.sleep(3)
        assert _counts(world) == (2, 2, 2)
        assert [r["body"]["kind"] for r in world.webhooks.received] == ["firing", "resolved"]
        assert all(r["verified"] for r in world.webhooks.received)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
