"""Connections and the one pool factory, with driver errors mapped to `footfall.db.errors`."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, LiteralString, TypeAlias
from urllib.parse import urlsplit

import psycopg
from psycopg import sql
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from footfall.core.settings import DbSettings
from footfall.db.errors import DatabaseUnavailable

logger = logging.getLogger(__name__)

DictConnection: TypeAlias = psycopg.Connection[DictRow]
"""A connection whose rows are dicts: what `connect` and the pools hand out."""
DictPool: TypeAlias = ConnectionPool[DictConnection]
"""A pool of `DictConnection`s (annotate pools with it so their rows type as dicts)."""


def describe(settings: DbSettings, dbname: str | None = None) -> str:
    """Where the database is, for messages (never includes a password)."""
    p = urlsplit(settings.url)
    return f"{p.hostname or 'localhost'}:{p.port or 5432}/{dbname or settings.dbname}"


def _unavailable(settings: DbSettings, dbname: str | None, exc: Exception) -> DatabaseUnavailable:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DatabaseUnavailable(
        f"cannot connect to PostgreSQL at {describe(settings, dbname)}: {first}. "
        "Start PostgreSQL or point FOOTFALL_DB__URL at it."
    )


def connect(settings: DbSettings, *, dbname: str | None = None, autocommit: bool = False) -> DictConnection:
    """Open one connection (rows as dicts).

    Raises:
        DatabaseUnavailable: the server cannot be reached or refuses the login.
    """
    try:
        return psycopg.connect(settings.conninfo(dbname), autocommit=autocommit, row_factory=dict_row)
    except psycopg.OperationalError as exc:
        raise _unavailable(settings, dbname, exc) from None


def open_pool(settings: DbSettings, *, name: str = "footfall", autocommit: bool = True, wait: bool = True) -> DictPool:
    """A connection pool (rows as dicts), opened and (with `wait`) checked before it is returned.

    Every pool in Footfall is made here. By default connections are in autocommit mode:
    each write opens its own transaction (`with conn.transaction(): ...`).

    Raises:
        DatabaseUnavailable: the pool could not get its first connection in time.
    """
    pool: DictPool = ConnectionPool(
        settings.conninfo(),
        min_size=settings.pool_min,
        max_size=settings.pool_max,
        kwargs={"row_factory": dict_row, "autocommit": autocommit},
        check=ConnectionPool.check_connection,
        name=name,
        open=False,
    )
    try:
        pool.open(wait=wait, timeout=settings.connect_timeout_s)
    except Exception as exc:
        pool.close()
        raise _unavailable(settings, None, exc) from None
    return pool


def ensure_database(settings: DbSettings, dbname: str | None = None) -> bool:
    """Create the database if it does not exist.

    Returns:
        True when it was created.
    """
    name = dbname or settings.dbname
    with connect(settings, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        logger.info("created database %s", name)
        return True


@contextmanager
def transaction(conn: DictConnection) -> Iterator[DictConnection]:
    """A transaction on an existing connection (commit on success, rollback on error)."""
    with conn.transaction():
        yield conn


def scalar(conn: DictConnection, query: LiteralString, params: tuple[Any, ...] = ()) -> Any:
    """The first column of the one row a query always returns (`SHOW`, `SELECT count(*)`, …).

    Raises:
        LookupError: the query returned no row.
    """
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise LookupError(f"expected one row from {query!r}, got none")
    return next(iter(row.values()))
