"""Command-line entry points of `footfall.firmware_stubs`, registered on the root `footfall` command.

- `footfall sim clock` prints a simulated clock for FOOTFALL_SIM_CLOCK;
- `footfall vision scene OUT.mp4` renders a synthetic door scene with its ground truth
  (the root command adds `vision_scene` to the camera tools' `vision` group).

`footfall sim store` needs the edge agent's configuration, so it lives in
`footfall.demo.cli`, which may import both.
"""

import json
from pathlib import Path
from typing import Annotated

import typer

from footfall.core.cli import fail

sim_app = typer.Typer(help="Simulated devices with ground truth.", no_args_is_help=True)


@sim_app.command("clock")
def sim_clock(
    speed: Annotated[float, typer.Option(min=0.001, max=100_000, help="Simulated seconds per real second.")] = 60.0,
    start: Annotated[str | None, typer.Option(help="Simulated start (ISO 8601); default: now.")] = None,
) -> None:
    """Print a simulated clock for FOOTFALL_SIM_CLOCK, shared by `footfall edge run` and `footfall sim store`."""
    from datetime import UTC, datetime

    from footfall.core.clock import ScaledClock

    try:
        at = datetime.fromisoformat(start) if start else datetime.now(UTC)
        if at.tzinfo is None:
            raise ValueError("give the start with a UTC offset, e.g. 2026-03-29T10:00:00+00:00")
    except ValueError as exc:
        raise fail(f"--start: {exc}") from None
    print(ScaledClock(at, speed=speed).spec())


def vision_scene(
    out: Annotated[Path, typer.Argument(help="Video file to write (.mp4).")],
    seed: Annotated[int, typer.Option(help="Random seed of the scene.")] = 0,
    duration: Annotated[float, typer.Option(min=5, max=3600, help="Seconds.")] = 80.0,
    fps: Annotated[float, typer.Option(min=1, max=60, help="Frames per second.")] = 10.0,
) -> None:
    """Render a synthetic door scene; writes OUT, OUT.truth.json and OUT.store.yaml beside it."""
    import yaml

    from footfall.firmware_stubs.scenes import door_scene

    scene = door_scene(seed=seed, duration_s=duration, fps=fps)
    scene.write(out)
    truth = scene.truth()
    (out.with_suffix(".truth.json")).write_text(
        json.dumps(
            {
                "entries": truth.entries,
                "exits": truth.exits,
                "crossings": truth.crossings,
                "visits": [
                    {"zone": v.zone_id, "enter_s": v.enter_t, "exit_s": v.exit_t, "dwell_s": v.dwell_s}
                    for v in truth.visits
                ],
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    store = scene.store_config().model_dump(mode="json")
    (out.with_suffix(".store.yaml")).write_text(yaml.safe_dump(store, sort_keys=False), encoding="utf-8")
    typer.echo(f"wrote {out} ({scene.frame_count} frames), its ground truth and store YAML")


def register(app: typer.Typer, *, evaluate: typer.Typer) -> None:
    """Add this package's commands to the root app and to the `eval` group.

    Keep imports of heavy modules inside the commands: `footfall --help` loads every
    package's `cli` module.
    """
    app.add_typer(sim_app, name="sim")
