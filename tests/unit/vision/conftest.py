"""Fixtures for the vision tests: synthetic scenes run through the real pipeline, an in-memory sink."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from footfall.core.messages import Reading
from footfall.core.topics import Kind
from footfall.edge.vision.config import PipelineOptions
from footfall.edge.vision.pipeline import CameraPipeline, CameraSpec
from footfall.firmware_stubs.scenes import Scene, door_scene
from tests.helpers import every_cell

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_ROOT = Path(__file__).resolve().parents[3]
# ../shared/data beside the main checkout; a worktree under /work/wt/<name> has it one level further up
DATA = next(
    (p / "shared" / "data" / "video" for p in (_ROOT.parent, _ROOT.parent.parent) if (p / "shared" / "data").is_dir()),
    _ROOT.parent / "shared" / "data" / "video",
)


class MemorySink:
    """A `ReadingSink` that keeps what it is given, by kind."""

    def __init__(self) -> None:
        self.by_kind: dict[Kind, list[Reading]] = defaultdict(list)
        self.calls: list[tuple[Kind, str, int]] = []

    def put(self, kind: Kind, device_id: str, readings: Sequence[Reading]) -> None:
        self.calls.append((kind, device_id, len(readings)))
        self.by_kind[kind].extend(readings)


@dataclass
class SceneRun:
    scene: Scene
    pipeline: CameraPipeline
    sink: MemorySink
    results: list = field(default_factory=list)


def run_scene(scene: Scene, options: PipelineOptions | None = None, *, keep_results: bool = False) -> SceneRun:
    """Render `scene` frame by frame into a fresh pipeline for its camera; flush at the end."""
    sink = MemorySink()
    spec = CameraSpec.from_store(scene.store_config(), "cam1")
    pipe = CameraPipeline(spec, options or PipelineOptions(), sink)
    run = SceneRun(scene, pipe, sink)
    for t, img in scene.frames():
        r = pipe.process(img, T0 + timedelta(seconds=t))
        if keep_results:
            run.results.append((t, r))
    pipe.flush()
    return run


@pytest.fixture(scope="session")
def door_run() -> SceneRun:
    """The standard door scene (seed 1) through the default pipeline, with k=1 to see every cell."""
    return run_scene(door_scene(seed=1, duration_s=70), every_cell())


def need_data(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real evaluation clip {path} is absent (it lives in ../shared/data, outside the repository)")
    return path
