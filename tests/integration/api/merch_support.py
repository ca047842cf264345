"""Helpers for the merchandising tests: run a scene through the real pipeline and write its
readings with the ingest writer (the same COPY path as the ingest worker)."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import psycopg

from footfall.core.messages import MESSAGE_TYPES, Reading
from footfall.core.topics import Kind, Topic
from footfall.edge.vision.config import PipelineOptions
from footfall.edge.vision.pipeline import CameraPipeline, CameraSpec
from footfall.firmware_stubs.scenes import Scene
from footfall.ingest.triage import Accepted, Inbound
from footfall.ingest.writer import BatchWriter


class MemorySink:
    """Keeps a pipeline's readings by (kind, device)."""

    def __init__(self) -> None:
        self.items: dict[tuple[Kind, str], list[Reading]] = defaultdict(list)

    def put(self, kind: Kind, device_id: str, readings: Sequence[Reading]) -> None:
        self.items[(kind, device_id)].extend(readings)


def run_camera(
    scene: Scene, spec: CameraSpec, options: PipelineOptions, *, t0: datetime, sink: MemorySink | None = None
) -> MemorySink:
    """Render `scene` into a pipeline for `spec`, frame by frame from `t0`; flush at the end."""
    sink = sink or MemorySink()
    pipe = CameraPipeline(spec, options, sink)
    for t, img in scene.frames():
        pipe.process(img, t0 + timedelta(seconds=t))
    pipe.flush()
    return sink


def write_readings(conn: psycopg.Connection, store_id: str, sink: MemorySink) -> None:
    """Write every reading through the ingest BatchWriter, one message per (kind, device)."""
    writer = BatchWriter(conn, dead_letter_keep_bytes=1024)
    writer.prepare()
    accepted = []
    for seq, ((kind, device_id), readings) in enumerate(sink.items.items()):
        topic = Topic(store_id, device_id, kind)
        for i in range(0, len(readings), 500):
            msg = MESSAGE_TYPES[kind](
                device_id=device_id, seq=seq * 1000 + i, sent_at=datetime.now(UTC), readings=readings[i : i + 500]
            )
            accepted.append(Accepted(Inbound(topic.render(), b"", 0, 1, 0, 0.0), topic, msg))
    writer.write(accepted, [])
