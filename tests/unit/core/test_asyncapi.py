"""The AsyncAPI document: committed, generated from the models, valid AsyncAPI 3, and it
describes the payloads the models really produce."""

import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given

from footfall.core.asyncapi import asyncapi_document, dumps_document
from footfall.core.messages import MESSAGE_TYPES
from footfall.core.topics import Kind
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
