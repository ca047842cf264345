"""Triage decides each message by the cheapest check that fails, with a reason that says why."""

import json

import pytest

from footfall.ingest.registry import DeviceRegistry
from footfall.ingest.triage import Accepted, Inbound, Reason, Rejected, Triage
from tests.ingest_support import (
    CAMERA,
    COUNTERS,
    EDGE,
    OTHER_STORE,
    STORE,
    counts,
    heartbeat,
    heatmap,
    occupancy,
    registry_entries,
    status,
    tracks,
    zones,
)

P = "ff"


def _check(topic: str, payload: bytes, max_bytes: int = 4096) -> Accepted | Rejected:
    devices, places = registry_entries()
    t = Triage(prefix=P, registry=DeviceRegistry.from_entries(devices, places), max_payload_bytes=max_bytes)
    return t.check(Inbound(topic, payload, 1, 1, 0, 0.0))


def _t(device: str, kind: str, store: str = STORE) -> str:
    return f"{P}/v1/{store}/{device}/{kind}"


def _with(msg, **changes) -> bytes:
    body = json.loads(msg.to_json())
    body.update(changes)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (_t(COUNTERS[0], "counts"), counts(COUNTERS[0], 1).to_json(), None),  # a counter's counts
        (_t(CAMERA, "occupancy"), occupancy(1).to_json(), None),  # a camera's store and zone occupancy
        (_t(CAMERA, "heatmap"), heatmap(1).to_json(), None),  # a camera's heatmap
        (_t(CAMERA, "tracks"), tracks(1).to_json(), None),  # a camera's tracks
        (_t(CAMERA, "zones"), zones(1).to_json(), None),  # a camera's zone visits
        (_t(EDGE, "heartbeat"), heartbeat(1).to_json(), None),  # the edge box's heartbeat
        (_t(EDGE, "status"), status(1).to_json(), None),  # the edge box's retained status
        ("other/v1/s1/x/counts", b"{}", Reason.BAD_TOPIC),  # another prefix
        (_t(COUNTERS[0], "weather"), b"{}", Reason.BAD_TOPIC),  # unknown kind
        (f"{P}/v1/{STORE}/bad id/counts", b"{}", Reason.BAD_TOPIC),  # a space in the device level
        (_t(COUNTERS[0], "counts"), b"x" * 5000, Reason.TOO_LARGE),  # over max_payload_bytes
        (_t("ghost", "counts"), counts("ghost", 1).to_json(), Reason.UNKNOWN_DEVICE),  # never registered
        (_t("s1-retired", "counts"), counts("s1-retired", 1).to_json(), Reason.INACTIVE_DEVICE),  # deactivated
        (_t(COUNTERS[0], "counts", OTHER_STORE), counts(COUNTERS[0], 1).to_json(), Reason.WRONG_STORE),  # other store
        (_t(COUNTERS[0], "heatmap"), heatmap(1).to_json(), Reason.KIND_NOT_ALLOWED),  # counters make no heatmaps
        (_t(CAMERA, "heartbeat"), heartbeat(1).to_json(), Reason.KIND_NOT_ALLOWED),  # heartbeats come from the edge
        (_t(COUNTERS[0], "counts"), b"{not json", Reason.MALFORMED_JSON),  # broken JSON
        (_t(COUNTERS[0], "counts"), b"\xff\xfe", Reason.MALFORMED_JSON),  # not UTF-8
        (_t(COUNTERS[0], "counts"), _with(counts(COUNTERS[0], 1), schema=2), Reason.SCHEMA_VERSION),  # future
        (_t(COUNTERS[0], "counts"), _with(counts(COUNTERS[0], 1), seq=-1), Reason.INVALID_PAYLOAD),  # negative seq
        (_t(COUNTERS[0], "counts"), counts(COUNTERS[1], 1).to_json(), Reason.DEVICE_MISMATCH),  # payload of another
        (_t(COUNTERS[0], "counts"), counts(COUNTERS[0], 1, door="side").to_json(), Reason.UNKNOWN_DOOR),  # not its door
    ],
)
def test_each_message_is_accepted_or_refused_with_the_right_reason(
    topic: str, payload: bytes, reason: Reason | None
) -> None:
    out = _check(topic, payload)
    if reason is None:
        assert isinstance(out, Accepted), getattr(out, "detail", None)
    else:
        assert isinstance(out, Rejected)
        assert out.reason is reason
        assert out.detail


def test_zones_and_floors_must_belong_to_the_store() -> None:
    z = json.loads(zones(1).to_json())
    z["readings"][0]["zone_id"] = "garden"
    out = _check(_t(CAMERA, "zones"), json.dumps(z).encode())
    assert isinstance(out, Rejected)
    assert out.reason is Reason.UNKNOWN_ZONE
    h = json.loads(heatmap(1).to_json())
    h["readings"][0]["floor_id"] = "roof"
    out = _check(_t(CAMERA, "heatmap"), json.dumps(h).encode())
    assert isinstance(out, Rejected)
    assert out.reason is Reason.UNKNOWN_FLOOR


def test_only_registry_misses_are_worth_a_database_look_up() -> None:
    assert _check(_t("ghost", "counts"), counts("ghost", 1).to_json()).retryable
    assert not _check(_t(COUNTERS[0], "counts"), b"{").retryable


def test_a_dead_letter_keeps_a_bounded_copy_and_the_full_size_and_digest() -> None:
    out = _check(_t(COUNTERS[0], "counts"), b"y" * 5000)
    assert isinstance(out, Rejected)
    topic, store, device, code, reason, kept, size, digest = out.dead_letter_row(keep_bytes=100)
    assert (topic, store, device, code) == (_t(COUNTERS[0], "counts"), STORE, COUNTERS[0], "too_large")
    assert (len(kept), size, len(digest)) == (100, 5000, 32)
    assert "max_payload_bytes" in reason
