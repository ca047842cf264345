"""The central site's broker configuration (docker/mosquitto/mosquitto.central.conf) starts a
real Mosquitto — its `include_dir` of TLS snippets included — that refuses anonymous
clients and lets the ingest user in with the password file `footfall edge credentials`
writes. Only the container paths and the port are rewritten for this machine."""

import secrets
import shutil
import signal
import subprocess
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


def test_central_broker_config_starts_and_refuses_anonymous_clients(tmp_path: Path) -> None:
    config, data = tmp_path / "config", tmp_path / "data"
    data.mkdir()
    shutil.copytree(MOSQUITTO / "conf.d", config / "conf.d")
    password = secrets.token_urlsafe(18)
    add_credentials(
        user="ingest",
        password=password,
        store_id=None,
        ingest=True,
        password_file=config / "passwd",
        acl_file=config / "acl",
        prefix="footfall",
    )
    port = free_port()
    text = (MOSQUITTO / "mosquitto.central.conf").read_text(encoding="utf-8")
    assert "\nlistener 1883\n" in text
    text = (
        text.replace("/mosquitto/config/", f"{config}/")
        .replace("/mosquitto/data/", f"{data}/")
        .replace("\nlistener 1883\n", f"\nlistener {port} 127.0.0.1\n")
    )
    log = tmp_path / "mosquitto.log"
    text += f"log_dest file {log}\nuser root\n"  # the test runs as root; the image runs as mosquitto
    (config / "mosquitto.conf").write_text(text, encoding="utf-8")
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen(
        [binary, "-c", str(config / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 15
        while not port_open("127.0.0.1", port, 0.2):
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"Mosquitto did not start with the central config: {err}{log.read_text()}")
            time.sleep(0.05)
        assert not _mqtt_answers("127.0.0.1", port), "anonymous clients must be refused"
        assert not _connects(port, "ingest", "wrong-password")
        assert _connects(port, "ingest", password)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
