"""`footfall alerts apply` and `footfall alerts digest` as a user runs them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from footfall.api.access import Role
from footfall.core.storeconfig import StoreConfig
from footfall.db.alerts import apply_store_rules, create_subscription
from footfall.db.errors import InvalidAlertRule
from footfall.db.stores import apply_store
from tests.integration.alerts.conftest import World, login

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
STORE_FILE = ROOT / "examples" / "store.yaml"


def _footfall(world: World, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, FOOTFALL_DB__URL=world.settings.db.url, COLUMNS="500")  # no wrapped lines
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


def _store_file(tmp_path: Path, *, zones: list[dict] | None = None, alerts: list[dict]) -> Path:
    """The example store file with more zones and alert rules, next to its plan picture."""
    data = yaml.safe_load(STORE_FILE.read_text())
    data["zones"] += zones or []
    data["alerts"] += alerts
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "plan-ground.png").symlink_to(STORE_FILE.parent / "plan-ground.png")
    path = tmp_path / "store.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


QUEUE_LONG = {"id": "queue-long", "name": "Queue", "metric": "queue_length", "comparator": ">", "threshold": 5}


def test_apply_checks_rules_against_the_stored_store_as_the_api_does(world: World, tmp_path: Path) -> None:
    with world.conn.transaction():
        apply_store(world.conn, StoreConfig.from_yaml(STORE_FILE))
    assert _footfall(world, "alerts", "apply", str(STORE_FILE)).returncode == 0
    rules = "SELECT count(*) AS n FROM alert_rules"
    # A good queue rule (its till named) next to one on a sales area: the file is refused whole,
    # naming the rule and the field, with the API's message.
    bad = _store_file(
        tmp_path,
        alerts=[
            {**QUEUE_LONG, "scope": {"store": "riga-01", "zone": "checkout"}},
            {**QUEUE_LONG, "id": "queue-at-bakery", "scope": {"store": "riga-01", "zone": "bakery"}},
        ],
    )
    refused = _footfall(world, "alerts", "apply", str(bad))
    assert refused.returncode == 1
    assert f"{bad}: 1 alert rule problem(s), nothing applied" in refused.stderr
    assert "rule 'queue-at-bakery' (alerts.5.scope.zone)" in refused.stderr
    assert "zone 'bakery' of store 'riga-01' is neither a checkout queue nor the till of one" in refused.stderr
    assert "queue-long" not in refused.stderr
    assert world.count(rules) == 4
    # A zone the file declares but the database does not have yet (`stores apply` not run):
    # a zone occupancy rule on it is refused, as the API refuses it.
    terrace = {"id": "terrace", "floor": "ground", "name": "Terrace", "polygon": [[2, 10], [8, 10], [8, 16], [2, 16]]}
    occupancy = {"id": "terrace-full", "name": "Full", "metric": "zone_occupancy", "comparator": ">", "threshold": 9}
    stale = _store_file(
        tmp_path / "stale", zones=[terrace], alerts=[{**occupancy, "scope": {"store": "riga-01", "zone": "terrace"}}]
    )
    refused = _footfall(world, "alerts", "apply", str(stale))
    assert refused.returncode == 1
    assert "rule 'terrace-full' (alerts.4.scope.zone): store 'riga-01' has no zone 'terrace'" in refused.stderr
    assert world.count(rules) == 4
    # Once the store is applied, the same file goes through.
    with world.conn.transaction():
        apply_store(world.conn, StoreConfig.from_yaml(stale))
    done = _footfall(world, "alerts", "apply", str(stale))
    assert done.returncode == 0, done.stderr
    assert world.count(rules) == 5


def test_the_api_and_a_store_file_refuse_the_same_rule_with_the_same_message(
    world: World, client: TestClient, tmp_path: Path
) -> None:
    with world.conn.transaction():
        apply_store(world.conn, StoreConfig.from_yaml(STORE_FILE))
    world.user("mia", ["riga-01"], role=Role.MANAGER)
    rule = {**QUEUE_LONG, "scope": {"store": "riga-01", "zone": "grocery"}}
    api = client.post(
        "/v1/alert-rules",
        json={k: v for k, v in rule.items() if k != "id"},
        headers=login(client, "mia"),
    )
    assert api.status_code == 422
    assert api.json()["errors"][0]["loc"] == ["body", "scope", "zone"]
    cfg = StoreConfig.from_yaml(_store_file(tmp_path, alerts=[rule]))
    with pytest.raises(InvalidAlertRule) as refused:
        apply_store_rules(world.conn, cfg, source="riga.yaml")
    assert refused.value.problems == [("queue-long", "alerts.4.scope.zone", api.json()["detail"])]
    assert world.count("SELECT count(*) AS n FROM alert_rules") == 0
