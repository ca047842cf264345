"""The durable store-and-forward queue: SQLite in WAL mode, one file per agent.

Everything the agent publishes is written here first, and removed only when the broker
acknowledged it. The same file holds what must survive a restart with it: the next
`seq` of every device, and each counter driver's state (last counters, clock anchors,
open minutes), saved in the same transaction as the readings that state produced.

`Outbox` is the production `ReadingSink`: the camera pipeline puts zones, heatmap,
occupancy, tracks and counts readings into it with `put()`; counter drivers use
`commit()` to save state and readings together.

Disk budget: the queue counts the bytes of the readings it holds (plus a fixed overhead
per row) against `max_bytes`. Over budget, it applies the rule in `footfall.edge.merging`
(oldest unpublished readings merged into coarser intervals, tracks dropped first; counts
are never dropped) until it is under 80 % of the budget, logs a warning and counts the
merged readings for the heartbeat.

Example:
    >>> ob = Outbox.open(Path("/tmp/doctest-outbox.db"), max_bytes=1 << 20)  # doctest: +SKIP
    >>> ob.put(Kind.COUNTS, "door-a", [reading])  # doctest: +SKIP
    >>> batch = ob.claim(max_readings=500)  # doctest: +SKIP
    >>> ob.ack(batch.ids)  # doctest: +SKIP
"""

import json
import logging
import math
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from footfall.core import messages
from footfall.core.topics import Kind
from footfall.edge.errors import OutboxError
from footfall.edge.merging import DROP_ORDER, LADDER_S, LAST_RESORT_DROP, READING_TYPES, merge, merge_key

logger = logging.getLogger(__name__)

BUDGET_LOG_EVERY_S = 300.0
"""Real seconds between warnings while the queue keeps merging."""
ROW_OVERHEAD = 96
"""Bytes counted per queued reading on top of its JSON (row header, index entries)."""
SCHEMA = 1

_DDL = """
CREATE TABLE IF NOT EXISTS readings (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    kind      TEXT NOT NULL,
    key       TEXT NOT NULL,
    start_ms  INTEGER NOT NULL,
    end_ms    INTEGER NOT NULL,
    body      TEXT NOT NULL,
    bytes     INTEGER NOT NULL,
    sent      INTEGER NOT NULL DEFAULT 0,
    lease     TEXT,
    merged    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS readings_device_kind ON readings (device_id, kind, id);
CREATE INDEX IF NOT EXISTS readings_group ON readings (device_id, kind, key, start_ms);
CREATE TABLE IF NOT EXISTS seqs (device_id TEXT PRIMARY KEY, next INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS driver_state (device_id TEXT PRIMARY KEY, state TEXT NOT NULL, updated_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _ms(value: datetime) -> int:
    return round(value.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class Batch:
    """Readings of one device and kind claimed for one message, oldest first."""

    device_id: str
    kind: Kind
    ids: list[int]
    readings: list[messages.Reading]

    @property
    def size(self) -> int:
        """Number of readings."""
        return len(self.ids)


@dataclass(slots=True)
class QueueStats:
    """What the heartbeat reports about the queue."""

    depth: int
    bytes: int
    max_bytes: int
    oldest: datetime | None
    file_bytes: int
    merged: int = 0
    dropped: int = 0
    over_budget: bool = False
    per_device: dict[str, int] = field(default_factory=dict)


class Outbox:
    """The agent's durable queue (see the module docstring). Thread-safe."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        *,
        max_bytes: int,
        merge_target: float = 0.8,
    ) -> None:
        self._conn = conn
        self.path = path
        self.max_bytes = max_bytes
        self.merge_target = merge_target
        self._lock = threading.RLock()
        self._lease = secrets.token_hex(8)
        self._bytes = 0
        self._depth = 0
        self.merged = 0
        """Readings merged into coarser ones since this process opened the queue."""
        self.dropped = 0
        """Readings dropped (tracks, then last-resort kinds) since this process opened the queue."""
        self.over_budget = False
        self._last_budget_log = -BUDGET_LOG_EVERY_S
        self.on_commit: Callable[[], None] | None = None
        """Called after readings were committed (the agent wakes its publisher with it)."""
        row = conn.execute("SELECT COALESCE(SUM(bytes), 0), COUNT(*) FROM readings").fetchone()
        self._bytes, self._depth = int(row[0]), int(row[1])

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        max_bytes: int = 64 * 1024 * 1024,
        synchronous: Literal["full", "normal"] = "full",
        busy_timeout_s: float = 30.0,
    ) -> "Outbox":
        """Open (or create) the queue file.

        Args:
            path: the SQLite file; its folder is created when missing.
            max_bytes: the disk budget for queued readings.
            synchronous: `full` survives power loss (fsync per commit); `normal` survives
                a killed process but may lose the last commits on power loss.
            busy_timeout_s: how long a write waits for another process that holds the
                file's write lock (e.g. a backup) before it fails with `OutboxError`.

        Raises:
            OutboxError: the file cannot be created, is not a Footfall queue, or is corrupt.
        """
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_s)
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise OutboxError(f"{path}: SQLite refused WAL mode (got {mode}); put the queue on a local disk")
            conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
            conn.executescript(_DDL)
            have = conn.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
            if have is None:
                conn.execute("INSERT INTO meta (name, value) VALUES ('schema', ?)", (str(SCHEMA),))
            elif int(have[0]) != SCHEMA:
                raise OutboxError(f"{path}: queue schema {have[0]}, this agent speaks {SCHEMA}")
        except sqlite3.DatabaseError as exc:
            raise OutboxError(
                f"{path}: cannot open the queue: {exc}; check the folder's permissions and free space"
            ) from None
        return cls(conn, path, max_bytes=max_bytes)

    def close(self) -> None:
        """Checkpoint the WAL and close the file."""
        with self._lock:
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.DatabaseError:  # pragma: no cover - best effort on the way out
                logger.debug("WAL checkpoint failed on close", exc_info=True)
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                    hint = "another process holds its write lock; stop it (one agent per data_dir)"
                else:
                    hint = "check free disk space"
                raise OutboxError(f"{self.path}: write failed: {exc}; {hint}") from None

    # -- writing --------------------------------------------------------------------------

    @staticmethod
    def _check(kind: Kind, readings: Sequence[messages.Reading]) -> type[messages.Reading]:
        model = READING_TYPES.get(kind)
        if model is None:
            raise OutboxError(f"kind {kind.value!r} carries no readings; it cannot be queued")
        for r in readings:
            if not isinstance(r, model):
                raise OutboxError(f"a {type(r).__name__} cannot be queued as {kind.value}")
        return model

    def _insert(
        self, conn: sqlite3.Connection, kind: Kind, device_id: str, readings: Sequence[messages.Reading]
    ) -> None:
        rows = []
        for r in readings:
            body = r.model_dump_json()
            size = len(body) + ROW_OVERHEAD
            rows.append((device_id, kind.value, merge_key(kind, r), _ms(r.start), _ms(r.end), body, size))
            self._bytes += size
            self._depth += 1
        conn.executemany(
            "INSERT INTO readings (device_id, kind, key, start_ms, end_ms, body, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def put(self, kind: Kind, device_id: str, readings: Sequence[messages.Reading]) -> None:
        """Store readings for `device_id`; returns once they are durable (the `ReadingSink` verb).

        Raises:
            OutboxError: a reading is not of `kind`'s model, or the disk write failed.
        """
        self.commit(device_id, {kind: readings})

    def commit(
        self,
        device_id: str,
        readings: Mapping[Kind, Sequence[messages.Reading]],
        *,
        state: Mapping[str, Any] | None = None,
    ) -> None:
        """Store readings of several kinds and (optionally) the device driver's state, atomically.

        Raises:
            OutboxError: a reading is not of its kind's model, or the disk write failed.
        """
        for kind, rs in readings.items():
            self._check(kind, rs)
        with self._tx() as conn:
            before = (self._bytes, self._depth)
            try:
                for kind, rs in readings.items():
                    if rs:
                        self._insert(conn, kind, device_id, rs)
                if state is not None:
                    conn.execute(
                        "INSERT INTO driver_state (device_id, state, updated_ms) VALUES (?, ?, ?) ON CONFLICT "
                        "(device_id) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms",
                        (device_id, json.dumps(state), _ms(datetime.now(UTC))),
                    )
            except BaseException:
                self._bytes, self._depth = before
                raise
        if self._bytes > self.max_bytes:
            self.enforce_budget()
        if self.on_commit is not None and any(readings.values()):
            self.on_commit()

    def load_state(self, device_id: str) -> dict[str, Any] | None:
        """The driver state last saved with `commit(state=…)`, or None."""
        with self._lock:
            row = self._conn.execute("SELECT state FROM driver_state WHERE device_id = ?", (device_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    # -- sequence numbers -----------------------------------------------------------------

    def allocate_seq(self, device_id: str, count: int = 1) -> int:
        """Reserve `count` consecutive sequence numbers for a device; returns the first.

        The reservation is committed before it is returned, so numbers increase across
        restarts (and crashes) of the agent.
        """
        with self._tx() as conn:
            row = conn.execute("SELECT next FROM seqs WHERE device_id = ?", (device_id,)).fetchone()
            first = 1 if row is None else int(row[0])
            conn.execute(
                "INSERT INTO seqs (device_id, next) VALUES (?, ?) ON CONFLICT (device_id) DO UPDATE SET next = ?",
                (device_id, first + count, first + count),
            )
        return first

    # -- publishing -----------------------------------------------------------------------

    def claim(self, *, max_readings: int = 500, max_bytes: int = 256 * 1024) -> Batch | None:
        """Take the oldest unclaimed readings of one device and kind for one message.

        Claimed rows are marked sent (never merged afterwards) and leased to this process
        until `ack()` deletes them or `release()` gives them back. A new process (after a
        restart) sees every row as unclaimed.
        """
        with self._tx() as conn:
            head = conn.execute(
                "SELECT device_id, kind FROM readings WHERE lease IS NOT ? ORDER BY id LIMIT 1", (self._lease,)
            ).fetchone()
            if head is None:
                return None
            device_id, kind_s = head
            rows = conn.execute(
                "SELECT id, body, bytes FROM readings WHERE device_id = ? AND kind = ? AND lease IS NOT ? "
                "ORDER BY id LIMIT ?",
                (device_id, kind_s, self._lease, max_readings),
            ).fetchall()
            ids: list[int] = []
            bodies: list[str] = []
            total = 0
            for rid, body, size in rows:
                if ids and total + size > max_bytes:
                    break
                ids.append(rid)
                bodies.append(body)
                total += size
            conn.executemany("UPDATE readings SET sent = 1, lease = ? WHERE id = ?", [(self._lease, i) for i in ids])
        kind = Kind(kind_s)
        model = READING_TYPES[kind]
        readings: list[messages.Reading] = []
        bad: list[int] = []
        for rid, body in zip(ids, bodies, strict=True):
            try:
                readings.append(model.model_validate_json(body))
            except ValidationError as exc:  # pragma: no cover - only a hand-edited file gets here
                logger.error("queued reading %s is corrupt, dropped: %s", rid, exc, extra={"device_id": device_id})
                bad.append(rid)
        if bad:  # pragma: no cover
            self.ack(bad)
            ids = [i for i in ids if i not in bad]
            if not ids:
                return None
        return Batch(device_id=device_id, kind=kind, ids=ids, readings=readings)

    def ack(self, ids: Sequence[int]) -> None:
        """The broker acknowledged these readings: delete them."""
        if not ids:
            return
        with self._tx() as conn:
            freed = 0
            for chunk in _chunks(list(ids), 500):
                marks = ",".join("?" * len(chunk))
                row = conn.execute(
                    f"SELECT COALESCE(SUM(bytes), 0), COUNT(*) FROM readings WHERE id IN ({marks})",  # noqa: S608
                    chunk,
                ).fetchone()
                conn.execute(f"DELETE FROM readings WHERE id IN ({marks})", chunk)  # noqa: S608
                freed += int(row[0])
                self._depth -= int(row[1])
            self._bytes -= freed
        if self._depth == 0 or freed > 1024 * 1024:
            with self._lock:
                self._conn.execute("PRAGMA incremental_vacuum")

    def release(self, ids: Sequence[int], *, unsent: bool = False) -> None:
        """Give claimed readings back (the publish failed); they will be claimed again.

        Args:
            ids: the readings.
            unsent: the broker is known to have dropped them (no subscriber), so they may
                be merged again like readings never sent.
        """
        if not ids:
            return
        with self._tx() as conn:
            conn.executemany(
                "UPDATE readings SET lease = NULL, sent = CASE WHEN ? THEN 0 ELSE sent END WHERE id = ?",
                [(unsent, i) for i in ids],
            )

    # -- budget ---------------------------------------------------------------------------

    def enforce_budget(self) -> None:
        """Merge (and, for droppable kinds, drop) the oldest unpublished readings until under budget."""
        target = int(self.max_bytes * self.merge_target)
        with self._lock:
            if self._bytes <= self.max_bytes:
                return
            before_bytes, merged0, dropped0 = self._bytes, self.merged, self.dropped
            for kind in DROP_ORDER:
                self._drop_oldest(kind, target)
            for level in LADDER_S:
                while self._bytes > target and self._merge_level(level):
                    pass
                if self._bytes <= target:
                    break
            for kind in LAST_RESORT_DROP:
                if self._bytes > target:
                    self._drop_oldest(kind, target)
            self.over_budget = self._bytes > self.max_bytes
            # Merging goes on for as long as the outage does: say so now and then, not on every write.
            now = time.monotonic()
            loud = now - self._last_budget_log >= BUDGET_LOG_EVERY_S
            if loud:
                self._last_budget_log = now
            logger.log(
                logging.WARNING if loud else logging.DEBUG,
                "queue over its budget of %d bytes: merged %d readings into coarser intervals, dropped %d; "
                "now %d bytes (was %d)",
                self.max_bytes,
                self.merged - merged0,
                self.dropped - dropped0,
                self._bytes,
                before_bytes,
            )
            if self.over_budget and loud:
                logger.error(
                    "queue still over budget (%d of %d bytes) after merging everything mergeable: counts are never "
                    "dropped; restore the broker connection or raise queue.max_bytes",
                    self._bytes,
                    self.max_bytes,
                )

    def _drop_oldest(self, kind: Kind, target: int) -> None:
        while self._bytes > target:
            with self._tx() as conn:
                rows = conn.execute(
                    "SELECT id, bytes FROM readings WHERE kind = ? AND sent = 0 ORDER BY id LIMIT 200", (kind.value,)
                ).fetchall()
                if not rows:
                    return
                take = []
                for rid, size in rows:
                    take.append(rid)
                    self._bytes -= size
                    self._depth -= 1
                    if self._bytes <= target:
                        break
                conn.executemany("DELETE FROM readings WHERE id = ?", [(i,) for i in take])
                self.dropped += len(take)
            logger.warning("queue full: dropped %d %s readings, oldest first", len(take), kind.value)

    def _merge_level(self, level_s: int) -> bool:
        """Merge one chunk of the oldest mergeable readings into `level_s` buckets; False when nothing merged."""
        level_ms = level_s * 1000
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT device_id, kind, key, start_ms FROM readings "
                "WHERE sent = 0 AND end_ms - start_ms < ? AND kind <> ? ORDER BY id LIMIT 5000",
                (level_ms, Kind.TRACKS.value),
            ).fetchall()
            groups = dict.fromkeys((d, k, key, math.floor(s / level_ms)) for d, k, key, s in rows)
            done = False
            for device_id, kind_s, key, bucket in groups:
                # Every row of the bucket, also those outside this chunk: merge only if none was ever sent.
                members = conn.execute(
                    "SELECT id, sent, body, bytes, merged FROM readings "
                    "WHERE device_id = ? AND kind = ? AND key = ? AND start_ms >= ? AND start_ms < ? ORDER BY id",
                    (device_id, kind_s, key, bucket * level_ms, (bucket + 1) * level_ms),
                ).fetchall()
                if len(members) < 2 or any(r[1] for r in members):
                    continue
                kind = Kind(kind_s)
                model = READING_TYPES[kind]
                parsed = [model.model_validate_json(r[2]) for r in members]
                merged = merge(kind, parsed)
                if merged is None:
                    continue
                ids = [r[0] for r in members]
                body = merged.model_dump_json()
                size = len(body) + ROW_OVERHEAD
                marks = ",".join("?" * len(ids))
                conn.execute(f"DELETE FROM readings WHERE id IN ({marks})", ids)  # noqa: S608
                conn.execute(
                    "INSERT INTO readings (id, device_id, kind, key, start_ms, end_ms, body, bytes, merged) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        min(ids),
                        device_id,
                        kind_s,
                        key,
                        _ms(merged.start),
                        _ms(merged.end),
                        body,
                        size,
                        sum(r[4] for r in members),
                    ),
                )
                self._bytes += size - sum(r[3] for r in members)
                self._depth -= len(ids) - 1
                self.merged += len(ids)
                done = True
                if self._bytes <= int(self.max_bytes * self.merge_target):
                    break
        return done

    # -- inspection -----------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Readings waiting."""
        return self._depth

    @property
    def bytes(self) -> int:
        """Bytes counted against the budget."""
        return self._bytes

    def stats(self) -> QueueStats:
        """Depth, bytes, oldest reading and merge counters."""
        with self._lock:
            oldest = self._conn.execute("SELECT MIN(start_ms) FROM readings").fetchone()[0]
            per = dict(self._conn.execute("SELECT device_id, COUNT(*) FROM readings GROUP BY device_id").fetchall())
            pages = self._conn.execute("PRAGMA page_count").fetchone()[0]
            page = self._conn.execute("PRAGMA page_size").fetchone()[0]
        wal = self.path.with_name(self.path.name + "-wal")
        file_bytes = pages * page + (wal.stat().st_size if wal.exists() else 0)
        return QueueStats(
            depth=self._depth,
            bytes=self._bytes,
            max_bytes=self.max_bytes,
            oldest=None if oldest is None else datetime.fromtimestamp(oldest / 1000, UTC),
            file_bytes=file_bytes,
            merged=self.merged,
            dropped=self.dropped,
            over_budget=self.over_budget,
            per_device=per,
        )

    def readings(self, device_id: str | None = None, kind: Kind | None = None) -> list[messages.Reading]:
        """Every queued reading (oldest first), optionally of one device and kind (for tools and tests)."""
        where, args = [], []
        if device_id is not None:
            where.append("device_id = ?")
            args.append(device_id)
        if kind is not None:
            where.append("kind = ?")
            args.append(kind.value)
        sql = "SELECT kind, body FROM readings WHERE " + " AND ".join(where or ["1 = 1"]) + " ORDER BY id"  # noqa: S608
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [READING_TYPES[Kind(k)].model_validate_json(b) for k, b in rows]


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
