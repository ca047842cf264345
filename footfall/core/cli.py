"""What every `footfall` sub-command shares: the consoles, `fail`, and settings that refuse clearly.

Each package's `cli` module imports this one (never the root `footfall.cli`), so a
package's commands follow the same import rules as the package itself.
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress

    from footfall.core.settings import Settings

console = Console()
"""The command's own output (standard output)."""

err = Console(stderr=True)
"""Progress, warnings and errors (standard error)."""


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error that names the fix and return the exit to raise.

    Args:
        message: what is wrong and what to do about it.
        code: the exit status.

    Returns:
        The `typer.Exit` to `raise … from None`.
    """
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def load_settings() -> "Settings":
    """The process settings from FOOTFALL_* variables (and .env).

    Raises:
        typer.Exit: the settings are invalid; every broken field is printed first.
    """
    from pydantic import ValidationError

    from footfall.core.configfile import format_errors
    from footfall.core.settings import get_settings

    try:
        return get_settings()
    except ValidationError as exc:
        lines = [f"  {line}" for line in format_errors(exc)]
        raise fail("invalid settings (FOOTFALL_* environment variables):\n" + "\n".join(lines)) from None


def progress() -> "Progress":
    """A transient progress bar on standard error (description, bar, done/total, time left)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


def refuse_argv_password(alternatives: str) -> typer.Exit:
    """The error for `--password VALUE`: a secret on the command line is visible in `ps`.

    Args:
        alternatives: the command's other ways to get the password, e.g. ", the prompt".

    Returns:
        The `typer.Exit` to `raise … from None`.
    """
    return fail(
        "--password puts the password on the command line, where `ps` and the shell history show it; "
        f"use --password-from FILE (a file holding it, or - for standard input){alternatives}"
    )


def read_secret(source: Path) -> str:
    """A password or other secret from a file, or from standard input when `source` is `-`.

    The first line counts, without its line ending, so `echo "$PW" | footfall … --password-from -`
    and a file written by an editor both work. Never take a secret as an option's value:
    the command line is visible to every user of the machine (`ps`).

    Raises:
        typer.Exit: the file cannot be read, or holds no secret.
    """
    try:
        text = sys.stdin.readline() if str(source) == "-" else source.read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot read the password from {source}: {exc.strerror or exc}") from None
    lines = text.splitlines()
    secret = lines[0] if lines else ""
    if not secret:
        where = "standard input" if str(source) == "-" else str(source)
        raise fail(f"no password in {where}: put it on the first line")
    return secret
