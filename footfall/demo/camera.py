"""The demo's ceiling camera: a synthetic shop floor through the real vision pipeline.

`footfall demo` gives the example store's camera (`riga-01-cam1`, see
`examples/store.yaml`) a synthetic scene (`footfall.firmware_stubs.scenes.store_scene`):
shoppers come in by the garden door, browse the bakery and the coffee bar (the grocery
shelves are a planted dead zone), queue for the till — some give up — and leave.

- **History**: a few short sessions on the last days' opening hours are rendered and run
  through `CameraPipeline` frame by frame, and the readings go into the agent's outbox, so
  they reach the database over the same agent → broker → ingest path as everything else.
- **Live**: a clip is rendered to a video file and the agent runs the camera on it in real
  time (`realtime: true`), exactly as it runs a recording standing in for a camera.
"""

import logging
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from footfall.core.calendar import StoreCalendar
from footfall.core.storeconfig import StoreConfig
from footfall.edge.sink import ReadingSink
from footfall.firmware_stubs.scenes import Scene, ShopperMix, store_scene

if TYPE_CHECKING:
    from footfall.edge.vision.config import PipelineOptions

logger = logging.getLogger(__name__)

CAMERA_ID = "riga-01-cam1"
DOOR_X_M = (10.5, 13.5)
"""The garden door's extent on the floor's bottom edge (its counting line is in store.yaml)."""
MIX = ShopperMix(
    visit={"bakery": 0.65, "coffee": 0.55, "grocery": 0.05},
    pause_s={"bakery": (8, 30), "coffee": (15, 50), "grocery": (4, 10), "queue": (15, 60), "checkout": (8, 20)},
    queue_share=0.75,
    abandon_share=0.12,
)
FPS = 5.0
SESSION_S = 120.0
SESSION_TIMES = (time(10, 30), time(13, 0), time(17, 30))
"""Local times of the history sessions on each past day."""


def demo_scene(cfg: StoreConfig, *, seed: int, duration_s: float, busy: float = 1.0) -> Scene:
    """The demo camera's scene: `busy` scales the arrival rate (8 shoppers a minute)."""
    return store_scene(
        cfg, mix=MIX, door_x_m=DOOR_X_M, seed=seed, duration_s=duration_s, fps=FPS, shoppers_per_min=8.0 * busy
    )


def render_clip(cfg: StoreConfig, path: Path, *, duration_s: float, seed: int = 7) -> Path:
    """Write the live clip once (kept for the next run)."""
    if path.exists() and path.stat().st_size > 0:
        return path
    tmp = path.with_suffix(".part.mp4")
    demo_scene(cfg, seed=seed, duration_s=duration_s).write(tmp)
    tmp.replace(path)
    return path


def session_starts(cfg: StoreConfig, *, now: datetime, days: int) -> list[datetime]:
    """History session starts (UTC) at `SESSION_TIMES` on the last `days` days, all in the past."""
    cal = StoreCalendar(cfg.store.timezone)
    today = cal.local_date(now)
    out = []
    for back in range(days, -1, -1):
        day = today - timedelta(days=back)
        for t in SESSION_TIMES:
            start = datetime.combine(day, t, tzinfo=cal.tz)
            if start + timedelta(seconds=SESSION_S + 60) < now:
                out.append(start)
    return out


def seed_camera_history(cfg: StoreConfig, sink: ReadingSink, *, starts: list[datetime]) -> int:
    """Run one scene per start through the real pipeline; readings go to `sink` (the outbox).

    Returns:
        Frames processed.
    """
    from footfall.edge.vision.pipeline import CameraPipeline, CameraSpec

    spec = CameraSpec.from_store(cfg, CAMERA_ID)
    options = vision_options()
    frames = 0
    for i, start in enumerate(starts):
        busy = 1.4 if start.hour >= 12 else 1.0  # a busier lunch and evening
        scene = demo_scene(cfg, seed=1000 + int(start.timestamp()) // 60, duration_s=SESSION_S, busy=busy)
        pipe = CameraPipeline(spec, options, sink)
        for t, img in scene.frames():
            pipe.process(img, start + timedelta(seconds=t))
            frames += 1
        pipe.flush()
        logger.debug("camera session %d/%d at %s: %d walkers", i + 1, len(starts), start, len(scene.walkers))
    return frames


def vision_options_path() -> Path:
    """`examples/vision-demo.yaml`."""
    from footfall.demo.run import example_path

    return example_path("vision-demo.yaml")


def vision_options() -> "PipelineOptions":
    """The demo camera's pipeline options."""
    from footfall.core.configfile import load_yaml
    from footfall.edge.vision.config import PipelineOptions

    return PipelineOptions.model_validate(load_yaml(vision_options_path()))
