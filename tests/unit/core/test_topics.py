from contextlib import ExitStack as DoesNotRaise
from contextlib import suppress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from footfall.core.errors import TopicError
from footfall.core.topics import Kind, Topic, check_prefix, shared_subscription, subscription
from tests.strategies import ids


@pytest.mark.parametrize(
    ("topic", "expectation"),
    [
        ("footfall/v1/riga-01/door-a/counts", DoesNotRaise()),  # the plain case
        ("footfall/v1/riga.01/door_a/heartbeat", DoesNotRaise()),  # dots and underscores are fine
        ("footfall/v1/+/door-a/counts", pytest.raises(TopicError, match="wildcard")),  # single-level wildcard
        ("footfall/v1/riga-01/#/counts", pytest.raises(TopicError, match="wildcard")),  # multi-level wildcard
        ("footfall/v1/riga-01/../counts", pytest.raises(TopicError, match=r"\.\.")),  # path trick
        ("footfall/v1/riga-01/door-a/extra/counts", pytest.raises(TopicError, match="exactly three")),
        ("footfall/v1/riga-01//counts", pytest.raises(TopicError, match="empty")),  # empty level
        ("footfall/v1/riga-01/door-a/cookies", pytest.raises(TopicError, match="unknown message kind")),
        ("footfall/v2/riga-01/door-a/counts", pytest.raises(TopicError, match="does not start")),  # other version
        ("other/v1/riga-01/door-a/counts", pytest.raises(TopicError, match="does not start")),  # other prefix
        ("footfall/v1/$SYS/door-a/counts", pytest.raises(TopicError, match=r"\$")),  # broker-reserved
        ("footfall/v1/riga 01/door-a/counts", pytest.raises(TopicError, match="letters")),  # whitespace
        ("footfall/v1/" + "s" * 65 + "/door-a/counts", pytest.raises(TopicError, match="65 characters")),
    ],
)
def test_parse(topic: str, expectation) -> None:
    with expectation:
        Topic.parse(topic)


@given(store=ids, device=ids, kind=st.sampled_from(list(Kind)))
def test_render_and_parse_round_trip(store: str, device: str, kind: Kind) -> None:
    t = Topic(store, device, kind)
    assert Topic.parse(t.render()) == t
    assert Topic.parse(t.render("acme/footfall"), "acme/footfall") == t


@given(level=st.text(max_size=20))
def test_parse_never_raises_anything_but_topic_error(level: str) -> None:
    with suppress(TopicError):
        Topic.parse(f"footfall/v1/{level}/dev/counts")


def test_builder_refuses_unsafe_ids() -> None:
    with pytest.raises(TopicError, match="device_id"):
        Topic("riga-01", "a+b", Kind.COUNTS)


def test_subscriptions() -> None:
    assert subscription() == "footfall/v1/+/+/+"
    assert shared_subscription("ingest") == "$share/ingest/footfall/v1/+/+/+"
    with pytest.raises(TopicError):
        shared_subscription("in/gest")
    with pytest.raises(TopicError):
        check_prefix("foot#fall")
