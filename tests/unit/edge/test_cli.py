"""The edge and sim commands: validation before anything starts, errors that name the fix."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from footfall.cli import app
from footfall.core.clock import ScaledClock

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        # the example is valid
        ((ROOT / "examples" / "edge.yaml").read_text(), 0, "valid"),
        # a field that does not exist stops everything and is named
        ("store_id: s\ndevice_id: s-edge\nqueue: {batch_size: 3}\n", 1, "queue.batch_size"),
        # a password file that is not there is named
        ("store_id: s\ndevice_id: s-edge\nmqtt: {password_file: missing-pw}\n", 1, "missing-pw"),
    ],
)
def test_edge_check(tmp_path: Path, text: str, code: int, says: str) -> None:
    path = tmp_path / "edge.yaml"
    path.write_text(text.replace("store_file: store.yaml", f"store_file: {ROOT / 'examples' / 'store.yaml'}"))
    result = CliRunner().invoke(app, ["edge", "check", "--config", str(path)])
    assert result.exit_code == code, result.output
    assert says in "".join(result.output.split())  # the console wraps long paths anywhere


def test_sim_clock_prints_a_spec_both_sides_can_share() -> None:
    result = CliRunner().invoke(app, ["sim", "clock", "--speed", "60", "--start", "2026-03-29T10:00:00+00:00"])
    assert result.exit_code == 0, result.output
    clock = ScaledClock.from_spec(result.output.strip())
    assert clock.speed == 60
    assert clock.start.isoformat() == "2026-03-29T10:00:00+00:00"
