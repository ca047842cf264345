"""`footfall demo`, `footfall pos simulate` and `footfall sim store`: the tools that show the product.

They wire simulators to the product's own configuration (an `edge.yaml`, the API), so
they live here, where importing both is allowed, and the root command registers them.
"""

import json
from pathlib import Path
from typing import Annotated

import typer

from footfall.core.cli import console, err, fail, load_settings

pos_app = typer.Typer(help="A simulated point of sale.", no_args_is_help=True)


def register(app: typer.Typer, *, sim: typer.Typer) -> None:
    """Add `demo` and `pos` to the root app, and `store` to the simulators' `sim` group.

    Keep imports of heavy modules inside the commands: `footfall --help` loads this module.
    """
    app.command("demo")(demo)
    app.add_typer(pos_app, name="pos")
    sim.command("store")(sim_store)


def demo(
    minutes: Annotated[float | None, typer.Option(help="Stop after this many minutes (default: until Ctrl-C).")] = None,
    speed: Annotated[
        float,
        typer.Option(
            min=1,
            max=3600,
            help="Simulated clock speed of the chain's other stores: above 1 they start three hours back and "
            "play those hours this many times faster than real time until they catch up with now "
            "(the planted incident happens on the way).",
        ),
    ] = 1.0,
) -> None:
    """Run the demo: a chain of three stores, the API and the dashboard; prints the URL and a login per role."""
    import os

    from footfall.core.errors import FootfallError
    from footfall.demo.run import run_demo
    from footfall.devtools.services import ServiceError, ensure_broker

    settings = load_settings()
    try:
        # A broker configured as Footfall needs (no queue limit), unless one is given.
        env = ensure_broker(settings.mqtt.host, settings.mqtt.port)
    except ServiceError as exc:
        raise fail(str(exc)) from None
    if env:
        os.environ.update(env)  # the demo's child processes and tools see it too
        mqtt = {"host": env["FOOTFALL_MQTT__HOST"], "port": int(env["FOOTFALL_MQTT__PORT"])}
        settings = settings.model_copy(update={"mqtt": settings.mqtt.model_copy(update=mqtt)})
    try:
        run_demo(settings, console, minutes=minutes, speed=speed)
    except FootfallError as exc:
        raise fail(str(exc)) from None


@pos_app.command("simulate")
def pos_simulate(
    *,
    url: Annotated[str, typer.Option(help="API base URL.")] = "http://127.0.0.1:8000",
    api_key: Annotated[str, typer.Option(envvar="FOOTFALL_POS_API_KEY", help="An API key with receipts access.")] = "",
    store: Annotated[str, typer.Option(help="Store id.")] = "riga-01",
    minutes: Annotated[float, typer.Option(min=0, help="Run this long (0: until stopped).")] = 0,
    backfill_hours: Annotated[
        float, typer.Option(min=0, max=24 * 31, help="First post the receipts of the last N hours.")
    ] = 0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
) -> None:
    """Post a simulated store's receipts to the API as they happen (batched, retried, idempotent)."""
    from footfall.demo.pos import run_pos_simulator

    if not api_key:
        raise fail("give --api-key (or FOOTFALL_POS_API_KEY); make one with `footfall users key NAME`")
    run_pos_simulator(
        url=url,
        api_key=api_key,
        store_id=store,
        minutes=minutes,
        backfill_hours=backfill_hours,
        seed=seed,
        console=err,
    )


def sim_store(
    *,
    config: Annotated[Path, typer.Option("--config", "-c", help="The store file (store.yaml).")],
    edge: Annotated[Path, typer.Option(help="The agent's edge.yaml: where each counter listens or sends.")] = Path(
        "examples/edge.yaml"
    ),
    minutes: Annotated[float, typer.Option(min=0.1, max=7 * 24 * 60, help="Minutes of traffic.")] = 10.0,
    seed: Annotated[int, typer.Option(help="Traffic seed.")] = 0,
    customer_rate: Annotated[float, typer.Option(min=0, help="People per minute per customer door.")] = 6.0,
    keep_hours: Annotated[
        bool,
        typer.Option(
            "--keep-hours/--any-hour",
            help="Shoppers come only in the store's opening hours (staff any time), or at any hour.",
        ),
    ] = True,
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
    from footfall.demo.stubs import stub_margin_s, stub_specs
    from footfall.edge.config import EdgeConfig
    from footfall.firmware_stubs.store import SimStore, TrafficRates

    try:
        store = StoreConfig.from_yaml(config)
        edge_cfg = EdgeConfig.from_yaml(edge)
        clock = clock_from_spec(sim_clock)
        start = clock.now().replace(microsecond=0) + timedelta(seconds=2)
        sim = SimStore(
            store=store,
            counters=stub_specs(edge_cfg),
            clock=clock,
            start=start,
            minutes=minutes,
            seed=seed,
            rates=TrafficRates(customer=customer_rate),
            keep_hours=keep_hours,
            margin_s=stub_margin_s(edge_cfg),
        )
        sim.start_all()
    except (FootfallError, OSError) as exc:
        raise fail(str(exc)) from None
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
