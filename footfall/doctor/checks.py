"""The checks `footfall doctor` runs, in order: database, migrations, TimescaleDB, secret,
clock, then the broker (reachable, anonymous access, queue limit for offline sessions).

Each check takes the settings and returns one or more `Finding`s; a failed finding names
the fix. Add a check by appending a function to `CHECKS`.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from footfall.core.errors import FootfallError
from footfall.core.settings import Settings

if TYPE_CHECKING:
    from footfall.db.migrate import DbInfo
    from footfall.db.timescale import JobFailure

logger = logging.getLogger(__name__)


class Status(StrEnum):
    """How a check came out."""

    OK = "ok"
    WARN = "warn"
    """Worth knowing, fine for development; does not fail the doctor."""
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report."""

    check: str
    status: Status
    detail: str
    fix: str = ""


Check = Callable[[Settings], list[Finding]]

CLOCK_WARN_S = 2.0
"""Clock difference to the database server worth a warning."""


def _db_info(settings: Settings) -> "DbInfo":
    from footfall.db.migrate import info

    return info(settings.db)


def check_database(settings: Settings) -> list[Finding]:
    """The database answers, its migrations are applied, and which storage path it uses."""
    try:
        i = _db_info(settings)
    except (FootfallError, OSError) as exc:
        return [
            Finding(
                "database",
                Status.FAIL,
                str(exc).splitlines()[0],
                "start PostgreSQL or point FOOTFALL_DB__URL / FOOTFALL_DB__PASSWORD at it",
            )
        ]
    out = [Finding("database", Status.OK, f"{i.location}: PostgreSQL {i.server_version}")]
    if i.flavour is None:
        out.append(Finding("migrations", Status.FAIL, "not migrated yet", "run `footfall db migrate`"))
    elif i.pending:
        out.append(Finding("migrations", Status.FAIL, f"pending: {', '.join(i.pending)}", "run `footfall db migrate`"))
    else:
        out.append(Finding("migrations", Status.OK, f"up to date ({len(i.applied)} applied, path {i.flavour})"))
    if i.timescale_version:
        out.append(Finding("timescaledb", Status.OK, f"TimescaleDB {i.timescale_version}"))
        out.extend(_job_findings(i.failed_jobs))
    elif i.timescale_available:
        out.append(
            Finding(
                "timescaledb",
                Status.WARN,
                f"TimescaleDB {i.timescale_available} is available but not in use (plain PostgreSQL path)",
                "add timescaledb to shared_preload_libraries, restart PostgreSQL, migrate a new database",
            )
        )
    else:
        out.append(Finding("timescaledb", Status.OK, "not available: the plain PostgreSQL path is used"))
    return out


def _job_findings(failed: "list[JobFailure]") -> list[Finding]:
    """TimescaleDB's background jobs: one finding per distinct failure, the known explanation first."""
    if not failed:
        return [Finding("timescaledb jobs", Status.OK, "no failed runs")]
    out: dict[str, Finding] = {}
    for f in failed:
        if f.known:
            out.setdefault(
                f.known, Finding("timescaledb jobs", Status.FAIL, f"{len(failed)} with a failed last run", f.known)
            )
        else:
            detail = f"job {f.job_id} ({f.proc_name}) failed: {f.error or 'no error recorded'}"
            out.setdefault(
                detail, Finding("timescaledb jobs", Status.FAIL, detail, "see timescaledb_information.job_errors")
            )
    return list(out.values())


def check_secret(settings: Settings) -> list[Finding]:
    """The API's signing secret is not the development default and long enough."""
    from footfall.core.settings import ApiSettings

    default = ApiSettings().secret_key.get_secret_value()
    value = settings.api.secret_key.get_secret_value()
    strict = settings.environment in ("staging", "production")
    fix = (
        "set FOOTFALL_API__SECRET_KEY to a long random value "
        "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
    )
    if value == default:
        return [Finding("secret", Status.FAIL if strict else Status.WARN, "the development default", fix)]
    if len(value) < 32:
        return [Finding("secret", Status.FAIL if strict else Status.WARN, f"only {len(value)} characters", fix)]
    return [Finding("secret", Status.OK, f"set ({len(value)} characters)")]


def check_clock(settings: Settings) -> list[Finding]:
    """This machine's clock against the database server's (ingest judges readings by its own)."""
    from footfall.db.connect import connect, scalar

    try:
        with connect(settings.db, autocommit=True) as conn:
            before = datetime.now(UTC)
            server = scalar(conn, "SELECT clock_timestamp()")
            after = datetime.now(UTC)
    except (FootfallError, OSError) as exc:
        return [Finding("clock", Status.WARN, f"not compared: {str(exc).splitlines()[0]}")]
    skew = (server - (before + (after - before) / 2)).total_seconds()
    limit = settings.ingest.max_future_s / 2
    text = f"{skew:+.1f} s against the database server"
    fix = "run NTP (chrony or systemd-timesyncd) on both machines"
    if abs(skew) > limit:
        return [Finding("clock", Status.FAIL, text, fix)]
    if abs(skew) > CLOCK_WARN_S:
        return [Finding("clock", Status.WARN, text, fix)]
    return [Finding("clock", Status.OK, text)]


def check_broker(settings: Settings) -> list[Finding]:
    """The broker for real: reachable, anonymous access, queued messages kept for an offline session."""
    from footfall.doctor.broker import probe

    return probe(settings)


CHECKS: list[Check] = [check_database, check_secret, check_clock, check_broker]
"""Every check, in the order they run; append to add one."""


def run_checks(settings: Settings, checks: list[Check] | None = None) -> list[Finding]:
    """Run the checks; a check that crashes is a failed finding, not a crashed doctor."""
    out: list[Finding] = []
    for check in CHECKS if checks is None else checks:
        name = check.__name__.removeprefix("check_")
        try:
            out.extend(check(settings))
        except Exception as exc:
            logger.debug("check %s crashed", name, exc_info=True)
            out.append(Finding(name, Status.FAIL, f"the check itself failed: {exc}", "report this as a bug"))
    return out
