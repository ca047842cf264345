"""The state machine of one rule × scope: ok → pending → firing → resolved, acknowledged on the side.

`step(state, judgement, now, rule)` is pure: it returns the next state and the
transitions to notify (at most one per call, plus an escalation). The engine persists
the state and writes one outbox message per transition in the same transaction.

- ok / resolved + breach → pending (silent); pending + breach for `for_minutes` → firing.
- A breach that ends before `for_minutes` → back to ok, silently (a blip is no alert).
- firing + clear (past the border by the hysteresis) → resolved. Inside the hysteresis
  band a firing alert stays firing, so a value wobbling around the border does not storm.
- After resolving, the rule may not fire again before `cooldown_minutes` (it stays pending).
- firing, unacknowledged for `escalate_after_minutes` → one `escalated` notification.
- An unknown judgement (outside the schedule, too small a sample, no data) keeps the state.

Example:
    >>> from datetime import UTC, datetime, timedelta
    >>> from footfall.core.alertrules import RuleSpec
    >>> rule = RuleSpec(name="r", metric="visitors", comparator="<", threshold=10, for_minutes=5)
    >>> t0 = datetime(2026, 6, 1, 10, tzinfo=UTC)
    >>> s, out = step(Snapshot(), Judgement.BREACH, t0, rule)
    >>> s.state, out
    (<State.PENDING: 'pending'>, [])
    >>> s, out = step(s, Judgement.BREACH, t0 + timedelta(minutes=5), rule)
    >>> s.state, [t.kind for t in out]
    (<State.FIRING: 'firing'>, [<EventKind.FIRING: 'firing'>])
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from footfall.core.alertrules import RuleSpec


class State(StrEnum):
    """Persisted state of a rule × scope."""

    OK = "ok"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


class EventKind(StrEnum):
    """A notified transition."""

    FIRING = "firing"
    RESOLVED = "resolved"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"


class Judgement(StrEnum):
    """What one evaluation says about the value."""

    BREACH = "breach"
    """In the red zone."""
    HOLD = "hold"
    """Not in the red zone, but inside the hysteresis band."""
    CLEAR = "clear"
    """Out of the red zone by at least the hysteresis."""
    UNKNOWN = "unknown"
    """Not judged: outside the schedule, sample too small, or no data."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The persisted state of a rule × scope (the `alert_states` row)."""

    state: State = State.OK
    since: datetime | None = None
    breach_since: datetime | None = None
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    acked_at: datetime | None = None
    escalated_at: datetime | None = None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class Transition:
    """One notification to send."""

    kind: EventKind
    seq: int
    at: datetime


def judge(rule: RuleSpec, value: float | None, border: float | None) -> Judgement:
    """Turn a value and its border into a judgement (None value or border: unknown)."""
    if value is None or border is None:
        return Judgement.UNKNOWN
    if rule.breaches(value, border):
        return Judgement.BREACH
    if rule.clears(value, border):
        return Judgement.CLEAR
    return Judgement.HOLD


def step(s: Snapshot, judgement: Judgement, now: datetime, rule: RuleSpec) -> tuple[Snapshot, list[Transition]]:
    """Apply one judgement.

    Args:
        s: the state before.
        judgement: what the evaluation at `now` found.
        now: the evaluation instant (engine clock).
        rule: the rule (for `for_minutes`, `cooldown_minutes`, `escalate_after_minutes`).

    Returns:
        The state after, and the transitions to notify (in order).
    """
    out: list[Transition] = []

    def emit(kind: EventKind) -> None:
        nonlocal s
        s = replace(s, seq=s.seq + 1)
        out.append(Transition(kind=kind, seq=s.seq, at=now))

    if judgement is Judgement.UNKNOWN:
        return s, out
    if s.state in (State.OK, State.RESOLVED, State.PENDING):
        if judgement is not Judgement.BREACH:
            if s.state is State.PENDING:
                s = replace(s, state=State.RESOLVED if s.resolved_at else State.OK, since=now, breach_since=None)
            return s, out
        breach_since = s.breach_since if s.state is State.PENDING and s.breach_since else now
        lasted = now - breach_since >= timedelta(minutes=rule.for_minutes)
        cooled = s.resolved_at is None or now - s.resolved_at >= timedelta(minutes=rule.cooldown_minutes)
        if lasted and cooled:
            s = replace(
                s,
                state=State.FIRING,
                since=now,
                breach_since=breach_since,
                fired_at=now,
                acked_at=None,
                escalated_at=None,
            )
            emit(EventKind.FIRING)
        elif s.state is not State.PENDING:
            s = replace(s, state=State.PENDING, since=now, breach_since=breach_since)
        return s, out
    # firing
    if judgement is Judgement.CLEAR:
        s = replace(s, state=State.RESOLVED, since=now, breach_since=None, resolved_at=now)
        emit(EventKind.RESOLVED)
        return s, out
    if (
        rule.escalate_after_minutes is not None
        and s.acked_at is None
        and s.escalated_at is None
        and s.fired_at is not None
        and now - s.fired_at >= timedelta(minutes=rule.escalate_after_minutes)
    ):
        s = replace(s, escalated_at=now)
        emit(EventKind.ESCALATED)
    return s, out
