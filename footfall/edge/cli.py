"""Command-line entry points of `footfall.edge`, registered on the root `footfall` command."""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from footfall.core.cli import console, fail, load_settings

if TYPE_CHECKING:
    from footfall.edge.config import EdgeConfig

edge_app = typer.Typer(help="The edge agent: door counters → durable queue → MQTT.", no_args_is_help=True)

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="The agent's edge.yaml (see examples/edge.yaml).")]
SimClockOpt = Annotated[
    str | None,
    typer.Option(
        "--sim-clock",
        envvar="FOOTFALL_SIM_CLOCK",
        help="Run on simulated time START@EPOCH*SPEED (tests and demos); default: the real clock.",
    ),
]


def _load(config: Path, *, check_store: bool = True) -> "EdgeConfig":
    from footfall.core.errors import FootfallError
    from footfall.core.storeconfig import StoreConfig
    from footfall.edge.config import EdgeConfig

    try:
        cfg = EdgeConfig.from_yaml(config)
        if check_store and cfg.store_file is not None:
            cfg.check_store(StoreConfig.from_yaml(cfg.store_file))
    except FootfallError as exc:
        raise fail(str(exc)) from None
    return cfg


@edge_app.command("run")
def run(config: ConfigOpt, sim_clock: SimClockOpt = None) -> None:
    """Run the edge agent until SIGTERM or Ctrl-C (then it publishes `offline` and stops cleanly)."""
    import signal
    import threading

    from footfall.core.clock import clock_from_spec
    from footfall.core.errors import FootfallError
    from footfall.edge.agent import Agent

    cfg = _load(config)
    try:
        agent = Agent(cfg, settings=load_settings(), clock=clock_from_spec(sim_clock))
    except FootfallError as exc:
        raise fail(str(exc)) from None
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        agent.run(stop)
    except FootfallError as exc:  # e.g. the metrics port is taken: refused before anything is published
        raise fail(str(exc)) from None


@edge_app.command("check")
def check(config: ConfigOpt) -> None:
    """Validate edge.yaml (and the store file it names) without starting anything."""
    from footfall.core.errors import FootfallError
    from footfall.edge.config import A3dpcCounter, AxisLiveCounter, HttpCounter

    cfg = _load(config)
    try:  # secrets in files must be readable by the agent
        cfg.broker(load_settings().mqtt)
        for d in cfg.devices:
            if isinstance(d, HttpCounter):
                d.bearer()
            elif isinstance(d, AxisLiveCounter | A3dpcCounter):
                d.secret()
    except FootfallError as exc:
        raise fail(str(exc)) from None
    console.print(
        f"{config}: valid — agent {cfg.device_id} of store {cfg.store_id}, {len(cfg.devices)} counter(s): "
        + ", ".join(f"{d.id} ({d.driver})" for d in cfg.devices)
        + (f"; {len(cfg.cameras)} camera(s): " + ", ".join(c.id for c in cfg.cameras) if cfg.cameras else "")
    )


@edge_app.command("queue")
def queue(
    config: ConfigOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show what waits in the agent's durable queue (safe while the agent runs)."""
    from footfall.edge.outbox import Outbox

    cfg = _load(config, check_store=False)
    settings = load_settings()
    path = cfg.resolved_data_dir(settings.edge) / "outbox.db"
    if not path.exists():
        raise fail(f"no queue at {path}: the agent has not run with this data_dir yet")
    ob = Outbox.open(path, max_bytes=cfg.queue_max_bytes(settings.edge))
    try:
        s = ob.stats()
    finally:
        ob.close()
    out = {
        "path": str(path),
        "depth": s.depth,
        "bytes": s.bytes,
        "max_bytes": s.max_bytes,
        "file_bytes": s.file_bytes,
        "oldest": None if s.oldest is None else s.oldest.isoformat(),
        "per_device": s.per_device,
    }
    if as_json:
        print(json.dumps(out))
        return
    for key, value in out.items():
        console.print(f"{key:>10}  {value}")


def register(app: typer.Typer, *, evaluate: typer.Typer) -> None:
    """Add this package's commands to the root app and to the `eval` group.

    Keep imports of heavy modules inside the commands: `footfall --help` loads every
    package's `cli` module.
    """
    app.add_typer(edge_app, name="edge")
    # `footfall edge credentials` manages the broker's files and the device rows; the root
    # command adds it (footfall.cli), since the agent's package never touches the database.
