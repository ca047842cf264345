"""The audit log: who changed what, and every failed log-in.

One function writes it, `record`, called on the connection (and inside the transaction)
of the change it describes, so an entry exists exactly when the change was committed.
Each entry is also written as a log line on the `footfall.db.audit` logger. Admins read
the log at `GET /v1/audit`.

Example:
    >>> with conn.transaction():  # doctest: +SKIP
    ...     conn.execute(...)  # the change itself
    ...     record(conn, actor="ann", actor_id=3, action="alert_ack", target="alert:17", detail={"note": "on it"})
"""

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from footfall.db.connect import DictConnection
from footfall.db.queries import queries

logger = logging.getLogger(__name__)


def record(
    conn: DictConnection,
    *,
    actor: str,
    action: str,
    target: str = "",
    detail: Mapping[str, Any] | None = None,
    actor_id: int | None = None,
    client: str | None = None,
) -> int:
    """Add one entry to the audit log and log it.

    Never put a secret in `detail` (a password, a token, an API key's secret part): say
    that it changed, not what it is.

    Args:
        conn: the connection of the change being recorded (inside its transaction, if any).
        actor: who did it: a user name, `cli:<os user>` for commands, `anonymous`, `system`.
        action: what was done, a short snake_case verb phrase (`user_update`, `login_failed`,
            `api_key_revoke`, `alert_ack`).
        target: what it was done to, as `kind:id` (`user:ann`, `api_key:12`, `rule:4`).
        detail: anything else worth keeping, as JSON (values that are not JSON become strings).
        actor_id: the acting user's id, when the actor is a user.
        client: the caller's network address, when there is one.

    Returns:
        The new entry's id.
    """
    body = json.loads(json.dumps(dict(detail or {}), default=str))
    row = conn.execute(
        queries("audit")["insert_entry"],
        {
            "actor_id": actor_id,
            "actor": actor,
            "action": action,
            "target": target,
            "client": client,
            "detail": Jsonb(body),
        },
    ).fetchone()
    audit_id = int(row["audit_id"]) if row else 0
    logger.info(
        "audit %s: %s by %s%s%s %s",
        audit_id,
        action,
        actor,
        f" on {target}" if target else "",
        f" from {client}" if client else "",
        json.dumps(body, sort_keys=True),
    )
    return audit_id


def entries(
    conn: DictConnection,
    *,
    limit: int = 100,
    offset: int = 0,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
) -> tuple[list[DictRow], int]:
    """A page of audit entries, newest first, and how many match in all."""
    args = {"action": action, "actor": actor, "target": target, "since": since}
    rows = conn.execute(queries("audit")["list_entries"], {**args, "limit": limit, "offset": offset}).fetchall()
    counted = conn.execute(queries("audit")["count_entries"], args).fetchone()
    return rows, int(counted["n"]) if counted else 0
