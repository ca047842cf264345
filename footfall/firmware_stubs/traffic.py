"""Scripted streams of people with known ground truth, for driving simulated counters.

A `TrafficScript` is a sorted list of `Crossing`s (a person entering, leaving, or
walking past a door at an instant). Simulated counters register the crossings they see
(a blocked sensor sees none) and keep their own `GroundTruth`: per door and UTC minute,
what a perfect device would have reported.

Crossings are kept `margin_s` away from minute boundaries by default: an agent places a
count in a minute through a corrected device clock, which is exact only up to its
clock-sync error, so a crossing 5 ms before a minute's end is legitimately ambiguous.
"""

import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class Direction(StrEnum):
    """What a person did at the door."""

    IN = "in"
    OUT = "out"
    PAST = "past"
    """Walked past outside (counted by outward-facing sensors as passers-by)."""


@dataclass(frozen=True, slots=True, order=True)
class Crossing:
    """One person at one door at one instant."""

    at: datetime
    door: str
    direction: Direction


def minute_of(at: datetime) -> datetime:
    """The UTC minute that holds `at`."""
    return at.astimezone(UTC).replace(second=0, microsecond=0)


@dataclass
class GroundTruth:
    """Per (door, minute): entries, exits and passers-by that were really there to count."""

    counts: dict[tuple[str, datetime], list[int]] = field(default_factory=dict)

    def add(self, crossing: Crossing) -> None:
        """Count one crossing."""
        row = self.counts.setdefault((crossing.door, minute_of(crossing.at)), [0, 0, 0])
        row[["in", "out", "past"].index(crossing.direction.value)] += 1

    def merge(self, other: "GroundTruth") -> "GroundTruth":
        """The sum of two truths."""
        out = GroundTruth({k: list(v) for k, v in self.counts.items()})
        for k, v in other.counts.items():
            row = out.counts.setdefault(k, [0, 0, 0])
            for i in range(3):
                row[i] += v[i]
        return out

    def minus(self, other: "GroundTruth") -> "GroundTruth":
        """What is in this truth and not in `other` (a part of it, e.g. what a counter's baseline held)."""
        out = GroundTruth({k: list(v) for k, v in self.counts.items()})
        for k, v in other.counts.items():
            row = out.counts.setdefault(k, [0, 0, 0])
            for i in range(3):
                row[i] -= v[i]
                if row[i] < 0:
                    raise ValueError(f"{k}: cannot take away more than there is")
        return out

    def totals(self) -> dict[str, int]:
        """Entries, exits and passers-by over everything."""
        return {
            "entries": sum(v[0] for v in self.counts.values()),
            "exits": sum(v[1] for v in self.counts.values()),
            "passersby": sum(v[2] for v in self.counts.values()),
        }

    def per_minute(self) -> dict[tuple[str, datetime], tuple[int, int, int]]:
        """(door, minute) → (entries, exits, passers-by), rows with any count only."""
        return {k: (v[0], v[1], v[2]) for k, v in sorted(self.counts.items()) if any(v)}

    def to_json(self) -> list[dict]:
        """A JSON-ready list, one object per door and minute."""
        return [
            {"door": d, "minute": m.isoformat(), "entries": e, "exits": x, "passersby": p}
            for (d, m), (e, x, p) in self.per_minute().items()
        ]


@dataclass(frozen=True)
class TrafficScript:
    """People at doors over a stretch of time, sorted by instant."""

    crossings: tuple[Crossing, ...]

    @classmethod
    def generate(
        cls,
        *,
        start: datetime,
        minutes: float,
        rates: Mapping[str, float],
        passersby_rates: Mapping[str, float] | None = None,
        seed: int = 0,
        margin_s: float = 2.0,
        open_at: Mapping[str, Callable[[datetime], bool]] | None = None,
    ) -> "TrafficScript":
        """Random traffic: Poisson arrivals per door, each person later leaving by the same door.

        Args:
            start: first instant.
            minutes: how long.
            rates: door → people arriving per minute.
            passersby_rates: door → people walking past per minute.
            seed: the random seed (same seed, same script).
            margin_s: no crossing within this many seconds of a minute boundary.
            open_at: door → whether people arrive at an instant (customer doors follow the
                store's opening hours; doors not listed, like staff doors, always take people).
        """
        rng = random.Random(seed)
        end = start + timedelta(minutes=minutes)
        out: list[Crossing] = []

        def instants(rate: float) -> Iterable[datetime]:
            if rate <= 0:
                return
            t = start
            while True:
                t += timedelta(seconds=rng.expovariate(rate / 60.0))
                if t >= end:
                    return
                yield _keep_off_boundary(t, margin_s)

        for door, rate in rates.items():
            gate = (open_at or {}).get(door)
            for t in instants(rate):
                if gate is not None and not gate(t):
                    continue
                out.append(Crossing(t, door, Direction.IN))
                leave = t + timedelta(seconds=rng.uniform(30, 600))
                if leave < end:
                    out.append(Crossing(_keep_off_boundary(leave, margin_s), door, Direction.OUT))
        for door, rate in (passersby_rates or {}).items():
            out.extend(Crossing(t, door, Direction.PAST) for t in instants(rate))
        return cls(tuple(sorted(c for c in out if c.at < end)))

    def for_doors(self, doors: Iterable[str]) -> "TrafficScript":
        """Only the crossings at these doors."""
        keep = set(doors)
        return TrafficScript(tuple(c for c in self.crossings if c.door in keep))

    def truth(self) -> GroundTruth:
        """What a perfect counter at every door would report."""
        t = GroundTruth()
        for c in self.crossings:
            t.add(c)
        return t


def _keep_off_boundary(t: datetime, margin_s: float) -> datetime:
    if margin_s <= 0:
        return t
    sec = t.second + t.microsecond / 1e6
    if sec < margin_s:
        return t.replace(second=math.ceil(margin_s) % 60, microsecond=0) if margin_s < 60 else t
    if sec > 60 - margin_s:
        return t.replace(second=max(0, math.floor(60 - margin_s) - 1), microsecond=500_000)
    return t
