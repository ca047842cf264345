"""Real PostgreSQL and real Mosquitto for integration tests.

The servers come from the FOOTFALL_* settings (`./run test` starts private ones when the
configured ones do not answer). When a server does not answer here the tests *fail*
with the fix; they never skip silently.

Every test gets its own database, cloned from a template migrated once per session
(`CREATE DATABASE … TEMPLATE …`), and its own MQTT topic prefix, so tests — and several
test runs on one machine — never see each other's rows or messages.

Both storage paths: `pg_server` is parametrised by flavour, so every test that uses a
database (`db`, `conn`, `empty_db`, `pg_template`) runs once on plain PostgreSQL (the
configured server, migrated with `--flavour plain`) and once on TimescaleDB (the server
at `FOOTFALL_TEST_TIMESCALE_URL`, which `./run test` builds and starts). Without one, the
TimescaleDB leg is skipped with the reason `./run test` found (no vendored source). Tests
that need no database (pure MQTT) run once.
"""

import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from footfall.core.settings import DbSettings, Settings
from footfall.db.connect import connect, describe
from footfall.db.migrate import Flavour, detect_flavour, migrate
from footfall.devtools.services import TIMESCALE_SKIP_ENV, TIMESCALE_URL_ENV, _mqtt_answers

TIMESCALE_ONLY = pytest.mark.parametrize("pg_server", [Flavour.TIMESCALE], indirect=True, ids=["timescale"])
"""Mark a test (or module: `pytestmark = TIMESCALE_ONLY`) that only means something on TimescaleDB."""

PLAIN_ONLY = pytest.mark.parametrize("pg_server", [Flavour.PLAIN], indirect=True, ids=["plain"])
"""Mark a test that only means something on plain PostgreSQL."""


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@dataclass(frozen=True)
class PgServer:
    """One leg of the suite: a PostgreSQL server and the storage path tests use on it."""

    flavour: Flavour
    db: DbSettings
    """Settings pointing at the server (its default database); tests clone theirs from it."""

    def settings_for(self, dbname: str) -> DbSettings:
        """Settings for another database on this server."""
        return self.db.model_copy(update={"url": self.db.url_for(dbname)})


def _admin(db: DbSettings) -> psycopg.Connection:
    try:
        return connect(db, dbname="postgres", autocommit=True)
    except Exception as exc:
        pytest.fail(f"{exc}\nRun the suite with `./run test`: it starts a private PostgreSQL when none answers.")


def _drop(db: DbSettings, name: str) -> None:
    with _admin(db) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def clone_template(db: DbSettings, template: str, name: str, *, attempts: int = 20) -> None:
    """`CREATE DATABASE name TEMPLATE template`, retried while something still holds the template.

    The template refuses connections once migrated (`pg_template`), but a TimescaleDB
    scheduler the launcher started before that may still be on its way out.
    """
    for attempt in range(attempts):
        try:
            with _admin(db) as conn:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
                )
            return
        except psycopg.errors.ObjectInUse:
            if attempt == attempts - 1:
                raise
            _close_template(db, template)
            time.sleep(0.1 * (attempt + 1))


def _close_template(db: DbSettings, template: str) -> None:
    """Refuse new connections to the template and end the ones it has.

    On TimescaleDB the launcher starts a background scheduler for every database that
    allows connections, and `CREATE DATABASE … TEMPLATE` fails while anyone is connected
    to the source. With ALLOW_CONNECTIONS false the launcher leaves the database alone (and
    a scheduler started before exits on its own check).
    """
    with _admin(db) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(sql.Identifier(template)))
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (template,),
        )


def _pause_jobs(db: DbSettings) -> None:
    """Stop the background policies from running on their own in test databases.

    Tests write data years old; a retention policy the scheduler starts mid-test would
    drop those chunks, a refresh policy would move watermarks under the test's feet.
    Tests that are about the policies call them (`CALL run_job(id)`).
    """
    with connect(db, autocommit=True) as conn:
        conn.execute("SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs")


def _timescale_server(settings: Settings) -> DbSettings:
    url = os.environ.get(TIMESCALE_URL_ENV, "").strip()
    if not url:
        pytest.skip(
            os.environ.get(TIMESCALE_SKIP_ENV)
            or "TimescaleDB leg skipped: FOOTFALL_TEST_TIMESCALE_URL is not set; run the suite with `./run test`, "
            "which builds the vendored TimescaleDB and starts a server that preloads it"
        )
    db = DbSettings(url=url, connect_timeout_s=settings.db.connect_timeout_s)
    with _admin(db) as conn:
        flavour, reason = detect_flavour(conn)
    if flavour is not Flavour.TIMESCALE:
        pytest.fail(f"{TIMESCALE_URL_ENV}={url} cannot run the TimescaleDB leg: {reason}")
    return db


@pytest.fixture(scope="session", params=[Flavour.PLAIN, Flavour.TIMESCALE], ids=["plain", "timescale"])
def pg_server(request: pytest.FixtureRequest, settings: Settings) -> PgServer:
    """The server and storage path of this leg (plain PostgreSQL, or TimescaleDB)."""
    flavour = Flavour(request.param)
    if flavour is Flavour.TIMESCALE:
        return PgServer(flavour, _timescale_server(settings))
    return PgServer(flavour, settings.db)


@pytest.fixture(scope="session")
def flavour(pg_server: PgServer) -> Flavour:
    """The storage path of this leg."""
    return pg_server.flavour


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> Iterator[str]:
    """A database migrated on this leg's storage path, the template for every test's database."""
    name = f"footfall_tpl_{pg_server.flavour}_{os.getpid()}_{secrets.token_hex(3)}"
    with _admin(pg_server.db) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        migrate(pg_server.db, dbname=name, flavour=pg_server.flavour)
        if pg_server.flavour is Flavour.TIMESCALE:
            _pause_jobs(pg_server.settings_for(name))
        _close_template(pg_server.db, name)
        yield name
    finally:
        _drop(pg_server.db, name)


@pytest.fixture
def db(pg_server: PgServer, pg_template: str) -> Iterator[DbSettings]:
    """Settings for a fresh, migrated database of this test's own (on this leg's server)."""
    name = f"footfall_t_{os.getpid()}_{secrets.token_hex(4)}"
    clone_template(pg_server.db, pg_template, name)
    try:
        yield pg_server.settings_for(name)
    finally:
        _drop(pg_server.db, name)


@pytest.fixture
def empty_db(pg_server: PgServer) -> Iterator[DbSettings]:
    """Settings for a fresh database with no schema at all (on this leg's server)."""
    name = f"footfall_e_{os.getpid()}_{secrets.token_hex(4)}"
    with _admin(pg_server.db) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield pg_server.settings_for(name)
    finally:
        _drop(pg_server.db, name)


@pytest.fixture
def conn(db: DbSettings) -> Iterator[psycopg.Connection]:
    """A connection to this test's database (autocommit off)."""
    with connect(db) as c:
        yield c


@pytest.fixture(scope="session")
def mqtt_settings(settings: Settings):
    """The broker's settings, after checking that it really speaks MQTT v5."""
    m = settings.mqtt
    if not _mqtt_answers(m.host, m.port):
        pytest.fail(
            f"no MQTT broker answers at {m.host}:{m.port}. Run the suite with `./run test`: it starts a "
            "private Mosquitto when none answers."
        )
    return m


@pytest.fixture
def mqtt_prefix() -> str:
    """A topic prefix of this test's own, so parallel tests and runs share one broker safely."""
    return f"t{secrets.token_hex(5)}"


def server_location(settings: Settings) -> str:
    return describe(settings.db)
