"""Command-line entry points of `footfall.alerts`, registered on the root `footfall` command.

- `footfall alerts run` runs the engine and the delivery worker until SIGTERM/SIGINT;
- `footfall alerts apply FILE` upserts a store file's `alerts:` rules;
- `footfall alerts digest` writes the daily or weekly digests of a day into the outbox;
(`footfall bench alerts` lives with the other benchmarks in `footfall.bench.cli`.)
"""

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

alerts_app = typer.Typer(help="Red-zone alerts: engine, delivery, rules as code, digests.", no_args_is_help=True)


@alerts_app.command("run")
def run(
    *,
    engine: Annotated[bool, typer.Option(help="Evaluate rules (off: deliver only).")] = True,
    deliver: Annotated[bool, typer.Option(help="Drain the outbox (off: evaluate only).")] = True,
    name: Annotated[str, typer.Option(help="Replica name for logs.")] = "alerts",
    sim_clock: Annotated[
        str | None,
        typer.Option(envvar="FOOTFALL_SIM_CLOCK", help="Simulated clock (footfall sim clock); default: real time."),
    ] = None,
) -> None:
    """Evaluate rules on fresh data (LISTEN/NOTIFY) and every FOOTFALL_ALERTS__CYCLE_S, and deliver
    notifications with retries, until SIGTERM/SIGINT. Several may run at once."""
    from footfall.alerts.process import run_process
    from footfall.core.cli import fail, load_settings
    from footfall.core.clock import clock_from_spec
    from footfall.core.errors import FootfallError

    if not engine and not deliver:
        raise fail("nothing to run: drop --no-engine or --no-deliver")
    settings = load_settings()
    try:
        clock = clock_from_spec(sim_clock)
    except FootfallError as exc:
        raise fail(str(exc)) from None
    try:
        run_process(settings, clock=clock, engine=engine, deliver=deliver, name=name)
    except FootfallError as exc:  # e.g. the metrics port is taken
        raise fail(str(exc)) from None


@alerts_app.command("apply")
def apply(file: Annotated[Path, typer.Argument(help="Store YAML file with an `alerts:` list.")]) -> None:
    """Create, update and remove a store's alert rules from its YAML file (idempotent)."""
    from footfall.core.cli import console, fail, load_settings
    from footfall.core.errors import FootfallError
    from footfall.core.storeconfig import StoreConfig
    from footfall.db.alerts import apply_store_rules
    from footfall.db.connect import connect

    try:
        cfg = StoreConfig.from_yaml(file)
        with connect(load_settings().db) as conn:
            r = apply_store_rules(conn, cfg, source=str(file))
    except FootfallError as exc:
        raise fail(str(exc)) from None
    console.print(f"store {cfg.store.id}: {r.created} rule(s) created, {r.updated} updated, {r.removed} removed")


@alerts_app.command("digest")
def digest(
    *,
    day: Annotated[str | None, typer.Option(help="Local date (YYYY-MM-DD); default yesterday.")] = None,
    weekly: Annotated[bool, typer.Option(help="The week ending on that day, for weekly subscribers.")] = False,
) -> None:
    """Write the digests of a day (or week) of every store into the outbox (idempotent)."""
    from footfall.alerts.digests import enqueue_digests
    from footfall.core.cli import console, fail, load_settings
    from footfall.core.errors import FootfallError

    try:
        d = date.fromisoformat(day) if day else None
        n = enqueue_digests(load_settings(), day=d, weekly=weekly)
    except (FootfallError, ValueError) as exc:
        raise fail(str(exc)) from None
    console.print(f"{n} digest message(s) queued")


def register(app: typer.Typer, *, evaluate: typer.Typer) -> None:
    """Add this package's commands to the root app (the benchmark is `footfall.bench.cli`)."""
    app.add_typer(alerts_app, name="alerts")
