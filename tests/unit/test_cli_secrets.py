"""Passwords never go on the command line (`ps` shows it to every user): `--password VALUE`
is refused with the fix, `--password-from FILE` or `-` (standard input) reads them."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from footfall.cli import app
from footfall.edge.credentials import verify_password

PASSWORD = "a long broker password"


@pytest.mark.parametrize(
    "args",
    [
        ["users", "create", "ann", "--password", "hunter2hunter2"],  # the API's users
        ["edge", "credentials", "add", "riga-01-edge", "--store", "riga-01", "--password", PASSWORD],  # broker users
    ],
)
def test_a_password_on_the_command_line_is_refused_with_the_fix(args: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [*args, *_files(args, tmp_path)])
    assert result.exit_code == 1
    assert "--password-from" in result.output
    assert "ps" in result.output
    assert not (tmp_path / "passwd").exists()  # nothing written


def _files(args: list[str], tmp_path: Path) -> list[str]:
    if args[0] != "edge":
        return []
    return ["--password-file", str(tmp_path / "passwd"), "--acl-file", str(tmp_path / "acl")]


@pytest.mark.parametrize(
    ("source", "stdin"),
    [
        ("-", PASSWORD + "\n"),  # standard input, as from `echo "$PW" |`
        ("file", None),  # a file holding it (first line)
    ],
)
def test_edge_credentials_read_the_password_from_a_file_or_stdin(
    tmp_path: Path, source: str, stdin: str | None
) -> None:
    if source == "file":
        secret_file = tmp_path / "secret"
        secret_file.write_text(PASSWORD + "\nignored second line\n", encoding="utf-8")
        source = str(secret_file)
    args = ["edge", "credentials", "add", "riga-01-edge", "--store", "riga-01", "--password-from", source]
    result = CliRunner().invoke(app, [*args, *_files(args, tmp_path)], input=stdin)
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # not echoed: it was given, not generated
    user, hashed = (tmp_path / "passwd").read_text(encoding="utf-8").strip().split(":", 1)
    assert user == "riga-01-edge"
    assert verify_password(PASSWORD, hashed)


def test_an_empty_password_source_is_refused(tmp_path: Path) -> None:
    args = ["edge", "credentials", "add", "riga-01-edge", "--store", "riga-01", "--password-from", "-"]
    result = CliRunner().invoke(app, [*args, *_files(args, tmp_path)], input="")
    assert result.exit_code == 1
    assert "no password in standard input" in result.output
