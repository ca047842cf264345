"""Log-in throttling per user name and per client address, kept in the database.

Every attempt is counted *before* the password is checked (so concurrent attempts cannot
slip past the count), and forgiven when it succeeds. When a key reaches its limit within
the window, it is locked: further attempts are answered 429 with `Retry-After` at once,
without spending Argon2 time. The first lock lasts `login_lockout_s`; each failure after it
doubles the lock, up to the window. The check does not look the user up, so a locked
unknown name answers exactly like a locked real one.

Keys are `user:<name>` (limit `login_user_failures`) and `address:<client>` (limit
`login_address_failures`); state lives in `login_throttle`, so every worker and replica
shares it. Behind a reverse proxy, let uvicorn see the real client address
(`--forwarded-allow-ips`), or every caller shares the proxy's address and its limit.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from footfall.api.errors import TooManyRequests
from footfall.core.settings import ApiSettings
from footfall.db import audit
from footfall.db.connect import DictConnection
from footfall.db.queries import queries


def _q(name: str) -> str:
    return queries("throttle")[name]


@dataclass(frozen=True, slots=True)
class Attempt:
    """A log-in attempt that was let through and counted: settle it with `succeeded` when it is good."""

    user_key: str
    address_key: str | None


def user_key(username: str) -> str:
    """The throttle key of a user name (long names cut, so a key stays small)."""
    return f"user:{username[:200]}"


def begin(conn: DictConnection, *, username: str, client: str | None, settings: ApiSettings) -> Attempt:
    """Count an attempt against the user name and the client address, or refuse it.

    Raises:
        TooManyRequests: either key is locked; `retry_after` says for how many seconds.
    """
    ukey = user_key(username)
    akey = f"address:{client[:200]}" if client else None
    keys = [(ukey, settings.login_user_failures)]
    if akey:
        keys.append((akey, settings.login_address_failures))
    keys.sort()  # one lock order for every attempt: no deadlocks between concurrent ones
    window = timedelta(seconds=settings.login_window_s)
    with conn.transaction():
        rows = [(conn.execute(_q("lock_key"), {"key": k}).fetchone(), limit) for k, limit in keys]
        waits = [
            (row["locked_until"] - row["now"]).total_seconds()
            for row, _ in rows
            if row is not None and row["locked_until"] is not None and row["locked_until"] > row["now"]
        ]
        if waits:
            raise TooManyRequests(
                "too many failed log-ins for this user name or from this address; try again later",
                retry_after=max(1, math.ceil(max(waits))),
            )
        for row, limit in rows:
            assert row is not None  # INSERT … ON CONFLICT DO UPDATE … RETURNING always returns the row
            _count(conn, row, limit=limit, window=window, settings=settings)
    return Attempt(user_key=ukey, address_key=akey)


def _count(conn: DictConnection, row: dict, *, limit: int, window: timedelta, settings: ApiSettings) -> None:
    now: datetime = row["now"]
    failures, start = row["failures"], row["window_start"]
    if start < now - window:
        failures, start = 0, now
    failures += 1
    locked_until = None
    if failures >= limit:
        seconds = min(settings.login_lockout_s * 2 ** (failures - limit), settings.login_window_s)
        locked_until = now + timedelta(seconds=seconds)
        audit.record(
            conn,
            actor="anonymous",
            action="login_locked",
            target=row["key"],
            detail={"failures": failures, "seconds": seconds},
        )
    conn.execute(
        _q("save_key"), {"key": row["key"], "failures": failures, "window_start": start, "locked_until": locked_until}
    )


def succeeded(conn: DictConnection, attempt: Attempt, *, settings: ApiSettings) -> None:
    """Forgive a good attempt: the user name starts afresh, the address gets its attempt back."""
    with conn.transaction():
        conn.execute(_q("forget_key"), {"key": attempt.user_key})
        if attempt.address_key:
            conn.execute(_q("release_key"), {"key": attempt.address_key, "limit": settings.login_address_failures})
        conn.execute(_q("purge_stale"), {"keep_s": 2 * settings.login_window_s})
