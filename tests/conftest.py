"""Shared test set-up: markers by folder, hypothesis profiles."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "default")

HERE = Path(__file__).parent


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Commands run in-process (CliRunner) read FOOTFALL_* afresh in every test: the cached
    process settings would otherwise carry one test's database and broker into the next."""
    from footfall.core.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if (HERE / "integration") in Path(item.fspath).parents:
            item.add_marker(pytest.mark.integration)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line at the end saying where the TimescaleDB leg ran, or why it was skipped.

    Here, not in tests/integration/conftest.py: with pytest-xdist only the controlling process
    reports, and it loads this file only."""
    from footfall.devtools.services import TIMESCALE_SKIP_ENV, TIMESCALE_URL_ENV

    legs = {"passed": 0, "failed": 0, "skipped": 0}
    for outcome in legs:
        for report in terminalreporter.stats.get(outcome, []):
            if "[timescale" in getattr(report, "nodeid", "") and report.when in ("call", "setup"):
                legs[outcome] += 1
    if not any(legs.values()):
        return
    url = os.environ.get(TIMESCALE_URL_ENV, "").strip()
    if url:
        line = f"TimescaleDB leg on {url}: {legs['passed']} passed, {legs['failed']} failed, {legs['skipped']} skipped"
    else:
        reason = os.environ.get(TIMESCALE_SKIP_ENV) or f"{TIMESCALE_URL_ENV} is not set (run the suite with ./run test)"
        reason = reason.removeprefix("TimescaleDB leg skipped: ")
        line = f"TimescaleDB leg skipped ({legs['skipped']} tests): {reason}"
    terminalreporter.write_line(line, yellow=not url, bold=True)
