"""The one MQTT transport: a paho-mqtt 2.x client (MQTT v5) behind a small class.

Every part of Footfall that talks MQTT (the edge publisher, the MQTT counter driver, the
ingest worker, the MQTT counter stub, the benchmarks) goes through `MqttTransport`:

* connection settings and credentials from one `BrokerTarget`, TLS from one `TlsOptions`
  model, always through `ssl.SSLContext` (`tls_context`);
* a persistent session when asked (clean start off, a session expiry), manual
  acknowledgements when asked (`ack` after the caller committed the message);
* the Last Will (`set_will`), re-armable before each connection attempt;
* `publish`, `subscribe` (remembered and re-issued on every connection, so shared
  subscriptions come back after a broker restart that forgot them) and `stop`;
* reconnection with exponential back-off between `Backoff.min_s` and `Backoff.max_s`
  (paho's own loop);
* a WARNING naming host:port and the fix when the broker has not been reachable for
  `warn_after_s`, repeated every `warn_every_s` while it lasts, and a public state
  (`connected`, `unreachable_s`, `last_error`) that health and metrics read.

Topic grammar stays in `footfall.core.topics`.
"""

import hashlib
import logging
import re
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from footfall.core.configfile import validate
from footfall.core.settings import MqttSettings

logger = logging.getLogger(__name__)

MQTTMessage = mqtt.MQTTMessage
MQTTMessageInfo = mqtt.MQTTMessageInfo
MQTT_ERR_SUCCESS = mqtt.MQTT_ERR_SUCCESS
MQTT_ERR_NO_CONN = mqtt.MQTT_ERR_NO_CONN


SESSION_TAKEN_OVER = 142
"""MQTT v5 DISCONNECT reason: another connection came with the same client id."""

MAX_CLIENT_ID = 64
FLAP_S = 10.0
"""A connection lost this soon after it was made is a flap."""
FLAPS = 3
FLAP_WINDOW_S = 60.0
"""`FLAPS` flaps within this window are reported as a session takeover."""
TAKEOVER_LOG_EVERY_S = 30.0


def deployment_client_id(role: str, *, prefix: str, install_id: str, name: str) -> str:
    """A default client id unique per deployment: `footfall-<role>-<prefix>-<install>-<name>`.

    The persistent session is keyed by the client id alone, so two deployments on one
    broker (other topic prefixes, other databases) must never build the same one: the
    prefix and the deployment's stable install id are part of it. Ids longer than 64
    characters keep their start and end a digest of the whole.

    Example:
        >>> deployment_client_id("ingest", prefix="shop/eu", install_id="9f2c41aa77", name="host1")
        'footfall-ingest-shop_eu-9f2c41aa-host1'
    """
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", prefix)
    full = f"footfall-{role}-{slug}-{install_id[:8]}-{name}"
    if len(full) <= MAX_CLIENT_ID:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:12]
    return f"{full[: MAX_CLIENT_ID - 13]}-{digest}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsOptions(_Strict):
    """TLS towards a broker."""

    enabled: bool = Field(default=False, title="TLS", description="Connect with TLS (usually port 8883).")
    ca_file: Path | None = Field(
        default=None, title="CA bundle", description="CA certificates that sign the broker's; default: the system's."
    )
    cert_file: Path | None = Field(default=None, title="Client certificate", description="For mutual TLS.")
    key_file: Path | None = Field(default=None, title="Client key", description="For mutual TLS.")
    insecure: bool = Field(
        default=False,
        title="Skip host name check",
        description="Accept a certificate for another host name. Testing only: it allows impersonation.",
    )
    min_version: Literal["1.2", "1.3"] = Field(default="1.2", title="Lowest TLS version")

    @model_validator(mode="after")
    def _pair(self) -> Self:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (mutual TLS needs both)")
        for name in ("ca_file", "cert_file", "key_file"):
            path = getattr(self, name)
            if self.enabled and path is not None and not path.exists():
                raise ValueError(f"{name} {path} does not exist")
        return self

    @classmethod
    def from_settings(cls, m: MqttSettings) -> "TlsOptions":
        """The TLS options of the `FOOTFALL_MQTT__*` settings.

        Raises:
            ConfigError: a file named there does not exist (the message names it).
        """
        data = {"enabled": m.tls, "ca_file": m.ca_file, "cert_file": m.cert_file, "key_file": m.key_file}
        return validate(cls, data, source="FOOTFALL_MQTT__TLS settings")


class BrokerTarget(_Strict):
    """Resolved connection settings for one broker (upstream or a device's local one)."""

    host: str
    port: int
    prefix: str
    username: str | None
    password: SecretStr | None
    client_id: str
    keepalive_s: int
    reconnect_max_s: int = 30
    tls: TlsOptions = Field(default_factory=TlsOptions)

    @classmethod
    def from_settings(cls, m: MqttSettings, *, client_id: str, reconnect_max_s: int = 30) -> "BrokerTarget":
        """The broker of the `FOOTFALL_MQTT__*` settings, as client `client_id`."""
        return cls(
            host=m.host,
            port=m.port,
            prefix=m.prefix,
            username=m.username,
            password=m.password,
            client_id=client_id,
            keepalive_s=m.keepalive_s,
            reconnect_max_s=reconnect_max_s,
            tls=TlsOptions.from_settings(m),
        )


def tls_context(tls: TlsOptions) -> ssl.SSLContext | None:
    """The SSL context for `tls`, or None when TLS is off."""
    if not tls.enabled:
        return None
    ctx = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3 if tls.min_version == "1.3" else ssl.TLSVersion.TLSv1_2
    if tls.cert_file is not None and tls.key_file is not None:
        ctx.load_cert_chain(str(tls.cert_file), str(tls.key_file))
    if tls.insecure:
        ctx.check_hostname = False
    return ctx


@dataclass(frozen=True)
class Backoff:
    """Reconnect delays: `min_s`, doubling up to `max_s` (paho's own schedule)."""

    min_s: float = 1.0
    max_s: float = 30.0

    def __post_init__(self) -> None:
        if not 0 < self.min_s <= self.max_s:
            raise ValueError(f"reconnect back-off needs 0 < min_s <= max_s, got {self.min_s} and {self.max_s}")

    def delays(self, attempts: int) -> list[float]:
        """The waits before the first `attempts` reconnection attempts."""
        out, d = [], self.min_s
        for _ in range(attempts):
            out.append(d)
            d = min(d * 2, self.max_s)
        return out


@dataclass(frozen=True)
class Will:
    """A Last Will: published by the broker when the connection ends without DISCONNECT."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


@dataclass(frozen=True)
class TransportState:
    """What health checks and metrics read."""

    connected: bool
    unreachable_s: float
    connects: int
    last_error: str | None
    takeovers: int = 0


ConnectHook = Callable[[bool], None]
ReasonHook = Callable[[ReasonCode], None]
MessageHook = Callable[[mqtt.MQTTMessage], None]
PublishHook = Callable[[int, ReasonCode], None]
SubscribeHook = Callable[[list[ReasonCode]], None]


class MqttTransport:
    """One MQTT v5 connection (see the module docstring).

    Callbacks run in paho's network thread: `on_connect(session_present)` after a
    successful CONNACK (the remembered subscriptions are re-issued just before),
    `on_refused(reason)` on a refused CONNACK, `on_disconnect(reason)`,
    `on_message(msg)`, `on_publish(mid, reason)` for each PUBACK and
    `on_subscribe(reason_codes)` for each SUBACK.

    Example:
        >>> t = MqttTransport(BrokerTarget.from_settings(settings.mqtt, client_id="me"))  # doctest: +SKIP
        >>> t.subscribe("footfall/v1/#")  # doctest: +SKIP
        >>> t.start()  # doctest: +SKIP
        >>> t.publish("footfall/v1/x", b"{}").wait_for_publish(5)  # doctest: +SKIP
        >>> t.stop()  # doctest: +SKIP

    Args:
        target: host, port, credentials, client id, keep-alive, TLS.
        clean_start: False keeps a persistent session (with `session_expiry_s`).
        session_expiry_s: how long the broker keeps the session after a disconnect.
        receive_maximum: most unacknowledged QoS 1 messages the broker sends us.
        manual_ack: acknowledge received messages only through `ack`.
        backoff: reconnect delays; default 1 s up to `target.reconnect_max_s`.
        max_inflight: paho's limit of our unacknowledged publishes (default 20).
        max_queued: paho's limit of publishes waiting for a connection (0: none).
        warn_after_s: warn once the broker has been unreachable this long.
        warn_every_s: and again at most this often while it lasts.
        hint: the fix named in the warning.
        name: who this is, for logs.
    """

    def __init__(
        self,
        target: BrokerTarget,
        *,
        clean_start: bool = True,
        session_expiry_s: int | None = None,
        receive_maximum: int | None = None,
        manual_ack: bool = False,
        backoff: Backoff | None = None,
        max_inflight: int | None = None,
        max_queued: int | None = None,
        warn_after_s: float = 5.0,
        warn_every_s: float = 60.0,
        hint: str = "check that the broker runs and that FOOTFALL_MQTT__HOST/PORT point at it",
        name: str = "mqtt",
        on_connect: ConnectHook | None = None,
        on_refused: ReasonHook | None = None,
        on_disconnect: ReasonHook | None = None,
        on_message: MessageHook | None = None,
        on_publish: PublishHook | None = None,
        on_subscribe: SubscribeHook | None = None,
    ) -> None:
        self.target = target
        self.clean_start = clean_start
        self.session_expiry_s = session_expiry_s
        self.receive_maximum = receive_maximum
        self.backoff = backoff or Backoff(1.0, float(target.reconnect_max_s))
        self.warn_after_s = warn_after_s
        self.warn_every_s = warn_every_s
        self.hint = hint
        self.name = name
        self.on_connect = on_connect
        self.on_refused = on_refused
        self.on_disconnect = on_disconnect
        self.on_message = on_message
        self.on_publish = on_publish
        self.on_subscribe = on_subscribe
        self.connects = 0
        self.takeovers = 0
        """Times the broker ended our connection because another one used our client id."""
        self._connected_at: float | None = None
        self._flaps: deque[float] = deque()
        self._takeover_logged: float | None = None
        self.last_error: str | None = None
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._watch: threading.Thread | None = None
        self._down_since: float | None = None
        self._warned_at: float | None = None
        self._subscriptions: dict[str, int] = {}
        self._lock = threading.Lock()
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=target.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=manual_ack,
        )
        if target.username is not None:
            client.username_pw_set(
                target.username, None if target.password is None else target.password.get_secret_value()
            )
        ctx = tls_context(target.tls)
        if ctx is not None:
            client.tls_set_context(ctx)
            if target.tls.insecure:
                client.tls_insecure_set(True)
        client.reconnect_delay_set(min_delay=self.backoff.min_s, max_delay=self.backoff.max_s)  # type: ignore[arg-type]
        if max_inflight is not None:
            client.max_inflight_messages_set(max_inflight)
        if max_queued is not None:
            client.max_queued_messages_set(max_queued)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        self._client = client

    # -- public state ---------------------------------------------------------------------

    @property
    def address(self) -> str:
        """host:port of the broker."""
        return f"{self.target.host}:{self.target.port}"

    @property
    def connected(self) -> bool:
        """Whether the connection is up (CONNACK received, not lost since)."""
        return self._connected.is_set()

    @property
    def unreachable_s(self) -> float:
        """Seconds since the connection was lost (or since `start` without one); 0 while connected."""
        since = self._down_since
        if since is None or self._connected.is_set():
            return 0.0
        return time.monotonic() - since

    @property
    def state(self) -> TransportState:
        """A snapshot of the public state."""
        return TransportState(self.connected, self.unreachable_s, self.connects, self.last_error, self.takeovers)

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected (real seconds); returns whether it is."""
        return self._connected.wait(timeout)

    # -- life cycle -----------------------------------------------------------------------

    def _connect_properties(self) -> Properties | None:
        if self.session_expiry_s is None and self.receive_maximum is None:
            return None
        props = Properties(PacketTypes.CONNECT)
        if self.session_expiry_s is not None:
            props.SessionExpiryInterval = self.session_expiry_s
        if self.receive_maximum is not None:
            props.ReceiveMaximum = self.receive_maximum
        return props

    def start(self) -> None:
        """Connect in the background (paho's network thread), reconnecting with back-off."""
        self._stopping.clear()
        self._down_since = time.monotonic()
        self._warned_at = None
        self._client.connect_async(
            self.target.host,
            self.target.port,
            keepalive=self.target.keepalive_s,
            clean_start=self.clean_start,
            properties=self._connect_properties(),
        )
        self._client.loop_start()
        if self._watch is None or not self._watch.is_alive():
            self._watch = threading.Thread(target=self._watchdog, name=f"{self.name}-watch", daemon=True)
            self._watch.start()

    def stop(self) -> None:
        """Disconnect cleanly (no will; a persistent session stays on the broker) and stop the thread."""
        self._stopping.set()
        try:
            self._client.disconnect()
        finally:
            self._client.loop_stop()
        self._connected.clear()
        self._down_since = None  # stopped on purpose: not "unreachable"
        if self._watch is not None:
            self._watch.join(2.0)
            self._watch = None

    def restart(self) -> None:
        """Disconnect cleanly and connect again (a device reboot)."""
        self.stop()
        self.start()

    def drop(self) -> None:
        """End the connection without DISCONNECT, as a crash or a cut cable would: the broker sends the will.

        The socket is shut down, not closed: paho's thread sees the connection end, closes
        the socket itself and reconnects. (Closing it under paho's feet frees the descriptor
        while paho still polls it, and the broker may not see the connection end at all.)
        """
        sock = self._client.socket()
        if isinstance(sock, socket.socket):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                logger.debug("shutting the socket down failed", exc_info=True)

    # -- messages -------------------------------------------------------------------------

    def set_will(self, will: Will | None) -> None:
        """The Last Will of the next connection attempt (None: none)."""
        if will is None:
            self._client.will_clear()
        else:
            self._client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)

    def publish(self, topic: str, payload: bytes | str, *, qos: int = 1, retain: bool = False) -> mqtt.MQTTMessageInfo:
        """Publish; while disconnected paho keeps QoS > 0 messages and sends them after reconnecting.

        Returns:
            paho's message info (`mid`, `rc`, `wait_for_publish`).
        """
        return self._client.publish(topic, payload, qos=qos, retain=retain)

    def subscribe(self, topic: str, *, qos: int = 1) -> None:
        """Subscribe now (if connected) and again on every later connection."""
        with self._lock:
            self._subscriptions[topic] = qos
        if self._connected.is_set():
            self._client.subscribe(topic, options=SubscribeOptions(qos=qos))

    def ack(self, mid: int, qos: int) -> None:
        """Acknowledge a received message (with `manual_ack`)."""
        self._client.ack(mid, qos)

    # -- paho callbacks (network thread) --------------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: ReasonCode, props: Any) -> None:
        if rc.is_failure:
            self.last_error = f"connection refused: {rc}"
            if self.on_refused is not None:
                self.on_refused(rc)
            else:
                logger.error(
                    "%s: broker %s refused the connection: %s; check the user name, password and the broker's ACL",
                    self.name,
                    self.address,
                    rc,
                )
            return
        self.connects += 1
        self._connected_at = time.monotonic()
        self.last_error = None
        if self._warned_at is not None:
            logger.info("%s: broker %s reachable again", self.name, self.address)
        self._warned_at = None
        self._down_since = None
        self._connected.set()
        with self._lock:
            subs = list(self._subscriptions.items())
        for topic, qos in subs:
            client.subscribe(topic, options=SubscribeOptions(qos=qos))
        if self.on_connect is not None:
            self.on_connect(bool(flags.session_present))

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self.last_error = f"cannot reach {self.address}"

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: ReasonCode, props: Any) -> None:
        self._connected.clear()
        if self._down_since is None:
            self._down_since = time.monotonic()
        if not self._stopping.is_set() and rc.is_failure:
            self.last_error = f"disconnected: {rc}"
        if not self._stopping.is_set() and self._taken_over(rc):
            self.takeovers += 1
            self.last_error = "session taken over by another connection with our client id"
            now = time.monotonic()
            if self._takeover_logged is None or now - self._takeover_logged >= TAKEOVER_LOG_EVERY_S:
                self._takeover_logged = now
                how = (
                    "another client connected with the same client id and took over the persistent session"
                    if rc.value == SESSION_TAKEN_OVER
                    else f"the connection was dropped {len(self._flaps)} times within {FLAP_WINDOW_S:.0f} s right "
                    "after connecting: most likely another client with the same client id took over the session"
                )
                # Both keep taking the session from each other (each reconnects), and whoever
                # holds it receives, and may acknowledge, the other's messages.
                logger.error(
                    "%s: broker %s, client id %r: %s (%d time(s) so far); two processes or deployments share "
                    "this id — give each its own (leave client_id unset for a default unique per deployment: "
                    "topic prefix + install id)",
                    self.name,
                    self.address,
                    self.target.client_id,
                    how,
                    self.takeovers,
                )
        if self.on_disconnect is not None:
            self.on_disconnect(rc)

    def _taken_over(self, rc: ReasonCode) -> bool:
        """Whether this disconnect is a session takeover: said by the broker (MQTT v5 reason
        142), or, for brokers that just close the socket (Mosquitto 2.0.11), a connection
        dropped right after it was made, again and again while the broker answers at once."""
        if rc.value == SESSION_TAKEN_OVER:
            return True
        now = time.monotonic()
        if not rc.is_failure or self._connected_at is None or now - self._connected_at > FLAP_S:
            return False
        self._flaps.append(now)
        while self._flaps and now - self._flaps[0] > FLAP_WINDOW_S:
            self._flaps.popleft()
        return len(self._flaps) >= FLAPS

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if self.on_message is not None:
            self.on_message(msg)

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, rc: ReasonCode, props: Any) -> None:
        if self.on_publish is not None:
            self.on_publish(mid, rc)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, codes: list, props: Any) -> None:
        failed = [c for c in codes if c.is_failure]
        if failed and self.on_subscribe is None:
            logger.error("%s: broker %s refused a subscription: %s; check its ACL", self.name, self.address, failed[0])
        if self.on_subscribe is not None:
            self.on_subscribe(list(codes))

    # -- the unreachable warning ----------------------------------------------------------

    def _watchdog(self) -> None:
        while not self._stopping.wait(0.5):
            self._check_unreachable()

    def _check_unreachable(self) -> None:
        down = self.unreachable_s
        if down < self.warn_after_s:
            return
        now = time.monotonic()
        if self._warned_at is not None and now - self._warned_at < self.warn_every_s:
            return
        self._warned_at = now
        logger.warning(
            "%s: MQTT broker %s unreachable for %.0f s (%s); %s",
            self.name,
            self.address,
            down,
            self.last_error or "no answer",
            self.hint,
        )
