"""The ingest consumer: MQTT (shared subscription, persistent session, QoS 1, manual acks)
→ triage → one transaction per batch → acknowledge.

Delivery is at least once from the broker and exactly once in effect in the database:

* a message is acknowledged (PUBACK) only after the transaction holding it committed, so
  a crash anywhere before that means the broker redelivers it;
* redeliveries and edge replays are dropped by the fact tables' natural keys (and dead
  letters by topic and payload digest), so nothing is stored twice;
* when PostgreSQL is unreachable the worker stops acknowledging and retries the same
  batch with backoff; the broker keeps what it has not delivered, and at most
  `receive_maximum` messages wait unacknowledged in memory;
* when the broker goes away paho reconnects with the same client id and clean start off,
  and the session resumes: unacknowledged messages come again. Messages received on an
  earlier connection are still written (the session may have expired) but never
  acknowledged on the new one, whose packet ids are not theirs.

Threads: paho's network thread (started by `MqttTransport`) only appends received
messages to the inbox; the thread that calls `run` (the worker's own thread after
`start`) takes batches from the inbox and triages them; the `ingest-writer` thread writes
each batch in one transaction, commits it and then acknowledges its messages, one batch
at a time and in receive order. Beside them run the transport's watchdog (the
broker-unreachable warning), the metrics HTTP server and, on TimescaleDB, the rollup
refresher.
"""

import contextlib
import logging
import queue
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from paho.mqtt.reasoncodes import ReasonCode

from footfall.core.messages import CountsMessage
from footfall.core.mqtt import BrokerTarget, MQTTMessage, MqttTransport, deployment_client_id
from footfall.core.settings import Settings
from footfall.core.topics import Kind, shared_subscription
from footfall.db.connect import DictConnection, connect, scalar
from footfall.db.errors import DatabaseUnavailable
from footfall.db.queries import queries
from footfall.ingest.errors import SchemaNotReady
from footfall.ingest.metrics import IngestMetrics
from footfall.ingest.refresh import RollupRefresher
from footfall.ingest.registry import DeviceRegistry
from footfall.ingest.triage import Accepted, Inbound, Reason, Rejected, Triage
from footfall.ingest.writer import TABLES, BatchWriter, Staged, WriteResult

logger = logging.getLogger(__name__)

SCHEMA_NEEDED = 10
"""The migration this consumer needs (0010: dead-letter digests)."""

_RETRY_FIRST_S = 0.5
_RETRY_MAX_S = 10.0


def horizons(policies: dict[str, timedelta] | None, max_age_days: float | None) -> dict[Kind, timedelta]:
    """How old a reading of each kind may be: the table's retention policy, capped by `ingest.max_age_days`."""
    out: dict[Kind, timedelta] = {}
    cap = timedelta(days=max_age_days) if max_age_days is not None else None
    for kind, table in TABLES.items():
        if kind is Kind.STATUS:
            continue
        found = (policies or {}).get(table)
        limits = [x for x in (found, cap) if x is not None]
        if limits:
            out[kind] = min(limits)
    return out


def default_client_id(prefix: str, install_id: str, suffix: str = "") -> str:
    """The default client id: this deployment's prefix and install id, this host (and worker).

    Stable across restarts (the persistent session survives them), and never the same for
    two deployments on one broker (each would take over the other's session).
    """
    return deployment_client_id("ingest", prefix=prefix, install_id=install_id, name=socket.gethostname() + suffix)


class Inbox:
    """The queue between paho's network thread and the worker thread."""

    def __init__(self) -> None:
        self._items: deque[Inbound] = deque()
        self._cond = threading.Condition()
        self.notify_at = 1

    def put(self, item: Inbound) -> None:
        """Append (paho's thread)."""
        with self._cond:
            self._items.append(item)
            n = len(self._items)
            if n == 1 or n >= self.notify_at:
                self._cond.notify()

    def take(self, most: int, wait_s: float, stop: threading.Event, idle_s: float = 0.5) -> list[Inbound]:
        """Up to `most` messages, waiting at most `wait_s` after the first one arrived.

        Returns an empty list after `idle_s` with nothing received, or when `stop` is set.
        """
        self.notify_at = most
        with self._cond:
            if not self._items:
                self._cond.wait(idle_s)
                if not self._items:
                    return []
            deadline = self._items[0].received + wait_s
            while len(self._items) < most and not stop.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            n = min(most, len(self._items))
            return [self._items.popleft() for _ in range(n)]

    def __len__(self) -> int:
        return len(self._items)

    def oldest(self) -> float | None:
        """Arrival time of the oldest waiting message."""
        try:
            return self._items[0].received
        except IndexError:
            return None


@dataclass
class IngestStats:
    """Running totals of one worker (for tests, the benchmark and logs)."""

    received: int = 0
    batches: int = 0
    messages_written: int = 0
    rows_inserted: int = 0
    duplicate_rows: int = 0
    dead_letters: int = 0
    acked: int = 0
    db_retries: int = 0
    connects: int = 0


@dataclass
class _Job:
    """A triaged batch on its way to the writer thread."""

    batch: list[Inbound]
    accepted: list[Accepted]
    rejected: list[Rejected]
    staged: Staged


CommitHook = Callable[[list[Accepted], list[Rejected], WriteResult], None]


class IngestWorker:
    """One consumer on the shared subscription.

    Example:
        >>> # worker = IngestWorker(Settings())
        >>> # worker.start()          # runs in a background thread
        >>> # ...
        >>> # worker.stop()           # finishes the batch in hand, disconnects, keeps the session

    Or, blocking, with a stop event: `IngestWorker(settings).run(stop_event)`.

    Args:
        settings: mqtt, db and ingest sections are used.
        client_id: overrides `settings.ingest.client_id` (default: `default_client_id`, built
            once the database, which holds the install id, is reachable).
        client_suffix: appended to the default client id (`ingest run --workers N`).
        on_commit: called after each committed batch (after its acknowledgements).
        registry: a pre-built device registry (tests); loaded from the database otherwise.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        client_id: str | None = None,
        client_suffix: str = "",
        on_commit: CommitHook | None = None,
        registry: DeviceRegistry | None = None,
        receive_maximum: int | None = None,
    ) -> None:
        self.settings = settings
        self.client_id: str = client_id or settings.ingest.client_id or ""
        """The MQTT client id; empty until the default one is built (after the database opened)."""
        self.client_suffix = client_suffix
        self.install_id: str | None = None
        self.foreign = 0
        """Messages received for another deployment's subscription (left unacknowledged)."""
        self.on_commit = on_commit
        self.registry = registry or DeviceRegistry()
        ing = settings.ingest
        # Enough unacknowledged messages in flight to fill the next batches while one is
        # being written; also the bound on what waits in memory while the database is down.
        self.receive_maximum = receive_maximum or min(65_535, max(4 * ing.batch_size, 1000))
        self.triage = Triage(
            prefix=settings.mqtt.prefix,
            registry=self.registry,
            max_payload_bytes=ing.max_payload_bytes,
            max_future=timedelta(seconds=ing.max_future_s),
            horizons=horizons(None, ing.max_age_days),
            min_k=ing.min_heatmap_k,
        )
        self.metrics = IngestMetrics()
        self.metrics_port = 0
        self.stats = IngestStats()
        self.inbox = Inbox()
        self.flavour: str | None = None
        self.refresher: RollupRefresher | None = None
        self._generation = 0
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._transport: MqttTransport | None = None
        self._conn: DictConnection | None = None
        self._writer: BatchWriter | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._writer_error: BaseException | None = None
        self._jobs: queue.Queue[_Job | None] = queue.Queue(maxsize=1)
        self._own = settings.mqtt.prefix + "/"
        self._takeovers_seen = 0

    # -- lifecycle -------------------------------------------------------------------

    def start(self, *, wait_ready_s: float | None = 30.0) -> None:
        """Run in a background thread; wait (by default) until subscribed.

        Raises:
            TimeoutError: not subscribed within `wait_ready_s`.
        """
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run_guarded, name=f"ingest-{self.client_id or 'default'}", daemon=True
        )
        self._thread.start()
        if wait_ready_s is not None and not self.wait_ready(wait_ready_s):
            raise TimeoutError(f"ingest worker {self.client_id} not subscribed after {wait_ready_s} s: {self._error}")

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the database is reachable and the subscription is in place."""
        return self._ready.wait(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop: finish (commit and acknowledge) the batch in hand, disconnect, keep the session."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def connected(self) -> bool:
        """Whether the MQTT connection is up."""
        return self._connected.is_set()

    @property
    def broker_unreachable_s(self) -> float:
        """Seconds the broker has been unreachable (0 while connected or not started)."""
        transport = self._transport
        return 0.0 if transport is None else transport.unreachable_s

    @property
    def alive(self) -> bool:
        """Whether the background thread started by `start` is running."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    @property
    def error(self) -> BaseException | None:
        """What stopped the background thread, if it stopped on an error."""
        return self._error

    def _run_guarded(self) -> None:
        try:
            self.run(self._stop)
        except BaseException as exc:
            self._error = exc
            logger.exception("ingest worker %s stopped on an error", self.client_id)

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set (blocking).

        Two stages overlap: this thread takes batches from the inbox and triages them
        (CPU), a writer thread writes, commits and acknowledges them (mostly waiting on
        PostgreSQL, which runs on another core). At most one triaged batch waits between
        the two, so acknowledgements stay in receive order.

        Raises:
            Exception: whatever stopped the writer thread (after a clean shutdown).
        """
        self._stop = stop
        self.metrics_port = self.metrics.serve(self.settings.ingest.metrics_port)
        writer: threading.Thread | None = None
        try:
            if not self._open_database(stop):
                return
            self._start_mqtt()
            writer = threading.Thread(target=self._write_loop, args=(stop,), name="ingest-writer", daemon=True)
            writer.start()
            ing = self.settings.ingest
            while not stop.is_set():
                if self._subscribed.is_set():
                    self._ready.set()
                batch = self.inbox.take(ing.batch_size, ing.batch_ms / 1000, stop)
                self._gauges()
                if batch:
                    job = self._prepare(batch)
                    while not stop.is_set():
                        try:
                            self._jobs.put(job, timeout=0.5)
                            break
                        except queue.Full:
                            continue
        finally:
            if writer is not None:
                self._jobs.put(None)
                writer.join()
            self._shutdown()
        if self._writer_error is not None:
            raise self._writer_error

    def _shutdown(self) -> None:
        transport = self._transport
        if transport is not None:
            transport.stop()
            self._transport = None
        if self.refresher is not None:
            self.refresher.stop()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.metrics.close()
        self.metrics.broker_up.set(0)
        logger.info(
            "ingest worker %s stopped: %d received, %d written, %d dead letters, %d duplicate rows",
            self.client_id,
            self.stats.received,
            self.stats.messages_written,
            self.stats.dead_letters,
            self.stats.duplicate_rows,
        )

    # -- database --------------------------------------------------------------------

    def _open_database(self, stop: threading.Event) -> bool:
        delay = _RETRY_FIRST_S
        while not stop.is_set():
            try:
                self._db()
                return True
            except (DatabaseUnavailable, psycopg.OperationalError, SchemaNotReady) as exc:
                level = logging.ERROR if isinstance(exc, SchemaNotReady) else logging.WARNING
                logger.log(level, "%s (retrying in %.1f s)", exc, delay)
                stop.wait(delay)
                delay = min(delay * 2, _RETRY_MAX_S)
        return False

    def _db(self) -> tuple[DictConnection, BatchWriter]:
        """The open connection and writer, connecting (and loading the registry) if needed."""
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            assert self._writer is not None
            return self._conn, self._writer
        self._drop_connection()
        conn = connect(self.settings.db)
        try:
            q = queries("ingest")
            with conn.transaction():
                has = scalar(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL")
                version = scalar(conn, q["schema_version"]) if has else 0
                if version < SCHEMA_NEEDED:
                    raise SchemaNotReady(
                        f"database schema is at migration {version}, ingest needs {SCHEMA_NEEDED}: "
                        "run `footfall db migrate`"
                    )
                self.install_id = str(scalar(conn, q["install_id"]))
                row = conn.execute(q["flavour"]).fetchone()
                self.flavour = row["value"] if row else "plain"
                self.registry.load(conn)
                if self.flavour == "timescale" and scalar(conn, q["has_retention_jobs"]):
                    policies = {r["table_name"]: r["drop_after"] for r in conn.execute(q["retention_horizons"])}
                    self.triage.horizons = horizons(policies, self.settings.ingest.max_age_days)
            writer = BatchWriter(
                conn,
                dead_letter_keep_bytes=self.settings.ingest.dead_letter_keep_bytes,
                staging=self.settings.ingest.staging,
            )
            writer.prepare()
        except BaseException:
            conn.close()
            raise
        if self.flavour == "timescale" and self.refresher is None:
            self.refresher = RollupRefresher(
                self.settings.db, on_refresh=lambda name, lo, hi: self.metrics.refreshes.inc()
            )
            self.refresher.start()
        self._conn, self._writer = conn, writer
        self.metrics.db_up.set(1)
        logger.info("database ready (%s path, %d devices known)", self.flavour, len(self.registry))
        return conn, writer

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None
        self._writer = None
        self.metrics.db_up.set(0)

    # -- MQTT ------------------------------------------------------------------------

    def _start_mqtt(self) -> None:
        m = self.settings.mqtt
        if not self.client_id:
            self.client_id = default_client_id(m.prefix, self.install_id or "noinstall", self.client_suffix)
        # Retry every 1–2 s: Mosquitto does not restore shared subscriptions from its
        # persistence file, so after a broker restart messages published before we
        # resubscribe have no subscriber. Be back before the edge agents (docs/ingest.md).
        # The transport subscribes again on every connection.
        transport = MqttTransport(
            BrokerTarget.from_settings(m, client_id=self.client_id, reconnect_max_s=2),
            clean_start=False,
            session_expiry_s=m.session_expiry_s,
            receive_maximum=self.receive_maximum,
            manual_ack=True,
            name=f"ingest {self.client_id}",
            on_connect=self._on_connect,
            on_refused=self._on_refused,
            on_disconnect=self._on_disconnect,
            on_message=self._on_message,
            on_subscribe=self._on_subscribe,
        )
        transport.subscribe(shared_subscription(self.settings.ingest.share_group, m.prefix), qos=1)
        self._transport = transport
        transport.start()

    def _on_refused(self, reason_code: ReasonCode) -> None:
        logger.error(
            "broker %s:%d refused the connection: %s; check FOOTFALL_MQTT__USERNAME/PASSWORD and the ACL",
            self.settings.mqtt.host,
            self.settings.mqtt.port,
            reason_code,
        )

    def _on_connect(self, session_present: bool) -> None:
        self._generation += 1
        self.stats.connects += 1
        self._connected.set()
        self.metrics.broker_up.set(1)
        logger.info(
            "connected to %s:%d as %s (session %s); subscribing %s",
            self.settings.mqtt.host,
            self.settings.mqtt.port,
            self.client_id,
            "resumed" if session_present else "new",
            shared_subscription(self.settings.ingest.share_group, self.settings.mqtt.prefix),
        )

    def _on_subscribe(self, reason_codes: list[ReasonCode]) -> None:
        failed = [rc for rc in reason_codes if rc.is_failure]
        if failed:
            logger.error("subscription refused by the broker: %s; check the ACL for the ingest user", failed[0])
            return
        logger.info("subscribed; consuming")
        self._subscribed.set()

    def _on_disconnect(self, reason_code: ReasonCode) -> None:
        self._connected.clear()
        self.metrics.broker_up.set(0)
        transport = self._transport
        if transport is not None and transport.takeovers > self._takeovers_seen:
            self.metrics.takeovers.inc(transport.takeovers - self._takeovers_seen)  # the transport logs the fix
            self._takeovers_seen = transport.takeovers
        if not self._stop.is_set():
            logger.warning("disconnected from the broker (%s); reconnecting", reason_code)

    def _on_message(self, msg: MQTTMessage) -> None:
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = msg._topic.decode("utf-8", "replace")  # brokers refuse such topics; be safe anyway
        if not topic.startswith(self._own):
            self._foreign(topic)
            return
        self.inbox.put(Inbound(topic, bytes(msg.payload), msg.mid, msg.qos, self._generation, msg.timestamp))

    def _foreign(self, topic: str) -> None:
        """A message of a subscription we never made: this session was another client's.

        Left unacknowledged, so the broker gives it back to the session's owner when it
        reconnects; never dead-lettered (it is not ours to judge).
        """
        self.foreign += 1
        self.metrics.foreign.inc()
        if self.foreign == 1 or self.foreign % 1000 == 0:
            logger.error(
                "received %d message(s) outside our prefix %r (e.g. %s): the persistent session of client id %r "
                "holds another deployment's subscription, so another client uses our client id; they are left "
                "unacknowledged for their owner. Give each deployment its own client id (leave "
                "FOOTFALL_INGEST__CLIENT_ID unset for one built from the prefix and install id)",
                self.foreign,
                self.settings.mqtt.prefix,
                topic,
                self.client_id,
            )

    # -- the batch -------------------------------------------------------------------

    def _gauges(self) -> None:
        oldest = self.inbox.oldest()
        if self._transport is not None:
            self.metrics.broker_unreachable.set(self._transport.unreachable_s)
        self.metrics.pending.set(len(self.inbox) + self._jobs.qsize())
        self.metrics.oldest_pending.set(time.monotonic() - oldest if oldest is not None else 0)

    def _prepare(self, batch: list[Inbound], *, count: bool = True) -> "_Job":
        if count:
            self.stats.received += len(batch)
            self.metrics.received.inc(len(batch))
        accepted, rejected = self.triage.sort(batch)
        return _Job(batch, accepted, rejected, Staged.from_accepted(accepted, staging=self.settings.ingest.staging))

    def _write_loop(self, stop: threading.Event) -> None:
        try:
            while (job := self._jobs.get()) is not None:
                self._handle(job, stop)
        except BaseException as exc:
            self._writer_error = exc
            logger.exception("ingest writer of %s failed; stopping", self.client_id)
            stop.set()
            while self._jobs.get() is not None:  # let run() hand over its sentinel
                pass

    def _reload_registry_if_stale(self, conn: DictConnection) -> bool:
        if not self.registry.stale:
            return False
        with conn.transaction():
            self.registry.load(conn)
        return True

    def _handle(self, job: "_Job", stop: threading.Event) -> None:
        batch, accepted, rejected, staged = job.batch, job.accepted, job.rejected, job.staged
        n = len(batch)
        delay = _RETRY_FIRST_S
        retried_misses = False
        while True:
            try:
                conn, writer = self._db()
                if self._reload_registry_if_stale(conn):
                    # Triaged against the cache being replaced: decide again (once a TTL).
                    job = self._prepare(batch, count=False)
                    accepted, rejected, staged = job.accepted, job.rejected, job.staged
                if not retried_misses and any(r.retryable for r in rejected):
                    retried_misses = True
                    before = len(accepted)
                    accepted, rejected = self._retry_misses(conn, accepted, rejected)
                    if len(accepted) != before:
                        staged = Staged.from_accepted(accepted, staging=self.settings.ingest.staging)
                result = writer.write(staged, rejected)
                break
            except (DatabaseUnavailable, psycopg.OperationalError, psycopg.InterfaceError, SchemaNotReady) as exc:
                self._db_failed(exc, delay, level=logging.WARNING)
            except psycopg.Error as exc:
                # Not one message's fault (those are isolated by the writer) and not a lost
                # connection: e.g. a table missing mid-migration. Keep the batch, keep trying.
                self._db_failed(exc, delay, level=logging.ERROR)
            self.stats.db_retries += 1
            self.metrics.db_retries.inc()
            if stop.wait(delay):
                logger.info("stopping with %d messages uncommitted; the broker will redeliver them", n)
                return
            delay = min(delay * 2, _RETRY_MAX_S)
        self._ack(batch)
        self._account(accepted, rejected, result)

    def _retry_misses(
        self, conn: DictConnection, accepted: list[Accepted], rejected: list[Rejected]
    ) -> tuple[list[Accepted], list[Rejected]]:
        accepted = list(accepted)
        misses = [r for r in rejected if r.retryable]
        with conn.transaction():
            looked = self.registry.retry_misses(
                conn,
                device_ids={r.device_id for r in misses if r.device_id},
                store_ids={r.store_id for r in misses if r.store_id},
            )
        if not looked:
            return accepted, rejected
        keep = [r for r in rejected if not r.retryable]
        again, refused = self.triage.sort([r.inbound for r in misses])
        return accepted + again, keep + refused

    def _db_failed(self, exc: BaseException, delay: float, *, level: int) -> None:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        logger.log(level, "batch not written, retrying in %.1f s without acknowledging: %s", delay, first)
        self._drop_connection()

    def _ack(self, batch: list[Inbound]) -> None:
        transport = self._transport
        generation = self._generation
        acked = 0
        if transport is not None:
            for m in batch:
                if m.qos and m.generation == generation:
                    transport.ack(m.mid, m.qos)
                    acked += 1
        self.stats.acked += acked
        self.metrics.acked.inc(acked)

    def _account(self, accepted: list[Accepted], rejected: list[Rejected], result: WriteResult) -> None:
        s, mt = self.stats, self.metrics
        written = len(accepted) - len(result.poison)
        s.batches += 1
        s.messages_written += written
        s.rows_inserted += sum(result.inserted.values())
        s.duplicate_rows += sum(result.duplicates.values())
        s.dead_letters += sum(result.dead_letters.values())
        mt.batch_size.observe(result.messages)
        mt.commit_seconds.observe(result.commit_s)
        poisoned = {id(a) for a, _ in result.poison}
        now = time.time()
        late: list = []
        cutoff = self.refresher.cutoff() if self.refresher is not None else None
        for a in accepted:
            if id(a) in poisoned:
                continue
            mt.written.labels(a.topic.kind.value).inc()
            if a.suppressed_cells:
                mt.suppressed_cells.inc(a.suppressed_cells)
                logger.warning(
                    "dropped %d heatmap cell(s) seen by fewer than %d tracks (ingest.min_heatmap_k); "
                    "set privacy.k >= %d on the camera",
                    a.suppressed_cells,
                    self.triage.min_k,
                    self.triage.min_k,
                    extra={"store_id": a.topic.store_id, "device_id": a.topic.device_id},
                )
            mt.lag_seconds.observe(max(0.0, now - a.message.sent_at.timestamp()))
            if cutoff is not None and isinstance(a.message, CountsMessage):
                late.extend((r.start, r.end) for r in a.message.readings if r.start < cutoff)
        for table, k in result.inserted.items():
            mt.rows.labels(table).inc(k)
        for table, k in result.duplicates.items():
            if k:
                mt.duplicates.labels(table).inc(k)
        for reason, k in result.dead_letters.items():
            mt.dead_letters.labels(reason).inc(k)
        for table, k in result.conflicting_rows.items():
            mt.conflicts.labels(table).inc(k)
        for r in [
            *rejected,
            *(Rejected(a.inbound, Reason.DB_REJECTED, err) for a, err in result.poison),
            *(
                Rejected(a.inbound, Reason.CONFLICTING_DUPLICATE, err, a.topic.store_id, a.topic.device_id)
                for a, err in result.conflicts
            ),
        ]:
            logger.warning(
                "dead letter (%s): %s",
                r.reason.value,
                r.detail,
                extra={"topic": r.inbound.topic, "store_id": r.store_id, "device_id": r.device_id},
            )
        if late and self.refresher is not None:
            self.refresher.note(late)
        logger.debug(
            "batch committed: %d messages, %d rows, %d duplicates, %d dead letters in %.1f ms",
            result.messages,
            sum(result.inserted.values()),
            sum(result.duplicates.values()),
            sum(result.dead_letters.values()),
            result.commit_s * 1000,
        )
        if self.on_commit is not None:
            self.on_commit(accepted, rejected, result)


def worker_client_id(base: str | None, index: int, count: int) -> str | None:
    """Client id of worker `index` of `count` (each worker needs its own persistent session).

    None when no id is configured: the worker builds its default (with `worker_suffix`).
    """
    if base is None:
        return None
    return base if count == 1 else f"{base}-{index}"[:64]


def worker_suffix(index: int, count: int) -> str:
    """What tells worker `index` of `count` apart in a default client id."""
    return "" if count == 1 else f"-{index}"
