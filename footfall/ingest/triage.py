"""Decide, message by message, what goes to the fact tables and what to `dead_letters`.

Checks run cheapest first, so junk costs little: size, topic, the device's registration
(exists, active, in the topic's store, allowed to publish this kind), then the payload
against the core models, then that the payload's device, doors, zones and floors belong
to that device and store, then the readings' times against the receiver's clock (the
device's own `sent_at` proves nothing: a device whose clock says 2030 says so there too).
Readings too far in the future or older than the table's retention horizon are split
off into a dead letter; the message's other readings are stored. Heatmap cells seen by
fewer tracks than the server's minimum k are dropped (counted, not stored). Nothing here
touches the network.
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from footfall.core.errors import PayloadError, TopicError
from footfall.core.messages import (
    AnyMessage,
    CountsMessage,
    HeatmapMessage,
    OccupancyMessage,
    StatusMessage,
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
    FUTURE_READING = "future_reading"
    EXPIRED_READING = "expired_reading"
    DB_REJECTED = "db_rejected"
    CONFLICTING_DUPLICATE = "conflicting_duplicate"


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
    split_off: "Rejected | None" = None
    """Readings of this message that were refused (too far in the future, past retention)."""
    suppressed_cells: int = 0
    """Heatmap cells dropped because fewer than the server's minimum k tracks saw them."""


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


def utcnow() -> datetime:
    """The receiver's clock."""
    return datetime.now(UTC)


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
    max_future: timedelta = timedelta(minutes=10)
    """How far a reading may end after the receiver's clock (`ingest.max_future_s`)."""
    horizons: dict[Kind, timedelta] = field(default_factory=dict)
    """Per kind, how old a reading may be: the table's retention (nothing for kinds absent)."""
    min_k: int = 2
    """Heatmap cells seen by fewer tracks are dropped (`ingest.min_heatmap_k`)."""
    clock: Callable[[], datetime] = utcnow

    def sort(self, batch: Sequence[Inbound]) -> tuple[list[Accepted], list[Rejected]]:
        """Decide a batch: the accepted messages, and every dead letter (split-off readings included)."""
        accepted: list[Accepted] = []
        rejected: list[Rejected] = []
        for inbound in batch:
            out = self.check(inbound)
            if isinstance(out, Accepted):
                accepted.append(out)
                if out.split_off is not None:
                    rejected.append(out.split_off)
            else:
                rejected.append(out)
        return accepted, rejected

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
        accepted = self._times(Accepted(inbound, topic, message))
        if isinstance(accepted, Accepted) and isinstance(accepted.message, HeatmapMessage):
            self._k(accepted)
        return accepted

    def _times(self, a: Accepted) -> Accepted | Rejected:
        """Split off readings the receiver's clock says are in the future or past retention."""
        m = a.message
        now = self.clock()
        latest = now + self.max_future
        store_id, device_id = a.topic.store_id, a.topic.device_id
        if isinstance(m, StatusMessage):
            if m.sent_at > latest:
                detail = self._future_detail(m.sent_at, now)
                return Rejected(a.inbound, Reason.FUTURE_READING, detail, store_id, device_id)
            return a
        horizon = self.horizons.get(a.topic.kind)
        earliest = now - horizon if horizon is not None else None
        future: list[int] = []
        expired: list[int] = []
        for i, r in enumerate(m.readings):
            if r.end > latest:
                future.append(i)
            elif earliest is not None and r.start < earliest:
                expired.append(i)
        if not future and not expired:
            return a
        n = len(m.readings)
        kept = n - len(future) - len(expired)
        parts: list[str] = []
        if future:
            parts.append(f"{_which(future, n)}: {self._future_detail(m.readings[future[0]].end, now)}")
        if expired:
            assert horizon is not None
            assert earliest is not None
            parts.append(
                f"{_which(expired, n)}: start {m.readings[expired[0]].start.isoformat()} is older than the "
                f"{a.topic.kind.value} retention of {_days(horizon)} (before {earliest.isoformat(timespec='seconds')})"
                "; such rows would be dropped by retention, or stay forever without it"
            )
        reason = Reason.FUTURE_READING if future else Reason.EXPIRED_READING
        if kept == 0:
            return Rejected(a.inbound, reason, "; ".join(parts), store_id, device_id)
        gone = set(future) | set(expired)
        kept_readings = [r for i, r in enumerate(m.readings) if i not in gone]
        detail = "; ".join(parts) + f"; the other {kept} reading(s) were stored"
        a.message = m.model_copy(update={"readings": kept_readings})
        a.split_off = Rejected(a.inbound, reason, detail, store_id, device_id)
        return a

    def _future_detail(self, when: datetime, now: datetime) -> str:
        ahead = (when - now).total_seconds()
        return (
            f"ends {when.isoformat()}, {ahead:.0f} s after the receiver's clock ({now.isoformat(timespec='seconds')}), "
            f"more than the {self.max_future.total_seconds():.0f} s allowed (ingest.max_future_s): "
            "set the device's clock (NTP)"
        )

    def _k(self, a: Accepted) -> None:
        """Drop heatmap cells seen by fewer than `min_k` tracks (an edge configured with a lower k)."""
        m = a.message
        assert isinstance(m, HeatmapMessage)
        if all(r.min_tracks >= self.min_k for r in m.readings):
            return  # the edge already suppressed below a k at least ours
        readings = []
        dropped = 0
        for r in m.readings:
            cells = [c for c in r.cells if c.tracks >= self.min_k]
            dropped += len(r.cells) - len(cells)
            readings.append(r.model_copy(update={"cells": cells, "min_tracks": max(r.min_tracks, self.min_k)}))
        a.message = m.model_copy(update={"readings": readings})
        a.suppressed_cells = dropped

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


def _which(indexes: list[int], total: int) -> str:
    shown = ", ".join(str(i) for i in indexes[:5]) + (", …" if len(indexes) > 5 else "")
    return f"{len(indexes)} of {total} reading(s) (readings.{shown})"


def _days(span: timedelta) -> str:
    return f"{span.days} days" if span.days and not span.seconds else f"{span.total_seconds():.0f} s"
