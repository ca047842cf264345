"""One camera in its own thread, for the edge agent: start, health for the heartbeat, stop.

The agent creates one `CameraWorker` per camera in the store YAML, hands each its
durable outbox as the sink, calls `health()` from its heartbeat and `stop()` on
shutdown. A source that cannot be opened (camera off, wrong URL) is retried with
back-off; meanwhile the heartbeat reports the camera `silent`.

Example:
    >>> spec = CameraSpec.from_store(store, "cam1")  # doctest: +SKIP
    >>> worker = CameraWorker(spec, PipelineOptions(), outbox, source="rtsp://cam1/stream")  # doctest: +SKIP
    >>> worker.start()  # doctest: +SKIP
    >>> heartbeat_sensors.append(worker.health())  # doctest: +SKIP
    >>> worker.stop()  # doctest: +SKIP
"""

import logging
import threading
from pathlib import Path

from footfall.core.messages import SensorHealth
from footfall.edge.sink import ReadingSink
from footfall.edge.vision.config import PipelineOptions
from footfall.edge.vision.errors import SourceError
from footfall.edge.vision.pipeline import CameraPipeline, CameraSpec
from footfall.edge.vision.source import VideoSource

logger = logging.getLogger(__name__)


class CameraWorker:
    """Runs a `CameraPipeline` on a video source in a named thread.

    Args:
        spec: what the camera looks at.
        options: how to process it.
        sink: where bucket readings go (the agent's outbox).
        source: file, stream URL or device index.
        state_dir: where the camera's reference view is kept.
        realtime: replay a file at its own frame rate (a recorded clip standing in for a camera).
    """

    def __init__(
        self,
        spec: CameraSpec,
        options: PipelineOptions,
        sink: ReadingSink,
        *,
        source: str | int | Path,
        state_dir: Path | None = None,
        realtime: bool = False,
    ) -> None:
        self.pipeline = CameraPipeline(spec, options, sink, state_dir=state_dir)
        self.source_uri = source
        self.realtime = realtime
        self._stop = threading.Event()
        self._source: VideoSource | None = None
        self._thread = threading.Thread(target=self._run, name=f"camera-{spec.device_id}", daemon=True)
        self.error: str | None = None

    def start(self) -> None:
        """Start processing in the background."""
        self._thread.start()

    def _open(self) -> VideoSource | None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                return VideoSource(self.source_uri, fps_hint=self.pipeline.options.fps_hint, realtime=self.realtime)
            except SourceError as exc:
                self.error = str(exc)
                self.pipeline.camera_health.errors += 1
                logger.error("%s; retrying in %.0f s", exc, backoff, extra={"device_id": self.pipeline.spec.device_id})
                if self._stop.wait(backoff):
                    return None
                backoff = min(backoff * 2, 60.0)
        return None

    def _run(self) -> None:
        src = self._open()
        if src is None:
            return
        self._source = src
        self.error = None
        with src:
            try:
                self.pipeline.run(src, should_stop=self._stop.is_set)
            except Exception:
                self.pipeline.camera_health.errors += 1
                logger.exception("camera pipeline failed", extra={"device_id": self.pipeline.spec.device_id})

    def health(self) -> SensorHealth:
        """The camera's entry in the agent's heartbeat."""
        h = self.pipeline.health()
        return h.model_copy(update={"errors": self.pipeline.camera_health.errors})

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop, send the open bucket, and wait for the thread."""
        self._stop.set()
        if self._source is not None:
            self._source.stop_event.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
