"""From what a door counter reports to per-minute deltas: the pure part of every counter driver.

Three small tools, each with one verb and a state that serialises to JSON (the agent
saves it in the outbox database in the same transaction as the readings it produced, so
a killed agent resumes exactly where it stopped):

- `CumulativeCounter.update(sample)` turns cumulative device counters into deltas,
  handling duplicated and stale reports, reboots (counters restart at zero) and
  wrap-around of 16- or 32-bit counters.
- `ClockSync` estimates the device clock's offset from the agent clock (which is the
  reference) and maps device timestamps to agent time, following drift.
- `MinuteBook` places deltas in per-minute tallies per door and emits each minute as a
  `CountsReading` once the device has reported past its end.

The minute rule (what the ingest's natural key `(device_id, door_id, start)` needs):
a minute is emitted exactly once, when the device's corrected report time (its
*watermark*) has passed the minute's end. Reports are in order per device, so nothing
more can arrive for it. A report that still lands in an emitted minute (a device that
sent out of order, or whose clock jumped back) is *late*: its counts are folded into the
earliest minute not yet emitted, so totals stay exact and no minute is ever sent twice
with different values. Minutes the device did not observe at all (it was off, or its
history was lost) are not emitted; minutes it observed only in part carry
`valid=False`, as do minutes in which the device reported a blocked sensor.
"""

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from footfall.core.messages import MAX_COUNT, CountsReading

MINUTE = 60.0


def _ts(value: datetime) -> float:
    return value.timestamp()


def _dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def minute_floor(value: float) -> float:
    """Start (epoch seconds) of the UTC minute that holds `value`."""
    return math.floor(value / MINUTE) * MINUTE


class Change(StrEnum):
    """How a report relates to the previous one."""

    FIRST = "first"
    """The first report ever seen: a baseline, no delta."""
    NORMAL = "normal"
    DUPLICATE = "duplicate"
    """The same report again (or an older one): ignored."""
    REBOOT = "reboot"
    """The device restarted and its counters restarted at zero."""
    WRAP = "wrap"
    """A counter passed its largest value and started again at zero."""
    RESET = "reset"
    """A counter went down without a reboot and not by wrapping (cleared by hand)."""


@dataclass(frozen=True, slots=True)
class CounterSample:
    """One report of cumulative counters.

    Attributes:
        values: counter name → cumulative value (e.g. `{"in": 1042, "out": 1017}`).
        boot: the device's boot number, when it reports one (increments on each restart).
        uptime_ms: milliseconds since the device booted, when it reports it.
    """

    values: dict[str, int]
    boot: int | None = None
    uptime_ms: int | None = None


@dataclass(slots=True)
class Delta:
    """What changed since the previous report."""

    change: Change
    values: dict[str, int] = field(default_factory=dict)

    @property
    def counted(self) -> bool:
        """Whether the report carried new counts (not first, not a duplicate)."""
        return self.change not in (Change.FIRST, Change.DUPLICATE)


class CumulativeCounter:
    """Cumulative device counters → deltas, surviving reboots, wrap-around and duplicates.

    Ordering: reports are ordered by `(boot, uptime_ms)` when the device sends them. A
    report not after the last one is a duplicate or stale and is ignored (cumulative
    counters make that safe: nothing is lost, the next report carries the total). Without
    a boot number an uptime that went backwards means a reboot. Within one boot a counter
    that went down wrapped if the wrapped step is plausible (at most `max_step`), and was
    otherwise cleared by hand (its new value is the delta).

    Example:
        >>> c = CumulativeCounter(bits=16)
        >>> c.update(CounterSample({"in": 65530}, boot=1, uptime_ms=1000)).change
        <Change.FIRST: 'first'>
        >>> c.update(CounterSample({"in": 4}, boot=1, uptime_ms=2000)).values
        {'in': 10}
    """

    def __init__(self, *, bits: int = 32, max_step: int = 100_000) -> None:
        if bits not in (16, 32, 64):
            raise ValueError(f"counter width must be 16, 32 or 64 bits, not {bits}")
        self.bits = bits
        self.max_step = max_step
        self.boot: int | None = None
        self.uptime_ms: int | None = None
        self.values: dict[str, int] | None = None

    def _check(self, sample: CounterSample) -> None:
        limit = 1 << self.bits
        for name, value in sample.values.items():
            if not 0 <= value < limit:
                raise ValueError(f"counter {name}={value} does not fit in {self.bits} bits")

    def _is_stale(self, sample: CounterSample) -> bool:
        if sample.boot is not None and self.boot is not None:
            if sample.boot < self.boot:
                return True
            if sample.boot > self.boot:
                return False
        if sample.uptime_ms is not None and self.uptime_ms is not None:
            if sample.boot is None and sample.uptime_ms < self.uptime_ms:
                return False  # no boot number: uptime going back is a reboot, handled below
            if sample.uptime_ms < self.uptime_ms:
                return True
            if sample.uptime_ms == self.uptime_ms:
                return sample.values == self.values
        return sample.boot is None and sample.uptime_ms is None and sample.values == self.values

    def _rebooted(self, sample: CounterSample) -> bool:
        if sample.boot is not None and self.boot is not None:
            return sample.boot > self.boot
        return sample.uptime_ms is not None and self.uptime_ms is not None and sample.uptime_ms < self.uptime_ms

    def update(self, sample: CounterSample) -> Delta:
        """Take a report and return what it adds.

        Raises:
            ValueError: a counter is negative or wider than the configured width.
        """
        self._check(sample)
        if self.values is None:
            self._take(sample)
            return Delta(Change.FIRST)
        if self._is_stale(sample):
            return Delta(Change.DUPLICATE)
        if self._rebooted(sample):
            delta = Delta(Change.REBOOT, dict(sample.values))
            self._take(sample)
            return delta
        change = Change.NORMAL
        values: dict[str, int] = {}
        wrap = 1 << self.bits
        for name, new in sample.values.items():
            old = self.values.get(name)
            if old is None:
                values[name] = 0  # a counter the device just started reporting: its baseline
            elif new >= old:
                values[name] = new - old
            elif new + wrap - old <= self.max_step:
                values[name] = new + wrap - old
                change = Change.WRAP if change is Change.NORMAL else change
            else:
                values[name] = new
                change = Change.RESET
        self._take(sample)
        return Delta(change, values)

    def _take(self, sample: CounterSample) -> None:
        self.values = dict(sample.values)
        if sample.boot is not None:
            self.boot = sample.boot
        self.uptime_ms = sample.uptime_ms

    def state(self) -> dict[str, Any]:
        """JSON-ready state (a copy: later reports do not change it)."""
        return {
            "boot": self.boot,
            "uptime_ms": self.uptime_ms,
            "values": None if self.values is None else dict(self.values),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load what `state()` returned."""
        self.boot = state.get("boot")
        self.uptime_ms = state.get("uptime_ms")
        self.values = state.get("values")


class ClockSync:
    """Device clock minus agent clock, estimated from timestamped reports, following drift.

    Two kinds of samples:

    - one-way (`observe`): a report stamped `device_ts` by the device and received at
      `received` by the agent. Transit takes time, so `device_ts - received` is a lower
      bound of the offset; the largest bound seen in a bucket is the estimate.
    - round trip (`observe_round_trip`): the agent asks at `sent`, the device answers with
      its time, the agent receives at `received`; the offset is within half the round
      trip of `device_ts - (sent + received) / 2`. The shortest round trip in a bucket wins.

    One anchor `(agent time, offset)` is kept per `bucket_s` of agent time, for
    `keep_s`; device timestamps are mapped through the offset interpolated between
    anchors, so a report buffered on the device during an outage is corrected with the
    offset of its own time, not today's.

    Example:
        >>> from datetime import timedelta
        >>> s = ClockSync()
        >>> t = datetime(2026, 3, 29, 10, tzinfo=UTC)
        >>> s.observe(device_ts=t + timedelta(seconds=42), received=t)
        >>> s.to_agent(t + timedelta(seconds=102)).isoformat()
        '2026-03-29T10:01:00+00:00'
    """

    def __init__(self, *, bucket_s: float = 60.0, keep_s: float = 24 * 3600.0, late_s: float = 2.0) -> None:
        self.bucket_s = bucket_s
        self.keep_s = keep_s
        self.late_s = late_s
        # bucket start → [anchor agent time, offset, quality]; quality: bigger is better
        self._anchors: dict[float, list[float]] = {}
        # One-way samples far below the estimate: (received, bound), since the last good one.
        self._low: list[tuple[float, float]] = []

    @property
    def known(self) -> bool:
        """Whether any sample was taken."""
        return bool(self._anchors)

    def _put(self, at: float, offset: float, quality: float) -> None:
        bucket = math.floor(at / self.bucket_s) * self.bucket_s
        cur = self._anchors.get(bucket)
        if cur is None or quality > cur[2]:
            self._anchors[bucket] = [at, offset, quality]
        if len(self._anchors) > 1:
            newest = max(self._anchors)
            for b in [b for b in self._anchors if b < newest - self.keep_s]:
                del self._anchors[b]

    def observe(self, *, device_ts: datetime, received: datetime) -> None:
        """A one-way sample: the device stamped `device_ts`, the agent received it at `received`.

        A sample more than `late_s` below the current estimate was most likely delivered
        late (queued by a broker while the agent was away), not a clock that stepped back:
        it is set aside. Only when such samples keep coming for two buckets with no good
        one in between is the step believed.
        """
        at = _ts(received)
        bound = _ts(device_ts) - at
        current = self.offset
        if current is not None and bound < current - self.late_s:
            self._low.append((at, bound))
            if self._low[-1][0] - self._low[0][0] < 2 * self.bucket_s:
                return
            recent = [b for t, b in self._low if t >= at - self.bucket_s]
            self._low.clear()
            self._anchors.clear()  # the clock really stepped back: forget the old offset
            self._put(at, max(recent), max(recent))
            return
        self._low.clear()
        # Quality of a lower bound is the bound itself: a larger one had less transit time.
        self._put(at, bound, bound)

    def observe_round_trip(self, *, sent: datetime, device_ts: datetime, received: datetime) -> None:
        """A two-way sample (ping/pong)."""
        s, r = _ts(sent), _ts(received)
        if r < s:
            return
        mid = (s + r) / 2
        self._put(mid, _ts(device_ts) - mid, 1e9 - (r - s))  # shorter round trip is better

    def offset_at(self, at: float) -> float:
        """Offset (seconds, device − agent) at agent time `at` (epoch seconds)."""
        if not self._anchors:
            return 0.0
        pts = sorted(v[:2] for v in self._anchors.values())
        if at <= pts[0][0]:
            return pts[0][1]
        if at >= pts[-1][0]:
            return pts[-1][1]
        for (t0, o0), (t1, o1) in itertools.pairwise(pts):
            if t0 <= at <= t1:
                return o0 if t1 == t0 else o0 + (o1 - o0) * (at - t0) / (t1 - t0)
        return pts[-1][1]  # pragma: no cover - the loop covers every case

    @property
    def offset(self) -> float | None:
        """The latest offset estimate in seconds, or None before any sample."""
        if not self._anchors:
            return None
        return self._anchors[max(self._anchors)][1]

    def to_agent_ts(self, device_ts: float) -> float:
        """Map a device timestamp (epoch seconds) to agent time (epoch seconds)."""
        guess = device_ts - self.offset_at(device_ts - (self.offset or 0.0))
        return device_ts - self.offset_at(guess)

    def to_agent(self, device_ts: datetime) -> datetime:
        """Map a device timestamp to agent time."""
        return _dt(self.to_agent_ts(_ts(device_ts)))

    def state(self) -> dict[str, Any]:
        """JSON-ready state (a copy: later samples do not change it)."""
        return {"anchors": [[b, *v] for b, v in sorted(self._anchors.items())]}

    def restore(self, state: dict[str, Any]) -> None:
        """Load what `state()` returned."""
        self._anchors = {a[0]: list(a[1:]) for a in state.get("anchors", [])}


@dataclass(slots=True)
class _Tally:
    entries: int = 0
    exits: int = 0
    passersby: int = 0
    valid: bool = True

    def to_list(self) -> list[Any]:
        return [self.entries, self.exits, self.passersby, self.valid]


class MinuteBook:
    """Per-minute, per-door tallies for one device, emitted once the device reported past them.

    Args:
        doors: the doors this device counts; every emitted minute has a reading for each.
        passersby_doors: doors for which the device also counts passers-by (their readings
            carry `passersby`, zero included; the others carry None).
        settle_s: how far past a minute's end the watermark must be before it is emitted
            (absorbs the clock estimate's jitter).
        gap_s: reports further apart than this leave the time between them unobserved.

    Example:
        >>> b = MinuteBook(["main"])
        >>> t = datetime(2026, 3, 29, 10, 0, 5, tzinfo=UTC).timestamp()
        >>> b.observe(t)  # first contact
        >>> b.add("main", t + 10, entries=2)
        True
        >>> b.observe(t + 61)
        >>> [(r.start.minute, r.entries, r.valid) for r in b.close()]
        [(0, 2, False)]
    """

    def __init__(
        self,
        doors: Iterable[str],
        *,
        passersby_doors: Iterable[str] = (),
        settle_s: float = 1.0,
        gap_s: float = 120.0,
    ) -> None:
        self.doors = list(dict.fromkeys(doors))
        if not self.doors:
            raise ValueError("a minute book needs at least one door")
        self.passersby_doors = set(passersby_doors)
        self.settle_s = settle_s
        self.gap_s = gap_s
        self.next_minute: float | None = None
        """Start of the first minute not yet emitted."""
        self.watermark: float | None = None
        """Agent time up to which the device has reported."""
        self._open: dict[float, dict[str, _Tally]] = {}
        self._unobserved: list[tuple[float, float]] = []
        self.late = 0
        """Reports folded into a later minute because theirs was already emitted."""

    def _tally(self, minute: float, door: str) -> _Tally:
        return self._open.setdefault(minute, {}).setdefault(door, _Tally())

    def observe(self, at: float) -> None:
        """The device reported at agent time `at` (epoch s): it has been observed up to then."""
        if self.watermark is None:
            # First contact: what happened earlier in this minute is in the device's baseline.
            self._unobserved.append((-math.inf, at))
            self.next_minute = minute_floor(at)
            self.watermark = at
            return
        if at <= self.watermark:
            return
        if at - self.watermark > self.gap_s:
            self._unobserved.append((self.watermark, at))
        self.watermark = at

    def add(
        self,
        door: str,
        at: float,
        *,
        entries: int = 0,
        exits: int = 0,
        passersby: int = 0,
    ) -> bool:
        """Count people at agent time `at` (epoch s); returns False when the minute was late.

        Raises:
            ValueError: `door` is not one of this book's doors.
        """
        if door not in self.doors:
            raise ValueError(f"door {door!r} is not counted by this device (doors: {', '.join(self.doors)})")
        if self.next_minute is None:
            self.observe(at)
        minute = minute_floor(at)
        late = minute < (self.next_minute or minute)
        if late:
            minute = self.next_minute or minute
            self.late += 1
        t = self._tally(minute, door)
        t.entries += entries
        t.exits += exits
        t.passersby += passersby
        return not late

    def mark_invalid(self, start: float, end: float) -> None:
        """Flag every minute overlapping `[start, end]` (agent time) as invalid (e.g. blocked sensor)."""
        floor = self.next_minute if self.next_minute is not None else minute_floor(start)
        m = max(minute_floor(start), floor)
        while m <= end:
            for door in self.doors:
                self._tally(m, door).valid = False
            m += MINUTE

    def close(self) -> list[CountsReading]:
        """Emit every minute that ended before the watermark (minus `settle_s`), in order."""
        out: list[CountsReading] = []
        if self.watermark is None or self.next_minute is None:
            return out
        limit = self.watermark - self.settle_s
        m = self.next_minute
        while m + MINUTE <= limit:
            # Step over long unobserved stretches at once (a device back after days away),
            # but never over a minute that holds counts.
            skip = self._skip_to(m)
            if skip > m:
                held = min((k for k in self._open if k >= m), default=math.inf)
                target = min(skip, held, minute_floor(limit))
                if target > m:
                    m = target
                    continue
            out.extend(self._emit(m))
            m += MINUTE
        self.next_minute = m
        self._unobserved = [(a, b) for a, b in self._unobserved if b > m]
        return out

    def _skip_to(self, m: float) -> float:
        for a, b in self._unobserved:
            if a <= m and m + MINUTE <= b:
                return minute_floor(b)
        return m

    def _coverage(self, m: float) -> str:
        end = m + MINUTE
        for a, b in self._unobserved:
            if a <= m and end <= b:
                return "none"
            if a < end and b > m:
                return "part"
        return "full"

    def _emit(self, m: float) -> list[CountsReading]:
        tallies = self._open.pop(m, {})
        coverage = self._coverage(m)
        if coverage == "none" and not tallies:
            return []
        out = []
        for door in self.doors:
            t = tallies.get(door, _Tally())
            out.append(
                CountsReading(
                    start=_dt(m),
                    end=_dt(m + MINUTE),
                    door_id=door,
                    entries=min(t.entries, MAX_COUNT),
                    exits=min(t.exits, MAX_COUNT),
                    passersby=min(t.passersby, MAX_COUNT) if door in self.passersby_doors else None,
                    valid=t.valid and coverage == "full",
                )
            )
        return out

    @property
    def pending(self) -> dict[str, int]:
        """Entries and exits counted but not emitted yet (for tests and the heartbeat)."""
        return {
            "entries": sum(t.entries for d in self._open.values() for t in d.values()),
            "exits": sum(t.exits for d in self._open.values() for t in d.values()),
        }

    def state(self) -> dict[str, Any]:
        """JSON-ready state (a copy: later counts do not change it)."""
        return {
            "next_minute": self.next_minute,
            "watermark": self.watermark,
            "late": self.late,
            "open": {str(m): {d: t.to_list() for d, t in doors.items()} for m, doors in self._open.items()},
            "unobserved": [[a if math.isfinite(a) else None, b] for a, b in self._unobserved],
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load what `state()` returned."""
        self.next_minute = state.get("next_minute")
        self.watermark = state.get("watermark")
        self.late = state.get("late", 0)
        self._open = {float(m): {d: _Tally(*v) for d, v in doors.items()} for m, doors in state.get("open", {}).items()}
        self._unobserved = [(-math.inf if a is None else a, b) for a, b in state.get("unobserved", [])]
