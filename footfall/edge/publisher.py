"""Publishes the outbox to the upstream broker: QoS 1, delete on PUBACK, bounded replay.

One `footfall.core.mqtt.MqttTransport` (paho 2.x, MQTT v5) per agent. The publisher thread claims the oldest
readings of one device and kind from the outbox (up to `batch_readings` /
`batch_bytes`), allocates that device's next `seq`, publishes the message with QoS 1 and
keeps at most `max_inflight` messages unacknowledged. A PUBACK with a success code
deletes the readings; "no matching subscribers" (0x10: the broker dropped the message
because nobody, not even ingest, was subscribed) keeps them and retries after
`unrouted_backoff_s` (unless `require_subscriber` is off); a PUBACK with a failure code (e.g. 0x87 not authorised) gives
them back to the queue, logs an error naming the fix and pauses publishing for
`refused_backoff_s`. While the broker is unreachable paho reconnects with back-off and
re-sends what was in flight; everything else waits in the outbox. A backlog drains in
order, at most `replay_readings_per_s`.

Status: the agent's retained `status` topic is `online` while connected; the Last Will,
set before every connection attempt, is `offline` with a `seq` above the `online` one it
follows, so the newest status always has the highest seq. A clean stop publishes
`offline` itself (a will is not sent on a clean disconnect).
"""

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from paho.mqtt.reasoncodes import ReasonCode

from footfall.core.clock import Clock, SystemClock
from footfall.core.messages import MESSAGE_TYPES, Message, StatusMessage
from footfall.core.mqtt import MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS, BrokerTarget, MqttTransport, Will
from footfall.core.topics import Kind, Topic
from footfall.edge.outbox import Batch, Outbox

if TYPE_CHECKING:
    from footfall.edge.metrics import EdgeMetrics

logger = logging.getLogger(__name__)

AGENT_VERSION = "footfall-edge/0.1"
NO_MATCHING_SUBSCRIBERS = 0x10
"""PUBACK reason: accepted, but no subscriber matched (so the message went nowhere)."""


@dataclass
class PublisherStats:
    """Counters for the heartbeat and for tests."""

    connected: bool = False
    messages: int = 0
    readings: int = 0
    refused: int = 0
    unrouted: int = 0
    connect_failures: int = 0
    last_error: str | None = None


class _TokenBucket:
    """At most `rate` units per real second, bursts up to `burst`."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.tokens = self.burst
        self.stamp = time.monotonic()

    def take(self, amount: float, stop: threading.Event) -> None:
        while not stop.is_set():
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= min(amount, self.burst):
                self.tokens -= amount
                return
            stop.wait((min(amount, self.burst) - self.tokens) / self.rate)


class Publisher:
    """Drains an `Outbox` to the broker (see the module docstring).

    Example:
        >>> pub = Publisher(outbox=ob, target=cfg.broker(settings.mqtt), store_id="riga-01",
        ...                 agent_id="riga-01-edge")  # doctest: +SKIP
        >>> pub.start()  # doctest: +SKIP
        >>> pub.stop()  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        outbox: Outbox,
        target: BrokerTarget,
        store_id: str,
        agent_id: str,
        clock: Clock | None = None,
        batch_readings: int = 500,
        batch_bytes: int = 256 * 1024,
        max_inflight: int = 4,
        replay_readings_per_s: float = 2000.0,
        refused_backoff_s: float = 30.0,
        require_subscriber: bool = True,
        unrouted_backoff_s: float = 5.0,
        metrics: "EdgeMetrics | None" = None,
    ) -> None:
        self.outbox = outbox
        self.target = target
        self.store_id = store_id
        self.agent_id = agent_id
        self.clock = clock or SystemClock()
        self.batch_readings = batch_readings
        self.batch_bytes = batch_bytes
        self.max_inflight = max_inflight
        self.refused_backoff_s = refused_backoff_s
        self.require_subscriber = require_subscriber
        self.unrouted_backoff_s = unrouted_backoff_s
        self._unrouted_logged = False
        self.stats = PublisherStats()
        self.metrics = metrics
        self._sent_at: dict[int, float] = {}
        self._bucket = _TokenBucket(replay_readings_per_s, max(batch_readings, replay_readings_per_s))
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._connected = threading.Event()
        self._acks: queue.Queue[tuple[int, int, str, float]] = queue.Queue()
        self._inflight: dict[int, Batch] = {}
        self._paused_until = 0.0
        self._thread: threading.Thread | None = None
        self.transport = MqttTransport(
            target,
            name=f"edge {agent_id}",
            hint="readings wait in the queue; check that the broker runs and edge.yaml mqtt.host/port "
            "(or FOOTFALL_MQTT__HOST/PORT) point at it",
            on_connect=self._on_connect,
            on_refused=self._on_refused,
            on_disconnect=self._on_disconnect,
            on_publish=self._on_publish,
        )
        self._online_seq = 0
        self._status_mids: set[int] = set()
        self._status_lock = threading.Lock()

    # -- paho callbacks (network thread) --------------------------------------------------

    def _status(self, state: Literal["online", "offline"], seq: int) -> tuple[str, bytes]:
        topic = Topic(self.store_id, self.agent_id, Kind.STATUS).render(self.target.prefix)
        msg = StatusMessage(
            device_id=self.agent_id, seq=seq, sent_at=self.clock.now(), state=state, agent_version=AGENT_VERSION
        )
        return topic, msg.to_json()

    def _arm_will(self) -> None:
        """Reserve seq n (online) and n+1 (the will) before each connection attempt."""
        first = self.outbox.allocate_seq(self.agent_id, 2)
        self._online_seq = first
        topic, payload = self._status("offline", first + 1)
        self.transport.set_will(Will(topic, payload, qos=1, retain=True))

    def _on_refused(self, rc: ReasonCode) -> None:
        self.stats.connect_failures += 1
        self.stats.last_error = f"connection refused: {rc}"
        logger.error(
            "broker %s:%d refused the connection: %s; check mqtt.username and the password "
            "(footfall edge credentials add …) and the broker's ACL",
            self.target.host,
            self.target.port,
            rc,
            extra={"device_id": self.agent_id},
        )

    def _on_connect(self, session_present: bool) -> None:
        topic, payload = self._status("online", self._online_seq)
        info = self.transport.publish(topic, payload, qos=1, retain=True)
        with self._status_lock:
            self._status_mids.add(info.mid)
        self.stats.connected = True
        self.stats.last_error = None
        self._connected.set()
        self._wake.set()
        logger.info("connected to %s:%d", self.target.host, self.target.port, extra={"device_id": self.agent_id})

    def _on_disconnect(self, rc: ReasonCode) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        self.stats.connected = False
        if self._stop.is_set():
            return
        if was:
            logger.warning("lost the broker connection (%s); readings wait in the queue", rc)
        try:
            self._arm_will()
        except Exception:  # the queue is closing; the next start arms a fresh will
            logger.debug("could not arm the will after a disconnect", exc_info=True)

    def _on_publish(self, mid: int, rc: ReasonCode) -> None:
        self._acks.put((mid, rc.value, str(rc), time.monotonic()))
        self._wake.set()

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background and start publishing."""
        self._arm_will()
        self.transport.start()
        self._thread = threading.Thread(target=self._run, name="edge-publisher", daemon=True)
        self._thread.start()

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected (real seconds); returns whether it is."""
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up."""
        return self._connected.is_set()

    @property
    def unreachable_s(self) -> float:
        """Seconds the broker has been unreachable; 0 while connected."""
        return self.transport.unreachable_s

    @property
    def inflight(self) -> int:
        """Messages published and not yet acknowledged."""
        return len(self._inflight)

    def notify(self) -> None:
        """Something was queued: publish soon."""
        self._wake.set()

    def flush(self, timeout: float) -> bool:
        """Wait (real seconds) until the queue is empty and nothing is in flight."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.outbox.depth == 0 and not self._inflight:
                return True
            self._wake.set()
            time.sleep(0.02)
        return False

    def stop(self, *, graceful: bool = True, timeout: float = 5.0) -> None:
        """Stop publishing; when graceful, publish `offline` and disconnect cleanly."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if graceful and self._connected.is_set():
            try:
                seq = self.outbox.allocate_seq(self.agent_id)
                topic, payload = self._status("offline", seq)
                info = self.transport.publish(topic, payload, qos=1, retain=True)
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError):
                logger.debug("could not publish offline status", exc_info=True)
        self.transport.stop()
        self._connected.clear()

    # -- the publishing loop (publisher thread) -------------------------------------------

    def _handle_acks(self) -> None:
        while True:
            try:
                mid, code, text, acked_at = self._acks.get_nowait()
            except queue.Empty:
                return
            batch = self._inflight.pop(mid, None)
            sent_at = self._sent_at.pop(mid, None)
            if batch is not None and sent_at is not None and self.metrics is not None:
                self.metrics.publish_seconds.observe(max(0.0, acked_at - sent_at))
            if batch is None:
                with self._status_lock:
                    status = mid in self._status_mids
                    self._status_mids.discard(mid)
                if status and code >= 0x80:
                    self._refused(code, text, f"the retained status of {self.agent_id}")
                continue
            if code == NO_MATCHING_SUBSCRIBERS and self.require_subscriber:
                # The broker accepted the message and threw it away: nobody (no ingest) was
                # subscribed. Keep the readings, as if never sent, and try again shortly.
                self.stats.unrouted += 1
                self._count_failure("unrouted")
                self.outbox.release(batch.ids, unsent=True)
                if not self._unrouted_logged:
                    logger.warning(
                        "the broker has no subscriber for %s readings of %s (is ingest running and subscribed?); "
                        "they stay queued and are retried every %.0f s",
                        batch.kind.value,
                        batch.device_id,
                        self.unrouted_backoff_s,
                        extra={"device_id": batch.device_id},
                    )
                    self._unrouted_logged = True
                self._paused_until = time.monotonic() + self.unrouted_backoff_s
                continue
            if code < 0x80:
                self.outbox.ack(batch.ids)
                self.stats.messages += 1
                self.stats.readings += batch.size
                if self.metrics is not None:
                    self.metrics.published.labels(kind=batch.kind.value).inc()
                    self.metrics.readings.labels(kind=batch.kind.value).inc(batch.size)
                if self._unrouted_logged:
                    logger.info("the broker routes readings again; publishing the queue")
                    self._unrouted_logged = False
                continue
            self.outbox.release(batch.ids)
            self._count_failure("refused")
            self._refused(code, text, f"{batch.size} {batch.kind.value} readings of {batch.device_id} (kept queued)")

    def _count_failure(self, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.failures.labels(reason=reason).inc()

    def _refused(self, code: int, text: str, what: str) -> None:
        self.stats.refused += 1
        self.stats.last_error = f"publish refused: {text} (0x{code:02x})"
        self._paused_until = time.monotonic() + self.refused_backoff_s
        logger.error(
            "broker refused %s: %s (0x%02x). Check that user %s may publish under %s/v1/%s/# "
            "(footfall edge credentials add %s --store %s); Mosquitto also drops the connection after a refusal",
            what,
            text,
            code,
            self.target.username,
            self.target.prefix,
            self.store_id,
            self.agent_id,
            self.store_id,
            extra={"device_id": self.agent_id, "store_id": self.store_id},
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            self._handle_acks()
            if not self._connected.is_set() or len(self._inflight) >= self.max_inflight:
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            pause = self._paused_until - time.monotonic()
            if pause > 0:
                self._stop.wait(min(pause, 0.5))
                continue
            try:
                batch = self.outbox.claim(max_readings=self.batch_readings, max_bytes=self.batch_bytes)
            except Exception:
                logger.exception("cannot read the queue")
                self._stop.wait(1.0)
                continue
            if batch is None:
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            self._bucket.take(batch.size, self._stop)
            self._send(batch)

    def _send(self, batch: Batch) -> None:
        try:
            seq = self.outbox.allocate_seq(batch.device_id)
            model = cast(type[Message[Any]], MESSAGE_TYPES[batch.kind])  # the outbox holds readings kinds only
            msg = model(device_id=batch.device_id, seq=seq, sent_at=self.clock.now(), readings=batch.readings)
            topic = Topic(self.store_id, batch.device_id, batch.kind).render(self.target.prefix)
            sent_at = time.monotonic()
            info = self.transport.publish(topic, msg.to_json(), qos=1)
        except Exception:
            logger.exception("could not publish a batch of %s; it stays queued", batch.device_id)
            self.outbox.release(batch.ids)
            self._count_failure("error")
            self._stop.wait(1.0)
            return
        if info.rc not in (MQTT_ERR_SUCCESS, MQTT_ERR_NO_CONN):
            self.outbox.release(batch.ids)
            self._count_failure("error")
            return
        # With NO_CONN paho keeps the message and sends it once reconnected, so it is in flight too.
        self._sent_at[info.mid] = sent_at
        self._inflight[info.mid] = batch
