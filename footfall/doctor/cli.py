"""`footfall doctor`."""

import typer

from footfall.core.cli import console, load_settings

_MARK = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}


def register(app: typer.Typer) -> None:
    """Add `doctor` to the `footfall` command."""

    @app.command("doctor")
    def doctor() -> None:
        """Check database, migrations, TimescaleDB, secret, clock and the broker (probed for real).

        Each failure names its fix; exit code 1 when any check failed.
        """
        from footfall.doctor.checks import Status, run_checks

        findings = run_checks(load_settings())
        for f in findings:
            console.print(f"{_MARK[f.status.value]:>5} {f.check}: {f.detail}")
            if f.fix and f.status is not Status.OK:
                console.print(f"       fix: {f.fix}")
        failed = sum(f.status is Status.FAIL for f in findings)
        console.print(f"{failed} problem(s)" if failed else "no problems")
        if failed:
            raise typer.Exit(1)
