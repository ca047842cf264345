"""Command-line entry points of `footfall.ingest`, registered on the root `footfall` command."""

from typing import Annotated

import typer

from footfall.core.cli import load_settings


def register(app: typer.Typer, *, evaluate: typer.Typer) -> None:
    """Add this package's commands to the root app and to the `eval` group.

    Keep imports of heavy modules inside the commands: `footfall --help` loads every
    package's `cli` module.
    """
    ingest_app = typer.Typer(help="The MQTT → database consumer.", no_args_is_help=True)
    app.add_typer(ingest_app, name="ingest")

    @ingest_app.command("run")
    def run(
        workers: Annotated[
            int, typer.Option(min=1, max=64, help="Worker processes on the shared subscription (one core each).")
        ] = 1,
    ) -> None:
        """Consume every payload kind from the broker into the database until SIGTERM/SIGINT.

        Settings come from FOOTFALL_* variables: FOOTFALL_MQTT__* (broker, prefix),
        FOOTFALL_DB__* (database) and FOOTFALL_INGEST__* (share group, client id, batch
        size and time, payload limit, metrics port).
        """
        from footfall.ingest.process import run_workers

        raise typer.Exit(run_workers(load_settings(), workers=workers))
