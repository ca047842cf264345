"""KPI reads from a streaming read replica, never served stale without saying so.

With `db.replica_url` set, the app opens a second pool on the replica. Routes that only
read facts (the KPI and portfolio routes, which the dashboards' charts call) take
`ReadConnDep`; everything else — logins, API keys, users and their scopes, every write —
keeps `ConnDep` on the primary. Before each replica read the replica is asked how far its
replay is behind (`replica_lag` in `footfall/db/sql/replica.sql`):

- within `db.replica_max_lag_s`: the read is served by the replica;
- beyond it, when the lag cannot be told, or when the replica does not answer: the read
  falls back to the primary, so the answer is current.

Either way the response says where it was read and how far behind the replica was:
`X-Footfall-Read-From: replica|primary`, `X-Footfall-Replica-Lag-S: <seconds>` (absent
when unknown) and, on a fallback, `X-Footfall-Read-Note` with the reason. Without a
replica nothing changes and no header is added.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from footfall.api.deps import PoolDep, SettingsDep, get_conn
from footfall.core.settings import DbSettings
from footfall.db.connect import DictConnection, DictPool, open_pool
from footfall.db.queries import queries

logger = logging.getLogger(__name__)

READ_FROM = "X-Footfall-Read-From"
REPLICA_LAG = "X-Footfall-Replica-Lag-S"
READ_NOTE = "X-Footfall-Read-Note"
_STATE_KEY = "footfall_read_source"
REPLICA_WAIT_S = 1.0
"""Longest wait for a replica connection before the read goes to the primary."""


@dataclass(frozen=True)
class ReadSource:
    """Where one request's reads were served, and why."""

    where: str
    lag_s: float | None = None
    note: str | None = None

    def headers(self) -> dict[str, str]:
        """The response headers that say so."""
        out = {READ_FROM: self.where}
        if self.lag_s is not None:
            out[REPLICA_LAG] = f"{self.lag_s:.3f}"
        if self.note:
            out[READ_NOTE] = self.note
        return out


def open_replica_pool(db: DbSettings) -> DictPool | None:
    """The replica's pool when `db.replica_url` is set; not waited for, so a replica that is
    down at start-up only sends reads to the primary."""
    replica = db.replica()
    return open_pool(replica, name="footfall-api-replica", wait=False) if replica is not None else None


def close_replica_pool(state: Any) -> None:
    """Close the app's replica pool, if it has one."""
    pool: DictPool | None = getattr(state, "replica_pool", None)
    if pool is not None:
        pool.close()
        state.replica_pool = None


def replica_lag(conn: DictConnection) -> tuple[bool, float | None]:
    """(whether the server is a standby, its replay lag in seconds or None when unknown)."""
    row = conn.execute(queries("replica")["replica_lag"]).fetchone()
    assert row is not None
    return bool(row["standby"]), (None if row["lag_s"] is None else float(row["lag_s"]))


def get_read_conn(request: Request, pool: PoolDep, settings: SettingsDep) -> Iterator[DictConnection]:
    """A connection for fact reads: the replica when set and fit, else the primary (see the module)."""
    replica: DictPool | None = getattr(request.app.state, "replica_pool", None)
    if replica is None:
        yield from get_conn(pool, settings)
        return
    max_lag = settings.db.replica_max_lag_s
    served = False
    try:
        with replica.connection(timeout=REPLICA_WAIT_S) as conn:
            standby, lag = replica_lag(conn)
            if not standby:
                logger.warning("db.replica_url points at a server that is not in recovery; reading it anyway")
            if lag is not None and lag <= max_lag:
                request.state.footfall_read_source = ReadSource("replica", lag_s=lag)
                served = True
                yield conn
                return
        told = "unknown" if lag is None else f"{lag:.1f} s"
        source = ReadSource(
            "primary",
            lag_s=lag,
            note=f"replica lag {told} is over the {max_lag:g} s allowed; answered from the primary",
        )
    except psycopg.Error as exc:
        if served:
            raise
        logger.warning("read replica unavailable, reading the primary: %s", exc)
        source = ReadSource("primary", note=f"replica unavailable ({type(exc).__name__}); answered from the primary")
    request.state.footfall_read_source = source
    yield from get_conn(pool, settings)


ReadConnDep = Annotated[DictConnection, Depends(get_read_conn)]


class ReadSourceHeaders:
    """Adds the read-source headers a request's `get_read_conn` decided on to its response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                source = scope.get("state", {}).get(_STATE_KEY)
                if isinstance(source, ReadSource):
                    headers = MutableHeaders(scope=message)
                    for name, value in source.headers().items():
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
