"""Ordered plain-SQL migrations, with a TimescaleDB path and a plain-PostgreSQL path.

Files in `footfall/db/migrations/` are named `NNNN_name.sql` (both paths),
`NNNN_name.timescale.sql` or `NNNN_name.plain.sql` (one path each; a version with one
must have the other). Each is applied once, in its own transaction, and recorded in
`schema_migrations` with a checksum; re-running applies nothing. The path ("flavour") is
chosen on the first run and recorded, so a database never mixes the two.

A file whose first line is `-- footfall: no-transaction` runs outside a transaction
(for statements PostgreSQL or TimescaleDB refuse inside one).
"""

import hashlib
import logging
import re
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources

import psycopg

from footfall.core.settings import DbSettings
from footfall.db.connect import DictConnection, connect, describe, scalar
from footfall.db.errors import MigrationError
from footfall.db.timescale import JobFailure, job_health

logger = logging.getLogger(__name__)

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+?)(?:\.(timescale|plain))?\.sql$")
_LOCK_KEY = 0x466F6F74  # "Foot": one migrator at a time per database
NO_TRANSACTION = "-- footfall: no-transaction"


class Flavour(StrEnum):
    """Which storage path a database uses."""

    TIMESCALE = "timescale"
    PLAIN = "plain"


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    flavour: Flavour | None
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file's text."""
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def transactional(self) -> bool:
        """False when the file asks to run outside a transaction."""
        return not self.sql.lstrip().startswith(NO_TRANSACTION)

    @property
    def label(self) -> str:
        """e.g. `0002_timeseries (timescale)`."""
        suffix = f" ({self.flavour})" if self.flavour else ""
        return f"{self.version:04d}_{self.name}{suffix}"


def discover() -> list[Migration]:
    """Every migration file shipped with Footfall.

    Raises:
        MigrationError: a file name does not follow the scheme, or a version has one
            flavour's file without the other's.
    """
    found: list[Migration] = []
    folder = resources.files("footfall.db").joinpath("migrations")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        m = _FILE.match(entry.name)
        if not m:
            raise MigrationError(f"migration file {entry.name!r} is not named NNNN_name[.timescale|.plain].sql")
        flavour = Flavour(m.group(3)) if m.group(3) else None
        found.append(Migration(int(m.group(1)), m.group(2), flavour, entry.read_text(encoding="utf-8")))
    by_version: dict[int, list[Migration]] = {}
    for mig in found:
        by_version.setdefault(mig.version, []).append(mig)
    for version, migs in by_version.items():
        flavours = {m.flavour for m in migs}
        if None in flavours and len(migs) > 1:
            raise MigrationError(f"migration {version:04d} has a common file and a flavour file")
        if None not in flavours and flavours != set(Flavour):
            raise MigrationError(f"migration {version:04d} needs both a .timescale.sql and a .plain.sql file")
    return found


def plan(flavour: Flavour) -> list[Migration]:
    """The migrations of one flavour, in order."""
    return [m for m in discover() if m.flavour in (None, flavour)]


@dataclass
class DbInfo:
    """What `footfall db info` shows."""

    location: str
    server_version: str
    flavour: Flavour | None
    timescale_version: str | None
    timescale_available: str | None
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    hypertables: list[str] = field(default_factory=list)
    continuous_aggregates: list[str] = field(default_factory=list)
    failed_jobs: list[JobFailure] = field(default_factory=list)
    """TimescaleDB background jobs whose last run failed."""


def detect_flavour(conn: DictConnection) -> tuple[Flavour, str]:
    """Which path this server supports, and why."""
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    if row:
        return Flavour.TIMESCALE, f"TimescaleDB {row['extversion']} is installed in this database"
    row = conn.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
    if not row:
        return Flavour.PLAIN, "the TimescaleDB extension is not available on this server"
    preload = scalar(conn, "SELECT current_setting('shared_preload_libraries')")
    if "timescaledb" not in preload:
        return Flavour.PLAIN, (
            f"TimescaleDB {row['default_version']} is available but not in shared_preload_libraries; "
            "add it there and restart PostgreSQL to use it"
        )
    return Flavour.TIMESCALE, f"TimescaleDB {row['default_version']} is available"


def _bookkeeping(conn: DictConnection) -> None:
    conn.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version     integer PRIMARY KEY,
            name        text NOT NULL,
            flavour     text,
            checksum    text NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS footfall_meta (
            key    text PRIMARY KEY,
            value  text NOT NULL
        );
        """
    )


def _stored_flavour(conn: DictConnection) -> Flavour | None:
    row = conn.execute("SELECT value FROM footfall_meta WHERE key = 'flavour'").fetchone()
    return Flavour(row["value"]) if row else None


def migrate(
    settings: DbSettings, *, dbname: str | None = None, flavour: Flavour | str | None = None
) -> tuple[Flavour, list[Migration]]:
    """Bring a database's schema up to date.

    Args:
        settings: where the database is.
        dbname: another database on the same server (tests use this).
        flavour: force a path; by default TimescaleDB when the server can load it.

    Returns:
        The flavour in use and the migrations applied now (empty when up to date).

    Raises:
        MigrationError: a migration failed (it was rolled back), an applied file has
            changed since, or the requested flavour contradicts the recorded one.
        DatabaseUnavailable: the server cannot be reached.
    """
    wanted = Flavour(flavour) if flavour else None
    applied_now: list[Migration] = []
    with connect(settings, dbname=dbname, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            _bookkeeping(conn)
            stored = _stored_flavour(conn)
            if stored and wanted and stored != wanted:
                raise MigrationError(
                    f"{describe(settings, dbname)} was migrated with the {stored} path; "
                    f"it cannot switch to {wanted}. Use a new database for the other path."
                )
            if stored:
                use = stored
            elif wanted:
                use = wanted
            else:
                use, reason = detect_flavour(conn)
                logger.info("storage path: %s (%s)", use, reason)
            done = {
                r["version"]: r for r in conn.execute("SELECT version, name, flavour, checksum FROM schema_migrations")
            }
            for mig in plan(use):
                prior = done.get(mig.version)
                if prior:
                    if prior["checksum"] != mig.checksum:
                        raise MigrationError(
                            f"migration {mig.label} changed after it was applied; "
                            "add a new migration instead of editing an applied one"
                        )
                    continue
                _apply(conn, mig, use)
                applied_now.append(mig)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return use, applied_now


def _apply(conn: DictConnection, mig: Migration, flavour: Flavour) -> None:
    logger.info("applying migration %s", mig.label)
    record = (
        "INSERT INTO schema_migrations (version, name, flavour, checksum) VALUES (%s, %s, %s, %s)",
        (mig.version, mig.name, mig.flavour and mig.flavour.value, mig.checksum),
    )
    meta = (
        "INSERT INTO footfall_meta (key, value) VALUES ('flavour', %s) ON CONFLICT (key) DO NOTHING",
        (flavour.value,),
    )
    try:
        if mig.transactional:
            with conn.transaction():
                conn.execute(mig.sql.encode())
                conn.execute(*record)
                conn.execute(*meta)
        else:
            conn.execute(mig.sql.encode())
            with conn.transaction():
                conn.execute(*record)
                conn.execute(*meta)
    except psycopg.Error as exc:
        diag = exc.diag
        where = f" (line context: {diag.context.strip()})" if diag and diag.context else ""
        raise MigrationError(f"migration {mig.label} failed and was rolled back: {exc}{where}".strip()) from None


def info(settings: DbSettings, *, dbname: str | None = None) -> DbInfo:
    """Which path is active, what is applied and what is pending."""
    with connect(settings, dbname=dbname, autocommit=True) as conn:
        server = scalar(conn, "SHOW server_version")
        ts = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
        avail = conn.execute(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'"
        ).fetchone()
        has_tables = scalar(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL")
        stored = None
        applied: dict[int, str] = {}
        if has_tables:
            stored = _stored_flavour(conn)
            applied = {
                r["version"]: f"{r['version']:04d}_{r['name']}" + (f" ({r['flavour']})" if r["flavour"] else "")
                for r in conn.execute("SELECT version, name, flavour FROM schema_migrations ORDER BY version")
            }
        hypertables: list[str] = []
        caggs: list[str] = []
        failed: list[JobFailure] = []
        if ts:
            failed = job_health(conn)
            hypertables = [
                r["hypertable_name"]
                for r in conn.execute("SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY 1")
            ]
            caggs = [
                r["view_name"]
                for r in conn.execute("SELECT view_name FROM timescaledb_information.continuous_aggregates ORDER BY 1")
            ]
        use = stored or detect_flavour(conn)[0]
        pending = [m.label for m in plan(use) if m.version not in applied]
    return DbInfo(
        location=describe(settings, dbname),
        server_version=server,
        flavour=stored,
        timescale_version=ts["extversion"] if ts else None,
        timescale_available=avail["default_version"] if avail else None,
        applied=list(applied.values()),
        pending=pending,
        hypertables=hypertables,
        continuous_aggregates=caggs,
        failed_jobs=failed,
    )
