"""The AsyncAPI document: committed, generated from the models, valid AsyncAPI 3, and it
describes the payloads the models really produce."""

import json
import shutil
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given
from pydantic import ValidationError

from footfall.core.alertrules import Metric, Severity
from footfall.core.alertstate import AlertRuleState, StoreAlerts
from footfall.core.asyncapi import asyncapi_document, dumps_document
from footfall.core.messages import MESSAGE_TYPES
from footfall.core.topics import Kind, alerts_topic
from tests import strategies

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "docs" / "asyncapi.json"
SPECS = "@asyncapi/specs@6.11.1"
CACHE = ROOT / ".local" / "asyncapi-specs"


@pytest.fixture(scope="module")
def asyncapi_schema() -> dict[str, Any]:
    """The official AsyncAPI 3.0.0 JSON Schema, from the `@asyncapi/specs` npm package (cached in .local/)."""
    path = CACHE / "package" / "schemas" / "3.0.0.json"
    if not path.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip(f"AsyncAPI validation skipped: npm is not installed, so {SPECS} cannot be fetched")
        CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "pack", SPECS, "--silent"], cwd=CACHE, capture_output=True, text=True, timeout=300, check=False
        )
        if done.returncode != 0:
            pytest.skip(f"AsyncAPI validation skipped: `npm pack {SPECS}` failed: {done.stderr.strip()[:300]}")
        with tarfile.open(CACHE / done.stdout.strip().splitlines()[-1]) as tar:
            tar.extractall(CACHE, filter="data")
    return json.loads(path.read_text(encoding="utf-8"))


def test_committed_document_equals_the_models() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == dumps_document(asyncapi_document()), (
        "docs/asyncapi.json is out of date with footfall/core/messages.py: "
        "run `footfall schema asyncapi docs/asyncapi.json` and commit it"
    )


def test_document_is_valid_asyncapi_3(asyncapi_schema: dict[str, Any]) -> None:
    errors = [
        f"{list(e.instance_path)}: {e.message}"
        for e in jsonschema_rs.validator_for(asyncapi_schema).iter_errors(asyncapi_document())
    ]
    assert errors == []


@pytest.mark.parametrize(
    ("break_it", "where"),
    [
        (lambda d: d.pop("info"), "info"),  # a required section missing
        (lambda d: d["operations"]["publish_counts"].update(action="publish"), "action"),  # AsyncAPI 2 wording
        (lambda d: d["channels"]["counts"].update(address=42), "address"),  # wrong type
    ],
)
def test_validation_refuses_a_broken_document(asyncapi_schema: dict[str, Any], break_it, where: str) -> None:
    doc = asyncapi_document()
    break_it(doc)
    assert not jsonschema_rs.validator_for(asyncapi_schema).is_valid(doc), where


def test_every_kind_has_a_channel_a_message_and_both_operations() -> None:
    doc = asyncapi_document(prefix="acme/footfall")
    for kind in Kind:
        channel = doc["channels"][kind.value]
        assert channel["address"] == f"acme/footfall/v1/{{store_id}}/{{device_id}}/{kind.value}"
        assert list(channel["messages"]) == [MESSAGE_TYPES[kind].__name__]
        assert doc["operations"][f"publish_{kind.value}"]["action"] == "send"
        assert doc["operations"][f"ingest_{kind.value}"]["action"] == "receive"
    assert doc["operations"]["publish_status"]["bindings"]["mqtt"]["retain"] is True


def _payload_validator(kind: Kind) -> jsonschema_rs.Validator:
    doc = asyncapi_document()
    name = MESSAGE_TYPES[kind].__name__
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return jsonschema_rs.validator_for(schema)


VALIDATORS = {kind: _payload_validator(kind) for kind in Kind}


@pytest.mark.parametrize("kind", list(Kind))
def test_messages_the_models_produce_validate_against_the_document(kind: Kind) -> None:
    @given(strategies.message(kind))
    def check(msg) -> None:
        payload = json.loads(msg.model_dump_json(by_alias=True))
        errors = [e.message for e in VALIDATORS[kind].iter_errors(payload)]
        assert errors == [], payload

    check()


def test_a_payload_the_models_refuse_is_refused_by_the_document_too() -> None:
    counts = VALIDATORS[Kind.COUNTS]
    assert not counts.is_valid({"schema": 1, "device_id": "door-a", "seq": 1, "sent_at": "2026-01-01T00:00:00Z"})


def test_the_alerts_channel_is_the_retained_store_state_with_both_sides() -> None:
    doc = asyncapi_document(prefix="acme/footfall")
    channel = doc["channels"]["alerts"]
    assert channel["address"] == "acme/footfall/v1/{store_id}/alerts"
    assert list(channel["messages"]) == ["StoreAlerts"]
    for op, action in (("publish_alerts", "send"), ("screen_alerts", "receive")):
        assert doc["operations"][op]["action"] == action
        assert doc["operations"][op]["bindings"]["mqtt"]["retain"] is True
    # the address is the one the engine publishes to
    assert channel["address"].replace("{store_id}", "riga-01") == alerts_topic("acme/footfall", "riga-01")


ALERTS_VALIDATOR = jsonschema_rs.validator_for(
    {"$ref": "#/components/schemas/StoreAlerts", "components": asyncapi_document()["components"]}
)


@pytest.mark.parametrize(
    ("rules", "valid"),
    [
        ([], True),  # a store with no rule yet
        # a firing conversion rule and a device that is silent, as the delivery worker builds them
        (
            [
                AlertRuleState(
                    state_id=1, rule_id=2, name="Conversion below 15 %", metric=Metric.CONVERSION,
                    severity=Severity.WARNING, subject="", state="firing", since=datetime(2026, 6, 3, 7, tzinfo=UTC),
                    value=0.08, border=0.15, fired_at=datetime(2026, 6, 3, 7, tzinfo=UTC), acked_at=None,
                ),
                AlertRuleState(
                    state_id=3, rule_id=4, name="Band", metric=Metric.FORECAST_BAND, severity=Severity.INFO,
                    subject="", state="ok", since=None, value=None, border=None, fired_at=None, acked_at=None,
                    note="no trained entries model for store riga-01: run `footfall models train --store riga-01`",
                ),
            ],
            True,
        ),
    ],
)  # fmt: skip
def test_store_alerts_the_worker_publishes_validate_against_the_document(rules, valid: bool) -> None:
    payload = json.loads(StoreAlerts(store_id="riga-01", rules=rules).to_json())
    assert ALERTS_VALIDATOR.is_valid(payload) is valid, payload


@pytest.mark.parametrize(
    "break_it",
    [
        lambda p: p.pop("store_id"),  # the store is required
        lambda p: p["rules"][0].update(state="burning"),  # not a state
        lambda p: p["rules"][0].update(metric="mood"),  # not a metric
        lambda p: p.update(schema=2),  # another version
    ],
)
def test_the_document_refuses_what_the_alerts_model_refuses(break_it) -> None:
    good = {
        "schema": 1,
        "store_id": "riga-01",
        "rules": [
            {"state_id": 1, "rule_id": 1, "name": "r", "metric": "visitors", "severity": "info", "subject": "",
             "state": "ok", "since": None, "value": None, "border": None, "fired_at": None, "acked_at": None}
        ],
    }  # fmt: skip
    assert ALERTS_VALIDATOR.is_valid(good)
    assert StoreAlerts.model_validate(good)
    break_it(good)
    assert not ALERTS_VALIDATOR.is_valid(good)
    with pytest.raises(ValidationError):
        StoreAlerts.model_validate(good)
