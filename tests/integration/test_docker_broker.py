"""The central site's broker configuration (docker/mosquitto/mosquitto.central.conf) starts a
real Mosquitto — its `include_dir` of TLS snippets included — that refuses anonymous
clients and lets the ingest user in with the password file `footfall edge credentials`
writes. Only the container paths and the port are rewritten for this machine.

As in the container, the broker starts as root and drops to its own user before it reads
the password file, so the credentials folder is set up as docs/deploy.md says (group of
the broker, setgid, passwd 0640) — and a credential added while it runs, which replaces the
file, is still readable after SIGHUP. (Run as another user than root, nothing is dropped
and only the configuration itself is tested.)"""

import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from footfall.core.mqtt import BrokerTarget, MqttTransport
from footfall.devtools.services import _mqtt_answers, free_port, port_open
from footfall.edge.credentials import add_credentials

pytestmark = pytest.mark.integration

MOSQUITTO = Path(__file__).resolve().parents[2] / "docker" / "mosquitto"


def _connects(port: int, user: str, password: str) -> bool:
    target = BrokerTarget(
        host="127.0.0.1",
        port=port,
        prefix="probe",
        username=user,
        password=password,
        client_id=f"footfall-test-{secrets.token_hex(4)}",
        keepalive_s=5,
    )
    transport = MqttTransport(target, name="test", warn_after_s=3600)
    transport.start()
    try:
        return transport.wait_connected(5)
    finally:
        transport.stop()


def _start(conf: Path, port: int) -> subprocess.Popen:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen(
        [binary, "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 15
    while not port_open("127.0.0.1", port, 0.2):
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            err = proc.stderr.read().decode() if proc.stderr else ""
            pytest.fail(f"Mosquitto did not start with the central config: {err}")
        time.sleep(0.05)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_central_broker_config_starts_and_refuses_anonymous_clients() -> None:
    drops = os.geteuid() == 0
    broker_user = pwd.getpwnam("mosquitto") if drops else None
    # Not under pytest's tmp_path (0700 parents): the broker's own user must reach the files.
    top = Path(tempfile.mkdtemp(prefix="footfall-central-mq-"))
    try:
        top.chmod(0o755)
        config, data, auth = top / "config", top / "data", top / "config" / "auth"
        shutil.copytree(MOSQUITTO / "conf.d", config / "conf.d")
        config.chmod(0o755)
        data.mkdir()
        auth.mkdir()
        if broker_user is not None:  # docs/deploy.md: install -d -m 2750 -g <broker group> auth
            os.chown(data, broker_user.pw_uid, broker_user.pw_gid)
            os.chown(auth, -1, broker_user.pw_gid)
            auth.chmod(0o2750)
        passwords = {"ingest": secrets.token_urlsafe(18), "riga-01-edge": secrets.token_urlsafe(18)}
        add_credentials(
            user="ingest",
            password=passwords["ingest"],
            store_id=None,
            ingest=True,
            password_file=auth / "passwd",
            acl_file=auth / "acl",
            prefix="footfall",
        )
        (auth / "passwd").chmod(0o640)  # docs/deploy.md: once, after the first user
        port = free_port()
        text = (MOSQUITTO / "mosquitto.central.conf").read_text(encoding="utf-8")
        assert "\nlistener 1883\n" in text
        text = (
            text.replace("/mosquitto/config/", f"{config}/")
            .replace("/mosquitto/data/", f"{data}/")
            .replace("\nlistener 1883\n", f"\nlistener {port} 127.0.0.1\n")
        )
        text += "log_dest stderr\n" + ("user mosquitto\n" if drops else "")
        (config / "mosquitto.conf").write_text(text, encoding="utf-8")
        proc = _start(config / "mosquitto.conf", port)
        try:
            assert not _mqtt_answers("127.0.0.1", port), "anonymous clients must be refused"
            assert not _connects(port, "ingest", "wrong-password")
            assert _connects(port, "ingest", passwords["ingest"])
            # A store added while the broker runs: the file is replaced, the broker re-reads it on SIGHUP.
            assert not _connects(port, "riga-01-edge", passwords["riga-01-edge"])
            add_credentials(
                user="riga-01-edge",
                password=passwords["riga-01-edge"],
                store_id="riga-01",
                ingest=False,
                password_file=auth / "passwd",
                acl_file=auth / "acl",
                prefix="footfall",
            )
            proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while not _connects(port, "riga-01-edge", passwords["riga-01-edge"]):
                assert time.monotonic() < deadline, "the broker did not take the new credential on SIGHUP"
            assert proc.poll() is None, "the broker died re-reading its credentials"
            assert _connects(port, "ingest", passwords["ingest"])
        finally:
            _stop(proc)
    finally:
        shutil.rmtree(top, ignore_errors=True)
