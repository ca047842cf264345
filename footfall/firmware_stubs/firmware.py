"""What every simulated counter shares: cumulative counters, a boot count, a drifting clock, faults.

`CounterFirmware` behaves like a real counter's core: IN/OUT counters that wrap at
2^bits and restart at zero on reboot, a boot number kept in flash, an uptime, and a
real-time clock that is off by `clock_offset_s` and drifts by `drift_ppm`. A blocked
sensor stops counting. `FaultPlan` scripts what goes wrong and when (seconds after the
simulation's start), and `Timeline` runs a device's events in simulated time.
"""

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from footfall.core.clock import Clock
from footfall.firmware_stubs.traffic import Crossing, Direction, GroundTruth

logger = logging.getLogger(__name__)


class FaultPlan(BaseModel):
    """What goes wrong with one simulated device, in seconds after the simulation starts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reboots_at: list[float] = Field(default_factory=list, description="Restart: counters back to zero, boot + 1.")
    drops_at: list[float] = Field(default_factory=list, description="Drop the connection to the agent.")
    duplicates_at: list[float] = Field(default_factory=list, description="Send the last report twice.")
    garbled_at: list[float] = Field(
        default_factory=list, description="The next report or answer after this is malformed (vendor stubs)."
    )
    blocked: list[tuple[float, float]] = Field(
        default_factory=list, description="Sensor blocked from/to: nothing is counted, reports say BLOCKED."
    )
    clock_offset_s: float = Field(default=0.0, ge=-86_400, le=86_400, description="Device clock minus true time.")
    drift_ppm: float = Field(default=0.0, ge=-100_000, le=100_000, description="Clock drift, parts per million.")
    counter_bits: int = Field(default=32, description="Counter width: 16 or 32.")
    start_in: int = Field(default=0, ge=0, description="IN counter at start (near 2^bits to force a wrap).")
    start_out: int = Field(default=0, ge=0, description="OUT counter at start.")
    boot: int = Field(default=1, ge=0, description="Boot number at start.")


class CounterFirmware:
    """The counting core of a simulated door counter (see the module docstring)."""

    def __init__(self, *, plan: FaultPlan, start: datetime, booted: datetime | None = None) -> None:
        self.plan = plan
        self.start = start
        self.bits = plan.counter_bits
        self.entries = plan.start_in % (1 << self.bits)
        self.exits = plan.start_out % (1 << self.bits)
        self.passersby = 0
        self.boot = plan.boot
        self.booted_at = booted or start - timedelta(hours=5)
        self.truth = GroundTruth()
        """What this device's sensor really saw (crossings while not blocked)."""
        self.missed = GroundTruth()
        """Crossings while the sensor was blocked."""

    def device_time(self, at: datetime) -> datetime:
        """The device's clock reading at true instant `at`."""
        elapsed = (at - self.start).total_seconds()
        return at + timedelta(seconds=self.plan.clock_offset_s + elapsed * self.plan.drift_ppm / 1e6)

    def device_ms(self, at: datetime) -> int:
        """The device's clock reading at `at`, in ms since the epoch."""
        return round(self.device_time(at).timestamp() * 1000)

    def uptime_ms(self, at: datetime) -> int:
        """Milliseconds since the device booted."""
        return max(0, round((at - self.booted_at).total_seconds() * 1000))

    def blocked(self, at: datetime) -> bool:
        """Whether the sensor is blocked at `at`."""
        s = (at - self.start).total_seconds()
        return any(a <= s < b for a, b in self.plan.blocked)

    def register(self, crossing: Crossing) -> bool:
        """A person crossed; returns whether the sensor counted them."""
        if self.blocked(crossing.at):
            self.missed.add(crossing)
            return False
        wrap = 1 << self.bits
        if crossing.direction is Direction.IN:
            self.entries = (self.entries + 1) % wrap
        elif crossing.direction is Direction.OUT:
            self.exits = (self.exits + 1) % wrap
        else:
            self.passersby += 1
        self.truth.add(crossing)
        return True

    def reboot(self, at: datetime) -> None:
        """Restart: counters to zero, boot number up, uptime from zero."""
        self.boot += 1
        self.entries = self.exits = self.passersby = 0
        self.booted_at = at


@dataclass(order=True)
class _Event:
    at: datetime
    order: int
    action: Callable[[datetime], None] = field(compare=False)


class Timeline:
    """Runs timed actions in simulated time, in order, on one thread."""

    def __init__(self, clock: Clock, *, name: str) -> None:
        self.clock = clock
        self.name = name
        self._events: list[_Event] = []
        self._order = itertools.count()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.done = threading.Event()

    def at(self, when: datetime, action: Callable[[datetime], None]) -> None:
        """Run `action(when)` once the clock reaches `when`."""
        heapq.heappush(self._events, _Event(when, next(self._order), action))

    def every(self, first: datetime, period_s: float, until: datetime, action: Callable[[datetime], None]) -> None:
        """Run `action` every `period_s` from `first` until `until`."""
        t = first
        while t < until:
            self.at(t, action)
            t += timedelta(seconds=period_s)

    def faults(
        self,
        plan: FaultPlan,
        start: datetime,
        *,
        reboot: Callable[[datetime], None],
        drop: Callable[[], None],
        duplicate: Callable[[], None],
    ) -> None:
        """Schedule what goes wrong with a device: its plan's reboots, drops and duplicates.

        Args:
            plan: the device's faults, in seconds after `start`.
            start: the simulation's first instant.
            reboot: restarts the device at the instant it is given.
            drop: drops the connection to the agent.
            duplicate: sends the last report again.
        """
        for s in plan.reboots_at:
            self.at(start + timedelta(seconds=s), reboot)
        for s in plan.drops_at:
            self.at(start + timedelta(seconds=s), lambda _at: drop())
        for s in plan.duplicates_at:
            self.at(start + timedelta(seconds=s), lambda _at: duplicate())

    def start(self) -> None:
        """Run the events in a background thread."""
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current event."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while self._events and not self._stop.is_set():
                ev = self._events[0]
                wait = (ev.at - self.clock.now()).total_seconds()
                if wait > 0:
                    self.clock.wait(self._stop, min(wait, 1.0))
                    continue
                heapq.heappop(self._events)
                try:
                    ev.action(ev.at)
                except Exception:
                    logger.exception("%s: simulated event failed", self.name)
        finally:
            self.done.set()
