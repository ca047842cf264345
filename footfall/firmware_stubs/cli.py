"""Command-line entry points of `footfall.firmware_stubs`, registered on the root `footfall` command."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

err = Console(stderr=True)

sim_app = typer.Typer(help="Simulated devices with ground truth.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(1)


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
        raise _fail(f"--start: {exc}") from None
    print(ScaledClock(at, speed=speed).spec())


@sim_app.command("store")
def sim_store(
    *,
    config: Annotated[Path, typer.Option("--config", "-c", help="The store file (store.yaml).")],
    edge: Annotated[Path, typer.Option(help="The agent's edge.yaml: where each counter listens or sends.")] = Path(
        "examples/edge.yaml"
    ),
    minutes: Annotated[float, typer.Option(min=0.1, max=7 * 24 * 60, help="Minutes of traffic.")] = 10.0,
    seed: Annotated[int, typer.Option(help="Traffic seed.")] = 0,
    customer_rate: Annotated[float, typer.Option(min=0, help="People per minute per customer door.")] = 6.0,
    truth: Annotated[Path | None, typer.Option(help="Write the ground truth (JSON) here.")] = None,
    sim_clock: Annotated[
        str | None,
        typer.Option(envvar="FOOTFALL_SIM_CLOCK", help="Simulated clock (footfall sim clock); default: real time."),
    ] = None,
) -> None:
    """Run a simulated counter for every counter in edge.yaml, with traffic from the store's doors."""
    import time
    from datetime import timedelta

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from footfall.core.clock import clock_from_spec
    from footfall.core.errors import FootfallError
    from footfall.core.storeconfig import StoreConfig
    from footfall.edge.config import EdgeConfig
    from footfall.firmware_stubs.store import SimStore, TrafficRates

    try:
        store = StoreConfig.from_yaml(config)
        edge_cfg = EdgeConfig.from_yaml(edge)
        clock = clock_from_spec(sim_clock)
        start = clock.now().replace(microsecond=0) + timedelta(seconds=2)
        sim = SimStore(
            store=store,
            edge=edge_cfg,
            clock=clock,
            start=start,
            minutes=minutes,
            seed=seed,
            rates=TrafficRates(customer=customer_rate),
        )
        sim.start_all()
    except (FootfallError, OSError) as exc:
        raise _fail(str(exc)) from None
    total = minutes * 60
    try:
        with Progress(TextColumn("simulated store"), BarColumn(), TimeRemainingColumn(), console=err) as bar:
            task = bar.add_task("traffic", total=total)
            while not sim.done():
                bar.update(task, completed=min(total, (clock.now() - start).total_seconds()))
                time.sleep(0.2)
    except KeyboardInterrupt:
        err.print("interrupted")
    finally:
        sim.stop_all()
    result = sim.truth()
    if truth is not None:
        truth.write_text(json.dumps(result.to_json(), indent=1), encoding="utf-8")
        err.print(f"ground truth written to {truth}")
    print(json.dumps({"devices": sorted(sim.stubs), **result.totals()}))


def register(app: typer.Typer, *, bench: typer.Typer, evaluate: typer.Typer) -> None:
    """Add this package's commands to the root app and to the `bench` and `eval` groups.

    Keep imports of heavy modules inside the commands: `footfall --help` loads every
    package's `cli` module.
    """
    app.add_typer(sim_app, name="sim")
