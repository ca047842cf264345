"""Where edge producers put readings: the agent's durable store-and-forward outbox.

Counter drivers and the camera pipeline both produce `core.messages` readings and hand
them to a `ReadingSink`; the agent's outbox is the production implementation (it writes
to SQLite before anything is published). Producers never talk to MQTT themselves.
"""

from collections.abc import Sequence
from typing import Protocol

from footfall.core.messages import Reading
from footfall.core.topics import Kind


class ReadingSink(Protocol):
    """Accepts readings for one device, durably, in order."""

    def put(self, kind: Kind, device_id: str, readings: Sequence[Reading]) -> None:
        """Store readings for `device_id` of the given kind; returns once they are durable."""
        ...
