"""Command-line entry points of `footfall.models`, registered on the root `footfall` command."""

import typer


def register(app: typer.Typer, *, evaluate: typer.Typer) -> None:
    """Add this package's commands to the root app and to the `eval` group.

    Keep imports of heavy modules inside the commands: `footfall --help` loads every
    package's `cli` module.
    """
