"""Probing a broker for what Footfall needs from it.

* reachable with the configured credentials;
* anonymous access refused (a warning on the loopback in development, a failure
  otherwise: anyone could publish as any device);
* a persistent session keeps more than 1,000 queued QoS 1 messages while its client is
  away: a default Mosquitto keeps 1,000 (`max_queued_messages`) and drops the rest
  silently, so an ingest outage past that loses data at the broker. The probe subscribes
  a persistent session to a probe topic, disconnects, publishes `PROBE_MESSAGES` messages,
  reconnects and counts; then it removes the session.
"""

import ipaddress
import secrets
import threading
import time

from footfall.core.mqtt import BrokerTarget, MqttTransport
from footfall.core.settings import Settings
from footfall.doctor.checks import Finding, Status

PROBE_MESSAGES = 1100
"""More than a default Mosquitto keeps for an offline session (1,000)."""
CONNECT_S = 5.0
QUIET_S = 2.0
DRAIN_S = 30.0


def _target(settings: Settings, client_id: str, *, anonymous: bool = False) -> BrokerTarget:
    t = BrokerTarget.from_settings(settings.mqtt, client_id=client_id, reconnect_max_s=2)
    return t.model_copy(update={"username": None, "password": None}) if anonymous else t


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _connects(target: BrokerTarget) -> tuple[bool, str | None]:
    """Whether a plain connection succeeds, and the refusal if it was refused."""
    refused: list[str] = []
    t = MqttTransport(target, name="doctor", warn_after_s=3600, on_refused=lambda rc: refused.append(str(rc)))
    t.start()
    try:
        deadline = time.monotonic() + CONNECT_S
        while time.monotonic() < deadline and not refused and not t.connected:
            time.sleep(0.05)
        return t.connected, (refused[0] if refused else None)
    finally:
        t.stop()


def probe(settings: Settings) -> list[Finding]:
    """Every broker finding (see the module docstring)."""
    m = settings.mqtt
    where = f"{m.host}:{m.port}"
    token = secrets.token_hex(4)
    ok, refused = _connects(_target(settings, f"footfall-doctor-{token}"))
    if not ok:
        why = f"refused: {refused}" if refused else "no answer"
        fix = (
            "check FOOTFALL_MQTT__USERNAME/PASSWORD and the broker's password file"
            if refused
            else "start the broker or point FOOTFALL_MQTT__HOST/PORT at it (`./run services` starts a private one)"
        )
        return [Finding("broker", Status.FAIL, f"{where}: {why}", fix)]
    out = [Finding("broker", Status.OK, f"{where} reachable" + (f" as {m.username}" if m.username else ""))]
    out.append(_anonymous(settings, where, token))
    out.append(_queue(settings, where, token))
    return out


def _anonymous(settings: Settings, where: str, token: str) -> Finding:
    ok, _ = _connects(_target(settings, f"footfall-doctor-anon-{token}", anonymous=True))
    if not ok:
        return Finding("broker anonymous access", Status.OK, "refused")
    local = _loopback(settings.mqtt.host) and settings.environment in ("local", "test")
    return Finding(
        "broker anonymous access",
        Status.WARN if local else Status.FAIL,
        f"{where} accepts clients without a password: anyone who reaches it can publish as any device"
        + (" (loopback only here, development)" if local else ""),
        "set `allow_anonymous false` with a password file and ACLs (docker/mosquitto/mosquitto.secure.conf; "
        "`footfall edge credentials add`)",
    )


def _queue(settings: Settings, where: str, token: str) -> Finding:
    m = settings.mqtt
    topic = f"{m.prefix}/doctor/{token}"
    client_id = f"footfall-doctor-queue-{token}"
    subscribed = threading.Event()
    received: list[int] = []
    last = [time.monotonic()]

    def on_message(_msg: object) -> None:
        received.append(1)
        last[0] = time.monotonic()

    def session(clean: bool) -> MqttTransport:
        return MqttTransport(
            _target(settings, client_id),
            clean_start=clean,
            session_expiry_s=300,
            name="doctor",
            warn_after_s=3600,
            on_subscribe=lambda codes: subscribed.set() if not any(c.is_failure for c in codes) else None,
            on_message=on_message,
        )

    sub = session(True)
    sub.subscribe(topic, qos=1)
    sub.start()
    try:
        if not subscribed.wait(CONNECT_S):
            return Finding(
                "broker queue limit",
                Status.WARN,
                f"not probed: could not subscribe to {topic}",
                "let the doctor's user subscribe and publish under the prefix, or probe as another user",
            )
    finally:
        sub.stop()  # away: the session stays and queues
    pub = MqttTransport(_target(settings, f"footfall-doctor-pub-{token}"), name="doctor", warn_after_s=3600)
    pub.start()
    try:
        if not pub.wait_connected(CONNECT_S):
            return Finding("broker queue limit", Status.WARN, "not probed: the publisher could not connect")
        infos = [pub.publish(topic, b"%d" % i, qos=1) for i in range(PROBE_MESSAGES)]
        for info in infos:
            info.wait_for_publish(DRAIN_S)
    finally:
        pub.stop()
    back = session(False)
    last[0] = time.monotonic()
    back.start()
    try:
        deadline = time.monotonic() + DRAIN_S
        while (
            time.monotonic() < deadline
            and len(received) < PROBE_MESSAGES
            and time.monotonic() - last[0] < QUIET_S + CONNECT_S * (not received)
        ):
            time.sleep(0.05)
    finally:
        back.stop()
        gone = MqttTransport(_target(settings, client_id), clean_start=True, session_expiry_s=0, name="doctor")
        gone.start()
        gone.wait_connected(CONNECT_S)
        gone.stop()  # the probe session is removed
    n = len(received)
    if n >= PROBE_MESSAGES:
        return Finding(
            "broker queue limit",
            Status.OK,
            f"an offline persistent session kept all {PROBE_MESSAGES} QoS 1 messages",
        )
    return Finding(
        "broker queue limit",
        Status.FAIL,
        f"{where} kept only {n} of {PROBE_MESSAGES} QoS 1 messages for an offline persistent session: "
        "ingest away longer than that loses data at the broker, silently",
        "set `max_queued_messages 0` in mosquitto.conf (as docker/mosquitto/mosquitto.conf does) and restart it; "
        "or run Footfall's private broker (`./run services`)",
    )
