"""Clocks that can be injected: the system clock, and simulated clocks for tests and demos.

Edge drivers, the agent and the firmware stubs never call `datetime.now()` or
`time.sleep()` themselves: they take a `Clock`. In production it is `SystemClock`; tests
run minutes of device time in seconds with a `ScaledClock` (simulated time runs `speed`
times faster than real time, and separate processes built from the same `spec()` agree
on it), or step time by hand with a `ManualClock`.

Example:
    >>> from datetime import datetime, UTC
    >>> clock = ManualClock(datetime(2026, 3, 29, 10, tzinfo=UTC))
    >>> clock.advance(90)
    >>> clock.now().isoformat()
    '2026-03-29T10:01:30+00:00'
"""

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from footfall.core.errors import ConfigError


class Clock(Protocol):
    """Where time comes from."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for intervals and timeouts)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for `seconds` of this clock's time."""
        ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Block until `event` is set or `seconds` of this clock's time passed; returns `event.is_set()`."""
        ...

    def real_seconds(self, seconds: float) -> float:
        """How many real seconds `seconds` of this clock's time take (for socket timeouts)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current instant, UTC."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """`time.monotonic()`."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """`time.sleep()`."""
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """`event.wait(seconds)`."""
        return event.wait(max(0.0, seconds))

    def real_seconds(self, seconds: float) -> float:
        """Real time is this clock's time."""
        return seconds


class ScaledClock:
    """Simulated time that runs `speed` times faster than real time from `start`.

    Simulated time is `start + (time.time() - epoch) × speed`, so every process built from
    the same `spec()` string reads the same simulated instant.

    Example:
        >>> c = ScaledClock(datetime(2026, 3, 29, 10, tzinfo=UTC), speed=60)
        >>> ScaledClock.from_spec(c.spec()).now() >= c.start
        True
    """

    def __init__(self, start: datetime, *, speed: float, epoch: float | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if not 0 < speed <= 100_000:
            raise ValueError(f"speed must be in (0, 100000], not {speed}")
        self.start = start.astimezone(UTC)
        self.speed = float(speed)
        self.epoch = time.time() if epoch is None else float(epoch)

    def spec(self) -> str:
        """A string another process turns into the same clock with `from_spec` (`start@epoch*speed`)."""
        return f"{self.start.isoformat()}@{self.epoch!r}*{self.speed!r}"

    @classmethod
    def from_spec(cls, spec: str) -> "ScaledClock":
        """Parse `spec()` output.

        Raises:
            ConfigError: the string is not `ISO-START@EPOCH*SPEED`.
        """
        try:
            start_s, rest = spec.split("@", 1)
            epoch_s, speed_s = rest.split("*", 1)
            return cls(datetime.fromisoformat(start_s), speed=float(speed_s), epoch=float(epoch_s))
        except ValueError as exc:
            raise ConfigError(f"simulated clock {spec!r}: expected ISO-START@EPOCH*SPEED ({exc})") from None

    def now(self) -> datetime:
        """The simulated instant."""
        return self.start + timedelta(seconds=(time.time() - self.epoch) * self.speed)

    def monotonic(self) -> float:
        """Simulated seconds since `epoch` (real time is assumed not to jump during a test)."""
        return (time.time() - self.epoch) * self.speed

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of simulated time."""
        if seconds > 0:
            time.sleep(seconds / self.speed)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Wait for `event` at most `seconds` of simulated time."""
        return event.wait(max(0.0, seconds / self.speed))

    def real_seconds(self, seconds: float) -> float:
        """Simulated seconds → real seconds."""
        return seconds / self.speed


class ManualClock:
    """Time that moves only when `advance()` or `set()` is called; sleepers wake as it passes."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start.astimezone(UTC)
        self._mono = 0.0
        self._cond = threading.Condition()

    def now(self) -> datetime:
        """The current manual instant."""
        with self._cond:
            return self._now

    def monotonic(self) -> float:
        """Seconds advanced since creation."""
        with self._cond:
            return self._mono

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline passed."""
        if seconds < 0:
            raise ValueError("a manual clock does not go backwards")
        with self._cond:
            self._now += timedelta(seconds=seconds)
            self._mono += seconds
            self._cond.notify_all()

    def set(self, instant: datetime) -> None:
        """Jump to `instant` (not earlier than now)."""
        self.advance((instant - self.now()).total_seconds())

    def sleep(self, seconds: float) -> None:
        """Block until the clock has advanced `seconds`."""
        with self._cond:
            deadline = self._mono + seconds
            while self._mono < deadline:
                self._cond.wait(0.05)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Block until `event` is set or the clock advanced `seconds`."""
        with self._cond:
            deadline = self._mono + seconds
            while self._mono < deadline and not event.is_set():
                self._cond.wait(0.01)
        return event.is_set()

    def real_seconds(self, seconds: float) -> float:
        """Manual time has no real-time rate; socket timeouts use a short real interval."""
        return min(seconds, 0.2)


def clock_from_spec(spec: str | None) -> Clock:
    """`SystemClock` for None or empty, else a `ScaledClock` from its spec string."""
    if not spec:
        return SystemClock()
    return ScaledClock.from_spec(spec)
