"""Hypothesis strategies for the ingest fuzz tests: random bytes, random JSON, mutated and
valid messages, random topics under a prefix (only what the subscription can match)."""

import json

from hypothesis import strategies as st

from footfall.core import messages
from footfall.core.topics import Kind
from tests import strategies as cs
from tests.ingest_support import CAMERA, COUNTERS, EDGE, STORE

SENDER = {
    Kind.COUNTS: COUNTERS[0],
    Kind.OCCUPANCY: CAMERA,
    Kind.HEATMAP: CAMERA,
    Kind.TRACKS: CAMERA,
    Kind.ZONES: CAMERA,
    Kind.HEARTBEAT: EDGE,
    Kind.STATUS: EDGE,
}


def _authorised(msg: messages.AnyMessage) -> messages.AnyMessage:
    """Point a generated message at the test store's device, door, zones and floor."""
    kind = msg.kind
    update: dict = {"device_id": SENDER[kind]}
    if kind is not Kind.STATUS:
        fix = {
            Kind.COUNTS: {"door_id": "main"},
            Kind.OCCUPANCY: {"zone_id": None},
            Kind.HEATMAP: {"floor_id": "ground"},
            Kind.TRACKS: {"floor_id": "ground"},
            Kind.ZONES: {"zone_id": "coffee"},
            Kind.HEARTBEAT: {},
        }[kind]
        update["readings"] = [r.model_copy(update=fix) for r in msg.readings]
    return msg.model_copy(update=update)


valid_messages = cs.any_message.map(_authorised)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Kind, bytes]:
    """A valid message with one field replaced by a random JSON value."""
    msg = draw(valid_messages)
    body = json.loads(msg.to_json())
    target = body
    if "readings" in body and draw(st.booleans()):
        target = body["readings"][0]
    key = draw(st.sampled_from(sorted(target)) | st.text(max_size=6))
    target[key] = draw(json_values)
    return msg.kind, json.dumps(body).encode()


level = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn"), blacklist_characters="+#/\x00"), max_size=12
)


@st.composite
def inputs(draw: st.DrawFn, prefix: str) -> tuple[str, bytes]:
    """One (topic, payload) that the shared subscription under `prefix` receives."""
    choice = draw(st.sampled_from(["valid", "mutated", "json", "bytes", "topic"]))
    if choice == "valid":
        msg = draw(valid_messages)
        return f"{prefix}/v1/{STORE}/{msg.device_id}/{msg.kind.value}", msg.to_json()
    if choice == "mutated":
        kind, raw = draw(mutated())
        return f"{prefix}/v1/{STORE}/{SENDER[kind]}/{kind.value}", raw
    kind = draw(st.sampled_from(list(Kind)))
    topic = f"{prefix}/v1/{STORE}/{SENDER[kind]}/{kind.value}"
    if choice == "json":
        return topic, json.dumps(draw(json_values)).encode()
    if choice == "bytes":
        return topic, draw(st.binary(max_size=3000))
    topic = f"{prefix}/v1/{draw(level)}/{draw(level)}/{draw(level | st.sampled_from([k.value for k in Kind]))}"
    return topic, draw(st.binary(max_size=50) | valid_messages.map(lambda x: x.to_json()))
