"""Real PostgreSQL and real Mosquitto for integration tests.

The servers come from the FOOTFALL_* settings (`./run test` starts private ones when the
configured ones do not answer). When a server does not answer here the tests *fail*
with the fix; they never skip silently.

Every test gets its own database, cloned from a template migrated once per session
(`CREATE DATABASE … TEMPLATE …`), and its own MQTT topic prefix, so tests — and several
test runs on one machine — never see each other's rows or messages.
"""

import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from footfall.core.settings import DbSettings, Settings
from footfall.db.connect import connect, describe
from footfall.db.migrate import Flavour, migrate
from footfall.devtools.services import _mqtt_answers


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


def _admin(db: DbSettings) -> psycopg.Connection:
    try:
        return connect(db, dbname="postgres", autocommit=True)
    except Exception as exc:
        pytest.fail(f"{exc}\nRun the suite with `./run test`: it starts a private PostgreSQL when none answers.")


def _drop(db: DbSettings, name: str) -> None:
    with _admin(db) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def pg_template(settings: Settings) -> Iterator[str]:
    """A database migrated on the plain path, used as the template for every test's database."""
    name = f"footfall_tpl_{os.getpid()}_{secrets.token_hex(3)}"
    with _admin(settings.db) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        migrate(settings.db, dbname=name, flavour=Flavour.PLAIN)
        yield name
    finally:
        _drop(settings.db, name)


@pytest.fixture
def db(settings: Settings, pg_template: str) -> Iterator[DbSettings]:
    """Settings for a fresh, migrated database of this test's own."""
    name = f"footfall_t_{os.getpid()}_{secrets.token_hex(4)}"
    with _admin(settings.db) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(pg_template))
        )
    own = settings.db.model_copy(update={"url": settings.db.url_for(name)})
    try:
        yield own
    finally:
        _drop(settings.db, name)


@pytest.fixture
def empty_db(settings: Settings) -> Iterator[DbSettings]:
    """Settings for a fresh database with no schema at all."""
    name = f"footfall_e_{os.getpid()}_{secrets.token_hex(4)}"
    with _admin(settings.db) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield settings.db.model_copy(update={"url": settings.db.url_for(name)})
    finally:
        _drop(settings.db, name)


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
