"""TimescaleDB upkeep: refreshing the door rollups after a bulk load, and job health.

On the TimescaleDB path the door rollups are continuous aggregates. Real-time
aggregation reads raw rows only above an aggregate's watermark, and the refresh policy
re-materialises only its window (the last 30 days). History loaded in bulk — a
benchmark, a backfill, an import — below that window stays out of the materialised
buckets until something refreshes them; the KPI layer then reads those buckets from raw
rows (right, but slower). So every bulk loader calls `refresh_door_rollups` over what it
loaded. On the plain path the rollup tables are exact at commit and it does nothing.

`job_health` reports background jobs (refresh, compression, retention policies) whose
last run failed, naming a known incompatibility where it is one.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from psycopg import sql

from footfall.db.connect import DictConnection, scalar

logger = logging.getLogger(__name__)

DOOR_AGGREGATES: tuple[tuple[str, timedelta], ...] = (
    ("door_counts_15m", timedelta(minutes=15)),
    ("door_counts_1h", timedelta(hours=1)),
)
"""The door-count continuous aggregates, in dependency order, with their bucket width."""

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def align(start: datetime, end: datetime, width: timedelta) -> tuple[datetime, datetime]:
    """The smallest window of whole `width` buckets (UTC-aligned) that covers `[start, end)`."""
    lo = _EPOCH + ((start - _EPOCH) // width) * width
    hi = _EPOCH + -((_EPOCH - end) // width) * width
    return lo, hi


def uses_timescale(conn: DictConnection) -> bool:
    """Whether this database was migrated on the TimescaleDB path."""
    row = conn.execute("SELECT value FROM footfall_meta WHERE key = 'flavour'").fetchone()
    return row is not None and row["value"] == "timescale"


def refresh_door_rollups(conn: DictConnection, start: datetime, end: datetime) -> int:
    """Re-materialise the door rollups over `[start, end)` after a bulk load.

    Args:
        conn: an autocommit connection (the procedure refuses to run in a transaction block).
        start: first instant loaded.
        end: end of what was loaded.

    Returns:
        The number of refresh calls made (0 on the plain path).
    """
    if not uses_timescale(conn):
        return 0
    calls = 0
    for name, width in DOOR_AGGREGATES:
        lo, hi = align(start, end, width)
        conn.execute("CALL refresh_continuous_aggregate(%s::regclass, %s, %s)", (name, lo, hi))
        logger.info("refreshed %s over [%s, %s)", name, lo.isoformat(), hi.isoformat())
        calls += 1
    return calls


KNOWN_JOB_FAILURES: tuple[tuple[str, str, str, str], ...] = (
    (
        "2.28.",
        "15.",
        'cannot drop portal "" while it is being set up',
        "a known incompatibility of TimescaleDB {ts} with PostgreSQL {pg}, not of Footfall's SQL: every scheduled "
        "run fails while `CALL run_job(<id>)` works. Run a current TimescaleDB on PostgreSQL 16 or newer "
        "(docker/compose.yaml does); until then run the policies by hand or from cron: "
        "`SELECT job_id FROM timescaledb_information.jobs` and `CALL run_job(<id>)` for each",
    ),
)
"""(TimescaleDB version prefix, PostgreSQL version prefix, error text, explanation)."""


@dataclass(frozen=True)
class JobFailure:
    """A background job whose last run failed."""

    job_id: int
    proc_name: str
    error: str | None
    known: str | None
    """The explanation when this failure is a known incompatibility, else None."""


def job_health(conn: DictConnection) -> list[JobFailure]:
    """Background jobs whose last run failed, newest error message each (empty off TimescaleDB)."""
    ts = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    if not ts:
        return []
    ts_version: str = ts["extversion"]
    pg_version: str = scalar(conn, "SHOW server_version")
    # job_errors is there since TimescaleDB 2.11; without it the failures come without their message.
    has_errors = scalar(conn, "SELECT to_regclass('timescaledb_information.job_errors') IS NOT NULL")
    errors = sql.SQL(
        "(SELECT e.err_message FROM timescaledb_information.job_errors AS e "
        "WHERE e.job_id = s.job_id ORDER BY e.start_time DESC LIMIT 1)"
        if has_errors
        else "NULL::text"
    )
    query = sql.SQL(
        "SELECT s.job_id, j.proc_name, {errors} AS error "
        "FROM timescaledb_information.job_stats AS s "
        "JOIN timescaledb_information.jobs AS j USING (job_id) "
        "WHERE s.last_run_status = 'Failed' ORDER BY s.job_id"
    ).format(errors=errors)
    rows = conn.execute(query).fetchall()
    return [
        JobFailure(r["job_id"], r["proc_name"], r["error"], explain_job_failure(ts_version, pg_version, r["error"]))
        for r in rows
    ]


def explain_job_failure(timescale_version: str, server_version: str, error: str | None) -> str | None:
    """The explanation of a job error that is a known incompatibility of this pairing, else None.

    Example:
        >>> explain_job_failure("2.28.3", "15.20 (Debian 15.20-0+deb12u1)", 'cannot drop portal "" while it is '
        ...     "being set up").startswith("a known incompatibility of TimescaleDB 2.28.3 with PostgreSQL 15.20")
        True
    """
    for ts_prefix, pg_prefix, text, why in KNOWN_JOB_FAILURES:
        if timescale_version.startswith(ts_prefix) and server_version.startswith(pg_prefix) and text in (error or ""):
            return why.format(ts=timescale_version, pg=server_version.split(maxsplit=1)[0])
    return None
