"""The delivery worker: drains the outbox, one message per transaction, with retries and backoff.

A message is claimed with `FOR UPDATE SKIP LOCKED` (several workers, in one process or
many, never take the same one), sent, and marked delivered in the same transaction. A
failed attempt is rescheduled `backoff_s × 2^attempts` later (capped at `backoff_max_s`,
or the receiver's `Retry-After`), and given up after `max_attempts` (the row keeps
`failed_at` and `last_error`). A message the engine committed is therefore never lost by
a crash; one sent but not yet marked when the worker dies is sent again with the same id,
which receivers use to drop it (Standard Webhooks `webhook-id`, e-mail `Message-ID`).

MQTT messages are the store's *current* alert state, read at send time and published
retained, so a retry or a late delivery never puts an older state on the screen.
"""

import logging
import random
import secrets
import threading
import time
from typing import Any

import psycopg

from footfall.alerts.channels import send_email, send_telegram, send_webhook
from footfall.alerts.errors import DeliveryFailed
from footfall.alerts.metrics import CHANNELS, AlertsMetrics
from footfall.core.alertstate import AlertRuleState, StoreAlerts
from footfall.core.mqtt import BrokerTarget, MqttTransport
from footfall.core.settings import Settings
from footfall.db.connect import DictConnection, connect
from footfall.db.queries import queries

logger = logging.getLogger(__name__)


def _q(name: str) -> str:
    return queries("alerts")[name]


def backoff(attempts: int, *, first_s: float, max_s: float, retry_after_s: float | None = None) -> float:
    """Seconds before the next attempt after `attempts` failed ones (with ±10 % jitter)."""
    if retry_after_s is not None:
        return min(max_s, max(retry_after_s, first_s))
    base = min(max_s, first_s * 2 ** max(0, attempts - 1))
    return base * random.uniform(0.9, 1.1)


class MqttOut:
    """Retained QoS 1 publishes of the store alert topics, over the shared `MqttTransport`."""

    def __init__(self, settings: Settings, *, connect_timeout_s: float = 5.0) -> None:
        target = BrokerTarget.from_settings(settings.mqtt, client_id=f"footfall-alerts-{secrets.token_hex(4)}")
        self._transport = MqttTransport(target, name="alerts", max_queued=0)
        self._transport.start()
        self._transport.wait_connected(connect_timeout_s)

    def publish(self, topic: str, payload: bytes, timeout: float) -> None:
        """Publish retained at QoS 1 and wait for the broker's acknowledgement.

        Raises:
            DeliveryFailed: not connected or not acknowledged in time.
        """
        if not self._transport.connected:
            raise DeliveryFailed(f"MQTT broker {self._transport.address} not connected")
        info = self._transport.publish(topic, payload, qos=1, retain=True)
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError) as exc:
            raise DeliveryFailed(f"MQTT publish to {topic}: {exc}") from None
        if not info.is_published():
            raise DeliveryFailed(f"MQTT publish to {topic}: no acknowledgement within {timeout} s")

    def close(self) -> None:
        """Disconnect."""
        self._transport.stop()


class DeliveryWorker:
    """Send due outbox messages.

    Args:
        settings: the process settings (database, MQTT, alerts).
        wake: set by an in-process engine when it enqueued something (otherwise the worker polls).
        poll_s: how often to look for due messages without a wake-up (real seconds).
        metrics: where to count attempts and the outbox (a registry of its own by default).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        wake: threading.Event | None = None,
        poll_s: float = 0.25,
        metrics: AlertsMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics or AlertsMetrics()
        self.wake = wake or threading.Event()
        self.poll_s = poll_s
        self._conn: DictConnection | None = None
        self._mqtt: MqttOut | None = None
        self.sent = 0
        self.failed = 0

    def _db(self) -> DictConnection:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.settings.db, autocommit=True)
        return self._conn

    def close(self) -> None:
        """Close the connection and the MQTT client."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._mqtt is not None:
            self._mqtt.close()
            self._mqtt = None

    def drain(self, most: int = 1000) -> int:
        """Send due messages until none is left (or `most` were tried); returns how many were sent."""
        sent = 0
        for _ in range(most):
            outcome = self.deliver_one()
            if outcome is None:
                break
            sent += outcome
        return sent

    def deliver_one(self) -> int | None:
        """Claim, send and mark one due message: 1 sent, 0 failed (rescheduled), None nothing due."""
        conn = self._db()
        a = self.settings.alerts
        with conn.transaction():
            row = conn.execute(_q("claim_due"), {"limit": 1}).fetchone()
            if row is None:
                return None
            m = self.metrics
            channel = row["channel"]
            started = time.perf_counter()
            try:
                self.send_guarded(conn, row)
            except DeliveryFailed as exc:
                m.delivery_seconds.labels(channel=channel).observe(time.perf_counter() - started)
                delay = backoff(
                    row["attempts"] + 1, first_s=a.backoff_s, max_s=a.backoff_max_s, retry_after_s=exc.retry_after_s
                )
                r = conn.execute(
                    _q("mark_retry"),
                    {
                        "message_id": row["message_id"],
                        "error": exc.reason[:1000],
                        "delay_s": delay,
                        "max_attempts": 1 if exc.permanent else a.max_attempts,
                    },
                ).fetchone()
                self.failed += 1
                if r is None:  # the message was deleted meanwhile (its rule or subscription went)
                    m.deliveries.labels(channel=channel, outcome="dropped").inc()
                    return 0
                m.deliveries.labels(channel=channel, outcome="retry" if r["failed_at"] is None else "failed").inc()
                if r["failed_at"] is not None:
                    logger.error(
                        "message %s (%s → %s) given up after %s attempt(s): %s",
                        row["message_id"],
                        row["channel"],
                        row["target"],
                        r["attempts"],
                        exc.reason,
                    )
                else:
                    logger.warning(
                        "message %s (%s) attempt %s failed, retry in %.0f s: %s",
                        row["message_id"],
                        row["channel"],
                        r["attempts"],
                        delay,
                        exc.reason,
                    )
                return 0
            m.delivery_seconds.labels(channel=channel).observe(time.perf_counter() - started)
            conn.execute(_q("mark_delivered"), {"message_id": row["message_id"]})
        m.deliveries.labels(channel=channel, outcome="delivered").inc()
        self.sent += 1
        return 1

    def measure_outbox(self) -> None:
        """Set the outbox gauges from the database (after each drain)."""
        rows = {r["channel"]: r for r in self._db().execute(_q("outbox_depth"))}
        for channel in CHANNELS:
            row = rows.get(channel)
            self.metrics.outbox.labels(channel=channel).set(row["waiting"] if row else 0)
        self.metrics.outbox_oldest.set(max((r["oldest_s"] for r in rows.values()), default=0.0))

    def send_guarded(self, conn: DictConnection, row: dict[str, Any]) -> None:
        """`send`, with any unexpected failure of a channel turned into a retried `DeliveryFailed`
        (a bug in one channel must not stop the worker or the other messages).

        Raises:
            DeliveryFailed: the attempt failed.
        """
        try:
            self.send(conn, row)
        except DeliveryFailed:
            raise
        except psycopg.Error:
            raise
        except Exception as exc:
            logger.exception("message %s (%s): unexpected failure", row["message_id"], row["channel"])
            raise DeliveryFailed(f"unexpected {type(exc).__name__}: {exc}") from None

    def send(self, conn: DictConnection, row: dict[str, Any]) -> None:
        """One attempt at one message.

        Raises:
            DeliveryFailed: the attempt failed.
        """
        a = self.settings.alerts
        message_id = f"msg_footfall_{row['message_id']}"
        payload = row["payload"]
        match row["channel"]:
            case "webhook":
                if not row["secret"]:
                    raise DeliveryFailed("webhook subscription has no signing secret", permanent=True)
                send_webhook(
                    url=row["target"], payload=payload, message_id=message_id, secret=row["secret"], settings=a
                )
            case "email":
                send_email(to=row["target"], payload=payload, message_id=message_id, settings=a)
            case "telegram":
                send_telegram(chat_id=row["target"], payload=payload, settings=a)
            case "mqtt":
                if self._mqtt is None:
                    self._mqtt = MqttOut(self.settings)
                snapshot = self.store_snapshot(conn, payload["store_id"])
                self._mqtt.publish(row["target"], snapshot.to_json(), timeout=a.timeout_s)
            case other:
                raise DeliveryFailed(f"unknown channel {other!r}", permanent=True)

    @staticmethod
    def store_snapshot(conn: DictConnection, store_id: str) -> StoreAlerts:
        """The retained MQTT body (`footfall.core.alertstate.StoreAlerts`): the current state of
        every rule × subject of a store."""
        rows = conn.execute(_q("store_alert_snapshot"), {"store_id": store_id}).fetchall()
        return StoreAlerts(store_id=store_id, rules=[AlertRuleState.model_validate(dict(r)) for r in rows])

    def run(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set."""
        while not stop.is_set():
            try:
                self.drain()
                self.measure_outbox()
            except psycopg.OperationalError as exc:
                logger.warning("delivery: database connection lost (%s); retrying", exc)
                self.metrics.connection_losses.labels(part="delivery").inc()
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
                stop.wait(1.0)
                continue
            self.wake.wait(self.poll_s)
            self.wake.clear()
        self.close()
