"""Users, their store scope and their API keys: the operations behind `/v1/users` and `/v1/auth`.

Reusable operations are keyword-only functions on a connection that return the API's
response models (`UserPublic`, `ApiKeyPublic`); routes and the `footfall users` commands
call the same ones.
"""

import logging

from footfall.api.access import Principal, Role
from footfall.api.errors import BadRequest, ConflictingChange, NotFound, Unauthenticated
from footfall.api.schemas.users import ApiKeyPublic, UserPublic
from footfall.api.security import (
    hash_password,
    needs_rehash,
    new_api_key,
    parse_api_key,
    verify_api_key,
    verify_password,
)
from footfall.db.connect import DictConnection
from footfall.db.queries import queries

logger = logging.getLogger(__name__)


def _q(name: str) -> str:
    return queries("access")[name]


def _check_stores(conn: DictConnection, stores: list[str]) -> None:
    unknown = [r["store_id"] for r in conn.execute(_q("unknown_stores"), {"stores": stores})]
    if unknown:
        raise BadRequest(f"unknown store id(s): {', '.join(unknown)}; create the store first (footfall stores apply)")


def get_user(conn: DictConnection, *, user_id: int) -> UserPublic:
    """One user.

    Raises:
        NotFound: no such user.
    """
    row = conn.execute(_q("user_by_id"), {"user_id": user_id}).fetchone()
    if row is None:
        raise NotFound(f"user {user_id} not found")
    return UserPublic.model_validate(row)


def list_users(conn: DictConnection, *, limit: int = 100, offset: int = 0) -> tuple[list[UserPublic], int]:
    """A page of users by name, and the total count."""
    rows = conn.execute(_q("list_users"), {"limit": limit, "offset": offset}).fetchall()
    counted = conn.execute(_q("count_users")).fetchone()
    total = counted["n"] if counted else 0
    return [UserPublic.model_validate(r) for r in rows], total


def create_user(
    conn: DictConnection,
    *,
    username: str,
    password: str | None,
    role: Role,
    stores: list[str] | None = None,
    all_stores: bool = False,
    email: str | None = None,
) -> UserPublic:
    """Create a user scoped to some stores (or all).

    Raises:
        ConflictingChange: the user name is taken.
        BadRequest: a store does not exist.
    """
    stores = sorted(set(stores or []))
    with conn.transaction():
        _check_stores(conn, stores)
        row = conn.execute(
            _q("insert_user"),
            {
                "username": username,
                "email": email,
                "password_hash": hash_password(password) if password else None,
                "role": role.value,
                "all_stores": all_stores,
            },
        ).fetchone()
        if row is None:
            raise ConflictingChange(f"user name {username!r} is taken")
        conn.execute(_q("set_user_stores"), {"user_id": row["user_id"], "stores": stores})
    logger.info("created user %s (%s)", username, role.value)
    return get_user(conn, user_id=row["user_id"])


def update_user(
    conn: DictConnection,
    *,
    user_id: int,
    email: str | None = None,
    role: Role | None = None,
    all_stores: bool | None = None,
    disabled: bool | None = None,
    password: str | None = None,
    stores: list[str] | None = None,
) -> UserPublic:
    """Change what is given; None leaves a field as it is.

    Raises:
        NotFound: no such user.
        BadRequest: a store does not exist.
    """
    with conn.transaction():
        row = conn.execute(
            _q("update_user"),
            {
                "user_id": user_id,
                "email": email,
                "role": role.value if role else None,
                "all_stores": all_stores,
                "disabled": disabled,
                "password_hash": hash_password(password) if password else None,
            },
        ).fetchone()
        if row is None:
            raise NotFound(f"user {user_id} not found")
        if stores is not None:
            stores = sorted(set(stores))
            _check_stores(conn, stores)
            conn.execute(_q("set_user_stores"), {"user_id": user_id, "stores": stores})
    return get_user(conn, user_id=user_id)


def delete_user(conn: DictConnection, *, user_id: int) -> None:
    """Delete a user with their scope and API keys.

    Raises:
        NotFound: no such user.
    """
    with conn.transaction():
        if conn.execute(_q("delete_user"), {"user_id": user_id}).fetchone() is None:
            raise NotFound(f"user {user_id} not found")


def authenticate(conn: DictConnection, *, username: str, password: str) -> int:
    """Check a user name and password; returns the user id.

    Raises:
        Unauthenticated: wrong name or password, or the user is disabled (one message for all,
            so names cannot be probed).
    """
    row = conn.execute(_q("user_by_name"), {"username": username}).fetchone()
    ok = verify_password(password, row["password_hash"] if row else None)
    if not ok or row is None or row["disabled"]:
        raise Unauthenticated("wrong user name or password")
    if needs_rehash(row["password_hash"]):
        with conn.transaction():
            conn.execute(_q("set_password_hash"), {"user_id": row["user_id"], "password_hash": hash_password(password)})
    return row["user_id"]


def principal(conn: DictConnection, *, user_id: int, via: str = "token") -> Principal:
    """The caller behind a user id, with role and scope read now.

    Raises:
        Unauthenticated: the user no longer exists or is disabled.
    """
    row = conn.execute(_q("principal"), {"user_id": user_id}).fetchone()
    if row is None or row["disabled"]:
        raise Unauthenticated("this account no longer exists or is disabled")
    return Principal(
        user_id=row["user_id"],
        username=row["username"],
        role=Role(row["role"]),
        all_stores=row["all_stores"],
        stores=frozenset(row["stores"]),
        via=via,
    )


def principal_from_api_key(conn: DictConnection, plaintext: str) -> Principal:
    """The caller behind an API key.

    Raises:
        Unauthenticated: the key is malformed, unknown or revoked.
    """
    prefix = parse_api_key(plaintext)
    row = conn.execute(_q("api_key_by_prefix"), {"prefix": prefix}).fetchone() if prefix else None
    if row is None or not verify_api_key(plaintext, row["key_hash"]):
        raise Unauthenticated("the API key is not valid")
    if row["revoked_at"] is not None:
        raise Unauthenticated("the API key was revoked; create a new one")
    with conn.transaction():
        conn.execute(_q("touch_api_key"), {"key_id": row["key_id"]})
    return principal(conn, user_id=row["user_id"], via="api_key")


def create_api_key(conn: DictConnection, *, user_id: int, name: str) -> tuple[ApiKeyPublic, str]:
    """Make an API key for a user; returns its record and the plaintext (shown once)."""
    key = new_api_key()
    with conn.transaction():
        row = conn.execute(
            _q("insert_api_key"), {"user_id": user_id, "name": name, "prefix": key.prefix, "key_hash": key.hash}
        ).fetchone()
    return ApiKeyPublic.model_validate(row), key.plaintext


def list_api_keys(conn: DictConnection, *, user_id: int) -> list[ApiKeyPublic]:
    """A user's API keys, revoked ones included."""
    return [ApiKeyPublic.model_validate(r) for r in conn.execute(_q("list_api_keys"), {"user_id": user_id})]


def revoke_api_key(conn: DictConnection, *, user_id: int, key_id: int) -> None:
    """Revoke one of a user's keys (idempotent).

    Raises:
        NotFound: the user has no such key.
    """
    with conn.transaction():
        if conn.execute(_q("revoke_api_key"), {"user_id": user_id, "key_id": key_id}).fetchone() is None:
            raise NotFound(f"API key {key_id} not found")
