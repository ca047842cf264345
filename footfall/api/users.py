"""Users, their store scope and their API keys: the operations behind `/v1/users` and `/v1/auth`.

Reusable operations are keyword-only functions on a connection that return the API's
response models (`UserPublic`, `ApiKeyPublic`); routes and the `footfall users` commands
call the same ones.
"""

import logging

from footfall.api import throttle
from footfall.api.access import SYSTEM, Actor, Principal, Role
from footfall.api.errors import BadRequest, ConflictingChange, NotFound, Unauthenticated
from footfall.api.schemas.users import ApiKeyPublic, Token, UserPublic
from footfall.api.security import (
    TokenClaims,
    hash_password,
    issue_token,
    needs_rehash,
    new_api_key,
    parse_api_key,
    read_token,
    verify_api_key,
    verify_password,
)
from footfall.core.settings import ApiSettings
from footfall.db import audit
from footfall.db.connect import DictConnection
from footfall.db.queries import queries

logger = logging.getLogger(__name__)


def _q(name: str) -> str:
    return queries("access")[name]


def _audit(conn: DictConnection, actor: Actor, action: str, target: str, detail: dict | None = None) -> None:
    audit.record(
        conn, actor=actor.name, actor_id=actor.user_id, client=actor.client, action=action, target=target, detail=detail
    )


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
    actor: Actor = SYSTEM,
) -> UserPublic:
    """Create a user scoped to some stores (or all), and audit it.

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
        _audit(
            conn,
            actor,
            "user_create",
            f"user:{username}",
            {
                "user_id": row["user_id"],
                "role": role.value,
                "all_stores": all_stores,
                "stores": stores,
                "password": password is not None,
            },
        )
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
    actor: Actor = SYSTEM,
) -> UserPublic:
    """Change what is given (None leaves a field as it is), and audit what changed.

    Raises:
        NotFound: no such user.
        BadRequest: a store does not exist.
    """
    with conn.transaction():
        before = conn.execute(_q("user_by_id"), {"user_id": user_id}).fetchone()
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
        after = conn.execute(_q("user_by_id"), {"user_id": user_id}).fetchone()
        assert before is not None  # the update found the row
        assert after is not None
        changes = _changes(before, after, password_changed=bool(password))
        if REVOKING_CHANGES & changes.keys():
            conn.execute(_q("bump_token_version"), {"user_id": user_id})
            changes["tokens_revoked"] = True
        if password:
            revoked = conn.execute(_q("revoke_user_api_keys"), {"user_id": user_id}).fetchall()
            if revoked:
                changes["api_keys_revoked"] = [f"{r['key_id']}:{r['prefix']}" for r in revoked]
        if changes:
            _audit(conn, actor, "user_update", f"user:{after['username']}", {"user_id": user_id, **changes})
    return get_user(conn, user_id=user_id)


REVOKING_CHANGES = frozenset({"password", "role", "all_stores", "stores", "disabled"})
"""Changes after which a user's bearer tokens stop working (they must log in again).

API keys act with the user's role and scope as they are at each request, so a role or
scope change re-scopes them at once; a password change revokes them (a new password
usually means the old secrets may be known).
"""


def _changes(before: dict, after: dict, *, password_changed: bool) -> dict:
    """What an update changed, as `{field: [old, new]}` (stores as added/removed; never a password)."""
    out: dict = {f: [before[f], after[f]] for f in ("email", "role", "all_stores", "disabled") if before[f] != after[f]}
    added = sorted(set(after["stores"]) - set(before["stores"]))
    removed = sorted(set(before["stores"]) - set(after["stores"]))
    if added or removed:
        out["stores"] = {"added": added, "removed": removed}
    if password_changed:
        out["password"] = "changed"  # noqa: S105 - that it changed, never what it is
    return out


def delete_user(conn: DictConnection, *, user_id: int, actor: Actor = SYSTEM) -> None:
    """Delete a user with their scope and API keys, and audit it.

    Raises:
        NotFound: no such user.
    """
    with conn.transaction():
        row = conn.execute(_q("delete_user"), {"user_id": user_id}).fetchone()
        if row is None:
            raise NotFound(f"user {user_id} not found")
        _audit(conn, actor, "user_delete", f"user:{row['username']}", {"user_id": user_id})


def authenticate(conn: DictConnection, *, username: str, password: str, client: str | None = None) -> TokenClaims:
    """Check a user name and password; returns what a token for them carries. A failure is audited.

    Raises:
        Unauthenticated: wrong name or password, or the user is disabled (one message for all,
            so names cannot be probed).
    """
    row = conn.execute(_q("user_by_name"), {"username": username}).fetchone()
    ok = verify_password(password, row["password_hash"] if row else None)
    if not ok or row is None or row["disabled"]:
        reason = "unknown user" if row is None else ("wrong password" if not ok else "disabled")
        logger.warning("failed log-in for %r from %s: %s", username[:64], client or "?", reason)
        _audit(
            conn, Actor(name="anonymous", client=client), "login_failed", f"user:{username[:200]}", {"reason": reason}
        )
        raise Unauthenticated("wrong user name or password")
    if needs_rehash(row["password_hash"]):
        with conn.transaction():
            conn.execute(_q("set_password_hash"), {"user_id": row["user_id"], "password_hash": hash_password(password)})
    return TokenClaims(user_id=row["user_id"], version=row["token_version"])


def log_in(
    conn: DictConnection, *, username: str, password: str, client: str | None, secret: str, settings: ApiSettings
) -> Token:
    """A bearer token for a user name and password: throttled, audited, the one way to log in.

    The API's `POST /v1/auth/token` and the dashboard's log-in form both call this.

    Raises:
        TooManyRequests: too many failures for this name or from this address (429, `Retry-After`).
        Unauthenticated: wrong name or password, or the user is disabled.
    """
    attempt = throttle.begin(conn, username=username, client=client, settings=settings)
    who = authenticate(conn, username=username, password=password, client=client)
    throttle.succeeded(conn, attempt, settings=settings)
    token = issue_token(user_id=who.user_id, version=who.version, secret=secret, minutes=settings.token_minutes)
    return Token(access_token=token, expires_in=settings.token_minutes * 60)


def principal(conn: DictConnection, *, user_id: int, via: str = "token", version: int | None = None) -> Principal:
    """The caller behind a user id, with role and scope read now.

    Args:
        conn: a connection.
        user_id: the user.
        via: how the caller authenticated (`token` or `api_key`).
        version: the token version a bearer token carries; refused unless it is the user's current one.

    Raises:
        Unauthenticated: the user no longer exists or is disabled, or the token is of an older version.
    """
    row = conn.execute(_q("principal"), {"user_id": user_id}).fetchone()
    if row is None or row["disabled"]:
        raise Unauthenticated("this account no longer exists or is disabled")
    if version is not None and version != row["token_version"]:
        raise Unauthenticated(
            "the account's password, role or scope changed after this token was issued; "
            "log in again at POST /v1/auth/token"
        )
    return Principal(
        user_id=row["user_id"],
        username=row["username"],
        role=Role(row["role"]),
        all_stores=row["all_stores"],
        stores=frozenset(row["stores"]),
        via=via,
    )


def principal_from_token(conn: DictConnection, token: str, *, secret: str) -> Principal:
    """The caller behind a bearer token: valid signature, unexpired, current token version.

    Raises:
        Unauthenticated: the token is not valid, expired, or was revoked by a change to the account.
    """
    claims = read_token(token, secret=secret)
    return principal(conn, user_id=claims.user_id, version=claims.version)


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


def create_api_key(conn: DictConnection, *, user_id: int, name: str, actor: Actor = SYSTEM) -> tuple[ApiKeyPublic, str]:
    """Make an API key for a user and audit it; returns its record and the plaintext (shown once)."""
    key = new_api_key()
    with conn.transaction():
        row = conn.execute(
            _q("insert_api_key"), {"user_id": user_id, "name": name, "prefix": key.prefix, "key_hash": key.hash}
        ).fetchone()
        assert row is not None  # INSERT … RETURNING
        _audit(
            conn,
            actor,
            "api_key_create",
            f"api_key:{row['key_id']}",
            {"user_id": user_id, "prefix": key.prefix, "name": name},
        )
    return ApiKeyPublic.model_validate(row), key.plaintext


def list_api_keys(conn: DictConnection, *, user_id: int) -> list[ApiKeyPublic]:
    """A user's API keys, revoked ones included."""
    return [ApiKeyPublic.model_validate(r) for r in conn.execute(_q("list_api_keys"), {"user_id": user_id})]


def revoke_api_key(conn: DictConnection, *, user_id: int, key_id: int, actor: Actor = SYSTEM) -> None:
    """Revoke one of a user's keys (idempotent) and audit it.

    Raises:
        NotFound: the user has no such key.
    """
    with conn.transaction():
        row = conn.execute(_q("revoke_api_key"), {"user_id": user_id, "key_id": key_id}).fetchone()
        if row is None:
            raise NotFound(f"API key {key_id} not found")
        _audit(conn, actor, "api_key_revoke", f"api_key:{key_id}", {"user_id": user_id, "prefix": row["prefix"]})
