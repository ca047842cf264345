"""Write one batch in one transaction: COPY into staging, INSERT … ON CONFLICT DO NOTHING.

Two ways to stage (`IngestSettings.staging`): **typed** (the default) binary-COPYs every
reading kind — counts, occupancy, zones, heatmap cells, tracks, heartbeats — one row per
fact-table row, in the fact table's types (integers as bigint, reals as double precision:
the INSERT's cast refuses what the column cannot hold), into temporary tables and moves
them with a plain INSERT … SELECT. Device status (one retained state per device, not a
reading) and everything in the **json** mode (kept so `footfall bench ingest` can compare
the two in one run) are staged one row per message with the readings as normalised JSON,
unpacked by `jsonb_to_recordset`. Both give the same rows, duplicates and conflicts; the
kinds differ only in the `TYPED` table below.

`BatchWriter.write()` either commits the whole batch (facts and dead letters together)
or raises, leaving nothing behind: the caller acknowledges the batch to the broker only
after it returns. A message the database itself refuses (a value out of a column's range,
a string PostgreSQL cannot store) is isolated by bisection under savepoints and
dead-lettered as `db_rejected`, so one poison message never blocks the stream.
"""

import logging
import struct
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg
from pydantic import TypeAdapter

from footfall.core.messages import (
    CountsMessage,
    HeartbeatMessage,
    HeatmapMessage,
    OccupancyMessage,
    StatusMessage,
    TrackPoint,
    TracksMessage,
    ZonesMessage,
)
from footfall.core.topics import Kind
from footfall.db.connect import DictConnection
from footfall.db.queries import queries
from footfall.ingest.triage import Accepted, Reason, Rejected

logger = logging.getLogger(__name__)

TABLES: dict[Kind, str] = {
    Kind.COUNTS: "door_counts",
    Kind.OCCUPANCY: "occupancy",
    Kind.HEATMAP: "heatmap_cells",
    Kind.TRACKS: "tracks",
    Kind.ZONES: "zone_visits",
    Kind.HEARTBEAT: "heartbeats",
    Kind.STATUS: "device_status",
}
"""The table each message kind is written to."""

_INSERTS: dict[Kind, str] = {
    Kind.COUNTS: "insert_counts",
    Kind.OCCUPANCY: "insert_occupancy",
    Kind.HEATMAP: "insert_heatmap",
    Kind.TRACKS: "insert_tracks",
    Kind.ZONES: "insert_zones",
    Kind.HEARTBEAT: "insert_heartbeat",
    Kind.STATUS: "upsert_status",
}

_CONFLICTS: dict[Kind, str] = {
    Kind.COUNTS: "conflicts_counts",
    Kind.OCCUPANCY: "conflicts_occupancy",
    Kind.ZONES: "conflicts_zones",
}
"""Kinds whose duplicates are compared with what is stored (the others are dropped as plain duplicates)."""

_POINTS = TypeAdapter(list[TrackPoint])


def _counts_rows(store: str, device: str, m: CountsMessage) -> Iterable[tuple]:
    seq = m.seq
    for r in m.readings:
        yield (store, device, r.door_id, r.start, r.end, r.entries, r.exits, r.passersby, r.valid, seq)


def _occupancy_rows(store: str, device: str, m: OccupancyMessage) -> Iterable[tuple]:
    seq = m.seq
    for r in m.readings:
        yield (store, device, r.zone_id or "", r.start, r.end, r.occupancy, r.peak, r.valid, seq)


def _heatmap_rows(store: str, device: str, m: HeatmapMessage) -> Iterable[tuple]:
    seq = m.seq
    for r in m.readings:
        floor, start, end, cell_m, valid = r.floor_id, r.start, r.end, r.cell_m, r.valid
        for c in r.cells:
            yield (store, device, floor, start, end, cell_m, c.x, c.y, c.presence_s, c.tracks, valid, seq)


def _zones_rows(store: str, device: str, m: ZonesMessage) -> Iterable[tuple]:
    seq = m.seq
    for r in m.readings:
        yield (store, device, r.zone_id, r.start, r.end, r.entries, r.exits, r.dwell_s, r.occupancy, r.valid, seq)


def _tracks_rows(store: str, device: str, m: TracksMessage) -> Iterable[tuple]:
    seq = m.seq
    for r in m.readings:
        for n, t in enumerate(r.tracks):
            yield (store, device, r.floor_id, r.start, r.end, n, _POINTS.dump_json(t.points).decode(), seq)


def _heartbeat_rows(store: str, device: str, m: HeartbeatMessage) -> Iterable[tuple]:
    for r in m.readings:
        yield (store, device, r.start, r.end, m.seq, m.sent_at, r.uptime_s, r.queue_depth, r.model_dump_json())


@dataclass(frozen=True)
class TypedKind:
    """How one kind is staged by typed binary COPY: its queries (`<query>_<kind>` names in
    ingest.sql), the staging columns' PostgreSQL types in COPY order, and its rows."""

    types: tuple[str, ...]
    rows: Callable[[str, str, Any], Iterable[tuple]]
    """(store_id, device_id, message) → one tuple per fact-table row."""
    copy: str
    insert: str
    conflicts: str | None = None
    """Kinds whose duplicates are compared with what is stored (the others are plain duplicates)."""


def _typed(kind: Kind, types: str, rows: Callable[[str, str, Any], Iterable[tuple]], *, conflicts: bool) -> TypedKind:
    name = kind.value
    return TypedKind(
        tuple(types.split()),
        rows,
        f"copy_stage_{name}",
        f"insert_{name}_typed",
        f"conflicts_{name}_typed" if conflicts else None,
    )


TYPED: dict[Kind, TypedKind] = {
    Kind.COUNTS: _typed(
        Kind.COUNTS, "text text text timestamptz timestamptz int8 int8 int8 bool int8", _counts_rows, conflicts=True
    ),
    Kind.OCCUPANCY: _typed(
        Kind.OCCUPANCY, "text text text timestamptz timestamptz int8 int8 bool int8", _occupancy_rows, conflicts=True
    ),
    Kind.HEATMAP: _typed(
        Kind.HEATMAP,
        "text text text timestamptz timestamptz float8 int8 int8 float8 int8 bool int8",
        _heatmap_rows,
        conflicts=False,
    ),
    Kind.ZONES: _typed(
        Kind.ZONES,
        "text text text timestamptz timestamptz int8 int8 float8[] int8 bool int8",
        _zones_rows,
        conflicts=True,
    ),
    Kind.TRACKS: _typed(
        Kind.TRACKS, "text text text timestamptz timestamptz int8 text int8", _tracks_rows, conflicts=False
    ),
    Kind.HEARTBEAT: _typed(
        Kind.HEARTBEAT,
        "text text timestamptz timestamptz int8 timestamptz float8 int8 text",
        _heartbeat_rows,
        conflicts=False,
    ),
}
"""Kinds staged by typed binary COPY. Integers go as int8 and reals as float8: psycopg's binary
int4 encoder in COPY wraps an out-of-range value silently (2**40 arrives as 0), while int8
raises, and the INSERT's assignment cast to integer (or real) refuses what does not fit, as
the JSON path's cast does. Track points and heartbeat payloads go as the JSON text pydantic
dumps (cast to jsonb by the INSERT), the same JSON the json leg stages."""

Staging = Literal["typed", "json"]

MAX_CONFLICTS_SHOWN = 3

ISOLATABLE = (psycopg.errors.DataError, psycopg.errors.IntegrityError)
"""Errors caused by one message's values (SQLSTATE classes 22 and 23), not by the database's state."""


def rows_of(accepted: Accepted) -> int:
    """How many rows a message becomes in its table (the unit of `written` and `duplicates`)."""
    m = accepted.message
    if isinstance(m, StatusMessage):
        return 1
    if isinstance(m, HeatmapMessage):
        return sum(len(r.cells) for r in m.readings)
    if isinstance(m, TracksMessage):
        return sum(len(r.tracks) for r in m.readings)
    return len(m.readings)


@dataclass
class Staged:
    """Accepted messages turned into staging rows (CPU work, done before the database is involved)."""

    accepted: list[Accepted]
    rows: list[tuple]
    """One row per message staged as JSON."""
    kinds: list[Kind]
    """Kinds staged as JSON."""
    expected: Counter[str]
    typed: dict[Kind, list[tuple]] = field(default_factory=dict)
    """Rows per kind staged by typed binary COPY, one per reading."""

    @classmethod
    def from_accepted(cls, accepted: list[Accepted], *, staging: Staging = "typed") -> "Staged":
        """Turn each message into staging rows and count the rows it stands for."""
        rows: list[tuple] = []
        kinds: dict[Kind, None] = {}
        typed: dict[Kind, list[tuple]] = {}
        expected: Counter[str] = Counter()
        for a in accepted:
            m = a.message
            kind = a.topic.kind
            expected[TABLES[kind]] += rows_of(a)
            spec = TYPED.get(kind) if staging == "typed" else None
            if spec is not None:
                typed.setdefault(kind, []).extend(spec.rows(a.topic.store_id, a.topic.device_id, m))
            else:
                rows.append((kind.value, a.topic.store_id, a.topic.device_id, m.seq, m.sent_at, m.model_dump_json()))
                kinds[kind] = None
        return cls(accepted, rows, list(kinds), expected, typed)


@dataclass
class WriteResult:
    """What one committed batch did."""

    messages: int = 0
    inserted: Counter[str] = field(default_factory=Counter)
    """Rows really inserted (or, for device_status, changed), per table."""
    duplicates: Counter[str] = field(default_factory=Counter)
    """Rows dropped as already present, per table."""
    dead_letters: Counter[str] = field(default_factory=Counter)
    """Dead letters, per reason (including repeats that were already stored)."""
    dead_letter_repeats: int = 0
    poison: list[tuple[Accepted, str]] = field(default_factory=list)
    """Messages the database itself refused, with its reason; dead-lettered as `db_rejected`."""
    conflicts: list[tuple[Accepted, str]] = field(default_factory=list)
    """Messages with readings whose key was stored with other values, with the stored and
    the new values; the stored row stays, the message is dead-lettered as `conflicting_duplicate`."""
    conflicting_rows: Counter[str] = field(default_factory=Counter)
    """Such readings, per table (also counted in `duplicates`)."""
    commit_s: float = 0.0
    committed_at: float = 0.0
    """`time.monotonic()` right after the commit returned."""


class BatchWriter:
    """Writes batches on one connection it does not own.

    Example:
        >>> # writer = BatchWriter(conn, dead_letter_keep_bytes=65536); writer.prepare()
        >>> # result = writer.write(accepted, rejected)   # committed when it returns
    """

    def __init__(self, conn: DictConnection, *, dead_letter_keep_bytes: int, staging: Staging = "typed") -> None:
        self.conn = conn
        self.keep_bytes = dead_letter_keep_bytes
        self.staging: Staging = staging
        self._q = queries("ingest")

    def prepare(self) -> None:
        """Create the session's staging tables (once per connection)."""
        with self.conn.transaction():
            self.conn.execute(self._q["create_stage"])
            self.conn.execute(self._q["create_typed_stage"])

    def write(self, accepted: list[Accepted] | Staged, rejected: list[Rejected]) -> WriteResult:
        """Write a batch in one transaction and commit it.

        Args:
            accepted: valid messages, or their `Staged` form (prepared off the database thread).
            rejected: messages for `dead_letters`.

        Raises:
            psycopg.Error: the database failed for a reason other than one message's
                values (connection lost, server shutting down, schema missing); nothing
                was committed.
        """
        staged = accepted if isinstance(accepted, Staged) else Staged.from_accepted(accepted, staging=self.staging)
        result = WriteResult(messages=len(staged.accepted) + len(rejected))
        started = time.perf_counter()
        with self.conn.transaction():
            if staged.rows or staged.typed:
                try:
                    with self.conn.transaction():
                        self._facts(staged, result)
                except ISOLATABLE as exc:
                    result.conflicts.clear()
                    result.conflicting_rows.clear()
                    logger.warning("batch refused by the database (%s); isolating the message that caused it", exc)
                    self._bisect(staged.accepted, result)
            poison = [
                Rejected(a.inbound, Reason.DB_REJECTED, err, a.topic.store_id, a.topic.device_id)
                for a, err in result.poison
            ] + [
                Rejected(a.inbound, Reason.CONFLICTING_DUPLICATE, detail, a.topic.store_id, a.topic.device_id)
                for a, detail in result.conflicts
            ]
            self._dead_letters([*rejected, *poison], result)
        result.committed_at = time.monotonic()
        result.commit_s = time.perf_counter() - started
        return result

    def _facts(self, staged: Staged, result: WriteResult, *, clear: bool = False) -> None:
        with self.conn.cursor() as cur:
            if clear:
                cur.execute("DELETE FROM ingest_stage")
                cur.execute(self._q["clear_typed_stage"])
            inserted: Counter[str] = Counter()
            for kind, rows in staged.typed.items():
                spec = TYPED[kind]
                if not rows:
                    continue  # e.g. heatmap readings with every cell suppressed
                try:
                    with cur.copy(self._q[spec.copy]) as copy:
                        copy.set_types(list(spec.types))
                        for row in rows:
                            copy.write_row(row)
                except (OverflowError, struct.error) as exc:
                    # A value the binary encoder cannot hold: one message's fault, isolated like the server's.
                    raise psycopg.errors.NumericValueOutOfRange(f"a value does not fit its column: {exc}") from exc
                cur.execute(self._q[spec.insert])
                inserted[TABLES[kind]] += max(cur.rowcount, 0)
            if staged.rows:
                with cur.copy(self._q["copy_stage"]) as copy:
                    for row in staged.rows:
                        copy.write_row(row)
                for kind in staged.kinds:
                    cur.execute(self._q[_INSERTS[kind]])
                    inserted[TABLES[kind]] += max(cur.rowcount, 0)
            checks = [(kind, q) for kind in staged.typed if (q := TYPED[kind].conflicts) is not None]
            checks += [(kind, _CONFLICTS[kind]) for kind in staged.kinds if kind in _CONFLICTS]
            for kind, conflicts_q in checks:
                table = TABLES[kind]
                # Only a batch with duplicates can hold a conflicting one: the common path pays nothing.
                if staged.expected[table] > inserted[table]:
                    cur.execute(self._q[conflicts_q])
                    self._conflicts(kind, cur.fetchall(), staged, result)
        for table, n in staged.expected.items():
            result.inserted[table] += inserted[table]
            result.duplicates[table] += n - inserted[table]

    @staticmethod
    def _conflicts(kind: Kind, rows: list, staged: Staged, result: WriteResult) -> None:
        if not rows:
            return
        by_key: dict[tuple[str, int], Accepted] = {}
        for a in staged.accepted:
            if a.topic.kind is kind:
                by_key.setdefault((a.topic.device_id, a.message.seq), a)
        found: dict[int, tuple[Accepted, list[str]]] = {}
        for row in rows:
            hit = by_key.get((row["device_id"], row["seq"]))
            if hit is None:
                continue
            a = hit
            place = "door" if kind is Kind.COUNTS else "zone"
            shown = (
                f"{place} {row['place'] or '(store)'} at {row['start'].isoformat()}: "
                f"stored {_values(row['stored'])}, received {_values(row['received'])}"
            )
            found.setdefault(id(a), (a, []))[1].append(shown)
        table = TABLES[kind]
        for a, lines in found.values():
            result.conflicting_rows[table] += len(lines)
            more = f"; and {len(lines) - MAX_CONFLICTS_SHOWN} more" if len(lines) > MAX_CONFLICTS_SHOWN else ""
            result.conflicts.append(
                (
                    a,
                    f"{len(lines)} reading(s) already stored with other values, kept as stored: "
                    + "; ".join(lines[:MAX_CONFLICTS_SHOWN])
                    + more,
                )
            )

    def _bisect(self, accepted: list[Accepted], result: WriteResult) -> None:
        try:
            with self.conn.transaction():
                part = WriteResult()
                self._facts(Staged.from_accepted(accepted, staging=self.staging), part, clear=True)
            result.inserted.update(part.inserted)
            result.duplicates.update(part.duplicates)
            result.conflicts.extend(part.conflicts)
            result.conflicting_rows.update(part.conflicting_rows)
        except ISOLATABLE as exc:
            if len(accepted) == 1:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                result.poison.append((accepted[0], f"the database refused the values: {first}"))
                return
            half = len(accepted) // 2
            self._bisect(accepted[:half], result)
            self._bisect(accepted[half:], result)

    def _dead_letters(self, rejected: list[Rejected], result: WriteResult) -> None:
        if not rejected:
            return
        with self.conn.cursor() as cur:
            cur.executemany(self._q["insert_dead_letter"], [r.dead_letter_row(self.keep_bytes) for r in rejected])
            stored = max(cur.rowcount, 0)
        for r in rejected:
            result.dead_letters[r.reason.value] += 1
        result.dead_letter_repeats += len(rejected) - stored


def _values(values: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in values.items())
