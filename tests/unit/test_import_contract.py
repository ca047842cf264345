"""The layering in pyproject.toml's `[tool.importlinter]`: it holds, and it bites when broken."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first: in a copy, the copied package shadows the editable install.
    env = dict(os.environ, PYTHONPATH=str(cwd))
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", "pyproject.toml", "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_layering_holds() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # the edge agent reaches into ingest
        ("footfall/edge/sink.py", "import footfall.ingest", "edge and firmware_stubs never import db, ingest or api"),
        # a simulator reads the agent's configuration again
        ("footfall/firmware_stubs/traffic.py", "import footfall.edge.config", "the edge agent and the simulators"),
        # core reaches up into the database layer
        ("footfall/core/ids.py", "import footfall.db.queries", "core imports nothing else of Footfall"),
        # a product package imports a tool
        ("footfall/api/tables.py", "import footfall.bench", "ingest and api never import the edge, the simulators"),
        # ingest imports the API
        ("footfall/ingest/metrics.py", "import footfall.api.errors", "ingest and api do not import each other"),
        # the database layer imports the root command (the composition root)
        ("footfall/db/errors.py", "import footfall.cli", "db imports only core"),
    ],
)
def test_a_broken_layer_fails_naming_its_contract(tmp_path: Path, module: str, line: str, broken: str) -> None:
    shutil.copytree(ROOT / "footfall", tmp_path / "footfall", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa: E402, F401\n", encoding="utf-8")

    result = _lint(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    out = " ".join(result.stdout.split())
    assert "BROKEN" in out
    assert broken in out, result.stdout
    assert f"{module.removesuffix('.py').replace('/', '.')} -> {line.removeprefix('import ')}" in out, result.stdout
