import subprocess
import sys
from pathlib import Path

import pytest

from footfall.devtools.checks import Check, planned, run

PASS = [sys.executable, "-c", "pass"]
FAIL = [sys.executable, "-c", "raise SystemExit(3)"]


def names(checks: list[Check]) -> list[str]:
    return [c.name for c in checks]


@pytest.mark.parametrize(
    ("pyproject", "has_lint_imports", "expected"),
    [
        # import-linter installed and configured: it runs after the others
        (
            "[tool.importlinter]\nroot_package = 'footfall'\n",
            True,
            ["ruff check", "ruff format", "mypy", "import-linter"],
        ),
        # configured but not installed (an old venv): skipped, not failed
        ("[tool.importlinter]\nroot_package = 'footfall'\n", False, ["ruff check", "ruff format", "mypy"]),
        # installed but not configured: nothing to check
        ("[tool.ruff]\nline-length = 120\n", True, ["ruff check", "ruff format", "mypy"]),
        # an unreadable pyproject does not hide the other checks
        ("[tool.importlinter\n", True, ["ruff check", "ruff format", "mypy"]),
    ],
)
def test_planned_checks(tmp_path: Path, pyproject: str, has_lint_imports: bool, expected: list[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if has_lint_imports:
        (bin_dir / "lint-imports").write_text("#!/bin/sh\n")
    assert names(planned(tmp_path, bin_dir)) == expected


def test_every_check_runs_and_the_failures_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checks = [
        Check("first", FAIL, "fix the first"),
        Check("second", PASS, "never shown"),
        Check("third", FAIL, "fix the third"),
    ]
    assert run(checks, tmp_path) == 1
    out, err = capsys.readouterr()
    assert "== second: ok" in out  # a failure does not stop the later checks
    assert "== first: FAILED (exit 3)" in out
    assert "static checks failed, so the tests did not run" in err
    assert "first: fix the first" in err
    assert "third: fix the third" in err
    assert "never shown" not in err


def test_all_passing_checks_exit_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([Check("only", PASS, "")], tmp_path) == 0
    assert "all 1 static checks passed" in capsys.readouterr().out


def test_a_missing_tool_is_a_failure_not_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([Check("ghost", [str(tmp_path / "no-such-tool")], "install the dev extras")], tmp_path) == 1
    assert "cannot run" in capsys.readouterr().out


def test_a_type_error_fails_mypy_with_the_projects_settings(tmp_path: Path) -> None:
    # The real mypy on one bad file with this checkout's [tool.mypy]: the check can fail.
    bad = tmp_path / "bad.py"
    bad.write_text("def half(n: int) -> int:\n    return n / 2\n")
    config = Path(__file__).resolve().parents[3] / "pyproject.toml"
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--no-incremental", str(bad)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Incompatible return value type" in done.stdout
