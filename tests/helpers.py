"""Helpers shared by the test suites (not part of the product)."""

import time
from collections.abc import Callable


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
