"""The edge agent's configuration file (`edge.yaml`): strict models, checked before anything starts.

One file per edge box: which store and agent device it is, the upstream broker (with
its credentials and TLS options), the queue's disk budget and replay rate, and the
door counters to read. See `examples/edge.yaml` and `docs/edge.md`.

Fields left out of the `mqtt` section fall back to the `FOOTFALL_MQTT__*` settings, and
`data_dir`, `queue.max_bytes` and `heartbeat_s` to `FOOTFALL_EDGE__*`, so one file can
serve several environments.
"""

from pathlib import Path
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from footfall.core.configfile import load_yaml, validate
from footfall.core.errors import ConfigError
from footfall.core.ids import Id
from footfall.core.mqtt import BrokerTarget, TlsOptions, deployment_client_id
from footfall.core.settings import EdgeSettings, MqttSettings
from footfall.core.storeconfig import DeviceKind, StoreConfig
from footfall.core.topics import check_prefix


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _read_secret(value: SecretStr | None, file: Path | None, what: str) -> str | None:
    if value is not None:
        return value.get_secret_value()
    if file is not None:
        try:
            return file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{what}: cannot read {file}: {exc.strerror}") from None
    return None


class MqttOptions(_Strict):
    """The upstream broker; every field left out comes from `FOOTFALL_MQTT__*`."""

    host: str | None = Field(default=None, title="Host", description="Broker host name.")
    port: int | None = Field(default=None, ge=1, le=65535, title="Port", description="1883, or 8883 with TLS.")
    prefix: str | None = Field(default=None, title="Topic prefix", description="First topic level(s).")
    username: str | None = Field(default=None, title="User name", description="This agent's broker user.")
    password: SecretStr | None = Field(default=None, title="Password", description="Prefer `password_file`.")
    password_file: Path | None = Field(
        default=None, title="Password file", description="A file holding only the password (mode 0600)."
    )
    client_id: str | None = Field(
        default=None,
        max_length=128,
        title="Client id",
        description="Default: footfall-edge-{prefix}-{install id}-{device_id}, unique per deployment.",
    )
    keepalive_s: int | None = Field(default=None, ge=5, le=3600, title="Keep-alive", description="Seconds.")
    reconnect_max_s: int = Field(
        default=30, ge=1, le=3600, title="Longest reconnect back-off", description="Real seconds between attempts."
    )
    tls: TlsOptions | None = Field(default=None, title="TLS")

    @model_validator(mode="after")
    def _one_password(self) -> Self:
        if self.password is not None and self.password_file is not None:
            raise ValueError("set password or password_file, not both")
        if self.prefix is not None:
            check_prefix(self.prefix)
        return self


class QueueOptions(_Strict):
    """The durable store-and-forward queue."""

    max_bytes: int | None = Field(
        default=None,
        ge=1024 * 1024,
        title="Disk budget",
        description="Bytes of queued readings before the oldest are merged; default FOOTFALL_EDGE__QUEUE_MAX_BYTES.",
    )
    synchronous: Literal["full", "normal"] = Field(
        default="full",
        title="Durability",
        description="full: survives power loss (fsync per write); normal: survives a crash of the agent only.",
    )
    batch_readings: int = Field(default=500, ge=1, le=10_000, title="Readings per message")
    batch_bytes: int = Field(default=256 * 1024, ge=4096, le=1024 * 1024, title="Bytes per message")
    max_inflight: int = Field(
        default=4, ge=1, le=100, title="Messages in flight", description="Published, not yet acknowledged."
    )
    replay_readings_per_s: float = Field(
        default=2000.0, gt=0, le=1_000_000, title="Replay rate", description="Readings per second, at most."
    )
    require_subscriber: bool = Field(
        default=True,
        title="Keep unrouted readings",
        description="A PUBACK saying no subscriber matched (ingest is not subscribed) keeps the readings queued.",
    )


class MinuteOptions(_Strict):
    """When per-minute counts are emitted."""

    settle_s: float = Field(
        default=1.0, ge=0, le=60, title="Settle", description="How far past a minute's end a device must report."
    )
    gap_s: float = Field(
        default=120.0, ge=10, le=86_400, title="Gap", description="Reports further apart leave the time between unseen."
    )
    silent_after_s: float = Field(
        default=120.0, ge=5, le=86_400, title="Silent after", description="No report for this long: fault `silent`."
    )
    clock_tolerance_s: float = Field(
        default=5.0, gt=0, le=3600, title="Clock tolerance", description="Larger device clock offsets: `clock_drift`."
    )


class HttpListen(_Strict):
    """Where the agent accepts pushes from HTTP counters."""

    host: str = Field(default="0.0.0.0", title="Listen address")  # noqa: S104 - devices are on the store LAN
    port: int = Field(default=8081, ge=0, le=65535, title="Port", description="0 picks a free port (tests).")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024, title="Largest push")


class MetricsListen(_Strict):
    """The agent's Prometheus endpoint (`/metrics`); every field left out comes from `FOOTFALL_EDGE__METRICS_*`."""

    host: str | None = Field(
        default=None, title="Listen address", description="Default FOOTFALL_EDGE__METRICS_HOST (0.0.0.0)."
    )
    port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        title="Port",
        description="0 turns the endpoint off; default FOOTFALL_EDGE__METRICS_PORT (0: off).",
    )


class _Counter(_Strict):
    id: Id = Field(title="Device id", description="The counter's device id in store.yaml; its topics use it.")
    counter_bits: Literal[16, 32, 64] = Field(
        default=32, title="Counter width", description="Bits of the device's cumulative counters (for wrap-around)."
    )
    max_step: int = Field(
        default=100_000,
        ge=1,
        le=10_000_000,
        title="Largest plausible step",
        description="A counter that went down by more than a wrap explains was cleared by hand.",
    )


class TcpCounter(_Counter):
    """A beam counter speaking the FFBEAM/1 text line protocol (see `footfall.edge.drivers.tcp`)."""

    driver: Literal["tcp"]
    host: str = Field(title="Host", description="The counter's address on the store LAN.")
    port: int = Field(default=10001, ge=1, le=65535, title="Port")
    door: Id = Field(title="Door", description="The door the beam covers.")
    ping_s: float = Field(default=10.0, ge=0.5, le=3600, title="Ping", description="Clock-sync round trip period.")
    timeout_s: float = Field(
        default=30.0, ge=1, le=3600, title="Read timeout", description="No line for this long: reconnect."
    )
    reconnect_max_s: float = Field(default=30.0, ge=0.1, le=3600, title="Longest reconnect back-off")


class HttpLine(_Strict):
    """One count line of an HTTP push sensor."""

    line: str = Field(min_length=1, max_length=128, title="Line id", description="The sensor's own element id.")
    door: Id = Field(title="Door")
    passersby: bool = Field(
        default=False, title="Passers-by line", description="Counts people walking past outside (both directions)."
    )


class HttpCounter(_Counter):
    """A 3D/stereo sensor that POSTs interval counts to the agent (see `footfall.edge.drivers.http`)."""

    driver: Literal["http"]
    token: SecretStr | None = Field(
        default=None, title="Bearer token", description="The sensor sends it; prefer `token_file`."
    )
    token_file: Path | None = Field(default=None, title="Token file")
    lines: list[HttpLine] = Field(min_length=1, max_length=64, title="Count lines")

    @model_validator(mode="after")
    def _lines(self) -> Self:
        if self.token is not None and self.token_file is not None:
            raise ValueError(f"device {self.id}: set token or token_file, not both")
        ids = [ln.line for ln in self.lines]
        if len(set(ids)) != len(ids):
            raise ValueError(f"device {self.id}: a line id appears twice")
        return self

    def bearer(self) -> str | None:
        """The expected bearer token, or None when pushes are not authenticated."""
        return _read_secret(self.token, self.token_file, f"device {self.id} token")


class MqttCounter(_Counter):
    """A counter that publishes its cumulative counters to a local broker (see `footfall.edge.drivers.mqtt`)."""

    driver: Literal["mqtt"]
    host: str = Field(default="127.0.0.1", title="Local broker host")
    port: int = Field(default=1883, ge=1, le=65535, title="Local broker port")
    username: str | None = Field(default=None, title="User name")
    password: SecretStr | None = Field(default=None, title="Password")
    topic: str = Field(min_length=1, max_length=256, title="Topic", description="Where the counter publishes.")
    door: Id = Field(title="Door")
    client_id: str | None = Field(
        default=None,
        max_length=128,
        title="Client id",
        description="The agent's session on the local broker; default: the agent's client id, then -{device}.",
    )

    @model_validator(mode="after")
    def _topic(self) -> Self:
        if any(c in self.topic for c in "+#"):
            raise ValueError(f"device {self.id}: topic {self.topic!r} must not contain wildcards")
        return self


class AxisAoaCounter(_Counter):
    """An Axis camera's AXIS Object Analytics crossline counting, published by the camera's MQTT event publisher.

    A crossline counting scenario counts objects crossing its line in one direction and
    sends, with every count, the totals per object class since its last reset (only
    `totalHuman` is used). One scenario counts the entries, an optional second one the
    exits. See `footfall.edge.drivers.mqtt` and `footfall.edge.drivers.vendors`.
    """

    driver: Literal["axis_aoa"]
    host: str = Field(default="127.0.0.1", title="Local broker host")
    port: int = Field(default=1883, ge=1, le=65535, title="Local broker port")
    username: str | None = Field(default=None, title="User name")
    password: SecretStr | None = Field(default=None, title="Password")
    client_id: str | None = Field(default=None, max_length=128, title="Client id")
    door: Id = Field(title="Door")
    entry_topic: str = Field(
        min_length=1,
        max_length=256,
        title="Entry scenario topic",
        description="MQTT topic of the crossline counting scenario counting people coming in.",
    )
    exit_topic: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        title="Exit scenario topic",
        description="MQTT topic of the scenario counting people going out (none: exits are not counted).",
    )
    quiet_s: float = Field(
        default=30.0,
        ge=2,
        le=600,
        title="Quiet after",
        description=(
            "The camera publishes only when it counts: while the agent is subscribed, no event for this long"
            " means nobody crossed, and the minutes close with zeros. An event delayed longer counts as late."
        ),
    )
    serial: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Fa-f]{12}$",
        title="Camera serial number",
        description="When set, events whose `serial` differs are refused (another camera on the same topic).",
    )

    @model_validator(mode="after")
    def _topics(self) -> Self:
        for t in self.topics():
            if any(c in t for c in "+#"):
                raise ValueError(f"device {self.id}: topic {t!r} must not contain wildcards")
        if self.exit_topic == self.entry_topic:
            raise ValueError(f"device {self.id}: entry_topic and exit_topic are the same; each scenario has its own")
        return self

    def topics(self) -> list[str]:
        """The scenario topics, entry first."""
        return [self.entry_topic] + ([self.exit_topic] if self.exit_topic else [])


class XovisCounter(HttpCounter):
    """A Xovis sensor pushing its line count data (JSON, or count-data XML) to the agent's HTTP listener.

    Each `lines[].line` is a count line's `element-name` on the sensor (the `name` of a
    `<line>` in XML). The sensor's HTTP connection sends `Authorization: Bearer <token>`
    as a custom header field when a token is set. See `footfall.edge.drivers.vendors`.
    """

    driver: Literal["xovis"]  # type: ignore[assignment]


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Europe/Riga") from None
    return name


class _Polled(_Counter):
    url: str = Field(
        pattern=r"^https?://[^/\s]+$",
        title="Device address",
        description="http://host[:port] of the camera on the store LAN, no path.",
    )
    door: Id = Field(title="Door")
    timezone: str = Field(
        title="Device time zone",
        description="IANA zone the camera's clock is set to (its exports carry local times without an offset).",
    )
    username: str | None = Field(default=None, title="User name", description="A viewer account on the camera.")
    password: SecretStr | None = Field(default=None, title="Password", description="Prefer `password_file`.")
    password_file: Path | None = Field(default=None, title="Password file")
    auth: Literal["digest", "basic"] = Field(default="digest", title="HTTP authentication")
    timeout_s: float = Field(default=10.0, gt=0, le=300, title="Request timeout")

    @model_validator(mode="after")
    def _polled(self) -> Self:
        _zone(self.timezone)
        if self.password is not None and self.password_file is not None:
            raise ValueError(f"device {self.id}: set password or password_file, not both")
        if (self.password is not None or self.password_file is not None) and self.username is None:
            raise ValueError(f"device {self.id}: a password needs a username")
        return self

    def secret(self) -> str | None:
        """The camera password, or None without authentication."""
        return _read_secret(self.password, self.password_file, f"device {self.id} password")


class AxisLiveCounter(_Polled):
    """AXIS People Counter (2D, on an Axis camera): the agent polls its live sum (cumulative IN/OUT)."""

    driver: Literal["axis_live"]
    poll_s: float = Field(
        default=5.0,
        ge=0.5,
        le=300,
        title="Poll period",
        description="Counts between two polls land at the later poll's time: poll often to keep them in their minute.",
    )
    daily_reset: bool = Field(
        default=True,
        title="Restarts at midnight",
        description="The live sum restarts at zero at the camera's local midnight; false if it grows across days.",
    )


class A3dpcCounter(_Polled):
    """AXIS P8815-2 3D People Counter: the agent polls its per-minute export."""

    driver: Literal["axis_a3dpc"]
    poll_s: float = Field(default=60.0, ge=5, le=3600, title="Poll period")
    settle_s: float = Field(
        default=5.0,
        ge=0,
        le=600,
        title="Settle",
        description="A minute is taken only once it ended this long ago (the camera may still be counting it).",
    )


DeviceOptions = Annotated[
    TcpCounter | HttpCounter | XovisCounter | MqttCounter | AxisLiveCounter | A3dpcCounter | AxisAoaCounter,
    Field(discriminator="driver"),
]


Counter = TcpCounter | HttpCounter | XovisCounter | MqttCounter | AxisLiveCounter | A3dpcCounter | AxisAoaCounter
"""Any door counter the agent reads."""


class CameraOptions(_Strict):
    """A camera run by the agent's camera pipeline (`footfall.edge.vision`).

    What it looks at (floor, calibration, lines, zones) is in the store file; here is only
    where its video comes from and how to process it.
    """

    id: Id = Field(title="Device id", description="The camera's device id (kind camera) in store.yaml.")
    source: str | int = Field(
        title="Video source", description="Stream URL (rtsp://…), a video file, or a local device index."
    )
    options_file: Path | None = Field(
        default=None, title="Pipeline options", description="A vision options YAML (see docs/vision.md)."
    )
    realtime: bool = Field(
        default=False, title="Real time", description="Play a file at its own frame rate (a recording standing in)."
    )


DRIVER_KINDS = {
    "tcp": DeviceKind.COUNTER_TCP,
    "http": DeviceKind.COUNTER_HTTP,
    "mqtt": DeviceKind.COUNTER_MQTT,
    # Vendor counters talk HTTP to the agent (push or poll): kind counter_http in store.yaml.
    "xovis": DeviceKind.COUNTER_HTTP,
    "axis_live": DeviceKind.COUNTER_HTTP,
    "axis_a3dpc": DeviceKind.COUNTER_HTTP,
    # AXIS Object Analytics events reach the agent through the store's local MQTT broker.
    "axis_aoa": DeviceKind.COUNTER_MQTT,
}


class EdgeConfig(_Strict):
    """One edge agent (`edge.yaml`).

    Example:
        >>> cfg = EdgeConfig.from_yaml(Path("examples/edge.yaml"))  # doctest: +SKIP
        >>> [d.id for d in cfg.devices]  # doctest: +SKIP
        ['riga-01-beam', 'riga-01-stereo', 'riga-01-staff']
    """

    store_id: Id = Field(title="Store", description="The store this box is in.")
    device_id: Id = Field(title="Agent device id", description="The agent's own device (kind `edge`) in store.yaml.")
    store_file: Path | None = Field(
        default=None,
        title="Store file",
        description="store.yaml to check devices and doors against (relative to this file).",
    )
    data_dir: Path | None = Field(default=None, title="Data folder", description="Holds the queue (outbox.db).")
    heartbeat_s: float | None = Field(default=None, gt=0, le=3600, title="Heartbeat period", description="Seconds.")
    mqtt: MqttOptions = Field(default_factory=MqttOptions, title="Upstream broker")
    queue: QueueOptions = Field(default_factory=QueueOptions, title="Queue")
    minutes: MinuteOptions = Field(default_factory=MinuteOptions, title="Minutes")
    http: HttpListen = Field(default_factory=HttpListen, title="HTTP push listener")
    metrics: MetricsListen = Field(default_factory=MetricsListen, title="Prometheus metrics")
    devices: list[DeviceOptions] = Field(default_factory=list, max_length=256, title="Door counters")
    cameras: list[CameraOptions] = Field(default_factory=list, max_length=64, title="Cameras")

    @model_validator(mode="after")
    def _unique(self) -> Self:
        if self.cameras and self.store_file is None:
            raise ValueError("cameras need store_file: their floor, calibration, lines and zones are in store.yaml")
        ids = [d.id for d in self.devices] + [c.id for c in self.cameras]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"device ids appear twice: {', '.join(dup)}")
        if self.device_id in ids:
            raise ValueError(f"the agent's device_id {self.device_id!r} is also listed as a counter")
        return self

    def doors_of(self, device: "Counter") -> list[str]:
        """The doors a counter reports."""
        if isinstance(device, HttpCounter):
            return list(dict.fromkeys(ln.door for ln in device.lines))
        return [device.door]

    def check_store(self, store: StoreConfig) -> None:
        """Check this file against the store's: ids, device kinds and doors.

        Raises:
            ConfigError: the store, a device or a door does not match; the message names it.
        """
        problems = []
        if store.store.id != self.store_id:
            problems.append(f"store_id {self.store_id!r} but the store file is for {store.store.id!r}")
        devices = {d.id: d for d in store.devices}
        agent = devices.get(self.device_id)
        if agent is None or agent.kind is not DeviceKind.EDGE:
            problems.append(f"device_id {self.device_id!r} is not a device of kind edge in the store file")
        for d in self.devices:
            known = devices.get(d.id)
            if known is None:
                problems.append(f"device {d.id!r} is not in the store file")
                continue
            if known.kind is not DRIVER_KINDS[d.driver]:
                problems.append(f"device {d.id!r} is {known.kind.value} in the store file, not {d.driver}")
            for door in self.doors_of(d):
                if door not in known.doors:
                    problems.append(f"device {d.id!r} reports door {door!r}, not among its doors {known.doors}")
        for cam in self.cameras:
            known = devices.get(cam.id)
            if known is None or known.kind is not DeviceKind.CAMERA:
                problems.append(f"camera {cam.id!r} is not a device of kind camera in the store file")
        if problems:
            raise ConfigError("edge config does not match the store file:\n  " + "\n  ".join(problems))

    def broker(self, defaults: MqttSettings, *, install_id: str = "noinstall") -> BrokerTarget:
        """The upstream broker: this file's `mqtt` section over `FOOTFALL_MQTT__*`.

        Args:
            defaults: the process's MQTT settings.
            install_id: this box's install id (`footfall.edge.identity`), part of the default client id.

        Raises:
            ConfigError: the password file cannot be read.
        """
        o = self.mqtt
        password = _read_secret(o.password, o.password_file, "mqtt.password_file")
        if password is None and defaults.password is not None:
            password = defaults.password.get_secret_value()
        tls = o.tls or TlsOptions.from_settings(defaults)
        prefix = o.prefix or defaults.prefix
        return BrokerTarget(
            host=o.host or defaults.host,
            port=o.port or defaults.port,
            prefix=prefix,
            username=o.username if o.username is not None else defaults.username,
            password=None if password is None else SecretStr(password),
            client_id=o.client_id
            or deployment_client_id("edge", prefix=prefix, install_id=install_id, name=self.device_id),
            keepalive_s=o.keepalive_s or defaults.keepalive_s,
            reconnect_max_s=o.reconnect_max_s,
            tls=tls,
        )

    def resolved_data_dir(self, defaults: EdgeSettings) -> Path:
        """Where the queue lives."""
        return self.data_dir or defaults.data_dir

    def queue_max_bytes(self, defaults: EdgeSettings) -> int:
        """The queue's disk budget."""
        return self.queue.max_bytes or defaults.queue_max_bytes

    def metrics_listen(self, defaults: EdgeSettings) -> tuple[str, int]:
        """Address and port of the agent's metrics (port 0: off)."""
        m = self.metrics
        return (m.host or defaults.metrics_host, defaults.metrics_port if m.port is None else m.port)

    def heartbeat_period(self, defaults: EdgeSettings) -> float:
        """Seconds between heartbeats."""
        return self.heartbeat_s or defaults.heartbeat_s

    @classmethod
    def from_yaml(cls, path: Path) -> "EdgeConfig":
        """Load and validate an `edge.yaml`; relative paths in it are relative to the file.

        Raises:
            ConfigError: the file is missing, not YAML, or breaks a rule; the message names the field.
        """
        data = load_yaml(path)
        cfg = cls.from_data(data, source=str(path))
        return cfg.relative_to(path.parent)

    def relative_to(self, base: Path) -> "EdgeConfig":
        """Resolve the relative paths in this config against `base`."""

        def fix(p: Path | None) -> Path | None:
            return None if p is None or p.is_absolute() else base / p

        update: dict = {}
        for name in ("store_file", "data_dir"):
            value = getattr(self, name)
            if value is not None and not value.is_absolute():
                update[name] = fix(value)
        if self.mqtt.password_file is not None and not self.mqtt.password_file.is_absolute():
            update["mqtt"] = self.mqtt.model_copy(update={"password_file": fix(self.mqtt.password_file)})
        update["cameras"] = [
            c.model_copy(update={"options_file": fix(c.options_file)})
            if c.options_file is not None and not c.options_file.is_absolute()
            else c
            for c in self.cameras
        ]
        devices: list[Counter] = []
        for dev in self.devices:
            d = dev
            if isinstance(d, HttpCounter) and d.token_file is not None and not d.token_file.is_absolute():
                d = d.model_copy(update={"token_file": fix(d.token_file)})
            if isinstance(d, _Polled) and d.password_file is not None and not d.password_file.is_absolute():
                d = d.model_copy(update={"password_file": fix(d.password_file)})
            devices.append(d)
        update["devices"] = devices
        return self.model_copy(update=update)

    @classmethod
    def from_data(cls, data: object, *, source: str = "edge config") -> "EdgeConfig":
        """Validate already-parsed data (see `from_yaml`).

        Raises:
            ConfigError: a rule is broken; one line per problem, naming the field.
        """
        return validate(cls, data, source=source)
