"""`footfall alerts apply` and `footfall alerts digest` as a user runs them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from footfall.core.storeconfig import StoreConfig
from footfall.db.alerts import create_subscription
from footfall.db.stores import apply_store
from tests.integration.alerts.conftest import World

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
STORE_FILE = ROOT / "examples" / "store.yaml"


def _footfall(world: World, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, FOOTFALL_DB__URL=world.settings.db.url)
    return subprocess.run(
        [sys.executable, "-m", "footfall.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_apply_and_digest_commands(world: World, tmp_path: Path) -> None:
    with world.conn.transaction():
        apply_store(world.conn, StoreConfig.from_yaml(STORE_FILE))
    done = _footfall(world, "alerts", "apply", str(STORE_FILE))
    assert done.returncode == 0, done.stderr
    assert "4 rule(s) created" in done.stdout
    again = _footfall(world, "alerts", "apply", str(STORE_FILE))
    assert "0 rule(s) created, 0 updated, 0 removed" in again.stdout
    # A broken rule: the file and the field are named, and nothing changes.
    bad = tmp_path / "store.yaml"
    bad.write_text(STORE_FILE.read_text().replace("rolling_minutes: 60}", "rolling_minutes: 50}"))
    refused = _footfall(world, "alerts", "apply", str(bad))
    assert refused.returncode == 1
    assert "alerts.0.window" in refused.stderr
    assert "use 45 or 60" in refused.stderr
    assert world.count("SELECT count(*) AS n FROM alert_rules") == 4
    # Digests by hand: one per subscriber who wants them, once.
    world.user("ann", ["riga-01"])
    create_subscription(world.conn, user_id=world.users["ann"], channel="email", target="a@x.test", digest="daily")
    first = _footfall(world, "alerts", "digest", "--day", "2026-06-03")
    assert first.returncode == 0, first.stderr
    assert "1 digest message(s) queued" in first.stdout
    second = _footfall(world, "alerts", "digest", "--day", "2026-06-03")
    assert "0 digest message(s) queued" in second.stdout
