"""Password file and ACL handling (the broker itself is exercised in tests/integration/edge)."""

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from footfall.cli import app
from footfall.edge.credentials import (
    BrokerRole,
    acl_rules,
    add_credentials,
    mosquitto_hash,
    remove_credentials,
    verify_password,
)
from footfall.edge.errors import CredentialsError


def test_hash_matches_what_mosquitto_passwd_writes(tmp_path: Path) -> None:
    if shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto_passwd is not installed")
    pw = tmp_path / "pw"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pw), "alice", "correct horse"], check=True)
    theirs = pw.read_text().strip().split(":", 1)[1]
    assert verify_password("correct horse", theirs)
    assert not verify_password("wrong horse", theirs)
    salt = __import__("base64").b64decode(theirs.split("$")[3])
    assert mosquitto_hash("correct horse", salt=salt, iterations=int(theirs.split("$")[2])) == theirs


@pytest.mark.parametrize(
    ("store", "role", "rules"),
    [
        # an edge agent writes under its store only, never its store's alerts (the screens' truth)
        ("riga-01", None, ["topic deny footfall/v1/riga-01/alerts", "topic write footfall/v1/riga-01/#"]),
        # ingest reads everything
        (None, BrokerRole.INGEST, ["topic read footfall/v1/#"]),
        # an in-store screen reads its store's alerts topic only
        ("riga-01", BrokerRole.SCREEN, ["topic read footfall/v1/riga-01/alerts"]),
        # the alerts engine writes every store's alerts topic only
        (None, BrokerRole.ALERTS, ["topic write footfall/v1/+/alerts"]),
    ],
)
def test_acl_rules(store, role, rules) -> None:
    assert acl_rules(store_id=store, role=role, prefix="footfall") == rules


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        # neither a store nor the ingest role
        ({"store_id": None, "ingest": False}, "either an edge agent"),
        # a store id with a wildcard would open every store
        ({"store_id": "#", "ingest": False}, "MQTT wildcard"),
        # a prefix with a wildcard
        ({"store_id": "riga-01", "ingest": False, "prefix": "a/+"}, "prefix"),
        # a screen of no store would read nothing useful; of every store, too much
        ({"store_id": None, "role": BrokerRole.SCREEN}, "belongs to one store"),
        ({"store_id": "+", "role": BrokerRole.SCREEN}, "MQTT wildcard"),
        # the alerts engine is not tied to a store
        ({"store_id": "riga-01", "role": BrokerRole.ALERTS}, "takes no store"),
        # ingest and a screen at once
        ({"store_id": None, "ingest": True, "role": BrokerRole.SCREEN}, "not both"),
    ],
)
def test_acl_rules_refuse_what_would_widen_access(kwargs, message) -> None:
    with pytest.raises(Exception, match=message):
        acl_rules(**{"prefix": "footfall", **kwargs})


def test_adding_twice_replaces_the_user_and_keeps_the_others(tmp_path: Path) -> None:
    pw, acl = tmp_path / "passwd", tmp_path / "acl"
    acl.write_text("# site notes stay\n")
    add_credentials(user="a-edge", password="first-password-1", store_id="a", password_file=pw, acl_file=acl)
    add_credentials(
        user="ingest", password="ingest-password-1", store_id=None, ingest=True, password_file=pw, acl_file=acl
    )
    again = add_credentials(user="a-edge", password="second-password-2", store_id="a2", password_file=pw, acl_file=acl)
    assert not again.created
    lines = pw.read_text().splitlines()
    assert [ln.split(":")[0] for ln in lines] == ["ingest", "a-edge"]
    assert verify_password("second-password-2", lines[1].split(":", 1)[1])
    text = acl.read_text()
    assert text.startswith("# site notes stay\n")
    assert text.count("user a-edge") == 1
    assert "footfall/v1/a2/#" in text
    assert "footfall/v1/a/#" not in text
    assert "topic read footfall/v1/#" in text
    assert oct(pw.stat().st_mode & 0o777) == "0o600"
    assert remove_credentials(user="a-edge", password_file=pw, acl_file=acl)
    assert "a-edge" not in pw.read_text()
    assert "a-edge" not in acl.read_text()
    assert "user ingest" in acl.read_text()


@pytest.mark.parametrize(
    ("user", "password", "message"),
    [
        # a colon would break the password file
        ("bad:user", "long-enough-password", "user name"),
        # a short password
        ("a-edge", "short", "at least 12"),
    ],
)
def test_bad_credentials_are_refused(tmp_path: Path, user, password, message) -> None:
    with pytest.raises(CredentialsError, match=message):
        add_credentials(
            user=user, password=password, store_id="a", password_file=tmp_path / "pw", acl_file=tmp_path / "acl"
        )


def test_credentials_command_writes_both_files_and_a_secret(tmp_path: Path) -> None:
    pw, acl, secret = tmp_path / "passwd", tmp_path / "acl", tmp_path / "secret"
    result = CliRunner().invoke(
        app,
        [
            "edge",
            "credentials",
            "add",
            "riga-01-edge",
            "--store",
            "riga-01",
            "--password-file",
            str(pw),
            "--acl-file",
            str(acl),
            "--write-secret",
            str(secret),
        ],
    )
    assert result.exit_code == 0, result.output
    password = secret.read_text().strip()
    assert len(password) >= 24
    assert password not in result.output
    assert verify_password(password, pw.read_text().strip().split(":", 1)[1])
    assert "topic write footfall/v1/riga-01/#" in acl.read_text()
    both = CliRunner().invoke(app, ["edge", "credentials", "add", "x", "--store", "s", "--ingest"])
    assert both.exit_code == 1
    assert "one of the two" in " ".join(both.output.split())


@pytest.mark.parametrize(
    ("args", "rules", "error"),
    [
        # an in-store screen of riga-01
        (["--screen", "--store", "riga-01"], "topic read footfall/v1/riga-01/alerts", None),
        # the alerts engine
        (["--alerts"], "topic write footfall/v1/+/alerts", None),
        # a screen needs its store
        (["--screen"], None, "give --store STORE with --screen"),
        # one role at a time
        (["--screen", "--ingest"], None, "at most one of"),
    ],
)
def test_credentials_command_writes_screen_and_alerts_users(tmp_path: Path, args, rules, error) -> None:
    pw, acl = tmp_path / "passwd", tmp_path / "acl"
    result = CliRunner().invoke(
        app,
        ["edge", "credentials", "add", "u1", *args, "--password-file", str(pw), "--acl-file", str(acl)],
        env={"FOOTFALL_NEW_PASSWORD": "long-enough-password"},
    )
    if error:
        assert result.exit_code == 1
        assert error in " ".join(result.output.split())
        assert not acl.exists()
        return
    assert result.exit_code == 0, result.output
    assert acl.read_text().splitlines()[-1] == rules
