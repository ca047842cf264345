"""Helpers shared by the test suites (not part of the product)."""

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
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


@contextmanager
def write_locked(path: Path) -> Iterator[None]:
    """Hold the write lock of an SQLite file for the block, as another process would (a backup, a second writer).

    Writers of that file wait their busy timeout and then fail with "database is locked":
    a real failure of the edge queue, not a mock of it.
    """
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def every_cell(**privacy: object) -> "PipelineOptions":
    """Default pipeline options with k = 1, so a test sees every heatmap cell.

    Validation refuses k < 2 (a cell one person walked through would leave the edge); a
    test that measures the whole heatmap mass sets it past validation on purpose. Other
    privacy fields (`tracks=True`, …) may be given.
    """
    from footfall.edge.vision.config import PipelineOptions

    opts = PipelineOptions()
    return opts.model_copy(update={"privacy": opts.privacy.model_copy(update={"k": 1, **privacy})})
