"""Secrets the services make for themselves on first start, kept in the database.

The API signs bearer tokens with `FOOTFALL_API__SECRET_KEY` when it is set; otherwise
with a random key made here on first start. The first writer wins (`ON CONFLICT DO
NOTHING`), so every worker and replica on one database signs with the same key, and it
survives restarts. Whoever can read this table can forge tokens: it is as sensitive as
the database itself (`REVOKE ALL … FROM PUBLIC` in the migration).
"""

import logging
import secrets
from collections.abc import Callable

from pydantic import SecretStr

from footfall.db.connect import DictConnection
from footfall.db.queries import queries

logger = logging.getLogger(__name__)

ALERTS_LINK_KEY = "alerts_link_key"
"""The name of the generated key that signs alert action links (when FOOTFALL_ALERTS__LINK_SECRET is unset)."""


def configured_or_stored(conn: DictConnection, *, name: str, configured: SecretStr | None) -> str:
    """A configured secret if there is one, else the random one stored under `name` (made if missing)."""
    if configured is not None:
        return configured.get_secret_value()
    return get_or_create(conn, name=name, make=lambda: secrets.token_urlsafe(48))


def get_or_create(conn: DictConnection, *, name: str, make: Callable[[], str]) -> str:
    """The secret called `name`, made with `make()` and stored if there is none yet."""
    q = queries("secrets")
    row = conn.execute(q["secret_by_name"], {"name": name}).fetchone()
    if row is not None:
        return str(row["value"])
    with conn.transaction():
        conn.execute(q["insert_secret"], {"name": name, "value": make()})
        row = conn.execute(q["secret_by_name"], {"name": name}).fetchone()
    assert row is not None  # inserted, or inserted by a concurrent first start
    logger.info("made the secret %r on first start (kept in the database, table app_secrets)", name)
    return str(row["value"])
