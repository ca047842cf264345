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
