"""Every command keeps its name wherever its code lives, and every one refuses bad settings alike."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from footfall.cli import app
from footfall.core.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
EDGE = str(ROOT / "examples" / "edge.yaml")


@pytest.mark.parametrize(
    ("args", "lists"),
    [
        # the benchmarks, registered from footfall.bench
        (["bench", "--help"], ["ingest", "edge", "vision", "api", "models"]),
        # the model lifecycle: backtests are pure (footfall.models), training needs the database (api.forecasts)
        (["models", "--help"], ["backtest", "calit2-csv", "train", "retrain", "list"]),
        (["eval", "--help"], ["counting", "models"]),
        # the simulators' clock and the demo's store simulation share the sim group
        (["sim", "--help"], ["clock", "store"]),
        # the synthetic scene (firmware_stubs) sits with the camera tools
        (["vision", "--help"], ["run", "snapshot", "scene"]),
        # the POS simulator, registered from footfall.demo
        (["pos", "--help"], ["simulate"]),
        # broker credentials stay under edge
        (["edge", "--help"], ["run", "check", "queue", "credentials"]),
        (["edge", "credentials", "--help"], ["add", "remove"]),
        # and the demo at the top
        (["--help"], ["demo", "db", "stores", "ingest", "edge", "api", "users", "receipts"]),
    ],
)
def test_every_command_keeps_its_name(args: list[str], lists: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    for name in lists:
        assert f" {name} " in result.output, f"{name} missing from `footfall {' '.join(args)}`"


@pytest.fixture
def bad_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FOOTFALL_MQTT__PORT", "not-a-port")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("bad_settings")
@pytest.mark.parametrize(
    "args",
    [
        # the edge agent's commands
        ["edge", "run", "--config", EDGE],
        ["edge", "check", "--config", EDGE],
        ["edge", "queue", "--config", EDGE],
        # the rest, for comparison
        ["ingest", "run"],
        ["db", "info"],
        ["api", "openapi"],
        ["bench", "edge"],
    ],
)
def test_invalid_settings_are_named_and_exit_non_zero(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    out = " ".join(result.output.split())
    assert "invalid settings (FOOTFALL_* environment variables)" in out
    assert "mqtt.port" in out
