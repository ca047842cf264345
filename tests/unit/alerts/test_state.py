"""The alert state machine, one judgement sequence per row."""

from datetime import UTC, datetime, timedelta

import pytest

from footfall.alerts.state import Judgement, Snapshot, State, judge, step
from footfall.core.alertrules import RuleSpec

B, H, C, U = Judgement.BREACH, Judgement.HOLD, Judgement.CLEAR, Judgement.UNKNOWN
T0 = datetime(2026, 6, 3, 8, tzinfo=UTC)


def run(rule: RuleSpec, judgements: list[Judgement]) -> tuple[State, list[str]]:
    s, out = Snapshot(), []
    for i, j in enumerate(judgements):
        s, ts = step(s, j, T0 + timedelta(minutes=i), rule)
        out += [t.kind.value for t in ts]
    return s.state, out


def rule(**kw) -> RuleSpec:
    return RuleSpec(name="r", metric="visitors", comparator="<", threshold=10, **kw)


@pytest.mark.parametrize(
    ("kw", "judgements", "state", "notified"),
    [
        ({}, [B], State.FIRING, ["firing"]),  # no minimum duration: fires at once
        ({}, [B, B, B], State.FIRING, ["firing"]),  # one notification per transition
        ({}, [B, C], State.RESOLVED, ["firing", "resolved"]),  # resolves once
        ({}, [B, H, H], State.FIRING, ["firing"]),  # inside the hysteresis band: still firing
        ({"for_minutes": 3}, [B, B, B], State.PENDING, []),  # not long enough yet
        ({"for_minutes": 3}, [B, B, B, B], State.FIRING, ["firing"]),  # 3 minutes of breach
        ({"for_minutes": 3}, [B, B, H, B, B], State.PENDING, []),  # interrupted breach starts over
        ({}, [U, U], State.OK, []),  # never judged
        ({}, [B, U, U], State.FIRING, ["firing"]),  # unknown keeps the state
        ({"cooldown_minutes": 5}, [B, C, B, B], State.PENDING, ["firing", "resolved"]),  # cooling down
        ({"cooldown_minutes": 2}, [B, C, B, B, B], State.FIRING, ["firing", "resolved", "firing"]),  # cooled
        ({"escalate_after_minutes": 2}, [B, B, B, B], State.FIRING, ["firing", "escalated"]),  # escalates once
        ({"escalate_after_minutes": 2}, [B, B, B, C], State.RESOLVED, ["firing", "escalated", "resolved"]),
    ],
)
def test_state_machine(kw: dict, judgements: list[Judgement], state: State, notified: list[str]) -> None:
    assert run(rule(**kw), judgements) == (state, notified)


@pytest.mark.parametrize(
    ("comparator", "hysteresis", "value", "expected"),
    [
        ("<", 0, 9.9, B),  # under the border
        ("<", 0, 10, C),  # on the border is not under it
        ("<=", 0, 10, B),  # … unless the comparator includes it
        ("<", 2, 11, H),  # above, but not by the hysteresis
        ("<", 2, 12, C),  # back by the hysteresis
        (">", 2, 9, H),  # the other direction
        (">", 2, 8, C),
        (">", 0, 10.1, B),
        ("<", 0, None, U),  # no value
    ],
)
def test_judge(comparator: str, hysteresis: float, value: float | None, expected: Judgement) -> None:
    r = RuleSpec(name="r", metric="visitors", comparator=comparator, threshold=10, hysteresis=hysteresis)
    assert judge(r, value, 10) is expected
