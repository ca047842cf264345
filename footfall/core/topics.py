"""The MQTT topic scheme: `footfall/v1/{store_id}/{device_id}/{kind}`.

The leading `footfall` is the *prefix*. It is configurable (`FOOTFALL_MQTT__PREFIX`) so
that several deployments, or several test runs, can share one broker without seeing
each other's traffic; production leaves it at `footfall`.

Example:
    >>> t = Topic(store_id="riga-01", device_id="door-a", kind=Kind.COUNTS)
    >>> t.render()
    'footfall/v1/riga-01/door-a/counts'
    >>> Topic.parse("footfall/v1/riga-01/door-a/counts") == t
    True
"""

from dataclasses import dataclass
from enum import StrEnum

from footfall.core.errors import TopicError
from footfall.core.ids import id_problem

VERSION = "v1"
DEFAULT_PREFIX = "footfall"


class Kind(StrEnum):
    """What a message carries; the last topic level."""

    COUNTS = "counts"
    OCCUPANCY = "occupancy"
    HEATMAP = "heatmap"
    TRACKS = "tracks"
    ZONES = "zones"
    HEARTBEAT = "heartbeat"
    STATUS = "status"


def check_prefix(prefix: str) -> str:
    """Validate a topic prefix (one or more safe levels, e.g. `footfall` or `acme/footfall`).

    Raises:
        TopicError: the prefix has an empty level, a wildcard or an unsafe character.
    """
    for level in prefix.split("/"):
        problem = id_problem(level)
        if problem:
            raise TopicError(f"topic prefix {prefix!r}: level {level!r} {problem}")
    return prefix


@dataclass(frozen=True, slots=True)
class Topic:
    """One concrete topic: a store, a device and a kind."""

    store_id: str
    device_id: str
    kind: Kind

    def __post_init__(self) -> None:
        for field, value in (("store_id", self.store_id), ("device_id", self.device_id)):
            problem = id_problem(value)
            if problem:
                raise TopicError(f"{field} {value!r} {problem}")

    def render(self, prefix: str = DEFAULT_PREFIX) -> str:
        """The topic string to publish on."""
        return f"{prefix}/{VERSION}/{self.store_id}/{self.device_id}/{self.kind.value}"

    @classmethod
    def parse(cls, topic: str, prefix: str = DEFAULT_PREFIX) -> "Topic":
        """Parse a received topic.

        Args:
            topic: the topic the message arrived on.
            prefix: the deployment's topic prefix.

        Returns:
            The parsed topic.

        Raises:
            TopicError: the topic is not `{prefix}/v1/{store}/{device}/{kind}` with valid ids.
        """
        head = f"{prefix}/{VERSION}/"
        if not topic.startswith(head):
            raise TopicError(f"topic {topic!r} does not start with {head!r}")
        rest = topic[len(head) :].split("/")
        if len(rest) != 3:
            raise TopicError(f"topic {topic!r} must have exactly three levels after {head!r}: store, device, kind")
        store_id, device_id, kind = rest
        return cls(store_id=store_id, device_id=device_id, kind=parse_kind(kind))


def parse_kind(value: str) -> Kind:
    """Turn a topic level into a Kind.

    Raises:
        TopicError: `value` is not one of the known kinds.
    """
    try:
        return Kind(value)
    except ValueError:
        known = ", ".join(k.value for k in Kind)
        raise TopicError(f"unknown message kind {value!r} (known: {known})") from None


def subscription(prefix: str = DEFAULT_PREFIX, *, store_id: str = "+", kind: str = "+") -> str:
    """A subscription filter over the scheme, e.g. every kind of every device of every store."""
    return f"{prefix}/{VERSION}/{store_id}/+/{kind}"


def shared_subscription(group: str, prefix: str = DEFAULT_PREFIX) -> str:
    """An MQTT v5 shared subscription so N ingest workers split the stream."""
    problem = id_problem(group)
    if problem:
        raise TopicError(f"share group {group!r} {problem}")
    return f"$share/{group}/{subscription(prefix)}"


def alerts_topic(prefix: str, store_id: str) -> str:
    """The retained alert state of a store, for in-store screens: `{prefix}/v1/{store_id}/alerts`.

    One level shorter than device topics, so `subscription()` (and ingest) never sees it.
    """
    return f"{prefix}/{VERSION}/{store_id}/alerts"
