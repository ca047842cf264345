"""Helpers shared by the test suites (not part of the product)."""

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from footfall.edge.vision.config import PipelineOptions


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `predicate` for up to `timeout` real seconds.

    Returns:
        Whether it became true; the last call decides, so a predicate that turns true just
        at the deadline still counts.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def every_cell(**privacy: object) -> "PipelineOptions":
    """Default pipeline options with k = 1, so a test sees every heatmap cell.

    Validation refuses k < 2 (a cell one person walked through would leave the edge); a
    test that measures the whole heatmap mass sets it past validation on purpose. Other
    privacy fields (`tracks=True`, …) may be given.
    """
    from footfall.edge.vision.config import PipelineOptions

    opts = PipelineOptions()
    return opts.model_copy(update={"privacy": opts.privacy.model_copy(update={"k": 1, **privacy})})
