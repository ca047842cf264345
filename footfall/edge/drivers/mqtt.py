"""Driver for counters that publish their own cumulative counters to a local MQTT broker.

The counter publishes with QoS 1 to its topic (e.g. `sensors/staff-01/counters`) on
every change and at least every 10 s:

    {"boot": 3, "uptime_ms": 8123456, "time": "2026-03-29T10:00:41.250Z",
     "in": 1042, "out": 1017, "status": "ok"}

`time` is the counter's clock (ISO 8601 with an offset, or milliseconds since the
epoch); `boot` and `uptime_ms` are optional (without them a reboot is recognised by
counters that went down by more than a wrap explains, and reports are ordered by `time`:
one not after the last is a duplicate, an unchanged one at a later time moves the
device's minutes on with zero counts); `status` is `ok` or `blocked`.

The agent subscribes with a persistent session (clean start off, a session expiry) and
acknowledges each message by hand only after it is committed to the outbox, so messages
published while the agent was down or killed are delivered again when it returns.
"""

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from paho.mqtt.reasoncodes import ReasonCode
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from footfall.core.clock import Clock
from footfall.core.configfile import format_errors
from footfall.core.mqtt import BrokerTarget, MQTTMessage, MqttTransport, TlsOptions
from footfall.edge.config import AxisAoaCounter, MqttCounter
from footfall.edge.drivers.base import CounterCore, CumulativeReport
from footfall.edge.drivers.vendors import parse_axis_aoa
from footfall.edge.errors import DeviceReportError, OutboxError

logger = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600


class CounterPayload(BaseModel):
    """One message of an MQTT-native counter."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    time: AwareDatetime
    entries: int = Field(alias="in", ge=0, le=2**64 - 1)
    exits: int = Field(alias="out", ge=0, le=2**64 - 1)
    boot: int | None = Field(default=None, ge=0)
    uptime_ms: int | None = Field(default=None, ge=0)
    status: Literal["ok", "blocked"] = "ok"

    @field_validator("time", mode="before")
    @classmethod
    def _epoch_ms(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000, UTC)
        return value


class MqttCounterDriver:
    """Subscribes to one counter's topic on its local broker and feeds a `CounterCore`."""

    def __init__(self, cfg: MqttCounter | AxisAoaCounter, core: CounterCore, clock: Clock, *, agent_id: str) -> None:
        """`agent_id`: the agent's own client id upstream; the local session's default id extends it."""
        self.cfg = cfg
        self.topics = cfg.topics() if isinstance(cfg, AxisAoaCounter) else [cfg.topic]
        self.core = core
        self.clock = clock
        target = BrokerTarget(
            host=cfg.host,
            port=cfg.port,
            prefix="local",
            username=cfg.username,
            password=cfg.password,
            client_id=cfg.client_id or f"{agent_id}-{cfg.id}"[:128],
            keepalive_s=30,
            tls=TlsOptions(),
        )
        self.transport = MqttTransport(
            target,
            clean_start=False,
            session_expiry_s=SESSION_EXPIRY_S,
            manual_ack=True,
            name=f"counter {cfg.id}",
            hint=f"check that the counter's local broker runs and device {cfg.id}'s host/port in edge.yaml",
            on_refused=self._on_refused,
            on_disconnect=self._on_disconnect,
            on_message=self._on_message,
            on_subscribe=self._on_subscribe,
        )
        for topic in self.topics:
            self.transport.subscribe(topic, qos=1)
        self._lock = threading.Lock()

    @property
    def device_id(self) -> str:
        """The counter's device id."""
        return self.cfg.id

    def start(self) -> None:
        """Connect (persistent session) and consume in paho's thread."""
        self.transport.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect (the session and anything unacknowledged stay on the broker)."""
        self.transport.stop()

    def _on_refused(self, rc: ReasonCode) -> None:
        logger.error(
            "%s: local broker %s:%d refused the connection: %s; check the device's username/password",
            self.cfg.id,
            self.cfg.host,
            self.cfg.port,
            rc,
            extra={"device_id": self.cfg.id},
        )

    def _on_subscribe(self, codes: list[ReasonCode]) -> None:
        if any(c.is_failure for c in codes):
            logger.error(
                "%s: local broker refused the subscription to %s: %s; check the broker's ACL for this user",
                self.cfg.id,
                ", ".join(self.topics),
                codes[0],
                extra={"device_id": self.cfg.id},
            )
            return
        self.core.health.connected = True
        logger.info("%s: subscribed to %s", self.cfg.id, ", ".join(self.topics), extra={"device_id": self.cfg.id})

    def _on_disconnect(self, rc: ReasonCode) -> None:
        self.core.health.connected = False

    def _on_message(self, msg: MQTTMessage) -> None:
        received = self.clock.now()
        if msg.topic not in self.topics:
            # A subscription left in the persistent session by an earlier configuration.
            logger.warning(
                "%s: message on %s ignored (this counter publishes on %s)",
                self.cfg.id,
                msg.topic,
                ", ".join(self.topics),
                extra={"device_id": self.cfg.id},
            )
            self.transport.ack(msg.mid, msg.qos)
            return
        self._handle(msg, received)

    def _handle(self, msg: MQTTMessage, received: datetime) -> None:
        try:
            payload = CounterPayload.model_validate_json(msg.payload)
        except ValidationError as exc:
            self.core.health.errors += 1
            logger.warning(
                "%s: malformed counter message dropped: %s",
                self.cfg.id,
                format_errors(exc, empty="payload")[0],
                extra={"device_id": self.cfg.id},
            )
            self.transport.ack(msg.mid, msg.qos)
            return
        report = CumulativeReport(
            device_ts=payload.time,
            entries=payload.entries,
            exits=payload.exits,
            boot=payload.boot,
            uptime_ms=payload.uptime_ms,
            blocked=payload.status == "blocked",
            # Without boot and uptime only the time orders reports: an unchanged one at a
            # later time says nobody came (its minutes close as zeros), as for a polled live sum.
            ordered_by_time=payload.boot is None and payload.uptime_ms is None,
        )
        try:
            if not msg.dup:
                self.core.observe_clock(device_ts=payload.time, received=received)
            self.core.ingest([report])
        except OutboxError:
            # Not acknowledged: the broker delivers it again after the next reconnect, and the
            # counters in later reports already carry its counts.
            self.core.health.errors += 1
            logger.exception("%s: could not store a report", self.cfg.id, extra={"device_id": self.cfg.id})
            return
        self.transport.ack(msg.mid, msg.qos)


class AxisAoaDriver(MqttCounterDriver):
    """AXIS Object Analytics crossline counting events on the local broker (see `AxisAoaCounter`).

    Same session, acknowledgement and reconnection as `MqttCounterDriver`; each event
    carries one scenario's (one direction's) humans counted since its last reset, which
    `CounterCore.ingest_direction_total` turns into per-minute counts.
    """

    cfg: AxisAoaCounter

    def __init__(self, cfg: AxisAoaCounter, core: CounterCore, clock: Clock, *, agent_id: str) -> None:
        """See `MqttCounterDriver`; also closes quiet minutes every few seconds while subscribed."""
        super().__init__(cfg, core, clock, agent_id=agent_id)
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._subscribed_at: float | None = None

    def start(self) -> None:
        """Connect, subscribe, and close the minutes nobody crossed in."""
        super().start()
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick_loop, name=f"aoa-{self.cfg.id}", daemon=True)
        self._ticker.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the ticks and disconnect."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout)
        super().stop(timeout)

    def _tick_loop(self) -> None:
        period = max(1.0, self.cfg.quiet_s / 6)
        while not self.clock.wait(self._stop, period):
            self.tick()

    def _on_subscribe(self, codes: list[ReasonCode]) -> None:
        super()._on_subscribe(codes)
        self._subscribed_at = self.clock.monotonic()

    def _on_disconnect(self, rc: ReasonCode) -> None:
        super()._on_disconnect(rc)
        self._subscribed_at = None

    def tick(self) -> None:
        """While subscribed, the camera's silence up to `quiet_s` ago says nobody crossed.

        Not in the first `quiet_s` after (re)subscribing: the events the broker kept for the
        agent's session while it was away arrive first.
        """
        since = self._subscribed_at
        if since is None or not self.core.health.connected or self.clock.monotonic() - since < self.cfg.quiet_s:
            return  # not listening (long enough): the time stays unobserved
        try:
            self.core.observe_quiet(self.clock.now() - timedelta(seconds=self.cfg.quiet_s))
        except OutboxError:
            self.core.health.errors += 1
            logger.exception("%s: could not store quiet minutes", self.cfg.id, extra={"device_id": self.cfg.id})

    def _handle(self, msg: MQTTMessage, received: datetime) -> None:
        direction = "in" if msg.topic == self.cfg.entry_topic else "out"
        try:
            event = parse_axis_aoa(bytes(msg.payload))
            if self.cfg.serial and event.serial.upper() != self.cfg.serial.upper():
                raise DeviceReportError(
                    f"AXIS AOA event: serial {event.serial!r} is not this camera's {self.cfg.serial!r};"
                    " check the camera's MQTT topic prefix"
                )
        except DeviceReportError as exc:
            self.core.health.errors += 1
            logger.warning("%s: malformed event dropped: %s", self.cfg.id, exc, extra={"device_id": self.cfg.id})
            self.transport.ack(msg.mid, msg.qos)
            return
        try:
            if not msg.dup:
                self.core.observe_clock(device_ts=event.device_ts, received=received)
            self.core.ingest_direction_total(event.device_ts, direction, event.humans)
        except OutboxError:
            self.core.health.errors += 1
            logger.exception("%s: could not store an event", self.cfg.id, extra={"device_id": self.cfg.id})
            return
        self.transport.ack(msg.mid, msg.qos)
