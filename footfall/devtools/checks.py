"""The static checks `./run test` runs before pytest: lint, format, types, import layers.

Each check runs even when an earlier one failed, so one run shows everything to fix;
the exit code is 1 when any failed. The tools come from the dev extras in the same
virtual environment as this interpreter:

- `ruff check .` and `ruff format --check .`
- `mypy` (configured in pyproject.toml's `[tool.mypy]`)
- `lint-imports`, when it is installed and pyproject.toml has `[tool.importlinter]`

Usage: `python -m footfall.devtools.checks` from the checkout.
"""

import subprocess
import sys
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Check:
    """One static check: a command that exits 0 when the code passes it.

    Example:
        >>> Check("ruff format", ["ruff", "format", "--check", "."], "run `ruff format .`").name
        'ruff format'
    """

    name: str
    argv: list[str]
    fix: str


def planned(root: Path = ROOT, bin_dir: Path | None = None) -> list[Check]:
    """The checks for the checkout at `root`, using the tools installed beside `bin_dir`.

    Args:
        root: the checkout (holds pyproject.toml).
        bin_dir: where the venv's scripts are; defaults to this interpreter's directory.
    """
    bin_dir = bin_dir or Path(sys.executable).parent
    py = sys.executable
    checks = [
        Check(
            "ruff check",
            [py, "-m", "ruff", "check", "."],
            "fix the findings above (`.venv/bin/ruff check --fix .` fixes many)",
        ),
        Check("ruff format", [py, "-m", "ruff", "format", "--check", "."], "run `.venv/bin/ruff format .`"),
        Check("mypy", [py, "-m", "mypy"], "fix the type errors above (settings: [tool.mypy] in pyproject.toml)"),
    ]
    lint_imports = bin_dir / "lint-imports"
    if lint_imports.exists() and "importlinter" in _tool_tables(root):
        checks.append(
            Check("import-linter", [str(lint_imports)], "an import breaks a layer contract ([tool.importlinter])")
        )
    return checks


def _tool_tables(root: Path) -> dict[str, object]:
    try:
        with (root / "pyproject.toml").open("rb") as f:
            tool = tomllib.load(f).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return tool if isinstance(tool, dict) else {}


def run(checks: Sequence[Check], root: Path = ROOT) -> int:
    """Run every check in `root`, print a verdict per check and a summary.

    Returns:
        0 when all passed, 1 otherwise.
    """
    failed: list[Check] = []
    for check in checks:
        print(f"== {check.name}", flush=True)
        started = time.monotonic()
        try:
            rc = subprocess.run(check.argv, cwd=root, check=False).returncode
        except OSError as exc:
            print(f"cannot run {check.argv[0]}: {exc}", flush=True)
            rc = 1
        verdict = "ok" if rc == 0 else f"FAILED (exit {rc})"
        print(f"== {check.name}: {verdict} in {time.monotonic() - started:.1f} s", flush=True)
        if rc != 0:
            failed.append(check)
    if failed:
        print("\nerror: static checks failed, so the tests did not run:", file=sys.stderr)
        for check in failed:
            print(f"  - {check.name}: {check.fix}", file=sys.stderr)
        print("Fix them and run `./run test` again.", file=sys.stderr)
        return 1
    print(f"== all {len(checks)} static checks passed", flush=True)
    return 0


def main() -> None:
    """Entry point: run the planned checks for this checkout."""
    sys.exit(run(planned()))


if __name__ == "__main__":
    main()
