"""Command-line entry points of `footfall.ingest`, registered on the root `footfall` command."""

from typing import Annotated

import typer


def register(app: typer.Typer, *, bench: typer.Typer, evaluate: typer.Typer) -> None:
    """Add this package's commands to the root app and to the `bench` and `eval` groups.

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
        from footfall.cli import _settings
        from footfall.ingest.process import run_workers

        raise typer.Exit(run_workers(_settings(), workers=workers))

    @bench.command("ingest")
    def bench_ingest(
        *,
        messages: Annotated[int, typer.Option(min=100, help="Messages in the stream.")] = 50_000,
        readings: Annotated[int, typer.Option(min=1, max=10_000, help="Readings per message.")] = 20,
        workers: Annotated[
            int, typer.Option(min=1, max=16, help="Ingest worker processes (one uses ~2 cores with its database).")
        ] = 1,
        naive_messages: Annotated[int, typer.Option(min=10, help="Messages for the naive baseline.")] = 3000,
        latency_rate: Annotated[float, typer.Option(min=1, help="Messages per second in the latency phase.")] = 2000,
        latency_seconds: Annotated[float, typer.Option(min=1, help="Length of the latency phase.")] = 10,
        as_json: Annotated[bool, typer.Option("--json", help="Only the JSON line on stdout.")] = False,
    ) -> None:
        """Measure ingest against a bare paho subscriber and a naive one-INSERT-per-message baseline."""
        from footfall.bench.ingest import BenchOptions, run_bench
        from footfall.cli import _settings, console, fail
        from footfall.core.errors import FootfallError

        opts = BenchOptions(
            messages=messages,
            readings=readings,
            workers=workers,
            naive_messages=naive_messages,
            latency_rate=latency_rate,
            latency_seconds=latency_seconds,
        )
        try:
            result = run_bench(_settings(), opts, console=None if as_json else console)
        except FootfallError as exc:
            raise fail(str(exc)) from None
        import json

        print(json.dumps(result))
