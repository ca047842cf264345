"""Find the PostgreSQL and Mosquitto Footfall needs, or start private ones.

The README's commands call `python -m footfall.devtools.services ensure`: when the
configured servers answer, nothing happens; when one does not, a private instance is
started from Debian's `postgresql` / `mosquitto` packages (installed when missing), with
its data under the checkout's ignored `.local/`, and the environment variables pointing
at it are written to `.local/services.env` for the caller to source.

Tests use `PrivatePostgres` and `PrivateMosquitto` directly for what needs a server they
may stop and start (outage tests) or configure (password files and ACLs).

`python -m footfall.devtools.services timescale` prepares the test suite's TimescaleDB
leg: it builds the vendored TimescaleDB source once (`shared/vendor/timescaledb-*.tar.gz`
beside the checkout, or `FOOTFALL_TIMESCALE_SOURCE`), starts a private cluster that
preloads it (port 55433) and writes `FOOTFALL_TEST_TIMESCALE_URL` — or, where there is no
source, `FOOTFALL_TEST_TIMESCALE_SKIP` with the reason — for the integration fixtures.
"""

import argparse
import contextlib
import fcntl
import glob
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / ".local"
PG_PRIVATE_PORT = 55432
TIMESCALE_PRIVATE_PORT = 55433
MQTT_PRIVATE_PORT = 18830
TIMESCALE_BUILD_PACKAGES = ("postgresql-server-dev-{major}", "cmake", "build-essential", "libkrb5-dev", "libssl-dev")
"""Debian packages the TimescaleDB build needs (measured on Debian 12)."""
TIMESCALE_SERVER_OPTIONS = (
    "shared_preload_libraries=timescaledb",
    # The launcher, one scheduler per database and the jobs they start: with the default
    # 8 worker processes TimescaleDB's background jobs fail to start.
    "max_worker_processes=32",
    "timescaledb.max_background_workers=24",
    "timescaledb.telemetry_level=off",
)


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


def _root_prefix(what: str) -> list[str]:
    """How to run a command as root: directly, through `sudo -n`, or not at all."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") is None:
        raise ServiceError(f"{what} needs root; run it as root or install sudo")
    return ["sudo", "-n"]


def _apt_install(*packages: str) -> None:
    names = " ".join(packages)
    if shutil.which("apt-get") is None:
        raise ServiceError(f"{names} not installed and apt-get is not available; install {names} yourself")
    prefix = _root_prefix(f"`apt-get install {names}`")
    print(f"installing Debian package(s) {names} …", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # The package's own service may not start in a container; Footfall runs its own instance.
    subprocess.run([*prefix, "apt-get", "update", "-qq"], check=False, env=env)
    done = subprocess.run([*prefix, "apt-get", "install", "-y", "-qq", *packages], check=False, env=env)
    if done.returncode != 0:
        raise ServiceError(f"`apt-get install {names}` failed (exit {done.returncode})")


def _deb_installed(package: str) -> bool:
    done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], check=False, capture_output=True, text=True)
    return done.returncode == 0 and done.stdout.strip().endswith("installed")


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
    """A PostgreSQL server of our own, in `directory`, on `port`, trust auth for `postgres`.

    `options` are extra server settings (`name=value`) given at every start, e.g.
    `shared_preload_libraries=timescaledb`; `bindir` pins the server's major version.
    """

    directory: Path
    port: int = PG_PRIVATE_PORT
    options: tuple[str, ...] = ()
    bindir: Path | None = None

    @property
    def url(self) -> str:
        """libpq URL of the maintenance database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        bindir = self.bindir or _pg_bindir()
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

    def replicate_from(self, primary: "PrivatePostgres") -> None:
        """Make this (not yet created) cluster a streaming replica of `primary`.

        `pg_basebackup -R` copies the primary's data folder and writes `standby.signal` and
        the `primary_conninfo` to reach it; `start()` then runs it as a hot standby. The
        primary needs what PostgreSQL 15's defaults and `initdb --auth=trust` already give:
        `wal_level = replica`, `max_wal_senders` > 0 and a `replication` line in pg_hba.conf.
        """
        data = self.directory / "data"
        if data.exists():
            raise ServiceError(f"{data} exists; a replica is made into an empty folder")
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        done = self._run(
            "pg_basebackup",
            "-D",
            str(data),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            check=False,
        )
        if done.returncode != 0:
            raise ServiceError(f"pg_basebackup from port {primary.port} failed: {done.stderr.strip()}")

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
        opts += "".join(f" -c {option}" for option in self.options)
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


_TARBALL = re.compile(r"^timescaledb-(\d+)\.(\d+)\.(\d+)\.tar\.gz$")
TIMESCALE_SOURCE_ENV = "FOOTFALL_TIMESCALE_SOURCE"
TIMESCALE_URL_ENV = "FOOTFALL_TEST_TIMESCALE_URL"
TIMESCALE_SKIP_ENV = "FOOTFALL_TEST_TIMESCALE_SKIP"


def find_timescale_source(root: Path = ROOT) -> tuple[Path | None, str]:
    """The TimescaleDB source tarball the test command builds, or None and why there is none.

    `FOOTFALL_TIMESCALE_SOURCE` names it explicitly (empty: none). Otherwise the newest
    `shared/vendor/timescaledb-X.Y.Z.tar.gz` beside the checkout, or beside one of its
    parent folders (a worktree under `wt/` shares its main checkout's `shared/`).
    """
    explicit = os.environ.get(TIMESCALE_SOURCE_ENV)
    if explicit is not None:
        if not explicit.strip():
            return None, f"{TIMESCALE_SOURCE_ENV} is empty"
        path = Path(explicit).expanduser().resolve()
        if not path.is_file() or not _TARBALL.match(path.name):
            return None, f"{TIMESCALE_SOURCE_ENV}={explicit} is not a timescaledb-X.Y.Z.tar.gz file"
        return path, f"{TIMESCALE_SOURCE_ENV}={explicit}"
    looked: list[str] = []
    for folder in root.resolve().parents:
        vendor = folder / "shared" / "vendor"
        looked.append(str(vendor))
        found = [p for p in vendor.glob("timescaledb-*.tar.gz") if _TARBALL.match(p.name)] if vendor.is_dir() else []
        if found:
            newest = max(found, key=lambda p: tuple(int(x) for x in _TARBALL.match(p.name).groups()))  # type: ignore[union-attr]
            return newest, str(newest)
    return None, f"no timescaledb-X.Y.Z.tar.gz in {looked[0]} (nor in a shared/vendor/ further up)"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class TimescaleBuild:
    """TimescaleDB built from a source tarball into a PostgreSQL's extension folders.

    The object files live in `directory` (the checkout's `.local/timescaledb/`); `make
    install` writes the extension into the server's own lib/ and share/ folders (as root).
    A stamp in `directory` records what was installed, and the build is skipped while the
    installed files of that version are really there.

    Example:
        >>> # build = TimescaleBuild(Path("../shared/vendor/timescaledb-2.28.3.tar.gz"))
        >>> # build.ensure()   # "TimescaleDB 2.28.3 built and installed in 131 s" or "… already installed"
    """

    tarball: Path
    bindir: Path | None = None
    directory: Path = LOCAL / "timescaledb"

    @property
    def version(self) -> str:
        """e.g. `2.28.3`, from the tarball's name."""
        m = _TARBALL.match(self.tarball.name)
        if not m:
            raise ServiceError(f"{self.tarball} is not named timescaledb-X.Y.Z.tar.gz")
        return ".".join(m.groups())

    def _bindir(self) -> Path:
        bindir = self.bindir or _pg_bindir()
        if bindir is None:
            _apt_install("postgresql")
            bindir = _pg_bindir()
            if bindir is None:
                raise ServiceError("postgresql installed but initdb not found under /usr/lib/postgresql")
        return bindir

    @property
    def major(self) -> str:
        """The PostgreSQL major version it is built for (Debian layout: /usr/lib/postgresql/<major>/bin)."""
        return self._bindir().parent.name

    def _dirs(self) -> tuple[Path, Path]:
        pg_config = self._bindir() / "pg_config"
        if pg_config.exists():
            lib = subprocess.run([str(pg_config), "--pkglibdir"], check=True, capture_output=True, text=True)
            share = subprocess.run([str(pg_config), "--sharedir"], check=True, capture_output=True, text=True)
            return Path(lib.stdout.strip()), Path(share.stdout.strip())
        return self._bindir().parent / "lib", Path("/usr/share/postgresql") / self.major

    def installed(self) -> bool:
        """Whether this version's library, control file and install script are in the server's folders."""
        lib, share = self._dirs()
        return all(
            p.exists()
            for p in (
                lib / f"timescaledb-{self.version}.so",
                lib / f"timescaledb-tsl-{self.version}.so",
                share / "extension" / "timescaledb.control",
                share / "extension" / f"timescaledb--{self.version}.sql",
            )
        )

    @property
    def stamp(self) -> Path:
        """The record of what was installed for this PostgreSQL major."""
        return self.directory / f"installed-{self.version}-pg{self.major}"

    def ensure(self) -> str:
        """Build and install unless this version is installed already; say which happened.

        Raises:
            ServiceError: a build dependency could not be installed or the build failed
                (the message has the log's tail and its path).
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        # One build at a time on this machine: `make install` writes shared system folders.
        with (Path(tempfile.gettempdir()) / "footfall-timescaledb-build.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.installed():
                if not self.stamp.exists():
                    self.stamp.write_text(f"found installed; source {self.tarball} sha256 {_sha256(self.tarball)}\n")
                return f"TimescaleDB {self.version} for PostgreSQL {self.major} already installed"
            started = time.monotonic()
            self._build()
            self.stamp.write_text(f"built from {self.tarball} sha256 {_sha256(self.tarball)}\n")
            return (
                f"TimescaleDB {self.version} built from {self.tarball} and installed for PostgreSQL "
                f"{self.major} in {time.monotonic() - started:.0f} s"
            )

    def _build(self) -> None:
        major = self.major
        missing = [p.format(major=major) for p in TIMESCALE_BUILD_PACKAGES if not _deb_installed(p.format(major=major))]
        if missing:
            _apt_install(*missing)
        src = self.directory / f"src-{self.version}"
        log = self.directory / "build.log"
        print(
            f"building TimescaleDB {self.version} from {self.tarball} for PostgreSQL {major} "
            f"(about two minutes, once; log: {log}) …",
            file=sys.stderr,
        )
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        with tarfile.open(self.tarball) as tar:
            tar.extractall(src, filter="data")
        tops = [p for p in src.iterdir() if p.is_dir()]
        top = tops[0] if len(tops) == 1 and not (src / "bootstrap").exists() else src
        pg_config = self._bindir() / "pg_config"
        steps = [
            [
                "./bootstrap",
                f"-DPG_CONFIG={pg_config}",
                "-DREGRESS_CHECKS=OFF",
                "-DTAP_CHECKS=OFF",
                "-DWARNINGS_AS_ERRORS=OFF",
                "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
            ],
            ["make", f"-j{os.cpu_count() or 2}", "-C", "build"],
            [*_root_prefix("installing TimescaleDB into PostgreSQL's folders"), "make", "-C", "build", "install"],
        ]
        with log.open("w") as out:
            for step in steps:
                out.write(f"$ {' '.join(step)}\n")
                out.flush()
                done = subprocess.run(step, cwd=top, stdout=out, stderr=subprocess.STDOUT, check=False)
                if done.returncode != 0:
                    tail = log.read_text(errors="replace")[-3000:]
                    raise ServiceError(
                        f"TimescaleDB build step `{' '.join(step)}` failed (exit {done.returncode}); "
                        f"full log: {log}\n{tail}"
                    )
        if not self.installed():
            raise ServiceError(
                f"TimescaleDB {self.version} built but its files are not where PostgreSQL looks; see {log}"
            )


def _timescale_answers(url: str) -> str | None:
    """None when the server at `url` preloads TimescaleDB, else what is wrong."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            preload = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
            avail = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
    except psycopg.Error as exc:
        return f"cannot connect to {url}: {str(exc).strip()}"
    if not avail:
        return f"the server at {url} has no TimescaleDB extension"
    if not preload or "timescaledb" not in preload[0]:
        return f"the server at {url} does not preload timescaledb (shared_preload_libraries)"
    return None


def ensure_timescale(env_file: Path) -> dict[str, str]:
    """Prepare the test suite's TimescaleDB leg, or explain why it is skipped.

    With `FOOTFALL_TEST_TIMESCALE_URL` already set, that server is used as it is. Otherwise
    the vendored source is built (once) and a private cluster preloading it is started on
    port 55433 under `.local/pg-timescale/`.

    Returns:
        `FOOTFALL_TEST_TIMESCALE_URL` (the leg runs) or `FOOTFALL_TEST_TIMESCALE_SKIP` (the
        reason it is skipped); also written to `env_file` as shell exports.

    Raises:
        ServiceError: the source is there but the build or the cluster failed.
    """
    env: dict[str, str] = {}
    given = os.environ.get(TIMESCALE_URL_ENV, "").strip()
    if given:
        problem = _timescale_answers(given)
        if problem:
            raise ServiceError(f"{TIMESCALE_URL_ENV}: {problem}")
        env[TIMESCALE_URL_ENV] = given
        print(f"TimescaleDB leg: the server at {given} ({TIMESCALE_URL_ENV})", file=sys.stderr)
    else:
        tarball, where = find_timescale_source()
        if tarball is None:
            reason = (
                f"TimescaleDB leg skipped: no TimescaleDB source to build ({where}); set {TIMESCALE_SOURCE_ENV} "
                f"to a timescaledb-X.Y.Z.tar.gz, or {TIMESCALE_URL_ENV} to a server that preloads TimescaleDB"
            )
            env[TIMESCALE_SKIP_ENV] = reason
            print(reason, file=sys.stderr)
        else:
            build = TimescaleBuild(tarball)
            print(build.ensure(), file=sys.stderr)
            pg = PrivatePostgres(
                LOCAL / "pg-timescale",
                port=TIMESCALE_PRIVATE_PORT,
                options=TIMESCALE_SERVER_OPTIONS,
                bindir=build._bindir(),
            )
            if not pg.running():
                print(f"starting a private PostgreSQL {build.major} + TimescaleDB on port {pg.port}", file=sys.stderr)
                pg.start()
            problem = _timescale_answers(pg.url)
            if problem:
                raise ServiceError(f"{problem}; stop whatever listens on port {pg.port} (`./run stop`) and retry")
            env[TIMESCALE_URL_ENV] = pg.url
            print(
                f"TimescaleDB leg: private PostgreSQL {build.major} + TimescaleDB {build.version} at {pg.url}",
                file=sys.stderr,
            )
    env_file.parent.mkdir(parents=True, exist_ok=True)
    env_file.write_text("".join(f"export {k}={v!r}\n" for k, v in env.items()))
    return env


def main(argv: list[str] | None = None) -> int:
    """`python -m footfall.devtools.services ensure|timescale|stop`."""
    parser = argparse.ArgumentParser(prog="footfall.devtools.services")
    sub = parser.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("ensure", help="start private PostgreSQL/Mosquitto where the configured ones do not answer")
    e.add_argument("--env-file", type=Path, default=LOCAL / "services.env")
    t = sub.add_parser("timescale", help="build the vendored TimescaleDB once; start a private cluster for tests")
    t.add_argument("--env-file", type=Path, default=LOCAL / "timescale.env")
    sub.add_parser("stop", help="stop the private instances")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "ensure":
            env = ensure(args.env_file)
            for k, v in env.items():
                if "PASSWORD" not in k:
                    print(f"{k}={v}", file=sys.stderr)
        elif args.cmd == "timescale":
            ensure_timescale(args.env_file)
        else:
            for folder in (LOCAL / "pg", LOCAL / "pg-timescale"):
                if (folder / "data" / "PG_VERSION").exists():
                    PrivatePostgres(folder).stop()
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
