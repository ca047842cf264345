"""What every counter driver shares: reports in, per-minute readings and saved state out.

A driver does the device's I/O (a TCP line protocol, HTTP pushes, MQTT messages) and
hands what it parsed to its `CounterCore`, which runs the pure tools of
`footfall.edge.counting` and commits the readings it produced *together with* the new
state to the outbox, in one SQLite transaction. Only then does the driver acknowledge
the report to the device (TCP `ACK`, HTTP 200, MQTT PUBACK), so a device re-sends
whatever the agent may not have stored, and the state makes re-sent reports harmless.
"""

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from footfall.core.clock import Clock
from footfall.core.messages import Fault, SensorHealth
from footfall.core.topics import Kind
from footfall.edge.counting import Change, ClockSync, CounterSample, CumulativeCounter, MinuteBook
from footfall.edge.outbox import Outbox

logger = logging.getLogger(__name__)

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class CumulativeReport:
    """One report of a cumulative-counter device (TCP beam, MQTT-native).

    Attributes:
        device_ts: the device's own timestamp of the report (its clock, not corrected).
        entries: cumulative IN counter.
        exits: cumulative OUT counter.
        boot: boot number, when the device sends one.
        uptime_ms: milliseconds since boot, when the device sends it.
        blocked: the device says its sensor is blocked (it is not counting).
        ordered_by_time: the device sends neither boot nor uptime, so reports are ordered
            by `device_ts`: one not after the last is a duplicate or stale (a polled or
            re-sent snapshot), not a counter reset.
        period_reset: the device restarts its counters at zero on a schedule (e.g. at its
            local midnight) and this is the first report of a new period: its values are
            the delta, like after a reboot (logged, no `counter_reset` fault).
    """

    device_ts: datetime
    entries: int
    exits: int
    boot: int | None = None
    uptime_ms: int | None = None
    blocked: bool = False
    ordered_by_time: bool = False
    period_reset: bool = False


@dataclass(frozen=True, slots=True)
class IntervalCount:
    """People counted on one line of an interval-push device during `[start, end)` of its clock."""

    line: str
    start: datetime
    end: datetime
    forward: int
    backward: int
    blocked: bool = False


@dataclass
class DeviceHealth:
    """The agent's running view of one counter, for the heartbeat."""

    last_seen: datetime | None = None
    errors: int = 0
    duplicates: int = 0
    reboots: int = 0
    wraps: int = 0
    resets: int = 0
    late: int = 0
    period_resets: int = 0
    blocked: bool = False
    connected: bool = False
    recent: set[Fault] = field(default_factory=set)
    """Faults seen since the last heartbeat (cleared by it)."""


_ROLLED_BACK = ("duplicates", "reboots", "wraps", "resets", "late", "period_resets", "blocked", "recent")
"""Health fields only a report changes (under the core's lock): undone with a write that failed.

`errors`, `last_seen` and `connected` stay: drivers set them outside the lock, and a report
that arrived but could not be stored was still seen.
"""


class CounterCore:
    """Turns one device's reports into committed per-minute readings (see the module docstring).

    Args:
        device_id: the counter's device id.
        doors: the doors it counts.
        outbox: where readings and state go.
        clock: the agent's clock, the time reference.
        passersby_doors: doors for which it also counts passers-by.
        line_doors: for interval devices: line id → (door, is a passers-by line).
        bits: width of its cumulative counters.
        max_step: largest plausible step of a counter between two reports.
        settle_s, gap_s: see `MinuteBook`.
        on_commit: called after readings were committed (wakes the publisher).
    """

    def __init__(
        self,
        *,
        device_id: str,
        doors: Sequence[str],
        outbox: Outbox,
        clock: Clock,
        passersby_doors: Iterable[str] = (),
        line_doors: dict[str, tuple[str, bool]] | None = None,
        bits: int = 32,
        max_step: int = 100_000,
        settle_s: float = 1.0,
        gap_s: float = 120.0,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.device_id = device_id
        self.outbox = outbox
        self.clock = clock
        self.line_doors = line_doors or {}
        self.counter = CumulativeCounter(bits=bits, max_step=max_step)
        self.sync = ClockSync()
        self.book = MinuteBook(doors, passersby_doors=passersby_doors, settle_s=settle_s, gap_s=gap_s)
        self.health = DeviceHealth()
        self.on_commit = on_commit
        self._seen_intervals: dict[str, float] = {}
        self._last_at: float | None = None
        self._last_device_ts: float | None = None
        self._last_ts_by: dict[str, float] = {}
        self._lock = threading.Lock()
        self._restore()

    # -- state ----------------------------------------------------------------------------

    def _state(self) -> dict:
        """Everything a restart needs, as a detached copy (also the snapshot a failed write goes back to)."""
        return {
            "v": STATE_VERSION,
            "counter": self.counter.state(),
            "sync": self.sync.state(),
            "book": self.book.state(),
            "seen": dict(self._seen_intervals),
            "last_at": self._last_at,
            "last_device_ts": self._last_device_ts,
            "last_ts_by": dict(self._last_ts_by),
        }

    def _load(self, state: dict) -> None:
        self.counter.restore(state["counter"])
        self.sync.restore(state["sync"])
        self.book.restore(state["book"])
        self._seen_intervals = dict(state.get("seen", {}))
        self._last_at = state.get("last_at")
        self._last_device_ts = state.get("last_device_ts")
        self._last_ts_by = dict(state.get("last_ts_by", {}))

    def _restore(self) -> None:
        state = self.outbox.load_state(self.device_id)
        if not state or state.get("v") != STATE_VERSION:
            return
        self._load(state)
        logger.info(
            "resumed %s: next minute %s, counters %s",
            self.device_id,
            None if self.book.next_minute is None else datetime.fromtimestamp(self.book.next_minute, UTC),
            self.counter.values,
            extra={"device_id": self.device_id},
        )

    def _commit(self) -> int:
        readings = self.book.close()
        self.outbox.commit(self.device_id, {Kind.COUNTS: readings}, state=self._state())
        if readings and self.on_commit is not None:
            self.on_commit()
        return len(readings)

    @contextmanager
    def _applying(self) -> Iterator[None]:
        """Apply reports and commit them, all or nothing (call with `_lock` held).

        What the block changed — counters, seen intervals, open minutes, the health tallies —
        is kept only if its commit succeeds. On any error (the queue cannot be written) the
        core is put back as it was, which is also what a restart would load from the queue:
        the device, not acknowledged, sends the same reports again and they count, instead
        of being taken for duplicates of what was never stored.
        """
        saved = self._state()
        h = self.health
        tallies = replace(h, recent=set(h.recent))
        try:
            yield
        except BaseException:
            self._load(saved)
            for name in _ROLLED_BACK:
                setattr(h, name, getattr(tallies, name))
            raise

    # -- clock ----------------------------------------------------------------------------

    def observe_clock(self, *, device_ts: datetime, received: datetime) -> None:
        """A one-way clock sample (a live report's timestamp and when it arrived)."""
        with self._lock:
            self.sync.observe(device_ts=device_ts, received=received)

    def observe_round_trip(self, *, sent: datetime, device_ts: datetime, received: datetime) -> None:
        """A two-way clock sample (ping/pong)."""
        with self._lock:
            self.sync.observe_round_trip(sent=sent, device_ts=device_ts, received=received)

    # -- reports --------------------------------------------------------------------------

    def ingest(self, reports: Sequence[CumulativeReport]) -> int:
        """Apply cumulative reports in order, commit readings and state; returns readings emitted.

        Raises:
            OutboxError: the queue could not be written (the caller must not acknowledge).
        """
        now = self.clock.now()
        door = self.book.doors[0]
        with self._lock, self._applying():
            for r in reports:
                if r.ordered_by_time and self._stale(r.device_ts):
                    self.health.duplicates += 1
                    continue
                boot = r.boot
                if r.period_reset and self.counter.values is not None:
                    # a scheduled restart at zero is a reboot of the counters
                    if self.counter.boot is None:
                        self.counter.boot = 0
                    boot = self.counter.boot + 1
                try:
                    delta = self.counter.update(
                        CounterSample({"in": r.entries, "out": r.exits}, boot=boot, uptime_ms=r.uptime_ms)
                    )
                except ValueError as exc:
                    self.health.errors += 1
                    logger.warning(
                        "%s: bad report ignored: %s", self.device_id, exc, extra={"device_id": self.device_id}
                    )
                    continue
                if delta.change is Change.DUPLICATE and not r.ordered_by_time:
                    self.health.duplicates += 1
                    continue
                # (ordered by time, unchanged counters at a later time are an observation: nobody came)
                at = self.sync.to_agent_ts(r.device_ts.timestamp())
                if delta.change is Change.DUPLICATE:
                    pass
                elif delta.change is Change.REBOOT and r.period_reset:
                    self.health.period_resets += 1
                    logger.info(
                        "%s restarted its counters for a new period",
                        self.device_id,
                        extra={"device_id": self.device_id},
                    )
                else:
                    self._note(delta.change)
                entries, exits = delta.values.get("in", 0), delta.values.get("out", 0)
                if (entries or exits) and not self.book.add(door, at, entries=entries, exits=exits):
                    self.health.late += 1
                self._blocked(r.blocked, at)
                self.book.observe(at)
            self.health.last_seen = now
            return self._commit()

    def _stale(self, device_ts: datetime) -> bool:
        ts = device_ts.timestamp()
        if self._last_device_ts is not None and ts <= self._last_device_ts:
            return True
        self._last_device_ts = ts
        return False

    def ingest_direction_total(self, device_ts: datetime, direction: str, total: int) -> int:
        """Apply one direction's cumulative count, sent on its own (one AXIS crossline scenario per direction).

        `direction` is `in` or `out`; the other direction keeps its last known total.
        Reports are ordered by `device_ts` per direction: one not after that direction's
        last is a re-send or stale. The first total of a direction is its baseline; a
        total that went down was reset (its new value is the delta, a `counter_reset`).

        Raises:
            OutboxError: the queue could not be written (the caller must not acknowledge).
        """
        if direction not in ("in", "out"):
            raise ValueError(f"direction must be 'in' or 'out', not {direction!r}")
        now = self.clock.now()
        door = self.book.doors[0]
        ts = device_ts.timestamp()
        with self._lock, self._applying():
            self.health.last_seen = now
            last = self._last_ts_by.get(direction)
            if last is not None and ts <= last:
                self.health.duplicates += 1
                return 0
            self._last_ts_by[direction] = ts
            values = dict(self.counter.values or {}) | {direction: total}
            try:
                delta = self.counter.update(CounterSample(values))
            except ValueError as exc:
                self.health.errors += 1
                logger.warning("%s: bad report ignored: %s", self.device_id, exc, extra={"device_id": self.device_id})
                return 0
            at = self.sync.to_agent_ts(ts)
            if delta.change is not Change.DUPLICATE:  # unchanged at a later time: nobody came
                self._note(delta.change)
                entries, exits = delta.values.get("in", 0), delta.values.get("out", 0)
                if (entries or exits) and not self.book.add(door, at, entries=entries, exits=exits):
                    self.health.late += 1
            self._blocked(False, at)
            self.book.observe(at)
            return self._commit()

    def observe_quiet(self, at: datetime) -> int:
        """Nothing happened up to agent time `at` (an event-only device, still subscribed); returns readings emitted.

        Only after the device's first report (its baseline); closes the minutes before `at`.

        Raises:
            OutboxError: the queue could not be written.
        """
        with self._lock, self._applying():
            if self.book.watermark is None:
                return 0
            self.book.observe(at.timestamp())
            return self._commit()

    def ingest_line_totals(self, device_ts: datetime, totals: dict[str, tuple[int, int]]) -> int:
        """Apply one snapshot of cumulative forward/backward counts per line; returns readings emitted.

        Lines are mapped to doors by `line_doors`; a line in `totals` that is not mapped is
        ignored. Snapshots are ordered by `device_ts`: one not after the last is stale.

        Raises:
            OutboxError: the queue could not be written (the caller must not acknowledge).
        """
        now = self.clock.now()
        with self._lock, self._applying():
            if self._stale(device_ts):
                self.health.duplicates += 1
                self.health.last_seen = now
                return 0
            values: dict[str, int] = {}
            for line in self.line_doors:
                if line in totals:
                    values[f"{line}:fw"], values[f"{line}:bw"] = totals[line]
            try:
                delta = self.counter.update(CounterSample(values))
            except ValueError as exc:
                self.health.errors += 1
                logger.warning("%s: bad report ignored: %s", self.device_id, exc, extra={"device_id": self.device_id})
                return 0
            at = self.sync.to_agent_ts(device_ts.timestamp())
            if delta.change is not Change.DUPLICATE:  # unchanged at a later time: nobody came
                self._note(delta.change)
                for line, (door, passersby) in self.line_doors.items():
                    fw, bw = delta.values.get(f"{line}:fw", 0), delta.values.get(f"{line}:bw", 0)
                    if not (fw or bw):
                        continue
                    if passersby:
                        ok = self.book.add(door, at, passersby=fw + bw)
                    else:
                        ok = self.book.add(door, at, entries=fw, exits=bw)
                    if not ok:
                        self.health.late += 1
            self._blocked(False, at)
            self.book.observe(at)
            self.health.last_seen = now
            return self._commit()

    def ingest_intervals(self, intervals: Sequence[IntervalCount]) -> tuple[int, int]:
        """Apply interval counts (deduplicated by line and device start), commit; returns (accepted, duplicates).

        Raises:
            OutboxError: the queue could not be written (the caller must not acknowledge).
        """
        now = self.clock.now()
        accepted = duplicates = 0
        with self._lock, self._applying():
            for iv in sorted(intervals, key=lambda i: (i.start, i.line)):
                key = f"{iv.line}@{iv.start.timestamp():.3f}"
                if key in self._seen_intervals:
                    duplicates += 1
                    self.health.duplicates += 1
                    continue
                door, passersby = self.line_doors[iv.line]
                start = self.sync.to_agent_ts(iv.start.timestamp())
                end = self.sync.to_agent_ts(iv.end.timestamp())
                mid = (start + end) / 2
                if iv.forward or iv.backward:
                    if passersby:
                        ok = self.book.add(door, mid, passersby=iv.forward + iv.backward)
                    else:
                        ok = self.book.add(door, mid, entries=iv.forward, exits=iv.backward)
                    if not ok:
                        self.health.late += 1
                if self.book.watermark is None:
                    self.book.observe(start)
                self._blocked(iv.blocked, end)
                self.book.observe(end)
                self._seen_intervals[key] = end
                accepted += 1
            self._prune_seen()
            self.health.last_seen = now
            self._commit()
        return accepted, duplicates

    def _prune_seen(self) -> None:
        if self.book.watermark is None or len(self._seen_intervals) < 512:
            return
        horizon = self.book.watermark - 2 * 24 * 3600
        self._seen_intervals = {k: v for k, v in self._seen_intervals.items() if v >= horizon}

    def _note(self, change: Change) -> None:
        h = self.health
        if change is Change.REBOOT:
            h.reboots += 1
            h.recent.add(Fault.COUNTER_RESET)
            logger.info("%s rebooted: counters restarted at zero", self.device_id, extra={"device_id": self.device_id})
        elif change is Change.WRAP:
            h.wraps += 1
            logger.info("%s: a counter wrapped around", self.device_id, extra={"device_id": self.device_id})
        elif change is Change.RESET:
            h.resets += 1
            h.recent.add(Fault.COUNTER_RESET)
            logger.warning(
                "%s: a counter went down without a reboot; taken as cleared by hand",
                self.device_id,
                extra={"device_id": self.device_id},
            )

    def _blocked(self, blocked: bool, at: float) -> None:
        if blocked:
            start = self._last_at if self._last_at is not None else at
            self.book.mark_invalid(start, at)
            if not self.health.blocked:
                logger.warning("%s reports a blocked sensor", self.device_id, extra={"device_id": self.device_id})
            self.health.recent.add(Fault.BLOCKED)
        self.health.blocked = blocked
        self._last_at = at if self._last_at is None else max(self._last_at, at)

    # -- health ---------------------------------------------------------------------------

    def sensor_health(self, *, silent_after_s: float, clock_tolerance_s: float, clear: bool = True) -> SensorHealth:
        """This device's entry in the heartbeat; clears the faults remembered since the last one
        (`clear=False`: a look that leaves them for the heartbeat, as the metrics endpoint takes)."""
        with self._lock:
            h = self.health
            faults = set(h.recent)
            if clear:
                h.recent.clear()
            now = self.clock.now()
            if h.last_seen is None or (now - h.last_seen).total_seconds() > silent_after_s:
                faults.add(Fault.SILENT)
            if h.blocked:
                faults.add(Fault.BLOCKED)
            if not h.connected:
                faults.add(Fault.DISCONNECTED)
            offset = self.sync.offset
            if offset is not None and abs(offset) > clock_tolerance_s:
                faults.add(Fault.CLOCK_DRIFT)
            return SensorHealth(
                sensor_id=self.device_id,
                last_seen=h.last_seen,
                errors=h.errors,
                clock_offset_s=None if offset is None else round(offset, 3),
                faults=sorted(faults, key=lambda f: list(Fault).index(f)),
            )
