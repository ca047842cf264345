"""`footfall models backtest` on files: JSON out, and errors that name the file, line and fix."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from footfall.cli import app

from .conftest import make_series
from .test_backtest import _csv


@pytest.fixture
def counts(tmp_path: Path) -> Path:
    path = tmp_path / "counts.csv"
    path.write_text(_csv(make_series(6, seed=2), "shop"), encoding="utf-8")
    return path


def test_backtest_prints_the_scores_as_json(counts: Path) -> None:
    result = CliRunner().invoke(app, ["models", "backtest", "--csv", str(counts), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(out) >= {"mase", "coverage_80", "sites", "horizon_h", "per_site"}
    assert out["sites"] == 1
    assert out["per_site"][0]["site"] == "shop"


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "cannot read"),  # no such file
        ("timestamp,store,entries\n", [], "no column site"),  # the wrong header
        ("timestamp,site,entries\n2026-01-01T00:00Z,a,1\n2026-01-01T01:00Z,a,1\n", [], "no site has 28 days"),
        ("ok", ["--timezone", "Mars/Olympus"], "unknown time zone"),
    ],
)
def test_backtest_errors_name_the_fix(tmp_path: Path, content, args, message) -> None:
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(app, ["models", "backtest", "--csv", str(path), *args])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())


def test_a_site_too_short_to_score_is_listed_and_the_json_stays_valid(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    short = "\n".join(_csv(make_series(1, seed=3), "new").split("\n")[1:])
    path.write_text(_csv(make_series(6, seed=2), "old") + "\n" + short, encoding="utf-8")
    result = CliRunner().invoke(app, ["models", "backtest", "--csv", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1], parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))
    assert out["sites"] == 2
    new = next(s for s in out["per_site"] if s["site"] == "new")
    assert (new["slots"], new["mase"]) == (0, None)
    assert out["mase"] == next(s for s in out["per_site"] if s["site"] == "old")["mase"]
