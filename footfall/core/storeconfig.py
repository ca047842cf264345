"""Store configuration as code: one YAML file per store, loaded into strict models.

`footfall stores apply store.yaml` upserts it into the database; the edge agent and the
simulators read the same file for doors, zones and camera calibration. See
`examples/store.yaml`.
"""

from collections.abc import Mapping
from datetime import datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from footfall.core.alertrules import StoreRule
from footfall.core.calendar import zone
from footfall.core.configfile import load_yaml, validate
from footfall.core.geometry import homography_from_pairs, is_simple_polygon, polygon_area
from footfall.core.ids import Id

Pair = Annotated[list[float], Field(min_length=2, max_length=2)]
EDGE_M = 0.01
"""How far (metres) a zone vertex may stick out of its floor (rounding in drawn plans)."""
CALIBRATION_SLACK_M = 50.0
"""How far outside its floor a calibration point may be (marks on a street outside the door)."""
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DoorKind(StrEnum):
    """Who uses a door; only customer doors count toward visitors."""

    CUSTOMER = "customer"
    STAFF = "staff"


class DeviceKind(StrEnum):
    """What a device is."""

    EDGE = "edge"
    COUNTER_TCP = "counter_tcp"
    COUNTER_HTTP = "counter_http"
    COUNTER_MQTT = "counter_mqtt"
    CAMERA = "camera"


class StoreInfo(_Strict):
    """The store itself."""

    id: Id = Field(title="Store id", description="Stable id; used in MQTT topics and URLs.")
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(title="Time zone", description="IANA zone, e.g. Europe/Riga.")
    sales_area_m2: float | None = Field(default=None, gt=0, le=1_000_000, description="Sales floor area.")
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$", description="ISO 4217 code.")
    opening_hours: dict[str, tuple[time, time] | None] = Field(
        default_factory=dict,
        description="Per weekday (mon..sun) opening and closing local time; null for closed.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("opening_hours")
    @classmethod
    def _weekdays(cls, value: dict[str, tuple[time, time] | None]) -> dict[str, tuple[time, time] | None]:
        for day, hours in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
            if hours is not None and hours[0] == hours[1]:
                raise ValueError(f"{day}: opening and closing time are the same")
        return value


def is_open(opening_hours: Mapping[str, tuple[time, time] | None], local: datetime) -> bool:
    """Whether a store with these opening hours is open at a local wall-clock time.

    No hours configured means always open; a missing or null weekday is closed; hours that
    close at or before they open run past midnight into the next day.

    Example:
        >>> h = {"mon": (time(9), time(21)), "tue": (time(22), time(2))}
        >>> [is_open(h, datetime(2026, 6, d, hh)) for d, hh in ((1, 8), (1, 9), (2, 23), (3, 1), (3, 3))]
        [False, True, True, True, False]
    """
    if not opening_hours:
        return True
    t = local.time().replace(tzinfo=None)
    today = opening_hours.get(WEEKDAYS[local.weekday()])
    if today is not None:
        o, c = today
        if (o <= t < c) if c > o else t >= o:
            return True
    yesterday = opening_hours.get(WEEKDAYS[(local.weekday() - 1) % 7])
    return yesterday is not None and yesterday[1] <= yesterday[0] and t < yesterday[1]


class FloorPlan(_Strict):
    """A floor plan picture and where it sits on the floor's metre grid.

    Pixel (u, v) of the picture shows floor point
    `(origin_m[0] + u / px_per_m, origin_m[1] + v / px_per_m)`.
    """

    image: Path = Field(
        title="Plan image",
        description="A PNG or JPEG file; a relative path is relative to the store YAML file.",
    )
    px_per_m: float = Field(gt=0, le=1000, title="Scale", description="Picture pixels per floor metre.")
    origin_m: Pair = Field(
        default_factory=lambda: [0.0, 0.0],
        title="Origin",
        description="Floor metres (x, y) of the picture's top-left pixel.",
    )

    def read(self) -> bytes:
        """The picture's bytes.

        Raises:
            ValueError: the file is missing, unreadable, or neither PNG nor JPEG.
        """
        try:
            data = self.image.read_bytes()
        except OSError as exc:
            raise ValueError(
                f"floor plan image {self.image}: {exc.strerror or exc}; fix the `plan.image` path"
            ) from None
        if not (data.startswith(PNG_MAGIC) or data.startswith(JPEG_MAGIC)):
            raise ValueError(f"floor plan image {self.image} is neither PNG nor JPEG")
        return data


class Floor(_Strict):
    """A floor plan; coordinates are metres from its top-left corner, x right, y down."""

    id: Id
    name: str = ""
    width_m: float = Field(gt=0, le=10_000)
    height_m: float = Field(gt=0, le=10_000)
    plan: FloorPlan | None = Field(
        default=None, description="The plan picture; without one, plans are drawn from the zones."
    )


class Door(_Strict):
    """An entrance with a counting line."""

    id: Id
    name: str = ""
    kind: DoorKind = DoorKind.CUSTOMER
    outward_counter: bool = Field(default=False, description="A counter also counts passers-by outside.")


class ZoneKind(StrEnum):
    """What a zone is for."""

    AREA = "area"
    QUEUE = "queue"


class Zone(_Strict):
    """A floor area merchandisers care about."""

    id: Id
    floor: Id
    name: str = ""
    kind: ZoneKind = Field(
        default=ZoneKind.AREA,
        description="`area`: a sales area; `queue`: where shoppers wait for a till (set `till`).",
    )
    polygon: list[Pair] = Field(min_length=3, max_length=200, description="Vertices in floor metres.")
    area_m2: float | None = Field(default=None, gt=0, description="Sales area; defaults to the polygon's area.")
    categories: list[str] = Field(default_factory=list, description="Product categories sold in the zone.")
    comfort_limit: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        title="Comfort limit",
        description="Most people the zone holds comfortably; above it the zone is a hot spot.",
    )
    till: Id | None = Field(default=None, description="Queue zones: the zone where the queue is served (the till).")

    @model_validator(mode="after")
    def _polygon(self) -> Self:
        pts = [(p[0], p[1]) for p in self.polygon]
        if not is_simple_polygon(pts):
            raise ValueError(f"zone {self.id}: polygon edges cross each other")
        if polygon_area(pts) <= 0:
            raise ValueError(f"zone {self.id}: polygon has no area")
        if self.kind is ZoneKind.QUEUE and self.till is None:
            raise ValueError(f"zone {self.id}: a queue zone needs `till`, the zone where the queue is served")
        if self.kind is not ZoneKind.QUEUE and self.till is not None:
            raise ValueError(f"zone {self.id}: only queue zones have a `till`; set `kind: queue` or drop `till`")
        return self

    @property
    def area(self) -> float:
        """Area in m²: the configured one, else the polygon's."""
        return self.area_m2 or polygon_area([(p[0], p[1]) for p in self.polygon])


class CalibrationPoint(_Strict):
    """One image pixel and the floor point (metres) it shows."""

    image: Pair
    floor: Pair


class CameraLine(_Strict):
    """A counting line in image pixels; crossing toward the left of A→B is `in`."""

    door: Id
    a: Pair
    b: Pair


class Device(_Strict):
    """A counter, a camera or the edge agent itself."""

    id: Id
    kind: DeviceKind
    name: str = ""
    doors: list[Id] = Field(default_factory=list, description="Doors a counter (or camera line) covers.")
    floor: Id | None = Field(default=None, description="Floor a camera looks at.")
    calibration: list[CalibrationPoint] = Field(default_factory=list, description="≥ 4 image↔floor pairs.")
    lines: list[CameraLine] = Field(default_factory=list, description="Camera counting lines.")
    zones: list[Id] = Field(default_factory=list, description="Zones a camera watches.")

    @model_validator(mode="after")
    def _camera(self) -> Self:
        if self.kind is DeviceKind.CAMERA:
            if self.floor is None:
                raise ValueError(f"camera {self.id}: set `floor`")
            if self.calibration:
                try:
                    self.homography()
                except ValueError as exc:
                    raise ValueError(f"camera {self.id}: calibration: {exc}") from None
        elif self.calibration or self.lines:
            raise ValueError(f"device {self.id}: only cameras have calibration and lines")
        return self

    def homography(self) -> list[list[float]]:
        """Image → floor homography from the calibration pairs."""
        h = homography_from_pairs(
            [(p.image[0], p.image[1]) for p in self.calibration],
            [(p.floor[0], p.floor[1]) for p in self.calibration],
        )
        return h.tolist()


class StoreConfig(_Strict):
    """A whole store: what `footfall stores apply` upserts.

    Example:
        >>> cfg = StoreConfig.from_yaml(Path("examples/store.yaml"))  # doctest: +SKIP
        >>> cfg.store.timezone  # doctest: +SKIP
        'Europe/Riga'
    """

    store: StoreInfo
    floors: list[Floor] = Field(default_factory=list)
    doors: list[Door] = Field(
        default_factory=list,
        description="Entrances. A store without doors (or without customer doors) is receipts-only: "
        "it reports sales, and visitors and conversion are null.",
    )
    zones: list[Zone] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    alerts: list[StoreRule] = Field(
        default_factory=list, description="Alert rules of this store as code (`footfall alerts apply FILE`)."
    )

    @model_validator(mode="after")
    def _references(self) -> Self:
        for name, items in (
            ("floor", self.floors),
            ("door", self.doors),
            ("zone", self.zones),
            ("device", self.devices),
        ):
            ids = [i.id for i in items]
            dup = {i for i in ids if ids.count(i) > 1}
            if dup:
                raise ValueError(f"{name} ids appear twice: {', '.join(sorted(dup))}")
        floors = {f.id for f in self.floors}
        doors = {d.id for d in self.doors}
        zones = {z.id for z in self.zones}
        by_floor = {f.id: f for f in self.floors}
        _check_zones(self.zones, by_floor)
        for d in self.devices:
            for door in d.doors + [line.door for line in d.lines]:
                if door not in doors:
                    raise ValueError(f"device {d.id}: unknown door {door!r}")
            if d.floor is not None and d.floor not in floors:
                raise ValueError(f"device {d.id}: unknown floor {d.floor!r}")
            if d.floor is not None and d.calibration:
                _check_calibration(d, by_floor[d.floor])
            for zone_id in d.zones:
                if zone_id not in zones:
                    raise ValueError(f"device {d.id}: unknown zone {zone_id!r}")
        self._check_alerts(doors, zones, {d.id for d in self.devices})
        return self

    def _check_alerts(self, doors: set[str], zones: set[str], devices: set[str]) -> None:
        keys = [r.id for r in self.alerts]
        dup = {k for k in keys if keys.count(k) > 1}
        if dup:
            raise ValueError(f"alert ids appear twice: {', '.join(sorted(dup))}")
        for r in self.alerts:
            s = r.scope
            if s.store is not None and s.store != self.store.id:
                raise ValueError(f"alert {r.id}: scope.store is {s.store!r}, but this file is store {self.store.id!r}")
            for name, known in (("zone", zones), ("door", doors), ("device", devices)):
                value = getattr(s, name)
                if value is not None and value not in known:
                    raise ValueError(f"alert {r.id}: unknown {name} {value!r}")

    @classmethod
    def from_yaml(cls, path: Path) -> "StoreConfig":
        """Load and validate a store file.

        Raises:
            ConfigError: the file is missing, is not YAML, or breaks a rule; the message
                names the file and the field.
        """
        return cls.from_data(load_yaml(path), source=str(path), base_dir=path.parent)

    @classmethod
    def from_data(cls, data: object, *, source: str = "store config", base_dir: Path | None = None) -> "StoreConfig":
        """Validate already-parsed data (see `from_yaml`); relative plan pictures are relative to `base_dir`."""
        if base_dir is not None:
            _resolve_plan_paths(data, base_dir)
        return validate(cls, data, source=source)


def _resolve_plan_paths(data: object, base: Path) -> None:
    """Make `floors[].plan.image` absolute, relative to the YAML file's folder."""
    if not isinstance(data, dict):
        return
    for f in data.get("floors") or []:
        plan = f.get("plan") if isinstance(f, dict) else None
        if isinstance(plan, dict) and isinstance(plan.get("image"), str):
            image = Path(plan["image"])
            if not image.is_absolute():
                plan["image"] = str(base / image)


def _check_zones(zones: list[Zone], floors: dict[str, Floor]) -> None:
    """Zones lie on known floors, inside them, and queues name a till on the same floor."""
    by_zone = {z.id: z for z in zones}
    for z in zones:
        f = floors.get(z.floor)
        if f is None:
            raise ValueError(f"zone {z.id}: unknown floor {z.floor!r}")
        outside = [
            p
            for p in z.polygon
            if not (-EDGE_M <= p[0] <= f.width_m + EDGE_M and -EDGE_M <= p[1] <= f.height_m + EDGE_M)
        ]
        if outside:
            raise ValueError(
                f"zone {z.id}: vertex {outside[0]} lies outside floor {f.id} "
                f"(0..{f.width_m:g} × 0..{f.height_m:g} m); zone polygons are in floor metres"
            )
        if z.till is not None:
            till = by_zone.get(z.till)
            if till is None:
                raise ValueError(f"zone {z.id}: unknown till zone {z.till!r}")
            if till.floor != z.floor:
                raise ValueError(f"zone {z.id}: till zone {z.till} is on another floor")


def _check_calibration(d: Device, f: Floor) -> None:
    """A camera's calibration floor points are near its floor (catches pixels typed as metres)."""
    lo, hi_x, hi_y = -CALIBRATION_SLACK_M, f.width_m + CALIBRATION_SLACK_M, f.height_m + CALIBRATION_SLACK_M
    far = [p.floor for p in d.calibration if not (lo <= p.floor[0] <= hi_x and lo <= p.floor[1] <= hi_y)]
    if far:
        raise ValueError(
            f"camera {d.id}: calibration floor point {far[0]} is far outside floor {f.id} "
            f"(0..{f.width_m:g} × 0..{f.height_m:g} m); floor points are metres from the plan's top-left"
        )
