"""Video sources: any OpenCV `VideoCapture` input (file, RTSP/HTTP URL, device index).

A file is replayed as fast as it decodes, its frames time-stamped from its own frame
rate (from `start`), so a recorded clip gives the same readings on every run. A live
source is time-stamped with the wall clock and reopened with back-off when it drops.
"""

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from footfall.edge.vision.errors import SourceError

logger = logging.getLogger(__name__)

_LIVE_PREFIXES = ("rtsp://", "rtsps://", "http://", "https://", "udp://", "tcp://", "rtmp://")


def is_live(uri: str | int) -> bool:
    """True for a camera (device index or stream URL), False for a file."""
    return isinstance(uri, int) or str(uri).isdigit() or str(uri).lower().startswith(_LIVE_PREFIXES)


class VideoSource:
    """Frames with their capture time.

    Args:
        uri: a file path, a stream URL or a device index.
        start: the time of a file's first frame (default: now); ignored for live sources.
        fps_hint: frame rate to assume when a file does not state one.
        realtime: replay a file at its frame rate, time-stamped from now (a clip standing in for a camera).

    Raises:
        SourceError: the source cannot be opened.

    Example:
        >>> src = VideoSource("clip.mp4")  # doctest: +SKIP
        >>> for frame, at in src: ...  # doctest: +SKIP
    """

    def __init__(
        self, uri: str | int | Path, *, start: datetime | None = None, fps_hint: float = 0.0, realtime: bool = False
    ) -> None:
        self.uri: str | int = (
            int(uri) if isinstance(uri, str) and uri.isdigit() else (uri if isinstance(uri, int) else str(uri))
        )
        self.live = is_live(self.uri)
        if not self.live and not Path(str(self.uri)).exists():
            raise SourceError(f"video file {self.uri} does not exist; check the path")
        self.start = (start or datetime.now(UTC)).astimezone(UTC)
        self._cap = self._open()
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 0 < fps <= 240 else (fps_hint or 25.0)
        self.frame_count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) if not self.live else 0
        self.width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        self.height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        self.stop_event = threading.Event()
        self.realtime = realtime and not self.live

    def _open(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(self.uri)
        if not cap.isOpened():
            cap.release()
            hint = (
                "check the URL, the camera's credentials and that this machine reaches it"
                if self.live
                else "check that it is a video OpenCV's FFmpeg can decode (e.g. H.264 MP4)"
            )
            raise SourceError(f"cannot open video source {self.uri}: {hint}")
        return cap

    def __iter__(self) -> Iterator[tuple[np.ndarray, datetime]]:
        index = 0
        backoff = 1.0
        wall0 = time.monotonic()
        while not self.stop_event.is_set():
            ok, frame = self._cap.read()
            if ok:
                backoff = 1.0
                if self.realtime and self.stop_event.wait(max(0.0, wall0 + index / self.fps - time.monotonic())):
                    return
                at = datetime.now(UTC) if self.live else self.start + timedelta(seconds=index / self.fps)
                index += 1
                yield frame, at
                continue
            if not self.live:
                return
            logger.warning("camera %s stopped delivering frames; reopening in %.0f s", self.uri, backoff)
            self._cap.release()
            if self.stop_event.wait(backoff):
                return
            backoff = min(backoff * 2, 30.0)
            try:
                self._cap = self._open()
            except SourceError as exc:
                logger.warning("%s", exc)

    def close(self) -> None:
        """Stop iterating and release the capture."""
        self.stop_event.set()
        self._cap.release()

    def __enter__(self) -> "VideoSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
