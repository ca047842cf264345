"""Decide, message by message, what goes to the fact tables and what to `dead_letters`.

Checks run cheapest first, so junk costs little: size, topic, the device's registration
(exists, active, in the topic's store, allowed to publish this kind), then the payload
against the core models, then that the payload's device, doors, zones and floors belong
to that device and store. Nothing here touches the network.
"""

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from footfall.core.errors import PayloadError, TopicError
from footfall.core.messages import (
    AnyMessage,
    CountsMessage,
    HeatmapMessage,
    OccupancyMessage,
    TracksMessage,
    ZonesMessage,
    parse_payload,
)
from footfall.core.topics import Kind, Topic
from footfall.ingest.registry import DeviceRegistry


class Reason(StrEnum):
    """Why a message was dead-lettered (`dead_letters.reason_code`, the metrics' `reason` label)."""

    TOO_LARGE = "too_large"
    BAD_TOPIC = "bad_topic"
    UNKNOWN_DEVICE = "unknown_device"
    INACTIVE_DEVICE = "inactive_device"
    WRONG_STORE = "wrong_store"
    KIND_NOT_ALLOWED = "kind_not_allowed"
    MALFORMED_JSON = "malformed_json"
    SCHEMA_VERSION = "schema_version"
    INVALID_PAYLOAD = "invalid_payload"
    DEVICE_MISMATCH = "device_mismatch"
    UNKNOWN_DOOR = "unknown_door"
    UNKNOWN_ZONE = "unknown_zone"
    UNKNOWN_FLOOR = "unknown_floor"
    DB_REJECTED = "db_rejected"


COUNTERS = frozenset({"counter_tcp", "counter_http", "counter_mqtt"})

ALLOWED_KINDS: dict[str, frozenset[Kind]] = {
    # The edge agent reports on itself (heartbeats, its retained status) and may compute
    # the store's occupancy from all doors.
    "edge": frozenset({Kind.HEARTBEAT, Kind.STATUS, Kind.OCCUPANCY}),
    **{c: frozenset({Kind.COUNTS, Kind.OCCUPANCY}) for c in COUNTERS},
    # A camera counts on its lines (doors) and produces floor-plan aggregates.
    "camera": frozenset({Kind.COUNTS, Kind.OCCUPANCY, Kind.HEATMAP, Kind.TRACKS, Kind.ZONES}),
}
"""Which message kinds each device kind may publish."""

RETRYABLE = frozenset({Reason.UNKNOWN_DEVICE, Reason.UNKNOWN_DOOR, Reason.UNKNOWN_ZONE, Reason.UNKNOWN_FLOOR})
"""Refusals that a fresh look at the database may turn around (a device registered moments ago)."""

MAX_REASON = 1000
_PAYLOAD_CODES = frozenset({Reason.MALFORMED_JSON.value, Reason.SCHEMA_VERSION.value, Reason.INVALID_PAYLOAD.value})


@dataclass(slots=True)
class Inbound:
    """One message as received from the broker, not yet acknowledged."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int
    received: float
    """`time.monotonic()` when it arrived."""


@dataclass(slots=True)
class Accepted:
    """A valid, authorised message."""

    inbound: Inbound
    topic: Topic
    message: AnyMessage


@dataclass(slots=True)
class Rejected:
    """A message for `dead_letters`."""

    inbound: Inbound
    reason: Reason
    detail: str
    store_id: str | None = None
    device_id: str | None = None

    @property
    def retryable(self) -> bool:
        """Whether a registry look-up might accept it after all."""
        return self.reason in RETRYABLE

    def dead_letter_row(self, keep_bytes: int) -> tuple:
        """The `dead_letters` insert parameters (payload bounded to `keep_bytes`)."""
        raw = self.inbound.payload
        return (
            clean_text(self.inbound.topic, 65_535),
            self.store_id,
            self.device_id,
            self.reason.value,
            clean_text(self.detail, MAX_REASON),
            raw[:keep_bytes],
            len(raw),
            hashlib.sha256(raw).digest(),
        )


def clean_text(value: str, limit: int) -> str:
    """Text PostgreSQL accepts (no NUL) and of bounded length."""
    if "\x00" in value:
        value = value.replace("\x00", "\\x00")
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass
class Triage:
    """Sorts inbound messages into accepted and rejected.

    Example:
        >>> from footfall.ingest.registry import DeviceRegistry
        >>> t = Triage(prefix="footfall", registry=DeviceRegistry(), max_payload_bytes=1024)
        >>> t.check(Inbound("elsewhere/x", b"{}", 1, 1, 0, 0.0)).reason.value
        'bad_topic'
    """

    prefix: str
    registry: DeviceRegistry
    max_payload_bytes: int

    def check(self, inbound: Inbound) -> Accepted | Rejected:  # noqa: PLR0911 - one return per check, in order
        """Decide one message."""
        size = len(inbound.payload)
        try:
            topic = Topic.parse(inbound.topic, self.prefix)
        except TopicError as exc:
            return Rejected(inbound, Reason.BAD_TOPIC, str(exc))
        store_id, device_id = topic.store_id, topic.device_id
        if size > self.max_payload_bytes:
            return Rejected(
                inbound,
                Reason.TOO_LARGE,
                f"payload is {size} bytes, more than the {self.max_payload_bytes} allowed (ingest.max_payload_bytes)",
                store_id,
                device_id,
            )
        device = self.registry.device(device_id)
        if device is None:
            return Rejected(
                inbound, Reason.UNKNOWN_DEVICE, f"device {device_id!r} is not registered", store_id, device_id
            )
        if not device.active:
            return Rejected(
                inbound, Reason.INACTIVE_DEVICE, f"device {device_id!r} is deactivated", store_id, device_id
            )
        if device.store_id != store_id:
            return Rejected(
                inbound,
                Reason.WRONG_STORE,
                f"device {device_id!r} belongs to store {device.store_id!r}, not {store_id!r}",
                store_id,
                device_id,
            )
        if topic.kind not in ALLOWED_KINDS.get(device.kind, frozenset()):
            return Rejected(
                inbound,
                Reason.KIND_NOT_ALLOWED,
                f"a {device.kind} device may not publish {topic.kind.value}",
                store_id,
                device_id,
            )
        try:
            message = parse_payload(topic.kind, inbound.payload)
        except PayloadError as exc:
            code = Reason(exc.code) if exc.code in _PAYLOAD_CODES else Reason.INVALID_PAYLOAD
            return Rejected(inbound, code, exc.reason, store_id, device_id)
        if message.device_id != device_id:
            return Rejected(
                inbound,
                Reason.DEVICE_MISMATCH,
                f"payload device_id {message.device_id!r} is not the topic's device {device_id!r}",
                store_id,
                device_id,
            )
        problem = self._places(message, device.doors, store_id)
        if problem is not None:
            return Rejected(inbound, problem[0], problem[1], store_id, device_id)
        return Accepted(inbound, topic, message)

    def _places(self, message: AnyMessage, doors: frozenset[str], store_id: str) -> tuple[Reason, str] | None:
        if isinstance(message, CountsMessage):
            for i, r in enumerate(message.readings):
                if r.door_id not in doors:
                    return Reason.UNKNOWN_DOOR, f"readings.{i}.door_id: {r.door_id!r} is not a door of this device"
            return None
        if isinstance(message, OccupancyMessage | ZonesMessage):
            zones = self.registry.places(store_id).zones
            # one isinstance per class: mypy joins a union of generic messages to Message[Reading]
            zone_ids = [r.zone_id for r in message.readings] if isinstance(message, OccupancyMessage) else []
            zone_ids += [r.zone_id for r in message.readings] if isinstance(message, ZonesMessage) else []
            for i, zone_id in enumerate(zone_ids):
                if zone_id is not None and zone_id not in zones:
                    return Reason.UNKNOWN_ZONE, f"readings.{i}.zone_id: {zone_id!r} is not a zone of {store_id!r}"
            return None
        if isinstance(message, HeatmapMessage | TracksMessage):
            floors = self.registry.places(store_id).floors
            floor_ids = [r.floor_id for r in message.readings] if isinstance(message, HeatmapMessage) else []
            floor_ids += [r.floor_id for r in message.readings] if isinstance(message, TracksMessage) else []
            for i, floor_id in enumerate(floor_ids):
                if floor_id not in floors:
                    return Reason.UNKNOWN_FLOOR, f"readings.{i}.floor_id: {floor_id!r} is not a floor of {store_id!r}"
        return None
