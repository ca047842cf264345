"""`footfall ingest run` and `footfall edge run` as real processes against a closed broker
port (issue 10, point 10): each warns within seconds, naming the broker and the fix, and
keeps retrying; ingest shows it in its metrics."""

import os
import secrets
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from footfall.core.settings import DbSettings
from footfall.devtools.services import free_port
from tests.helpers import wait_until
from tests.integration.edge.test_end_to_end import STORE_FILE, Proc

WARN_WITHIN_S = 20.0
"""Generous on a loaded machine: the transport warns after 5 s (a timing check lives nowhere else)."""


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    running: list[Proc] = []
    yield running
    for p in running:
        p.stop()


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


def _metric(port: int, name: str) -> float | None:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def test_ingest_run_against_a_closed_port_warns_retries_and_shows_it_in_metrics(
    db: DbSettings, procs: list[Proc]
) -> None:
    closed, metrics = free_port(), free_port()
    p = Proc(
        "ingest",
        ["ingest", "run"],
        _env(
            FOOTFALL_DB__URL=db.url,
            FOOTFALL_MQTT__HOST="127.0.0.1",
            FOOTFALL_MQTT__PORT=str(closed),
            FOOTFALL_MQTT__PREFIX=f"t{secrets.token_hex(4)}",
            FOOTFALL_INGEST__METRICS_PORT=str(metrics),
        ),
    )
    procs.append(p)
    assert wait_until(lambda: p.logged("unreachable"), WARN_WITHIN_S), p.tail()
    line = next(x for x in p.lines if "unreachable" in x)
    assert f"127.0.0.1:{closed}" in line
    assert "FOOTFALL_MQTT__HOST/PORT" in line
    assert wait_until(lambda: (_metric(metrics, "footfall_ingest_broker_unreachable_seconds") or 0) > 0, 10)
    assert _metric(metrics, "footfall_ingest_broker_connected") == 0
    assert p.proc.poll() is None, p.tail()  # still running, still retrying


def test_edge_run_against_a_closed_port_warns_and_retries(tmp_path: Path, procs: list[Proc]) -> None:
    closed = free_port()
    cfg = {
        "store_id": "riga-01",
        "device_id": "riga-01-edge",
        "store_file": str(STORE_FILE),
        "data_dir": str(tmp_path / "edge-data"),
        "mqtt": {"host": "127.0.0.1", "port": closed, "prefix": f"t{secrets.token_hex(4)}", "reconnect_max_s": 2},
        "http": {"host": "127.0.0.1", "port": free_port()},
        "devices": [
            {"id": "riga-01-beam", "driver": "tcp", "host": "127.0.0.1", "port": free_port(), "door": "side"},
        ],
    }
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(cfg))
    p = Proc("edge", ["edge", "run", "--config", str(path)], _env())
    procs.append(p)
    assert wait_until(lambda: p.logged("unreachable"), WARN_WITHIN_S), p.tail()
    line = next(x for x in p.lines if "unreachable" in x)
    assert f"127.0.0.1:{closed}" in line
    assert p.proc.poll() is None, p.tail()
    # the install id the default client id is built from was made in the data folder
    assert (tmp_path / "edge-data" / "install_id").read_text().strip()
