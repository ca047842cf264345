"""Triage never raises, whatever arrives; every outcome is writable."""

from hypothesis import given, settings
from hypothesis import strategies as st

from footfall.ingest.registry import DeviceRegistry
from footfall.ingest.triage import Accepted, Inbound, Rejected, Triage
from tests.fuzz_ingest import inputs
from tests.ingest_support import registry_entries

PREFIX = "fz"


def _triage() -> Triage:
    devices, places = registry_entries()
    return Triage(prefix=PREFIX, registry=DeviceRegistry.from_entries(devices, places), max_payload_bytes=2048)


@settings(max_examples=300)
@given(item=inputs(PREFIX))
def test_any_input_is_either_accepted_or_dead_lettered_with_clean_text(item: tuple[str, bytes]) -> None:
    topic, payload = item
    out = _triage().check(Inbound(topic, payload, 1, 1, 0, 0.0))
    assert isinstance(out, Accepted | Rejected)
    if isinstance(out, Rejected):
        row = out.dead_letter_row(keep_bytes=100)
        assert all("\x00" not in v for v in row if isinstance(v, str))
        assert len(row[5]) <= 100
        assert row[6] == len(payload)
    else:
        assert out.message.to_json()


@given(topic=st.text(max_size=80), payload=st.binary(max_size=200))
def test_arbitrary_topics_never_raise(topic: str, payload: bytes) -> None:
    out = _triage().check(Inbound(topic, payload, 1, 1, 0, 0.0))
    assert isinstance(out, Rejected) or out.topic.render(PREFIX) == topic
