"""Triage decides each message by the cheapest check that fails, with a reason that says why."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from footfall.core import messages as m
from footfall.core.topics import Kind
from footfall.ingest.registry import DeviceRegistry
from footfall.ingest.triage import Accepted, Inbound, Reason, Rejected, Triage
from tests.ingest_support import (
    CAMERA,
    COUNTERS,
    EDGE,
    OTHER_STORE,
    STORE,
    T0,
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


NOW = T0 + timedelta(days=1)


def _timed(payload: bytes, topic: str, **triage: object) -> Accepted | Rejected:
    devices, places = registry_entries()
    t = Triage(
        prefix=P,
        registry=DeviceRegistry.from_entries(devices, places),
        max_payload_bytes=1 << 20,
        clock=lambda: NOW,
        **triage,  # type: ignore[arg-type]
    )
    return t.check(Inbound(topic, payload, 1, 1, 0, 0.0))


def _counts_at(*starts: datetime) -> bytes:
    rs = [m.CountsReading(start=s, end=s + timedelta(minutes=1), door_id="main", entries=1, exits=0) for s in starts]
    return m.CountsMessage(
        device_id=COUNTERS[0], seq=1, sent_at=max(starts) + timedelta(minutes=1), readings=rs
    ).to_json()


@pytest.mark.parametrize(
    ("starts", "triage", "reason", "kept"),
    [
        ((NOW - timedelta(minutes=5),), {}, None, 1),  # a reading of five minutes ago
        ((NOW + timedelta(minutes=8),), {}, None, 1),  # a device clock 9 minutes fast: within the 10 allowed
        ((NOW + timedelta(minutes=10),), {}, Reason.FUTURE_READING, 0),  # ends 11 minutes ahead
        ((datetime(2030, 1, 1, tzinfo=UTC),), {}, Reason.FUTURE_READING, 0),  # a clock that says 2030
        ((NOW, datetime(2030, 1, 1, tzinfo=UTC)), {}, Reason.FUTURE_READING, 1),  # one good, one from 2030: split
        ((NOW + timedelta(minutes=3),), {"max_future": timedelta(0)}, Reason.FUTURE_READING, 0),  # no skew allowed
        ((T0 - timedelta(days=400),), {}, None, 1),  # old, and no retention horizon for counts
        ((NOW - timedelta(days=31),), {"horizons": {Kind.COUNTS: timedelta(days=30)}}, Reason.EXPIRED_READING, 0),
        ((NOW - timedelta(days=29),), {"horizons": {Kind.COUNTS: timedelta(days=30)}}, None, 1),  # inside retention
        ((NOW - timedelta(days=31), NOW), {"horizons": {Kind.HEATMAP: timedelta(days=30)}}, None, 2),  # other kind
    ],
)
def test_readings_are_judged_by_the_receivers_clock(
    starts: tuple[datetime, ...], triage: dict, reason: Reason | None, kept: int
) -> None:
    out = _timed(_counts_at(*starts), _t(COUNTERS[0], "counts"), **triage)
    if kept == 0:
        assert isinstance(out, Rejected)
        assert out.reason is reason
        return
    assert isinstance(out, Accepted)
    assert len(out.message.readings) == kept  # type: ignore[union-attr]
    if reason is None:
        assert out.split_off is None
    else:
        assert out.split_off is not None
        assert out.split_off.reason is reason
        assert "were stored" in out.split_off.detail


def test_a_status_from_the_future_is_refused() -> None:
    st = m.StatusMessage(device_id=EDGE, seq=1, sent_at=datetime(2030, 1, 1, tzinfo=UTC), state="online")
    out = _timed(st.to_json(), _t(EDGE, "status"))
    assert isinstance(out, Rejected)
    assert out.reason is Reason.FUTURE_READING


@pytest.mark.parametrize(
    ("edge_k", "server_k", "kept"),
    [
        (1, 2, [2, 3, 4]),  # k switched off at the edge: the server drops single-track cells
        (1, 4, [4]),  # a stricter server
        (3, 2, [3, 4]),  # the edge's k is already stricter: nothing to do
    ],
)
def test_heatmap_cells_below_the_servers_k_are_dropped(edge_k: int, server_k: int, kept: list[int]) -> None:
    start = NOW - timedelta(minutes=1)
    cells = [m.HeatmapCell(x=x, y=0, presence_s=1.0, tracks=x + 1) for x in range(4) if x + 1 >= edge_k]
    reading = m.HeatmapReading(start=start, end=NOW, floor_id="ground", cell_m=0.5, min_tracks=edge_k, cells=cells)
    msg = m.HeatmapMessage(device_id=CAMERA, seq=1, sent_at=NOW, readings=[reading])
    out = _timed(msg.to_json(), _t(CAMERA, "heatmap"), min_k=server_k)
    assert isinstance(out, Accepted)
    [r] = out.message.readings  # type: ignore[union-attr]
    assert [c.tracks for c in r.cells] == kept
    assert r.min_tracks == max(edge_k, server_k)
    assert out.suppressed_cells == len(cells) - len(kept)


@pytest.mark.parametrize(
    ("policies", "cap", "expected"),
    [
        (None, None, {}),  # plain path, no cap: nothing is too old
        ({"tracks": timedelta(days=30)}, None, {Kind.TRACKS: timedelta(days=30)}),  # a retention policy
        ({"tracks": timedelta(days=30)}, 10.0, {k: timedelta(days=10) for k in Kind if k is not Kind.STATUS}),  # cap
    ],
)
def test_retention_horizons_come_from_the_policies_and_the_cap(policies, cap, expected) -> None:
    from footfall.ingest.worker import horizons

    assert horizons(policies, cap) == expected
