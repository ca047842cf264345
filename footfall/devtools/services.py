"""Find the PostgreSQL and Mosquitto Footfall needs, or start private ones.

The README's commands call `python -m footfall.devtools.services ensure`: when the
configured servers answer, nothing happens; when one does not, a private instance is
started from Debian's `postgresql` / `mosquitto` packages (installed when missing), with
its data under the checkout's ignored `.local/`, and the environment variables pointing
at it are written to `.local/services.env` for the caller to source.

Tests use `PrivatePostgres` and `PrivateMosquitto` directly for what needs a server they
may stop and start (outage tests) or configure (password files and ACLs).
"""

import argparse
import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / ".local"
PG_PRIVATE_PORT = 55432
MQTT_PRIVATE_PORT = 18830


class ServiceError(RuntimeError):
    """A private service could not be installed or started; the message says what to do."""


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _apt_install(package: str) -> None:
    if shutil.which("apt-get") is None:
        raise ServiceError(f"{package} is not installed and apt-get is not available; install {package} yourself")
    prefix: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            raise ServiceError(f"{package} is not installed; run `sudo apt-get install {package}`")
        prefix = ["sudo", "-n"]
    print(f"installing Debian package {package} …", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # The package's own service may not start in a container; Footfall runs its own instance.
    subprocess.run([*prefix, "apt-get", "update", "-qq"], check=False, env=env)
    done = subprocess.run([*prefix, "apt-get", "install", "-y", "-qq", package], check=False, env=env)
    if done.returncode != 0:
        raise ServiceError(f"`apt-get install {package}` failed (exit {done.returncode})")


def _pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user then."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of our own, in `directory`, on `port`, trust auth for `postgres`."""

    directory: Path
    port: int = PG_PRIVATE_PORT

    @property
    def url(self) -> str:
        """libpq URL of the maintenance database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        bindir = _pg_bindir()
        if bindir is None:
            _apt_install("postgresql")
            bindir = _pg_bindir()
            if bindir is None:
                raise ServiceError("postgresql installed but initdb not found under /usr/lib/postgresql")
        cmd = [*_as_postgres_user(), str(bindir / args[0]), *args[1:]]
        return subprocess.run(cmd, check=check, capture_output=True, text=True)

    def init(self) -> None:
        """Create the data folder unless it exists."""
        data = self.directory / "data"
        if (data / "PG_VERSION").exists():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            probe = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-w", str(self.directory)], check=False)
            if probe.returncode != 0:
                raise ServiceError(
                    f"the postgres user cannot write {self.directory}; make its parent folders traversable"
                )
        done = self._run(
            "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", check=False
        )
        if done.returncode != 0:
            raise ServiceError(f"initdb failed: {done.stderr.strip()}")

    def start(self, timeout: float = 60) -> None:
        """Start the server and wait until it accepts connections."""
        self.init()
        data = self.directory / "data"
        sock = self.directory / "sock"
        sock.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(sock, "postgres", "postgres")
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {sock} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        done = self._run(
            "pg_ctl",
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(self.directory / "server.log"),
            "-w",
            "-t",
            str(int(timeout)),
            "start",
            check=False,
        )
        if done.returncode != 0 and not port_open("127.0.0.1", self.port):
            log = (self.directory / "server.log").read_text(errors="replace")[-2000:]
            raise ServiceError(f"PostgreSQL did not start on port {self.port}:\n{done.stderr}\n{log}")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (mode: smart, fast or immediate)."""
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", mode, "-w", "stop", check=False)

    def running(self) -> bool:
        """Whether it accepts TCP connections."""
        return port_open("127.0.0.1", self.port)


@dataclass
class PrivateMosquitto:
    """A Mosquitto broker of our own, in `directory`, on `port`.

    `extra` is appended to the generated config (e.g. a password file and ACL).
    """

    directory: Path
    port: int = MQTT_PRIVATE_PORT
    extra: str = ""
    anonymous: bool = True
    max_queued: int = 0
    """Queued QoS 1 messages per offline session; 0 (no limit) is what Footfall needs (a
    default Mosquitto keeps 1,000 and drops the rest; tests set that to show the loss)."""
    _proc: subprocess.Popen | None = field(default=None, init=False, repr=False)

    @property
    def config_path(self) -> Path:
        """The generated mosquitto.conf."""
        return self.directory / "mosquitto.conf"

    def write_config(self) -> Path:
        """Write mosquitto.conf and return its path."""
        binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
        if binary is None:
            _apt_install("mosquitto")
        data = self.directory / "data"
        data.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'true' if self.anonymous else 'false'}",
            "persistence true",
            f"persistence_location {data}/",
            "autosave_interval 1",
            f"log_dest file {self.directory / 'mosquitto.log'}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            f"max_queued_messages {self.max_queued}",
            "max_inflight_messages 0",
            "user root" if os.geteuid() == 0 else "",
            self.extra,
        ]
        self.config_path.write_text("\n".join(line for line in lines if line) + "\n")
        return self.config_path

    def start(self, timeout: float = 15) -> None:
        """Start the broker in the background and wait for its port."""
        self.write_config()
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self._proc = subprocess.Popen(
            [binary, "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if port_open("127.0.0.1", self.port, 0.2):
                (self.directory / "mosquitto.pid").write_text(str(self._proc.pid))
                return
            if self._proc.poll() is not None:
                break
            time.sleep(0.05)
        log = self.directory / "mosquitto.log"
        raise ServiceError(f"Mosquitto did not start on port {self.port}: {log.read_text() if log.exists() else ''}")

    def stop(self) -> None:
        """Stop the broker (it saves its persistence file on SIGTERM)."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def running(self) -> bool:
        """Whether it accepts TCP connections."""
        return port_open("127.0.0.1", self.port)

    @property
    def pid(self) -> int | None:
        """The broker's process id while this object runs it, else None."""
        return None if self._proc is None else self._proc.pid

    def reload(self) -> None:
        """Make the broker re-read its password file and ACL (SIGHUP).

        Raises:
            ServiceError: this object does not run the broker.
        """
        if self._proc is None:
            raise ServiceError(f"Mosquitto on port {self.port} was not started here; cannot reload it")
        self._proc.send_signal(signal.SIGHUP)

    def detach(self) -> None:
        """Forget the process: the broker outlives this object (and `stop` leaves it running)."""
        self._proc = None


def _pg_answers(url: str) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the venv always has it
        return False
    from footfall.core.settings import DbSettings

    settings = DbSettings(url=url, connect_timeout_s=3)
    try:
        with psycopg.connect(settings.conninfo("postgres")) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _mqtt_answers(host: str, port: int) -> bool:
    """A real MQTT v5 CONNECT/CONNACK, not just an open port."""
    if not port_open(host, port):
        return False
    import secrets

    from footfall.core.mqtt import BrokerTarget, MqttTransport

    target = BrokerTarget(
        host=host,
        port=port,
        prefix="probe",
        username=None,
        password=None,
        client_id=f"footfall-probe-{secrets.token_hex(4)}",
        keepalive_s=5,
    )
    transport = MqttTransport(target, name="probe", warn_after_s=3600)
    transport.start()
    try:
        return transport.wait_connected(5)
    finally:
        transport.stop()


BROKER_GIVEN = ("FOOTFALL_MQTT__HOST", "FOOTFALL_MQTT__PORT")
"""A broker is given in settings when one of these is set; otherwise Footfall's own is used."""


def ensure_broker(host: str, port: int, *, force: bool = False) -> dict[str, str]:
    """A broker configured as Footfall needs, unless one is given in the environment.

    The machine's default Mosquitto keeps 1,000 queued messages per offline session and
    drops the rest (a SIGKILLed ingest lost 511 of 2,000 that way): without
    `FOOTFALL_MQTT__HOST`/`__PORT`, the demo and the test command use a private Mosquitto
    with docker/mosquitto's settings (no queue limit, persistence), on the loopback,
    started here when it does not run yet. A given broker is used as it is (`footfall
    doctor` says what it lacks), or replaced by the private one when it does not answer.

    Returns:
        The variables to export (empty when the given broker is used).
    """
    given = any(os.environ.get(k) for k in BROKER_GIVEN)
    if given and not force and _mqtt_answers(host, port):
        return {}
    broker = PrivateMosquitto(LOCAL / "mosquitto")
    if not broker.running():
        if force:
            why = "FOOTFALL_PRIVATE_SERVICES=1"
        elif given:
            why = f"no MQTT broker answers at {host}:{port}"
        else:
            why = "no broker given in FOOTFALL_MQTT__HOST/PORT"
        print(f"{why}: starting Footfall's private Mosquitto on 127.0.0.1:{broker.port}", file=sys.stderr)
        broker.start()
        broker.detach()  # the broker outlives this helper process
    return {"FOOTFALL_MQTT__HOST": "127.0.0.1", "FOOTFALL_MQTT__PORT": str(broker.port)}


def ensure(env_file: Path) -> dict[str, str]:
    """Make sure PostgreSQL and Mosquitto answer; start private ones where they do not.

    Returns:
        The environment variables to export (also written to `env_file`).
    """
    from footfall.core.settings import Settings

    settings = Settings()
    env: dict[str, str] = {}
    force = os.environ.get("FOOTFALL_PRIVATE_SERVICES") == "1"
    if force or not _pg_answers(settings.db.url):
        pg = PrivatePostgres(LOCAL / "pg")
        if not pg.running():
            why = "FOOTFALL_PRIVATE_SERVICES=1" if force else f"PostgreSQL at {settings.db.url} does not answer"
            print(f"{why}: starting a private PostgreSQL on port {pg.port}", file=sys.stderr)
            pg.start()
        env["FOOTFALL_DB__URL"] = f"postgresql://postgres@127.0.0.1:{pg.port}/footfall"
    env.update(ensure_broker(settings.mqtt.host, settings.mqtt.port, force=force))
    env_file.parent.mkdir(parents=True, exist_ok=True)
    env_file.write_text("".join(f"export {k}={v!r}\n" for k, v in env.items()))
    return env


def main(argv: list[str] | None = None) -> int:
    """`python -m footfall.devtools.services ensure|stop`."""
    parser = argparse.ArgumentParser(prog="footfall.devtools.services")
    sub = parser.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("ensure", help="start private PostgreSQL/Mosquitto where the configured ones do not answer")
    e.add_argument("--env-file", type=Path, default=LOCAL / "services.env")
    sub.add_parser("stop", help="stop the private instances")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "ensure":
            env = ensure(args.env_file)
            for k, v in env.items():
                if "PASSWORD" not in k:
                    print(f"{k}={v}", file=sys.stderr)
        else:
            PrivatePostgres(LOCAL / "pg").stop()
            pid = LOCAL / "mosquitto" / "mosquitto.pid"
            if pid.exists():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid.read_text()), signal.SIGTERM)
                pid.unlink()
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
