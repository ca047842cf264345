import json
from contextlib import ExitStack as DoesNotRaise
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from footfall.core import messages
from footfall.core.errors import PayloadError
from footfall.core.topics import Kind
from tests.strategies import any_message, message

T0 = datetime(2026, 3, 29, 10, 0, tzinfo=UTC)


def counts_payload(**reading_overrides: object) -> dict:
    reading = {
        "start": T0.isoformat(),
        "end": (T0 + timedelta(minutes=1)).isoformat(),
        "door_id": "main",
        "entries": 3,
        "exits": 1,
    }
    reading.update(reading_overrides)
    return {
        "schema": 1,
        "device_id": "door-a",
        "seq": 1,
        "sent_at": (T0 + timedelta(minutes=1)).isoformat(),
        "readings": [reading],
    }


@pytest.mark.parametrize("kind", list(Kind))
@given(data=st.data())
def test_every_kind_round_trips_through_json(kind: Kind, data: st.DataObject) -> None:
    msg = data.draw(message(kind))
    wire = msg.to_json()
    assert json.loads(wire)["schema"] == 1
    assert messages.parse_payload(kind, wire) == msg


@given(msg=any_message, junk=st.binary(max_size=64))
def test_random_corruption_is_rejected_with_a_reason_or_parses(msg: messages.AnyMessage, junk: bytes) -> None:
    wire = msg.to_json()
    cut = len(junk) % max(1, len(wire))
    corrupted = wire[:cut] + junk + wire[cut + len(junk) :]
    outcome: PayloadError | None = None
    try:
        messages.parse_payload(msg.kind, corrupted)
    except PayloadError as exc:
        outcome = exc
    if outcome is not None:
        assert outcome.reason
        assert outcome.code in ("malformed_json", "schema_version", "invalid_payload")


@given(raw=st.binary(max_size=512), kind=st.sampled_from(list(Kind)))
def test_random_bytes_never_raise_anything_but_payload_error(raw: bytes, kind: Kind) -> None:
    with pytest.raises(PayloadError):
        messages.parse_payload(kind, raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(value=json_values, kind=st.sampled_from(list(Kind)))
def test_random_json_is_rejected_with_a_reason(value: object, kind: Kind) -> None:
    with pytest.raises(PayloadError) as info:
        messages.parse_payload(kind, json.dumps(value))
    assert info.value.reason


@pytest.mark.parametrize(
    ("payload", "code", "expectation"),
    [
        (counts_payload(), None, DoesNotRaise()),  # a plain valid minute
        (counts_payload(passersby=40, valid=False), None, DoesNotRaise()),  # optional fields
        (counts_payload(entries=-1), "invalid_payload", pytest.raises(PayloadError, match="entries")),  # negative
        (
            counts_payload(entries=messages.MAX_COUNT + 1),
            "invalid_payload",
            pytest.raises(PayloadError, match="entries"),
        ),
        (counts_payload(end=T0.isoformat()), "invalid_payload", pytest.raises(PayloadError, match="not after start")),
        (
            counts_payload(end=(T0 - timedelta(seconds=1)).isoformat()),
            "invalid_payload",
            pytest.raises(PayloadError, match="not after start"),
        ),  # end before start
        (
            counts_payload(end=(T0 + timedelta(days=2)).isoformat()),
            "invalid_payload",
            pytest.raises(PayloadError, match="longer than"),
        ),  # absurd interval
        (
            counts_payload(start="2026-03-29T10:00:00"),
            "invalid_payload",
            pytest.raises(PayloadError, match="timezone"),
        ),  # naive datetime
        (counts_payload(colour="red"), "invalid_payload", pytest.raises(PayloadError, match="colour")),  # unknown
        (counts_payload(door_id="a/b"), "invalid_payload", pytest.raises(PayloadError, match="door_id")),
        (counts_payload(door_id="#"), "invalid_payload", pytest.raises(PayloadError, match="door_id")),
        (
            {**counts_payload(), "schema": 2},
            "schema_version",
            pytest.raises(PayloadError, match="unsupported schema version 2"),
        ),
        ({**counts_payload(), "readings": []}, "invalid_payload", pytest.raises(PayloadError, match="readings")),
        ({**counts_payload(), "seq": -5}, "invalid_payload", pytest.raises(PayloadError, match="seq")),
        (
            {**counts_payload(), "sent_at": (T0 - timedelta(hours=1)).isoformat()},
            "invalid_payload",
            pytest.raises(PayloadError, match="after sent_at"),
        ),  # reading from the future
        (
            counts_payload(start="1970-01-01T00:00:00Z", end="1970-01-01T00:01:00Z"),
            "invalid_payload",
            pytest.raises(PayloadError, match="clock unset"),
        ),
    ],
)
def test_counts_validation(payload: dict, code: str | None, expectation) -> None:
    with expectation as info:
        messages.parse_payload(Kind.COUNTS, json.dumps(payload))
    if code:
        assert info.value.code == code


def test_too_many_readings_is_rejected() -> None:
    payload = counts_payload()
    payload["readings"] = payload["readings"] * (messages.MAX_READINGS + 1)
    with pytest.raises(PayloadError, match="readings"):
        messages.parse_payload(Kind.COUNTS, json.dumps(payload))


def test_malformed_json_names_it() -> None:
    with pytest.raises(PayloadError) as info:
        messages.parse_payload(Kind.COUNTS, b'{"schema": 1, ')
    assert info.value.code == "malformed_json"


@pytest.mark.parametrize(
    ("cells", "k", "match"),
    [
        (
            [{"x": 1, "y": 1, "presence_s": 10, "tracks": 3}, {"x": 1, "y": 1, "presence_s": 5, "tracks": 3}],
            3,
            "appears twice",
        ),  # duplicate cell
        ([{"x": 1, "y": 1, "presence_s": 10, "tracks": 2}], 3, "below k=3"),  # privacy threshold
        ([{"x": 1, "y": 1, "presence_s": 500, "tracks": 3}], 3, "more than"),  # 3 tracks × 60 s < 500 s
    ],
)
def test_heatmap_rules(cells: list[dict], k: int, match: str) -> None:
    payload = {
        "schema": 1,
        "device_id": "cam-1",
        "seq": 1,
        "sent_at": (T0 + timedelta(minutes=1)).isoformat(),
        "readings": [
            {
                "start": T0.isoformat(),
                "end": (T0 + timedelta(minutes=1)).isoformat(),
                "floor_id": "ground",
                "cell_m": 0.5,
                "min_tracks": k,
                "cells": cells,
            }
        ],
    }
    with pytest.raises(PayloadError, match=match):
        messages.parse_payload(Kind.HEATMAP, json.dumps(payload))


def test_timestamps_are_normalised_to_utc() -> None:
    payload = counts_payload(start="2026-03-29T13:00:00+03:00", end="2026-03-29T13:01:00+03:00")
    msg = messages.parse_payload(Kind.COUNTS, json.dumps(payload))
    assert msg.readings[0].start == T0
    assert msg.readings[0].start.utcoffset() == timedelta(0)


def test_status_has_no_readings_and_round_trips() -> None:
    msg = messages.StatusMessage(device_id="edge-1", seq=3, sent_at=T0, state="offline")
    assert "readings" not in json.loads(msg.to_json())
    assert messages.parse_payload(Kind.STATUS, msg.to_json()) == msg


def test_json_schema_per_kind_describes_the_wire_names() -> None:
    schemas = messages.json_schemas()
    assert set(schemas) == set(Kind)
    assert "schema" in schemas[Kind.COUNTS]["properties"]
    assert "schema_version" not in schemas[Kind.COUNTS]["properties"]
