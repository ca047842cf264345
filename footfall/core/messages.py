"""Payload models for every MQTT message kind.

Every payload is a JSON object with `schema` (the contract version), `device_id`, `seq`
(per device, strictly increasing across restarts), `sent_at` and `readings`: a list of
readings, each with its own half-open UTC interval `[start, end)`. One message may carry
many readings (an edge agent batches its backlog after an outage). `status` is the one
exception: it is a retained state set by the MQTT Last Will, which the broker publishes
verbatim long after it was composed, so it carries a state and no readings.

The edge builds these objects, `to_json()` puts them on the wire, ingest turns bytes back
into them with `parse_payload()`; nothing re-shapes them into dicts in between.

Example:
    >>> from datetime import datetime, UTC
    >>> r = CountsReading(start=datetime(2026, 3, 29, 10, tzinfo=UTC),
    ...                   end=datetime(2026, 3, 29, 10, 1, tzinfo=UTC),
    ...                   door_id="main", entries=3, exits=1)
    >>> m = CountsMessage(device_id="door-a", seq=7, sent_at=r.end, readings=[r])
    >>> parse_payload(Kind.COUNTS, m.to_json()) == m
    True
"""

import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from footfall.core.configfile import problem
from footfall.core.errors import PayloadError
from footfall.core.ids import Id
from footfall.core.topics import Kind

SCHEMA_VERSION = 1
"""The contract version this build speaks; payloads carry it as `schema`."""

MAX_READINGS = 10_000
"""Readings per message. A 2-hour backlog of per-minute readings for 40 doors fits."""
MAX_INTERVAL = timedelta(days=1)
"""Longest reading interval; the edge merges old backlog into coarser intervals up to this."""
MAX_COUNT = 1_000_000
"""Largest plausible count in one interval on one door or zone."""
MAX_CELLS = 100_000
MAX_TRACKS = 10_000
MAX_POINTS = 10_000
MAX_DWELLS = 100_000
MAX_OCCUPANCY = 100_000
MAX_FUTURE_SKEW = timedelta(minutes=10)
"""How far a reading may end after the message's `sent_at` (clock jitter at the edge)."""
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""Readings before this are a device clock that was never set, not data."""


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware instant, normalised to UTC. Naive datetimes are refused."""

Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reading(_Strict):
    """A measurement over the half-open UTC interval `[start, end)`."""

    start: UtcDatetime = Field(title="Start", description="Interval start, inclusive, with UTC offset.")
    end: UtcDatetime = Field(title="End", description="Interval end, exclusive; after `start`.")

    @model_validator(mode="after")
    def _check_interval(self) -> "Reading":
        if self.end <= self.start:
            raise ValueError(f"end {self.end.isoformat()} is not after start {self.start.isoformat()}")
        if self.end - self.start > MAX_INTERVAL:
            raise ValueError(f"interval {self.end - self.start} is longer than {MAX_INTERVAL}")
        if self.start < EARLIEST:
            raise ValueError(f"start {self.start.isoformat()} is before {EARLIEST.date()}: device clock unset?")
        return self

    @property
    def seconds(self) -> float:
        """Length of the interval in seconds."""
        return (self.end - self.start).total_seconds()


class CountsReading(Reading):
    """People counted through one door during the interval (deltas, not cumulative counters)."""

    door_id: Id = Field(title="Door", description="The door (counting line) these counts belong to.")
    entries: Count = Field(title="Entries", description="People who came in.")
    exits: Count = Field(title="Exits", description="People who went out.")
    passersby: Count | None = Field(
        default=None, title="Passers-by", description="People who walked past outside, when the device counts them."
    )
    valid: bool = Field(
        default=True,
        title="Valid",
        description="False when the device knows the interval is wrong (blocked sensor, camera fault).",
    )


class OccupancyReading(Reading):
    """How many people were inside (the store, or one zone) during the interval."""

    zone_id: Id | None = Field(default=None, title="Zone", description="The zone; absent for the whole store.")
    occupancy: int = Field(ge=0, le=MAX_OCCUPANCY, title="Occupancy", description="People inside at `end`.")
    peak: int | None = Field(default=None, ge=0, le=MAX_OCCUPANCY, title="Peak", description="Most people inside.")
    valid: bool = Field(default=True, title="Valid", description="False when the source was faulty.")

    @model_validator(mode="after")
    def _check_peak(self) -> "OccupancyReading":
        if self.peak is not None and self.peak < self.occupancy:
            raise ValueError(f"peak {self.peak} is below occupancy {self.occupancy}")
        return self


class HeatmapCell(_Strict):
    """One floor-plan cell: column `x`, row `y`, of size `cell_m` from the floor origin."""

    x: int = Field(ge=0, le=100_000, title="Column", description="Cell column from the floor plan origin.")
    y: int = Field(ge=0, le=100_000, title="Row", description="Cell row from the floor plan origin.")
    presence_s: float = Field(ge=0, title="Presence", description="Person-seconds spent in the cell.")
    tracks: int = Field(ge=1, le=MAX_COUNT, title="Tracks", description="Distinct anonymous tracks seen in it.")


class HeatmapReading(Reading):
    """A sparse floor-plan heatmap: only cells anyone visited, already privacy-filtered at the edge."""

    floor_id: Id = Field(title="Floor", description="The floor plan the cells are on.")
    cell_m: float = Field(ge=0.05, le=10.0, title="Cell size", description="Cell edge in metres.")
    min_tracks: int = Field(
        default=3, ge=1, le=1000, title="k", description="Cells seen by fewer tracks were suppressed."
    )
    cells: list[HeatmapCell] = Field(default_factory=list, max_length=MAX_CELLS)
    valid: bool = Field(default=True, title="Valid", description="False when the camera was faulty.")

    @model_validator(mode="after")
    def _check_cells(self) -> "HeatmapReading":
        seconds = self.seconds
        seen: set[tuple[int, int]] = set()
        for c in self.cells:
            if (c.x, c.y) in seen:
                raise ValueError(f"cell ({c.x}, {c.y}) appears twice")
            seen.add((c.x, c.y))
            if c.tracks < self.min_tracks:
                raise ValueError(f"cell ({c.x}, {c.y}) has {c.tracks} tracks, below k={self.min_tracks}")
            if c.presence_s > seconds * c.tracks + 1e-6:
                raise ValueError(
                    f"cell ({c.x}, {c.y}): {c.presence_s} s of presence is more than "
                    f"{c.tracks} tracks can spend in {seconds} s"
                )
        return self


class TrackPoint(_Strict):
    """A floor position `t` seconds after the reading's start."""

    t: float = Field(ge=0, title="Offset", description="Seconds after the reading's start.")
    x: float = Field(ge=-1000, le=1000, title="X", description="Metres from the floor plan origin.")
    y: float = Field(ge=-1000, le=1000, title="Y", description="Metres from the floor plan origin.")


class Track(_Strict):
    """An anonymous floor-plan polyline. It has no id: nothing links it to any other track."""

    points: list[TrackPoint] = Field(min_length=1, max_length=MAX_POINTS)


class TracksReading(Reading):
    """Anonymous floor-plan tracks, sent only when a store enables it."""

    floor_id: Id = Field(title="Floor", description="The floor plan the tracks are on.")
    tracks: list[Track] = Field(default_factory=list, max_length=MAX_TRACKS)

    @model_validator(mode="after")
    def _check_offsets(self) -> "TracksReading":
        seconds = self.seconds
        for i, track in enumerate(self.tracks):
            if track.points[-1].t > seconds + 1e-6 or any(p.t > seconds + 1e-6 for p in track.points):
                raise ValueError(f"track {i} has a point after the interval's end")
        return self


class ZonesReading(Reading):
    """Visits to one floor zone during the interval."""

    zone_id: Id = Field(title="Zone", description="The zone.")
    entries: Count = Field(title="Entries", description="Tracks that entered the zone.")
    exits: Count = Field(title="Exits", description="Tracks that left the zone.")
    dwell_s: list[Annotated[float, Field(ge=0, le=86_400)]] = Field(
        default_factory=list,
        max_length=MAX_DWELLS,
        title="Dwell times",
        description="Seconds spent in the zone by each visit that ended in this interval.",
    )
    occupancy: int | None = Field(default=None, ge=0, le=MAX_OCCUPANCY, description="People in the zone at `end`.")
    valid: bool = Field(default=True, title="Valid", description="False when the camera was faulty.")


class Fault(StrEnum):
    """What can be wrong with a sensor, as reported in heartbeats."""

    SILENT = "silent"
    BLOCKED = "blocked"
    MOVED = "moved"
    FROZEN = "frozen"
    COUNTER_RESET = "counter_reset"
    CLOCK_DRIFT = "clock_drift"
    DISCONNECTED = "disconnected"
    QUEUE_FULL = "queue_full"


class SensorHealth(_Strict):
    """The agent's view of one sensor (door counter or camera)."""

    sensor_id: Id = Field(title="Sensor", description="Device id of the counter or camera.")
    last_seen: UtcDatetime | None = Field(default=None, description="Last time the sensor reported.")
    errors: int = Field(default=0, ge=0, description="Errors since the agent started.")
    clock_offset_s: float | None = Field(default=None, description="Sensor clock minus agent clock, seconds.")
    faults: list[Fault] = Field(default_factory=list, max_length=len(Fault))


class HeartbeatReading(Reading):
    """Health of an edge agent and its sensors over the heartbeat period."""

    uptime_s: float = Field(ge=0, description="Seconds since the agent started.")
    queue_depth: int = Field(ge=0, description="Readings waiting in the store-and-forward queue.")
    queue_bytes: int = Field(default=0, ge=0, description="Bytes the queue uses on disk.")
    queue_oldest: UtcDatetime | None = Field(default=None, description="Start of the oldest queued reading.")
    merged_intervals: int = Field(default=0, ge=0, description="Readings merged because the queue was full.")
    broker_unreachable_s: float = Field(
        default=0.0, ge=0, description="How long the upstream broker had been unreachable when this was made."
    )
    session_takeovers: int = Field(
        default=0, ge=0, description="Times another client with the agent's client id took its broker session."
    )
    sensors: list[SensorHealth] = Field(default_factory=list, max_length=1000)
    agent_version: str = Field(default="", max_length=64)


R = TypeVar("R", bound=Reading)


def _check_version(value: Any) -> int:
    if value != SCHEMA_VERSION or isinstance(value, bool):
        raise ValueError(f"unsupported schema version {value!r}; this build speaks {SCHEMA_VERSION}")
    return SCHEMA_VERSION


class _Envelope(_Strict):
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )
    kind: ClassVar[Kind]

    schema_version: int = Field(
        default=SCHEMA_VERSION, alias="schema", title="Schema", description="Contract version; this is 1."
    )
    device_id: Id = Field(title="Device", description="The device the message is about; matches the topic.")
    seq: int = Field(ge=0, le=2**63 - 1, title="Sequence", description="Per device, increasing across agent restarts.")
    sent_at: UtcDatetime = Field(title="Sent at", description="When the agent published the message.")

    _version = field_validator("schema_version", mode="before")(_check_version)

    def to_json(self) -> bytes:
        """The wire form: compact UTF-8 JSON."""
        return self.model_dump_json().encode()


class Message(_Envelope, Generic[R]):
    """A batch of readings from one device."""

    readings: list[R] = Field(min_length=1, max_length=MAX_READINGS)

    @model_validator(mode="after")
    def _check_not_future(self) -> "Message[R]":
        limit = self.sent_at + MAX_FUTURE_SKEW
        for i, r in enumerate(self.readings):
            if r.end > limit:
                raise ValueError(f"reading {i} ends at {r.end.isoformat()}, after sent_at {self.sent_at.isoformat()}")
        return self


class CountsMessage(Message[CountsReading]):
    """Door counts: `footfall/v1/{store}/{device}/counts`."""

    kind: ClassVar[Kind] = Kind.COUNTS


class OccupancyMessage(Message[OccupancyReading]):
    """Occupancy: `footfall/v1/{store}/{device}/occupancy`."""

    kind: ClassVar[Kind] = Kind.OCCUPANCY


class HeatmapMessage(Message[HeatmapReading]):
    """Floor-plan heatmaps: `footfall/v1/{store}/{device}/heatmap`."""

    kind: ClassVar[Kind] = Kind.HEATMAP


class TracksMessage(Message[TracksReading]):
    """Anonymous floor-plan tracks: `footfall/v1/{store}/{device}/tracks`."""

    kind: ClassVar[Kind] = Kind.TRACKS


class ZonesMessage(Message[ZonesReading]):
    """Zone visits and dwell: `footfall/v1/{store}/{device}/zones`."""

    kind: ClassVar[Kind] = Kind.ZONES


class HeartbeatMessage(Message[HeartbeatReading]):
    """Agent and sensor health: `footfall/v1/{store}/{device}/heartbeat`."""

    kind: ClassVar[Kind] = Kind.HEARTBEAT


class StatusMessage(_Envelope):
    """Retained agent state: `footfall/v1/{store}/{device}/status`; the Last Will sets `offline`."""

    kind: ClassVar[Kind] = Kind.STATUS

    state: Literal["online", "offline"] = Field(title="State", description="online, or offline (Last Will).")
    agent_version: str = Field(default="", max_length=64)


AnyMessage = (
    CountsMessage | OccupancyMessage | HeatmapMessage | TracksMessage | ZonesMessage | HeartbeatMessage | StatusMessage
)

MESSAGE_TYPES: dict[Kind, type[_Envelope]] = {model.kind: model for model in get_args(AnyMessage)}
"""The payload model of each kind."""


def _reason(exc: ValidationError) -> tuple[str, str]:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    code = "schema_version" if first["loc"][:1] == ("schema",) else "invalid_payload"
    if first["type"] == "json_invalid":
        code = "malformed_json"
    return code, f"{problem(first, empty='payload')}{more}"


def parse_payload(kind: Kind, raw: bytes | str) -> AnyMessage:
    """Validate a payload received on a topic of the given kind.

    Args:
        kind: the kind named by the topic.
        raw: the payload bytes (UTF-8 JSON).

    Returns:
        The validated message.

    Raises:
        PayloadError: the payload is not valid JSON or breaks the contract; `reason` says
            where and why in one line, `code` is `malformed_json`, `schema_version` or
            `invalid_payload`.
    """
    model = MESSAGE_TYPES[kind]
    try:
        return model.model_validate_json(raw)  # type: ignore[return-value]
    except ValidationError as exc:
        code, reason = _reason(exc)
        raise PayloadError(reason, code=code) from None
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise PayloadError(f"payload: {exc}", code="malformed_json") from None


def json_schemas() -> dict[Kind, dict[str, Any]]:
    """A JSON Schema for each payload kind, for firmware writers."""
    out: dict[Kind, dict[str, Any]] = {}
    for kind, model in MESSAGE_TYPES.items():
        schema = model.model_json_schema(by_alias=True)
        schema["$id"] = f"https://footfall.dev/schemas/v{SCHEMA_VERSION}/{kind.value}.json"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema.setdefault("description", (model.__doc__ or "").strip())
        out[kind] = schema
    return out


def dumps_schema(schema: dict[str, Any]) -> str:
    """Stable, readable JSON for a schema file."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
